"""3D bodies: boxes, spheres and cylinders with named faces, combined by the same CSG as in 2D.

A face is a patch of a carrier surface (a plane, a cylinder or a sphere) with an outward unit
normal. Combining solids trims faces by membership (``keep`` masks): a trimmed face samples its
untrimmed patch uniformly in area and keeps the points that bound the result, so sampling stays
uniform in area; its area is the untrimmed area times the kept fraction of a fixed,
deterministic draw. A face of a subtracted solid is flipped: its normal points into the hole.

Face names (each constructor takes others):

* :class:`Box`: ``xmin``, ``xmax``, ``ymin``, ``ymax``, ``zmin``, ``zmax`` (the face on which
  that coordinate is smallest or largest);
* :class:`Sphere`: one face, ``sphere``;
* :class:`Cylinder`: the curved face ``side`` and the flat ends ``start`` and ``end`` (the
  disks through the points the axis runs from and to).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from .shape import AxisAlignedBox, Keep, Piece, Shape

AREA_SAMPLES = 1 << 16  # Sobol points that measure a trimmed face's area (about 0.1 % error)
BOX_FACES = ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")


def _sobol(n: int) -> Tensor:
    """The first ``n`` points of the scrambled 2D Sobol sequence (seed 0), inside the open square."""
    u = torch.quasirandom.SobolEngine(2, scramble=True, seed=0).draw(n, dtype=torch.float64)
    return u.clamp(1e-9, 1 - 1e-9)


def _frame(axis: Tensor) -> tuple[Tensor, Tensor]:
    """Two unit vectors that complete ``axis`` to a right-handed orthonormal frame."""
    helper = torch.eye(3, dtype=torch.float64)[int(torch.argmin(axis.abs()))]
    e1 = torch.linalg.cross(axis, helper)
    e1 = e1 / e1.norm()
    return e1, torch.linalg.cross(axis, e1)


def _point(x: Sequence[float], what: str) -> Tensor:
    if len(x) != 3:
        raise ValueError(f"{what} needs 3 coordinates, got {tuple(x)}")
    return torch.tensor([float(c) for c in x], dtype=torch.float64)


class Face(Piece):
    """A patch of a carrier surface with outward normals; ``sign`` = -1 once flipped."""

    dim = 3

    @property
    def area(self) -> float:
        raise NotImplementedError

    @property
    def measure(self) -> float:
        return self.area

    def map_unit(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """Points and outward normals of the untrimmed patch at ``u (n, 2)`` in the unit square;
        an area-preserving map, so uniform ``u`` gives points uniform in area."""
        raise NotImplementedError

    def draw(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        """``n`` points uniform in area on the untrimmed patch (never on an edge), with normals."""
        u = torch.rand(n, 2, generator=generator, dtype=torch.float64).clamp(1e-9, 1 - 1e-9)
        points, normals = self.map_unit(u)
        return points.to(dtype), normals.to(dtype)

    def sample(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        return self.draw(n, generator, dtype)

    def grid(self, spacing: float) -> np.ndarray:
        """Deterministic points covering the patch (edges included) at about ``spacing``."""
        raise NotImplementedError

    def trace(self, spacing: float) -> np.ndarray:
        return self.grid(spacing)

    def reference_points(self) -> Tensor:
        points, _ = self.map_unit(_sobol(1024))
        edges = torch.from_numpy(self.grid(math.sqrt(self.area) / 16))
        return torch.cat([points, edges])

    def clipped(self, keep: Keep) -> list[Piece]:
        return _trim(self, keep)


class TrimmedFace(Face):
    """The part of ``base`` where ``keep`` holds; ``fraction`` of its area."""

    def __init__(self, base: Face, keep: Keep, fraction: float) -> None:
        self.base, self.keep, self.fraction = base, keep, fraction
        self.name = base.name
        self.smooth_distance = base.smooth_distance

    @property
    def area(self) -> float:
        return self.base.area * self.fraction

    def draw(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        points, normals, have = [], [], 0
        while have < n:
            x, nx = self.base.draw(int(1.2 * (n - have) / self.fraction) + 16, generator, dtype)
            mask = self.keep(x)
            points.append(x[mask])
            normals.append(nx[mask])
            have += int(mask.sum())
        return torch.cat(points)[:n], torch.cat(normals)[:n]

    def grid(self, spacing: float) -> np.ndarray:
        points = self.base.grid(spacing)
        return points[self.keep(torch.from_numpy(points)).numpy()]

    def reference_points(self) -> Tensor:
        points = self.base.reference_points()
        return points[self.keep(points)]

    def distance(self, x: Tensor) -> Tensor:
        return self.base.distance(x)

    def project(self, x: Tensor) -> Tensor:
        return self.base.project(x)

    def flipped(self) -> TrimmedFace:
        return TrimmedFace(self.base.flipped(), self.keep, self.fraction)

    def clipped(self, keep: Keep) -> list[Piece]:
        first = self.keep
        return _trim(self.base, lambda x: first(x) & keep(x))


def _trim(base: Face, keep: Keep) -> list[Piece]:
    """``base`` restricted to where ``keep`` holds: itself, a :class:`TrimmedFace`, or nothing."""
    points, _ = base.map_unit(_sobol(AREA_SAMPLES))
    kept = float(keep(points).double().mean())
    if kept == 0.0:
        return []
    return [base] if kept == 1.0 else [TrimmedFace(base, keep, kept)]


class PlaneFace(Face):
    """The parallelogram ``origin + s a + t b`` (``s, t`` in [0, 1]) with outward normal ``normal``."""

    smooth_distance = True

    def __init__(self, name: str, origin: Tensor, a: Tensor, b: Tensor, normal: Tensor) -> None:
        self.name, self.origin, self.a, self.b, self.normal = name, origin, a, b, normal

    @property
    def area(self) -> float:
        return float(torch.linalg.cross(self.a, self.b).norm())

    def map_unit(self, u: Tensor) -> tuple[Tensor, Tensor]:
        points = self.origin + u[:, :1] * self.a + u[:, 1:] * self.b
        return points, self.normal.expand(len(u), 3).clone()

    def grid(self, spacing: float) -> np.ndarray:
        ns = max(2, math.ceil(float(self.a.norm()) / spacing) + 1)
        nt = max(2, math.ceil(float(self.b.norm()) / spacing) + 1)
        s, t = torch.meshgrid(torch.linspace(0, 1, ns), torch.linspace(0, 1, nt), indexing="ij")
        s, t = s.reshape(-1, 1).double(), t.reshape(-1, 1).double()
        return (self.origin + s * self.a + t * self.b).numpy()

    def distance(self, x: Tensor) -> Tensor:
        """Signed distance to the plane, positive on the body's side (against the normal)."""
        return -((x - self.origin.to(x)) * self.normal.to(x)).sum(-1)

    def project(self, x: Tensor) -> Tensor:
        return x + self.distance(x)[:, None] * self.normal.to(x)

    def flipped(self) -> PlaneFace:
        return PlaneFace(self.name, self.origin, self.a, self.b, -self.normal)


