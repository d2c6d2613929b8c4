r"""The final identification: output least squares over the trained network's features.

Training moves the unknowns with the network, the data misfit one term of the loss. It ends
near the optimum, but a joint minimum also lets the network bend towards noisy data. The
final step separates physics from data, as a finite-element identification does: with the
trained hidden features :math:`h` fixed (every hidden layer's, ``depth * width`` of them, as
in the error estimate; the last layer alone spans the field of other materials too poorly:
on the bent 3D beam with 1 % noise it put ``E`` 9.5 % off where every layer's features put it
0.02 % off), the field for any material :math:`p` is the least-squares solution of the
equations alone (no data),

.. math:: \hat u(p) = g + \phi\odot\Theta(p)\,[h;1],\qquad
          \Theta(p) = \arg\min_\Theta \lVert A(p)\,\Theta - b(p)\rVert^2 + \alpha^2\lVert\Theta\rVert^2,

and :math:`p` minimises the data misfit :math:`\chi^2(p) = \sum_i (\hat u_i(p) - d_i)^2/\sigma_i^2`.
Every residual is linear in :math:`(\lambda, \mu)`, so :math:`A = A_0 + \lambda A_\lambda +
\mu A_\mu` (and ``b`` alike) is assembled three times, once; each evaluation of
:math:`\hat u(p)` is then one QR of a small system. Gauss-Newton with a backtracking line
search minimises :math:`\chi^2`, the Jacobian of the data residuals by central differences.

**Uncertainty** (Laplace approximation, the curvature of the misfit at the optimum): the
covariance of the raw unknowns is :math:`s^2 (J^TJ)^{-1}`, with :math:`s = 1` when the data
give their standard deviations and :math:`s^2 = \chi^2/(m - k)` (the residuals' own variance,
``m`` data values, ``k`` unknowns) when they do not; the delta method maps it to ``E``,
``nu``, ``lam``, ``mu``. It is the spread from the measurement noise; the network's own
error adds a bias that ``error_estimate`` bounds.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..collocation import Collocation
from ..derivatives import Jet
from ..lstsq import assemble, solve
from ..models import MLP
from ..polish import readout_layer
from ..taylor import all_layer_jet
from .unknowns import MaterialUnknowns

log = logging.getLogger(__name__)

STEP = 1e-6  # central-difference step in the raw unknowns (log-scaled: a relative step)
MAX_ITERATIONS = 30
SPREAD_WARNING = 0.05  # warn where half the two fits' distance exceeds 5 % of their mean
MAX_STEP = 0.5  # largest change of a raw unknown in one iteration: E by e^0.5, nu's logit by 0.5


@dataclass(frozen=True)
class DataRows:
    """Measurements in nondimensional form: points ``(m, d)``, targets ``(m, d)``, row
    weights ``(m, d)`` (``1/sigma`` in displacement-scale units, or ones), the constraint jets
    at the points (``None`` without exact constraints), and whether ``sigma`` was given."""

    points: Tensor
    targets: Tensor
    weights: Tensor
    constraint: tuple[Jet, Jet] | None
    has_std: bool


@dataclass(frozen=True)
class Identification:
    identified: dict[str, float]
    std: dict[str, float]  # sqrt(std_noise^2 + model_spread^2)
    std_noise: dict[str, float]
    model_spread: dict[str, float]
    std_method: str
    iterations: int
    chi2: float
    data_rms_misfit: float  # in the nondimensional displacement scale
    dof: int
    model_floor: float = 0.0  # tau added to the file's deviations (nondimensional), 0: none needed


class ProfileModel:
    """:math:`p \\mapsto \\hat u(p)` at the data points, for fixed hidden features."""

    def __init__(
        self,
        network: MLP,
        colloc: Collocation,
        data: DataRows,
        unknowns: MaterialUnknowns,
        weights: dict[str, float],
        ridge: float,
    ) -> None:
        net = copy.deepcopy(network).to(torch.float64)
        colloc = colloc.to(torch.float64)
        self.unknowns, self.ridge = unknowns, ridge
        with torch.no_grad():
            f_int = all_layer_jet(net, colloc.interior, hessian=True)
            f_bnd = all_layer_jet(net, colloc.boundary, hessian=False)
            A0, b0 = assemble(f_int, f_bnd, colloc, 0.0, 0.0, weights)
            A1, b1 = assemble(f_int, f_bnd, colloc, 1.0, 0.0, weights)
            A2, b2 = assemble(f_int, f_bnd, colloc, 0.0, 1.0, weights)
            self.parts = _compressed(((A0, b0), (A1 - A0, b1 - b0), (A2 - A0, b2 - b0)))
            h = all_layer_jet(net, data.points.double(), hessian=False).value
        m, d = data.points.shape
        h = torch.cat([h, h.new_ones(m, 1)], 1)  # (m, K + 1)
        if data.constraint is not None:
            lift, phi = (j.value.double() for j in data.constraint)
        else:
            lift, phi = h.new_zeros(m, d), h.new_ones(m, d)
        self.lift, self.design = lift, [phi[:, i : i + 1] * h for i in range(d)]
        self.targets, self.row_weights = data.targets.double(), data.weights.double()
        self.has_std = data.has_std

    def head(self, raw: Tensor) -> Tensor:
        """The output layer :math:`\\Theta(p)` (component-major, bias last)."""
        lam, mu = (float(v) for v in self.unknowns.lame_hat(raw))
        (A0, b0), (Al, bl), (Am, bm) = self.parts
        return solve(A0 + lam * Al + mu * Am, b0 + lam * bl + mu * bm, self.ridge)

    def residuals(self, raw: Tensor) -> Tensor:
        """Weighted data residuals ``(m * d,)`` of the physics-only field at ``raw``."""
        theta = self.head(raw).reshape(len(self.design), -1)
        u = self.lift + torch.stack([X @ t for X, t in zip(self.design, theta)], 1)
        return ((u - self.targets) * self.row_weights).flatten()


def _compressed(parts: tuple[tuple[Tensor, Tensor], ...]) -> tuple[tuple[Tensor, Tensor], ...]:
    r"""The same systems on a few rows: with :math:`QR = [A_0\,A_\lambda\,A_\mu\,b_0\,b_\lambda\,b_\mu]`,
    every :math:`A(p)\theta - b(p)` lies in the range of :math:`Q`, so replacing each block by its
    rows of :math:`R` keeps every residual norm, singular value and least-squares solution, and
    each evaluation of :math:`\hat u(p)` factors ``3K + 3`` rows instead of all the collocation's."""
    widths = [A.shape[1] for A, _ in parts]
    stacked = torch.cat([A for A, _ in parts] + [b[:, None] for _, b in parts], 1)
    if stacked.shape[0] <= stacked.shape[1]:
        return parts
    R = torch.linalg.qr(stacked, mode="r").R
    blocks = R[:, : sum(widths)].split(widths, 1)
    rhs = R[:, sum(widths) :].unbind(1)
    return tuple(zip(blocks, rhs))


