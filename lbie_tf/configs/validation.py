"""Checks shared by the config records.

Errors name the config field as `ClassName.field` (`SegmenterConfig.steps must be at least 1, got 0`), which
is what a user of the library sets; the command line rewrites these names into its flags
(`lbie_tf.cli.flags.flag_error`), so a user of a script reads `--steps must be at least 1, got 0`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lbie_tf.errors import ConfigError


def field_defaults(config_class) -> dict[str, Any]:
    """`{field: default}` of a config dataclass: what a config written before a field existed meant by it."""
    return {field.name: field.default for field in dataclasses.fields(config_class)}


def changed_fields(config, names) -> list[str]:
    """`ClassName.field` of each of `names` whose value in `config` is not the field's default."""
    defaults = field_defaults(type(config))
    return [f"{type(config).__name__}.{name}" for name in names if getattr(config, name) != defaults[name]]


def check_unchanged(config, names, reason: str) -> None:
    """`ConfigError` naming each of `names` whose value in `config` is not the field's default, then `reason`:
    how a run refuses settings it would ignore."""
    changed = changed_fields(config, names)
    if changed:
        raise ConfigError(f"{', '.join(changed)} {reason}")


def field_name(config: Any, name: str) -> str:
    """`ClassName.name`: how errors name a field of `config` (an instance or a class)."""
    cls = config if isinstance(config, type) else type(config)
    return f"{cls.__name__}.{name}"


def check_choice(config: Any, name: str, choices: tuple[str, ...]) -> None:
    """`ConfigError` unless `config.name` is one of `choices`."""
    value = getattr(config, name)
    if value not in choices:
        raise ConfigError(f"{field_name(config, name)}={value!r} is not one of {', '.join(choices)}")


def check_minimum(config: Any, names: tuple[str, ...], minimum: int = 1) -> None:
    """`ConfigError` unless every `config.name` of `names` is at least `minimum`."""
    for name in names:
        if getattr(config, name) < minimum:
            raise ConfigError(f"{field_name(config, name)} must be at least {minimum}, got {getattr(config, name)}")


def check_not_negative(config: Any, names: tuple[str, ...]) -> None:
    """`ConfigError` unless every `config.name` of `names` is >= 0."""
    for name in names:
        if getattr(config, name) < 0:
            raise ConfigError(f"{field_name(config, name)} must not be negative, got {getattr(config, name)}")
