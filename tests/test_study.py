"""The study collector on a small real multirun."""

import csv
import json

from pinn_elastic.study import main

from .conftest import run_cli


def test_collector_tabulates_a_multirun_that_a_rerun_does_not_train_again(tmp_path, capsys):
    sweep = (
        "-m", "model.activation=gelu,tanh", "train=quick", "train.adam_steps=5", "train.lbfgs_steps=0",
        "model.width=16", "train.polish=false", "output.vtu=false", "output.plots=false",
        "output.resolution=21", "train.resume=auto", f"hydra.sweep.dir={tmp_path}",
    )  # fmt: skip
    result = run_cli(tmp_path, *sweep)
    assert result.returncode == 0, result.stderr[-2000:]
    first = {p: p.read_text() for p in tmp_path.rglob("metrics.json")}
    again = run_cli(tmp_path, *sweep)  # an interrupted sweep is rerun the same way
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
