"""2D bodies: boundary curves (:class:`Segment`, :class:`Arc`), :class:`Rectangle` and :class:`Disk`.

Corners, where the normal is undefined, are never sampled: each curve draws its parameter from
the open interval, so every boundary point has a unique outward normal. Clipping a curve by a
membership test (CSG) restricts its parameter interval to the parts that bound the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from .shape import AxisAlignedBox, Keep, Piece, Shape


class Curve(Piece):
    """A named boundary curve ``x(t)``, ``t in [0, 1]``, with outward normals ``n(t)``."""

    @property
    def length(self) -> float:
        raise NotImplementedError

    def at(self, t: Tensor) -> Tensor:
        """Points ``(n, 2)`` at parameters ``t (n,)``."""
        raise NotImplementedError

    def normals_at(self, t: Tensor) -> Tensor:
        """Outward unit normals ``(n, 2)`` at parameters ``t (n,)``."""
        raise NotImplementedError

    def distance(self, x: Tensor) -> Tensor:
        """Smooth signed distance to the piece's carrier curve, positive on the body's side."""
        raise NotImplementedError

    def project(self, x: Tensor) -> Tensor:
        """Closest point on the carrier curve (line or circle), ``(N, 2)``."""
        raise NotImplementedError

    @property
    def measure(self) -> float:
        return self.length

    def clipped(self, keep: Keep) -> list[Piece]:
        return clip(self, keep)

    def reference_points(self) -> Tensor:
        return self.at(torch.linspace(0.0, 1.0, 257, dtype=torch.float64))

    def restrict(self, t0: float, t1: float) -> Curve:
        """The part of the piece between parameters ``t0 < t1``."""
        raise NotImplementedError

    def flipped(self) -> Curve:
        """The same curve bounding the complementary region (normals reversed)."""
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        """``n`` points stratified uniformly in arc length (endpoints excluded) and normals."""
        t = (torch.arange(n, dtype=dtype) + torch.rand(n, generator=generator, dtype=dtype)) / n
        t = t.clamp(1e-9, 1 - 1e-9)
        return self.at(t), self.normals_at(t)

    def trace(self, spacing: float) -> np.ndarray:
        """Points along the piece, endpoints included, at most ``spacing`` apart."""
        count = max(2, math.ceil(self.length / spacing) + 1)
        return self.at(torch.linspace(0.0, 1.0, count, dtype=torch.float64)).numpy()


@dataclass(frozen=True)
class Segment(Curve):
    """A straight piece from ``start`` to ``end``; the body lies on its left."""

    name: str
    start: tuple[float, float]
    end: tuple[float, float]

    @property
    def length(self) -> float:
        return math.dist(self.start, self.end)

    @property
    def normal(self) -> tuple[float, float]:
        """Outward unit normal: the unit tangent turned clockwise."""
        tx, ty = ((e - s) / self.length for s, e in zip(self.start, self.end))
        return (ty, -tx)

    def at(self, t: Tensor) -> Tensor:
        a = torch.tensor(self.start, dtype=t.dtype, device=t.device)
        b = torch.tensor(self.end, dtype=t.dtype, device=t.device)
        return a + t[:, None] * (b - a)

    def normals_at(self, t: Tensor) -> Tensor:
        return torch.tensor(self.normal, dtype=t.dtype, device=t.device).expand(len(t), 2).clone()

    def distance(self, x: Tensor) -> Tensor:
        n = torch.tensor(self.normal, dtype=x.dtype, device=x.device)
        a = torch.tensor(self.start, dtype=x.dtype, device=x.device)
        return -((x - a) * n).sum(-1)

    def project(self, x: Tensor) -> Tensor:
        n = torch.tensor(self.normal, dtype=x.dtype, device=x.device)
        return x + self.distance(x)[:, None] * n

    def restrict(self, t0: float, t1: float) -> Segment:
        a, b = (tuple(float(v) for v in self.at(torch.tensor([t], dtype=torch.float64))[0]) for t in (t0, t1))
        return replace(self, start=a, end=b)

    def flipped(self) -> Segment:
        return replace(self, start=self.end, end=self.start)


@dataclass(frozen=True)
class Arc(Curve):
    """A circular piece, angles ``theta0 -> theta1`` (radians, counter-clockwise).

    ``body_inside``: the body lies inside the circle (an outer boundary, normals point away
    from the centre); otherwise outside it (a hole, normals point toward the centre).
    """

    name: str
    center: tuple[float, float]
    radius: float
    theta0: float = 0.0
    theta1: float = 2 * math.pi
    body_inside: bool = True

    @property
    def length(self) -> float:
        return self.radius * abs(self.theta1 - self.theta0)

    @property
    def closed(self) -> bool:
        return math.isclose(abs(self.theta1 - self.theta0), 2 * math.pi)

    def _angle(self, t: Tensor) -> Tensor:
        return self.theta0 + t * (self.theta1 - self.theta0)

    def at(self, t: Tensor) -> Tensor:
        theta = self._angle(t)
        c = torch.tensor(self.center, dtype=t.dtype, device=t.device)
        return c + self.radius * torch.stack([torch.cos(theta), torch.sin(theta)], -1)

    def normals_at(self, t: Tensor) -> Tensor:
        theta = self._angle(t)
        radial = torch.stack([torch.cos(theta), torch.sin(theta)], -1)
        return radial if self.body_inside else -radial

    def distance(self, x: Tensor) -> Tensor:
        r = (x - torch.tensor(self.center, dtype=x.dtype, device=x.device)).norm(dim=-1)
        return self.radius - r if self.body_inside else r - self.radius

    def project(self, x: Tensor) -> Tensor:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        offset = x - c
        return c + self.radius * offset / offset.norm(dim=-1, keepdim=True)

    def restrict(self, t0: float, t1: float) -> Arc:
        span = self.theta1 - self.theta0
        return replace(self, theta0=self.theta0 + t0 * span, theta1=self.theta0 + t1 * span)

    def flipped(self) -> Arc:
        return replace(self, body_inside=not self.body_inside)


def clip(piece: Curve, keep: Keep, samples: int = 2049) -> list[Piece]:
    """The parts of ``piece`` where ``keep(points)`` holds, with ends found by bisection."""
    t = torch.linspace(0.0, 1.0, samples, dtype=torch.float64)
    mask = keep(piece.at(t)).tolist()

    def edge(lo: float, hi: float, inside_lo: bool) -> float:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if bool(keep(piece.at(torch.tensor([mid], dtype=torch.float64)))[0]) == inside_lo:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    runs, start = [], None
    for i, inside in enumerate(mask):
        if inside and start is None:
            start = 0.0 if i == 0 else edge(float(t[i - 1]), float(t[i]), False)
        if not inside and start is not None:
            runs.append((start, edge(float(t[i - 1]), float(t[i]), True)))
            start = None
    if start is not None:
        runs.append((start, 1.0))
    if isinstance(piece, Arc) and piece.closed and len(runs) > 1 and runs[0][0] == 0.0 and runs[-1][1] == 1.0:
        (first_end, last_start) = runs[0][1], runs[-1][0]
        runs = [(last_start, 1.0 + first_end), *runs[1:-1]]  # join the run across theta = 2 pi
    return [piece.restrict(a, b) for a, b in runs if (b - a) * piece.length > 1e-12]


RECTANGLE_EDGES = ("bottom", "right", "top", "left")


class Rectangle(AxisAlignedBox):
    """The box ``[x0, x1] x [y0, y1]``; its edges are named ``names`` in the order bottom
    (``y = y0``), right, top, left. Rename them when a body combines several rectangles."""

    dim = 2

    def __init__(
        self,
        lower: tuple[float, float],
        upper: tuple[float, float],
        names: tuple[str, str, str, str] = RECTANGLE_EDGES,
    ) -> None:
        (x0, y0), (x1, y1) = lower, upper
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"Rectangle needs lower < upper, got {lower} and {upper}")
        if len(names) != 4:
            raise ValueError(f"Rectangle needs 4 edge names (bottom, right, top, left), got {names}")
        self.lower, self.upper = (float(x0), float(y0)), (float(x1), float(y1))
        bottom, right, top, left = names
        self.pieces = (
            Segment(bottom, (x0, y0), (x1, y0)),
            Segment(right, (x1, y0), (x1, y1)),
            Segment(top, (x1, y1), (x0, y1)),
            Segment(left, (x0, y1), (x0, y0)),
        )


class Disk(Shape):
    """The open disk ``|x - center| < radius``; its boundary is one arc named ``name``."""

    dim = 2

    def __init__(self, center: tuple[float, float], radius: float, name: str = "circle") -> None:
        if not radius > 0:
            raise ValueError(f"Disk needs radius > 0, got {radius}")
        self.center, self.radius = (float(center[0]), float(center[1])), float(radius)
        self.pieces = (Arc(name, self.center, self.radius),)

    def contains(self, x: Tensor) -> Tensor:
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device)
        return (x - c).norm(dim=-1) < self.radius

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        (cx, cy), r = self.center, self.radius
        return (cx - r, cy - r), (cx + r, cy + r)
