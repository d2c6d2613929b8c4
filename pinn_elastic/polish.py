r"""Least-squares polish after training, and the error estimate of the polished field.

Training moves the hidden layers; the output layer only ever sees the last of them. Once the
hidden layers are fixed, the field is linear in any output layer, so a much richer one can be
fitted exactly: the polish reads the *enriched features* of every hidden layer times
:math:`(1, \xi_1, \dots, \xi_d)` (:meth:`~pinn_elastic.models.MLP.enriched_features`,
``depth * width * (d + 1)`` functions per component) and solves the weighted loss by linear
least squares (float64), exactly as the training head does, on points the run never trained on.

* **Two independent fits.** The system is assembled on two independent point sets ``A`` and
  ``B`` (each ``batches`` training-size draws, at least ``ROWS_PER_COLUMN`` rows per unknown) and
  factorised once each
  (:class:`~pinn_elastic.lstsq.SpectralFactor`). The field kept is the mean of the two fits.
* **The ridge, by hold-out.** The Tikhonov weight :math:`\alpha` trades the bias of the filter
  against the amplification of sampling noise; it is chosen on the ladder ``RIDGES`` by the loss
  on a third, independent set ``C``. A polish that does not lower the hold-out loss of the
  trained field is discarded.
* **The estimate.** The relative :math:`L^2` error of the kept field is estimated as the larger
  of its two measurable parts, on the interior points of ``C``:

  .. math:: \eta = \max\Big(\tfrac12\lVert u_A - u_B\rVert,\;
            \min_{\alpha'}\lVert u(\alpha^*) - u(\alpha')\rVert\Big) / \lVert u\rVert,

  the spread of the two fits (their sampling error) and the change to the nearest rung of the
  ladder (the filter's bias), :math:`\alpha'` the neighbours of :math:`\alpha^*`.

With several ranks (``group``) every batch is a rank's shard: the systems are factored across
ranks (:func:`~pinn_elastic.distributed.triangular_factor`) and every loss and norm is summed
over them, so each rank keeps the same fit.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .collocation import Collocation
from .distributed import SINGLE, Group, triangular_system
from .field import DisplacementField
from .lstsq import SpectralFactor, assemble, training_residual
from .taylor import enriched_jet, feature_jet

RIDGES = tuple(10.0**-k for k in range(6, 17))
ROWS_PER_COLUMN = 3
GIVE_UP = 10.0  # polish(residual_bound=...): a first system this far above the bound ends the polish


@dataclass(frozen=True)
class PolishReport:
    """What the polish did; ``estimate`` is the relative L2 displacement error of the result."""

    applied: bool
    ridge: float
    estimate: float
    spread: float
    ridge_sensitivity: float
    holdout_loss: float
    trained_holdout_loss: float
    relative_holdout_loss: float  # holdout_loss over the loss of the lift alone (no network)
    columns: int
    rows: int
    seconds: float


def readout_layer(theta: Tensor, like: Tensor) -> nn.Linear:
    """The enriched output layer for ``theta`` (component-major, bias last), in ``like``'s
    dtype and device."""
    coefficients = theta.reshape(like.shape[0], -1).to(like)
    readout = nn.Linear(coefficients.shape[1] - 1, like.shape[0]).to(like)
    with torch.no_grad():
        readout.weight.copy_(coefficients[:, :-1])
        readout.bias.copy_(coefficients[:, -1])
    return readout


def rows_of(colloc: Collocation) -> int:
    """Rows of the least-squares system of one batch (Navier, then every boundary term); of the
    whole batch where ``colloc`` is a rank's shard of it."""
    if colloc.rows_total is not None:
        return sum(colloc.rows_total.values())
    interior, dim = colloc.interior.shape
    return interior * dim + sum((t.rows.stop - t.rows.start) * len(t.components) for t in colloc.terms)


def columns_of(depth: int, width: int, dim: int) -> int:
    """Unknowns of the enriched output layer: ``(depth * width * (d + 1) + 1) * d``."""
    return (depth * width * (dim + 1) + 1) * dim


def _system(
    net, batches: list[Collocation], lam: float, mu: float, weights: dict[str, float], enriched: bool
) -> tuple[Tensor, Tensor]:
    """``A theta ~= b`` over several batches, scaled so that the loss is their mean."""
    features = enriched_jet if enriched else feature_jet
    rows, rhs = [], []
    for colloc in batches:
        A, b = assemble(
            features(net, colloc.interior, hessian=True),
            features(net, colloc.boundary, hessian=False),
            colloc,
            lam,
            mu,
            weights,
        )
        rows.append(A / len(batches) ** 0.5)
        rhs.append(b / len(batches) ** 0.5)
    return torch.cat(rows), torch.cat(rhs)


