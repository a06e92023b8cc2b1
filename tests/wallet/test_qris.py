"""QRIS payloads: published vectors, rejected codes, round trips and QR images."""

import io
import re
import string
from typing import Any

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from kotacerdas.wallet import qr_image
from kotacerdas.wallet.qris import (
    MAX_AMOUNT_RUPIAH,
    MerchantAccount,
    MerchantQr,
    QrisError,
    build_payload,
    crc16,
    parse,
)

OWN_GUI = "ID.CO.KOTACERDAS.WWW"
OTHER_GUI = "ID.CO.CONTOH.WWW"  # the fictional issuer of the synthetic vectors

# The EMVCo specification's sample, with UTF-8 in the language template 64.
EMVCO_SAMPLE = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A"
STATIC_VECTOR = "00020101021126680016ID.CO.CONTOH.WWW01189360999900000000010215PPJ0000000000010303UMI51440014ID.CO.QRIS.WWW0215ID12345678901230303UMI5204939953033605802ID5919RETRIBUSI SAMPAH PP6014PADANG PANJANG61052711462070703A0163047F8F"
DYNAMIC_VECTOR = "00020101021226680016ID.CO.CONTOH.WWW01189360999900000000010215PPJ0000000000010303UMI51440014ID.CO.QRIS.WWW0215ID12345678901230303UMI520493995303360540475005802ID5919RETRIBUSI SAMPAH PP6014PADANG PANJANG61052711462260115INV2025010001230703A016304D7F8"
VECTORS = [EMVCO_SAMPLE, STATIC_VECTOR, DYNAMIC_VECTOR]

VECTOR_MERCHANT: dict[str, Any] = {
    "gui": OTHER_GUI,
    "merchant_pan": "936099990000000001",
    "merchant_id": "PPJ000000000001",
    "criteria": "UMI",
    "nmid": "ID1234567890123",
    "mcc": "9399",
    "merchant_name": "RETRIBUSI SAMPAH PP",
    "merchant_city": "PADANG PANJANG",
    "postal_code": "27114",
    "terminal_label": "A01",
}

ERROR_CODES = {
    "not_emv",
    "too_long",
    "crc_mismatch",
    "bad_length",
    "bad_format",
    "bad_order",
    "missing_tag",
    "duplicate_tag",
    "fractional_amount",
}
INVALID_CODE_ADVICE = "Ask the merchant for a new QRIS code, or pay another way."


def with_crc(body: str) -> str:
    """Append a correct checksum object, so that a test reaches the checks behind it."""
    body += "6304"
    return body + crc16(body.encode("utf-8"))


def edited(payload: str, old: str, new: str) -> str:
    """Replace one part of a payload and give it a correct checksum again."""
    body = payload[:-8]
    assert old in body
    return with_crc(body.replace(old, new, 1))


def rejection(payload: str) -> QrisError:
    with pytest.raises(QrisError) as caught:
        parse(payload, own_gui=OWN_GUI)
    return caught.value


# Vectors ---------------------------------------------------------------------


def test_crc_check_value_matches() -> None:
    assert crc16(b"123456789") == "29B1"


@pytest.mark.parametrize(
    ("payload", "crc"),
    [(EMVCO_SAMPLE, "A13A"), (STATIC_VECTOR, "7F8F"), (DYNAMIC_VECTOR, "D7F8")],
)
def test_vector_checksums_match(payload: str, crc: str) -> None:
    assert payload.endswith("6304" + crc)
    assert crc16(payload[:-4].encode("utf-8")) == crc


def test_emvco_sample_parses() -> None:
    code = parse(EMVCO_SAMPLE, own_gui=OWN_GUI)

    assert code.dynamic is True
    assert [a.tag for a in code.merchant_accounts] == ["29", "31"]
    assert code.merchant_accounts[0].gui == "D15600000000"
    assert code.issuer_is_ours is False
    assert code.mcc == "4111"
    assert code.currency == "156"
    assert code.amount_text == "23.72"
    assert code.amount is None
    assert code.tip_indicator == "01"
    assert code.country == "CN"
    assert code.merchant_name == "BEST TRANSPORT"
    assert code.merchant_city == "BEIJING"
    assert code.store_label == "1234"
    assert code.terminal_label == "A6008667"
    assert code.language == "ZH"
    assert code.merchant_name_alternate == "最佳运输"
    assert code.merchant_city_alternate == "北京"


