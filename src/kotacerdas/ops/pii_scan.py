"""Find personal data in log files and journal payloads.

Looks for three things, line by line: numbers shaped like a NIK or KK
(16 digits, plain or grouped 4-4-4-4, 6-6-4 or 2.2.2.6.4), Indonesian mobile
numbers (+62 8..., 62 8..., 08...) and the full names of people in the registry.
A name has no shape, so names are found only by comparing with a list the
caller supplies (`registry_names`). A finding never repeats the value it found:
it shows a masked excerpt, so the scan's own output is safe to keep in CI logs.

Used by `kotacerdas pii-scan` and by the test suite's session check.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# A digit group must not touch letters or digits, so a 16-digit stretch inside
# a hex hash or a longer number is not a NIK. By estimate (49 start positions
# times (10/16)^16), about 2.6% of SHA-256 hex strings contain 16 digits in a row.
_EDGE_BEFORE = r"(?<![0-9A-Za-z_])"
_EDGE_AFTER = r"(?![0-9A-Za-z_])"
IDENTITY_NUMBER = re.compile(
    _EDGE_BEFORE
    + r"(?:\d{16}"
    + r"|\d{4}([ .\-])\d{4}\1\d{4}\1\d{4}"
    + r"|\d{6}([ .\-])\d{6}\2\d{4}"
    + r"|\d{2}\.\d{2}\.\d{2}\.\d{6}\.\d{4})"
    + _EDGE_AFTER
)
# A 16-digit number right after a time key is a Unix time in microseconds,
# such as the "time 1796480843578468" line of a checkpoint note, not a NIK.
TIME_KEY_BEFORE = re.compile(r"(?:\btime|timestamp|_at|_us)[\"']?\s*[=:]?\s*[\"']?$")
PHONE_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z_+])(?:\+62[ .\-]?|62|0)8[0-9 .\-]{6,15}[0-9]" + _EDGE_AFTER
)
PHONE_DIGITS = re.compile(r"^(?:\+?62|0)8\d{7,11}$")
SEPARATORS = re.compile(r"[ .\-]")
# Names shorter than this are too often ordinary words or parts of codes.
MIN_NAME_LENGTH = 4
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Finding:
    """One match: where it is, what kind of personal data, and a masked excerpt."""

    source: str
    line_number: int
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line_number}: {self.kind}: {self.excerpt}"


def mask(value: str) -> str:
    """Return `value` with all but its first two characters replaced by '*'."""
    return value[:2] + "*" * max(len(value) - 2, 0)


class Scanner:
    """A search for identity numbers, phone numbers and registry names in text."""

    def __init__(self, registry_names: Iterable[str] = ()) -> None:
        # Names are compared as lowercase word sequences rather than through
        # one big regular expression, so a city's registry of tens of thousands
        # of names costs a set lookup per word and name length, not per name.
        self.names: set[tuple[str, ...]] = set()
        for name in registry_names:
            words = tuple(WORD.findall(name.lower()))
            if words and len(" ".join(words)) >= MIN_NAME_LENGTH:
                self.names.add(words)
        self.name_lengths = sorted({len(words) for words in self.names})
        self.first_words = {words[0] for words in self.names}

    def scan_line(self, line: str, source: str, line_number: int) -> list[Finding]:
        found = [
            Finding(source, line_number, "NIK/KK-like number", mask(match.group(0)))
            for match in IDENTITY_NUMBER.finditer(line)
            if not TIME_KEY_BEFORE.search(line, 0, match.start())
        ]
        for match in PHONE_CANDIDATE.finditer(line):
            if PHONE_DIGITS.match(SEPARATORS.sub("", match.group(0))):
                found.append(
                    Finding(source, line_number, "phone number", mask(match.group(0)))
                )
        if self.names:
            found.extend(
                Finding(source, line_number, "registry name", mask(name))
                for name in self._names_in(line)
            )
        return found

    def _names_in(self, line: str) -> Iterator[str]:
        words = WORD.findall(line.lower())
        for start, word in enumerate(words):
            if word not in self.first_words:
                continue
            for length in self.name_lengths:
                candidate = tuple(words[start : start + length])
                if candidate in self.names:
                    yield " ".join(candidate)

    def scan_lines(self, lines: Iterable[str], source: str) -> Iterator[Finding]:
        for line_number, line in enumerate(lines, start=1):
            yield from self.scan_line(line, source, line_number)

    def scan_file(self, path: Path) -> Iterator[Finding]:
        with path.open(encoding="utf-8", errors="replace") as file:
            yield from self.scan_lines(file, str(path))

    def scan_paths(self, paths: Iterable[Path]) -> Iterator[Finding]:
        """Scan files, and every file under directories, in name order."""
        for path in paths:
            if path.is_dir():
                for child in sorted(p for p in path.rglob("*") if p.is_file()):
                    yield from self.scan_file(child)
            else:
                yield from self.scan_file(path)


def registry_names() -> list[str]:
    """Return the full name of every registry member whose data is not erased."""
    from kotacerdas.registry.models import Member
    from kotacerdas.registry.privacy import ERASED_NAME

    names = Member.objects.exclude(full_name=ERASED_NAME).values_list("full_name")
    return [name for (name,) in names.distinct()]


def journal_findings(scanner: Scanner) -> Iterator[Finding]:
    """Scan the body of every journal entry in the database, in sequence order."""
    from kotacerdas.journal.models import Entry

    rows = Entry.objects.order_by("seq").values_list("seq", "body")
    for seq, body in rows.iterator(chunk_size=2000):
        text = bytes(body).decode("utf-8", errors="replace")
        yield from scanner.scan_line(text, "journal entry", seq)
