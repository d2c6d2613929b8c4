"""Bad input of every kind: one line naming the key or file, exit status 2, no traceback, and
no output file that looks like a result. The command runs in-process (``cli.main``), as a
user's shell would run it, but without a new interpreter per row."""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
from pathlib import Path

import pytest
import torch
from hydra.core.global_hydra import GlobalHydra

from pinn_elastic import checkpoint
from pinn_elastic.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "user_case"
LUG = Path(__file__).resolve().parent.parent / "examples" / "lug2d" / "lug2d.msh"
RESULTS = ("metrics.json", "fields.vtu", checkpoint.FILE, "fields.png")

MESH_CASE = """name: mesh
file: {file}
E: 2.1e5
nu: 0.3
plane: stress
p0: 100.0
conditions:
  - {{boundary: sym, displacement: [0, null]}}
  - {{boundary: base, displacement: [null, 0]}}
  - {{boundary: {boundary}, pressure: "{pressure}"}}
"""


def call(*args: str) -> tuple[int, str]:
    """``pinn-elastic ARGS`` in this process: (exit status, stderr)."""
    GlobalHydra.instance().clear()
    err, argv = io.StringIO(), sys.argv
    sys.argv = ["pinn-elastic", *args]
    code = 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            main()
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.argv = argv
        GlobalHydra.instance().clear()
    return code, err.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """Config folders, case files, data files and checkpoints, good and bad."""
    root = tmp_path_factory.mktemp("world")
    conf = root / "conf" / "case"
    conf.mkdir(parents=True)
    shutil.copy(LUG, root / "lug.msh")
    (root / "garbage.msh").write_text("$MeshFormat\nthis is not a mesh\n")
    variants = {
        "lug_ok": dict(file="../../lug.msh", boundary="hole", pressure="p0 * max(-ny, 0)**2"),
        "lug_missing": dict(file="../../nope.msh", boundary="hole", pressure="p0"),
        "lug_garbage": dict(file="../../garbage.msh", boundary="hole", pressure="p0"),
        "lug_boundary": dict(file="../../lug.msh", boundary="hloe", pressure="p0"),
        "lug_import": dict(file="../../lug.msh", boundary="hole", pressure="__import__('os')"),
        "lug_name": dict(file="../../lug.msh", boundary="hole", pressure="p1 * ny"),
        "lug_attribute": dict(file="../../lug.msh", boundary="hole", pressure="ny.real"),
    }
    for name, values in variants.items():
        (conf / f"{name}.yaml").write_text(MESH_CASE.format(**values))
    text = FIXTURE.joinpath("thick_cylinder.py").read_text()
    (root / "misspelt.py").write_text(text.replace('Traction("inner"', 'Traction("innr"'))
    (root / "crashes.py").write_text(text.replace("    return Problem(", "    1 / 0\n    return Problem(", 1))
    (root / "syntax.py").write_text("def build(:\n")
    cylinder = FIXTURE.joinpath("conf", "case", "thick_cylinder.yaml").read_text()
    for name in ("misspelt", "crashes", "syntax"):
        (conf / f"{name}.yaml").write_text(
            cylinder.replace("thick_cylinder.py", f"../../{name}.py").replace(
                "name: thick_cylinder", f"name: {name}"
            )
        )
    (root / "nan.csv").write_text("x,y,ux,uy\n1.0,0.0,0.1,nan\n2.0,0.0,0.1,0.2\n")
    (root / "outside.csv").write_text("x,y,ux,uy\n1.0,0.0,0.1,0.1\n9.0,0.0,0.1,0.2\n")
    (root / "header3d.csv").write_text("x,y,z,ux,uy,uz\n1.0,0.0,0,0.1,0.1,0\n2.0,0.0,0,0.1,0.2,0\n")
    (root / "dupes.csv").write_text("x,y,ux,uy\n1.0,0.0,0.1,0.1\n1.0,0.0,0.1,0.2\n")
    (root / "negstd.csv").write_text("x,y,ux,uy,sx,sy\n1.0,0.0,0.1,0.1,-1,1\n2.0,0.0,0.1,0.2,1,1\n")
    (root / "text.pt").write_text("not a checkpoint")
    (root / "a_file").write_text("")
    code, stderr = call(
        "train.adam_steps=2", "train.lbfgs_steps=0", "train.polish=false", "train.energy_polish=never",
        "train.n_interior=64",
        "train.n_boundary=32", "model.width=8", "model.depth=1", "output.resolution=11",
        "output.plots=false", "output.vtu=false", f"hydra.run.dir={root / 'good'}",
    )  # fmt: skip
    assert code in (0, None), stderr
    good = (root / "good" / checkpoint.FILE).read_bytes()
    (root / "truncated.pt").write_bytes(good[: len(good) // 2])
    state = torch.load(root / "good" / checkpoint.FILE, weights_only=True)
    torch.save(dict(state, version="0.0.1"), root / "old.pt")
    return root


W = "{world}"
TINY = ("train.adam_steps=2", "train.lbfgs_steps=0", "model.width=8", "model.depth=1")
ROWS = [
    # the schema: ranges, choices and types of every group
    (["case.E=-1"], "case.E = -1.0"),
    (["case.nu=0.5"], "case.nu = 0.5"),
    (["case.nu=abc"], "case.nu"),
    (["case.height=0"], "case.height"),
    (["case=nonexistent"], "case/nonexistent"),
    (["case.lenght=3"], "did you mean case.length"),
    (["model.activation=foo"], "model.activation = 'foo'"),
    (["model.width=0"], "model.width = 0"),
    (["model.depth=-1"], "model.depth = -1"),
    (["model.init=bogus"], "model.init = 'bogus'"),
    (["model.init_variance=0"], "model.init_variance"),
    (["model.widht=64"], "did you mean model.width"),
    (["model.activation=relu"], "model.activation = 'relu'"),
    (["train.adam_steps=-5"], "train.adam_steps = -5"),
    (["train.adam_steps=1e3"], "train.adam_steps"),
    (["train.lbfgs_steps=abc"], "train.lbfgs_steps"),
    (["train.lr=0"], "train.lr = 0.0"),
    (["train.lr=nan"], "train.lr"),
    (["train.lr_final=-1"], "train.lr_final"),
    (["train.n_interior=0"], "train.n_interior"),
    (["train.n_boundary=0"], "train.n_boundary"),
    (["train.output_layer=magic"], "train.output_layer = 'magic'"),
    (["train.derivatives=symbolic"], "train.derivatives"),
    (["train.output_layer=solve", "train.derivatives=autograd"], "train.output_layer"),
    (["train.energy_polish=maybe"], "train.energy_polish"),
    (["train.head_ridge=-1"], "train.head_ridge"),
    (["train.tolerance=-1e-6"], "train.tolerance"),
    (["train.checkpoint_every=-1"], "train.checkpoint_every"),
    (["train.typo=1"], "train.typo: unknown key"),
    (["+train.loss_weights.bogus=1"], "train.loss_weights.bogus: unknown term"),
    (["+train.loss_weights.navier=-1"], "train.loss_weights.navier"),
    (["output.resolution=2"], "output.resolution = 2"),
    (["output.resolution=abc"], "output.resolution"),
    (["output.snapshots_every=-1"], "output.snapshots_every"),
    (["device=tpu"], "device = 'tpu'"),
    (["dtype=float16"], "dtype = 'float16'"),
    (["reference=abaqus"], "reference = 'abaqus'"),
    (["seed=abc"], "seed"),
    (["bogus=1"], "bogus: unknown key"),
    (["--cfg", "job", "case.E=-1"], "case.E = -1.0"),
    # inverse runs and their data files
    (["inverse.unknowns=[G]"], "inverse.unknowns = 'G'"),
    (["inverse.unknowns=[E,E]"], "inverse.unknowns"),
    (["inverse.unknowns=[E,mu]"], "mixes E/nu with lam/mu"),
    (["inverse.unknowns=[E]"], "inverse.data"),
    (["inverse.field=G"], "inverse.field"),
    (["inverse.unknowns=[E]", "inverse.data=missing.csv"], "missing.csv"),
    (["inverse.unknowns=[E]", f"inverse.data={W}/nan.csv"], "nan.csv:2"),
    (["inverse.unknowns=[E]", f"inverse.data={W}/outside.csv"], "outside"),
    (["inverse.unknowns=[E]", f"inverse.data={W}/header3d.csv"], "header3d.csv"),
    (["inverse.unknowns=[E]", f"inverse.data={W}/dupes.csv"], "repeats the point"),
    (["inverse.unknowns=[E]", f"inverse.data={W}/negstd.csv"], "negstd.csv"),
    (["inverse.unknowns=[E]", "inverse.start.nu=0.2", f"inverse.data={W}/nan.csv"], "inverse.start.nu"),
    # checkpoints to resume
    (["train.resume=/nonexistent/run"], "train.resume = '/nonexistent/run'"),
    ([f"train.resume={W}/text.pt"], "text.pt"),
    ([f"train.resume={W}/truncated.pt"], "truncated or corrupt"),
    ([f"train.resume={W}/old.pt"], "written by pinn-elastic 0.0.1"),
    ([f"train.resume={W}/good", "model.width=16"], "model.width=8, this run has model.width=16"),
    ([f"train.resume={W}/good", "case=plate_hole"], "the checkpoint is of a run with case="),
    ([f"train.resume={W}"], "holds no checkpoint.pt"),
    # case files: the user's Python, YAML cases, mesh files
    (["--config-dir", f"{W}/conf", "case=misspelt"], "boundary 'innr' is not a boundary"),
    (["--config-dir", f"{W}/conf", "case=crashes"], "ZeroDivisionError at crashes.py"),
    (["--config-dir", f"{W}/conf", "case=syntax"], "SyntaxError at syntax.py:1"),
    (["--config-dir", f"{W}/conf", "case=lug_missing"], "nope.msh"),
    (["--config-dir", f"{W}/conf", "case=lug_garbage"], "garbage.msh"),
    (["--config-dir", f"{W}/conf", "case=lug_boundary"], "hloe"),
    (["--config-dir", f"{W}/conf", "case=lug_import"], "__import__"),
    (["--config-dir", f"{W}/conf", "case=lug_name"], "p1"),
    (["--config-dir", f"{W}/conf", "case=lug_attribute"], "real"),
    (["--config-dir", f"{W}/conf", "case=lug_ok", "case.E=-3"], "case.E"),
    (
        ["--config-dir", str(FIXTURE / "conf"), "case=thick_cylinder", "case.source=gone.py"],
        "case.source = 'gone.py'",
    ),
    # the run folder
    ([f"hydra.run.dir={W}/a_file/run"], "a_file"),
]


@pytest.mark.parametrize("args, needle", ROWS, ids=[" ".join(a)[:60] for a, _ in ROWS])
def test_bad_input_is_one_line_exit_2_and_leaves_no_result(world, args, needle, tmp_path):
    args = [a.replace(W, str(world)) for a in args]
    run_dir = (
        [] if any(a.startswith("hydra.run.dir") for a in args) else [f"hydra.run.dir={tmp_path / 'run'}"]
    )
    flags = args[:2] if args[0].startswith("--") else []  # options go before the overrides
    code, stderr = call(*flags, *TINY, *args[len(flags) :], *run_dir)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, stderr
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("pinn-elastic: error: ") and needle.replace(W, str(world)) in lines[0], lines[
        0
    ]
    assert not [p for name in RESULTS for p in tmp_path.rglob(name)]


def test_the_table_is_long_enough():
    assert len(ROWS) >= 40
