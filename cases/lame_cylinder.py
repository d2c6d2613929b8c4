r"""Lamé's thick-walled cylinder under internal pressure ``p_i`` and external pressure ``p_o``.

A quarter of the annulus ``a < r < b`` with symmetry on ``x = 0`` and ``y = 0``. With
:math:`A = (p_i a^2 - p_o b^2)/(b^2 - a^2)` and :math:`B = (p_i - p_o)\,a^2 b^2/(b^2 - a^2)`:

.. math::
    \sigma_{rr} = A - B/r^2,\qquad \sigma_{\theta\theta} = A + B/r^2,\qquad
    u_r = \frac{1+\nu}{E}\Big[(1-2\nu)\,A\,r + \frac{B}{r}\Big]\ \text{(plane strain)},\quad
    u_r = \frac{1}{E}\Big[(1-\nu)\,A\,r + (1+\nu)\frac{B}{r}\Big]\ \text{(plane stress)}.

Plane strain with :math:`\nu \to 0.5` is the classical test of near-incompressibility: the
volumetric strain :math:`2(1-2\nu)(1+\nu)A/E` vanishes while :math:`\lambda` grows without bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from pinn_elastic import Disk, Displacement, Material, Probe, Problem, Rectangle, Traction
from pinn_elastic.errors import ConfigError, require_finite, require_positive


@dataclass
class Params:
    inner: float = 1.0  # a
    outer: float = 2.0  # b
    inner_pressure: float = 1.0  # p_i
    outer_pressure: float = 0.0  # p_o
    E: float = 1000.0
    nu: float = 0.3
    plane: str = "strain"

    def __post_init__(self) -> None:
        require_positive("case.inner", self.inner)
        require_finite("case.inner_pressure", self.inner_pressure)
        require_finite("case.outer_pressure", self.outer_pressure)
        if not self.outer > self.inner:
            raise ConfigError("case.outer", self.outer, f"must exceed case.inner = {self.inner}")
        if self.inner_pressure == 0 and self.outer_pressure == 0:
            raise ConfigError("case.inner_pressure", 0.0, "and case.outer_pressure cannot both be 0")


def exact_displacement(p: Params, material: Material):
    """The exact field ``u(x)`` for ``(N, 2)`` points."""
    a2, b2, E, nu = p.inner**2, p.outer**2, material.E, material.nu
    A = (p.inner_pressure * a2 - p.outer_pressure * b2) / (b2 - a2)
    B = (p.inner_pressure - p.outer_pressure) * a2 * b2 / (b2 - a2)
    if material.plane == "strain":
        linear, inverse = (1 + nu) * (1 - 2 * nu) * A / E, (1 + nu) * B / E
    else:
        linear, inverse = (1 - nu) * A / E, (1 + nu) * B / E

    def u(x: Tensor) -> Tensor:
        r2 = (x * x).sum(-1, keepdim=True)
        return (linear + inverse / r2) * x  # u_r e_r = (linear r + inverse / r) x / r

    return u


def quarter_ring(inner: float, outer: float):
    """``inner < r < outer`` in the first quadrant: arcs ``inner`` and ``outer``, straight
    edges ``bottom`` (on ``y = 0``) and ``left`` (on ``x = 0``)."""
    disk = Disk((0.0, 0.0), outer, name="outer") & Rectangle((0.0, 0.0), (outer, outer))
    return disk - Disk((0.0, 0.0), inner, name="inner")


def build(p: Params) -> Problem:
    material = Material(p.E, p.nu, p.plane)
    a, b = p.inner, p.outer
    ring = quarter_ring(a, b)

    def pressure(value: float):
        def load(x: Tensor, normal: Tensor) -> Tensor:
            return -value * normal  # a pressure pushes against the outward normal

        return load

    return Problem(
        geometry=ring,
        material=material,
        conditions=(
            Traction("inner", pressure(p.inner_pressure)),
            Traction("outer", pressure(p.outer_pressure)),
            Displacement("left", (0.0, 0.0), components=(0,)),
            Displacement("bottom", (0.0, 0.0), components=(1,)),
        ),
        exact_displacement=exact_displacement(p, material),
        probes=(Probe("bore_displacement", (a, 0.0), "displacement", 0),),
        description=(
            f"Lame cylinder a={a} b={b} p_i={p.inner_pressure} p_o={p.outer_pressure} "
            f"nu={p.nu} ({material.plane})"
        ),
    )