class DiskFace(Face):
    """The flat disk of ``radius`` about ``center`` with outward normal ``normal``."""

    smooth_distance = True

    def __init__(self, name: str, center: Tensor, radius: float, normal: Tensor) -> None:
        self.name, self.center, self.radius, self.normal = name, center, radius, normal
        self.e1, self.e2 = _frame(normal)

    @property
    def area(self) -> float:
        return math.pi * self.radius**2

    def map_unit(self, u: Tensor) -> tuple[Tensor, Tensor]:
        r = self.radius * u[:, :1].sqrt()
        angle = 2 * math.pi * u[:, 1:]
        points = self.center + r * (angle.cos() * self.e1 + angle.sin() * self.e2)
        return points, self.normal.expand(len(u), 3).clone()

    def grid(self, spacing: float) -> np.ndarray:
        rings = max(1, math.ceil(self.radius / spacing))
        points = [self.center[None]]
        for k in range(1, rings + 1):
            r = self.radius * k / rings
            count = max(6, math.ceil(2 * math.pi * r / spacing))
            angle = torch.arange(count, dtype=torch.float64)[:, None] * (2 * math.pi / count)
            points.append(self.center + r * (angle.cos() * self.e1 + angle.sin() * self.e2))
        return torch.cat(points).numpy()

    def distance(self, x: Tensor) -> Tensor:
        return -((x - self.center.to(x)) * self.normal.to(x)).sum(-1)

    def project(self, x: Tensor) -> Tensor:
        return x + self.distance(x)[:, None] * self.normal.to(x)

    def flipped(self) -> DiskFace:
        return DiskFace(self.name, self.center, self.radius, -self.normal)


