"""Milliseconds per training step of each derivative engine, against the plain forward+backward floor.

Prints one JSON object. Example (the issue-5 table; about 15 minutes on 2 CPU cores):

    python benchmarks/engine_scaling.py
    python benchmarks/engine_scaling.py --sizes 4096 --dims 2 --steps 20   # the headline row only

A step is what training does with the network ``d -> 4 x 64 GELU -> d`` (``--width``,
``--depth``, ``--activation``): the jets at ``N`` interior points (value, gradient and all
second derivatives) and at ``N/4`` boundary points (value and gradient), the Navier-Cauchy
residual and the traction residual from them, their mean squares, the backward pass and an
Adam update. The engines:

* ``autograd``: nested reverse-mode autograd (``pinn_elastic.derivatives.autograd_jet``);
* ``forward``: the Taylor-mode sweep (``pinn_elastic.taylor.mlp_jet``), eager;
* ``forward+compile``: the same sweep and residuals under ``torch.compile``;
* ``floor``: a plain forward and backward of the same network at the same ``N + N/4``
  points with a mean-square loss: no derivatives at all, the least any step can cost.

Each (engine, N, d) runs in a fresh process, so ``peak_memory_mb`` (the growth of the
process's peak resident set over the step loop on the CPU; ``max_memory_allocated`` on CUDA)
belongs to that configuration alone. Timings are medians over ``--steps`` steps after warm-up
(compilation happens in the warm-up). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

import torch

ENGINES = ("floor", "autograd", "forward", "forward+compile")


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def one(engine: str, n: int, d: int, args: argparse.Namespace) -> dict[str, float | str]:
    from pinn_elastic.compiling import maybe_compile
    from pinn_elastic.derivatives import autograd_jet
    from pinn_elastic.mechanics import navier_residual, stress, traction
    from pinn_elastic.models import MLP
    from pinn_elastic.taylor import mlp_jet

    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    net = MLP(d, d, args.width, args.depth, args.activation, init="xavier").to(device, dtype)
    x = (2 * torch.rand(n, d) - 1).to(device, dtype)
    xb = (2 * torch.rand(n // 4, d) - 1).to(device, dtype)
    normals = torch.nn.functional.normalize(torch.randn(n // 4, d), dim=1).to(device, dtype)
    lam, mu = 1.2, 0.8

    def physics_loss() -> torch.Tensor:
        if engine == "autograd":
            interior = autograd_jet(net, x, hessian=True, create_graph=True)
            boundary = autograd_jet(net, xb, hessian=False, create_graph=True)
        else:
            interior, boundary = mlp_jet(net, x, hessian=True), mlp_jet(net, xb, hessian=False)
        r = navier_residual(interior.hess, lam, mu, None)
        t = traction(stress(boundary.grad, lam, mu), normals)
        return (r * r).mean() + (t * t).mean()

    def floor_loss() -> torch.Tensor:
        u = net(torch.cat([x, xb]))
        return (u * u).mean()

    loss_fn = floor_loss if engine == "floor" else physics_loss
    loss_fn = maybe_compile(loss_fn, "the benchmark step", engine == "forward+compile")
    adam = torch.optim.Adam(net.parameters(), lr=1e-4)
    cuda = device.type == "cuda"

    def step() -> None:
        adam.zero_grad(set_to_none=True)
        loss_fn().backward()
        adam.step()

    warm = time.perf_counter()
    for _ in range(args.warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    warmup_seconds = time.perf_counter() - warm
    before = resident_mb()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(1e3 * (time.perf_counter() - start))
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - min(before, resident_mb())
    )
    median = statistics.median(times)
    compiled = engine != "forward+compile" or loss_fn.is_compiled
    return {
        "ms_per_step": median,
        "ms_per_step_min": min(times),
        "points_per_second": (n + n // 4) / (median / 1e3),
        "peak_memory_mb": peak,
        "warmup_seconds": warmup_seconds,
        "compiled": compiled,
    }


def add_step_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of one timed step (:func:`one`), shared with ``benchmarks/gpu.py``."""
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--activation", default="gelu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4096, 16384, 65536])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    add_step_arguments(parser)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--one", nargs=3, metavar=("ENGINE", "N", "D"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.one:
        engine, n, d = args.one
        print(json.dumps(one(engine, int(n), int(d), args)))
        return
    passthrough = [
        f"--steps={args.steps}", f"--warmup={args.warmup}", f"--width={args.width}",
        f"--depth={args.depth}", f"--activation={args.activation}", f"--dtype={args.dtype}",
        f"--device={args.device}", f"--threads={args.threads}",
    ]  # fmt: skip
    rows = []
    for d in args.dims:
        for n in args.sizes:
            row: dict = {"d": d, "N": n}
            for engine in args.engines:
                command = [sys.executable, __file__, "--one", engine, str(n), str(d), *passthrough]
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    row[engine] = {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
                else:
                    row[engine] = json.loads(done.stdout.strip().splitlines()[-1])
            timed = {
                e: r["ms_per_step"] for e, r in row.items() if isinstance(r, dict) and "ms_per_step" in r
            }
            if "floor" in timed:
                row["x_floor"] = {e: t / timed["floor"] for e, t in timed.items() if e != "floor"}
            if "autograd" in timed:
                row["speedup_vs_autograd"] = {
                    e: timed["autograd"] / t for e, t in timed.items() if e.startswith("forward")
                }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    device = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "cpu"
    network = f"{args.depth}x{args.width} {args.activation}"
    print(json.dumps({"device": device, "threads": args.threads, "torch": torch.__version__,
                      "dtype": args.dtype, "network": network, "rows": rows}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
