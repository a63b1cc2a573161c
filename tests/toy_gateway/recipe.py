"""Toy HMAC: POST /toy/token with X-Client-Id, X-Timestamp and hex HMAC-SHA256(secret, "client_id|timestamp");
a call after the token signs "METHOD|path|token|sha256hex(body)|timestamp" the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tidak_cli.clock import iso_moment, lifetime_seconds
from tidak_cli.errors import RejectedError
from tidak_cli.gateways.base import (
    Call,
    CallVerdict,
    CliOption,
    SignedRequest,
    Token,
    parse_json_object,
    unexpected_answer,
)
from tidak_cli.profiles import Profile, Setting
from tidak_cli.signing import hmac_sha256, sha256_hex, utc_z


def toy_signature(secret: str, *fields: str) -> tuple[str, str]:
    """Return (string to sign, signature): the fields joined by "|", hex HMAC-SHA256 keyed with secret."""
    text = "|".join(fields)
    return text, hmac_sha256(secret.encode(), text.encode()).hex()


def toy_call_fields(method: str, path: str, token: str, body: bytes, timestamp: str) -> tuple[str, ...]:
    return method, path, token, sha256_hex(body), timestamp


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
    call_recipe: tuple[str, ...] = ('X-Signature: hex HMAC-SHA256(secret_key, "METHOD|path|token|sha256hex(body)|ts")',)
    call_needs_token: bool = True

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

    def new_call_id(self) -> str | None:
        return None

    def build_call(self, profile: Profile, call: Call, when: datetime | str) -> SignedRequest:
        timestamp = when if isinstance(when, str) else utc_z(when)
        fields = toy_call_fields(call.method, call.path, call.token or "", call.body or b"", timestamp)
        text, signature = toy_signature(profile.require_text("secret_key"), *fields)
        headers = {
            "X-Client-Id": profile.require_text("client_id"),
            "X-Timestamp": timestamp,
            "Authorization": f"Bearer {call.token}",
            "X-Signature": signature,
        }
        url = profile.base_url + call.path
        return SignedRequest(self.name, call.method, url, headers, call.body, text, signature, self.algorithm)

    def judge_call(self, status: int, body: bytes) -> CallVerdict:
        return CallVerdict(200 <= status < 300)


TOY = ToyProvider()
