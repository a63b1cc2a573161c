"""The toy gateway's side: recompute the HMAC from the headers received."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from tidak_cli.clock import iso_moment
from tidak_cli.gateways.emulation import (
    Client,
    Incoming,
    Reply,
    SandboxConfig,
    new_token,
    require_secrets,
    secrets_client,
    within_skew,
)
from tidak_cli.profiles import Profile

from .recipe import ToyProvider, toy_signature


@dataclass(frozen=True)
class ToyGateway:
    provider: ToyProvider

    def client_from(self, profile: Profile) -> Client:
        return secrets_client(profile, "client_id", ("secret_key",))

    def check_client(self, client: Client, where: str) -> None:
        require_secrets(client, ("secret_key",), where)

    def failure(self, status: int) -> Reply:
        return Reply.json(status, {"error": "server error"})

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply:
        client = config.client(self.provider.name, request.header("X-Client-Id") or "")
        stamp = request.header("X-Timestamp") or ""
        moment = iso_moment(stamp)
        if client is None or moment is None or not within_skew(moment, now):
            return Reply.json(401, {"error": "unknown client or stale timestamp"})
        _, expected = toy_signature(client.secrets["secret_key"], client.client_id, stamp)
        if not hmac.compare_digest(expected, request.header("X-Signature") or ""):
            return Reply.json(401, {"error": "invalid signature"})
        return Reply.json(200, {"token": new_token(), "expires_in": config.token_ttl}, issued=True)
