"""The energy (Ritz) polish: its energy density, where it runs, and a clamped beam it fixes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pinn_elastic import energy
from pinn_elastic.config import Config, TrainConfig
from pinn_elastic.errors import ConfigError
from pinn_elastic.mechanics import strain, stress
from pinn_elastic.runner import Solver
from pinn_elastic.singular_edges import clamped_edges
from tests.conftest import make_config

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("dim", [2, 3])
def test_energy_rows_give_the_strain_energy_density(dim):
    """1/2 |r|^2 = 1/2 sigma : epsilon for arbitrary (non-symmetric) displacement gradients."""
    torch.manual_seed(dim)
    grad = torch.randn(50, dim, dim, dtype=torch.float64)
    lam, mu = 0.7, 0.4
    rows = energy._energy_rows(grad, lam, mu)
    expected = 0.5 * (stress(grad, lam, mu) * strain(grad)).sum((-2, -1))
    assert torch.allclose(0.5 * (rows**2).sum(-1), expected, rtol=1e-12, atol=1e-12)


def test_clamped_edges_are_found_where_a_clamp_meets_a_traction_face():
    def edges(case: str) -> set[tuple[str, str]]:
        problem = Solver(make_config(f"case={case}", "train=quick")).problem
        return {(a.name, b.name) for a, b in clamped_edges(problem)}

    assert edges("cantilever3d") == {("root", f) for f in ("side_ymin", "side_ymax", "bottom", "top")}
    assert edges("cantilever") == {("left", "top"), ("left", "bottom")}
    assert edges("hollow_sphere") == set()  # rollers (one component) on the symmetry planes
    assert edges("plate_hole") == set()


def test_sobol_quadrature_integrates_the_volume_and_a_polynomial():
    problem = Solver(make_config("case=hollow_sphere", "train=quick")).problem
    x, weight = energy.sobol_interior(problem, 20000, seed=3)
    a, b = 1.0, 2.0  # conf/case/hollow_sphere.yaml
    volume = (b**3 - a**3) * torch.pi / 6  # one octant
    assert abs(weight * len(x) / volume - 1) < 2e-3
    r2 = (x**2).sum(-1)
    mean_r2 = 3 / 5 * (b**5 - a**5) / (b**3 - a**3)
    assert abs(float(r2.mean()) / mean_r2 - 1) < 2e-3


def test_energy_polish_setting_is_validated():
    with pytest.raises(ConfigError, match=r"train\.energy_polish"):
        TrainConfig(energy_polish="sometimes")


def test_energy_polish_fixes_the_fully_clamped_beam():
    """A clamped root is singular: the point-wise fit sheds the load (tip a fraction of the
    finite-element value); the Ritz polish of the same features lands within 1 %."""
    config = Config(
        case={"name": "clamped_beam", "source": str(FIXTURES / "clamped_beam.py")},
        train=TrainConfig(adam_steps=100, lbfgs_steps=30, n_interior=512, n_boundary=128, energy_points=4096),
    )
    solver = Solver(config)
    solver.train()
    report = solver.polish()
    mesh = solver.problem.geometry.mesh(41)
    before = solver.evaluate(mesh)[2]["tip_deflection_deviation"]
    assert report.relative_holdout_loss > 1e-4  # the strong form is not met
    assert solver.energy_polish_wanted(report)
    ritz = solver.energy_polish()
    after = solver.evaluate(mesh)[2]["tip_deflection_deviation"]
    assert ritz.applied and ritz.holdout_energy < ritz.current_holdout_energy
    assert before < -0.3, before
    assert abs(after) < 0.01, after
    assert ritz.estimate < 0.05


def test_energy_polish_is_skipped_where_it_cannot_apply():
    """Soft displacement conditions: no Ritz basis; never: not run."""
    soft = Solver(make_config("case=cantilever3d", "train=quick", "train.hard_bc=false"))
    assert not soft.energy_polish_wanted(None)
    never = Solver(make_config("case=cantilever3d", "train=quick", "train.energy_polish=never"))
    assert not never.energy_polish_wanted(None)
    auto = Solver(make_config("case=cantilever3d", "train=quick"))
    assert auto.energy_polish_wanted(None)
    assert not Solver(make_config("case=plate_hole", "train=quick")).energy_polish_wanted(None)


def test_auto_tries_the_energy_polish_wherever_the_strong_form_was_badly_missed():
    """No clamped edge on the plate with a hole: skipped while the point-wise polish meets the
    strong form, tried once its hold-out loss stays above 1e-3 of the lift's."""
    from dataclasses import replace

    from pinn_elastic.polish import PolishReport

    solver = Solver(make_config("case=plate_hole", "train=quick"))
    met = PolishReport(True, 1e-9, 1e-6, 1e-6, 1e-6, 1e-12, 1e-6, 1e-10, 100, 1000, 1.0)
    assert not solver.energy_polish_wanted(met)
    assert not solver.energy_polish_wanted(replace(met, relative_holdout_loss=9e-4))
    assert solver.energy_polish_wanted(replace(met, relative_holdout_loss=2e-3))
