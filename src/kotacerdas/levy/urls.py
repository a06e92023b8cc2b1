"""Pages of the waste levy: the revenue officer's under /levy/, citizens'
under /wallet/levy/ and the cashier's under /wallet/counter/levy/."""

from django.urls import URLPattern, path

from kotacerdas.levy import views, views_pay

app_name = "levy"

urlpatterns: list[URLPattern] = [
    path("levy/", views.report, name="report"),
    path("levy/tariffs/", views.tariff_list, name="tariffs"),
    path("levy/tariffs/new/", views.tariff_set, name="tariff_set"),
    path("levy/billing/", views.billing_page, name="billing"),
    path("levy/billing/<int:run_id>/", views.billing_run, name="billing_run"),
    path("levy/arrears/", views.arrears, name="arrears"),
    path("levy/bills/", views.bill_list, name="bill_list"),
    path(
        "levy/bills/export.<str:file_format>",
        views.bill_export,
        name="bill_export",
    ),
    path("levy/bills/<int:bill_id>/", views.bill_detail, name="bill_detail"),
    path("levy/bills/<int:bill_id>/cancel/", views.bill_cancel, name="bill_cancel"),
    path("wallet/levy/", views_pay.my_bills, name="my_bills"),
    path("wallet/levy/<int:bill_id>/pay/", views_pay.pay_bill, name="pay_bill"),
    path("wallet/counter/levy/", views_pay.counter, name="counter"),
    path(
        "wallet/counter/levy/<int:bill_id>/",
        views_pay.counter_pay,
        name="counter_pay",
    ),
    path(
        "wallet/counter/levy/payments/<int:payment_id>/",
        views_pay.counter_receipt,
        name="counter_receipt",
    ),
]
