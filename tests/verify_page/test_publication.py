"""The printable monthly publication of the latest witnessed checkpoint."""

import base64
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from kotacerdas.journal.models import Block

from .conftest import append_events, seal


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def test_month_with_checkpoint_shows_root(witnessed_block, english: Client):
    witnessed_block(3)
    block = witnessed_block(2)

    response = english.get(f"/ledger/publication/?month={this_month()}")

    assert response.status_code == 200
    html = response.content.decode()
    root_hex = bytes(block.root_hash).hex()
    grouped_hex = " ".join(root_hex[i : i + 4] for i in range(0, 64, 4))
    assert f'data-testid="publication-root-hex">{grouped_hex}<' in html
    root_b64 = base64.b64encode(bytes(block.root_hash)).decode()
    assert root_b64[:4] + " " + root_b64[4:8] in html
    assert 'data-testid="publication-size">5<' in html
    assert f'data-testid="publication-height">{block.height}<' in html
    assert "witness.bank.example" in html
    assert "witness.inspectorate.example" in html
    assert "This checkpoint has no confirmed chain anchor." in html
    assert "python -m kotacerdas.verify receipt.json --keys keys.json" in html
    assert "http://127.0.0.1:8000/verify/" in html
    assert "@media print" in html


def test_default_month_is_current(witnessed_block, english: Client):
    witnessed_block(2)

    response = english.get("/ledger/publication/")

    assert 'data-testid="publication-size">2<' in response.content.decode()


def test_unwitnessed_checkpoint_is_not_published(witnesses, english: Client):
    append_events(2)
    seal()

    response = english.get("/ledger/publication/")

    html = response.content.decode()
    assert 'data-testid="publication-none"' in html
    assert "No checkpoint co-signed by enough witnesses was sealed in" in html


def test_month_without_checkpoint(witnessed_block, english: Client):
    witnessed_block(2)
    earlier = (timezone.localdate().replace(day=1) - timedelta(days=40)).strftime(
        "%Y-%m"
    )

    response = english.get(f"/ledger/publication/?month={earlier}")

    assert response.status_code == 200
    assert 'data-testid="publication-none"' in response.content.decode()


def test_latest_witnessed_checkpoint_of_month_wins(witnessed_block, english: Client):
    first = witnessed_block(2)
    second = witnessed_block(3)
    append_events(1)
    seal()  # the newest block has no cosignatures yet

    html = english.get("/ledger/publication/").content.decode()

    assert Block.objects.count() == 3
    assert f'data-testid="publication-height">{second.height}<' in html
    assert f'data-testid="publication-height">{first.height}<' not in html


def test_invalid_month_gets_clear_message(witnesses, english: Client):
    for month in ("2025-13", "march", "2025-3"):
        response = english.get(f"/ledger/publication/?month={month}")

        assert response.status_code == 400
        assert (
            f"The month {month} is invalid. Give it as YYYY-MM"
            in response.content.decode()
        )


def test_publication_in_indonesian(witnessed_block, indonesian: Client):
    witnessed_block(2)

    response = indonesian.get("/ledger/publication/")

    html = response.content.decode()
    assert '<html lang="id">' in html
    assert 'data-testid="publication-size">2<' in html
