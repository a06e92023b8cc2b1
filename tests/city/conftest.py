import json

import pytest

from kotacerdas.city.models import Area
from kotacerdas.city.services import load_profile
from kotacerdas.journal.models import Entry


@pytest.fixture
def padang_panjang(db):
    return load_profile("padang-panjang").city


@pytest.fixture
def pasar_usang(padang_panjang) -> Area:
    return Area.objects.get(code="13.74.02.1002")


def payload_of(entry: Entry) -> dict:
    """Return the event payload stored in a journal entry's canonical body."""
    return json.loads(bytes(entry.body))["payload"]
