"""Pages for data-subject requests and the log of unmasked NIK/KK views."""

import json

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kotacerdas.accounts.models import AuditEvent
from kotacerdas.accounts.roles import ROLES
from kotacerdas.registry import privacy, services
from kotacerdas.registry.identity_access import (
    EXPORT_SCREEN,
    SUBJECT_SCREEN,
    screen_label,
)
from kotacerdas.registry.models import Member
from kotacerdas.registry.views import _member, _posted, registry_page

PERMISSION = "registry.handle_data_request"
VIEWS_PER_PAGE = 50


class SubjectLookupForm(forms.Form):
    nik = forms.CharField(
        label=gettext_lazy("NIK"),
        max_length=24,
        help_text=gettext_lazy("The 16-digit NIK of the person making the request."),
    )


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I confirm that this person asked for erasure and that their identity "
            "was checked."
        ),
        error_messages={
            "required": gettext_lazy("Tick the box to confirm before erasing.")
        },
    )


@registry_page(PERMISSION)
def privacy_index(request: HttpRequest) -> HttpResponse:
    """Find the member a request is about, by NIK.

    The NIK comes in a POST body and the redirect names the member id only,
    so the number never lands in a URL, the browser history or a proxy log.
    """
    form = SubjectLookupForm(_posted(request))
    if form.is_valid():
        member = services.find_member_by_nik(form.cleaned_data["nik"])
        if member is not None:
            return redirect("registry:privacy_subject", member_id=member.pk)
        form.add_error(
            "nik", _("No household member has this NIK. Check the digits and retry.")
        )
    return render(request, "registry/privacy_index.html", {"form": form})


@registry_page(PERMISSION)
def privacy_subject(request: HttpRequest, member_id: int) -> HttpResponse:
    """Show everything held about the member: the readable form of the export."""
    member = _member(request, member_id)
    data = privacy.export_subject(
        member, actor=request.user, request=request, screen=SUBJECT_SCREEN
    )
    context = {
        "member": member,
        "data": data,
        "person": _person_labels(member),
        "roles": _role_labels((data.get("user_account") or {}).get("roles", [])),
        "erased": privacy.is_erased(member),
        "blockers": privacy.erasure_blockers(member),
    }
    return render(request, "registry/privacy_subject.html", context)


@registry_page(PERMISSION)
def privacy_export(request: HttpRequest, member_id: int) -> HttpResponse:
    """Return the export as a JSON file to hand to the person."""
    member = _member(request, member_id)
    data = privacy.export_subject(
        member, actor=request.user, request=request, screen=EXPORT_SCREEN
    )
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="personal-data-member-{member.pk}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


@registry_page(PERMISSION)
def privacy_erase(request: HttpRequest, member_id: int) -> HttpResponse:
    """Ask for confirmation, then erase the member's personal data."""
    member = _member(request, member_id)
    form = ErasureForm(_posted(request))
    blockers = privacy.erasure_blockers(member)
    if request.method == "POST" and form.is_valid() and not blockers:
        try:
            result = privacy.erase_subject(member, actor=request.user, request=request)
        except privacy.ErasureRejected as rejected:
            form.add_error(None, rejected.message)
        else:
            messages.success(
                request,
                _(
                    "Erased the personal data of member #%(id)s. Financial records "
                    "and the journal are kept, and receipts still verify."
                )
                % {"id": result.member_id},
            )
            return redirect("registry:building_detail", member.household.building_id)
    context = {
        "form": form,
        "member": member,
        "blockers": blockers,
        "building": member.household.building,
    }
    return render(request, "registry/privacy_erase.html", context)


@registry_page("accounts.view_auditevent")
def identity_view_log(request: HttpRequest) -> HttpResponse:
    """List who saw NIK or KK numbers unmasked, newest first."""
    events = (
        AuditEvent.objects.filter(kind=AuditEvent.Kind.IDENTITY_VIEWED)
        .select_related("user")
        .order_by("-at", "-id")
    )
    page = Paginator(events, VIEWS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        (event, screen_label((event.detail or {}).get("view", ""))) for event in page
    ]
    context = {"page": page, "rows": rows}
    return render(request, "registry/identity_view_log.html", context)


def _person_labels(member: Member) -> dict[str, str]:
    """Return the member's coded fields as the words the page shows."""
    return {
        "full_name": member.display_name,
        "sex": str(member.get_sex_display()),
        "relation": str(member.get_relation_display()),
        "status": str(member.get_status_display()),
    }


def _role_labels(names: list[str]) -> list[str]:
    labels = {role.name: str(role.label) for role in ROLES}
    return [labels.get(name, name) for name in names]
