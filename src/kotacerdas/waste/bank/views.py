"""Teller pages of the waste banks, and the member's savings book.

A teller acts only at the units listing them as a teller (`require_teller`),
so a teller of one unit gets 403 at another. Writes go through
`waste.bank.services`, `validation` and `sales`, whose field errors are shown
on the form.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kotacerdas.pilot.areas import require_at
from kotacerdas.pilot.services import Service
from kotacerdas.waste.bank import book, sales, services, validation
from kotacerdas.waste.bank.forms import (
    LinesForm,
    OfftakerForm,
    PriceListForm,
    SaleForm,
    ValidateForm,
    apply_errors,
    new_client_id,
)
from kotacerdas.waste.bank.models import Deposit, Membership, Unit
from kotacerdas.waste.bank.services import BankError


def _teller_unit(request: HttpRequest, code: str) -> Unit:
    unit = get_object_or_404(Unit.objects.select_related("account"), code=code)
    services.require_teller(request.user, unit)
    require_at(Service.WASTE_BANK, unit)
    return unit


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """List the units the user tells at and the user's own savings books."""
    units = Unit.objects.filter(tellers=request.user.pk, active=True)
    if not request.user.has_perm(services.OPERATE):
        units = units.none()
    memberships = Membership.objects.filter(
        account__holder=request.user.pk, active=True
    ).select_related("unit")
    return render(
        request,
        "wastebank/home.html",
        {"units": units, "memberships": memberships},
    )


@login_required
def unit_page(request: HttpRequest, code: str) -> HttpResponse:
    """Find a member by number, and list deposits waiting for validation."""
    unit = _teller_unit(request, code)
    query = request.GET.get("member", "").strip()
    found = services.find_membership(unit, query) if query else None
    if found is not None:
        return redirect("wastebank:deposit_new", code=code, membership_id=found.pk)
    pending = unit.deposits.filter(status=Deposit.Status.PENDING).select_related(
        "membership"
    )
    price_list = services.price_list_on(unit, timezone.localdate())
    return render(
        request,
        "wastebank/unit.html",
        {
            "unit": unit,
            "query": query,
            "not_found": bool(query),
            "pending": pending,
            "price_list": price_list,
        },
    )


