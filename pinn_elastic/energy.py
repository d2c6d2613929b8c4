r"""The energy (Ritz) polish: the enriched output layer that minimises the potential energy.

Where a clamped face meets a loaded or free one, the exact field is singular
(:mod:`pinn_elastic.edge_weights`): its strain energy is finite, but no smooth network meets the
strong form near the edge, and the point-wise least-squares polish then compromises over the
whole body. The potential energy has no such trouble. With every displacement condition imposed
exactly (:math:`\hat u = g + \phi\odot\Theta h`, ``h`` the enriched features and a constant), the
Ritz principle picks

.. math:: \min_\Theta\ \Pi(\hat u) = \int_\Omega \tfrac12\,\varepsilon:C:\varepsilon\,dV
          - \int_{\Gamma_t} \hat t\cdot\hat u\,dA - \int_\Omega \hat f\cdot\hat u\,dV,

a linear problem in :math:`\Theta`: with the energy density written as
:math:`\tfrac12\lVert r\rVert^2`, :math:`r = (L^T\mathrm{diag}\,\varepsilon,\ \sqrt{\mu}\,
(H_{ab}+H_{ba})_{a<b})`, :math:`LL^T = \lambda\mathbf 1\mathbf 1^T + 2\mu I` and :math:`H = \nabla
\hat u`, it is :math:`\min \tfrac12\lVert B\theta + b\rVert^2 - F^T\theta`. The rows of ``B`` are
streamed through a tall-skinny QR (never formed whole), and the minimiser for any Tikhonov
weight follows from the SVD of the small ``R``. The volume integrals use scrambled Sobol points
(quasi-Monte Carlo, far more accurate than random points), the surface ones the body's own
uniform boundary samples.

As in :mod:`pinn_elastic.polish`: two independent quadratures ``A`` and ``B``, their mean kept,
the ridge chosen by the energy on a third one. Energy is also the judge between fields: by
:math:`\Pi(u) - \Pi(u^*) = \tfrac12\lVert u - u^*\rVert_E^2`, the field with the lower energy on
the independent quadrature is the closer one in the energy norm, so the energy fit replaces the
current field only when its hold-out energy is lower by more than the two fits disagree.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.quasirandom import SobolEngine

from .constraints import HardConstraints
from .derivatives import Jet
from .field import DisplacementField
from .polish import readout_layer
from .problem import Displacement, Problem, Traction, components_of
from .scaling import Scales
from .taylor import enriched_jet

RELATIVE_RIDGES = tuple(10.0 ** (-k) for k in range(4, 21, 2))  # alpha^2 / s_max^2
CHUNK = 4096


@dataclass
class Quadrature:
    """Nondimensional quadrature of the body and its loaded boundary, with the constraint jets."""

    interior: Tensor  # (N, d)
    volume_weight: Tensor  # (N,)
    body_force: Tensor | None  # (N, d)
    boundary: Tensor  # (M, d)
    area_weight: Tensor  # (M,)
    traction: Tensor  # (M, d)
    constraints: HardConstraints | None

    def to(self, device: torch.device) -> Quadrature:
        """The same quadrature with its tensors on ``device`` (that of the network)."""
        moved = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in self.__dict__.items()}
        return Quadrature(**moved)


@dataclass(frozen=True)
class EnergyReport:
    applied: bool
    ridge: float
    estimate: float
    spread: float
    ridge_sensitivity: float
    holdout_energy: float
    current_holdout_energy: float
    seconds: float


def applicable(problem: Problem, constraints: HardConstraints | None) -> bool:
    """Every displacement condition is imposed exactly (a Ritz basis must satisfy them)."""
    for condition in problem.conditions:
        if isinstance(condition, Displacement):
            for i in components_of(condition, problem.dim):
                if constraints is None or not constraints.imposes(condition, i):
                    return False
    return True


def sobol_interior(problem: Problem, n: int, seed: int) -> tuple[Tensor, float]:
    """About ``n`` scrambled Sobol points in the body (rejection from the bounding box) and the
    weight of each, ``bounding volume / points drawn``."""
    geometry = problem.geometry
    lo, hi = (torch.tensor(b, dtype=torch.float64) for b in geometry.bounds)
    engine = SobolEngine(problem.dim, scramble=True, seed=seed)
    draws, kept = 0, []
    count = 1 << max(10, (n - 1).bit_length())
    while sum(len(k) for k in kept) < n:
        trial = lo + (hi - lo) * engine.draw(count, dtype=torch.float64)
        draws += count
        kept.append(trial[geometry.contains(trial)])
    return torch.cat(kept), float(torch.prod(hi - lo)) / draws


def quadrature(
    problem: Problem, scales: Scales, constraints: HardConstraints | None, n: int, seed: int
) -> Quadrature:
    """Quadrature for :math:`\\Pi`: ``n`` Sobol volume points, ``n / 4`` points per loaded boundary."""
    x, weight = sobol_interior(problem, n, seed)
    dim, generator = problem.dim, torch.Generator().manual_seed(seed)
    body_force = None
    if problem.body_force is not None:
        body_force = problem.body_force(x) * scales.length / scales.stress
    points, areas, tractions = [], [], []
    for condition in problem.conditions:
        if not isinstance(condition, Traction) or condition.value is None:
            continue
        m = max(256, n // 4)
        xb, nb = problem.geometry.sample_boundary(condition.boundary, m, generator, torch.float64)
        t = torch.zeros_like(xb)
        comps = list(components_of(condition, dim))
        t[:, comps] = condition.evaluate(xb, nb)[:, comps] / scales.stress
        points.append(xb)
        tractions.append(t)
        measure = problem.geometry.boundary_measure(condition.boundary) / scales.length ** (dim - 1)
        areas.append(torch.full((m,), measure / m, dtype=torch.float64))
    empty = torch.zeros(0, dim, dtype=torch.float64)
    return Quadrature(
        interior=scales.to_unit(x),
        volume_weight=torch.full((len(x),), weight / scales.length**dim, dtype=torch.float64),
        body_force=body_force,
        boundary=scales.to_unit(torch.cat(points)) if points else empty,
        area_weight=torch.cat(areas) if areas else torch.zeros(0, dtype=torch.float64),
        traction=torch.cat(tractions) if tractions else empty,
        constraints=constraints,
    )


def _factors(q: Quadrature, x: Tensor) -> tuple[Jet, Jet]:
    """``(lift, phi)`` jets at ``x`` (zero and one without constraints)."""
    if q.constraints is None or not q.constraints.active:
        n, d = x.shape
        return Jet(x.new_zeros(n, d), x.new_zeros(n, d, d)), Jet(x.new_ones(n, d), x.new_zeros(n, d, d))
    return q.constraints.jets(x, hessian=False)


def _energy_rows(grad: Tensor, lam: float, mu: float) -> Tensor:
    """``r`` with :math:`\\tfrac12\\lVert r\\rVert^2 = \\tfrac12\\varepsilon:C:\\varepsilon` for
    displacement gradients ``grad (..., d, d)``: ``(..., d + d(d-1)/2)``."""
    d = grad.shape[-1]
    chol = torch.linalg.cholesky(
        lam * torch.ones(d, d, dtype=grad.dtype) + 2 * mu * torch.eye(d, dtype=grad.dtype)
    )
    diagonal = grad.diagonal(dim1=-2, dim2=-1) @ chol.to(grad.device)
    shear = [mu**0.5 * (grad[..., a, b] + grad[..., b, a]) for a in range(d) for b in range(a + 1, d)]
    return torch.cat([diagonal, torch.stack(shear, -1)], -1)


def _basis(net, q: Quadrature, x: Tensor) -> tuple[Tensor, Tensor, Jet]:
    """Values ``(N, d, d*K)`` and gradients ``(N, d, d, d*K)`` of the basis
    :math:`\\phi_i h_k e_i` (component-major, constant feature last) and the lift's jet."""
    h = enriched_jet(net, x, hessian=False)
    n, k, d = h.grad.shape
    value = torch.cat([h.value, h.value.new_ones(n, 1)], 1)
    grad = torch.cat([h.grad, h.grad.new_zeros(n, 1, d)], 1)
    lift, phi = _factors(q, x)
    values = x.new_zeros(n, d, d * (k + 1))
    grads = x.new_zeros(n, d, d, d * (k + 1))
    for i in range(d):
        cols = slice(i * (k + 1), (i + 1) * (k + 1))
        values[:, i, cols] = phi.value[:, i : i + 1] * value
        grads[:, i, :, cols] = (
            phi.value[:, i, None, None] * grad + value[..., None] * phi.grad[:, i, None, :]
        ).transpose(1, 2)
    return values, grads, lift


