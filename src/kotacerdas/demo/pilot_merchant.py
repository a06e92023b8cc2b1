"""Place the demo merchant in the demo pilot, so its shop runs where the pilot runs.

A merchant has no registered residence, so the service switch finds a
merchant's area from the user's kelurahan (`pilot.areas.of_user`). Without
one, a Wallet scoped to pilot areas would lock the demo merchant out.
"""

import logging

from kotacerdas.accounts.models import User
from kotacerdas.city.models import Area
from kotacerdas.demo.pilot import PILOT_SLUG
from kotacerdas.demo.wallets import MERCHANT_USERNAME
from kotacerdas.pilot.models import PilotArea

logger = logging.getLogger(__name__)


def place_demo_merchant() -> str | None:
    """Give the demo merchant the pilot's first whole kelurahan; return its code.

    Leaves a merchant that already has a kelurahan as it is, and returns
    None when the demo merchant or the demo pilot does not exist.
    """
    user = User.objects.filter(username=MERCHANT_USERNAME).first()
    if user is None:
        return None
    if user.kelurahan_id is not None:
        return user.kelurahan.code  # type: ignore[union-attr]
    code = (
        # A whole kelurahan, because a user's kelurahan has no RW or RT.
        PilotArea.objects.filter(pilot__slug=PILOT_SLUG, rw="")
        .order_by("kelurahan_code")
        .values_list("kelurahan_code", flat=True)
        .first()
    )
    if code is None:
        return None
    user.kelurahan = Area.objects.get(code=code)
    user.save(update_fields=["kelurahan"])
    logger.info(
        "placed the demo merchant in the pilot",
        extra={"user_id": user.pk, "kelurahan": code},
    )
    return code
