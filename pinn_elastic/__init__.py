"""pinn-elastic: physics-informed neural networks for linear elasticity."""

from .errors import ConfigError
from .geometry import (
    Arc,
    Box,
    Cylinder,
    Difference,
    Disk,
    Intersection,
    Rectangle,
    Segment,
    Shape,
    Sphere,
    Union,
)
from .materials import Material
from .problem import Displacement, LinePlot, Probe, Problem, Traction

__all__ = [
    "Arc",
    "Box",
    "ConfigError",
    "Cylinder",
    "Difference",
    "Disk",
    "Displacement",
    "Intersection",
    "LinePlot",
    "Material",
    "Probe",
    "Problem",
    "Rectangle",
    "Segment",
    "Shape",
    "Sphere",
    "Traction",
    "Union",
    "load",
]


def __getattr__(name: str):
    if name == "load":  # imported on first use: it pulls in the whole engine
        from .trained import load

        return load
    raise AttributeError(f"module 'pinn_elastic' has no attribute {name!r}")


__version__ = "0.1.0"
