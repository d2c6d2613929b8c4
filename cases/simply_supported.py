r"""Timoshenko & Goodier's simply supported beam under a uniform load (half model).

Beam ``-l < x < l``, ``-c < y < c`` (span ``2l``, depth ``2c``), unit thickness,
:math:`I = 2c^3/3`, load ``q`` per unit length pressing down on the top face, plane stress.
The exact elasticity solution (y up) is

.. math::
    \sigma_{xx} &= \frac{q}{2I}(x^2 - l^2)\,y - \frac{q}{2I}\Big(\frac{2y^3}{3} - \frac{2c^2y}{5}\Big),\quad
    \sigma_{yy} = -\frac{q}{2I}\Big(c^2y - \frac{y^3}{3} + \frac{2c^3}{3}\Big),\quad
    \sigma_{xy} = \frac{q}{2I}(c^2 - y^2)\,x \\
    u_x &= \frac{q}{2EI}\Big[\Big(\frac{x^3}{3} - l^2x\Big)y - \frac{2xy^3}{3} + \frac{2c^2xy}{5}
          + \nu x\Big(c^2y - \frac{y^3}{3} + \frac{2c^3}{3}\Big)\Big] \\
    u_y &= -\frac{q}{2EI}\Big[\frac{c^2y^2}{2} - \frac{y^4}{12} + \frac{2c^3y}{3}
          + \nu\Big(\frac{(x^2-l^2)y^2}{2} - \frac{y^4}{6} + \frac{c^2y^2}{5}\Big)\Big]
          + \frac{q}{2EI}\Big[\Big(l^2 + \big(\tfrac85 + \nu\big)c^2\Big)\frac{x^2 - l^2}{2}
          - \frac{x^4 - l^4}{12}\Big]

with :math:`u_y(\pm l, 0) = 0` and the midspan deflection
:math:`\frac{5ql^4}{24EI}\big[1 + \frac{12c^2}{5l^2}(\frac45 + \frac\nu2)\big]`. Plane strain
replaces :math:`E \to E/(1-\nu^2)`, :math:`\nu \to \nu/(1-\nu)`.

The model is the half ``0 < x < l``: symmetry at ``x = 0`` (``u_x = 0``, no shear), the support
at ``x = l`` carries the exact ``u_y`` and the exact (self-equilibrated) ``sigma_xx``, the top
carries ``-q``, the bottom is free.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pinn_elastic import Displacement, LinePlot, Material, Probe, Problem, Rectangle, Traction
from pinn_elastic.errors import require_finite, require_positive
from pinn_elastic.exact_data import traction_of


@dataclass
class Params:
    span: float = 4.0  # 2l
    height: float = 1.0  # 2c
    load: float = 1.0  # q, force per unit length (downward)
    E: float = 1000.0
    nu: float = 0.3
    plane: str = "stress"

    def __post_init__(self) -> None:
        require_positive("case.span", self.span)
        require_positive("case.height", self.height)
        require_finite("case.load", self.load)


def exact_displacement(p: Params, material: Material):
    """The exact field ``u(x)`` for ``(N, 2)`` points, with the plane-strain substitution."""
    E, nu = material.plane_stress_constants()
    half, c, q = p.span / 2, p.height / 2, p.load
    k = q / (2 * E * 2 * c**3 / 3)  # q / (2 E I)

    def u(x: Tensor) -> Tensor:
        X, Y = x[:, 0], x[:, 1]
        ux = k * (
            (X**3 / 3 - half**2 * X) * Y
            - 2 * X * Y**3 / 3
            + 2 * c**2 * X * Y / 5
            + nu * X * (c**2 * Y - Y**3 / 3 + 2 * c**3 / 3)
        )
        uy = -k * (
            c**2 * Y**2 / 2
            - Y**4 / 12
            + 2 * c**3 * Y / 3
            + nu * ((X**2 - half**2) * Y**2 / 2 - Y**4 / 6 + c**2 * Y**2 / 5)
        ) + k * ((half**2 + (1.6 + nu) * c**2) * (X**2 - half**2) / 2 - (X**4 - half**4) / 12)
        return torch.stack([ux, uy], -1)

    return u


def build(p: Params) -> Problem:
    material = Material(p.E, p.nu, p.plane)
    exact = exact_displacement(p, material)
    half, c = p.span / 2, p.height / 2
    return Problem(
        geometry=Rectangle((0.0, -c), (half, c)),
        material=material,
        conditions=(
            Displacement("left", (0.0, 0.0), components=(0,)),
            Displacement("right", exact, components=(1,)),
            Traction("right", traction_of(exact, material), components=(0,)),
            Traction("top", (0.0, -p.load)),
        ),
        exact_displacement=exact,
        probes=(Probe("midspan_deflection", (0.0, 0.0), "displacement", 1),),
        line_plots=(LinePlot("deflection", (0.0, 0.0), (half, 0.0), "displacement", 1),),
        description=f"simply supported beam span={p.span} depth={p.height} q={p.load} ({material.plane})",
    )
