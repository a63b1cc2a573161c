"""Faspay SendMe access token: AES-256-CBC with a key and IV derived from faspay_secret."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import Family
from .recipe import FASPAY_SENDME, FaspaySendMeProvider

if TYPE_CHECKING:
    from ..base import Forensics
    from ..emulation import Gateway


def _emulator(provider: FaspaySendMeProvider) -> Gateway:
    from .emulator import FaspayGateway

    return FaspayGateway(provider)


def _forensics(provider: FaspaySendMeProvider) -> Forensics:
    from .forensics import FaspayForensics

    return FaspayForensics(provider)


FAMILY = Family(providers=(FASPAY_SENDME,), emulator=_emulator, forensics=_forensics)
