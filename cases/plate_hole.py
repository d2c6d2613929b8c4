r"""Kirsch's plate with a circular hole under far-field tension ``T`` along x and ``T_y`` along y.

A quarter model; ``T_y = T`` is equibiaxial tension, ``T_y = -T`` pure shear (of magnitude
``T`` on planes at 45 degrees), each the superposition of two Kirsch fields.

Body: the square ``[0, W]^2`` minus the disk ``r < a``. The infinite-plate solution is imposed
as traction on the outer edges ``x = W`` and ``y = W``, so it is exact on this finite body.
Symmetry on ``x = 0`` (``u_x = 0``, zero shear traction) and on ``y = 0`` (``u_y = 0``, zero
shear traction); the hole is traction-free. With ``theta`` from the x axis,
``mu = E / (2(1+nu))`` and ``kappa = (3-nu)/(1+nu)`` (plane stress) or ``3-4nu`` (plane strain):

.. math::
    \sigma_{rr} &= \tfrac T2 (1 - a^2/r^2) + \tfrac T2 (1 - 4a^2/r^2 + 3a^4/r^4)\cos 2\theta \\
    \sigma_{\theta\theta} &= \tfrac T2 (1 + a^2/r^2) - \tfrac T2 (1 + 3a^4/r^4)\cos 2\theta \\
    \sigma_{r\theta} &= -\tfrac T2 (1 + 2a^2/r^2 - 3a^4/r^4)\sin 2\theta \\
    u_r &= \tfrac{T}{8\mu r}\left[r^2(\kappa-1) + 2a^2
           + 2(r^2 + (\kappa+1)a^2 - a^4/r^2)\cos 2\theta\right] \\
    u_\theta &= -\tfrac{T}{4\mu r}\left[r^2 + (\kappa-1)a^2 + a^4/r^2\right]\sin 2\theta

The stress concentration factor :math:`\sigma_{xx}(0, a)/T` is 3 under uniaxial tension, 2 under
equibiaxial tension and 4 under pure shear. The field of ``T_y`` is that of ``T`` mirrored
across the line ``y = x`` (coordinates and components swapped).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pinn_elastic import Disk, Displacement, LinePlot, Material, Probe, Problem, Rectangle, Traction
from pinn_elastic.errors import ConfigError, require_finite, require_positive


@dataclass
class Params:
    side: float = 1.0
    radius: float = 0.25
    traction: float = 1.0
    traction_y: float = 0.0
    E: float = 1000.0
    nu: float = 0.3
    plane: str = "stress"

    def __post_init__(self) -> None:
        require_positive("case.side", self.side)
        require_positive("case.radius", self.radius)
        require_finite("case.traction", self.traction)
        require_finite("case.traction_y", self.traction_y)
        if self.traction == 0:
            raise ConfigError("case.traction", self.traction, "must be non-zero (it scales the scf probe)")
        if not self.radius < self.side:
            raise ConfigError("case.radius", self.radius, f"must be smaller than case.side = {self.side}")


def _polar(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r = x.norm(dim=-1)
    return r, x[:, 0] / r, x[:, 1] / r  # r, cos(theta), sin(theta)


def kirsch_stress(x: Tensor, a: float, T: float) -> Tensor:
    """Cartesian stress ``(N, 2, 2)`` of the infinite plate."""
    r, c, s = _polar(x)
    cos2, sin2 = c * c - s * s, 2 * s * c
    q2, q4 = (a / r) ** 2, (a / r) ** 4
    srr = T / 2 * (1 - q2) + T / 2 * (1 - 4 * q2 + 3 * q4) * cos2
    stt = T / 2 * (1 + q2) - T / 2 * (1 + 3 * q4) * cos2
    srt = -T / 2 * (1 + 2 * q2 - 3 * q4) * sin2
    sxx = srr * c * c + stt * s * s - 2 * srt * s * c
    syy = srr * s * s + stt * c * c + 2 * srt * s * c
    sxy = (srr - stt) * s * c + srt * (c * c - s * s)
    return torch.stack([torch.stack([sxx, sxy], -1), torch.stack([sxy, syy], -1)], -2)


def kirsch_displacement(material: Material, a: float, T: float):
    """The exact field ``u(x)`` for ``(N, 2)`` points."""
    mu = material.mu
    nu = material.nu
    kappa = (3 - nu) / (1 + nu) if material.plane == "stress" else 3 - 4 * nu

    def u(x: Tensor) -> Tensor:
        r, c, s = _polar(x)
        cos2, sin2 = c * c - s * s, 2 * s * c
        angular = 2 * (r**2 + (kappa + 1) * a**2 - a**4 / r**2) * cos2
        ur = T / (8 * mu * r) * (r**2 * (kappa - 1) + 2 * a**2 + angular)
        ut = -T / (4 * mu * r) * (r**2 + (kappa - 1) * a**2 + a**4 / r**2) * sin2
        return torch.stack([ur * c - ut * s, ur * s + ut * c], -1)

    return u


def _swap(v: Tensor) -> Tensor:
    """Mirror across ``y = x``: swap the two components (of points or vectors)."""
    return v.flip(-1)


def biaxial_stress(x: Tensor, a: float, T: float, Ty: float) -> Tensor:
    """Cartesian stress ``(N, 2, 2)`` under far-field ``sigma_xx = T``, ``sigma_yy = Ty``."""
    return kirsch_stress(x, a, T) + kirsch_stress(_swap(x), a, Ty).flip(-1, -2)


def biaxial_displacement(material: Material, a: float, T: float, Ty: float):
    """The exact field ``u(x)`` under far-field ``sigma_xx = T``, ``sigma_yy = Ty``."""
    along_x, along_y = kirsch_displacement(material, a, T), kirsch_displacement(material, a, Ty)

    def u(x: Tensor) -> Tensor:
        return along_x(x) + _swap(along_y(_swap(x)))

    return u


def build(p: Params) -> Problem:
    material = Material(p.E, p.nu, p.plane)
    W, a, T, Ty = p.side, p.radius, p.traction, p.traction_y

    def far_field(x: Tensor, normal: Tensor) -> Tensor:
        return (biaxial_stress(x, a, T, Ty) * normal[:, None, :]).sum(-1)

    return Problem(
        geometry=Rectangle((0.0, 0.0), (W, W)) - Disk((0.0, 0.0), a, name="hole"),
        material=material,
        conditions=(
            Traction("right", far_field),
            Traction("top", far_field),
            Displacement("left", (0.0, 0.0), components=(0,)),
            Traction("left", (0.0, 0.0), components=(1,)),
            Displacement("bottom", (0.0, 0.0), components=(1,)),
            Traction("bottom", (0.0, 0.0), components=(0,)),
            Traction("hole", (0.0, 0.0)),
        ),
        exact_displacement=biaxial_displacement(material, a, T, Ty),
        probes=(Probe("scf", (0.0, a), "stress", (0, 0), scale=1.0 / T),),
        line_plots=(LinePlot("stress_along_y_axis", (0.0, a), (0.0, W), "stress", (0, 0)),),
        description=f"plate with hole W={W} a={a} T={T} T_y={Ty} ({material.plane} plane)",
    )
