"""Configuration: composition from the YAML tree, validation, one-line CLI errors."""

import pytest

from pinn_elastic.case_loader import load_case
from pinn_elastic.errors import ConfigError

from .conftest import make_config, run_cli


def test_defaults_compose_to_typed_config():
    config = make_config()
    assert config.case["name"] == "cantilever"
    assert config.model.activation == "gelu"
    assert config.train.adam_steps >= 0 and config.train.lbfgs_steps >= 0
    assert config.device == "auto" and config.dtype in ("float32", "float64")
    problem, params = load_case(config.case)
    assert params.length == 4.0 and params.plane == "stress"
    assert problem.material.E == 1000.0


def test_quick_training_preset_overrides_budgets():
    config = make_config("train=quick")
    assert config.train.adam_steps == 100 and config.train.n_interior == 512


@pytest.mark.parametrize(
    "override,key",
    [
        ("case.E=-5", "case.E"),
        ("case.nu=0.5", "case.nu"),
        ("case.nu=-1.2", "case.nu"),
        ("case.height=0", "case.height"),
        ("case.plane=membrane", "case.plane"),
        ("model.activation=swishy", "model.activation"),
        ("model.width=0", "model.width"),
        ("train.n_interior=0", "train.n_interior"),
        ("train.lbfgs_steps=-1", "train.lbfgs_steps"),
        ("train.lr=0", "train.lr"),
        ("device=tpu", "device"),
        ("dtype=float16", "dtype"),
    ],
)
def test_bad_values_raise_config_error_naming_the_key(override, key):
    with pytest.raises(ConfigError) as info:
        config = make_config(override)
        load_case(config.case)
    assert info.value.key == key
    assert "\n" not in str(info.value)


def test_wrong_type_in_case_parameter_is_rejected():
    config = make_config("case.length=abc")
    with pytest.raises(ConfigError, match=r"case\.length"):
        load_case(config.case)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["case.nu=0.7"], "case.nu = 0.7"),
        (["case.lenght=3"], "did you mean case.length"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_and_no_outputs(tmp_path, args, needle):
    """In a real process (the many other rows: tests/test_hostile_input.py, in-process)."""
    result = run_cli(tmp_path, *args, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pinn-elastic: error:") and needle in lines[0]
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.rglob("*.json")) and not any(tmp_path.rglob("*.log"))
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").rglob("*.yaml"))


@pytest.mark.parametrize(
    "override", ["++train.loss_weights={traction_right: 10}", "+train.loss_weights.traction_right=10"]
)
def test_loss_weights_as_the_readme_writes_them(override):
    assert make_config("case=cantilever", override).train.loss_weights == {"traction_right": 10.0}
