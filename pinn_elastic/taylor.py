r"""Forward ("Taylor-mode") derivatives of an :class:`~pinn_elastic.models.MLP` in one sweep.

The value, the ``d`` first derivatives and the ``T = d(d+1)/2`` distinct second derivatives of
every hidden unit travel together as channels of one tensor ``(C, N, width)``,
``C = 1 + d + T``. A linear layer acts on all channels with one matrix product (the bias on the
value channel only); an activation maps them by the chain rule

.. math::
    a = \sigma(z),\quad \partial_j a = \sigma'(z)\,\partial_j z,\quad
    \partial_{jk} a = \sigma''(z)\,\partial_j z\,\partial_k z + \sigma'(z)\,\partial_{jk} z,

with the closed-form :math:`\sigma', \sigma''` of the activation registry. The result is exact
(no finite differences) and differentiable in the parameters by ordinary autograd.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .derivatives import Jet
from .models import MLP


def hessian_pairs(d: int) -> tuple[list[int], list[int]]:
    """Index pairs ``(j, k)``, ``j <= k``, of the stored second derivatives."""
    rows = [(j, k) for j in range(d) for k in range(j, d)]
    return [j for j, _ in rows], [k for _, k in rows]


def feature_channels(net: MLP, x: Tensor, hessian: bool) -> Tensor:
    """Channels ``(C, N, width)`` of the last hidden layer at points ``x (N, d)``."""
    n, d = x.shape
    first_j, first_k = hessian_pairs(d)
    inv = 1.0 / net.input_halfwidth
    value = (x - net.input_center) * inv
    grads = torch.diag_embed(inv).to(x.dtype)[:, None, :].expand(d, n, d)  # d/dx_j of input
    channels = [value[None], grads]
    if hessian:
        channels.append(x.new_zeros(len(first_j), n, d))
    h = torch.cat(channels)
    derivatives = net.activation.derivatives
    for i, layer in enumerate(net.hidden):
        z = h @ layer.weight.T
        z0 = z[0] + layer.bias
        s0, s1, s2 = derivatives(z0)
        zg = z[1 : 1 + d]
        parts = [s0[None], s1 * zg]
        if hessian:
            parts.append(s2 * zg[first_j] * zg[first_k] + s1 * z[1 + d :])
        out = torch.cat(parts)
        h = h + out if net.residual and i > 0 else out  # a skip connection adds every channel
    return h


def channels_to_jet(channels: Tensor, d: int, hessian: bool) -> Jet:
    """Channels ``(C, N, m)`` -> :class:`Jet` with ``grad (N, m, d)``, ``hess (N, m, d, d)``."""
    value = channels[0]
    grad = channels[1 : 1 + d].permute(1, 2, 0)
    hess = None
    if hessian:
        first_j, first_k = hessian_pairs(d)
        tri = channels[1 + d :]
        full = tri.new_zeros(d, d, *tri.shape[1:])
        full[first_j, first_k] = tri
        full[first_k, first_j] = tri
        hess = full.permute(2, 3, 0, 1)
    return Jet(value, grad, hess)


def mlp_jet(net: MLP, x: Tensor, hessian: bool) -> Jet:
    """Jet of the network output at ``x (N, d)``, differentiable in the parameters."""
    h = feature_channels(net, x, hessian)
    out = h @ net.head.weight.T
    out = torch.cat([(out[0] + net.head.bias)[None], out[1:]])
    return channels_to_jet(out, x.shape[1], hessian)


def feature_jet(net: MLP, x: Tensor, hessian: bool) -> Jet:
    """Jet of the last hidden layer, ``value (N, width)``."""
    return channels_to_jet(feature_channels(net, x, hessian), x.shape[1], hessian)


def apply_head(net: MLP, features: Jet) -> Jet:
    """The output layer applied to a feature jet (linear: every part maps alike)."""
    W, b = net.head.weight, net.head.bias
    return Jet(
        features.value @ W.T + b,
        torch.einsum("nwd,mw->nmd", features.grad, W),
        None if features.hess is None else torch.einsum("nwjk,mw->nmjk", features.hess, W),
    )
