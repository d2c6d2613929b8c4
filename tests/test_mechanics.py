"""Hooke's law, tractions and the Navier-Cauchy operator against hand computations."""

import math

import pytest
import torch

from pinn_elastic.derivatives import autograd_jet
from pinn_elastic.materials import Material
from pinn_elastic.mechanics import navier_residual, strain, stress, traction, von_mises

f64 = torch.float64


def test_uniaxial_strain_gives_hand_computed_stress():
    # u = (a x, 0): eps_xx = a, sigma_xx = (lam + 2 mu) a, sigma_yy = lam a
    lam, mu, a = 2.0, 3.0, 0.01
    grad = torch.tensor([[[a, 0.0], [0.0, 0.0]]], dtype=f64)
    sigma = stress(grad, lam, mu)
    assert torch.allclose(sigma, torch.tensor([[[(lam + 2 * mu) * a, 0], [0, lam * a]]], dtype=f64))


def test_simple_shear_strain_is_symmetric_part():
    grad = torch.tensor([[[0.0, 0.2], [0.0, 0.0]]], dtype=f64)
    assert torch.allclose(strain(grad), torch.tensor([[[0.0, 0.1], [0.1, 0.0]]], dtype=f64))
    sigma = stress(grad, 1.0, 5.0)
    assert sigma[0, 0, 1].item() == pytest.approx(2 * 5.0 * 0.1)


def test_traction_is_stress_times_normal():
    sigma = torch.tensor([[[1.0, 2.0], [2.0, 3.0]]], dtype=f64)
    n = torch.tensor([[0.6, 0.8]], dtype=f64)
    assert torch.allclose(traction(sigma, n), torch.tensor([[0.6 + 1.6, 1.2 + 2.4]], dtype=f64))


def test_rigid_body_motion_is_stress_free():
    theta, t = 0.3, torch.tensor([1.0, -2.0], dtype=f64)

    def rigid(x):  # infinitesimal rotation + translation
        return torch.stack([-theta * x[:, 1], theta * x[:, 0]], -1) + t

    x = torch.rand(20, 2, dtype=f64)
    jet = autograd_jet(rigid, x, hessian=True, create_graph=False)
    assert stress(jet.grad, 1.7, 0.9).abs().max() < 1e-14
    assert navier_residual(jet.hess, 1.7, 0.9, None).abs().max() < 1e-14


def test_plane_stress_and_plane_strain_lame_parameters():
    E, nu = 210e9, 0.3
    strain_mat, stress_mat = Material(E, nu, "strain"), Material(E, nu, "stress")
    lam3d = E * nu / ((1 + nu) * (1 - 2 * nu))
    mu = E / (2 * (1 + nu))
    assert strain_mat.lame(2) == pytest.approx((lam3d, mu))
    assert stress_mat.lame(2) == pytest.approx((E * nu / (1 - nu**2), mu))
    assert stress_mat.lame(2)[0] == pytest.approx(2 * lam3d * mu / (lam3d + 2 * mu))
    # Plane stress: a uniaxial stress state has sigma_yy = 0 and eps_yy = -nu eps_xx.
    lam, mu = stress_mat.lame(2)
    eps_xx = 1e-3
    eps_yy = -nu * eps_xx
    sigma = stress(torch.tensor([[[eps_xx, 0.0], [0.0, eps_yy]]], dtype=f64), lam, mu)
    assert sigma[0, 1, 1].item() == pytest.approx(0.0, abs=1e-6 * E * eps_xx)
    assert sigma[0, 0, 0].item() == pytest.approx(E * eps_xx)


def test_material_from_lame_round_trip():
    m = Material.from_lame(1.0, 0.5)
    assert m.lam_3d == pytest.approx(1.0) and m.mu == pytest.approx(0.5)


def test_von_mises_of_uniaxial_and_pure_shear():
    s = torch.tensor([[[5.0, 0.0], [0.0, 0.0]]], dtype=f64)
    assert von_mises(s).item() == pytest.approx(5.0)
    shear = torch.tensor([[[0.0, 2.0], [2.0, 0.0]]], dtype=f64)
    assert von_mises(shear).item() == pytest.approx(math.sqrt(3) * 2.0)


def test_navier_operator_matches_divergence_of_stress_by_autograd():
    lam, mu = 1.3, 0.7

    def u(x):
        return torch.stack([torch.sin(x[:, 0]) * x[:, 1] ** 2, torch.exp(x[:, 0] * x[:, 1])], -1)

    x = torch.rand(30, 2, dtype=f64)
    jet = autograd_jet(u, x, hessian=True, create_graph=False)

    def sigma_rows(xx):  # differentiable in xx (autograd_jet would detach it)
        value = u(xx)
        rows = [torch.autograd.grad(value[:, i].sum(), xx, create_graph=True)[0] for i in range(2)]
        return stress(torch.stack(rows, 1), lam, mu).reshape(len(xx), 4)

    dsig = autograd_jet(sigma_rows, x, hessian=False, create_graph=False).grad.reshape(30, 2, 2, 2)
    divergence = dsig.diagonal(dim1=-2, dim2=-1).sum(-1)  # sum_j d sigma_ij / dx_j
    assert torch.allclose(navier_residual(jet.hess, lam, mu, None), divergence, atol=1e-12)


def test_plane_strain_is_plane_stress_with_substituted_constants():
    """The constants that let a textbook plane-stress solution serve plane strain give the same
    in-plane Lame parameters as the plane-strain material itself."""
    strain_material = Material(2e11, 0.29, "strain")
    E_eq, nu_eq = strain_material.plane_stress_constants()
    assert Material(E_eq, nu_eq, "stress").lame(2) == pytest.approx(strain_material.lame(2), rel=1e-12)
    assert Material(5.0, 0.3, "stress").plane_stress_constants() == (5.0, 0.3)
