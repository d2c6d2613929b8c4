"""Activation registry, the zero-curvature guard, initialisation and residual connections."""

import dataclasses
import math

import pytest
import torch

from pinn_elastic.activations import ACTIVATIONS, second_moment, variance_preserving_gain
from pinn_elastic.config import ModelConfig
from pinn_elastic.derivatives import autograd_jet
from pinn_elastic.errors import ConfigError
from pinn_elastic.models import MLP
from pinn_elastic.taylor import mlp_jet

SMOOTH = [name for name, a in ACTIVATIONS.items() if not a.zero_curvature]


def test_relu_is_the_zero_curvature_entry():
    assert [name for name, a in ACTIVATIONS.items() if a.zero_curvature] == ["relu"]


def test_guard_stops_relu_with_an_explanation_unless_allowed():
    with pytest.raises(ConfigError) as info:
        ModelConfig(activation="relu")
    message = str(info.value)
    assert "second derivative" in message and "allow_zero_curvature=true" in message and "\n" not in message
    assert ModelConfig(activation="relu", allow_zero_curvature=True).activation == "relu"


def test_second_moment_by_quadrature_matches_closed_forms():
    # tanh has no closed form, but z -> z^2 style checks do: sin^2 under N(0, q) is (1 - e^{-2q}) / 2.
    assert second_moment(ACTIVATIONS["sin"], 0.7) == pytest.approx((1 - math.exp(-1.4)) / 2, rel=1e-10)
    # ReLU: E[max(z, 0)^2] = q / 2.
    assert second_moment(ACTIVATIONS["relu"], 2.0) == pytest.approx(1.0, rel=1e-3)


def preactivation_variances(net: MLP, inputs: torch.Tensor) -> list[float]:
    """Variance of every hidden layer's pre-activation for ``inputs``."""
    variances, h = [], inputs
    for layer in net.hidden:
        z = layer(h)
        variances.append(z.var().item())
        h = net.activation.fn(z)
    return variances


def box_like_inputs(n: int, d: int) -> torch.Tensor:
    """Gaussian inputs with the per-coordinate variance 1/3 of points spread over ``[-1, 1]^d``."""
    return torch.randn(n, d, dtype=torch.float64) / math.sqrt(3.0)


@pytest.mark.parametrize("fixed_point", [0.01, 1.0])
@pytest.mark.parametrize("activation", SMOOTH)
def test_variance_preserving_init_keeps_preactivation_variance(activation, fixed_point):
    torch.manual_seed(0)
    net = MLP(64, 1, 64, 8, activation, init="variance", init_variance=fixed_point).double()
    variances = preactivation_variances(net, box_like_inputs(4096, 64))
    assert max(variances) / variances[0] < 1.5 and variances[0] / min(variances) < 1.5, variances
    assert variances[0] == pytest.approx(fixed_point, rel=0.1)
    assert variance_preserving_gain(net.activation, fixed_point) > 0


def test_xavier_does_not_preserve_variance_for_some_activation():
    ratios = {}
    for activation in SMOOTH:
        torch.manual_seed(0)
        net = MLP(64, 1, 64, 8, activation, init="xavier").double()
        variances = preactivation_variances(net, box_like_inputs(4096, 64))
        ratios[activation] = variances[0] / variances[-1]
    assert max(ratios.values()) > 1.5, ratios


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("activation", SMOOTH)
def test_forward_engine_with_residual_connections(activation, dim):
    torch.manual_seed(2)
    net = MLP(dim, dim, 16, 4, activation, residual=True).double()
    x = torch.randn(32, dim, dtype=torch.float64)
    forward = mlp_jet(net, x, hessian=True)
    # The reference differentiates the activation's own elementary formula three times over:
    # PyTorch's fused gelu(approximate="tanh") kernel gives NaN parameter gradients at third order.
    act = net.activation
    net.activation = dataclasses.replace(act, fn=lambda z: act.derivatives(z)[0])
    reference = autograd_jet(net, x, hessian=True, create_graph=True)
    assert (forward.hess - reference.hess).abs().max() < 1e-10
    assert (forward.grad - reference.grad).abs().max() < 1e-10
    params = [p for name, p in net.named_parameters() if name != "head.bias"]  # no say in derivatives
    g_ref = torch.autograd.grad(reference.hess.sum() + reference.grad.sum(), params)
    g_fwd = torch.autograd.grad(forward.hess.sum() + forward.grad.sum(), params)
    for a, b in zip(g_ref, g_fwd):
        assert (a - b).abs().max() < 1e-10 * (1 + b.abs().max())
