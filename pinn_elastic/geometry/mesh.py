r"""Bodies read from mesh files (meshio): gmsh ``.msh`` physical groups, ``.vtu``/``.xdmf`` cell sets.

The body is the union of the mesh's cells of the top dimension (triangles, quadrilaterals,
``triangle6`` in 2D; tetrahedra, hexahedra, ``tetra10`` in 3D; of a named group of that
dimension when one exists). Named groups of one dimension less (lines and ``line3`` in 2D,
triangles, quadrilaterals and ``triangle6`` in 3D) are the named boundaries.

* **Interior points** are uniform over the cells: a cell is chosen with probability proportional
  to its measure, then a point uniform in it. Quadrilaterals and hexahedra are split into
  simplices, second-order cells into the simplices of their corner and mid-edge nodes (4
  triangles, 8 tetrahedra), which follow a curved side piecewise linearly.
* **Boundary points and normals** come from the facets themselves. A second-order facet is the
  quadratic map of its nodes, :math:`x(\xi) = \sum_i N_i(\xi) x_i`, which follows an arc to third
  order: points are drawn uniform in arc length or area (rejection on :math:`|x_\xi|` or
  :math:`|x_\xi\times x_\eta|`), and the normal is the map's own, so a coarse P2 mesh of a ring
  has normals exact to :math:`O(h^2)` where straight facets are off by half the angle a facet
  spans. Each normal points away from the cell the facet bounds, so holes get inward normals.
* **Distances** for the exact imposition of displacement conditions exist where a named
  boundary is flat (its nodes on one line or plane); elsewhere the condition stays a penalty.
* **Evaluation** happens on the user's own nodes and cells (:class:`~.meshing.EvaluationMesh`
  with ``source_cells``), so ``fields.vtu`` overlays the user's finite-element results.
"""

from __future__ import annotations

import math
from pathlib import Path

import meshio
import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import Tensor

from ..errors import ConfigError
from ..meshio_quiet import quiet_read
from .meshing import EvaluationMesh
from .shape import Piece, Shape

BODY_TYPES = {
    2: ("triangle", "quad", "triangle6"),
    3: ("tetra", "hexahedron", "tetra10"),
}
FACET_TYPES = {2: ("line", "line3"), 3: ("triangle", "quad", "triangle6")}
CORNERS = {
    "line": 2,
    "line3": 2,
    "triangle": 3,
    "triangle6": 3,
    "quad": 4,
    "tetra": 4,
    "tetra10": 4,
    "hexahedron": 8,
}
# simplices (node indices) that tile each cell type
SIMPLICES = {
    "triangle": [(0, 1, 2)],
    "quad": [(0, 1, 2), (0, 2, 3)],
    "triangle6": [(0, 3, 5), (3, 1, 4), (5, 4, 2), (3, 4, 5)],
    "tetra": [(0, 1, 2, 3)],
    "hexahedron": [(0, 1, 2, 6), (0, 2, 3, 6), (0, 3, 7, 6), (0, 7, 4, 6), (0, 4, 5, 6), (0, 5, 1, 6)],
    "tetra10": [
        (0, 4, 6, 7),
        (1, 4, 5, 8),
        (2, 5, 6, 9),
        (3, 7, 8, 9),
        (4, 9, 5, 6),
        (4, 9, 6, 7),
        (4, 9, 7, 8),
        (4, 9, 8, 5),
    ],
}
# the corner-node sets of each cell's facets
CELL_FACETS = {
    "triangle": [(0, 1), (1, 2), (2, 0)],
    "triangle6": [(0, 1), (1, 2), (2, 0)],
    "quad": [(0, 1), (1, 2), (2, 3), (3, 0)],
    "tetra": [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)],
    "tetra10": [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)],
    "hexahedron": [(0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)],
}
FEATURE_ANGLE = 30.0  # degrees: straight facets meeting at more than this keep their own normals
FLAT = 1e-9  # relative to the body's size: a boundary whose nodes are this close to a plane is flat
MAX_FLAT_PARTS = 6  # a group on at most this many planes is split into one piece per plane


