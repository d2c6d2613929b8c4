"""The ``pinn-elastic`` command: a thin Hydra entry point around :func:`pinn_elastic.pipeline.run`.

Bad input ends the program with one line on stderr (``pinn-elastic: error: KEY = VALUE: ...``)
and exit status 2, and leaves no run folder behind.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from . import distributed
from .config import (
    Config,
    InverseConfig,
    ModelConfig,
    OutputConfig,
    TrainConfig,
    omegaconf_error,
    register_schema,
    to_config,
)
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
    from .pipeline import RunInterruptedError, run

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    group = distributed.current()
    if group.active and group.is_root:
        _release_ranks(str(output_dir))  # the others start their part of the run (see main)
    try:
        config = to_config(cfg)
        cwd = Path(hydra.utils.get_original_cwd())
        metrics = run(config, output_dir, base_dir=[*_case_folder(), cwd])
    except RunInterruptedError as err:
        if not group.is_root:
            raise SystemExit(130 if err.signal_name == "SIGINT" else 143) from None
        print(
            f"pinn-elastic: {err.signal_name}: stopped during {err.phase} at step {err.step}; outputs of "
            f"the current state in {output_dir}; resume with: {resume_command(output_dir)}",
            file=sys.stderr,
        )
        logging.shutdown()
        raise SystemExit(130 if err.signal_name == "SIGINT" else 143) from None
    except ConfigError as err:
        # Exit from inside the job: Hydra would otherwise print its own report first.
        if group.is_root:
            print(f"pinn-elastic: error: {err}", file=sys.stderr)
            logging.shutdown()
            _remove_run_folder(output_dir)
        raise SystemExit(2) from None
    log.info("outputs in %s", output_dir)
    return metrics.get("rel_l2_displacement")


def resume_command(output_dir: Path) -> str:
    """The command line that continues this run in its own folder."""
    kept = [
        o
        for o in HydraConfig.get().overrides.task
        if not o.startswith(("train.resume=", "hydra.run.dir=", "+train.resume="))
    ]
    launcher = ["pinn-elastic"]
    group = distributed.current()
    if group.active:  # the same ranks again (several nodes: with the same rendezvous options)
        per_node = int(os.environ.get("LOCAL_WORLD_SIZE", group.world))
        nodes = [f"--nnodes={group.world // per_node}"] if group.world > per_node else []
        launcher = ["torchrun", *nodes, f"--nproc_per_node={per_node}", "-m", "pinn_elastic"]
    options = []  # a case from another config folder is found again
    for flag in ("--config-dir", "--config-path", "--config-name"):
        value = _argument(flag, sys.argv)
        if value is not None:
            options.append(f"{flag}={Path(value).resolve() if flag != '--config-name' else value}")
    words = [*launcher, *options, *kept, f"hydra.run.dir={output_dir}", f"train.resume={output_dir}"]
    return " ".join(shlex.quote(w) for w in words)


SECTIONS = {"model": ModelConfig, "train": TrainConfig, "output": OutputConfig, "inverse": InverseConfig}


def _argument(flag: str, argv: list[str]) -> str | None:
    """The value of ``--flag VALUE`` or ``--flag=VALUE`` in ``argv``."""
    for i, word in enumerate(argv):
        if word == flag and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None


def _case_keys(argv: list[str]) -> list[str]:
    """The keys of the case this command line selects (from its YAML in the config folders)."""
    name = next((w.split("=", 1)[1] for w in argv if w.startswith("case=")), "cantilever")
    folders = [Path(d) for d in (_argument("--config-dir", argv), _argument("-cd", argv)) if d] + [CONF_DIR]
    for folder in folders:
        file = folder / "case" / f"{name}.yaml"
        if file.is_file():
            values = yaml.safe_load(file.read_text()) or {}
            return [k for k in values if k not in ("defaults", "name")]
    return []


def unknown_key(full_key: str, argv: list[str]) -> str | None:
    """``KEY: unknown key; SECTION takes: ...`` for a misspelt key, or None if not one."""
    section, _, leaf = full_key.rpartition(".")
    if section in SECTIONS:
        keys = [f.name for f in dataclasses.fields(SECTIONS[section])]
    elif section == "case":
        keys = _case_keys(argv)
    elif section == "":
        keys = [f.name for f in dataclasses.fields(Config)]
    else:
        return None
    if leaf in keys or not keys:
        return None
    near = difflib.get_close_matches(leaf, keys, n=1)
    hint = f"did you mean {section + '.' if section else ''}{near[0]}? " if near else ""
    return f"{full_key}: unknown key; {hint}{section or 'the top level'} takes: {', '.join(keys)}"


def one_line(err: BaseException) -> str:
    """A one-line description of a configuration or command-line error."""
    if isinstance(err, OmegaConfBaseException):
        if isinstance(err, (ConfigKeyError, ConfigAttributeError)) and getattr(err, "full_key", None):
            message = unknown_key(err.full_key, sys.argv[1:])
            if message:
                return message
        err = omegaconf_error(err)
    cause = err.__cause__
    if isinstance(err, HydraException) and isinstance(cause, OmegaConfBaseException):
        if isinstance(cause, (ConfigKeyError, ConfigAttributeError)):
            return one_line(cause)
        return f"{str(err).splitlines()[0]}: {one_line(cause)}"
    text = str(err).split("Config search path")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines) if lines else type(err).__name__


def main() -> None:
    """Console entry point."""
    if not (CONF_DIR / "config.yaml").is_file():
        sys.exit(f"pinn-elastic: error: config folder {CONF_DIR} not found; install with `pip install -e .`")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us, so we print them in one line
    group = distributed.start()
    try:
        if group.active:
            _join_rank_zero(group)
        if {"--cfg", "-c"} & set(sys.argv[1:]):
            validate(sys.argv[1:])  # Hydra prints the config without running the task
        app()
    except (ConfigError, HydraException, OmegaConfBaseException) as err:
        if group.is_root:
            print(f"pinn-elastic: error: {one_line(err)}", file=sys.stderr)
        sys.exit(2)
    except OSError as err:  # the run folder cannot be made or written
        if group.is_root:
            where = err.filename or "the run folder"
            print(
                f"pinn-elastic: error: {where}: {err.strerror or err}; "
                "choose a writable folder with hydra.run.dir=...",
                file=sys.stderr,
            )
        sys.exit(2)
    finally:
        if group.active and group.is_root:
            _release_ranks(None)  # rank 0 stopped before its run: the others stop too
        if _scratch is not None:
            shutil.rmtree(_scratch, ignore_errors=True)
        distributed.stop()


NOT_A_RUN = (
    "--cfg", "-c", "--help", "-h", "--hydra-help", "--info", "-i", "--shell-completion", "-sc", "--version",
)  # fmt: skip
_released = False  # rank 0 told the other ranks whether the run goes on
_scratch: str | None = None  # a rank other than 0: the Hydra folder it writes nothing to


def _release_ranks(run_dir: str | None) -> None:
    """Rank 0, once: the others wait for this before they start (``None``: stop, quietly)."""
    global _released
    if not _released:
        _released = True
        distributed.current().broadcast(run_dir)


def _join_rank_zero(group: distributed.Group) -> None:
    """Under torchrun: one run, rank 0's. The other ranks wait until rank 0's Hydra job has
    started (:func:`app`) and then run theirs in a temporary folder of their own (removed at the
    end; they write nothing and print nothing), so the run folder need not exist on their nodes
    and bad input leaves no folder behind. When rank 0 stops before its run (an error it
    prints), they stop with it. A sweep is refused: sweep outside torchrun."""
    global _scratch
    argv = sys.argv[1:]
    sweep = {"-m", "--multirun"} & set(argv) or any(
        a.lstrip("+").startswith("hydra.mode=") and "MULTIRUN" in a.upper() for a in argv
    )
    if sweep:
        raise ConfigError("-m", None, "a sweep cannot run under torchrun; run the sweep without torchrun")
    if group.is_root:
        return
    if set(NOT_A_RUN) & {a.split("=", 1)[0] for a in argv}:
        sys.exit(0)  # rank 0 prints (help, config) alone
    if group.broadcast(None) is None:
        sys.exit(2)
    _scratch = tempfile.mkdtemp(prefix=f"pinn-elastic-rank{group.rank}-")
    kept = [a for a in argv if not a.lstrip("+").startswith("hydra.run.dir=")]
    sys.argv[1:] = [
        *kept,
        f"hydra.run.dir='{_scratch}'",
        "hydra.output_subdir=null",
        "hydra/job_logging=disabled",
        "hydra/hydra_logging=disabled",
    ]
    logging.getLogger().setLevel(logging.ERROR)


def validate(argv: list[str]) -> None:
    """Compose and check the config of a command line without running it (``--cfg``): the
    schema's ranges and the case's parameters. Raises :class:`ConfigError`."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from .case_loader import load_case

    overrides = [w for w in argv if "=" in w and not w.startswith("-")]
    overrides = [w for w in overrides if not w.startswith(("hydra.", "+hydra.", "++hydra."))]
    user_dir = _argument("--config-dir", argv) or _argument("-cd", argv)
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        if user_dir:
            overrides.append(f"hydra.searchpath=[file://{Path(user_dir).resolve()}]")
        config = to_config(compose(config_name="config", overrides=overrides))
    GlobalHydra.instance().clear()
    load_case(config.case, [Path(user_dir).resolve() / "case"] if user_dir else None)
