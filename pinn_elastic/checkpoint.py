"""Checkpoints: a run's whole state in one file, ``checkpoint.pt`` in the run folder.

A checkpoint holds the trainer's state (:meth:`pinn_elastic.training.Trainer.state_dict`: the
network, the optimisers, the learning-rate decay, the phase and step, the batch's generator
state, the best state and the history), the resolved configuration, the folders the case's
relative paths start from and the project's version. After training it also holds the final
field (polished, with the identified material of an inverse run) and the run's metrics, which
:func:`pinn_elastic.load` and ``pinn-elastic-export`` read.

It is written atomically (a temporary file, then a rename), so a run killed while writing
keeps the previous checkpoint, and read with ``torch.load(weights_only=True)``: a checkpoint
file is data, never code. A checkpoint of another case, network, dtype, seed or schedule, of
another version of pinn-elastic, or a file that is not a checkpoint is refused in one line.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_path
from .errors import ConfigError

FILE = "checkpoint.pt"
FORMAT = 1
KEY = "train.resume"
# keys that may differ between a checkpoint and the run that resumes it (they do not change the
# numbers; train.log_every does: it sets the L-BFGS blocks)
FREE_KEYS = {
    "train.resume",
    "train.checkpoint_every",
    "output.resolution",
    "output.vtu",
    "output.plots",
    "output.snapshots_every",
    "device",
}


def version() -> str:
    from . import __version__

    return __version__


def flat(config: Any, prefix: str = "") -> dict[str, Any]:
    """``{"model.width": 64, ...}`` from a (nested) config dataclass or mapping."""
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name != "case" and not name.startswith("train.loss_weights"):
            out.update(flat(value, name + "."))
        else:
            out[name] = value
    return out


def locate(path: str | Path) -> Path:
    """The checkpoint file of a run folder, or the file itself."""
    path = Path(path).expanduser()
    if path.is_dir():
        return path / FILE
    return path


def save(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` atomically to ``path`` (mode by the umask, like every result file)."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "version": version(), **payload}, tmp)


def read(path: str | Path, key: str = KEY) -> dict[str, Any]:
    """The checkpoint at ``path`` (a run folder or a file), or a one-line :class:`ConfigError`."""
    file = locate(path)
    if not file.exists():
        where = f"{path} holds no {FILE}" if Path(path).is_dir() else "no such file"
        raise ConfigError(key, str(path), f"{where}; give a run folder with a {FILE} or the file itself")
    if not os.access(file, os.R_OK):
        raise ConfigError(key, str(file), "the file cannot be read (permissions)")
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # any unpickling failure: truncated, corrupt or not a checkpoint at all
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        allowed = f"not a readable pinn-elastic checkpoint (truncated or corrupt: {reason[:120]})"
        raise ConfigError(key, str(file), allowed) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or "config" not in state:
        raise ConfigError(key, str(file), f"not a pinn-elastic checkpoint (format {FORMAT} expected)")
    if state.get("version") != version():
        raise ConfigError(
            key,
            str(file),
            f"written by pinn-elastic {state.get('version')}, this is {version()}; "
            "resume it with that version, or start a new run",
        )
    return state


def check_matches(state: dict[str, Any], config: Any, key: str = KEY) -> None:
    """Refuse to resume a checkpoint whose run differs from ``config`` in a key that changes the
    numbers (the case, the network, the dtype, the seed, the schedule, the data)."""
    saved, current = flat(state["config"]), flat(config)
    for name in sorted(set(saved) | set(current)):
        if name in FREE_KEYS or name.startswith("output."):
            continue
        if saved.get(name) != current.get(name):
            raise ConfigError(
                key,
                str(state.get("path", "")) or None,
                f"the checkpoint is of a run with {name}={saved.get(name)!r}, this run has "
                f"{name}={current.get(name)!r}; resume with the checkpoint's settings",
            )
