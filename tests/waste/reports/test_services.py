"""Filing and handling citizen reports through the services."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given, settings
from hypothesis import strategies as st

from kotacerdas.journal.models import Entry
from kotacerdas.waste.reports import services
from kotacerdas.waste.reports.models import Report, ReportUpdate, Status

from .conftest import PASAR_USANG_POINT, png_photo, report_input

pytestmark = pytest.mark.django_db


def _errors(invalid: services.ReportInvalid) -> dict[str, str]:
    return {error.field: error.message for error in invalid.errors}


def test_file_report_sets_kelurahan_and_sla(personas):
    report = services.file_report(report_input(photo=png_photo()), personas["citizen"])

    assert report.kelurahan is not None
    assert report.kelurahan.code == "13.74.02.1002"
    assert report.status == Status.NEW
    assert report.sla_due_at - report.created_at == timedelta(hours=72)
    assert report.photo.name.startswith("reports/")


def test_file_report_journals_no_free_text(personas):
    description = "Pak Budi at no. 12 dumped it"
    report = services.file_report(
        report_input(description=description), personas["citizen"]
    )

    entry = Entry.objects.filter(event_type="wastereports.report.filed").get()
    body = bytes(entry.body).decode()
    assert json.loads(body)["payload"]["report_id"] == report.pk
    assert "Budi" not in body
    assert "description" not in body


def test_missing_location_names_both_fields(personas):
    with pytest.raises(services.ReportInvalid) as caught:
        services.file_report(report_input(lat="", lng=None), personas["citizen"])

    errors = _errors(caught.value)
    assert errors["lat"].startswith("Missing. Pick the place on the map")
    assert errors["lng"].startswith("Missing.")
    assert Report.objects.count() == 0


def test_bad_kind_lists_known_kinds(personas):
    with pytest.raises(services.ReportInvalid) as caught:
        services.file_report(report_input(kind="noise"), personas["citizen"])

    message = _errors(caught.value)["kind"]
    assert "Unknown kind noise" in message
    assert "missed_pickup" in message


def test_huge_photo_rejected_with_limit(personas):
    big = SimpleUploadedFile(
        "big.jpg", b"\xff" * (services.PHOTO_MAX_BYTES + 1), content_type="image/jpeg"
    )

    with pytest.raises(services.ReportInvalid) as caught:
        services.file_report(report_input(photo=big), personas["citizen"])

    assert "the limit is 5 MB" in _errors(caught.value)["photo"]
    assert Report.objects.count() == 0


def test_non_image_photo_rejected(personas):
    fake = SimpleUploadedFile("x.jpg", b"not a picture", content_type="image/jpeg")

    with pytest.raises(services.ReportInvalid) as caught:
        services.file_report(report_input(photo=fake), personas["citizen"])

    assert "not a readable image" in _errors(caught.value)["photo"]


def test_gif_photo_rejected_by_type(personas):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="GIF")
    gif = SimpleUploadedFile("x.gif", buffer.getvalue(), content_type="image/gif")

    with pytest.raises(services.ReportInvalid) as caught:
        services.file_report(report_input(photo=gif), personas["citizen"])

    assert "type GIF are not accepted" in _errors(caught.value)["photo"]


def test_unknown_building_plate_named(personas):
    with pytest.raises(services.ReportInvalid) as caught:
        services.file_report(
            report_input(building_plate="ppj-b-000000-0"), personas["citizen"]
        )

    assert "PPJ-B-000000-0" in _errors(caught.value)["building_plate"]


@settings(max_examples=40, deadline=None)
@given(
    lat=st.one_of(st.text(max_size=12), st.floats(allow_nan=True), st.none()),
    lng=st.one_of(st.text(max_size=12), st.floats(allow_infinity=True), st.none()),
)
def test_any_coordinate_text_checked(lat, lng):
    # Whatever is typed, a coordinate either parses within range or gets a message.
    for value, limit in ((lat, 90), (lng, 180)):
        number, message = services.parse_coordinate(value, limit)
        if number is None:
            assert message
        else:
            assert abs(number) <= limit
            assert message == ""


def test_nearby_finds_same_kind_within_radius(personas):
    first = services.file_report(report_input(), personas["citizen"])
    # About 100 m north, then about 300 m north.
    lat = Decimal(PASAR_USANG_POINT[0])
    lng = Decimal(PASAR_USANG_POINT[1])

    near = services.nearby_open_reports("illegal_dumping", lat + Decimal("0.0009"), lng)
    far = services.nearby_open_reports("illegal_dumping", lat + Decimal("0.0027"), lng)
    other_kind = services.nearby_open_reports("missed_pickup", lat, lng)

    assert [(report.pk, 95 <= metres <= 105) for report, metres in near] == [
        (first.pk, True)
    ]
    assert far == []
    assert other_kind == []


def test_nearby_skips_closed_reports(personas):
    report = services.file_report(report_input(), personas["citizen"])
    services.change_status(report.pk, Status.REJECTED, personas["waste_operator"])

    found = services.nearby_open_reports("illegal_dumping", report.lat, report.lng)

    assert found == []


def test_haversine_matches_known_distance():
    # One degree of latitude is about 111.2 km on the mean sphere.
    assert round(services.distance_m(0, 100, 1, 100)) == 111_195


def test_follow_is_idempotent_and_journalled(personas):
    report = services.file_report(report_input(), personas["citizen"])
    neighbour = personas["outsider"]

    services.follow_report(report.pk, neighbour)
    services.follow_report(report.pk, neighbour)

    assert list(report.followers.all()) == [neighbour]
    assert Entry.objects.filter(event_type="wastereports.report.followed").count() == 1


def test_status_flow_to_resolved(personas):
    operator = personas["waste_operator"]
    report = services.file_report(report_input(), personas["citizen"])

    services.change_status(report.pk, Status.TRIAGED, operator, note="Seen")
    services.assign_report(report.pk, operator, operator)
    services.change_status(report.pk, Status.IN_PROGRESS, operator)
    services.change_status(report.pk, Status.RESOLVED, operator, note="Cleared")

    report.refresh_from_db()
    steps = list(report.updates.values_list("from_status", "to_status"))
    assert report.status == Status.RESOLVED
    assert report.resolved_at is not None
    assert report.assignee == operator
    assert steps == [
        ("new", "triaged"),
        ("triaged", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "resolved"),
    ]
    assert Entry.objects.filter(event_type="wastereports.report.updated").count() == 4


def test_skipping_ahead_rejected(personas):
    report = services.file_report(report_input(), personas["citizen"])

    with pytest.raises(services.ReportInvalid) as caught:
        services.change_status(report.pk, Status.RESOLVED, personas["waste_operator"])

    assert _errors(caught.value)["status"] == (
        "A report that is New cannot become Resolved."
    )


def test_duplicate_needs_open_original(personas):
    operator = personas["waste_operator"]
    first = services.file_report(report_input(), personas["citizen"])
    second = services.file_report(report_input(), personas["outsider"])

    with pytest.raises(services.ReportInvalid) as caught:
        services.change_status(second.pk, Status.DUPLICATE, operator, duplicate_of=None)
    services.change_status(second.pk, Status.DUPLICATE, operator, duplicate_of=first.pk)

    second.refresh_from_db()
    assert "another open report" in _errors(caught.value)["duplicate_of"]
    assert second.duplicate_of == first


def test_assign_to_citizen_rejected(personas):
    report = services.file_report(report_input(), personas["citizen"])

    with pytest.raises(services.ReportInvalid) as caught:
        services.assign_report(
            report.pk, personas["citizen"], personas["waste_operator"]
        )

    assert "cannot handle reports" in _errors(caught.value)["assignee"]


def test_internal_note_kept_private(personas):
    report = services.file_report(report_input(), personas["citizen"])

    services.change_status(
        report.pk, Status.NEW, personas["waste_operator"], note="x", public=False
    )

    update = ReportUpdate.objects.get()
    assert update.public is False
    assert update.from_status == update.to_status == "new"
