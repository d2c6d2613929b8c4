r"""Optimal output layer by linear least squares.

Every residual of linear elasticity is affine in the displacement, and the field
:math:`\hat u_i = g_i + \phi_i (\sum_k W_{ik} h_k + b_i)` is affine in the output layer
:math:`(W, b)` once the hidden features :math:`h_k` are fixed. The weighted loss

.. math:: \sum_t \frac{w_t}{n_t} \lVert r_t(W, b)\rVert^2

is then a linear least-squares problem in the :math:`m(w+1)` output parameters, solved
exactly (truncated SVD, float64). Starting training from this optimum puts the output at the
right magnitude from step one, whatever the slenderness of the body or the size of the loads.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from .collocation import Collocation
from .derivatives import Jet
from .losses import residuals
from .models import MLP
from .taylor import feature_jet


def _with_constant(features: Jet) -> Jet:
    """Append the constant feature 1 (the bias) to a feature jet."""
    n, _, d = features.grad.shape
    z = features.value.new_zeros
    return Jet(
        torch.cat([features.value, features.value.new_ones(n, 1)], 1),
        torch.cat([features.grad, z(n, 1, d)], 1),
        None if features.hess is None else torch.cat([features.hess, z(n, 1, d, d)], 1),
    )


def _basis(features: Jet, phi: Jet | None, dim: int) -> Jet:
    """Basis jets ``(dim, K, N, dim)``: component ``i`` of basis ``(i, k)`` is ``phi_i h_k``."""
    # (K, N, 1) features against (N, dim) distance factors -> (K, N, dim)
    h = Jet(
        features.value.T[:, :, None],
        features.grad.permute(1, 0, 2)[:, :, None, :],
        None if features.hess is None else features.hess.permute(1, 0, 2, 3)[:, :, None, :, :],
    )
    prod = h * phi if phi is not None else _broadcast(h, dim)
    eye = torch.eye(dim, dtype=prod.value.dtype, device=prod.value.device)
    mask = eye[:, None, None, :]  # (dim, 1, 1, dim)
    return Jet(
        prod.value[None] * mask,
        prod.grad[None] * mask[..., None],
        None if prod.hess is None else prod.hess[None] * mask[..., None, None],
    )


def _broadcast(h: Jet, dim: int) -> Jet:
    shape = list(h.value.shape)
    shape[-1] = dim
    return Jet(
        h.value.expand(*shape),
        h.grad.expand(*shape, h.grad.shape[-1]),
        None if h.hess is None else h.hess.expand(*shape, *h.hess.shape[-2:]),
    )


def _zero_jet(x: Tensor, dim: int, hessian: bool) -> Jet:
    n, d = x.shape
    z = x.new_zeros
    return Jet(z(n, dim), z(n, dim, d), z(n, dim, d, d) if hessian else None)


def assemble(
    features_interior: Jet,
    features_boundary: Jet,
    colloc: Collocation,
    lam: float,
    mu: float,
    weights: dict[str, float],
) -> tuple[Tensor, Tensor]:
    """The weighted system ``A theta ~= b`` for the output layer ``theta (dim * (width+1),)``.

    Feature jets come without the constant feature. The system is assembled in the features'
    dtype (float32 features carry no more digits than that) and returned in float64.
    """
    dim = colloc.interior.shape[1]
    feats_int = _with_constant(features_interior)
    feats_bnd = _with_constant(features_boundary)
    if colloc.interior_constraint is not None:
        lift_int, phi_int = colloc.interior_constraint
        lift_bnd, phi_bnd = colloc.boundary_constraint
    else:
        lift_int, phi_int = _zero_jet(colloc.interior, dim, True), None
        lift_bnd, phi_bnd = _zero_jet(colloc.boundary, dim, False), None
    basis_r = residuals(
        _basis(feats_int, phi_int, dim), _basis(feats_bnd, phi_bnd, dim), colloc, lam, mu, with_data=False
    )
    offset_r = residuals(lift_int, lift_bnd, colloc, lam, mu, with_data=True)
    columns, rhs = [], []
    for name, r in basis_r.items():
        scale = (weights.get(name, 1.0) / r.shape[-1]) ** 0.5
        columns.append(scale * r.reshape(-1, r.shape[-1]).T)  # (rows, P)
        rhs.append(-scale * offset_r[name])
    return torch.cat(columns).double(), torch.cat(rhs).double()


def solve(A: Tensor, b: Tensor, rcond: float = 1e-11) -> Tensor:
    """Minimum-norm least-squares solution, singular values below ``rcond * max`` dropped.

    ``A = QR`` first, then the SVD of the small square ``R``: as robust as an SVD of ``A``
    at the cost of one QR.
    """
    Q, R = torch.linalg.qr(A)
    U, S, Vh = torch.linalg.svd(R)
    # a mask, not boolean indexing: no data-dependent shape, so no host-device synchronisation
    inverse = torch.where(rcond * S[0] < S, 1.0 / S, torch.zeros_like(S))
    return Vh.T @ (inverse * (U.T @ (Q.T @ b)))


def set_output_layer(network: MLP, theta: Tensor) -> None:
    """Copy ``theta`` (component-major, bias last) into ``network.head``."""
    theta = theta.reshape(network.head.weight.shape[0], -1)
    with torch.no_grad():
        network.head.weight.copy_(theta[:, :-1])
        network.head.bias.copy_(theta[:, -1])


def fit_output_layer(
    network: MLP, colloc: Collocation, lam: float, mu: float, weights: dict[str, float]
) -> float:
    """Set ``network.head`` to the least-squares optimum of the loss; returns that loss."""
    net64 = copy.deepcopy(network).to(torch.float64)
    colloc64 = colloc.to(torch.float64)
    with torch.no_grad():
        feats_int = feature_jet(net64, colloc64.interior, hessian=True)
        feats_bnd = feature_jet(net64, colloc64.boundary, hessian=False)
    A, b = assemble(feats_int, feats_bnd, colloc64, lam, mu, weights)
    theta = solve(A, b)
    set_output_layer(network, theta)
    return float(((A @ theta - b) ** 2).sum())
