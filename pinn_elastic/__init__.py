"""pinn-elastic: physics-informed neural networks for linear elasticity."""

from .errors import ConfigError
from .geometry import Rectangle, Segment, Shape
from .materials import Material
from .problem import Displacement, LinePlot, Probe, Problem, Traction

__all__ = [
    "ConfigError",
    "Displacement",
    "LinePlot",
    "Material",
    "Probe",
    "Problem",
    "Rectangle",
    "Segment",
    "Shape",
    "Traction",
]
__version__ = "0.1.0"