def read_groups(mesh: meshio.Mesh) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Named groups as ``name -> [(cell type, connectivity), ...]``: meshio's ``cell_sets``
    (gmsh 4.1 physical names, VTU sets), else gmsh 2.2's ``field_data`` and
    ``gmsh:physical`` tags, else integer cell tags named by their numbers."""
    groups: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name, per_block in mesh.cell_sets.items():
        if name.startswith("gmsh:"):
            continue
        for block, indices in zip(mesh.cells, per_block):
            if indices is not None and len(indices):
                groups.setdefault(name, []).append((block.type, block.data[np.asarray(indices, dtype=int)]))
    if groups:
        return groups
    for key, per_block in mesh.cell_data.items():  # meshio's cell sets stored as data: "a-b-c"
        if "-" in key and all(np.issubdtype(np.asarray(d).dtype, np.integer) for d in per_block):
            names = key.split("-")
            for block, index in zip(mesh.cells, per_block):
                for i, name in enumerate(names):
                    if np.any(index == i):
                        groups.setdefault(name, []).append((block.type, block.data[index == i]))
            return groups
    if "gmsh:physical" in mesh.cell_data and mesh.field_data:
        tags = mesh.cell_data["gmsh:physical"]
        for name, (tag, dim) in ((n, (int(v[0]), int(v[1]))) for n, v in mesh.field_data.items()):
            for block, block_tags in zip(mesh.cells, tags):
                if block.dim == dim and np.any(block_tags == tag):
                    groups.setdefault(name, []).append((block.type, block.data[block_tags == tag]))
        return groups
    return _numbered_groups(mesh)


TAG_ARRAYS = ("gmsh:physical", "medit:ref", "cell_tags", "CellEntityIds")


def _numbered_groups(mesh: meshio.Mesh) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Groups from integer cell tags without names (an XDMF converted by meshio keeps gmsh's
    tags but not their names): each tag value is a group named by its number, ``"3"``."""
    key = next((k for k in TAG_ARRAYS if k in mesh.cell_data), None)
    if key is None:
        return {}
    groups: dict[str, list[tuple[str, np.ndarray]]] = {}
    for block, tags in zip(mesh.cells, mesh.cell_data[key]):
        tags = np.asarray(tags)
        if not np.issubdtype(tags.dtype, np.integer):
            return {}
        for tag in np.unique(tags):
            groups.setdefault(str(int(tag)), []).append((block.type, block.data[tags == tag]))
    return groups


def _simplex_measures(points: np.ndarray, simplices: np.ndarray) -> np.ndarray:
    corners = points[simplices]
    return np.abs(np.linalg.det(corners[:, 1:] - corners[:, :1])) / math.factorial(points.shape[1])


def facet_map(kind: str, nodes: Tensor, u: Tensor) -> tuple[Tensor, Tensor]:
    """Points and unnormalised normals (length = Jacobian) at reference coordinates ``u``
    for facets with node coordinates ``nodes (F, k, d)``."""
    if kind == "line":
        a, b = nodes[:, 0], nodes[:, 1]
        t = u[:, :1]
        x, dx = a + t * (b - a), b - a
        return x, torch.stack([dx[:, 1], -dx[:, 0]], -1)
    if kind == "line3":
        a, b, m = nodes[:, 0], nodes[:, 1], nodes[:, 2]
        t = u[:, :1]
        x = (1 - t) * (1 - 2 * t) * a + t * (2 * t - 1) * b + 4 * t * (1 - t) * m
        dx = (4 * t - 3) * a + (4 * t - 1) * b + (4 - 8 * t) * m
        return x, torch.stack([dx[:, 1], -dx[:, 0]], -1)
    s, t = u[:, :1], u[:, 1:2]
    if kind == "triangle":
        a, b, c = nodes[:, 0], nodes[:, 1], nodes[:, 2]
        x = a + s * (b - a) + t * (c - a)
        return x, torch.linalg.cross(b - a, c - a)
    # triangle6: nodes 0-2 corners, 3 = (0,1), 4 = (1,2), 5 = (2,0)
    r = 1 - s - t
    shape = [r * (2 * r - 1), s * (2 * s - 1), t * (2 * t - 1), 4 * r * s, 4 * s * t, 4 * t * r]
    d_s = [-(4 * r - 1), 4 * s - 1, 0 * s, 4 * (r - s), 4 * t, -4 * t]
    d_t = [-(4 * r - 1), 0 * s, 4 * t - 1, -4 * s, 4 * s, 4 * (r - t)]
    x = sum(w * nodes[:, i] for i, w in enumerate(shape))
    xs = sum(w * nodes[:, i] for i, w in enumerate(d_s))
    xt = sum(w * nodes[:, i] for i, w in enumerate(d_t))
    return x, torch.linalg.cross(xs, xt)


