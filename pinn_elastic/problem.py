"""What a case declares: body, material, boundary conditions, loads, and the exact solution.

All values are in the user's physical units; the engine nondimensionalises them.
Callables take and return torch tensors so the engine can differentiate them:

* displacement data ``g(x)``: ``(N, d) -> (N, d)``
* traction data ``t(x, n)``: ``(N, d), (N, d) -> (N, d)``
* body force ``f(x)``: ``(N, d) -> (N, d)`` (force per unit volume)
* exact displacement ``u(x)``: ``(N, d) -> (N, d)``

A boundary component with neither a displacement nor a traction condition is traction-free
(the natural boundary condition), as in any finite-element code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .geometry import Shape
from .materials import Material

AXES = "xyz"

VectorField = Callable[[Tensor], Tensor]
TractionField = Callable[[Tensor, Tensor], Tensor]


def _constant(values: Sequence[float]) -> VectorField:
    constant = tuple(float(v) for v in values)

    def evaluate(x: Tensor) -> Tensor:
        return torch.tensor(constant, dtype=x.dtype, device=x.device).expand(len(x), len(constant))

    return evaluate


@dataclass(frozen=True)
class Displacement:
    """Prescribed displacement ``u_i = g_i`` on ``boundary`` for ``components`` (all if None).

    ``value`` is a callable ``g(x)``, a constant vector, or None for zero (any dimension).
    """

    boundary: str
    value: VectorField | Sequence[float] | None = None
    components: tuple[int, ...] | None = None

    @property
    def is_zero(self) -> bool:
        return self.value is None or (not callable(self.value) and all(v == 0 for v in self.value))

    def evaluate(self, x: Tensor) -> Tensor:
        if self.value is None:
            return torch.zeros_like(x)
        fn = self.value if callable(self.value) else _constant(self.value)
        return fn(x)


@dataclass(frozen=True)
class Traction:
    """Prescribed traction ``(sigma n)_i = t_i`` on ``boundary`` for ``components`` (all if None).

    ``value`` is a callable ``t(x, n)``, a constant vector, or None for zero (any dimension).
    """

    boundary: str
    value: TractionField | Sequence[float] | None = None
    components: tuple[int, ...] | None = None

    def evaluate(self, x: Tensor, normal: Tensor) -> Tensor:
        if self.value is None:
            return torch.zeros_like(x)
        if callable(self.value):
            return self.value(x, normal)
        return _constant(self.value)(x)


Condition = Displacement | Traction


@dataclass(frozen=True)
class Probe:
    """A point value reported in the metrics, e.g. a tip deflection.

    ``quantity`` is ``"displacement"`` (``component`` an int) or ``"stress"`` (``component`` a
    pair of ints); the reported value is the field value times ``scale``. A ``reference`` value
    (e.g. from beam theory, where no exact field exists) is reported beside it with the
    relative deviation ``value / reference - 1``.
    """

    name: str
    point: tuple[float, ...]
    quantity: str
    component: int | tuple[int, int]
    scale: float = 1.0
    reference: float | None = None


@dataclass(frozen=True)
class LinePlot:
    """A field component plotted along the segment ``start`` -> ``end``, PINN against exact."""

    name: str
    start: tuple[float, ...]
    end: tuple[float, ...]
    quantity: str
    component: int | tuple[int, int]


@dataclass(frozen=True)
class Problem:
    """A linear-elasticity boundary value problem in physical units."""

    geometry: Shape
    material: Material
    conditions: tuple[Condition, ...]
    body_force: VectorField | None = None
    exact_displacement: VectorField | None = None
    probes: tuple[Probe, ...] = ()
    line_plots: tuple[LinePlot, ...] = ()
    description: str = ""
    length_unit: str = ""  # for labels only, e.g. "m" or "mm"; the numbers are the case's own
    stress_unit: str = ""  # e.g. "Pa" or "MPa"
    exact_material: Material | None = None  # the exact field's material, where not ``material``
    _free: tuple[Traction, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        dim = self.geometry.dim
        names = self.geometry.boundary_names
        for condition in self.conditions:
            if condition.boundary not in names:
                raise ValueError(
                    f"boundary {condition.boundary!r} is not a boundary of the body; "
                    f"known: {', '.join(names)}"
                )
            for c in condition.components or ():
                if not 0 <= c < dim:
                    raise ValueError(f"component {c} out of range for a {dim}D body")
            value = condition.value
            if value is not None and not callable(value) and len(value) != dim:
                raise ValueError(
                    f"boundary {condition.boundary!r}: value {tuple(value)} has {len(value)} "
                    f"components; the body is {dim}D"
                )
        free = []
        for name in names:
            taken = [c for cond in self.conditions if cond.boundary == name for c in _components(cond, dim)]
            duplicates = {c for c in taken if taken.count(c) > 1}
            if duplicates:
                raise ValueError(f"boundary {name!r}: component(s) {sorted(duplicates)} prescribed twice")
            missing = tuple(c for c in range(dim) if c not in taken)
            if missing:
                free.append(Traction(name, None, None if len(missing) == dim else missing))
        object.__setattr__(self, "_free", tuple(free))

    @property
    def dim(self) -> int:
        return self.geometry.dim

    @property
    def all_conditions(self) -> tuple[Condition, ...]:
        """The declared conditions plus zero traction on every component left free."""
        return self.conditions + self._free


def quantity_label(line: LinePlot) -> str:
    """``displacement u_y`` or ``stress sigma_xy``: the quantity and its component, named."""
    if line.quantity == "displacement":
        return f"displacement u_{AXES[line.component]}"
    if line.quantity == "stress":
        i, j = line.component
        return f"stress sigma_{AXES[i]}{AXES[j]}"
    return line.quantity.replace("_", " ")


def _components(condition: Condition, dim: int) -> tuple[int, ...]:
    return tuple(range(dim)) if condition.components is None else condition.components


def components_of(condition: Condition, dim: int) -> tuple[int, ...]:
    """The displacement/traction components a condition prescribes."""
    return _components(condition, dim)


def term_name(condition: Condition, dim: int) -> str:
    """Loss-term name: ``displacement_left``, ``traction_top`` or ``traction_right_y``."""
    kind = "displacement" if isinstance(condition, Displacement) else "traction"
    comps = _components(condition, dim)
    suffix = "" if len(comps) == dim else "_" + "".join(AXES[c] for c in comps)
    return f"{kind}_{condition.boundary}{suffix}"
