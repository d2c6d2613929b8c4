"""Formulas from YAML: the right values and derivatives, and hostile strings refused in one line."""

from __future__ import annotations

import math

import pytest
import torch

from pinn_elastic.derivatives import autograd_jet
from pinn_elastic.errors import ConfigError
from pinn_elastic.expressions import Expression, vector_field


def points(dim: int = 2, n: int = 7) -> torch.Tensor:
    return torch.rand(n, dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 0.1


def test_values_match_the_same_formula_in_python():
    x = points()
    f = Expression(
        "p * (1 - (y / H)**2) + sin(pi * x) * exp(-x) - atan2(y, x) + abs(-3) % 2",
        "k",
        2,
        {"p": 2.5, "H": 0.5},
    )
    X, Y = x[:, 0], x[:, 1]
    expected = 2.5 * (1 - (Y / 0.5) ** 2) + torch.sin(math.pi * X) * torch.exp(-X) - torch.atan2(Y, X) + 1
    assert torch.allclose(f(x), expected, rtol=1e-14, atol=1e-14)


def test_numbers_constants_and_normals():
    x, n = points(3), torch.nn.functional.normalize(points(3), dim=1)
    assert torch.equal(Expression(2.0, "k", 3)(x), torch.full((7,), 2.0, dtype=torch.float64))
    traction = Expression("-q * nz + z", "k", 3, {"q": 4}, with_normals=True)
    assert torch.allclose(traction(x, n), -4 * n[:, 2] + x[:, 2])
    assert Expression("pi * e", "k", 2).is_constant and not Expression("x", "k", 2).is_constant


def test_where_gives_piecewise_values():
    x = torch.tensor([[-1.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
    assert Expression("where(x > 0, 1, -1)", "k", 2)(x).tolist() == [-1.0, 1.0]


def test_formulas_differentiate():
    """Gradient and Hessian through autograd agree with the hand derivatives."""
    f = Expression("x**2 * y + sqrt(x)", "k", 2)
    x = points()
    jet = autograd_jet(lambda p: f(p)[:, None], x, hessian=True, create_graph=False)
    X, Y = x[:, 0], x[:, 1]
    assert torch.allclose(jet.grad[:, 0, 0], 2 * X * Y + 0.5 / X.sqrt())
    assert torch.allclose(jet.hess[:, 0, 0, 1], 2 * X)


def test_vector_field_with_free_components():
    field, components = vector_field([0, None, "x"], "case.conditions[0].displacement", 3, {})
    assert components == (0, 2)
    out = field(points(3))
    assert out.shape == (7, 3) and torch.equal(out[:, 2], points(3)[:, 0])


@pytest.mark.parametrize(
    "text, token",
    [
        ("__import__('os').system('ls')", "cannot be called"),
        ("__import__('os')", "function '__import__'"),
        ("x.__class__", "attribute access"),
        ("os.system('rm -rf /')", "cannot be called"),
        ("open('/etc/passwd')", "function 'open'"),
        ("eval('1')", "function 'eval'"),
        ("lambda: 1", "'lambda'"),
        ("[c for c in ()]", "comprehension"),
        ("x[0]", "subscript"),
        ("'text'", "'text'"),
        ("x if y else 1", "'if'"),
        ("q * x", "name 'q'"),
        ("z", "name 'z'"),  # 2D: no z
        ("sin(x, y)", "takes 1 argument"),
        ("sqrt(x=1)", "positional arguments only"),
        ("x > 0", "comparison"),
        ("(x > 0) * 2", "comparison"),
        ("x << 2", "operator LShift"),
        ("not x", "operator Not"),
        ("x and y", "'and'/'or'"),
        ("x +", "is not a formula"),
        ("True", "True"),
        ("(x := 2)", "':='"),
    ],
)
def test_hostile_or_bad_strings_are_refused_naming_key_and_token(text, token):
    with pytest.raises(ConfigError) as info:
        Expression(text, "case.conditions[1].traction[0]", 2, {"p": 1.0})
    message = str(info.value)
    assert "case.conditions[1].traction[0]" in message and token in message, message
    assert "\n" not in message


def test_bad_vectors_are_refused():
    with pytest.raises(ConfigError, match="list of 2 values"):
        vector_field([1, 2, 3], "k", 2, {})
    with pytest.raises(ConfigError, match="no component"):
        vector_field([None, None], "k", 2, {})
    with pytest.raises(ConfigError, match="number or a formula"):
        Expression(True, "k", 2)
