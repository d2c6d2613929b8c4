"""Collocation points with everything the loss needs precomputed (targets, normals, lifts).

All tensors are nondimensional (see :mod:`pinn_elastic.scaling`). The boundary points of
every loss term are stacked into one tensor so the network is evaluated once per step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from .constraints import HardConstraints
from .derivatives import Jet
from .distributed import Group, shard_rows
from .errors import ConfigError
from .problem import Displacement, Problem, components_of, term_name
from .scaling import Scales


@dataclass
class BoundaryTerm:
    """One named boundary loss term on ``rows`` of the stacked boundary points."""

    name: str
    kind: str  # "displacement" | "traction"
    rows: slice
    components: tuple[int, ...]
    target: Tensor  # (n, len(components))
    scale: Tensor | None = None  # (n, len(components)): per-row weights (measurements' 1/std)


@dataclass
class Collocation:
    interior: Tensor  # (N, d)
    body_force: Tensor | None  # (N, d)
    boundary: Tensor  # (M, d)
    normals: Tensor  # (M, d)
    terms: list[BoundaryTerm]
    interior_constraint: tuple[Jet, Jet] | None = None  # (lift, phi) jets with Hessians
    boundary_constraint: tuple[Jet, Jet] | None = None  # (lift, phi) jets, gradients only
    # inverse.field=E: (m at interior points (N,), grad g there (N, d), m at boundary points (M,))
    modulus: tuple[Tensor, Tensor, Tensor] | None = None
    # a rank's shard of a batch (:mod:`pinn_elastic.distributed`): each term's rows in the whole batch
    rows_total: dict[str, int] | None = None

    def to(self, *args, **kwargs) -> Collocation:
        """``Tensor.to`` (device and/or dtype) applied to every tensor and jet."""

        def move(value):
            if value is None:
                return None
            if isinstance(value, tuple):
                return tuple(v.to(*args, **kwargs) for v in value)
            return value.to(*args, **kwargs)

        return replace(
            self,
            interior=move(self.interior),
            body_force=move(self.body_force),
            boundary=move(self.boundary),
            normals=move(self.normals),
            terms=[replace(t, target=move(t.target), scale=move(t.scale)) for t in self.terms],
            interior_constraint=move(self.interior_constraint),
            boundary_constraint=move(self.boundary_constraint),
            modulus=move(self.modulus),
        )


def _require_finite(what: str, values: Tensor, points: Tensor, group: Group | None = None) -> None:
    """A case whose data are not finite at sampled points is an error, not a NaN loss. On a
    rank's shard (``group``) every rank raises the first failing rank's message."""
    bad = ~torch.isfinite(values).all(-1)
    message = None
    if bool(bad.any()):
        at = tuple(round(float(v), 6) for v in points[bad][0])
        count = f"{int(bad.sum())} of {len(values)}"
        message = f"{what} are not finite at {count} points, e.g. {at}"
    if group is not None:
        message = group.first(message)
    if message is not None:
        raise ConfigError("case", None, message)


def boundary_point_counts(problem: Problem, total: int) -> dict[str, int]:
    """Split ``total`` boundary points over the named boundaries by length or area (at least 16 each)."""
    geometry = problem.geometry
    names = geometry.boundary_names
    perimeter = sum(geometry.boundary_measure(n) for n in names)
    return {n: max(16, round(total * geometry.boundary_measure(n) / perimeter)) for n in names}


def sample_collocation(
    problem: Problem,
    scales: Scales,
    n_interior: int,
    n_boundary: int,
    generator: torch.Generator,
    dtype: torch.dtype,
    constraints: HardConstraints | None,
    shard: Group | None = None,
) -> Collocation:
    """Sample the body and its boundaries and evaluate all data there (on the CPU). With
    ``shard`` (several ranks) the whole batch is drawn, as one process would, and this rank's
    rows of every point set are kept (:func:`~pinn_elastic.distributed.shard_rows`) before
    anything is evaluated on them; ``rows_total`` records the batch's row counts."""
    geometry, dim = problem.geometry, problem.dim
    x = geometry.sample_interior(n_interior, generator, torch.float64)
    rows_total = None
    if shard is not None and shard.active:
        rows_total = {"navier": len(x) * dim}
        x = x[shard_rows(len(x), shard)]
    body_force = None
    if problem.body_force is not None:
        body_force = problem.body_force(x) * scales.length / scales.stress
        _require_finite("the body force", body_force, x, shard)

    counts = boundary_point_counts(problem, n_boundary)
    sampled = {n: geometry.sample_boundary(n, c, generator, torch.float64) for n, c in counts.items()}
    points, normals, terms, start = [], [], [], 0
    for condition in problem.all_conditions:
        comps = components_of(condition, dim)
        if isinstance(condition, Displacement) and constraints is not None:
            comps = tuple(c for c in comps if not constraints.imposes(condition, c))
            if not comps:
                continue
        xb, nb = sampled[condition.boundary]
        name = term_name(condition, dim)
        if rows_total is not None:
            rows_total[name] = len(xb) * len(comps)
            keep = shard_rows(len(xb), shard)
            xb, nb = xb[keep], nb[keep]
        if isinstance(condition, Displacement):
            kind, target = "displacement", condition.evaluate(xb) / scales.displacement
        else:
            kind, target = "traction", condition.evaluate(xb, nb) / scales.stress
        _require_finite(f"the {kind} data on boundary {condition.boundary!r}", target, xb, shard)
        rows = slice(start, start + len(xb))
        start += len(xb)
        terms.append(BoundaryTerm(name, kind, rows, comps, target[:, list(comps)].to(dtype)))
        points.append(xb)
        normals.append(nb)

    interior = scales.to_unit(x)
    boundary = scales.to_unit(torch.cat(points)) if points else torch.zeros(0, dim, dtype=torch.float64)
    colloc = Collocation(
        interior=interior.to(dtype),
        body_force=None if body_force is None else body_force.to(dtype),
        boundary=boundary.to(dtype),
        normals=(torch.cat(normals) if normals else torch.zeros(0, dim, dtype=torch.float64)).to(dtype),
        terms=terms,
        rows_total=rows_total,
    )
    if constraints is not None and constraints.active:
        for points, hessian, where in ((interior, True, "interior"), (boundary, False, "boundary")):
            jets = constraints.jets(points, hessian=hessian)
            for jet in jets:
                for part in (jet.value, jet.grad, jet.hess):
                    if part is not None:
                        what = f"the exact displacement lift's jets at {where} points"
                        _require_finite(what, part.flatten(1), points, shard)
            setattr(colloc, f"{where}_constraint", tuple(j.to(dtype) for j in jets))
    return colloc


