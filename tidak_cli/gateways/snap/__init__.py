"""SNAP B2B access tokens: one recipe, as NICEPAY, Finpay, DOKU, any SNAP bank and the SNAP presets run it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import Family
from .recipe import DOKU_SNAP, FINPAY_SNAP, GENERIC_SNAP, NICEPAY, PRESETS, SnapProvider

if TYPE_CHECKING:
    from ..base import Forensics
    from ..emulation import Gateway


def _emulator(provider: SnapProvider) -> Gateway:
    from .emulator import SnapGateway

    return SnapGateway(provider)


def _forensics(provider: SnapProvider) -> Forensics:
    from .forensics import SnapForensics

    return SnapForensics(provider)


FAMILY = Family(
    providers=(NICEPAY, FINPAY_SNAP, DOKU_SNAP, GENERIC_SNAP, *PRESETS),
    emulator=_emulator,
    forensics=_forensics,
    private_key=SnapProvider.private_key,
)
