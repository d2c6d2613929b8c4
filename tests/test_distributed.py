"""Several ranks (torchrun, gloo on the CPU) against one process on the same points."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pinn_elastic import distributed
from pinn_elastic.collocation import sample_collocation
from pinn_elastic.distributed import Group, shard_rows, triangular_factor, triangular_system
from pinn_elastic.errors import ConfigError
from pinn_elastic.losses import loss_terms, residuals, total_loss
from pinn_elastic.lstsq import training_residual
from pinn_elastic.runner import Solver
from tests.conftest import REPO, make_config

SMALL = [
    "case=plate_hole", "device=cpu", "model.width=32", "train.n_interior=512", "train.n_boundary=256",
    "train.adam_steps=30", "train.lbfgs_steps=0", "train.polish=false", "train.energy_polish=never",
    "output.plots=false", "output.vtu=false",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
        f"--master_port={free_port()}", *args,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO), "PINN_ELASTIC_PROGRESS": "0"}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


class ShardOnly(Group):
    """A rank's view of the sharding without a process group (its collectives are local)."""

    def first(self, value):
        return value


def test_shards_partition_the_batch_and_their_losses_add_up():
    """Each rank's shard is its rows of the one batch; the shards' loss parts sum to the batch's
    loss (every term a mean over the whole batch), with the exact constraints' lifts too."""
    solver = Solver(
        make_config("case=cantilever", "device=cpu", "train.n_interior=101", "train.n_boundary=67")
    )
    args = (solver.problem, solver.scales, 101, 67)
    whole = sample_collocation(*args, torch.Generator().manual_seed(5), torch.float64, solver.constraints)
    parts = [
        sample_collocation(
            *args, torch.Generator().manual_seed(5), torch.float64, solver.constraints, ShardOnly(rank, 3)
        )
        for rank in range(3)
    ]
    interior = torch.cat([p.interior for p in parts])
    assert interior.shape == whole.interior.shape
    order = torch.cat([torch.arange(101)[shard_rows(101, Group(r, 3))] for r in range(3)])
    assert torch.equal(interior, whole.interior[order])
    rows = {t.name: (t.rows.stop - t.rows.start) * len(t.components) for t in whole.terms}
    assert parts[0].rows_total == {"navier": 202, **rows}

    def loss(colloc):
        interior_jet, boundary_jet = solver.field.jets(colloc)
        residual = residuals(interior_jet, boundary_jet, colloc, solver.lam_hat, solver.mu_hat)
        terms = loss_terms(residual, colloc.rows_total)
        return total_loss(terms, {})

    with torch.no_grad():
        assert float(sum(loss(p) for p in parts)) == pytest.approx(float(loss(whole)), rel=1e-13)


def test_one_process_triangular_factor_is_the_qr_of_the_system():
    generator = torch.Generator().manual_seed(0)
    A = torch.randn(50, 7, generator=generator, dtype=torch.float64)
    b = torch.randn(50, generator=generator, dtype=torch.float64)
    R, qtb = triangular_factor(A, b, distributed.SINGLE)
    theta = torch.linalg.solve_triangular(R, qtb[:, None], upper=True)[:, 0]
    assert torch.allclose(theta, torch.linalg.lstsq(A, b).solution, rtol=1e-12, atol=1e-14)
    least = (A @ theta - b).norm() / b.norm()
    residual = training_residual(triangular_system(A, b, distributed.SINGLE))
    assert float(residual) == pytest.approx(float(least), rel=1e-12)


def test_a_sweep_under_torchrun_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pinn-elastic", "-m", "seed=0,1"])
    with pytest.raises(ConfigError, match="torchrun"):
        distributed_join(Group(1, 2))


def distributed_join(group: Group) -> None:
    from pinn_elastic.cli import _join_rank_zero

    _join_rank_zero(group)


def test_collectives_match_one_process_on_the_same_rows(tmp_path):
    """Tall-skinny QR, the sharded training head and the reduced loss and gradient (two gloo
    ranks) against one process on the whole batch."""
    out = tmp_path / "collectives.json"
    done = torchrun("-m", "tests.distributed_worker", str(out), cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["world"] == 2
    assert result["tsqr_random"] < 1e-12 and result["tsqr_residual"] < 1e-12
    # the head system's condition times round-off: one process on the same rows in another order
    # moves the solution as much
    assert result["head_solution"] < 1e-9
    assert result["head_solution"] < 5 * result["head_solution_reordered"] + 1e-13
    assert result["head_loss"] < 1e-12
    assert result["rows_part"] == result["rows_whole"]
    assert result["loss"] < 1e-13 and result["loss_fixed_head"] < 1e-13
    # a sum over another order of the points: round-off times the terms' cancellation (~1e4 here)
    assert result["gradient_fixed_head"] < 1e-9
    assert result["gradient"] < 1e-5


def test_two_ranks_train_as_one_process_and_only_rank_zero_writes(tmp_path):
    one = subprocess.run(
        [sys.executable, "-m", "pinn_elastic", *SMALL, f"hydra.run.dir={tmp_path / 'one'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr[-2000:]
    two = torchrun("-m", "pinn_elastic", *SMALL, f"hydra.run.dir={tmp_path / 'two'}", cwd=tmp_path)
    assert two.returncode == 0, two.stderr[-3000:]
    m1 = json.loads((tmp_path / "one" / "metrics.json").read_text())
    m2 = json.loads((tmp_path / "two" / "metrics.json").read_text())
    # the same steps on the same batch: Adam's path differs by the gradients' round-off alone
    assert m2["final_loss"] == pytest.approx(m1["final_loss"], rel=1e-4)
    assert m2["rel_l2_displacement"] == pytest.approx(m1["rel_l2_displacement"], rel=1e-4)
    assert m2["adam_steps_run"] == m1["adam_steps_run"] == 30
    # one run folder, rank 0's files only, each log line once
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]
    files = sorted(p.name for p in (tmp_path / "two").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "one").iterdir())
    log = (tmp_path / "two" / "pinn_elastic.log").read_text()
    assert log.count("adam      30/30") == 1
    assert two.stdout.count("results:") == one.stdout.count("results:") == 1


def test_bad_input_under_torchrun_is_one_line_and_leaves_no_folder(tmp_path):
    """A value error (raised on every rank) and a Hydra error before the run (rank 0 alone):
    one line from rank 0, the other ranks stop with it, no run folder, no stray folders."""
    for bad in ("train.lr=-1", "case=nosuch"):
        run_dir = tmp_path / "outputs" / "run"
        done = torchrun("-m", "pinn_elastic", "device=cpu", bad, f"hydra.run.dir={run_dir}", cwd=tmp_path)
        assert done.returncode != 0
        lines = [line for line in done.stderr.splitlines() if line.startswith("pinn-elastic: error:")]
        assert len(lines) == 1, done.stderr[-2000:]
        assert bad.split("=")[0] in lines[0]
        assert "pinn_elastic/" not in done.stderr  # no traceback of ours (torchrun prints its own report)
        assert not run_dir.exists() and list(tmp_path.iterdir()) == []
