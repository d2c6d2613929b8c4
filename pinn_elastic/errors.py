"""The one exception type users see for bad input."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is invalid.

    The message is a single line naming the key, the value and what is allowed,
    e.g. ``case.E = -1.0: must be > 0``.
    """

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"{key}: {allowed}" if value is None else f"{key} = {value!r}: {allowed}")


def require_positive(key: str, value: float) -> None:
    """Raise :class:`ConfigError` unless ``value > 0`` (and finite)."""
    if not (value > 0 and value < float("inf")):
        raise ConfigError(key, value, "must be a finite number > 0")


def require_non_negative(key: str, value: float) -> None:
    """Raise :class:`ConfigError` unless ``value >= 0`` (and finite)."""
    if not (value >= 0 and value < float("inf")):
        raise ConfigError(key, value, "must be a finite number >= 0")


def require_finite(key: str, value: float) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number."""
    if not (abs(value) < float("inf")):
        raise ConfigError(key, value, "must be a finite number")


def require_choice(key: str, value: str, allowed: tuple[str, ...] | list[str]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ConfigError(key, value, "must be one of " + ", ".join(allowed))
