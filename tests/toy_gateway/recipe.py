"""Toy HMAC: POST /toy/token with X-Client-Id, X-Timestamp and hex HMAC-SHA256(secret, "client_id|timestamp")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tidak_cli.clock import iso_moment, lifetime_seconds
from tidak_cli.errors import RejectedError
from tidak_cli.gateways.base import (
    CliOption,
    SignedRequest,
    Token,
    parse_json_object,
    unexpected_answer,
)
from tidak_cli.profiles import Profile, Setting
from tidak_cli.signing import hmac_sha256, utc_z


def toy_signature(secret: str, client_id: str, timestamp: str) -> tuple[str, str]:
    """Return (string to sign, signature)."""
    text = f"{client_id}|{timestamp}"
    return text, hmac_sha256(secret.encode(), text.encode()).hex()


@dataclass(frozen=True)
class ToyProvider:
    name: str = "toy-hmac"
    title: str = "Toy HMAC gateway"
    algorithm: str = "HMAC-SHA256 (hex)"
    identity_key: str = "client_id"
    token_path: str = "/toy/token"
    base_urls: Mapping[str, str] = field(default_factory=dict)
    settings: tuple[Setting, ...] = (
        Setting("client_id", "the client id", "text", required=True),
        Setting("secret_key", "the shared secret", "secret", required=True),
    )
    one_of: tuple[tuple[str, ...], ...] = ()
    options: tuple[CliOption, ...] = ()
    recipe: tuple[str, ...] = ('signature: hex HMAC-SHA256(secret_key, client_id + "|" + X-Timestamp)',)

    def new_nonce(self) -> str | None:
        return None

    def build(
        self, profile: Profile, when: datetime | str, nonce: str | None, body: bytes | None = None
    ) -> SignedRequest:
        client_id = profile.require_text("client_id")
        timestamp = when if isinstance(when, str) else utc_z(when)
        text, signature = toy_signature(profile.require_text("secret_key"), client_id, timestamp)
        headers = {"X-Client-Id": client_id, "X-Timestamp": timestamp, "X-Signature": signature}
        url = profile.base_url + self.token_path
        return SignedRequest(
            self.name, "POST", url, headers, body, text, signature, self.algorithm, signed_at=iso_moment(timestamp)
        )

    def parse(self, status: int, body: bytes) -> Token:
        data = parse_json_object(body)
        if data is None:
            raise unexpected_answer(status, body, self.title, "JSON")
        if status == 200 and isinstance(data.get("token"), str):
            return Token(str(data["token"]), "Bearer", lifetime_seconds(data.get("expires_in")), None, data)
        raise RejectedError(f"{self.title} rejected the token request: {data.get('error')}", status=status)

    def derived_secrets(self, profile: Profile) -> list[str]:
        return []


TOY = ToyProvider()
