"""Wall time and accuracy of the same runs at two commits, on this machine, one run at a time.

    python benchmarks/compare_commits.py OLD_COMMIT [NEW_COMMIT] --cases cantilever plate_hole \
        --overrides train.lbfgs_steps=100

Each commit is checked out into a temporary git worktree and run with its own package first on
``PYTHONPATH``; runs alternate old, new, old, new ... so that drifts in the machine's speed hit
both alike. Prints JSON: per case and commit, ``wall_seconds``, ``train_seconds`` and the error
metrics of the run's ``metrics.json``, and the ratio new / old of the wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEYS = ("wall_seconds", "train_seconds", "rel_l2_displacement", "rel_l2_stress", "scf", "scf_exact")


def run(tree: Path, case: str, overrides: list[str], out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "pinn_elastic", f"case={case}", *overrides, f"hydra.run.dir={out}"]
    command += ["output.plots=false", "output.vtu=false"]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1:]}
    metrics = json.loads((out / "metrics.json").read_text())
    return {k: metrics[k] for k in KEYS if k in metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default="HEAD")
    parser.add_argument("--cases", nargs="+", default=["cantilever", "plate_hole", "manufactured"])
    parser.add_argument("--overrides", nargs="*", default=[])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for label, commit in (("old", args.old), ("new", args.new)):
            trees[label] = Path(tmp) / label
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(trees[label]), commit],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
        try:
            results: dict = {"old": args.old, "new": args.new, "overrides": args.overrides, "cases": {}}
            for case in args.cases:
                entry: dict = {"old": [], "new": []}
                for repeat in range(args.repeats):
                    for label in ("old", "new"):
                        out = Path(tmp) / f"{case}_{label}_{repeat}"
                        entry[label].append(run(trees[label], case, args.overrides, out))
                walls = {label: [r.get("wall_seconds") for r in entry[label]] for label in ("old", "new")}
                if all(w is not None for ws in walls.values() for w in ws):
                    entry["wall_ratio_new_over_old"] = min(walls["new"]) / min(walls["old"])
                results["cases"][case] = entry
                print(json.dumps({case: entry}), file=sys.stderr)
            print(json.dumps(results, indent=2))
        finally:
            for tree in trees.values():
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, capture_output=True
                )


if __name__ == "__main__":
    main()
