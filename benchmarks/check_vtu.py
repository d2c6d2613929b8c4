"""Recompute the errors of a run from its ``fields.vtu`` alone, read with VTK's own reader.

    python benchmarks/check_vtu.py outputs/<date>/<time>_<case>/fields.vtu [--png out.png]

Prints JSON: relative L2 errors (area-weighted over the triangles, independently of the
program's own evaluation) and, with ``--png``, draws sigma_xx and von Mises from the file.
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
    cells = vtk_to_numpy(grid.GetCells().GetConnectivityArray()).reshape(-1, 3)
    data = grid.GetPointData()
    arrays = {data.GetArrayName(i): vtk_to_numpy(data.GetArray(i)) for i in range(data.GetNumberOfArrays())}
    return points, cells, arrays


def relative_l2(points: np.ndarray, cells: np.ndarray, error: np.ndarray, reference: np.ndarray) -> float:
    """Integrals by the midpoint-of-edges rule on each triangle (exact for quadratics)."""
    a, b, c = (points[cells[:, k], :2] for k in range(3))
    area = 0.5 * np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))

    def integral(f: np.ndarray) -> float:
        fa, fb, fc = (f[cells[:, k]] for k in range(3))
        mids = [(fa + fb) / 2, (fb + fc) / 2, (fc + fa) / 2]
        return float((area * sum((m**2).sum(-1) for m in mids) / 3).sum())

    return (integral(error) / integral(reference)) ** 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vtu")
    parser.add_argument("--png")
    args = parser.parse_args()
    points, cells, arrays = read(args.vtu)
    result = {"points": len(points), "triangles": len(cells), "arrays": sorted(arrays)}
    if "displacement_exact" in arrays:
        u, ue = arrays["displacement"][:, :2], arrays["displacement_exact"][:, :2]
        # In-plane stress tensor (XX, YY, XY counted twice), as the program reports it.
        s, se = arrays["stress"], arrays["stress_exact"]
        weights = np.array([1.0, 1.0, 0.0, 2.0**0.5, 0.0, 0.0])
        result["rel_l2_displacement"] = relative_l2(points, cells, u - ue, ue)
        result["rel_l2_stress"] = relative_l2(points, cells, (s - se) * weights, se * weights)
    if args.png:
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
