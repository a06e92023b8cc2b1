from django.urls import path

from kotacerdas.journal import views, views_bundles, views_verify

app_name = "journal"
urlpatterns = [
    path("ledger/", views.ledger_status, name="status"),
    path("ledger/entries/<int:seq>/", views.entry_detail, name="entry"),
    path(
        "ledger/entries/<int:seq>/bundle.json",
        views_bundles.entry_bundle,
        name="bundle",
    ),
    path("ledger/keys.json", views_bundles.published_keys, name="keys"),
    path("ledger/publication/", views_verify.publication, name="publication"),
    path("verify/", views_verify.verify_page, name="verify"),
]
