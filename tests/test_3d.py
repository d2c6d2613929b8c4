"""3D end to end: exact fields through the project's operators, exact symmetry conditions, a
short training run, and fields.vtu read back with VTK's own reader."""

from __future__ import annotations

import json

import meshio
import numpy as np
import pytest
import torch

from pinn_elastic.case_loader import load_case
from pinn_elastic.geometry import EvaluationMesh, nodal_weights
from pinn_elastic.pipeline import run
from pinn_elastic.runner import Solver
from pinn_elastic.scaling import characteristic_scales
from tests.conftest import assert_exact_solution, make_config

SMALL = (
    "train.n_interior=1024",
    "train.n_boundary=384",
    "train.adam_steps=120",
    "train.lbfgs_steps=60",
    "model.width=32",
    "output.resolution=13",
)
STEEL = ("case.E=2.1e11", "case.nu=0.29")


@pytest.mark.parametrize(
    "overrides",
    [
        ("case=beam3d",),
        ("case=beam3d", *STEEL, "case.length=2", "case.width=0.1", "case.height=0.2", "case.moment=5e3"),
        ("case=hollow_sphere",),
        ("case=hollow_sphere", *STEEL, "case.inner=0.05", "case.outer=0.08", "case.pressure=3e7"),
    ],
    ids=["beam3d", "beam3d_steel_si", "hollow_sphere", "hollow_sphere_steel_si"],
)
def test_exact_3d_fields_solve_their_problems(overrides):
    problem, _ = load_case(make_config(*overrides).case)
    assert problem.dim == 3
    scales = characteristic_scales(problem, torch.Generator().manual_seed(0))
    assert_exact_solution(problem, scales.stress, scales.length, tol=1e-9)


def test_symmetry_planes_are_imposed_exactly_in_3d():
    solver = Solver(make_config("case=hollow_sphere", *SMALL))
    assert solver.field.constraints is not None
    x = torch.rand(64, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 0.2
    for axis in range(3):
        on_plane = x.clone()
        on_plane[:, axis] = 0
        u = solver.field.evaluate(solver.scales.to_unit(on_plane)).value
        assert float(u[:, axis].abs().max()) == 0.0


@pytest.fixture(scope="module")
def sphere_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sphere")
    return out, run(make_config("case=hollow_sphere", *SMALL), out)


def test_short_3d_run_is_accurate(sphere_run):
    _, metrics = sphere_run
    assert metrics["polish_applied"]
    assert metrics["rel_l2_displacement"] < 2e-3  # 4.7e-4 measured; the default budget reaches 3e-6
    assert metrics["rel_l2_stress"] < 2e-2
    assert 0.1 < metrics["error_estimate"] / metrics["rel_l2_displacement"] < 10


def test_3d_fields_read_back_with_vtk_reproduce_the_metrics(sphere_run):
    vtk = pytest.importorskip("vtk")
    from vtk.util.numpy_support import vtk_to_numpy

    out, metrics = sphere_run
    reader = vtk.vtkXMLUnstructuredGridReader()
    reader.SetFileName(str(out / "fields.vtu"))
    reader.Update()
    grid = reader.GetOutput()
    assert grid.GetNumberOfCells() == metrics["evaluation_cells"]
    assert {grid.GetCellType(i) for i in range(grid.GetNumberOfCells())} == {vtk.VTK_TETRA}
    data = grid.GetPointData()
    assert data.GetArray("displacement").GetNumberOfComponents() == 3
    assert data.GetArray("stress").GetNumberOfComponents() == 6
    points = vtk_to_numpy(grid.GetPoints().GetData())
    u = vtk_to_numpy(data.GetArray("displacement"))
    error = vtk_to_numpy(data.GetArray("displacement_error"))
    cells = vtk_to_numpy(grid.GetCells().GetConnectivityArray()).reshape(-1, 4)
    mesh = meshio.read(out / "fields.vtu")
    weights = nodal_weights(EvaluationMesh(points, cells, "tetra"))
    exact = u - error
    relative = np.sqrt((weights * (error**2).sum(1)).sum() / (weights * (exact**2).sum(1)).sum())
    assert relative == pytest.approx(metrics["rel_l2_displacement"], rel=1e-6)
    # the body's volume, from the file's cells alone (octant of a shell a = 1, b = 2)
    assert weights.sum() == pytest.approx(4 / 3 * np.pi * (8 - 1) / 8, rel=0.05)
    assert len(mesh.points) == len(points)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["evaluation_points"] == len(points)
    for name in ("fields_mid_x.png", "fields_mid_y.png", "fields_mid_z.png", "radial_displacement.png"):
        assert (out / name).stat().st_size > 1000


@pytest.mark.parametrize("dtype", ["float32", "mixed"])
def test_3d_trains_in_single_and_mixed_precision(dtype):
    tiny = ("train.n_interior=256", "train.n_boundary=128", "train.adam_steps=20", "train.lbfgs_steps=5")
    solver = Solver(make_config("case=beam3d", f"dtype={dtype}", *tiny, "model.width=16"))
    history = solver.train()
    assert np.isfinite(history.final_loss) and history.final_loss < history.loss[0]
    assert next(solver.field.parameters()).dtype == torch.float32 if dtype == "float32" else torch.float64
    assert solver.polish().applied  # in float64 from the float32 features; stored in the run's dtype
    metrics = solver.evaluate(solver.problem.geometry.mesh(9))[2]
    # 1.2e-4 measured for both with this tiny network and budget (0.74 before the polish)
    assert metrics["rel_l2_displacement"] < 1e-3
