"""The study collector on a small real multirun."""

import csv
import json

import pytest

from pinn_elastic.study import main

from .conftest import run_cli


def test_joblib_sweep_rerun_under_submitit_trains_nothing_again_and_is_tabulated(tmp_path, capsys):
    """Hydra's joblib launcher runs the sweep (two processes); the same sweep rerun with
    submitit's local executor (the Slurm launcher without Slurm) finds both runs complete."""
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    sweep = (
        "-m", "model.activation=gelu,tanh", "train=quick", "train.adam_steps=5", "train.lbfgs_steps=0",
        "model.width=16", "train.polish=false", "train.energy_polish=never", "output.vtu=false",
        "output.plots=false", "output.resolution=21", "train.resume=auto", f"hydra.sweep.dir={tmp_path}",
    )  # fmt: skip
    result = run_cli(tmp_path, *sweep, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert result.returncode == 0, result.stderr[-2000:]
    first = {p: p.read_text() for p in tmp_path.rglob("metrics.json")}
    assert len(first) == 2
    again = run_cli(tmp_path, *sweep, "hydra/launcher=submitit_local")  # a rerun after an interruption
    assert again.returncode == 0, again.stderr[-2000:]
    logs = [p.read_text() for p in tmp_path.rglob("pinn_elastic.log")]
    assert len(logs) == 2 and all("nothing trained" in text for text in logs)
    for path, text in first.items():
        before, after = json.loads(text), json.loads(path.read_text())
        assert after["rel_l2_displacement"] == before["rel_l2_displacement"]
    main([str(tmp_path)])
    printed = capsys.readouterr().out
    assert "| gelu |" in printed and "| tanh |" in printed
    rows = list(csv.DictReader((tmp_path / "study.csv").open()))
    assert {r["activation"] for r in rows} == {"gelu", "tanh"}
    assert all(float(r["rel_l2_displacement_median"]) > 0 for r in rows)
    assert (tmp_path / "study.png").stat().st_size > 1000
