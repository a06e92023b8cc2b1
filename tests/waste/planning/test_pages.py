"""Route pages: who may see and plan, the re-plan form, the PDF sheet."""

import pypdfium2
import pytest
from django.utils import timezone
from fpdf import FPDF
from hypothesis import given
from hypothesis import strategies as st
from tests.waste.planning.conftest import (
    PLAN_DAY,
    ROUTE_TIME_LIMIT_S,
    make_buildings,
    schedule,
)

from kotacerdas.waste.models import Alert, RoutePlan, RouteStop, Schedule, Vehicle
from kotacerdas.waste.planning import plan_day
from kotacerdas.waste.planning_replan import replan
from kotacerdas.waste.route_pdf import COLUMNS_MM, fit_text, place_labels

pytestmark = pytest.mark.django_db

PLANNERS = {"waste_operator"}
READERS = {"waste_operator", "admin", "auditor", "command_center"}


@pytest.fixture
def planned(waste_city, settings):
    settings.KOTACERDAS_ROUTING_TIME_LIMIT_S = ROUTE_TIME_LIMIT_S
    make_buildings(waste_city.kelurahan, 4)
    schedule(waste_city.crew, waste_city.kelurahan)
    return plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]


def role_names(personas) -> list[str]:
    return sorted(personas)


def test_route_list_permissions(planned, personas, signed_in):
    for persona in role_names(personas):
        user = personas[persona]
        response = signed_in(persona).get(f"/waste/routes/?date={PLAN_DAY}")
        expected = 200 if user.has_perm("waste.view_waste") else 403
        assert response.status_code == expected, persona


def test_citizen_and_collector_cannot_plan(planned, signed_in):
    for persona in ("citizen", "collector", "outsider"):
        client = signed_in(persona)
        assert client.get(f"/waste/routes/{planned.pk}/").status_code == 403
        plan = client.post("/waste/routes/plan/", {"date": str(PLAN_DAY)})
        assert plan.status_code == 403, persona
        replan = client.post(
            f"/waste/routes/{planned.pk}/replan/", {"reason": "Traffic"}
        )
        assert replan.status_code == 403, persona
    assert RoutePlan.objects.get(pk=planned.pk).revision == 1


def test_crew_member_reads_own_route(planned, waste_city, personas, signed_in):
    waste_city.crew.members.add(personas["collector"])

    response = signed_in("collector").get(f"/waste/routes/{planned.pk}/")

    assert response.status_code == 200
    assert b"data-route-map" in response.content
    sheet = signed_in("collector").get(f"/waste/routes/{planned.pk}/sheet.pdf")
    assert sheet.status_code == 200


def test_route_list_shows_progress(planned, signed_in):
    stop = planned.stops.filter(kind=RouteStop.Kind.BUILDING).first()
    stop.status = RouteStop.Status.DONE
    stop.save()

    response = signed_in("waste_operator").get(f"/waste/routes/?date={PLAN_DAY}")

    text = response.content.decode()
    assert f'data-plan="{planned.pk}"' in text
    assert "<td data-progress>1/4</td>" in text


