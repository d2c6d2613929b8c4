"""A live progress line per training phase on a terminal (tqdm); plain log lines otherwise.

On a terminal (stderr is a TTY) each phase shows one line that updates in place: the step,
the loss, the share of the largest term in it (the terms' balance), the seconds per step and
the time left of the phase's budget. When stderr is a file or a pipe (a batch job, a CI log,
Hydra's multirun) nothing is drawn and the log lines every ``train.log_every`` steps are the
record. ``PINN_ELASTIC_PROGRESS=0`` or ``=1`` forces it off or on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any


def wanted() -> bool:
    """Whether to draw: forced by ``PINN_ELASTIC_PROGRESS``, else when stderr is a terminal."""
    forced = os.environ.get("PINN_ELASTIC_PROGRESS")
    if forced is not None:
        return forced not in ("0", "", "false", "no")
    return sys.stderr.isatty()


class Progress:
    """``start(phase, total)``, ``update(step, loss, terms)`` after each step, ``close()``."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = wanted() if enabled is None else enabled
        self.bar: Any = None

    def start(self, phase: str, total: int, done: int = 0) -> None:
        self.close()
        if not self.enabled or total <= 0:
            return
        from tqdm import tqdm

        self.bar = tqdm(
            total=total, initial=done, desc=f"{phase:5s}", unit="step", dynamic_ncols=True, leave=False
        )

    def update(self, step: int, loss: float | None = None, terms: dict[str, float] | None = None) -> None:
        if self.bar is None:
            return
        self.bar.update(step - self.bar.n)
        if loss is not None:
            fields = {"loss": f"{loss:.3e}"}
            if terms:
                name, value = max(terms.items(), key=lambda item: item[1])
                fields["largest"] = f"{name} {value / loss:.0%}" if loss > 0 else name
            self.bar.set_postfix(fields, refresh=terms is not None)  # drawn at once at logged steps

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def logging_around_the_line() -> Iterator[None]:
    """Log records printed above the live line instead of through it (when it is drawn)."""
    if not wanted():
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm(loggers=[logging.getLogger()]):
        yield
