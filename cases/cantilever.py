r"""Timoshenko & Goodier's cantilever: a beam clamped at x = 0 with a shear load P at x = L.

Body ``[0, L] x [-D/2, D/2]``, unit thickness, :math:`I = D^3/12`, plane stress (plane strain
replaces :math:`E \to E/(1-\nu^2)`, :math:`\nu \to \nu/(1-\nu)`). Exact solution:

.. math::
    u_x &= \frac{P y}{6EI}\left[(6L - 3x)x + (2+\nu)(y^2 - D^2/4)\right] \\
    u_y &= -\frac{P}{6EI}\left[3\nu y^2 (L-x) + (4+5\nu)\frac{D^2 x}{4} + (3L - x)x^2\right] \\
    \sigma_{xx} &= \frac{P(L-x)y}{I},\quad \sigma_{yy} = 0,\quad
    \sigma_{xy} = -\frac{P}{2I}\left(\frac{D^2}{4} - y^2\right)

Boundary conditions: the exact displacement on the whole edge x = 0; the parabolic shear
traction :math:`t_y = \sigma_{xy}(L, y)` (total :math:`-P`) at x = L; top and bottom free.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pinn_elastic import Displacement, LinePlot, Material, Probe, Problem, Rectangle, Traction
from pinn_elastic.errors import require_finite, require_positive


@dataclass
class Params:
    length: float = 4.0
    height: float = 1.0
    load: float = 1.0
    E: float = 1000.0
    nu: float = 0.3
    plane: str = "stress"

    def __post_init__(self) -> None:
        require_positive("case.length", self.length)
        require_positive("case.height", self.height)
        require_finite("case.load", self.load)


def exact_displacement(p: Params, material: Material):
    """The exact field ``u(x)`` for ``(N, 2)`` points, with the plane-strain substitution."""
    E, nu = material.plane_stress_constants()
    L, D, P = p.length, p.height, p.load
    inertia = D**3 / 12

    def u(x: Tensor) -> Tensor:
        X, Y = x[:, 0], x[:, 1]
        ux = P * Y / (6 * E * inertia) * ((6 * L - 3 * X) * X + (2 + nu) * (Y**2 - D**2 / 4))
        uy = (
            -P
            / (6 * E * inertia)
            * (3 * nu * Y**2 * (L - X) + (4 + 5 * nu) * D**2 * X / 4 + (3 * L - X) * X**2)
        )
        return torch.stack([ux, uy], -1)

    return u


def build(p: Params) -> Problem:
    material = Material(p.E, p.nu, p.plane)
    inertia = p.height**3 / 12
    exact = exact_displacement(p, material)

    def shear_load(x: Tensor, normal: Tensor) -> Tensor:
        ty = -p.load / (2 * inertia) * (p.height**2 / 4 - x[:, 1] ** 2)
        return torch.stack([torch.zeros_like(ty), ty], -1)

    return Problem(
        geometry=Rectangle((0.0, -p.height / 2), (p.length, p.height / 2)),
        material=material,
        conditions=(
            Displacement("left", exact),
            Traction("right", shear_load),
            Traction("top", (0.0, 0.0)),
            Traction("bottom", (0.0, 0.0)),
        ),
        exact_displacement=exact,
        probes=(Probe("tip_deflection", (p.length, 0.0), "displacement", 1),),
        line_plots=(LinePlot("deflection", (0.0, 0.0), (p.length, 0.0), "displacement", 1),),
        description=f"cantilever L={p.length} D={p.height} P={p.load} ({material.plane} plane)",
    )
