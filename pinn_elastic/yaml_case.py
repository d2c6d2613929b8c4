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
from .materials import Material
from .problem import Displacement, Problem, Traction

KEYS = (
    "name",
    "file",
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


def parameters_of(values: dict[str, Any]) -> dict[str, float]:
    """The case's own numbers, which formulas may name."""
    return {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def build_mesh_case(values: dict[str, Any], bases: Sequence[Path]) -> Problem:
    """The :class:`Problem` of a ``name: mesh`` case (see the module docstring)."""
    if "file" not in values:
        raise ConfigError("case.file", None, "a mesh case needs file: (a .msh, .vtu or .xdmf mesh)")
    for key, value in values.items():
        if key not in KEYS and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            raise ConfigError(
                f"case.{key}", value, f"unknown key; a mesh case takes {', '.join(KEYS)} and numbers"
            )
    body = MeshBody(resolve_file(values["file"], bases, "case.file"))
    dim = body.dim
    E, nu = values.get("E"), values.get("nu")
    for key, value in (("case.E", E), ("case.nu", nu)):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(key, value, "must be a number")
    require_positive("case.E", E)
    require_finite("case.nu", nu)
    plane = values.get("plane", "stress" if dim == 2 else "strain")
    if dim == 3 and "plane" in values:
        raise ConfigError("case.plane", plane, "applies to 2D bodies only (this mesh is 3D)")
    material = Material(float(E), float(nu), str(plane))
    params = parameters_of(values)
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
            description=str(values.get("description", f"mesh {body.path.name}, {dim}D, E={E} nu={nu}")),
            length_unit=str(values.get("length_unit", "")),
            stress_unit=str(values.get("stress_unit", "")),
        )
    except ValueError as error:
        raise ConfigError("case.conditions", None, str(error)) from None


def _condition(index: int, entry: Any, body: MeshBody, dim: int, params: dict[str, float]):
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
    if name not in body.boundary_names:
        raise ConfigError(
            f"{key}.boundary",
            name,
            f"the mesh has no such boundary; it has: {', '.join(sorted(body.boundary_names))}",
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
