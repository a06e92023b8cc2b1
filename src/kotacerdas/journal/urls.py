from django.urls import path

from kotacerdas.journal import views

app_name = "journal"
urlpatterns = [
    path("ledger/", views.ledger_status, name="status"),
    path("ledger/entries/<int:seq>/", views.entry_detail, name="entry"),
]
