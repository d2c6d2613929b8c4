"""What the polish would give at each stage of a default run: the least-squares start, the end
of Adam, the end of L-BFGS.

The evidence behind ``train.tolerance``: at each stage a copy of the field is polished
(:meth:`~pinn_elastic.runner.Solver.polish`) and its error estimate, relative residual, true
relative L2 displacement error and the training seconds so far (checks excluded) are recorded;
training then goes on from the unpolished field, as in a run with ``train.tolerance=0``. Appends
one JSON line per problem. Examples:

    python benchmarks/stage_estimates.py /tmp/stages.jsonl cantilever kirsch_uniaxial --seed 0
    python benchmarks/stage_estimates.py /tmp/stages.jsonl beam3d -- train.adam_steps=100
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from hydra import compose, initialize_config_dir

from pinn_elastic.cli import CONF_DIR
from pinn_elastic.config import to_config
from pinn_elastic.runner import Solver
from pinn_elastic.training import Trainer
from pinn_elastic.verification import SuiteProblem, problems


def stages_of(problem: SuiteProblem, seed: int, resolution: int, extra: list[str]) -> dict[str, Any]:
    """One default run of ``problem`` with the three polished checks."""
    overrides = [*problem.overrides, f"seed={seed}", "device=cpu", "train.tolerance=0", *extra]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        config = to_config(compose(config_name="config", overrides=overrides))
    solver = Solver(config)
    mesh = solver.problem.geometry.mesh(resolution)
    stages: list[dict[str, Any]] = []
    start, checks = time.perf_counter(), [0.0]

    def check(stage: str) -> None:
        tick = time.perf_counter()
        report = solver.polish()
        _, _, polished = solver.evaluate(mesh)
        solver.field.network.readout = None
        _, _, unpolished = solver.evaluate(mesh)
        row = {
            "stage": stage,
            "seconds": tick - start - checks[0],
            "polish_seconds": report.seconds,
            "applied": report.applied,
            "estimate": report.estimate,
            "residual": math.sqrt(report.relative_holdout_loss),
            "true": polished.get("rel_l2_displacement"),
            "true_unpolished": unpolished.get("rel_l2_displacement"),
            "stress": polished.get("rel_l2_stress"),
        }
        stages.append(row)
        checks[0] += time.perf_counter() - tick
        print(
            f"  {problem.name} {stage}: estimate {row['estimate']:.2e} residual {row['residual']:.2e} "
            f"true {row['true']:.2e} (unpolished {row['true_unpolished']:.2e}) at "
            f"{row['seconds']:.1f} s, polish {row['polish_seconds']:.1f} s",
            flush=True,
        )

    original_adam, original_enter = Trainer._adam, Trainer._enter_lbfgs

    def adam(self: Trainer) -> None:
        if not self.started_phase:
            check("start")
        original_adam(self)

    def enter_lbfgs(self: Trainer) -> None:
        original_enter(self)
        check("adam")

    Trainer._adam, Trainer._enter_lbfgs = adam, enter_lbfgs
    try:
        history = solver.train()
    finally:
        Trainer._adam, Trainer._enter_lbfgs = original_adam, original_enter
    check("lbfgs")
    return {
        "problem": problem.name,
        "seed": seed,
        "stages": stages,
        "adam_steps_run": history.adam_steps_run,
        "adam_stop": history.adam_stop,
        "lbfgs_iterations": history.lbfgs_iterations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("problems", nargs="*")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resolution", type=int, default=81)
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []  # Hydra overrides for every run
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    for problem in problems(args.problems or None):
        row = stages_of(problem, args.seed, args.resolution, extra)
        with open(args.out, "a") as file:
            file.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
