"""Drill-down lists behind the dashboard's figures (the lists helper fills this in)."""

from django.http import Http404, HttpRequest, HttpResponse

from kotacerdas.command.access import dashboard_view


@dashboard_view
def list_view(request: HttpRequest, name: str) -> HttpResponse:
    raise Http404(name)
