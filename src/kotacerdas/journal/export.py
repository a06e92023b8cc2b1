"""Placeholder: filled in by the export work."""

from argparse import _SubParsersAction
from typing import Any, TextIO

from kotacerdas.journal.cli_extensions import CheckReport


def add_parsers(verbs: "_SubParsersAction[Any]") -> None:
    return None


def handle(verb: str, options: dict[str, Any], stdout: TextIO) -> bool:
    return False


def extra_checks() -> list[CheckReport]:
    return []
