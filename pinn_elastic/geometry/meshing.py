"""Evaluation meshes: the cells on which errors are integrated, fields exported and plotted.

A body is meshed by a regular grid of nodes strictly inside it plus nodes placed along its
boundary (curves followed in 2D, faces gridded in 3D) at the same spacing, Delaunay
triangulated (matplotlib in 2D, Qhull through SciPy in 3D), keeping the cells whose centroid
lies in the body. The cells follow curved boundaries to within the spacing. Grid nodes closer
than 0.45 spacings to the boundary are dropped (a k-d tree over points traced densely along
the boundary finds them), so no sliver joins a grid node to a boundary node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.spatial import Delaunay, cKDTree

if TYPE_CHECKING:
    from .shape import Shape

MAX_GRID_NODES_3D = 100_000
CELL_TYPES = {3: "triangle", 4: "tetra"}


@dataclass(frozen=True)
class EvaluationMesh:
    """Nodes ``(M, d)`` and simplices ``(K, d + 1)`` of one ``cell_type`` (meshio's names) for
    integration and plots; ``source_cells``, when the body is a user's mesh, its own cells
    ``((type, connectivity), ...)`` on the same nodes, which the export writes instead."""

    points: np.ndarray
    cells: np.ndarray
    cell_type: str
    source_cells: tuple[tuple[str, np.ndarray], ...] | None = None

    @property
    def dim(self) -> int:
        return self.points.shape[1]


def cell_measures(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Area of each triangle or volume of each tetrahedron (simplices only), ``(K,)``."""
    corners = points[cells]  # (K, d + 1, d)
    edges = corners[:, 1:] - corners[:, :1]  # (K, d, d)
    return np.abs(np.linalg.det(edges)) / math.factorial(points.shape[1])


def nodal_weights(mesh: EvaluationMesh) -> np.ndarray:
    """Lumped quadrature weights: an equal share of each adjacent simplex's measure per node
    (exact for fields linear on each cell)."""
    measures = cell_measures(mesh.points, mesh.cells)
    nodes = mesh.cells.shape[1]
    weights = np.zeros(len(mesh.points))
    for k in range(nodes):
        np.add.at(weights, mesh.cells[:, k], measures / nodes)
    return weights


def grid_spacing(shape: Shape, resolution: int) -> float:
    """``resolution`` nodes along the longest side; in 3D, coarser if the grid would exceed
    ``MAX_GRID_NODES_3D`` nodes."""
    lo, hi = np.asarray(shape.bounds[0]), np.asarray(shape.bounds[1])
    spacing = float((hi - lo).max()) / max(resolution - 1, 1)
    if shape.dim == 3:
        spacing = max(spacing, float(np.prod(hi - lo) / MAX_GRID_NODES_3D) ** (1 / 3))
    return spacing


def mesh_body(shape: Shape, resolution: int) -> EvaluationMesh:
    """Mesh ``shape`` as described in the module docstring."""
    dim = shape.dim
    lo, hi = np.asarray(shape.bounds[0]), np.asarray(shape.bounds[1])
    spacing = grid_spacing(shape, resolution)
    axes = [np.arange(lo[i] + spacing / 2, hi[i], spacing) for i in range(dim)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, dim)
    boundary = np.concatenate([p.trace(spacing) for p in shape.pieces])
    fine = spacing / (8 if dim == 2 else 3)
    dense = np.concatenate([p.trace(fine) for p in shape.pieces])
    inside = shape.contains(torch.from_numpy(grid)).numpy()
    near = np.full(len(grid), math.inf)
    near[inside] = cKDTree(dense).query(grid[inside])[0]
    keep = inside & (near > 0.45 * spacing)
    points = np.unique(np.round(np.concatenate([grid[keep], boundary]), 12), axis=0)
    if dim == 2:
        from matplotlib.tri import Triangulation

        cells = Triangulation(points[:, 0], points[:, 1]).triangles
    else:
        # Lattice and face-grid nodes are co-spherical in bulk, which makes Qhull crawl; a
        # tiny seeded jitter for the triangulation only (the nodes stay where they are) removes
        # the degeneracy. Flat cells are dropped below.
        jitter = np.random.default_rng(0).uniform(-1e-4, 1e-4, points.shape) * spacing
        cells = Delaunay(points + jitter).simplices
    centroids = torch.from_numpy(points[cells].mean(1))
    cells = cells[shape.contains(centroids).numpy()]
    cells = cells[cell_measures(points, cells) > 1e-9 * spacing**dim]
    used = np.unique(cells)
    renumber = np.full(len(points), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    return EvaluationMesh(points[used], renumber[cells].astype(np.int64), CELL_TYPES[dim + 1])


def mid_plane(shape: Shape, axis: int, resolution: int) -> tuple[np.ndarray, np.ndarray, float] | None:
    """A triangulated cut of a 3D body through the middle of its bounding box, normal to ``axis``:
    points ``(M, 3)`` in the body, triangles ``(K, 3)`` and the plane's coordinate (None if the
    plane misses the body)."""
    from matplotlib.tri import Triangulation

    lo, hi = np.asarray(shape.bounds[0]), np.asarray(shape.bounds[1])
    plane = float(lo[axis] + hi[axis]) / 2
    kept = [i for i in range(3) if i != axis]
    spacing = float((hi[kept] - lo[kept]).max()) / max(resolution - 1, 1)
    axes = [np.linspace(lo[i], hi[i], max(2, math.ceil((hi[i] - lo[i]) / spacing) + 1)) for i in kept]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
    points = np.empty((len(grid), 3))
    points[:, kept], points[:, axis] = grid, plane
    # nudge the outermost nodes inwards so the open body contains the plane's edge nodes
    span = hi[kept] - lo[kept]
    points[:, kept] = np.clip(points[:, kept], lo[kept] + 1e-9 * span, hi[kept] - 1e-9 * span)
    inside = shape.contains(torch.from_numpy(points)).numpy()
    if inside.sum() < 3:
        return None
    points = points[inside]
    triangles = Triangulation(points[:, kept[0]], points[:, kept[1]]).triangles
    centroids = torch.from_numpy(points[triangles].mean(1))
    triangles = triangles[shape.contains(centroids).numpy()]
    return (points, triangles, plane) if len(triangles) else None
