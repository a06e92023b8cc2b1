"""Read-only admin views of the journal: staff can browse rows but not edit them."""

import json

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kotacerdas.config.read_only_admin import ReadOnlyAdmin
from kotacerdas.journal.models import Block, Entry, VerifyRun


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "event_type", "recorded_at"]
    list_filter = ["event_type"]
    search_fields = ["=seq", "event_type"]
    readonly_fields = ["seq", "event_type", "recorded_at", "body_json"]
    exclude = ["body"]

    @admin.display(description=_("body"))
    def body_json(self, entry: Entry) -> str:
        return json.dumps(json.loads(bytes(entry.body)), indent=2, ensure_ascii=False)


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["height", "tree_size", "sealed_at"]
    readonly_fields = ["height", "tree_size", "sealed_at", "note"]
    exclude = ["root_hash", "prev_hash", "block_hash"]


@admin.register(VerifyRun)
class VerifyRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "from_block",
        "entries_checked",
        "blocks_checked",
        "ok",
    ]
    list_filter = ["ok"]
