r"""Manufactured non-polynomial fields on a non-convex body with a hole and mixed conditions.

The L-shaped plate ``[0, 2S]^2`` minus the square ``[S, 2S]^2`` (the notch, faces
``notch_bottom`` and ``notch_left``), minus the disk of radius ``S/4`` around ``(S/2, S/2)``
(``hole``); plane strain. With :math:`\xi = x/S`, :math:`\eta = y/S`, amplitude ``U`` and
``field``:

* ``exponential``: :math:`u_x = U e^{0.6\xi - 0.4\eta}`, :math:`u_y = U e^{-0.5\xi + 0.7\eta}`;
* ``trigonometric`` (``waves`` full wavelengths across the body):
  :math:`u_x = U\sin(\pi w\xi)\cos(\pi\eta/2)`,
  :math:`u_y = U\cos(\pi\xi/2)\sin(\pi w\eta + \pi/4)`.

The body force and every traction come from the exact field through the project's own
operators (:mod:`pinn_elastic.exact_data`). Conditions, per component: the whole displacement
on ``bottom``; ``u_x`` and ``t_y`` on ``left``; ``u_y`` and ``t_x`` on ``top``; traction on
``right``, the notch faces and the hole. So ``u_x`` is prescribed on ``bottom`` and ``left``,
``u_y`` on ``bottom`` and ``top``: non-zero data on two edges, which no single lift carries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from pinn_elastic import Disk, Displacement, Material, Problem, Rectangle, Traction
from pinn_elastic.errors import require_choice, require_positive
from pinn_elastic.exact_data import body_force_of, traction_of

FIELDS = ("exponential", "trigonometric")


@dataclass
class Params:
    field: str = "exponential"
    waves: int = 2  # trigonometric: full wavelengths across the body
    side: float = 1.0  # S: the body spans [0, 2S]^2
    amplitude: float = 1.0  # U (length units)
    E: float = 1000.0
    nu: float = 0.3

    def __post_init__(self) -> None:
        require_choice("case.field", self.field, FIELDS)
        require_positive("case.waves", self.waves)
        require_positive("case.side", self.side)
        require_positive("case.amplitude", self.amplitude)


def exact_displacement(p: Params):
    """The exact field ``u(x)`` for ``(N, 2)`` points."""
    S, U, w = p.side, p.amplitude, p.waves

    def u(x: Tensor) -> Tensor:
        xi, eta = x[:, 0] / S, x[:, 1] / S
        if p.field == "exponential":
            ux, uy = torch.exp(0.6 * xi - 0.4 * eta), torch.exp(-0.5 * xi + 0.7 * eta)
        else:
            ux = torch.sin(math.pi * w * xi) * torch.cos(math.pi * eta / 2)
            uy = torch.cos(math.pi * xi / 2) * torch.sin(math.pi * w * eta + math.pi / 4)
        return U * torch.stack([ux, uy], -1)

    return u


def build(p: Params) -> Problem:
    material = Material(p.E, p.nu, plane="strain")
    S = p.side
    exact = exact_displacement(p)
    load = traction_of(exact, material)
    notch = Rectangle(
        (S, S), (3 * S, 3 * S), names=("notch_bottom", "notch_right", "notch_top", "notch_left")
    )
    body = Rectangle((0.0, 0.0), (2 * S, 2 * S)) - notch - Disk((S / 2, S / 2), S / 4, name="hole")
    return Problem(
        geometry=body,
        material=material,
        conditions=(
            Displacement("bottom", exact),
            Displacement("left", exact, components=(0,)),
            Traction("left", load, components=(1,)),
            Displacement("top", exact, components=(1,)),
            Traction("top", load, components=(0,)),
            Traction("right", load),
            Traction("notch_bottom", load),
            Traction("notch_left", load),
            Traction("hole", load),
        ),
        body_force=body_force_of(exact, material),
        exact_displacement=exact,
        description=f"manufactured {p.field} field on a notched plate with a hole S={S} U={p.amplitude}",
    )
