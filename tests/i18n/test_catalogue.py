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
        # Indonesian has one plural form, used for every count, so it
        # translates msgid_plural and keeps that text's placeholders.
        source = entry.msgid_plural or entry.msgid
        texts = [entry.msgstr, *entry.msgstr_plural.values()]
        for text in filter(None, texts):
            for placeholder in ("%(", "{"):
                assert source.count(placeholder) == text.count(placeholder), entry.msgid


def translations(entries):
    # Keyed with the context too: one msgid may have a translation per context.
    return {
        (entry.msgctxt, entry.msgid): (
            entry.msgstr,
            {int(form): text for form, text in entry.msgstr_plural.items()},
        )
        for entry in entries
        if entry.msgid
    }


def test_mo_matches_po(po, mo):
    compiled = translations(mo)
    source = translations(po.translated_entries())

    assert compiled == source


def test_catalogue_declares_indonesian(po):
    assert po.metadata["Language"] == "id"
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
