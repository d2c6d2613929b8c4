r"""The displacement field :math:`\hat u(\hat x) = g(\hat x) + \phi(\hat x)\odot N(\hat x)` and its jets."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .collocation import Collocation
from .constraints import HardConstraints
from .derivatives import Jet, autograd_jet
from .models import MLP
from .taylor import mlp_jet


class DisplacementField(nn.Module):
    """A network plus the (parameter-free) exact-constraint factors precomputed per batch."""

    def __init__(
        self, network: MLP, constraints: HardConstraints | None = None, derivatives: str = "forward"
    ) -> None:
        super().__init__()
        self.network = network
        self.derivatives = derivatives
        self.constraints = constraints if constraints is not None and constraints.active else None

    def network_jet(self, x: Tensor, hessian: bool) -> Jet:
        """Jet of the bare network, differentiable in its parameters."""
        if self.derivatives == "forward":
            return mlp_jet(self.network, x, hessian)
        return autograd_jet(self.network, x, hessian, create_graph=True)

    def jets(self, colloc: Collocation) -> tuple[Jet, Jet]:
        """Jets of the field at the interior (with Hessians) and boundary points (gradients)."""
        interior = self.network_jet(colloc.interior, hessian=True)
        boundary = self.network_jet(colloc.boundary, hessian=False)
        return self.constrain(interior, boundary, colloc)

    def constrain(self, interior: Jet, boundary: Jet, colloc: Collocation) -> tuple[Jet, Jet]:
        """Network jets -> field jets ``g + phi * N`` with the batch's precomputed factors."""
        if colloc.interior_constraint is not None:
            lift, phi = colloc.interior_constraint
            interior = lift + phi * interior
            lift, phi = colloc.boundary_constraint
            boundary = lift + phi * boundary
        return interior, boundary

    def evaluate(self, x: Tensor) -> Jet:
        """Value and gradient at nondimensional points ``x (N, d)``, without a graph."""
        with torch.no_grad():
            jet = mlp_jet(self.network, x, hessian=False)
        if self.constraints is not None:
            lift, phi = (j.to(x.dtype) for j in self.constraints.jets(x.double(), hessian=False))
            jet = lift + phi * jet
        return jet
