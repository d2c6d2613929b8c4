"""The verification suite: every problem's exact field, the runner, and the error estimate."""

from __future__ import annotations

import math

import pytest
import torch

from pinn_elastic.case_loader import load_case
from pinn_elastic.runner import Solver
from pinn_elastic.scaling import characteristic_scales
from pinn_elastic.verification import SUITE, TINY_BUDGET, problems, run_suite, table
from tests.conftest import assert_exact_solution, make_config


def test_the_suite_has_twelve_distinct_problems_or_more():
    names = [p.name for p in SUITE]
    assert len(names) >= 12
    assert len(set(names)) == len(names)
    assert len({p.overrides for p in SUITE}) == len(names)


@pytest.mark.parametrize("entry", SUITE, ids=lambda p: p.name)
def test_suite_exact_fields_solve_their_problems(entry):
    """Round-off residual and every boundary condition met, through the project's operators."""
    problem, _ = load_case(make_config(*entry.overrides).case)
    scales = characteristic_scales(problem, torch.Generator().manual_seed(0))
    assert_exact_solution(problem, scales.stress, scales.length, tol=1e-9)


def test_unknown_suite_problem_is_named_in_the_error():
    with pytest.raises(ValueError, match="no_such_problem"):
        problems(["no_such_problem"])


def test_suite_runner_on_a_tiny_budget(tmp_path):
    rows = run_suite(["curved_bar", "steel_column_si"], [0], tmp_path, TINY_BUDGET, log=lambda _: None)
    assert [r["problem"] for r in rows] == ["curved_bar", "steel_column_si"]
    for row in rows:
        assert math.isfinite(row["rel_l2_displacement"]) and math.isfinite(row["error_estimate"])
        assert row["process_seconds"] > 0 and row["lbfgs_stop"] in (
            "budget",
            "stalled",
            "no step",
            "non-finite loss",
        )
    text = table(rows)
    assert "curved_bar" in text and "steel_column_si" in text


@pytest.mark.parametrize("case", ["cantilever", "lame_cylinder"])
def test_error_estimate_is_within_a_factor_of_ten_of_the_true_error(case):
    """The claim the README makes, on a polynomial and a rational problem, with a small budget."""
    solver = Solver(make_config(f"case={case}", "train=quick", "train.tolerance=0"))  # train
    solver.train()
    true = solver.evaluate(solver.problem.geometry.mesh(81))[2]["rel_l2_displacement"]
    estimate = solver.error_estimate()
    assert 0.1 < estimate / true < 10, (estimate, true)
