"""One run end to end, thin: build the solver, train, polish, evaluate, write the files.

``metrics.json``, ``fields.vtu`` and the plots go to the run folder, each written atomically.
The solver itself (network, points, loss, optimisers) lives in :mod:`pinn_elastic.runner`.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import checkpoint, distributed
from .atomic import write_text
from .config import Config
from .errors import ConfigError
from .evaluation import Fields, exact, fields_from, predict, probe_value, relative_l2
from .export import as_3d, point_data, symmetric_components, write_vtu
from .geometry import EvaluationMesh, mid_plane, nodal_weights
from .monitor import time_to_reach
from .polish import PolishReport
from .problem import AXES, quantity_label
from .progress import logging_around_the_line
from .reference.fem import check_available, solve_fem
from .runner import Solver
from .signals import interruption
from .snapshots import Snapshots
from .training import History, Trainer, TrainingInterruptedError

log = logging.getLogger(__name__)


class RunInterruptedError(Exception):
    """A signal stopped training; the checkpoint and the current state's outputs are written."""

    def __init__(self, phase: str, step: int, checkpoint_file: Path, signal_name: str) -> None:
        super().__init__(f"{signal_name}: interrupted during {phase} at step {step}")
        self.phase, self.step, self.checkpoint_file, self.signal_name = (
            phase,
            step,
            checkpoint_file,
            signal_name,
        )


def run(config: Config, output_dir: Path, base_dir: Path | Sequence[Path] | None = None) -> dict[str, Any]:
    """Solve, evaluate and write ``metrics.json``, ``fields.vtu``, plots and ``checkpoint.pt``
    to ``output_dir``; with ``train.resume``, continue the run of a checkpoint.

    Under torchrun (:mod:`pinn_elastic.distributed`) every rank trains its shard of the points
    and, for a forward run, polishes on it; rank 0 reads the checkpoint to resume (and hands it
    to the others), writes checkpoints, then evaluates and writes alone (an inverse run also
    identifies and polishes alone). The other ranks return ``{}``."""
    wall = time.perf_counter()
    bases = _bases(base_dir)
    group = distributed.current()
    state = _shared_resume_state(config, output_dir, group)
    if state is not None and state["phase"] == "complete":
        if not group.is_root:
            return {}
        log.info("the checkpoint's run is complete: outputs rewritten from it, nothing trained")
        from .trained import export_run

        return export_run(state, output_dir, resolution=config.output.resolution)
    solver = Solver(config, bases)
    problem, scales = solver.problem, solver.scales
    if config.reference == "fem":
        check_available(problem)
    log.info("case: %s", problem.description or config.case["name"])
    log.info(
        "device=%s dtype=%s | scales: length %.4g, stress %.4g, displacement %.4g",
        solver.device,
        config.dtype,
        scales.length,
        scales.stress,
        scales.displacement,
    )
    checkpoint_file = output_dir / checkpoint.FILE
    identity = {"config": asdict(config), "base_dirs": [str(b) for b in bases]}

    def save(trainer: Trainer) -> None:
        checkpoint.save(checkpoint_file, {**identity, "phase": "training", "trainer": trainer.state_dict()})

    snapshots = Snapshots(solver, output_dir) if config.output.snapshots_every and group.is_root else None
    train_start = time.perf_counter()
    with interruption() as stop, logging_around_the_line():
        try:
            history = solver.train(
                resume=None if state is None else state["trainer"],
                checkpoint=save if group.is_root else None,
                should_stop=stop.requested,
                at_step=snapshots,
            )
        except TrainingInterruptedError as err:
            # every rank stops at the same step; the signal may have reached another rank only
            signal_name = group.first(stop.signal_name) or "SIGTERM"
            log.warning(
                "%s: training interrupted during %s at step %d; checkpoint %s written",
                signal_name,
                err.phase,
                err.step,
                checkpoint_file,
            )
            trainer = solver.trainer
            metrics = {"interrupted": {"signal": signal_name, "phase": err.phase, "step": err.step}}
            if group.is_root:
                solver.leave_group()
                write_outputs(solver, trainer.history, metrics, output_dir, config.output.resolution, wall)
            raise RunInterruptedError(err.phase, err.step, checkpoint_file, signal_name) from None
    train_seconds = time.perf_counter() - train_start
    shared_polish = solver.early_polish  # the tolerance check's, where it ended training
    forward = solver.unknowns is None and solver.modulus is None
    if shared_polish is None and group.active and config.train.polish and forward:
        shared_polish = solver.polish()  # several ranks polish a forward run together, each on its shard
    if not group.is_root:
        return {}
    solver.leave_group()  # what follows runs on rank 0 alone
    run_metrics = _post_training(solver, history, shared_polish)
    run_metrics.update(
        {
            "setup_seconds": train_start - wall,
            "train_seconds": train_seconds,
            "resumed_from": None
            if state is None
            else {"phase": state["trainer"]["phase"], "step": state["trainer"]["step"]},
            "training_status": "diverged" if history.diverged else "complete",
        }
    )
    if history.diverged:
        print(
            "pinn-elastic: warning: training diverged (non-finite losses in a row); "
            "the outputs are those of the best state seen",
            file=sys.stderr,
        )
    metrics = write_outputs(solver, history, run_metrics, output_dir, config.output.resolution, wall)
    checkpoint.save(checkpoint_file, {**identity, **final_state(solver, history, run_metrics)})
    return metrics


