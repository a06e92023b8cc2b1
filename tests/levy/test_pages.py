"""The levy pages as their users see them: officer, citizen and cashier."""

import csv
import io
from datetime import date, timedelta

import openpyxl
import pytest
from django.urls import reverse

from kotacerdas.levy import billing, services
from kotacerdas.levy.models import Bill, BillingRun, Payment, Tariff
from kotacerdas.wallet import services as wallet

from .conftest import PIN

pytestmark = pytest.mark.django_db

MONTH = "2026-12"


@pytest.fixture
def billed(house, shop):
    billing.run_billing(MONTH)
    return {
        "house": Bill.objects.get(household=house.household),
        "shop": Bill.objects.get(building=shop.building),
    }


def text(response) -> str:
    return response.content.decode()


# The revenue officer -------------------------------------------------------------


def test_tariff_page_lists_profile_classes(signed_in):
    response = signed_in("revenue_officer").get(reverse("levy:tariffs"))

    assert response.status_code == 200
    assert 'data-class="RT-II"' in text(response)
    assert "Rp7,500" in text(response)
    assert Tariff.objects.filter(source="profile").count() == 7


def test_tariff_form_sets_new_amount(signed_in):
    client = signed_in("revenue_officer")

    response = client.post(
        reverse("levy:tariff_set"),
        {"levy_class": "RT-II", "monthly_amount": "8.000", "valid_from": "2027-01"},
    )

    assert response.status_code == 302
    tariff = Tariff.objects.filter(source="officer").get()
    assert (tariff.levy_class, tariff.monthly_amount) == ("RT-II", 8000)
    assert tariff.valid_from == date(2027, 1, 1)
    assert tariff.created_by.username == "persona-revenue_officer"


def test_tariff_form_names_each_bad_field(signed_in):
    client = signed_in("revenue_officer")

    response = client.post(
        reverse("levy:tariff_set"),
        {"levy_class": "RT-II", "monthly_amount": "7500,5", "valid_from": "2020-01"},
    )

    form = response.context["form"]
    assert response.status_code == 200
    assert form.errors["monthly_amount"] == [
        "Enter the amount as a whole number of rupiah, such as 7500."
    ]
    assert form.errors["valid_from"] == [
        "A new tariff applies from this month (2026-12) or a later one."
    ]
    assert not Tariff.objects.filter(source="officer").exists()


def test_billing_page_queues_and_shows_result(signed_in, house, make_place):
    make_place(pln_va="")
    client = signed_in("revenue_officer")

    response = client.post(reverse("levy:billing"), {"month": MONTH}, follow=True)
    run = BillingRun.objects.get()
    waiting = text(response)
    billing.run_queued_billing()
    progress = client.get(
        reverse("levy:billing_run", kwargs={"run_id": run.pk}), HTTP_HX_REQUEST="true"
    )

    assert response.redirect_chain[-1][0] == reverse(
        "levy:billing_run", kwargs={"run_id": run.pk}
    )
    assert "Waiting for the worker" in waiting
    assert 'hx-trigger="every 2s"' in waiting
    assert "<html" not in text(progress)
    assert "hx-trigger" not in text(progress)
    assert "No PLN connection recorded, so no class" in text(progress)
    assert Bill.objects.count() == 1


def test_exempt_building_is_named_exempt(signed_in, make_place):
    # A school bills nothing in this city's tariffs, on purpose.
    make_place(0, use="school", pln_va=900)
    client = signed_in("revenue_officer")
    client.cookies["django_language"] = "en"
    run = billing.run_billing(MONTH)

    progress = client.get(
        reverse("levy:billing_run", kwargs={"run_id": run.pk}), HTTP_HX_REQUEST="true"
    )

    assert "Exempt: its class pays no levy (no tariff, or a tariff of Rp 0)" in text(
        progress
    )


def test_stalled_run_says_so(signed_in, house):
    run = billing.queue_billing(MONTH)
    BillingRun.objects.filter(pk=run.pk).update(
        queued_at=run.queued_at - timedelta(minutes=5)
    )

    response = signed_in("auditor").get(
        reverse("levy:billing_run", kwargs={"run_id": run.pk})
    )

    assert "the worker is not running" in text(response)
    assert "hx-trigger" not in text(response)