def test_static_vector_parses() -> None:
    code = parse(STATIC_VECTOR, own_gui=OWN_GUI)

    assert code.point_of_initiation == "11"
    assert code.dynamic is False
    assert code.merchant_accounts == (
        MerchantAccount(
            "26", OTHER_GUI, "936099990000000001", "PPJ000000000001", "UMI"
        ),
        MerchantAccount("51", "ID.CO.QRIS.WWW", None, "ID1234567890123", "UMI"),
    )
    assert code.nmid == "ID1234567890123"
    assert code.mcc == "9399"
    assert code.currency == "360"
    assert code.amount is None
    assert code.merchant_name == "RETRIBUSI SAMPAH PP"
    assert code.merchant_city == "PADANG PANJANG"
    assert code.postal_code == "27114"
    assert code.terminal_label == "A01"
    assert code.bill_number is None
    code.require_payable()


def test_dynamic_vector_parses() -> None:
    code = parse(DYNAMIC_VECTOR, own_gui=OWN_GUI)

    assert code.point_of_initiation == "12"
    assert code.dynamic is True
    assert code.amount == 7500
    assert code.amount_text == "7500"
    assert code.bill_number == "INV202501000123"
    assert code.terminal_label == "A01"


def test_builder_reproduces_both_vectors() -> None:
    assert build_payload(**VECTOR_MERCHANT) == STATIC_VECTOR
    assert (
        build_payload(**VECTOR_MERCHANT, amount=7500, bill_number="INV202501000123")
        == DYNAMIC_VECTOR
    )


# Issuers and payability -------------------------------------------------------


def test_other_issuer_reported_external() -> None:
    code = parse(DYNAMIC_VECTOR, own_gui=OWN_GUI)

    assert code.issuer_is_ours is False
    assert code.own_account is None
    assert code.amount == 7500


def test_own_issuer_found_by_gui() -> None:
    code = parse(DYNAMIC_VECTOR, own_gui=OTHER_GUI.lower())

    assert code.issuer_is_ours is True
    assert code.own_account is not None
    assert code.own_account.tag == "26"
    assert code.own_account.merchant_id == "PPJ000000000001"


def test_foreign_currency_parsed_but_unpayable() -> None:
    code = parse(edited(DYNAMIC_VECTOR, "5303360", "5303840"), own_gui=OWN_GUI)

    assert code.currency == "840"
    assert code.currency_is_idr is False
    assert code.amount_text == "7500"
    assert code.amount is None
    with pytest.raises(QrisError) as caught:
        code.require_payable()
    assert caught.value.code == "not_idr"
    assert caught.value.tag == "53"
    assert caught.value.message == (
        "This QR code asks for payment in another currency (ISO 4217 code 840). The wallet pays in rupiah only, so pay this merchant another way."
    )


def test_fractional_rupiah_rejected() -> None:
    error = rejection(edited(DYNAMIC_VECTOR, "54047500", "54077500.50"))

    assert error.code == "fractional_amount"
    assert error.tag == "54"
    assert error.message == (
        "The amount 7500.50 in this QR code includes a fraction of a rupiah. The wallet pays whole rupiah only, so ask the merchant for a new QR code."
    )


@pytest.mark.parametrize(
    ("written", "rupiah"), [("7500.00", 7500), ("7500.", 7500), ("07500", 7500)]
)
def test_whole_rupiah_amount_forms_accepted(written: str, rupiah: int) -> None:
    new = f"54{len(written):02d}{written}"
    code = parse(edited(DYNAMIC_VECTOR, "54047500", new), own_gui=OWN_GUI)

    assert code.amount == rupiah
    assert code.amount_text == written


def test_fixed_convenience_fee_read() -> None:
    payload = edited(DYNAMIC_VECTOR, "5802ID", "550202560410005802ID")

    code = parse(payload, own_gui=OWN_GUI)

    assert code.tip_indicator == "02"
    assert code.fee_fixed == 1000
    assert code.fee_fixed_text == "1000"


