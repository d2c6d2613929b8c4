r"""The unknown material constants, physical by construction.

Each unknown is a free real number ``p`` mapped onto its physical range:

* :math:`E = E_0 e^{p}` and :math:`\mu = \mu_0 e^{p}` (positive);
* :math:`\nu = -1 + \tfrac32\,\mathrm{sigmoid}(p)` (:math:`-1 < \nu < 1/2`);
* :math:`\lambda = \mu\,(e^{p} - \tfrac23)` (a positive bulk modulus :math:`\lambda + \tfrac23\mu`).

``p = 0`` is the start (the case's values), except for ``nu``, whose ``p`` starts where the
sigmoid gives the case's ``nu``. The constants the equations use are the nondimensional
in-plane (2D) or 3D Lamé pair of :meth:`~pinn_elastic.materials.Material.lame`, as tensors
that carry the gradient to ``p``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..materials import Material


def _logit(v: float) -> float:
    return math.log(v / (1.0 - v))


class MaterialUnknowns(nn.Module):
    """``raw`` (one entry per unknown) -> the material the equations see."""

    def __init__(self, material: Material, unknowns: tuple[str, ...], dim: int, modulus_scale: float) -> None:
        super().__init__()
        self.names, self.dim, self.plane = tuple(unknowns), dim, material.plane
        self.modulus_scale = modulus_scale
        self.lame_pair = bool({"lam", "mu"} & set(unknowns))
        self.start = {"E": material.E, "nu": material.nu, "lam": material.lam_3d, "mu": material.mu}
        start = [_logit((material.nu + 1.0) / 1.5) if n == "nu" else 0.0 for n in self.names]
        if "lam" in self.names:  # lam = mu (e^p - 2/3) at the start's lam and mu
            start[self.names.index("lam")] = math.log(material.lam_3d / material.mu + 2.0 / 3.0)
        self.raw = nn.Parameter(torch.tensor(start, dtype=torch.float64))

    def constants(self, raw: Tensor | None = None) -> dict[str, Tensor]:
        """``E, nu, lam, mu`` (3D Lamé) in the case's units, as functions of ``raw``."""
        raw = self.raw if raw is None else raw
        p = {n: raw[i] for i, n in enumerate(self.names)}
        one = raw.new_ones(())
        if self.lame_pair:
            mu = self.start["mu"] * torch.exp(p["mu"]) if "mu" in p else self.start["mu"] * one
            lam = mu * (torch.exp(p["lam"]) - 2.0 / 3.0) if "lam" in p else self.start["lam"] * one
            E = mu * (3 * lam + 2 * mu) / (lam + mu)
            nu = lam / (2 * (lam + mu))
        else:
            E = self.start["E"] * torch.exp(p["E"]) if "E" in p else self.start["E"] * one
            nu = -1.0 + 1.5 * torch.sigmoid(p["nu"]) if "nu" in p else self.start["nu"] * one
            mu = E / (2 * (1 + nu))
            lam = E * nu / ((1 + nu) * (1 - 2 * nu))
        return {"E": E, "nu": nu, "lam": lam, "mu": mu}

    def lame_hat(self, raw: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The nondimensional ``(lambda, mu)`` of the equations (plane stress uses
        :math:`\\lambda^* = 2\\lambda\\mu/(\\lambda+2\\mu)`)."""
        c = self.constants(raw)
        lam, mu = c["lam"], c["mu"]
        if self.dim == 2 and self.plane == "stress":
            lam = 2 * lam * mu / (lam + 2 * mu)
        return lam / self.modulus_scale, mu / self.modulus_scale

    def values(self, raw: Tensor | None = None) -> dict[str, float]:
        """The unknowns' current values in the case's units."""
        c = self.constants(raw)
        return {n: float(c[n].detach()) for n in self.names}

    def material(self, key: str = "case") -> Material:
        """The current constants as a :class:`Material` (plane assumption kept)."""
        c = {k: float(v.detach()) for k, v in self.constants().items()}
        return Material(c["E"], c["nu"], self.plane, key)
