"""DOKU partner API token (non-SNAP): HMAC-SHA256 over five header lines, one of them the body's digest.

Recipe: SPEC 1.2 (DOKU "Signature component", Jokul/partner v1 docs).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ...clock import epoch_moment, iso_moment
from ...errors import GatewayError, RejectedError
from ...profiles import Profile, Setting
from ...signing import b64, hmac_sha256, sha256_b64, utc_z
from ..base import (
    NONCE,
    Call,
    CallVerdict,
    CliOption,
    SignedRequest,
    Token,
    call_headers,
    compact_json,
    parse_json_object,
    snippet,
    unexpected_answer,
)
from ..base import request_id as checked_request_id

__all__ = ["DOKU", "DokuProvider", "component", "doku_signature", "jwt_expiry"]

SIGNATURE_PREFIX = "HMACSHA256="

MAX_REQUEST_ID = 128


def _error_words(data: Mapping[str, object]) -> tuple[str | None, str | None]:
    """DOKU's code and message, from the shapes its APIs answer in: {"error": {"code", "message"}} or flat."""
    error = data.get("error")
    source = error if isinstance(error, dict) else data
    code, message = (
        source.get("code") or source.get("responseCode"),
        source.get("message") or source.get("responseMessage"),
    )
    return (str(code) if isinstance(code, str | int) else None, message if isinstance(message, str) else None)


def doku_signature(secret_key: str, component_text: str) -> str:
    """DOKU's Signature header: HMACSHA256= + base64(HMAC-SHA256(secret_key, component)), both as UTF-8."""
    return SIGNATURE_PREFIX + b64(hmac_sha256(secret_key.encode("utf-8"), component_text.encode("utf-8")))


def component(client_id: str, request_id: str, timestamp: str, target: str, digest: str | None) -> str:
    """The string DOKU signs: header lines joined by \\n, no trailing newline, Digest only with a body."""
    lines = [
        f"Client-Id:{client_id}",
        f"Request-Id:{request_id}",
        f"Request-Timestamp:{timestamp}",
        f"Request-Target:{target}",
    ]
    if digest is not None:
        lines.append(f"Digest:{digest}")
    return "\n".join(lines)