def test_percentage_convenience_fee_read() -> None:
    payload = edited(DYNAMIC_VECTOR, "5802ID", "550203570412.55802ID")

    code = parse(payload, own_gui=OWN_GUI)

    assert code.tip_indicator == "03"
    assert code.fee_percentage == "12.5"
    assert code.fee_fixed is None


def test_point_of_initiation_may_be_absent() -> None:
    code = parse(edited(STATIC_VECTOR, "010211", ""), own_gui=OWN_GUI)

    assert code.point_of_initiation is None
    assert code.dynamic is False


def test_surrounding_whitespace_ignored() -> None:
    code = parse(f"  {STATIC_VECTOR}\r\n", own_gui=OWN_GUI)

    assert code.merchant_name == "RETRIBUSI SAMPAH PP"


# Rejected codes --------------------------------------------------------------


def test_non_hex_checksum_rejected() -> None:
    error = rejection(STATIC_VECTOR[:-4] + "M2B3")

    assert error.code == "crc_mismatch"
    assert error.tag == "63"
    assert error.message == (
        "The QR code is damaged or incomplete (checksum mismatch). Ask the merchant to show it again."
    )


def test_tampered_amount_fails_checksum() -> None:
    tampered = DYNAMIC_VECTOR.replace("54047500", "54041500")

    error = rejection(tampered)

    assert error.code == "crc_mismatch"


@given(
    index=st.integers(min_value=4, max_value=len(STATIC_VECTOR) - 9),
    replacement=st.sampled_from(string.digits + string.ascii_letters + " .-*"),
)
def test_any_changed_character_fails_checksum(index: int, replacement: str) -> None:
    # A CRC-16 detects every error burst of up to 16 bits, so one changed
    # ASCII character is always caught.
    original = STATIC_VECTOR[index]
    tampered = STATIC_VECTOR[:index] + replacement + STATIC_VECTOR[index + 1 :]

    if replacement == original:
        assert parse(tampered, own_gui=OWN_GUI).merchant_name == "RETRIBUSI SAMPAH PP"
    else:
        assert rejection(tampered).code == "crc_mismatch"


def test_missing_checksum_rejected() -> None:
    error = rejection(STATIC_VECTOR[:-8])

    assert error.code == "missing_tag"
    assert error.tag == "63"
    assert error.message == (
        f"The QR code is not a valid QRIS code: the checksum (tag 63) is missing. {INVALID_CODE_ADVICE}"
    )


@pytest.mark.parametrize(
    ("old", "new", "tag"),
    [
        ("5919RETRIBUSI", "59x9RETRIBUSI", "59"),  # length is not two digits
        ("62070703A01", "62070704A01", "62.07"),  # sub-object runs past its template
        ("0303UMI51", "0304UMI51", "26.03"),  # sub-object runs past its template
        ("6105", "6100", "61"),  # EMVCo lengths run from 01 to 99
    ],
)
def test_bad_length_field_rejected(old: str, new: str, tag: str) -> None:
    error = rejection(edited(STATIC_VECTOR, old, new))

    assert error.code == "bad_length"
    assert error.tag == tag
    assert "does not match its value" in error.message
    assert f"(tag {tag})" in error.message


def test_overlong_merchant_name_rejected() -> None:
    long_name = "RETRIBUSI SAMPAH PADANG PJ"  # 26 characters
    error = rejection(
        edited(STATIC_VECTOR, "5919RETRIBUSI SAMPAH PP", f"5926{long_name}")
    )

    assert error.code == "bad_length"
    assert error.tag == "59"
    assert error.message == (
        f"The QR code is not a valid QRIS code: the merchant name (tag 59) is longer than 25 characters. {INVALID_CODE_ADVICE}"
    )


def test_template_swallowing_checksum_rejected() -> None:
    # Template 62 claims the checksum object as its own content, so the
    # payload no longer ends with tag 63.
    error = rejection(edited(STATIC_VECTOR, "62070703A01", "62150703A01"))

    assert error.code == "bad_order"
    assert error.tag == "63"


