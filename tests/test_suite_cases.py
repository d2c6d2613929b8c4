"""The suite's textbook cases against their textbooks: resultants and values that do not go
through the operators that derive the data (those checks would pass by construction)."""

import math

import pytest
import torch

from cases import curved_bar, gravity_column, lame_cylinder, simply_supported
from pinn_elastic.derivatives import autograd_jet
from pinn_elastic.mechanics import stress

f64 = torch.float64


def _stress(problem, x):
    grad = autograd_jet(problem.exact_displacement, x, hessian=False, create_graph=False).grad
    return stress(grad, *problem.material.lame(2))


def test_curved_bar_end_carries_the_moment_and_no_force():
    """At theta = pi/2 (x = 0): int sigma_tt dr = 0 and int sigma_tt r dr = -M (T&G's sign)."""
    p = curved_bar.Params(inner=0.5, outer=1.7, moment=3.0, E=2e5, nu=0.25)
    problem = curved_bar.build(p)
    r = torch.linspace(p.inner, p.outer, 4001, dtype=f64)
    x = torch.stack([torch.zeros_like(r), r], -1)
    s_tt = _stress(problem, x)[:, 0, 0]  # on x = 0 the hoop direction is -x
    assert torch.trapezoid(s_tt, r).item() == pytest.approx(0.0, abs=1e-6 * p.moment)
    assert torch.trapezoid(s_tt * r, r).item() == pytest.approx(-p.moment, rel=1e-6)
    # and the curved faces are free: sigma_rr = 0 at r = a, b along any ray
    for radius in (p.inner, p.outer):
        point = torch.tensor([[radius * math.cos(0.6), radius * math.sin(0.6)]], dtype=f64)
        e_r = point / radius
        assert (e_r @ _stress(problem, point)[0] @ e_r.T).item() == pytest.approx(0.0, abs=1e-9)


def test_simply_supported_beam_support_reaction_and_midspan_deflection():
    p = simply_supported.Params(span=6.0, height=0.8, load=2.5, E=3e4, nu=0.2)
    problem = simply_supported.build(p)
    half, c = p.span / 2, p.height / 2
    y = torch.linspace(-c, c, 4001, dtype=f64)
    support = torch.stack([torch.full_like(y, half), y], -1)
    s = _stress(problem, support)
    assert torch.trapezoid(s[:, 0, 1], y).item() == pytest.approx(p.load * half, rel=1e-6)  # q l
    assert torch.trapezoid(s[:, 0, 0], y).item() == pytest.approx(0.0, abs=1e-6)  # no axial force
    assert torch.trapezoid(s[:, 0, 0] * y, y).item() == pytest.approx(0.0, abs=1e-6)  # hinge: no moment
    inertia = 2 * c**3 / 3
    deflection = (
        5 * p.load * half**4 / (24 * p.E * inertia) * (1 + 12 * c**2 / (5 * half**2) * (0.8 + p.nu / 2))
    )
    midspan = problem.exact_displacement(torch.zeros(1, 2, dtype=f64))[0, 1].item()
    assert midspan == pytest.approx(-deflection, rel=1e-12)


@pytest.mark.parametrize("plane", ["strain", "stress"])
def test_lame_cylinder_radial_stress_equals_the_pressures(plane):
    p = lame_cylinder.Params(
        inner=0.3, outer=0.5, inner_pressure=2e6, outer_pressure=5e5, E=2e11, plane=plane
    )
    problem = lame_cylinder.build(p)
    for radius, pressure in ((p.inner, p.inner_pressure), (p.outer, p.outer_pressure)):
        point = torch.tensor([[radius * math.cos(0.4), radius * math.sin(0.4)]], dtype=f64)
        e_r = point / radius
        s_rr = (e_r @ _stress(problem, point)[0] @ e_r.T).item()
        assert s_rr == pytest.approx(-pressure, rel=1e-9)


def test_column_base_stress_is_the_weight():
    p = gravity_column.Params()
    problem = gravity_column.build(p)
    base = torch.tensor([[0.05, 0.0]], dtype=f64)
    assert _stress(problem, base)[0, 1, 1].item() == pytest.approx(
        -p.density * p.gravity * p.height, rel=1e-9
    )
