"""Jets: autograd against finite differences, the forward (Taylor-mode) sweep against autograd."""

import pytest
import torch

from pinn_elastic.activations import ACTIVATIONS
from pinn_elastic.derivatives import Jet, autograd_jet
from pinn_elastic.models import MLP
from pinn_elastic.taylor import apply_head, feature_jet, mlp_jet

f64 = torch.float64


def field(x):
    return torch.stack([torch.sin(2 * x[:, 0]) * x[:, 1], x[:, 0] ** 3 * torch.cos(x[:, 1])], -1)


def test_autograd_jet_matches_central_differences():
    x = torch.rand(10, 2, dtype=f64)
    jet = autograd_jet(field, x, hessian=True, create_graph=False)
    h = 1e-5
    for j in range(2):
        e = torch.zeros(2, dtype=f64)
        e[j] = h
        fd = (field(x + e) - field(x - e)) / (2 * h)
        assert torch.allclose(jet.grad[:, :, j], fd, atol=1e-8)
        g_plus = autograd_jet(field, x + e, hessian=False, create_graph=False).grad
        g_minus = autograd_jet(field, x - e, hessian=False, create_graph=False).grad
        assert torch.allclose(jet.hess[:, :, :, j], (g_plus - g_minus) / (2 * h), atol=1e-7)


def test_jet_product_rule_matches_autograd_of_product():
    def a(x):
        return torch.stack([x[:, 0] * x[:, 1], torch.exp(x[:, 0])], -1)

    x = torch.rand(8, 2, dtype=f64)
    ja = autograd_jet(a, x, hessian=True, create_graph=False)
    jb = autograd_jet(field, x, hessian=True, create_graph=False)
    direct = autograd_jet(lambda y: a(y) * field(y), x, hessian=True, create_graph=False)
    prod, total = ja * jb, ja + jb
    assert torch.allclose(prod.value, direct.value)
    assert torch.allclose(prod.grad, direct.grad)
    assert torch.allclose(prod.hess, direct.hess)
    assert isinstance(total, Jet) and torch.allclose(total.hess, ja.hess + jb.hess)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_sweep_equals_nested_autograd(activation, dim):
    torch.manual_seed(1)
    net = MLP(dim, dim, 24, 3, activation, -2 * torch.ones(dim), torch.ones(dim)).double()
    x = torch.randn(64, dim, dtype=f64)
    reference = autograd_jet(net, x, hessian=True, create_graph=True)
    forward = mlp_jet(net, x, hessian=True)
    for a, b in [
        (forward.value, reference.value),
        (forward.grad, reference.grad),
        (forward.hess, reference.hess),
    ]:
        assert (a - b).abs().max() < 1e-10
    # The parameter gradients of a loss built from the jets agree as well.
    weights = torch.randn_like(reference.hess)
    g_ref = torch.autograd.grad(
        (reference.hess * weights).sum() + reference.grad.sum() + reference.value.sum(),
        list(net.parameters()),
    )
    g_fwd = torch.autograd.grad(
        (forward.hess * weights).sum() + forward.grad.sum() + forward.value.sum(), list(net.parameters())
    )
    for a, b in zip(g_ref, g_fwd):
        assert (a - b).abs().max() < 1e-10 * (1 + b.abs().max())


def test_head_applied_to_features_is_the_network():
    net = MLP(2, 2, 16, 2, "gelu").double()
    x = torch.randn(20, 2, dtype=f64)
    whole, split = mlp_jet(net, x, True), apply_head(net, feature_jet(net, x, True))
    assert torch.allclose(whole.hess, split.hess) and torch.allclose(whole.value, split.value)


def test_activation_closed_form_derivatives_match_autograd():
    z = torch.linspace(-4, 4, 101, dtype=f64)
    for activation in ACTIVATIONS.values():
        value, first, second = activation.derivatives(z)
        assert torch.allclose(value, activation.fn(z))
        zz = z.clone().requires_grad_(True)
        (d1,) = torch.autograd.grad(activation.fn(zz).sum(), zz, create_graph=True)
        (d2,) = torch.autograd.grad(d1.sum(), zz, allow_unused=True)
        d2 = torch.zeros_like(z) if d2 is None else d2
        assert torch.allclose(first, d1.detach(), atol=1e-12), activation.name
        mask = z.abs() > 1e-9  # ReLU's kink
        assert torch.allclose(second[mask], d2[mask], atol=1e-12), activation.name


def test_third_derivatives_match_autograd():
    z = torch.linspace(-4, 4, 101, dtype=f64)
    for activation in ACTIVATIONS.values():
        if activation.third is None:
            continue
        zz = z.clone().requires_grad_(True)
        second = activation.derivatives(zz)[2]
        if second.requires_grad:
            (d3,) = torch.autograd.grad(second.sum(), zz)
        else:  # ReLU: sigma'' is the constant 0
            d3 = torch.zeros_like(z)
        mask = z.abs() > 1e-9
        assert torch.allclose(activation.third(z)[mask], d3[mask], atol=1e-12), activation.name


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("activation", ["gelu", "gelu_tanh", "silu"])  # gelu_tanh: no closed third
def test_fused_activation_step_passes_gradcheck(activation, dim):
    from pinn_elastic.fused import ActivationJet
    from pinn_elastic.taylor import hessian_pairs

    torch.manual_seed(3)
    pairs = tuple(zip(*hessian_pairs(dim)))
    z = torch.randn(1 + dim + len(pairs), 5, 4, dtype=f64, requires_grad=True)
    bias = torch.randn(4, dtype=f64, requires_grad=True)
    act = ACTIVATIONS[activation]
    assert torch.autograd.gradcheck(lambda z, b: ActivationJet.apply(z, b, act, pairs), (z, bias))


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("residual", [False, True])
def test_enriched_readout_jets_equal_nested_autograd(dim, residual):
    """The polished network (every layer times (1, xi)) through the forward sweep and autograd."""
    torch.manual_seed(2)
    net = MLP(dim, dim, 12, 3, "gelu", -2 * torch.ones(dim), 3 * torch.ones(dim), residual=residual).double()
    x = torch.randn(32, dim, dtype=f64)
    net.readout = torch.nn.Linear(net.enriched_features(x).shape[1], dim).double()
    assert net.enriched_features(x).shape[1] == 3 * 12 * (dim + 1)
    reference = autograd_jet(net, x, hessian=True, create_graph=False)
    forward = mlp_jet(net, x, hessian=True)
    for part in ("value", "grad", "hess"):
        assert (getattr(forward, part) - getattr(reference, part)).abs().max() < 1e-10