class MeshFacets(Piece):
    """One named boundary: straight or quadratic facets, each with the sign that makes its
    normal point out of the body."""

    def __init__(
        self, name: str, points: np.ndarray, blocks: list[tuple[str, np.ndarray, np.ndarray]]
    ) -> None:
        self.name = name
        self.points = torch.from_numpy(points)
        self.dim = points.shape[1]
        # per block: (type, facets (F, nodes), orientation signs (F,))
        self.blocks = [(t, torch.from_numpy(f.astype(np.int64)), torch.from_numpy(s)) for t, f, s in blocks]
        self._patches = self._linear_patches()
        nodes = torch.from_numpy(np.unique(np.concatenate([f.reshape(-1) for _, f, _ in blocks])))
        self._nodes = self.points[nodes]
        self._vertex_normals = self._smoothed_normals()
        self._plane = self._flat_plane()
        self.smooth_distance = self._plane is not None
        self.exact_projection = self.smooth_distance  # curved groups project to the nearest node
        self._measure = float(self._patch_measures().sum())

    # -- geometry of the facets ------------------------------------------------------------
    def _linear_patches(self) -> list[tuple[str, Tensor, Tensor]]:
        """``(kind, node ids (F, k), signs (F,))`` with quads split into two triangles."""
        out = []
        for kind, facets, signs in self.blocks:
            if kind == "quad":
                out.append(("triangle", facets[:, [0, 1, 2]], signs))
                out.append(("triangle", facets[:, [0, 2, 3]], signs))
            else:
                out.append((kind, facets, signs))
        return out

    def _reference(self, kind: str, n: int, generator: torch.Generator) -> Tensor:
        u = torch.rand(n, 2, generator=generator, dtype=torch.float64).clamp(1e-9, 1 - 1e-9)
        if kind in ("triangle", "triangle6"):
            flip = u.sum(1) > 1
            u[flip] = 1 - u[flip]
        return u

    def _patch_measures(self) -> Tensor:
        """Length or area of every facet (quadrature of the Jacobian for quadratic facets)."""
        out = []
        for kind, facets, _ in self._patches:
            nodes = self.points[facets]
            if kind in ("line", "triangle"):
                u = torch.full((len(facets), 2), 1 / 3, dtype=torch.float64)
                jac = facet_map(kind, nodes, u)[1].norm(dim=-1)
                out.append(jac if kind == "line" else jac / 2)
            else:  # Gauss rules of the quadratic map's Jacobian (smooth; 5 or 6 points)
                rule = _gauss(kind)
                total = sum(
                    w * facet_map(kind, nodes, u.expand(len(facets), 2))[1].norm(dim=-1) for u, w in rule
                )
                out.append(total)
        return torch.cat(out)

    @property
    def measure(self) -> float:
        return self._measure

    def _smoothed_normals(self) -> list[Tensor | None]:
        """Per straight patch, ``(F, k, d)`` unit normals at its corners: the area-weighted mean
        of the normals of the group's straight facets around that node that lie within
        ``FEATURE_ANGLE`` of the facet's own (so real edges stay sharp)."""
        straight = [p for p, (kind, _, _) in enumerate(self._patches) if kind in ("line", "triangle")]
        if not straight:
            return [None] * len(self._patches)
        facets, normals = [], []
        for p in straight:
            kind, f, signs = self._patches[p]
            u = torch.full((len(f), 2), 1 / 3, dtype=torch.float64)
            normals.append(signs[:, None] * facet_map(kind, self.points[f], u)[1])  # length ~ measure
            facets.append(f)
        k = facets[0].shape[1]
        all_facets, area_normal = torch.cat(facets).numpy(), torch.cat(normals)
        unit = area_normal / area_normal.norm(dim=-1, keepdim=True)
        corner_node = all_facets.reshape(-1)  # (F * k,) node of each (facet, corner)
        order = np.argsort(corner_node, kind="stable")
        incident = order // k  # facets around each node, grouped by node
        starts = np.searchsorted(corner_node[order], corner_node, side="left")
        counts = np.searchsorted(corner_node[order], corner_node, side="right") - starts
        owner = np.repeat(np.arange(len(corner_node)), counts)
        offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        neighbour = torch.from_numpy(incident[np.repeat(starts, counts) + offset])
        owner_facet = torch.from_numpy(owner // k)
        close = (unit[neighbour] * unit[owner_facet]).sum(-1) > math.cos(math.radians(FEATURE_ANGLE))
        total = torch.zeros(len(corner_node), self.dim, dtype=torch.float64)
        total.index_add_(0, torch.from_numpy(owner), area_normal[neighbour] * close[:, None])
        corner_normals = (total / total.norm(dim=-1, keepdim=True)).reshape(-1, k, self.dim)
        out: list[Tensor | None] = [None] * len(self._patches)
        start = 0
        for p, f in zip(straight, facets):
            out[p] = corner_normals[start : start + len(f)]
            start += len(f)
        return out

    def sample(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        measures = self._patch_measures()
        which = torch.multinomial(measures / measures.sum(), n, replacement=True, generator=generator)
        offsets = np.cumsum([0] + [len(f) for _, f, _ in self._patches])
        points = torch.empty(n, self.dim, dtype=torch.float64)
        normals = torch.empty(n, self.dim, dtype=torch.float64)
        for p, (kind, facets, signs) in enumerate(self._patches):
            mask = (which >= offsets[p]) & (which < offsets[p + 1])
            if not bool(mask.any()):
                continue
            local = which[mask] - offsets[p]
            x, normal, u = self._draw(kind, self.points[facets[local]], generator)
            points[mask] = x
            corner_normals = self._vertex_normals[p]
            if corner_normals is None:
                normals[mask] = signs[local, None] * normal / normal.norm(dim=-1, keepdim=True)
                continue
            if kind == "line":
                weights = torch.cat([1 - u[:, :1], u[:, :1]], 1)
            else:
                weights = torch.cat([1 - u.sum(1, keepdim=True), u], 1)
            smooth = (weights[..., None] * corner_normals[local]).sum(1)
            normals[mask] = smooth / smooth.norm(dim=-1, keepdim=True)
        return points.to(dtype), normals.to(dtype)

    def _draw(self, kind: str, nodes: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """One point per facet, uniform in its length or area (rejection on the Jacobian)."""
        u = self._reference(kind, len(nodes), generator)
        x, normal = facet_map(kind, nodes, u)
        if kind in ("line3", "triangle6"):
            pending = torch.ones(len(nodes), dtype=torch.bool)
            bound = 1.5 * self._max_jacobian(kind, nodes)
            for _ in range(200):
                accept = torch.rand(
                    len(nodes), generator=generator, dtype=torch.float64
                ) * bound < normal.norm(dim=-1)
                pending &= ~accept
                if not bool(pending.any()):
                    break
                u_new = self._reference(kind, len(nodes), generator)
                x_new, n_new = facet_map(kind, nodes, u_new)
                x = torch.where(pending[:, None], x_new, x)
                normal = torch.where(pending[:, None], n_new, normal)
                u = torch.where(pending[:, None], u_new, u)
        return x, normal, u

    def _max_jacobian(self, kind: str, nodes: Tensor) -> Tensor:
        g = torch.linspace(0, 1, 9, dtype=torch.float64)
        grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        if kind == "triangle6":
            grid = grid[grid.sum(1) <= 1]
        values = torch.stack([facet_map(kind, nodes, u.expand(len(nodes), 2))[1].norm(dim=-1) for u in grid])
        return values.max(0).values

    # -- distance for exact displacement conditions -----------------------------------------
    def _flat_plane(self) -> tuple[Tensor, Tensor] | None:
        """``(point, inward unit normal)`` when every node lies on one line or plane."""
        centre = self._nodes.mean(0)
        _, s, vh = torch.linalg.svd(self._nodes - centre)
        size = float((self._nodes.max(0).values - self._nodes.min(0).values).max()) or 1.0
        if len(s) < self.dim or float(s[-1]) / math.sqrt(len(self._nodes)) > FLAT * size:
            return None
        normal = vh[-1]
        _, n = self.sample(1, torch.Generator().manual_seed(0), torch.float64)
        if float((n[0] * normal).sum()) > 0:
            normal = -normal
        return centre, normal

    def distance(self, x: Tensor) -> Tensor:
        if self._plane is None:  # a curved boundary: distance to the nearest node (a kink)
            tree = cKDTree(self._nodes.numpy())
            return torch.from_numpy(tree.query(x.detach().cpu().numpy())[0]).to(x)
        point, inward = (v.to(x) for v in self._plane)
        return ((x - point) * inward).sum(-1)

    def project(self, x: Tensor) -> Tensor:
        if self._plane is None:
            tree = cKDTree(self._nodes.numpy())
            return self._nodes[tree.query(x.detach().cpu().numpy())[1]].to(x)
        inward = self._plane[1].to(x)
        return x - self.distance(x)[:, None] * inward

    def reference_points(self) -> Tensor:
        return self._nodes.clone()

    def trace(self, spacing: float) -> np.ndarray:
        return self._nodes.numpy()


def _gauss(kind: str) -> list[tuple[Tensor, float]]:
    if kind == "line3":  # 3-point Gauss-Legendre on [0, 1]
        r = math.sqrt(3 / 5) / 2
        return [
            (torch.tensor([[0.5 - r, 0.0]], dtype=torch.float64), 5 / 18),
            (torch.tensor([[0.5, 0.0]], dtype=torch.float64), 8 / 18),
            (torch.tensor([[0.5 + r, 0.0]], dtype=torch.float64), 5 / 18),
        ]
    # triangle6: Strang-Fix 6-point rule (degree 4), weights sum to the reference area 1/2
    a, b = 0.445948490915965, 0.091576213509771
    wa, wb = 0.223381589678011 / 2, 0.109951743655322 / 2
    points = [(a, a), (1 - 2 * a, a), (a, 1 - 2 * a), (b, b), (1 - 2 * b, b), (b, 1 - 2 * b)]
    weights = [wa] * 3 + [wb] * 3
    return [(torch.tensor([p], dtype=torch.float64), w) for p, w in zip(points, weights)]


def _flat_parts(points: np.ndarray, blocks: list[tuple[str, np.ndarray, np.ndarray]]) -> list[list]:
    """A group made of a few flat parts (a tube's two end faces) as one piece per plane, so a
    displacement condition on it is imposed exactly on each; any other group stays whole."""
    planes, labels = [], []
    size = float(np.ptp(points, axis=0).max()) or 1.0
    for kind, facets, _ in blocks:
        corners = points[facets[:, : CORNERS[kind]]]
        if corners.shape[2] == 2:
            tangent = corners[:, 1] - corners[:, 0]
            normal = np.stack([tangent[:, 1], -tangent[:, 0]], -1)
        else:
            normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        # a sign-free key: flip so that the largest component is positive
        flip = np.sign(normal[np.arange(len(normal)), np.abs(normal).argmax(-1)])
        normal *= flip[:, None]
        offset = (normal * corners.mean(1)).sum(-1)
        all_on = np.abs((corners * normal[:, None]).sum(-1) - offset[:, None]).max(-1) < FLAT * size
        block_labels = np.full(len(facets), -1)
        for i, (n, d, on) in enumerate(zip(normal, offset, all_on)):
            if not on:
                return [blocks]
            for j, (m, e) in enumerate(planes):
                if np.abs(n - m).max() < 1e-9 and abs(d - e) < FLAT * size:
                    block_labels[i] = j
                    break
            else:
                planes.append((n, d))
                block_labels[i] = len(planes) - 1
                if len(planes) > MAX_FLAT_PARTS:
                    return [blocks]
        labels.append(block_labels)
    counts = np.bincount(np.concatenate(labels), minlength=len(planes))
    if len(planes) > 1 and counts.min() < 2:  # one facet per plane: a faceted curve, not flat parts
        return [blocks]
    return [
        [
            (kind, facets[lab == j], signs[lab == j])
            for (kind, facets, signs), lab in zip(blocks, labels)
            if (lab == j).any()
        ]
        for j in range(len(planes))
    ]


class MeshBody(Shape):
    """A body from a mesh file: see the module docstring."""

    def __init__(self, path: str | Path, key: str = "case.file") -> None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(key, str(path), "no such file")
        try:
            mesh = quiet_read(path)
        except ModuleNotFoundError as error:
            raise ConfigError(
                key,
                str(path),
                f'needs {error.name} to be read: pip install {error.name} (XDMF: pip install -e ".[xdmf]")',
            ) from None
        except (Exception, SystemExit) as error:  # meshio raises many types, even SystemExit
            raise ConfigError(
                key, str(path), f"cannot be read as a mesh ({type(error).__name__}: {error})"
            ) from None
        self.path = path
        types = {block.type for block in mesh.cells}
        dim = 3 if types & set(BODY_TYPES[3]) else 2
        known = set(BODY_TYPES[dim]) | set(FACET_TYPES[dim]) | {"vertex", "line", "line3"}
        unknown = sorted(types - known)
        if unknown:
            supported = ", ".join((*BODY_TYPES[dim], *FACET_TYPES[dim]))
            raise ConfigError(
                key, str(path), f"has cells of type {', '.join(unknown)}; supported: {supported}"
            )
        points = np.asarray(mesh.points, dtype=np.float64)
        if dim == 2 and points.shape[1] == 3:
            if np.abs(points[:, 2]).max() > 0:
                raise ConfigError(key, str(path), "is a 2D mesh with non-zero z coordinates")
            points = points[:, :2]
        self.dim, self.points = dim, points
        groups = read_groups(mesh)
        body_groups = {n: [b for b in g if b[0] in BODY_TYPES[dim]] for n, g in groups.items()}
        body_groups = {n: g for n, g in body_groups.items() if g}
        if body_groups:
            self.cells = [b for g in body_groups.values() for b in g]
        else:
            self.cells = [(b.type, b.data) for b in mesh.cells if b.type in BODY_TYPES[dim]]
        if not self.cells:
            raise ConfigError(key, str(path), f"has no {dim}D cells ({', '.join(BODY_TYPES[dim])})")
        self.body_group_names = tuple(body_groups)
        simplices = [c[:, list(s)] for kind, c in self.cells for s in SIMPLICES[kind]]
        self.simplices = np.concatenate(simplices).astype(np.int64)
        self.measures = _simplex_measures(points, self.simplices)
        self.volume = float(self.measures.sum())
        self._tree = cKDTree(points[self.simplices].mean(1))
        self._radius = float(
            np.sqrt(
                ((points[self.simplices] - points[self.simplices].mean(1, keepdims=True)) ** 2).sum(-1)
            ).max()
        )
        owners = self._facet_owners()
        pieces = []
        for name, blocks in groups.items():
            facet_blocks = [(t, f) for t, f in blocks if t in FACET_TYPES[dim]]
            if not facet_blocks:
                continue
            oriented = [(t, f, self._signs(t, f, owners, name, key)) for t, f in facet_blocks]
            pieces.extend(MeshFacets(name, points, part) for part in _flat_parts(points, oriented))
        self.pieces = tuple(pieces)

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        used = self.points[np.unique(self.simplices)]
        return tuple(float(v) for v in used.min(0)), tuple(float(v) for v in used.max(0))

    def _facet_owners(self) -> dict[frozenset, int]:
        """Corner-node set of every cell facet -> index of a cell-centroid owner (in ``self._centroids``)."""
        owners: dict[frozenset, int] = {}
        centroids = []
        for kind, cells in self.cells:
            corners = cells[:, : CORNERS[kind]]
            for row in corners:
                index = len(centroids)
                centroids.append(self.points[row].mean(0))
                for facet in CELL_FACETS[kind]:
                    owners[frozenset(int(row[i]) for i in facet)] = index
        self._centroids = np.asarray(centroids)
        return owners

    def _signs(self, kind: str, facets: np.ndarray, owners: dict, name: str, key: str) -> np.ndarray:
        """+1 where the facet's own normal points out of its cell, else -1."""
        corners = CORNERS[kind]
        nodes = torch.from_numpy(self.points[facets])
        if kind == "quad":  # a planar quad's normal is its first triangle's
            kind, nodes = "triangle", nodes[:, :3]
        u = torch.full((len(facets), 2), 1 / 3, dtype=torch.float64)
        centre, normal = facet_map(kind, nodes, u)
        signs = np.ones(len(facets))
        for i, row in enumerate(facets[:, :corners]):
            owner = owners.get(frozenset(int(v) for v in row))
            if owner is None:
                raise ConfigError(
                    key, str(self.path), f"boundary {name!r} has a facet that bounds no body cell"
                )
            outward = float(((centre[i].numpy() - self._centroids[owner]) * normal[i].numpy()).sum())
            signs[i] = 1.0 if outward > 0 else -1.0
        return signs

    def contains(self, x: Tensor) -> Tensor:
        """Point location: barycentric test against the simplices near each point."""
        xs = x.detach().cpu().double().numpy()
        inside = np.zeros(len(xs), dtype=bool)
        k = min(32, len(self.simplices))
        _, candidates = self._tree.query(xs, k=k)
        candidates = np.atleast_2d(candidates)
        corners = self.points[self.simplices[candidates]]  # (N, k, d+1, d)
        matrix = np.swapaxes(corners[..., 1:, :] - corners[..., :1, :], -1, -2)  # (N, k, d, d)
        rhs = xs[:, None, :] - corners[..., 0, :]
        det = np.linalg.det(matrix)
        ok = np.abs(det) > 0
        lam = np.zeros_like(rhs)
        lam[ok] = np.linalg.solve(matrix[ok], rhs[ok][..., None])[..., 0]
        bary = np.concatenate([1 - lam.sum(-1, keepdims=True), lam], -1)
        tolerance = 1e-12
        inside = (ok & (bary > tolerance).all(-1)).any(1)
        return torch.from_numpy(inside).to(x.device)

    def sample_interior(self, n: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        weights = torch.from_numpy(self.measures / self.volume)
        which = torch.multinomial(weights, n, replacement=True, generator=generator)
        corners = torch.from_numpy(self.points[self.simplices])[which]  # (n, d+1, d)
        e = -torch.log(
            torch.rand(n, self.dim + 1, generator=generator, dtype=torch.float64).clamp_min(1e-300)
        )
        bary = e / e.sum(1, keepdim=True)  # uniform on the simplex (Dirichlet(1, ..., 1))
        return (bary[..., None] * corners).sum(1).to(dtype)

    def mesh(self, resolution: int) -> EvaluationMesh:
        """The user's own nodes and cells (``resolution`` is ignored: the mesh is the user's)."""
        used = np.unique(self.simplices)
        if len(used) != len(self.points):  # drop nodes no body cell uses (gmsh's geometry points)
            renumber = -np.ones(len(self.points), dtype=np.int64)
            renumber[used] = np.arange(len(used))
            points = self.points[used]
            cells = [(kind, renumber[c]) for kind, c in self.cells]
            simplices = renumber[self.simplices]
        else:
            points, cells, simplices = self.points, self.cells, self.simplices
        return EvaluationMesh(
            points, simplices, "triangle" if self.dim == 2 else "tetra", source_cells=tuple(cells)
        )
