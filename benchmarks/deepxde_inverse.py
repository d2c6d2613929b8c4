"""Identify E and nu of the cantilever from 200 measured displacements: DeepXDE against
pinn-elastic, time to bring E within 1 %, both measured in one run of this script.

    pip install deepxde
    python benchmarks/deepxde_inverse.py --seconds 600 > out.json

The data: the exact (Timoshenko) displacement at 200 points drawn uniformly in the beam
(seed 0), E = 1000 and nu = 0.3; both tools start from E = 1500 and nu = 0.2, and both get
the case's exact support displacement on x = 0 (computed at the true material, as measured).

pinn-elastic: the command a user runs, ``pinn-elastic case=cantilever inverse.data=...
inverse.unknowns=[E,nu] inverse.start.E=1500 inverse.start.nu=0.2`` (defaults otherwise); the
time is read from its ``seconds_to_within_1pct`` (seconds of training, the trace of the
unknowns at every step) and its total wall time is reported beside it.

DeepXDE (PyTorch backend) gets the setup of ``deepxde_peer.py``: the same nondimensional units,
network (2 -> 4 x 64 GELU -> 2), points (2048 interior, 512 boundary), float32, Adam at lr 1e-3,
soft boundary conditions, plus its idiomatic inverse pieces: ``dde.Variable`` for
``log(E/E_start)`` and ``nu`` (in ``external_trainable_variables``) and a ``PointSetBC`` on
the data. The clock includes only ``model.train`` calls (not the periodic reading of E).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np
import torch
from deepxde_peer import cantilever_problem

from pinn_elastic.case_loader import load_case
from pinn_elastic.scaling import characteristic_scales

TRUTH = {"E": 1000.0, "nu": 0.3}
START = {"E": 1500.0, "nu": 0.2}


def measurements(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    problem, _ = load_case({"name": "cantilever"})
    x = problem.geometry.sample_interior(n, torch.Generator().manual_seed(seed), torch.float64)
    return x.numpy(), problem.exact_displacement(x).numpy()


def deepxde_run(x: np.ndarray, u: np.ndarray, seconds: float, seed: int) -> dict:
    import deepxde as dde

    dde.config.set_random_seed(seed)
    dde.config.set_default_float("float32")
    problem, params = load_case({"name": "cantilever"})
    scales = characteristic_scales(problem, torch.Generator().manual_seed(0))
    # scales.modulus is the case's (true) E; the start is E = 1500: log(E / E_true) starts at log 1.5
    log_e = dde.Variable(float(np.log(START["E"] / TRUTH["E"])))
    nu = dde.Variable(START["nu"])

    def lame():
        E = torch.exp(log_e)  # nondimensional by the true modulus scale
        mu = E / (2 * (1 + nu))
        lam = E * nu / (1 - nu**2)  # plane stress
        return lam, mu

    geom, pde, bcs = cantilever_problem(dde, problem, params, scales, lame)
    x_hat = (x / scales.length).astype(np.float32)
    u_hat = (u / scales.displacement).astype(np.float32)
    bcs += [
        dde.icbc.PointSetBC(x_hat, u_hat[:, 0:1], component=0),
        dde.icbc.PointSetBC(x_hat, u_hat[:, 1:2], component=1),
    ]
    data = dde.data.PDE(geom, pde, bcs, num_domain=2048, num_boundary=512, train_distribution="pseudo")
    net = dde.nn.FNN([2] + [64] * 4 + [2], "gelu", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3, external_trainable_variables=[log_e, nu])
    trained, steps, trace, reached = 0.0, 0, [], None
    while trained < seconds:
        start = time.perf_counter()
        model.train(iterations=100, display_every=10**9, verbose=0)
        trained += time.perf_counter() - start
        steps += 100
        E = TRUTH["E"] * float(torch.exp(log_e.detach()))
        trace.append((round(trained, 2), steps, E, float(nu.detach())))
        if reached is None and abs(E / TRUTH["E"] - 1) <= 0.01:
            reached = trained
            break
    return {
        "peer": f"DeepXDE {dde.__version__} (backend {dde.backend.backend_name}), float32",
        "seconds_to_E_within_1pct": reached,
        "steps": steps,
        "final": {"E": trace[-1][2], "nu": trace[-1][3]},
        "trace_seconds_steps_E_nu": trace,
    }


def pinn_elastic_run(x: np.ndarray, u: np.ndarray, folder: Path) -> dict:
    csv = folder / "data.csv"
    rows = "\n".join(",".join(repr(float(v)) for v in row) for row in np.concatenate([x, u], 1))
    csv.write_text(f"# truth: E={TRUTH['E']} nu={TRUTH['nu']}\nx,y,ux,uy\n{rows}\n")
    command = [
        sys.executable, "-m", "pinn_elastic", "case=cantilever", f"inverse.data={csv}",
        "inverse.unknowns=[E,nu]", f"inverse.start.E={START['E']}", f"inverse.start.nu={START['nu']}",
        f"hydra.run.dir={folder / 'run'}", "output.plots=false",
    ]  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    start = time.perf_counter()
    subprocess.run(command, cwd=root, check=True, capture_output=True)
    wall = time.perf_counter() - start
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    return {
        "seconds_to_E_within_1pct": metrics["seconds_to_within_1pct"]["E"],
        "seconds_to_within_1pct": metrics["seconds_to_within_1pct"],
        "identified": metrics["identified"],
        "identified_rel_error": metrics["identified_rel_error"],
        "command_wall_seconds": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="DeepXDE's training-time budget")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    x, u = measurements(200, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        ours = pinn_elastic_run(x, u, Path(tmp))
    with contextlib.redirect_stdout(sys.stderr):
        peer = deepxde_run(x, u, args.seconds, args.seed)
    result = {
        "machine": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "pinn_elastic": ours,
        "deepxde": peer,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
