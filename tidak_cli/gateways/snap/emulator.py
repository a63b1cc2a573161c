"""The SNAP B2B access-token endpoint, as NICEPAY, Finpay, DOKU and SNAP banks run it."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from ...clock import iso_moment
from ...errors import ConfigError
from ...profiles import Profile
from ...signing import rsa_sha256_verify
from ..base import parse_json_object
from ..emulation import Client, Incoming, Ledger, Reply, SandboxConfig, new_token, within_skew
from .recipe import SnapProvider, snap_call_string, snap_symmetric_signature, timestamp_matches

# The sandbox's service codes (the xx in 200xx00), per kind of call, as SNAP numbers its services: virtual
# accounts 24 to 33, transfers 17/18, balance 11, history 12; anything else is service 00.
_SERVICE_CODES = (
    ("transfer-va/create-va", "27"),
    ("transfer-va/update-va", "28"),
    ("transfer-va/delete-va", "31"),
    ("transfer-va/inquiry", "24"),
    ("transfer-va/payment", "25"),
    ("transfer-va/status", "26"),
    ("transfer-intrabank", "17"),
    ("transfer-interbank", "18"),
    ("balance-inquiry", "11"),
    ("transaction-history", "12"),
)
_BEARER = re.compile(r"Bearer (\S+)")

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
        token = new_token()
        return Reply.json(
            200,
            {
                "responseCode": "2007300",
                "responseMessage": "Successful",
                "accessToken": token,
                "tokenType": "Bearer",
                "expiresIn": expires_in,
            },
            issued=True,
            token=token,
            client_id=client_id,
        )

    # --- the calls after the token (SPEC 6.5) ----------------------------------------------------

    def handle_call(self, request: Incoming, config: SandboxConfig, now: datetime, ledger: Ledger) -> Reply | None:
        prefix = self.provider.call_prefix
        path = request.path
        # A call carries a token or a call id; a token request (X-CLIENT-KEY, no token) sent to a wrong path is not
        # one, and gets the sandbox's 404 listing the token paths.
        looks_like_call = request.header("Authorization") or request.header("X-EXTERNAL-ID")
        if not request.header("X-SIGNATURE") or not looks_like_call or (prefix and not path.startswith(prefix + "/")):
            return None
        match = _BEARER.fullmatch(request.header("Authorization") or "")
        token = match.group(1) if match else ""
        issued = ledger.holder(token, now) if token else None
        if issued is not None and issued.provider != self.provider.name:
            return None  # another SNAP provider's token: that provider's gateway answers
        service = next((code for part, code in _SERVICE_CODES if part in path), "00")

        def refuse(status: int, case: str, message: str) -> Reply:
            return Reply.json(status, {"responseCode": f"{status}{service}{case}", "responseMessage": message})

        if issued is None:
            return refuse(401, "01", "Invalid Token (B2B)")
        for name in ("X-TIMESTAMP", "X-PARTNER-ID", "X-EXTERNAL-ID"):
            if not request.header(name):
                return refuse(400, "02", f"Invalid Mandatory Field {name}")
        x_timestamp = request.header("X-TIMESTAMP") or ""
        stamp = iso_moment(x_timestamp)
        if stamp is None or not any(timestamp_matches(form, x_timestamp) for form in self.provider.accepted_timestamps):
            return refuse(400, "01", "Invalid Field Format X-TIMESTAMP")
        external_id = request.header("X-EXTERNAL-ID") or ""
        if not re.fullmatch(r"[0-9]{1,36}", external_id):
            return refuse(400, "01", "Invalid Field Format X-EXTERNAL-ID")
        if not within_skew(stamp, now):
            return refuse(401, "00", "Unauthorized. X-TIMESTAMP is not within 5 minutes of server time")
        client = config.client(self.provider.name, issued.client_id)
        secret = client.secrets.get(self.provider.call_secret) if client is not None else None
        if not secret:
            return refuse(401, "00", f"Unauthorized. No {self.provider.call_secret} registered for this client")
        signed_path = path[len(prefix) :] if prefix else path
        expected = snap_symmetric_signature(
            secret, snap_call_string(request.method, signed_path, token, request.body, x_timestamp)
        )
        if not hmac.compare_digest(expected.encode(), (request.header("X-SIGNATURE") or "").encode()):
            return refuse(401, "00", "Unauthorized. Signature")
        if not ledger.first_use(self.provider.name, issued.client_id, external_id, now):
            return refuse(409, "00", "Conflict")
        echoed = parse_json_object(request.body) if request.body else None
        return Reply.json(
            200,
            {
                "responseCode": f"200{service}00",
                "responseMessage": "Successful",
                "request": {
                    "method": request.method,
                    "path": path,
                    "body": echoed if echoed is not None else request.body.decode("utf-8", "replace"),
                },
            },
            accepted=True,
        )

    def client_from(self, profile: Profile) -> Client:
        from ...keys import load_public_key

        if "public_key_file" in profile.files:
            source = f"public_key_file {profile.get('public_key_file')}"
            public_key = load_public_key(profile.files["public_key_file"], source=source)
        else:
            public_key = self.provider.private_key(profile).public_key()
        call_secret = profile.text(self.provider.call_secret)
        secrets = {self.provider.call_secret: call_secret} if call_secret else {}
        return Client(
            profile.require_text("client_id"), public_key, secrets, profile.where, self.provider.path(profile)
        )

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
