"""A small demo city leaves no personal data in its logs, output or ledger export."""

import io
import logging

from django.core.management import call_command

from kotacerdas.journal.models import Entry
from kotacerdas.journal.services import seal_pending
from kotacerdas.ops.pii_scan import Scanner, journal_findings, registry_names
from kotacerdas.registry.models import Member


def test_demo_city_logs_and_ledger_clean(city, tmp_path):
    log_path = tmp_path / "demo.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    output = io.StringIO()
    try:
        call_command("demo", "--size", "small", stdout=output, stderr=output)
        seal_pending()
        call_command("ledger", "export", str(tmp_path / "export"), stdout=output)
    finally:
        root.removeHandler(handler)
        handler.close()
    (tmp_path / "output.txt").write_text(output.getvalue(), encoding="utf-8")

    names = registry_names()
    scanner = Scanner(names)
    findings = [
        *scanner.scan_paths([log_path, tmp_path / "output.txt", tmp_path / "export"]),
        *journal_findings(scanner),
    ]

    assert Member.objects.count() >= 400
    assert len(names) > 100
    assert Entry.objects.count() > 1000
    assert any((tmp_path / "export" / "entries").iterdir())
    assert log_path.stat().st_size > 0
    assert [str(finding) for finding in findings] == []

    # The same scanner does find a demo name once it is logged.
    leaked = tmp_path / "leak.log"
    leaked.write_text(f"INFO kotacerdas.demo welcome {names[0]}\n", encoding="utf-8")
    assert "registry name" in {finding.kind for finding in scanner.scan_file(leaked)}
