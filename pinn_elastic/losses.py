r"""Named residuals and loss terms, all nondimensional.

* ``navier``: at interior points,
  :math:`\hat\mu\hat\Delta\hat u + (\hat\lambda+\hat\mu)\hat\nabla(\hat\nabla\cdot\hat u) + \hat f`;
* ``displacement_<boundary>``: :math:`\hat u_i - \hat g_i` for the prescribed components;
* ``traction_<boundary>``: :math:`(\hat\sigma(\hat u)\,n)_i - \hat t_i`.

Each term is the mean square of its residual; the loss is their weighted sum. Every residual
is affine in the field, which :mod:`pinn_elastic.lstsq` exploits.
"""

from __future__ import annotations

from torch import Tensor

from .collocation import Collocation
from .derivatives import Jet
from .mechanics import navier_residual, stress, traction


def residuals(
    interior: Jet, boundary: Jet, colloc: Collocation, lam: float, mu: float, with_data: bool = True
) -> dict[str, Tensor]:
    """Residual vectors by term name, each ``(..., rows)``.

    ``with_data=False`` drops the body force and the targets: the linear part of the
    residuals, used to assemble least-squares systems from basis functions.
    """
    body_force = colloc.body_force if with_data else None
    out = {"navier": navier_residual(interior.hess, lam, mu, body_force).flatten(-2)}
    for term in colloc.terms:
        comps = list(term.components)
        if term.kind == "displacement":
            value = boundary.value[..., term.rows, :][..., comps]
        else:
            sigma = stress(boundary.grad[..., term.rows, :, :], lam, mu)
            value = traction(sigma, colloc.normals[term.rows])[..., comps]
        out[term.name] = (value - term.target if with_data else value).flatten(-2)
    return out


def loss_terms(residual: dict[str, Tensor]) -> dict[str, Tensor]:
    """Mean square of every residual."""
    return {name: (r * r).mean(-1) for name, r in residual.items()}


def total_loss(terms: dict[str, Tensor], weights: dict[str, float]) -> Tensor:
    """Weighted sum of the terms; a term without a weight has weight 1."""
    return sum(weights.get(name, 1.0) * value for name, value in terms.items())
