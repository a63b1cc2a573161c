"""The gateways' side of each recipe: verify a token request exactly as the gateway does, answer in its shape.

A gateway here reads the provider's public facts (path, accepted timestamp forms) and uses the recipe's
primitives (pinned by the spec's vectors and by openssl in the tests), but never calls a provider's
`build`: the request is checked from the bytes received, as the gateway checks it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ..errors import ConfigError
from ..sandbox.config import Client, SandboxConfig
from .base import SIGNATURE_WINDOW

if TYPE_CHECKING:
    from ..profiles import Profile
    from .base import Provider

__all__ = [
    "Gateway",
    "Incoming",
    "Reply",
    "gateway_for",
    "new_token",
    "require_secrets",
    "secrets_client",
    "within_skew",
]


@dataclass(frozen=True)
class Incoming:
    """A request as the sandbox received it; header names lowercased."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    issued: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds between the body's bytes, for the trickle fault
    trickle_headers: float = 0.0  # seconds between the bytes of the status line and headers

    @classmethod
    def json(cls, status: int, value: object, *, issued: bool = False) -> Reply:
        return cls(status, json.dumps(value).encode(), issued=issued)


class Gateway(Protocol):
    """One gateway's token endpoint as the gateway runs it."""

    @property
    def provider(self) -> Provider: ...

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply:
        """Verify request as the gateway would and answer in its shape."""
        ...

    def failure(self, status: int) -> Reply:
        """The gateway's own shape for a server-side failure (the 5xx fault)."""
        ...

    def client_from(self, profile: Profile) -> Client:
        """Register the partner a profile describes, as onboarding with the gateway would."""
        ...

    def check_client(self, client: Client, where: str) -> None:
        """Refuse a sandbox config entry that lacks what this gateway verifies with."""
        ...


def new_token() -> str:
    return secrets.token_urlsafe(32)


def within_skew(moment: datetime, now: datetime) -> bool:
    return abs(now - moment) <= SIGNATURE_WINDOW


def secrets_client(profile: Profile, identity_key: str, secret_keys: tuple[str, ...]) -> Client:
    """A partner known by shared secrets: the gateway holds the same values as the profile."""
    values = {key: profile.require_text(key) for key in secret_keys}
    return Client(profile.require_text(identity_key), None, values, profile.where)


def require_secrets(client: Client, keys: tuple[str, ...], where: str) -> None:
    missing = [key for key in keys if not client.secrets.get(key)]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(missing)}", hint="the sandbox verifies with the same secrets")


def gateway_for(provider: Provider) -> Gateway:
    """Return the sandbox gateway that verifies provider's recipe."""
    from .doku.emulator import DokuGateway
    from .doku.recipe import DokuProvider
    from .faspay_sendme.emulator import FaspayGateway
    from .faspay_sendme.recipe import FaspaySendMeProvider
    from .finpay_widget.emulator import FinpayGateway
    from .finpay_widget.recipe import FinpayWidgetProvider
    from .snap.emulator import SnapGateway
    from .snap.recipe import SnapProvider

    if isinstance(provider, SnapProvider):
        return SnapGateway(provider)
    if isinstance(provider, DokuProvider):
        return DokuGateway(provider)
    if isinstance(provider, FinpayWidgetProvider):
        return FinpayGateway(provider)
    if isinstance(provider, FaspaySendMeProvider):
        return FaspayGateway(provider)
    raise LookupError(f"the sandbox has no gateway for {provider.name}")
