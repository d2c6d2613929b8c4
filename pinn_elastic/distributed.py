r"""Several processes on one problem: ``torchrun --nproc_per_node=K -m pinn_elastic ...``.

Data parallel over the collocation points. Every rank draws the batch a single process would
draw (the same generator, the one seed), keeps its shard (rows ``rank::world`` of every point
set, :func:`pinn_elastic.collocation.sample_collocation`) and evaluates the network, its jets,
the lifts and the residuals there only. A loss term is the mean square over the *whole* batch,

.. math:: L = \sum_t \frac{w_t}{n_t} \sum_{r} \lVert \rho_{t,r} \rVert^2 ,

so each rank forms its part (squares summed, divided by the global row count ``n_t``) and the
parts and their gradients are summed across ranks (:meth:`Group.sum`). The least-squares
output layer is solved across ranks without gathering its matrix, by a tall-skinny QR:
each rank factors its rows ``[A_r | b_r] = Q_r R_r``, the small triangles are gathered and
factored again, ``[R_1; ...; R_K] = Q' R``, and ``R = [R_A, Q^T b; 0, \rho]`` is the triangle of
the whole ``[A | b]`` (:func:`triangular_factor`); the solve then proceeds on ``R_A`` and
``Q^T b`` exactly as in one process, in float64.

Every decision (stop, roll back, change phase, interrupt, refuse non-finite data on a shard)
reads a reduced value, the same on every rank, so the ranks stay in step. After training the
ranks polish a forward run together (the same tall-skinny QR); then rank 0 alone evaluates and
writes (an inverse run's identification and polishes run on rank 0). Rank 0 alone logs and
writes files; the run folder is rank 0's. NCCL carries CUDA tensors, gloo CPU ones.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass(frozen=True)
class Group:
    """The ranks of a run; ``Group()`` is a single process, where every collective is the identity."""

    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def sum(self, tensor: Tensor) -> Tensor:
        """All-reduce (sum) ``tensor`` in place on every rank; returns it."""
        if self.active:
            torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM)
        return tensor

    def any(self, flag: bool, device: torch.device | str = "cpu") -> bool:
        """Whether ``flag`` is true on any rank (a signal may reach one rank only)."""
        if not self.active:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        return bool(self.sum(value).item() > 0)

    def gather(self, tensor: Tensor) -> Tensor:
        """The ``tensor`` of every rank, stacked along a new first dimension (rank order)."""
        if not self.active:
            return tensor[None]
        parts = [torch.empty_like(tensor) for _ in range(self.world)]
        torch.distributed.all_gather(parts, tensor.contiguous())
        return torch.stack(parts)

    def first(self, value: Any) -> Any:
        """The first not-None ``value`` in rank order (a message that one rank alone may hold),
        on every rank."""
        if not self.active:
            return value
        values: list[Any] = [None] * self.world
        torch.distributed.all_gather_object(values, value)
        return next((v for v in values if v is not None), None)

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` (any picklable object) on every rank."""
        if not self.active:
            return value
        box = [value if self.is_root else None]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.active:
            torch.distributed.barrier()


SINGLE = Group()
_current = SINGLE


def current() -> Group:
    """The group of this process (``SINGLE`` unless :func:`start` joined a torchrun job)."""
    return _current


def launched_by_torchrun() -> bool:
    """Whether the environment is that of a torchrun worker with more than one rank."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def start() -> Group:
    """Join the torchrun job of the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
    ``MASTER_ADDR``/``MASTER_PORT``): gloo for CPU tensors and, where CUDA is present, NCCL for
    CUDA ones, each rank on GPU ``LOCAL_RANK``. A single process gets ``SINGLE``."""
    global _current
    if not launched_by_torchrun():
        return _current
    if not torch.distributed.is_initialized():
        backend = "gloo"
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            if local_rank < torch.cuda.device_count():  # else device=cuda is refused (check_gpus)
                torch.cuda.set_device(local_rank)
            backend = "cpu:gloo,cuda:nccl"
        torch.distributed.init_process_group(backend=backend, timeout=datetime.timedelta(minutes=30))
    _current = Group(torch.distributed.get_rank(), torch.distributed.get_world_size())
    return _current


def stop() -> None:
    """Leave the job (after the last collective)."""
    global _current
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    _current = SINGLE


def node_threads() -> int:
    """The CPU threads of all of this node's ranks (torchrun gives each one thread unless
    ``OMP_NUM_THREADS`` says otherwise), at most the node's cores."""
    ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    return max(1, min(os.cpu_count() or 1, torch.get_num_threads() * ranks))


def check_gpus(group: Group, device: torch.device) -> None:
    """One GPU per rank: more ranks on a node than it has GPUs is refused in one line."""
    if not group.active or device.type != "cuda":
        return
    from .errors import ConfigError

    ranks, gpus = int(os.environ.get("LOCAL_WORLD_SIZE", "1")), torch.cuda.device_count()
    if ranks > gpus:
        raise ConfigError(
            "device",
            "cuda",
            f"{ranks} ranks on this node and {gpus} GPU(s): NCCL needs one GPU per rank; start torchrun "
            f"with --nproc_per_node={gpus} or fewer, or use device=cpu",
        )


def shard_rows(count: int, group: Group) -> slice:
    """This rank's rows of ``count``: every ``world``-th from ``rank`` (a strided slice, so
    the shards of a batch are as alike as its points)."""
    return slice(group.rank, count, group.world)


def triangular_system(A: Tensor, b: Tensor, group: Group) -> Tensor:
    r"""The triangle ``R (n+1, n+1)`` of ``[A | b]`` for the least-squares system ``A theta ~= b``
    whose rows are spread over the ranks (each rank passes its own), by a tall-skinny QR: a QR
    of each rank's ``[A_r | b_r]``, then of the stacked triangles. Only ``(n+1)^2`` numbers per
    rank travel; the result is the same on every rank. With one process it is the QR of
    ``[A | b]``. ``R[:n, :n]`` and ``R[:n, n] = (Q^T b)_{:n}`` give the solution;
    :math:`|R_{nn}| = \min_\theta\lVert A\theta - b\rVert` and the last column's norm is
    :math:`\lVert b\rVert`."""
    n = A.shape[1]
    local = torch.linalg.qr(torch.cat([A, b[:, None]], 1), mode="r").R
    if local.shape[0] < n + 1:  # fewer rows than unknowns on this rank
        local = torch.cat([local, local.new_zeros(n + 1 - local.shape[0], n + 1)])
    stacked = group.gather(local).reshape(-1, n + 1)
    return torch.linalg.qr(stacked, mode="r").R if group.active else local


def triangular_factor(A: Tensor, b: Tensor, group: Group) -> tuple[Tensor, Tensor]:
    r"""``(R, Q^T b)`` of the least-squares system ``A theta ~= b`` (:func:`triangular_system`)."""
    n = A.shape[1]
    R = triangular_system(A, b, group)
    return R[:n, :n], R[:n, n]