def _reduce(net, q: Quadrature, lam: float, mu: float) -> tuple[Tensor, Tensor, Tensor]:
    """``(R, z, F)``: the R factor of the weighted energy rows, ``Q^T b`` and the load vector."""
    r_aug, load = None, None
    for start in range(0, len(q.interior), CHUNK):
        x = q.interior[start : start + CHUNK]
        w = q.volume_weight[start : start + CHUNK].sqrt()
        values, grads, lift = _basis(net, q, x)
        rows = _energy_rows(grads.movedim(-1, 1), lam, mu).movedim(1, -1)  # (n, rows, cols)
        offset = _energy_rows(lift.grad, lam, mu)  # (n, rows)
        block = torch.cat([rows, offset[..., None]], -1) * w[:, None, None]
        block = block.reshape(-1, block.shape[-1])
        stacked = block if r_aug is None else torch.cat([r_aug, block])
        r_aug = torch.linalg.qr(stacked, mode="r")[1]
        if q.body_force is not None:
            f = q.body_force[start : start + CHUNK]
            part = torch.einsum("n,nd,ndc->c", q.volume_weight[start : start + CHUNK], f, values)
            load = part if load is None else load + part
    columns = r_aug.shape[1] - 1
    load = r_aug.new_zeros(columns) if load is None else load
    for start in range(0, len(q.boundary), CHUNK):
        x = q.boundary[start : start + CHUNK]
        values, _, _ = _basis(net, q, x)
        t, w = q.traction[start : start + CHUNK], q.area_weight[start : start + CHUNK]
        load = load + torch.einsum("n,nd,ndc->c", w, t, values)
    return r_aug[:columns, :columns], r_aug[:columns, columns], load


