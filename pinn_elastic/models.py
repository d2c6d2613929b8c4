"""Multilayer perceptrons for the displacement field."""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from .activations import get_activation


class MLP(nn.Module):
    r"""``u(x) = W_out h_L(x) + b_out`` with ``h_l = act(W_l h_{l-1} + b_l)``.

    The input is first mapped affinely from the box ``[lower, upper]`` to ``[-1, 1]^d`` (a fixed
    buffer, part of the function, so derivatives see it). ``features`` returns the last hidden
    layer ``h_L (N, width)``; ``head`` is the output layer.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int,
        depth: int,
        activation: str,
        lower: Tensor | None = None,
        upper: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.activation = get_activation(activation)
        lower = -torch.ones(in_dim) if lower is None else lower
        upper = torch.ones(in_dim) if upper is None else upper
        self.register_buffer("input_center", (upper + lower) / 2)
        self.register_buffer("input_halfwidth", (upper - lower) / 2)
        sizes = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.head = nn.Linear(width, out_dim)
        for layer in [*self.hidden, self.head]:
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)

    def features(self, x: Tensor) -> Tensor:
        """Last hidden layer at points ``x (N, d)`` -> ``(N, width)``."""
        h = (x - self.input_center) / self.input_halfwidth
        for layer in self.hidden:
            h = self.activation.fn(layer(h))
        return h

    def forward(self, x: Tensor) -> Tensor:
        """``(N, d) -> (N, out_dim)``."""
        return self.head(self.features(x))
