"""The body abstraction every geometry implements, and constructive solid geometry on it.

A :class:`Shape` (2D or 3D) knows whether points are inside it and its bounding box, and carries
its boundary as named :class:`Piece` objects: curves in 2D (:mod:`.csg2d`), faces in 3D
(:mod:`.solids`). Each piece samples points with outward unit normals, measures itself (length
or area), gives the signed distance to its carrier curve or surface (for the exact imposition of
displacement conditions) and the closest point on it. From these the shape samples its interior
and each named boundary, and builds an evaluation mesh (:mod:`.meshing`).

Shapes combine by CSG: ``a - b`` (:class:`Difference`), ``a | b`` (:class:`Union`) and
``a & b`` (:class:`Intersection`), in 2D and in 3D alike. The combined boundary is the pieces of
each operand clipped to the part that bounds the result (a hole's pieces keep their names, and
their normals point into the hole). Sampling takes an explicit ``torch.Generator``; nothing
touches global random state.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from .meshing import EvaluationMesh, mesh_body

Keep = Callable[[Tensor], Tensor]


class Piece:
    """A named part of a body's boundary (a curve in 2D, a face in 3D) with outward normals."""

    name: str
    smooth_distance: bool = True  # ``distance`` is smooth on the body (exact lifts may use it)
    exact_projection: bool = True  # ``project`` lands on the true surface (not only near it)

    @property
    def measure(self) -> float:
        """Length (2D) or area (3D)."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        """``n`` points uniform in length or area (never on a corner or edge) and outward normals."""
        raise NotImplementedError

    def distance(self, x: Tensor) -> Tensor:
        """Smooth signed distance to the carrier curve or surface, positive on the body's side."""
        raise NotImplementedError

    def project(self, x: Tensor) -> Tensor:
        """Closest point on the carrier curve or surface, ``(N, d)``."""
        raise NotImplementedError

    def flipped(self) -> Piece:
        """The same piece bounding the complementary region (normals reversed)."""
        raise NotImplementedError

    def clipped(self, keep: Keep) -> list[Piece]:
        """The parts of the piece where ``keep`` holds."""
        raise NotImplementedError

    def trace(self, spacing: float) -> np.ndarray:
        """Deterministic points covering the piece, ends or edges included, about ``spacing`` apart."""
        raise NotImplementedError

    def reference_points(self) -> Tensor:
        """A fixed set of points on the piece (ends or edges included), float64."""
        raise NotImplementedError


class Shape:
    """A body: dimension, membership test, bounding box and named boundary pieces."""

    dim: int
    pieces: tuple[Piece, ...]

    def contains(self, x: Tensor) -> Tensor:
        """Boolean mask ``(N,)``: the point lies in the open body."""
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(lower corner, upper corner)`` of the bounding box."""
        raise NotImplementedError

    def __sub__(self, other: Shape) -> Difference:
        return Difference(self, other)

    def __or__(self, other: Shape) -> Union:
        return Union(self, other)

    def __and__(self, other: Shape) -> Intersection:
        return Intersection(self, other)

    @property
    def boundary_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.name for p in self.pieces))

    def pieces_named(self, name: str) -> tuple[Piece, ...]:
        return tuple(p for p in self.pieces if p.name == name)

    def boundary_measure(self, name: str) -> float:
        """Length (2D) or area (3D) of the boundary ``name``."""
        return sum(p.measure for p in self.pieces_named(name))

    def sample_interior(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        """``n`` points uniformly distributed in the body, ``(n, d)``, by rejection."""
        lo = torch.tensor(self.bounds[0], dtype=dtype)
        hi = torch.tensor(self.bounds[1], dtype=dtype)
        chunks, have = [], 0
        while have < n:
            draw = torch.rand(2 * (n - have) + 16, self.dim, generator=generator, dtype=dtype)
            trial = lo + (hi - lo) * draw
            trial = trial[self.contains(trial)]
            chunks.append(trial)
            have += len(trial)
        return torch.cat(chunks)[:n]

    def sample_boundary(
        self, name: str, n: int, generator: torch.Generator, dtype: torch.dtype
    ) -> tuple[Tensor, Tensor]:
        """``n`` points on the boundary ``name`` (uniform in length or area) with outward normals."""
        pieces = self.pieces_named(name)
        total = sum(p.measure for p in pieces)
        counts = _split_count(n, [p.measure / total for p in pieces])
        samples = [p.sample(c, generator, dtype) for p, c in zip(pieces, counts) if c > 0]
        return torch.cat([s[0] for s in samples]), torch.cat([s[1] for s in samples])

    def mesh(self, resolution: int) -> EvaluationMesh:
        """Cells covering the body for export and error integrals (:func:`.meshing.mesh_body`)."""
        return mesh_body(self, resolution)


class AxisAlignedBox(Shape):
    """The open box ``lower < x < upper`` (componentwise), in any dimension: the membership test
    and bounds shared by :class:`~.csg2d.Rectangle` and :class:`~.solids.Box`."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def contains(self, x: Tensor) -> Tensor:
        lo = torch.tensor(self.lower, dtype=x.dtype, device=x.device)
        hi = torch.tensor(self.upper, dtype=x.dtype, device=x.device)
        return ((x > lo) & (x < hi)).all(-1)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return self.lower, self.upper


