"""A finished run, reused: :func:`load` for Python, ``pinn-elastic-export`` for files.

``pinn_elastic.load(RUN_DIR)`` reads the run folder's ``checkpoint.pt`` and rebuilds the field
as it was exported (polished, with an inverse run's identified material) without training; the
returned :class:`TrainedModel` evaluates displacement, strain and stress at any points in the
case's own units, on any device. ``pinn-elastic-export RUN_DIR`` writes ``fields.vtu``,
``metrics.json`` and the plots again from it, on a finer mesh (``--resolution``) or into
another folder (``--out``), and with ``--points FILE.csv`` the fields at a user's points.

    pinn-elastic-export outputs/2026-11-27/10-00-00_cantilever --resolution 321 --out fine
    pinn-elastic-export outputs/2026-11-27/10-00-00_cantilever --points gauges.csv
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import checkpoint
from .atomic import write_text
from .config import config_from_dict
from .errors import ConfigError
from .evaluation import Fields
from .materials import Material
from .polish import readout_layer
from .problem import AXES
from .runner import Solver
from .training import History

KEY = "run_dir"


class TrainedModel:
    """A trained displacement field and its case: evaluate it anywhere (``points (M, d)`` in the
    case's length unit; displacements in it, stresses in its stress unit)."""

    def __init__(self, solver: Solver, state: dict[str, Any]) -> None:
        self.solver, self.state = solver, state
        self.config = solver.config
        self.metrics: dict[str, Any] = state.get("run_metrics", {})

    @property
    def dim(self) -> int:
        return self.solver.problem.dim

    @property
    def material(self) -> Material:
        """The material the stresses are computed with (an inverse run's identified one)."""
        return self.solver.problem.material

    def to(self, device: str | torch.device) -> TrainedModel:
        self.solver.field.to(torch.device(device))
        self.solver.device = torch.device(device)
        return self

    def fields(self, points: np.ndarray) -> Fields:
        """Displacement ``(M, d)``, strain and stress ``(M, 3, 3)`` (2D: with the out-of-plane
        components of the plane assumption) at ``points``."""
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != self.dim:
            raise ConfigError(
                "points", f"shape {points.shape}", f"must be (M, {self.dim}) for this {self.dim}D case"
            )
        if not np.isfinite(points).all():
            raise ConfigError("points", "non-finite value", "coordinates must be finite numbers")
        return self.solver.predict(points)

    def displacement(self, points: np.ndarray) -> np.ndarray:
        return self.fields(points).displacement

    def strain(self, points: np.ndarray) -> np.ndarray:
        return self.fields(points).strain

    def stress(self, points: np.ndarray) -> np.ndarray:
        return self.fields(points).stress

    def inside(self, points: np.ndarray) -> np.ndarray:
        """Which ``points`` lie in the body (the field is defined, not meaningful, outside)."""
        x = torch.from_numpy(np.asarray(points, dtype=np.float64))
        return self.solver.problem.geometry.contains(x).numpy()

    def history(self) -> History:
        history = History()
        history.load_state_dict(self.state["history"])
        return history


def load(run_dir: str | Path, device: str | torch.device = "cpu", key: str = KEY) -> TrainedModel:
    """The trained model of a finished run folder (or of its ``checkpoint.pt``)."""
    state = finished_state(run_dir, key)
    return TrainedModel(_solver(state, torch.device(device)), state)


def finished_state(run_dir: str | Path, key: str = KEY) -> dict[str, Any]:
    """The checkpoint of a finished run, or a one-line error (unfinished: resume it first)."""
    state = checkpoint.read(run_dir, key=key)
    if state["phase"] != "complete":
        raise ConfigError(
            key, str(run_dir), "its run has not finished training; resume it with train.resume=RUN_DIR first"
        )
    return state


def _solver(state: dict[str, Any], device: torch.device) -> Solver:
    config = config_from_dict(state["config"])
    config.device = "cpu"
    config.train.resume = None
    bases = [Path(b) for b in state.get("base_dirs", [])]
    solver = Solver(config, bases, for_evaluation=True, truth=state.get("truth") or {})
    if state["readout"] is not None:
        out_features, in_features = state["readout"]
        like = solver.field.network.head.weight
        solver.field.network.readout = readout_layer(torch.zeros(out_features * (in_features + 1)), like)
    try:
        solver.field.load_state_dict(state["field"])
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise ConfigError(
            KEY, None, f"the checkpoint's network does not fit its own config ({first})"
        ) from None
    material = state["material"]
    solver.set_material(Material(material["E"], material["nu"], material["plane"]))
    if state.get("inclusion") is not None:  # inverse.field=inclusion: the refined two-phase field
        solver.inclusion = solver.two_phase_field()
        solver.inclusion.load_state_dict(state["inclusion"])
    solver.field.to(device)
    solver.device = device
    return solver


def export_run(
    state: dict[str, Any], output_dir: Path, resolution: int | None = None, points_csv: Path | None = None
) -> dict[str, Any]:
    """``fields.vtu``, ``metrics.json`` and plots of a finished run, without training."""
    from .pipeline import write_outputs

    wall = time.perf_counter()
    model = TrainedModel(_solver(state, torch.device("cpu")), state)
    solver = model.solver
    resolution = resolution or solver.config.output.resolution
    metrics = write_outputs(solver, model.history(), dict(model.metrics), Path(output_dir), resolution, wall)
    if points_csv is not None:
        write_points(model, points_csv, Path(output_dir) / f"{points_csv.stem}_fields.csv")
    return metrics


def read_points(path: Path, dim: int) -> np.ndarray:
    """Coordinates from a CSV whose header names ``x,y[,z]`` (other columns are ignored)."""
    names = list(AXES[:dim])
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    except OSError as err:
        raise ConfigError("--points", str(path), f"cannot be read ({err.strerror})") from None
    if not lines:
        raise ConfigError("--points", str(path), "is empty; expected a header x,y[,z] and rows")
    header = [h.strip() for h in lines[0].split(",")]
    missing = [n for n in names if n not in header]
    if missing:
        raise ConfigError("--points", str(path), f"header {','.join(header)} lacks {','.join(missing)}")
    columns = [header.index(n) for n in names]
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        try:
            rows.append([float(cells[c]) for c in columns])
        except (ValueError, IndexError):
            raise ConfigError(
                "--points", f"{path}:{number}", f"expected numbers in columns {','.join(names)}"
            ) from None
    points = np.asarray(rows, dtype=np.float64).reshape(-1, dim)
    if not np.isfinite(points).all():
        raise ConfigError("--points", str(path), "holds a NaN or infinite coordinate")
    return points


def write_points(model: TrainedModel, path: Path, out: Path) -> Path:
    """The fields at a CSV's points: ``x,y[,z], ux.., strain and stress components, von_mises``."""
    dim = model.dim
    points = read_points(path, dim)
    fields = model.fields(points)
    pairs = [(i, j) for i in range(3) for j in range(i, 3)]
    names = [*AXES[:dim], *(f"u{a}" for a in AXES[:dim])]
    names += [f"strain_{AXES[i]}{AXES[j]}" for i, j in pairs] + [
        f"stress_{AXES[i]}{AXES[j]}" for i, j in pairs
    ]
    names += ["von_mises", "inside"]
    table = np.column_stack(
        [
            points,
            fields.displacement,
            *(fields.strain[:, i, j] for i, j in pairs),
            *(fields.stress[:, i, j] for i, j in pairs),
            fields.von_mises,
            model.inside(points).astype(np.float64),
        ]
    )
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in table)
    write_text(out, ",".join(names) + "\n" + body + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    """``pinn-elastic-export RUN_DIR [--resolution N] [--out DIR] [--points FILE.csv]``."""
    parser = argparse.ArgumentParser(
        prog="pinn-elastic-export",
        description="Write a finished run's fields, metrics and plots again, without training.",
    )
    parser.add_argument("run_dir", type=Path, help="a run folder (with checkpoint.pt) or the checkpoint file")
    parser.add_argument(
        "--resolution", type=int, help="evaluation points along the longest side (default: the run's)"
    )
    parser.add_argument("--out", type=Path, help="folder to write to (default: the run folder)")
    parser.add_argument("--points", type=Path, help="CSV with x,y[,z]: also write the fields there")
    args = parser.parse_args(argv)
    try:
        if args.resolution is not None and args.resolution < 3:
            raise ConfigError("--resolution", args.resolution, "must be an integer >= 3")
        state = finished_state(args.run_dir)
        folder = args.run_dir if args.run_dir.is_dir() else args.run_dir.parent
        out = args.out or folder
        metrics = export_run(state, out, args.resolution, args.points)
    except ConfigError as err:
        print(f"pinn-elastic-export: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as err:
        print(f"pinn-elastic-export: error: {err.filename}: {err.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
    error = metrics.get("rel_l2_displacement")
    print(
        f"pinn-elastic-export: wrote {out}" + ("" if error is None else f" (rel L2 displacement {error:.3e})")
    )


if __name__ == "__main__":
    main()
