"""The 6-digit payment PIN: hashed like a password, locked after wrong tries.

The number of tries and the lock time come from the city profile's `[wallet]`
table. Call `check_pin` before opening the payment's transaction, so that a
wrong try is committed on its own and counts even though the payment fails.
"""

import logging
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kotacerdas.wallet.models import PaymentPin
from kotacerdas.wallet.policy import current_policy

logger = logging.getLogger(__name__)

PIN_LENGTH = 6
# PINs a person picks without thinking; they are rejected when set.
WEAK_PINS = {"000000", "111111", "123456", "654321", "123123", "121212"}


class PinError(Exception):
    """A PIN was missing, wrong, locked or too weak; `message` is for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def has_pin(user) -> bool:
    return PaymentPin.objects.filter(user=user).exists()


def set_pin(user, pin: str) -> None:
    """Set or replace a user's PIN after checking its form."""
    if not (
        isinstance(pin, str)
        and pin.isascii()
        and pin.isdigit()
        and len(pin) == PIN_LENGTH
    ):
        raise PinError("invalid_pin", _("The PIN must be exactly 6 digits."))
    if pin in WEAK_PINS or len(set(pin)) == 1:
        raise PinError(
            "weak_pin",
            _(
                "This PIN is too easy to guess. Choose 6 digits that are not a simple pattern."
            ),
        )
    PaymentPin.objects.update_or_create(
        user=user,
        defaults={
            "pin_hash": make_password(pin),
            "failed_attempts": 0,
            "locked_until": None,
        },
    )
    logger.info("payment PIN set for user %s", user.pk)


def check_pin(user, pin: str) -> None:
    """Raise PinError unless `pin` is the user's PIN and it is not locked."""
    policy = current_policy()
    now = timezone.now()
    with transaction.atomic():
        record = PaymentPin.objects.select_for_update().filter(user=user).first()
        if record is None:
            raise PinError("no_pin", _("Set a payment PIN first, on your wallet page."))
        if record.locked_until and record.locked_until > now:
            raise PinError(
                "pin_locked",
                _(
                    "The PIN is locked after too many wrong tries, until %(time)s. "
                    "Try again then."
                )
                % {"time": _until(record.locked_until)},
            )
        if check_password(pin or "", record.pin_hash):
            if record.failed_attempts or record.locked_until:
                record.failed_attempts = 0
                record.locked_until = None
                record.save(update_fields=["failed_attempts", "locked_until"])
            return
        record.failed_attempts += 1
        left = policy.pin_max_attempts - record.failed_attempts
        if left <= 0:
            record.failed_attempts = 0
            record.locked_until = now + timedelta(minutes=policy.pin_lock_minutes)
            record.save(update_fields=["failed_attempts", "locked_until"])
            logger.warning("payment PIN locked for user %s", user.pk)
            error = PinError(
                "pin_locked",
                _("Wrong PIN. The PIN is now locked until %(time)s.")
                % {"time": _until(record.locked_until)},
            )
        else:
            record.save(update_fields=["failed_attempts"])
            error = PinError(
                "wrong_pin",
                ngettext(
                    "Wrong PIN. %(left)d try left before the PIN locks.",
                    "Wrong PIN. %(left)d tries left before the PIN locks.",
                    left,
                )
                % {"left": left},
            )
    raise error


def _until(moment: datetime) -> str:
    """Format a lock's end in the city's time zone, with the date if not today."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return formats.time_format(local, "H:i")
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")
