"""Bodies from mesh files: formats, groups, measures, normals, uniform sampling, point location."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pinn_elastic.errors import ConfigError
from pinn_elastic.geometry import MeshBody, nodal_weights

MESHES = Path(__file__).parent / "fixtures" / "meshes"
VARIANTS = ("_22.msh", "_22_bin.msh", "_41.msh", "_41_bin.msh", ".vtu")
RING = ("ring_tri", "ring_tri6", "ring_quad")
BLOCK = ("block_tet", "block_tet10", "block_hex")


@pytest.mark.parametrize("stem", RING + BLOCK)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_format_and_cell_type_reads_with_its_groups(stem, variant):
    body = MeshBody(MESHES / f"{stem}{variant}")
    if stem.startswith("ring"):
        assert body.dim == 2 and set(body.boundary_names) == {"inner", "outer", "x_axis", "y_axis"}
        assert abs(body.volume / (3 * math.pi / 4) - 1) < 0.03
    else:
        assert body.dim == 3 and set(body.boundary_names) == {"xmin", "xmax", "sides"}
        assert abs(body.volume - 2.0) < 1e-12
        assert abs(body.boundary_measure("sides") - 8.0) < 1e-12
    assert body.body_group_names == ("body",)


def test_quadratic_facets_follow_the_arc():
    """Lengths and normals: second-order facets to about 1e-4, straight ones only to their
    chord and half their angle."""
    errors = {}
    for stem in ("ring_tri", "ring_tri6"):
        body = MeshBody(MESHES / f"{stem}_41.msh")
        length = body.boundary_measure("inner")
        x, n = body.sample_boundary("inner", 2000, torch.Generator().manual_seed(0), torch.float64)
        radial = -x / x.norm(dim=1, keepdim=True)  # outward from the body = towards the centre
        errors[stem] = (abs(length / (math.pi / 2) - 1), float((n - radial).norm(dim=1).max()))
        assert torch.allclose(n.norm(dim=1), torch.ones(len(n), dtype=torch.float64))
    assert errors["ring_tri6"][0] < 1e-4 and errors["ring_tri6"][1] < 5e-3, errors
    assert errors["ring_tri"][1] > 0.05 and errors["ring_tri6"][1] < errors["ring_tri"][1] / 10, errors


@pytest.mark.parametrize("stem", RING)
def test_normals_point_out_of_the_body(stem):
    body = MeshBody(MESHES / f"{stem}.vtu")
    gen = torch.Generator().manual_seed(1)
    expected = {"x_axis": (0.0, -1.0), "y_axis": (-1.0, 0.0)}
    for name, direction in expected.items():
        _, n = body.sample_boundary(name, 200, gen, torch.float64)
        assert torch.allclose(n, torch.tensor(direction, dtype=torch.float64).expand_as(n), atol=1e-12)
    x, n = body.sample_boundary("outer", 500, gen, torch.float64)
    assert float((n * x).sum(1).min()) > 0
    x, n = body.sample_boundary("inner", 500, gen, torch.float64)
    assert float((n * x).sum(1).max()) < 0  # into the hole


@pytest.mark.parametrize("stem", BLOCK)
def test_normals_of_the_block_faces(stem):
    body = MeshBody(MESHES / f"{stem}_41_bin.msh")
    gen = torch.Generator().manual_seed(2)
    _, n = body.sample_boundary("xmin", 300, gen, torch.float64)
    assert torch.allclose(n, torch.tensor([-1.0, 0, 0], dtype=torch.float64).expand_as(n), atol=1e-12)
    x, n = body.sample_boundary("sides", 600, gen, torch.float64)
    centre = torch.tensor([1.0, 0.5, 0.5], dtype=torch.float64)
    assert float(((x - centre) * n).sum(1).min()) > 0
    ones = torch.ones(len(n), dtype=torch.float64)
    assert torch.allclose(n.abs().max(1).values, ones, atol=1e-12)  # 90-degree edges stay sharp


def test_straight_facets_of_a_curve_get_interpolated_vertex_normals():
    """On the straight-sided ring, normals interpolated between averaged vertex normals are
    an order of h closer to the arc's than the facets' own (except at the arc's two ends)."""
    body = MeshBody(MESHES / "ring_tri_41.msh")
    x, n = body.sample_boundary("outer", 4000, torch.Generator().manual_seed(7), torch.float64)
    radial = x / x.norm(dim=1, keepdim=True)
    angle = torch.atan2(x[:, 1], x[:, 0])
    inner = (angle > 0.2) & (angle < math.pi / 2 - 0.2)
    smooth_error = float((n - radial)[inner].norm(dim=1).max())
    facet_half_angle = 0.3 / 2 / 2  # facet length ~0.3 on r = 2
    assert smooth_error < facet_half_angle / 4, smooth_error


def test_interior_sampling_is_uniform_over_a_non_uniform_mesh():
    """The ring's cells differ in size; the fraction of points inside r < 1.5 is the area ratio."""
    body = MeshBody(MESHES / "ring_tri_22.msh")
    x = body.sample_interior(40000, torch.Generator().manual_seed(3), torch.float64)
    weights = np.asarray(body.measures)
    assert weights.max() / weights.min() > 2  # really non-uniform
    r = x.norm(dim=1)
    # exact fraction on the polygonal body: count it with a fine quadrature of the cells
    fine = body.sample_interior(400000, torch.Generator().manual_seed(4), torch.float64)
    reference = float((fine.norm(dim=1) < 1.5).double().mean())
    p = float((r < 1.5).double().mean())
    assert abs(p - reference) < 4 * math.sqrt(reference * (1 - reference) / len(x))
    assert abs(reference - (1.5**2 - 1) / 3) < 0.02  # and close to the true ring's ratio


def test_box_sampling_has_the_right_moments():
    body = MeshBody(MESHES / "block_tet.vtu")
    x = body.sample_interior(40000, torch.Generator().manual_seed(5), torch.float64)
    mean, var = x.mean(0), x.var(0)
    assert torch.allclose(mean, torch.tensor([1.0, 0.5, 0.5], dtype=torch.float64), atol=0.02)
    assert torch.allclose(var, torch.tensor([4 / 12, 1 / 12, 1 / 12], dtype=torch.float64), rtol=0.05)


def test_point_location():
    body = MeshBody(MESHES / "ring_tri6_41.msh")
    inside = body.sample_interior(500, torch.Generator().manual_seed(6), torch.float64)
    assert bool(body.contains(inside).all())
    outside = torch.tensor([[0.5, 0.5], [2.5, 0.1], [-0.1, 1.5], [1.5, -0.01]], dtype=torch.float64)
    assert not bool(body.contains(outside).any())


def test_flat_groups_have_a_distance_and_curved_ones_do_not():
    ring = MeshBody(MESHES / "ring_tri_41.msh")
    (axis,) = ring.pieces_named("x_axis")
    (arc,) = ring.pieces_named("inner")
    assert axis.smooth_distance and not arc.smooth_distance
    x = torch.tensor([[1.5, 0.3], [1.2, 0.9]], dtype=torch.float64)
    assert torch.allclose(axis.distance(x), x[:, 1])
    block = MeshBody(MESHES / "block_hex.vtu")
    assert block.pieces_named("xmax")[0].smooth_distance
    sides = block.pieces_named("sides")  # four flat faces: one exact piece each
    assert len(sides) == 4 and all(p.smooth_distance for p in sides)
    assert abs(sum(p.measure for p in sides) - 8.0) < 1e-12
    x = torch.tensor([[0.5, 0.5, 0.5]], dtype=torch.float64)
    assert torch.allclose(block.pieces_named("xmax")[0].distance(x), torch.tensor([1.5], dtype=torch.float64))


@pytest.mark.parametrize("stem", RING + BLOCK)
def test_evaluation_mesh_is_the_users_mesh(stem):
    body = MeshBody(MESHES / f"{stem}.vtu")
    mesh = body.mesh(161)
    assert mesh.source_cells is not None and mesh.source_cells[0][0] == body.cells[0][0]
    assert abs(nodal_weights(mesh).sum() - body.volume) < 1e-12 * body.volume


def test_bad_mesh_files_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        MeshBody(tmp_path / "missing.msh")
    junk = tmp_path / "junk.msh"
    junk.write_text("this is not a mesh\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        MeshBody(junk)
