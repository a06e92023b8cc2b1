"""Sharing pages: monthly statements and the partner's costs."""

from django.urls import path

from kotacerdas.sharing import views

app_name = "sharing"
urlpatterns = [
    path("statements/", views.statement_page, name="statement"),
    path("statements/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("statements/statement.xlsx", views.statement_xlsx, name="statement_xlsx"),
    path("costs/", views.cost_list, name="cost_list"),
    path("costs/<int:cost_id>/correct/", views.cost_correct, name="cost_correct"),
]