def _jacobian(function, x: Tensor, step: float = STEP) -> Tensor:
    columns = []
    for i in range(len(x)):
        e = torch.zeros_like(x)
        e[i] = step
        columns.append((function(x + e) - function(x - e)) / (2 * step))
    return torch.stack(columns, -1)


def _trial(model: ProfileModel, raw: Tensor) -> tuple[Tensor | None, float]:
    """The residuals and cost at a trial point; an infinite cost where the material there is
    not a usable one (``nu`` rounded to 1/2 makes ``lambda`` infinite) or the solve fails."""
    try:
        r = model.residuals(raw)
    except torch.linalg.LinAlgError:
        return None, math.inf
    cost = float(r @ r)
    return (r, cost) if math.isfinite(cost) else (None, math.inf)


def gauss_newton(model: ProfileModel, start: Tensor) -> tuple[Tensor, int]:
    """Minimise :math:`\\lVert r(p)\\rVert^2` from ``start``; returns the optimum and the iterations.

    Each step moves no raw unknown by more than ``MAX_STEP`` (a trust region: far from the
    optimum, the linearisation of a misfit with understated deviations can point at ``E -> 0``),
    and a backtracking line search takes the first length that does not raise the misfit."""
    raw = start.detach().double().clone()
    r = model.residuals(raw)
    cost = float(r @ r)
    for iteration in range(1, MAX_ITERATIONS + 1):
        J = _jacobian(model.residuals, raw)
        step = torch.linalg.lstsq(J, -r[:, None]).solution[:, 0]
        length = min(1.0, MAX_STEP / max(float(step.abs().max()), 1e-300))  # a trust region
        while length > 1e-4:
            trial = raw + length * step
            r_trial, trial_cost = _trial(model, trial)
            if trial_cost <= cost:
                break
            length /= 2
        else:
            return raw, iteration
        raw, r, previous, cost = trial, r_trial, cost, trial_cost
        if float(torch.linalg.vector_norm(length * step)) < 1e-10 or previous - cost <= 1e-14 * previous:
            return raw, iteration
    return raw, MAX_ITERATIONS


def _fits(models, start: Tensor) -> list[tuple[Tensor, int]]:
    return [gauss_newton(m, start) for m in models]


