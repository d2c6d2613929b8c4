"""Recompute the errors of a run from its ``fields.vtu`` alone, read with VTK's own reader.

    python benchmarks/check_vtu.py outputs/<date>/<time>_<case>/fields.vtu [--png out.png]

Prints JSON: relative L2 errors (integrated over the file's triangles or tetrahedra,
independently of the program's own evaluation) and, with ``--png`` (2D files), draws sigma_xx
and von Mises from the file.
Needs the ``vtk`` package (``pip install vtk``).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from vtk.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOXML import vtkXMLUnstructuredGridReader


def read(path: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    reader = vtkXMLUnstructuredGridReader()
    reader.SetFileName(path)
    reader.Update()
    grid = reader.GetOutput()
    points = vtk_to_numpy(grid.GetPoints().GetData())
    offsets = vtk_to_numpy(grid.GetCells().GetOffsetsArray())
    per_cell = set(np.diff(offsets).tolist())
    if len(per_cell) != 1 or per_cell - {3, 4}:
        raise SystemExit(f"{path}: expected triangles or tetrahedra only, got cells of sizes {per_cell}")
    cells = vtk_to_numpy(grid.GetCells().GetConnectivityArray()).reshape(-1, per_cell.pop())
    data = grid.GetPointData()
    arrays = {data.GetArrayName(i): vtk_to_numpy(data.GetArray(i)) for i in range(data.GetNumberOfArrays())}
    return points, cells, arrays


def relative_l2(points: np.ndarray, cells: np.ndarray, error: np.ndarray, reference: np.ndarray) -> float:
    """Integrals of the squared linear interpolant on each simplex, exactly:
    ``int (sum f_i l_i)^2 = |K| (sum f_i^2 + (sum f_i)^2) / ((d + 1)(d + 2))``."""
    d = cells.shape[1] - 1
    corners = points[cells][:, :, :d]
    size = np.abs(np.linalg.det(corners[:, 1:] - corners[:, :1])) / (1 if d == 1 else 2 if d == 2 else 6)

    def integral(f: np.ndarray) -> float:
        values = f[cells]  # (K, d + 1, components)
        squares = (values**2).sum(1) + values.sum(1) ** 2
        return float((size * squares.sum(-1)).sum() / ((d + 1) * (d + 2)))

    return (integral(error) / integral(reference)) ** 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vtu")
    parser.add_argument("--png")
    args = parser.parse_args()
    points, cells, arrays = read(args.vtu)
    dim = cells.shape[1] - 1
    kind = "triangles" if dim == 2 else "tetrahedra"
    result = {"points": len(points), kind: len(cells), "arrays": sorted(arrays)}
    if "displacement_exact" in arrays:
        u, ue = arrays["displacement"][:, :dim], arrays["displacement_exact"][:, :dim]
        # The stress tensor as the program reports it (in-plane in 2D), Frobenius norm:
        # components XX, YY, ZZ, XY, YZ, XZ, the shear ones counted twice.
        s, se = arrays["stress"], arrays["stress_exact"]
        r2 = 2.0**0.5
        weights = np.array([1.0, 1.0, 0.0, r2, 0.0, 0.0] if dim == 2 else [1.0, 1.0, 1.0, r2, r2, r2])
        result["rel_l2_displacement"] = relative_l2(points, cells, u - ue, ue)
        result["rel_l2_stress"] = relative_l2(points, cells, (s - se) * weights, se * weights)
    if args.png and dim == 2:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        for ax, (title, values) in zip(
            axes, [("stress XX", arrays["stress"][:, 0]), ("von_mises", arrays["von_mises"].ravel())]
        ):
            plot = ax.tripcolor(points[:, 0], points[:, 1], cells, values, shading="gouraud", cmap="turbo")
            fig.colorbar(plot, ax=ax)
            ax.set_title(f"{title} (from fields.vtu, VTK reader)")
            ax.set_aspect("equal")
        fig.savefig(args.png, dpi=110, bbox_inches="tight")
        result["png"] = args.png
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
