"""The add-checkpoint protocol of C2SP tlog-witness, against the WSGI app."""

import base64
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kotacerdas.journal.notes import COSIGNATURE_TYPE, Verifier, verify_cosignature
from kotacerdas.witness.protocol import MAX_BODY_BYTES, Witness
from kotacerdas.witness.server import make_wsgi_app
from kotacerdas.witness.store import WitnessStore

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status = int(status.split()[0])
        self.headers = dict(headers)
        self.text = body.decode()


def call(app: WsgiApp, method: str, path: str, body: bytes = b"") -> Answer:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    captured: list[Any] = []
    chunks = app(environ, lambda status, headers: captured.extend([status, headers]))
    return Answer(captured[0], captured[1], b"".join(chunks))


@pytest.fixture
def store(
    make_store: Callable[[str, str], WitnessStore], memory_log: Any
) -> WitnessStore:
    return make_store("witness.test.local", memory_log.vkey)


@pytest.fixture
def app(store: WitnessStore) -> WsgiApp:
    return make_wsgi_app(Witness(store))


def state_files(store: WitnessStore) -> tuple[str, list[Path]]:
    state = (store.directory / "state.json").read_text()
    return state, sorted(store.evidence_dir.iterdir())


def test_first_checkpoint_cosigned(
    app: WsgiApp, store: WitnessStore, memory_log: Any
) -> None:
    answer = call(app, "POST", "/add-checkpoint", memory_log.request(0, 5))
    verifier = Verifier.parse(store.vkey(), key_type=COSIGNATURE_TYPE)

    assert answer.status == 200, answer.text
    assert answer.text.startswith("\u2014 witness.test.local "), "a signature line"
    assert answer.text.endswith("\n"), "the line ends in a newline"
    timestamp = verify_cosignature(memory_log.checkpoint(5) + answer.text, verifier)
    assert timestamp > 0, "the cosignature carries a time"


def test_consistent_growth_cosigned(app: WsgiApp, memory_log: Any) -> None:
    call(app, "POST", "/add-checkpoint", memory_log.request(0, 5))

    answer = call(app, "POST", "/add-checkpoint", memory_log.request(5, 13))

    assert answer.status == 200, answer.text


def test_same_checkpoint_cosigned_again(app: WsgiApp, memory_log: Any) -> None:
    call(app, "POST", "/add-checkpoint", memory_log.request(0, 8))

    answer = call(app, "POST", "/add-checkpoint", memory_log.request(8, 8))

    assert answer.status == 200, answer.text


def test_read_latest_checkpoint(
    app: WsgiApp, store: WitnessStore, memory_log: Any
) -> None:
    cosignature = call(app, "POST", "/add-checkpoint", memory_log.request(0, 3)).text

    answer = call(app, "GET", f"/checkpoint/{memory_log.origin}")

    assert answer.status == 200, answer.text
    assert answer.text == memory_log.checkpoint(3) + cosignature, (
        "note plus cosignature"
    )


def test_read_unknown_checkpoint(app: WsgiApp) -> None:
    answer = call(app, "GET", "/checkpoint/nobody.example/log")

    assert answer.status == 404, answer.text


def test_healthz(app: WsgiApp) -> None:
    assert call(app, "GET", "/healthz").status == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "lacks the empty line"),
        (b"\xff\xfe\n\n", "not UTF-8"),
        (b"new 0\n\nx\n", "must start with an 'old <size>' line"),
        (b"old 01\n\n", "not a decimal without leading zeros"),
        (b"old -1\n\n", "not a decimal"),
        (b"old 0\nnot base64!\n\n", "not base64"),
        (b"old 0\nAAAA\n\n", "not a 32-byte hash"),
        (b"old 0\n\norigin\n1\n", "no signature block"),
    ],
)
def test_malformed_body_rejected(app: WsgiApp, body: bytes, message: str) -> None:
    answer = call(app, "POST", "/add-checkpoint", body)

    assert answer.status == 400, answer.text
    assert message in answer.text, answer.text


def test_too_many_proof_lines(app: WsgiApp, memory_log: Any) -> None:
    proof = [bytes(32)] * 64
    body = memory_log.body(1, proof, memory_log.checkpoint(2))

    answer = call(app, "POST", "/add-checkpoint", body)

    assert answer.status == 400, answer.text
    assert "more than 63" in answer.text, answer.text


def test_old_size_beyond_checkpoint(app: WsgiApp, memory_log: Any) -> None:
    body = memory_log.body(9, [], memory_log.checkpoint(4))

    answer = call(app, "POST", "/add-checkpoint", body)

    assert answer.status == 400, answer.text
    assert "old size 9 exceeds checkpoint size 4" in answer.text


def test_proof_with_old_size_zero(app: WsgiApp, memory_log: Any) -> None:
    body = memory_log.body(0, [bytes(32)], memory_log.checkpoint(4))

    answer = call(app, "POST", "/add-checkpoint", body)

    assert answer.status == 400, answer.text


def test_untrusted_key_forbidden(app: WsgiApp, memory_log: Any) -> None:
    note = memory_log.checkpoint(4, key=Ed25519PrivateKey.generate())

    answer = call(app, "POST", "/add-checkpoint", memory_log.body(0, [], note))

    assert answer.status == 403, answer.text


def test_broken_signature_forbidden(app: WsgiApp, memory_log: Any) -> None:
    note = memory_log.checkpoint(4)
    line = note.rstrip("\n").rsplit("\n", 1)[1]
    name, encoded = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    broken = note.replace(line, f"{name} {base64.b64encode(bytes(raw)).decode()}")

    answer = call(app, "POST", "/add-checkpoint", memory_log.body(0, [], broken))

    assert answer.status == 403, answer.text


