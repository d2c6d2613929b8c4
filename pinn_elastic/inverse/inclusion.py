r"""A sharp inclusion (``inverse.field=inclusion``): an ellipse (2D) or ellipsoid (3D) of modulus
:math:`E_b` in a matrix of modulus :math:`E_a`, refined from the smooth field of ``inverse.field=E``.

A smooth :math:`E(x)` cannot follow a jump: the field mode smears a circular inclusion three
times stiffer than its matrix over a band as wide as its radius and misses it by about 25 %
(rel L2). Where the body is known to hold one inclusion, its shape is a handful of numbers:
the region :math:`(x-c)^T M (x-c) < 1` with :math:`M = L L^T`, ``L`` lower triangular with a
positive diagonal (no angle: a near-circle is not a singular point of the parameters), and the
unknowns

.. math:: p = [\,c,\; \log L_{ii},\; L_{ij}\ (i > j),\; \log(E_a/E_0),\; \log(E_b/E_0)\,]

(7 in 2D, 11 in 3D; :math:`E_0` the case's ``E``, Poisson's ratio one constant). A circle
(sphere, ``inverse.inclusion_shape=circle``) has :math:`L = e^{p_d} I`: 5 and 6 unknowns.

**The displacement** is continuous across the interface by construction and its gradient may
jump there:

.. math:: u_c = g_c + \phi_c\,\bigl(N_a(x) + \mathrm{relu}(\psi(x))\,N_b(x)\bigr)\,\theta_c,
          \qquad \psi = s\,\bigl(1 - (x-c)^T M (x-c)\bigr),

``g, phi`` the case's exact displacement conditions, ``N_a, N_b`` the hidden features of two
GELU networks, :math:`s = \det(M)^{-1/(2d)}/2` (unit slope of :math:`\psi` on a sphere), and
``theta`` the least-squares output layer of :mod:`pinn_elastic.lstsq`: equilibrium in each
phase (each row scaled by its phase's modulus and its quadrature weight), the case's
boundary conditions, and the continuity of the traction, :math:`E_b\,\sigma_0(u^+)n =
E_a\,\sigma_0(u^-)n`, on points of the interface.

**The fit** alternates, for a few rounds: Adam trains the two networks on those rows at the
current shape; then Levenberg-Marquardt moves ``p`` on the data misfit of the physics-only
field (the features fixed, the head re-solved for every ``p``: output least squares, as
:mod:`.identify` does for constants), with a forward-difference Jacobian. One Adam optimiser
carries over from round to round (rate 3e-3 in the first round, 1e-3 after). The misfit is a
smooth function of ``p`` because the points near the interface move with it: fixed points of
the unit ball and of the shell :math:`1 < |z| < 1.5` mapped through :math:`c + L^{-T}z`; the
matrix's own points are fixed, weighted by a smoothstep of :math:`r = |L^T(x - c)|` that is 0
inside :math:`r = 1.15` and 1 outside :math:`r = 1.5`, and the shell's by one minus it (a
partition of unity: every region keeps its weight). Classified by the sign of :math:`\psi`
instead, a step of 1e-4 changed the misfit by 1 %.

**Uncertainty**: the Laplace approximation at the optimum, :math:`s^2 (J^TJ)^{-1}` with
:math:`s^2 = \chi^2/(m-k)` (or 1 where the data give deviations), mapped by the delta method
to the centre, axes, angle and moduli. It is the spread from the data; the networks' own error
adds a bias it does not see (on the benchmark plate, the axes' ratio: 0.207/0.194 for a circle
of radius 0.2, where the reported deviation of each axis is about 1e-4).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor, nn

from ..collocation import BoundaryTerm, Collocation, sample_collocation
from ..constraints import HardConstraints
from ..derivatives import Jet
from ..evaluation import Fields, fields_from
from ..geometry import nodal_weights
from ..lstsq import _boundary_columns, _with_constant, assemble, solve
from ..materials import Material
from ..mechanics import stress, traction
from ..models import MLP
from ..problem import Problem
from ..scaling import Scales
from ..taylor import feature_jet
from .identify import DataRows

log = logging.getLogger(__name__)

RIDGE = 1e-8  # of the least-squares head
SHELL = (1.15, 1.5)  # the matrix's fixed points fade out, and points moving with the shape fade in,
# between these multiples of the interface's "radius" r = sqrt((x-c)^T M (x-c))
STEP = 1e-6  # central-difference step of the Jacobian in p
FIRST_LAYER_SCALE = 5.0  # the first layer's weights and biases: features that can turn at the interface
INTERFACE_POINTS = {2: 300, 3: 800}
BOUNDARY_POINTS = 800
START_THRESHOLD = 0.3  # the start's inclusion: E beyond 30 % of the way from the median to the extreme
# Adam's rate in the first round (at the true circle, 200 steps: data misfit 0.85 %; 1e-3: 2.0 %;
# 1e-2: 34 %) and in the later ones (3e-3 there threw the physics loss from 2e-4 to 2e-2)
ADAM_RATES = (3e-3, 1e-3)
MAX_STEP = 0.3  # largest change of one unknown in one Levenberg-Marquardt step
UNIT_BALL = {2: math.pi, 3: 4.0 * math.pi / 3.0}


SHAPES = ("ellipse", "circle")  # inverse.inclusion_shape (3D: an ellipsoid, a sphere)


def shape_size(dim: int, shape: str = "ellipse") -> int:
    """Number of unknowns: centre, the lower triangle of ``L`` (a circle: ``log(1/radius)``
    alone), two moduli."""
    return dim + (1 if shape == "circle" else dim * (dim + 1) // 2) + 2


def is_round(p: Tensor, dim: int) -> bool:
    return len(p) == shape_size(dim, "circle")


def cholesky(p: Tensor, dim: int) -> Tensor:
    """``L`` from ``p``: its lower triangle row by row, the diagonal as logarithms; for a
    circle (sphere), ``e^{p_d} I``."""
    if is_round(p, dim):
        return torch.exp(p[dim]) * torch.eye(dim, dtype=p.dtype)
    rows, cols = torch.tril_indices(dim, dim)
    entries = p[dim : dim + len(rows)]
    entries = torch.where(rows == cols, torch.exp(entries), entries)
    return p.new_zeros(dim, dim).index_put((rows, cols), entries)


def level_set(p: Tensor, x: Tensor) -> Jet:
    """:math:`\\psi` at ``x`` with its gradient and Hessian, as a one-component :class:`Jet`."""
    n, dim = x.shape
    L = cholesky(p, dim)
    M = L @ L.T
    s = 0.5 * torch.exp(-torch.log(torch.diagonal(L)).sum() / dim)
    y = x - p[:dim]
    value = s * (1 - ((y @ M) * y).sum(-1))
    return Jet(value[:, None], (-2 * s * (y @ M))[:, None], (-2 * s * M).expand(n, 1, dim, dim))


def relu(j: Jet) -> Jet:
    """:math:`\\max(\\psi, 0)` with the derivatives of each side (the kink at the interface)."""
    on = (j.value > 0).to(j.value.dtype)
    hess = None if j.hess is None else j.hess * on[..., None, None]
    return Jet(j.value * on, j.grad * on[..., None], hess)


def unknowns_from(
    centre: Tensor,
    axes: Tensor,
    directions: Tensor,
    E_matrix: float,
    E_inclusion: float,
    E0: float,
    shape: str = "ellipse",
) -> Tensor:
    """``p`` of the ellipsoid with nondimensional ``centre``, semi-axes ``axes`` along the columns
    of ``directions``, and the two moduli; for ``shape="circle"``, the circle (sphere) of the
    same area (volume)."""
    centre, axes, directions = (torch.as_tensor(v, dtype=torch.float64) for v in (centre, axes, directions))
    dim = len(centre)
    moduli = torch.tensor([math.log(E_matrix / E0), math.log(E_inclusion / E0)], dtype=torch.float64)
    if shape == "circle":
        return torch.cat([centre, -torch.log(axes).mean()[None], moduli])
    M = directions @ torch.diag(axes**-2) @ directions.T
    L = torch.linalg.cholesky(M)
    rows, cols = torch.tril_indices(dim, dim)
    entries = L[rows, cols]
    entries = torch.where(rows == cols, torch.log(entries), entries)
    return torch.cat([centre, entries, moduli])


def _columns(a: Jet, b: Jet) -> Jet:
    hess = None if a.hess is None or b.hess is None else torch.cat([a.hess, b.hess], 1)
    return Jet(torch.cat([a.value, b.value], 1), torch.cat([a.grad, b.grad], 1), hess)


def _cat(a: Jet, b: Jet) -> Jet:
    hess = None if a.hess is None else torch.cat([a.hess, b.hess])
    return Jet(torch.cat([a.value, b.value]), torch.cat([a.grad, b.grad]), hess)


class TwoPhaseField(nn.Module):
    """The identified body: the shape ``p`` and the displacement ``u`` of the module docstring
    (nondimensional points in, nondimensional displacement out)."""

    def __init__(
        self,
        dim: int,
        width: int,
        depth: int,
        lo: Tensor,
        hi: Tensor,
        constraints: HardConstraints | None,
        shape: str = "ellipse",
    ) -> None:
        super().__init__()
        self.dim, self.constraints = dim, constraints
        self.networks = nn.ModuleList(MLP(dim, dim, width, depth, "gelu", lo, hi) for _ in range(2))
        for network in self.networks:
            with torch.no_grad():
                first = network.hidden[0]
                first.weight.uniform_(-1, 1).mul_(FIRST_LAYER_SCALE / math.sqrt(dim))
                first.bias.uniform_(-FIRST_LAYER_SCALE, FIRST_LAYER_SCALE)
        self.register_buffer("shape", torch.zeros(shape_size(dim, shape), dtype=torch.float64))
        self.register_buffer("theta", torch.zeros(dim * 2 * (width + 1), dtype=torch.float64))

    def features(self, x: Tensor, hessian: bool) -> tuple[Jet, Jet]:
        """``[N_a, 1]`` and ``[N_b, 1]`` at ``x``."""
        a, b = (_with_constant(feature_jet(n, x, hessian)) for n in self.networks)
        return a, b

    def basis(self, p: Tensor, x: Tensor, features: tuple[Jet, Jet]) -> Jet:
        """``[N_a, relu(psi) N_b]`` (value, gradient and, where the features have it, Hessian)."""
        a, b = features
        kink = relu(level_set(p, x))
        if b.hess is None:
            kink = Jet(kink.value, kink.grad)
        return _columns(a, kink * b)

    def displacement(self, x: Tensor) -> Jet:
        """``u`` and its gradient at ``x`` at the stored shape and head."""
        with torch.no_grad():
            f = self.basis(self.shape, x, self.features(x, hessian=False))
            theta = self.theta.reshape(self.dim, -1)
            value = torch.stack([f.value @ t for t in theta], 1)
            grad = torch.stack([f.grad.transpose(1, 2) @ t for t in theta], 1)
            u = Jet(value, grad)
            if self.constraints is None or not self.constraints.active:
                return u
            lift, phi = self.constraints.jets(x, hessian=False)
            return lift + phi * u

    def relative_modulus(self, x: Tensor) -> Tensor:
        """``E(x) / E_0``: ``E_b`` inside the interface, ``E_a`` outside."""
        p = self.shape
        inside = level_set(p, x).value[:, 0] > 0
        return torch.where(inside, torch.exp(p[-1]), torch.exp(p[-2]))

    def fields(self, points: np.ndarray, scales: Scales, material: Material) -> Fields:
        """Displacement, strain and stress at physical ``points`` (``material`` at ``E_0``)."""
        x = scales.to_unit(torch.from_numpy(points).double())
        u = self.displacement(x)
        fields = fields_from(
            u.grad * (scales.displacement / scales.length), u.value * scales.displacement, material
        )
        fields.stress *= self.relative_modulus(x).numpy()[:, None, None]
        return fields

    def summary(self, scales: Scales, E0: float, p: Tensor | None = None) -> dict[str, float | list[float]]:
        """Centre, semi-axes (largest first), their directions (2D: the angle of the largest
        from the x axis, in degrees, in (-90, 90]) and the two moduli, in the case's units."""
        p = self.shape if p is None else p
        dim = self.dim
        L = cholesky(p, dim)
        values, vectors = torch.linalg.eigh(L @ L.T)  # ascending: the largest axis first
        out: dict[str, float | list[float]] = {
            "centre": [float(v) for v in scales.to_physical(p[None, :dim])[0]],
            "semi_axes": [float(v) * scales.length for v in values.rsqrt()],
        }
        if is_round(p, dim):
            pass  # no axes' directions
        elif dim == 2:
            angle = math.degrees(math.atan2(float(vectors[1, 0]), float(vectors[0, 0])))
            out["angle_deg"] = angle - 180.0 if angle > 90.0 else angle + 180.0 if angle <= -90.0 else angle
        else:
            out["axis_directions"] = [[float(v) for v in vectors[:, i]] for i in range(dim)]
        out["E_matrix"] = float(torch.exp(p[-2])) * E0
        out["E_inclusion"] = float(torch.exp(p[-1])) * E0
        return out


