"""Drill-down lists on the demo city: figures and their lists agree.

The small demo city is built through the services, then a few more events
that the demo lacks (installed and revoked plates, a container above its
threshold, open, overdue and rejected citizen reports), and the rollups are
folded. Each test builds it once and checks several things, because the
build takes about ten seconds.
"""

import csv
import io
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

import openpyxl
import pytest
from django.db.models import Sum
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from tests.command.today_pickups import scan_stops_of_today

from kotacerdas.accounts.models import User
from kotacerdas.command import projector
from kotacerdas.command.figures import FIGURES, FIGURES_BY_KEY, Period, StoredTallies
from kotacerdas.command.lists_defs import LISTS
from kotacerdas.command.lists_form import ListForm
from kotacerdas.demo import services as demo
from kotacerdas.levy.models import Bill
from kotacerdas.registry.models import Building, Member
from kotacerdas.registry.services import current_plate, install_plate, revoke_plate
from kotacerdas.wallet.display import rupiah
from kotacerdas.waste import sensors
from kotacerdas.waste.models import Container, Pickup
from kotacerdas.waste.reports import services as reports
from kotacerdas.waste.reports.models import SLA_HOURS, Status

pytestmark = pytest.mark.django_db
SEED = 5
PASAR_USANG_POINT = ("-0.459800", "100.398352")

# Count figures whose drill list cannot count the same rows, and why. Each
# has its own check in test_drill_lists_agree_with_figures.
NOT_ROW_COUNTS = {
    # The routes list has one row per plan; the figure counts the plans'
    # stops, which the list's "Stops planned" total shows.
    "stops_planned_today": "routes total",
}

# Rupiah figures and the list total that equals them: (list, parameters,
# total column). None as parameters means the figure's own drill link.
RUPIAH_TOTALS = {
    "transfer_value_today": (None, "amount"),
    "transfer_value_month": (None, "amount"),
    "waste_bank_payouts_month": (None, "amount"),
    "levy_billed_month": (None, "amount"),
    "levy_collected_month": (None, "paid"),
    "arrears": (None, "outstanding"),
}


