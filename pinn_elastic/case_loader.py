"""Turn the ``case`` config into a :class:`~pinn_elastic.problem.Problem`.

A case is a Python module with a dataclass ``Params`` (its parameters, with defaults and a
``__post_init__`` that checks them) and a function ``build(params) -> Problem``. The config's
``case.name`` picks the module ``cases.<name>``; ``case.source`` may instead give the path of a
``.py`` file anywhere (relative paths are taken from the directory the command was run in).
Every other key of ``case`` is a parameter: unknown keys and wrong types are rejected.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .errors import ConfigError
from .problem import Problem
from .yaml_case import BODY_CASE, MESH_CASE, build_yaml_case, resolve_file

RESERVED = ("name", "source")


def available_cases() -> list[str]:
    """Names of the case modules shipped in the ``cases`` package."""
    import cases

    return sorted(m.name for m in pkgutil.iter_modules(cases.__path__) if not m.name.startswith("_"))


def _import_case(name: str, source: str | None, bases: list[Path]) -> ModuleType:
    if source:
        path = resolve_file(source, bases, "case.source")
        module_name = f"pinn_elastic_user_case_{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            raise _case_error("case.source", source, path, err) from None
        return module
    if name not in available_cases():
        available = ", ".join([*available_cases(), MESH_CASE, BODY_CASE])
        raise ConfigError("case.name", name, "unknown case; available: " + available)
    return importlib.import_module(f"cases.{name}")


def search_folders(base_dir: Path | Sequence[Path] | None) -> list[Path]:
    """Where relative ``source:`` and ``file:`` paths are looked up, in order: the case YAML's
    folder (when known), then the directory the command was run from."""
    if base_dir is None:
        return [Path.cwd()]
    return [base_dir] if isinstance(base_dir, Path) else list(base_dir)


def load_case(case: dict[str, Any], base_dir: Path | Sequence[Path] | None = None) -> tuple[Problem, Any]:
    """Build the case's problem; returns ``(problem, params)``. Raises :class:`ConfigError`."""
    values = dict(case)
    name = str(values.get("name", ""))
    bases = search_folders(base_dir)
    if name in (MESH_CASE, BODY_CASE) and not values.get("source"):
        return build_yaml_case(values, bases), values
    module = _import_case(name, values.get("source"), bases)
    for required in ("Params", "build"):
        if not hasattr(module, required):
            raise ConfigError("case", name, f"a case module must define {required}")
    params_dict = {k: v for k, v in values.items() if k not in RESERVED}
    try:
        merged = OmegaConf.merge(OmegaConf.structured(module.Params), params_dict)
        params = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        cause = err.__cause__ if isinstance(err.__cause__, ConfigError) else None
        if cause is not None:
            raise cause from None
        key = f"case.{err.key}" if getattr(err, "key", None) else "case"
        allowed = ", ".join(f.name for f in module.Params.__dataclass_fields__.values())
        reason = str(err).splitlines()[0]
        raise ConfigError(
            key, getattr(err, "value", None), f"{reason} (case {name!r} takes: {allowed})"
        ) from None
    try:
        return module.build(params), params
    except ConfigError:
        raise
    except Exception as err:
        raise _case_error("case", name, Path(module.__file__ or name), err) from None


def _case_error(key: str, value: str, path: Path, err: Exception) -> ConfigError:
    """An exception raised inside a case module, as one line naming the file and line."""
    where = ""
    if isinstance(err, SyntaxError) and err.lineno:
        where = f" at {path.name}:{err.lineno}"
    else:
        frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename).name == path.name]
        if frames:
            where = f" at {path.name}:{frames[-1].lineno}"
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return ConfigError(key, value, f"the case raised {type(err).__name__}{where}: {message}".rstrip(": "))
