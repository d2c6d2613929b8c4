"""The verification suite: problems with exact solutions, each an ordinary case plus overrides.

Every entry is what a user would type after ``pinn-elastic``; :func:`run_suite` runs each one
in its own process (so the wall time is the one a user waits), for several seeds, with the
defaults, and collects the ``metrics.json`` of every run. ``benchmarks/verification.py`` is the
command-line front end; the tests run the same code on a tiny budget.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SuiteProblem:
    name: str
    kind: str  # what makes it unlike the others
    overrides: tuple[str, ...]


SUITE: tuple[SuiteProblem, ...] = (
    SuiteProblem("cantilever", "polynomial (cubic), Timoshenko", ("case=cantilever",)),
    SuiteProblem(
        "slender_cantilever",
        "polynomial, L/D = 20",
        ("case=cantilever", "case.length=20", "case.height=1"),
    ),
    SuiteProblem("simply_supported", "polynomial (quintic), uniform load", ("case=simply_supported",)),
    SuiteProblem("lame_internal", "rational (1/r), internal pressure", ("case=lame_cylinder",)),
    SuiteProblem(
        "lame_external",
        "rational (1/r), external pressure, plane stress",
        (
            "case=lame_cylinder",
            "case.inner_pressure=0",
            "case.outer_pressure=1",
            "case.plane=stress",
        ),
    ),
    SuiteProblem(
        "lame_incompressible",
        "near-incompressible plane strain, nu = 0.49",
        ("case=lame_cylinder", "case.nu=0.49"),
    ),
    SuiteProblem("curved_bar", "logarithmic (r ln r), pure bending", ("case=curved_bar",)),
    SuiteProblem("kirsch_uniaxial", "rational (1/r^4), stress concentration 3", ("case=plate_hole",)),
    SuiteProblem(
        "kirsch_biaxial", "Kirsch superposed, equibiaxial", ("case=plate_hole", "case.traction_y=1")
    ),
    SuiteProblem(
        "kirsch_shear", "Kirsch superposed, pure shear (scf 4)", ("case=plate_hole", "case.traction_y=-1")
    ),
    SuiteProblem(
        "rubber_plate_si",
        "compliant material in SI (E = 2 MPa, nu = 0.45, plane strain, m)",
        (
            "case=plate_hole",
            "case.side=0.05",
            "case.radius=0.01",
            "case.traction=1e5",
            "case.E=2e6",
            "case.nu=0.45",
            "case.plane=strain",
        ),
    ),
    SuiteProblem("steel_column_si", "body force (own weight), steel in SI", ("case=gravity_column",)),
    SuiteProblem("manufactured", "trigonometric x polynomial, mixed conditions", ("case=manufactured",)),
    SuiteProblem(
        "notch_exponential",
        "exponential field, non-convex body with a hole",
        ("case=manufactured_notch", "case.field=exponential"),
    ),
    SuiteProblem(
        "notch_trigonometric",
        "trigonometric, two wavelengths, non-convex body with a hole",
        ("case=manufactured_notch", "case.field=trigonometric", "case.waves=2"),
    ),
    SuiteProblem("beam3d", "3D, pure bending of a prismatic beam (Saint-Venant)", ("case=beam3d",)),
    SuiteProblem(
        "beam3d_steel_si",
        "3D, the bent beam in steel, SI (m, Pa)",
        (
            "case=beam3d",
            "case.E=2.1e11",
            "case.nu=0.29",
            "case.length=2",
            "case.width=0.1",
            "case.height=0.2",
            "case.moment=5e3",
        ),
    ),
    SuiteProblem("hollow_sphere", "3D, Lame's thick sphere under internal pressure", ("case=hollow_sphere",)),
    SuiteProblem(
        "hollow_sphere_steel_si",
        "3D, the thick sphere in steel, SI (m, Pa)",
        (
            "case=hollow_sphere",
            "case.E=2.1e11",
            "case.nu=0.29",
            "case.inner=0.05",
            "case.outer=0.08",
            "case.pressure=3e7",
        ),
    ),
)

RUN_TIMEOUT = 1800  # seconds: a run that takes longer is recorded as failed

TINY_BUDGET = (
    "train.adam_steps=2",
    "train.lbfgs_steps=2",
    "train.n_interior=64",
    "train.n_boundary=64",
    "train.log_every=1",
    "model.width=8",
    "model.depth=2",
    "output.resolution=21",
)

KEYS = (
    "rel_l2_displacement",
    "rel_l2_stress",
    "error_estimate",
    "wall_seconds",
    "train_seconds",
    "adam_steps_run",
    "lbfgs_iterations",
    "lbfgs_evaluations",
    "adam_stop",
    "lbfgs_stop",
    "tolerance_met",
    "polish_applied",
    "polish_seconds",
)


def problems(names: list[str] | None = None) -> list[SuiteProblem]:
    """The suite, or the named part of it (unknown names are an error)."""
    if not names:
        return list(SUITE)
    known = {p.name: p for p in SUITE}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown suite problem(s) {unknown}; known: {', '.join(known)}")
    return [known[n] for n in names]


def run_one(
    problem: SuiteProblem, seed: int, folder: Path, extra: tuple[str, ...] = (), threads: int | None = None
) -> dict[str, Any]:
    """One run in a fresh process (``threads`` CPU threads if given); its metrics plus the
    process's wall time."""
    command = [
        sys.executable,
        "-m",
        "pinn_elastic",
        *problem.overrides,
        f"seed={seed}",
        "output.vtu=false",
        "output.plots=false",
        f"hydra.run.dir={folder}",
        *extra,
    ]
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    row: dict[str, Any] = {"problem": problem.name, "seed": seed, "threads": threads}
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {**row, "process_seconds": time.perf_counter() - start, "failed": f"over {RUN_TIMEOUT} s"}
    row["process_seconds"] = time.perf_counter() - start
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**row, "failed": f"exit {done.returncode}: {last}"}
    metrics = json.loads((folder / "metrics.json").read_text())
    row.update({k: metrics.get(k) for k in KEYS})
    return row