class CylinderFace(Face):
    """The curved face ``|x - axis| = radius`` between ``start`` and ``start + length * axis``.

    ``sign`` = +1: normals point away from the axis (a solid); -1: towards it (a bore).
    """

    smooth_distance = False  # the distance to the surface has a kink on the axis

    def __init__(
        self, name: str, start: Tensor, axis: Tensor, length: float, radius: float, sign: float
    ) -> None:
        self.name, self.start, self.axis, self.length, self.radius, self.sign = (
            name,
            start,
            axis,
            length,
            radius,
            sign,
        )
        self.e1, self.e2 = _frame(axis)

    @property
    def area(self) -> float:
        return 2 * math.pi * self.radius * self.length

    def map_unit(self, u: Tensor) -> tuple[Tensor, Tensor]:
        angle = 2 * math.pi * u[:, :1]
        radial = angle.cos() * self.e1 + angle.sin() * self.e2
        points = self.start + self.length * u[:, 1:] * self.axis + self.radius * radial
        return points, self.sign * radial

    def grid(self, spacing: float) -> np.ndarray:
        count = max(8, math.ceil(2 * math.pi * self.radius / spacing))
        steps = max(2, math.ceil(self.length / spacing) + 1)
        angle = torch.arange(count, dtype=torch.float64) * (2 * math.pi / count)
        along = torch.linspace(0, self.length, steps, dtype=torch.float64)
        angle, along = (g.reshape(-1, 1) for g in torch.meshgrid(angle, along, indexing="ij"))
        radial = angle.cos() * self.e1 + angle.sin() * self.e2
        return (self.start + along * self.axis + self.radius * radial).numpy()

    def _radial(self, x: Tensor) -> tuple[Tensor, Tensor]:
        rel = x - self.start.to(x)
        along = (rel * self.axis.to(x)).sum(-1, keepdim=True)
        return along, rel - along * self.axis.to(x)

    def distance(self, x: Tensor) -> Tensor:
        _, radial = self._radial(x)
        return self.sign * (self.radius - radial.norm(dim=-1))

    def project(self, x: Tensor) -> Tensor:
        along, radial = self._radial(x)
        return (
            self.start.to(x)
            + along * self.axis.to(x)
            + self.radius * radial / radial.norm(dim=-1, keepdim=True)
        )

    def flipped(self) -> CylinderFace:
        return CylinderFace(self.name, self.start, self.axis, self.length, self.radius, -self.sign)


