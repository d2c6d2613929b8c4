"""One process against ``torchrun --nproc_per_node=K`` on the same run: accuracy and time.

Each run is a fresh ``pinn-elastic`` process (no VTU, no plots) with the case's defaults plus
``--overrides``; the same total points, so K ranks do the one process's work split K ways.
``--threads T`` gives each rank T CPU threads and the single process K x T. Prints one JSON
object (and writes it to ``--out`` if given). Example (2 CPU cores, about 10 minutes for both
cases):

    python benchmarks/distributed.py --case cantilever --case beam3d --ranks 2 --device cpu \\
        --out benchmarks/results/distributed/cpu-2cores.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

KEPT = (
    "rel_l2_displacement", "rel_l2_stress", "error_estimate", "final_loss", "train_seconds",
    "polish_seconds", "adam_ms_per_step_median", "adam_steps_run", "lbfgs_iterations", "wall_seconds",
)  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(
    case: str, ranks: int, device: str, overrides: list[str], folder: Path, threads: int | None, total: int
) -> dict:
    run_dir = folder / f"{case}-{ranks}"
    args = [f"case={case}", f"device={device}", "output.vtu=false", "output.plots=false", *overrides]
    launcher = [sys.executable, "-m", "pinn_elastic"]
    if ranks > 1:
        launcher = [
            sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={ranks}",
            "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "pinn_elastic",
        ]  # fmt: skip
    env = {**os.environ, "PINN_ELASTIC_PROGRESS": "0"}
    if threads:  # each rank its threads; one process the threads of all ranks of the comparison
        env["OMP_NUM_THREADS"] = str(threads if ranks > 1 else threads * total)
    start = time.perf_counter()
    done = subprocess.run(
        [*launcher, *args, f"hydra.run.dir={run_dir}"], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"ranks": ranks, "error": done.stderr[-2000:]}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"ranks": ranks, "process_seconds": seconds, **{k: metrics.get(k) for k in KEPT}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", required=True)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--overrides", nargs="*", default=[])
    parser.add_argument(
        "--threads", type=int, help="CPU threads per rank (the single process gets ranks x threads)"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for case in args.case:
            for ranks in (1, args.ranks):
                run = one_run(
                    case, ranks, args.device, args.overrides, Path(folder), args.threads, args.ranks
                )
                row = {"case": case, "threads": args.threads, **run}
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
    device = torch.cuda.get_device_name() if args.device == "cuda" else (platform.processor() or "cpu")
    result = {
        "device": device,
        "cpu_cores": os.cpu_count(),
        "torch": torch.__version__,
        "backend": "nccl" if args.device == "cuda" else "gloo",
        "overrides": args.overrides,
        "rows": rows,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
