"""Inverse problems: the material of a body from displacements measured on it.

* :mod:`.data`: measured displacements from a CSV or a VTU, validated against the case;
* :mod:`.unknowns`: the unknown constants, physical by construction;
* :mod:`.setup`: the measurements as loss rows, and the case's exact field at the true material;
* :mod:`.identify`: the final output-least-squares identification and its uncertainty;
* :mod:`.field`: a modulus field ``E(x)`` (``inverse.field=E``);
* :mod:`.inclusion`: one sharp inclusion refined from it (``inverse.field=inclusion``);
* :mod:`.sample`: ``pinn-elastic-sample``, synthetic measurements from a run's fields.
"""

from .data import Measurements, read_measurements
from .identify import DataRows, Identification, ProfileModel, identify
from .unknowns import MaterialUnknowns

__all__ = [
    "DataRows",
    "Identification",
    "MaterialUnknowns",
    "Measurements",
    "ProfileModel",
    "identify",
    "read_measurements",
]
