r"""Nondimensionalisation: the network sees O(1) coordinates, and the loss O(1) residuals.

With a characteristic length :math:`L_c` (the body's largest extent), stress :math:`S_c` (the
largest prescribed load) and modulus :math:`E`, the displacement scale is
:math:`U_c = S_c L_c / E` and

.. math::
    \hat x = (x - x_0)/L_c,\quad \hat u = u/U_c,\quad \hat\sigma = \sigma/S_c,\quad
    \hat\lambda = \lambda/E,\quad \hat\mu = \mu/E,\quad \hat f = f L_c/S_c,\quad \hat t = t/S_c,

so that :math:`\hat\sigma = \hat\lambda\,\mathrm{tr}\,\hat\varepsilon\,I + 2\hat\mu\hat\varepsilon`
and equilibrium reads :math:`\hat\nabla\cdot\hat\sigma + \hat f = 0`: the same equations in
any consistent unit system (Pa and m, or MPa and mm, or E = 1000).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .problem import Displacement, Problem


@dataclass(frozen=True)
class Scales:
    origin: tuple[float, ...]
    length: float
    stress: float
    modulus: float

    @property
    def displacement(self) -> float:
        return self.stress * self.length / self.modulus

    def to_unit(self, x: Tensor) -> Tensor:
        """Physical points ``(N, d)`` -> nondimensional."""
        return (x - torch.tensor(self.origin, dtype=x.dtype, device=x.device)) / self.length

    def to_physical(self, x_hat: Tensor) -> Tensor:
        """Nondimensional points ``(N, d)`` -> physical."""
        return x_hat * self.length + torch.tensor(self.origin, dtype=x_hat.dtype, device=x_hat.device)


def characteristic_scales(problem: Problem, generator: torch.Generator, samples: int = 512) -> Scales:
    """Scales from the body's size and the largest prescribed load (traction, body force, or
    the stress a prescribed displacement implies); the modulus is Young's modulus."""
    geometry = problem.geometry
    lo, hi = (torch.tensor(b, dtype=torch.float64) for b in geometry.bounds)
    length = float((hi - lo).max())
    origin = tuple(float(v) for v in (lo + hi) / 2)
    E = problem.material.E
    loads = [0.0]
    for condition in problem.all_conditions:
        x, n = geometry.sample_boundary(condition.boundary, samples, generator, torch.float64)
        if isinstance(condition, Displacement):
            data = condition.evaluate(x)
            data = data - data.mean(0)  # a rigid translation strains nothing
            loads.append(E * float(data.abs().max()) / length)
        else:
            loads.append(float(condition.evaluate(x, n).abs().max()))
    if problem.body_force is not None:
        x = geometry.sample_interior(samples, generator, torch.float64)
        loads.append(float(problem.body_force(x).abs().max()) * length)
    stress = max(loads)
    if not stress > 0:
        stress = E  # an unloaded body: any scale will do
    return Scales(origin=origin, length=length, stress=stress, modulus=E)
