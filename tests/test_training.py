"""Training: the loss falls and small budgets reach honest accuracy (non-finite losses: test_checkpoint)."""

import math

import torch

from pinn_elastic.config import Config, ModelConfig, TrainConfig
from pinn_elastic.runner import Solver


def _config(**train) -> Config:
    base = dict(n_interior=512, n_boundary=128, log_every=25, tolerance=0.0)  # train every step
    return Config(
        case={"name": "cantilever"},
        model=ModelConfig(width=32, depth=3),
        train=TrainConfig(**{**base, **train}),
    )


def test_plain_pinn_loss_falls_with_adam_then_lbfgs():
    solver = Solver(_config(output_layer="train", adam_steps=150, lbfgs_steps=50, lr=3e-3))
    history = solver.train()
    adam = [loss for loss, phase in zip(history.loss, history.phase) if phase == "adam"]
    assert adam[-1] < 0.2 * adam[0]
    assert history.lbfgs_start == 151 and history.loss[-1] <= min(adam)
    assert set(history.terms) >= {"navier", "traction_right", "traction_top", "traction_bottom"}


def test_small_budget_default_method_is_accurate():
    solver = Solver(_config(adam_steps=30, lbfgs_steps=10))
    solver.train()
    _, _, metrics = solver.evaluate(solver.problem.geometry.mesh(61))
    assert metrics["rel_l2_displacement"] < 1e-3, metrics
    assert metrics["rel_l2_stress"] < 1e-2, metrics
    assert math.isclose(metrics["tip_deflection"], metrics["tip_deflection_exact"], rel_tol=1e-3)


def test_relu_cannot_fit_the_beam():
    config = _config(adam_steps=30, lbfgs_steps=0)
    config.model = ModelConfig(activation="relu", width=32, depth=3, allow_zero_curvature=True)
    solver = Solver(config)
    solver.train()
    _, _, metrics = solver.evaluate(solver.problem.geometry.mesh(41))
    assert metrics["rel_l2_stress"] > 0.5  # zero curvature: the stress field is of order-1 wrong


def test_short_plate_runs_fall_and_converge():
    config = Config(
        case={"name": "plate_hole"},
        train=TrainConfig(
            n_interior=512, n_boundary=128, adam_steps=150, lbfgs_steps=50, lr_final=1e-2, log_every=25
        ),
    )
    solver = Solver(config)
    history = solver.train()
    assert history.loss[-1] < 1e-2 * history.loss[0]
    _, _, metrics = solver.evaluate(solver.problem.geometry.mesh(41))
    assert metrics["rel_l2_displacement"] < 1e-2, metrics
    assert abs(metrics["scf"] - 3.0) < 0.06

    solver = Solver(
        Config(
            case={"name": "manufactured"},
            train=TrainConfig(n_interior=512, n_boundary=128, adam_steps=20, lbfgs_steps=0),
        )
    )
    solver.train()
    _, _, metrics = solver.evaluate(solver.problem.geometry.mesh(41))
    assert metrics["rel_l2_displacement"] < 1e-3, metrics


def test_progress_line_is_drawn_on_request_and_not_in_a_pipe(capsys):
    from pinn_elastic.progress import Progress, wanted

    assert not wanted()  # pytest's stderr is not a terminal: plain log lines only
    solver = Solver(_config(adam_steps=12, lbfgs_steps=3, log_every=4))
    trainer_progress = Progress(enabled=True)
    solver.train()  # the solver's own progress: off here
    assert "step/s" not in capsys.readouterr().err
    from pinn_elastic.training import Trainer

    params = [p for p in solver.field.parameters() if p not in set(solver.field.network.head.parameters())]
    Trainer(
        solver.field, params, solver.loss, solver.sample, solver.schedule(), progress=trainer_progress
    ).run()
    drawn = capsys.readouterr().err
    assert "adam" in drawn and "/12 [" in drawn and "lbfgs" in drawn and "loss=" in drawn


