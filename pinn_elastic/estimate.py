r"""An a-posteriori estimate of the relative displacement error, without the exact solution.

The error :math:`e = u^* - u` of the trained field solves the same linear problem with the
residuals of :math:`u` as data (:math:`\mathcal L e = -r`, every residual being affine in the
field). We approximate it in a richer linear space than the one the run ended in: the output
layer sees the features of *every* hidden layer (``depth * width`` functions per component
instead of ``width``), on a fresh, independent draw of collocation points, and the least-squares
problem is solved again (float64). The enriched field :math:`u^+` is at least as good on the
loss; when it is markedly better (the saturation assumption of hierarchical error estimators in
finite elements), :math:`\lVert u^+ - u\rVert \approx \lVert e\rVert`, so

.. math:: \eta = \lVert u^+ - u\rVert_{L^2} / \lVert u\rVert_{L^2}

(Monte-Carlo over the fresh interior points) estimates the relative :math:`L^2` displacement
error. Fresh points also expose a field that fits its own collocation points but not the body.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from .collocation import Collocation
from .field import DisplacementField
from .lstsq import assemble, solve
from .taylor import all_layer_jet


def enriched_error_estimate(
    field: DisplacementField,
    colloc: Collocation,
    lam: float,
    mu: float,
    weights: dict[str, float],
    return_field: bool = False,
) -> float | tuple[float, Tensor]:
    """:math:`\\eta` above for ``field`` on the fresh batch ``colloc`` (nondimensional, any device);
    with ``return_field`` also the enriched field at the interior points ``(N, d)``."""
    network = copy.deepcopy(field.network).to(torch.float64)
    colloc = colloc.to(torch.float64)
    with torch.no_grad():
        f_int = all_layer_jet(network, colloc.interior, hessian=True)
        f_bnd = all_layer_jet(network, colloc.boundary, hessian=False)
        A, b = assemble(f_int, f_bnd, colloc, lam, mu, weights)
        theta = solve(A, b).to(f_int.value.dtype)
        dim = colloc.interior.shape[1]
        coefficients = theta.reshape(dim, -1)  # component-major, bias last
        enriched = f_int.value @ coefficients[:, :-1].T + coefficients[:, -1]
        if colloc.interior_constraint is not None:
            lift, phi = colloc.interior_constraint
            enriched = lift.value + phi.value * enriched
        current = field.evaluate(colloc.interior.to(next(field.parameters()).dtype)).value.double()
    norm = torch.linalg.vector_norm(current)
    eta = float(torch.linalg.vector_norm(enriched - current.to(enriched.device)) / norm)
    return (eta, enriched) if return_field else eta
