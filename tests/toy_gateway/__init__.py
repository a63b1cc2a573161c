"""A test-only gateway family: the least a new HMAC-style gateway needs (a recipe and an emulator, no forensics)."""

from __future__ import annotations

from tidak_cli.gateways import Family
from tidak_cli.gateways.emulation import Gateway

from .recipe import TOY, ToyProvider


def _emulator(provider: ToyProvider) -> Gateway:
    from .emulator import ToyGateway

    return ToyGateway(provider)


FAMILY = Family(providers=(TOY,), emulator=_emulator)
