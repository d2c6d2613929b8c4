"""Sampling, normals and the export mesh."""

import numpy as np
import pytest
import torch

from pinn_elastic.geometry import Rectangle

f64 = torch.float64


def test_interior_points_inside_and_uniform():
    rect = Rectangle((0.0, -0.5), (4.0, 0.5))
    x = rect.sample_interior(40000, torch.Generator().manual_seed(0), f64)
    assert rect.contains(x).all()
    # Counts per quarter of the box are equal within 4 standard deviations.
    left = (x[:, 0] < 2.0).sum().item()
    lower = (x[:, 1] < 0.0).sum().item()
    for count in (left, lower):
        assert abs(count - 20000) < 4 * np.sqrt(40000 * 0.25)


def test_sampling_is_seeded_not_global():
    rect = Rectangle((0.0, 0.0), (1.0, 1.0))
    a = rect.sample_interior(10, torch.Generator().manual_seed(5), f64)
    torch.manual_seed(123)
    b = rect.sample_interior(10, torch.Generator().manual_seed(5), f64)
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    "name,normal", [("left", (-1, 0)), ("right", (1, 0)), ("top", (0, 1)), ("bottom", (0, -1))]
)
def test_boundary_points_on_edge_with_outward_unit_normals(name, normal):
    rect = Rectangle((0.0, -0.5), (4.0, 0.5))
    x, n = rect.sample_boundary(name, 100, torch.Generator().manual_seed(0), f64)
    assert torch.allclose(n, torch.tensor(normal, dtype=f64).expand(100, 2))
    assert torch.allclose(n.norm(dim=1), torch.ones(100, dtype=f64))
    # A step inward along -n enters the body; a step outward leaves it.
    assert rect.contains(x - 1e-6 * n).all() and not rect.contains(x + 1e-6 * n).any()
    # Corners (undefined normal) are never sampled.
    corners = torch.tensor([[0.0, -0.5], [4.0, -0.5], [4.0, 0.5], [0.0, 0.5]], dtype=f64)
    assert torch.cdist(x, corners).min() > 0


def test_mesh_covers_the_body():
    rect = Rectangle((0.0, -0.5), (4.0, 0.5))
    mesh = rect.mesh(81)
    points, triangles = mesh.points, mesh.cells
    a, b, c = (points[triangles[:, k]] for k in range(3))
    area = 0.5 * np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    assert area.sum() == pytest.approx(4.0, rel=1e-9)
    assert area.min() > 0
    assert np.isclose(points[:, 0], 4.0).any() and np.isclose(points[:, 1], -0.5).any()


def test_rectangle_edges_can_be_renamed_for_combined_bodies():
    notch = Rectangle((1.0, 1.0), (3.0, 3.0), names=("nb", "nr", "nt", "nl"))
    body = Rectangle((0.0, 0.0), (2.0, 2.0)) - notch
    assert body.boundary_names == ("bottom", "right", "top", "left", "nb", "nl")
    (face,) = body.pieces_named("nb")  # the notch's bottom, y = 1, 1 < x < 2: normal points up
    assert face.normal == pytest.approx((0.0, 1.0))
    with pytest.raises(ValueError, match="4 edge names"):
        Rectangle((0.0, 0.0), (1.0, 1.0), names=("a", "b"))
