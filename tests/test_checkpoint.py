"""Checkpoints, resume, rollback after non-finite losses, and reuse of a finished run."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import stat

import meshio
import numpy as np
import pytest
import torch

import pinn_elastic
from pinn_elastic import checkpoint
from pinn_elastic.atomic import current_umask
from pinn_elastic.config import Config, ModelConfig, OutputConfig, TrainConfig
from pinn_elastic.errors import ConfigError
from pinn_elastic.pipeline import run
from pinn_elastic.runner import Solver
from pinn_elastic.trained import main as export_main
from pinn_elastic.training import Schedule, Trainer, TrainingInterruptedError


def _config(case: str = "plate_hole", **train) -> Config:
    base = dict(
        n_interior=256, n_boundary=96, adam_steps=30, lbfgs_steps=40, log_every=10, checkpoint_every=10,
        tolerance=0.0,  # these tests are about training's state: train every step
    )  # fmt: skip
    return Config(
        case={"name": case},
        model=ModelConfig(width=16, depth=2),
        train=TrainConfig(**{**base, **train}),
        output=OutputConfig(resolution=31, plots=False),
        device="cpu",
    )


def _train(config: Config, stop_when=None, resume=None):
    """Train a fresh solver; returns it and every checkpoint the trainer asked for."""
    solver, saved = Solver(config), []

    def should_stop() -> bool:
        return stop_when is not None and stop_when(solver.trainer)

    solver.train(
        resume=resume,
        checkpoint=lambda trainer: saved.append(copy.deepcopy(trainer.state_dict())),
        should_stop=should_stop,
    )
    return solver, saved


def _same_training(a: Solver, b: Solver) -> None:
    for (name, p), q in zip(a.field.state_dict().items(), b.field.state_dict().values()):
        assert torch.equal(p, q), name
    ha, hb = a.trainer.history, b.trainer.history
    assert ha.loss == hb.loss and ha.step == hb.step and ha.lbfgs_iterations == hb.lbfgs_iterations


@pytest.fixture(scope="module")
def uninterrupted():
    solver, saved = _train(_config())
    assert solver.trainer.history.lbfgs_iterations >= 20  # the interruption below falls inside L-BFGS
    return solver, saved


@pytest.mark.parametrize(
    "phase, stop_when",
    [
        ("adam", lambda t: t.phase == "adam" and t.step == 17),
        ("lbfgs", lambda t: t.phase == "lbfgs" and t.lbfgs_evaluations == 17),  # mid-chunk: back to its start
        ("lbfgs", lambda t: t.phase == "lbfgs"),  # before L-BFGS's first evaluation
    ],
)
def test_interrupted_and_resumed_training_ends_bit_for_bit_like_an_uninterrupted_one(
    uninterrupted, phase, stop_when
):
    reference, _ = uninterrupted
    config = _config()
    states = []
    solver = Solver(config)
    with pytest.raises(TrainingInterruptedError) as info:
        solver.train(
            checkpoint=lambda trainer: states.append(copy.deepcopy(trainer.state_dict())),
            should_stop=lambda: stop_when(solver.trainer),
        )
    assert info.value.phase == phase
    last = states[-1]
    assert last["phase"] == phase
    resumed, _ = _train(config, resume=last)
    _same_training(reference, resumed)


def test_resume_from_a_periodic_checkpoint_after_a_kill(uninterrupted):
    """SIGKILL leaves the last periodic checkpoint: mid-Adam and after an L-BFGS chunk."""
    reference, saved = uninterrupted
    adam = next(s for s in saved if s["phase"] == "adam" and s["step"] == 20)
    lbfgs = next(s for s in saved if s["phase"] == "lbfgs" and s["lbfgs_done"] > 0)
    done = saved[-1]  # training over: a kill in the polish or the export
    assert done["phase"] == "done"
    for state in (adam, lbfgs, done):
        resumed, _ = _train(_config(), resume=copy.deepcopy(state))
        _same_training(reference, resumed)


def test_mixed_precision_resumes_in_float32_adam_bit_for_bit():
    config = _config(adam_steps=20, lbfgs_steps=10)
    config.dtype = "mixed"
    reference, _ = _train(config)
    states = []
    solver = Solver(config)
    with pytest.raises(TrainingInterruptedError):
        solver.train(
            checkpoint=lambda trainer: states.append(copy.deepcopy(trainer.state_dict())),
            should_stop=lambda: solver.trainer.phase == "adam" and solver.trainer.step == 7,
        )
    assert next(iter(states[-1]["module"].values())).dtype == torch.float32
    resumed, _ = _train(config, resume=states[-1])
    _same_training(reference, resumed)


def test_a_nan_rolls_back_lowers_the_learning_rate_and_training_goes_on():
    solver = Solver(_config(output_layer="train", adam_steps=40, lbfgs_steps=0, lr=1e-3, lr_final=1e-3))
    calls = {"n": 0}

    def once_nan(colloc):
        calls["n"] += 1
        loss, terms = solver.loss(colloc)
        return (loss * math.nan if calls["n"] == 15 else loss), terms

    schedule = Schedule(adam_steps=40, lbfgs_steps=0, lr=1e-3, lr_final=1e-3, log_every=5, lbfgs_history=10)
    params = list(solver.field.parameters())
    trainer = Trainer(solver.field, params, once_nan, solver.sample, schedule)
    history = trainer.run()
    assert history.rollbacks == [("adam", 14)] and not history.diverged
    assert history.adam_steps_run == 40  # training went on to the end of its budget
    assert trainer.lr_scale == pytest.approx(0.1)
    assert all(torch.isfinite(p).all() for p in params)
    assert history.loss[-1] < history.loss[0]


def test_nan_after_nan_ends_the_phase_on_the_best_state_and_says_diverged():
    solver = Solver(_config(output_layer="train"))
    calls = {"n": 0}

    def exploding(colloc):
        calls["n"] += 1
        loss, terms = solver.loss(colloc)
        return (loss * math.nan if calls["n"] > 12 else loss), terms

    schedule = Schedule(
        adam_steps=50, lbfgs_steps=20, lr=1e-3, lr_final=1e-4, log_every=5, lbfgs_history=10, max_rollbacks=3
    )
    params = list(solver.field.parameters())
    history = Trainer(solver.field, params, exploding, solver.sample, schedule).run()
    assert history.diverged and len(history.rollbacks) == 3 and history.adam_stop == "non-finite loss"
    assert history.lbfgs_stop == "not run"  # a diverged run does not go on to L-BFGS
    assert all(torch.isfinite(p).all() for p in params)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    config = _config("cantilever", adam_steps=20, lbfgs_steps=10)
    metrics = run(config, out)
    return out, metrics


def test_finished_run_writes_a_complete_checkpoint_readable_without_code(finished_run):
    out, _ = finished_run
    state = torch.load(out / checkpoint.FILE, weights_only=True)
    assert state["phase"] == "complete" and state["version"] == pinn_elastic.__version__
    assert state["config"]["model"]["width"] == 16


def test_load_evaluates_like_the_exported_fields(finished_run):
    out, _ = finished_run
    model = pinn_elastic.load(out)
    vtu = meshio.read(out / "fields.vtu")
    points = np.asarray(vtu.points)[:, :2]
    u = model.displacement(points)
    assert np.allclose(u, vtu.point_data["displacement"][:, :2], rtol=0, atol=1e-12 * np.abs(u).max())
    stress = model.stress(points)
    assert np.allclose(stress[:, 0, 0], vtu.point_data["stress"][:, 0], atol=1e-9 * np.abs(stress).max())
    with pytest.raises(ConfigError, match=r"points.*\(M, 2\)"):
        model.displacement(np.zeros((3, 3)))


def test_export_rewrites_the_run_and_evaluates_at_a_users_points(finished_run, tmp_path, capsys):
    out, metrics = finished_run
    (tmp_path / "gauges.csv").write_text("x,y,label\n1.0,0.0,0\n2.5,0.1,1\n")
    export_main([str(out), "--out", str(tmp_path / "again"), "--points", str(tmp_path / "gauges.csv")])
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert again["rel_l2_displacement"] == metrics["rel_l2_displacement"]
    a = meshio.read(out / "fields.vtu").point_data["displacement"]
    b = meshio.read(tmp_path / "again" / "fields.vtu").point_data["displacement"]
    assert np.array_equal(a, b)
    table = np.genfromtxt(tmp_path / "again" / "gauges_fields.csv", delimiter=",", names=True)
    model = pinn_elastic.load(out)
    assert np.allclose(table["uy"], model.displacement(np.array([[1.0, 0.0], [2.5, 0.1]]))[:, 1], rtol=1e-14)
    with pytest.raises(SystemExit) as exit_info:
        export_main([str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert "run_dir" in capsys.readouterr().err


def test_result_files_follow_the_umask(finished_run):
    out, _ = finished_run
    for name in ("metrics.json", "fields.vtu", checkpoint.FILE):
        mode = stat.S_IMODE(os.stat(out / name).st_mode)
        assert mode == 0o666 & ~current_umask(), (name, oct(mode))


def test_bad_checkpoints_are_refused_in_one_line(finished_run, tmp_path):
    out, _ = finished_run
    good = out / checkpoint.FILE
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:1000])
    text = tmp_path / "text.pt"
    text.write_text("hello")
    for path, match in [
        (truncated, "truncated or corrupt"),
        (text, "truncated or corrupt"),
        (tmp_path, "holds no checkpoint.pt"),
        (tmp_path / "missing.pt", "no such file"),
    ]:
        with pytest.raises(ConfigError, match=match) as info:
            checkpoint.read(path)
        assert "\n" not in str(info.value)
    state = checkpoint.read(good)
    other = _config("cantilever", adam_steps=20, lbfgs_steps=10)
    other.model.width = 32
    with pytest.raises(ConfigError, match=r"model.width=16, this run has model.width=32"):
        checkpoint.check_matches(state, other)
    other = _config("plate_hole", adam_steps=20, lbfgs_steps=10)
    with pytest.raises(ConfigError, match="case="):
        checkpoint.check_matches(state, other)
    old = dict(state, version="0.0.1")
    torch.save(old, tmp_path / "old.pt")
    with pytest.raises(ConfigError, match=r"written by pinn-elastic 0\.0\.1"):
        checkpoint.read(tmp_path / "old.pt")


def test_snapshots_form_a_paraview_time_series_vtk_reads(tmp_path):
    import xml.etree.ElementTree as ET

    vtk = pytest.importorskip("vtk")
    from vtk.util.numpy_support import vtk_to_numpy

    config = _config("cantilever", adam_steps=20, lbfgs_steps=0, checkpoint_every=0)
    config.output = OutputConfig(resolution=21, plots=False, snapshots_every=10)
    run(config, tmp_path)
    datasets = ET.parse(tmp_path / "snapshots.pvd").getroot().find("Collection").findall("DataSet")
    assert [int(d.get("timestep")) for d in datasets] == [1, 10, 20]
    fields = []
    for dataset in datasets:
        reader = vtk.vtkXMLUnstructuredGridReader()
        reader.SetFileName(str(tmp_path / dataset.get("file")))
        reader.Update()
        grid = reader.GetOutput()
        assert grid.GetNumberOfPoints() > 100
        fields.append(vtk_to_numpy(grid.GetPointData().GetArray("displacement")))
    assert not np.allclose(fields[0], fields[-1])  # training moved the field between snapshots


SMALL = (
    "case=plate_hole", "model.width=8", "model.depth=2", "train.n_interior=128", "train.n_boundary=64",
    "train.adam_steps=80", "train.lbfgs_steps=20", "train.polish=false", "train.log_every=10",
    "train.checkpoint_every=10",
    "output.resolution=21", "output.plots=false", "device=cpu",
)  # fmt: skip


def test_sigterm_writes_the_current_state_and_the_printed_resume_line_finishes_the_run(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from .conftest import make_config

    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "pinn_elastic", *SMALL, f"hydra.run.dir={run_dir}"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    log = run_dir / "pinn_elastic.log"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and re.search(r"adam +30/", log.read_text())):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    line = stderr.strip().splitlines()[-1]
    assert "SIGTERM: stopped during adam" in line and "resume with: pinn-elastic " in line, line
    interrupted = json.loads((run_dir / "metrics.json").read_text())
    assert interrupted["interrupted"]["phase"] == "adam" and interrupted["rel_l2_displacement"] > 0
    assert (run_dir / "fields.vtu").exists()
    resume = line.split("resume with: ")[1].split()[1:]
    done = subprocess.run(
        [sys.executable, "-m", "pinn_elastic", *resume], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = json.loads((run_dir / "metrics.json").read_text())
    assert "interrupted" not in resumed and resumed["resumed_from"]["phase"] == "adam"
    straight = run(make_config(*SMALL), tmp_path / "straight")
    for key in ("rel_l2_displacement", "rel_l2_stress", "final_loss", "error_estimate"):
        assert resumed[key] == straight[key], key


def test_a_finished_run_resumed_with_auto_is_not_trained_again(finished_run, tmp_path, caplog):
    out, metrics = finished_run
    copy_dir = tmp_path / "copy"
    import shutil

    shutil.copytree(out, copy_dir)
    config = _config("cantilever", adam_steps=20, lbfgs_steps=10, resume="auto")
    with caplog.at_level("INFO"):
        again = run(config, copy_dir)
    assert "nothing trained" in caplog.text
    assert again["rel_l2_displacement"] == metrics["rel_l2_displacement"]
    fresh = tmp_path / "fresh"  # auto in a folder without a checkpoint starts from scratch
    assert run(config, fresh)["rel_l2_displacement"] == metrics["rel_l2_displacement"]
