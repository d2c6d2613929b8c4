"""The final identification's numerics: the compressed systems and Gauss-Newton's safeguards."""

from __future__ import annotations

import torch

from pinn_elastic.inverse.identify import MAX_STEP, _compressed, gauss_newton
from pinn_elastic.lstsq import solve


def test_compressed_systems_give_the_same_least_squares_solutions():
    """``A(p) = A0 + lam Al + mu Am`` on R's rows: the same solution (with and without a
    ridge) and the same residual norm as on all the rows, at several materials."""
    g = torch.Generator().manual_seed(0)
    rows, cols = 600, 25
    parts = tuple((torch.randn(rows, cols, generator=g, dtype=torch.float64),
                   torch.randn(rows, generator=g, dtype=torch.float64)) for _ in range(3))  # fmt: skip
    small = _compressed(parts)
    assert small[0][0].shape == (3 * cols + 3, cols)
    for lam, mu in ((0.0, 0.0), (1.7, 0.4), (-0.3, 12.0)):
        for ridge in (0.0, 1e-3):
            A = parts[0][0] + lam * parts[1][0] + mu * parts[2][0]
            b = parts[0][1] + lam * parts[1][1] + mu * parts[2][1]
            As = small[0][0] + lam * small[1][0] + mu * small[2][0]
            bs = small[0][1] + lam * small[1][1] + mu * small[2][1]
            theta, theta_small = solve(A, b, ridge), solve(As, bs, ridge)
            assert torch.allclose(theta_small, theta, rtol=1e-10, atol=1e-12), (lam, mu, ridge)
            # A(p) theta - b(p) lies in the range of Q: its norm is kept exactly
            norm, norm_small = (torch.linalg.vector_norm(M @ theta - v) for M, v in ((A, b), (As, bs)))
            assert torch.isclose(norm_small, norm, rtol=1e-10), (float(norm_small), float(norm))


class _Quadratic:
    """Residuals ``raw - target``, refused (a failed solve) beyond ``wall``."""

    def __init__(self, target: float, wall: float = float("inf"), refuse_by: str = "error") -> None:
        self.target, self.wall, self.refuse_by = target, wall, refuse_by

    def residuals(self, raw: torch.Tensor) -> torch.Tensor:
        if float(raw[0]) > self.wall:
            if self.refuse_by == "error":
                raise torch.linalg.LinAlgError("linalg.svd: the input matrix contained non-finite values")
            return torch.full_like(raw, float("inf"))
        return raw - self.target


def test_gauss_newton_moves_each_unknown_at_most_the_trust_region_per_iteration():
    raw, iterations = gauss_newton(_Quadratic(3.0), torch.zeros(1, dtype=torch.float64))
    assert float(raw[0]) == 3.0
    assert iterations >= 3.0 / MAX_STEP  # a linear problem, yet no step longer than MAX_STEP


def test_gauss_newton_backs_off_materials_it_cannot_evaluate():
    """A trial where the solve fails (or gives non-finite residuals: nu rounded to 1/2) counts as
    a worse point: the line search shortens the step instead of ending the run."""
    for refuse_by in ("error", "inf"):
        model = _Quadratic(3.0, wall=1.2, refuse_by=refuse_by)
        raw, _ = gauss_newton(model, torch.zeros(1, dtype=torch.float64))
        assert 1.0 <= float(raw[0]) <= 1.2, refuse_by


def test_the_identified_field_is_the_network_s_readout_over_every_layer():
    """The profile field spans every hidden layer's features; ``_readout`` writes it into the
    enriched output layer (those features are its first columns), so the network evaluates
    exactly the field the data were fitted with."""
    from pinn_elastic.inverse.identify import _readout
    from pinn_elastic.models import MLP
    from pinn_elastic.taylor import all_layer_jet

    torch.manual_seed(0)
    net = MLP(2, 2, 8, 3, "gelu", torch.zeros(2), torch.ones(2)).double()
    x = torch.rand(50, 2, dtype=torch.float64)
    h = all_layer_jet(net, x, hessian=False).value  # (50, 24)
    theta = torch.randn(2 * (h.shape[1] + 1), dtype=torch.float64)
    coefficients = theta.reshape(2, -1)
    expected = h @ coefficients[:, :-1].T + coefficients[:, -1]
    net.readout = _readout(net, theta)
    with torch.no_grad():
        assert torch.allclose(net(x), expected, rtol=1e-12, atol=1e-12)
