"""Milliseconds per training step and per collocation point, 2D against 3D, same network.

Prints one JSON object. Example (about two minutes on 2 CPU cores):

    python benchmarks/dimension_step_time.py --steps 10

Times the real Adam step of the default training loss (forward Taylor-mode jets, the
least-squares output layer solved every step, float64) on a 2D and a 3D case with the same
number of collocation points (``train.n_interior`` + ``train.n_boundary``). A 3D point carries
10 jet channels (value, 3 first and 6 second derivatives) against 6 in 2D, and the
least-squares head has 3 components instead of 2. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform

import torch
from step_time import time_steps  # benchmarks/step_time.py, beside this script

CASES = {"2D (cantilever)": ["case=cantilever"], "3D (beam3d)": ["case=beam3d"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--interior", type=int, default=2048)
    parser.add_argument("--boundary", type=int, default=512)
    args = parser.parse_args()
    sizes = [f"train.n_interior={args.interior}", f"train.n_boundary={args.boundary}"]
    points = args.interior + args.boundary
    results = {}
    for name, overrides in CASES.items():
        timing = time_steps(overrides + sizes, args.steps)
        timing["us_per_point"] = 1e3 * timing["ms_per_step_median"] / points
        results[name] = timing
    ratio = results["3D (beam3d)"]["ms_per_step_median"] / results["2D (cantilever)"]["ms_per_step_median"]
    print(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "points": points,
                "results": results,
                "ratio_3d_to_2d": ratio,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