@login_required
def deposit_new(request: HttpRequest, code: str, membership_id: int) -> HttpResponse:
    """Weigh in a member's deposit at today's prices."""
    unit = _teller_unit(request, code)
    membership = get_object_or_404(Membership, pk=membership_id, unit=unit)
    prices = services.prices_of(services.price_list_on(unit, timezone.localdate()))
    form = LinesForm(
        request.POST or None,
        materials=prices,
        initial={"client_id": new_client_id()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            deposit = services.record_deposit(
                membership,
                form.lines(),
                client_id=form.cleaned_data["client_id"],
                teller=request.user,
            )
        except BankError as error:
            apply_errors(form, error.errors)
        else:
            messages.success(
                request,
                _("Deposit recorded: the member's wallet shows it as pending."),
            )
            return redirect("wastebank:deposit", code=code, deposit_id=deposit.pk)
    return render(
        request,
        "wastebank/deposit_new.html",
        {
            "unit": unit,
            "membership": membership,
            "form": form,
            "prices": book.price_rows(prices),
        },
    )


@login_required
def deposit_detail(request: HttpRequest, code: str, deposit_id: int) -> HttpResponse:
    """Show a deposit, and post or void it after checking the sorting."""
    unit = _teller_unit(request, code)
    deposit = get_object_or_404(
        Deposit.objects.select_related("membership", "pending_transfer"),
        pk=deposit_id,
        unit=unit,
    )
    form = ValidateForm(request.POST or None, deposit=deposit)
    if request.method == "POST" and form.is_valid():
        try:
            _validate(request, deposit, form)
        except BankError as error:
            apply_errors(form, error.errors)
        else:
            return redirect("wastebank:deposit", code=code, deposit_id=deposit.pk)
    return render(
        request,
        "wastebank/deposit.html",
        {
            "unit": unit,
            "deposit": deposit,
            "items": deposit.items.select_related("material").order_by("id"),
            "form": form,
        },
    )


def _validate(request: HttpRequest, deposit: Deposit, form: ValidateForm) -> None:
    reason = form.cleaned_data["reason"]
    if request.POST.get("action") == "void":
        validation.void_deposit(deposit, request.user, reason=reason)
        messages.success(request, _("Deposit rejected: nothing was credited."))
        return
    rejected = [int(position) for position in form.cleaned_data["rejected"]]
    done = validation.validate_deposit(
        deposit, request.user, rejected_items=rejected, reason=reason
    )
    if done.status == Deposit.Status.POSTED:
        messages.success(request, _("Sorting checked: the credit is posted."))
    else:
        messages.success(request, _("Deposit rejected: nothing was credited."))


@login_required
def prices(request: HttpRequest, code: str) -> HttpResponse:
    """Show the price lists and start a new dated list from the current one."""
    unit = _teller_unit(request, code)
    current = services.price_list_on(unit, timezone.localdate())
    form = PriceListForm(request.POST or None, current=services.prices_of(current))
    if request.method == "POST" and form.is_valid():
        try:
            services.set_prices(
                unit, form.cleaned_data["valid_from"], form.prices(), user=request.user
            )
        except BankError as error:
            for problem in error.errors:
                field = f"price_{problem.field}"
                form.add_error(field if field in form.fields else None, problem.message)
        else:
            messages.success(request, _("The new price list is saved."))
            return redirect("wastebank:prices", code=code)
    lists = unit.price_lists.prefetch_related("items__material")[:12]
    return render(
        request,
        "wastebank/prices.html",
        {"unit": unit, "form": form, "current": current, "lists": lists},
    )


@login_required
def stock(request: HttpRequest, code: str) -> HttpResponse:
    """Show stock per material and the sales, and record a sale or a buyer."""
    unit = _teller_unit(request, code)
    in_stock = sales.stock_g(unit)
    sale_form = SaleForm(
        request.POST if request.POST.get("form") == "sale" else None,
        unit=unit,
        stock=in_stock,
        initial={"client_id": new_client_id()},
    )
    buyer_form = OfftakerForm(
        request.POST if request.POST.get("form") == "offtaker" else None
    )
    if request.method == "POST":
        done = _stock_post(request, unit, sale_form, buyer_form)
        if done is not None:
            return done
    return render(
        request,
        "wastebank/stock.html",
        {
            "unit": unit,
            "stock": book.stock_rows(in_stock),
            "sale_form": sale_form,
            "buyer_form": buyer_form,
            "sales": unit.sales.select_related("offtaker")[:50],
        },
    )


def _stock_post(
    request: HttpRequest, unit: Unit, sale_form: SaleForm, buyer_form: OfftakerForm
) -> HttpResponse | None:
    try:
        if sale_form.is_bound and sale_form.is_valid():
            data = sale_form.cleaned_data
            weight_g = services.parse_weight_g(data["weight"], "kg")
            sale = sales.record_sale(
                data["offtaker"],
                [(data["material"], weight_g, data["price_per_kg"])],
                client_id=data["client_id"],
                user=request.user,
            )
            return redirect("wastebank:sale", code=unit.code, sale_id=sale.pk)
        if buyer_form.is_bound and buyer_form.is_valid():
            data = buyer_form.cleaned_data
            sales.add_offtaker(unit, data["business_name"], data["kind"], request.user)
            messages.success(request, _("The buyer is added."))
            return redirect("wastebank:stock", code=unit.code)
    except BankError as error:
        form = sale_form if sale_form.is_bound else buyer_form
        apply_errors(form, error.errors)
    return None


@login_required
def sale_receipt(request: HttpRequest, code: str, sale_id: int) -> HttpResponse:
    unit = _teller_unit(request, code)
    sale = get_object_or_404(unit.sales.select_related("offtaker"), pk=sale_id)
    return render(
        request,
        "wastebank/sale.html",
        {
            "unit": unit,
            "sale": sale,
            "items": sale.items.select_related("material").order_by("id"),
        },
    )


def _book_membership(request: HttpRequest, membership_id: int) -> Membership:
    """Let the member, or a teller of the member's unit, read the book."""
    membership = get_object_or_404(
        Membership.objects.select_related("unit", "account"), pk=membership_id
    )
    # A savings book stays readable where the waste bank no longer runs,
    # because it only shows what was recorded.
    if membership.account.holder_id == request.user.pk:
        return membership
    services.require_teller(request.user, membership.unit)
    return membership


@login_required
def savings_book(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Show the member's buku tabungan: deposits, cash-outs, running balance."""
    membership = _book_membership(request, membership_id)
    return render(
        request,
        "wastebank/book.html",
        {"membership": membership, **book.book_context(membership)},
    )


@login_required
def savings_book_pdf(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _book_membership(request, membership_id)
    data = book.render_pdf(membership)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="buku-tabungan-{membership.number}.pdf"'
    )
    return response
