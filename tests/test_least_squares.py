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
@pytest.mark.parametrize("case", ["cantilever", "plate_hole", "manufactured", "beam3d", "hollow_sphere"])
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


def test_ridge_solution_solves_the_regularised_normal_equations():
    """``solve(A, b, alpha)`` minimises |A theta - b|^2 + alpha^2 |theta|^2, so
    (A^T A + alpha^2 I) theta = A^T b."""
    generator = torch.Generator().manual_seed(3)
    A = torch.randn(200, 30, generator=generator, dtype=torch.float64)
    A[:, -1] = A[:, -2] + 1e-9 * A[:, 0]  # nearly dependent columns: the case the ridge is for
    b = torch.randn(200, generator=generator, dtype=torch.float64)
    for alpha in (1e-7, 1e-3, 1.0):
        theta = solve(A, b, alpha)
        normal = (A.T @ A + alpha**2 * torch.eye(30, dtype=torch.float64)) @ theta - A.T @ b
        assert normal.abs().max() < 1e-9 * (A.T @ b).abs().max()
    # A direction of singular value 1e-8 that the data excite: inverted, it needs a coefficient
    # of 1e8; the ridge bounds every filtered coefficient by |u^T b| / (2 alpha).
    U, _ = torch.linalg.qr(torch.randn(200, 30, generator=generator, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(30, 30, generator=generator, dtype=torch.float64))
    singular = torch.logspace(0, -8, 30, dtype=torch.float64)
    A, b = U @ torch.diag(singular) @ V.T, U.sum(1)
    assert solve(A, b).norm() > 1e7
    assert solve(A, b, 1e-3).norm() < 30 / (2 * 1e-3)


def test_ridge_term_completes_the_reduced_loss():
    """With a ridge the loss the optimisers see is |A theta - b|^2 + alpha^2 |theta|^2 at the
    solved head, reported as the term ``head_ridge``."""
    solver = _solver("cantilever", True)
    colloc = solver.sample()
    solver.loss.solve_head, solver.loss.ridge = True, 1e-3
    loss, terms = solver.loss(colloc)
    A, b = _system(solver, colloc, {})
    theta = solve(A, b, 1e-3)
    expected = ((A @ theta - b) ** 2).sum() + 1e-6 * (theta**2).sum()
    assert float(loss) == pytest.approx(float(expected), rel=1e-9)
    # theta itself (unlike the loss, flat at its minimum) follows last-bit changes of A: 1e-7
    assert float(terms["head_ridge"]) == pytest.approx(1e-6 * float((theta**2).sum()), rel=1e-7)


def test_the_solved_head_is_the_optimum_at_the_exact_lame_constants():
    """The loss solves its output layer at the Lamé constants the residuals use, not at their
    float32 roundings (``torch.as_tensor`` of a Python float): a head 8e-9 off the optimum makes
    the envelope-theorem gradient wrong by as much, and L-BFGS stalled on the Lamé problems."""
    solver = Solver(Config(case={"name": "lame_cylinder"}, model=ModelConfig(width=16, depth=2)))
    colloc = solver.sample()
    solver.loss(colloc)
    net = solver.field.network
    theta = torch.cat([net.head.weight, net.head.bias[:, None]], 1).flatten().detach()
    f_int = feature_jet(net, colloc.interior, hessian=True)
    f_bnd = feature_jet(net, colloc.boundary, hessian=False)
    A, b = assemble(f_int, f_bnd, colloc, solver.lam_hat, solver.mu_hat, solver.loss.weights)
    expected = solve(A.detach(), b.detach(), solver.loss.ridge)
    assert torch.allclose(theta, expected, rtol=1e-11, atol=1e-13 * float(expected.abs().max()))
