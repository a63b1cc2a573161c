"""The SNAP B2B access-token endpoint, as NICEPAY, Finpay, DOKU and SNAP banks run it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from ...clock import iso_moment
from ...errors import ConfigError
from ...profiles import Profile
from ...signing import rsa_sha256_verify
from ..base import parse_json_object
from ..emulation import Client, Incoming, Reply, SandboxConfig, new_token, within_skew
from .recipe import SnapProvider, timestamp_matches

__all__ = ["SnapGateway"]


@dataclass(frozen=True)
class SnapGateway:
    provider: SnapProvider

    def _error(self, status: int, case: str, message: str) -> Reply:
        return Reply.json(status, {"responseCode": f"{status}73{case}", "responseMessage": message})

    def failure(self, status: int) -> Reply:
        message = {401: "Unauthorized", 429: "Too Many Requests", 504: "Timeout"}.get(status, "General Error")
        return self._error(status, "00", message)

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
        if not any(timestamp_matches(form, x_timestamp) for form in self.provider.accepted_timestamps):
            return self._error(400, "01", "Invalid Field Format X-TIMESTAMP")
        body = parse_json_object(request.body)
        if body is None:
            return self._error(400, "00", "Bad Request")
        grant = body.get("grantType")
        if grant is None:
            return self._error(400, "02", "Invalid Mandatory Field grantType")
        if grant != "client_credentials":
            return self._error(400, "01", "Invalid Field Format grantType")
        stamp = iso_moment(x_timestamp)
        if stamp is None:  # the right shape, an impossible date
            return self._error(400, "01", "Invalid Field Format X-TIMESTAMP")
        if not within_skew(stamp, now):
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

    def client_from(self, profile: Profile) -> Client:
        from ...keys import load_public_key

        if "public_key_file" in profile.files:
            source = f"public_key_file {profile.get('public_key_file')}"
            public_key = load_public_key(profile.files["public_key_file"], source=source)
        else:
            public_key = self.provider.private_key(profile).public_key()
        return Client(profile.require_text("client_id"), public_key, {}, profile.where, self.provider.path(profile))

    def check_client(self, client: Client, where: str) -> None:
        if client.public_key is None:
            raise ConfigError(f"{where} has no public_key or public_key_file", hint="SNAP verifies with the public key")


def _verifies(client: Client, signature: str, string_to_sign: str) -> bool:
    assert client.public_key is not None
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return rsa_sha256_verify(client.public_key, raw, string_to_sign.encode("utf-8"))
