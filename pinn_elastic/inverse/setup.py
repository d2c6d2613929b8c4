"""Glue between an inverse run's config and the solver: data rows and the true material."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..constraints import HardConstraints
from ..errors import ConfigError
from ..materials import Material
from ..problem import Displacement, Problem
from ..scaling import Scales
from .data import Measurements
from .identify import DataRows

MAX_RELATIVE_WEIGHT = 10.0  # training only: a value's weight is at most 10x the typical one


def data_rows(
    data: Measurements, scales: Scales, constraints: HardConstraints | None, dtype: torch.dtype
) -> tuple[DataRows, torch.Tensor | None]:
    """The measurements in nondimensional form, and the training term's relative row weights
    (``rms(sigma) / sigma``, capped at 10: tiny stated deviations must not let a few values
    steer the training; ``None`` without standard deviations)."""
    points = scales.to_unit(torch.from_numpy(data.points))
    targets = torch.from_numpy(data.values) / scales.displacement
    constraint = None
    if constraints is not None and constraints.active:
        constraint = tuple(j.to(dtype) for j in constraints.jets(points, hessian=False))
    if data.std is None:
        weights, relative = torch.ones_like(targets), None
    else:
        std = torch.from_numpy(data.std)
        weights = scales.displacement / std
        typical = std.square().mean().sqrt()
        relative = typical / torch.clamp(std, min=MAX_RELATIVE_WEIGHT**-1 * typical)
    rows = DataRows(points.to(dtype), targets.to(dtype), weights, constraint, data.std is not None)
    return rows, None if relative is None else relative.to(dtype)


def material_with(material: Material, values: dict[str, float], key: str) -> Material:
    """``material`` with some of ``E, nu`` or of ``lam, mu`` (3D Lamé) replaced by ``values``."""
    try:
        if {"lam", "mu"} & set(values):
            lam = values.get("lam", material.lam_3d)
            mu = values.get("mu", material.mu)
            return Material.from_lame(lam, mu, material.plane, key)
        return Material(values.get("E", material.E), values.get("nu", material.nu), material.plane, key)
    except ConfigError as err:
        raise ConfigError(key, dict(values), err.allowed) from None


def true_material(material: Material, unknowns: Sequence[str], truth: dict[str, float]) -> Material | None:
    """The material the data were made with, where ``truth`` gives every unknown; else ``None``."""
    if not set(unknowns) <= set(truth):
        return None
    return material_with(material, truth, "inverse.truth")


def material_dependent_supports(problem: Problem, other: Problem) -> list[str]:
    """Boundaries whose prescribed displacement differs between the same case at two materials
    (the cantilever's support is the exact solution's, which depends on ``E`` and ``nu``)."""
    generator = torch.Generator().manual_seed(0)
    names = []
    for mine, theirs in zip(problem.conditions, other.conditions):
        if isinstance(mine, Displacement) and not mine.is_zero:
            x, _ = problem.geometry.sample_boundary(mine.boundary, 64, generator, torch.float64)
            if not torch.allclose(mine.evaluate(x), theirs.evaluate(x), rtol=1e-12, atol=0.0):
                names.append(mine.boundary)
    return names


def case_at(case: dict[str, Any], material: Material) -> dict[str, Any]:
    """The case's config with its ``E`` and ``nu`` replaced by ``material``'s."""
    return {**case, "E": material.E, "nu": material.nu}


def data_path(value: str, bases: Sequence[Path]) -> Path:
    from ..yaml_case import resolve_file

    return resolve_file(value, [*bases, Path.cwd()], "inverse.data")
