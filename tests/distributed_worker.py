"""Run under ``torchrun --nproc_per_node=2`` by ``tests/test_distributed.py``: the collectives of
:mod:`pinn_elastic.distributed` against one process on the same rows. Rank 0 writes JSON to argv[1].

* ``tsqr_random``: relative difference of the least-squares solution of a random
  well-conditioned system split over the ranks (tall-skinny QR) and solved whole on one;
  ``tsqr_residual`` the same for its least residual read off the triangle.
* ``head_*``: the same for the training head of a real batch (plate_hole), sharded as training
  shards it, against the whole batch: the solution and the fitted loss; ``head_solution_reordered``
  is one process solving the same rows in the shards' order (the round-off floor of the solution).
* ``loss``/``gradient``: the trainer's reduced loss and gradient against the whole batch's,
  through the head's solve and (``*_fixed_head``) with the head held.
"""

from __future__ import annotations

import json
import sys

import torch

from pinn_elastic import distributed
from pinn_elastic.lstsq import assemble, solve, training_residual
from pinn_elastic.runner import Solver
from pinn_elastic.taylor import feature_jet
from pinn_elastic.training import Schedule, Trainer
from tests.conftest import make_config


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


def head_system(solver: Solver, colloc):
    net = solver.field.network
    with torch.no_grad():
        return assemble(
            feature_jet(net, colloc.interior, hessian=True),
            feature_jet(net, colloc.boundary, hessian=False),
            colloc,
            solver.lam_hat,
            solver.mu_hat,
            solver.loss.weights,
        )


def main(out: str) -> None:
    group = distributed.start()
    assert group.world == 2, group
    results: dict[str, float] = {"world": group.world}

    generator = torch.Generator().manual_seed(3)
    A = torch.randn(1400, 60, generator=generator, dtype=torch.float64)
    b = torch.randn(1400, generator=generator, dtype=torch.float64)
    rows = distributed.shard_rows(len(A), group)
    results["tsqr_random"] = relative(solve(A[rows], b[rows], group=group), solve(A, b))
    whole_residual = training_residual(distributed.triangular_system(A, b, distributed.SINGLE))
    results["tsqr_residual"] = relative(
        training_residual(distributed.triangular_system(A[rows], b[rows], group)), whole_residual
    )

    config = make_config(
        "case=plate_hole", "device=cpu", "model.width=24", "model.depth=2",
        "train.n_interior=600", "train.n_boundary=300",
    )  # fmt: skip
    solver = Solver(config)
    whole = solver.sample(torch.Generator().manual_seed(11), shard=False)
    part = solver.sample(torch.Generator().manual_seed(11), shard=True)
    A_whole, b_whole = head_system(solver, whole)
    A_part, b_part = head_system(solver, part)
    theta_whole = solve(A_whole, b_whole)
    theta_part = solve(A_part, b_part, group=group)
    results["head_solution"] = relative(theta_part, theta_whole)
    # the floor: one process solving the same rows in the shards' order
    shards: list = [None] * group.world
    torch.distributed.all_gather_object(shards, (A_part, b_part))
    A_order, b_order = (torch.cat([shard[i] for shard in shards]) for i in (0, 1))
    results["head_solution_reordered"] = relative(solve(A_order, b_order), theta_whole)
    fit_whole = ((A_whole @ theta_whole - b_whole) ** 2).sum()
    fit_part = group.sum(((A_part @ theta_part - b_part) ** 2).sum())
    results["head_loss"] = relative(fit_part, fit_whole)
    results["rows_whole"] = A_whole.shape[0]
    results["rows_part"] = float(group.sum(torch.tensor(float(A_part.shape[0]), dtype=torch.float64)))

    params = [p for p in solver.field.parameters() if p not in set(solver.field.network.head.parameters())]
    schedule = Schedule(adam_steps=1, lbfgs_steps=0, lr=1e-3, lr_final=1e-4, log_every=1, lbfgs_history=10)

    def gradient_of(colloc, group_) -> tuple[float, torch.Tensor]:
        solver.loss.group = group_
        trainer = Trainer(solver.field, params, solver.loss, lambda: colloc, schedule, group=group_)
        for p in params:
            p.grad = None
        loss, _ = trainer._loss(colloc, backward=True)
        return float(loss), torch.cat([p.grad.reshape(-1) for p in params])

    # through the head's solve, then with the head held (the head solved above is the same to
    # round-off, but the gradient through it amplifies that round-off by the system's condition)
    for solve_head, suffix in ((True, ""), (False, "_fixed_head")):
        solver.loss.solve_head = solve_head
        loss_whole, grad_whole = gradient_of(whole, distributed.SINGLE)
        loss_part, grad_part = gradient_of(part, group)
        results["loss" + suffix] = abs(loss_part - loss_whole) / loss_whole
        results["gradient" + suffix] = relative(grad_part, grad_whole)

    if group.is_root:
        with open(out, "w") as file:
            json.dump(results, file)
    distributed.stop()


if __name__ == "__main__":
    main(sys.argv[1])
