"""Lamé problems on gmsh meshes, as YAML-only cases: accuracy against the exact solution.

    pip install gmsh && python benchmarks/mesh_cases.py [--only ring_p2_012 ...] > out.json

Meshes (written to a temporary folder): the quarter ring ``1 < r < 2`` (plane strain) with
second-order triangles of edge 0.12 and straight triangles of edges 0.05, 0.02 and 0.01, and the
quarter tube of height 0.5 with ``tetra10`` cells of edge 0.2 and plane-strain ends (``u_z = 0``).
Internal pressure 1, E = 1000, nu = 0.3. Each run uses the defaults and seed 0, one at a time.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

LAME = "p*a**2/(E*(b**2-a**2)) * ((1+nu)*(1-2*nu) + (1+nu)*b**2/(x**2+y**2))"
RING = """name: mesh
file: {file}
E: 1000.0
nu: 0.3
plane: strain
p: 1.0
a: 1.0
b: 2.0
conditions:
  - {{boundary: x_axis, displacement: [null, 0]}}
  - {{boundary: y_axis, displacement: [0, null]}}
  - {{boundary: inner, pressure: p}}
exact_displacement: ["{u} * x", "{u} * y"]
"""
TUBE = """name: mesh
file: {file}
E: 1000.0
nu: 0.3
p: 1.0
a: 1.0
b: 2.0
conditions:
  - {{boundary: x_sym, displacement: [null, 0, null]}}
  - {{boundary: y_sym, displacement: [0, null, null]}}
  - {{boundary: ends, displacement: [null, null, 0]}}
  - {{boundary: inner, pressure: p}}
exact_displacement: ["{u} * x", "{u} * y", "0"]
"""
CASES = {  # name: (body, edge length, element order)
    "ring_p2_012": ("ring", 0.12, 2),
    "ring_p1_005": ("ring", 0.05, 1),
    "ring_p1_002": ("ring", 0.02, 1),
    "ring_p1_001": ("ring", 0.01, 1),
    "tube_p2_02": ("tube", 0.2, 2),
}


def mesh(body: str, size: float, order: int, path: Path) -> None:
    import gmsh

    gmsh.initialize()
    gmsh.option.setNumber("General.Verbosity", 1)
    occ = gmsh.model.occ
    if body == "ring":
        outer, inner, box = (
            occ.addDisk(0, 0, 0, 2, 2),
            occ.addDisk(0, 0, 0, 1, 1),
            occ.addRectangle(0, 0, 0, 3, 3),
        )
        dim = 2
    else:
        outer, inner = occ.addCylinder(0, 0, 0, 0, 0, 0.5, 2), occ.addCylinder(0, 0, 0, 0, 0, 0.5, 1)
        box, dim = occ.addBox(0, 0, 0, 3, 3, 0.5), 3
    occ.intersect([(dim, outer)], [(dim, box)])
    occ.cut([(dim, outer)], [(dim, inner)])
    occ.synchronize()
    groups: dict[str, list[int]] = {}
    for _, tag in gmsh.model.getEntities(dim - 1):
        x, y, z = occ.getCenterOfMass(dim - 1, tag)
        if dim == 3 and (abs(z) < 1e-9 or abs(z - 0.5) < 1e-9):
            name = "ends"
        elif abs(y) < 1e-9:
            name = "x_axis" if dim == 2 else "x_sym"
        elif abs(x) < 1e-9:
            name = "y_axis" if dim == 2 else "y_sym"
        else:
            name = "inner" if math.hypot(x, y) < 1.2 else "outer"
        groups.setdefault(name, []).append(tag)
    for name, tags in groups.items():
        gmsh.model.addPhysicalGroup(dim - 1, tags, name=name)
    gmsh.model.addPhysicalGroup(dim, [t for _, t in gmsh.model.getEntities(dim)], name="body")
    gmsh.option.setNumber("Mesh.MeshSizeMax", size)
    gmsh.option.setNumber("Mesh.MeshSizeMin", size)
    gmsh.model.mesh.generate(dim)
    if order == 2:
        gmsh.model.mesh.setOrder(2)
    gmsh.write(str(path))
    gmsh.finalize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(CASES))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "conf" / "case"
        conf.mkdir(parents=True)
        for name in args.only:
            body, size, order = CASES[name]
            path = Path(tmp) / f"{name}.msh"
            mesh(body, size, order, path)
            (conf / f"{name}.yaml").write_text((RING if body == "ring" else TUBE).format(file=path, u=LAME))
            run_dir = Path(tmp) / f"run_{name}"
            command = [sys.executable, "-m", "pinn_elastic", "--config-dir", str(conf.parent), f"case={name}"]
            command += ["output.plots=false", f"hydra.run.dir={run_dir}"]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                results[name] = {"error": done.stderr.strip().splitlines()[-1:]}
                continue
            metrics = json.loads((run_dir / "metrics.json").read_text())
            keep = (
                "rel_l2_displacement",
                "rel_l2_stress",
                "error_estimate",
                "wall_seconds",
                "evaluation_points",
            )
            results[name] = {
                "mesh": {"body": body, "edge": size, "order": order},
                **{k: metrics[k] for k in keep},
            }
            print(json.dumps({name: results[name]}), file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
