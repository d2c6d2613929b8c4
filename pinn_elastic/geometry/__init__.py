"""Bodies: one abstraction (:class:`Shape`, :class:`Piece`) for 2D and 3D, combined by CSG."""

from .csg2d import Arc, Curve, Disk, Rectangle, Segment, clip
from .mesh import MeshBody, MeshFacets, read_groups
from .meshing import EvaluationMesh, mesh_body, mid_plane, nodal_weights
from .shape import Difference, Intersection, Piece, Shape, Union
from .solids import (
    Box,
    Cylinder,
    CylinderFace,
    DiskFace,
    Face,
    PlaneFace,
    Solid,
    Sphere,
    SphereFace,
    TrimmedFace,
)

__all__ = [
    "Arc",
    "Box",
    "Curve",
    "Cylinder",
    "CylinderFace",
    "Difference",
    "Disk",
    "DiskFace",
    "EvaluationMesh",
    "Face",
    "Intersection",
    "MeshBody",
    "MeshFacets",
    "Piece",
    "PlaneFace",
    "Rectangle",
    "Segment",
    "Shape",
    "Solid",
    "Sphere",
    "SphereFace",
    "TrimmedFace",
    "Union",
    "clip",
    "mesh_body",
    "mid_plane",
    "nodal_weights",
    "read_groups",
]
