"""Exact imposition of displacement conditions and the least-squares output layer."""

import torch

from cases.cantilever import Params, build
from pinn_elastic.config import Config, TrainConfig
from pinn_elastic.runner import Solver

f64 = torch.float64


def _solver(**train):
    config = Config(case={"name": "cantilever"}, train=TrainConfig(n_interior=256, n_boundary=128, **train))
    return Solver(config)


def test_hard_constraint_reproduces_clamp_data_exactly():
    solver = _solver()
    problem = build(Params())
    y = torch.linspace(-0.5, 0.5, 50, dtype=f64)
    clamp = torch.stack([torch.zeros_like(y), y], -1)
    jet = solver.field.evaluate(solver.scales.to_unit(clamp))
    assert torch.allclose(
        jet.value * solver.scales.displacement, problem.exact_displacement(clamp), atol=1e-14
    )
    # ...whatever the network weights are.
    with torch.no_grad():
        for p in solver.field.parameters():
            p.add_(torch.randn_like(p))
    jet = solver.field.evaluate(solver.scales.to_unit(clamp))
    assert torch.allclose(
        jet.value * solver.scales.displacement, problem.exact_displacement(clamp), atol=1e-14
    )
    # The clamp is no longer a loss term.
    assert "displacement_left" not in solver.loss_term_names()


def test_soft_constraint_keeps_clamp_as_loss_term():
    assert "displacement_left" in _solver(hard_bc=False).loss_term_names()


def test_least_squares_output_layer_is_stationary():
    solver = _solver(output_layer="init")
    colloc = solver.sample()
    before = float(solver.loss(colloc)[0].detach())
    solver.fit_head(colloc)
    loss, _ = solver.loss(colloc)
    head = list(solver.field.network.head.parameters())
    grads = torch.autograd.grad(loss, head)
    assert float(loss.detach()) < 1e-3 * before
    assert max(g.abs().max().item() for g in grads) < 1e-6
    # Any perturbation of the output layer raises the loss (it is the minimum).
    with torch.no_grad():
        head[0].add_(1e-3 * torch.randn_like(head[0]))
    assert float(solver.loss(colloc)[0].detach()) > float(loss.detach())


def test_per_component_hard_constraints_on_the_manufactured_plate():
    config = Config(case={"name": "manufactured"}, train=TrainConfig(n_interior=256, n_boundary=128))
    solver = Solver(config)
    with torch.no_grad():
        for p in solver.field.parameters():
            p.add_(torch.randn_like(p))
    s = torch.linspace(0.01, 0.99, 40, dtype=f64)
    zero, one = torch.zeros_like(s), torch.ones_like(s)
    edges = {
        "bottom": torch.stack([s, zero], -1),
        "top": torch.stack([s, one], -1),
        "left": torch.stack([zero, s], -1),
        "right": torch.stack([one, s], -1),
    }
    u = {name: solver.field.evaluate(solver.scales.to_unit(x)).value for name, x in edges.items()}
    assert u["bottom"].abs().max() < 1e-14  # u_x = u_y = 0
    assert u["top"][:, 0].abs().max() < 1e-14 and u["top"][:, 1].abs().min() > 0  # u_y free on top
    for side in ("left", "right"):
        assert u[side][:, 1].abs().max() < 1e-14 and u[side][:, 0].abs().max() > 0
    names = solver.loss_term_names()
    assert "traction_top_y" in names and not any(n.startswith("displacement") for n in names)
