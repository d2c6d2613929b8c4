r"""A modulus field :math:`E(x) = E_0\,e^{g(x)}` for inverse runs with ``inverse.field=E``.

``g`` is a second small network (tanh, two hidden layers of 32) whose last layer starts at zero,
so the field starts at the case's ``E``; the exponential keeps it positive. With Poisson's ratio
a constant, every stress is the homogeneous one times :math:`m = e^{g}`:
:math:`\sigma = m\,\sigma_0(u)`, with :math:`\sigma_0` Hooke's law at :math:`E_0`, so that

.. math:: \nabla\cdot\sigma + f = m\,\bigl(\nabla\cdot\sigma_0(u) + \sigma_0(u)\,\nabla g\bigr) + f,
          \qquad \sigma n = m\,\sigma_0(u)\,n,

and the gradient of the modulus enters the equilibrium residual through :math:`\nabla g`
(:func:`pinn_elastic.losses.residuals`, :func:`pinn_elastic.lstsq.assemble`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..models import MLP
from ..taylor import mlp_jet

WIDTH, DEPTH = 32, 2


class ModulusField(nn.Module):
    """:math:`g(\\hat x)` on nondimensional points; :meth:`factors` gives ``m`` and ``grad g``."""

    def __init__(self, dim: int, lo: Tensor, hi: Tensor) -> None:
        super().__init__()
        self.network = MLP(dim, 1, WIDTH, DEPTH, "tanh", lo, hi)
        with torch.no_grad():
            self.network.head.weight.zero_()
            self.network.head.bias.zero_()

    def factors(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``m = exp(g)`` ``(N,)`` and ``grad g`` ``(N, d)`` at ``x``, differentiable in the weights."""
        jet = mlp_jet(self.network, x, hessian=False)
        return torch.exp(jet.value[:, 0]), jet.grad[:, 0, :]

    def relative(self, x: Tensor) -> Tensor:
        """``m = E(x) / E_0`` at ``x``, without a graph."""
        with torch.no_grad():
            return torch.exp(mlp_jet(self.network, x, hessian=False).value[:, 0])
