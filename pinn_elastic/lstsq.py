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
from dataclasses import dataclass

import torch
from torch import Tensor

from .collocation import Collocation
from .derivatives import Jet
from .distributed import SINGLE, Group, triangular_system
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


def _factor(phi: Jet | None, i: int, like: Tensor, hessian: bool) -> Jet:
    """Jet of the distance factor of component ``i`` at the points (1 where unconstrained)."""
    n, d = like.shape[0], like.shape[-1]
    if phi is None:
        z = like.new_zeros
        return Jet(like.new_ones(n), z(n, d), z(n, d, d) if hessian else None)
    return Jet(phi.value[:, i], phi.grad[:, i], None if phi.hess is None else phi.hess[:, i])


def _navier_columns(h: Jet, phi: Jet | None, lam: float, mu: float) -> Tensor:
    r"""Navier rows of every basis function, ``(N, dim, dim * K)``.

    Basis ``(i, k)`` is :math:`v = \phi_i h_k e_i`, so
    :math:`(\mu\Delta v + (\lambda+\mu)\nabla\nabla\cdot v)_c
    = \mu\,\delta_{ci}\,\mathrm{tr}\,H + (\lambda+\mu) H_{ci}` with :math:`H` the Hessian of
    :math:`\phi_i h_k`: only its column ``i`` and its trace are formed.
    """
    dim = h.grad.shape[-1]
    blocks = []
    for i in range(dim):
        f = _factor(phi, i, h.grad, hessian=True)
        pv, pg, ph = f.value[:, None], f.grad[:, None, :], f.hess[:, None]  # against (N, K, ...)
        column = (  # H[:, :, c, i] of phi_i h_k, (N, K, dim)
            pv[..., None] * h.hess[..., i]
            + h.value[..., None] * ph[..., i]
            + h.grad * pg[..., i : i + 1]
            + pg * h.grad[..., i : i + 1]
        )
        trace = (
            pv * h.hess.diagonal(dim1=-2, dim2=-1).sum(-1)
            + h.value * ph.diagonal(dim1=-2, dim2=-1).sum(-1)
            + 2.0 * (h.grad * pg).sum(-1)
        )
        block = (lam + mu) * column.transpose(1, 2)  # (N, dim_c, K)
        block[:, i] += mu * trace
        blocks.append(block)
    return torch.cat(blocks, -1)


def _graded_columns(h: Jet, phi: Jet | None, lam: float, mu: float, grad_g: Tensor) -> Tensor:
    r""":math:`\sigma_0(v)\nabla g` of every basis function, ``(N, dim, dim * K)``: for
    :math:`v = w e_i`, component ``c`` is :math:`\lambda\,\partial_i w\,g_{,c} + \mu(\delta_{ci}
    \nabla w\cdot\nabla g + \partial_c w\,g_{,i})` (a modulus field, :mod:`pinn_elastic.inverse.field`)."""
    dim = h.grad.shape[-1]
    blocks = []
    for i in range(dim):
        f = _factor(phi, i, h.grad, hessian=False)
        grad_w = f.value[:, None, None] * h.grad + h.value[..., None] * f.grad[:, None, :]  # (N, K, d)
        block = lam * grad_w[..., i][:, None, :] * grad_g[:, :, None]  # (N, dim_c, K)
        block = block + mu * grad_w.transpose(1, 2) * grad_g[:, i, None, None]
        block[:, i] += mu * (grad_w * grad_g[:, None, :]).sum(-1)
        blocks.append(block)
    return torch.cat(blocks, -1)


def _boundary_columns(h: Jet, phi: Jet | None, colloc: Collocation, lam: float, mu: float) -> list[Tensor]:
    """Rows of every boundary term for every basis function, each ``(rows, dim * K)``."""
    dim = h.grad.shape[-1]
    factors = [_factor(phi, i, h.grad, hessian=False) for i in range(dim)]
    values = [f.value[:, None] * h.value for f in factors]  # phi_i h_k, (N, K)
    grads = [f.value[:, None, None] * h.grad + h.value[..., None] * f.grad[:, None] for f in factors]
    out = []
    for term in colloc.terms:
        rows = []
        for c in term.components:
            per_basis = []
            for i in range(dim):
                if term.kind == "displacement":
                    column = values[i][term.rows] * float(c == i)
                else:  # sigma(v) n for v = phi_i h_k e_i, component c
                    g, n = grads[i][term.rows], colloc.normals[term.rows][:, None, :]
                    column = lam * g[..., i] * n[..., c] + mu * g[..., c] * n[..., i]
                    if c == i:
                        column = column + mu * (g * n).sum(-1)
                per_basis.append(column)
            rows.append(torch.cat(per_basis, -1))  # (n_rows, dim * K)
        block = torch.stack(rows, 1)  # (n_rows, components, dim * K)
        if colloc.modulus is not None and term.kind == "traction":
            block = block * colloc.modulus[2][term.rows, None, None].to(block.dtype)
        if term.scale is not None:
            block = block * term.scale[..., None].to(block.dtype)
        out.append(block.reshape(-1, rows[0].shape[-1]))  # row order (point, component)
    return out


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

    Feature jets come without the constant feature. Row blocks follow the loss terms (Navier
    first, then the boundary terms), each scaled by ``sqrt(weight / rows)`` so that
    ``|A theta - b|^2`` is the weighted loss. Only what the residuals use is formed: per
    component, one column of the basis Hessians and their trace. The system is assembled in
    the features' dtype (float32 features carry no more digits than that) and returned in
    float64. A shard of a batch spread over ranks (``colloc.rows_total``) is scaled by the
    batch's row counts, so that the ranks' systems stacked are the batch's.
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
    navier = _navier_columns(feats_int, phi_int, lam, mu)
    if colloc.modulus is not None:
        m, grad_g, _ = colloc.modulus
        navier = m[:, None, None] * (navier + _graded_columns(feats_int, phi_int, lam, mu, grad_g))
    blocks = [navier.reshape(-1, dim * feats_int.value.shape[1])]
    blocks += _boundary_columns(feats_bnd, phi_bnd, colloc, lam, mu)
    offset_r = residuals(lift_int, lift_bnd, colloc, lam, mu, with_data=True)
    columns, rhs = [], []
    for block, (name, offset) in zip(blocks, offset_r.items()):
        rows = block.shape[0] if colloc.rows_total is None else colloc.rows_total[name]
        scale = (weights.get(name, 1.0) / rows) ** 0.5
        columns.append(scale * block)
        rhs.append(-scale * offset)
    return torch.cat(columns).double(), torch.cat(rhs).double()


