"""The exact Timoshenko field through the project's own operators: equilibrium and every BC."""

import pytest
import torch

from cases.cantilever import Params, build
from pinn_elastic.derivatives import autograd_jet
from pinn_elastic.mechanics import navier_residual, stress, traction
from pinn_elastic.problem import Displacement, Traction

f64 = torch.float64


@pytest.mark.parametrize("plane", ["stress", "strain"])
@pytest.mark.parametrize("units", [dict(), dict(E=2.1e11, nu=0.29, length=2.0, height=0.15, load=5e3)])
def test_exact_field_satisfies_equilibrium_and_boundary_conditions(plane, units):
    p = Params(plane=plane, **units)
    problem = build(p)
    lam, mu = problem.material.lame(2)
    gen = torch.Generator().manual_seed(0)
    x = problem.geometry.sample_interior(500, gen, f64)
    jet = autograd_jet(problem.exact_displacement, x, hessian=True, create_graph=False)
    sigma = stress(jet.grad, lam, mu)
    # Residual relative to the stress gradient scale P L / I / D
    inertia = p.height**3 / 12
    scale = p.load * p.length / inertia / p.height
    assert navier_residual(jet.hess, lam, mu, None).abs().max() / scale < 1e-12

    # The stress equals Timoshenko's formulas.
    X, Y = x[:, 0], x[:, 1]
    assert torch.allclose(
        sigma[:, 0, 0], p.load * (p.length - X) * Y / inertia, rtol=1e-10, atol=1e-10 * scale
    )
    assert sigma[:, 1, 1].abs().max() < 1e-10 * scale * p.height
    sxy = -p.load / (2 * inertia) * (p.height**2 / 4 - Y**2)
    assert torch.allclose(sigma[:, 0, 1], sxy, rtol=1e-10, atol=1e-10 * scale)

    for condition in problem.all_conditions:
        xb, nb = problem.geometry.sample_boundary(condition.boundary, 200, gen, f64)
        bj = autograd_jet(problem.exact_displacement, xb, hessian=False, create_graph=False)
        if isinstance(condition, Displacement):
            assert torch.allclose(bj.value, condition.evaluate(xb))
        else:
            assert isinstance(condition, Traction)
            t = traction(stress(bj.grad, lam, mu), nb)
            assert (t - condition.evaluate(xb, nb)).abs().max() < 1e-10 * scale * p.height


def test_shear_load_integrates_to_minus_p():
    p = Params(load=3.0, height=2.0)
    problem = build(p)
    (right,) = [c for c in problem.conditions if c.boundary == "right"]
    y = torch.linspace(-1.0, 1.0, 20001, dtype=f64)
    x = torch.stack([torch.full_like(y, p.length), y], -1)
    ty = right.evaluate(x, torch.tensor([[1.0, 0.0]], dtype=f64).expand(len(y), 2))[:, 1]
    assert torch.trapezoid(ty, y).item() == pytest.approx(-3.0, rel=1e-6)


def test_tip_deflection_matches_beam_theory_with_shear_correction():
    # u_y(L, 0) = -P L^3/(3EI) - (4 + 5 nu) P D^2 L / (24 E I)
    p = Params()
    problem = build(p)
    inertia = p.height**3 / 12
    tip = problem.exact_displacement(torch.tensor([[p.length, 0.0]], dtype=f64))[0, 1].item()
    expected = -p.load * p.length**3 / (3 * p.E * inertia) - (
        4 + 5 * p.nu
    ) * p.load * p.height**2 * p.length / (24 * p.E * inertia)
    assert tip == pytest.approx(expected, rel=1e-12)
