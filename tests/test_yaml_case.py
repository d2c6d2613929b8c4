"""Cases in YAML alone on a mesh file: a run end to end, the same loss as Python, one-line errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import meshio
import pytest
import torch

from pinn_elastic import Displacement, Material, Problem, Traction
from pinn_elastic.case_loader import load_case
from pinn_elastic.errors import ConfigError
from pinn_elastic.geometry import MeshBody
from tests.conftest import losses_on_the_same_points, run_cli

MESHES = Path(__file__).parent / "fixtures" / "meshes"
CASE_DIR = MESHES / "conf" / "case"


def ring_case(**changes) -> dict:
    case = {
        "name": "mesh",
        "file": "ring_tri6_41.msh",
        "E": 1000.0,
        "nu": 0.3,
        "plane": "strain",
        "p": 1.0,
        "conditions": [
            {"boundary": "x_axis", "displacement": [None, 0]},
            {"boundary": "y_axis", "displacement": [0, None]},
            {"boundary": "inner", "pressure": "p"},
        ],
    }
    case.update(changes)
    return case


def test_lame_ring_from_yaml_and_a_mesh_runs_end_to_end(tmp_path):
    """A coarse second-order mesh (edges about 0.15 of the outer radius), a quick budget."""
    result = run_cli(
        tmp_path,
        "--config-dir",
        str(MESHES / "conf"),
        "case=lame_ring",
        "train=quick",
        "model.width=32",
        "output.plots=false",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["rel_l2_displacement"] < 1e-3, metrics["rel_l2_displacement"]
    fields = meshio.read(tmp_path / "run" / "fields.vtu")
    source = meshio.read(MESHES / "ring_tri6_41.msh")
    assert [c.type for c in fields.cells] == ["triangle6"]
    assert len(fields.cells[0].data) == len(source.cells_dict["triangle6"])


def test_yaml_case_gives_the_loss_of_the_same_case_in_python():
    problem, _ = load_case(ring_case(), [MESHES])
    p = 1.0
    python = Problem(
        geometry=MeshBody(MESHES / "ring_tri6_41.msh"),
        material=Material(1000.0, 0.3, "strain"),
        conditions=(
            Displacement("x_axis", lambda x: torch.zeros_like(x), (1,)),
            Displacement("y_axis", lambda x: torch.zeros_like(x), (0,)),
            Traction("inner", lambda x, n: -p * n),
        ),
    )
    losses = losses_on_the_same_points(problem, python)
    assert losses[0] == losses[1]


@pytest.mark.parametrize(
    "changes, key, words",
    [
        (
            {"conditions": [{"boundary": "bore", "pressure": 1}]},
            "case.conditions[0].boundary",
            "inner, outer",
        ),
        (
            {"conditions": [{"boundary": "inner", "pressure": "open('x')"}]},
            "case.conditions[0].pressure",
            "open",
        ),
        ({"conditions": [{"boundary": "inner", "presure": 1}]}, "case.conditions[0].presure", "unknown key"),
        (
            {"conditions": [{"boundary": "inner", "pressure": 1, "traction": [0, 0]}]},
            "case.conditions[0]",
            "exactly one",
        ),
        (
            {"conditions": [{"boundary": "inner", "traction": [0, 0, 1]}]},
            "case.conditions[0].traction",
            "list of 2",
        ),
        ({"file": "nowhere.msh"}, "case.file", "no such file"),
        ({"E": -1.0}, "case.E", "> 0"),
        ({"colour": "red"}, "case.colour", "unknown key"),
        ({"body_force": [0, "g * rho"]}, "case.body_force[1]", "name 'g'"),
    ],
)
def test_bad_yaml_cases_are_one_line_errors(changes, key, words):
    with pytest.raises(ConfigError) as info:
        load_case(ring_case(**changes), [MESHES])
    message = str(info.value)
    assert message.startswith(key) and words in message and "\n" not in message, message


def test_relative_paths_start_at_the_yaml_folder_then_the_working_directory(tmp_path):
    """The same relative file name resolves in the first folder that has it."""
    problem, _ = load_case(ring_case(file="../../ring_tri_41.msh"), [CASE_DIR, tmp_path])
    assert problem.geometry.path.resolve() == (MESHES / "ring_tri_41.msh").resolve()
    problem, _ = load_case(ring_case(file="ring_quad_41.msh"), [CASE_DIR, MESHES])
    assert problem.geometry.path.name == "ring_quad_41.msh"
    assert math.isclose(problem.geometry.volume, 3 * math.pi / 4, rel_tol=0.03)


def test_an_xdmf_with_numbered_tags_takes_the_numbers_as_boundary_names():
    """meshio's XDMF keeps gmsh's integer tags but not their names: groups are named by the
    numbers (1 inner, 2 y_axis, 3 outer, 4 x_axis), and a YAML boundary may be the number. The
    problem equals the named mesh's: the same loss on the same points."""
    pytest.importorskip("h5py")
    numbered = ring_case(
        file="ring_tri_tags.xdmf",
        conditions=[
            {"boundary": 4, "displacement": [None, 0]},
            {"boundary": "2", "displacement": [0, None]},
            {"boundary": 1, "pressure": "p"},
        ],
    )
    problem, _ = load_case(numbered, [MESHES])
    assert problem.geometry.boundary_names == ("1", "2", "3", "4")
    named, _ = load_case(ring_case(file="ring_tri_22.msh"), [MESHES])
    losses = losses_on_the_same_points(problem, named)
    assert losses[0] == pytest.approx(losses[1], rel=1e-12)
    with pytest.raises(ConfigError, match="it has: 1, 2, 3, 4"):
        load_case(ring_case(file="ring_tri_tags.xdmf", conditions=[{"boundary": 7, "pressure": 1}]), [MESHES])
