r"""Quadrature on a mesh body's own cells and facets, for the energy (Ritz) objective.

Second-order cells (``triangle6``, ``tetra10``) are integrated through their isoparametric
(quadratic) map :math:`x(\xi) = \sum_a N_a(\xi) x_a`, with weight :math:`w_q|\det J(\xi_q)|`,
so a curved bore is integrated on its curved cells, not on the chords. First-order simplices
map affinely; quadrilaterals and hexahedra are tiled by the simplices of
:data:`~pinn_elastic.geometry.mesh.SIMPLICES`.

* :func:`cell_points` with ``per_cell=None``: a Gauss rule of positive weights, exact for
  polynomials of degree 4 on triangles (Strang-Fix, 6 points) and 5 on tetrahedra (14 points),
  or (``low_order``) of degree 2 with ``d + 1`` points;
* ``per_cell=k``: ``k`` points uniform in every cell's reference simplex (a stratified Monte
  Carlo rule, unbiased: fresh ones on every call keep a network from fitting the rule's gaps).

Facets use the Gauss rules of :func:`~pinn_elastic.geometry.mesh._gauss`.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import Tensor

from .mesh import SIMPLICES, MeshBody, MeshFacets, _gauss, facet_map

SECOND_ORDER = {"triangle6": 2, "tetra10": 3}
# meshio's order of the edge nodes of second-order simplices (corners first)
EDGES = {2: [(0, 1), (1, 2), (2, 0)], 3: [(0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3)]}


def _permutations(values: list[float]) -> list[list[float]]:
    return sorted({tuple(p) for p in itertools.permutations(values)})


def low_order_rule(dim: int) -> tuple[Tensor, Tensor]:
    """The degree-2 rule of ``dim + 1`` points (positive weights), barycentric."""
    a = (5 - 5**0.5) / 20 if dim == 3 else 1 / 6
    points = torch.full((dim + 1, dim + 1), a, dtype=torch.float64)
    points.fill_diagonal_(1 - dim * a)
    measure = 0.5 if dim == 2 else 1 / 6
    return points, torch.full((dim + 1,), measure / (dim + 1), dtype=torch.float64)


def gauss_points_per_cell(dim: int, low_order: bool = False) -> int:
    return (dim + 1) if low_order else (6 if dim == 2 else 14)


def gauss_rule(dim: int) -> tuple[Tensor, Tensor]:
    """Barycentric points ``(q, dim + 1)`` and weights ``(q,)`` summing to the reference
    simplex's measure (1/2, 1/6): degree 4 (6 points) on triangles, 5 (14) on tetrahedra."""
    if dim == 2:
        rule = _gauss("triangle6")
        st = torch.cat([p for p, _ in rule])
        weights = torch.tensor([w for _, w in rule], dtype=torch.float64)
        return torch.cat([1 - st.sum(1, keepdim=True), st], 1), weights
    a, b, c = 0.0927352503108912, 0.3108859192633006, 0.0455037041256496
    points, weights = [], []
    for v, w in ((a, 0.01224884051939366), (b, 0.01878132095300264)):
        for p in _permutations([1 - 3 * v, v, v, v]):
            points.append(p)
            weights.append(w)
    for p in _permutations([c, c, 0.5 - c, 0.5 - c]):
        points.append(p)
        weights.append(0.007091003462846911)
    return torch.tensor(points, dtype=torch.float64), torch.tensor(weights, dtype=torch.float64)


def random_rule(dim: int, count: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``count`` barycentric points uniform on the simplex (Dirichlet(1, ..., 1)) per cell."""
    e = -torch.log(torch.rand(count, dim + 1, generator=generator, dtype=torch.float64).clamp_min(1e-300))
    measure = 0.5 if dim == 2 else 1 / 6
    return e / e.sum(-1, keepdim=True), torch.full((count,), measure / count, dtype=torch.float64)


def _quadratic_shapes(bary: Tensor) -> tuple[Tensor, Tensor]:
    """P2 shape functions ``(q, nodes)`` and their derivatives in the reference coordinates
    ``(q, nodes, dim)`` (barycentric ``L_0 = 1 - sum``) at barycentric points ``(q, dim + 1)``."""
    m = bary.shape[1]
    values = [bary[:, i] * (2 * bary[:, i] - 1) for i in range(m)]
    d_bary = []
    for i in range(m):
        g = torch.zeros_like(bary)
        g[:, i] = 4 * bary[:, i] - 1
        d_bary.append(g)
    for a, b in EDGES[m - 1]:
        values.append(4 * bary[:, a] * bary[:, b])
        g = torch.zeros_like(bary)
        g[:, a], g[:, b] = 4 * bary[:, b], 4 * bary[:, a]
        d_bary.append(g)
    d = torch.stack(d_bary, 1)
    return torch.stack(values, 1), d[..., 1:] - d[..., :1]


def cell_points(
    body: MeshBody,
    per_cell: int | None = None,
    generator: torch.Generator | None = None,
    low_order: bool = False,
) -> tuple[Tensor, Tensor]:
    """Points ``(N, d)`` and weights ``(N,)`` integrating over the body's cells: the Gauss rule
    (``low_order``: the degree-2 one), or ``per_cell`` random points in every cell."""
    dim, nodes_all = body.dim, torch.from_numpy(body.points)
    points, weights = [], []
    for kind, cells in body.cells:
        cells = torch.from_numpy(np.asarray(cells, dtype=np.int64))
        if per_cell is None:
            bary, w = low_order_rule(dim) if low_order else gauss_rule(dim)
        else:
            bary, w = random_rule(dim, per_cell, generator)
        if kind in SECOND_ORDER:
            shapes, d_shapes = _quadratic_shapes(bary)
            nodes = nodes_all[cells]  # (C, nodes, d)
            x = torch.einsum("qa,cad->cqd", shapes, nodes)
            jacobian = torch.einsum("qar,cad->cqdr", d_shapes, nodes)
            points.append(x.reshape(-1, dim))
            weights.append((torch.linalg.det(jacobian).abs() * w).reshape(-1))
            continue
        for simplex in SIMPLICES[kind]:
            corners = nodes_all[cells[:, list(simplex)]]  # (C, d + 1, d)
            x = torch.einsum("qm,cmd->cqd", bary, corners)
            det = torch.linalg.det(corners[:, 1:] - corners[:, :1]).abs()
            points.append(x.reshape(-1, dim))
            weights.append((det[:, None] * w).reshape(-1))
    return torch.cat(points), torch.cat(weights)


def facet_points(piece: MeshFacets) -> tuple[Tensor, Tensor, Tensor]:
    """Gauss points ``(M, d)``, outward unit normals ``(M, d)`` and weights ``(M,)`` on a named
    boundary of a mesh body (quadratic facets through their own map)."""
    points, normals, weights = [], [], []
    for kind, facets, signs in piece._patches:
        nodes = piece.points[facets]
        rule = _gauss({"line": "line3", "triangle": "triangle6"}.get(kind, kind))
        for u, w in rule:
            x, normal = facet_map(kind, nodes, u.expand(len(nodes), -1))
            jacobian = normal.norm(dim=-1)
            points.append(x)
            normals.append(signs[:, None] * normal / jacobian[:, None])
            weights.append(w * jacobian)
    return torch.cat(points), torch.cat(normals), torch.cat(weights)


def cell_count(body: MeshBody) -> int:
    return sum(len(cells) for _, cells in body.cells)
