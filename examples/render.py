"""The PINN and the finite-element solution side by side, rendered by VTK (ParaView's engine)
from a run's ``fields.vtu``, as ParaView would show them.

    python examples/render.py RUN_DIR [--out side_by_side.png] [--array von_mises] [--warp 200]

Needs ``pip install vtk`` (in the test extra) and a run made with ``reference=fem``. Three
views of the same mesh: the PINN's field, the FEM's field on one colour scale, and the PINN's
distance from the FEM. ``--warp`` scales the displacement that deforms the shapes (0: none;
default: 8 % of the part's size for the largest displacement). 3D parts are seen from +z.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ARRAYS = {
    "von_mises": ("von_mises", "von_mises_fem", "von Mises stress"),
    "displacement": ("displacement", "displacement_fem", "displacement magnitude"),
}


def render(run: Path, out: Path, array: str, warp: float | None, size: tuple[int, int]) -> None:
    import vtk
    from vtk.util.numpy_support import numpy_to_vtk, vtk_to_numpy

    reader = vtk.vtkXMLUnstructuredGridReader()
    reader.SetFileName(str(run / "fields.vtu"))
    reader.Update()
    grid = reader.GetOutput()
    data = grid.GetPointData()
    pinn_name, fem_name, title = ARRAYS[array]
    if data.GetArray(fem_name) is None:
        sys.exit(f"{run / 'fields.vtu'} has no array {fem_name!r}: run with reference=fem")

    def values(name: str) -> np.ndarray:
        v = vtk_to_numpy(data.GetArray(name))
        return np.linalg.norm(v, axis=1) if v.ndim == 2 else v

    pinn, fem = values(pinn_name), values(fem_name)
    u = vtk_to_numpy(data.GetArray("displacement"))
    u_fem = vtk_to_numpy(data.GetArray("displacement_fem"))
    difference = np.linalg.norm(u - u_fem, axis=1)
    points = vtk_to_numpy(grid.GetPoints().GetData())
    if warp is None:
        largest = max(float(np.linalg.norm(u, axis=1).max()), 1e-300)
        warp = 0.08 * float(np.ptp(points, axis=0).max()) / largest
        warp = float(f"{warp:.1g}")
    views = [
        (f"PINN: {title}", pinn, u, (min(pinn.min(), fem.min()), max(pinn.max(), fem.max()))),
        (f"FEM: {title}", fem, u_fem, (min(pinn.min(), fem.min()), max(pinn.max(), fem.max()))),
        ("distance PINN - FEM (displacement)", difference, u, (0.0, float(difference.max()))),
    ]
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(*size)
    camera = None
    for i, (label, scalars, shift, (lo, hi)) in enumerate(views):
        copy = vtk.vtkUnstructuredGrid()
        copy.DeepCopy(grid)
        moved = vtk.vtkPoints()
        moved.SetData(numpy_to_vtk(np.ascontiguousarray(points + warp * shift), deep=True))
        copy.SetPoints(moved)
        field = numpy_to_vtk(np.ascontiguousarray(scalars, dtype=np.float64), deep=True)
        field.SetName("shown")
        copy.GetPointData().SetScalars(field)
        surface = vtk.vtkDataSetSurfaceFilter()
        surface.SetInputData(copy)
        surface.SetNonlinearSubdivisionLevel(2)  # second-order cells drawn curved, as ParaView does
        table = vtk.vtkLookupTable()
        table.SetHueRange(0.667, 0.0)  # blue to red, ParaView's "Rainbow Uniform"-like
        table.SetTableRange(lo, hi)
        table.Build()
        mapper = vtk.vtkDataSetMapper()
        mapper.SetInputConnection(surface.GetOutputPort())
        mapper.SetLookupTable(table)
        mapper.SetScalarRange(lo, hi)
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        renderer = vtk.vtkRenderer()
        renderer.SetViewport(i / 3, 0.0, (i + 1) / 3, 1.0)
        renderer.SetBackground(1.0, 1.0, 1.0)
        renderer.AddActor(actor)
        bar = vtk.vtkScalarBarActor()
        bar.SetLookupTable(table)
        bar.SetNumberOfLabels(3)
        bar.UnconstrainedFontSizeOn()
        bar.SetLabelFormat("%.3g")
        bar.SetOrientationToHorizontal()
        bar.SetPosition(0.1, 0.02)
        bar.SetWidth(0.8)
        bar.SetHeight(0.08)
        for text in (bar.GetLabelTextProperty(), bar.GetTitleTextProperty()):
            text.SetColor(0.1, 0.1, 0.1)
            text.SetItalic(False)
            text.SetShadow(False)
            text.SetFontSize(15)
        renderer.AddViewProp(bar)
        caption = vtk.vtkTextActor()
        caption.SetInput(label + (f"  (shape x {warp:g})" if i == 0 and warp else ""))
        caption.GetTextProperty().SetColor(0.1, 0.1, 0.1)
        caption.GetTextProperty().SetFontSize(16)
        caption.SetPosition(10, size[1] - 30)
        renderer.AddViewProp(caption)
        if camera is None:
            renderer.ResetCamera()
            camera = renderer.GetActiveCamera()
            camera.Zoom(0.92)
        else:
            renderer.SetActiveCamera(camera)
        window.AddRenderer(renderer)
    window.Render()
    image = vtk.vtkWindowToImageFilter()
    image.SetInput(window)
    image.Update()
    writer = vtk.vtkPNGWriter()
    tmp = out.with_name(out.name + ".tmp")
    writer.SetFileName(str(tmp))
    writer.SetInputConnection(image.GetOutputPort())
    writer.Write()
    tmp.replace(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder with fields.vtu (reference=fem)")
    parser.add_argument("--out", type=Path, default=None, help="PNG file (default RUN/side_by_side.png)")
    parser.add_argument("--array", choices=sorted(ARRAYS), default="von_mises")
    parser.add_argument("--warp", type=float, default=None)
    parser.add_argument("--size", type=int, nargs=2, default=(1500, 560))
    args = parser.parse_args()
    if not (args.run / "fields.vtu").is_file():
        sys.exit(f"{args.run}: no fields.vtu here (a run folder made with reference=fem)")
    out = args.out or args.run / "side_by_side.png"
    render(args.run, out, args.array, args.warp, tuple(args.size))
    print(out)


if __name__ == "__main__":
    main()
