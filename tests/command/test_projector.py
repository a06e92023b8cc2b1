"""The rollup job: resuming, rebuilding on new fold rules, and `kotacerdas rollups`."""

import pytest
from django.core.management import CommandError, call_command

from kotacerdas.command import figures, fold, projector
from kotacerdas.command.models import Cursor, Fact, Tally
from kotacerdas.demo import services as demo
from kotacerdas.journal.models import Entry
from kotacerdas.journal.worker import app_jobs

pytestmark = pytest.mark.django_db
SEED = 3


@pytest.fixture
def small_city(city):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    return city


def buildings_now() -> int | None:
    return figures.value("buildings", figures.StoredTallies())


def test_worker_runs_the_rollup_job():
    assert "command-rollups" in [job.name for job in app_jobs()]


def test_fold_resumes_after_the_cursor(small_city):
    first = projector.fold_batch(size=50)
    kept = Cursor.objects.get().size

    projector.catch_up()

    assert first == 50
    assert kept == Entry.objects.order_by("seq").values_list("seq", flat=True)[49] + 1
    assert projector.position() == Entry.objects.count()
    assert buildings_now() > 0


def test_new_fold_version_rebuilds(small_city, monkeypatch):
    projector.catch_up()
    before = buildings_now()
    Tally.objects.filter(metric="buildings").update(value=0)
    assert buildings_now() == 0

    monkeypatch.setattr(projector, "FOLD_VERSION", fold.FOLD_VERSION + 1)
    projector.catch_up()

    assert buildings_now() == before
    assert Cursor.objects.get().version == fold.FOLD_VERSION + 1


def test_rebuild_drops_and_refolds(small_city):
    projector.catch_up()
    Fact.objects.create(kind="building", ref="999999", data={"k": "x", "on": True})
    Tally.objects.create(metric="buildings", day="2020-01-01", value=7)

    projector.rebuild()

    assert not Fact.objects.filter(ref="999999").exists()
    assert not Tally.objects.filter(day="2020-01-01").exists()
    assert buildings_now() > 0


def test_rollups_check_command(small_city, capsys):
    call_command("rollups", "update")
    call_command("rollups", "check")
    assert "figures equal the first" in capsys.readouterr().out

    Tally.objects.filter(metric="plates_issued").update(value=-5)
    with pytest.raises(CommandError, match="plates_issued"):
        call_command("rollups", "check")


def test_rollups_status_command(small_city, capsys):
    call_command("rollups", "status")

    assert "Rollups hold 0 of" in capsys.readouterr().out
