"""``meshio.read`` without meshio's own messages on the terminal.

On a file it cannot parse, meshio prints its reasons to stdout/stderr (and may even raise
``SystemExit``); the caller turns the failure into one line, so those prints are swallowed.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import meshio


def quiet_read(path: str | Path, **kwargs) -> meshio.Mesh:
    """``meshio.read(path)`` with meshio's prints captured (they are not the caller's error)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return meshio.read(path, **kwargs)
