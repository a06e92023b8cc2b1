"""EMVCo merchant-presented QR payloads, the format QRIS uses.

A payload is a flat string of data objects, each a two-digit ID, a two-digit
length and the value. Lengths count characters, not UTF-8 bytes, so the EMVCo
sample's `0104最佳运输` has length 04. Templates (merchant account information
26-51, additional data 62, the alternate-language template 64 and the
unreserved templates 80-99) hold data objects of the same form. Object 00 comes
first and the payload ends with object 63: a CRC-16/CCITT-FALSE (polynomial
0x1021, initial value 0xFFFF) over the UTF-8 bytes of everything before its
four hex digits, `6304` included.

`parse` checks a scanned payload and returns what the payment screen shows.
`build_payload` writes the static or dynamic code of one of our own merchants.
Both work on plain strings and touch no database. The merchant name in a
scanned code is whatever its maker typed, so a payment to one of our merchants
should show the name of the account that `MerchantQr.own_account` points to.
"""

import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_PAYLOAD_CHARS = 512
MAX_VALUE_CHARS = 99  # the length field has two digits
MAX_GUI_CHARS = 32
MAX_AMOUNT_CHARS = 13
MAX_NAME_CHARS = 25
MAX_CITY_CHARS = 15
MAX_POSTAL_CODE_CHARS = 10
MAX_ADDITIONAL_DATA_CHARS = 25  # each of 62.01-62.08
MAX_AMOUNT_RUPIAH = 10**MAX_AMOUNT_CHARS - 1

PAYLOAD_FORMAT = "01"
STATIC = "11"
DYNAMIC = "12"
IDR = "360"  # ISO 4217 numeric code of the rupiah
QRIS_NATIONAL_GUI = "ID.CO.QRIS.WWW"  # template 51, which carries the NMID
TIP_PROMPT, TIP_FIXED_FEE, TIP_PERCENTAGE_FEE = "01", "02", "03"
CRC_PREFIX = "6304"

# IDs 02-25 are primitive account numbers of the card networks. IDs 26-51 are
# templates whose sub-object 00 is the network's globally unique identifier.
ACCOUNT_IDS = frozenset(f"{n:02d}" for n in range(2, 52))
ACCOUNT_TEMPLATE_IDS = tuple(f"{n:02d}" for n in range(26, 52))
UNRESERVED_TEMPLATE_IDS = frozenset(f"{n:02d}" for n in range(80, 100))
REQUIRED_IDS = ("52", "53", "58", "59", "60")

DIGITS = re.compile(r"[0-9]+")
# Two digits of ID and two of length: anything else is not an EMVCo payload.
EMV_START = re.compile(r"[0-9]{4}")
AMOUNT = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]*))?")
PERCENTAGE = re.compile(r"100(?:\.0{0,2})?|[0-9]{1,2}(?:\.[0-9]{0,2})?")
HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
COUNTRY = re.compile(r"[A-Za-z]{2}")

FIELD_NAMES: dict[str, Promise] = {
    "00": gettext_lazy("the payload format indicator"),
    "01": gettext_lazy("the point of initiation method"),
    "account": gettext_lazy("the merchant account information"),
    "52": gettext_lazy("the merchant category code"),
    "53": gettext_lazy("the currency"),
    "54": gettext_lazy("the amount"),
    "55": gettext_lazy("the tip or convenience fee indicator"),
    "56": gettext_lazy("the fixed convenience fee"),
    "57": gettext_lazy("the percentage convenience fee"),
    "58": gettext_lazy("the country code"),
    "59": gettext_lazy("the merchant name"),
    "60": gettext_lazy("the merchant city"),
    "61": gettext_lazy("the postal code"),
    "62": gettext_lazy("the additional data"),
    "62.01": gettext_lazy("the bill number"),
    "62.05": gettext_lazy("the reference label"),
    "62.07": gettext_lazy("the terminal label"),
    "63": gettext_lazy("the checksum"),
    "64": gettext_lazy("the merchant name in another language"),
}


