r"""Lamé's thick-walled sphere ``a < r < b`` under internal pressure ``p`` (one octant).

Symmetry on the three coordinate planes (zero normal displacement, zero shear traction), the
outer surface free. The radial displacement is

.. math:: u_r = \frac{p a^3}{E (b^3 - a^3)}\Big[(1 - 2\nu)\,r + \frac{(1 + \nu)\,b^3}{2 r^2}\Big],

with :math:`\sigma_{rr} = -p\,\frac{a^3 (b^3/r^3 - 1)}{b^3 - a^3}` and
:math:`\sigma_{\theta\theta} = p\,\frac{a^3 (b^3/(2r^3) + 1)}{b^3 - a^3}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from pinn_elastic import Box, Displacement, LinePlot, Material, Probe, Problem, Sphere, Traction
from pinn_elastic.errors import ConfigError, require_finite, require_positive

PLANES = ("sym_x", "far_x", "sym_y", "far_y", "sym_z", "far_z")


@dataclass
class Params:
    inner: float = 1.0  # a
    outer: float = 2.0  # b
    pressure: float = 1.0  # p
    E: float = 1000.0
    nu: float = 0.3

    def __post_init__(self) -> None:
        require_positive("case.inner", self.inner)
        require_finite("case.pressure", self.pressure)
        if not self.outer > self.inner:
            raise ConfigError("case.outer", self.outer, f"must exceed case.inner = {self.inner}")
        if self.pressure == 0:
            raise ConfigError("case.pressure", 0.0, "must be non-zero (nothing to solve)")


def exact_displacement(p: Params):
    a3, b3 = p.inner**3, p.outer**3
    factor = p.pressure * a3 / (p.E * (b3 - a3))

    def u(x: Tensor) -> Tensor:
        r = x.norm(dim=-1, keepdim=True)
        return factor * ((1 - 2 * p.nu) + (1 + p.nu) * b3 / (2 * r**3)) * x  # u_r x / r

    return u


def octant(inner: float, outer: float):
    """``inner < r < outer`` with ``x, y, z > 0``: spherical faces ``inner`` and ``outer``,
    flat faces ``sym_x`` (on ``x = 0``), ``sym_y`` and ``sym_z``."""
    solid = Sphere((0.0, 0.0, 0.0), outer, "outer") & Box((0.0, 0.0, 0.0), (outer,) * 3, PLANES)
    return solid - Sphere((0.0, 0.0, 0.0), inner, "inner")


def build(p: Params) -> Problem:
    def pressure(x: Tensor, normal: Tensor) -> Tensor:
        return -p.pressure * normal  # pushes against the outward normal (into the wall)

    zero = (0.0, 0.0, 0.0)
    return Problem(
        geometry=octant(p.inner, p.outer),
        material=Material(p.E, p.nu),
        conditions=(
            Traction("inner", pressure),
            Displacement("sym_x", zero, components=(0,)),
            Displacement("sym_y", zero, components=(1,)),
            Displacement("sym_z", zero, components=(2,)),
        ),
        exact_displacement=exact_displacement(p),
        probes=(Probe("bore_displacement", (p.inner, 0.0, 0.0), "displacement", 0),),
        line_plots=(
            LinePlot("radial_displacement", (p.inner, 0.0, 0.0), (p.outer, 0.0, 0.0), "displacement", 0),
        ),
        description=f"Lame sphere a={p.inner} b={p.outer} p={p.pressure} E={p.E} nu={p.nu}",
    )
