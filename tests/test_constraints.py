"""Exact imposition of displacement conditions and the least-squares output layer."""

import pytest
import torch

from cases.cantilever import Params, build
from pinn_elastic import ConfigError, Displacement, Material, Problem, Rectangle, Traction
from pinn_elastic.collocation import sample_collocation
from pinn_elastic.config import Config, TrainConfig
from pinn_elastic.runner import Solver
from pinn_elastic.scaling import Scales

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


def test_data_singular_off_the_piece_stay_a_soft_penalty():
    """The curved bar's clamp data contain ln r and 1/r: extended along the clamp's line they
    blow up at the origin, on the body's other straight edge, so u_x gets no exact lift."""
    solver = Solver(Config(case={"name": "curved_bar"}, train=TrainConfig(n_interior=64, n_boundary=64)))
    assert 0 not in solver.constraints.component_conditions  # u_x: ln r, 1/r along the line
    assert 1 in solver.constraints.component_conditions  # u_y = 0 there: the lift is zero
    colloc = solver.sample()
    (clamp,) = [t for t in colloc.terms if t.name == "displacement_bottom"]
    assert clamp.components == (0,)  # only u_x stays in the loss
    for jet in (*colloc.interior_constraint, *colloc.boundary_constraint):
        assert all(bool(torch.isfinite(part).all()) for part in (jet.value, jet.grad))


def test_non_finite_case_data_are_a_one_line_error():
    def bad_load(x, normal):
        return torch.stack([torch.log(x[:, 1] - 0.5), torch.zeros_like(x[:, 1])], -1)  # NaN for y < 0.5

    problem = Problem(
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        Material(1.0, 0.3),
        (Displacement("left"), Traction("right", bad_load)),
    )
    scales = Scales((0.5, 0.5), 1.0, 1.0, 1.0)
    with pytest.raises(ConfigError, match="traction data on boundary 'right' are not finite"):
        sample_collocation(problem, scales, 32, 64, torch.Generator().manual_seed(0), f64, None)
