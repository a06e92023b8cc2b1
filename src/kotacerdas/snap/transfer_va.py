"""Virtual-account inquiry and payment: a bank tops up a wallet.

The VA number is the partner's 8-character `partnerServiceId` followed by the
wallet number as `customerNo`. The inquiry returns whose wallet it is (the
holder's name masked). The payment credits the wallet once per
(partnerServiceId, customerNo, paymentRequestId), and every retry of it gets
the first response again.
"""

import base64
import hashlib
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kotacerdas.snap import codes, payloads
from kotacerdas.snap.codes import SnapError
from kotacerdas.snap.models import SnapPartner, SnapPayment, SnapRequest
from kotacerdas.wallet import display
from kotacerdas.wallet import policy as wallet_policy
from kotacerdas.wallet import services as wallet
from kotacerdas.wallet.models import Account, AccountStatus, TransferKind

logger = logging.getLogger(__name__)

# Account kinds a bank may top up: the ones a top-up transfer may credit.
TOP_UP_KINDS = wallet_policy.PATHS[TransferKind.TOPUP][1]
PAID = "00"
NOT_PAID = "01"

SUCCESS = _("Success")
REASONS = {
    codes.INVALID_VA: _("Virtual account not found"),
    codes.BLOCKED_VA: _("Wallet is frozen or closed"),
    codes.INVALID_AMOUNT: _("Amount must be whole rupiah above zero"),
    codes.INCONSISTENT_REQUEST: _(
        "This payment request ID was already used with another amount"
    ),
}
# Wallet rejections that a bank gets as "Invalid Amount", with the reason it
# can show the payer. The wallet's own messages name the balance, which the
# bank must not learn, so these are shorter.
AMOUNT_REJECTIONS = {
    "exceeds_balance_cap": _("Top-up would exceed the wallet's balance limit"),
    "exceeds_monthly_cap": _("Top-up would exceed the wallet's monthly limit"),
    "invalid_amount": REASONS[codes.INVALID_AMOUNT],
}


def _both_languages(message: Any) -> dict[str, str]:
    with translation.override("en"):
        english = str(message)
    with translation.override("id"):
        indonesian = str(message)
    return {"english": english, "indonesia": indonesian}


def transfer_id(
    partner: SnapPartner, va: payloads.VirtualAccount, request_id: str
) -> str:
    """Derive the wallet transfer id of a VA payment, the same on every retry.

    Base32 keeps long digit runs out of the id, which the wallet would take
    for a NIK.
    """
    key = "\n".join(
        [partner.partner_id, va.partner_service_id, va.customer_no, request_id]
    )
    digest = base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()
    return "snapva:" + digest[:40].lower()


def _account_data(va: payloads.VirtualAccount) -> dict[str, Any]:
    return {
        "partnerServiceId": va.partner_service_id,
        "customerNo": va.customer_no,
        "virtualAccountNo": va.virtual_account_no,
    }


def _rejection(case: int, message: str, data: dict[str, Any], reason: Any) -> SnapError:
    return SnapError(404, case, message, {"virtualAccountData": data | reason})


class _Refused(Exception):
    """A wallet that cannot take a top-up: a SNAP case code and its reason."""

    def __init__(self, case: int, message: str) -> None:
        super().__init__(message)
        self.case = case
        self.message = message

    def error(
        self, data: dict[str, Any], status_key: str, reason_key: str
    ) -> SnapError:
        return _rejection(
            self.case,
            self.message,
            data,
            {status_key: NOT_PAID, reason_key: _both_languages(REASONS[self.case])},
        )


def _check_service_id(partner: SnapPartner, va: payloads.VirtualAccount) -> None:
    """Raise _Refused unless the VA number starts with this partner's prefix.

    Checked before anything is looked up, so one bank cannot read another
    bank's payments by sending its partnerServiceId.
    """
    if va.partner_service_id != partner.partner_service_id:
        raise _Refused(codes.INVALID_VA, "Invalid Virtual Account")