def final_state(solver: Solver, history: History, run_metrics: dict[str, Any]) -> dict[str, Any]:
    """The finished run in a checkpoint: the field as polished, its material, history, metrics."""
    readout = solver.field.network.readout
    material = solver.problem.material
    return {
        "phase": "complete",
        "field": solver.field.state_dict(),
        "readout": None if readout is None else [readout.out_features, readout.in_features],
        "material": {"E": material.E, "nu": material.nu, "plane": material.plane},
        "truth": dict(solver.truth),
        "history": history.state_dict(),
        "inclusion": None if solver.inclusion is None else solver.inclusion.state_dict(),
        "run_metrics": _jsonable(run_metrics),
    }


def _bases(base_dir: Path | Sequence[Path] | None) -> list[Path]:
    if base_dir is None:
        return []
    if isinstance(base_dir, (str, Path)):
        return [Path(base_dir).resolve()]
    return [Path(b).resolve() for b in base_dir]


def _shared_resume_state(config: Config, output_dir: Path, group: distributed.Group) -> dict[str, Any] | None:
    """:func:`_resume_state`, read by rank 0 and handed to every rank (the run folder need not be
    on a file system the other nodes see); a refused checkpoint is refused on every rank."""
    if not group.active:
        return _resume_state(config, output_dir)
    outcome: tuple[str, Any] = ("ok", None)
    if group.is_root:
        try:
            outcome = ("ok", _resume_state(config, output_dir))
        except ConfigError as err:
            outcome = ("error", (err.key, err.value, err.allowed))
    kind, value = group.broadcast(outcome)
    if kind == "error":
        raise ConfigError(*value)
    return value


def _resume_state(config: Config, output_dir: Path) -> dict[str, Any] | None:
    """The checkpoint ``train.resume`` names (``auto``: this run folder's, if any), checked
    against this run's configuration; None for a fresh start."""
    target = config.train.resume
    if target is None:
        return None
    if target == "auto":
        if not (output_dir / checkpoint.FILE).is_file():
            return None
        target = str(output_dir)
    state = checkpoint.read(target)
    checkpoint.check_matches(state, config)
    return state


