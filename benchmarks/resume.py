"""Kill a default run with SIGKILL mid-Adam and mid-L-BFGS, resume it, compare with a run left alone.

    python benchmarks/resume.py [--case cantilever] [--adam-kill-step 200] [overrides ...] > out.json

Three runs of ``pinn-elastic case=CASE`` (defaults, CPU, seed 0), one at a time:

1. left alone;
2. killed with SIGKILL once the log shows Adam step ``--adam-kill-step`` (the last periodic
   checkpoint is then ``train.checkpoint_every`` steps or less behind), resumed with
   ``train.resume=RUN_DIR`` in the same folder;
3. killed with SIGKILL right after the log says L-BFGS started (inside its first chunk:
   the checkpoint is the one written when Adam ended), resumed the same way.

Reported: each run's final metrics (the relative L2 errors, the final loss, the error estimate)
and whether the resumed ones equal those of the run left alone, bit for bit.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEYS = ("rel_l2_displacement", "rel_l2_stress", "final_loss", "error_estimate", "lbfgs_iterations")


def _start(run_dir: Path, case: str, overrides: list[str]) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "pinn_elastic", f"case={case}", "device=cpu", "output.plots=false",
        "train.tolerance=0",  # train every step: a start that meets the tolerance leaves nothing to resume
        f"hydra.run.dir={run_dir}", *overrides,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _kill_when(process: subprocess.Popen, log: Path, pattern: str, limit: float = 1800) -> float:
    """SIGKILL ``process`` as soon as ``pattern`` appears in ``log``; returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if log.exists() and re.search(pattern, log.read_text()):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return time.perf_counter() - start
        if process.poll() is not None:
            raise SystemExit(f"the run ended before {pattern!r} appeared: {process.stderr.read()[-2000:]}")
        time.sleep(0.05)
    raise SystemExit(f"{pattern!r} did not appear within {limit} s")


def _finish(run_dir: Path, case: str, overrides: list[str], resume: bool) -> dict:
    extra = [f"train.resume={run_dir}"] if resume else []
    process = _start(run_dir, case, [*overrides, *extra])
    _, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(err[-3000:])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {k: metrics.get(k) for k in (*KEYS, "resumed_from", "wall_seconds")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="cantilever")
    parser.add_argument("--adam-kill-step", type=int, default=200)  # a logged step (train.log_every)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="resume_"))
    report: dict = {"case": args.case, "overrides": args.overrides}
    report["uninterrupted"] = _finish(root / "alone", args.case, args.overrides, resume=False)
    kills = {"adam": rf"adam +{args.adam_kill_step}/", "lbfgs": r"L-BFGS: up to"}
    for phase, pattern in kills.items():
        run_dir = root / f"killed_{phase}"
        waited = _kill_when(_start(run_dir, args.case, args.overrides), run_dir / "pinn_elastic.log", pattern)
        resumed = _finish(run_dir, args.case, args.overrides, resume=True)
        resumed["killed_after_seconds"] = waited
        resumed["equal_to_uninterrupted"] = all(resumed[k] == report["uninterrupted"][k] for k in KEYS)
        report[f"killed_mid_{phase}"] = resumed
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
