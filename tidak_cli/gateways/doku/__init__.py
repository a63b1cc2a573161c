"""DOKU's partner API token (non-SNAP): HMAC over five header lines, one the body's digest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import Family
from .recipe import DOKU, DokuProvider

if TYPE_CHECKING:
    from ..base import Forensics
    from ..emulation import Gateway
    from ..notification import NotificationRecipe


def _emulator(provider: DokuProvider) -> Gateway:
    from .emulator import DokuGateway

    return DokuGateway(provider)


def _forensics(provider: DokuProvider) -> Forensics:
    from .forensics import DokuForensics

    return DokuForensics(provider)


def _notification(_provider: DokuProvider) -> NotificationRecipe:
    from .notification import DOKU_NOTIFICATION

    return DOKU_NOTIFICATION


FAMILY = Family(providers=(DOKU,), emulator=_emulator, forensics=_forensics, notification=_notification)