def energy(field: DisplacementField, q: Quadrature, lam: float, mu: float) -> float:
    """:math:`\\Pi` of a field on the quadrature (the lift's own constant terms included)."""
    total = 0.0
    for start in range(0, len(q.interior), CHUNK):
        x = q.interior[start : start + CHUNK]
        jet = field.evaluate(x.to(next(field.parameters()).dtype))
        u, grad = jet.value.double(), jet.grad.double()
        w = q.volume_weight[start : start + CHUNK]
        total += float((w * 0.5 * (_energy_rows(grad, lam, mu) ** 2).sum(-1)).sum())
        if q.body_force is not None:
            total -= float((w * (q.body_force[start : start + CHUNK] * u).sum(-1)).sum())
    for start in range(0, len(q.boundary), CHUNK):
        x = q.boundary[start : start + CHUNK]
        u = field.evaluate(x.to(next(field.parameters()).dtype)).value.double()
        w, t = q.area_weight[start : start + CHUNK], q.traction[start : start + CHUNK]
        total -= float((w * (t * u).sum(-1)).sum())
    return total


def _solutions(R: Tensor, z: Tensor, F: Tensor) -> list[tuple[float, Tensor]]:
    r"""Minimisers of :math:`\tfrac12\lVert R\theta + z\rVert^2 - F^T\theta +
    \tfrac12\alpha^2\lVert\theta\rVert^2` on the ladder: :math:`(S^2+\alpha^2)V^T\theta = V^TF - SU^Tz`."""
    U, S, Vh = torch.linalg.svd(R)
    rhs = Vh @ F - S * (U.T @ z)
    return [(rho, Vh.T @ (rhs / (S * S + rho * S[0] ** 2))) for rho in RELATIVE_RIDGES]


def _with_readout(field: DisplacementField, theta: Tensor) -> DisplacementField:
    out = copy.deepcopy(field)
    out.network.readout = readout_layer(theta, out.network.head.weight)
    return out


def energy_polish(
    field: DisplacementField, set_a: Quadrature, set_b: Quadrature, holdout: Quadrature, lam: float, mu: float
) -> EnergyReport:
    """Fit the enriched readout by the Ritz principle; keep it when the hold-out energy says so."""
    start = time.perf_counter()
    net = copy.deepcopy(field.network).to(torch.float64)
    net.readout = None
    with torch.no_grad():
        ladder_a = _solutions(*_reduce(net, set_a, lam, mu))
        ladder_b = _solutions(*_reduce(net, set_b, lam, mu))
        fits = []
        for (rho, theta_a), (_, theta_b) in zip(ladder_a, ladder_b):
            candidate = _with_readout(field, (theta_a + theta_b) / 2)
            fits.append((energy(candidate, holdout, lam, mu), rho, candidate, theta_a, theta_b))
        best = min(range(len(fits)), key=lambda i: fits[i][0])
        value, rho, candidate, theta_a, theta_b = fits[best]
        x = holdout.interior.to(next(field.parameters()).dtype)
        u_a = _with_readout(field, theta_a).evaluate(x).value
        u_b = _with_readout(field, theta_b).evaluate(x).value
        u = (u_a + u_b) / 2
        norm = torch.linalg.vector_norm(u)
        spread = float(torch.linalg.vector_norm(u_a - u_b) / (2 * norm))
        neighbours = [fits[i][2].evaluate(x).value for i in (best - 1, best + 1) if 0 <= i < len(fits)]
        sensitivity = min((float(torch.linalg.vector_norm(u - v) / norm) for v in neighbours), default=0.0)
        e_a = energy(_with_readout(field, theta_a), holdout, lam, mu)
        e_b = energy(_with_readout(field, theta_b), holdout, lam, mu)
        current = energy(field, holdout, lam, mu)
    applied = value < current - abs(e_a - e_b)
    if applied:
        field.network.readout = candidate.network.readout
    return EnergyReport(
        applied=applied,
        ridge=rho,
        estimate=max(spread, sensitivity),
        spread=spread,
        ridge_sensitivity=sensitivity,
        holdout_energy=value,
        current_holdout_energy=current,
        seconds=time.perf_counter() - start,
    )
