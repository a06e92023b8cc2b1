"""The ledger's fast paths must give what the slower ones they replace give.

Stored request fingerprints and journal leaf hashes were computed with the
rfc8785 package, so the standard-library path of `canonical_json` must match
it byte for byte wherever it is taken. Batches of 20 rows or more are written
with COPY on PostgreSQL, which the small batches of the other tests never
reach.
"""

import random
import re

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from kotacerdas.journal.keys import node_verifier
from kotacerdas.journal.services import canonical_json
from kotacerdas.journal.verify import verify_ledger
from kotacerdas.wallet import services, storage
from kotacerdas.wallet.models import (
    Account,
    AccountKind,
    AccountMonth,
    Tier,
    Transfer,
)
from kotacerdas.wallet.numbers import CROCKFORD
from kotacerdas.wallet.services import TransferRequest

EXACT = 2**53 - 1
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E))
any_text = st.text()
plain = st.recursive(
    st.none() | st.booleans() | st.integers(-EXACT, EXACT) | ascii_text,
    lambda inner: st.lists(inner) | st.dictionaries(ascii_text, inner),
    max_leaves=25,
)
mixed = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-EXACT, EXACT)
    | any_text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner) | st.dictionaries(any_text, inner),
    max_leaves=25,
)


@given(plain)
def test_plain_values_match_rfc8785(value) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@given(mixed)
def test_any_value_matches_rfc8785(value) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return  # lone surrogates and the like: rfc8785 rejects them either way
    assert canonical_json(value) == expected


def test_large_integer_takes_rfc8785_path() -> None:
    value = {"amount": 2**53}
    try:
        expected: bytes | type[Exception] = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as error:
        expected = type(error)
    try:
        actual: bytes | type[Exception] = canonical_json(value)
    except rfc8785.CanonicalizationError as error:
        actual = type(error)
    assert actual == expected


def test_reference_has_receipt_shape() -> None:
    pattern = re.compile(rf"TRX-[{re.escape(CROCKFORD)}]{{10}}")
    references = {storage.new_reference() for _ in range(2_000)}
    assert all(pattern.fullmatch(reference) for reference in references)
    assert len(references) == 2_000, "50 random bits should not repeat in 2,000"
    # Every digit value appears in every position, so no bit is stuck.
    for position in range(4, 14):
        assert {r[position] for r in references} == set(CROCKFORD)


@pytest.mark.django_db
def test_large_batch_rows_match(city) -> None:
    wallets = [
        services.open_account(AccountKind.CITIZEN, tier=Tier.REGISTERED)
        for _ in range(30)
    ]
    settlement = services.settlement_account()
    rng = random.Random(1374)
    expected = {wallet.number: 100_000 for wallet in wallets}
    received = dict(expected)
    top_ups = [
        TransferRequest(f"fill-{i}", settlement.number, wallet.number, 100_000, "topup")
        for i, wallet in enumerate(wallets)
    ]
    transfers = []
    for index in range(60):
        payer, payee = rng.sample(wallets, 2)
        amount = rng.randint(1, 5_000)
        expected[payer.number] -= amount
        expected[payee.number] += amount
        received[payee.number] += amount
        transfers.append(
            TransferRequest(
                f"move-{index}", payer.number, payee.number, amount, "transfer"
            )
        )

    filled = services.submit_batch(top_ups)
    moved = services.submit_batch(transfers)

    assert all(result.error is None for result in filled + moved)
    stored = dict(Transfer.objects.values_list("client_id", "pk"))
    for result in filled + moved:
        assert result.transfer is not None
        assert stored[result.transfer.client_id] == result.transfer.pk
    balances = {a.number: a.balance for a in Account.objects.filter(kind="citizen")}
    assert balances == expected
    months = AccountMonth.objects.values_list("account__number", "credits")
    assert dict(months) == received
    assert services.settlement_account().balance == -3_000_000
    assert verify_ledger(node_verifier()).ok
