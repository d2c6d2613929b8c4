r"""A column standing on its base under its own weight (SI units by default: a steel pier).

Body ``-B/2 < x < B/2``, ``0 < y < H``, density :math:`\rho`, gravity ``g`` along ``-y``, so
the body force is :math:`f = (0, -\rho g)`. The sides and the top are free; the base carries
the exact displacement. Plane stress:

.. math::
    \sigma_{yy} = -\rho g (H - y),\quad \sigma_{xx} = \sigma_{xy} = 0,\\
    u_x = \frac{\nu\rho g}{E}(H - y)\,x,\qquad
    u_y = -\frac{\rho g}{E}\Big(Hy - \frac{y^2}{2}\Big) + \frac{\nu\rho g}{2E}x^2

(plane strain replaces :math:`E \to E/(1-\nu^2)`, :math:`\nu \to \nu/(1-\nu)`). The base
displacement :math:`u = (\nu\rho g H x/E,\ \nu\rho g x^2/2E)` is what lets the base contract
freely: a base clamped to zero would not give this simple field.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pinn_elastic import Displacement, LinePlot, Material, Probe, Problem, Rectangle
from pinn_elastic.errors import require_positive


@dataclass
class Params:
    height: float = 3.0  # H [m]
    width: float = 0.3  # B [m]
    density: float = 7850.0  # rho [kg/m^3]
    gravity: float = 9.81  # g [m/s^2]
    E: float = 2.1e11  # [Pa]
    nu: float = 0.29
    plane: str = "stress"

    def __post_init__(self) -> None:
        for key in ("height", "width", "density", "gravity"):
            require_positive(f"case.{key}", getattr(self, key))


def exact_displacement(p: Params, material: Material):
    """The exact field ``u(x)`` for ``(N, 2)`` points."""
    E, nu = material.plane_stress_constants()
    w, H = p.density * p.gravity, p.height

    def u(x: Tensor) -> Tensor:
        X, Y = x[:, 0], x[:, 1]
        ux = nu * w / E * (H - Y) * X
        uy = -w / E * (H * Y - Y**2 / 2) + nu * w / (2 * E) * X**2
        return torch.stack([ux, uy], -1)

    return u


def build(p: Params) -> Problem:
    material = Material(p.E, p.nu, p.plane)
    exact = exact_displacement(p, material)
    weight = p.density * p.gravity

    def body_force(x: Tensor) -> Tensor:
        return torch.stack([torch.zeros_like(x[:, 0]), torch.full_like(x[:, 0], -weight)], -1)

    return Problem(
        geometry=Rectangle((-p.width / 2, 0.0), (p.width / 2, p.height)),
        material=material,
        conditions=(Displacement("bottom", exact),),
        body_force=body_force,
        exact_displacement=exact,
        probes=(Probe("top_settlement", (0.0, p.height), "displacement", 1),),
        line_plots=(LinePlot("settlement", (0.0, 0.0), (0.0, p.height), "displacement", 1),),
        length_unit="m",
        stress_unit="Pa",
        description=f"column, own weight H={p.height} B={p.width} rho g={weight:g} ({material.plane})",
    )
