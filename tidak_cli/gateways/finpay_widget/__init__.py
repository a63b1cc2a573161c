"""Finpay Money widget getToken: HMAC over the sorted field values, keyed with the secret's hex text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import Family
from .recipe import FINPAY_WIDGET, FinpayWidgetProvider

if TYPE_CHECKING:
    from ..base import Forensics
    from ..emulation import Gateway


def _emulator(provider: FinpayWidgetProvider) -> Gateway:
    from .emulator import FinpayGateway

    return FinpayGateway(provider)


def _forensics(provider: FinpayWidgetProvider) -> Forensics:
    from .forensics import FinpayForensics

    return FinpayForensics(provider)


FAMILY = Family(providers=(FINPAY_WIDGET,), emulator=_emulator, forensics=_forensics)
