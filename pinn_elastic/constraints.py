r"""Exact imposition of displacement conditions: :math:`\hat u_i = g_i + \phi_i\,N_i(\hat x)`.

For each displacement component ``i`` the prescribed pieces are combined into a distance-like
function :math:`\phi_i` that vanishes exactly on them and is positive inside the body (the
product of the pieces' signed distances), and a lift :math:`g_i` that equals the data there:

* no prescribed piece: :math:`\phi_i = 1`, :math:`g_i = 0`;
* data that vanish on any number of pieces (declared zero, or evaluating to zero there):
  :math:`g_i = 0`;
* data on a single straight piece: :math:`g_i(x) = u_{D,i}(P x)`, the data at the closest
  point of the piece, so only boundary data enter the field.

Anything else stays a soft penalty in the loss: several pieces with non-zero data, a piece
whose line cuts through the body, or data whose extension :math:`u_{D,i}(P x)` is not finite on
the body or grows there beyond ``LIFT_GROWTH`` times its largest value on the piece (data with
a singularity on the piece's line outside the piece, e.g. ``ln r`` at the origin: the network
would have to cancel it).
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor

from .derivatives import Jet, autograd_jet
from .problem import Displacement, Problem, components_of
from .scaling import Scales

log = logging.getLogger(__name__)

LIFT_GROWTH = 10.0


class HardConstraints:
    """Distance functions and lifts per component, in nondimensional units."""

    def __init__(self, problem: Problem, scales: Scales, interior_probe: Tensor) -> None:
        self.problem, self.scales, self.dim = problem, scales, problem.dim
        self.component_conditions: dict[int, list[Displacement]] = {}
        self.zero_lift: set[int] = set()  # components whose data vanish on every piece
        for i in range(self.dim):
            conditions = [
                c
                for c in problem.conditions
                if isinstance(c, Displacement) and i in components_of(c, self.dim)
            ]
            if conditions and self._applicable(conditions, i, interior_probe):
                self.component_conditions[i] = conditions
            elif conditions:
                log.info("displacement component %d stays a soft penalty (no smooth exact lift)", i)

    def imposes(self, condition: Displacement, component: int) -> bool:
        return condition in self.component_conditions.get(component, [])

    @property
    def active(self) -> bool:
        return bool(self.component_conditions)

    def _pieces(self, conditions: list[Displacement]):
        return [p for c in conditions for p in self.problem.geometry.pieces_named(c.boundary)]

    def _vanishes(self, condition: Displacement, component: int) -> bool:
        """The data of ``component`` are zero on the condition's pieces (declared or evaluated)."""
        if condition.is_zero:
            return True
        pieces = self.problem.geometry.pieces_named(condition.boundary)
        return all(bool((condition.evaluate(p.reference_points())[:, component] == 0).all()) for p in pieces)

    def _applicable(self, conditions: list[Displacement], component: int, interior: Tensor) -> bool:
        pieces = self._pieces(conditions)
        if not all(p.smooth_distance for p in pieces):
            return False  # a curved 3D face: its distance has a kink inside the body
        inside = torch.stack([p.distance(interior) for p in pieces]).min(0).values
        if not bool((inside > 0).all()):
            return False
        if all(self._vanishes(c, component) for c in conditions):
            self.zero_lift.add(component)
            return True
        if len(pieces) != 1:
            return False
        (condition,), (piece,) = conditions, pieces
        geometry = self.problem.geometry
        points = torch.cat(
            [
                interior,
                *(
                    geometry.sample_boundary(n, 64, torch.Generator().manual_seed(0), torch.float64)[0]
                    for n in geometry.boundary_names
                ),
                *(p.reference_points() for p in geometry.pieces),
            ]
        )
        extended = autograd_jet(
            lambda x: condition.evaluate(piece.project(x))[:, component : component + 1],
            points,
            hessian=True,
            create_graph=False,
        )
        if not all(
            bool(torch.isfinite(part).all()) for part in (extended.value, extended.grad, extended.hess)
        ):
            return False
        on_piece = condition.evaluate(piece.reference_points())
        largest = float(on_piece[:, component].abs().max())
        return float(extended.value.abs().max()) <= LIFT_GROWTH * largest

    def phi(self, x_hat: Tensor) -> Tensor:
        """``(N, d)`` distance factors; 1 for unconstrained components."""
        x = self.scales.to_physical(x_hat)
        columns = []
        for i in range(self.dim):
            value = torch.ones(len(x), dtype=x.dtype, device=x.device)
            for piece in self._pieces(self.component_conditions.get(i, [])):
                value = value * piece.distance(x) / self.scales.length
            columns.append(value)
        return torch.stack(columns, -1)

    def lift(self, x_hat: Tensor) -> Tensor:
        """``(N, d)`` nondimensional lift equal to the prescribed data on the pieces."""
        x = self.scales.to_physical(x_hat)
        columns = [torch.zeros(len(x), dtype=x.dtype, device=x.device) for _ in range(self.dim)]
        for i, conditions in self.component_conditions.items():
            if i in self.zero_lift:
                continue
            (condition,) = conditions
            (piece,) = self._pieces(conditions)
            columns[i] = condition.evaluate(piece.project(x))[:, i] / self.scales.displacement
        return torch.stack(columns, -1)

    def jets(self, x_hat: Tensor, hessian: bool) -> tuple[Jet, Jet]:
        """Jets of ``(lift, phi)`` at ``x_hat``; constant in the parameters, so computed once."""
        return (
            autograd_jet(self.lift, x_hat, hessian, create_graph=False),
            autograd_jet(self.phi, x_hat, hessian, create_graph=False),
        )
