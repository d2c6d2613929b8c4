"""Kirsch and manufactured plates: exact fields through the project's operators, and the BCs."""

import math

import pytest
import torch

from cases import manufactured, plate_hole
from pinn_elastic.derivatives import autograd_jet
from pinn_elastic.mechanics import stress
from pinn_elastic.problem import components_of
from tests.conftest import assert_exact_solution

f64 = torch.float64


@pytest.mark.parametrize(
    "params",
    [
        plate_hole.Params(),
        plate_hole.Params(side=0.2, radius=0.08, traction=5e7, E=7e10, nu=0.33, plane="strain"),
    ],
)
def test_kirsch_field_is_exact_on_the_finite_plate(params):
    problem = plate_hole.build(params)
    assert_exact_solution(problem, params.traction, params.side)
    # Stress through Hooke's law of the exact displacement equals Kirsch's stress formulas.
    x = problem.geometry.sample_interior(200, torch.Generator().manual_seed(1), f64)
    lam, mu = problem.material.lame(2)
    grad = autograd_jet(problem.exact_displacement, x, hessian=False, create_graph=False).grad
    kirsch = plate_hole.kirsch_stress(x, params.radius, params.traction)
    assert torch.allclose(stress(grad, lam, mu), kirsch, atol=1e-10 * params.traction)


def test_kirsch_stress_concentration_is_three():
    p = plate_hole.Params(radius=0.3, traction=2.0)
    s = plate_hole.kirsch_stress(torch.tensor([[0.0, 0.3]], dtype=f64), p.radius, p.traction)
    assert s[0, 0, 0].item() == pytest.approx(3 * 2.0)


@pytest.mark.parametrize(
    "params",
    [manufactured.Params(), manufactured.Params(side=2.0, amplitude=1e-3, lam=1.2e11, mu=8e10, Q=3.0)],
)
def test_manufactured_field_is_exact(params):
    problem = manufactured.build(params)
    scale = (params.lam + 2 * params.mu) * params.amplitude / params.side
    assert_exact_solution(problem, scale, params.side)


def test_manufactured_body_force_matches_finite_differences():
    """The autograd body force against an independent central-difference Navier operator."""
    p = manufactured.Params()
    problem = manufactured.build(p)
    x = torch.rand(20, 2, dtype=f64) * 0.8 + 0.1
    u, h = problem.exact_displacement, 1e-4
    e = torch.eye(2, dtype=f64) * h

    def d2(i, j):  # d^2 u / dx_i dx_j
        return (u(x + e[i] + e[j]) - u(x + e[i] - e[j]) - u(x - e[i] + e[j]) + u(x - e[i] - e[j])) / (
            4 * h * h
        )

    lap = d2(0, 0) + d2(1, 1)
    grad_div = torch.stack([d2(0, 0)[:, 0] + d2(0, 1)[:, 1], d2(1, 0)[:, 0] + d2(1, 1)[:, 1]], -1)
    f_fd = -(p.mu * lap + (p.lam + p.mu) * grad_div)
    assert torch.allclose(problem.body_force(x), f_fd, atol=1e-5 * f_fd.abs().max())


def test_manufactured_conditions_are_per_component():
    problem = manufactured.build(manufactured.Params())
    top = [c for c in problem.all_conditions if c.boundary == "top"]
    assert sorted((type(c).__name__, components_of(c, 2)) for c in top) == [
        ("Displacement", (0,)),
        ("Traction", (1,)),
    ]


def test_radius_not_smaller_than_side_is_rejected():
    from pinn_elastic.errors import ConfigError

    with pytest.raises(ConfigError, match=r"case\.radius"):
        plate_hole.Params(side=1.0, radius=1.5)


def test_scf_probe_is_at_the_top_of_the_hole():
    (probe,) = plate_hole.build(plate_hole.Params(radius=0.4, traction=3.0)).probes
    assert probe.point == (0.0, 0.4) and probe.component == (0, 0) and math.isclose(probe.scale, 1 / 3.0)
