"""Ctrl-C and SIGTERM during training: finish the step, checkpoint, write outputs, then exit.

:func:`interruption` installs handlers for SIGINT and SIGTERM (in the main thread only) that
record the signal; the trainer reads :meth:`Interruption.requested` after every step. A second
signal while the first is being handled stops at once, as without the handlers (under torchrun,
a second signal of another kind: the same one may arrive twice, from the job and from torchrun).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from . import distributed


class Interruption:
    """The first SIGINT or SIGTERM received, if any."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def requested(self) -> bool:
        return self.signal_name is not None

    def handle(self, signum: int, frame) -> None:
        name = signal.Signals(signum).name
        if self.signal_name is not None:  # the second one: stop now
            if name == self.signal_name and self.forwarded_twice:
                return  # the same signal again, from torchrun after Slurm (see interruption)
            raise KeyboardInterrupt
        self.signal_name = name

    @property
    def forwarded_twice(self) -> bool:
        """Under torchrun a worker can get the same signal twice within moments: from the job
        (Slurm signals every process of the step) and forwarded by torchrun. A repeat of the
        same signal there is not a second request."""
        return distributed.launched_by_torchrun()


@contextlib.contextmanager
def interruption() -> Iterator[Interruption]:
    """Handlers for SIGINT and SIGTERM for the duration of the block (restored after)."""
    state = Interruption()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {s: signal.signal(s, state.handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