def add_missing_activity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Add the events the demo has none of, through the services."""
    buildings = list(Building.objects.order_by("id")[:4])
    for building in buildings[:3]:
        install_plate(current_plate(building))
    revoke_plate(current_plate(buildings[3]), "damaged")

    container = Container.objects.exclude(sensor_id="").order_by("id").first()
    assert container is not None
    observed = (timezone.now() - timedelta(minutes=1)).isoformat()
    sensors.ingest(
        container.sensor_id, {"fillingLevel": 0.95, "dateObserved": observed}, "http"
    )

    citizen = User.objects.get(username=demo.CITIZEN_USERNAME)
    operator = User.objects.get(username="operator")
    point = {"lat": PASAR_USANG_POINT[0], "lng": PASAR_USANG_POINT[1]}
    for kind in ("illegal_dumping", "missed_pickup", "full_container"):
        reports.file_report(
            reports.ReportInput(kind=kind, description="Waste by the road.", **point),
            citizen,
        )
    rejected = reports.file_report(
        reports.ReportInput(kind="illegal_dumping", description="Old.", **point),
        citizen,
    )
    reports.change_status(rejected.pk, Status.REJECTED, operator)
    # A due time already past, so one open report is overdue.
    monkeypatch.setitem(SLA_HOURS, "other", -2)
    reports.file_report(
        reports.ReportInput(kind="other", description="Smoke at the TPS.", **point),
        citizen,
    )
    scan_stops_of_today()


@pytest.fixture
def busy_city(city, monkeypatch):
    demo.create_demo_city()
    demo.build_demo_registry("small", SEED)
    demo.build_demo_activity(SEED)
    add_missing_activity(monkeypatch)
    projector.catch_up()
    return city


@pytest.fixture
def command_client(busy_city):
    client = Client()
    client.force_login(User.objects.get(username="command"))
    return client


def list_url(name: str, params: dict[str, str] | None = None) -> str:
    url = reverse("command:list", kwargs={"name": name})
    return f"{url}?{urlencode(params)}" if params else url


def totals_of(name: str, params: dict[str, str], period: Period) -> dict[str, int]:
    form = ListForm(LISTS[name], QueryDict(urlencode(params)))
    assert form.is_valid(), form.errors
    return form.selection(period).totals()


def test_drill_lists_agree_with_figures(command_client):
    stored = StoredTallies()
    period = Period.current()
    nonzero = set()

    for figure in FIGURES:
        if figure.unit != "count":
            continue
        name, params = figure.drill
        response = command_client.get(list_url(name, params))
        assert response.status_code == 200, figure.key
        count = response.context["page"].paginator.count
        value = figure.compute(stored, period)
        if value:
            nonzero.add(figure.key)
        assert f'data-count="{count}"' in response.content.decode(), figure.key
        check = NOT_ROW_COUNTS.get(figure.key)
        if check == "routes total":
            assert totals_of(name, params, period)["stops"] == value
        else:
            assert count == value, figure.key

    # The demo and the added events leave something to count in each list.
    expected = {f.key for f in FIGURES if f.unit == "count"}
    assert nonzero == expected

    # Rupiah figures equal a total of their drill list.
    for key, (params, column) in RUPIAH_TOTALS.items():
        figure = FIGURES_BY_KEY[key]
        name, drill = figure.drill
        value = figure.compute(stored, period)
        assert totals_of(name, params or drill, period)[column] == value, key

    # The page shows a drill link's figure and the same total.
    response = command_client.get(list_url("bills", {"period": "month"}))
    page = response.content.decode()
    assert response.status_code == 200
    assert "data-figure" in page
    billed = figure_value("levy_billed_month", stored, period)
    assert billed > 0
    assert response.context["totals"][0][2] == "amount"
    with translation.override("id"):
        assert response.context["totals"][0][1] == rupiah(billed)


def figure_value(key: str, stored: StoredTallies, period: Period) -> int:
    value = FIGURES_BY_KEY[key].compute(stored, period)
    assert value is not None
    return value


def test_lists_sort_filter_and_page(command_client):
    # Every sortable column sorts both ways on every list.
    for name, definition in LISTS.items():
        for column in definition.columns:
            for sort in (column.key, f"-{column.key}"):
                response = command_client.get(list_url(name, {"sort": sort}))
                assert response.status_code == 200, (name, sort)
                heading = next(
                    h for h in response.context["headings"] if h.key == column.key
                )
                assert heading.sorted == (
                    "descending" if sort.startswith("-") else "ascending"
                )

    # 50 rows a page, the same order as the table sorted by plate code.
    live = Building.objects.exclude(status=Building.Status.DEMOLISHED)
    codes = list(live.order_by("plate_code").values_list("plate_code", flat=True))
    assert len(codes) > 100
    last_page = (len(codes) - 1) // 50 + 1
    response = command_client.get(list_url("buildings", {"page": str(last_page)}))
    listed = [row[0][0] for row in response.context["rows"]]
    assert listed == codes[(last_page - 1) * 50 :]
    first = command_client.get(list_url("buildings", {"sort": "-plate_code"}))
    assert [row[0][0] for row in first.context["rows"]] == codes[::-1][:50]
    assert first.context["page"].paginator.num_pages == last_page

    # A kelurahan by dotted or compact code gives the same rows.
    code = live.values_list("kelurahan__code", flat=True).first()
    expected = live.filter(kelurahan__code=code).count()
    for sent in (code, code.replace(".", "")):
        response = command_client.get(list_url("buildings", {"kelurahan": sent}))
        assert response.context["page"].paginator.count == expected

    # A custom period that ended yesterday lists the pickups scanned before
    # today (the demo's previous collection day), and today's the others.
    today = timezone.localdate()
    midnight = timezone.make_aware(datetime.combine(today, time.min))
    first_scans = Pickup.objects.filter(duplicate_of__isnull=True)
    before_today = first_scans.filter(scanned_at__lt=midnight).count()
    yesterday = (today - timedelta(days=1)).isoformat()
    response = command_client.get(
        list_url("pickups", {"period": "custom", "to": yesterday})
    )
    assert before_today > 0
    assert response.context["page"].paginator.count == before_today
    day = today.isoformat()
    response = command_client.get(list_url("pickups", {"from": day, "to": day}))
    counted = first_scans.filter(scanned_at__gte=midnight).count()
    assert counted > 0
    assert response.context["page"].paginator.count == counted


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_exports_hold_the_whole_list(command_client):
    members = list(Member.objects.values_list("full_name", "phone"))
    addresses = list(Building.objects.values_list("street_address", flat=True))

    for figure in FIGURES:
        name, params = figure.drill
        page = command_client.get(list_url(name, params))
        count = page.context["page"].paginator.count
        url = reverse(
            "command:list_export", kwargs={"name": name, "file_format": "csv"}
        )
        response = command_client.get(f"{url}?{urlencode(params)}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = csv_rows(response)
        assert len(rows) == count + 1, figure.key
        assert len(rows[0]) == len(LISTS[name].columns)
        text = "\n".join(",".join(row) for row in rows)
        for full_name, phone in members:
            assert full_name not in text, (name, "member name")
            assert not phone or phone not in text, (name, "phone")
        for address in addresses:
            assert address not in text, (name, "address")

    # The XLSX contains the same rows, amounts as numbers.
    url = reverse(
        "command:list_export", kwargs={"name": "bills", "file_format": "xlsx"}
    )
    response = command_client.get(f"{url}?period=month")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    month = timezone.localdate().replace(day=1)
    bills = Bill.objects.filter(month=month).exclude(status=Bill.Status.CANCELLED)
    assert len(rows) == bills.count() + 1
    amounts = [row[6] for row in rows[1:]]
    assert all(isinstance(amount, int) for amount in amounts)
    assert sum(amounts) == bills.aggregate(total=Sum("amount"))["total"]
