"""Shared helpers: configs composed from the real YAML tree, small budgets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from pinn_elastic.cli import CONF_DIR
from pinn_elastic.config import Config, to_config
from pinn_elastic.derivatives import autograd_jet
from pinn_elastic.mechanics import navier_residual, stress, traction
from pinn_elastic.problem import Displacement, Problem, components_of

REPO = Path(__file__).resolve().parent.parent


def make_config(*overrides: str) -> Config:
    """The validated config for these command-line overrides."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return to_config(compose(config_name="config", overrides=list(overrides)))


def run_cli(cwd: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m pinn_elastic ARGS`` in ``cwd``, output captured."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "pinn_elastic", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)


def assert_exact_solution(
    problem: Problem, scale_stress: float, scale_length: float, tol: float = 1e-10
) -> None:
    """Equilibrium (with body force) and every boundary condition of the exact field, through the
    project's own operators, relative to the scales (displacements to ``scale_stress * L / mu``)."""
    dim = problem.dim
    lam, mu = problem.material.lame(dim)
    gen = torch.Generator().manual_seed(0)
    x = problem.geometry.sample_interior(800, gen, torch.float64)
    jet = autograd_jet(problem.exact_displacement, x, hessian=True, create_graph=False)
    f = problem.body_force(x) if problem.body_force else None
    residual = navier_residual(jet.hess, lam, mu, f)
    assert residual.abs().max() * scale_length / scale_stress < tol
    for condition in problem.all_conditions:
        comps = list(components_of(condition, dim))
        xb, nb = problem.geometry.sample_boundary(condition.boundary, 300, gen, torch.float64)
        bj = autograd_jet(problem.exact_displacement, xb, hessian=False, create_graph=False)
        if isinstance(condition, Displacement):
            error = (
                (bj.value - condition.evaluate(xb))[:, comps].abs().max() * mu / (scale_stress * scale_length)
            )
        else:
            t = traction(stress(bj.grad, lam, mu), nb)
            error = (t - condition.evaluate(xb, nb))[:, comps].abs().max() / scale_stress
        assert error < tol, (condition, float(error))


@pytest.fixture(autouse=True)
def _threads() -> None:
    torch.set_num_threads(2)


def losses_on_the_same_points(*problems: Problem) -> list[float]:
    """The loss of each problem on collocation points drawn from the same seed (256 interior,
    128 boundary, float64), through one solver's network: equal problems give equal losses."""
    from pinn_elastic.collocation import sample_collocation
    from pinn_elastic.runner import Solver

    solver = Solver(make_config("case=cantilever", "train=quick"))
    losses = []
    for problem in problems:
        colloc = sample_collocation(
            problem, solver.scales, 256, 128, torch.Generator().manual_seed(0), torch.float64, None
        )
        losses.append(float(solver.loss(colloc)[0].detach()))
    return losses