@dataclass(frozen=True)
class SpectralFactor:
    r"""``A = Q U diag(S) V^T`` (QR, then the SVD of the small ``R``) and :math:`c = U^TQ^Tb`:
    the minimiser for any ridge is then a filter on ``S``, at no further factorisation."""

    S: Tensor
    Vh: Tensor
    c: Tensor

    @classmethod
    def of(cls, A: Tensor, b: Tensor, group: Group = SINGLE) -> SpectralFactor:
        """The factor of ``A theta ~= b`` (with several ranks, of their rows stacked): the
        triangle of ``[A | b]`` (:func:`~pinn_elastic.distributed.triangular_system`; ``Q`` is
        never formed, half the work of a QR that forms it), then the SVD of ``R``."""
        return cls.of_triangle(triangular_system(A, b, group))

    @classmethod
    def of_triangle(cls, triangle: Tensor) -> SpectralFactor:
        """The factor from the triangle ``R`` of ``[A | b]`` (:meth:`of` without the QR)."""
        n = triangle.shape[1] - 1
        U, S, Vh = torch.linalg.svd(triangle[:n, :n])
        return cls(S, Vh, U.T @ triangle[:n, n])

    def solution(self, ridge: float = 0.0, rcond: float = 1e-11) -> Tensor:
        r"""Minimiser of :math:`\lVert A\theta - b\rVert^2 + \alpha^2\lVert\theta\rVert^2`
        (:math:`\alpha` = ``ridge``), minimum-norm. Without a ridge, singular values below
        ``rcond * max`` are dropped; with one none is, and each singular direction is filtered
        by :math:`s/(s^2+\alpha^2)` instead of :math:`1/s`, so the solution (and the reduced
        loss) is a smooth function of ``A``."""
        S = self.S
        # a mask, not boolean indexing: no data-dependent shape, so no host-device synchronisation
        threshold = rcond * S[0] if ridge == 0 else torch.zeros_like(S[0])
        inverse = torch.where(threshold < S, S / (S * S + ridge * ridge), torch.zeros_like(S))
        return self.Vh.T @ (inverse * self.c)


def training_residual(triangle: Tensor) -> Tensor:
    r""":math:`\min_\theta\lVert A\theta - b\rVert / \lVert b\rVert` from the triangle ``R`` of
    ``[A | b]``: :math:`|R_{nn}|` over the norm of the last column (``Q`` is orthogonal)."""
    n = triangle.shape[1] - 1
    return triangle[n, n].abs() / triangle[:, n].norm().clamp_min(1e-300)


def solve(A: Tensor, b: Tensor, ridge: float = 0.0, rcond: float = 1e-11, group: Group = SINGLE) -> Tensor:
    """:meth:`SpectralFactor.solution`: as robust as an SVD of ``A`` at the cost of one QR
    (with several ranks, of the rows of all of them)."""
    return SpectralFactor.of(A, b, group).solution(ridge, rcond)


def set_output_layer(network: MLP, theta: Tensor) -> None:
    """Copy ``theta`` (component-major, bias last) into ``network.head``."""
    theta = theta.reshape(network.head.weight.shape[0], -1)
    with torch.no_grad():
        network.head.weight.copy_(theta[:, :-1])
        network.head.bias.copy_(theta[:, -1])


def fit_output_layer(
    network: MLP,
    colloc: Collocation,
    lam: float,
    mu: float,
    weights: dict[str, float],
    ridge: float = 0.0,
    group: Group = SINGLE,
) -> float:
    """Set ``network.head`` to the least-squares optimum of the loss; returns that loss
    (of the whole batch, where ``colloc`` is this rank's shard of it)."""
    net64 = copy.deepcopy(network).to(torch.float64)
    colloc64 = colloc.to(torch.float64)
    with torch.no_grad():
        feats_int = feature_jet(net64, colloc64.interior, hessian=True)
        feats_bnd = feature_jet(net64, colloc64.boundary, hessian=False)
    A, b = assemble(feats_int, feats_bnd, colloc64, lam, mu, weights)
    theta = solve(A, b, ridge, group=group)
    set_output_layer(network, theta)
    misfit = group.sum(((A @ theta - b) ** 2).sum())
    return float(misfit + ridge**2 * (theta**2).sum())
