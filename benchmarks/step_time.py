"""Milliseconds per Adam step of the real training loss, for several engines and settings.

Prints one JSON object. Example (the issue-2 baseline at the default size):

    python benchmarks/step_time.py --steps 30

Each variant builds the default cantilever solver with the given overrides, runs a few warm-up
steps (compilation happens there), then times ``--steps`` Adam steps (loss, backward, update)
and reports the median. ``--variants`` picks some by name.
Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
from hydra import compose, initialize_config_dir
from variants import pick  # benchmarks/variants.py, beside this script

from pinn_elastic.cli import CONF_DIR
from pinn_elastic.config import to_config
from pinn_elastic.runner import Solver

VARIANTS = pick(
    "default (forward, solve, float64)",
    "forward+compile, solve, float64",
    "forward, solve, float32",
    "forward, plain PINN, float32",
    "forward+compile, plain PINN, float32",
    "autograd, plain PINN, float32",
    "autograd, plain PINN, float64",
)


def time_steps(overrides: list[str], steps: int, warmup: int = 3) -> dict[str, float]:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        config = to_config(compose(config_name="config", overrides=overrides))
    solver = Solver(config)
    colloc = solver.sample()
    head = set(solver.field.network.head.parameters()) if config.train.output_layer == "solve" else set()
    params = [p for p in solver.field.parameters() if p not in head]
    adam = torch.optim.Adam(params, lr=1e-4)
    times = []
    for i in range(warmup + steps):
        if solver.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        adam.zero_grad(set_to_none=True)
        loss, _ = solver.loss(colloc)
        loss.backward()
        adam.step()
        if solver.device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(1e3 * (time.perf_counter() - start))
    return {"ms_per_step_median": statistics.median(times), "ms_per_step_min": min(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every variant")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {name: time_steps(VARIANTS[name] + args.overrides, args.steps) for name in args.variants}
    print(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "threads": args.threads,
                "torch": torch.__version__,
                "overrides": args.overrides,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
