r"""A 3D cantilever: the beam of ``beam3d`` clamped at ``x = 0`` under a transverse end load.

The end ``x = L`` carries a uniform shear traction :math:`t_z = -P/(BH)` (total force ``P``
downwards); the root is fully clamped (all components zero) and the lateral faces are free.
There is no closed-form 3D solution: the full clamp restrains the Poisson contraction at the
root, and the uniform end traction is not the parabolic shear of Saint-Venant's solution, so
the field near both ends differs from any beam theory. The engineering check is the
deflection of the tip's centre against Timoshenko's beam theory with Cowper's shear
coefficient for a rectangle, :math:`\kappa = 10(1+\nu)/(12+11\nu)`:

.. math:: \delta = \frac{P L^3}{3 E I} + \frac{P L}{\kappa G A},\qquad
          I = \frac{B H^3}{12},\quad A = BH,\quad G = \frac{E}{2(1+\nu)}.

A P2 finite-element model of the same fully clamped beam (``L/H = 10``) ends 0.8 % below it.
The clamped root's edges are singular (see :mod:`pinn_elastic.singular_edges`); the run's
energy polish (:mod:`pinn_elastic.energy`) takes care of them. ``shear="parabolic"`` applies
Saint-Venant's end shear :math:`t_z = -\tfrac{3P}{2BH}(1 - 4z^2/H^2)` of the same resultant.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pinn_elastic import Box, Displacement, LinePlot, Material, Probe, Problem, Traction
from pinn_elastic.errors import ConfigError, require_finite, require_positive

SHEAR_PROFILES = ("uniform", "parabolic")
FACES = ("root", "tip", "side_ymin", "side_ymax", "bottom", "top")


@dataclass
class Params:
    length: float = 10.0  # L (x)
    width: float = 1.0  # B (y)
    height: float = 1.0  # H (z)
    load: float = 1.0  # P, total transverse force on x = L, downwards (-z)
    E: float = 1000.0
    nu: float = 0.3
    shear: str = "uniform"  # uniform | parabolic (Saint-Venant: 3P/(2A) (1 - 4 z^2 / H^2))

    def __post_init__(self) -> None:
        if self.shear not in SHEAR_PROFILES:
            raise ConfigError("case.shear", self.shear, f"must be one of {', '.join(SHEAR_PROFILES)}")
        for key in ("length", "width", "height"):
            require_positive(f"case.{key}", getattr(self, key))
        require_finite("case.load", self.load)
        if self.load == 0:
            raise ConfigError("case.load", 0.0, "must be non-zero (nothing to solve)")


def beam_theory_deflection(p: Params) -> float:
    """Timoshenko tip deflection with Cowper's shear coefficient (positive: along the load)."""
    inertia, area = p.width * p.height**3 / 12, p.width * p.height
    shear_modulus = p.E / (2 * (1 + p.nu))
    kappa = 10 * (1 + p.nu) / (12 + 11 * p.nu)
    return p.load * p.length**3 / (3 * p.E * inertia) + p.load * p.length / (kappa * shear_modulus * area)


def build(p: Params) -> Problem:
    B, H, L = p.width, p.height, p.length
    mean_shear = -p.load / (B * H)
    if p.shear == "uniform":
        shear = (0.0, 0.0, mean_shear)
    else:

        def shear(x: Tensor, n: Tensor) -> Tensor:
            t = torch.zeros_like(x)
            t[:, 2] = 1.5 * mean_shear * (1 - 4 * x[:, 2] ** 2 / H**2)
            return t

    return Problem(
        geometry=Box((0.0, -B / 2, -H / 2), (L, B / 2, H / 2), FACES),
        material=Material(p.E, p.nu),
        conditions=(Displacement("root", (0.0, 0.0, 0.0)), Traction("tip", shear)),
        probes=(
            Probe(
                "tip_deflection",
                (L, 0.0, 0.0),
                "displacement",
                2,
                scale=-1.0,
                reference=beam_theory_deflection(p),
            ),
        ),
        line_plots=(LinePlot("deflection", (0.0, 0.0, 0.0), (L, 0.0, 0.0), "displacement", 2),),
        description=f"3D cantilever L={L} B={B} H={H} P={p.load} E={p.E} nu={p.nu}",
    )
