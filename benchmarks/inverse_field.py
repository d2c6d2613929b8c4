"""Field mode: recover E(x) of a plate with a circular inclusion three times stiffer than its matrix.

    python benchmarks/inverse_field.py [--points 2000] [--resolution 241] [--field inclusion] > out.json

The plate is the unit square (plane stress, nu = 0.3) with the matrix at E = 1000 and, inside
the circle of radius 0.2 about (0.5, 0.5), E = 3000; rollers on x = 0 (u_x = 0) and y = 0
(u_y = 0), tension 1 on x = 1, the top free. The data: a quadratic finite-element solution
(``solve_fem`` with the modulus field, on the body's evaluation mesh at ``--resolution``: the
interface cuts through the elements, and the modulus is sampled at the quadrature points) at
``--points`` of its nodes drawn at random. The inverse run starts from a uniform E = 1000
(``inverse.field=E``, defaults otherwise). Reported: the relative L2 error of the recovered
E(x) over the plate (on the exported nodes, nodal quadrature weights), the recovered E at the
inclusion's centre and its error, the FEM's own resolution check (the same FEM on a mesh of
about half the size), and the wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import meshio
import numpy as np
import torch

CASE = """name: body
geometry:
  rectangle: {lower: [0, 0], upper: [1, 1]}
E: 1000.0
nu: 0.3
plane: stress
conditions:
  - {boundary: left, displacement: [0, null]}
  - {boundary: bottom, displacement: [null, 0]}
  - {boundary: right, traction: [1.0, 0]}
"""
CENTRE, RADIUS, RATIO = (0.5, 0.5), 0.2, 3.0


def relative_modulus(x: torch.Tensor) -> torch.Tensor:
    inside = ((x[:, 0] - CENTRE[0]) ** 2 + (x[:, 1] - CENTRE[1]) ** 2) < RADIUS**2
    return torch.where(inside, torch.full_like(x[:, 0], RATIO), torch.ones_like(x[:, 0]))


def nodal_weights(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (points[triangles[:, i], :2] for i in range(3))
    area = 0.5 * np.abs((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
    weights = np.zeros(len(points))
    for i in range(3):
        np.add.at(weights, triangles[:, i], area / 3)
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--resolution", type=int, default=241)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, help="keep the inverse run's folder here")
    parser.add_argument("--field", choices=("E", "inclusion"), default="E", help="inverse.field")
    parser.add_argument("overrides", nargs="*", help="extra pinn-elastic overrides for the inverse run")
    args = parser.parse_args()
    from pinn_elastic.case_loader import load_case
    from pinn_elastic.reference.fem import solve_fem

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "conf" / "case").mkdir(parents=True)
        (root / "conf" / "case" / "inclusion.yaml").write_text(CASE)
        problem, _ = load_case({"name": "body", **_yaml(CASE)}, [root])
        mesh = problem.geometry.mesh(args.resolution)
        fem = solve_fem(problem, mesh, relative_modulus)
        coarse_mesh = problem.geometry.mesh((args.resolution + 1) // 2)
        coarse = solve_fem(problem, coarse_mesh, relative_modulus)
        at = _nearest(coarse_mesh.points, mesh.points)
        fem_check = float(
            np.linalg.norm(coarse.displacement - fem.displacement[at]) / np.linalg.norm(fem.displacement[at])
        )
        rng = np.random.default_rng(args.seed)
        chosen = np.sort(rng.choice(len(mesh.points), size=args.points, replace=False))
        rows = np.concatenate([mesh.points[chosen], fem.displacement[chosen]], 1)
        csv = root / "inclusion.csv"
        csv.write_text("x,y,ux,uy\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in rows) + "\n")
        run = (args.run_dir or root / "run").resolve()
        command = [
            sys.executable, "-m", "pinn_elastic", "--config-dir", str(root / "conf"), "case=inclusion",
            f"inverse.data={csv}", f"inverse.field={args.field}", f"hydra.run.dir={run}", *args.overrides,
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(
            command, cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        fields = meshio.read(run / "fields.vtu")
        points = np.asarray(fields.points)[:, :2]
        found = np.asarray(fields.point_data["youngs_modulus"]).reshape(-1)
        truth = 1000.0 * relative_modulus(torch.from_numpy(points)).numpy()
        weights = nodal_weights(points, fields.cells_dict["triangle"])
        error = float(np.sqrt((weights * (found - truth) ** 2).sum() / (weights * truth**2).sum()))
        centre = int(np.argmin(np.linalg.norm(points - np.asarray(CENTRE), axis=1)))
        metrics = json.loads((run / "metrics.json").read_text())
    print(
        json.dumps(
            {
                "points": args.points,
                "fem_nodes": len(mesh.points),
                "fem_half_resolution_distance": fem_check,
                "rel_l2_E": error,
                "E_centre": float(found[centre]),
                "E_centre_rel_error": float(abs(found[centre] / 3000.0 - 1)),
                "E_matrix_far_corner": float(found[int(np.argmin(np.linalg.norm(points - 1.0, axis=1)))]),
                "identified_E_field": metrics.get("identified_E_field"),
                "field": args.field,
                "identified": metrics.get("identified"),
                "identified_std": metrics.get("identified_std"),
                "inclusion_seconds": metrics.get("inclusion_seconds"),
                "inclusion_rounds": metrics.get("inclusion_rounds"),
                "wall_seconds": wall,
                "overrides": args.overrides,
            },
            indent=2,
        )
    )


def _yaml(text: str) -> dict:
    import yaml

    values = yaml.safe_load(text)
    values.pop("name")
    return values


def _nearest(targets: np.ndarray, points: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    return cKDTree(points).query(targets)[1]


if __name__ == "__main__":
    main()
