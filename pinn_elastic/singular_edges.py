r"""Clamped edges: where a fully clamped piece meets a traction piece, the field is singular.

At such an edge (the root of a cantilever: clamped face, free top) the stress of linear
elasticity behaves like :math:`r^{\lambda-1}` with :math:`\lambda \approx 0.71` for a right
angle (Williams 1952). A smooth network cannot follow it: with :math:`u = 0` on the clamp and
:math:`\sigma n = 0` on the free face, every smooth field has a vanishing gradient on the
edge, so a point-wise (strong-form) fit makes the root a hinge and sheds the load into the free
faces (measured: a clamped 2D or 3D cantilever deflected a quarter of the beam value or less).
The strain energy of the singular field is finite, so the energy polish
(:mod:`pinn_elastic.energy`) is run where these edges exist.
"""

from __future__ import annotations

import torch

from .geometry.shape import Piece
from .problem import Displacement, Problem, Traction, components_of

ON_CARRIER = 1e-9  # relative to the body's size


def clamped_edges(problem: Problem) -> list[tuple[Piece, Piece]]:
    """Pairs ``(clamped piece, traction piece)`` that meet along an edge (a corner in 2D): an
    edge point of the clamped piece lies on the traction piece's carrier line or surface."""
    geometry, dim = problem.geometry, problem.dim
    lo, hi = (torch.tensor(b, dtype=torch.float64) for b in geometry.bounds)
    tolerance = ON_CARRIER * float((hi - lo).max())
    clamped = [
        piece
        for c in problem.conditions
        if isinstance(c, Displacement) and len(components_of(c, dim)) == dim
        for piece in geometry.pieces_named(c.boundary)
    ]
    loaded = [
        piece
        for c in problem.all_conditions
        if isinstance(c, Traction)
        for piece in geometry.pieces_named(c.boundary)
    ]
    pairs = []
    for d_piece in clamped:
        edge = d_piece.reference_points()
        for t_piece in loaded:
            if t_piece is not d_piece and bool((t_piece.distance(edge).abs() < tolerance).any()):
                pairs.append((d_piece, t_piece))
    return pairs
