"""Adam, then L-BFGS with a strong-Wolfe line search: a trainer that owns its state.

:class:`Trainer` holds everything that changes while a network trains: the parameters (through
the module), both optimisers, the learning-rate decay, the phase and step, the batch of points
and the generator state it was drawn from, the best state seen and the history.
:meth:`Trainer.state_dict` is all of it, so a checkpoint taken at a step boundary (any Adam
step, the end of an L-BFGS chunk of ``log_every`` iterations) continues bit for bit after
:meth:`Trainer.load_state_dict` on the same device and dtype.

**Divergence.** A non-finite loss or gradient rolls the module back to the best state seen,
then lowers Adam's learning rate tenfold (with fresh moments) or clears L-BFGS's curvature
history, and warns. After ``max_rollbacks`` failures without a new best in between, the phase
ends on the best state and :attr:`History.diverged` says so.

**Interruption.** ``should_stop()`` is read after every Adam step and every loss evaluation of
L-BFGS; when it turns true the trainer checkpoints the last step boundary and raises
:class:`TrainingInterruptedError` (mid-chunk, L-BFGS first returns to the chunk's start).

**Several ranks** (``group``, :mod:`pinn_elastic.distributed`): each rank's ``loss_fn`` returns
its part of the batch's loss; after every evaluation the loss, its terms and the gradients are
summed across ranks in one all-reduce, and an interruption on any rank stops all of them, so
every decision above reads the same numbers on every rank.
"""

from __future__ import annotations

import copy
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import torch
from torch import Tensor, nn

from .collocation import Collocation
from .distributed import SINGLE, Group
from .progress import Progress

log = logging.getLogger(__name__)

LossFn = Callable[[Collocation], tuple[Tensor, dict[str, Tensor]]]
Monitor = Callable[[], dict[str, float]]
PHASES = ("adam", "lbfgs", "done")


class TrainingInterruptedError(Exception):
    """Training stopped on request (a signal) at ``phase``/``step``; the state is checkpointed."""

    def __init__(self, phase: str, step: int) -> None:
        super().__init__(f"interrupted during {phase} at step {step}")
        self.phase, self.step = phase, step


@dataclass
class History:
    """Loss terms (and monitored errors) at every logged step, step 0 being the start;
    ``lbfgs_start`` is the first L-BFGS step number; ``seconds`` count from the start of training."""

    step: list[int] = field(default_factory=list)
    phase: list[str] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    terms: dict[str, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    lbfgs_start: int | None = None
    adam_ms_per_step: list[float] = field(default_factory=list)
    nonfinite_recovered: bool = False
    rollbacks: list[tuple[str, int]] = field(default_factory=list)  # (phase, step) of each rollback
    diverged: bool = False  # a phase ended after max_rollbacks failures in a row
    lbfgs_iterations: int = 0
    lbfgs_evaluations: int = 0
    adam_steps_run: int = 0
    adam_stop: str = "not run"
    lbfgs_stop: str = "not run"
    monitored: dict[str, list[float]] = field(default_factory=dict)
    monitor: Monitor | None = None
    tracer: Monitor | None = None  # cheap values read after every step (the unknowns of an inverse run)
    traced_step: list[int] = field(default_factory=list)
    traced_seconds: list[float] = field(default_factory=list)
    traced: dict[str, list[float]] = field(default_factory=dict)
    started: float | None = None  # perf_counter() at the start of training (of this process)
    resumed_seconds: float = 0.0  # training seconds of the runs this one resumes
    tolerance_check: dict[str, Any] | None = None  # Trainer.good_enough's report on the start
    tolerance_met: bool = False  # the start met it: nothing was trained

    _TRANSIENT = ("monitor", "tracer", "started")

    def state_dict(self) -> dict[str, Any]:
        """The recorded values (not the callables or the clock), for a checkpoint."""
        kept = [f.name for f in fields(self) if f.name not in self._TRANSIENT]
        state = {name: _plain(getattr(self, name)) for name in kept}
        state["resumed_seconds"] = self.elapsed()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, copy.deepcopy(value))
        self.rollbacks = [tuple(r) for r in self.rollbacks]
        self.started = None

    def elapsed(self) -> float:
        """Seconds of training so far, those of resumed runs included."""
        return self.resumed_seconds + time.perf_counter() - (self.started or time.perf_counter())

    def trace(self, step: int) -> None:
        if self.tracer is None:
            return
        self.traced_step.append(step)
        self.traced_seconds.append(self.elapsed())
        for name, value in self.tracer().items():
            self.traced.setdefault(name, []).append(value)

    def record(self, step: int, phase: str, loss: float, terms: dict[str, float], seconds: float) -> None:
        if self.monitor is not None:
            for name, value in self.monitor().items():
                self.monitored.setdefault(name, []).append(value)
        self.step.append(step)
        self.phase.append(phase)
        self.loss.append(loss)
        self.seconds.append(seconds)
        for name, value in terms.items():
            self.terms.setdefault(name, []).append(value)

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.loss else math.nan

    @property
    def adam_ms_per_step_median(self) -> float:
        return statistics.median(self.adam_ms_per_step) if self.adam_ms_per_step else math.nan


