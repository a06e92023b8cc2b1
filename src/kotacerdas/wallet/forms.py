"""Forms of the wallet's pages: amounts, wallet numbers, PINs and filters.

The forms check the shape of what was typed, with messages that name the
field. Whether the money can move (balance, limits, mode, PIN tries) is the
core's decision, and `apply_error` puts its errors on the field they concern.
"""

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kotacerdas.journal.personal_data import PersonalDataError, reject_personal_data
from kotacerdas.wallet import qris
from kotacerdas.wallet.models import TransferKind
from kotacerdas.wallet.numbers import (
    WALLET_LENGTH,
    InvalidWalletNumber,
    clean_wallet_number,
)
from kotacerdas.wallet.pins import PIN_LENGTH
from kotacerdas.wallet.services import CLIENT_ID, MAX_AMOUNT

# Whole rupiah as people type them: 25000, 25.000, 25,000 or 25 000, with an
# optional "Rp". A separator must be followed by exactly three digits, so a
# decimal fraction such as 7.5 or 7,50 does not match.
AMOUNT_TEXT = re.compile(
    r"(?:rp\.?\s*)?(?P<digits>[0-9]{1,3}(?:(?P<sep>[.,\s])[0-9]{3})(?:(?P=sep)[0-9]{3})*|[0-9]+)",
    re.IGNORECASE,
)
MONTH_TEXT = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})")
PIN_TEXT = re.compile(rf"[0-9]{{{PIN_LENGTH}}}")
BUSINESS_NAME_MAX = 60
NOTE_MAX = 40

# A short list of ISO 18245 merchant category codes for the city's sellers.
MERCHANT_CATEGORIES = [
    ("5499", _("Food and daily needs (warung)")),
    ("5411", _("Grocery store or minimarket")),
    ("5812", _("Restaurant or eating place")),
    ("5814", _("Snacks and fast food")),
    ("5651", _("Clothing")),
    ("5912", _("Pharmacy")),
    ("5251", _("Hardware and building supplies")),
    ("7230", _("Barber or beauty salon")),
    ("7299", _("Other personal services")),
    ("5999", _("Other retail")),
]
MERCHANT_CATEGORY_CODES = {code for code, _label in MERCHANT_CATEGORIES}


def apply_error(
    form: forms.Form,
    field: str | None,
    message: str,
    names: dict[str, str] | None = None,
) -> None:
    """Show a core or flow error on the form field it concerns, or above the form.

    `names` maps the core's request fields ("credit", "memo") to form fields.
    """
    target = (names or {}).get(field or "", field)
    form.add_error(target if target in form.fields else None, message)


def parse_amount(text: str) -> int:
    """Return whole rupiah from typed text, or raise ValidationError."""
    match = AMOUNT_TEXT.fullmatch(text.strip())
    if match is None:
        raise forms.ValidationError(
            _("Enter the amount in whole rupiah, such as 25000 or 25.000."),
            code="invalid",
        )
    amount = int(re.sub(r"[^0-9]", "", match["digits"]))
    if amount <= 0:
        raise forms.ValidationError(
            _("The amount must be above zero. Enter a number of rupiah such as 25000."),
            code="not_positive",
        )
    if amount > MAX_AMOUNT:
        raise forms.ValidationError(
            _("The amount is too large. Enter a smaller number of rupiah."),
            code="too_large",
        )
    return amount


class AmountField(forms.CharField):
    """An amount of whole rupiah, typed with or without thousands separators."""

    default_error_messages = {"required": _("Enter the amount in rupiah.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Amount (Rp)"))
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        )
        super().__init__(max_length=24, **kwargs)

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if not text:
            return None
        return parse_amount(text)


