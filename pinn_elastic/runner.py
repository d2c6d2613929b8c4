"""The solver: case -> scales -> network -> points -> loss -> training, polish and evaluation."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import energy
from .case_loader import load_case
from .collocation import Collocation, sample_collocation
from .compiling import maybe_compile
from .config import Config
from .constraints import HardConstraints
from .derivatives import Jet
from .estimate import enriched_error_estimate
from .evaluation import Fields, error_metrics, exact, predict, probe_value
from .field import DisplacementField
from .geometry import EvaluationMesh, nodal_weights
from .losses import loss_terms, residuals, total_loss
from .lstsq import assemble, fit_output_layer, set_output_layer, solve
from .models import MLP
from .monitor import DisplacementErrorMonitor
from .polish import ROWS_PER_COLUMN, PolishReport, columns_of, polish, rows_of
from .scaling import characteristic_scales
from .singular_edges import clamped_edges
from .taylor import apply_head, feature_jet
from .training import History, Schedule, train

log = logging.getLogger(__name__)

ESTIMATE_SEED_OFFSET = 104729  # the error estimate's points are drawn apart from the training points
ENERGY_SEED = 7919  # the energy polish's Sobol scrambles
STRONG_FORM_MET = 1e-8  # polish hold-out loss relative to the lift's: the point-wise fit succeeded
STRONG_FORM_MISSED = 1e-3  # ... and above this the point-wise fit failed: try the Ritz fit anywhere


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when available, else the CPU; ``cuda`` without a GPU is an error."""
    from .errors import ConfigError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", name, "CUDA is not available here; use device=cpu or device=auto")
    return torch.device(name)


class PhysicsLoss:
    """The weighted sum of the named loss terms for a field on a collocation batch.

    With ``solve_head`` (variable projection) every evaluation first sets the output layer to
    its least-squares optimum for the current hidden features, so the optimisers move the
    hidden layers only and the loss is the best one those features allow. With ``compile``
    the feature sweep and the residuals run under ``torch.compile`` (the least-squares solve
    stays eager); the forward engine only.
    """

    def __init__(
        self,
        field: DisplacementField,
        lam: float,
        mu: float,
        weights: dict[str, float],
        solve_head: bool,
        compile: bool = False,
        ridge: float = 0.0,
    ) -> None:
        self.field, self.lam, self.mu, self.weights = field, lam, mu, weights
        self.solve_head, self.ridge = solve_head, ridge
        self._features = maybe_compile(self._feature_parts, "the feature sweep", compile)
        self._head_terms = maybe_compile(self._terms_from_features, "the residuals", compile)
        self._plain_terms = maybe_compile(self._terms, "the loss", compile)

    def __call__(self, colloc: Collocation) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.solve_head:
            parts = self._features(colloc)
            f_int, f_bnd = Jet(*parts[:3]), Jet(*parts[3:])
            with torch.no_grad():
                A, b = assemble(f_int.detach(), f_bnd.detach(), colloc, self.lam, self.mu, self.weights)
                theta = solve(A, b, self.ridge)
                set_output_layer(self.field.network, theta)
            terms = self._head_terms(*parts, colloc)
            if self.ridge:
                # part of the reduced loss; constant in the hidden layers at the optimum (envelope theorem)
                terms["head_ridge"] = self.ridge**2 * (theta**2).sum().to(parts[0].dtype)
        else:
            terms = self._plain_terms(colloc)
        return total_loss(terms, self.weights), terms

    def _feature_parts(self, colloc: Collocation) -> tuple[torch.Tensor, ...]:
        net = self.field.network
        f_int = feature_jet(net, colloc.interior, hessian=True)
        f_bnd = feature_jet(net, colloc.boundary, hessian=False)
        return f_int.value, f_int.grad, f_int.hess, f_bnd.value, f_bnd.grad

    def _terms_from_features(self, *args) -> dict[str, torch.Tensor]:
        *parts, colloc = args
        net = self.field.network
        f_int, f_bnd = Jet(*parts[:3]), Jet(*parts[3:])
        interior, boundary = self.field.constrain(apply_head(net, f_int), apply_head(net, f_bnd), colloc)
        return loss_terms(residuals(interior, boundary, colloc, self.lam, self.mu))

    def _terms(self, colloc: Collocation) -> dict[str, torch.Tensor]:
        interior, boundary = self.field.jets(colloc)
        return loss_terms(residuals(interior, boundary, colloc, self.lam, self.mu))


class Solver:
    """Everything a run builds before training, for the CLI, the tests and the benchmarks."""

    def __init__(self, config: Config, base_dir: Path | Sequence[Path] | None = None) -> None:
        self.config = config
        self.problem, self.params = load_case(config.case, base_dir)
        self.device = resolve_device(config.device)
        mixed = config.dtype == "mixed"
        self.dtype = torch.float64 if mixed else getattr(torch, config.dtype)
        self.adam_dtype = torch.float32 if mixed else self.dtype  # mixed: Adam in float32
        self.generator = torch.Generator().manual_seed(config.seed)
        self.scales = characteristic_scales(self.problem, self.generator)
        problem, scales, train_cfg = self.problem, self.scales, config.train
        probe = problem.geometry.sample_interior(4096, torch.Generator().manual_seed(0), torch.float64)
        self.constraints = HardConstraints(problem, scales, probe) if train_cfg.hard_bc else None
        lo, hi = (
            scales.to_unit(torch.tensor(b, dtype=torch.float64)[None])[0] for b in problem.geometry.bounds
        )
        m = config.model
        with torch.random.fork_rng():  # the seed reaches the initial weights, not global state
            torch.manual_seed(config.seed)
            network = MLP(
                problem.dim,
                problem.dim,
                m.width,
                m.depth,
                m.activation,
                lo,
                hi,
                init=m.init,
                residual=m.residual,
                init_variance=m.init_variance,
            )
        self.field = DisplacementField(network, self.constraints, train_cfg.derivatives).to(
            self.device, self.dtype
        )
        lam, mu = problem.material.lame(problem.dim)
        self.lam_hat, self.mu_hat = lam / scales.modulus, mu / scales.modulus
        self.loss = PhysicsLoss(
            self.field,
            self.lam_hat,
            self.mu_hat,
            dict(train_cfg.loss_weights),
            train_cfg.output_layer == "solve",
            compile=train_cfg.compile and train_cfg.derivatives == "forward",
            ridge=train_cfg.head_ridge,
        )
        if train_cfg.compile and train_cfg.derivatives != "forward":
            log.warning("train.compile=true applies to train.derivatives=forward; nested autograd runs eager")
        self._check_weight_names()
        self.monitor = (
            DisplacementErrorMonitor(self.field, problem, scales)
            if problem.exact_displacement is not None
            else None
        )

    def _check_weight_names(self) -> None:
        from .errors import ConfigError

        names = set(self.loss_term_names())
        for name in self.config.train.loss_weights:
            if name not in names:
                raise ConfigError(
                    f"train.loss_weights.{name}", None, "unknown term; terms: " + ", ".join(sorted(names))
                )

    def loss_term_names(self) -> list[str]:
        """Names of the loss terms (from a tiny throw-away batch)."""
        colloc = sample_collocation(
            self.problem, self.scales, 16, 16, torch.Generator().manual_seed(0), self.dtype, self.constraints
        )
        return ["navier", *(t.name for t in colloc.terms)]

    def sample(
        self, generator: torch.Generator | None = None, dtype: torch.dtype | None = None
    ) -> Collocation:
        """A training-size batch on the run's device, from the run's generator unless given."""
        t = self.config.train
        colloc = sample_collocation(
            self.problem,
            self.scales,
            t.n_interior,
            t.n_boundary,
            self.generator if generator is None else generator,
            self.dtype if dtype is None else dtype,
            self.constraints,
        )
        return colloc.to(self.device)

    def error_estimate(self) -> float:
        """Relative L2 displacement error estimated without the exact solution
        (:mod:`pinn_elastic.estimate`), on points drawn independently of training."""
        fresh = self.sample(
            torch.Generator().manual_seed(self.config.seed + ESTIMATE_SEED_OFFSET), torch.float64
        )
        return enriched_error_estimate(self.field, fresh, self.lam_hat, self.mu_hat, self.loss.weights)

    def polish(self) -> PolishReport:
        """The least-squares polish (:mod:`pinn_elastic.polish`) on fresh, independent points."""

        def draw(i: int) -> Collocation:
            generator = torch.Generator().manual_seed(self.config.seed + ESTIMATE_SEED_OFFSET * (i + 1))
            return self.sample(generator, torch.float64)

        holdout, model = draw(0), self.config.model
        columns = columns_of(model.depth, model.width, self.problem.dim)
        k = max(self.config.train.polish_batches, math.ceil(ROWS_PER_COLUMN * columns / rows_of(holdout)))
        set_a, set_b = [draw(1 + i) for i in range(k)], [draw(1 + k + i) for i in range(k)]
        return polish(self.field, set_a, set_b, holdout, self.lam_hat, self.mu_hat, self.loss.weights)

    def energy_polish_wanted(self, residual: PolishReport | None) -> bool:
        """``train.energy_polish``: ``always``, ``never``, or ``auto``: where a clamp meets a
        traction face (:mod:`pinn_elastic.singular_edges`) and the strong form is not met, and
        on any body where the point-wise polish missed the strong form badly (a thin 3D part whose
        large free faces carry spurious tractions: the Ritz fit meets them in the weak sense)."""
        mode = self.config.train.energy_polish
        if mode == "never":
            return False
        if not energy.applicable(self.problem, self.constraints):
            if mode == "always":
                log.warning(
                    "train.energy_polish=always: skipped, a displacement condition is not imposed exactly"
                )
            return False
        if mode == "always":
            return True
        strong_form_met = residual is not None and residual.relative_holdout_loss < STRONG_FORM_MET
        missed = residual is not None and residual.relative_holdout_loss >= STRONG_FORM_MISSED
        return missed or (bool(clamped_edges(self.problem)) and not strong_form_met)

    def energy_polish(self) -> energy.EnergyReport:
        """The Ritz polish (:mod:`pinn_elastic.energy`) on three independent Sobol quadratures."""
        n = self.config.train.energy_points
        quadratures = [
            energy.quadrature(
                self.problem, self.scales, self.constraints, n, self.config.seed + ENERGY_SEED + i
            ).to(self.device)
            for i in range(3)
        ]
        return energy.energy_polish(self.field, *quadratures, self.lam_hat, self.mu_hat)

    def fit_head(self, colloc: Collocation) -> float:
        return fit_output_layer(
            self.field.network, colloc, self.lam_hat, self.mu_hat, self.loss.weights, self.loss.ridge
        )

    def train(self) -> History:
        """Least-squares start (if any), Adam, then L-BFGS; ``mixed`` runs Adam in float32."""
        t = self.config.train
        start = time.perf_counter()
        first = self.sample()
        if t.output_layer in ("solve", "init"):
            value = self.fit_head(first)
            log.info("output layer set by least squares: loss %.3e", value)
        batches = iter([first])

        def sample() -> Collocation:
            return next(batches, None) or self.sample()

        schedule = Schedule(
            adam_steps=t.adam_steps,
            lbfgs_steps=t.lbfgs_steps,
            lr=t.lr,
            lr_final=t.lr_final,
            log_every=t.log_every,
            lbfgs_history=t.lbfgs_history,
            resample_every=t.resample_every,
        )
        head = set(self.field.network.head.parameters()) if t.output_layer == "solve" else set()
        params = [p for p in self.field.parameters() if p not in head]
        history = History(monitor=self.monitor)
        if self.adam_dtype == self.dtype:
            return train(self.field, params, self.loss, sample, schedule, history, start)
        # mixed precision: module.to() converts the parameters in place, so params stay valid
        self.field.to(self.adam_dtype)
        last: list[Collocation] = []

        def sample_adam() -> Collocation:
            last[:] = [sample()]
            return last[0].to(self.adam_dtype)

        train(self.field, params, self.loss, sample_adam, replace(schedule, lbfgs_steps=0), history, start)
        self.field.to(self.dtype)
        log.info("mixed precision: Adam done in float32, L-BFGS in float64")
        return train(
            self.field, params, self.loss, lambda: last[0], replace(schedule, adam_steps=0), history, start
        )

    def evaluate(self, mesh: EvaluationMesh) -> tuple[Fields, Fields | None, dict[str, Any]]:
        """PINN (and exact) fields at the mesh nodes, and the error and probe metrics."""
        problem, points = self.problem, mesh.points
        pinn = predict(self.field, self.scales, problem.material, points)
        reference = exact(problem, points) if problem.exact_displacement is not None else None
        metrics: dict[str, Any] = {}
        if reference is not None:
            metrics.update(error_metrics(pinn, reference, nodal_weights(mesh), problem.dim))
        for probe in problem.probes:
            at = np.asarray([probe.point], dtype=np.float64)
            metrics[probe.name] = (
                float(
                    probe_value(
                        predict(self.field, self.scales, problem.material, at),
                        probe.quantity,
                        probe.component,
                    )[0]
                )
                * probe.scale
            )
            if probe.reference is not None:
                metrics[f"{probe.name}_reference"] = probe.reference
                metrics[f"{probe.name}_deviation"] = metrics[probe.name] / probe.reference - 1
            if problem.exact_displacement is not None:
                metrics[f"{probe.name}_exact"] = (
                    float(probe_value(exact(problem, at), probe.quantity, probe.component)[0]) * probe.scale
                )
        return pinn, reference, metrics
