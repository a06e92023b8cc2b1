"""Command line: `python -m kotacerdas.verify BUNDLE --keys KEYS` or `--export DIR`.

Exit codes: 0 valid, 1 invalid, 2 usage error (missing or unreadable file).
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kotacerdas.verify.bundle import (
    Keys,
    VerificationError,
    parse_keys,
    verify_bundle,
)
from kotacerdas.verify.export import ExportReport, verify_export
from kotacerdas.verify.payload import PayloadError, decode_payload

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A file is missing or unreadable, or the arguments do not fit together."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kotacerdas.verify",
        description=(
            "Verify a Kota Cerdas receipt bundle, or a whole ledger export, "
            "offline against the published keys."
        ),
        epilog="Exit codes: 0 valid, 1 invalid, 2 usage error.",
    )
    parser.add_argument(
        "bundle",
        nargs="?",
        type=Path,
        help="a bundle JSON file, or a text file with a KCB1: QR payload",
    )
    parser.add_argument(
        "--keys",
        type=Path,
        help=(
            "the published keys JSON (/ledger/keys.json); required for a bundle, "
            "and for an export it replaces the export's own keys.json"
        ),
    )
    parser.add_argument(
        "--export", type=Path, metavar="DIR", help="verify a `ledger export` directory"
    )
    parser.add_argument(
        "--require-quorum",
        action="store_true",
        help="treat a checkpoint with fewer cosignatures than the quorum as invalid",
    )
    return parser


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read the {what} {path}: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"the {what} {path} is not JSON: {error}") from None


def read_bundle(path: Path) -> Any:
    """Read a bundle from a JSON file or from a text file holding a KCB1 payload."""
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise UsageError(f"cannot read the bundle {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the bundle {path} is not UTF-8 text") from None
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise UsageError(f"the bundle {path} is not JSON: {error}") from None
    try:
        return decode_payload(text)
    except PayloadError as error:
        raise UsageError(f"{path}: {error}") from None


def run_bundle(options: argparse.Namespace) -> int:
    if options.keys is None:
        raise UsageError("a bundle needs --keys KEYS.json, the published keys")
    result = verify_bundle(read_bundle(options.bundle), read_json(options.keys, "keys"))
    for line in result.lines(options.require_quorum):
        print(line)
    return EXIT_VALID if result.passes(options.require_quorum) else EXIT_INVALID


def run_export(options: argparse.Namespace) -> int:
    directory: Path = options.export
    if not directory.is_dir():
        raise UsageError(f"the export directory {directory} does not exist")
    keys_path = options.keys or directory / "keys.json"
    if options.keys is None:
        print(
            "note: using the export's own keys.json; pass --keys with the keys "
            "published elsewhere to check them against the export",
            file=sys.stderr,
        )
    try:
        keys = parse_keys(read_json(keys_path, "keys"))
    except VerificationError as error:
        print(f"invalid: {error}")
        return EXIT_INVALID

    def progress(count: int) -> None:
        print(f"checked {count} entries", file=sys.stderr, flush=True)

    report = verify_export(directory, keys, progress)
    for line in export_lines(report, keys, options.require_quorum):
        print(line)
    if report.ok and (report.witnessed or not options.require_quorum):
        return EXIT_VALID
    return EXIT_INVALID


def export_lines(report: ExportReport, keys: Keys, require_quorum: bool) -> list[str]:
    """Return the export report in English lines, the verdict first.

    After a problem that stops the walk, the lines name what was left
    unverified instead of checking it, because those checks would fail only
    as a consequence of the first problem.
    """
    if report.problems:
        lines = [f"invalid: {report.problems[0]}"]
        lines += [f"also: {problem}" for problem in report.problems[1:]]
    elif require_quorum and not report.witnessed:
        lines = [
            f"invalid: the latest checkpoint is not witnessed: "
            f"{len(report.latest_cosigners)} of the {keys.quorum} cosignatures needed"
        ]
    else:
        lines = [
            f"valid: {report.entries} entries and {report.checkpoints} checkpoints, "
            f"{report.files} files match the manifest"
        ]

    if report.stopped:
        unverified = []
        if not report.blocks_complete:
            unverified.append(f"the blocks from block {report.checkpoints} on")
        if report.anchors_unchecked:
            unverified.append(
                f"{report.anchors_unchecked} of the {report.anchors} anchors"
            )
        if report.anchors is None:
            unverified.append("anchors.json")
        unverified.append("the entry and block counts in manifest.json")
        lines.append(
            "not verified, because the check stops at the first problem: "
            + ", ".join(unverified)
        )

    if report.latest_height is None:
        lines.append("no checkpoint verified")
    else:
        label = "latest" if report.blocks_complete else "last verified"
        cosigners = report.latest_cosigners
        lines.append(
            f"{label}: block {report.latest_height}, the checkpoint of "
            f"{report.latest_size} entries, co-signed by {len(cosigners)} of "
            f"{len(keys.witness_names)} witnesses (quorum {keys.quorum})"
            + (f": {', '.join(cosigners)}" if cosigners else "")
        )
    if report.anchors is not None:
        lines.append(
            f"{report.anchors} anchors listed; their chain transactions are not "
            "checked, because this verifier works offline"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    if (options.bundle is None) == (options.export is None):
        parser.print_usage(sys.stderr)
        print("error: give either a bundle file or --export DIR", file=sys.stderr)
        return EXIT_USAGE
    try:
        return run_export(options) if options.export else run_bundle(options)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
