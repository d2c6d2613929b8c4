"""Cases in YAML alone on the built-in primitives (``name: body``): the same body, the same loss
as the Python case, derived parameters, 3D CSG, and one-line errors for bad trees."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import yaml

from pinn_elastic.case_loader import load_case
from pinn_elastic.errors import ConfigError
from tests.conftest import assert_exact_solution, losses_on_the_same_points, run_cli

CONF = Path(__file__).parent / "fixtures" / "meshes" / "conf"
CANTILEVER = CONF / "case" / "cantilever_body.yaml"


def cantilever_values(**changes) -> dict:
    values = yaml.safe_load(CANTILEVER.read_text())
    values.update(changes)
    return values


def test_yaml_cantilever_gives_the_python_cantilevers_loss_to_the_last_bit():
    """Same rectangle, same edge names, same formulas: the collocation points, the lift and the
    loss of the YAML case equal those of ``cases/cantilever.py``."""
    yaml_case, _ = load_case(cantilever_values())
    python_case, _ = load_case({"name": "cantilever"})
    assert yaml_case.geometry.boundary_names == python_case.geometry.boundary_names
    losses = losses_on_the_same_points(yaml_case, python_case)
    assert losses[0] == losses[1]
    x = torch.rand(200, 2, dtype=torch.float64) * torch.tensor([4.0, 1.0]) - torch.tensor([0.0, 0.5])
    torch.testing.assert_close(
        yaml_case.exact_displacement(x), python_case.exact_displacement(x), rtol=1e-14, atol=1e-17
    )


def test_the_yaml_cantilevers_exact_field_solves_its_own_problem():
    problem, _ = load_case(cantilever_values())
    assert_exact_solution(problem, scale_stress=24.0, scale_length=4.0)


def test_plate_with_a_hole_from_primitives_matches_the_python_body():
    values = {
        "name": "body",
        "W": 1.0,
        "a": "W/4",
        "geometry": {
            "difference": [
                {"rectangle": {"lower": [0, 0], "upper": ["W", "W"]}},
                {"disk": {"center": [0, 0], "radius": "a", "name": "hole"}},
            ]
        },
        "E": 1000.0,
        "nu": 0.3,
        "conditions": [{"boundary": "hole", "pressure": 1.0}],
    }
    body = load_case(values)[0].geometry
    reference = load_case({"name": "plate_hole"})[0].geometry
    assert body.boundary_names == reference.boundary_names
    for name in body.boundary_names:
        assert body.boundary_measure(name) == pytest.approx(reference.boundary_measure(name), rel=1e-12)
    x = torch.rand(5000, 2, dtype=torch.float64)
    assert torch.equal(body.contains(x), reference.contains(x))


def test_a_3d_body_from_primitives_has_the_volume_and_faces_of_its_tree():
    """A box with a cylindrical bore, unioned with a sphere cap: the volume by Monte Carlo."""
    values = {
        "name": "body",
        "r": 0.2,
        "geometry": {
            "union": [
                {
                    "difference": [
                        {"box": {"lower": [0, 0, 0], "upper": [2, 1, 1]}},
                        {
                            "cylinder": {
                                "start": [1, 0.5, -1],
                                "end": [1, 0.5, 2],
                                "radius": "r",
                                "names": ["bore", "b0", "b1"],
                            }
                        },
                    ]
                },
                {"sphere": {"center": [2, 0.5, 0.5], "radius": 0.4, "name": "cap"}},
            ]
        },
        "E": 1.0,
        "nu": 0.25,
        "conditions": [{"boundary": "xmin", "displacement": [0, 0, 0]}],
    }
    body = load_case(values)[0].geometry
    assert body.dim == 3
    assert set(body.boundary_names) == {"xmin", "xmax", "ymin", "ymax", "zmin", "zmax", "bore", "cap"}
    assert body.boundary_measure("bore") == pytest.approx(2 * math.pi * 0.2 * 1.0, rel=1e-3)
    x = torch.rand(400_000, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x = x * torch.tensor([2.4, 1.0, 1.0])
    volume = 2.4 * body.contains(x).double().mean().item()
    exact = 2.0 - math.pi * 0.2**2 + 0.5 * 4 / 3 * math.pi * 0.4**3
    assert volume == pytest.approx(exact, rel=5e-3)


def test_a_yaml_body_case_runs_from_the_command_line(tmp_path):
    result = run_cli(
        tmp_path,
        "--config-dir",
        str(CONF),
        "case=cantilever_body",
        "train=quick",
        "model.width=32",
        "output.plots=false",
        "output.vtu=false",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["rel_l2_displacement"] < 1e-5, metrics["rel_l2_displacement"]


RECT = {"rectangle": {"lower": [0, 0], "upper": [1, 1]}}


@pytest.mark.parametrize(
    "changes, key, words",
    [
        ({"geometry": {"triangle": {}}}, "case.geometry.triangle", "rectangle, disk"),
        (
            {"geometry": {"rectangle": {"lower": [0, 0]}}},
            "case.geometry.rectangle.upper",
            "needs lower, upper",
        ),
        (
            {"geometry": {"rectangle": {"lower": [0, 0], "upper": [1, 1], "colour": 1}}},
            "case.geometry.rectangle.colour",
            "unknown key",
        ),
        (
            {"geometry": {"rectangle": {"lower": [0, 0], "upper": [1, 1, 1]}}},
            "case.geometry.rectangle.upper",
            "2",
        ),
        (
            {"geometry": {"rectangle": {"lower": [1, 1], "upper": [0, 0]}}},
            "case.geometry.rectangle",
            "lower < upper",
        ),
        ({"geometry": {"disk": {"center": [0, 0], "radius": -1}}}, "case.geometry.disk", "radius > 0"),
        ({"geometry": {"disk": {"center": [0, 0], "radius": "x"}}}, "case.geometry.disk.radius", "'x'"),
        ({"geometry": {"difference": [RECT]}}, "case.geometry.difference", "two or more"),
        (
            {"geometry": {"union": [RECT, {"sphere": {"center": [0, 0, 0], "radius": 1}}]}},
            "case.geometry.union[1]",
            "3D",
        ),
        ({"geometry": [RECT]}, "case.geometry", "one key"),
        ({"geometry": RECT, "file": "a.msh"}, "case.file", "not file"),
        ({"geometry": None, "name": "body"}, "case.geometry", "one key"),
        ({"k": "open('f')"}, "case.k", "unknown key"),
        (
            {"geometry": {"rectangle": {"lower": [0, 0], "upper": [1, 1], "names": ["a"]}}},
            "case.geometry.rectangle.names",
            "4 boundary names",
        ),
    ],
)
def test_bad_body_trees_are_one_line_errors(changes, key, words):
    values = {"name": "body", "geometry": RECT, "E": 1.0, "nu": 0.3, **changes}
    with pytest.raises(ConfigError) as info:
        load_case(values)
    message = str(info.value)
    assert message.startswith(key) and words in message and "\n" not in message, message
