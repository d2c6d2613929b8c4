"""Ctrl-C and SIGTERM during training: finish the step, checkpoint, write outputs, then exit.

:func:`interruption` installs handlers for SIGINT and SIGTERM (in the main thread only) that
record the signal; the trainer reads :meth:`Interruption.requested` after every step. A second
signal while the first is being handled stops at once, as without the handlers.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Interruption:
    """The first SIGINT or SIGTERM received, if any."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def requested(self) -> bool:
        return self.signal_name is not None

    def handle(self, signum: int, frame) -> None:
        if self.signal_name is not None:  # the second one: stop now
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name


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