def start_from_field(points: np.ndarray, modulus: np.ndarray, weights: np.ndarray) -> dict[str, object]:
    """The inclusion read off a smooth ``E(x)`` at physical ``points`` with quadrature ``weights``:
    the region beyond ``START_THRESHOLD`` of the way from the median (the matrix, which fills
    most of the body) to the farthest value (stiffer or softer) gives the centre and the axes
    (a uniform ellipsoid's second moments are :math:`a_i^2/(d+2)`), the means inside and
    outside the two moduli. ``None`` where no such region stands out."""
    median = float(np.median(modulus))
    deviation = modulus - median
    extreme = deviation.max() if deviation.max() >= -deviation.min() else deviation.min()
    inside = deviation / extreme > START_THRESHOLD if extreme != 0 else np.zeros(len(points), bool)
    dim = points.shape[1]
    if inside.sum() < dim + 2 or weights[inside].sum() > 0.5 * weights.sum():
        return None
    w = weights[inside] / weights[inside].sum()
    centre = (w[:, None] * points[inside]).sum(0)
    d = points[inside] - centre
    values, vectors = np.linalg.eigh((w[:, None, None] * d[:, :, None] * d[:, None, :]).sum(0))
    axes = np.sqrt((dim + 2) * np.clip(values, 1e-30, None))
    outside = ~inside
    E_matrix = float((weights[outside] * modulus[outside]).sum() / weights[outside].sum())
    E_inclusion = float((weights[inside] * modulus[inside]).sum() / weights[inside].sum())
    return {
        "centre": centre,
        "axes": axes,
        "directions": vectors,
        "E_matrix": E_matrix,
        "E_inclusion": E_inclusion,
    }


