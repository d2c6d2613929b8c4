"""A case defined outside the package (tests/fixtures/user_case), run through the CLI."""

import json
from pathlib import Path

import pytest

from .conftest import run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "user_case"


def test_user_case_from_its_own_folder_trains(tmp_path):
    result = run_cli(
        FIXTURE,
        "--config-dir",
        "conf",
        "case=thick_cylinder",
        "train=quick",
        "model.width=32",
        "output.resolution=41",
        "output.plots=false",
        f"hydra.run.dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["case"] == "thick_cylinder"
    assert metrics["rel_l2_displacement"] < 0.1
    assert abs(metrics["bore_displacement"] / metrics["bore_displacement_exact"] - 1) < 0.05
    assert (tmp_path / "fields.vtu").exists()


def test_unknown_source_file_is_a_one_line_error(tmp_path):
    result = run_cli(
        tmp_path,
        "--config-dir",
        str(FIXTURE / "conf"),
        "case=thick_cylinder",
        "case.source=missing.py",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("pinn-elastic: error: case.source = 'missing.py'")
    assert not (tmp_path / "run").exists()


def test_3d_user_case_with_a_body_force_trains(tmp_path):
    """The README's 3D example: a steel bar hanging under its own weight, SI units."""
    result = run_cli(
        FIXTURE,
        "--config-dir",
        "conf",
        "case=hanging_bar",
        "train=quick",
        "train.adam_steps=40",
        "train.lbfgs_steps=20",
        "model.width=32",
        "output.resolution=21",
        "output.plots=false",
        f"hydra.run.dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["rel_l2_displacement"] < 1e-4
    assert metrics["tip_displacement"] == pytest.approx(metrics["tip_displacement_exact"], rel=1e-3)
