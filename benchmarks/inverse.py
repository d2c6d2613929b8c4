"""Material identification from measured displacements: accuracy, uncertainty and time.

    python benchmarks/inverse.py [--only cantilever ...] [--seeds 10] [--first-seed 0] [--no-exact] > out.json

For each problem: a forward run at the true material (E = 1000, nu = 0.3, the defaults), 200
points of its exact displacement (the ``displacement_exact`` array of its ``fields.vtu``)
written by ``pinn-elastic-sample``, then identification of ``E`` and ``nu`` from a start 50 %
off in ``E`` and at ``nu = 0.2``: once on exact data and once per noise seed on data with 1 %
relative Gaussian noise (the file's ``sx, sy`` columns). Reported per run: the identified
values, their relative errors, the reported standard deviations, whether the truth lies
within two of them, and the wall time. Defaults, seed 0, one run at a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

TRUTH = {"E": 1000.0, "nu": 0.3}
START = {"E": 1500.0, "nu": 0.2}
PROBLEMS = {
    # name: (case, data array, whether the case's supports are computed from its material)
    "cantilever": ("cantilever", "displacement_exact", True),
    "plate_hole": ("plate_hole", "displacement_exact", False),
    "beam3d": ("beam3d", "displacement_exact", True),
}


def _run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")


def _inverse(case: str, data: Path, supports_from_material: bool, folder: Path, cwd: Path) -> dict:
    start = [f"inverse.start.{k}={v}" for k, v in START.items()]
    if not supports_from_material:  # the case itself starts off: its supports do not depend on E, nu
        start = [f"case.{k}={v}" for k, v in START.items()]
    command = [
        sys.executable, "-m", "pinn_elastic", f"case={case}", f"inverse.data={data}",
        "inverse.unknowns=[E,nu]", *start, f"hydra.run.dir={folder}", "output.plots=false",
    ]  # fmt: skip
    _run(command, cwd)
    metrics = json.loads((folder / "metrics.json").read_text())
    identified, std = metrics["identified"], metrics["identified_std"]
    return {
        "identified": identified,
        "rel_error": {k: abs(identified[k] / TRUTH[k] - 1) for k in TRUTH},
        "std": std,
        "truth_within_2_sigma": {k: abs(identified[k] - TRUTH[k]) <= 2 * std[k] for k in TRUTH},
        "data_chi2_per_dof": metrics.get("data_chi2_per_dof"),
        "rel_l2_displacement": metrics.get("rel_l2_displacement"),
        "wall_seconds": metrics["wall_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(PROBLEMS), default=list(PROBLEMS))
    parser.add_argument("--seeds", type=int, default=10, help="how many noise seeds")
    parser.add_argument("--first-seed", type=int, default=0, help="the first noise seed")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact-data identification")
    args = parser.parse_args()
    cwd = Path(__file__).resolve().parent.parent
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in args.only:
            case, array, supports = PROBLEMS[name]
            forward = root / f"{name}_forward"
            _run([sys.executable, "-m", "pinn_elastic", f"case={case}", f"hydra.run.dir={forward}"], cwd)
            sample = [sys.executable, "-m", "pinn_elastic.inverse.sample", str(forward), "--array", array]
            _run([*sample, "--out", str(root / f"{name}_exact.csv")], cwd)
            entry = {}
            if not args.no_exact:
                exact = root / f"{name}_exact.csv"
                entry["exact"] = _inverse(case, exact, supports, root / f"{name}_exact", cwd)
                print(name, "exact", entry["exact"], file=sys.stderr, flush=True)
            noisy = []
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                csv = root / f"{name}_noise{seed}.csv"
                _run([*sample, "--noise", "0.01", "--seed", str(seed), "--out", str(csv)], cwd)
                noisy.append(_inverse(case, csv, supports, root / f"{name}_noise{seed}", cwd))
                print(name, "noise seed", seed, noisy[-1], file=sys.stderr, flush=True)
            if noisy:
                entry["noise_1pct"] = {
                    "runs": noisy,
                    "E_within_1pct": sum(r["rel_error"]["E"] <= 0.01 for r in noisy),
                    "nu_within_3pct": sum(r["rel_error"]["nu"] <= 0.03 for r in noisy),
                    "truth_within_2_sigma": {
                        k: sum(r["truth_within_2_sigma"][k] for r in noisy) for k in TRUTH
                    },
                    "seeds": list(range(args.first_seed, args.first_seed + args.seeds)),
                    "max_wall_seconds": max(r["wall_seconds"] for r in noisy),
                }
            results[name] = entry
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
