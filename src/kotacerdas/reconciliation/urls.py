"""Reconciliation pages, for revenue officers (`wallet.reconcile`)."""

from django.urls import path

from kotacerdas.reconciliation import views

app_name = "reconciliation"
urlpatterns = [
    path("wallet/reconcile/", views.day_list, name="day_list"),
    path("wallet/reconcile/days/<str:day>/", views.day_detail, name="day_detail"),
    path(
        "wallet/reconcile/days/<str:day>/recompute/",
        views.day_recompute,
        name="day_recompute",
    ),
    path("wallet/reconcile/statements/", views.statement_list, name="statement_list"),
    path(
        "wallet/reconcile/statements/template.csv",
        views.statement_template,
        name="statement_template",
    ),
    path(
        "wallet/reconcile/statements/<int:statement_id>/",
        views.statement_detail,
        name="statement_detail",
    ),
    path(
        "wallet/reconcile/statements/<int:statement_id>/mismatches.csv",
        views.statement_mismatches,
        name="statement_mismatches",
    ),
]