def test_billing_page_rejects_future_month(signed_in, house):
    response = signed_in("revenue_officer").post(
        reverse("levy:billing"), {"month": "2099-01"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["month"] == [
        "A month can be billed from its first day; 2099-01 has not begun."
    ]


def test_report_shows_rate_and_arrears(signed_in, house, citizen_of):
    billing.run_billing("2026-11")
    billing.run_billing(MONTH)
    user = citizen_of(house.household)
    december = Bill.objects.get(month=date(2026, 12, 1))
    services.pay_from_wallet(december, user, amount=3_000, transfer_id="pay-1")

    response = signed_in("auditor").get(reverse("levy:report"), {"month": MONTH})

    row = next(r for r in response.context["report"].rows if r.code == "13.74.02.1002")
    assert (row.billed, row.collected, str(row.rate_percent)) == (7_500, 3_000, "40.0")
    assert (row.arrears, row.households_in_arrears) == (7_500, 1)
    assert "40.0%" in text(response)


def test_bill_list_filters_by_status(signed_in, billed):
    services.pay_at_counter(billed["shop"], amount=70_000, transfer_id="c-1")
    client = signed_in("revenue_officer")

    paid = client.get(reverse("levy:bill_list"), {"status": "paid"})
    unpaid = client.get(reverse("levy:bill_list"), {"status": "unpaid"})

    assert [b.pk for b in paid.context["page"].object_list] == [billed["shop"].pk]
    assert [b.pk for b in unpaid.context["page"].object_list] == [billed["house"].pk]


def test_bill_list_finds_plate_and_number(signed_in, billed, house):
    client = signed_in("revenue_officer")
    plate = house.building.plate_code

    by_plate = client.get(reverse("levy:bill_list"), {"q": plate.lower()})
    by_number = client.get(
        reverse("levy:bill_list"), {"q": billed["shop"].number.replace("-", "")}
    )

    assert [b.pk for b in by_plate.context["page"].object_list] == [billed["house"].pk]
    assert [b.pk for b in by_number.context["page"].object_list] == [billed["shop"].pk]


def test_bill_list_htmx_serves_results_only(signed_in, billed):
    response = signed_in("revenue_officer").get(
        reverse("levy:bill_list"), HTTP_HX_REQUEST="true"
    )

    assert "<html" not in text(response)
    assert billed["house"].number in text(response)


def test_csv_export_lists_filtered_bills(signed_in, billed, house):
    services.pay_at_counter(billed["house"], amount=2_500, transfer_id="c-1")

    response = signed_in("auditor").get(
        reverse("levy:bill_export", kwargs={"file_format": "csv"}),
        {"kelurahan": house.building.kelurahan_id},
    )

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0][:3] == ["bill number", "month", "kelurahan code"]
    assert rows[1] == [
        billed["house"].number, "2026-12", "13.74.02.1002", "Pasar Usang",
        house.building.plate_code, str(house.household.pk), "RT-II",
        "7500", "2500", "5000", "Partly paid", "2026-12-31",
    ]  # fmt: skip
    assert len(rows) == 2


def test_xlsx_export_holds_amounts_as_numbers(signed_in, billed):
    response = signed_in("revenue_officer").get(
        reverse("levy:bill_export", kwargs={"file_format": "xlsx"})
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "bill number"
    amounts = sorted(row[7] for row in rows[1:])
    assert amounts == [7_500, 70_000]


def test_unknown_export_format_not_found(signed_in, billed):
    response = signed_in("revenue_officer").get(
        reverse("levy:bill_export", kwargs={"file_format": "pdf"})
    )

    assert response.status_code == 404


def test_bill_detail_links_receipts(signed_in, billed):
    payment = services.pay_at_counter(billed["house"], amount=7_500, transfer_id="c")

    response = signed_in("revenue_officer").get(
        reverse("levy:bill_detail", kwargs={"bill_id": billed["house"].pk})
    )

    assert f'href="/receipts/{payment.transfer.reference}/"' in text(response)


def test_cancel_page_cancels_open_bill(signed_in, billed):
    url = reverse("levy:bill_cancel", kwargs={"bill_id": billed["house"].pk})

    response = signed_in("revenue_officer").post(url, {"reason": "wrong_class"})

    billed["house"].refresh_from_db()
    assert response.status_code == 302
    assert billed["house"].status == "cancelled"


def test_arrears_page_totals_per_household(signed_in, house):
    billing.run_billing("2026-10")
    billing.run_billing("2026-11")

    response = signed_in("revenue_officer").get(reverse("levy:arrears"))

    rows = list(response.context["page"].object_list)
    assert len(rows) == 1
    assert (rows[0]["household_id"], rows[0]["owed"], rows[0]["bill_count"]) == (
        house.household.pk,
        15_000,
        2,
    )


# Citizens ---------------------------------------------------------------------------


def test_my_bills_lists_own_household(signed_in, billed, house, citizen_of):
    citizen_of(house.household)

    response = signed_in("citizen").get(reverse("levy:my_bills"))

    assert [b.pk for b in response.context["unpaid"]] == [billed["house"].pk]
    assert response.context["owed"] == 7_500


def test_my_bills_explains_missing_link(signed_in, billed):
    response = signed_in("citizen").get(reverse("levy:my_bills"))

    assert response.status_code == 200
    assert "not linked to a household" in text(response)


def test_citizen_pays_part_with_pin(signed_in, billed, house, citizen_of):
    user = citizen_of(house.household, balance=10_000)
    client = signed_in("citizen")
    url = reverse("levy:pay_bill", kwargs={"bill_id": billed["house"].pk})
    form = client.get(url).context["form"]

    response = client.post(
        url,
        {"amount": "5000", "pin": PIN, "transfer_id": form["transfer_id"].initial},
        follow=True,
    )

    billed["house"].refresh_from_db()
    assert billed["house"].paid_amount == 5_000
    assert wallet.wallet_for(user).balance == 5_000
    assert "Rp2,500 is still owed" in text(response)


def test_paid_message_links_to_the_receipt(signed_in, billed, house, citizen_of):
    citizen_of(house.household, balance=10_000)
    client = signed_in("citizen")
    url = reverse("levy:pay_bill", kwargs={"bill_id": billed["house"].pk})
    form = client.get(url).context["form"]

    response = client.post(
        url,
        {"amount": "7500", "pin": PIN, "transfer_id": form["transfer_id"].initial},
        follow=True,
    )

    reference = Payment.objects.get().transfer.reference
    receipt_url = reverse("wallet:receipt", kwargs={"reference": reference})
    assert response.redirect_chain == [(reverse("levy:my_bills"), 302)]
    assert "the bill is now paid in full." in text(response)
    assert f'<a href="{receipt_url}" data-testid="receipt-link">' in text(response)
    assert client.get(receipt_url).status_code == 200


def test_wrong_pin_pays_nothing(signed_in, billed, house, citizen_of):
    citizen_of(house.household)
    url = reverse("levy:pay_bill", kwargs={"bill_id": billed["house"].pk})

    response = signed_in("citizen").post(
        url, {"amount": "7500", "pin": "000001", "transfer_id": "p-1"}
    )

    assert response.status_code == 200
    assert "Wrong PIN" in response.context["form"].errors["pin"][0]
    assert not Payment.objects.exists()


def test_overpay_form_error_names_amount(signed_in, billed, house, citizen_of):
    citizen_of(house.household)
    url = reverse("levy:pay_bill", kwargs={"bill_id": billed["house"].pk})

    response = signed_in("citizen").post(
        url, {"amount": "9000", "pin": PIN, "transfer_id": "p-1"}
    )

    assert response.context["form"].errors["amount"] == [
        f"The amount Rp9,000 is more than the Rp7,500 still owed on bill "
        f"{billed['house'].number}. Enter at most Rp7,500."
    ]


def test_other_household_bill_not_found(signed_in, billed, make_place, citizen_of):
    neighbour = make_place()
    citizen_of(neighbour.household)
    client = signed_in("citizen")
    url = reverse("levy:pay_bill", kwargs={"bill_id": billed["house"].pk})

    page = client.get(url)
    post = client.post(url, {"amount": "7500", "pin": PIN, "transfer_id": "p-1"})

    assert page.status_code == 404
    assert post.status_code == 404
    assert not Payment.objects.exists()


# Cashiers ---------------------------------------------------------------------------


def test_counter_finds_bills_by_plate(signed_in, billed, house):
    response = signed_in("cashier").get(
        reverse("levy:counter"), {"q": house.building.plate_code}
    )

    rows = response.context["rows"]
    assert [bill.pk for bill, _head in rows] == [billed["house"].pk]
    assert rows[0][1].startswith("W")
    assert "*" in rows[0][1]


def test_counter_reports_unknown_number(signed_in, billed):
    response = signed_in("cashier").get(
        reverse("levy:counter"), {"q": "RTB-202612-999999"}
    )

    assert response.context["form"].errors["q"] == [
        "No bill or building has this number or code."
    ]


def test_counter_takes_partial_cash(signed_in, billed):
    client = signed_in("cashier")
    url = reverse("levy:counter_pay", kwargs={"bill_id": billed["shop"].pk})

    response = client.post(url, {"amount": "30000", "transfer_id": "cash-1"})

    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "levy:counter_receipt", kwargs={"payment_id": payment.pk}
    )
    receipt = client.get(response["Location"])
    assert f"/receipts/{payment.transfer.reference}/" in text(receipt)
    assert "Rp40,000 is still owed" in text(receipt)
    retry = client.post(url, {"amount": "30000", "transfer_id": "cash-1"})
    assert retry.status_code == 302
    assert Payment.objects.count() == 1


def test_counter_reads_scanned_plate_text(signed_in, billed, house):
    from kotacerdas.registry.plates import plate_url

    plate = house.building.plates.get()
    scanned = plate_url(plate.code, plate.key_id, plate.signature)

    response = signed_in("cashier").get(reverse("levy:counter"), {"q": scanned})

    assert [bill.pk for bill, _head in response.context["rows"]] == [billed["house"].pk]
