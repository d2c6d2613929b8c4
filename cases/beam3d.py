r"""A prismatic beam in pure bending by an end moment: the exact 3D solution (Saint-Venant).

The beam :math:`[0, L] \times [-B/2, B/2] \times [-H/2, H/2]` carries a moment :math:`M` about
:math:`y`. With :math:`I = B H^3/12` and the curvature :math:`k = M/(E I)`:

.. math::
    u_x = k\,x z,\qquad u_y = -\nu k\,y z,\qquad
    u_z = -\tfrac{k}{2}\big(x^2 + \nu (z^2 - y^2)\big),\qquad
    \sigma_{xx} = E k z,

all other stresses zero: the lateral faces are free, the end ``x = L`` carries the linear
traction :math:`t = (E k z, 0, 0)` and the end ``x = 0`` is held at the exact displacement.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pinn_elastic import Box, Displacement, LinePlot, Material, Probe, Problem, Traction
from pinn_elastic.errors import ConfigError, require_finite, require_positive

FACES = ("root", "tip", "side_ymin", "side_ymax", "bottom", "top")


@dataclass
class Params:
    length: float = 10.0  # L
    width: float = 1.0  # B
    height: float = 1.0  # H
    moment: float = 1.0  # M about y
    E: float = 1000.0
    nu: float = 0.3

    def __post_init__(self) -> None:
        for key in ("length", "width", "height"):
            require_positive(f"case.{key}", getattr(self, key))
        require_finite("case.moment", self.moment)
        if self.moment == 0:
            raise ConfigError("case.moment", 0.0, "must be non-zero (nothing to solve)")


def curvature(p: Params) -> float:
    return p.moment / (p.E * p.width * p.height**3 / 12)


def exact_displacement(p: Params):
    k, nu = curvature(p), p.nu

    def u(x: Tensor) -> Tensor:
        X, Y, Z = x.unbind(-1)
        return torch.stack([k * X * Z, -nu * k * Y * Z, -k / 2 * (X * X + nu * (Z * Z - Y * Y))], -1)

    return u


def build(p: Params) -> Problem:
    B, H, L = p.width, p.height, p.length
    body = Box((0.0, -B / 2, -H / 2), (L, B / 2, H / 2), FACES)
    k = curvature(p)

    def end_traction(x: Tensor, normal: Tensor) -> Tensor:
        zero = torch.zeros_like(x[:, 0])
        return torch.stack([p.E * k * x[:, 2], zero, zero], -1)

    return Problem(
        geometry=body,
        material=Material(p.E, p.nu),
        conditions=(Displacement("root", exact_displacement(p)), Traction("tip", end_traction)),
        exact_displacement=exact_displacement(p),
        probes=(Probe("tip_deflection", (L, 0.0, 0.0), "displacement", 2),),
        line_plots=(LinePlot("deflection", (0.0, 0.0, 0.0), (L, 0.0, 0.0), "displacement", 2),),
        description=f"3D beam in pure bending L={L} B={B} H={H} M={p.moment} E={p.E} nu={p.nu}",
    )
