"""The ``pinn-elastic`` command: a thin Hydra entry point around :func:`pinn_elastic.pipeline.run`.

Bad input ends the program with one line on stderr (``pinn-elastic: error: KEY = VALUE: ...``)
and exit status 2, and leaves no run folder behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from .config import omegaconf_error, register_schema, to_config
from .errors import ConfigError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"

log = logging.getLogger("pinn_elastic")

register_schema()


def _remove_run_folder(output_dir: Path) -> None:
    """Delete a run folder that holds nothing but Hydra's own files (config copies, log)."""
    if not output_dir.is_dir():
        return
    if all(p.name == ".hydra" or p.suffix == ".log" for p in output_dir.iterdir()):
        shutil.rmtree(output_dir, ignore_errors=True)
        parent = output_dir.parent
        if parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()


def _case_folder() -> list[Path]:
    """The folder of the case YAML this run composed (where its relative paths start), if any."""
    runtime = HydraConfig.get().runtime
    choice = runtime.choices.get("case")
    if not choice:
        return []
    for source in runtime.config_sources:
        if source.schema == "file":
            folder = Path(source.path) / "case"
            if (folder / f"{choice}.yaml").is_file():
                return [(folder / f"{choice}.yaml").parent]
    return []


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def app(cfg: DictConfig) -> float | None:
    """Hydra task: validate, solve, report. Returns the relative L2 displacement error."""
    from .pipeline import run

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        config = to_config(cfg)
        cwd = Path(hydra.utils.get_original_cwd())
        metrics = run(config, output_dir, base_dir=[*_case_folder(), cwd])
    except ConfigError as err:
        # Exit from inside the job: Hydra would otherwise print its own report first.
        print(f"pinn-elastic: error: {err}", file=sys.stderr)
        logging.shutdown()
        _remove_run_folder(output_dir)
        raise SystemExit(2) from None
    log.info("outputs in %s", output_dir)
    return metrics.get("rel_l2_displacement")


def one_line(err: BaseException) -> str:
    """A one-line description of a configuration or command-line error."""
    if isinstance(err, OmegaConfBaseException):
        err = omegaconf_error(err)
    cause = err.__cause__
    if isinstance(err, HydraException) and isinstance(cause, OmegaConfBaseException):
        return f"{str(err).splitlines()[0]}: {one_line(cause)}"
    text = str(err).split("Config search path")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines) if lines else type(err).__name__


def main() -> None:
    """Console entry point."""
    if not (CONF_DIR / "config.yaml").is_file():
        sys.exit(f"pinn-elastic: error: config folder {CONF_DIR} not found; install with `pip install -e .`")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us, so we print them in one line
    try:
        app()
    except (ConfigError, HydraException, OmegaConfBaseException) as err:
        print(f"pinn-elastic: error: {one_line(err)}", file=sys.stderr)
        sys.exit(2)
