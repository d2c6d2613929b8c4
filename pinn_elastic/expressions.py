"""Formulas typed in a YAML case, turned into torch functions without ``eval``.

A value such as ``"p * (1 - (y / H)**2)"`` or ``"-sigma * nx"`` is parsed with :mod:`ast` and
checked against a whitelist before anything runs: numbers, the coordinates ``x, y, z`` (and
``nx, ny, nz`` where a normal exists), the case's own numeric keys, ``pi`` and ``e``, the
operators ``+ - * / ** %``, comparisons inside ``where(condition, a, b)``, and the functions in
``FUNCTIONS``. Anything else (attribute access, subscripts, imports, lambdas, strings, keyword
arguments, unknown names, calls of other functions) is refused with one line naming the key and
the offending token. The result is a tree of torch operations, so it differentiates (autograd
and the exact lifts see through it) and runs on any device and dtype.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

from .errors import ConfigError

FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "asin": torch.asin,
    "acos": torch.acos,
    "atan": torch.atan,
    "atan2": torch.atan2,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "tanh": torch.tanh,
    "exp": torch.exp,
    "log": torch.log,
    "log10": torch.log10,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "sign": torch.sign,
    "min": torch.minimum,
    "max": torch.maximum,
    "where": torch.where,
}
ARITY = {"atan2": 2, "min": 2, "max": 2, "where": 3}
CONSTANTS = {"pi": math.pi, "e": math.e}
COORDINATES = ("x", "y", "z")
NORMALS = ("nx", "ny", "nz")
MAX_LENGTH = 2000

_BINARY = {
    ast.Add: torch.add,
    ast.Sub: torch.sub,
    ast.Mult: torch.mul,
    ast.Div: torch.div,
    ast.Pow: torch.pow,
    ast.Mod: torch.remainder,
}
_COMPARE = {ast.Lt: torch.lt, ast.LtE: torch.le, ast.Gt: torch.gt, ast.GtE: torch.ge}
_NODE_WORDS = {
    ast.Attribute: "attribute access '.'",
    ast.Subscript: "subscript '[]'",
    ast.Lambda: "'lambda'",
    ast.Dict: "'{...}'",
    ast.List: "'[...]'",
    ast.Tuple: "a tuple",
    ast.Set: "'{...}'",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.IfExp: "'if' (use where(condition, a, b))",
    ast.BoolOp: "'and'/'or'",
    ast.NamedExpr: "':='",
    ast.Starred: "'*'",
    ast.JoinedStr: "a string",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
}


class Expression:
    """A checked formula: ``expression(x, normals=None)`` evaluates it at points ``x (N, d)``."""

    def __init__(
        self,
        text: str | float | int,
        key: str,
        dim: int,
        parameters: Mapping[str, float] | None = None,
        with_normals: bool = False,
    ) -> None:
        self.key, self.dim = key, dim
        self.text = str(text)
        names = list(COORDINATES[:dim]) + (list(NORMALS[:dim]) if with_normals else [])
        self.variables = tuple(names)
        self.parameters = {k: float(v) for k, v in (parameters or {}).items() if _is_number(v)}
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            raise ConfigError(key, text, "must be a number or a formula string")
        if len(self.text) > MAX_LENGTH:
            raise ConfigError(key, self.text[:40] + "...", f"is longer than {MAX_LENGTH} characters")
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as error:
            raise ConfigError(key, self.text, f"is not a formula ({error.msg})") from None
        self._check(tree.body)
        self.tree = tree.body

    # -- checking -------------------------------------------------------------------------
    def _refuse(self, token: str, why: str = "is not allowed") -> ConfigError:
        return ConfigError(self.key, self.text, f"{token} {why}; allowed: {self.allowed()}")

    def allowed(self) -> str:
        names = [*self.variables, *sorted(self.parameters), *CONSTANTS]
        return f"numbers, {', '.join(names)}, + - * / ** %, {', '.join(FUNCTIONS)}"

    def _check(self, node: ast.AST, comparison_allowed: bool = False) -> None:
        if isinstance(node, ast.Compare) and not comparison_allowed:
            raise self._refuse("a comparison", "is only allowed as where()'s first argument")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self._refuse(repr(node.value))
        elif isinstance(node, ast.Name):
            if node.id not in self.variables and node.id not in self.parameters and node.id not in CONSTANTS:
                raise self._refuse(f"name {node.id!r}", "is not known")
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise self._refuse(f"operator {type(node.op).__name__}")
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise self._refuse(f"operator {type(node.op).__name__}")
            self._check(node.operand)
        elif isinstance(node, ast.Compare):
            if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
                raise self._refuse("this comparison", "is not allowed (one of < <= > >=)")
            self._check(node.left)
            self._check(node.comparators[0])
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self._refuse(ast.unparse(node.func), "cannot be called")
            name = node.func.id
            if name not in FUNCTIONS:
                raise self._refuse(f"function {name!r}", "is not known")
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise self._refuse(f"{name}(...)", "takes positional arguments only")
            if len(node.args) != ARITY.get(name, 1):
                raise self._refuse(f"{name}(...)", f"takes {ARITY.get(name, 1)} argument(s)")
            for i, argument in enumerate(node.args):
                self._check(argument, comparison_allowed=name == "where" and i == 0)
            if name == "where" and not isinstance(node.args[0], ast.Compare):
                raise self._refuse("where(...)", "needs a comparison as its first argument")
        else:
            word = _NODE_WORDS.get(type(node), f"{type(node).__name__}")
            raise self._refuse(word)

    # -- evaluation ------------------------------------------------------------------------
    def __call__(self, x: Tensor, normals: Tensor | None = None) -> Tensor:
        values: dict[str, Tensor | float] = {**CONSTANTS, **self.parameters}
        for i, name in enumerate(COORDINATES[: self.dim]):
            values[name] = x[:, i]
        if normals is not None:
            for i, name in enumerate(NORMALS[: self.dim]):
                values[name] = normals[:, i]
        out = self._eval(self.tree, values, x)
        if not isinstance(out, Tensor) or out.dim() == 0:
            out = torch.full((len(x),), float(out), dtype=x.dtype, device=x.device)
        return out

    def _eval(self, node: ast.AST, values: dict, like: Tensor):
        def tensor(v):
            if isinstance(v, Tensor):
                return v
            return torch.tensor(float(v), dtype=like.dtype, device=like.device)

        if isinstance(node, ast.Constant):
            return tensor(node.value)
        if isinstance(node, ast.Name):
            return tensor(values[node.id])
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, values, like), self._eval(node.right, values, like)
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, values, like)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Compare):
            left, right = self._eval(node.left, values, like), self._eval(node.comparators[0], values, like)
            return _COMPARE[type(node.ops[0])](left, right)
        assert isinstance(node, ast.Call)
        arguments = [self._eval(a, values, like) for a in node.args]
        return FUNCTIONS[node.func.id](*arguments)

    @property
    def is_constant(self) -> bool:
        """The formula reads no coordinate and no normal."""
        used = {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}
        return not used & set(self.variables)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def vector_field(
    values: Sequence, key: str, dim: int, parameters: Mapping[str, float], with_normals: bool = False
) -> tuple[Callable[..., Tensor], tuple[int, ...]]:
    """A list of ``dim`` formulas (``None``: that component is free) -> ``f(x[, n]) (N, dim)``
    and the prescribed components."""
    if not isinstance(values, Sequence) or isinstance(values, str) or len(values) != dim:
        raise ConfigError(key, values, f"must be a list of {dim} values (numbers, formulas or null)")
    components = tuple(i for i, v in enumerate(values) if v is not None)
    if not components:
        raise ConfigError(key, values, "prescribes no component (every entry is null)")
    parts = {i: Expression(values[i], f"{key}[{i}]", dim, parameters, with_normals) for i in components}

    def field(x: Tensor, normals: Tensor | None = None) -> Tensor:
        out = torch.zeros(len(x), dim, dtype=x.dtype, device=x.device)
        columns = [parts[i](x, normals) if i in parts else out[:, i] for i in range(dim)]
        return torch.stack(columns, -1)

    return field, components
