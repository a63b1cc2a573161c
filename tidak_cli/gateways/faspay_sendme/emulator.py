"""Faspay SendMe's token endpoint: re-encrypt and compare faspay-authorization, then faspay-signature."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from ...clock import jakarta_moment
from ...profiles import Profile
from ...signing import hmac_sha256
from ..emulation import (
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
from .recipe import FaspaySendMeProvider, faspay_aes, faspay_string_to_sign

__all__ = ["FaspayGateway"]

_SECRETS = ("faspay_secret", "app_key", "app_secret", "client_key", "client_secret", "iv")
_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@dataclass(frozen=True)
class FaspayGateway:
    provider: FaspaySendMeProvider

    def client_from(self, profile: Profile) -> Client:
        return secrets_client(profile, self.provider.identity_key, _SECRETS)

    def check_client(self, client: Client, where: str) -> None:
        require_secrets(client, _SECRETS, where)

    @staticmethod
    def _refuse(status: int, description: str) -> Reply:
        return Reply.json(
            status,
            {"status": "9", "response_code": str(status), "message": "Unauthorized", "response_desc": description},
        )

    def failure(self, status: int) -> Reply:
        body = {
            "status": "9",
            "response_code": str(status),
            "message": "Internal Server Error",
            "response_desc": "General Error",
        }
        return Reply.json(status, body)

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply:
        # Faspay signs the method as GET; the sandbox also takes POST, for servers that refuse GET.
        if request.method not in ("GET", "POST"):
            return self._refuse(405, "Method Not Allowed")
        for name in ("faspay-key", "faspay-timestamp", "faspay-authorization", "faspay-signature"):
            if not request.header(name):
                return self._refuse(400, f"Missing header {name}")
        timestamp = request.header("faspay-timestamp") or ""
        if not _STAMP.fullmatch(timestamp):
            return self._refuse(400, "Invalid faspay-timestamp format, expected 2018-10-09 14:24:00")
        stamp = jakarta_moment(timestamp, "%Y-%m-%d %H:%M:%S")
        if stamp is None:
            return self._refuse(400, "Invalid faspay-timestamp")
        if not within_skew(stamp, now):
            return self._refuse(401, "faspay-timestamp is not within 5 minutes of server time (Jakarta)")
        client = config.client(self.provider.name, request.header("faspay-key") or "")
        if client is None:
            return self._refuse(401, "Unknown faspay-key")
        values = client.secrets
        authorization = faspay_aes(values["faspay_secret"], values["iv"], f"{values['app_key']}:{values['app_secret']}")
        if not hmac.compare_digest(authorization.encode(), (request.header("faspay-authorization") or "").encode()):
            return self._refuse(401, "Invalid faspay-authorization")
        string_to_sign = faspay_string_to_sign(
            request.path.split("?")[0], timestamp, values["client_key"], values["client_secret"]
        )
        accepted = (
            faspay_aes(values["faspay_secret"], values["iv"], string_to_sign),
            hmac_sha256(values["faspay_secret"].encode(), string_to_sign.encode()).hex(),
        )
        signature = (request.header("faspay-signature") or "").encode()
        if not any(hmac.compare_digest(form.encode(), signature) for form in accepted):
            return self._refuse(401, "Invalid faspay-signature")
        return Reply.json(
            200,
            {
                "status": "2",
                "response_code": "00",
                "access_token": new_token(),
                "expired_in": str(config.token_ttl),
                "message": "Success",
                "response_desc": "Success",
            },
            issued=True,
        )

    def handle_call(self, request: Incoming, config: SandboxConfig, now: datetime, ledger: Ledger) -> Reply | None:
        return None  # the calls of SPEC 6.5 for this gateway: being built (signed-calls issue)
