"""The finite-element cross-check: P2 convergence to the exact solution, metrics and fields."""

from __future__ import annotations

import math
from pathlib import Path

import meshio
import numpy as np
import pytest
import torch

from pinn_elastic import Displacement, Material, Problem, Traction
from pinn_elastic.case_loader import load_case
from pinn_elastic.config import Config, TrainConfig
from pinn_elastic.derivatives import autograd_jet
from pinn_elastic.errors import ConfigError
from pinn_elastic.evaluation import exact, relative_l2
from pinn_elastic.geometry import MeshBody, nodal_weights
from pinn_elastic.mechanics import navier_residual, stress, traction
from pinn_elastic.pipeline import run
from pinn_elastic.reference.fem import check_available, solve_fem
from pinn_elastic.runner import Solver
from tests.conftest import make_config

MESHES = Path(__file__).parent / "fixtures" / "meshes"

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
    config = make_config(
        "case=lame_cylinder", "train=quick", "model.width=32", "reference=fem", "output.plots=false"
    )
    metrics = run(config, tmp_path)
    assert metrics["fem_rel_l2_displacement"] < 1e-3
    assert metrics["rel_l2_displacement_vs_fem"] < 1e-2
    assert metrics["fem_dofs"] > 1000
    data = meshio.read(tmp_path / "fields.vtu").point_data
    assert {"displacement_fem", "stress_fem"} <= set(data)
    assert float(abs(torch.tensor(data["displacement_fem"])).max()) > 0


def test_reference_fem_is_refused_on_built_in_3d_bodies_before_any_work(tmp_path):
    config = make_config("case=beam3d", "reference=fem")
    with pytest.raises(ConfigError, match="built-in 3D bodies: not yet"):
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


class Quadratic(torch.nn.Module):
    """A full quadratic displacement field in 2D or 3D (every second derivative non-zero)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(dim)
        self.linear = torch.randn(dim, dim, generator=g, dtype=torch.float64) * 0.1
        self.square = torch.randn(dim, dim, dim, generator=g, dtype=torch.float64) * 0.1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.linear.T + torch.einsum("ijk,nj,nk->ni", self.square, x, x)


def patch_problem(body: MeshBody, displacement: str, loaded: tuple[str, ...]) -> Problem:
    """The quadratic field with its body force, its displacement on one group and its traction
    on the others, through the project's own operators."""
    field, material = Quadratic(body.dim), Material(1.0, 0.3, "strain")
    lam, mu = material.lame(body.dim)

    def jet(x):
        with torch.enable_grad():
            return autograd_jet(field, x.detach().requires_grad_(True), hessian=True, create_graph=False)

    def body_force(x):
        return -navier_residual(jet(x).hess, lam, mu, None).detach()

    def load(x, n):
        return traction(stress(jet(x).grad, lam, mu), n).detach()

    conditions = (Displacement(displacement, field), *(Traction(name, load) for name in loaded))
    return Problem(body, material, conditions, body_force=body_force, exact_displacement=field)


@pytest.mark.parametrize(
    "file, fixed, loaded",
    [
        ("ring_tri_41.msh", "x_axis", ("y_axis", "inner", "outer")),
        ("ring_quad_22.msh", "x_axis", ("y_axis", "inner", "outer")),
        ("block_tet_41.msh", "xmin", ("xmax", "sides")),
        ("block_tet10_41_bin.msh", "xmin", ("xmax", "sides")),
        ("block_hex_41.msh", "xmin", ("xmax", "sides")),
        ("block_hex.vtu", "xmin", ("xmax", "sides")),
    ],
)
def test_fem_on_a_mesh_files_own_cells_reproduces_a_quadratic_field(file, fixed, loaded):
    """The patch test: P2 (triangles, tetrahedra) and Q2 (quadrilaterals, hexahedra) on the
    user's straight cells hold every quadratic field, so the error is round-off; the body force,
    displacement and traction all enter. A wrong corner order or facet group would show."""
    body = MeshBody(MESHES / file)
    problem = patch_problem(body, fixed, loaded)
    check_available(problem)  # 3D bodies from a mesh file are accepted
    mesh = body.mesh(0)
    solution = solve_fem(problem, mesh)
    reference = exact(problem, mesh.points)
    weights = nodal_weights(mesh)
    assert relative_l2(solution.displacement, reference.displacement, weights) < 1e-10
    exact_gradient = jet_gradient(problem, mesh.points)
    assert np.abs(solution.gradient - exact_gradient).max() < 1e-9 * np.abs(exact_gradient).max()


def jet_gradient(problem: Problem, points: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(points).requires_grad_(True)
    jet = autograd_jet(problem.exact_displacement, x, hessian=False, create_graph=False)
    return jet.grad.detach().numpy()


def test_fem_on_second_order_triangles_follows_the_curved_ring():
    """Lamé's ring on the coarse triangle6 mesh: isoparametric cells on the mesh's own curved
    edges, against the straight-sided triangles of the same arc."""
    errors = {}
    for file in ("ring_tri6_41.msh", "ring_tri_41.msh"):
        values = {
            "name": "mesh", "file": str(MESHES / file), "E": 1000.0, "nu": 0.3, "plane": "strain",
            "conditions": [
                {"boundary": "x_axis", "displacement": [None, 0]},
                {"boundary": "y_axis", "displacement": [0, None]},
                {"boundary": "inner", "pressure": 1.0},
            ],
            "exact_displacement": [LAME.format("x"), LAME.format("y")],
        }  # fmt: skip
        problem, _ = load_case(values)
        mesh = problem.geometry.mesh(0)
        solution = solve_fem(problem, mesh)
        reference = exact(problem, mesh.points)
        errors[file] = relative_l2(solution.displacement, reference.displacement, nodal_weights(mesh))
    assert errors["ring_tri6_41.msh"] < 1e-3 < errors["ring_tri_41.msh"], errors
    assert errors["ring_tri6_41.msh"] < errors["ring_tri_41.msh"] / 20, errors


LAME = "1/(1000*3) * ((1.3)*(0.4) + (1.3)*4/(x**2+y**2)) * {}"  # p a^2/(E(b^2-a^2)) [...] x_i
