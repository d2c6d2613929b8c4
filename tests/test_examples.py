"""The worked examples (examples/): their YAML cases load from the Hydra config folder, their
meshes carry the groups the cases name, and the finite-element references agree in physics:
the 3D lug (10 mm thick) deflects as the 2D plane-stress lug does, and carries the pin's load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from pinn_elastic.case_loader import load_case
from pinn_elastic.reference.fem import solve_fem

pytest.importorskip("skfem")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONF = EXAMPLES / "conf"


def example(name: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="case/" + name)
    values = OmegaConf.to_container(cfg.case, resolve=True)
    problem, _ = load_case(values, [CONF / "case", Path.cwd()])
    return problem


@pytest.fixture(scope="module")
def solutions():
    out = {}
    for name in ("lug2d", "lug3d"):
        problem = example(name)
        mesh = problem.geometry.mesh(0)
        out[name] = (problem, mesh, solve_fem(problem, mesh))
    return out


def test_the_examples_name_their_meshes_groups(solutions):
    assert set(solutions["lug2d"][0].geometry.boundary_names) == {"base", "edge", "sym", "hole"}
    names = {"base", "edge", "sym", "hole", "mid", "face"}
    assert set(solutions["lug3d"][0].geometry.boundary_names) == names
    assert solutions["lug2d"][1].source_cells[0][0] == "triangle6"
    assert solutions["lug3d"][1].source_cells[0][0] == "tetra10"


def test_the_3d_lug_deflects_as_the_plane_stress_lug(solutions):
    """Lifted by the pin, the top of the hole rises by about 0.016 mm in both models."""
    tops = []
    for name in ("lug2d", "lug3d"):
        _, mesh, fem = solutions[name]
        top = np.linalg.norm(mesh.points[:, :2] - [0.0, 48.0], axis=1) < 1e-9
        tops.append(fem.displacement[top, 1].mean())
    assert 0.014 < tops[0] < 0.019
    assert abs(tops[1] - tops[0]) < 0.03 * tops[0], tops


def test_the_fem_lug_carries_the_pins_load_through_its_base(solutions):
    """Equilibrium: the base's mean stress sigma_yy times its width is the pin's resultant,
    the integral of p0 sin(theta)^2 sin(theta) r over the quarter hole: 2/3 p0 r (per unit
    thickness)."""
    problem, mesh, fem = solutions["lug2d"]
    lam, mu = problem.material.lame(2)
    eps = 0.5 * (fem.gradient + fem.gradient.transpose(0, 2, 1))
    syy = lam * (eps[:, 0, 0] + eps[:, 1, 1]) + 2 * mu * eps[:, 1, 1]
    base = np.abs(mesh.points[:, 1]) < 1e-9
    x = mesh.points[base, 0]
    order = np.argsort(x)
    y, x = syy[base][order], x[order]
    force = float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())  # the trapezoidal rule
    assert force == pytest.approx(2 / 3 * 100.0 * 8.0, rel=2e-2)