@pytest.mark.parametrize(
    ("old", "tag", "field"),
    [
        ("5303360", "53", "the currency"),
        ("5919RETRIBUSI SAMPAH PP", "59", "the merchant name"),
        ("6014PADANG PANJANG", "60", "the merchant city"),
        ("52049399", "52", "the merchant category code"),
        ("5802ID", "58", "the country code"),
    ],
)
def test_missing_required_tag_rejected(old: str, tag: str, field: str) -> None:
    error = rejection(edited(STATIC_VECTOR, old, ""))

    assert error.code == "missing_tag"
    assert error.tag == tag
    assert error.message == (
        f"The QR code is not a valid QRIS code: {field} (tag {tag}) is missing. {INVALID_CODE_ADVICE}"
    )


def test_missing_merchant_account_rejected() -> None:
    body = STATIC_VECTOR[:-8]
    without_accounts = re.sub(r"26680016.*?0303UMI51440014.*?0303UMI", "", body)
    assert "ID.CO" not in without_accounts

    error = rejection(with_crc(without_accounts))

    assert error.code == "missing_tag"
    assert error.tag == "26"


def test_account_template_without_gui_rejected() -> None:
    error = rejection(edited(STATIC_VECTOR, "26680016ID.CO.CONTOH.WWW", "2648"))

    assert error.code == "missing_tag"
    assert error.tag == "26.00"


def test_payload_format_not_first_rejected() -> None:
    error = rejection(edited(STATIC_VECTOR, "000201010211", "010211000201"))

    assert error.code == "bad_order"
    assert error.tag == "00"
    assert error.message == (
        f"The QR code is not a valid QRIS code: it must start with tag 00 and end with the checksum, tag 63. {INVALID_CODE_ADVICE}"
    )


def test_duplicate_tag_rejected() -> None:
    error = rejection(edited(DYNAMIC_VECTOR, "54047500", "5404750054041500"))

    assert error.code == "duplicate_tag"
    assert error.tag == "54"
    assert "the amount (tag 54) appears twice" in error.message


@pytest.mark.parametrize(
    ("old", "new", "tag"),
    [
        ("000201", "000202", "00"),
        ("010212", "010213", "01"),
        ("52049399", "520493A9", "52"),
        ("5303360", "5303ID3", "53"),
        ("54047500", "54057,500", "54"),
        ("54047500", "54010", "54"),
        ("5802ID", "5802I1", "58"),
        ("5802ID", "5502045802ID", "55"),
        ("5802ID", "55020357031015802ID", "57"),
    ],
)
def test_bad_value_rejected(old: str, new: str, tag: str) -> None:
    error = rejection(edited(DYNAMIC_VECTOR, old, new))

    assert error.code == "bad_format"
    assert error.tag == tag
    assert f"(tag {tag}) has an invalid value" in error.message


@pytest.mark.parametrize(("indicator", "tag"), [("02", "56"), ("03", "57")])
def test_fee_without_its_value_rejected(indicator: str, tag: str) -> None:
    error = rejection(edited(DYNAMIC_VECTOR, "5802ID", f"5502{indicator}5802ID"))

    assert error.code == "missing_tag"
    assert error.tag == tag


def test_bidirectional_override_rejected() -> None:
    payload = edited(
        STATIC_VECTOR, "5919RETRIBUSI SAMPAH PP", "5919RETRIBUSI SAMPAH \u202ePP"
    )

    error = rejection(payload)

    assert error.code == "bad_format"
    assert "control or invisible characters" in error.message


@pytest.mark.parametrize(
    "text", ["https://example.org/pay", "PPJ-B-7F3K9Q-C", "", "   "]
)
def test_other_qr_text_not_emv(text: str) -> None:
    error = rejection(text)

    assert error.code == "not_emv"
    assert error.message == (
        "This QR code is not a QRIS payment code. Scan the QRIS code the merchant shows."
    )


def test_overlong_payload_rejected() -> None:
    error = rejection(STATIC_VECTOR[:-8] + "9999" * 100 + STATIC_VECTOR[-8:])

    assert error.code == "too_long"
    assert "more than the 512 allowed in a QRIS code" in error.message


