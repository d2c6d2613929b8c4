"""ParaView export: the evaluation mesh (triangles or tetrahedra) with point data, written
atomically with meshio."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np

from .atomic import atomic_path
from .evaluation import Fields
from .geometry import EvaluationMesh

# ParaView's order for symmetric tensors.
VOIGT_ORDER = ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2))


def symmetric_components(tensor: np.ndarray) -> np.ndarray:
    """``(M, 3, 3)`` -> ``(M, 6)`` in the order XX, YY, ZZ, XY, YZ, XZ."""
    return np.stack([tensor[:, i, j] for i, j in VOIGT_ORDER], 1)


def as_3d(vectors: np.ndarray) -> np.ndarray:
    """Pad 2D vectors with a zero z component (ParaView's Warp By Vector wants 3)."""
    if vectors.shape[1] == 3:
        return vectors
    return np.concatenate([vectors, np.zeros((len(vectors), 3 - vectors.shape[1]))], 1)


def point_data(pinn: Fields, exact: Fields | None) -> dict[str, np.ndarray]:
    """The arrays of ``fields.vtu``; with an exact solution also the reference and the error."""
    data = {
        "displacement": as_3d(pinn.displacement),
        "strain": symmetric_components(pinn.strain),
        "stress": symmetric_components(pinn.stress),
        "von_mises": pinn.von_mises,
    }
    if exact is not None:
        data["displacement_exact"] = as_3d(exact.displacement)
        data["stress_exact"] = symmetric_components(exact.stress)
        data["von_mises_exact"] = exact.von_mises
        data["displacement_error"] = as_3d(pinn.displacement - exact.displacement)
        data["stress_error"] = symmetric_components(pinn.stress - exact.stress)
    return data


def write_vtu(path: str | Path, mesh: EvaluationMesh, data: dict[str, np.ndarray]) -> Path:
    """Write the evaluation mesh (z = 0 for 2D) with ``data`` as point data, atomically."""
    cells = [(mesh.cell_type, mesh.cells.astype(np.int64))]
    if mesh.source_cells is not None:
        cells = [(kind, c.astype(np.int64)) for kind, c in mesh.source_cells]
    out = meshio.Mesh(as_3d(mesh.points), cells, point_data=data)
    with atomic_path(path) as tmp:
        meshio.write(tmp, out, file_format="vtu")
    return Path(path)
