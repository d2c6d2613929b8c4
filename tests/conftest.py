"""Shared helpers: configs composed from the real YAML tree, small budgets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from pinn_elastic.cli import CONF_DIR
from pinn_elastic.config import Config, to_config

REPO = Path(__file__).resolve().parent.parent


def make_config(*overrides: str) -> Config:
    """The validated config for these command-line overrides."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return to_config(compose(config_name="config", overrides=list(overrides)))


def run_cli(cwd: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m pinn_elastic ARGS`` in ``cwd``, output captured."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "pinn_elastic", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture(autouse=True)
def _threads() -> None:
    torch.set_num_threads(2)
