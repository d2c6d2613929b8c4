r"""Named residuals and loss terms, all nondimensional.

* ``navier``: at interior points,
  :math:`\hat\mu\hat\Delta\hat u + (\hat\lambda+\hat\mu)\hat\nabla(\hat\nabla\cdot\hat u) + \hat f`;
* ``displacement_<boundary>``: :math:`\hat u_i - \hat g_i` for the prescribed components;
* ``traction_<boundary>``: :math:`(\hat\sigma(\hat u)\,n)_i - \hat t_i`;
* ``data``: :math:`(\hat u_i - \hat d_i)\,s_i` at measurement points, ``s`` the relative
  weights from the measurements' standard deviations (:mod:`pinn_elastic.inverse`).

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
    if colloc.modulus is None:
        navier = navier_residual(interior.hess, lam, mu, body_force)
    else:  # a modulus field m = exp(g): m (div sigma_0 + sigma_0 grad g) + f
        m, grad_g, _ = colloc.modulus
        sigma = stress(interior.grad, lam, mu)
        navier = m[:, None] * (
            navier_residual(interior.hess, lam, mu, None) + (sigma * grad_g[:, None, :]).sum(-1)
        )
        navier = navier if body_force is None else navier + body_force
    out = {"navier": navier.flatten(-2)}
    for term in colloc.terms:
        comps = list(term.components)
        if term.kind == "displacement":
            value = boundary.value[..., term.rows, :][..., comps]
        else:
            sigma = stress(boundary.grad[..., term.rows, :, :], lam, mu)
            value = traction(sigma, colloc.normals[term.rows])[..., comps]
            if colloc.modulus is not None:
                value = colloc.modulus[2][term.rows, None] * value
        value = value - term.target if with_data else value
        if term.scale is not None:
            value = value * term.scale
        out[term.name] = value.flatten(-2)
    return out


def loss_terms(residual: dict[str, Tensor], rows_total: dict[str, int] | None = None) -> dict[str, Tensor]:
    """Mean square of every residual; with ``rows_total`` (a rank's shard of a batch,
    :mod:`pinn_elastic.distributed`) the sum of squares over the batch's row count: this
    rank's part of the batch's mean."""
    if rows_total is None:
        return {name: (r * r).mean(-1) for name, r in residual.items()}
    return {name: (r * r).sum(-1) / rows_total[name] for name, r in residual.items()}


def total_loss(terms: dict[str, Tensor], weights: dict[str, float]) -> Tensor:
    """Weighted sum of the terms; a term without a weight has weight 1."""
    return sum(weights.get(name, 1.0) * value for name, value in terms.items())
