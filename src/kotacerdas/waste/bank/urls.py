"""Pages of the waste banks, mounted at /waste/banks/."""

from django.urls import URLPattern, URLResolver, path

from kotacerdas.waste.bank import views

app_name = "wastebank"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("book/<int:membership_id>/", views.savings_book, name="book"),
    path("book/<int:membership_id>/pdf/", views.savings_book_pdf, name="book_pdf"),
    path("<slug:code>/", views.unit_page, name="unit"),
    path(
        "<slug:code>/members/<int:membership_id>/deposit/",
        views.deposit_new,
        name="deposit_new",
    ),
    path(
        "<slug:code>/deposits/<int:deposit_id>/",
        views.deposit_detail,
        name="deposit",
    ),
    path("<slug:code>/prices/", views.prices, name="prices"),
    path("<slug:code>/stock/", views.stock, name="stock"),
    path("<slug:code>/sales/<int:sale_id>/", views.sale_receipt, name="sale"),
]