def _wallet_for(va: payloads.VirtualAccount) -> Account:
    """Return the wallet a VA number names; raise _Refused if it cannot be paid."""
    account = wallet.find_account(va.customer_no)
    if account is None or account.kind not in TOP_UP_KINDS:
        raise _Refused(codes.INVALID_VA, "Invalid Virtual Account")
    if account.status != AccountStatus.ACTIVE:
        raise _Refused(codes.BLOCKED_VA, "Invalid Bill/Virtual Account Blocked")
    return account


def inquire(partner: SnapPartner, body: dict[str, Any]) -> dict[str, Any]:
    """Return the masked holder name of the wallet a VA number names.

    Writes nothing, so an inquiry can be repeated freely.
    """
    inquiry = payloads.parse_inquiry(body)
    data = _account_data(inquiry.account) | {
        "inquiryRequestId": inquiry.inquiry_request_id
    }
    try:
        _check_service_id(partner, inquiry.account)
        account = _wallet_for(inquiry.account)
    except _Refused as refused:
        raise refused.error(data, "inquiryStatus", "inquiryReason") from None
    data |= {
        "inquiryStatus": PAID,
        "inquiryReason": _both_languages(SUCCESS),
        "virtualAccountName": display.payee_name(account),
        # An open-amount VA: the payer chooses the top-up amount.
        "virtualAccountTrxType": "O",
        "totalAmount": inquiry.amount or payloads.format_rupiah(0),
        "billDetails": [],
        "freeTexts": [],
    }
    return {"virtualAccountData": data, "additionalInfo": {}}


def _payment_data(payment: payloads.Payment) -> dict[str, Any]:
    data = _account_data(payment.account) | {
        "paymentRequestId": payment.payment_request_id,
        "paidAmount": payment.paid_amount,
        "totalAmount": payment.total_amount or payment.paid_amount,
        "flagAdvise": payment.flag_advise,
    }
    if payment.trx_date_time is not None:
        data["trxDateTime"] = payment.trx_date_time
    if payment.reference_no is not None:
        data["referenceNo"] = payment.reference_no
    return data


def _not_paid(case: int, message: str, data: dict[str, Any], reason: Any) -> SnapError:
    return _rejection(
        case,
        message,
        data,
        {"paymentFlagStatus": NOT_PAID, "paymentFlagReason": _both_languages(reason)},
    )


def _replay(stored: SnapPayment, amount: int | None) -> dict[str, Any]:
    """Return the first response to a payment, or reject a changed amount."""
    if amount != stored.amount:
        data = stored.response_body["virtualAccountData"]
        raise _not_paid(
            codes.INCONSISTENT_REQUEST,
            "Inconsistent Request",
            {
                key: data[key]
                for key in (
                    "partnerServiceId",
                    "customerNo",
                    "virtualAccountNo",
                    "paymentRequestId",
                )
            },
            REASONS[codes.INCONSISTENT_REQUEST],
        )
    body = dict(stored.response_body)
    account = wallet.find_account(stored.customer_no)
    name = display.payee_name(account) if account else ""
    body["virtualAccountData"] = {
        **body["virtualAccountData"],
        "virtualAccountName": name,
    }
    return body


def _stored_payment(va: payloads.VirtualAccount, request_id: str) -> SnapPayment | None:
    return SnapPayment.objects.filter(
        partner_service_id=va.partner_service_id,
        customer_no=va.customer_no,
        payment_request_id=request_id,
    ).first()


