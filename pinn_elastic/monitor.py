r"""The displacement error while training, for cases with an exact solution.

At ``n`` fixed points drawn uniformly in the body,

.. math:: e = \lVert \hat u - \hat u_{\text{exact}} \rVert_2 / \lVert \hat u_{\text{exact}} \rVert_2,

a Monte-Carlo estimate of the relative :math:`L^2` error (the points are uniform, so equal
weights are the quadrature). The trainer calls it at its logging points only: it reads one
number back from the device.
"""

from __future__ import annotations

import torch

from .field import DisplacementField
from .problem import Problem
from .scaling import Scales


class DisplacementErrorMonitor:
    def __init__(
        self, field: DisplacementField, problem: Problem, scales: Scales, n: int = 4096, seed: int = 2024
    ) -> None:
        if problem.exact_displacement is None:
            raise ValueError("the case has no exact solution to monitor")
        points = problem.geometry.sample_interior(n, torch.Generator().manual_seed(seed), torch.float64)
        with torch.no_grad():
            reference = problem.exact_displacement(points) / scales.displacement
        device = next(field.parameters()).device
        self.field = field
        self.x_hat = scales.to_unit(points).to(device)
        self.reference = reference.to(device)

    def __call__(self) -> dict[str, float]:
        dtype = next(self.field.parameters()).dtype
        value = self.field.evaluate(self.x_hat.to(dtype)).value.double()
        error = torch.linalg.vector_norm(value - self.reference) / torch.linalg.vector_norm(self.reference)
        return {"rel_l2_displacement": float(error)}


def time_to_reach(seconds: list[float], errors: list[float], threshold: float) -> float | None:
    """First logged time at which the error is at or below ``threshold`` (None: never)."""
    for t, e in zip(seconds, errors):
        if e <= threshold:
            return t
    return None
