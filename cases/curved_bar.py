r"""Pure bending of a curved bar (Golovin's solution, Timoshenko & Goodier §29).

The quarter ring ``a < r < b``, ``0 < theta < pi/2``, plane stress, bent by a moment ``M``
(per unit thickness) applied at its ends; both curved faces are free. With
:math:`N = (b^2 - a^2)^2 - 4a^2b^2\ln^2(b/a)` and the stress function
:math:`\phi = A\ln r + B r^2\ln r + C r^2`,

.. math::
    A = -\frac{4M}{N}a^2b^2\ln\frac ba,\quad B = -\frac{2M}{N}(b^2 - a^2),\quad
    C = \frac{M}{N}\big[b^2 - a^2 + 2(b^2\ln b - a^2\ln a)\big], \\
    \sigma_{rr} = \frac{A}{r^2} + B(1 + 2\ln r) + 2C,\quad
    \sigma_{\theta\theta} = -\frac{A}{r^2} + B(3 + 2\ln r) + 2C,\quad \sigma_{r\theta} = 0, \\
    u_r = \frac1E\Big[-(1+\nu)\frac Ar + 2(1-\nu)Br\ln r - (1+\nu)Br + 2(1-\nu)Cr\Big],\quad
    u_\theta = \frac{4Br\theta}{E}.

The end ``theta = 0`` (the edge on ``y = 0``) is clamped with the exact displacement; the end
``theta = pi/2`` (on ``x = 0``) carries the exact traction, a pure couple. Plane strain
replaces :math:`E \to E/(1-\nu^2)`, :math:`\nu \to \nu/(1-\nu)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from cases.lame_cylinder import quarter_ring
from pinn_elastic import Displacement, Material, Probe, Problem, Traction
from pinn_elastic.errors import ConfigError, require_finite, require_positive
from pinn_elastic.exact_data import traction_of


@dataclass
class Params:
    inner: float = 1.0  # a
    outer: float = 2.0  # b
    moment: float = 1.0  # M per unit thickness
    E: float = 1000.0
    nu: float = 0.3
    plane: str = "stress"

    def __post_init__(self) -> None:
        require_positive("case.inner", self.inner)
        require_finite("case.moment", self.moment)
        if not self.outer > self.inner:
            raise ConfigError("case.outer", self.outer, f"must exceed case.inner = {self.inner}")


def exact_displacement(p: Params, material: Material):
    """The exact field ``u(x)`` for ``(N, 2)`` points with ``x, y > 0``."""
    E, nu = material.plane_stress_constants()
    a, b, M = p.inner, p.outer, p.moment
    N = (b**2 - a**2) ** 2 - 4 * a**2 * b**2 * math.log(b / a) ** 2
    A = -4 * M / N * a**2 * b**2 * math.log(b / a)
    B = -2 * M / N * (b**2 - a**2)
    C = M / N * (b**2 - a**2 + 2 * (b**2 * math.log(b) - a**2 * math.log(a)))

    def u(x: Tensor) -> Tensor:
        r = x.norm(dim=-1)
        theta = torch.atan2(x[:, 1], x[:, 0])
        ur = (
            -(1 + nu) * A / r + 2 * (1 - nu) * B * r * torch.log(r) - (1 + nu) * B * r + 2 * (1 - nu) * C * r
        ) / E
        ut = 4 * B * r * theta / E
        c, s = x[:, 0] / r, x[:, 1] / r
        return torch.stack([ur * c - ut * s, ur * s + ut * c], -1)

    return u


def build(p: Params) -> Problem:
    material = Material(p.E, p.nu, p.plane)
    a, b = p.inner, p.outer
    exact = exact_displacement(p, material)
    ring = quarter_ring(a, b)
    return Problem(
        geometry=ring,
        material=material,
        conditions=(
            Displacement("bottom", exact),
            Traction("left", traction_of(exact, material)),
        ),
        exact_displacement=exact,
        probes=(Probe("end_deflection", (0.0, (a + b) / 2), "displacement", 0),),
        description=f"curved bar a={a} b={b} M={p.moment} ({material.plane})",
    )
