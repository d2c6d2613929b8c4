"""A whole run: metrics.json, fields.vtu read back, plots, units invariance, the CLI itself."""

import json

import meshio
import numpy as np
import pytest
import torch

from pinn_elastic.atomic import atomic_path
from pinn_elastic.pipeline import run
from pinn_elastic.runner import Solver

from .conftest import make_config, run_cli

QUICK = ("train=quick", "output.resolution=41")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    metrics = run(make_config(*QUICK), out)
    return out, metrics


def test_metrics_file_has_the_documented_keys(finished_run):
    out, metrics = finished_run
    saved = json.loads((out / "metrics.json").read_text())
    for key in (
        "rel_l2_displacement",
        "rel_l2_stress",
        "tip_deflection",
        "tip_deflection_exact",
        "train_seconds",
        "final_loss",
        "max_error_displacement",
        "max_error_stress",
    ):
        assert key in saved
    assert saved["rel_l2_displacement"] == pytest.approx(metrics["rel_l2_displacement"])
    assert saved["rel_l2_displacement"] < 1e-3 and saved["rel_l2_stress"] < 1e-2


def test_vtu_has_fields_in_physical_units_and_paraview_layout(finished_run):
    out, metrics = finished_run
    mesh = meshio.read(out / "fields.vtu")
    data = mesh.point_data
    n = len(mesh.points)
    assert mesh.points.shape == (n, 3) and np.all(mesh.points[:, 2] == 0)
    assert mesh.cells_dict["triangle"].max() < n
    for name, width in [
        ("displacement", 3),
        ("strain", 6),
        ("stress", 6),
        ("displacement_exact", 3),
        ("stress_exact", 6),
        ("displacement_error", 3),
    ]:
        assert data[name].shape == (n, width), name
    assert data["von_mises"].shape in ((n,), (n, 1))
    assert np.all(data["displacement"][:, 2] == 0)
    # Plane stress: sigma_zz = 0 (ZZ is the third of XX, YY, ZZ, XY, YZ, XZ).
    assert np.abs(data["stress_exact"][:, 2]).max() < 1e-9
    assert np.allclose(data["displacement_error"], data["displacement"] - data["displacement_exact"])
    # From the file alone: the exact sigma_xx at the top of the clamp is P L (D/2) / I = 24.
    top_clamp = np.argmin(np.hypot(mesh.points[:, 0], mesh.points[:, 1] - 0.5))
    assert data["stress_exact"][top_clamp, 0] == pytest.approx(24.0, rel=1e-9)
    err = np.linalg.norm(data["displacement_error"], axis=1).max()
    assert err == pytest.approx(metrics["max_error_displacement"], rel=1e-6)
    tip = np.argmin(np.hypot(mesh.points[:, 0] - 4.0, mesh.points[:, 1]))
    assert data["displacement"][tip, 1] == pytest.approx(metrics["tip_deflection"], rel=1e-6)


def test_vtk_reader_opens_the_file(finished_run):
    vtk = pytest.importorskip("vtk")
    out, _ = finished_run
    reader = vtk.vtkXMLUnstructuredGridReader()
    reader.SetFileName(str(out / "fields.vtu"))
    reader.Update()
    grid = reader.GetOutput()
    assert grid.GetNumberOfCells() > 0
    stress = grid.GetPointData().GetArray("stress")
    assert stress.GetNumberOfComponents() == 6


def test_plots_are_written(finished_run):
    out, _ = finished_run
    for name in ("loss.png", "fields.png", "deflection.png"):
        assert (out / name).stat().st_size > 1000
    assert not list(out.glob(".*"))  # no temporary files left behind


def test_steel_beam_in_si_units_is_as_accurate(tmp_path):
    # A steel cantilever in Pa, m, N: 2 m long, 0.25 m deep, 20 kN.
    si = run(
        make_config(
            *QUICK,
            "case.E=2.1e11",
            "case.nu=0.29",
            "case.length=2.0",
            "case.height=0.25",
            "case.load=2e4",
            "output.vtu=false",
            "output.plots=false",
        ),
        tmp_path,
    )
    assert si["rel_l2_displacement"] < 1e-3 and si["rel_l2_stress"] < 1e-2


def test_a_change_of_units_leaves_the_nondimensional_problem_unchanged():
    # E and P scaled together (MPa -> Pa), lengths in mm instead of m: same network inputs and targets.
    base = Solver(make_config(*QUICK))
    other = Solver(make_config(*QUICK, "case.E=1e9", "case.load=1e9", "case.length=4000", "case.height=1000"))
    a, b = base.sample(), other.sample()
    assert torch.allclose(a.interior, b.interior, rtol=1e-12, atol=1e-12)
    for ta, tb in zip(a.terms, b.terms):
        assert torch.allclose(ta.target, tb.target, rtol=1e-10, atol=1e-12)
    assert other.lam_hat == pytest.approx(base.lam_hat) and other.mu_hat == pytest.approx(base.mu_hat)
    assert other.scales.displacement == pytest.approx(1000 * base.scales.displacement)


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "fields.vtu"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("writer crashed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["fields.vtu"]


def test_cli_runs_and_writes_outputs(tmp_path):
    result = run_cli(
        tmp_path,
        *QUICK,
        "train.adam_steps=10",
        "train.lbfgs_steps=5",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run_dir = tmp_path / "run"
    assert (run_dir / "metrics.json").exists() and (run_dir / "fields.vtu").exists()
    log = (run_dir / "pinn_elastic.log").read_text()
    assert "adam" in log and "lbfgs" in log and "rel_l2_displacement" in log
