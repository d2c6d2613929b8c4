"""Fields with their derivatives ("jets"), and nested reverse-mode autograd to get them.

A :class:`Jet` of a vector field ``u: R^d -> R^m`` at ``N`` points holds

* ``value``: ``(..., N, m)``
* ``grad``:  ``(..., N, m, d)``, ``grad[..., n, i, j] = du_i/dx_j``
* ``hess``:  ``(..., N, m, d, d)``, ``hess[..., n, i, j, k] = d^2u_i/dx_j dx_k`` (or None)

Jets add and multiply by the product rule, so a field ``u = g + phi * N(x)`` built from a
lift ``g``, a distance function ``phi`` and a network ``N`` gets its derivatives without
differentiating the composite again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class Jet:
    """Value, gradient and (optionally) Hessian of a vector field at a set of points."""

    value: Tensor
    grad: Tensor
    hess: Tensor | None = None

    def __add__(self, other: Jet) -> Jet:
        hess = None if self.hess is None or other.hess is None else self.hess + other.hess
        return Jet(self.value + other.value, self.grad + other.grad, hess)

    def __mul__(self, other: Jet) -> Jet:
        """Componentwise product ``(a_i b_i)`` by the product rule."""
        a, b = self, other
        value = a.value * b.value
        grad = a.grad * b.value[..., None] + a.value[..., None] * b.grad
        hess = None
        if a.hess is not None and b.hess is not None:
            cross = a.grad[..., :, None] * b.grad[..., None, :]
            hess = (
                a.hess * b.value[..., None, None]
                + cross
                + cross.transpose(-1, -2)
                + a.value[..., None, None] * b.hess
            )
        return Jet(value, grad, hess)

    def to(self, *args, **kwargs) -> Jet:
        """``Tensor.to`` applied to every part (device and/or dtype)."""
        return Jet(
            self.value.to(*args, **kwargs),
            self.grad.to(*args, **kwargs),
            None if self.hess is None else self.hess.to(*args, **kwargs),
        )

    def detach(self) -> Jet:
        return Jet(
            self.value.detach(),
            self.grad.detach(),
            None if self.hess is None else self.hess.detach(),
        )


def autograd_jet(fn: Callable[[Tensor], Tensor], x: Tensor, hessian: bool, create_graph: bool = True) -> Jet:
    """Jet of ``fn`` at points ``x (N, d)`` by nested reverse-mode autograd.

    Each output component costs one backward pass for its gradient and ``d`` more for its
    Hessian rows. ``fn`` must act pointwise (row ``n`` of the output depends on row ``n`` of
    the input only), which makes the gradient of the summed output the per-point gradient.
    With ``create_graph`` the result stays differentiable in ``fn``'s parameters.
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        value = fn(x)
        m, d = value.shape[-1], x.shape[-1]
        keep = create_graph or hessian
        grad = torch.stack([_grad(value[:, i], x, keep) for i in range(m)], 1)
        hess = None
        if hessian:
            rows = [_grad(grad[:, i, j], x, create_graph) for i in range(m) for j in range(d)]
            hess = torch.stack(rows, 1).reshape(len(x), m, d, d)
    jet = Jet(value, grad, hess)
    return jet if create_graph else jet.detach()


def _grad(output: Tensor, x: Tensor, create_graph: bool) -> Tensor:
    """Per-point gradient of a pointwise scalar field ``output (N,)``; zero if it is constant."""
    if not output.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(
        output.sum(), x, create_graph=create_graph, retain_graph=True, allow_unused=True
    )
    return torch.zeros_like(x) if g is None else g
