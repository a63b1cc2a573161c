"""The toy gateway's side: recompute the HMAC from the headers received."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from tidak_cli.clock import iso_moment
from tidak_cli.gateways.emulation import (
    Client,
    Incoming,
    Ledger,
    Reply,
    SandboxConfig,
    new_token,
    require_secrets,
    secrets_client,
    within_skew,
)
from tidak_cli.profiles import Profile

from .recipe import ToyProvider, toy_call_fields, toy_signature


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
        token = new_token()
        body = {"token": token, "expires_in": config.token_ttl}
        return Reply.json(200, body, issued=True, token=token, client_id=client.client_id)

    def claims(self, request: Incoming, config: SandboxConfig) -> bool:
        return True  # its token path is its own

    def handle_call(self, request: Incoming, config: SandboxConfig, now: datetime, ledger: Ledger) -> Reply | None:
        if not request.path.startswith("/toy/") or not request.header("X-Client-Id"):
            return None
        token = (request.header("Authorization") or "").removeprefix("Bearer ")
        issued = ledger.holder(token, now)
        client = config.client(self.provider.name, issued.client_id) if issued else None
        stamp = request.header("X-Timestamp") or ""
        moment = iso_moment(stamp)
        if client is None or moment is None or not within_skew(moment, now):
            return Reply.json(401, {"error": "unknown or expired token, or a stale timestamp"})
        fields = toy_call_fields(request.method, request.path, token, request.body, stamp)
        _, expected = toy_signature(client.secrets["secret_key"], *fields)
        if not hmac.compare_digest(expected, request.header("X-Signature") or ""):
            return Reply.json(401, {"error": "invalid signature"})
        return Reply.json(200, {"ok": True}, accepted=True)
