"""The default cantilever solved by DeepXDE (PyTorch backend): ms per step and error at equal time.

Prints one JSON object. DeepXDE is an optional benchmark dependency, never a runtime one:

    pip install deepxde
    python benchmarks/deepxde_peer.py --seconds 100

DeepXDE gets the same problem as pinn-elastic in the same nondimensional units (lengths by
the body's largest extent, stresses by the largest load, moduli by E, which pinn-elastic
uses internally; in raw units the 0.006-sized displacement would handicap it), the same
network (2 -> 4 x 64 GELU -> 2, Glorot normal), the same 2048 interior and 512 boundary
points, float32 (DeepXDE's default), Adam at lr 1e-3, and its idiomatic soft boundary
conditions: the exact displacement on x = 0 (DirichletBC) and the tractions
sigma.n = t on the other three sides (OperatorBC). Second derivatives come from
``dde.grad.hessian`` (nested reverse-mode autograd, computed lazily and cached).

It reports DeepXDE's median milliseconds per Adam step and its relative L2 displacement
error after training for ``--seconds`` of wall time, measured at 4096 uniform points against
Timoshenko's solution (the same monitor pinn-elastic uses during training).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np
import torch

from pinn_elastic.case_loader import load_case
from pinn_elastic.scaling import characteristic_scales


def cantilever_problem(dde, problem, params, scales, lame):
    """DeepXDE's geometry, PDE and boundary conditions for the cantilever in nondimensional units;
    ``lame()`` gives the (possibly trainable) nondimensional ``(lambda, mu)`` at each call."""
    L, D, P = params.length / scales.length, params.height / scales.length, params.load / scales.stress
    inertia = D**3 / 12

    def exact_hat(x: np.ndarray) -> np.ndarray:
        physical = torch.from_numpy(np.asarray(x, dtype=np.float64) * scales.length)
        return (problem.exact_displacement(physical) / scales.displacement).numpy()

    geom = dde.geometry.Rectangle([0.0, -D / 2], [L, D / 2])

    def stresses(x, u):
        lam, mu = lame()
        ux_x = dde.grad.jacobian(u, x, i=0, j=0)
        ux_y = dde.grad.jacobian(u, x, i=0, j=1)
        uy_x = dde.grad.jacobian(u, x, i=1, j=0)
        uy_y = dde.grad.jacobian(u, x, i=1, j=1)
        div = ux_x + uy_y
        return lam * div + 2 * mu * ux_x, lam * div + 2 * mu * uy_y, mu * (ux_y + uy_x)

    def pde(x, u):
        lam, mu = lame()
        h = {
            (c, i, j): dde.grad.hessian(u, x, component=c, i=i, j=j)
            for c in range(2)
            for i, j in ((0, 0), (0, 1), (1, 1))
        }
        rx = (lam + 2 * mu) * h[0, 0, 0] + mu * h[0, 1, 1] + (lam + mu) * h[1, 0, 1]
        ry = (lam + 2 * mu) * h[1, 1, 1] + mu * h[1, 0, 0] + (lam + mu) * h[0, 0, 1]
        return [rx, ry]

    def on_left(x, on_boundary):
        return on_boundary and np.isclose(x[0], 0.0)

    def on_right(x, on_boundary):
        return on_boundary and np.isclose(x[0], L)

    def on_top_or_bottom(x, on_boundary):
        return (
            on_boundary
            and (np.isclose(x[1], D / 2) or np.isclose(x[1], -D / 2))
            and not np.isclose(x[0], 0.0)
        )

    def shear(x):
        return -P / (2 * inertia) * (D**2 / 4 - x[:, 1:2] ** 2)

    bcs = [
        dde.icbc.DirichletBC(geom, lambda x: exact_hat(x)[:, 0:1], on_left, component=0),
        dde.icbc.DirichletBC(geom, lambda x: exact_hat(x)[:, 1:2], on_left, component=1),
        dde.icbc.OperatorBC(geom, lambda x, u, X: stresses(x, u)[0], on_right),
        dde.icbc.OperatorBC(
            geom, lambda x, u, X: stresses(x, u)[2] - torch.as_tensor(shear(X), dtype=u.dtype), on_right
        ),
        dde.icbc.OperatorBC(geom, lambda x, u, X: stresses(x, u)[1], on_top_or_bottom),
        dde.icbc.OperatorBC(geom, lambda x, u, X: stresses(x, u)[2], on_top_or_bottom),
    ]
    return geom, pde, bcs


def build_model(n_interior: int, n_boundary: int, seed: int):
    import deepxde as dde

    dde.config.set_random_seed(seed)
    dde.config.set_default_float("float32")
    problem, params = load_case({"name": "cantilever"})
    scales = characteristic_scales(problem, torch.Generator().manual_seed(0))
    material = problem.material
    lam, mu = (c / scales.modulus for c in material.lame(2))
    geom, pde, bcs = cantilever_problem(dde, problem, params, scales, lambda: (lam, mu))
    data = dde.data.PDE(
        geom, pde, bcs, num_domain=n_interior, num_boundary=n_boundary, train_distribution="pseudo"
    )
    net = dde.nn.FNN([2] + [64] * 4 + [2], "gelu", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)

    monitor_points = problem.geometry.sample_interior(
        4096, torch.Generator().manual_seed(2024), torch.float64
    )
    monitor_x = (monitor_points / scales.length).numpy()
    reference = (problem.exact_displacement(monitor_points) / scales.displacement).numpy()

    def rel_l2() -> float:
        predicted = model.predict(monitor_x.astype(np.float32)).astype(np.float64)
        return float(np.linalg.norm(predicted - reference) / np.linalg.norm(reference))

    return model, rel_l2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=100.0, help="wall time of the equal-time run")
    parser.add_argument("--timing-steps", type=int, default=50)
    parser.add_argument("--n-interior", type=int, default=2048)
    parser.add_argument("--n-boundary", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with contextlib.redirect_stdout(sys.stderr):  # DeepXDE prints progress; stdout is for the JSON
        result = measure(args)
    print(json.dumps(result, indent=2))


def measure(args: argparse.Namespace) -> dict:
    import deepxde as dde

    model, rel_l2 = build_model(args.n_interior, args.n_boundary, args.seed)
    model.train(iterations=5, display_every=10**9, verbose=0)  # warm-up
    chunk_times = []
    for _ in range(5):
        start = time.perf_counter()
        model.train(iterations=args.timing_steps // 5, display_every=10**9, verbose=0)
        chunk_times.append(1e3 * (time.perf_counter() - start) / (args.timing_steps // 5))
    ms_per_step = float(np.median(chunk_times))

    model, rel_l2 = build_model(args.n_interior, args.n_boundary, args.seed)
    start = time.perf_counter()
    steps, trace = 0, []
    chunk = max(10, int(args.seconds / 20 / (ms_per_step / 1e3)))  # about 20 error readings
    while time.perf_counter() - start < args.seconds:
        model.train(iterations=chunk, display_every=10**9, verbose=0)
        steps += chunk
        trace.append((round(time.perf_counter() - start, 2), steps, rel_l2()))
    return {
        "peer": f"DeepXDE {dde.__version__} (backend {dde.backend.backend_name}), float32",
        "machine": platform.processor() or platform.machine(),
        "threads": args.threads,
        "torch": torch.__version__,
        "n_interior": args.n_interior,
        "n_boundary": args.n_boundary,
        "ms_per_step_median": ms_per_step,
        "equal_time_seconds": args.seconds,
        "equal_time_steps": steps,
        "equal_time_rel_l2_displacement": trace[-1][2],
        "trace_seconds_steps_error": trace,
    }


if __name__ == "__main__":
    main()