def test_unknown_origin_not_found(app: WsgiApp, memory_log: Any) -> None:
    memory_log.origin = "other.example/log"

    answer = call(app, "POST", "/add-checkpoint", memory_log.request(0, 4))

    assert answer.status == 404, answer.text
    assert "unknown origin 'other.example/log'" in answer.text


def test_stale_old_size_conflict(
    app: WsgiApp, store: WitnessStore, memory_log: Any
) -> None:
    call(app, "POST", "/add-checkpoint", memory_log.request(0, 6))

    answer = call(app, "POST", "/add-checkpoint", memory_log.request(0, 9))

    assert answer.status == 409, answer.text
    assert answer.headers["Content-Type"] == "text/x.tlog.size"
    assert answer.text == "6\n", "the body is the latest co-signed size"
    assert state_files(store)[1] == [], "a stale size is no evidence of a fork"


def test_same_size_other_root_kept(
    app: WsgiApp, store: WitnessStore, memory_log: Any
) -> None:
    original = memory_log.checkpoint(6)
    call(app, "POST", "/add-checkpoint", memory_log.request(0, 6))
    memory_log.leaves[2] = memory_log.leaves[3]
    fork = memory_log.checkpoint(6)

    answer = call(app, "POST", "/add-checkpoint", memory_log.body(6, [], fork))
    evidence = json.loads(state_files(store)[1][0].read_text())

    assert answer.status == 409, answer.text
    assert answer.text == "6\n", "the body is the latest co-signed size"
    assert evidence["reason"] == "root-mismatch"
    assert evidence["submitted_checkpoint"] == fork
    assert evidence["cosigned_checkpoint"].startswith(original), "both are kept"


def test_bad_proof_unprocessable(
    app: WsgiApp, store: WitnessStore, memory_log: Any
) -> None:
    call(app, "POST", "/add-checkpoint", memory_log.request(0, 5))
    state_before = state_files(store)[0]
    proof = memory_log.proof(5, 11)
    proof[0] = bytes(32)

    body = memory_log.body(5, proof, memory_log.checkpoint(11))
    answer = call(app, "POST", "/add-checkpoint", body)
    state_after, evidence = state_files(store)

    assert answer.status == 422, answer.text
    assert state_after == state_before, "the state must not move"
    assert len(evidence) == 1, "the rejected checkpoint is evidence"
    assert json.loads(evidence[0].read_text())["request"]["old_size"] == 5


def test_proof_for_equal_sizes(app: WsgiApp, memory_log: Any) -> None:
    call(app, "POST", "/add-checkpoint", memory_log.request(0, 5))

    body = memory_log.body(5, [bytes(32)], memory_log.checkpoint(5))
    answer = call(app, "POST", "/add-checkpoint", body)

    assert answer.status == 422, answer.text


def test_body_too_large(app: WsgiApp) -> None:
    answer = call(app, "POST", "/add-checkpoint", b"x" * (MAX_BODY_BYTES + 1))

    assert answer.status == 413, answer.text


def test_wrong_method_and_path(app: WsgiApp) -> None:
    assert call(app, "GET", "/add-checkpoint").status == 405
    assert call(app, "POST", "/checkpoint/x").status == 405
    assert call(app, "GET", "/nothing").status == 404


def test_prefix_routes_submission(store: WitnessStore, memory_log: Any) -> None:
    app = make_wsgi_app(Witness(store, prefix="/witness/"))

    answer = call(app, "POST", "/witness/add-checkpoint", memory_log.request(0, 2))

    assert answer.status == 200, answer.text
    assert call(app, "POST", "/add-checkpoint", b"").status == 404


def test_untrust_then_unknown(
    app: WsgiApp, store: WitnessStore, memory_log: Any
) -> None:
    assert store.untrust(memory_log.vkey), "the log was trusted"

    answer = call(app, "POST", "/add-checkpoint", memory_log.request(0, 2))

    assert answer.status == 404, answer.text


def test_key_file_private(store: WitnessStore) -> None:
    mode = (store.directory / "witness-ed25519.pem").stat().st_mode & 0o777

    assert mode == 0o600, oct(mode)


def test_init_twice_keeps_key(store: WitnessStore) -> None:
    vkey = store.vkey()

    assert not store.init("witness.test.local"), "the second init changes nothing"
    assert store.vkey() == vkey, "the key is kept"


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=600),
        st.text(max_size=600).map(str.encode),
        st.builds(
            lambda old, lines, tail: (
                f"old {old}\n" + "\n".join(lines) + "\n\n" + tail
            ).encode(),
            st.integers(min_value=-3, max_value=40).map(str),
            st.lists(st.text(max_size=50), max_size=4),
            st.text(max_size=300),
        ),
    )
)
def test_random_bodies_harmless(
    app: WsgiApp, store: WitnessStore, memory_log: Any, body: bytes
) -> None:
    if not (store.directory / "state.json").read_text().count("size"):
        call(app, "POST", "/add-checkpoint", memory_log.request(0, 4))
    before = state_files(store)

    answer = call(app, "POST", "/add-checkpoint", body)

    assert 400 <= answer.status < 500, (answer.status, answer.text)
    assert state_files(store) == before, "a rejected body changes nothing"


def test_after_cosign_hook_runs(store: WitnessStore, memory_log: Any) -> None:
    calls: list[tuple[bytes, int]] = []
    witness = Witness(store, after_cosign=lambda root, size: calls.append((root, size)))
    app = make_wsgi_app(witness)

    call(app, "POST", "/add-checkpoint", memory_log.request(0, 4))
    call(app, "POST", "/add-checkpoint", memory_log.request(0, 6))
    assert witness.background is not None
    witness.background.shutdown(wait=True)

    assert calls == [(memory_log.root(4), 4)], "only the co-signed root is attested"
