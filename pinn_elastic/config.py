"""Typed configuration schema (Hydra structured configs) and its validation.

The YAML files under ``conf/`` sit on top of these dataclasses, so a misspelt key or a value
of the wrong type is rejected by Hydra; ``__post_init__`` checks the ranges once, when the CLI
turns the composed config into these objects (``OmegaConf.to_object``). The ``case`` group is
a free mapping here because every case has its own parameters; :mod:`pinn_elastic.cases`
validates it against the case's own dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .activations import ACTIVATIONS
from .errors import (
    ConfigError,
    require_choice,
    require_finite,
    require_non_negative,
    require_positive,
)

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "float64", "mixed")
OUTPUT_LAYERS = ("solve", "init", "train")
REFERENCES = ("none", "fem")  # fem: the finite-element cross-check (pinn_elastic.reference.fem)
OBJECTIVES = ("strong", "energy")
ENERGY_POLISH = ("auto", "always", "never")  # auto: where a clamped face meets a traction face
DERIVATIVES = ("forward", "autograd")


INITS = ("variance", "xavier")


@dataclass
class ModelConfig:
    activation: str = "gelu"
    width: int = 64
    depth: int = 4
    init: str = "xavier"
    init_variance: float = 1.0
    residual: bool = False
    allow_zero_curvature: bool = False

    def __post_init__(self) -> None:
        require_choice("model.activation", self.activation, tuple(ACTIVATIONS))
        require_choice("model.init", self.init, INITS)
        require_positive("model.init_variance", self.init_variance)
        if ACTIVATIONS[self.activation].zero_curvature and not self.allow_zero_curvature:
            raise ConfigError(
                "model.activation",
                self.activation,
                "its second derivative is zero almost everywhere, so the network has no curvature and "
                "cannot satisfy the second-order Navier-Cauchy equations; choose gelu, gelu_tanh, tanh, "
                "silu or sin, or set model.allow_zero_curvature=true to run it anyway as a demonstration",
            )
        for key in ("width", "depth"):
            if getattr(self, key) < 1:
                raise ConfigError(f"model.{key}", getattr(self, key), "must be an integer >= 1")


@dataclass
class TrainConfig:
    adam_steps: int = 300
    lbfgs_steps: int = 100
    lr: float = 1e-2
    lr_final: float = 1e-3
    n_interior: int = 2048
    n_boundary: int = 512
    resample_every: int = 0
    derivatives: str = "forward"
    compile: bool = False
    hard_bc: bool = True
    output_layer: str = "solve"
    head_ridge: float = 1e-7
    polish: bool = True
    polish_batches: int = 2
    energy_polish: str = "auto"
    energy_points: int = 8192
    lbfgs_history: int = 50
    log_every: int = 100
    loss_weights: dict[str, float] = field(default_factory=dict)
    checkpoint_every: int = 100
    resume: str | None = None
    adam_patience: int = 0  # Adam stops after this many steps without a 1 % gain (0: whole budget)
    adam_probe: int = 25  # Adam stops after this many steps if none gained 1 % on the start (0: off)
    tolerance: float = 1e-6  # no training where the polished least-squares start meets it (0: off)
    objective: str = "strong"  # strong (point-wise residuals) | energy (potential energy, Ritz)

    def __post_init__(self) -> None:
        non_negative = ("adam_steps", "lbfgs_steps", "resample_every", "checkpoint_every", "adam_patience")
        for key in (*non_negative, "adam_probe"):
            require_non_negative(f"train.{key}", getattr(self, key))
        positive = ("lr", "lr_final", "n_interior", "n_boundary", "lbfgs_history", "log_every")
        for key in (*positive, "polish_batches", "energy_points"):
            require_positive(f"train.{key}", getattr(self, key))
        require_choice("train.output_layer", self.output_layer, OUTPUT_LAYERS)
        require_choice("train.energy_polish", self.energy_polish, ENERGY_POLISH)
        require_choice("train.objective", self.objective, OBJECTIVES)
        require_non_negative("train.head_ridge", self.head_ridge)
        require_non_negative("train.tolerance", self.tolerance)
        require_choice("train.derivatives", self.derivatives, DERIVATIVES)
        if self.output_layer == "solve" and self.derivatives != "forward":
            raise ConfigError(
                "train.output_layer", self.output_layer, "needs train.derivatives=forward (use init or train)"
            )
        for name, weight in self.loss_weights.items():
            require_non_negative(f"train.loss_weights.{name}", weight)


@dataclass
class OutputConfig:
    resolution: int = 161
    vtu: bool = True
    plots: bool = True
    snapshots_every: int = 0

    def __post_init__(self) -> None:
        if self.resolution < 3:
            raise ConfigError("output.resolution", self.resolution, "must be an integer >= 3")
        require_non_negative("output.snapshots_every", self.snapshots_every)


UNKNOWNS = ("E", "nu", "lam", "mu")  # lam/mu are the 3D Lame parameters, even for a 2D body
# inverse.field: a modulus field E(x), or one sharp inclusion refined from it (nu stays a constant)
FIELDS = ("E", "inclusion")


@dataclass
class MaterialValues:
    """Some of ``E, nu, lam, mu`` (``inverse.start.E=1500``): the unset ones are None."""

    E: float | None = None
    nu: float | None = None
    lam: float | None = None
    mu: float | None = None

    def given(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in UNKNOWNS if getattr(self, name) is not None}


@dataclass
class InverseConfig:
    """Material identification from measured displacements (:mod:`pinn_elastic.inverse`)."""

    data: str | None = None  # CSV (x,y[,z],ux,uy[,uz][,sx,sy[,sz]]) or VTU; the case's units
    array: str = "displacement"  # the VTU point array that holds the measured displacement
    unknowns: list[str] = field(default_factory=list)  # any of E, nu or of lam, mu
    start: MaterialValues = field(default_factory=MaterialValues)  # start values (default: the case's)
    truth: MaterialValues = field(default_factory=MaterialValues)  # true values, for the report only
    # inverse.field=inclusion: Adam steps of each round of the refinement (each ends with
    # inclusion_iterations Levenberg-Marquardt steps on the shape)
    inclusion_rounds: list[int] = field(default_factory=lambda: [180, 25, 25, 25, 25, 25])
    inclusion_iterations: int = 4
    inclusion_shape: str = "ellipse"  # ellipse | circle (3D: ellipsoid | sphere)
    # E: Young's modulus as a field E(x), a second small network; inclusion: one sharp
    # inclusion refined from it (last: the name shadows dataclasses.field)
    field: str | None = None

    def __post_init__(self) -> None:
        for name in self.unknowns:
            require_choice("inverse.unknowns", name, UNKNOWNS)
        if len(set(self.unknowns)) != len(self.unknowns):
            raise ConfigError("inverse.unknowns", list(self.unknowns), "names an unknown twice")
        if {"E", "nu"} & set(self.unknowns) and {"lam", "mu"} & set(self.unknowns):
            raise ConfigError(
                "inverse.unknowns", list(self.unknowns), "mixes E/nu with lam/mu; pick one pair"
            )
        if self.field is not None:
            require_choice("inverse.field", self.field, FIELDS)
            if set(self.unknowns) - {"nu"}:
                allowed = f"with inverse.field={self.field} only nu may be a constant unknown"
                raise ConfigError("inverse.unknowns", list(self.unknowns), allowed)
        rounds = list(self.inclusion_rounds)
        if not rounds or any(not isinstance(r, int) or isinstance(r, bool) or r < 0 for r in rounds):
            raise ConfigError("inverse.inclusion_rounds", rounds, "must be a non-empty list of integers >= 0")
        if not isinstance(self.inclusion_iterations, int) or self.inclusion_iterations < 1:
            raise ConfigError(
                "inverse.inclusion_iterations", self.inclusion_iterations, "must be an integer >= 1"
            )
        require_choice("inverse.inclusion_shape", self.inclusion_shape, ("ellipse", "circle"))
        if self.active and not self.data:
            raise ConfigError("inverse.data", None, "an inverse run needs measured data (inverse.data=FILE)")
        if self.data and not self.active:
            raise ConfigError(
                "inverse.unknowns", [], "inverse.data needs at least one unknown (inverse.unknowns=[E,nu])"
            )
        for group in ("start", "truth"):
            for name, value in getattr(self, group).given().items():
                if name not in self.unknowns:
                    allowed = "is not an unknown; unknowns: " + (", ".join(self.unknowns) or "none")
                    raise ConfigError(f"inverse.{group}.{name}", value, allowed)
                require_finite(f"inverse.{group}.{name}", value)

    @property
    def active(self) -> bool:
        return bool(self.unknowns) or self.field is not None


@dataclass
class Config:
    case: dict[str, Any] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    inverse: InverseConfig = field(default_factory=InverseConfig)
    seed: int = 0
    device: str = "auto"
    dtype: str = "float64"
    reference: str = "none"

    def __post_init__(self) -> None:
        require_choice("device", self.device, DEVICES)
        require_choice("dtype", self.dtype, DTYPES)
        require_choice("reference", self.reference, REFERENCES)
        if "name" not in self.case:
            raise ConfigError("case", dict(self.case), "must name a case (case=cantilever, ...)")


def register_schema() -> None:
    """Store the schema as ``base_config`` for ``conf/config.yaml``'s defaults list."""
    ConfigStore.instance().store(name="base_config", node=Config)


def to_config(cfg: DictConfig) -> Config:
    """The validated :class:`Config` of a composed Hydra config; raises :class:`ConfigError`."""
    try:
        plain = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]) if "hydra" in cfg else cfg
        config = OmegaConf.to_object(plain)
    except OmegaConfBaseException as err:
        raise omegaconf_error(err) from None
    if not isinstance(config, Config):  # composed without the schema (plain YAML)
        config = Config(**config)
    config.case = dict(config.case)
    return config


def config_from_dict(values: dict[str, Any]) -> Config:
    """The validated :class:`Config` of a plain mapping (a checkpoint's ``config``)."""
    merged = OmegaConf.merge(OmegaConf.structured(Config), {k: v for k, v in values.items() if k != "case"})
    merged.case = values.get("case", {})
    return to_config(merged)


def omegaconf_error(err: OmegaConfBaseException) -> ConfigError:
    """An OmegaConf validation error as a one-line :class:`ConfigError`."""
    key = getattr(err, "full_key", None) or "config"
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    cause = err.__cause__
    if isinstance(cause, ConfigError):
        return cause
    return ConfigError(key, getattr(err, "value", None), message)
