"""The review page of flagged and exception pickups, and their photos for staff."""

import logging
import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kotacerdas.waste.models import Pickup
from kotacerdas.waste.pickups import (
    PickupConflict,
    PickupInvalid,
    review_pickup,
    review_queue,
)
from kotacerdas.waste.pickups_credit import qualifies

logger = logging.getLogger(__name__)

REVIEW = "waste.review_pickup"
PHOTO_READERS = (REVIEW, "waste.view_waste")
PAGE_SIZE = 50


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(review_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "pickup": pickup,
            "flags": [flag for flag in pickup.flags.split(",") if flag],
            "may_credit": qualifies(pickup),
        }
        for pickup in page
    ]
    return render(request, "waste/review/list.html", {"page": page, "rows": rows})


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_POST
def review_decide(request: HttpRequest, pickup_id: int) -> HttpResponse:
    get_object_or_404(Pickup, pk=pickup_id)
    try:
        result = review_pickup(
            pickup_id,
            request.POST.get("decision", ""),
            request.POST.get("note", ""),
            request.user,
        )
    except PickupInvalid as invalid:
        for error in invalid.errors:
            messages.error(request, error.message)
        return redirect("waste:pickup_review")
    except PickupConflict as conflict:
        messages.error(request, conflict.message)
        return redirect("waste:pickup_review")

    pickup = result.pickup
    if pickup.review == Pickup.Review.CONFIRMED:
        messages.success(request, _("Pickup %(id)s confirmed.") % {"id": pickup.pk})
    else:
        messages.success(request, _("Pickup %(id)s dismissed.") % {"id": pickup.pk})
    outcome = result.credit
    if outcome is not None and outcome.credit is not None:
        messages.success(
            request,
            _("The household was credited Rp %(amount)s for the missed pickup.")
            % {"amount": f"{outcome.credit.amount:,}".replace(",", ".")},
        )
    elif outcome is not None and qualifies(pickup):
        messages.warning(request, outcome.message)
    return redirect("waste:pickup_review")


@login_required
@require_GET
def pickup_photo(request: HttpRequest, pickup_id: int) -> FileResponse:
    """Send a pickup's photo to staff who review or oversee pickups, never publicly."""
    if not any(request.user.has_perm(p) for p in PHOTO_READERS):
        raise PermissionDenied
    pickup = get_object_or_404(Pickup, pk=pickup_id)
    if not pickup.photo:
        raise Http404("This pickup has no photo.")
    content_type = (
        mimetypes.guess_type(pickup.photo.name or "")[0] or "application/octet-stream"
    )
    response = FileResponse(pickup.photo.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