class SphereFace(Face):
    """The sphere ``|x - center| = radius``; ``sign`` as for :class:`CylinderFace`."""

    smooth_distance = False  # a kink at the centre

    def __init__(self, name: str, center: Tensor, radius: float, sign: float) -> None:
        self.name, self.center, self.radius, self.sign = name, center, radius, sign

    @property
    def area(self) -> float:
        return 4 * math.pi * self.radius**2

    def map_unit(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """Archimedes: ``z`` uniform in [-1, 1] and the azimuth uniform is uniform in area."""
        z = 1 - 2 * u[:, :1]
        angle = 2 * math.pi * u[:, 1:]
        ring = (1 - z * z).clamp_min(0).sqrt()
        unit = torch.cat([ring * angle.cos(), ring * angle.sin(), z], 1)
        return self.center + self.radius * unit, self.sign * unit

    def grid(self, spacing: float) -> np.ndarray:
        """A Fibonacci lattice: nearly equal-area points, about ``spacing`` apart."""
        count = max(32, math.ceil(self.area / spacing**2 * 1.15))
        k = torch.arange(count, dtype=torch.float64) + 0.5
        z = 1 - 2 * k / count
        angle = math.pi * (1 + math.sqrt(5)) * k
        r = (1 - z * z).sqrt()
        unit = torch.stack([r * angle.cos(), r * angle.sin(), z], -1)
        return (self.center + self.radius * unit).numpy()

    def distance(self, x: Tensor) -> Tensor:
        return self.sign * (self.radius - (x - self.center.to(x)).norm(dim=-1))

    def project(self, x: Tensor) -> Tensor:
        rel = x - self.center.to(x)
        return self.center.to(x) + self.radius * rel / rel.norm(dim=-1, keepdim=True)

    def flipped(self) -> SphereFace:
        return SphereFace(self.name, self.center, self.radius, -self.sign)


class Solid(Shape):
    """A 3D body."""

    dim = 3


class Box(AxisAlignedBox, Solid):
    """The box ``[x0, x1] x [y0, y1] x [z0, z1]``; faces named ``names`` in the order
    ``xmin, xmax, ymin, ymax, zmin, zmax`` (default: those words)."""

    def __init__(
        self, lower: Sequence[float], upper: Sequence[float], names: Sequence[str] = BOX_FACES
    ) -> None:
        lo, hi = _point(lower, "Box lower"), _point(upper, "Box upper")
        if not bool((hi > lo).all()):
            raise ValueError(
                f"Box needs lower < upper in every coordinate, got {tuple(lower)} and {tuple(upper)}"
            )
        if len(names) != 6:
            raise ValueError(
                f"Box needs 6 face names (xmin, xmax, ymin, ymax, zmin, zmax), got {tuple(names)}"
            )
        self.lower, self.upper = tuple(lo.tolist()), tuple(hi.tolist())
        eye, size = torch.eye(3, dtype=torch.float64), hi - lo
        faces = []
        for axis in range(3):
            u, v = [(axis + 1) % 3, (axis + 2) % 3]
            for side, corner in ((0, lo), (1, hi)):
                origin = lo.clone()
                origin[axis] = corner[axis]
                normal = eye[axis] * (1.0 if side else -1.0)
                faces.append(
                    PlaneFace(names[2 * axis + side], origin, size[u] * eye[u], size[v] * eye[v], normal)
                )
        self.pieces = tuple(faces)


class Sphere(Solid):
    """The open ball ``|x - center| < radius``; one face named ``name``."""

    def __init__(self, center: Sequence[float], radius: float, name: str = "sphere") -> None:
        if not radius > 0:
            raise ValueError(f"Sphere needs radius > 0, got {radius}")
        self.center, self.radius = _point(center, "Sphere center"), float(radius)
        self.pieces = (SphereFace(name, self.center, self.radius, 1.0),)

    def contains(self, x: Tensor) -> Tensor:
        return (x - self.center.to(x)).norm(dim=-1) < self.radius

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        c = self.center.tolist()
        return tuple(v - self.radius for v in c), tuple(v + self.radius for v in c)


class Cylinder(Solid):
    """The solid circular cylinder of ``radius`` whose axis runs from ``start`` to ``end`` (any
    direction); faces named ``names`` = (curved side, disk at ``start``, disk at ``end``)."""

    def __init__(
        self,
        start: Sequence[float],
        end: Sequence[float],
        radius: float,
        names: Sequence[str] = ("side", "start", "end"),
    ) -> None:
        a, b = _point(start, "Cylinder start"), _point(end, "Cylinder end")
        if not radius > 0:
            raise ValueError(f"Cylinder needs radius > 0, got {radius}")
        if not float((b - a).norm()) > 0:
            raise ValueError(f"Cylinder needs start != end, got {tuple(start)} twice")
        if len(names) != 3:
            raise ValueError(f"Cylinder needs 3 face names (side, start, end), got {tuple(names)}")
        self.start, self.end, self.radius = a, b, float(radius)
        self.axis, self.length = (b - a) / (b - a).norm(), float((b - a).norm())
        side, first, last = names
        self.pieces = (
            CylinderFace(side, a, self.axis, self.length, self.radius, 1.0),
            DiskFace(first, a, self.radius, -self.axis),
            DiskFace(last, b, self.radius, self.axis),
        )

    def contains(self, x: Tensor) -> Tensor:
        rel = x - self.start.to(x)
        along = (rel * self.axis.to(x)).sum(-1)
        radial = rel - along[:, None] * self.axis.to(x)
        return (along > 0) & (along < self.length) & (radial.norm(dim=-1) < self.radius)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        # the disks' extent along each axis: radius * sqrt(1 - axis_i^2)
        reach = self.radius * (1 - self.axis**2).clamp_min(0).sqrt()
        lo = torch.minimum(self.start, self.end) - reach
        hi = torch.maximum(self.start, self.end) + reach
        return tuple(lo.tolist()), tuple(hi.tolist())
