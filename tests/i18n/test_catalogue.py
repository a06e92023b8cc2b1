from pathlib import Path

import polib
import pytest
from django.conf import settings

LC_MESSAGES = Path(settings.PACKAGE_DIR) / "locale" / "id" / "LC_MESSAGES"


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(LC_MESSAGES / "django.po"))


@pytest.fixture(scope="module")
def mo():
    return polib.mofile(str(LC_MESSAGES / "django.mo"))


def test_every_message_translated(po):
    untranslated = [entry.msgid for entry in po.untranslated_entries()]

    assert untranslated == []


def test_no_message_fuzzy(po):
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]

    assert fuzzy == []


def test_placeholders_kept_in_translation(po):
    for entry in po.translated_entries():
        for placeholder in ("%(", "{"):
            assert entry.msgid.count(placeholder) == entry.msgstr.count(placeholder), (
                entry.msgid
            )


def test_mo_matches_po(po, mo):
    compiled = {entry.msgid: entry.msgstr for entry in mo if entry.msgid}
    source = {entry.msgid: entry.msgstr for entry in po.translated_entries()}

    assert compiled == source


def test_catalogue_declares_indonesian(po):
    assert po.metadata["Language"] == "id"
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
