"""Bodies described in YAML: the built-in primitives, combined by difference, union, intersection.

.. code-block:: yaml

    geometry:
      difference:                                    # the first minus each of the others
        - rectangle: {lower: [0, 0], upper: [W, W]}  # edges bottom, right, top, left
        - disk: {center: [0, 0], radius: a, name: hole}

Each node is a mapping with one key: an operation (``difference``, ``union``,
``intersection``, each with a list of two or more nodes) or a primitive with its arguments:

==============  ======================================================================
``rectangle``   ``lower``, ``upper``, ``names`` (4: bottom, right, top, left)
``disk``        ``center``, ``radius``, ``name`` (default ``circle``)
``box``         ``lower``, ``upper``, ``names`` (6: xmin, xmax, ymin, ymax, zmin, zmax)
``sphere``      ``center``, ``radius``, ``name`` (default ``sphere``)
``cylinder``    ``start``, ``end``, ``radius``, ``names`` (3: side, start, end)
==============  ======================================================================

Every number may be a formula of the case's own numbers (``W/2``, ``2*a``): see
:mod:`pinn_elastic.expressions`. The body is the same object a Python case would build.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from ..errors import ConfigError
from ..expressions import Expression
from .csg2d import RECTANGLE_EDGES, Disk, Rectangle
from .shape import Shape
from .solids import BOX_FACES, Box, Cylinder, Sphere

OPERATIONS = ("difference", "union", "intersection")


def number(value: Any, key: str, parameters: Mapping[str, float]) -> float:
    """A number, or a formula of the parameters alone (no coordinates)."""
    expression = Expression(value, key, 0, parameters)
    return float(expression(torch.zeros(1, 0, dtype=torch.float64))[0])


def point(value: Any, key: str, dim: int, parameters: Mapping[str, float]) -> tuple[float, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or len(value) != dim:
        raise ConfigError(key, value, f"must be a list of {dim} numbers")
    return tuple(number(v, f"{key}[{i}]", parameters) for i, v in enumerate(value))


def names(value: Any, key: str, count: int) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) != count:
        raise ConfigError(key, value, f"must be a list of {count} boundary names")
    return tuple(str(v) for v in value)


PRIMITIVES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (required arguments, optional arguments)
    "rectangle": (("lower", "upper"), ("names",)),
    "disk": (("center", "radius"), ("name",)),
    "box": (("lower", "upper"), ("names",)),
    "sphere": (("center", "radius"), ("name",)),
    "cylinder": (("start", "end", "radius"), ("names",)),
}


def _primitive(kind: str, args: Any, key: str, parameters: Mapping[str, float]) -> Shape:
    required, optional = PRIMITIVES[kind]
    if not isinstance(args, Mapping):
        raise ConfigError(key, args, f"must be a mapping of {', '.join(required + optional)}")
    unknown = sorted(set(args) - set(required) - set(optional))
    if unknown:
        allowed = ", ".join(required + optional)
        raise ConfigError(f"{key}.{unknown[0]}", args[unknown[0]], f"unknown key; a {kind} takes {allowed}")
    missing = [k for k in required if k not in args]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}", None, f"a {kind} needs {', '.join(required)}")

    def pt(name: str, dim: int) -> tuple[float, ...]:
        return point(args[name], f"{key}.{name}", dim, parameters)

    def num(name: str) -> float:
        return number(args[name], f"{key}.{name}", parameters)

    def label(default: str) -> str:
        return str(args.get("name", default))

    def labels(default: tuple[str, ...]) -> tuple[str, ...]:
        return names(args["names"], f"{key}.names", len(default)) if "names" in args else default

    builders: dict[str, Callable[[], Shape]] = {
        "rectangle": lambda: Rectangle(pt("lower", 2), pt("upper", 2), labels(RECTANGLE_EDGES)),
        "disk": lambda: Disk(pt("center", 2), num("radius"), label("circle")),
        "box": lambda: Box(pt("lower", 3), pt("upper", 3), labels(BOX_FACES)),
        "sphere": lambda: Sphere(pt("center", 3), num("radius"), label("sphere")),
        "cylinder": lambda: Cylinder(
            pt("start", 3), pt("end", 3), num("radius"), labels(("side", "start", "end"))
        ),
    }
    try:
        return builders[kind]()
    except ConfigError:
        raise
    except ValueError as error:  # the primitive's own check (lower < upper, radius > 0, ...)
        raise ConfigError(key, dict(args), str(error)) from None


def body_from_spec(spec: Any, parameters: Mapping[str, float], key: str = "case.geometry") -> Shape:
    """The :class:`Shape` a ``geometry:`` node describes (see the module docstring)."""
    kinds = (*PRIMITIVES, *OPERATIONS)
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ConfigError(key, spec, f"must be a mapping with one key, one of {', '.join(kinds)}")
    ((kind, args),) = spec.items()
    if kind in PRIMITIVES:
        return _primitive(kind, args, f"{key}.{kind}", parameters)
    if kind not in OPERATIONS:
        raise ConfigError(f"{key}.{kind}", args, f"unknown body; allowed: {', '.join(kinds)}")
    if isinstance(args, (str, bytes)) or not isinstance(args, (list, tuple)) or len(args) < 2:
        raise ConfigError(f"{key}.{kind}", args, "must be a list of two or more bodies")
    parts = [body_from_spec(a, parameters, f"{key}.{kind}[{i}]") for i, a in enumerate(args)]
    body = parts[0]
    for i, part in enumerate(parts[1:], start=1):
        if part.dim != body.dim:
            raise ConfigError(f"{key}.{kind}[{i}]", args[i], f"is {part.dim}D but the body is {body.dim}D")
        body = body - part if kind == "difference" else body | part if kind == "union" else body & part
    return body