def _post_training(solver: Solver, history: History, polished: PolishReport | None = None) -> dict[str, Any]:
    """Identification (inverse runs), the polishes and the error estimate, as metrics
    (``polished``: the least-squares polish, already done by all ranks)."""
    config = solver.config
    metrics: dict[str, Any] = _identify(solver, history) if solver.unknowns is not None else {}
    polish_metrics: dict[str, Any] = {"polish_applied": False}
    error_estimate, report = None, None
    graded = solver.modulus is not None  # the polishes and the estimate assume one material
    if graded:
        log.info("inverse.field=E: no polish, energy polish or error estimate (they assume one material)")
    if config.train.objective == "energy":  # the strong-form polishes would undo the Ritz fit
        if config.train.polish:
            fit = solver.readout_fit()
            polish_metrics = {f"readout_{k}": v for k, v in asdict(fit).items()}
            log.info(
                "enriched Ritz readout: %s (%d columns, ridge %.0e, hold-out energy %.9e against "
                "%.9e trained, %.1f s)",
                "applied" if fit.applied else "discarded, no gain",
                fit.columns,
                fit.ridge,
                fit.holdout_energy,
                fit.current_holdout_energy,
                fit.seconds,
            )
            error_estimate = fit.estimate
    elif config.train.polish and not graded:
        report = polished or solver.polish()
        polish_metrics = {f"polish_{k}": v for k, v in asdict(report).items()}
        log.info(
            "polish: %s (ridge %.0e, hold-out loss %.3e against %.3e trained, %d columns, %.1f s)",
            "applied" if report.applied else "discarded, no gain",
            report.ridge,
            report.holdout_loss,
            report.trained_holdout_loss,
            report.columns,
            report.seconds,
        )
        if report.applied:
            error_estimate = report.estimate
    by_energy = config.train.objective == "energy"
    if not graded and not by_energy and solver.energy_polish_wanted(report if config.train.polish else None):
        ritz = solver.energy_polish()
        polish_metrics.update({f"energy_polish_{k}": v for k, v in asdict(ritz).items()})
        log.info(
            "energy polish: %s (hold-out energy %.6e against %.6e, %.1f s)",
            "applied" if ritz.applied else "discarded, no gain",
            ritz.holdout_energy,
            ritz.current_holdout_energy,
            ritz.seconds,
        )
        if ritz.applied:
            error_estimate = ritz.estimate
    estimate_start = time.perf_counter()
    if error_estimate is None and not graded:
        error_estimate = solver.error_estimate()
    return {
        "error_estimate": error_estimate,
        "error_estimate_seconds": time.perf_counter() - estimate_start,
        **metrics,
        **polish_metrics,
    }


