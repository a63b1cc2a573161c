"""SNAP B2B access tokens: one recipe, as NICEPAY, Finpay, DOKU, any SNAP bank and the SNAP presets run it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import Family
from .recipe import DOKU_SNAP, FINPAY_SNAP, GENERIC_SNAP, NICEPAY, PRESETS, SnapProvider

if TYPE_CHECKING:
    from ..base import Forensics
    from ..emulation import Gateway
    from ..notification import NotificationRecipe


def _emulator(provider: SnapProvider) -> Gateway:
    from .emulator import SnapGateway

    return SnapGateway(provider)


def _forensics(provider: SnapProvider) -> Forensics:
    from .forensics import SnapForensics

    return SnapForensics(provider)


def _notification(provider: SnapProvider) -> NotificationRecipe | None:
    from .notification import NICEPAY_NOTIFICATION, SnapNotification

    if provider.name == "nicepay":
        return NICEPAY_NOTIFICATION
    if provider.name == "snap":
        return SnapNotification("snap", "gateway_public_key_file", "/v1.0/transfer-va/payment")
    if provider.name == "doku-snap":
        # DOKU's sample notification path (developers.doku.com, HTTP Notification Sample for SNAP).
        return SnapNotification("doku-snap", "gateway_public_key_file", "/v1/transfer-va/payment", symmetric_too=True)
    return None  # finpay-snap: its notification recipe is not documented


FAMILY = Family(
    providers=(NICEPAY, FINPAY_SNAP, DOKU_SNAP, GENERIC_SNAP, *PRESETS),
    emulator=_emulator,
    forensics=_forensics,
    private_key=SnapProvider.private_key,
    notification=_notification,
)
