"""The study collector on a small real multirun."""

import csv

from pinn_elastic.study import main

from .conftest import run_cli


def test_collector_tabulates_a_multirun(tmp_path, capsys):
    result = run_cli(
        tmp_path,
        "-m",
        "model.activation=gelu,tanh",
        "train=quick",
        "train.adam_steps=5",
        "train.lbfgs_steps=0",
        "output.vtu=false",
        "output.plots=false",
        "output.resolution=21",
        f"hydra.sweep.dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    main([str(tmp_path)])
    printed = capsys.readouterr().out
    assert "| gelu |" in printed and "| tanh |" in printed
    rows = list(csv.DictReader((tmp_path / "study.csv").open()))
    assert {r["activation"] for r in rows} == {"gelu", "tanh"}
    assert all(float(r["rel_l2_displacement_median"]) > 0 for r in rows)
    assert (tmp_path / "study.png").stat().st_size > 1000
