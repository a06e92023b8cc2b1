"""Report pages: who sees what, filing through the form, the staff queue."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kotacerdas.accounts.services import create_user
from kotacerdas.waste.reports import services
from kotacerdas.waste.reports.models import Report, Status

from .conftest import PASAR_USANG_POINT, png_photo, report_input

pytestmark = pytest.mark.django_db

ALL_PERSONAS = [
    "admin",
    "registry_officer",
    "waste_operator",
    "collector",
    "waste_bank_teller",
    "revenue_officer",
    "cashier",
    "merchant",
    "citizen",
    "auditor",
    "command_center",
    "outsider",
]
READERS = {"admin", "waste_operator", "auditor", "command_center"}


def _form(**changes):
    values = {
        "kind": "full_container",
        "description": "The TPS container is overflowing.",
        "lat": PASAR_USANG_POINT[0],
        "lng": PASAR_USANG_POINT[1],
    }
    values.update(changes)
    return values


@pytest.fixture
def other_citizen(city):
    return create_user("other-citizen", "persona-password-1", ["citizen"])


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_queue_open_only_to_readers(signed_in, persona):
    response = signed_in(persona).get("/waste/reports/queue/")

    assert response.status_code == (200 if persona in READERS else 403)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_new_report_only_for_citizens(signed_in, persona):
    response = signed_in(persona).get("/waste/reports/new/")

    assert response.status_code == (200 if persona == "citizen" else 403)


def test_citizen_files_report_through_form(signed_in, personas):
    client = signed_in("citizen")

    response = client.post("/waste/reports/new/", _form(photo=png_photo()))

    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/waste/reports/{report.pk}/"
    assert report.reporter == personas["citizen"]
    assert report.kind == "full_container"


def test_form_errors_name_fields(signed_in):
    big = SimpleUploadedFile(
        "big.png", b"\x89PNG" + b"0" * services.PHOTO_MAX_BYTES, "image/png"
    )

    response = signed_in("citizen").post(
        "/waste/reports/new/", _form(lat="", lng="abc", photo=big)
    )

    form = response.context["form"]
    assert response.status_code == 200
    assert form.errors["lat"][0].startswith("Missing.")
    assert form.errors["lng"][0] == "Not a number: abc. Use decimal degrees."
    assert "the limit is 5 MB" in form.errors["photo"][0]
    assert Report.objects.count() == 0


def test_nearby_report_offered_before_filing(signed_in, personas, other_citizen):
    first = services.file_report(
        report_input(kind="full_container"), personas["citizen"]
    )
    client = signed_in("citizen")
    client.force_login(other_citizen)

    offered = client.post("/waste/reports/new/", _form())
    followed = client.post(f"/waste/reports/{first.pk}/follow/")

    assert offered.status_code == 200
    assert [report.pk for report, _m in offered.context["nearby"]] == [first.pk]
    assert b"Me too: follow this report" in offered.content
    assert Report.objects.count() == 1
    assert followed.status_code == 302
    assert list(first.followers.all()) == [other_citizen]


def test_file_anyway_after_seeing_nearby(signed_in, personas):
    services.file_report(report_input(kind="full_container"), personas["citizen"])

    response = signed_in("citizen").post("/waste/reports/new/", _form(file_anyway="on"))

    assert response.status_code == 302
    assert Report.objects.count() == 2


def test_other_citizen_gets_404(signed_in, personas, other_citizen):
    report = services.file_report(report_input(photo=png_photo()), personas["citizen"])
    client = signed_in("citizen")
    client.force_login(other_citizen)

    detail = client.get(f"/waste/reports/{report.pk}/")
    photo = client.get(f"/waste/reports/{report.pk}/photo/")
    missing = client.get(f"/waste/reports/{report.pk + 1000}/")

    assert detail.status_code == 404
    assert photo.status_code == 404
    assert missing.status_code == 404


def test_follower_sees_status_not_description(signed_in, personas, other_citizen):
    report = services.file_report(report_input(photo=png_photo()), personas["citizen"])
    services.follow_report(report.pk, other_citizen)
    client = signed_in("citizen")
    client.force_login(other_citizen)

    detail = client.get(f"/waste/reports/{report.pk}/")
    photo = client.get(f"/waste/reports/{report.pk}/photo/")

    assert detail.status_code == 200
    assert b"river bank" not in detail.content
    assert photo.status_code == 404


def test_reporter_sees_photo_and_public_updates(signed_in, personas):
    report = services.file_report(report_input(photo=png_photo()), personas["citizen"])
    operator = personas["waste_operator"]
    services.change_status(report.pk, Status.TRIAGED, operator, note="Truck is coming")
    services.change_status(
        report.pk, Status.TRIAGED, operator, note="Crew B is slow", public=False
    )
    client = signed_in("citizen")

    detail = client.get(f"/waste/reports/{report.pk}/")
    photo = client.get(f"/waste/reports/{report.pk}/photo/")

    assert b"Truck is coming" in detail.content
    assert b"Crew B is slow" not in detail.content
    assert photo.status_code == 200
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")


def test_staff_see_internal_notes(signed_in, personas):
    report = services.file_report(report_input(), personas["citizen"])
    services.change_status(
        report.pk, Status.NEW, personas["waste_operator"], note="Crew B", public=False
    )

    detail = signed_in("auditor").get(f"/waste/reports/{report.pk}/")

    assert b"Crew B" in detail.content
    assert b"Handle the report" not in detail.content


def test_operator_updates_and_assigns(signed_in, personas):
    report = services.file_report(report_input(), personas["citizen"])
    operator = personas["waste_operator"]
    client = signed_in("waste_operator")

    triaged = client.post(
        f"/waste/reports/{report.pk}/update/",
        {"update-status": "triaged", "update-note": "Seen", "update-public": "on"},
    )
    assigned = client.post(
        f"/waste/reports/{report.pk}/assign/", {"assign-assignee": operator.pk}
    )

    report.refresh_from_db()
    assert triaged.status_code == 302
    assert assigned.status_code == 302
    assert report.status == Status.ASSIGNED
    assert report.assignee == operator


def test_assign_note_internal_by_default(signed_in, personas):
    report = services.file_report(report_input(), personas["citizen"])
    operator = personas["waste_operator"]

    signed_in("waste_operator").post(
        f"/waste/reports/{report.pk}/assign/",
        {"assign-assignee": operator.pk, "assign-note": "Internal: check with the RT"},
    )
    reporter_page = signed_in("citizen").get(f"/waste/reports/{report.pk}/")
    staff_page = signed_in("auditor").get(f"/waste/reports/{report.pk}/")

    assert b"Internal: check with the RT" not in reporter_page.content
    assert b"New \xe2\x86\x92 Assigned" in reporter_page.content
    assert b"Internal: check with the RT" in staff_page.content


def test_assign_note_shown_when_ticked(signed_in, personas):
    report = services.file_report(report_input(), personas["citizen"])
    operator = personas["waste_operator"]

    signed_in("waste_operator").post(
        f"/waste/reports/{report.pk}/assign/",
        {
            "assign-assignee": operator.pk,
            "assign-note": "A crew comes tomorrow",
            "assign-public": "on",
        },
    )
    reporter_page = signed_in("citizen").get(f"/waste/reports/{report.pk}/")

    assert b"A crew comes tomorrow" in reporter_page.content


def test_staff_forms_have_unique_ids(signed_in, personas):
    report = services.file_report(report_input(), personas["citizen"])

    text = signed_in("waste_operator").get(f"/waste/reports/{report.pk}/").content
    ids = re.findall(rb'id="([^"]+)"', text)

    assert b"id_update-note" in ids
    assert b"id_assign-note" in ids
    assert b"id_assign-public" in ids
    assert len(ids) == len(set(ids))


def test_bad_move_shows_message(signed_in, personas):
    report = services.file_report(report_input(), personas["citizen"])

    response = signed_in("waste_operator").post(
        f"/waste/reports/{report.pk}/update/",
        {"update-status": "resolved"},
        follow=True,
    )

    text = response.content.decode()
    assert "Status: A report that is New cannot become Resolved." in text


def test_citizen_cannot_update(signed_in, personas):
    report = services.file_report(report_input(), personas["citizen"])

    response = signed_in("citizen").post(
        f"/waste/reports/{report.pk}/update/", {"update-status": "rejected"}
    )

    report.refresh_from_db()
    assert response.status_code == 403
    assert report.status == Status.NEW


def test_queue_filters_overdue(signed_in, personas):
    late = services.file_report(report_input(), personas["citizen"])
    fresh = services.file_report(
        report_input(kind="missed_pickup"), personas["citizen"]
    )
    Report.objects.filter(pk=late.pk).update(sla_due_at=late.created_at)
    client = signed_in("waste_operator")

    overdue = client.get("/waste/reports/queue/", {"overdue": "on"})
    by_kind = client.get("/waste/reports/queue/", {"kind": "missed_pickup"})
    by_kelurahan = client.get("/waste/reports/queue/", {"kelurahan": "13.74.02.1002"})

    assert [r.pk for r in overdue.context["page"]] == [late.pk]
    assert [r.pk for r in by_kind.context["page"]] == [fresh.pk]
    assert {r.pk for r in by_kelurahan.context["page"]} == {late.pk, fresh.pk}


def test_my_reports_lists_own_and_followed(signed_in, personas, other_citizen):
    own = services.file_report(report_input(), personas["citizen"])
    theirs = services.file_report(report_input(kind="other"), other_citizen)
    hidden = services.file_report(report_input(kind="missed_pickup"), other_citizen)
    services.follow_report(theirs.pk, personas["citizen"])

    response = signed_in("citizen").get("/waste/reports/")

    shown = {report.pk for report in response.context["page"]}
    assert shown == {own.pk, theirs.pk}
    assert hidden.pk not in shown