class WalletNumberField(forms.CharField):
    """A 12-digit wallet number whose last digit is a Luhn check digit."""

    default_error_messages = {"required": _("Enter the wallet number.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Wallet number"))
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "autocomplete": "off",
                    "placeholder": "8800 1234 5674",
                }
            ),
        )
        super().__init__(max_length=24, **kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        try:
            return clean_wallet_number(text)
        except InvalidWalletNumber:
            digits = re.sub(r"[\s.-]", "", text)
            if digits.isdecimal() and len(digits) == WALLET_LENGTH:
                raise forms.ValidationError(
                    _(
                        "The wallet number's last digit does not match the others: check the number for a typo."
                    ),
                    code="check_digit",
                ) from None
            raise forms.ValidationError(
                _(
                    "The wallet number must be %(length)d digits, such as 8800 1234 5674."
                ),
                params={"length": WALLET_LENGTH},
                code="invalid",
            ) from None


class PinField(forms.CharField):
    """A 6-digit payment PIN, never rendered back into the form."""

    default_error_messages = {"required": _("Enter the 6-digit PIN.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Payment PIN"))
        kwargs.setdefault(
            "widget",
            forms.PasswordInput(
                attrs={
                    "inputmode": "numeric",
                    "autocomplete": "off",
                    "maxlength": PIN_LENGTH,
                    "pattern": "[0-9]*",
                }
            ),
        )
        super().__init__(strip=False, **kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if text and not PIN_TEXT.fullmatch(text):
            raise forms.ValidationError(
                _("The PIN is exactly 6 digits. Enter it again."), code="invalid"
            )
        return text


class TransferIdField(forms.CharField):
    """The hidden client transfer id that makes a repeated submit harmless."""

    default_error_messages = {
        "required": _("This form is out of date. Open it again and send it once more."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.HiddenInput, max_length=64, **kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not CLIENT_ID.fullmatch(text):
            raise forms.ValidationError(self.error_messages["required"], code="invalid")
        return text


def password_field() -> forms.CharField:
    return forms.CharField(
        label=_("Account password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _check_note(note: str, label: str) -> str:
    try:
        reject_personal_data(note, "memo")
    except PersonalDataError:
        raise forms.ValidationError(
            _(
                "The %(field)s must not contain a NIK, KK number, phone number or other personal data."
            ),
            params={"field": label},
            code="personal_data",
        ) from None
    return note


def _hide(form: forms.Form, names: tuple[str, ...]) -> None:
    for name in names:
        form.fields[name].widget = forms.HiddenInput()


# The citizen's wallet --------------------------------------------------------


class HistoryFilterForm(forms.Form):
    """Filters of the wallet's history (a GET form), where a bad value filters nothing."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *TransferKind.choices],
    )
    month = forms.CharField(
        label=_("Month"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2025-03"}),
    )

    def clean_month(self) -> date | None:
        text = self.cleaned_data["month"].strip()
        if not text:
            return None
        match = MONTH_TEXT.fullmatch(text)
        if match is None or not 1 <= int(match["month"]) <= 12:
            raise forms.ValidationError(
                _("Enter the month as YYYY-MM, such as 2025-03."), code="invalid"
            )
        return date(int(match["year"]), int(match["month"]), 1)

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        return {
            "kind": self.cleaned_data.get("kind") or "",
            "month": self.cleaned_data.get("month"),
        }


class PinForm(forms.Form):
    """Set a first PIN, or change it with the current one."""

    current_pin = PinField(label=_("Current PIN"), required=False)
    new_pin = PinField(
        label=_("New PIN"),
        help_text=_("6 digits that are not a simple pattern such as 123456."),
    )
    new_pin_again = PinField(label=_("New PIN again"))

    def __init__(self, *args: Any, has_pin: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if has_pin:
            self.fields["current_pin"].required = True
        else:
            del self.fields["current_pin"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        new, again = data.get("new_pin"), data.get("new_pin_again")
        if new and again and new != again:
            self.add_error(
                "new_pin_again",
                _("The two new PINs differ. Type the same 6 digits twice."),
            )
        return data


class TransferForm(forms.Form):
    """The payee's wallet number, the amount and an optional note."""

    number = WalletNumberField(label=_("Payee's wallet number"))
    amount = AmountField()
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=NOTE_MAX,
        help_text=_("Shown to the payee and on the receipt, such as Arisan March."),
    )

    def clean_note(self) -> str:
        return _check_note(self.cleaned_data["note"], str(_("note")))


class TransferConfirmForm(TransferForm):
    """The reviewed transfer, sent back with the PIN (and password above the step-up)."""

    transfer_id = TransferIdField()
    pin = PinField()
    password = password_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _hide(self, ("number", "amount", "note"))


class PayForm(forms.Form):
    """A scanned code's payment: the amount of a static code, PIN and password."""

    qr = forms.CharField(widget=forms.HiddenInput, max_length=qris.MAX_PAYLOAD_CHARS)
    transfer_id = TransferIdField()
    amount = AmountField(required=False)
    pin = PinField()
    password = password_field()

    def __init__(self, *args: Any, static: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if static:
            self.fields["amount"].required = True
        else:
            del self.fields["amount"]


# Merchants -------------------------------------------------------------------


class MerchantOpenForm(forms.Form):
    business_name = forms.CharField(
        label=_("Business name"),
        max_length=BUSINESS_NAME_MAX,
        help_text=_(
            "Payers see this name before they pay. QR codes carry its first 25 characters."
        ),
        error_messages={"required": _("Enter the business name payers will see.")},
    )

    def clean_business_name(self) -> str:
        name = " ".join(self.cleaned_data["business_name"].split())
        if not name.isprintable():
            raise forms.ValidationError(
                _("The business name may contain only printable characters."),
                code="invalid",
            )
        return name


class CategoryForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Business category"), choices=MERCHANT_CATEGORIES
    )


class DynamicQrForm(forms.Form):
    """The amount and optional bill number of a one-off QR code (a GET form)."""

    amount = AmountField()
    bill = forms.CharField(
        label=_("Bill number (optional)"),
        required=False,
        max_length=qris.MAX_ADDITIONAL_DATA_CHARS,
        help_text=_("Left empty, the code gets a new bill number of its own."),
    )

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount is not None and amount > qris.MAX_AMOUNT_RUPIAH:
            raise forms.ValidationError(
                _("The amount is too large for a QR code. Enter a smaller amount."),
                code="too_large",
            )
        return amount

    def clean_bill(self) -> str:
        bill = self.cleaned_data["bill"].strip()
        if bill and not (bill.isascii() and bill.isprintable()):
            raise forms.ValidationError(
                _("The bill number may contain only letters, digits and punctuation."),
                code="invalid",
            )
        return _check_note(bill, str(_("bill number")))


# Counters --------------------------------------------------------------------


class CounterForm(forms.Form):
    """The citizen's wallet number and the cash amount at a counter."""

    number = WalletNumberField(label=_("Citizen's wallet number"))
    amount = AmountField()


class CounterConfirmForm(CounterForm):
    """The reviewed counter transfer, with the citizen's PIN for a cash-out."""

    transfer_id = TransferIdField()
    pin = PinField(label=_("Citizen's payment PIN"), required=False)

    def __init__(self, *args: Any, needs_pin: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _hide(self, ("number", "amount"))
        if needs_pin:
            self.fields["pin"].required = True
        else:
            del self.fields["pin"]


class CounterDayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={
            "invalid": _("Enter the day as YYYY-MM-DD, such as 2025-03-31.")
        },
    )
