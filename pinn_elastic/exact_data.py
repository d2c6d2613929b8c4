r"""Boundary and body data derived from an exact displacement field by autograd.

A case that knows its exact solution :math:`u^*` declares only that field; the data that
make it the solution come from the project's own operators, so the loss and the data use
one copy of each formula:

* traction :math:`t(x, n) = \sigma(\nabla u^*(x))\,n` (:func:`traction_of`);
* body force :math:`f = -[\mu\Delta u^* + (\lambda+\mu)\nabla(\nabla\cdot u^*)]` (:func:`body_force_of`).
"""

from __future__ import annotations

from torch import Tensor

from .derivatives import autograd_jet
from .materials import Material
from .mechanics import navier_residual, stress, traction
from .problem import TractionField, VectorField


def traction_of(exact: VectorField, material: Material) -> TractionField:
    """The traction ``t(x, n) (N, d)`` that the field ``exact`` exerts on a surface of normal ``n``."""

    def evaluate(x: Tensor, normal: Tensor) -> Tensor:
        jet = autograd_jet(exact, x, hessian=False, create_graph=False)
        lam, mu = material.lame(x.shape[-1])
        return traction(stress(jet.grad, lam, mu), normal)

    return evaluate


def body_force_of(exact: VectorField, material: Material) -> VectorField:
    """The body force ``f(x) (N, d)`` in equilibrium with the field ``exact``."""

    def evaluate(x: Tensor) -> Tensor:
        jet = autograd_jet(exact, x, hessian=True, create_graph=False)
        lam, mu = material.lame(x.shape[-1])
        return -navier_residual(jet.hess, lam, mu, None)

    return evaluate