def _fits_with_model_floor(models, start: Tensor) -> tuple[list[tuple[Tensor, int]], float]:
    r"""Fits with the file's deviations, widened where they are below what the model can meet.

    Each value's deviation becomes :math:`\sqrt{\sigma_i^2 + \tau^2}`: ``tau`` is zero when
    :math:`\chi^2/\mathrm{dof}` is consistent with 1 (within three of its standard deviations,
    :math:`\sqrt{2/\mathrm{dof}}`), and otherwise the value (by bisection in ``log tau``) that
    brings it to 1: a discrepancy between model and data (the network's own error, or
    deviations stated too small) that no value of the unknowns removes. Without it, values
    with tiny stated deviations (relative noise on a tiny component) would weigh in with the
    model's error and bias the fit."""
    sigma = [1.0 / m.row_weights for m in models]
    fits = _fits(models, start)
    chi2 = float(models[0].residuals((fits[0][0] + fits[1][0]) / 2).square().sum())
    dof = max(models[0].targets.numel() - len(start), 1)
    if chi2 / dof <= 1 + 3 * math.sqrt(2 / dof):
        return fits, 0.0
    scale = float(models[0].targets.square().mean().sqrt())
    lo, hi = math.log(1e-8 * scale), math.log(scale)
    for _ in range(14):
        tau = math.exp((lo + hi) / 2)
        for m, s in zip(models, sigma):
            m.row_weights = 1.0 / torch.sqrt(s * s + tau * tau)
        fits = [gauss_newton(m, f[0]) for m, f in zip(models, fits)]  # warm: tau moves a little
        chi2 = float(models[0].residuals((fits[0][0] + fits[1][0]) / 2).square().sum())
        lo, hi = (lo, math.log(tau)) if chi2 / dof < 1 else (math.log(tau), hi)
    return fits, tau


def _readout(network: MLP, theta: Tensor) -> torch.nn.Linear:
    """The identified field as the network's enriched output layer: the coefficients ``theta``
    of every hidden layer's features (component-major, bias last) are the first ``depth *
    width`` columns of :meth:`MLP.enriched_features`; the columns multiplied by the
    coordinates get zero."""
    d = network.head.weight.shape[0]
    coefficients = theta.reshape(d, -1)
    every = coefficients.shape[1] - 1
    enriched = every * (network.hidden[0].in_features + 1)
    full = coefficients.new_zeros(d, enriched + 1)
    full[:, :every], full[:, -1] = coefficients[:, :-1], coefficients[:, -1]
    return readout_layer(full.reshape(-1), network.head.weight)


def identify(models: tuple[ProfileModel, ProfileModel], network: MLP) -> Identification:
    """Gauss-Newton from the trained unknowns on two independent point sets, their mean kept;
    the uncertainty combines the curvature's covariance (the data's noise) and half the two
    fits' distance (the network's own, the discretisation's, share). Sets the unknowns to the
    optimum and ``network.readout`` to its field (the polish may replace it)."""
    model = models[0]
    unknowns = model.unknowns
    start = unknowns.raw.detach()
    fits, floor = _fits_with_model_floor(models, start) if model.has_std else (_fits(models, start), 0.0)
    raw = (fits[0][0] + fits[1][0]) / 2
    iterations = max(f[1] for f in fits)
    r = model.residuals(raw)
    J = _jacobian(model.residuals, raw)
    chi2 = float(r @ r)
    m, k = len(r), len(raw)
    dof = max(m - k, 1)
    s2 = 1.0 if model.has_std else chi2 / dof
    covariance = s2 * torch.linalg.pinv(J.T @ J)
    G = _jacobian(lambda p: torch.tensor(list(unknowns.values(p).values()), dtype=p.dtype), raw)
    noise = torch.sqrt(torch.clamp(torch.diagonal(G @ covariance @ G.T), min=0.0))
    a, b = (unknowns.values(f[0]) for f in fits)
    spread = {n: abs(a[n] - b[n]) / 2 for n in unknowns.names}
    for name, half in spread.items():
        mean = abs(a[name] + b[name]) / 2
        if half > SPREAD_WARNING * mean:
            log.warning(
                "identify: the two fits of %s differ by %.0f %% (%.6g and %.6g): the trained network "
                "pins it down poorly; its reported deviation includes the difference",
                name, 100 * 2 * half / mean, a[name], b[name],
            )  # fmt: skip
    with torch.no_grad():
        unknowns.raw.copy_(raw.to(unknowns.raw.dtype))
    network.readout = _readout(network, model.head(raw))
    weights = model.row_weights
    rms = float(torch.linalg.vector_norm(r / weights.flatten()) / math.sqrt(m))
    sigma = "sigma from the residuals"
    if model.has_std:
        sigma = "sigma from the data file" + (
            ", widened by a model floor (data_model_floor)" if floor else ""
        )
    noise_std = dict(zip(unknowns.names, (float(v) for v in noise)))
    return Identification(
        identified=unknowns.values(raw),
        std={n: math.hypot(noise_std[n], spread[n]) for n in unknowns.names},
        std_noise=noise_std,
        model_spread=spread,
        std_method=(
            f"Laplace approximation (Gauss-Newton curvature of the data misfit, {sigma}) combined "
            "with half the distance of two fits on independent points"
        ),
        iterations=iterations,
        chi2=chi2,
        data_rms_misfit=rms,
        dof=dof,
        model_floor=floor,
    )
