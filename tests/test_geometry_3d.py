"""3D bodies: face names and areas, uniform sampling, outward normals, CSG, evaluation meshes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinn_elastic.geometry import Box, Cylinder, Rectangle, Sphere, nodal_weights
from pinn_elastic.geometry.meshing import cell_measures

f64 = torch.float64


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def hollow_octant(a: float = 0.5, b: float = 1.0):
    names = ("sym_x", "far_x", "sym_y", "far_y", "sym_z", "far_z")
    return (Sphere((0, 0, 0), b, "outer") & Box((0, 0, 0), (b, b, b), names)) - Sphere((0, 0, 0), a, "inner")


def plate_with_bore():
    return Box((0, 0, 0), (2, 1, 0.5)) - Cylinder((1, 0.5, -1), (1, 0.5, 1), 0.25, ("bore", "s", "e"))


BODIES = {
    "box": lambda: Box((-1, 0, 2), (1, 0.5, 3)),
    "sphere": lambda: Sphere((0.5, -1, 0), 0.7),
    "cylinder_z": lambda: Cylinder((0, 0, 0), (0, 0, 2), 0.5),
    "cylinder_oblique": lambda: Cylinder((0, 0, 0), (1, 1, 1), 0.3),
    "plate_with_bore": plate_with_bore,
    "hollow_octant": hollow_octant,
    "union": lambda: Box((0, 0, 0), (1, 1, 1)) | Sphere((1, 1, 1), 0.5, "ball"),
}


def test_box_faces_are_named_and_measured():
    box = Box((0, 0, 0), (3, 2, 1))
    assert box.boundary_names == ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")
    areas = {n: box.boundary_measure(n) for n in box.boundary_names}
    assert areas == pytest.approx({"xmin": 2, "xmax": 2, "ymin": 3, "ymax": 3, "zmin": 6, "zmax": 6})
    x, n = box.sample_boundary("xmax", 50, _generator(), f64)
    assert torch.allclose(x[:, 0], torch.full((50,), 3.0, dtype=f64))
    assert torch.allclose(n, torch.tensor([1.0, 0, 0], dtype=f64).expand(50, 3))


@pytest.mark.parametrize("name", sorted(BODIES))
def test_normals_are_unit_and_outward_on_every_face(name):
    body = BODIES[name]()
    assert body.dim == 3
    for face in body.boundary_names:
        x, n = body.sample_boundary(face, 400, _generator(), f64)
        assert torch.allclose(n.norm(dim=1), torch.ones(len(n), dtype=f64), atol=1e-12)
        eps = 1e-6
        # a point of a face is on the boundary: a small step along n leaves the body, one
        # against it enters (except within eps of an edge, which uniform sampling never hits)
        assert not bool(body.contains(x + eps * n).any()), face
        assert bool(body.contains(x - eps * n).all()), face


def test_csg_faces_of_a_hollow_sphere_octant():
    a, b = 0.5, 1.0
    body = hollow_octant(a, b)
    assert set(body.boundary_names) == {"outer", "inner", "sym_x", "sym_y", "sym_z"}
    assert body.boundary_measure("outer") == pytest.approx(4 * math.pi * b**2 / 8, rel=0.01)
    assert body.boundary_measure("inner") == pytest.approx(4 * math.pi * a**2 / 8, rel=0.01)
    assert body.boundary_measure("sym_z") == pytest.approx(math.pi * (b**2 - a**2) / 4, rel=0.01)
    x, n = body.sample_boundary("inner", 200, _generator(), f64)
    assert torch.allclose(x.norm(dim=1), torch.full((200,), a, dtype=f64))
    assert torch.allclose(n, -x / a)  # into the cavity
    assert bool((x >= 0).all())


def test_bore_normals_point_into_the_hole_and_its_caps_are_gone():
    body = plate_with_bore()
    assert "s" not in body.boundary_names and "e" not in body.boundary_names
    assert body.boundary_measure("bore") == pytest.approx(2 * math.pi * 0.25 * 0.5, rel=0.01)
    assert body.boundary_measure("zmax") == pytest.approx(2 - math.pi * 0.25**2, rel=0.01)
    x, n = body.sample_boundary("bore", 200, _generator(), f64)
    radial = x[:, :2] - torch.tensor([1.0, 0.5], dtype=f64)
    assert torch.allclose(n[:, :2], -radial / 0.25) and torch.allclose(n[:, 2], torch.zeros(200, dtype=f64))


def test_interior_sampling_is_uniform():
    """Counts in the eight octants of a box are multinomial with equal cells (chi-square, 7 dof)."""
    box = Box((0, 0, 0), (2, 1, 1))
    x = box.sample_interior(16000, _generator(3), f64)
    assert bool(box.contains(x).all())
    cell = (x[:, 0] > 1).long() * 4 + (x[:, 1] > 0.5).long() * 2 + (x[:, 2] > 0.5).long()
    counts = torch.bincount(cell, minlength=8).double()
    chi2 = float(((counts - 2000) ** 2 / 2000).sum())
    assert chi2 < 24.3  # the 0.999 quantile of chi-square with 7 degrees of freedom


def test_boundary_sampling_is_uniform_in_area_on_a_sphere():
    """Mean of the outward normal over a uniformly sampled sphere vanishes (to 4 sigma)."""
    sphere = Sphere((0, 0, 0), 2.0)
    _, n = sphere.sample_boundary("sphere", 20000, _generator(4), f64)
    assert float(n.mean(0).abs().max()) < 4 * math.sqrt(1 / 3 / 20000)
    # and by area over a cylinder's faces: side : ends = 2 pi r L : 2 pi r^2
    cyl = Cylinder((0, 0, 0), (0, 0, 3), 1.0)
    assert cyl.boundary_measure("side") == pytest.approx(6 * math.pi)
    assert cyl.boundary_measure("start") == pytest.approx(math.pi)


def test_mesh_of_a_box_integrates_volume_and_a_linear_field_exactly():
    box = Box((0, 0, 0), (2, 1, 0.5))
    mesh = box.mesh(21)
    assert mesh.cell_type == "tetra" and mesh.cells.shape[1] == 4
    weights = nodal_weights(mesh)
    assert weights.sum() == pytest.approx(1.0, rel=1e-9)
    f = 1 + mesh.points[:, 0] + 2 * mesh.points[:, 2]
    assert (weights * f).sum() == pytest.approx(1.0 * (1 + 1 + 0.5), rel=1e-9)


def test_mesh_of_a_curved_body_follows_its_faces():
    body = hollow_octant()
    mesh = body.mesh(31)
    volume = 4 / 3 * math.pi * (1 - 0.5**3) / 8
    measures = cell_measures(mesh.points, mesh.cells)
    assert measures.sum() == pytest.approx(volume, rel=0.02)
    r = np.linalg.norm(mesh.points, axis=1)
    assert r.min() > 0.5 - 1e-9 and r.max() < 1 + 1e-9
    # mean of r^2 over the shell: 3/5 (b^5 - a^5) / (b^3 - a^3)
    mean = (nodal_weights(mesh) * r**2).sum() / nodal_weights(mesh).sum()
    assert mean == pytest.approx(0.6 * (1 - 0.5**5) / (1 - 0.5**3), rel=0.02)


def test_bodies_of_different_dimensions_do_not_combine():
    with pytest.raises(ValueError, match="2D body with a 3D body"):
        Rectangle((0, 0), (1, 1)) - Sphere((0, 0, 0), 0.5)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Box((0, 0, 0), (1, 0, 1)), "lower < upper"),
        (lambda: Box((0, 0), (1, 1)), "3 coordinates"),
        (lambda: Sphere((0, 0, 0), -1), "radius > 0"),
        (lambda: Cylinder((0, 0, 0), (0, 0, 0), 1), "start != end"),
    ],
)
def test_bad_primitives_are_refused_with_one_line(make, message):
    with pytest.raises(ValueError, match=message):
        make()