def test_adam_stops_when_the_loss_stops_falling():
    from pinn_elastic.config import TrainConfig

    stalled = Solver(_config(adam_steps=60, lbfgs_steps=0, lr=1e-12, lr_final=1e-12, adam_patience=10))
    history = stalled.train()  # a learning rate of 1e-12 leaves the loss where it is
    assert history.adam_stop == "stalled" and history.adam_steps_run == 10
    moving = Solver(_config(adam_steps=30, lbfgs_steps=0, output_layer="train", adam_patience=10))
    assert moving.train().adam_stop == "budget"  # a plain network keeps gaining
    assert TrainConfig().adam_patience == 0  # off by default (README: Performance)


def test_adam_ends_early_where_no_step_gains_on_the_least_squares_start():
    from pinn_elastic.config import TrainConfig

    still = Solver(_config(adam_steps=60, lbfgs_steps=0, lr=1e-12, lr_final=1e-12, adam_probe=7))
    history = still.train()
    assert history.adam_stop == "no gain on the start" and history.adam_steps_run == 7
    moving = Solver(_config(adam_steps=30, lbfgs_steps=0, output_layer="train", adam_probe=7))
    assert moving.train().adam_stop == "budget"  # gains on the start from the first steps
    assert TrainConfig().adam_probe == 25  # on by default (README: Performance)


def test_training_ends_at_the_start_where_the_polished_start_meets_the_tolerance():
    """The cantilever's field is a cubic polynomial: the enriched features of the least-squares
    start already span it, so the start's polish meets the tolerance and nothing is trained."""
    solver = Solver(_config(adam_steps=40, lbfgs_steps=10, tolerance=1e-6))
    history = solver.train()
    assert history.tolerance_met is True and history.adam_steps_run == 0
    assert history.adam_stop == history.lbfgs_stop == "tolerance met" and history.lbfgs_iterations == 0
    check = history.tolerance_check
    assert check["met"] and check["estimate"] <= 1e-6 and check["residual"] <= 1e-6
    assert solver.early_polish is not None and solver.field.network.readout is not None
    _, _, metrics = solver.evaluate(solver.problem.geometry.mesh(61))
    assert metrics["rel_l2_displacement"] < 1e-6, metrics  # the estimate did not lie


def test_a_check_that_fails_leaves_training_exactly_as_without_it():
    """An unmet tolerance costs a polish and nothing else: the polish is undone and draws its
    points from its own generators, so the trained weights are bit for bit those of a run
    without the check."""
    checked = Solver(_config(adam_steps=15, lbfgs_steps=5, tolerance=1e-30))
    history = checked.train()
    check = history.tolerance_check
    assert check is not None and not check["met"] and history.tolerance_met is False
    assert history.adam_steps_run == 15 and history.lbfgs_iterations > 0
    assert checked.field.network.readout is None and checked.early_polish is None
    plain = Solver(_config(adam_steps=15, lbfgs_steps=5, tolerance=0.0))
    assert plain.train().tolerance_check is None
    for a, b in zip(checked.field.state_dict().values(), plain.field.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_the_residual_keeps_a_loose_tolerance_from_stopping_a_start_that_misses_the_solution():
    """The plate with a hole at the start: the polish's estimate (a few 1e-2) understates the
    true error (a few 1e-1); the relative residual does not, so a tolerance of 0.1 is not met."""
    config = Config(
        case={"name": "plate_hole"},
        train=TrainConfig(n_interior=512, n_boundary=128, adam_steps=2, lbfgs_steps=0, tolerance=0.1),
    )
    solver = Solver(config)
    check = solver.train().tolerance_check
    _, _, metrics = solver.evaluate(solver.problem.geometry.mesh(41))
    assert not check["met"] and check["residual"] > 0.1
    assert metrics["rel_l2_displacement"] > 0.1  # the start was indeed far from the solution


def test_the_tolerance_is_checked_only_where_its_estimate_exists():
    assert TrainConfig().tolerance == 1e-6  # on by default (README: Performance)
    assert Solver(_config(tolerance=1e-6)).tolerance_applies()
    assert not Solver(_config(tolerance=0.0)).tolerance_applies()
    assert not Solver(_config(tolerance=1e-6, polish=False)).tolerance_applies()
    assert not Solver(_config(tolerance=1e-6, output_layer="train")).tolerance_applies()
    assert not Solver(_config(tolerance=1e-6, objective="energy")).tolerance_applies()
