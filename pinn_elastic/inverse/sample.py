"""``pinn-elastic-sample RUN_DIR``: synthetic measurements from a run's ``fields.vtu``.

Picks ``--points`` distinct nodes of the run's evaluation mesh at random (``--seed``) and
writes their coordinates and displacements (``--array``, default ``displacement``) as a CSV
that ``inverse.data`` reads. ``--noise s`` adds independent Gaussian noise to every component
and writes its standard deviation in the columns ``sx, sy[, sz]``: with ``--noise-model
relative`` (the default, "1 % noise" of the identification literature) the deviation of a
value ``u`` is ``s * max(|u|, 1e-3 rms(u))`` (the floor keeps it positive where ``u = 0``);
with ``--noise-model rms`` it is ``s * rms(u)`` for all values (a sensor of fixed
resolution), ``rms(u)`` the root mean square of the sampled components. A comment line
records the material of the run (``# truth: E=... nu=... lam=... mu=...``), so an inverse run
on the file reports how far it landed from it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..atomic import write_text
from .data import columns_for


def _truth(run_dir: Path) -> dict[str, float]:
    """``E, nu`` (and the 3D Lamé pair) from the run's resolved config, where they are numbers."""
    config = run_dir / ".hydra" / "config.yaml"
    if not config.is_file():
        return {}
    from omegaconf import OmegaConf

    case = OmegaConf.load(config).get("case", {})
    try:
        E, nu = float(case["E"]), float(case["nu"])
    except (KeyError, TypeError, ValueError):
        return {}
    from ..materials import Material

    try:
        material = Material(E, nu)
    except ValueError:
        return {}
    return {"E": E, "nu": nu, "lam": material.lam_3d, "mu": material.mu}


NOISE_MODELS = ("relative", "rms")
NOISE_FLOOR = 1e-3  # relative noise: the deviation is at least this fraction of rms(u) times s


def sample(
    run_dir: Path, points: int, noise: float, seed: int, array: str = "displacement", model: str = "relative"
) -> tuple[str, dict[str, float]]:
    """The CSV text and the truth it records."""
    import meshio

    fields = run_dir / "fields.vtu"
    if not fields.is_file():
        raise ValueError(f"{fields} does not exist (run with output.vtu=true)")
    mesh = meshio.read(fields)
    if array not in mesh.point_data:
        raise ValueError(
            f"--array {array!r} is not in {fields}; arrays: {', '.join(sorted(mesh.point_data))}"
        )
    xyz = np.asarray(mesh.points, dtype=np.float64)
    dim = 2 if np.all(xyz[:, 2] == 0) else 3
    if not 2 <= points <= len(xyz):
        raise ValueError(f"--points {points}: must be between 2 and the {len(xyz)} nodes of {fields}")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(xyz), size=points, replace=False))
    x = xyz[chosen, :dim]
    u = np.asarray(mesh.point_data[array], dtype=np.float64)[chosen, :dim]
    coords, disp, stds = columns_for(dim)
    header = coords + disp
    columns = [x, u]
    if noise > 0:
        rms = float(np.sqrt(np.mean(u**2)))
        if model == "relative":
            sigma = noise * np.maximum(np.abs(u), NOISE_FLOOR * rms)
        else:
            sigma = np.full_like(u, noise * rms)
        columns = [x, u + sigma * rng.standard_normal(u.shape), sigma]
        header += stds
    truth = _truth(run_dir)
    options = f"--points {points} --noise {noise} --noise-model {model} --seed {seed} --array {array}"
    lines = [f"# pinn-elastic-sample {run_dir} {options}"]
    if truth:
        lines.append("# truth: " + " ".join(f"{k}={v!r}" for k, v in truth.items()))
    lines.append(",".join(header))
    table = np.concatenate(columns, axis=1)
    lines += [",".join(repr(float(v)) for v in row) for row in table]
    return "\n".join(lines) + "\n", truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pinn-elastic-sample", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run folder (holds fields.vtu)")
    parser.add_argument("--points", type=int, default=200, help="number of measurement points (default 200)")
    parser.add_argument(
        "--noise", type=float, default=0.0, help="noise standard deviation, relative (default 0)"
    )
    parser.add_argument(
        "--noise-model", choices=NOISE_MODELS, default="relative", help="relative: s |u|; rms: s rms(u)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the points and the noise")
    parser.add_argument(
        "--array", default="displacement", help="point array to sample (default displacement)"
    )
    parser.add_argument("--out", type=Path, help="CSV to write (default RUN_DIR/measurements.csv)")
    args = parser.parse_args(argv)
    if not args.noise >= 0 or not np.isfinite(args.noise):
        sys.exit(f"pinn-elastic-sample: error: --noise {args.noise}: must be a finite number >= 0")
    try:
        text, _ = sample(args.run_dir, args.points, args.noise, args.seed, args.array, args.noise_model)
    except ValueError as err:
        sys.exit(f"pinn-elastic-sample: error: {err}")
    out = args.out or args.run_dir / "measurements.csv"
    write_text(out, text)
    print(f"written: {out} ({args.points} points)")


if __name__ == "__main__":
    main()
