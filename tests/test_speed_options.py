"""train.compile (and its eager fallback), dtype=mixed, and the error monitor during training."""

import logging
import math

import pytest
import torch

from pinn_elastic import compiling
from pinn_elastic.config import Config, ModelConfig, TrainConfig
from pinn_elastic.monitor import time_to_reach
from pinn_elastic.runner import Solver


def _solver(dtype: str = "float64", **train) -> Solver:
    base = dict(n_interior=256, n_boundary=64, log_every=10, tolerance=0.0)  # train every step
    return Solver(
        Config(
            case={"name": "cantilever"},
            model=ModelConfig(width=16, depth=2),
            train=TrainConfig(**{**base, **train}),
            dtype=dtype,
        )
    )


def _loss_and_grads(solver: Solver):
    colloc = solver.sample()
    loss, _ = solver.loss(colloc)
    params = [p for p in solver.field.network.hidden.parameters()]
    grads = torch.autograd.grad(loss, params)
    return loss.detach(), grads


@pytest.mark.parametrize("output_layer", ["train", "solve"])
def test_compiled_step_gives_the_eager_loss_and_gradients(output_layer):
    eager = _loss_and_grads(_solver(output_layer=output_layer))
    compiled_solver = _solver(output_layer=output_layer, compile=True)
    compiled = _loss_and_grads(compiled_solver)
    wrappers = (
        [compiled_solver.loss._plain_terms]
        if output_layer == "train"
        else [compiled_solver.loss._features, compiled_solver.loss._head_terms]
    )
    assert all(w.is_compiled for w in wrappers)  # it really ran compiled, no silent fallback
    assert torch.allclose(compiled[0], eager[0], rtol=1e-10, atol=0)
    for c, e in zip(compiled[1], eager[1]):
        assert (c - e).abs().max() <= 1e-8 * e.abs().max()  # fused kernels round differently


def test_compile_failure_falls_back_to_eager_with_one_clear_message(monkeypatch, caplog):
    def broken_compile(fn, **kwargs):
        def run(*args):
            raise RuntimeError("no C++ compiler found\nlong details")

        return run

    monkeypatch.setattr(compiling.torch, "compile", broken_compile)
    solver = _solver(output_layer="train", compile=True)
    expected = _loss_and_grads(_solver(output_layer="train"))[0]
    with caplog.at_level(logging.WARNING):
        colloc = solver.sample()
        first, second = solver.loss(colloc)[0], solver.loss(colloc)[0]
    assert torch.allclose(first, expected) and torch.allclose(second, expected)
    messages = [r.getMessage() for r in caplog.records if "train.compile" in r.getMessage()]
    assert len(messages) == 1
    assert "running it eager" in messages[0] and "RuntimeError: no C++ compiler found" in messages[0]
    assert "\n" not in messages[0]


def test_mixed_precision_runs_adam_in_float32_then_lbfgs_in_float64(monkeypatch):
    solver = _solver("mixed", adam_steps=20, lbfgs_steps=20)
    seen = []
    call = type(solver.loss).__call__

    def spy(self, colloc):
        seen.append((next(solver.field.parameters()).dtype, colloc.interior.dtype))
        return call(self, colloc)

    monkeypatch.setattr(type(solver.loss), "__call__", spy)
    history = solver.train()
    f32, f64 = (torch.float32,) * 2, (torch.float64,) * 2
    assert set(seen) == {f32, f64}  # parameters and points always in the same precision
    first64 = seen.index(f64, seen.index(f32))
    assert f32 not in seen[first64:] and seen[-1] == f64  # no going back once L-BFGS starts
    assert next(solver.field.parameters()).dtype == torch.float64
    assert history.phase[0] == "start" and "adam" in history.phase and history.phase[-1] == "lbfgs"
    errors = history.monitored["rel_l2_displacement"]
    end_of_adam = errors[max(i for i, phase in enumerate(history.phase) if phase == "adam")]
    assert errors[-1] < 0.5 * end_of_adam  # float64 L-BFGS recovers digits float32 Adam lost
    assert errors[-1] < 1e-2, errors


def test_monitor_tracks_the_displacement_error_while_training():
    solver = _solver(adam_steps=20, lbfgs_steps=0)
    history = solver.train()
    errors = history.monitored["rel_l2_displacement"]
    assert len(errors) == len(history.step) and history.step[0] == 0
    _, _, metrics = solver.evaluate(solver.problem.geometry.mesh(81))
    # Monte-Carlo estimate at 4096 points against the mesh quadrature: same error, other rule
    assert errors[-1] == pytest.approx(metrics["rel_l2_displacement"], rel=0.3)


def test_time_to_reach():
    assert time_to_reach([0.5, 1.0, 2.0], [1e-1, 5e-3, 1e-4], 1e-2) == 1.0
    assert time_to_reach([0.5, 1.0], [1e-1, 5e-2], 1e-2) is None
    assert math.isclose(time_to_reach([0.5], [1e-2], 1e-2), 0.5)


def test_a_float32_runs_error_estimate_sees_its_round_off(tmp_path):
    """The polishes estimate in float64; the exported float32 fields carry ~1e-7 of round-off,
    which the estimate must include (before: 7e-15 against a true 2e-7)."""
    from pinn_elastic.pipeline import run
    from tests.conftest import make_config

    config = make_config(
        "case=cantilever", "train=quick", "dtype=float32", "output.plots=false", "output.vtu=false"
    )
    metrics = run(config, tmp_path)
    assert metrics["round_off"] > 1e-9
    error, estimate = metrics["rel_l2_displacement"], metrics["error_estimate"]
    assert error / 10 < estimate < error * 10, (error, estimate)
