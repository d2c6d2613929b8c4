"""Curved boundaries and CSG: holes, arcs, normals, uniform sampling, the export mesh."""

import math

import numpy as np
import pytest
import torch

from pinn_elastic.geometry import Arc, Disk, Rectangle

f64 = torch.float64
GEN = torch.Generator


def plate(side=1.0, radius=0.25):
    return Rectangle((0.0, 0.0), (side, side)) - Disk((0.0, 0.0), radius, name="hole")


def test_plate_with_hole_has_named_clipped_pieces():
    shape = plate()
    assert shape.boundary_names == ("bottom", "right", "top", "left", "hole")
    assert shape.boundary_measure("bottom") == pytest.approx(0.75)
    assert shape.boundary_measure("left") == pytest.approx(0.75)
    assert shape.boundary_measure("hole") == pytest.approx(math.pi / 2 * 0.25)
    (arc,) = shape.pieces_named("hole")
    assert isinstance(arc, Arc) and not arc.body_inside


def test_hole_normals_are_unit_and_point_toward_the_centre():
    x, n = plate().sample_boundary("hole", 200, GEN().manual_seed(0), f64)
    assert torch.allclose(x.norm(dim=1), torch.full((200,), 0.25, dtype=f64))
    assert torch.allclose(n.norm(dim=1), torch.ones(200, dtype=f64))
    assert torch.allclose(n, -x / x.norm(dim=1, keepdim=True))  # outward from the body = into the hole
    assert (x[:, 0] > 0).all() and (x[:, 1] > 0).all()


def test_interior_samples_avoid_the_hole_and_are_uniform():
    shape = plate()
    x = shape.sample_interior(60000, GEN().manual_seed(0), f64)
    assert shape.contains(x).all() and (x.norm(dim=1) > 0.25).all()
    # Two regions of equal area: [0.5, 1] x [0, 0.5] and [0.5, 1] x [0.5, 1].
    area = 1 - math.pi * 0.25**2 / 4
    for region in [(x[:, 0] > 0.5) & (x[:, 1] < 0.5), (x[:, 0] > 0.5) & (x[:, 1] > 0.5)]:
        expected = 60000 * 0.25 / area
        assert abs(region.sum().item() - expected) < 4 * math.sqrt(expected)


def test_boundary_sampling_is_uniform_along_an_arc():
    x, _ = plate().sample_boundary("hole", 4000, GEN().manual_seed(0), f64)
    theta = torch.atan2(x[:, 1], x[:, 0])
    counts = torch.histc(theta, bins=4, min=0, max=math.pi / 2)
    assert (counts == 1000).all()  # stratified: exactly equal per quarter of the arc


def test_export_mesh_has_no_cell_in_the_hole_and_follows_the_arc():
    shape = plate()
    mesh = shape.mesh(81)
    points, triangles = mesh.points, mesh.cells
    r = np.linalg.norm(points, axis=1)
    assert r.min() >= 0.25 - 1e-12
    assert np.linalg.norm(points[triangles].mean(1), axis=1).min() > 0.25
    on_arc = np.isclose(r, 0.25, atol=1e-12)
    assert on_arc.sum() >= 10  # the arc is traced, at about the grid spacing
    a, b, c = (points[triangles[:, k]] for k in range(3))
    area = 0.5 * np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    exact = 1 - math.pi * 0.25**2 / 4
    assert area.sum() == pytest.approx(exact, rel=2e-3)  # polygon chords cut a sliver off the arc


def test_union_and_intersection_pieces():
    cap = Rectangle((0.0, 0.0), (2.0, 1.0)) | Disk((2.0, 0.5), 0.5, name="cap")
    assert "right" not in cap.boundary_names  # swallowed by the disk
    assert cap.boundary_measure("cap") == pytest.approx(math.pi * 0.5)
    x, n = cap.sample_boundary("cap", 100, GEN().manual_seed(0), f64)
    assert (x[:, 0] > 2.0).all() and torch.allclose(n, (x - torch.tensor([2.0, 0.5], dtype=f64)) / 0.5)

    ring = (Disk((0.0, 0.0), 2.0, name="outer") & Rectangle((0.0, 0.0), (2.0, 2.0))) - Disk(
        (0.0, 0.0), 1.0, "inner"
    )
    assert set(ring.boundary_names) == {"outer", "inner", "left", "bottom"}
    assert ring.boundary_measure("left") == pytest.approx(1.0)
    assert ring.boundary_measure("outer") == pytest.approx(math.pi)


def test_hole_in_the_middle_keeps_the_whole_circle():
    shape = Rectangle((0.0, 0.0), (2.0, 2.0)) - Disk((1.0, 1.0), 0.3, name="hole")
    assert shape.boundary_measure("hole") == pytest.approx(2 * math.pi * 0.3)
    mesh = shape.mesh(61)
    points, triangles = mesh.points, mesh.cells
    centroids = points[triangles].mean(1)
    assert (np.linalg.norm(centroids - 1.0, axis=1) > 0.3).all()