def test_plan_day_button_plans(waste_city, signed_in, settings):
    settings.KOTACERDAS_ROUTING_TIME_LIMIT_S = ROUTE_TIME_LIMIT_S
    make_buildings(waste_city.kelurahan, 2)
    schedule(waste_city.crew, waste_city.kelurahan)

    response = signed_in("waste_operator").post(
        "/waste/routes/plan/", {"date": str(PLAN_DAY)}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/waste/routes/?date={PLAN_DAY}"
    assert RoutePlan.objects.filter(date=PLAN_DAY).count() == 1


def test_replan_form_adds_plate(planned, waste_city, signed_in):
    extra = make_buildings(waste_city.kelurahan, 1, rw=7)[0]
    client = signed_in("waste_operator")

    response = client.post(
        f"/waste/routes/{planned.pk}/replan/",
        {"reason": "Called in", "plate_code": extra.plate_code, "revision": "1"},
        follow=True,
    )

    assert response.status_code == 200
    plan = RoutePlan.objects.get(pk=planned.pk)
    assert plan.revision == 2
    live = plan.stops.exclude(status=RouteStop.Status.CANCELLED)
    assert live.filter(building=extra).exists()


def test_replan_form_unknown_plate(planned, signed_in):
    response = signed_in("waste_operator").post(
        f"/waste/routes/{planned.pk}/replan/",
        {"reason": "Called in", "plate_code": "nonsense"},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert any("PPJ-B-7F3K9Q-C" in m for m in messages), messages
    assert RoutePlan.objects.get(pk=planned.pk).revision == 1


def test_replan_form_stale_revision(planned, signed_in):
    response = signed_in("waste_operator").post(
        f"/waste/routes/{planned.pk}/replan/",
        {"reason": "Traffic", "revision": "7"},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1
    assert "revisi 1" in messages[0] or "revision 1" in messages[0]
    assert RoutePlan.objects.get(pk=planned.pk).revision == 1


def test_route_sheet_pdf_lists_stops(planned, signed_in):
    response = signed_in("waste_operator").get(f"/waste/routes/{planned.pk}/sheet.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    document = pypdfium2.PdfDocument(response.content)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    assert "Stops: 4." in text
    for stop in planned.stops.filter(kind=RouteStop.Kind.BUILDING):
        assert stop.building.plate_code in text
        assert stop.building.street_address in text
    assert "TPA-1" in text, "the last trip unloads at the TPA"


def test_my_route_opens_today(waste_city, personas, signed_in):
    make_buildings(waste_city.kelurahan, 2)
    Schedule.objects.create(
        kelurahan=waste_city.kelurahan,
        weekdays="1234567",
        shift_start="06:00",
        shift_end="14:00",
        crew=waste_city.crew,
        valid_from="2020-01-01",
    )
    today = plan_day(timezone.localdate(), time_limit_s=ROUTE_TIME_LIMIT_S)[0]
    client = signed_in("collector")

    assert client.get("/waste/routes/mine/").status_code == 404
    waste_city.crew.members.add(personas["collector"])
    response = client.get("/waste/routes/mine/")

    assert response.status_code == 302
    assert response["Location"] == f"/waste/routes/{today.pk}/"


def test_replan_form_marks_vehicle_broken(planned, waste_city, signed_in):
    response = signed_in("waste_operator").post(
        f"/waste/routes/{planned.pk}/replan/",
        {"reason": "Truk mogok", "vehicle_broken": "on", "revision": "1"},
        follow=True,
    )

    waste_city.truck.refresh_from_db()
    assert waste_city.truck.status == Vehicle.Status.BROKEN
    alert = Alert.objects.get(kind=Alert.Kind.VEHICLE_BROKEN, vehicle=waste_city.truck)
    assert alert.cleared_at is None
    messages = [str(m) for m in response.context["messages"]]
    assert any("BA 1001 PP is marked broken down" in m for m in messages), messages


def test_not_fitted_stops_show_status(planned, signed_in):
    replan(planned, reason="Truk mogok", vehicle_broken=True, time_limit_s=1.0)
    stops = planned.stops.filter(kind=RouteStop.Kind.BUILDING).order_by("sequence")
    not_fitted = [s for s in stops if s.arrival is None]
    assert len(not_fitted) == 4
    not_fitted[0].status = RouteStop.Status.DONE
    not_fitted[0].save()
    not_fitted[1].status = RouteStop.Status.EXCEPTION
    not_fitted[1].save()
    client = signed_in("waste_operator")

    page = client.get(f"/waste/routes/{planned.pk}/").content.decode()
    sheet = client.get(f"/waste/routes/{planned.pk}/sheet.pdf")

    assert page.count('<span data-status="done">Done</span>') == 1
    assert page.count('<span data-status="exception">') == 1
    assert page.count('<span data-status="planned">') == 2
    document = pypdfium2.PdfDocument(sheet.content)
    text = "".join(p.get_textpage().get_text_range() for p in document)
    assert "Not fitted into any route" in text
    section = text.split("Not fitted into any route")[1]
    assert "Done" in section
    assert str(RouteStop.Status.EXCEPTION.label) in section
    assert "not fitted" not in text


def test_sheet_cells_fit_columns():
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=8)
    address = "Jl. Sutan Syahrir Gang Kelinci Nomor 117 RT 003 RW 007 " * 2

    for width in COLUMNS_MM:
        text = fit_text(pdf, address, width)
        assert pdf.get_string_width(text) <= width - 2 * pdf.c_margin
    assert fit_text(pdf, "12:30", COLUMNS_MM[2]) == "12:30"


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=10), st.integers(0, 10)),
        min_size=1,
        max_size=40,
    )
)
def test_map_labels_do_not_overlap(cells):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=6)
    points = [
        (20 + 1.5 * x, 20 + 1.5 * y, str(i + 1)) for i, (x, y) in enumerate(cells)
    ]

    placed = place_labels(pdf, points)

    boxes = [
        (x, y - 2.0, x + pdf.get_string_width(text), y + 0.4) for x, y, text in placed
    ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    assert placed, "the first label always has room"
