"""Measured displacements: read from a CSV or a VTU, checked against the case before any work.

CSV: one header line ``x,y,ux,uy`` (3D: ``x,y,z,ux,uy,uz``), optionally followed by the
standard deviations ``sx,sy[,sz]`` of the measured components, then one row per point, in the
case's units. Lines starting with ``#`` are comments; a comment ``# truth: E=210000 nu=0.3``
(what ``pinn-elastic-sample`` writes) names the values the data were made with.

VTU (a ``fields.vtu`` of another run, or a finite-element result): every node is a measurement
point and the point array ``inverse.array`` (default ``displacement``) the measured value; for
a 2D case the nodes must lie in the plane ``z = 0``.

Refused, with one line naming the file and the line or point: a header that does not fit the
case's dimension, values that are not numbers, NaNs and infinities, standard deviations that
are not positive, duplicate points, and points outside the body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from ..geometry import Shape

KEY = "inverse.data"
AXES = "xyz"
OUTSIDE_TOLERANCE = 1e-6  # relative to the body's largest extent: points on the surface count


@dataclass(frozen=True)
class Measurements:
    """Points ``(n, d)``, measured displacements ``(n, d)`` and their standard deviations."""

    points: np.ndarray
    values: np.ndarray
    std: np.ndarray | None
    source: str
    truth: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.points)


def columns_for(dim: int) -> tuple[list[str], list[str], list[str]]:
    """``(coordinates, displacements, standard deviations)`` column names of a ``dim``-D case."""
    return list(AXES[:dim]), [f"u{a}" for a in AXES[:dim]], [f"s{a}" for a in AXES[:dim]]


def read_measurements(path: Path, geometry: Shape, array: str = "displacement") -> Measurements:
    """The measurements in ``path`` (``.csv`` or ``.vtu``), validated against the body."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = _read_csv(path, geometry.dim)
    elif suffix == ".vtu":
        data = _read_vtu(path, geometry.dim, array)
    else:
        raise ConfigError(KEY, str(path), "must be a .csv or a .vtu file")
    _check_points(data, geometry)
    return data


