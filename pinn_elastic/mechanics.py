r"""Small-strain linear elasticity as tensor formulas.

Shapes: ``d`` is the space dimension; every function accepts arbitrary leading batch
dimensions ``...`` (points, or basis functions times points).

* displacement gradient ``G[..., i, j] = du_i/dx_j``: ``(..., d, d)``
* Hessian ``H[..., i, j, k] = d^2 u_i / dx_j dx_k``: ``(..., d, d, d)``
"""

from __future__ import annotations

import torch
from torch import Tensor


def strain(grad_u: Tensor) -> Tensor:
    r"""Infinitesimal strain :math:`\varepsilon = \tfrac12 (\nabla u + \nabla u^T)`, ``(..., d, d)``."""
    return 0.5 * (grad_u + grad_u.transpose(-1, -2))


def stress(grad_u: Tensor, lam: float, mu: float) -> Tensor:
    r"""Hooke's law :math:`\sigma = \lambda\,\mathrm{tr}(\varepsilon) I + 2\mu\varepsilon`.

    ``grad_u (..., d, d)`` -> ``(..., d, d)``.
    """
    eps = strain(grad_u)
    trace = eps.diagonal(dim1=-2, dim2=-1).sum(-1)
    eye = torch.eye(eps.shape[-1], dtype=eps.dtype, device=eps.device)
    return lam * trace[..., None, None] * eye + 2.0 * mu * eps


def traction(sigma: Tensor, normal: Tensor) -> Tensor:
    r"""Cauchy traction :math:`t = \sigma n`; ``sigma (..., d, d)``, ``normal (..., d)`` -> ``(..., d)``."""
    return (sigma * normal[..., None, :]).sum(-1)


def divergence_of_stress(hess_u: Tensor, lam: float, mu: float) -> Tensor:
    r"""Navier-Cauchy operator :math:`\mu\,\Delta u + (\lambda+\mu)\,\nabla(\nabla\cdot u)`.

    Equal to :math:`\nabla\cdot\sigma(u)` for a homogeneous material. ``hess_u (..., d, d, d)``
    -> ``(..., d)``.
    """
    laplacian = hess_u.diagonal(dim1=-2, dim2=-1).sum(-1)  # [i] = sum_j u_i,jj
    grad_div = hess_u.diagonal(dim1=-3, dim2=-2).sum(-1)  # [k] = sum_j u_j,jk
    return mu * laplacian + (lam + mu) * grad_div


def navier_residual(hess_u: Tensor, lam: float, mu: float, body_force: Tensor | None) -> Tensor:
    r"""Equilibrium residual :math:`\mu\Delta u + (\lambda+\mu)\nabla(\nabla\cdot u) + f`, ``(..., d)``."""
    residual = divergence_of_stress(hess_u, lam, mu)
    return residual if body_force is None else residual + body_force


def von_mises(sigma: Tensor, sigma_zz: Tensor | None = None) -> Tensor:
    r"""Von Mises equivalent stress :math:`\sqrt{\tfrac32 s:s}`, ``s`` the deviator.

    ``sigma`` is ``(..., d, d)``; in 2D pass the out-of-plane normal stress ``sigma_zz``
    (zero in plane stress, :math:`\nu(\sigma_{xx}+\sigma_{yy})` in plane strain).
    """
    if sigma.shape[-1] == 2:
        full = torch.zeros(*sigma.shape[:-2], 3, 3, dtype=sigma.dtype, device=sigma.device)
        full[..., :2, :2] = sigma
        if sigma_zz is not None:
            full[..., 2, 2] = sigma_zz
        sigma = full
    trace = sigma.diagonal(dim1=-2, dim2=-1).sum(-1)
    eye = torch.eye(3, dtype=sigma.dtype, device=sigma.device)
    deviator = sigma - trace[..., None, None] / 3.0 * eye
    return torch.sqrt(1.5 * (deviator * deviator).sum((-1, -2)))
