"""`kotacerdas witness ...`: set up and run a witness, without Django."""

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from kotacerdas.journal.notes import NoteError
from kotacerdas.witness.protocol import Witness
from kotacerdas.witness.server import serve
from kotacerdas.witness.store import WitnessSetupError, WitnessStore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kotacerdas witness",
        description="Run a C2SP tlog-witness that co-signs the city ledger's checkpoints.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)

    def add_verb(name: str, help_text: str) -> argparse.ArgumentParser:
        verb = verbs.add_parser(name, help=help_text)
        verb.add_argument(
            "--dir", type=Path, required=True, help="the witness's directory"
        )
        return verb

    init = add_verb("init", "create the key, config and state (kept if present)")
    init.add_argument(
        "--name", required=True, help="witness name, such as witness.bank.example"
    )
    trust = add_verb("trust", "trust a log's verifier key, or stop trusting one")
    trust.add_argument("--vkey", required=True, help="the log's verifier key")
    trust.add_argument(
        "--untrust", action="store_true", help="stop trusting this log instead"
    )
    add_verb("vkey", "print this witness's cosigner verifier key")
    add_verb(
        "rotate-key",
        "replace this witness's key with a new one and print the new verifier key",
    )
    run = add_verb("serve", "serve the witness's HTTP API until stopped")
    run.add_argument("--host", default="127.0.0.1", help="address to listen on")
    run.add_argument("--port", type=int, default=8701, help="TCP port to listen on")
    run.add_argument(
        "--prefix", default="", help="URL path prefix of the API, such as /witness"
    )
    # The same options as attest.add_chain_options, declared here because
    # importing that module loads web3, which every witness command would pay.
    run.add_argument(
        "--chain-url", default="", help="JSON-RPC URL of the chain; empty: no attesting"
    )
    run.add_argument("--contract", default="", help="anchor contract address")
    run.add_argument(
        "--chain-key",
        type=Path,
        default=None,
        help="the witness's secp256k1 chain key file (created 0600 when missing)",
    )
    return parser


def run(args: argparse.Namespace) -> str:
    store = WitnessStore(args.dir)
    if args.verb == "init":
        created = store.init(args.name)
        return f"{'created' if created else 'kept existing'} witness in {args.dir}"
    if args.verb == "trust" and args.untrust:
        removed = store.untrust(args.vkey)
        return "no longer trusted" if removed else "was not trusted"
    if args.verb == "trust":
        return f"trusting log {store.trust(args.vkey)}"
    if args.verb == "vkey":
        return store.vkey()
    if args.verb == "rotate-key":
        return rotation_report(store)
    serve(Witness(store, args.prefix, attester(args)), args.host, args.port)
    return ""


def rotation_report(store: WitnessStore) -> str:
    old_vkey, new_vkey, retired = store.rotate_key()
    name = store.name()
    return "\n".join(
        [
            f"new witness key: {new_vkey}",
            "send it to the city, which runs:",
            f"  kotacerdas ledger witnesses update {name} --vkey '{new_vkey}'",
            "until then the city cannot store this witness's cosignatures; the "
            "cosignatures made with the old key stay valid",
            f"the old key {old_vkey.split('+')[1]} is kept in {retired}; delete it "
            "once the city has the new key",
        ]
    )


def attester(args: argparse.Namespace) -> Callable[[bytes, int], object] | None:
    """Return the call that attests each co-signed root on the chain, if configured."""
    if not (args.chain_url and args.contract and args.chain_key):
        return None
    from kotacerdas.witness.attest import attest_after_cosign

    return lambda root, size: attest_after_cosign(args, root, size)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        output = run(args)
    except (WitnessSetupError, NoteError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if output:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
