r"""Isotropic linear-elastic materials: the Lamé formulas live here and nowhere else.

For a 3D body, :math:`\mu = E / (2(1+\nu))` and :math:`\lambda = E\nu / ((1+\nu)(1-2\nu))`.
A 2D body is either in plane strain (the 3D :math:`\lambda` unchanged) or in plane stress,
where :math:`\sigma_{zz} = 0` makes the in-plane law use
:math:`\lambda^* = 2\lambda\mu / (\lambda + 2\mu) = E\nu / (1 - \nu^2)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError, require_choice, require_positive

PLANES = ("stress", "strain")


@dataclass(frozen=True)
class Material:
    """Young's modulus ``E``, Poisson's ratio ``nu`` and, for 2D bodies, the plane assumption.

    ``key`` is the config prefix used in error messages (``case`` gives ``case.E``).
    """

    E: float
    nu: float
    plane: str = "strain"
    key: str = "case"

    def __post_init__(self) -> None:
        require_positive(f"{self.key}.E", self.E)
        if not (-1.0 < self.nu < 0.5):
            raise ConfigError(f"{self.key}.nu", self.nu, "must satisfy -1 < nu < 0.5")
        require_choice(f"{self.key}.plane", self.plane, PLANES)

    @property
    def mu(self) -> float:
        """Shear modulus :math:`\\mu = E / (2(1+\\nu))`."""
        return self.E / (2.0 * (1.0 + self.nu))

    @property
    def lam_3d(self) -> float:
        """Lamé's first parameter of the 3D material."""
        return self.E * self.nu / ((1.0 + self.nu) * (1.0 - 2.0 * self.nu))

    def lame(self, dim: int) -> tuple[float, float]:
        """The ``(lambda, mu)`` that enter the in-plane (2D) or full (3D) Hooke law."""
        if dim == 2 and self.plane == "stress":
            return self.E * self.nu / (1.0 - self.nu**2), self.mu
        return self.lam_3d, self.mu

    def out_of_plane_stress_factor(self, dim: int) -> float:
        r"""Factor ``c`` with :math:`\sigma_{zz} = c\,(\sigma_{xx} + \sigma_{yy})` in 2D.

        Plane strain: :math:`c = \nu`; plane stress (and 3D, where it is unused): 0.
        """
        return self.nu if dim == 2 and self.plane == "strain" else 0.0

    def out_of_plane_strain_factor(self, dim: int) -> float:
        r"""Factor ``c`` with :math:`\varepsilon_{zz} = c\,(\varepsilon_{xx} + \varepsilon_{yy})` in 2D.

        Plane stress: :math:`c = -\nu/(1-\nu)`; plane strain (and 3D): 0.
        """
        return -self.nu / (1.0 - self.nu) if dim == 2 and self.plane == "stress" else 0.0

    def plane_stress_constants(self) -> tuple[float, float]:
        r"""``(E', nu')`` that turn a plane-stress formula into this material's 2D response.

        Plane stress: ``(E, nu)``; plane strain: :math:`E' = E/(1-\nu^2)`,
        :math:`\nu' = \nu/(1-\nu)` (the in-plane Hooke law of plane strain is that of plane
        stress with these constants), so a textbook plane-stress solution serves both.
        """
        if self.plane == "strain":
            return self.E / (1.0 - self.nu**2), self.nu / (1.0 - self.nu)
        return self.E, self.nu

    @classmethod
    def from_lame(cls, lam: float, mu: float, plane: str = "strain", key: str = "case") -> Material:
        """The material with 3D Lamé parameters ``lam`` and ``mu``."""
        require_positive(f"{key}.mu", mu)
        E = mu * (3.0 * lam + 2.0 * mu) / (lam + mu)
        nu = lam / (2.0 * (lam + mu))
        return cls(E=E, nu=nu, plane=plane, key=key)