@st.composite
def damaged_payloads(draw: st.DrawFn) -> str:
    """A vector with a few parts replaced, re-signed so the CRC check passes."""
    body = draw(st.sampled_from(VECTORS))[:-8]
    pieces = st.text(alphabet=string.digits, max_size=4) | st.text(max_size=6)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        start = draw(st.integers(min_value=0, max_value=len(body)))
        end = draw(st.integers(min_value=start, max_value=min(len(body), start + 8)))
        body = body[:start] + draw(pieces) + body[end:]
    return with_crc(body)


@given(st.text(max_size=600) | damaged_payloads())
def test_parser_raises_only_qris_errors(text: str) -> None:
    try:
        code = parse(text, own_gui=OWN_GUI)
    except QrisError as error:
        assert error.code in ERROR_CODES
        assert "%(" not in error.message
    else:
        assert isinstance(code, MerchantQr)


# Building --------------------------------------------------------------------

names = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"], max_codepoint=0xFFFF),
    min_size=1,
    max_size=40,
).filter(lambda name: name.strip())
labels = st.text(
    alphabet=string.ascii_uppercase + string.digits + "-/", min_size=1, max_size=25
)


def display_form(text: str, max_chars: int) -> str:
    return " ".join(text.split())[:max_chars].rstrip()


@given(
    name=names,
    city=names,
    merchant_id=st.from_regex(r"88[0-9]{10}", fullmatch=True),
    amount=st.none() | st.integers(min_value=1, max_value=MAX_AMOUNT_RUPIAH),
    bill_number=st.none() | labels,
    terminal_label=st.none() | labels,
    postal_code=st.none() | st.from_regex(r"[0-9]{5}", fullmatch=True),
    nmid=st.none() | st.from_regex(r"ID[0-9]{13}", fullmatch=True),
)
def test_built_payload_parses_back(
    name: str,
    city: str,
    merchant_id: str,
    amount: int | None,
    bill_number: str | None,
    terminal_label: str | None,
    postal_code: str | None,
    nmid: str | None,
) -> None:
    payload = build_payload(
        gui=OWN_GUI,
        merchant_id=merchant_id,
        merchant_name=name,
        merchant_city=city,
        mcc="5499",
        criteria="UMI",
        nmid=nmid,
        postal_code=postal_code,
        amount=amount,
        bill_number=bill_number,
        terminal_label=terminal_label,
    )

    code = parse(payload, own_gui=OWN_GUI)

    assert code.own_account == MerchantAccount("26", OWN_GUI, None, merchant_id, "UMI")
    assert code.merchant_name == display_form(name, 25)
    assert code.merchant_city == display_form(city, 15)
    assert code.amount == amount
    assert code.dynamic is (amount is not None)
    assert code.bill_number == bill_number
    assert code.terminal_label == terminal_label
    assert code.postal_code == postal_code
    assert code.nmid == nmid
    assert code.mcc == "5499"
    assert code.currency == "360"
    assert code.country == "ID"


def test_long_merchant_name_shortened() -> None:
    payload = build_payload(
        **{**VECTOR_MERCHANT, "merchant_name": "Bank Sampah  Kelurahan Pasar Usang"}
    )

    assert parse(payload, own_gui=OWN_GUI).merchant_name == "Bank Sampah Kelurahan Pas"