def pay(partner: SnapPartner, body: dict[str, Any], log: SnapRequest) -> dict[str, Any]:
    """Credit a wallet for a VA payment, once per payment request ID.

    Raises SnapError for a malformed body, an unknown or blocked wallet, an
    amount with sen, or an amount the wallet's limits reject. A request ID
    already paid with another amount gets case 18, which the SNAP standard
    defines as success for a VA payment. Records the payment in SnapPayment in the same
    transaction as the credit.
    """
    payment = payloads.parse_payment(body)
    va = payment.account
    amount = payloads.whole_rupiah(payment.paid_amount)
    data = _payment_data(payment)
    try:
        _check_service_id(partner, va)
        # A retry gets the first response even if the wallet was frozen since.
        stored = _stored_payment(va, payment.payment_request_id)
        if stored is not None:
            return _replay(stored, amount)
        account = _wallet_for(va)
    except _Refused as refused:
        raise refused.error(data, "paymentFlagStatus", "paymentFlagReason") from None
    if amount is None:
        raise _not_paid(
            codes.INVALID_AMOUNT, "Invalid Amount", data, REASONS[codes.INVALID_AMOUNT]
        )
    try:
        with transaction.atomic():
            return _credit(partner, payment, account, amount, data, log)
    except IntegrityError:
        # A copy of this payment committed first, so its response is returned.
        stored = _stored_payment(va, payment.payment_request_id)
        if stored is None:
            raise
        return _replay(stored, amount)


def _credit(
    partner: SnapPartner,
    payment: payloads.Payment,
    account: Account,
    amount: int,
    data: dict[str, Any],
    log: SnapRequest,
) -> dict[str, Any]:
    va = payment.account
    try:
        transfer = wallet.top_up(
            account.number,
            amount,
            transfer_id=transfer_id(partner, va, payment.payment_request_id),
            channel="bank_va",
            memo=f"SNAP VA {partner.partner_service_id.strip()}",
            actor=f"snap:{partner.partner_id}",
        )
    except wallet.TransferRejected as error:
        raise _wallet_rejection(error, data) from None

    data = data | {
        "paymentFlagStatus": PAID,
        "paymentFlagReason": _both_languages(SUCCESS),
        "billDetails": [],
        "freeTexts": [],
    }
    response = {
        "virtualAccountData": data,
        "additionalInfo": {"transferReference": transfer.reference},
    }
    SnapPayment.objects.create(
        partner=partner,
        partner_service_id=va.partner_service_id,
        customer_no=va.customer_no,
        payment_request_id=payment.payment_request_id,
        amount=amount,
        transfer_id=transfer.client_id,
        transfer_reference=transfer.reference,
        response_body=response,
        request=log,
    )
    log.transfer_reference = transfer.reference
    logger.info(
        "SNAP VA payment credited partner=%s transfer=%s",
        partner.partner_id,
        transfer.reference,
    )
    return response | {
        "virtualAccountData": data | {"virtualAccountName": display.payee_name(account)}
    }


def _wallet_rejection(
    error: wallet.TransferRejected, data: dict[str, Any]
) -> SnapError:
    if error.code in AMOUNT_REJECTIONS:
        return _not_paid(
            codes.INVALID_AMOUNT,
            f"Invalid Amount. {_both_languages(AMOUNT_REJECTIONS[error.code])['english']}",
            data,
            AMOUNT_REJECTIONS[error.code],
        )
    if error.code == "id_conflict":
        return _not_paid(
            codes.INCONSISTENT_REQUEST,
            "Inconsistent Request",
            data,
            REASONS[codes.INCONSISTENT_REQUEST],
        )
    if error.code in ("account_not_found", "flow_not_allowed"):
        return _not_paid(
            codes.INVALID_VA, "Invalid Virtual Account", data, REASONS[codes.INVALID_VA]
        )
    if error.code == "account_not_active":
        return _not_paid(
            codes.BLOCKED_VA,
            "Invalid Bill/Virtual Account Blocked",
            data,
            REASONS[codes.BLOCKED_VA],
        )
    logger.error(
        "SNAP VA payment to %s rejected by the wallet: %s",
        data["customerNo"],
        error.code,
    )
    return codes.general_error()