@dataclass(frozen=True)
class InclusionFit:
    """The refined inclusion and how it was reached."""

    identified: dict[str, object]
    std: dict[str, object]
    start: dict[str, object]
    rounds: list[dict[str, float]]
    data_rms_misfit: float  # relative to the data's rms
    seconds: float


class InclusionProblem:
    """The rows of the physics at any shape, the data misfit of the physics-only field, and the
    rounds of training and Levenberg-Marquardt that refine the shape."""

    def __init__(
        self,
        field: TwoPhaseField,
        problem: Problem,
        scales: Scales,
        data: DataRows,
        lam: float,
        mu: float,
        n_matrix: int,
        n_inclusion: int,
        generator: torch.Generator,
        n_shell: int | None = None,
    ) -> None:
        self.field, self.problem, self.scales, self.data = field, problem, scales, data
        self.dim, self.lam, self.mu = problem.dim, lam, mu
        self.constraints = field.constraints
        dim = self.dim
        self.base = sample_collocation(
            problem, scales, 1, BOUNDARY_POINTS, generator, torch.float64, self.constraints
        )
        mesh = problem.geometry.mesh(41 if dim == 2 else 13)
        self.measure = float(nodal_weights(mesh).sum()) / scales.length**dim
        self.matrix_points = scales.to_unit(
            problem.geometry.sample_interior(n_matrix, generator, torch.float64)
        )
        # what the fixed points need at every step, once: the constraint's jets, the body force
        self.matrix_constraint = (
            None if self.constraints is None else self.constraints.jets(self.matrix_points, hessian=True)
        )
        self.matrix_force = self._body_force(self.matrix_points)
        self.ball = _ball(n_inclusion, dim, 0.0, 1.0, generator)
        self.shell = _ball(n_inclusion if n_shell is None else n_shell, dim, 1.0, SHELL[1], generator)
        self.shell_weights = 1.0 - _fade_in(self.shell.norm(dim=1))
        self.sphere = _sphere(INTERFACE_POINTS[dim], dim)
        if data.constraint is not None:
            self.data_lift, self.data_phi = (j.value for j in data.constraint)
        else:
            self.data_lift, self.data_phi = torch.zeros_like(data.targets), torch.ones_like(data.targets)

    def _body_force(self, x: Tensor) -> Tensor | None:
        if self.problem.body_force is None:
            return None
        return self.problem.body_force(self.scales.to_physical(x)) * self.scales.length / self.scales.stress

    # -- points that move with the shape
    def _inside_body(self, x: Tensor) -> Tensor:
        return self.problem.geometry.contains(self.scales.to_physical(x)).to(x.dtype)

    def inclusion_points(self, p: Tensor) -> Tensor:
        return p[: self.dim] + self.ball @ torch.linalg.inv(cholesky(p, self.dim))

    def moving_points(self, p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The points that move with the shape (the inclusion's, then the shell's around it),
        their quadrature weights and their relative moduli."""
        dim = self.dim
        L_inverse = torch.linalg.inv(cholesky(p, dim))
        inner, shell = p[:dim] + self.ball @ L_inverse, p[:dim] + self.shell @ L_inverse
        volume = UNIT_BALL[dim] * torch.det(L_inverse)  # the inclusion's
        weights = torch.cat(
            [
                self._inside_body(inner) * volume / len(inner),
                self._inside_body(shell) * self.shell_weights * volume * (SHELL[1] ** dim - 1) / len(shell),
            ]
        )
        m_a, m_b = torch.exp(p[-2]), torch.exp(p[-1])
        return torch.cat([inner, shell]), weights, torch.cat([m_b.expand(len(inner)), m_a.expand(len(shell))])

    def interface(self, p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Points, outward normals and area weights (summing to 1 over the points in the body)
        on the interface: the unit sphere mapped through ``c + L^{-T} z`` (Nanson: the area
        element is proportional to ``|L z|``, the normal to ``L z``)."""
        L = cholesky(p, self.dim)
        x = p[: self.dim] + self.sphere @ torch.linalg.inv(L)
        normal = self.sphere @ L.T
        area = normal.norm(dim=1) * self._inside_body(x)
        return x, normal / normal.norm(dim=1, keepdim=True), area / area.sum().clamp(min=1e-300)

    def quadrature(self, p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Every interior point at the shape ``p`` (the matrix's fixed ones first), its
        quadrature weight (they sum to the body's measure) and its relative modulus."""
        moving, moving_weights, moving_m = self.moving_points(p)
        n_matrix = len(self.matrix_points)
        radius = ((self.matrix_points - p[: self.dim]) @ cholesky(p, self.dim)).norm(dim=1)
        weights = torch.cat([_fade_in(radius) * self.measure / n_matrix, moving_weights])
        m = torch.cat([torch.exp(p[-2]).expand(n_matrix), moving_m])
        return torch.cat([self.matrix_points, moving]), weights, m

    # -- the physics
    def system(self, p: Tensor, fixed: tuple[Jet, ...] | None = None) -> tuple[Tensor, Tensor]:
        """Rows ``A theta ~= b`` of the physics at the shape ``p`` (no data). ``fixed``: the
        features at the matrix and boundary points, reused (the networks fixed)."""
        dim, field = self.dim, self.field
        x, weights, m = self.quadrature(p)
        moving = x[len(self.matrix_points) :]
        n = len(x)
        m_a, m_b = torch.exp(p[-2]), torch.exp(p[-1])
        boundary = self.base.boundary
        m_boundary = torch.where(level_set(p, boundary).value[:, 0] > 0, m_b, m_a)
        body_force = (
            None if self.matrix_force is None else torch.cat([self.matrix_force, self._body_force(moving)])
        )
        constraint = None
        if self.constraints is not None:
            moving_constraint = self.constraints.jets(moving, hessian=True)
            constraint = tuple(_cat(a, b) for a, b in zip(self.matrix_constraint, moving_constraint))
        colloc = replace(
            self.base, interior=x, body_force=body_force, interior_constraint=constraint,
            modulus=(m, torch.zeros_like(x), m_boundary),
        )  # fmt: skip
        if fixed is None:
            f_interior, f_boundary = field.features(x, True), field.features(boundary, False)
        else:
            matrix_jets, f_boundary = fixed
            with torch.no_grad():
                moving_jets = field.features(moving, True)
            f_interior = tuple(_cat(a, b) for a, b in zip(matrix_jets, moving_jets))
        interior = field.basis(p, x, f_interior)
        on_boundary = field.basis(p, boundary, f_boundary)
        A, b = assemble(interior, on_boundary, colloc, self.lam, self.mu, {})
        quadrature = (weights * n).sqrt().repeat_interleave(dim)
        A = torch.cat([A[: n * dim] * quadrature[:, None], A[n * dim :]])
        b = torch.cat([b[: n * dim] * quadrature, b[n * dim :]])
        width = interior.value.shape[1] + 1  # assemble appends a constant: drop it, ours are in
        keep = torch.ones(dim * width, dtype=torch.bool)
        keep[width - 1 :: width] = False
        jump_A, jump_b = self._interface_rows(p, m_a, m_b)
        return torch.cat([A[:, keep], jump_A]), torch.cat([b, jump_b])

    def _interface_rows(self, p: Tensor, m_a: Tensor, m_b: Tensor) -> tuple[Tensor, Tensor]:
        r"""The traction's continuity, :math:`E_b\sigma_0(u^+)n - E_a\sigma_0(u^-)n = 0`, on the
        interface: the inclusion's side adds :math:`\nabla\psi\,N_b` to the basis gradient."""
        dim = self.dim
        x, normals, area = self.interface(p)
        a, b = self.field.features(x, False)
        slope = level_set(p, x).grad  # (n, 1, d)
        zero_b = Jet(torch.zeros_like(b.value), torch.zeros_like(b.grad))
        plus = _columns(a, Jet(torch.zeros_like(b.value), b.value[..., None] * slope))
        minus = _columns(a, zero_b)
        term = BoundaryTerm(
            "interface", "traction", slice(0, len(x)), tuple(range(dim)), torch.zeros(len(x), dim)
        )
        on_interface = Collocation(x, None, x, normals, [term])
        phi = None
        lift_traction = torch.zeros(len(x), dim, dtype=x.dtype)
        if self.constraints is not None and self.constraints.active:
            lift, phi = self.constraints.jets(x, hessian=False)
            lift_traction = traction(stress(lift.grad, self.lam, self.mu), normals)
        jump = m_b * _boundary_columns(plus, phi, on_interface, self.lam, self.mu)[0]
        jump = jump - m_a * _boundary_columns(minus, phi, on_interface, self.lam, self.mu)[0]
        root = area.repeat_interleave(dim).sqrt()
        return jump * root[:, None], -((m_b - m_a) * lift_traction).flatten() * root

    # -- the data
    def predicted(self, p: Tensor, theta: Tensor, data_features: tuple[Jet, Jet]) -> Tensor:
        """The displacement at the data points for the shape ``p`` and head ``theta``."""
        f = self.field.basis(p, self.data.points, data_features)
        value = torch.stack([f.value @ t for t in theta.reshape(self.dim, -1)], 1)
        return self.data_lift + self.data_phi * value

    def _loss(self) -> Tensor:
        """The physics' least-squares residual at the stored shape, the head solved for (and
        held fixed in the gradient: at the optimal head its own gradient vanishes)."""
        A, b = self.system(self.field.shape)
        with torch.no_grad():
            theta = solve(A, b, RIDGE)
        return ((A @ theta - b) ** 2).sum()

    def train(self, steps: int, optimiser: torch.optim.Optimizer) -> float:
        """``steps`` of ``optimiser`` (Adam) on the networks at the stored shape."""
        loss = torch.zeros(())
        for _ in range(steps):
            loss = self._loss()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        return float(loss.detach())

    def profile(self) -> Callable[[Tensor], Tensor]:
        """``p -> weighted data residuals`` of the physics-only field, the features fixed."""
        field, data = self.field, self.data
        with torch.no_grad():
            fixed = field.features(self.matrix_points, True), field.features(self.base.boundary, False)
            data_features = field.features(data.points, False)

        def residuals(p: Tensor) -> Tensor:
            with torch.no_grad():
                A, b = self.system(p, fixed)
                theta = solve(A, b, RIDGE)
                return ((self.predicted(p, theta, data_features) - data.targets) * data.weights).flatten()

        return residuals

    def levenberg_marquardt(self, iterations: int) -> float:
        """Moves the stored shape; returns the misfit's norm relative to the weighted data's."""
        residuals = self.profile()
        p = self.field.shape.clone()
        r = residuals(p)
        cost, damping, eye = float(r @ r), 1e-3, torch.eye(len(p), dtype=p.dtype)
        for _ in range(iterations):
            J = _jacobian(residuals, p, r)
            JTJ, g = J.T @ J, J.T @ r
            while damping < 1e8:
                step = -torch.linalg.solve(JTJ + damping * torch.diag(JTJ.diagonal()) + 1e-12 * eye, g)
                step = step * min(1.0, MAX_STEP / float(step.abs().max()))
                trial = residuals(p + step)
                trial_cost = float(trial @ trial)
                if math.isfinite(trial_cost) and trial_cost < cost:
                    p, r, cost, damping = p + step, trial, trial_cost, max(damping / 3, 1e-9)
                    break
                damping *= 4
            else:
                break
        self.field.shape.copy_(p)
        return math.sqrt(cost) / float((self.data.targets * self.data.weights).norm())

    def set_head(self) -> None:
        with torch.no_grad():
            A, b = self.system(self.field.shape)
            self.field.theta.copy_(solve(A, b, RIDGE))

    def uncertainty(self, E0: float) -> dict[str, object]:
        """One standard deviation of every reported quantity (Laplace approximation)."""
        residuals = self.profile()
        p = self.field.shape.clone()
        r = residuals(p)
        J = _jacobian(residuals, p)
        dof = max(len(r) - len(p), 1)
        s2 = 1.0 if self.data.has_std else float(r @ r) / dof
        covariance = s2 * torch.linalg.pinv(J.T @ J)

        def reported(q: Tensor) -> dict[str, object]:  # the axes' directions: signs flip, no std
            summary = self.field.summary(self.scales, E0, q)
            return {k: v for k, v in summary.items() if k != "axis_directions"}

        G = _jacobian(lambda q: torch.tensor(_flatten(reported(q)), dtype=torch.float64), p)
        std = torch.sqrt(torch.clamp(torch.diagonal(G @ covariance @ G.T), min=0.0))
        return _unflatten(reported(p), [float(v) for v in std])


def _ball(n: int, dim: int, inner: float, outer: float, generator: torch.Generator) -> Tensor:
    """``n`` points uniform (in volume) between the radii ``inner`` and ``outer``."""
    direction = torch.randn(n, dim, generator=generator, dtype=torch.float64)
    u = torch.rand(n, 1, generator=generator, dtype=torch.float64)
    radius = (inner**dim + u * (outer**dim - inner**dim)) ** (1.0 / dim)
    return radius * direction / direction.norm(dim=1, keepdim=True)


def _fade_in(radius: Tensor) -> Tensor:
    """0 inside ``SHELL[0]``, 1 outside ``SHELL[1]``, a C1 smoothstep between."""
    t = torch.clamp((radius - SHELL[0]) / (SHELL[1] - SHELL[0]), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _sphere(n: int, dim: int) -> Tensor:
    """``n`` points evenly spread on the unit circle (2D) or sphere (3D: a Fibonacci lattice)."""
    i = torch.arange(n, dtype=torch.float64)
    if dim == 2:
        t = 2 * math.pi * i / n
        return torch.stack([torch.cos(t), torch.sin(t)], 1)
    z = 1 - 2 * (i + 0.5) / n
    r = torch.sqrt(1 - z * z)
    t = math.pi * (3 - math.sqrt(5)) * i
    return torch.stack([r * torch.cos(t), r * torch.sin(t), z], 1)


def _jacobian(function: Callable[[Tensor], Tensor], p: Tensor, at: Tensor | None = None) -> Tensor:
    """Central differences; forward differences from ``at = function(p)`` where given (half
    the evaluations, an error of order ``STEP``: enough for a step, not for the covariance)."""
    eye = torch.eye(len(p), dtype=p.dtype) * STEP
    if at is not None:
        return torch.stack([(function(p + e) - at) / STEP for e in eye], 1)
    return torch.stack([(function(p + e) - function(p - e)) / (2 * STEP) for e in eye], 1)


def _flatten(summary: dict[str, object]) -> list[float]:
    out: list[float] = []
    for value in summary.values():
        out.extend(np.asarray(value, dtype=float).reshape(-1).tolist())
    return out


def _unflatten(summary: dict[str, object], values: list[float]) -> dict[str, object]:
    out, at = {}, 0
    for key, value in summary.items():
        shape = np.asarray(value, dtype=float).shape
        size = int(np.prod(shape)) if shape else 1
        chunk = np.asarray(values[at : at + size]).reshape(shape)
        out[key] = chunk.tolist() if shape else float(chunk)
        at += size
    return out


def refine(
    field: TwoPhaseField,
    fit: InclusionProblem,
    start: Tensor,
    rounds: list[int],
    iterations: int,
    E0: float,
) -> InclusionFit:
    """The rounds of the module docstring from ``start``; sets the field's shape and head."""
    wall = time.perf_counter()
    with torch.no_grad():
        field.shape.copy_(start)
    initial = field.summary(fit.scales, E0)
    optimiser = torch.optim.Adam(field.networks.parameters(), ADAM_RATES[0])  # one, across the rounds
    report, misfit = [], math.nan
    for k, steps in enumerate(rounds):
        for group in optimiser.param_groups:
            group["lr"] = ADAM_RATES[min(k, 1)]
        loss = fit.train(steps, optimiser)
        misfit = fit.levenberg_marquardt(iterations)
        summary = field.summary(fit.scales, E0)
        row = {"round": k, "adam_steps": steps, "physics_loss": loss, "data_misfit": misfit}
        report.append({**row, **summary, "seconds": time.perf_counter() - wall})
        log.info(
            "inclusion round %d: physics loss %.3e, data misfit %.3e, centre %s, semi-axes %s, "
            "E %.6g in %.6g",
            k, loss, misfit, _short(summary["centre"]), _short(summary["semi_axes"]),
            summary["E_inclusion"], summary["E_matrix"],
        )  # fmt: skip
    fit.set_head()
    std = fit.uncertainty(E0)
    return InclusionFit(
        identified=field.summary(fit.scales, E0),
        std=std,
        start=initial,
        rounds=report,
        data_rms_misfit=misfit,
        seconds=time.perf_counter() - wall,
    )


def _short(values) -> str:
    return "(" + ", ".join(f"{float(v):.4g}" for v in values) + ")"
