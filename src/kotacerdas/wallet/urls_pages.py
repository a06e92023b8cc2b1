"""The wallet's pages for citizens, merchants and cashiers.

No URL names an account: each page works on the signed-in user's own wallet,
merchant account or counter transfers, so there is no id to change.
"""

from django.urls import URLPattern, path

from kotacerdas.wallet import views_citizen, views_counter, views_merchant

urlpatterns: list[URLPattern] = [
    path("wallet/", views_citizen.home, name="home"),
    path("wallet/pin/", views_citizen.pin_page, name="pin"),
    path("wallet/transfer/", views_citizen.transfer, name="transfer"),
    path("wallet/pay/", views_citizen.pay, name="pay"),
    path("wallet/pay/confirm/", views_citizen.pay_confirm, name="pay_confirm"),
    path("wallet/done/<str:reference>/", views_citizen.done, name="done"),
    path("wallet/merchant/", views_merchant.merchant_home, name="merchant"),
    path("wallet/merchant/open/", views_merchant.merchant_open, name="merchant_open"),
    path("wallet/merchant/qr/", views_merchant.merchant_qr, name="merchant_qr"),
    path(
        "wallet/merchant/qr/status/",
        views_merchant.merchant_qr_status,
        name="merchant_qr_status",
    ),
    path(
        "wallet/merchant/print/", views_merchant.merchant_print, name="merchant_print"
    ),
    path("wallet/counter/", views_counter.counter_home, name="counter"),
    path("wallet/counter/cash-in/", views_counter.cash_in, name="counter_cash_in"),
    path("wallet/counter/cash-out/", views_counter.cash_out, name="counter_cash_out"),
    path(
        "wallet/counter/receipts/<str:reference>/",
        views_counter.counter_receipt,
        name="counter_receipt",
    ),
]