def write_outputs(
    solver: Solver,
    history: History,
    run_metrics: dict[str, Any],
    output_dir: Path,
    resolution: int,
    wall: float,
) -> dict[str, Any]:
    """Evaluate on the body's mesh at ``resolution``; write ``fields.vtu``, the plots and
    ``metrics.json`` (``run_metrics`` joined to the evaluation's). Returns the metrics."""
    config, problem = solver.config, solver.problem
    mesh = problem.geometry.mesh(resolution)
    pinn, reference, metrics = solver.evaluate(mesh)
    error_estimate = run_metrics.get("error_estimate")
    rounding = _round_off(solver, mesh, pinn)
    if rounding is not None:
        metrics["round_off"] = rounding  # the exported fields' own precision (float32 runs)
        error_estimate = rounding if error_estimate is None else max(error_estimate, rounding)
    fem = None
    if config.reference == "fem":
        fem, fem_metrics = _fem_reference(problem, mesh, pinn, reference)
        metrics.update(fem_metrics)
    metrics = {
        **metrics,
        **run_metrics,
        "error_estimate": error_estimate,
        "final_loss": history.final_loss,
        "adam_ms_per_step_median": history.adam_ms_per_step_median,
        **_time_to_accuracy(history),
        "adam_steps": config.train.adam_steps,
        "adam_steps_run": history.adam_steps_run,
        "adam_stop": history.adam_stop,
        "lbfgs_iterations": history.lbfgs_iterations,
        "lbfgs_evaluations": history.lbfgs_evaluations,
        "lbfgs_stop": history.lbfgs_stop,
        "tolerance": config.train.tolerance,
        "tolerance_met": history.tolerance_met,
        **_tolerance_check(history),
        "nonfinite_recovered": history.nonfinite_recovered,
        "rollbacks": len(history.rollbacks),
        "case": config.case["name"],
        "activation": config.model.activation,
        "zero_curvature_activation": solver.field.network.activation.zero_curvature,
        "seed": config.seed,
        "device": str(solver.device),
        "dtype": config.dtype,
        "evaluation_points": len(mesh.points),
        "evaluation_cells": len(mesh.cells),
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    modulus = None
    if solver.modulus is not None:
        modulus = _modulus_at(solver, mesh.points)
        weights = nodal_weights(mesh)
        metrics["identified_E_field"] = {
            "min": float(modulus.min()),
            "max": float(modulus.max()),
            "mean": float((weights * modulus).sum() / weights.sum()),
        }
    if config.output.vtu:
        data = point_data(pinn, reference)
        if modulus is not None:
            data["youngs_modulus"] = modulus
        if fem is not None:
            data["displacement_fem"] = as_3d(fem.displacement)
            data["stress_fem"] = symmetric_components(fem.stress)
            data["von_mises_fem"] = fem.von_mises
        write_vtu(output_dir / "fields.vtu", mesh, data)
    if config.output.plots:
        _plots(solver, history, mesh, pinn, reference, fem, output_dir)
    metrics["wall_seconds"] = time.perf_counter() - wall
    write_text(output_dir / "metrics.json", json.dumps(_jsonable(metrics), indent=2) + "\n")
    log.info("results:\n%s", format_metrics(metrics))
    return metrics


def _refine_inclusion(solver: Solver, constants: dict[str, float]) -> dict[str, Any]:
    """``inverse.field=inclusion``: the sharp inclusion refined from the trained ``E(x)``."""
    fit = solver.refine_inclusion()
    if fit is None:
        return {"inclusion_found": False}
    log.info(
        "inclusion: centre %s, semi-axes %s, E %.6g in a matrix of %.6g (%d rounds, %.1f s)",
        fit.identified["centre"], fit.identified["semi_axes"], fit.identified["E_inclusion"],
        fit.identified["E_matrix"], len(fit.rounds), fit.seconds,
    )  # fmt: skip
    return {
        "inclusion_found": True,
        "identified": {**constants, **fit.identified},
        "identified_std": fit.std,
        "identified_field": "a sharp inclusion (the point array youngs_modulus of fields.vtu)",
        "identified_std_method": (
            "Laplace approximation (Levenberg-Marquardt curvature of the data misfit, sigma from the "
            "residuals unless the data file gives it); the networks' own error adds a bias it does not see"
        ),
        "inclusion_start": fit.start,
        "inclusion_rounds": fit.rounds,
        "inclusion_data_misfit": fit.data_rms_misfit,
        "inclusion_seconds": fit.seconds,
    }


def _identify(solver: Solver, history: History) -> dict[str, Any]:
    """The final identification of an inverse run, as metrics (the truth's errors where known,
    and the seconds of training until each unknown first came within 1 % of it)."""
    if solver.modulus is not None:
        values = solver.unknowns.values()
        solver.set_material(solver.unknowns.material())
        metrics = {
            "identified": values,
            "identified_field": "E (the point array youngs_modulus of fields.vtu)",
            "identified_std_method": "not available with inverse.field=E",
            "data_points": len(solver.data[0].points),
        }
        if solver.config.inverse.field == "inclusion":
            metrics.update(_refine_inclusion(solver, values))
        return metrics
    start = time.perf_counter()
    result = solver.identify()
    scale = solver.scales.displacement
    metrics: dict[str, Any] = {
        "identified": result.identified,
        "identified_std": result.std,
        "identified_std_noise": result.std_noise,
        "identified_model_spread": result.model_spread,
        "identified_std_method": result.std_method,
        "identify_iterations": result.iterations,
        "identify_seconds": time.perf_counter() - start,
        "data_points": len(solver.data[0].points),
        "data_rms_misfit": result.data_rms_misfit * scale,
    }
    if solver.data[0].has_std:
        metrics["data_chi2_per_dof"] = result.chi2 / result.dof
        metrics["data_model_floor"] = result.model_floor * scale
    if solver.truth:
        metrics["identified_truth"] = dict(solver.truth)
        metrics["seconds_to_within_1pct"] = {
            k: next(
                (
                    t
                    for t, v in zip(history.traced_seconds, history.traced[k])
                    if abs(v - truth) <= 0.01 * abs(truth)
                ),
                None,
            )
            for k, truth in solver.truth.items()
        }
        metrics["identified_rel_error"] = {
            k: abs(result.identified[k] / v - 1) if v else abs(result.identified[k])
            for k, v in solver.truth.items()
        }
    found = ", ".join(f"{k} = {v:.6g} +- {result.std[k]:.2g}" for k, v in result.identified.items())
    log.info("identified (1 sigma): %s after %d Gauss-Newton iterations", found, result.iterations)
    return metrics


def _modulus_at(solver: Solver, points: np.ndarray) -> np.ndarray:
    """An inverse run's modulus field ``E(x)`` at physical points, in the case's units."""
    return solver.modulus_at(points)


def _round_off(solver: Solver, mesh: EvaluationMesh, pinn: Fields) -> float | None:
    """Relative L2 distance of the fields as evaluated (in the network's dtype) from the same
    network evaluated in float64: the floor of a float32 run's error, which estimates made in
    float64 (the polishes') do not see. ``None`` for a float64 network."""
    field = solver.field
    if next(field.parameters()).dtype == torch.float64 or solver.inclusion is not None:
        return None
    exact64 = predict(
        copy.deepcopy(field).to(torch.float64), solver.scales, solver.problem.material, mesh.points
    )
    return relative_l2(pinn.displacement, exact64.displacement, nodal_weights(mesh))


def _fem_reference(
    problem, mesh: EvaluationMesh, pinn: Fields, reference: Fields | None
) -> tuple[Fields, dict[str, Any]]:
    """The P2 finite-element solution on the evaluation mesh, and the PINN's distance to it
    (and the FEM's own error where the exact solution is known)."""
    solution = solve_fem(problem, mesh)
    fem = fields_from(
        torch.from_numpy(solution.gradient), torch.from_numpy(solution.displacement), problem.material
    )
    weights = nodal_weights(mesh)
    metrics: dict[str, Any] = {
        "rel_l2_displacement_vs_fem": relative_l2(pinn.displacement, fem.displacement, weights),
        "rel_l2_stress_vs_fem": relative_l2(pinn.stress, fem.stress, weights),
        "fem_dofs": int(solution.dofs),
        "fem_seconds": solution.seconds,
    }
    if reference is not None:
        metrics["fem_rel_l2_displacement"] = relative_l2(fem.displacement, reference.displacement, weights)
        metrics["fem_rel_l2_stress"] = relative_l2(fem.stress, reference.stress, weights)
    log.info(
        "finite-element reference: %d dofs, %.1f s, PINN vs FEM %.3e (displacement)",
        solution.dofs,
        solution.seconds,
        metrics["rel_l2_displacement_vs_fem"],
    )
    return fem, metrics


def _plots(
    solver: Solver,
    history: History,
    mesh: EvaluationMesh,
    pinn: Fields,
    reference: Fields | None,
    fem: Fields | None,
    out: Path,
) -> None:
    """Loss history, field panels (2D: on the evaluation mesh, beside the exact solution or else
    the finite-element one; 3D: on mid-plane sections) and the case's line plots."""
    from .plots import plot_fields, plot_history, plot_line

    plot_history(history, out / "loss.png")
    if solver.modulus is not None and solver.problem.dim == 2:
        unit = _unit(solver.problem.stress_unit, "stress")
        plot_fields(
            mesh.points,
            mesh.cells,
            {f"identified E(x) {unit}": _modulus_at(solver, mesh.points)},
            (
                f"x {_unit(solver.problem.length_unit, 'length')}",
                f"y {_unit(solver.problem.length_unit, 'length')}",
            ),
            out / "youngs_modulus.png",
        )
    if history.traced:
        from .plots import plot_unknowns

        truth = solver.truth
        plot_unknowns(history, solver.unknowns.values(), truth, out / "identified.png")
    problem = solver.problem
    length, stress = _unit(problem.length_unit, "length"), _unit(problem.stress_unit, "stress")
    if problem.dim == 2:
        plot_fields(
            mesh.points,
            mesh.cells,
            _panels(
                pinn, *((reference, "exact") if reference is not None else (fem, "FEM")), 2, length, stress
            ),
            (f"x {length}", f"y {length}"),
            out / "fields.png",
            displacement=pinn.displacement,
        )
    else:
        for axis in range(3):
            section = mid_plane(problem.geometry, axis, solver.config.output.resolution)
            if section is None:
                continue
            points, triangles, plane = section
            kept = [i for i in range(3) if i != axis]
            fields = solver.predict(points)
            exact_fields = exact(problem, points) if reference is not None else None
            plot_fields(
                points[:, kept],
                triangles,
                _panels(fields, exact_fields, "exact", 3, length, stress),
                tuple(f"{AXES[i]} {length}" for i in kept),
                out / f"fields_mid_{AXES[axis]}.png",
                title=f"mid-plane {AXES[axis]} = {plane:.4g} {problem.length_unit}".rstrip(),
                displacement=fields.displacement[:, kept],
            )
    for line in problem.line_plots:
        s = np.linspace(0.0, 1.0, 201)[:, None]
        a, b = np.asarray(line.start, float), np.asarray(line.end, float)
        at = a + s * (b - a)
        values = probe_value(solver.predict(at), line.quantity, line.component)
        ref = None
        if problem.exact_displacement is not None:
            ref = probe_value(exact(problem, at), line.quantity, line.component)
        unit = length if line.quantity == "displacement" else stress
        where = f"distance from {tuple(float(v) for v in a)} {length}"
        label = f"{quantity_label(line)} {unit}"
        plot_line(s[:, 0] * np.linalg.norm(b - a), values, ref, label, out / f"{line.name}.png", where)


def _unit(unit: str, kind: str) -> str:
    return f"[{unit}]" if unit else f"({kind} unit of the case)"


def _panels(
    pinn: Fields, reference: Fields | None, label: str, dim: int, length: str, stress: str
) -> dict[str, np.ndarray]:
    """PINN displacement and von Mises stress; with a reference (``label``: exact or FEM) its
    von Mises stress and the PINN's distance from it."""
    panels = {f"displacement u_{AXES[i]} {length}": pinn.displacement[:, i] for i in range(dim)}
    panels[f"von Mises stress {stress}"] = pinn.von_mises
    if reference is not None:
        panels[f"von Mises stress, {label} {stress}"] = reference.von_mises
        error = np.linalg.norm(pinn.displacement - reference.displacement, axis=1)
        panels[f"displacement error |u - u_{label}| {length}"] = error
    return panels


def _tolerance_check(history: History) -> dict[str, float | None]:
    """The start's tolerance check (:meth:`~pinn_elastic.runner.Solver.tolerance_check`), flat."""
    check = history.tolerance_check
    if check is None:
        return {}
    return {f"tolerance_check_{key}": check[key] for key in ("estimate", "residual", "seconds")}


def _time_to_accuracy(history: History) -> dict[str, float | None]:
    """Seconds into training (least-squares start included) until the monitored displacement
    error first reached 1e-2, 1e-3 and 1e-4 (None: not within the run)."""
    errors = history.monitored.get("rel_l2_displacement")
    if not errors:
        return {}
    return {
        f"seconds_to_rel_l2_displacement_{threshold:.0e}": time_to_reach(history.seconds, errors, threshold)
        for threshold in (1e-2, 1e-3, 1e-4)
    }


def _jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}


def format_metrics(metrics: dict[str, Any]) -> str:
    """A short two-column table of the metrics."""
    width = max(len(k) for k in metrics)
    lines = []
    for key, value in metrics.items():
        text = f"{value:.4e}" if isinstance(value, float) else str(value)
        lines.append(f"  {key:<{width}}  {text}")
    return "\n".join(lines)