def _same_dimension(a: Shape, b: Shape) -> None:
    if a.dim != b.dim:
        raise ValueError(f"cannot combine a {a.dim}D body with a {b.dim}D body")


class Difference(Shape):
    """``a`` with ``b`` cut out; ``b``'s boundary inside ``a`` becomes a boundary (a hole)."""

    def __init__(self, a: Shape, b: Shape) -> None:
        _same_dimension(a, b)
        self.a, self.b, self.dim = a, b, a.dim
        outside_b = [q for p in a.pieces for q in p.clipped(lambda x: ~b.contains(x))]
        inside_a = [q.flipped() for p in b.pieces for q in p.clipped(a.contains)]
        self.pieces = tuple(outside_b + inside_a)

    def contains(self, x: Tensor) -> Tensor:
        return self.a.contains(x) & ~self.b.contains(x)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return self.a.bounds


class Union(Shape):
    """The union of ``a`` and ``b``; the boundary pieces of each outside the other."""

    def __init__(self, a: Shape, b: Shape) -> None:
        _same_dimension(a, b)
        self.a, self.b, self.dim = a, b, a.dim
        pieces = [q for p in a.pieces for q in p.clipped(lambda x: ~b.contains(x))]
        pieces += [q for p in b.pieces for q in p.clipped(lambda x: ~a.contains(x))]
        self.pieces = tuple(pieces)

    def contains(self, x: Tensor) -> Tensor:
        return self.a.contains(x) | self.b.contains(x)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        (alo, ahi), (blo, bhi) = self.a.bounds, self.b.bounds
        return tuple(map(min, alo, blo)), tuple(map(max, ahi, bhi))


class Intersection(Shape):
    """The common part of ``a`` and ``b``; the boundary pieces of each inside the other."""

    def __init__(self, a: Shape, b: Shape) -> None:
        _same_dimension(a, b)
        self.a, self.b, self.dim = a, b, a.dim
        pieces = [q for p in a.pieces for q in p.clipped(b.contains)]
        pieces += [q for p in b.pieces for q in p.clipped(a.contains)]
        self.pieces = tuple(pieces)

    def contains(self, x: Tensor) -> Tensor:
        return self.a.contains(x) & self.b.contains(x)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        (alo, ahi), (blo, bhi) = self.a.bounds, self.b.bounds
        return tuple(map(max, alo, blo)), tuple(map(min, ahi, bhi))


def _split_count(n: int, fractions: list[float]) -> list[int]:
    """Split ``n`` into integer parts proportional to ``fractions`` (largest remainders)."""
    raw = [n * f for f in fractions]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts
