"""The least-squares polish: better than the trained field, an honest estimate, no harm done."""

from __future__ import annotations

import pytest
import torch

from pinn_elastic.lstsq import SpectralFactor, solve
from pinn_elastic.polish import RIDGES
from pinn_elastic.runner import Solver
from tests.conftest import make_config


def test_one_factorisation_serves_every_ridge():
    torch.manual_seed(0)
    A, b = torch.randn(300, 40, dtype=torch.float64), torch.randn(300, dtype=torch.float64)
    factor = SpectralFactor.of(A, b)
    for ridge in (0.0, 1e-6, 1e-2, 1.0):
        assert torch.allclose(factor.solution(ridge), solve(A, b, ridge), atol=1e-12)
    assert tuple(sorted(RIDGES, reverse=True)) == RIDGES


@pytest.mark.parametrize("case", ["cantilever", "lame_cylinder"])
def test_polish_improves_the_field_and_estimates_its_error(case):
    """A short run, then the polish: the error drops, the estimate is within a factor of 10."""
    solver = Solver(
        make_config(
            f"case={case}", "train=quick", "train.adam_steps=50", "train.lbfgs_steps=20", "train.tolerance=0"
        )
    )
    solver.train()
    mesh = solver.problem.geometry.mesh(81)
    trained = solver.evaluate(mesh)[2]["rel_l2_displacement"]
    report = solver.polish()
    polished = solver.evaluate(mesh)[2]["rel_l2_displacement"]
    assert report.applied and report.holdout_loss < report.trained_holdout_loss
    assert polished < trained / 10, (polished, trained)
    assert 0.1 < report.estimate / polished < 10, (report.estimate, polished)


def test_polish_that_does_not_lower_the_holdout_loss_is_discarded(monkeypatch):
    overrides = (
        "case=cantilever",
        "train=quick",
        "train.adam_steps=10",
        "train.lbfgs_steps=0",
        "train.tolerance=0",
    )
    solver = Solver(make_config(*overrides))
    solver.train()
    monkeypatch.setattr("pinn_elastic.polish.RIDGES", (1e3,))  # a ridge that flattens the fit
    report = solver.polish()
    assert not report.applied and solver.field.network.readout is None


def test_a_residual_bound_ends_the_polish_after_a_first_system_far_above_it():
    """``residual_bound`` (the tolerance check): a first system ten times above the bound ends the
    polish with nothing set; a bound it meets changes nothing in the result."""
    overrides = ("case=lame_cylinder", "train=quick", "train.adam_steps=0", "train.lbfgs_steps=0")
    solver = Solver(make_config(*overrides, "train.tolerance=0"))
    solver.train()  # the least-squares start: the polish leaves a relative residual near 1e-3 on it
    assert solver.polish(residual_bound=1e-9) is None and solver.field.network.readout is None
    bounded = solver.polish(residual_bound=1.0)
    solver.field.network.readout = None
    plain = solver.polish()
    assert (
        bounded.applied and bounded.estimate == plain.estimate and bounded.holdout_loss == plain.holdout_loss
    )
