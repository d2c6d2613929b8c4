"""The least-squares output layer: the assembled system is the loss, exactly."""

import pytest
import torch

from pinn_elastic.config import Config, ModelConfig, TrainConfig
from pinn_elastic.lstsq import assemble, set_output_layer, solve
from pinn_elastic.runner import Solver
from pinn_elastic.taylor import feature_jet


def _solver(case: str, hard_bc: bool) -> Solver:
    return Solver(
        Config(
            case={"name": case},
            model=ModelConfig(width=12, depth=2),
            train=TrainConfig(n_interior=200, n_boundary=80, hard_bc=hard_bc, output_layer="train"),
        )
    )


def _system(solver: Solver, colloc, weights: dict[str, float]):
    """The least-squares system for the solver's current hidden features."""
    net = solver.field.network
    with torch.no_grad():
        return assemble(
            feature_jet(net, colloc.interior, True),
            feature_jet(net, colloc.boundary, False),
            colloc,
            solver.lam_hat,
            solver.mu_hat,
            weights,
        )


@pytest.mark.parametrize("hard_bc", [True, False])
@pytest.mark.parametrize("case", ["cantilever", "plate_hole", "manufactured"])
def test_assembled_system_reproduces_the_loss_for_any_output_layer(case, hard_bc):
    solver = _solver(case, hard_bc)
    colloc, net = solver.sample(), solver.field.network
    weights = {"navier": 2.0}
    solver.loss.weights = weights
    A, b = _system(solver, colloc, weights)
    generator = torch.Generator().manual_seed(1)
    for _ in range(3):  # the loss is quadratic in theta: A theta - b must match it everywhere
        theta = torch.randn(A.shape[1], generator=generator, dtype=torch.float64)
        set_output_layer(net, theta)
        loss, _ = solver.loss(colloc)
        assert float(((A @ theta - b) ** 2).sum()) == pytest.approx(float(loss), rel=1e-10)


def test_solved_output_layer_is_the_minimum():
    solver = _solver("cantilever", True)
    colloc, net = solver.sample(), solver.field.network
    A, b = _system(solver, colloc, {})
    theta = solve(A, b)
    set_output_layer(net, theta)
    best = float(solver.loss(colloc)[0])
    for scale in (1e-3, 1e-6):
        set_output_layer(net, theta + scale * torch.randn(theta.shape, dtype=theta.dtype))
        assert float(solver.loss(colloc)[0]) > best
