"""The SNAP B2B access-token endpoint, as NICEPAY, Finpay, DOKU and SNAP banks run it."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
        for name in ("X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE", *self.provider.token_headers):
            if not request.header(name):
                return self._error(400, "02", f"Invalid Mandatory Field {name}")
        x_timestamp = request.header("X-TIMESTAMP") or ""
        client_id = request.header("X-CLIENT-KEY") or ""
        if not any(timestamp_matches(form, x_timestamp) for form in self.provider.accepted_timestamps):
            return self._error(400, "01", "Invalid Field Format X-TIMESTAMP")
        body = parse_json_object(request.body)
        if body is None:
            return self._error(400, "00", "Bad Request")
        grant_key = next((key for key in self.provider.accepted_grant_keys if key in body), None)
        if grant_key is None:
            return self._error(400, "02", "Invalid Mandatory Field grantType")
        if body[grant_key] not in self.provider.accepted_grants:
            return self._error(400, "01", f"Invalid Field Format {grant_key}")
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
        forms: dict[str, int | str] = {
            "number": config.token_ttl,
            "text": str(config.token_ttl),
            "date-time": _go_time(now + timedelta(seconds=config.token_ttl)),
        }
        expires_in = forms[self.provider.expires_in_form]
        token = new_token()
        return Reply.json(
            200,
            {
                "responseCode": "2007300",
                "responseMessage": "Successful",
                "accessToken": token,
                "tokenType": self.provider.token_type,
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

        signed_path = path[len(prefix) :] if prefix else path
        if not self.provider.call_needs_token:
            # Signature type 2 carries no token: the partner is known by X-PARTNER-ID, and a call naming none of
            # this gateway's partners is another gateway's (the sandbox asks these gateways first).
            client = self._partner(config, request.header("X-PARTNER-ID") or "")
            if client is None or issued is not None:
                return None
        else:
            if issued is None:
                return refuse(401, "01", "Invalid Token (B2B)")
            client = config.client(self.provider.name, issued.client_id)
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
        if client is None:
            return refuse(401, "00", "Unauthorized. Unknown client")
        # The partner id the gateway issued (BNI: the app's api_key), when the client registered one.
        partner = client.secrets.get(self.provider.partner_id_key)
        if partner and request.header("X-PARTNER-ID") != partner:
            return refuse(401, "00", "Unauthorized. Unknown X-PARTNER-ID")
        signed_token = token if self.provider.call_needs_token else None
        string_to_sign = snap_call_string(request.method, signed_path, signed_token, request.body, x_timestamp)
        signature = request.header("X-SIGNATURE") or ""
        if self.provider.call_needs_token:
            secret = client.secrets.get(self.provider.call_secret)
            if not secret:
                return refuse(401, "00", f"Unauthorized. No {self.provider.call_secret} registered for this client")
            expected = snap_symmetric_signature(secret, string_to_sign)
            verified = hmac.compare_digest(expected.encode(), signature.encode())
        else:
            verified = client.public_key is not None and _verifies(client, signature, string_to_sign)
        if not verified:
            return refuse(401, "00", "Unauthorized. Signature")
        if not ledger.first_use(self.provider.name, client.client_id, external_id, now):
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

    def _partner(self, config: SandboxConfig, partner_id: str) -> Client | None:
        """The client an X-PARTNER-ID names: by the partner id it registered, else by its client id."""
        clients = config.clients.get(self.provider.name, ())
        return next(
            (
                client
                for client in clients
                if partner_id and partner_id in (client.secrets.get(self.provider.partner_id_key), client.client_id)
            ),
            None,
        )

    def claims(self, request: Incoming, config: SandboxConfig) -> bool:
        """Whether a token request is for this gateway (SNAP gateways that share a token path: by X-CLIENT-KEY)."""
        return config.client(self.provider.name, request.header("X-CLIENT-KEY") or "") is not None

    def client_from(self, profile: Profile) -> Client:
        from ...keys import load_public_key

        if "public_key_file" in profile.files:
            source = f"public_key_file {profile.get('public_key_file')}"
            public_key = load_public_key(profile.files["public_key_file"], source=source)
        else:
            public_key = self.provider.private_key(profile).public_key()
        # What the gateway holds for the calls: their secret, and the partner id it issued when it is not client_id.
        keys = (self.provider.call_secret, self.provider.partner_id_key)
        secrets = {key: value for key in keys if (value := profile.text(key))}
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


def _go_time(moment: datetime) -> str:
    """Write moment as Go's time.Time.String() does in UTC (Durianpay's expiresIn): fraction without trailing zeros."""
    utc = moment.astimezone(UTC)
    fraction = f"{utc.microsecond:06d}000".rstrip("0")
    return utc.strftime("%Y-%m-%d %H:%M:%S") + (f".{fraction}" if fraction else "") + " +0000 UTC"
