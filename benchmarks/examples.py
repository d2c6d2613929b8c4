"""The worked examples (examples/): PINN against the finite-element reference, and the time.

    python benchmarks/examples.py [--only lug3d] [--train energy strong] > out.json

Each example runs as the README says (``pinn-elastic --config-dir examples/conf case=NAME
reference=fem``) with each ``train`` preset asked for, defaults and seed 0, one at a time.
Reported per run: rel L2 displacement and stress against the FEM on the example's own mesh,
the error estimate, the FEM's unknowns, the wall time of the whole command, and its parts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("lug2d", "lug3d")
KEYS = (
    "rel_l2_displacement_vs_fem",
    "rel_l2_stress_vs_fem",
    "error_estimate",
    "fem_dofs",
    "fem_seconds",
    "train_seconds",
    "readout_seconds",
    "polish_seconds",
    "energy_polish_seconds",
    "wall_seconds",
)


def run(example: str, train: str, folder: Path) -> dict:
    command = [
        sys.executable, "-m", "pinn_elastic", "--config-dir", str(ROOT / "examples" / "conf"),
        f"case={example}", f"train={train}", "reference=fem", "output.plots=false",
        f"hydra.run.dir={folder}",
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    metrics = json.loads((folder / "metrics.json").read_text())
    out = {"example": example, "train": train, "command_seconds": wall}
    out.update({k: metrics[k] for k in KEYS if k in metrics})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(EXAMPLES), choices=EXAMPLES)
    parser.add_argument("--train", nargs="*", default=["energy"], help="train presets (energy, default)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for example in args.only:
            for train in args.train:
                results.append(run(example, train, Path(tmp) / f"{example}-{train}"))
                print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"cpu_threads": __import__("torch").get_num_threads(), "runs": results}, indent=2))


if __name__ == "__main__":
    main()
