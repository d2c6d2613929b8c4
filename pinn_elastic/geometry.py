"""Bodies, their named boundary pieces, and seeded sampling.

A :class:`Shape` knows whether points are inside it, its bounding box and area, and its
boundary as named :class:`Segment` pieces (oriented counter-clockwise, so the outward normal
is the tangent turned clockwise). Sampling takes an explicit ``torch.Generator``.

Corners, where the normal is undefined, are never sampled: each piece draws its arc-length
parameter from the open interval, so every boundary point has a unique outward normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass(frozen=True)
class Segment:
    """A straight boundary piece from ``start`` to ``end``; the body lies on its left."""

    name: str
    start: tuple[float, float]
    end: tuple[float, float]

    @property
    def length(self) -> float:
        return math.dist(self.start, self.end)

    @property
    def normal(self) -> tuple[float, float]:
        """Outward unit normal: the unit tangent turned clockwise."""
        tx, ty = (self.end[0] - self.start[0]) / self.length, (self.end[1] - self.start[1]) / self.length
        return (ty, -tx)

    def at(self, s: Tensor) -> Tensor:
        """Points at arc-length fractions ``s (n,)`` -> ``(n, 2)``."""
        a = torch.tensor(self.start, dtype=s.dtype)
        b = torch.tensor(self.end, dtype=s.dtype)
        return a + s[:, None] * (b - a)

    def sample(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        """``n`` points uniform in arc length (endpoints excluded) and their normals."""
        s = (torch.arange(n, dtype=dtype) + torch.rand(n, generator=generator, dtype=dtype)) / n
        s = s.clamp(1e-6, 1 - 1e-6)
        points = self.at(s)
        normals = torch.tensor(self.normal, dtype=dtype).expand(n, 2).clone()
        return points, normals

    def distance(self, x: Tensor) -> Tensor:
        """Signed distance to the piece's line, positive on the body's side, ``(N,)``."""
        n = torch.tensor(self.normal, dtype=x.dtype, device=x.device)
        a = torch.tensor(self.start, dtype=x.dtype, device=x.device)
        return -((x - a) * n).sum(-1)

    def project(self, x: Tensor) -> Tensor:
        """Closest point on the piece's line, ``(N, 2)``."""
        n = torch.tensor(self.normal, dtype=x.dtype, device=x.device)
        return x + self.distance(x)[:, None] * n

    def trace(self, spacing: float) -> np.ndarray:
        """Points along the piece, endpoints included, at most ``spacing`` apart."""
        count = max(2, math.ceil(self.length / spacing) + 1)
        s = np.linspace(0.0, 1.0, count)
        a, b = np.asarray(self.start), np.asarray(self.end)
        return a + s[:, None] * (b - a)


class Shape:
    """A 2D body: membership test, bounding box, area and named boundary pieces."""

    dim = 2
    pieces: tuple[Segment, ...]

    def contains(self, x: Tensor) -> Tensor:
        """Boolean mask ``(N,)``: the point lies in the open body."""
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(lower corner, upper corner)`` of the bounding box."""
        raise NotImplementedError

    @property
    def boundary_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.name for p in self.pieces))

    def pieces_named(self, name: str) -> tuple[Segment, ...]:
        return tuple(p for p in self.pieces if p.name == name)

    def sample_interior(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        """``n`` points uniformly distributed in the body, ``(n, d)``, by rejection."""
        lo = torch.tensor(self.bounds[0], dtype=dtype)
        hi = torch.tensor(self.bounds[1], dtype=dtype)
        chunks, have = [], 0
        while have < n:
            trial = lo + (hi - lo) * torch.rand(
                2 * (n - have) + 16, self.dim, generator=generator, dtype=dtype
            )
            trial = trial[self.contains(trial)]
            chunks.append(trial)
            have += len(trial)
        return torch.cat(chunks)[:n]

    def sample_boundary(
        self, name: str, n: int, generator: torch.Generator, dtype: torch.dtype
    ) -> tuple[Tensor, Tensor]:
        """``n`` points on the boundary ``name`` (uniform in arc length) with outward normals."""
        pieces = self.pieces_named(name)
        total = sum(p.length for p in pieces)
        counts = _split_count(n, [p.length / total for p in pieces])
        samples = [p.sample(c, generator, dtype) for p, c in zip(pieces, counts) if c > 0]
        return torch.cat([s[0] for s in samples]), torch.cat([s[1] for s in samples])

    def boundary_length(self, name: str) -> float:
        return sum(p.length for p in self.pieces_named(name))

    def mesh(self, resolution: int) -> tuple[np.ndarray, np.ndarray]:
        """A triangulation of the body for export and evaluation.

        ``resolution`` points along the longest side of the bounding box. Returns node
        coordinates ``(M, 2)`` and triangles ``(K, 3)``: a regular grid strictly inside the body
        plus points traced along every boundary piece, Delaunay-triangulated, with the
        triangles whose centroid lies outside the body removed.
        """
        from matplotlib.tri import Triangulation

        lo, hi = np.asarray(self.bounds[0]), np.asarray(self.bounds[1])
        spacing = float((hi - lo).max()) / max(resolution - 1, 1)
        axes = [np.arange(lo[i] + spacing / 2, hi[i], spacing) for i in range(2)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
        grid_t = torch.from_numpy(grid)
        inside = self.contains(grid_t).numpy() & (self._distance_to_boundary(grid_t) > 0.3 * spacing)
        boundary = np.concatenate([p.trace(spacing) for p in self.pieces])
        points = np.unique(np.round(np.concatenate([grid[inside], boundary]), 12), axis=0)
        triangles = Triangulation(points[:, 0], points[:, 1]).triangles
        centroids = torch.from_numpy(points[triangles].mean(1))
        keep = self.contains(centroids).numpy()
        return points, triangles[keep]

    def _distance_to_boundary(self, x: Tensor) -> np.ndarray:
        """Unsigned distance from points to the nearest boundary piece (segments clamped)."""
        distances = []
        for p in self.pieces:
            a, b = torch.tensor(p.start, dtype=x.dtype), torch.tensor(p.end, dtype=x.dtype)
            t = (((x - a) * (b - a)).sum(-1) / ((b - a) ** 2).sum()).clamp(0, 1)
            distances.append((x - (a + t[:, None] * (b - a))).norm(dim=-1))
        return torch.stack(distances).min(0).values.numpy()


class Rectangle(Shape):
    """The box ``[x0, x1] x [y0, y1]`` with edges named ``bottom``, ``right``, ``top``, ``left``."""

    def __init__(self, lower: tuple[float, float], upper: tuple[float, float]) -> None:
        (x0, y0), (x1, y1) = lower, upper
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"Rectangle needs lower < upper, got {lower} and {upper}")
        self.lower, self.upper = (float(x0), float(y0)), (float(x1), float(y1))
        self.pieces = (
            Segment("bottom", (x0, y0), (x1, y0)),
            Segment("right", (x1, y0), (x1, y1)),
            Segment("top", (x1, y1), (x0, y1)),
            Segment("left", (x0, y1), (x0, y0)),
        )

    def contains(self, x: Tensor) -> Tensor:
        lo = torch.tensor(self.lower, dtype=x.dtype, device=x.device)
        hi = torch.tensor(self.upper, dtype=x.dtype, device=x.device)
        return ((x > lo) & (x < hi)).all(-1)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return self.lower, self.upper


def _split_count(n: int, fractions: list[float]) -> list[int]:
    """Split ``n`` into integer parts proportional to ``fractions`` (largest remainders)."""
    raw = [n * f for f in fractions]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts
