"""The solver: case -> scales -> network -> points -> loss -> training, polish and evaluation."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import distributed, energy, ritz
from .case_loader import load_case
from .collocation import Collocation, sample_collocation, with_term
from .compiling import maybe_compile
from .config import Config
from .constraints import HardConstraints
from .derivatives import Jet
from .errors import ConfigError
from .estimate import enriched_error_estimate
from .evaluation import Fields, error_metrics, exact, predict, probe_value
from .field import DisplacementField
from .geometry import EvaluationMesh, nodal_weights
from .inverse import Identification, MaterialUnknowns, ProfileModel, identify, read_measurements
from .inverse.field import ModulusField
from .inverse.inclusion import (
    InclusionFit,
    InclusionProblem,
    TwoPhaseField,
    refine,
    start_from_field,
    unknowns_from,
)
from .inverse.setup import (
    case_at,
    data_path,
    data_rows,
    material_dependent_supports,
    material_with,
    true_material,
)
from .losses import loss_terms, residuals, total_loss
from .lstsq import assemble, fit_output_layer, set_output_layer, solve
from .materials import Material
from .models import MLP
from .monitor import DisplacementErrorMonitor
from .polish import GIVE_UP, ROWS_PER_COLUMN, PolishReport, columns_of, polish, rows_of
from .progress import Progress
from .scaling import characteristic_scales
from .singular_edges import clamped_edges
from .taylor import apply_head, feature_jet
from .training import History, Schedule, Trainer

log = logging.getLogger(__name__)

ESTIMATE_SEED_OFFSET = 104729  # the error estimate's points are drawn apart from the training points
ENERGY_SEED = 7919  # the energy polish's Sobol scrambles
IDENTIFY_SEED = 15485863  # the final identification's points
INCLUSION_SEED = 32452843  # inverse.field=inclusion: the two-phase networks and their points
INCLUSION_WIDTH, INCLUSION_DEPTH = 150, 3  # the two-phase networks (inverse/inclusion.py)
INCLUSION_MATRIX_POINTS, INCLUSION_POINTS, INCLUSION_SHELL_POINTS = 1200, 600, 400
INCLUSION_START_RESOLUTION = 101  # the mesh on which the trained E(x) gives the start
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


def _exact_float(value: float | torch.Tensor) -> float:
    """``value`` as a Python float without rounding: ``torch.as_tensor`` of a Python float is a
    float32 tensor, and a head solved at float32-rounded Lame constants (8e-9 off) is not the
    optimum of the loss, so the envelope-theorem gradient is wrong by as much, and L-BFGS
    stalls once the loss is that small (the Lame problems ended at 3e-8 instead of 4e-10)."""
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


class PhysicsLoss:
    """The weighted sum of the named loss terms for a field on a collocation batch.

    With ``solve_head`` (variable projection) every evaluation first sets the output layer to
    its least-squares optimum for the current hidden features, so the optimisers move the
    hidden layers only and the loss is the best one those features allow. With ``compile``
    the feature sweep and the residuals run under ``torch.compile`` (the least-squares solve
    stays eager); the forward engine only. On a rank's shard of a batch (``group`` of several
    ranks) the terms are this rank's parts of the batch's (:mod:`pinn_elastic.distributed`)
    and the head is solved over all ranks' rows.
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
        unknowns: MaterialUnknowns | None = None,
        modulus: ModulusField | None = None,
        group: distributed.Group = distributed.SINGLE,
    ) -> None:
        self.field, self.lam, self.mu, self.weights, self.group = field, lam, mu, weights, group
        self.solve_head, self.ridge, self.unknowns, self.modulus = solve_head, ridge, unknowns, modulus
        self._features = maybe_compile(self._feature_parts, "the feature sweep", compile)
        self._head_terms = maybe_compile(self._terms_from_features, "the residuals", compile)
        self._plain_terms = maybe_compile(self._terms, "the loss", compile)

    def __call__(self, colloc: Collocation) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.unknowns is not None:  # an inverse run: the constants are trained with the network
            self.lam, self.mu = self.unknowns.lame_hat()
        if self.modulus is not None:  # inverse.field=E: the modulus field's factors at the points
            m, grad_g = self.modulus.factors(colloc.interior)
            m_boundary, _ = self.modulus.factors(colloc.boundary)
            colloc = replace(colloc, modulus=(m, grad_g, m_boundary))
        if self.solve_head:
            parts = self._features(colloc)
            f_int, f_bnd = Jet(*parts[:3]), Jet(*parts[3:])
            with torch.no_grad():
                lam, mu = (_exact_float(v) for v in (self.lam, self.mu))
                fixed = (
                    colloc
                    if colloc.modulus is None
                    else replace(colloc, modulus=tuple(t.detach() for t in colloc.modulus))
                )
                A, b = assemble(f_int.detach(), f_bnd.detach(), fixed, lam, mu, self.weights)
                theta = solve(A, b, self.ridge, group=self.group)
                set_output_layer(self.field.network, theta)
            terms = self._head_terms(*parts, colloc)
            if self.ridge:
                # part of the reduced loss; constant in the hidden layers at the optimum (envelope
                # theorem); each rank holds its share of it
                ridge_term = self.ridge**2 * (theta**2).sum() / self.group.world
                terms["head_ridge"] = ridge_term.to(parts[0].dtype)
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
        return loss_terms(residuals(interior, boundary, colloc, self.lam, self.mu), colloc.rows_total)

    def _terms(self, colloc: Collocation) -> dict[str, torch.Tensor]:
        interior, boundary = self.field.jets(colloc)
        return loss_terms(residuals(interior, boundary, colloc, self.lam, self.mu), colloc.rows_total)


class Solver:
    """Everything a run builds before training, for the CLI, the tests and the benchmarks."""

    def __init__(
        self,
        config: Config,
        base_dir: Path | Sequence[Path] | None = None,
        for_evaluation: bool = False,
        truth: dict[str, float] | None = None,
    ) -> None:
        """``for_evaluation``: rebuild a trained run's solver (:mod:`pinn_elastic.trained`):
        an inverse run's data file is not read, its ``truth`` is given."""
        self.config, self.for_evaluation, self.trainer = config, for_evaluation, None
        self.early_polish: PolishReport | None = None  # the tolerance check's polish that ended training
        self.group = distributed.current()
        self._given_truth = truth or {}
        self.problem, self.params = load_case(config.case, base_dir)
        self.device = resolve_device(config.device)
        distributed.check_gpus(self.group, self.device)
        mixed = config.dtype == "mixed"
        self.dtype = torch.float64 if mixed else getattr(torch, config.dtype)
        self.adam_dtype = torch.float32 if mixed else self.dtype  # mixed: Adam in float32
        self.generator = torch.Generator().manual_seed(config.seed)
        self.scales = characteristic_scales(self.problem, self.generator)
        problem, scales, train_cfg = self.problem, self.scales, config.train
        probe = problem.geometry.sample_interior(4096, torch.Generator().manual_seed(0), torch.float64)
        self.constraints = HardConstraints(problem, scales, probe) if train_cfg.hard_bc else None
        self.unknowns, self.data, self.truth = self._inverse_setup(base_dir)
        problem = self.problem
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
        self.field = DisplacementField(network, self.constraints, train_cfg.derivatives)
        if self.unknowns is not None:
            self.field.material = self.unknowns  # trained, checkpointed and moved with the network
        self.modulus = None
        self.inclusion: TwoPhaseField | None = None  # inverse.field=inclusion, once refined
        if config.inverse.field is not None:
            self.modulus = self.field.modulus = ModulusField(problem.dim, lo, hi)
        self.field.to(self.device, self.dtype)
        lam, mu = problem.material.lame(problem.dim)
        self.lam_hat, self.mu_hat = lam / scales.modulus, mu / scales.modulus
        self.loss = PhysicsLoss(
            self.field,
            self.lam_hat,
            self.mu_hat,
            dict(train_cfg.loss_weights),
            train_cfg.output_layer == "solve",
            compile=train_cfg.compile and train_cfg.derivatives == "forward" and self.unknowns is None,
            ridge=train_cfg.head_ridge,
            unknowns=self.unknowns,
            modulus=self.modulus,
            group=self.group,
        )
        if train_cfg.compile and train_cfg.derivatives != "forward":
            log.warning("train.compile=true applies to train.derivatives=forward; nested autograd runs eager")
        if not for_evaluation:
            self._check_weight_names()
        self.monitor = (
            DisplacementErrorMonitor(self.field, problem, scales)
            if problem.exact_displacement is not None
            else None
        )

    def _inverse_setup(self, base_dir) -> tuple[MaterialUnknowns | None, tuple | None, dict[str, float]]:
        """An inverse run's unknowns (from ``inverse.start``, else the case's values) and data
        rows. The case's exact field is replaced by the one at the true material (where the
        data file or ``inverse.truth`` gives it) or dropped: the case's own ``E`` and ``nu``
        are not known to be the truth."""
        inv = self.config.inverse
        if not inv.active:
            return None, None, {}
        bases = [Path(b) for b in base_dir] if isinstance(base_dir, (list, tuple)) else []
        if isinstance(base_dir, (str, Path)):
            bases = [Path(base_dir)]
        measurements = None
        if self.for_evaluation:
            truth = dict(self._given_truth)
        else:
            measurements = read_measurements(data_path(inv.data, bases), self.problem.geometry, inv.array)
            truth = {k: v for k, v in measurements.truth.items() if k in inv.unknowns}
            truth.update(inv.truth.given())
        material = self.problem.material
        # a modulus field's truth is a field: the case's exact field (homogeneous) is not it
        truth_material = None if inv.field else true_material(material, inv.unknowns, truth)
        if measurements is not None:
            self._check_supports(material, truth_material, base_dir)
        exact_field = None
        if truth_material is not None and self.problem.exact_displacement is not None:
            try:
                at_truth = load_case(case_at(self.config.case, truth_material), base_dir)[0]
                exact_field = at_truth.exact_displacement
            except ConfigError:  # a case without plain E and nu parameters: nothing to compare
                exact_field = None
        self.problem = replace(self.problem, exact_displacement=exact_field, exact_material=truth_material)
        start = material_with(material, inv.start.given(), "inverse.start")
        unknowns = MaterialUnknowns(start, tuple(inv.unknowns), self.problem.dim, self.scales.modulus)
        if measurements is None:
            return unknowns, None, truth
        rows, relative = data_rows(measurements, self.scales, self.constraints, torch.float64)
        log.info(
            "inverse: %d measured points from %s; unknowns %s from %s",
            len(measurements),
            measurements.source,
            ", ".join(inv.unknowns),
            ", ".join(f"{k}={v:.6g}" for k, v in unknowns.values().items()),
        )
        return unknowns, (rows, relative), truth

    def _check_supports(self, material, truth_material, base_dir) -> None:
        """A prescribed displacement computed from the case's own material (the cantilever's
        exact support) is right only if that material is the data's: refuse a known mismatch."""
        probe = Material(material.E * 1.37, 0.5 * material.nu + 0.1, material.plane)
        try:
            other = load_case(case_at(self.config.case, probe), base_dir)[0]
        except ConfigError:
            return
        names = material_dependent_supports(self.problem, other)
        if not names:
            return
        where = ", ".join(repr(n) for n in names)
        if truth_material is not None and (truth_material.E, truth_material.nu) != (material.E, material.nu):
            raise ConfigError(
                "case",
                None,
                f"boundary {where} prescribes a displacement computed from the case's E and nu, which are "
                f"not the data's (E={truth_material.E:.6g}, nu={truth_material.nu:.6g}); set the case's "
                "E and nu to the data's and the unknowns' start with inverse.start",
            )
        log.warning(
            "inverse: boundary %s prescribes a displacement computed from the case's E and nu; "
            "they are taken as the measured support's material",
            where,
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
        return ["navier", *(t.name for t in colloc.terms), *(["data"] if self.data is not None else [])]

    def sample(
        self,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        with_data: bool = False,
        shard: bool = False,
    ) -> Collocation:
        """A training-size batch on the run's device, from the run's generator unless given;
        ``with_data`` appends an inverse run's measurements as the ``data`` term; ``shard``
        keeps this rank's part of the batch (and of the measurements) when several train."""
        group = self.group if shard else None
        t = self.config.train
        dtype = self.dtype if dtype is None else dtype
        colloc = sample_collocation(
            self.problem,
            self.scales,
            t.n_interior,
            t.n_boundary,
            self.generator if generator is None else generator,
            dtype,
            self.constraints,
            group,
        )
        if with_data and self.data is not None:
            rows, relative = self.data
            keep = slice(None) if group is None else distributed.shard_rows(len(rows.points), group)
            scale = None if relative is None else relative[keep].to(dtype)
            constraint = None
            if rows.constraint is not None:
                constraint = tuple(
                    Jet(*(None if p is None else p[keep].to(dtype) for p in (j.value, j.grad, j.hess)))
                    for j in rows.constraint
                )
            colloc = with_term(
                colloc,
                "data",
                rows.points[keep].to(dtype),
                rows.targets[keep].to(dtype),
                scale,
                constraint,
                len(rows.points),
            )
        return colloc.to(self.device)

    def identify(self) -> Identification:
        """The final output-least-squares identification (:mod:`pinn_elastic.inverse.identify`)
        on two sets of fresh points; the solver then continues with the identified material."""
        rows, _ = self.data
        network, unknowns = self.field.network.to("cpu"), self.unknowns.to("cpu")
        models = []
        for i in range(2):
            generator = torch.Generator().manual_seed(self.config.seed + IDENTIFY_SEED + i)
            colloc = self.sample(generator, torch.float64).to("cpu")
            models.append(ProfileModel(network, colloc, rows, unknowns, self.loss.weights, self.loss.ridge))
        result = identify(tuple(models), network)
        self.field.to(self.device)
        self.set_material(self.unknowns.material())
        return result

    def two_phase_field(self) -> TwoPhaseField:
        """A fresh two-phase field for this body (its weights drawn from the run's seed)."""
        scales, dim = self.scales, self.problem.dim
        lo, hi = (
            scales.to_unit(torch.tensor(b, dtype=torch.float64)[None])[0]
            for b in self.problem.geometry.bounds
        )
        with torch.random.fork_rng():
            torch.manual_seed(self.config.seed + INCLUSION_SEED)
            shape = self.config.inverse.inclusion_shape
            field = TwoPhaseField(dim, INCLUSION_WIDTH, INCLUSION_DEPTH, lo, hi, self.constraints, shape)
        return field.to(torch.float64)

    def refine_inclusion(self) -> InclusionFit | None:
        """``inverse.field=inclusion``: one sharp inclusion refined from the trained ``E(x)``
        (:mod:`pinn_elastic.inverse.inclusion`); sets ``self.inclusion``. ``None`` (and the
        smooth field stays) where ``E(x)`` shows no region that stands out."""
        problem, scales, inv = self.problem, self.scales, self.config.inverse
        mesh = problem.geometry.mesh(INCLUSION_START_RESOLUTION)
        E0 = problem.material.E
        found = start_from_field(mesh.points, self.modulus_at(mesh.points), nodal_weights(mesh))
        if found is None:
            log.warning(
                "inverse.field=inclusion: the trained E(x) shows no region that stands out from the "
                "matrix; the smooth E(x) is kept"
            )
            return None
        centre = scales.to_unit(torch.from_numpy(found["centre"])[None])[0]
        # a round start of the region's area: the smooth field's elongation is its blur's (a
        # circle's came out 0.188 by 0.169 across the load, and the rounds kept most of it)
        radius = torch.exp(torch.log(torch.from_numpy(found["axes"]) / scales.length).mean())
        axes = radius.expand(problem.dim).clone()
        moduli = found["E_matrix"], found["E_inclusion"]
        start = unknowns_from(centre, axes, torch.eye(problem.dim), *moduli, E0, inv.inclusion_shape)
        field = self.two_phase_field()
        lam, mu = problem.material.lame(problem.dim)
        generator = torch.Generator().manual_seed(self.config.seed + INCLUSION_SEED)
        fit = InclusionProblem(
            field, problem, scales, self.data[0], lam / scales.modulus, mu / scales.modulus,
            INCLUSION_MATRIX_POINTS, INCLUSION_POINTS, generator, INCLUSION_SHELL_POINTS,
        )  # fmt: skip
        result = refine(field, fit, start, list(inv.inclusion_rounds), inv.inclusion_iterations, E0)
        self.inclusion = field
        return result

    def predict(self, points: np.ndarray) -> Fields:
        """The identified fields at physical ``points`` (the two-phase field once refined)."""
        if self.inclusion is not None:
            return self.inclusion.fields(points, self.scales, self.problem.material)
        return predict(self.field, self.scales, self.problem.material, points)

    def modulus_at(self, points: np.ndarray) -> np.ndarray:
        """An inverse run's ``E(x)`` at physical points, in the case's units."""
        E0 = self.problem.material.E
        if self.inclusion is not None:
            x = self.scales.to_unit(torch.from_numpy(points).double())
            return self.inclusion.relative_modulus(x).numpy() * E0
        parameter = next(self.modulus.parameters())
        x = self.scales.to_unit(torch.from_numpy(points).to(parameter))
        return self.modulus.relative(x).double().cpu().numpy() * E0

    def set_material(self, material) -> None:
        """Continue (polish, evaluate) with ``material``: an inverse run's identified one."""
        self.problem = replace(self.problem, material=material)
        lam, mu = material.lame(self.problem.dim)
        self.lam_hat, self.mu_hat = lam / self.scales.modulus, mu / self.scales.modulus
        self.loss.unknowns = None
        self.loss.lam, self.loss.mu = self.lam_hat, self.mu_hat

    def error_estimate(self) -> float:
        """Relative L2 displacement error estimated without the exact solution
        (:mod:`pinn_elastic.estimate`), on points drawn independently of training."""
        fresh = self.sample(
            torch.Generator().manual_seed(self.config.seed + ESTIMATE_SEED_OFFSET), torch.float64
        )
        return enriched_error_estimate(self.field, fresh, self.lam_hat, self.mu_hat, self.loss.weights)

    def polish(self, residual_bound: float | None = None) -> PolishReport | None:
        """The least-squares polish (:mod:`pinn_elastic.polish`) on fresh, independent points
        (with several ranks, every rank on its shard of them); None where ``residual_bound``
        ended it after its first system (:func:`~pinn_elastic.polish.polish`)."""

        def draw(i: int) -> Collocation:
            generator = torch.Generator().manual_seed(self.config.seed + ESTIMATE_SEED_OFFSET * (i + 1))
            return self.sample(generator, torch.float64, shard=True)

        holdout, model = draw(0), self.config.model
        columns = columns_of(model.depth, model.width, self.problem.dim)
        k = max(self.config.train.polish_batches, math.ceil(ROWS_PER_COLUMN * columns / rows_of(holdout)))
        set_a, set_b = [draw(1 + i) for i in range(k)], [draw(1 + k + i) for i in range(k)]
        return polish(
            self.field,
            set_a,
            set_b,
            holdout,
            self.lam_hat,
            self.mu_hat,
            self.loss.weights,
            self.group,
            residual_bound,
        )

    def tolerance_applies(self) -> bool:
        """Whether ``train.tolerance`` checks the least-squares start: a forward run by the
        strong form, polished (the check is the polish), with the head solved at the start."""
        t = self.config.train
        forward = self.unknowns is None and self.modulus is None
        solved = t.output_layer in ("solve", "init")
        return t.tolerance > 0 and t.polish and t.objective == "strong" and forward and solved

    def tolerance_check(self) -> dict[str, Any]:
        r"""Polish the least-squares start and compare it with ``train.tolerance``: met where
        both the polish's error estimate and its relative hold-out residual
        :math:`\sqrt{\text{hold-out loss} / \text{loss of the lift alone}}` are at most the
        tolerance. Met, the polished field is kept and training ends before it begins
        (:attr:`early_polish`); not met, the polish is undone and training goes on.

        The residual guards the estimate where the enriched features miss much of the solution
        (a plate with a hole at the start: estimate 3.9e-2, residual 0.14, true error 0.24)."""
        tolerance = self.config.train.tolerance
        start = time.perf_counter()
        report = self.polish(residual_bound=tolerance)
        if report is None:  # the first system was far above the tolerance: nothing more made
            seconds = time.perf_counter() - start
            log.info(
                "tolerance check at the start: the least relative residual of the polish's first "
                "system is over %g times train.tolerance=%.0e: training goes on (%.1f s)",
                GIVE_UP,
                tolerance,
                seconds,
            )
            return {"met": False, "estimate": None, "residual": None, "seconds": seconds}
        residual = math.sqrt(report.relative_holdout_loss)
        met = report.applied and max(report.estimate, residual) <= tolerance
        log.info(
            "tolerance check at the start: polished error estimate %.2e, relative residual %.2e: "
            "%s train.tolerance=%.0e (polish %.1f s)%s",
            report.estimate,
            residual,
            "within" if met else "above",
            tolerance,
            report.seconds,
            ", training skipped" if met else "",
        )
        if met:
            self.early_polish = report
        else:
            self.field.network.readout = None
        return {"met": met, "estimate": report.estimate, "residual": residual, "seconds": report.seconds}

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

    def leave_group(self) -> None:
        """Go on as a single process (rank 0 after training: polish, evaluation, outputs), with
        the CPU threads of this node's ranks, which are done."""
        if self.group.active and self.device.type == "cpu":
            torch.set_num_threads(distributed.node_threads())
        self.group = self.loss.group = distributed.SINGLE
        if self.trainer is not None:
            self.trainer.group = distributed.SINGLE

    def fit_head(self, colloc: Collocation) -> float:
        return fit_output_layer(
            self.field.network,
            colloc,
            self.lam_hat,
            self.mu_hat,
            self.loss.weights,
            self.loss.ridge,
            self.loss.group,
        )

    def energy_batch(self, gauss: bool = False, exact: bool = False) -> ritz.RitzBatch:
        """A quadrature of the potential energy (:mod:`pinn_elastic.ritz`): fresh random points
        from the run's generator, or (``gauss``) the fixed rule of the L-BFGS phase (``exact``:
        the high-order one whatever its size)."""
        t = self.config.train
        points = t.n_interior if not gauss else t.energy_points
        batch = ritz.energy_batch(
            self.problem, self.scales, self.constraints, points, None if gauss else self.generator, exact
        )
        return batch.to(self.dtype).device_to(self.device)

    def _check_energy_objective(self) -> None:
        """The energy objective needs a Ritz basis: every displacement condition exact."""
        t = self.config.train
        if self.unknowns is not None or self.modulus is not None:
            raise ConfigError(
                "train.objective", t.objective, "inverse runs train by the strong form: use strong"
            )
        if self.group.active:
            raise ConfigError(
                "train.objective", t.objective, "runs in one process (not under torchrun): use strong"
            )
        if not energy.applicable(self.problem, self.constraints):
            raise ConfigError(
                "train.objective",
                t.objective,
                "needs every displacement condition imposed exactly (train.hard_bc=true and a "
                "condition the lifts can impose); use strong",
            )

    def readout_fit(self) -> ritz.ReadoutReport:
        """The energy objective's last step: the enriched output layer by Ritz on the Gauss
        rule, judged on an independent random quadrature (:func:`ritz.fit_enriched_readout`)."""
        t = self.config.train
        holdout = ritz.energy_batch(
            self.problem,
            self.scales,
            self.constraints,
            t.energy_points,
            torch.Generator().manual_seed(self.config.seed + ESTIMATE_SEED_OFFSET),
        )
        fit = self.energy_batch(gauss=True, exact=True).to(torch.float64)
        return ritz.fit_enriched_readout(
            self.field, fit, holdout.device_to(self.device), self.lam_hat, self.mu_hat
        )

    def schedule(self) -> Schedule:
        t = self.config.train
        by_energy = t.objective == "energy"
        return Schedule(
            adam_steps=t.adam_steps,
            lbfgs_steps=t.lbfgs_steps,
            lr=t.lr,
            lr_final=t.lr_final,
            log_every=t.log_every,
            lbfgs_history=t.lbfgs_history,
            checkpoint_every=t.checkpoint_every,
            adam_patience=0 if by_energy else t.adam_patience,  # the rules read a positive loss
            adam_probe=0 if by_energy else t.adam_probe,
            resample_every=1 if by_energy else t.resample_every,
            lbfgs_min_gain=1e-9 if by_energy else 1e-3,
            adam_keeps_best=not by_energy,
        )

    def train(
        self,
        resume: dict[str, Any] | None = None,
        checkpoint: Callable[[Trainer], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        at_step: Callable[[Trainer], None] | None = None,
    ) -> History:
        """Least-squares start (if any), Adam, then L-BFGS (``mixed``: Adam in float32), or the
        rest of them from a trainer state ``resume``. ``checkpoint(trainer)`` is called at the
        checkpoint steps and on interruption; see :class:`~pinn_elastic.training.Trainer`."""
        t = self.config.train
        # the exact error at logged steps: rank 0's history is the one reported
        history = History(monitor=self.monitor if self.group.is_root else None, started=time.perf_counter())
        if self.unknowns is not None:
            history.tracer = self.unknowns.values
        by_energy = t.objective == "energy"
        if by_energy:
            self._check_energy_objective()
        head = set(self.field.network.head.parameters()) if t.output_layer == "solve" or by_energy else set()
        params = [p for p in self.field.parameters() if p not in head]
        self.trainer = Trainer(
            self.field,
            params,
            ritz.EnergyLoss(self.field, self.lam_hat, self.mu_hat) if by_energy else self.loss,
            self.energy_batch if by_energy else (lambda: self.sample(with_data=True, shard=True)),
            self.schedule(),
            history,
            generator=self.generator,
            dtype=self.dtype,
            adam_dtype=self.adam_dtype,
            checkpoint=checkpoint,
            should_stop=should_stop,
            at_step=at_step,
            progress=Progress() if self.group.is_root else Progress(enabled=False),
            group=self.group,
            lbfgs_batch=(lambda: self.energy_batch(gauss=True)) if by_energy else None,
            good_enough=self.tolerance_check if self.tolerance_applies() else None,
        )
        if resume is not None:
            self.trainer.load_state_dict(resume)
            log.info("resumed at %s step %d", self.trainer.phase, self.trainer.step)
        else:
            first = self.trainer.new_batch()
            if t.output_layer in ("solve", "init") and not by_energy:
                value = self.fit_head(first)
                log.info("output layer set by least squares: loss %.3e", value)
        return self.trainer.run()

    def evaluate(self, mesh: EvaluationMesh) -> tuple[Fields, Fields | None, dict[str, Any]]:
        """PINN (and exact) fields at the mesh nodes, and the error and probe metrics."""
        problem, points = self.problem, mesh.points
        pinn = self.predict(points)
        reference = exact(problem, points) if problem.exact_displacement is not None else None
        metrics: dict[str, Any] = {}
        if reference is not None:
            metrics.update(error_metrics(pinn, reference, nodal_weights(mesh), problem.dim))
        for probe in problem.probes:
            at = np.asarray([probe.point], dtype=np.float64)
            metrics[probe.name] = (
                float(
                    probe_value(
                        self.predict(at),
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
