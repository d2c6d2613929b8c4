"""Wall time until the default cantilever's displacement error first reaches 1e-2, 1e-3, 1e-4.

Prints one JSON object. Example (about 10 minutes on 2 CPU cores):

    python benchmarks/time_to_accuracy.py
    python benchmarks/time_to_accuracy.py --variants "default (forward, solve, float64)"

Each variant is one ``pinn-elastic`` run (a fresh process, no VTU or plots) with the
default budget. The solver monitors the relative L2 displacement error at 4096 uniform points
at every logging step (every 100 steps, and at step 0 right after the least-squares start);
``seconds_to_*`` count from the start of the process (imports included) to the first
logged step at or below the threshold, ``null`` if the run never got there. ``final`` is the
error on the evaluation mesh at the end. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from variants import pick  # benchmarks/variants.py, beside this script

VARIANTS = pick(
    "default (forward, solve, float64)",
    "forward+compile, solve, float64",
    "mixed precision (Adam float32, L-BFGS float64)",
    "forward, plain PINN, float32",
    "forward+compile, plain PINN, float32",
    "autograd, plain PINN, float32",
)
THRESHOLDS = ("1e-02", "1e-03", "1e-04")


def run_variant(overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable, "-m", "pinn_elastic", *overrides,
            "output.vtu=false", "output.plots=false", f"hydra.run.dir={folder}",
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        process_seconds = time.perf_counter() - start
        if done.returncode != 0:
            return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
        metrics = json.loads((Path(folder) / "metrics.json").read_text())
    # the process spent (process - wall) on imports before run() started its clock
    before_training = process_seconds - metrics["wall_seconds"] + metrics["setup_seconds"]
    reached = {}
    for threshold in THRESHOLDS:
        seconds = metrics.get(f"seconds_to_rel_l2_displacement_{threshold}")
        reached[threshold] = None if seconds is None else before_training + seconds
    return {
        "seconds_to_rel_l2_displacement": reached,
        "final_rel_l2_displacement": metrics["rel_l2_displacement"],
        "final_rel_l2_stress": metrics["rel_l2_stress"],
        "process_seconds": process_seconds,
        "adam_ms_per_step_median": metrics["adam_ms_per_step_median"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every variant")
    args = parser.parse_args()
    results = {}
    for name in args.variants:
        results[name] = run_variant(VARIANTS[name] + args.overrides)
        print(json.dumps({name: results[name]}), file=sys.stderr)
    print(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "overrides": args.overrides,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