def jwt_expiry(token: str) -> datetime | None:
    """Read a JWT's `exp` claim without verifying it (the token is the gateway's business, not ours)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = parse_json_object(base64.urlsafe_b64decode(payload))  # the gateway-JSON edge: None if not one
    except binascii.Error:
        return None
    # An exp beyond the sane years (9999) is no expiry a gateway means: unknown, as an absurd expiresIn is.
    return epoch_moment(claims.get("exp") if claims is not None else None)


@dataclass(frozen=True)
class DokuProvider:
    """DOKU's partner token endpoint."""

    name: str = "doku"
    title: str = "DOKU partner API"
    token_path: str = "/adv-core-api/partner/v1.0/token"
    base_urls: Mapping[str, str] = field(
        default_factory=lambda: {"sandbox": "https://api-uat.doku.com", "production": "https://api.doku.com"}
    )
    algorithm: str = "HMAC-SHA256"
    identity_key: str = "client_id"
    settings: tuple[Setting, ...] = (
        Setting("client_id", "the Client-Id: your Brand ID, e.g. BRN-0001-10791114622547", "text", required=True),
        Setting("secret_key", "the shared secret key DOKU issued", "secret", required=True),
        Setting("valid_time", "token lifetime to ask for, in minutes", "integer"),
    )
    one_of: tuple[tuple[str, ...], ...] = ()
    options: tuple[CliOption, ...] = (
        CliOption("--valid-time", "valid_time", "token lifetime to ask for, in minutes", "MINUTES"),
        CliOption("--request-id", NONCE, "use this Request-Id instead of a fresh UUID4", "ID"),
    )

    @property
    def recipe(self) -> tuple[str, ...]:
        return (
            f"POST {{base_url}}{self.token_path}, Content-Type: application/json",
            'body: {"grant_type":"client_credentials","valid_time":"360"} (valid_time only when set), '
            "compact, sent as exactly those bytes",
            "headers: Client-Id, Request-Id (UUID4), Request-Timestamp (UTC, 2020-08-11T08:45:42Z), Signature",
            "string to sign: Client-Id:…\\nRequest-Id:…\\nRequest-Timestamp:…\\n"
            f"Request-Target:{self.token_path}\\nDigest:base64(SHA-256(body))",
            'signature: "HMACSHA256=" + base64(HMAC-SHA256(key = secret_key as UTF-8, string to sign))',
            "expiry: the JWT's exp claim, else valid_time minutes",
        )

    def new_nonce(self) -> str | None:
        return str(uuid.uuid4())

    def request_body(self, profile: Profile) -> bytes:
        valid_time = profile.get("valid_time")
        fields: dict[str, str] = {"grant_type": "client_credentials"}
        if valid_time is not None:
            fields["valid_time"] = str(valid_time)
        return compact_json(fields)

    def build(
        self, profile: Profile, when: datetime | str, nonce: str | None, body: bytes | None = None
    ) -> SignedRequest:
        client_id = profile.require_text("client_id")
        secret = profile.require_text("secret_key")
        request_id = checked_request_id(nonce, MAX_REQUEST_ID, "Request-Id", "--request-id")
        timestamp = when if isinstance(when, str) else utc_z(when)
        body = self.request_body(profile) if body is None else body
        digest = sha256_b64(body)
        string_to_sign = component(client_id, request_id, timestamp, self.token_path, digest)
        signature = doku_signature(secret, string_to_sign)
        valid_time = profile.get("valid_time")
        return SignedRequest(
            provider=self.name,
            method="POST",
            url=profile.base_url + self.token_path,
            headers={
                "Content-Type": "application/json",
                "Client-Id": client_id,
                "Request-Id": request_id,
                "Request-Timestamp": timestamp,
                "Signature": signature,
            },
            body=body,
            string_to_sign=string_to_sign,
            signature=signature,
            algorithm=self.algorithm,
            derivation=(
                (
                    "Body bytes",
                    f"{len(body)} bytes, compact JSON, hashed and sent as is; a pretty-printed or json.dumps-default "
                    "body has another Digest (the most common DOKU mistake)",
                ),
                ("Digest", f"{digest}  (base64 SHA-256 of the body bytes)"),
                ("HMAC key", f"secret_key as UTF-8 text ({len(secret.encode('utf-8'))} bytes)"),
            ),
            signed_at=iso_moment(timestamp),
            requested_lifetime=int(valid_time) * 60 if isinstance(valid_time, int) else None,
        )

    def parse(self, status: int, body: bytes) -> Token:
        data = parse_json_object(body)
        token = data.get("token") if data is not None else None
        if 200 <= status < 300 and isinstance(token, str) and token:
            assert data is not None
            return Token(token, "Bearer", None, jwt_expiry(token), data)
        if status >= 500:
            raise GatewayError(
                f"{self.title} failed with HTTP {status}",
                details=[f"body: {snippet(body)}"] if body.strip() else ["body is empty"],
                quoted=[snippet(body)],
                hint="the gateway failed on its side: retry later",
            )
        if 400 <= status < 500 and data is not None:
            # DOKU does not document this error format: show it as received.
            hint = (
                "check client_id and secret_key, and that the Digest was computed over the exact body bytes "
                "sent (`paytoken sign doku` shows both)"
                if status in (401, 403)
                else "the body above is DOKU's own words about the request"
            )
            code, message = _error_words(data)
            said = " ".join(part for part in (code, message) if part)
            raise RejectedError(
                f"{self.title} rejected the token request" + (f": {said}" if said else f" with HTTP {status}"),
                status=status,
                code=code,
                gateway_message=message,
                details=[f"HTTP {status}", f"body: {snippet(body)}"] if said else [f"body: {snippet(body)}"],
                quoted=[snippet(body)],
                hint=hint,
            )
        if 200 <= status < 300 and data is not None:
            raise GatewayError(
                f"{self.title} answered HTTP {status} without a token",
                details=[f"body: {snippet(body)}"],
                quoted=[snippet(body)],
                hint="the answer has no `token` field: retry, and report it to DOKU if it persists",
            )
        raise unexpected_answer(status, body, self.title, 'JSON with a "token"')

    def derived_secrets(self, profile: Profile) -> list[str]:
        return []

    # --- the calls after the token (SPEC 6.3) ----------------------------------------------------

    call_needs_token: bool = True

    @property
    def call_recipe(self) -> tuple[str, ...]:
        return (
            "METHOD {base_url}PATH; Authorization: Bearer <token> (not signed)",
            "headers: Client-Id, Request-Id (UUID4; --external-id sets it), Request-Timestamp (UTC), Signature",
            "string to sign: the token's lines with Request-Target:PATH; a Digest line only with a body",
            'signature: "HMACSHA256=" + base64(HMAC-SHA256(key = secret_key, string to sign))',
            "success: HTTP 2xx",
        )

    def new_call_id(self) -> str | None:
        return str(uuid.uuid4())

    def build_call(self, profile: Profile, call: Call, when: datetime | str) -> SignedRequest:
        if not call.path.startswith("/"):
            from ...errors import UsageError

            raise UsageError(f"the call's PATH {call.path!r} must start with /", hint=f"write /{call.path}")
        client_id = profile.require_text("client_id")
        secret = profile.require_text("secret_key")
        request_id = checked_request_id(call.call_id, MAX_REQUEST_ID, "Request-Id", "--external-id")
        timestamp = when if isinstance(when, str) else utc_z(when)
        digest = sha256_b64(call.body) if call.body else None
        string_to_sign = component(client_id, request_id, timestamp, call.path, digest)
        signature = doku_signature(secret, string_to_sign)
        computed = {
            **({"Content-Type": "application/json"} if call.body else {}),
            **({"Authorization": f"Bearer {call.token}"} if call.token else {}),
            "Client-Id": client_id,
            "Request-Id": request_id,
            "Request-Timestamp": timestamp,
            "Signature": signature,
        }
        return SignedRequest(
            provider=self.name,
            method=call.method.upper(),
            url=profile.base_url + call.path,
            headers=call_headers(computed, profile, call),
            body=call.body,
            string_to_sign=string_to_sign,
            signature=signature,
            algorithm=self.algorithm,
            derivation=(
                ("Request-Target", f"{call.path}  (the path as sent, no host)"),
                ("Digest", f"{digest}  (base64 SHA-256 of the body bytes)" if digest else "none: no body, no line"),
                ("HMAC key", f"secret_key as UTF-8 text ({len(secret.encode('utf-8'))} bytes)"),
            ),
            signed_at=iso_moment(timestamp),
        )

    def judge_call(self, status: int, body: bytes) -> CallVerdict:
        data = parse_json_object(body)
        code, message = _error_words(data) if data is not None else (None, None)
        return CallVerdict(200 <= status < 300, code, message)


DOKU = DokuProvider()
