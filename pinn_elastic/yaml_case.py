"""Cases written in YAML alone: a body from a mesh file, loads and supports as formulas.

.. code-block:: yaml

    name: mesh
    file: bracket.msh            # relative to this YAML's folder, then to the working directory
    E: 2.1e11
    nu: 0.29
    plane: stress                # 2D only
    p: 2.0e6                     # any other number is a parameter the formulas may use
    body_force: [0, -7.7e4]      # optional, force per unit volume
    conditions:
      - {boundary: fixed, displacement: [0, 0]}
      - {boundary: sym, displacement: [0, null]}     # null: that component is free
      - {boundary: load, traction: [0, -1.0e6]}
      - {boundary: bore, pressure: p}                # normal traction -p n
    exact_displacement: null     # optional, formulas in x, y (z)

A body built from the primitives instead of a mesh file is ``name: body`` with a
``geometry:`` tree in place of ``file:`` (:mod:`pinn_elastic.geometry.spec`):

.. code-block:: yaml

    name: body
    geometry:
      difference:
        - rectangle: {lower: [0, 0], upper: [W, W]}
        - disk: {center: [0, 0], radius: a, name: hole}
    W: 1.0
    a: 0.25

Every value may be a number or a formula (:mod:`pinn_elastic.expressions`); tractions and
pressures may also read the outward normal ``nx, ny, nz``. Boundaries left out are free.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import Tensor

from .errors import ConfigError, require_finite, require_positive
from .expressions import Expression, vector_field
from .geometry.mesh import MeshBody
from .geometry.shape import Shape
from .geometry.spec import body_from_spec, number
from .materials import Material
from .problem import Displacement, Problem, Traction

MESH_CASE = "mesh"  # the body is read from case.file
BODY_CASE = "body"  # the body is built from primitives in case.geometry
KEYS = (
    "name",
    "file",
    "geometry",
    "E",
    "nu",
    "plane",
    "body_force",
    "conditions",
    "exact_displacement",
    "length_unit",
    "stress_unit",
    "description",
)
MATERIAL_KEYS = ("E", "nu")
CONDITION_KINDS = ("displacement", "traction", "pressure")


def resolve_file(value: str, bases: Sequence[Path], key: str) -> Path:
    """``value`` as given if absolute, else the first of ``bases / value`` that exists."""
    path = Path(str(value)).expanduser()
    if path.is_absolute():
        if not path.is_file():
            raise ConfigError(key, str(value), "no such file")
        return path
    tried = [base / path for base in bases]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        key, str(value), "no such file (looked in " + ", ".join(str(t.parent) for t in tried) + ")"
    )


def parameters_of(values: dict[str, Any], allowed: str) -> dict[str, float]:
    """The case's own numbers, which formulas may name: every key that is not one of
    :data:`KEYS` holds a number or a formula of the numbers above it (``I: D**3/12``)."""
    params: dict[str, float] = {}
    for key, value in values.items():
        if key in KEYS:
            if _is_number(value):
                params[key] = float(value)
            elif key in MATERIAL_KEYS and isinstance(value, str):  # E: "2.1e5" or "E_steel / 1e6"
                params[key] = number(value, f"case.{key}", params)
            continue
        if _is_number(value):
            params[key] = float(value)
        elif isinstance(value, str):
            try:
                params[key] = number(value, f"case.{key}", params)
            except ConfigError as error:
                raise ConfigError(
                    f"case.{key}",
                    value,
                    f"unknown key, or a parameter formula that fails ({error.allowed}); "
                    f"a case takes {allowed}, numbers and formulas of the numbers above them",
                ) from None
        else:
            raise ConfigError(f"case.{key}", value, f"unknown key; a case takes {allowed} and numbers")
    return params


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def build_yaml_case(values: dict[str, Any], bases: Sequence[Path]) -> Problem:
    """The :class:`Problem` of a ``name: mesh`` or ``name: body`` case (module docstring)."""
    kind = values.get("name")
    needed, other = ("file", "geometry") if kind == MESH_CASE else ("geometry", "file")
    if needed not in values:
        what = "file: (a .msh, .vtu or .xdmf mesh)" if kind == MESH_CASE else "geometry: (primitives)"
        raise ConfigError(f"case.{needed}", None, f"a {kind} case needs {what}")
    if other in values:
        raise ConfigError(f"case.{other}", values[other], f"a {kind} case takes {needed}:, not {other}:")
    params = parameters_of(values, ", ".join(k for k in KEYS if k != other))
    if kind == MESH_CASE:
        body = MeshBody(resolve_file(values["file"], bases, "case.file"))
        label = f"mesh {body.path.name}"
    else:
        body = body_from_spec(values["geometry"], params)
        label = "body"
    dim = body.dim
    E, nu = params.get("E"), params.get("nu")
    for key in MATERIAL_KEYS:
        if key not in params:
            raise ConfigError(
                f"case.{key}", values.get(key), "must be a number (or a formula of the numbers)"
            )
    require_positive("case.E", E)
    require_finite("case.nu", nu)
    plane = values.get("plane", "stress" if dim == 2 else "strain")
    if dim == 3 and "plane" in values:
        raise ConfigError("case.plane", plane, "applies to 2D bodies only (this mesh is 3D)")
    material = Material(float(E), float(nu), str(plane))
    conditions = tuple(
        _condition(i, c, body, dim, params) for i, c in enumerate(values.get("conditions") or [])
    )
    body_force = None
    if values.get("body_force") is not None:
        body_force, _ = vector_field(values["body_force"], "case.body_force", dim, params)
    exact = None
    if values.get("exact_displacement") is not None:
        exact, comps = vector_field(values["exact_displacement"], "case.exact_displacement", dim, params)
        if len(comps) != dim:
            raise ConfigError(
                "case.exact_displacement", values["exact_displacement"], "needs every component"
            )
    try:
        return Problem(
            geometry=body,
            material=material,
            conditions=conditions,
            body_force=body_force,
            exact_displacement=exact,
            description=str(values.get("description", f"{label}, {dim}D, E={E} nu={nu}")),
            length_unit=str(values.get("length_unit", "")),
            stress_unit=str(values.get("stress_unit", "")),
        )
    except ValueError as error:
        raise ConfigError("case.conditions", None, str(error)) from None


def _condition(index: int, entry: Any, body: Shape, dim: int, params: dict[str, float]):
    key = f"case.conditions[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(key, entry, "must be a mapping such as {boundary: NAME, traction: [...]}")
    unknown = sorted(set(entry) - {"boundary", *CONDITION_KINDS})
    if unknown:
        raise ConfigError(
            f"{key}.{unknown[0]}",
            entry[unknown[0]],
            f"unknown key; allowed: boundary, {', '.join(CONDITION_KINDS)}",
        )
    name = entry.get("boundary")
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)  # a numbered group (integer cell tags without names)
    if name not in body.boundary_names:
        raise ConfigError(
            f"{key}.boundary",
            name,
            f"the body has no such boundary; it has: {', '.join(sorted(body.boundary_names))}",
        )
    kinds = [k for k in CONDITION_KINDS if k in entry]
    if len(kinds) != 1:
        raise ConfigError(key, entry, f"needs exactly one of {', '.join(CONDITION_KINDS)}")
    (kind,) = kinds
    if kind == "displacement":
        data = entry[kind]
        constant = isinstance(data, Sequence) and not isinstance(data, str) and len(data) == dim
        if constant and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
            return Displacement(name, tuple(float(v) for v in data))
        field, comps = vector_field(data, f"{key}.displacement", dim, params)
        return Displacement(name, lambda x, f=field: f(x), comps)
    if kind == "traction":
        field, comps = vector_field(entry[kind], f"{key}.traction", dim, params, with_normals=True)
        return Traction(name, field, comps)
    pressure = Expression(entry[kind], f"{key}.pressure", dim, params, with_normals=True)

    def normal_traction(x: Tensor, n: Tensor) -> Tensor:
        return -pressure(x, n)[:, None] * n

    return Traction(name, normal_traction)
