r"""A finite-element cross-check: the same problem with quadratic elements (scikit-fem).

Any :class:`~pinn_elastic.problem.Problem` (body, material, body force, conditions, units) is
solved with vector quadratic Lagrange elements: the stiffness
:math:`\int \varepsilon(v):C:\varepsilon(u)`, the load :math:`\int f\cdot v + \int_{\Gamma_t} t\cdot v`,
Dirichlet values interpolated at the nodes of the displacement boundaries (per component).

* **A body from a mesh file** is solved on the user's own cells: P2 on triangles and
  tetrahedra, isoparametric on ``triangle6`` and ``tetra10`` (the cells follow the curved
  facets), Q2 on quadrilaterals and hexahedra. The named facet groups are the boundaries.
* **A built-in 2D body** is solved on the evaluation mesh's triangles, with the midpoints of
  boundary edges moved onto the body's pieces (isoparametric boundary cells); each boundary
  facet belongs to the named piece whose carrier is closest to its midpoint.

The results are the displacement at the mesh's nodes and the stress there, the element
gradients averaged over the cells around each node.

scikit-fem is an optional extra: ``pip install -e ".[fem]"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..geometry.mesh import CORNERS, MeshBody
from ..geometry.meshing import EvaluationMesh
from ..problem import Displacement, Problem, components_of


@dataclass(frozen=True)
class FemSolution:
    displacement: np.ndarray  # (M, d) at the mesh nodes
    gradient: np.ndarray  # (M, d, d), node averages of the element gradients
    dofs: int
    seconds: float


def _skfem():
    try:
        import skfem

        logging.getLogger("skfem").setLevel(logging.WARNING)  # its per-assembly INFO lines
    except ImportError:
        raise ConfigError(
            "reference", "fem", 'needs scikit-fem: pip install -e ".[fem]" (or pip install scikit-fem)'
        ) from None
    return skfem


def _torch_call(function, *arrays: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return function(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)).numpy()


def _owners(problem: Problem, corners: np.ndarray) -> np.ndarray:
    """Index of the piece each boundary facet lies on (``corners (d, k, F)``), or -1: the piece
    whose carrier passes nearest the facet's midpoint (within a tenth of the facet's size), or,
    for a curved group of a mesh body, the group that holds all the facet's corner nodes."""
    from scipy.spatial import cKDTree

    mid = torch.from_numpy(np.ascontiguousarray(corners.mean(axis=1).T))
    size = np.linalg.norm(corners[:, 1] - corners[:, 0], axis=0)
    gaps = []
    for piece in problem.geometry.pieces:
        if piece.exact_projection:
            gaps.append(np.abs(piece.distance(mid).numpy()))
            continue
        tree = cKDTree(piece.reference_points().numpy())
        on = np.ones(corners.shape[2], dtype=bool)
        for k in range(corners.shape[1]):
            on &= tree.query(corners[:, k].T)[0] < 1e-9 * max(float(size.max()), 1.0)
        gaps.append(np.where(on, 0.0, np.inf))
    gaps = np.stack(gaps)
    return np.where(gaps.min(0) < 0.1 * size, gaps.argmin(0), -1)


