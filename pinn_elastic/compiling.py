"""``torch.compile`` where it works, the eager function where it does not (with one clear message)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

log = logging.getLogger(__name__)


class CompiledOrEager:
    """Calls ``torch.compile(fn)``; if compiling or running it fails, says why once and from
    then on calls ``fn`` itself. The first call compiles (tens of seconds on a small CPU)."""

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        self.fn, self.name = fn, name
        self.compiled: Callable[..., Any] | None = torch.compile(fn, dynamic=False)

    def __call__(self, *args: Any) -> Any:
        if self.compiled is not None:
            try:
                return self.compiled(*args)
            except Exception as error:
                reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
                log.warning(
                    "train.compile: torch.compile cannot run %s here (%s: %s); running it eager",
                    self.name,
                    type(error).__name__,
                    reason[:200],
                )
                self.compiled = None
        return self.fn(*args)

    @property
    def is_compiled(self) -> bool:
        return self.compiled is not None


def maybe_compile(fn: Callable[..., Any], name: str, enabled: bool) -> Callable[..., Any]:
    return CompiledOrEager(fn, name) if enabled else fn
