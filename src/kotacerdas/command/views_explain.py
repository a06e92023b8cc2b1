"""The "how is this computed" page of one dashboard figure.

It folds the journal again from its first entry into memory, with the same
fold rules the worker uses, and sets the recomputed value beside the stored
one. The fold reads every entry of the figure's event types, so the page
takes longer as the journal grows. It is opened on request and never polled.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kotacerdas.command import display, panels, recompute
from kotacerdas.command.access import dashboard_view
from kotacerdas.command.figures import FIGURES_BY_KEY


@never_cache
@require_GET
@dashboard_view
def explain(request: HttpRequest, key: str) -> HttpResponse:
    if key not in FIGURES_BY_KEY:
        raise Http404(key)
    explanation = recompute.explain(key)
    figure = explanation.figure
    list_name, params = figure.drill
    context = {
        "explanation": explanation,
        "figure": figure,
        "label": str(figure.label),
        "stored_text": display.figure_value(figure.unit, explanation.stored),
        "recomputed_text": display.figure_value(figure.unit, explanation.recomputed),
        "last_seq": explanation.size - 1,
        "drill_url": panels.drill_url(list_name, params),
        "dashboard_url": reverse("command:dashboard"),
    }
    return render(request, "command/explain.html", context)
