r"""A finite-element cross-check: the same problem with quadratic elements (scikit-fem).

Any :class:`~pinn_elastic.problem.Problem` (body, material, body force, conditions, units) is
solved with vector P2 Lagrange elements on a simplex mesh with the evaluation mesh's corner nodes
(triangles or tetrahedra): the stiffness :math:`\int \varepsilon(v):C:\varepsilon(u)`, the load
:math:`\int f\cdot v + \int_{\Gamma_t} t\cdot v`, Dirichlet values interpolated at the P2 nodes of
the displacement boundaries (per component). Each boundary facet belongs to the named piece whose
carrier is closest to its midpoint. The results are the displacement at the mesh's nodes and the
stress there, the element gradients averaged over the cells around each node.

scikit-fem is an optional extra: ``pip install -e ".[fem]"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
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
    """Fail before any work where the cross-check cannot run: scikit-fem missing, or a 3D body
    (its evaluation mesh is not yet a conforming finite-element mesh)."""
    _skfem()
    if problem.dim != 2:
        raise ConfigError("reference", "fem", "is 2D only for now (3D bodies: not yet)")


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


def solve_fem(problem: Problem, mesh: EvaluationMesh) -> FemSolution:
    """P2 solution of ``problem`` on the corner nodes and simplices of ``mesh``."""
    import time

    skfem = _skfem()
    from skfem.helpers import ddot, dot, sym_grad, trace

    start = time.perf_counter()
    dim = problem.dim
    points = np.ascontiguousarray(mesh.points.T)
    cells = np.ascontiguousarray(mesh.cells.T)
    if dim == 2:
        fe_mesh, element = _curved_triangles(skfem, problem, points, cells), skfem.ElementTriP2()
    else:
        fe_mesh, element = skfem.MeshTet(points, cells), skfem.ElementTetP2()
    vector = skfem.ElementVector(element)
    basis = skfem.Basis(fe_mesh, vector, intorder=4)
    lam, mu = problem.material.lame(dim)

    @skfem.BilinearForm
    def stiffness(u, v, w):
        eu, ev = sym_grad(u), sym_grad(v)
        return lam * trace(eu) * trace(ev) + 2 * mu * ddot(eu, ev)

    K = stiffness.assemble(basis)
    f = np.zeros(basis.N)
    if problem.body_force is not None:

        @skfem.LinearForm
        def body(v, w):
            x = w.x.reshape(dim, -1).T
            values = _torch_call(problem.body_force, x).T.reshape(w.x.shape)
            return dot(values, v)

        f += body.assemble(basis)
    names = problem.geometry.boundary_names
    facets = boundary_facets(problem, fe_mesh, names)
    fixed, values = [], np.zeros(basis.N)
    for condition in problem.all_conditions:
        chosen = facets[condition.boundary]
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
    # displacement at the vertices: the nodal DOFs
    nodal = basis.nodal_dofs  # (dim, vertices)
    displacement = np.stack([u[nodal[c]] for c in range(dim)], -1)
    # gradients: element values at the vertices, averaged over the cells around each vertex
    gradient = np.zeros((fe_mesh.nvertices, dim, dim))
    counts = np.zeros(fe_mesh.nvertices)
    reference = np.concatenate([np.zeros((dim, 1)), np.eye(dim)], 1)  # the corners of the reference simplex
    at_vertices = skfem.Basis(fe_mesh, vector, quadrature=(reference, np.ones(dim + 1)))
    field = at_vertices.interpolate(u)
    grad = np.asarray(field.grad)  # (dim, dim, cells, corners)
    for corner in range(dim + 1):
        vertex = fe_mesh.t[corner]
        np.add.at(gradient, vertex, np.moveaxis(grad[:, :, :, corner], -1, 0))
        np.add.at(counts, vertex, 1)
    gradient /= counts[:, None, None]
    return FemSolution(displacement, gradient, basis.N, time.perf_counter() - start)