def boundary_facets(problem: Problem, mesh, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Boundary facets of the skfem ``mesh`` by the name of the nearest piece's carrier. A facet
    farther than a tenth of its size from every carrier (one that cuts across an edge of the
    body, where the evaluation mesh has a notch) belongs to none: it stays traction-free."""
    facets = mesh.boundary_facets()
    nearest = _owners(problem, mesh.p[:, mesh.facets[:, facets]])
    pieces = problem.geometry.pieces
    return {n: facets[np.isin(nearest, [i for i, p in enumerate(pieces) if p.name == n])] for n in names}


def check_available(problem: Problem) -> None:
    """Fail before any work where the cross-check cannot run: scikit-fem missing, or a built-in
    3D body (its evaluation mesh is not yet a conforming finite-element mesh)."""
    _skfem()
    if problem.dim != 2 and not isinstance(problem.geometry, MeshBody):
        raise ConfigError(
            "reference",
            "fem",
            "runs on 2D bodies and on bodies from a mesh file; built-in 3D bodies: not yet",
        )


def _curved_triangles(skfem, problem: Problem, points: np.ndarray, cells: np.ndarray):
    """Quadratic (isoparametric) triangles whose boundary edges' midpoints lie on the body's
    pieces (projected onto the carrier line or circle), so a hole is not a polygon."""
    straight = skfem.MeshTri(points, cells)
    doflocs = np.array(skfem.Basis(straight, skfem.ElementTriP2()).doflocs)
    facets = straight.boundary_facets()
    mid = torch.from_numpy(np.ascontiguousarray(doflocs[:, straight.nvertices + facets].T))
    nearest = _owners(problem, straight.p[:, straight.facets[:, facets]])
    for i, piece in enumerate(problem.geometry.pieces):
        if not piece.exact_projection:
            continue
        chosen = nearest == i
        if chosen.any():
            projected = piece.project(mid[chosen]).numpy().T
            doflocs[:, straight.nvertices + facets[chosen]] = projected
    return skfem.MeshTri2(doflocs, cells)


# scikit-fem's mesh and element for each of the user's cell types; the hexahedron's corners
# in scikit-fem's reference order (its vertex j is meshio's/VTK's corner HEX_CORNERS[j])
SOURCE_TYPES = {
    "triangle": ("MeshTri1", "ElementTriP2"),
    "triangle6": ("MeshTri2", "ElementTriP2"),
    "quad": ("MeshQuad1", "ElementQuad2"),
    "tetra": ("MeshTet1", "ElementTetP2"),
    "tetra10": ("MeshTet2", "ElementTetP2"),
    "hexahedron": ("MeshHex1", "ElementHex2"),
}
HEX_CORNERS = [6, 2, 5, 7, 1, 3, 4, 0]
# meshio's edge order of the second-order simplices' extra nodes (by node count)
EDGE_NODES = {6: [(0, 1), (1, 2), (2, 0)], 10: [(0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3)]}


@dataclass
class _Discretisation:
    """A scikit-fem mesh and element, the boundary facets by name, and where each of the
    evaluation mesh's nodes is read: cell ``cell[i]`` at reference point ``reference[:, at[i]]``."""

    mesh: object
    element: object
    facets: dict[str, np.ndarray]
    reference: np.ndarray
    cell: np.ndarray
    at: np.ndarray


def _node_readout(fe_mesh, cells: np.ndarray, vertex_of: np.ndarray, corners: int):
    """For cells given by the evaluation mesh's node indices (corners first, then, for
    second-order simplices, one node per edge in meshio's order), the reference point of every
    local node in scikit-fem's frame: the corners of its reference cell and the midpoints of
    pairs of corners. Returns ``(reference (d, R), cell (K*n,), at (K*n,))``, node by node of
    ``cells.ravel()``."""
    ref = np.asarray(fe_mesh.elem.refdom.p, dtype=np.float64)
    second_order = cells.shape[1] > corners
    pairs = [(a, b) for a in range(corners) for b in range(a + 1, corners)] if second_order else []
    reference = np.concatenate([ref, *[(ref[:, [a]] + ref[:, [b]]) / 2 for a, b in pairs]], 1)
    t = np.asarray(fe_mesh.t)  # (corners, K) scikit-fem vertex indices
    # local corner c of the user's cell sits at scikit-fem row row[:, c]
    row = np.stack([np.argmax(t == vertex_of[cells[:, c]][None, :], axis=0) for c in range(corners)], 1)
    at = [row[:, c] for c in range(corners)]
    midpoint = -np.ones((corners, corners), dtype=np.int64)  # reference column of pair (a, b)
    for i, (a, b) in enumerate(pairs):
        midpoint[a, b] = midpoint[b, a] = corners + i
    at += [midpoint[row[:, a], row[:, b]] for a, b in EDGE_NODES.get(cells.shape[1], [])]
    cell = np.repeat(np.arange(len(cells))[:, None], cells.shape[1], 1)
    return reference, cell.ravel(), np.stack(at, 1).ravel()


def _from_source(skfem, problem: Problem, mesh: EvaluationMesh) -> _Discretisation:
    """The user's own cells (one cell type) with the mesh's facet groups as boundaries."""
    from scipy.spatial import cKDTree

    ((kind, cells),) = mesh.source_cells
    mesh_name, element_name = SOURCE_TYPES[kind]
    corners = CORNERS[kind]
    points = np.ascontiguousarray(mesh.points.T)
    t = cells.T if kind != "hexahedron" else cells[:, HEX_CORNERS].T
    fe_mesh = getattr(skfem, mesh_name)(points, np.ascontiguousarray(t))
    if cells.shape[1] > corners:  # scikit-fem renumbered the vertices: the used corners, sorted
        used = np.unique(cells[:, :corners])
        vertex_of = -np.ones(len(mesh.points), dtype=np.int64)
        vertex_of[used] = np.arange(len(used))
    else:
        vertex_of = np.arange(len(mesh.points))
    reference, cell, at = _node_readout(fe_mesh, cells, vertex_of, corners)
    # boundary facets: the groups' facets, by their corner nodes
    lookup = {frozenset(f): i for i, f in enumerate(np.asarray(fe_mesh.facets).T.tolist())}
    tree = cKDTree(mesh.points)
    scale = float(np.ptp(mesh.points, axis=0).max())
    facets: dict[str, list[int]] = {name: [] for name in problem.geometry.boundary_names}
    for piece in problem.geometry.pieces:
        for facet_kind, facet_nodes, _ in piece.blocks:
            at_corners = piece.points[facet_nodes[:, : CORNERS[facet_kind]]].numpy()
            gap, nearest = tree.query(at_corners.reshape(-1, mesh.dim))
            if gap.max() > 1e-9 * scale:
                why = f"boundary {piece.name!r} has nodes off the body's cells"
                raise ConfigError("reference", "fem", why)
            vertices = vertex_of[nearest].reshape(at_corners.shape[:2])
            facets[piece.name] += [lookup[frozenset(v)] for v in vertices.tolist()]
    chosen = {n: np.unique(np.asarray(f, dtype=np.int64)) for n, f in facets.items()}
    return _Discretisation(fe_mesh, getattr(skfem, element_name)(), chosen, reference, cell, at)


def _on_evaluation_mesh(skfem, problem: Problem, mesh: EvaluationMesh) -> _Discretisation:
    """The evaluation mesh's simplices (curved boundary cells in 2D), boundaries by carrier."""
    points = np.ascontiguousarray(mesh.points.T)
    cells = np.ascontiguousarray(mesh.cells.T)
    if problem.dim == 2:
        fe_mesh, element = _curved_triangles(skfem, problem, points, cells), skfem.ElementTriP2()
    else:
        fe_mesh, element = skfem.MeshTet(points, cells), skfem.ElementTetP2()
    vertex_of = np.arange(len(mesh.points))
    reference, cell, at = _node_readout(fe_mesh, mesh.cells, vertex_of, problem.dim + 1)
    facets = boundary_facets(problem, fe_mesh, problem.geometry.boundary_names)
    return _Discretisation(fe_mesh, element, facets, reference, cell, at)


def solve_fem(problem: Problem, mesh: EvaluationMesh, modulus=None) -> FemSolution:
    """Quadratic finite-element solution of ``problem`` at the nodes of ``mesh``. ``modulus``
    (optional) scales the material point-wise: a callable of physical points ``(N, d) -> (N,)``
    giving ``E(x) / E`` (Poisson's ratio unchanged), evaluated at the quadrature points."""
    import time

    skfem = _skfem()
    from skfem.helpers import ddot, dot, sym_grad, trace

    start = time.perf_counter()
    dim = problem.dim
    own_cells = mesh.source_cells is not None and len(mesh.source_cells) == 1
    if own_cells and mesh.source_cells[0][0] in SOURCE_TYPES:
        setup = _from_source(skfem, problem, mesh)
        nodes = mesh.source_cells[0][1]
    else:
        setup = _on_evaluation_mesh(skfem, problem, mesh)
        nodes = mesh.cells
    fe_mesh = setup.mesh
    vector = skfem.ElementVector(setup.element)
    basis = skfem.Basis(fe_mesh, vector, intorder=4)
    lam, mu = problem.material.lame(dim)

    @skfem.BilinearForm
    def stiffness(u, v, w):
        eu, ev = sym_grad(u), sym_grad(v)
        density = lam * trace(eu) * trace(ev) + 2 * mu * ddot(eu, ev)
        if modulus is None:
            return density
        x = w.x.reshape(dim, -1).T
        return _torch_call(modulus, x).reshape(w.x.shape[1:]) * density

    K = stiffness.assemble(basis)
    f = np.zeros(basis.N)
    if problem.body_force is not None:

        @skfem.LinearForm
        def body(v, w):
            x = w.x.reshape(dim, -1).T
            values = _torch_call(problem.body_force, x).T.reshape(w.x.shape)
            return dot(values, v)

        f += body.assemble(basis)
    fixed, values = [], np.zeros(basis.N)
    for condition in problem.all_conditions:
        chosen = setup.facets[condition.boundary]
        if len(chosen) == 0:
            continue
        comps = components_of(condition, dim)
        if isinstance(condition, Displacement):
            dofs = basis.get_dofs(chosen)
            for c in comps:
                index = dofs.all(f"u^{c + 1}")
                data = _torch_call(condition.evaluate, basis.doflocs[:, index].T)
                values[index] = data[:, c]
                fixed.append(index)
            continue
        facet_basis = skfem.FacetBasis(fe_mesh, vector, facets=chosen, intorder=4)

        @skfem.LinearForm
        def load(v, w, condition=condition, comps=comps):
            x = w.x.reshape(dim, -1).T
            n = w.n.reshape(dim, -1).T
            t = _torch_call(condition.evaluate, x, n)
            mask = np.zeros(dim)
            mask[list(comps)] = 1.0
            t = (t * mask).T.reshape(w.x.shape)
            return dot(t, v)

        f += load.assemble(facet_basis)
    D = np.unique(np.concatenate(fixed)) if fixed else np.array([], dtype=np.int64)
    u = skfem.solve(*skfem.condense(K, f, x=values, D=D))
    # value and gradient at every local node of every cell, averaged at each node
    readout = skfem.Basis(fe_mesh, vector, quadrature=(setup.reference, np.ones(setup.reference.shape[1])))
    field = readout.interpolate(u)
    value = np.asarray(field)[:, setup.cell, setup.at].T  # (K*n, d)
    grad = np.moveaxis(np.asarray(field.grad)[:, :, setup.cell, setup.at], -1, 0)  # (K*n, d, d)
    node = nodes.ravel()
    counts = np.bincount(node, minlength=len(mesh.points)).astype(np.float64)
    displacement = np.zeros((len(mesh.points), dim))
    gradient = np.zeros((len(mesh.points), dim, dim))
    np.add.at(displacement, node, value)
    np.add.at(gradient, node, grad)
    displacement /= counts[:, None]
    gradient /= counts[:, None, None]
    return FemSolution(displacement, gradient, basis.N, time.perf_counter() - start)
