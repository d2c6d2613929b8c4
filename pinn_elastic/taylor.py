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

from .activations import Activation
from .derivatives import Jet
from .fused import ActivationJet
from .models import MLP


def hessian_pairs(d: int) -> tuple[list[int], list[int]]:
    """Index pairs ``(j, k)``, ``j <= k``, of the stored second derivatives."""
    rows = [(j, k) for j in range(d) for k in range(j, d)]
    return [j for j, _ in rows], [k for _, k in rows]


def _first_layer(net: MLP, x: Tensor, hessian: bool) -> Tensor:
    """Channels of the first hidden layer.

    The normalised input has the constant gradient ``diag(1/halfwidth)`` and no curvature, so
    ``dz/dx_j`` is column ``j`` of the scaled weight, the same at every point: no matrix product
    on derivative channels and no zero Hessian channels to carry.
    """
    d = x.shape[1]
    layer = net.hidden[0]
    weight = layer.weight / net.input_halfwidth  # (width, d): dz/dx_j in column j
    z0 = torch.addmm(layer.bias, x - net.input_center, weight.T)
    s0, s1, s2 = net.activation.derivatives(z0)
    parts = [s0] + [s1 * weight[:, j] for j in range(d)]
    if hessian:
        first_j, first_k = hessian_pairs(d)
        parts += [s2 * (weight[:, j] * weight[:, k]) for j, k in zip(first_j, first_k)]
    return torch.stack(parts)


def _hidden_layer(layer: torch.nn.Linear, activation: Activation, h: Tensor, d: int, hessian: bool) -> Tensor:
    """Channels ``(C, N, width)`` through one more linear layer and the activation (chain rule)."""
    z = h @ layer.weight.T
    first_j, first_k = hessian_pairs(d) if hessian else ([], [])
    if not torch.compiler.is_compiling():  # eager: one node with a hand-written backward
        return ActivationJet.apply(z, layer.bias, activation, tuple(zip(first_j, first_k)))
    z = z.unbind(0)  # unbind (not slicing): its backward is one stack
    s0, s1, s2 = activation.derivatives(z[0] + layer.bias)
    zg = z[1 : 1 + d]
    parts = [s0] + [s1 * g for g in zg]
    parts += [torch.addcmul(s1 * zh, s2, zg[j] * zg[k]) for zh, j, k in zip(z[1 + d :], first_j, first_k)]
    return torch.stack(parts)


def layer_channels(net: MLP, x: Tensor, hessian: bool) -> list[Tensor]:
    """Channels ``(C, N, width)`` of every hidden layer at points ``x (N, d)``, first to last."""
    d = x.shape[1]
    layers = [_first_layer(net, x, hessian)]
    for layer in net.hidden[1:]:
        out = _hidden_layer(layer, net.activation, layers[-1], d, hessian)
        layers.append(layers[-1] + out if net.residual else out)  # a skip connection adds every channel
    return layers


def feature_channels(net: MLP, x: Tensor, hessian: bool) -> Tensor:
    """Channels ``(C, N, width)`` of the last hidden layer at points ``x (N, d)``."""
    return layer_channels(net, x, hessian)[-1]


def channels_to_jet(channels: Tensor, d: int, hessian: bool) -> Jet:
    """Channels ``(C, N, m)`` -> :class:`Jet` with ``grad (N, m, d)``, ``hess (N, m, d, d)``."""
    parts = channels.unbind(0)
    grad = torch.stack(parts[1 : 1 + d], -1)
    hess = None
    if hessian:
        tri = parts[1 + d :]
        index = {pair: t for t, pair in enumerate(zip(*hessian_pairs(d)))}
        rows = [torch.stack([tri[index[min(j, k), max(j, k)]] for k in range(d)], -1) for j in range(d)]
        hess = torch.stack(rows, -2)
    return Jet(parts[0], grad, hess)


def enriched_channels(net: MLP, x: Tensor, hessian: bool, last_layer_only: bool = False) -> Tensor:
    r"""Channels ``(C, N, depth * width * (d + 1))`` of :meth:`MLP.enriched_features`
    (``last_layer_only``: of the last hidden layer's features alone, ``(C, N, width * (d + 1))``).

    For :math:`v = h\,\xi_k` with :math:`\partial_j\xi_k = \delta_{jk}/s_k` (``s`` the
    input half-widths): :math:`\partial_j v = \xi_k\partial_j h + \delta_{jk} h/s_k` and
    :math:`\partial_{jl} v = \xi_k\partial_{jl} h + \delta_{lk}\partial_j h/s_k
    + \delta_{jk}\partial_l h/s_k`.
    """
    d = x.shape[1]
    layers = layer_channels(net, x, hessian)
    h = layers[-1] if last_layer_only else torch.cat(layers, -1)
    xi = net.normalised(x)
    pairs = list(zip(*hessian_pairs(d))) if hessian else []
    blocks = [h]
    for k in range(d):
        xk, inverse = xi[:, k : k + 1], 1.0 / net.input_halfwidth[k]
        parts = [h[0] * xk]
        parts += [h[1 + j] * xk + h[0] * inverse if j == k else h[1 + j] * xk for j in range(d)]
        for t, (j, m) in enumerate(pairs):
            part = h[1 + d + t] * xk
            if m == k:
                part = part + h[1 + j] * inverse
            if j == k:
                part = part + h[1 + m] * inverse
            parts.append(part)
        blocks.append(torch.stack(parts))
    return torch.cat(blocks, -1)


def mlp_jet(net: MLP, x: Tensor, hessian: bool) -> Jet:
    """Jet of the network output at ``x (N, d)``, differentiable in the parameters."""
    if net.readout is not None:
        h, layer = enriched_channels(net, x, hessian), net.readout
    else:
        h, layer = feature_channels(net, x, hessian), net.head
    out = h @ layer.weight.T
    out = torch.cat([(out[0] + layer.bias)[None], out[1:]])
    return channels_to_jet(out, x.shape[1], hessian)


def enriched_jet(net: MLP, x: Tensor, hessian: bool) -> Jet:
    """Jet of the enriched features, ``value (N, depth * width * (d + 1))``."""
    return channels_to_jet(enriched_channels(net, x, hessian), x.shape[1], hessian)


def all_layer_jet(net: MLP, x: Tensor, hessian: bool) -> Jet:
    """Jet of every hidden layer's features side by side, ``value (N, depth * width)``: the
    first ``depth * width`` columns of :func:`enriched_jet`."""
    return channels_to_jet(torch.cat(layer_channels(net, x, hessian), -1), x.shape[1], hessian)


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