def _read_csv(path: Path, dim: int) -> Measurements:
    coords, disp, stds = columns_for(dim)
    header, rows, numbers, truth = None, [], [], {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if text.startswith("#"):
            truth.update(_truth_comment(text, path, number))
            continue
        if not text:
            continue
        cells = [c.strip() for c in text.split(",")]
        if header is None:
            header = cells
            continue
        if len(cells) != len(header):
            raise ConfigError(
                KEY, f"{path}:{number}", f"has {len(cells)} values; the header has {len(header)}"
            )
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise ConfigError(KEY, f"{path}:{number}", "holds a value that is not a number") from None
        numbers.append(number)
    if header is None:
        raise ConfigError(KEY, str(path), "is empty; expected a header " + ",".join(coords + disp))
    with_std = set(stds) & set(header)
    expected = coords + disp + (stds if with_std else [])
    if sorted(header) != sorted(expected) or len(set(header)) != len(header):
        raise ConfigError(
            KEY,
            f"{path}: header {','.join(header)}",
            f"does not fit a {dim}D case; expected {','.join(coords + disp)} "
            f"(optionally followed by {','.join(stds)})",
        )
    if len(rows) < 2:
        raise ConfigError(KEY, str(path), f"has {len(rows)} data rows; at least 2 are needed")
    table = np.asarray(rows, dtype=np.float64)
    where = {name: header.index(name) for name in header}
    bad = ~np.isfinite(table).all(1)
    if bad.any():
        raise ConfigError(KEY, f"{path}:{numbers[int(np.argmax(bad))]}", "holds a NaN or an infinite value")
    std = table[:, [where[s] for s in stds]] if with_std else None
    if std is not None and not (std > 0).all():
        row = int(np.argmax(~(std > 0).all(1)))
        raise ConfigError(KEY, f"{path}:{numbers[row]}", "holds a standard deviation that is not > 0")
    data = Measurements(
        table[:, [where[c] for c in coords]], table[:, [where[u] for u in disp]], std, str(path), truth
    )
    _check_duplicates(data, [f"{path}:{n}" for n in numbers])
    return data


def _truth_comment(text: str, path: Path, number: int) -> dict[str, float]:
    """``# truth: E=1000 nu=0.3`` -> ``{"E": 1000.0, "nu": 0.3}``; other comments -> ``{}``."""
    body = text.lstrip("#").strip()
    if not body.startswith("truth:"):
        return {}
    out = {}
    for item in body[len("truth:") :].split():
        name, _, value = item.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError(KEY, f"{path}:{number}", f"truth item {item!r} is not NAME=NUMBER") from None
    return out


def _read_vtu(path: Path, dim: int, array: str) -> Measurements:
    from ..meshio_quiet import quiet_read

    try:
        mesh = quiet_read(path)
    except Exception as err:  # meshio raises many types for a bad file
        raise ConfigError(KEY, str(path), f"cannot be read as a VTU file ({type(err).__name__})") from None
    if array not in mesh.point_data:
        names = ", ".join(sorted(mesh.point_data)) or "none"
        raise ConfigError("inverse.array", array, f"is not a point array of {path}; arrays: {names}")
    values = np.asarray(mesh.point_data[array], dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < dim:
        raise ConfigError(
            "inverse.array", array, f"has shape {values.shape}; a {dim}D displacement is needed"
        )
    points = np.asarray(mesh.points, dtype=np.float64)
    extent = float(np.ptp(points, axis=0).max()) or 1.0
    if dim == 2 and points.shape[1] == 3 and np.abs(points[:, 2]).max() > OUTSIDE_TOLERANCE * extent:
        raise ConfigError(KEY, str(path), "has nodes off the plane z = 0; the case is 2D")
    if points.shape[1] < dim:
        raise ConfigError(KEY, str(path), f"has {points.shape[1]}D points; the case is {dim}D")
    points, values = points[:, :dim], values[:, :dim]
    bad = ~np.isfinite(values).all(1) | ~np.isfinite(points).all(1)
    if bad.any():
        raise ConfigError(KEY, f"{path}: node {int(np.argmax(bad))}", "holds a NaN or an infinite value")
    data = Measurements(points, values, None, str(path))
    _check_duplicates(data, [f"{path}: node {i}" for i in range(len(points))])
    return data


def _check_duplicates(data: Measurements, labels: list[str]) -> None:
    order = np.lexsort(data.points.T[::-1])
    ordered = data.points[order]
    same = (ordered[1:] == ordered[:-1]).all(1)
    if same.any():
        k = int(np.argmax(same))
        first, second = sorted((int(order[k]), int(order[k + 1])))
        raise ConfigError(KEY, labels[second], f"repeats the point of {labels[first]}")


def _check_points(data: Measurements, geometry: Shape) -> None:
    """Every point lies in the body or on its surface: within a relative 1e-6 of it, tested by
    stepping that far along the axes and diagonals (one such step from a surface point enters
    the body)."""
    x = torch.from_numpy(data.points)
    lo, hi = (np.asarray(b, dtype=np.float64) for b in geometry.bounds)
    tolerance = OUTSIDE_TOLERANCE * float((hi - lo).max())
    inside = geometry.contains(x)
    if bool(inside.all()):
        return
    outside = torch.nonzero(~inside).flatten()
    steps = torch.cartesian_prod(*[torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)] * geometry.dim)
    steps = steps[steps.abs().sum(1) > 0]
    steps = tolerance * steps / steps.norm(dim=1, keepdim=True)
    trial = x[outside][:, None, :] + steps[None]
    near = geometry.contains(trial.reshape(-1, geometry.dim)).reshape(len(outside), -1).any(1)
    far = outside[~near]
    if len(far):
        i = int(far[0])
        at = ", ".join(f"{a}={v:.6g}" for a, v in zip(AXES, data.points[i]))
        raise ConfigError(
            KEY, data.source, f"point {i + 1} ({at}) lies outside the body ({len(far)} such points)"
        )
