"""Multilayer perceptrons for the displacement field."""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from .activations import get_activation, variance_preserving_gain


class MLP(nn.Module):
    r"""``u(x) = W_out h_L(x) + b_out`` with ``h_l = act(W_l h_{l-1} + b_l)``.

    The input is first mapped affinely from the box ``[lower, upper]`` to ``[-1, 1]^d`` (a fixed
    buffer, part of the function, so derivatives see it). ``features`` returns the last hidden
    layer ``h_L (N, width)``; ``head`` is the output layer. With ``residual`` the hidden layers
    after the first add their input: ``h_l = h_{l-1} + act(W_l h_{l-1} + b_l)``.

    ``init="variance"`` holds the pre-activation variance at ``init_variance`` :math:`= q^*` in every
    hidden layer at initialisation (mean-field). The first layer draws from
    :math:`N(0, 3q^*/\text{fan\_in})`, so inputs spread uniformly over ``[-1, 1]^d`` (variance 1/3
    per coordinate) give pre-activations of variance :math:`q^*`; the later hidden layers draw from
    :math:`N(0, \sigma_w^2/\text{fan\_in})` with the activation's :math:`\sigma_w^2` for that fixed
    point (:func:`~pinn_elastic.activations.variance_preserving_gain`). ``init="xavier"`` is
    Glorot's normal scheme. The output layer is Glorot's in both; biases start at 0.

    After training, a least-squares polish (:mod:`pinn_elastic.polish`) may replace the output
    layer by ``readout``, a linear map of the enriched features (:meth:`enriched_features`):
    every hidden unit of every layer, times :math:`(1, \xi_1, \dots, \xi_d)`, with
    :math:`\xi` the normalised input.
    """

    readout: nn.Linear | None

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int,
        depth: int,
        activation: str,
        lower: Tensor | None = None,
        upper: Tensor | None = None,
        init: str = "variance",
        residual: bool = False,
        init_variance: float = 1.0,
    ) -> None:
        super().__init__()
        self.activation = get_activation(activation)
        self.residual = residual
        lower = -torch.ones(in_dim) if lower is None else lower
        upper = torch.ones(in_dim) if upper is None else upper
        self.register_buffer("input_center", (upper + lower) / 2)
        self.register_buffer("input_halfwidth", (upper - lower) / 2)
        sizes = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.head = nn.Linear(width, out_dim)
        self.readout = None
        gain = variance_preserving_gain(self.activation, init_variance)
        for i, layer in enumerate([*self.hidden, self.head]):
            if init == "xavier" or layer is self.head:
                nn.init.xavier_normal_(layer.weight)
            else:
                variance = (3.0 * init_variance if i == 0 else gain) / layer.in_features
                nn.init.normal_(layer.weight, std=variance**0.5)
            nn.init.zeros_(layer.bias)

    def features(self, x: Tensor) -> Tensor:
        """Last hidden layer at points ``x (N, d)`` -> ``(N, width)``."""
        h = (x - self.input_center) / self.input_halfwidth
        for i, layer in enumerate(self.hidden):
            out = self.activation.fn(layer(h))
            h = h + out if self.residual and i > 0 else out
        return h

    def normalised(self, x: Tensor) -> Tensor:
        r"""The input mapped to ``[-1, 1]^d``: :math:`\xi = (x - c) / h`."""
        return (x - self.input_center) / self.input_halfwidth

    def enriched_features(self, x: Tensor) -> Tensor:
        """``(N, depth * width * (d + 1))``: all hidden layers ``H``, then ``H * xi_k`` for each k."""
        h, layers = self.normalised(x), []
        for i, layer in enumerate(self.hidden):
            out = self.activation.fn(layer(h))
            h = h + out if self.residual and i > 0 else out
            layers.append(h)
        every = torch.cat(layers, -1)
        xi = self.normalised(x)
        return torch.cat([every] + [every * xi[:, k : k + 1] for k in range(x.shape[1])], -1)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, d) -> (N, out_dim)``."""
        if self.readout is not None:
            return self.readout(self.enriched_features(x))
        return self.head(self.features(x))
