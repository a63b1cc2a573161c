"""The gateways' side of each recipe: verify a token request exactly as the gateway does, answer in its shape.

A gateway here reads only the provider's public facts (path, accepted timestamp forms, answer shapes)
and the signing primitives; it never calls the provider's `build`, so a bug there cannot hide itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ..providers.base import Provider
from ..providers.snap import TIMESTAMP_PATTERNS, SnapProvider
from ..signing import rsa_sha256_verify
from .config import Client, SandboxConfig

__all__ = ["Gateway", "Incoming", "Reply", "gateway_for"]

# How far a signed timestamp may be from the gateway's clock.
ALLOWED_SKEW = timedelta(minutes=5)


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

    @classmethod
    def json(cls, status: int, value: object, *, issued: bool = False) -> Reply:
        return cls(status, json.dumps(value).encode(), issued=issued)


class Gateway(Protocol):
    @property
    def provider(self) -> Provider: ...

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply: ...

    def failure(self, status: int) -> Reply:
        """The gateway's own shape for a server-side failure (the 5xx fault)."""
        ...


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SnapGateway:
    provider: SnapProvider

    def _error(self, status: int, case: str, message: str) -> Reply:
        return Reply.json(status, {"responseCode": f"{status}73{case}", "responseMessage": message})

    def failure(self, status: int) -> Reply:
        return self._error(status, "00", "General Error" if status != 504 else "Timeout")

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply:
        if request.method != "POST":
            return self._error(405, "00", "Method Not Allowed")
        content_type = request.header("Content-Type") or ""
        if content_type.split(";")[0].strip().lower() != "application/json":
            return self._error(400, "00", "Bad Request. Content-Type must be application/json")
        for name in ("X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE"):
            if not request.header(name):
                return self._error(400, "02", f"Invalid Mandatory Field {name}")
        x_timestamp = request.header("X-TIMESTAMP") or ""
        client_id = request.header("X-CLIENT-KEY") or ""
        if not any(TIMESTAMP_PATTERNS[form].fullmatch(x_timestamp) for form in self.provider.accepted_timestamps):
            return self._error(400, "01", "Invalid Field Format X-TIMESTAMP")
        try:
            grant = json.loads(request.body.decode("utf-8")).get("grantType")
        except (UnicodeDecodeError, ValueError, AttributeError, RecursionError):
            return self._error(400, "00", "Bad Request")
        if grant is None:
            return self._error(400, "02", "Invalid Mandatory Field grantType")
        if grant != "client_credentials":
            return self._error(400, "01", "Invalid Field Format grantType")
        try:
            stamp = datetime.fromisoformat(x_timestamp.replace("Z", "+00:00"))
        except ValueError:  # the right shape, an impossible date
            return self._error(400, "01", "Invalid Field Format X-TIMESTAMP")
        if abs(now - stamp) > ALLOWED_SKEW:
            return self._error(401, "00", "Unauthorized. X-TIMESTAMP is not within 5 minutes of server time")
        client = config.client(self.provider.name, client_id)
        if client is None or client.public_key is None:
            return self._error(401, "00", "Unauthorized. Unknown X-CLIENT-KEY")
        if not _verifies(client, request.header("X-SIGNATURE") or "", f"{client_id}|{x_timestamp}"):
            return self._error(401, "00", "Unauthorized. Invalid Signature")
        expires_in: int | str = str(config.token_ttl) if self.provider.expires_in_as_string else config.token_ttl
        return Reply.json(
            200,
            {
                "responseCode": "2007300",
                "responseMessage": "Successful",
                "accessToken": new_token(),
                "tokenType": "Bearer",
                "expiresIn": expires_in,
            },
            issued=True,
        )


def _verifies(client: Client, signature: str, string_to_sign: str) -> bool:
    assert client.public_key is not None
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return rsa_sha256_verify(client.public_key, raw, string_to_sign.encode("utf-8"))


def gateway_for(provider: Provider) -> Gateway:
    """Return the sandbox gateway that verifies provider's recipe."""
    if isinstance(provider, SnapProvider):
        return SnapGateway(provider)
    raise LookupError(f"the sandbox has no gateway for {provider.name}")
