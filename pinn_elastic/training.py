"""Adam, then L-BFGS with a strong-Wolfe line search, with logging and non-finite recovery."""

from __future__ import annotations

import copy
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from .collocation import Collocation

log = logging.getLogger(__name__)

LossFn = Callable[[Collocation], tuple[Tensor, dict[str, Tensor]]]
Monitor = Callable[[], dict[str, float]]


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
    started: float | None = None  # perf_counter() at the start of training

    def trace(self, step: int) -> None:
        if self.tracer is None:
            return
        self.traced_step.append(step)
        self.traced_seconds.append(time.perf_counter() - (self.started or time.perf_counter()))
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


class BestState:
    """The lowest-loss parameters seen at a checkpoint, to fall back to on a non-finite loss."""

    def __init__(self, module: nn.Module) -> None:
        self.module, self.loss, self.state = module, math.inf, copy.deepcopy(module.state_dict())

    def offer(self, loss: float) -> None:
        if math.isfinite(loss) and loss < self.loss:
            self.loss, self.state = loss, copy.deepcopy(self.module.state_dict())

    def restore(self) -> None:
        self.module.load_state_dict(self.state)


def _floats(terms: dict[str, Tensor]) -> dict[str, float]:
    return {k: float(v.detach()) for k, v in terms.items()}


def _log_line(
    phase: str, step: int, total: int, loss: float, terms: dict[str, float], elapsed: float
) -> None:
    parts = " ".join(f"{k}={v:.2e}" for k, v in terms.items())
    log.info("%-5s %6d/%d  loss=%.3e  [%s]  %.1fs", phase, step, total, loss, parts, elapsed)


def train(
    module: nn.Module,
    params: list[Tensor],
    loss_fn: LossFn,
    sample: Callable[[], Collocation],
    schedule: Schedule,
    history: History | None = None,
    start: float | None = None,
) -> History:
    """Train ``params`` of ``module`` (in place) on ``loss_fn``; ``sample()`` draws collocation
    points. ``module``'s whole state is what the best-state fallback keeps. Passing the
    ``history`` (and ``start`` time) of an earlier call continues it (mixed precision runs its
    phases as two calls)."""
    best = BestState(module)
    start = time.perf_counter() if start is None else start
    colloc = sample()
    first_loss, first_terms = loss_fn(colloc)
    best.offer(float(first_loss.detach()))
    if history is None:
        history = History()
    if history.started is None:
        history.started = start
    if not history.step:
        elapsed = time.perf_counter() - start
        history.record(0, "start", float(first_loss.detach()), _floats(first_terms), elapsed)
        history.trace(0)
    offset = history.step[-1]

    if schedule.adam_steps > 0:
        adam = torch.optim.Adam(params, lr=schedule.lr)
        gamma = (schedule.lr_final / schedule.lr) ** (1.0 / max(schedule.adam_steps, 1))
        decay = torch.optim.lr_scheduler.ExponentialLR(adam, gamma)
        tick, tick_step = time.perf_counter(), 0
        history.adam_stop = "budget"
        for step in range(1, schedule.adam_steps + 1):
            if schedule.resample_every and step > 1 and (step - 1) % schedule.resample_every == 0:
                colloc = sample()
            adam.zero_grad(set_to_none=True)
            loss, terms = loss_fn(colloc)
            loss.backward()
            adam.step()
            decay.step()
            history.adam_steps_run = step
            history.trace(offset + step)
            if step % schedule.log_every == 0 or step == schedule.adam_steps or step == 1:
                value = float(loss.detach())
                now = time.perf_counter()
                if step > 1:
                    history.adam_ms_per_step.append(1e3 * (now - tick) / (step - tick_step))
                tick, tick_step = now, step
                history.record(offset + step, "adam", value, _floats(terms), now - start)
                _log_line("adam", step, schedule.adam_steps, value, _floats(terms), now - start)
                if not math.isfinite(value):
                    log.warning(
                        "non-finite loss at Adam step %d: restored the best state (loss %.3e)",
                        step,
                        best.loss,
                    )
                    best.restore()
                    history.nonfinite_recovered = True
                    history.adam_stop = "non-finite loss"
                    break
                best.offer(value)
                tick = time.perf_counter()  # logging is not part of the step time

        _keep_best(best, loss_fn, colloc, "Adam")
    offset = history.step[-1]
    if schedule.lbfgs_steps > 0:
        history.lbfgs_start = offset + 1
        _run_lbfgs(module, params, loss_fn, colloc, schedule, history, best, offset, start)
        _keep_best(best, loss_fn, colloc, "L-BFGS")
    return history


def _keep_best(best: BestState, loss_fn: LossFn, colloc: Collocation, phase: str) -> None:
    """End a phase on the best state seen: a last step or line search can land higher."""
    current = float(loss_fn(colloc)[0].detach())
    if best.loss < current:
        log.info("%s ended at loss %.3e; restoring the best state seen (%.3e)", phase, current, best.loss)
        best.restore()
        loss_fn(colloc)  # a loss that solves for the output layer sets it for the restored state
    else:
        best.offer(current)


def _run_lbfgs(
    module: nn.Module,
    params: list[Tensor],
    loss_fn: LossFn,
    colloc: Collocation,
    schedule: Schedule,
    history: History,
    best: BestState,
    offset: int,
    start: float,
) -> None:
    lbfgs = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=schedule.log_every,
        history_size=schedule.lbfgs_history,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-14,
        tolerance_change=0.0,
    )
    last_terms: dict[str, Tensor] = {}
    evaluations = [0]
    budget = schedule.lbfgs_steps * 5 // 4  # loss evaluations, line searches included: PyTorch's ratio

    def closure() -> Tensor:
        evaluations[0] += 1
        lbfgs.zero_grad(set_to_none=True)
        loss, terms = loss_fn(colloc)
        loss.backward()
        last_terms.clear()
        last_terms.update({k: v.detach() for k, v in terms.items()})
        return loss

    best.offer(float(closure().detach()))
    done = 0
    history.lbfgs_stop = "budget"
    while done < schedule.lbfgs_steps and evaluations[0] < budget:
        chunk = min(schedule.log_every, schedule.lbfgs_steps - done)
        lbfgs.param_groups[0]["max_iter"] = chunk
        lbfgs.param_groups[0]["max_eval"] = max(1, min(chunk * 5 // 4, budget - evaluations[0]))
        before = lbfgs.state[params[0]].get("n_iter", 0)
        previous = best.loss
        lbfgs.step(closure)
        loss = float(closure().detach())  # step() returns the loss before the step; report the one after
        advanced = lbfgs.state[params[0]].get("n_iter", 0) - before
        done += advanced
        finite = math.isfinite(loss) and all(torch.isfinite(p).all() for p in params)
        terms = _floats(last_terms)
        elapsed = time.perf_counter() - start
        history.record(offset + done, "lbfgs", loss, terms, elapsed)
        history.trace(offset + done)
        _log_line("lbfgs", done, schedule.lbfgs_steps, loss, terms, elapsed)
        if not finite:
            log.warning("non-finite loss in L-BFGS: restored the best state (loss %.3e)", best.loss)
            best.restore()
            history.nonfinite_recovered = True
            history.lbfgs_stop = "non-finite loss"
            break
        best.offer(loss)
        if advanced == 0 or not loss < previous * (1.0 - 1e-3):
            log.info("L-BFGS stopped after %d iterations: less than 0.1%% decrease", done)
            history.lbfgs_stop = "stalled" if advanced else "no step"
            break
    history.lbfgs_iterations = done
    history.lbfgs_evaluations = evaluations[0]