@dataclass(frozen=True)
class Schedule:
    """What the trainer needs from the training config."""

    adam_steps: int
    lbfgs_steps: int
    lr: float
    lr_final: float
    log_every: int
    lbfgs_history: int
    resample_every: int = 0
    checkpoint_every: int = 0  # Adam steps between checkpoints (L-BFGS: every chunk); 0: none
    max_rollbacks: int = 3  # non-finite failures in a row before a phase gives up
    adam_patience: int = 0  # Adam stops after this many steps without a 1 % gain (0: never)
    adam_probe: int = 0  # Adam stops after this many steps if none gained 1 % on the start (0: never)
    lbfgs_min_gain: float = 1e-3  # L-BFGS stops after a chunk that lowered the loss by less (of |loss|)
    adam_keeps_best: bool = True  # end Adam on its best logged state (False: losses of fresh
    # quadratures at every step are not comparable, the energy objective's)


class BestState:
    """The lowest-loss parameters seen at a logged step, to roll back to on a non-finite loss."""

    def __init__(self, module: nn.Module) -> None:
        self.module, self.loss, self.state = module, math.inf, copy.deepcopy(module.state_dict())

    def offer(self, loss: float) -> bool:
        """Keep the module's state if ``loss`` is the lowest so far; says whether it was."""
        if math.isfinite(loss) and loss < self.loss:
            self.loss, self.state = loss, copy.deepcopy(self.module.state_dict())
            return True
        return False

    def restore(self) -> None:
        self.module.load_state_dict(self.state)


