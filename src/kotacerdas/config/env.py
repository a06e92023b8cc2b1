"""Typed helpers that read settings from the environment.

Each helper fails loudly with the variable's name and the expected form, so a
typo in a deployment stops the process at start instead of running with a
silently wrong value. `<NAME>_FILE` may name a file that contains the value,
which is how container platforms pass secrets.
"""

import os
from pathlib import Path


class SettingError(ValueError):
    """An environment variable contains a value that cannot be used."""


def _raw(name: str) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise SettingError(
                f"{name}_FILE={file_name} cannot be read ({error.strerror}); "
                "point it to a readable file or unset it."
            ) from error
    return os.environ.get(name)


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"{name}={value!r} is invalid; use true or false.")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as error:
        raise SettingError(
            f"{name}={value!r} is invalid; use a whole number."
        ) from error
    if minimum is not None and number < minimum:
        raise SettingError(f"{name}={number} is too small; use {minimum} or more.")
    return number


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError as error:
        raise SettingError(f"{name}={value!r} is invalid; use a number.") from error
    if minimum is not None and number < minimum:
        raise SettingError(f"{name}={number} is too small; use {minimum} or more.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return default if value is None or value == "" else Path(value).expanduser()
