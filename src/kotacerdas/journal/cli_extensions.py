"""Verbs that the witness, anchoring and export modules add to `kotacerdas ledger`.

Each module listed in EXTENSIONS provides `add_parsers(verbs)`, which adds its
subcommands, and `handle(verb, options, stdout)`, which returns True when it
handled the verb. `ledger verify` also calls each module's `extra_checks()`,
which returns the problems it found and what it could not check.
"""

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType

EXTENSIONS = [
    "kotacerdas.journal.witness_admin",
    "kotacerdas.journal.anchoring",
    "kotacerdas.journal.export",
]


@dataclass
class CheckReport:
    name: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


def modules() -> Iterator[ModuleType]:
    for name in EXTENSIONS:
        yield importlib.import_module(name)