def run_suite(
    names: list[str] | None,
    seeds: list[int],
    root: Path,
    extra: tuple[str, ...] = (),
    log=print,
    jobs: int = 1,
) -> list[dict[str, Any]]:
    """Every (problem, seed) run, in ``root/<problem>_seed<seed>``.

    ``jobs > 1`` runs that many processes at once with one CPU thread each, so no run gets
    more than one core: its wall time is then an upper bound for the same run alone.
    """
    tasks = [(problem, seed) for problem in problems(names) for seed in seeds]

    def one(task: tuple[SuiteProblem, int]) -> dict[str, Any]:
        problem, seed = task
        row = run_one(problem, seed, root / f"{problem.name}_seed{seed}", extra, 1 if jobs > 1 else None)
        log(json.dumps(row))
        return row

    if jobs <= 1:
        return [one(task) for task in tasks]
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, tasks))


def _worst(values: list[float | None]) -> str:
    """The largest value; a missing one (a diverged run, NaN in metrics.json) is the worst."""
    if any(v is None for v in values):
        return "diverged"
    return f"{max(values):.1e}"


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: per problem, the worst and median errors over the seeds and more."""
    kinds = {p.name: p.kind for p in SUITE}
    lines = [
        "| problem | kind | seeds | rel L2 u (worst) | rel L2 u (median) | rel L2 stress (worst) "
        "| estimate / true (range) | wall s (max) | L-BFGS its | stopped (L-BFGS) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    by_problem: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_problem.setdefault(row["problem"], []).append(row)
    for name, group in by_problem.items():
        failed = [r for r in group if "failed" in r]
        ran = [r for r in group if "failed" not in r]
        du = [r["rel_l2_displacement"] for r in ran]
        ratios = [
            r["error_estimate"] / r["rel_l2_displacement"]
            for r in ran
            if r.get("error_estimate") is not None and r["rel_l2_displacement"]
        ]
        finite = [v for v in du if v is not None]
        lines.append(
            f"| {name} | {kinds.get(name, '')} | {len(ran)}{f' ({len(failed)} failed)' if failed else ''} "
            f"| {_worst(du) if ran else '-'} | {f'{statistics.median(finite):.1e}' if finite else '-'} "
            f"| {_worst([r['rel_l2_stress'] for r in ran]) if ran else '-'} "
            f"| {f'{min(ratios):.2g} - {max(ratios):.2g}' if ratios else '-'} "
            f"| {max(r['process_seconds'] for r in group):.0f} "
            f"| {'/'.join(str(r.get('lbfgs_iterations')) for r in ran)} "
            f"| {', '.join(sorted({str(r.get('lbfgs_stop')) for r in ran}))} |"
        )
    return "\n".join(lines)
