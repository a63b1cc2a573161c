"""DOKU's partner token endpoint and the calls after it: recompute the Digest over the bytes received, then the HMAC.

A call (SPEC 6.3, 6.5) is any other path carrying Client-Id, Request-Id and Signature: the Bearer token must be
one this sandbox issued to that Client-Id and unexpired, Request-Timestamp UTC within 5 minutes, the Signature
the token's component lines with Request-Target the path as sent and a Digest line only with a body (DOKU's
"Signature from API Get Method" page), and the Request-Id new for that client today.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...clock import iso_moment
from ...signing import hmac_sha256, sha256_b64
from ..base import parse_json_object
from ..emulation import (
    Client,
    Incoming,
    Ledger,
    Reply,
    SandboxConfig,
    SharedSecrets,
    echoed,
    within_skew,
)
from .recipe import MAX_REQUEST_ID, DokuProvider, component, doku_signature

__all__ = ["DokuGateway"]

_UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_BEARER = re.compile(r"Bearer (\S+)")
# The headers that make a request one of DOKU's calls rather than another gateway's.
_CALL_HEADERS = ("Client-Id", "Request-Id", "Signature")
_SECRETS = ("secret_key",)
# Signs the sandbox's JWTs; nobody verifies them, but they are real JWTs.
_JWT_KEY = secrets.token_bytes(32)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: dict[str, object]) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = _b64url(hmac_sha256(_JWT_KEY, f"{header}.{payload}".encode()))
    return f"{header}.{payload}.{signature}"


@dataclass(frozen=True)
class DokuGateway(SharedSecrets):
    secret_keys = _SECRETS
    provider: DokuProvider

    @staticmethod
    def _error(status: int, code: str, message: str) -> Reply:
        return Reply.json(status, {"error": {"code": code, "message": message}})

    def failure(self, status: int) -> Reply:
        return self._error(status, "internal_server_error", "Internal Server Error")

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply:
        if request.method != "POST":
            return self._error(405, "method_not_allowed", "Method Not Allowed")
        if (request.header("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            return self._error(415, "unsupported_media_type", "Content-Type must be application/json")
        problem = self._headers_problem(request)
        if problem is not None:
            return problem
        client_id = request.header("Client-Id") or ""
        problem = self._timestamp_problem(request.header("Request-Timestamp") or "", now)
        if problem is not None:
            return problem
        client = config.client(self.provider.name, client_id)
        if client is None:
            return self._error(401, "invalid_client", "Unknown Client-Id")
        if not _signed_by(client, request, request.path.split("?")[0]):
            return self._error(401, "invalid_signature", "Invalid Header Signature")
        data = parse_json_object(request.body)
        if data is None:
            return self._error(400, "invalid_body", "Body is not a JSON object")
        if data.get("grant_type") != "client_credentials":
            return self._error(400, "invalid_grant", "grant_type must be client_credentials")
        valid_time = data.get("valid_time")
        if valid_time is not None and not (
            isinstance(valid_time, str) and re.fullmatch(r"[0-9]{1,6}", valid_time) and 0 < int(valid_time) <= 100_000
        ):
            return self._error(400, "invalid_body", 'valid_time must be minutes as a string, e.g. "360"')
        lifetime = timedelta(minutes=int(valid_time)) if valid_time else timedelta(seconds=config.token_ttl)
        expires_at = now + lifetime
        claims = {
            "jti": secrets.token_hex(16),
            "iss": "paytoken-sandbox",
            "sub": client_id,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        token = make_jwt(claims)
        # The ledger keeps the token for the JWT's own lifetime (valid_time), not the sandbox's default.
        return Reply.json(
            200,
            {"token": token},
            issued=True,
            token=token,
            client_id=client_id,
            expires_at=expires_at,
        )

    def _headers_problem(self, request: Incoming) -> Reply | None:
        for name in ("Client-Id", "Request-Id", "Request-Timestamp", "Signature"):
            if not request.header(name):
                return self._error(400, "invalid_header", f"Missing header {name}")
        if len(request.header("Request-Id") or "") > MAX_REQUEST_ID:
            return self._error(400, "invalid_header", f"Request-Id longer than {MAX_REQUEST_ID} characters")
        return None

    def _timestamp_problem(self, timestamp: str, now: datetime) -> Reply | None:
        if not _UTC_STAMP.fullmatch(timestamp):
            return self._error(
                400, "invalid_header", "Invalid Request-Timestamp format, expected UTC like 2020-08-11T08:45:42Z"
            )
        stamp = iso_moment(timestamp)
        if stamp is None:
            return self._error(400, "invalid_header", "Invalid Request-Timestamp")
        if not within_skew(stamp, now):
            return self._error(401, "invalid_timestamp", "Request-Timestamp is not within 5 minutes of server time")
        return None

    # --- the calls after the token (SPEC 6.3, 6.5) -----------------------------------------------

    def handle_call(self, request: Incoming, config: SandboxConfig, now: datetime, ledger: Ledger) -> Reply | None:
        if not all(request.header(name) for name in _CALL_HEADERS):
            return None
        problem = self._headers_problem(request)
        if problem is not None:
            return problem
        client_id = request.header("Client-Id") or ""
        match = _BEARER.fullmatch(request.header("Authorization") or "")
        if match is None:
            return self._error(401, "invalid_token", "Missing header Authorization: Bearer <token>")
        issued = ledger.record(match.group(1))
        if issued is None or issued.provider != self.provider.name or issued.client_id != client_id:
            return self._error(401, "invalid_token", "Invalid access token for this Client-Id")
        if now >= issued.expires_at:
            return self._error(401, "invalid_token", "Access token has expired")
        problem = self._timestamp_problem(request.header("Request-Timestamp") or "", now)
        if problem is not None:
            return problem
        client = config.client(self.provider.name, client_id)
        if client is None:
            return self._error(401, "invalid_client", "Unknown Client-Id")
        # The call's Request-Target is its path as sent, query included: what build_call signs (SPEC 6.3).
        if not _signed_by(client, request, request.path):
            return self._error(401, "invalid_signature", "Invalid Header Signature")
        if not ledger.first_use(self.provider.name, client_id, request.header("Request-Id") or "", now):
            return self._error(409, "duplicate_request_id", "Request-Id has already been used today")
        return Reply.json(200, {"request": echoed(request)}, accepted=True)


def _signed_by(client: Client, request: Incoming, target: str) -> bool:
    """Whether request's Signature is the HMAC of its component lines with client's secret_key.

    The Digest is computed over the bytes as received: a re-serialized body would not match. No body, no line.
    """
    digest = sha256_b64(request.body) if request.body else None
    expected_component = component(
        request.header("Client-Id") or "",
        request.header("Request-Id") or "",
        request.header("Request-Timestamp") or "",
        target,
        digest,
    )
    expected = doku_signature(client.secrets["secret_key"], expected_component)
    return hmac.compare_digest(expected.encode(), (request.header("Signature") or "").encode())