@pytest.mark.parametrize(
    ("changes", "code", "tag", "message"),
    [
        (
            {"merchant_name": "  "},
            "missing_tag",
            "59",
            "The merchant name (tag 59) is empty. Fill it in.",
        ),
        (
            {"merchant_name": "Warung 🍜"},
            "bad_format",
            "59",
            "The merchant name contains a character that QR readers count differently, such as an emoji. Remove it.",
        ),
        (
            {"bill_number": "B" * 26},
            "bad_length",
            "62.01",
            "The bill number (tag 62.01) is longer than 25 characters. Shorten it.",
        ),
        (
            {"terminal_label": "A\n01"},
            "bad_format",
            "62.07",
            "The terminal label (tag 62.07) may contain only printable characters on one line. Correct it.",
        ),
        (
            {"mcc": "93"},
            "bad_format",
            "52",
            "The merchant category code must be 4 digits, such as 9399.",
        ),
        (
            {"amount": 0},
            "bad_format",
            "54",
            f"The amount must be a whole number of rupiah from 1 to {MAX_AMOUNT_RUPIAH}.",
        ),
        (
            {"merchant_id": ""},
            "missing_tag",
            "26.02",
            "The merchant account information (tag 26.02) is empty. Fill it in.",
        ),
        (
            {"gui": "ID.CO." + "X" * 30},
            "bad_length",
            "26.00",
            "The merchant account information (tag 26.00) is longer than 32 characters. Shorten it.",
        ),
        (
            {"country": "IDN"},
            "bad_format",
            "58",
            "The country code must be two letters, such as ID.",
        ),
    ],
)
def test_builder_rejects_bad_value(
    changes: dict, code: str, tag: str, message: str
) -> None:
    with pytest.raises(QrisError) as caught:
        build_payload(**{**VECTOR_MERCHANT, **changes})

    assert caught.value.code == code
    assert caught.value.tag == tag
    assert caught.value.message == message


@pytest.mark.parametrize("amount", [-1, MAX_AMOUNT_RUPIAH + 1, True, 7500.0])
def test_builder_rejects_non_rupiah_amount(amount: object) -> None:
    with pytest.raises(QrisError) as caught:
        build_payload(**VECTOR_MERCHANT, amount=amount)  # type: ignore[arg-type]

    assert caught.value.code == "bad_format"
    assert caught.value.tag == "54"


# Images ----------------------------------------------------------------------


def decode(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    return results[0].text


def rasterize_svg(svg: str, pixels_per_module: int = 6) -> Image.Image:
    """Draw the rectangles of render_svg's path, the only shapes it emits."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg)[1])  # type: ignore[index]
    image = Image.new("L", (size * pixels_per_module,) * 2, 255)
    draw = ImageDraw.Draw(image)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", svg):
        left, top = int(x) * pixels_per_module, int(y) * pixels_per_module
        right = left + int(width) * pixels_per_module - 1
        draw.rectangle((left, top, right, top + pixels_per_module - 1), fill=0)
    return image


@pytest.mark.parametrize("error_correction", ["M", "Q"])
def test_png_decodes_to_payload(error_correction: str) -> None:
    png = qr_image.render_png(DYNAMIC_VECTOR, error_correction=error_correction)

    image = Image.open(io.BytesIO(png))

    assert image.format == "PNG"
    assert decode(image) == DYNAMIC_VECTOR


def test_png_keeps_non_ascii_payload() -> None:
    payload = build_payload(**{**VECTOR_MERCHANT, "merchant_name": "Kedai Ñandú 最佳"})

    png = qr_image.render_png(payload)

    assert decode(Image.open(io.BytesIO(png))) == payload
    assert parse(
        decode(Image.open(io.BytesIO(png))), own_gui=OWN_GUI
    ).merchant_name == ("Kedai Ñandú 最佳")


def test_png_has_quiet_zone_and_scale() -> None:
    modules = qr_image.qr_modules(STATIC_VECTOR)

    image = Image.open(
        io.BytesIO(qr_image.render_png(STATIC_VECTOR, pixels_per_module=5))
    )

    assert image.width == (modules.width + 8) * 5
    assert image.crop((0, 0, image.width, 4 * 5)).getextrema() == (255, 255)


def test_svg_decodes_to_payload() -> None:
    svg = qr_image.render_svg(EMVCO_SAMPLE, title="Pay <Toko & Co>")

    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox=')
    assert "<title>Pay &lt;Toko &amp; Co&gt;</title>" in svg
    assert decode(rasterize_svg(svg)) == EMVCO_SAMPLE


def test_svg_default_title_translated() -> None:
    assert "<title>QR code for payment</title>" in qr_image.render_svg(STATIC_VECTOR)


def test_unknown_error_correction_rejected() -> None:
    with pytest.raises(ValueError, match="error correction 'X' is invalid"):
        qr_image.render_png(STATIC_VECTOR, error_correction="X")