def _interior_field(net, colloc: Collocation) -> tuple[Tensor, Tensor, Tensor]:
    """``(features with a constant column, lift, phi)`` at the interior points of ``colloc``."""
    features = net.enriched_features(colloc.interior)
    features = torch.cat([features, torch.ones_like(features[:, :1])], 1)
    if colloc.interior_constraint is None:
        return features, torch.zeros_like(colloc.interior), torch.ones_like(colloc.interior)
    lift, phi = colloc.interior_constraint
    return features, lift.value, phi.value


def polish(
    field: DisplacementField,
    set_a: list[Collocation],
    set_b: list[Collocation],
    holdout: Collocation,
    lam: float,
    mu: float,
    weights: dict[str, float],
    group: Group = SINGLE,
    residual_bound: float | None = None,
) -> PolishReport | None:
    r"""Fit the enriched output layer as in the module docstring; set ``field.network.readout``
    when it lowers the hold-out loss. The batches must carry float64 tensors on the field's device.

    With ``residual_bound``, the system of set ``A`` is judged as soon as its triangle is
    factored: where its least relative residual :math:`\min_\theta\lVert A\theta - b\rVert
    / \lVert b\rVert` (read off the triangle of ``[A | b]``, no ridge, on its own rows)
    exceeds ``GIVE_UP * residual_bound``, nothing more is computed (no SVD, no hold-out system,
    no fit ``B``), nothing is set and None is returned. No fit on ``A``'s features has a
    smaller residual on ``A``'s rows, a fit's residual on fresh rows is larger on average, and
    the mean of two fits on independent points is below either's by at most :math:`\sqrt 2`
    (where sampling noise dominates; by nothing where the features' bias does), so the polish
    could not have met the bound."""

    def total(value: Tensor) -> float:  # a sum over this rank's rows, summed over the ranks
        return float(group.sum(value.reshape(1).clone())[0])

    def norm(u: Tensor) -> float:
        return total((u * u).sum()) ** 0.5

    start = time.perf_counter()
    net = copy.deepcopy(field.network).to(torch.float64)
    net.readout = None
    with torch.no_grad():
        triangle_a = triangular_system(*_system(net, set_a, lam, mu, weights, enriched=True), group)
        if residual_bound is not None and float(training_residual(triangle_a)) > GIVE_UP * residual_bound:
            return None
        factor_a = SpectralFactor.of_triangle(triangle_a)
        A_c, b_c = _system(net, [holdout], lam, mu, weights, enriched=True)
        rhs = total((b_c**2).sum())  # the hold-out loss of the lift alone
        factor_b = SpectralFactor.of(*_system(net, set_b, lam, mu, weights, enriched=True), group)
        A_head, b_head = _system(net, [holdout], lam, mu, weights, enriched=False)
        head = torch.cat([net.head.weight, net.head.bias[:, None]], 1).reshape(-1)
        trained = total(((A_head @ head - b_head) ** 2).sum())
        features, lift, phi = _interior_field(net, holdout)
        dim = holdout.interior.shape[1]

        def displacement(theta: Tensor) -> Tensor:
            return lift + phi * (features @ theta.reshape(dim, -1).T)

        fits = []
        for ridge in RIDGES:
            theta_a, theta_b = factor_a.solution(ridge), factor_b.solution(ridge)
            theta = (theta_a + theta_b) / 2
            loss = total(((A_c @ theta - b_c) ** 2).sum())
            fits.append((loss, ridge, theta, displacement(theta_a), displacement(theta_b)))
        best = min(range(len(fits)), key=lambda i: fits[i][0])
        loss, ridge, theta, u_a, u_b = fits[best]
        u = (u_a + u_b) / 2
        size = norm(u)
        spread = norm(u_a - u_b) / (2 * size)
        neighbours = [(fits[i][3] + fits[i][4]) / 2 for i in (best - 1, best + 1) if 0 <= i < len(fits)]
        sensitivity = min((norm(u - v) / size for v in neighbours), default=0.0)
    applied = loss < trained
    if applied:
        field.network.readout = readout_layer(theta, field.network.head.weight)
    return PolishReport(
        applied=applied,
        ridge=ridge,
        estimate=max(spread, sensitivity),
        spread=spread,
        ridge_sensitivity=sensitivity,
        holdout_loss=loss,
        trained_holdout_loss=trained,
        relative_holdout_loss=loss / max(rhs, 1e-300),
        columns=A_c.shape[1],
        rows=int(total(A_c.new_tensor(float(A_c.shape[0] * len(set_a))))),
        seconds=time.perf_counter() - start,
    )