def _plain(value: Any) -> Any:
    """``value`` as built-in types only (what a ``weights_only`` checkpoint may hold)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    return float(value)


def _floats(terms: dict[str, Tensor]) -> dict[str, float]:
    return {k: float(v.detach()) for k, v in terms.items()}


def _log_line(
    phase: str, step: int, total: int, loss: float, terms: dict[str, float], elapsed: float
) -> None:
    parts = " ".join(f"{k}={v:.2e}" for k, v in terms.items())
    log.info("%-5s %6d/%d  loss=%.3e  [%s]  %.1fs", phase, step, total, loss, parts, elapsed)


def _finite(loss: Tensor, params: list[Tensor]) -> bool:
    """Loss and every gradient finite (one device sync)."""
    value = loss.detach().reshape(1)
    checks = torch.cat([value, *(p.grad.reshape(-1).to(value) for p in params if p.grad is not None)])
    return bool(torch.isfinite(checks).all())


class _StopRequestedError(Exception):
    """Raised inside the L-BFGS closure to leave a chunk early."""


class Trainer:
    """Adam, then L-BFGS, on ``params`` of ``module`` (the whole ``module`` is what rollbacks
    and checkpoints keep). ``draw()`` returns a fresh batch from ``generator`` (so that the
    generator's state before a draw reproduces the batch). With ``adam_dtype`` (mixed
    precision) the module and the batch run Adam in that dtype and L-BFGS in ``dtype``.
    ``checkpoint(trainer)`` is called at checkpoint steps and on interruption; ``at_step``
    after every step (snapshots)."""

    def __init__(
        self,
        module: nn.Module,
        params: list[Tensor],
        loss_fn: LossFn,
        draw: Callable[[], Collocation],
        schedule: Schedule,
        history: History | None = None,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        adam_dtype: torch.dtype | None = None,
        checkpoint: Callable[[Trainer], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        at_step: Callable[[Trainer], None] | None = None,
        progress: Progress | None = None,
        group: Group = SINGLE,
        lbfgs_batch: Callable[[], Any] | None = None,
        good_enough: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """``lbfgs_batch()``: the fixed batch of the L-BFGS phase, where it is not the last
        Adam batch (the energy objective's Gauss rule). ``good_enough()`` is asked before the
        first step of a fresh run, on every rank, with the module in the L-BFGS dtype: a report
        with ``met`` true ends training before it begins."""
        self.module, self.params, self.loss_fn, self.draw = module, params, loss_fn, draw
        self.lbfgs_batch, self.good_enough = lbfgs_batch, good_enough
        self.group = group
        self.progress = progress or Progress(enabled=False)
        self.schedule, self.generator = schedule, generator
        self.history = history if history is not None else History()
        self.dtype = dtype or next(module.parameters()).dtype
        self.adam_dtype = adam_dtype or self.dtype
        self.checkpoint, self.should_stop, self.at_step = checkpoint, should_stop, at_step
        self.phase, self.step = "adam" if schedule.adam_steps > 0 else "lbfgs", 0
        self.colloc: Collocation | None = None
        self.batch_state: Tensor | None = None
        self._view: tuple[Collocation, Collocation] | None = None
        self.best = BestState(module)
        self.failures = 0
        self.lr_scale = 1.0
        self.adam: torch.optim.Adam | None = None
        self.decay: torch.optim.lr_scheduler.ExponentialLR | None = None
        self.lbfgs: torch.optim.LBFGS | None = None
        self.lbfgs_done = self.lbfgs_evaluations = 0
        self.started_phase = False
        self.plateau_loss, self.plateau_step = math.inf, 0  # Adam's last 1 % gain

    # ----- the batch -----------------------------------------------------------------------
    def new_batch(self) -> Collocation:
        """Draw the next batch, remembering the generator state it came from."""
        if self.generator is not None:
            self.batch_state = self.generator.get_state()
        self.colloc = self.draw()
        return self.colloc

    def _batch(self) -> Collocation:
        """The batch in the phase's dtype (converted once per batch and dtype)."""
        assert self.colloc is not None
        dtype = self.adam_dtype if self.phase == "adam" else self.dtype
        if dtype == self.dtype:
            return self.colloc
        if self._view is None or self._view[0] is not self.colloc:
            self._view = (self.colloc, self.colloc.to(dtype))
        return self._view[1]

    # ----- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything that changes during training, at a step boundary."""
        return {
            "phase": self.phase,
            "step": self.step,
            "started_phase": self.started_phase,
            "module": copy.deepcopy(self.module.state_dict()),
            "adam": None if self.adam is None else copy.deepcopy(self.adam.state_dict()),
            "decay": None if self.decay is None else self.decay.state_dict(),
            "lbfgs": None if self.lbfgs is None else copy.deepcopy(self.lbfgs.state_dict()),
            "lbfgs_done": self.lbfgs_done,
            "lbfgs_evaluations": self.lbfgs_evaluations,
            "best_loss": self.best.loss,
            "best_state": copy.deepcopy(self.best.state),
            "failures": self.failures,
            "lr_scale": self.lr_scale,
            "plateau": (self.plateau_loss, self.plateau_step),
            "history": self.history.state_dict(),
            "batch_state": None if self.batch_state is None else self.batch_state.clone(),
            "generator_state": None if self.generator is None else self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`: the module, optimisers, batch and history."""
        self.phase, self.step = state["phase"], state["step"]
        self.started_phase = state["started_phase"]
        if self.phase == "adam" and self.adam_dtype != self.dtype:
            self.module.to(self.adam_dtype)
        self.module.load_state_dict(state["module"])
        if state["batch_state"] is not None and self.generator is not None:
            self.generator.set_state(state["batch_state"])
            self.new_batch()
            self.generator.set_state(state["generator_state"])
        elif self.generator is not None and state["generator_state"] is not None:
            self.generator.set_state(state["generator_state"])
        if self.phase != "adam" and self.lbfgs_batch is not None:
            self.colloc = self.lbfgs_batch()
        self.history.load_state_dict(state["history"])
        self.best.loss, self.best.state = state["best_loss"], state["best_state"]
        self.failures, self.lr_scale = state["failures"], state["lr_scale"]
        self.plateau_loss, self.plateau_step = state["plateau"]
        self.lbfgs_done, self.lbfgs_evaluations = state["lbfgs_done"], state["lbfgs_evaluations"]
        if state["adam"] is not None:
            self._new_adam()
            self.adam.load_state_dict(state["adam"])
            self.decay.load_state_dict(state["decay"])
        if state["lbfgs"] is not None:
            self._new_lbfgs()
            self.lbfgs.load_state_dict(state["lbfgs"])

    def _loss(self, batch: Collocation, backward: bool = False) -> tuple[Tensor, dict[str, Tensor]]:
        """The batch's loss and terms (with ``backward``, the gradients too): with several ranks,
        this rank's parts summed with the others' in one all-reduce (the loss then detached)."""
        loss, terms = self.loss_fn(batch)
        if backward:
            loss.backward()
        if not self.group.active:
            return loss, terms
        names = list(terms)
        with_grad = [p for p in self.params if p.grad is not None] if backward else []
        parts = [loss.detach().reshape(1), *(terms[n].detach().reshape(1) for n in names)]
        dtype = with_grad[0].grad.dtype if with_grad else loss.dtype
        packed = torch.cat([t.to(dtype) for t in parts] + [p.grad.reshape(-1) for p in with_grad])
        self.group.sum(packed)
        offset = len(parts)
        for p in with_grad:
            p.grad.copy_(packed[offset : offset + p.numel()].view_as(p.grad))
            offset += p.numel()
        return packed[0].to(loss.dtype), {n: packed[1 + i].to(loss.dtype) for i, n in enumerate(names)}

    def _stop_requested(self) -> bool:
        """``should_stop()`` on any rank."""
        if self.should_stop is None:
            return False
        return self.group.any(self.should_stop())

    def _save(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint(self)

    def _seconds(self) -> float:
        return self.history.elapsed()

    # ----- the run -------------------------------------------------------------------------
    def run(self) -> History:
        """Train from the current state to the end of the schedule; returns the history."""
        history = self.history
        if history.started is None:
            history.started = time.perf_counter()
        if self.colloc is None:
            self.new_batch()
        if not history.step:
            self.module.to(self.adam_dtype if self.phase == "adam" else self.dtype)
            loss, terms = self._loss(self._batch())
            self.best.offer(float(loss.detach()))
            history.record(0, "start", float(loss.detach()), _floats(terms), self._seconds())
            history.trace(0)
            if self.phase != "done" and self._start_is_good_enough():
                return history
        if self.phase == "adam":
            self._adam()
        if self.phase == "lbfgs":
            self._lbfgs()
        return history

    def _start_is_good_enough(self) -> bool:
        """Ask ``good_enough``; where it is met, training ends before it begins (no checkpoint
        is written: the field now carries the check's output layer, which the pipeline's final
        checkpoint keeps)."""
        if self.good_enough is None:
            return False
        self.module.to(self.dtype)
        self.history.tolerance_check = report = self.good_enough()
        if not report["met"]:
            return False
        self.history.tolerance_met = True
        if self.schedule.adam_steps > 0:
            self.history.adam_stop = "tolerance met"
        if self.schedule.lbfgs_steps > 0:
            self.history.lbfgs_stop = "tolerance met"
        self.phase, self.started_phase, self.step = "done", False, 0
        return True

    def _new_adam(self) -> None:
        s = self.schedule
        self.adam = torch.optim.Adam(self.params, lr=s.lr * self.lr_scale)
        gamma = (s.lr_final / s.lr) ** (1.0 / max(s.adam_steps, 1))
        self.decay = torch.optim.lr_scheduler.ExponentialLR(self.adam, gamma)

    def _rollback(self, phase: str, step: int) -> bool:
        """Back to the best state after a non-finite loss; says whether to go on."""
        self.history.nonfinite_recovered = True
        self.history.rollbacks.append((phase, step))
        self.best.restore()
        self.failures += 1
        if self.failures >= self.schedule.max_rollbacks:
            log.warning(
                "%s: %d non-finite losses in a row; the phase ends on the best state (loss %.3e)",
                phase,
                self.failures,
                self.best.loss,
            )
            self.history.diverged = True
            return False
        if phase == "adam":
            self.lr_scale *= 0.1
            lr = self.decay.get_last_lr()[0] * 0.1
            self.adam = torch.optim.Adam(self.params, lr=lr)  # fresh moments
            self.decay = torch.optim.lr_scheduler.ExponentialLR(self.adam, self.decay.gamma)
            log.warning(
                "non-finite loss or gradient at Adam step %d: rolled back to the best state (loss %.3e), "
                "learning rate lowered to %.2e",
                step,
                self.best.loss,
                lr,
            )
        else:
            self._new_lbfgs()
            log.warning(
                "non-finite loss in L-BFGS at iteration %d: rolled back to the best state (loss %.3e), "
                "curvature history cleared",
                step,
                self.best.loss,
            )
        return True

    def _adam(self) -> None:
        s, history = self.schedule, self.history
        if not self.started_phase:
            self.module.to(self.adam_dtype)
            self._new_adam()
            self.started_phase = True
            history.adam_stop = "budget"
            self.plateau_loss, self.plateau_step = history.loss[-1], 0
        tick, tick_step = time.perf_counter(), self.step
        # on the CPU every step is checked; on a GPU only the logged ones (a check is a device sync)
        every_step = self.params[0].device.type == "cpu"
        self.progress.start("adam", s.adam_steps, self.step)
        while self.step < s.adam_steps:
            step = self.step + 1
            if s.resample_every and step > 1 and (step - 1) % s.resample_every == 0:
                self.new_batch()
            self.adam.zero_grad(set_to_none=True)
            loss, terms = self._loss(self._batch(), backward=True)
            logged = step % s.log_every == 0 or step == s.adam_steps or step == 1
            if (every_step or logged) and not _finite(loss, self.params):
                if not self._rollback("adam", step):
                    history.adam_stop = "non-finite loss"
                    break
                continue
            self.adam.step()
            self.decay.step()
            self.step = history.adam_steps_run = step
            history.trace(step)
            if self.progress.bar is not None:  # on the CPU the loss is read anyway (the check above)
                self.progress.update(step, float(loss.detach()) if every_step else None)
            if logged:
                value = float(loss.detach())
                now = time.perf_counter()
                if step > 1 and step > tick_step:
                    history.adam_ms_per_step.append(1e3 * (now - tick) / (step - tick_step))
                tick, tick_step = now, step
                history.record(step, "adam", value, _floats(terms), self._seconds())
                _log_line("adam", step, s.adam_steps, value, _floats(terms), self._seconds())
                self.progress.update(step, value, _floats(terms))
                if self.best.offer(value):
                    self.failures = 0
                tick = time.perf_counter()  # logging is not part of the step time
            stop = self._stopping_rule(loss, step, every_step)
            if stop is not None:
                history.adam_stop, why = stop
                log.info("Adam stopped at step %d: %s", step, why)
                break
            if self.at_step is not None:
                self.at_step(self)
            if s.checkpoint_every and step % s.checkpoint_every == 0 and step < s.adam_steps:
                self._save()
                tick = time.perf_counter()
            if self._stop_requested():
                self.progress.close()
                self._save()
                raise TrainingInterruptedError("adam", step)
        self.progress.close()
        if s.adam_keeps_best:
            self._keep_best("Adam")
        self._enter_lbfgs()

    def _stopping_rule(self, loss: Tensor, step: int, every_step: bool) -> tuple[str, str] | None:
        """``(History.adam_stop, why)`` if Adam stops here, else None. The loss is read every
        step on the CPU, every 25 on a GPU (a read is a device sync), and only while a rule can
        still fire; ``plateau_step`` is the last step that lowered the loss by 1 % (0: none did,
        the start is still the best).

        * ``adam_probe``: no step in the first ``adam_probe`` lowered the start's loss by 1 %.
          The least-squares start is then already the best these features reach at this
          step size (the verification suite's problems either gain within a dozen steps or
          never do in the whole phase), and the phase would end on the start anyway.
        * ``adam_patience``: ``adam_patience`` steps without a 1 % gain.
        """
        s = self.schedule
        probing = s.adam_probe and self.plateau_step == 0  # the probe is decided at the first gain
        if not (probing or s.adam_patience) or not (every_step or step % 25 == 0):
            return None
        value = float(loss.detach())
        if value < self.plateau_loss * 0.99:
            self.plateau_loss, self.plateau_step = value, step
        if probing and self.plateau_step == 0 and step >= s.adam_probe:
            return "no gain on the start", f"no step lowered the start's loss by 1 % in {step} steps"
        if s.adam_patience and step - self.plateau_step >= s.adam_patience:
            return "stalled", f"less than 1 % gain in {s.adam_patience} steps"
        return None

    def _enter_lbfgs(self) -> None:
        go_on = self.schedule.lbfgs_steps > 0 and not self.history.diverged
        self.phase, self.started_phase, self.step = ("lbfgs" if go_on else "done"), False, 0
        self.adam = self.decay = None
        self.module.to(self.dtype)
        if go_on and self.lbfgs_batch is not None:
            self.colloc = self.lbfgs_batch()
        if self.adam_dtype != self.dtype:
            log.info("mixed precision: Adam done in %s, L-BFGS in %s", self.adam_dtype, self.dtype)
        self._save()

    def _keep_best(self, phase: str) -> None:
        """End a phase on the best state seen: a last step or line search can land higher."""
        current = float(self._loss(self._batch())[0].detach())
        if self.best.loss < current or not math.isfinite(current):
            log.info("%s ended at loss %.3e; restoring the best state (%.3e)", phase, current, self.best.loss)
            self.best.restore()
            self._loss(self._batch())  # a loss that solves the output layer sets it for this state
        else:
            self.best.offer(current)

    def _new_lbfgs(self) -> None:
        self.lbfgs = torch.optim.LBFGS(
            self.params,
            lr=1.0,
            max_iter=self.schedule.log_every,
            history_size=self.schedule.lbfgs_history,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-14,
            tolerance_change=0.0,
        )

    def _lbfgs(self) -> None:
        s, history = self.schedule, self.history
        colloc = self._batch()
        last_terms: dict[str, Tensor] = {}
        budget = s.lbfgs_steps * 5 // 4  # loss evaluations, line searches included: PyTorch's ratio

        def closure() -> Tensor:
            if self._stop_requested():
                raise _StopRequestedError
            self.lbfgs_evaluations += 1
            self.lbfgs.zero_grad(set_to_none=True)
            loss, terms = self._loss(colloc, backward=True)
            last_terms.clear()
            last_terms.update({k: v.detach() for k, v in terms.items()})
            if self.progress.bar is not None:  # L-BFGS reads the loss anyway: no extra sync
                iterations = self.lbfgs.state[self.params[0]].get("n_iter", 0) - started_at[0]
                self.progress.update(self.lbfgs_done + iterations, float(loss.detach()))
            return loss

        if not self.started_phase:
            log.info("L-BFGS: up to %d iterations", s.lbfgs_steps)
            history.lbfgs_start = history.step[-1] + 1
            self.best = BestState(self.module)
            self._new_lbfgs()
            try:
                self.best.offer(float(closure().detach()))
            except _StopRequestedError:  # before the phase's first evaluation: its start is saved
                self._save()
                raise TrainingInterruptedError("lbfgs", 0) from None
            self.started_phase = True
            history.lbfgs_stop = "budget"
        offset = history.lbfgs_start - 1
        started_at = [0]  # L-BFGS's own iteration count at the start of the block
        self.progress.start("lbfgs", s.lbfgs_steps, self.lbfgs_done)
        while self.lbfgs_done < s.lbfgs_steps and self.lbfgs_evaluations < budget:
            boundary = self.state_dict()
            chunk = min(s.log_every, s.lbfgs_steps - self.lbfgs_done)
            self.lbfgs.param_groups[0]["max_iter"] = chunk
            left = budget - self.lbfgs_evaluations
            self.lbfgs.param_groups[0]["max_eval"] = max(1, min(chunk * 5 // 4, left))
            before = started_at[0] = self.lbfgs.state[self.params[0]].get("n_iter", 0)
            previous = self.best.loss
            try:
                self.lbfgs.step(closure)
                loss = float(closure().detach())  # step() returns the loss before the step
            except _StopRequestedError:
                self.progress.close()
                self.load_state_dict(boundary)
                self._save()
                raise TrainingInterruptedError("lbfgs", self.lbfgs_done) from None
            advanced = self.lbfgs.state[self.params[0]].get("n_iter", 0) - before
            self.lbfgs_done += advanced
            self.step = self.lbfgs_done
            finite = math.isfinite(loss) and all(torch.isfinite(p).all() for p in self.params)
            terms = _floats(last_terms)
            history.record(offset + self.lbfgs_done, "lbfgs", loss, terms, self._seconds())
            history.trace(offset + self.lbfgs_done)
            _log_line("lbfgs", self.lbfgs_done, s.lbfgs_steps, loss, terms, self._seconds())
            if not finite:
                if not self._rollback("lbfgs", self.lbfgs_done):
                    history.lbfgs_stop = "non-finite loss"
                    break
                continue
            if self.best.offer(loss):
                self.failures = 0
            gained = previous - loss > s.lbfgs_min_gain * abs(previous) if math.isfinite(previous) else True
            if advanced == 0 or not gained:
                log.info(
                    "L-BFGS stopped after %d iterations: less than %.3g %% decrease",
                    self.lbfgs_done,
                    100 * s.lbfgs_min_gain,
                )
                history.lbfgs_stop = "stalled" if advanced else "no step"
                break
            if self.at_step is not None:
                self.at_step(self)
            self._save()
        self.progress.close()
        history.lbfgs_iterations = self.lbfgs_done
        history.lbfgs_evaluations = self.lbfgs_evaluations
        self._keep_best("L-BFGS")
        self.phase, self.lbfgs = "done", None
        self._save()