class QrisError(ValueError):
    """A QR payload is invalid, or a merchant's values do not fit one.

    `code` is a machine code (see the module's raise sites), `tag` the data
    object it concerns ("59", "62.01", or "" for the payload as a whole) and
    `message` a translated sentence saying what is wrong and what to do.
    """

    def __init__(self, code: str, tag: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.tag = tag
        self.message = message


@dataclass(frozen=True)
class MerchantAccount:
    """One merchant account information template (ID 26-51) of a QR code."""

    tag: str
    gui: str  # the network's globally unique identifier, e.g. ID.CO.QRIS.WWW
    pan: str | None  # sub-object 01, the merchant PAN
    merchant_id: str | None  # sub-object 02, the wallet number in our own codes
    criteria: str | None  # sub-object 03, the QRIS merchant criteria (UMI, UKE, ...)


@dataclass(frozen=True)
class MerchantQr:
    """The contents of a valid merchant-presented QR code.

    `amount` is in whole rupiah and set only for a rupiah code that carries
    one. `amount_text` is the value as written, in any currency. A rupiah
    amount with a fraction of a rupiah never gets this far, because `parse`
    raises QrisError("fractional_amount").
    """

    point_of_initiation: str | None  # "11" static, "12" dynamic, None if absent
    dynamic: bool
    merchant_accounts: tuple[MerchantAccount, ...]
    own_account: MerchantAccount | None  # the template with our own GUI
    nmid: str | None  # national merchant ID from template 51
    mcc: str  # ISO 18245 merchant category code
    currency: str  # ISO 4217 numeric code
    amount_text: str | None
    amount: int | None
    tip_indicator: str | None  # "01" prompt, "02" fixed fee, "03" percentage
    fee_fixed_text: str | None
    fee_fixed: int | None  # whole rupiah, for a rupiah code
    fee_percentage: str | None
    country: str
    merchant_name: str
    merchant_city: str
    postal_code: str | None
    bill_number: str | None  # 62.01
    store_label: str | None  # 62.03
    reference_label: str | None  # 62.05
    terminal_label: str | None  # 62.07
    purpose: str | None  # 62.08
    language: str | None  # 64.00, ISO 639 alpha-2
    merchant_name_alternate: str | None  # 64.01
    merchant_city_alternate: str | None  # 64.02

    @property
    def issuer_is_ours(self) -> bool:
        return self.own_account is not None

    @property
    def currency_is_idr(self) -> bool:
        return self.currency == IDR

    def require_payable(self) -> None:
        """Raise QrisError("not_idr") unless the code's currency is the rupiah."""
        if not self.currency_is_idr:
            raise QrisError(
                "not_idr",
                "53",
                _(
                    "This QR code asks for payment in another currency (ISO 4217 code %(currency)s). The wallet pays in rupiah only, so pay this merchant another way."
                )
                % {"currency": self.currency},
            )


def crc16(data: bytes) -> str:
    """Return the CRC-16/CCITT-FALSE of data as four uppercase hex digits."""
    return f"{binascii.crc_hqx(data, 0xFFFF):04X}"


# Errors ----------------------------------------------------------------------


def _field_name(tag: str) -> str:
    top = tag.split(".")[0]
    if tag in FIELD_NAMES:
        return str(FIELD_NAMES[tag])
    if top in ACCOUNT_IDS:
        return str(FIELD_NAMES["account"])
    return str(FIELD_NAMES.get(top, _("a data object")))


def _invalid(code: str, tag: str, problem: str) -> QrisError:
    """Build the error for a problem found in a scanned code."""
    return QrisError(
        code,
        tag,
        _(
            "The QR code is not a valid QRIS code: %(problem)s Ask the merchant for a new QRIS code, or pay another way."
        )
        % {"problem": problem},
    )


def _missing(tag: str) -> QrisError:
    problem = _("%(field)s (tag %(tag)s) is missing.")
    return _invalid("missing_tag", tag, problem % _names(tag))


def _bad_value(tag: str) -> QrisError:
    problem = _("%(field)s (tag %(tag)s) has an invalid value.")
    return _invalid("bad_format", tag, problem % _names(tag))


def _too_long(tag: str, max_chars: int) -> QrisError:
    problem = _("%(field)s (tag %(tag)s) is longer than %(max)s characters.")
    return _invalid("bad_length", tag, problem % {**_names(tag), "max": max_chars})


def _names(tag: str) -> dict[str, str]:
    return {"field": _field_name(tag), "tag": tag}


# Parsing ---------------------------------------------------------------------


def parse(payload: str, *, own_gui: str) -> MerchantQr:
    """Check a scanned payload and return its contents, or raise QrisError.

    A code whose merchant account templates carry `own_gui` is one of ours,
    and `own_account` points to that template. Any other valid code is parsed
    and reported as external. A foreign currency parses too, so call
    `require_payable` before paying.
    """
    text = _check_envelope(payload)
    objects = _read_objects(text)
    _check_layout(objects)

    accounts = tuple(_read_account(tag, objects[tag]) for tag in _account_tags(objects))
    own = next((a for a in accounts if a.gui.upper() == own_gui.upper()), None)
    national = next((a for a in accounts if a.tag == "51"), None)
    currency = _read_currency(objects["53"])
    amount_text, amount = _read_amount("54", objects.get("54"), currency)
    tip_indicator, fee_fixed_text, fee_fixed, fee_percentage = _read_tip(
        objects, currency
    )
    # EMVCo caps 62.01-62.08 at 25 characters. Scanned codes are not held to
    # that, because these values are only shown and matched as written.
    additional = _read_objects(objects["62"], "62.") if "62" in objects else {}
    language = _read_objects(objects["64"], "64.") if "64" in objects else {}
    for tag in sorted(UNRESERVED_TEMPLATE_IDS.intersection(objects)):
        _read_objects(objects[tag], f"{tag}.")

    return MerchantQr(
        point_of_initiation=objects.get("01"),
        dynamic=objects.get("01") == DYNAMIC,
        merchant_accounts=accounts,
        own_account=own,
        nmid=national.merchant_id if national else None,
        mcc=objects["52"],
        currency=currency,
        amount_text=amount_text,
        amount=amount,
        tip_indicator=tip_indicator,
        fee_fixed_text=fee_fixed_text,
        fee_fixed=fee_fixed,
        fee_percentage=fee_percentage,
        country=objects["58"].upper(),
        merchant_name=objects["59"],
        merchant_city=objects["60"],
        postal_code=objects.get("61"),
        bill_number=additional.get("01"),
        store_label=additional.get("03"),
        reference_label=additional.get("05"),
        terminal_label=additional.get("07"),
        purpose=additional.get("08"),
        language=language.get("00"),
        merchant_name_alternate=language.get("01"),
        merchant_city_alternate=language.get("02"),
    )


def _check_envelope(payload: str) -> str:
    """Check the payload's size, start and CRC; return it without surrounding space."""
    # A payload starts with "00" and ends with hex digits, so whitespace around
    # it can only come from the scanner or a copy and paste.
    text = payload.strip()
    if not EMV_START.match(text):
        raise QrisError(
            "not_emv",
            "",
            _(
                "This QR code is not a QRIS payment code. Scan the QRIS code the merchant shows."
            ),
        )
    if len(text) > MAX_PAYLOAD_CHARS:
        raise QrisError(
            "too_long",
            "",
            _(
                "The QR code contains %(length)s characters, more than the %(max)s allowed in a QRIS code. Scan the QRIS code the merchant shows."
            )
            % {"length": len(text), "max": MAX_PAYLOAD_CHARS},
        )
    # EMVCo values are printable text. A control or bidirectional-override
    # character could make a merchant name read as another one, and a lone
    # surrogate has no UTF-8 form to compute the CRC over.
    if not text.isprintable():
        raise _invalid(
            "bad_format",
            "",
            _(
                "it contains control or invisible characters, which QRIS codes do not allow."
            ),
        )

    if len(text) < 8 or text[-8:-4] != CRC_PREFIX:
        raise _missing("63")
    expected = crc16(text[:-4].encode("utf-8"))
    if not HEX4.fullmatch(text[-4:]) or text[-4:].upper() != expected:
        raise QrisError(
            "crc_mismatch",
            "63",
            _(
                "The QR code is damaged or incomplete (checksum mismatch). Ask the merchant to show it again."
            ),
        )
    return text


def _read_objects(text: str, prefix: str = "") -> dict[str, str]:
    """Split text into its data objects, keyed by ID in the order they appear.

    `prefix` is the template's ID and a dot ("62.") for error tags.
    """
    objects: dict[str, str] = {}
    position = 0
    while position < len(text):
        tag, length = text[position : position + 2], text[position + 2 : position + 4]
        if not (len(tag) == 2 and DIGITS.fullmatch(tag)):
            problem = _(
                "its data does not follow the EMVCo layout at character %(position)s."
            )
            raise _invalid(
                "bad_format", prefix.rstrip("."), problem % {"position": position + 1}
            )
        path = prefix + tag
        start = position + 4
        if not (len(length) == 2 and DIGITS.fullmatch(length)) or length == "00":
            raise _bad_length(path)
        end = start + int(length)
        if end > len(text):
            raise _bad_length(path)
        if tag in objects:
            problem = _("%(field)s (tag %(tag)s) appears twice.")
            raise _invalid("duplicate_tag", path, problem % _names(path))
        objects[tag] = text[start:end]
        position = end
    return objects


def _bad_length(tag: str) -> QrisError:
    problem = _("the length of %(field)s (tag %(tag)s) does not match its value.")
    return _invalid("bad_length", tag, problem % _names(tag))


def _check_layout(objects: dict[str, str]) -> None:
    tags = list(objects)
    if tags[0] != "00" or tags[-1] != "63":
        problem = _("it must start with tag 00 and end with the checksum, tag 63.")
        raise _invalid("bad_order", "00" if tags[0] != "00" else "63", problem)
    if objects["00"] != PAYLOAD_FORMAT:
        raise _bad_value("00")
    # EMVCo makes the point of initiation optional, and a code without it is static.
    if objects.get("01", STATIC) not in (STATIC, DYNAMIC):
        raise _bad_value("01")
    if not ACCOUNT_IDS.intersection(objects):
        raise _missing("26")
    for tag in REQUIRED_IDS:
        if tag not in objects:
            raise _missing(tag)

    if not (len(objects["52"]) == 4 and DIGITS.fullmatch(objects["52"])):
        raise _bad_value("52")
    if not COUNTRY.fullmatch(objects["58"]):
        raise _bad_value("58")
    for tag, max_chars in (
        ("59", MAX_NAME_CHARS),
        ("60", MAX_CITY_CHARS),
        ("61", MAX_POSTAL_CODE_CHARS),
    ):
        if len(objects.get(tag, "")) > max_chars:
            raise _too_long(tag, max_chars)


def _account_tags(objects: dict[str, str]) -> list[str]:
    return [tag for tag in ACCOUNT_TEMPLATE_IDS if tag in objects]


def _read_account(tag: str, value: str) -> MerchantAccount:
    sub = _read_objects(value, f"{tag}.")
    if "00" not in sub:
        raise _missing(f"{tag}.00")
    if len(sub["00"]) > MAX_GUI_CHARS:
        raise _too_long(f"{tag}.00", MAX_GUI_CHARS)
    return MerchantAccount(
        tag=tag,
        gui=sub["00"],
        pan=sub.get("01"),
        merchant_id=sub.get("02"),
        criteria=sub.get("03"),
    )


def _read_currency(value: str) -> str:
    if not (len(value) == 3 and DIGITS.fullmatch(value)):
        raise _bad_value("53")
    return value


def _read_amount(
    tag: str, value: str | None, currency: str
) -> tuple[str | None, int | None]:
    """Return an amount as written and, for rupiah, as whole rupiah."""
    if value is None:
        return None, None
    if len(value) > MAX_AMOUNT_CHARS:
        raise _too_long(tag, MAX_AMOUNT_CHARS)
    match = AMOUNT.fullmatch(value)
    if match is None:
        raise _bad_value(tag)
    whole, fraction = match["whole"], (match["fraction"] or "").rstrip("0")
    if int(whole) == 0 and not fraction:
        raise _bad_value(tag)
    if currency != IDR:
        return value, None

    if fraction:
        raise QrisError(
            "fractional_amount",
            tag,
            _(
                "The amount %(amount)s in this QR code includes a fraction of a rupiah. The wallet pays whole rupiah only, so ask the merchant for a new QR code."
            )
            % {"amount": value},
        )
    return value, int(whole)


def _read_tip(
    objects: dict[str, str], currency: str
) -> tuple[str | None, str | None, int | None, str | None]:
    """Return the tip indicator, fixed fee (as written and in rupiah) and percentage."""
    indicator = objects.get("55")
    if indicator is None:
        return None, None, None, None
    if indicator not in (TIP_PROMPT, TIP_FIXED_FEE, TIP_PERCENTAGE_FEE):
        raise _bad_value("55")

    fixed_text = fixed = percentage = None
    if indicator == TIP_FIXED_FEE:
        if "56" not in objects:
            raise _missing("56")
        fixed_text, fixed = _read_amount("56", objects["56"], currency)
    if indicator == TIP_PERCENTAGE_FEE:
        percentage = objects.get("57")
        if percentage is None:
            raise _missing("57")
        if not PERCENTAGE.fullmatch(percentage):
            raise _bad_value("57")
    return indicator, fixed_text, fixed, percentage


# Building --------------------------------------------------------------------


def build_payload(
    *,
    gui: str,
    merchant_id: str,
    merchant_name: str,
    merchant_city: str,
    mcc: str,
    merchant_pan: str | None = None,
    criteria: str | None = None,
    nmid: str | None = None,
    postal_code: str | None = None,
    amount: int | None = None,
    bill_number: str | None = None,
    terminal_label: str | None = None,
    country: str = "ID",
) -> str:
    """Return the QR payload of one of our merchants; raise QrisError on a bad value.

    With an amount (whole rupiah) the code is dynamic (point of initiation
    12), without one it is static (11). The merchant account template (26)
    carries `gui`, the PAN, `merchant_id` and the criteria. An `nmid` adds
    the national template 51 with the same criteria. The name and city are
    cut to the 25 and 15 characters EMVCo allows, because the code carries a
    display name only. Other values that do not fit raise QrisError.
    """
    if not gui or not merchant_id:
        raise _merchant_value_missing("26.00" if not gui else "26.02")
    if len(gui) > MAX_GUI_CHARS:
        raise _merchant_value_too_long("26.00", MAX_GUI_CHARS)
    account = [("00", gui), ("01", merchant_pan), ("02", merchant_id), ("03", criteria)]
    objects: list[tuple[str, str | None]] = [
        ("00", PAYLOAD_FORMAT),
        ("01", STATIC if amount is None else DYNAMIC),
        ("26", _encode_template("26", account)),
    ]
    if nmid is not None:
        national = [("00", QRIS_NATIONAL_GUI), ("02", nmid), ("03", criteria)]
        objects.append(("51", _encode_template("51", national)))
    if not (len(mcc) == 4 and DIGITS.fullmatch(mcc)):
        raise QrisError(
            "bad_format",
            "52",
            _("The merchant category code must be 4 digits, such as 9399."),
        )
    objects += [("52", mcc), ("53", IDR)]
    if amount is not None:
        objects.append(("54", _amount_value(amount)))
    if not COUNTRY.fullmatch(country):
        raise QrisError(
            "bad_format",
            "58",
            _("The country code must be two letters, such as ID."),
        )
    objects += [
        ("58", country.upper()),
        ("59", _display_text("59", merchant_name, MAX_NAME_CHARS)),
        ("60", _display_text("60", merchant_city, MAX_CITY_CHARS)),
        ("61", _fitting("61", postal_code, MAX_POSTAL_CODE_CHARS)),
    ]
    additional = [
        ("01", _fitting("62.01", bill_number, MAX_ADDITIONAL_DATA_CHARS)),
        ("07", _fitting("62.07", terminal_label, MAX_ADDITIONAL_DATA_CHARS)),
    ]
    objects.append(("62", _encode_template("62", additional)))

    body = _encode_objects("", objects) + CRC_PREFIX
    return body + crc16(body.encode("utf-8"))


def _encode_objects(prefix: str, objects: Iterable[tuple[str, str | None]]) -> str:
    """Join data objects, leaving out absent (None or empty) values."""
    parts = []
    for tag, value in objects:
        if not value:
            continue
        if len(value) > MAX_VALUE_CHARS:
            raise _merchant_value_too_long(prefix + tag, MAX_VALUE_CHARS)
        if not value.isprintable():
            raise _merchant_value_invalid(prefix + tag)
        parts.append(f"{tag}{len(value):02d}{value}")
    return "".join(parts)


def _encode_template(tag: str, objects: list[tuple[str, str | None]]) -> str:
    return _encode_objects(f"{tag}.", objects)


def _amount_value(amount: int) -> str:
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT_RUPIAH:
        raise QrisError(
            "bad_format",
            "54",
            _("The amount must be a whole number of rupiah from 1 to %(max)s.")
            % {"max": MAX_AMOUNT_RUPIAH},
        )
    return str(amount)


def _display_text(tag: str, text: str, max_chars: int) -> str:
    """Collapse whitespace and cut text to max_chars for a name or city."""
    fitted = " ".join(text.split())[:max_chars].rstrip()
    if not fitted:
        raise _merchant_value_missing(tag)
    # Readers written in Java or JavaScript count UTF-16 code units, so a
    # character outside the Basic Multilingual Plane (an emoji) would make
    # them read a wrong length.
    if any(ord(ch) > 0xFFFF for ch in fitted):
        raise QrisError(
            "bad_format",
            tag,
            _(
                "%(field)s contains a character that QR readers count differently, such as an emoji. Remove it."
            )
            % {"field": capfirst(_field_name(tag))},
        )
    return fitted


def _fitting(tag: str, value: str | None, max_chars: int) -> str | None:
    if value is not None and len(value) > max_chars:
        raise _merchant_value_too_long(tag, max_chars)
    return value


def _merchant_value_missing(tag: str) -> QrisError:
    return QrisError(
        "missing_tag",
        tag,
        _("%(field)s (tag %(tag)s) is empty. Fill it in.")
        % {"field": capfirst(_field_name(tag)), "tag": tag},
    )


def _merchant_value_too_long(tag: str, max_chars: int) -> QrisError:
    return QrisError(
        "bad_length",
        tag,
        _("%(field)s (tag %(tag)s) is longer than %(max)s characters. Shorten it.")
        % {"field": capfirst(_field_name(tag)), "tag": tag, "max": max_chars},
    )


def _merchant_value_invalid(tag: str) -> QrisError:
    return QrisError(
        "bad_format",
        tag,
        _(
            "%(field)s (tag %(tag)s) may contain only printable characters on one line. Correct it."
        )
        % {"field": capfirst(_field_name(tag)), "tag": tag},
    )