def _cat_jets(a: Jet, b: Jet) -> Jet:
    hess = None if a.hess is None or b.hess is None else torch.cat([a.hess, b.hess])
    return Jet(torch.cat([a.value, b.value]), torch.cat([a.grad, b.grad]), hess)


def with_term(
    colloc: Collocation,
    name: str,
    points: Tensor,
    target: Tensor,
    scale: Tensor | None,
    constraint: tuple[Jet, Jet] | None,
    points_total: int | None = None,
) -> Collocation:
    """``colloc`` with one more displacement term on extra points (appended to the boundary
    rows, normals zero): measured displacements, with the constraint jets at those points.
    A rank's shard (``colloc.rows_total``) gives the term's points in the whole batch."""
    start = len(colloc.boundary)
    dim = points.shape[1]
    rows = slice(start, start + len(points))
    term = BoundaryTerm(name, "displacement", rows, tuple(range(dim)), target, scale)
    boundary_constraint = colloc.boundary_constraint
    if boundary_constraint is not None and constraint is not None:
        boundary_constraint = tuple(_cat_jets(a, b) for a, b in zip(boundary_constraint, constraint))
    rows_total = colloc.rows_total
    if rows_total is not None:
        rows_total = {**rows_total, name: (points_total or len(points)) * dim}
    return replace(
        colloc,
        rows_total=rows_total,
        boundary=torch.cat([colloc.boundary, points]),
        normals=torch.cat([colloc.normals, torch.zeros_like(points)]),
        terms=[*colloc.terms, term],
        boundary_constraint=boundary_constraint,
    )
