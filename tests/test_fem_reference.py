"""The finite-element cross-check: P2 convergence to the exact solution, metrics and fields."""

from __future__ import annotations

import math

import meshio
import pytest
import torch

from pinn_elastic.config import Config, TrainConfig
from pinn_elastic.errors import ConfigError
from pinn_elastic.evaluation import exact, relative_l2
from pinn_elastic.geometry import nodal_weights
from pinn_elastic.pipeline import run
from pinn_elastic.reference.fem import solve_fem
from pinn_elastic.runner import Solver
from tests.conftest import make_config

pytest.importorskip("skfem")


def test_p2_displacement_converges_at_third_order_on_the_cantilever():
    problem = Solver(make_config("case=cantilever", "train=quick")).problem
    errors = []
    for resolution in (21, 41):
        mesh = problem.geometry.mesh(resolution)
        solution = solve_fem(problem, mesh)
        reference = exact(problem, mesh.points)
        errors.append(relative_l2(solution.displacement, reference.displacement, nodal_weights(mesh)))
    rate = math.log(errors[0] / errors[1]) / math.log(2)
    assert errors[1] < 5e-6 and rate > 2.7, (errors, rate)


def test_reference_fem_adds_metrics_and_fields(tmp_path):
    config = make_config("case=lame_cylinder", "train=quick", "reference=fem", "output.plots=false")
    metrics = run(config, tmp_path)
    assert metrics["fem_rel_l2_displacement"] < 1e-3
    assert metrics["rel_l2_displacement_vs_fem"] < 1e-2
    assert metrics["fem_dofs"] > 1000
    data = meshio.read(tmp_path / "fields.vtu").point_data
    assert {"displacement_fem", "stress_fem"} <= set(data)
    assert float(abs(torch.tensor(data["displacement_fem"])).max()) > 0


def test_reference_fem_is_refused_in_3d_before_any_work(tmp_path):
    config = make_config("case=beam3d", "reference=fem")
    with pytest.raises(ConfigError, match="2D only"):
        run(config, tmp_path)
    assert not (tmp_path / "metrics.json").exists()


def test_unknown_reference_is_refused():
    with pytest.raises(ConfigError, match="reference"):
        Config(case={"name": "cantilever"}, train=TrainConfig(), reference="abaqus")


def test_curved_boundary_cells_follow_the_hole():
    """Kirsch's plate: quadratic triangles whose boundary midpoints sit on the hole's arc."""
    problem = Solver(make_config("case=plate_hole", "train=quick")).problem
    mesh = problem.geometry.mesh(81)
    solution = solve_fem(problem, mesh)
    reference = exact(problem, mesh.points)
    assert relative_l2(solution.displacement, reference.displacement, nodal_weights(mesh)) < 1e-5
