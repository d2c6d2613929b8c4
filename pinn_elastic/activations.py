r"""The activation registry: each activation with its first and second derivatives in closed form.

``derivatives(z)`` returns :math:`(\sigma(z), \sigma'(z), \sigma''(z))` sharing the expensive
transcendental calls (GELU: one ``erf`` and one ``exp``). ``zero_curvature`` marks activations
whose second derivative vanishes almost everywhere (ReLU), which cannot represent the
curvature a second-order PDE needs.

* GELU: :math:`\sigma = z\Phi(z)`, :math:`\sigma' = \Phi(z) + z\varphi(z)`,
  :math:`\sigma'' = \varphi(z)(2 - z^2)`.
* tanh: :math:`\sigma' = 1 - t^2`, :math:`\sigma'' = -2t(1 - t^2)`.
* SiLU: :math:`\sigma = z s`, :math:`\sigma' = s(1 + z(1-s))`, :math:`\sigma'' = s(1-s)(2 + z(1-2s))`.
* sin: :math:`\cos`, :math:`-\sin`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

Derivatives = Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _gelu(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    cdf = 0.5 * (1.0 + torch.erf(z * _INV_SQRT2))
    pdf = _INV_SQRT2PI * torch.exp(-0.5 * z * z)
    return z * cdf, cdf + z * pdf, pdf * (2.0 - z * z)


def _gelu_tanh(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    z2 = z * z
    inner = _SQRT_2_OVER_PI * (z + _GELU_CUBIC * z2 * z)
    d_inner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * z2)
    dd_inner = _SQRT_2_OVER_PI * 6.0 * _GELU_CUBIC * z
    t = torch.tanh(inner)
    sech2 = 1.0 - t * t
    value = 0.5 * z * (1.0 + t)
    first = 0.5 * (1.0 + t) + 0.5 * z * sech2 * d_inner
    second = sech2 * d_inner + 0.5 * z * sech2 * (dd_inner - 2.0 * t * d_inner * d_inner)
    return value, first, second


def _tanh(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    t = torch.tanh(z)
    sech2 = 1.0 - t * t
    return t, sech2, -2.0 * t * sech2


def _silu(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sigmoid(z)
    return z * s, s * (1.0 + z * (1.0 - s)), s * (1.0 - s) * (2.0 + z * (1.0 - 2.0 * s))


def _sin(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sin(z)
    return s, torch.cos(z), -s


def _relu(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    step = (z > 0).to(z.dtype)
    return z * step, step, torch.zeros_like(z)


def _gelu_third(z: Tensor) -> Tensor:
    return _INV_SQRT2PI * torch.exp(-0.5 * z * z) * z * (z * z - 4.0)


def _tanh_third(z: Tensor) -> Tensor:
    t2 = torch.tanh(z) ** 2
    return -2.0 * (1.0 - t2) * (1.0 - 3.0 * t2)


def _silu_third(z: Tensor) -> Tensor:
    s = torch.sigmoid(z)
    a, c = s * (1.0 - s), 1.0 - 2.0 * s
    return a * (c * (2.0 + z * c) + c - 2.0 * z * a)


@dataclass(frozen=True)
class Activation:
    """``third`` (the third derivative, for the fused backward) is optional: without it the
    forward engine differentiates ``derivatives(z)[2]`` by autograd."""

    name: str
    fn: Callable[[Tensor], Tensor]
    derivatives: Derivatives
    zero_curvature: bool = False
    third: Callable[[Tensor], Tensor] | None = None


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("gelu", F.gelu, _gelu, third=_gelu_third),
        Activation("gelu_tanh", lambda z: F.gelu(z, approximate="tanh"), _gelu_tanh),
        Activation("tanh", torch.tanh, _tanh, third=_tanh_third),
        Activation("silu", F.silu, _silu, third=_silu_third),
        Activation("sin", torch.sin, _sin, third=lambda z: -torch.cos(z)),
        Activation("relu", F.relu, _relu, zero_curvature=True, third=torch.zeros_like),
    )
}


def second_moment(activation: Activation, variance: float = 1.0, nodes: int = 80) -> float:
    r""":math:`E[\sigma(z)^2]` for :math:`z \sim N(0, q)`, by Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    z = torch.from_numpy(x * math.sqrt(variance))
    return float((torch.from_numpy(w) * activation.fn(z) ** 2).sum() / math.sqrt(2 * math.pi))


def variance_preserving_gain(activation: Activation, fixed_point: float = 1.0) -> float:
    r"""Weight variance :math:`\sigma_w^2` (times ``1/fan_in``) making ``fixed_point`` a fixed point.

    Mean-field propagation with zero biases: a layer maps the pre-activation variance
    :math:`q \mapsto \sigma_w^2 E_{z\sim N(0,q)}[\sigma(z)^2]`, so
    :math:`\sigma_w^2 = q^* / E_{z \sim N(0, q^*)}[\sigma(z)^2]` keeps :math:`q^*` from layer to layer.
    """
    return fixed_point / second_moment(activation, fixed_point)


def get_activation(name: str) -> Activation:
    """The registry entry ``name``; ``KeyError`` lists the known names."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise KeyError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None
