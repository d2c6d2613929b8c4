r"""Training by the potential energy (``train.objective=energy``): a Ritz method whose basis
functions are the network's features, trained.

With every displacement condition imposed exactly, :math:`\hat u_i = g_i + \phi_i\,
(\theta_i\cdot[h(\hat x), 1])` (``h`` the last hidden layer), the displacement minimising

.. math:: \Pi(\hat u) = \int_\Omega \tfrac12\,\varepsilon:C:\varepsilon\,dV
          - \int_{\Gamma_t}\hat t\cdot\hat u\,dA - \int_\Omega \hat f\cdot\hat u\,dV

over the output layer solves the Ritz system :math:`K\theta = F - K_g`, with
:math:`K_{(ik),(jl)} = \int \lambda\,c^{ik}_{i}c^{jl}_{j} + \mu\,(\delta_{ij}\,c^{ik}\cdot c^{jl}
+ c^{ik}_{j}c^{jl}_{i})\,dV`, :math:`c^{ik} = \nabla(\phi_i h_k)`. Every evaluation solves it
(the features held) and returns :math:`\Pi` at that :math:`\theta`; by the envelope theorem the
gradient in the hidden layers is that of :math:`\Pi` with :math:`\theta` fixed, so Adam and
L-BFGS train the features for the best Ritz solution they span (variable projection, as the
least-squares head does for the strong form).

Why: the traction conditions, free faces included, are natural in :math:`\Pi`, met in the weak
sense over whole faces instead of at points. On a thin part (the 3D lug of ``examples/``) the
point-wise fit leaves small tractions on its large free faces that add up to a third of the
load; the energy has no such loophole. Only first derivatives of the network enter, so a step
is cheaper than a strong-form step.

The quadrature decides the accuracy. On a mesh body, the mesh's own cells: Adam steps on
fresh random points in every cell (:func:`~pinn_elastic.geometry.cell_quadrature.cell_points`),
L-BFGS on the cells' Gauss rule (degree 5 on tetrahedra), which a network cannot exploit the way
it would a fixed low-order rule (a 4-point rule let L-BFGS lower the discrete energy below the
true minimum while the error grew fourfold). Other bodies use scrambled Sobol points.

The run ends (:func:`fit_enriched_readout`) with a Ritz fit of a wider output layer, the last
layer's features and their products with the coordinates, on the Gauss rule: on the 3D lug it
takes the trained field from 1.1e-3 to 4e-4 of a fine finite-element solution.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import Tensor

from .constraints import HardConstraints
from .derivatives import Jet
from .energy import Quadrature, _energy_rows, _factors, energy, sobol_interior
from .field import DisplacementField
from .geometry.cell_quadrature import cell_count, cell_points, facet_points, gauss_points_per_cell
from .geometry.mesh import MeshBody
from .polish import readout_layer
from .problem import Problem, Traction, components_of
from .scaling import Scales
from .taylor import channels_to_jet, enriched_channels, feature_jet

RIDGE = 1e-12  # relative Tikhonov weight of the Ritz system solved at every step
READOUT_RIDGES = tuple(10.0 ** (-k) for k in range(8, 17, 2))  # alpha / largest eigenvalue
CHUNK = 8192


@dataclass
class RitzBatch:
    """A quadrature with its constraint jets, computed once per batch."""

    quadrature: Quadrature
    lift: Jet
    phi: Jet
    lift_boundary: Jet
    phi_boundary: Jet

    @classmethod
    def of(cls, q: Quadrature) -> RitzBatch:
        lift, phi = _factors(q, q.interior)
        lift_b, phi_b = _factors(q, q.boundary)
        return cls(q, lift, phi, lift_b, phi_b)

    def to(self, dtype: torch.dtype) -> RitzBatch:
        def cast(t):
            return t.to(dtype) if isinstance(t, Tensor) and t.is_floating_point() else t

        q = Quadrature(**{k: cast(v) for k, v in self.quadrature.__dict__.items()})
        jets = [
            Jet(cast(j.value), cast(j.grad), None)
            for j in (self.lift, self.phi, self.lift_boundary, self.phi_boundary)
        ]
        return RitzBatch(q, *jets)

    def device_to(self, device: torch.device) -> RitzBatch:
        q = self.quadrature.to(device)
        jets = [
            Jet(j.value.to(device), j.grad.to(device), None)
            for j in (self.lift, self.phi, self.lift_boundary, self.phi_boundary)
        ]
        return RitzBatch(q, *jets)


def energy_batch(
    problem: Problem,
    scales: Scales,
    constraints: HardConstraints | None,
    points: int,
    generator: torch.Generator | None,
    exact: bool = False,
) -> RitzBatch:
    """The quadrature of :math:`\\Pi`, nondimensional. A mesh body: ``generator`` given, fresh
    random points in every cell (about ``points`` in all, at least one per cell); none, the
    cells' Gauss rule, the degree-5 one (degree 4 in 2D) where it takes at most ``points``
    points or ``exact`` is asked for, else the degree-2 one. Other bodies: about ``points``
    scrambled Sobol points (seeded from ``generator``, else fixed) and uniform boundary
    samples."""
    geometry, dim = problem.geometry, problem.dim
    seed = 0 if generator is None else int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    mesh = isinstance(geometry, MeshBody)
    if mesh:
        cells = cell_count(geometry)
        per_cell = None if generator is None else max(1, round(points / cells))
        low_order = cells * gauss_points_per_cell(dim) > points and not exact
        x, w = cell_points(geometry, per_cell, generator, low_order)
    else:
        x, w = sobol_interior(problem, points, seed)
        w = torch.full((len(x),), w, dtype=torch.float64)
    body_force = None
    if problem.body_force is not None:
        body_force = problem.body_force(x) * scales.length / scales.stress
    boundary_generator = torch.Generator().manual_seed(seed)
    xs, ws, ts = [], [], []
    for condition in problem.conditions:
        if not isinstance(condition, Traction) or condition.value is None:
            continue
        for piece in geometry.pieces_named(condition.boundary):
            if mesh:
                xb, nb, wb = facet_points(piece)
            else:
                m = max(256, points // 4)
                xb, nb = piece.sample(m, boundary_generator, torch.float64)
                wb = torch.full((m,), piece.measure / m, dtype=torch.float64)
            t = torch.zeros_like(xb)
            comps = list(components_of(condition, dim))
            t[:, comps] = condition.evaluate(xb, nb)[:, comps] / scales.stress
            xs.append(xb)
            ws.append(wb / scales.length ** (dim - 1))
            ts.append(t)
    empty = torch.zeros(0, dim, dtype=torch.float64)
    q = Quadrature(
        interior=scales.to_unit(x),
        volume_weight=w / scales.length**dim,
        body_force=body_force,
        boundary=scales.to_unit(torch.cat(xs)) if xs else empty,
        area_weight=torch.cat(ws) if ws else torch.zeros(0, dtype=torch.float64),
        traction=torch.cat(ts) if ts else empty,
        constraints=constraints,
    )
    return RitzBatch.of(q)


def _with_constant(value: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
    n, _, d = grad.shape
    return (
        torch.cat([value, value.new_ones(n, 1)], 1),
        torch.cat([grad, grad.new_zeros(n, 1, d)], 1),
    )


def _assemble(
    value: Tensor, grad: Tensor, phi: Jet, lift: Jet, weight: Tensor, lam: float, mu: float
) -> tuple[Tensor, Tensor]:
    """Ritz matrix ``K (dK, dK)`` and the lift's part ``K_g (dK,)`` of the right-hand side, for
    features ``value (n, K)``, ``grad (n, K, d)`` (the constant included) on weighted points."""
    d, k = grad.shape[2], value.shape[1]
    root = weight.sqrt()
    grad_t = grad.permute(2, 0, 1)  # (d, n, K)
    # c[i][m]: component m of the gradient of phi_i * features, weighted (n, K)
    c = [
        [
            (root * phi.value[:, i])[:, None] * grad_t[m] + (root * phi.grad[:, i, m])[:, None] * value
            for m in range(d)
        ]
        for i in range(d)
    ]
    lift_grad = lift.grad * root[:, None, None]
    trace_g = lift_grad.diagonal(dim1=-2, dim2=-1).sum(-1)
    sym_g = lift_grad + lift_grad.transpose(1, 2)
    divergence = torch.cat([c[i][i] for i in range(d)], 1)
    K = lam * (divergence.T @ divergence)
    rhs = []
    for i in range(d):
        rows = slice(i * k, (i + 1) * k)
        stacked = torch.cat(c[i], 0)
        K[rows, rows] += mu * (stacked.T @ stacked)
        for j in range(d):
            K[rows, j * k : (j + 1) * k] += mu * (c[i][j].T @ c[j][i])
        rhs.append(lam * (c[i][i].T @ trace_g) + mu * sum(c[i][m].T @ sym_g[:, i, m] for m in range(d)))
    return K, torch.cat(rhs)


def _load(weight: Tensor, phi: Tensor, force: Tensor, value: Tensor) -> Tensor:
    """``int force . (phi_i h_k e_i)`` for every column: ``weight (n,)``, ``phi (n, d)``,
    ``force (n, d)`` (traction or body force), features ``value (n, K)`` -> ``(d K,)``."""
    return torch.cat([(weight * phi[:, i] * force[:, i]) @ value for i in range(phi.shape[1])])


def _energy(
    grad_u: Tensor, u_boundary: Tensor, u: Tensor | None, batch: RitzBatch, lam: float, mu: float
) -> Tensor:
    q = batch.quadrature
    value = 0.5 * (q.volume_weight * (_energy_rows(grad_u, lam, mu) ** 2).sum(-1)).sum()
    value = value - (q.area_weight * (q.traction * u_boundary).sum(-1)).sum()
    if q.body_force is not None and u is not None:
        value = value - (q.volume_weight * (q.body_force * u).sum(-1)).sum()
    return value


class EnergyLoss:
    """``loss(batch) -> (Pi, {"energy": Pi})``: the output layer solved by Ritz on the batch
    (and written to the network's head), :math:`\\Pi` differentiable in the hidden layers."""

    def __init__(self, field: DisplacementField, lam: float, mu: float) -> None:
        self.field, self.lam, self.mu = field, lam, mu

    def __call__(self, batch: RitzBatch) -> tuple[Tensor, dict[str, Tensor]]:
        net, q = self.field.network, batch.quadrature
        h = feature_jet(net, q.interior, hessian=False)
        h_b = net.features(q.boundary)
        value, grad = _with_constant(h.value, h.grad)
        value_b = torch.cat([h_b, h_b.new_ones(len(h_b), 1)], 1)
        with torch.no_grad():
            K, rhs_lift = _assemble(
                value.detach(), grad.detach(), batch.phi, batch.lift, q.volume_weight, self.lam, self.mu
            )
            F = _load(q.area_weight, batch.phi_boundary.value, q.traction, value_b.detach())
            if q.body_force is not None:
                F = F + _load(q.volume_weight, batch.phi.value, q.body_force, value.detach())
            theta = _solve(K, F - rhs_lift, RIDGE)
            d = grad.shape[2]
            theta = theta.reshape(d, -1)
            net.head.weight.copy_(theta[:, :-1])
            net.head.bias.copy_(theta[:, -1])
        s = value @ theta.T  # (n, d): the network's outputs
        grad_s = torch.einsum("nkj,ik->nij", grad, theta)
        grad_u = batch.lift.grad + batch.phi.value[..., None] * grad_s + s[..., None] * batch.phi.grad
        u_b = batch.lift_boundary.value + batch.phi_boundary.value * (value_b @ theta.T)
        u = batch.lift.value + batch.phi.value * s if q.body_force is not None else None
        pi = _energy(grad_u, u_b, u, batch, self.lam, self.mu)
        return pi, {"energy": pi}


def _solve(K: Tensor, rhs: Tensor, ridge: float) -> Tensor:
    scale = K.diagonal().max()
    return torch.linalg.solve(K + ridge * scale * torch.eye(len(K), dtype=K.dtype, device=K.device), rhs)


# ----- the enriched Ritz readout ------------------------------------------------------------
def _enriched_features(net, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The last layer's features ``h`` and ``h xi_k`` (``xi`` the normalised coordinates), with
    a constant: values ``(n, K)``, gradients ``(n, K, d)``, and where each sits in the network's
    enriched layout (:func:`~pinn_elastic.taylor.enriched_channels`, ``(K - 1,)``)."""
    d = x.shape[1]
    jet = channels_to_jet(enriched_channels(net, x, False, last_layer_only=True), d, False)
    value, grad = _with_constant(jet.value, jet.grad)
    width, depth = net.hidden[-1].out_features, len(net.hidden)
    block = depth * width
    where = torch.cat([b * block + (depth - 1) * width + torch.arange(width) for b in range(d + 1)])
    return value, grad, where


@dataclass(frozen=True)
class ReadoutReport:
    applied: bool
    ridge: float
    columns: int
    holdout_energy: float
    current_holdout_energy: float
    estimate: float
    seconds: float


def _system(net, batch: RitzBatch, lam: float, mu: float) -> tuple[Tensor, Tensor, Tensor]:
    q = batch.quadrature
    K = rhs = where = None
    for start in range(0, len(q.interior), CHUNK):
        part = slice(start, start + CHUNK)
        value, grad, where = _enriched_features(net, q.interior[part])
        phi, lift = (
            Jet(batch.phi.value[part], batch.phi.grad[part], None),
            Jet(batch.lift.value[part], batch.lift.grad[part], None),
        )
        Kp, rp = _assemble(value, grad, phi, lift, q.volume_weight[part], lam, mu)
        if q.body_force is not None:
            rp = rp - _load(q.volume_weight[part], phi.value, q.body_force[part], value)
        K, rhs = (Kp, rp) if K is None else (K + Kp, rhs + rp)
    value_b, _, _ = _enriched_features(net, q.boundary)
    return K, _load(q.area_weight, batch.phi_boundary.value, q.traction, value_b) - rhs, where


def fit_enriched_readout(
    field: DisplacementField, fit: RitzBatch, holdout: RitzBatch, lam: float, mu: float
) -> ReadoutReport:
    """Ritz fit of the enriched output layer on ``fit`` (the Gauss rule), the ridge chosen by
    the energy on the independent ``holdout``; kept where that energy is lower than the trained
    field's (:math:`\\Pi(u) - \\Pi(u^*) = \\tfrac12\\lVert u - u^*\\rVert_E^2`: lower is closer).
    ``estimate``: the relative L2 distance between the two fields at the hold-out points, which
    bounds the error of the worse one (the trained field) and so, conservatively, the kept one's."""
    start = time.perf_counter()
    net = copy.deepcopy(field.network).to(torch.float64)
    net.readout = None
    with torch.no_grad():
        K, rhs, where = _system(net, fit, lam, mu)
        eigenvalues, vectors = torch.linalg.eigh(K)
        projected = vectors.T @ rhs
        d = fit.phi.value.shape[1]
        full_width = net.hidden[-1].out_features * len(net.hidden) * (d + 1)
        current = energy(field, holdout.quadrature, lam, mu)
        candidates = []
        for ridge in READOUT_RIDGES:
            theta = vectors @ (projected / (eigenvalues.clamp_min(0) + ridge * eigenvalues[-1]))
            full = theta.new_zeros(d, full_width + 1)
            full[:, where.to(theta.device)] = theta.reshape(d, -1)[:, :-1]
            full[:, -1] = theta.reshape(d, -1)[:, -1]
            trial = copy.deepcopy(field)
            trial.network.readout = readout_layer(full.reshape(-1), field.network.head.weight)
            candidates.append((energy(trial, holdout.quadrature, lam, mu), ridge, trial))
        value, ridge, best = min(candidates, key=lambda c: c[0])
        x = holdout.quadrature.interior.to(next(field.parameters()).dtype)
        u_new, u_old = best.evaluate(x).value, field.evaluate(x).value
        estimate = float(torch.linalg.vector_norm(u_new - u_old) / torch.linalg.vector_norm(u_new))
    applied = value < current
    if applied:
        field.network.readout = best.network.readout
    return ReadoutReport(
        applied=applied,
        ridge=ridge,
        columns=len(rhs),
        holdout_energy=value,
        current_holdout_energy=current,
        estimate=estimate,
        seconds=time.perf_counter() - start,
    )
