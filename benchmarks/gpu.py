"""The GPU figures in one prepared script: engine throughput at large N, and whole runs end to end.

Writes one JSON file per part into ``--out`` as it goes (so a run cut short keeps what it
measured) and prints the combined object at the end. Example (about 7 minutes on one H100):

    python benchmarks/gpu.py --out benchmarks/results/gpu
    python benchmarks/gpu.py --out /tmp/gpu --device cpu --sizes 1024 --runs-only cantilever  # a rehearsal

Parts:

* ``runs.json``: whole ``pinn-elastic`` runs (a fresh process each, no VTU or plots) of the
  default cantilever in float64, in float32 (float32 features, float64 least-squares solve)
  and in mixed precision, then ``beam3d`` in float64; wall time, per-step time and errors
  from each run's ``metrics.json``.
* ``engines.json``: time per training step and collocation points per second of each
  derivative engine (``benchmarks/engine_scaling.py``'s step: the jets at ``N`` interior and
  ``N/4`` boundary points, Navier and traction residuals, backward and an Adam update) for
  d = 2 and 3 and N in ``--sizes``, float32, in this one process (CUDA peak memory is reset
  per configuration). Eager engines first; ``forward+compile`` afterwards, while
  ``--compile-seconds`` last, since each shape compiles anew.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from engine_scaling import add_step_arguments, one  # noqa: E402  (benchmarks/engine_scaling.py, beside this script)

RUNS = {
    "cantilever float64": ["case=cantilever", "dtype=float64"],
    "cantilever float32 (float64 solve)": ["case=cantilever", "dtype=float32"],
    "cantilever mixed": ["case=cantilever", "dtype=mixed"],
    "beam3d float64": ["case=beam3d", "dtype=float64"],
}
KEPT = (
    "rel_l2_displacement", "rel_l2_stress", "error_estimate", "setup_seconds", "train_seconds",
    "adam_ms_per_step_median", "adam_steps_run", "lbfgs_iterations", "lbfgs_evaluations",
    "final_loss", "wall_seconds", "device", "dtype",
)  # fmt: skip


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    return platform.processor() or "cpu"


def save(out: Path, name: str, payload: object) -> None:
    """Atomic write of one part's JSON."""
    tmp = out / f".{name}.tmp"
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(out / name)


def whole_runs(args: argparse.Namespace, out: Path) -> list[dict]:
    rows = []
    for label, overrides in RUNS.items():
        if args.runs_only and not any(label.startswith(r) for r in args.runs_only):
            continue
        folder = args.runs_dir / label.replace(" ", "_").replace("(", "").replace(")", "")
        command = [
            sys.executable, "-m", "pinn_elastic", *overrides, f"device={args.device}",
            "output.vtu=false", "output.plots=false", f"hydra.run.dir={folder}", *args.run_overrides,
        ]  # fmt: skip
        start = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.run_timeout)
            failed = done.returncode != 0
            tail = (done.stderr.strip().splitlines() or ["?"])[-1] if failed else ""
        except subprocess.TimeoutExpired:
            failed, tail = True, f"timed out after {args.run_timeout} s"
        row: dict = {"run": label, "overrides": overrides, "process_seconds": time.perf_counter() - start}
        metrics = folder / "metrics.json"
        if failed or not metrics.exists():
            row["error"] = tail
        else:
            measured = json.loads(metrics.read_text())
            row.update({k: measured[k] for k in KEPT if k in measured})
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        save(out, "runs.json", {"device": device_name(args.device), "torch": torch.__version__, "rows": rows})
    return rows


def engines(args: argparse.Namespace, out: Path) -> list[dict]:
    rows: dict[tuple[int, int], dict] = {}
    plan = [(e, n, d) for d in args.dims for n in args.sizes for e in ("floor", "autograd", "forward")]
    compiled = sorted(((n, d) for d in args.dims for n in args.sizes), key=lambda nd: (nd[0] != 65536, nd))
    plan += [("forward+compile", n, d) for n, d in compiled]
    deadline = None
    for engine, n, d in plan:
        if engine == "forward+compile":
            deadline = deadline or time.perf_counter() + args.compile_seconds
            if time.perf_counter() > deadline:
                continue
        row = rows.setdefault((d, n), {"d": d, "N": n})
        try:
            row[engine] = one(engine, n, d, args)
        except torch.cuda.OutOfMemoryError:
            row[engine] = {"error": "out of GPU memory"}
        except Exception as error:  # a benchmark row must not end the script
            row[engine] = {"error": f"{type(error).__name__}: {str(error)[:200]}"}
        if args.device == "cuda":
            torch.cuda.empty_cache()
        print(json.dumps({"d": d, "N": n, engine: row[engine]}), file=sys.stderr, flush=True)
        listed = sorted(rows.values(), key=lambda r: (r["d"], r["N"]))
        for r in listed:
            timed = {e: v["ms_per_step"] for e, v in r.items() if isinstance(v, dict) and "ms_per_step" in v}
            if "autograd" in timed:
                r["speedup_vs_autograd"] = {
                    e: timed["autograd"] / t for e, t in timed.items() if e.startswith("forward")
                }
        network = f"{args.depth}x{args.width} {args.activation}"
        save(out, "engines.json", {"device": device_name(args.device), "torch": torch.__version__,
                                   "dtype": args.dtype, "network": network, "rows": listed})  # fmt: skip
    return sorted(rows.values(), key=lambda r: (r["d"], r["N"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[16384, 65536, 262144, 1048576])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--parts", nargs="+", default=["runs", "engines"], choices=["runs", "engines"])
    parser.add_argument("--runs-only", nargs="*", default=None, help="run labels' prefixes to keep")
    parser.add_argument("--run-overrides", nargs="*", default=[], help="extra overrides for every run")
    parser.add_argument("--runs-dir", type=Path, default=None, help="run folders (default OUT/runs)")
    parser.add_argument("--run-timeout", type=float, default=240.0)
    parser.add_argument("--compile-seconds", type=float, default=150.0)
    add_step_arguments(parser)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.runs_dir = args.runs_dir or args.out / "runs"
    result = {"device": device_name(args.device), "torch": torch.__version__}
    if "runs" in args.parts:
        result["runs"] = whole_runs(args, args.out)
    if "engines" in args.parts:
        result["engines"] = engines(args, args.out)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
