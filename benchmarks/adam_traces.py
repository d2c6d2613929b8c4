"""Adam's loss at every step of each verification problem (defaults, no L-BFGS, no stopping rule).

The evidence behind ``train.adam_probe``: on which step (if any) Adam first lowers the loss of
the least-squares start by 1 %, and where its lowest loss falls. Appends one JSON line per
problem to the output file and prints a summary line. Example (about 17 minutes on 2 cores):

    python benchmarks/adam_traces.py benchmarks/results/adam-traces/seed0.jsonl
    python benchmarks/adam_traces.py /tmp/t.jsonl beam3d hollow_sphere --seed 1 --steps 30
"""

from __future__ import annotations

import argparse
import json
import time

from hydra import compose, initialize_config_dir

from pinn_elastic.cli import CONF_DIR
from pinn_elastic.config import to_config
from pinn_elastic.runner import Solver
from pinn_elastic.verification import problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("problems", nargs="*")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=300, help="Adam steps (the default budget: 300)")
    args = parser.parse_args()
    out = args.out
    for problem in problems(args.problems or None):
        start = time.perf_counter()
        overrides = [
            *problem.overrides, f"seed={args.seed}", f"train.adam_steps={args.steps}", "device=cpu",
            "train.log_every=1", "train.lbfgs_steps=0",
        ]  # fmt: skip
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            config = to_config(compose(config_name="config", overrides=[*overrides, "train.adam_probe=0"]))
        solver = Solver(config)
        solver.monitor = None  # losses only
        history = solver.train()
        row = {
            "problem": problem.name,
            "seed": args.seed,
            "loss": history.loss,
            "seconds": time.perf_counter() - start,
        }
        with open(out, "a") as file:
            file.write(json.dumps(row) + "\n")
        start_loss = history.loss[0]
        first = next((i for i, v in enumerate(history.loss) if v < 0.99 * start_loss), None)
        lowest = min(history.loss)
        print(
            f"{problem.name}: start {start_loss:.3e}, first 1 % gain at step {first}, "
            f"lowest {lowest:.3e} at step {history.loss.index(lowest)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
