r"""The manufactured plate of Haghighat et al. (2021), the usual PINN elasticity benchmark.

Square ``[0, S]^2`` in plane strain with Lamé parameters ``lam`` and ``mu``; with
:math:`\xi = x/S`, :math:`\eta = y/S` and amplitude ``U`` the exact field is

.. math::
    u_x = U\cos(2\pi\xi)\sin(\pi\eta), \qquad u_y = U\sin(\pi\xi)\,Q\eta^4/4

(``S = U = 1``, ``lam = 1``, ``mu = 0.5``, ``Q = 4`` is the published problem). The body force
:math:`f = -[\mu\Delta u + (\lambda+\mu)\nabla(\nabla\cdot u)]` is derived from the exact field by
autograd through the project's own Navier operator. Mixed conditions: ``u_x = 0`` on
``y = 0, S``; ``u_y = 0`` on ``x = 0, S`` and ``y = 0``; ``sigma_xx = 0`` on ``x = 0, S``;
:math:`\sigma_{yy} = (\lambda + 2\mu) Q (U/S) \sin(\pi\xi)` on ``y = S``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from pinn_elastic import Displacement, Material, Problem, Rectangle, Traction
from pinn_elastic.errors import require_finite, require_positive
from pinn_elastic.exact_data import body_force_of


@dataclass
class Params:
    side: float = 1.0
    amplitude: float = 1.0
    Q: float = 4.0
    lam: float = 1.0
    mu: float = 0.5

    def __post_init__(self) -> None:
        require_positive("case.side", self.side)
        require_positive("case.amplitude", self.amplitude)
        require_finite("case.Q", self.Q)
        require_positive("case.lam", self.lam + 2 * self.mu / 3)  # bulk modulus > 0


def build(p: Params) -> Problem:
    material = Material.from_lame(p.lam, p.mu, plane="strain")
    S, U, Q = p.side, p.amplitude, p.Q
    lam, mu = material.lame(2)

    def exact(x: Tensor) -> Tensor:
        xi, eta = x[:, 0] / S, x[:, 1] / S
        ux = U * torch.cos(2 * math.pi * xi) * torch.sin(math.pi * eta)
        uy = U * torch.sin(math.pi * xi) * Q * eta**4 / 4
        return torch.stack([ux, uy], -1)

    def top_load(x: Tensor, normal: Tensor) -> Tensor:
        syy = (lam + 2 * mu) * Q * (U / S) * torch.sin(math.pi * x[:, 0] / S)
        return torch.stack([torch.zeros_like(syy), syy], -1)

    return Problem(
        geometry=Rectangle((0.0, 0.0), (S, S)),
        material=material,
        conditions=(
            Displacement("bottom", (0.0, 0.0)),
            Displacement("top", (0.0, 0.0), components=(0,)),
            Traction("top", top_load, components=(1,)),
            Displacement("left", (0.0, 0.0), components=(1,)),
            Traction("left", (0.0, 0.0), components=(0,)),
            Displacement("right", (0.0, 0.0), components=(1,)),
            Traction("right", (0.0, 0.0), components=(0,)),
        ),
        body_force=body_force_of(exact, material),
        exact_displacement=exact,
        description=f"manufactured plate S={S} U={U} Q={Q} lam={lam:g} mu={mu:g}",
    )
