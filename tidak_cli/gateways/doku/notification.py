"""DOKU's HTTP Notification (non-SNAP, SPEC 7): the HMAC of SPEC 6.3 with Request-Target = the merchant's path.

DOKU signs the notification it posts to the merchant's Notification URL with the same five lines as a
request to DOKU, Request-Target being the path of that URL (`/payments/notifications` for
https://yourdomain.com/payments/notifications) and Digest base64(SHA-256(body))
(developers.doku.com/get-started-with-doku-api/notification/best-practice). The merchant answers 2xx.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ...profiles import Profile
from ...signing import hmac_sha256, sha256_b64, utc_z
from ..base import compact_json
from ..notification import (
    NO_MATCH,
    NOT_BASE64,
    OTHER_BYTES,
    Candidate,
    GatewayKey,
    SignedNotification,
    Verdict,
    Verdicts,
    body_variants,
    header_problems,
)
from .recipe import SIGNATURE_PREFIX, component, doku_signature

if TYPE_CHECKING:
    from ...inbound import Inbound

__all__ = ["DOKU_NOTIFICATION", "DokuNotification"]

_SECRET_NEWLINE = OTHER_BYTES._replace(
    key="wrong-key",
    says="the HMAC matches secret_key with a line break after it (read from a file or variable with one)",
    fix="strip the secret key before using it as the HMAC key",
)


@dataclass(frozen=True)
class DokuNotification:
    """DOKU non-SNAP notifications: HMACSHA256= over the four header lines and the Digest of the body."""

    provider: str = "doku"
    sample_path: str = "/payments/notifications"
    describe: str = (
        "HMACSHA256= + base64(HMAC-SHA256(secret_key, Client-Id…\\nRequest-Id…\\nRequest-Timestamp…\\n"
        "Request-Target:{your path}\\nDigest:base64(SHA-256(body))))"
    )
    symmetric_too: bool = False  # its one signature is already the shared-secret HMAC

    def _strings(self, inbound: Inbound) -> Iterator[Candidate]:
        client_id = inbound.header("Client-Id") or ""
        request_id = inbound.header("Request-Id") or ""
        stamp = inbound.header("Request-Timestamp") or ""

        def text(target: str, body: bytes) -> str:
            return component(client_id, request_id, stamp, target, sha256_b64(body) if body else None)

        yield None, "as received", text(inbound.path, inbound.body)
        if inbound.target != inbound.path:
            yield OTHER_BYTES, f"Request-Target with the query: {inbound.target}", text(inbound.target, inbound.body)
        for mistake, how, body in body_variants(inbound.body):
            note = f"DOKU's Digest is of the body {how}: {body[:120].decode('utf-8', errors='replace')!r}"
            yield mistake, note, text(inbound.path, body)

    def verify(self, profile: Profile, inbound: Inbound, received_at: datetime) -> Verdict:
        secret = profile.require_text("secret_key")
        needed = ["Client-Id", "Request-Id", "Request-Timestamp", "Signature"]
        early = header_problems(self.provider, self.describe, inbound, needed)
        if early is not None:
            return early
        findings: list[str] = []
        if inbound.header("Client-Id") != profile.text("client_id"):
            findings.append(f"Client-Id {inbound.header('Client-Id')!r} is not this profile's client_id")
        verdict = Verdicts(self.provider, self.describe, findings)
        signature = (inbound.header("Signature") or "").strip()
        try:
            raw = base64.b64decode(signature.removeprefix(SIGNATURE_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            return verdict.fail(NOT_BASE64, "Signature is not HMACSHA256= followed by base64")
        if not signature.startswith(SIGNATURE_PREFIX):
            findings.append(f"Signature has no {SIGNATURE_PREFIX} prefix")
        candidates = list(self._strings(inbound))
        for key, wrong in ((secret, False), (secret + "\n", True)):
            for candidate in candidates:
                expected = hmac_sha256(key.encode("utf-8"), candidate[2].encode("utf-8"))
                if hmac.compare_digest(expected, raw):
                    if wrong:
                        return verdict.fail(_SECRET_NEWLINE, "the HMAC was made with another key", candidate[2])
                    stamp = inbound.header("Request-Timestamp") or ""
                    return verdict.judged(candidate, "Request-Timestamp", stamp, received_at)
        return verdict.fail(
            NO_MATCH,
            "the HMAC does not match with secret_key over the bytes received, nor under the known mistakes",
            candidates[0][2],
        )

    def sample(self, profile: Profile, when: datetime, nonce: str) -> tuple[str, bytes]:
        digits = str(int(hashlib.sha256(nonce.encode()).hexdigest()[:12], 16)).rjust(16, "0")[:16]
        body = {
            "service": {"id": "VIRTUAL_ACCOUNT"},
            "acquirer": {"id": "BCA"},
            "channel": {"id": "VIRTUAL_ACCOUNT_BCA"},
            "order": {"invoice_number": f"INV-{digits[-8:]}", "amount": 150000},
            "virtual_account_info": {"virtual_account_number": digits},
            "virtual_account_payment": {"date": when.strftime("%Y%m%d%H%M%S"), "reference_number": nonce[:20]},
            "transaction": {"status": "SUCCESS", "date": utc_z(when), "original_request_id": nonce},
        }
        return self.sample_path, compact_json(body)

    def sign(
        self,
        profile: Profile,
        key: Callable[[], GatewayKey],
        path: str,
        body: bytes,
        when: datetime,
        nonce: str,
        *,
        symmetric: bool = False,
        token: str | None = None,
    ) -> SignedNotification:
        client_id = profile.require_text("client_id")
        timestamp = utc_z(when)
        target = path.split("?", 1)[0]
        string_to_sign = component(client_id, nonce, timestamp, target, sha256_b64(body) if body else None)
        signature = doku_signature(profile.require_text("secret_key"), string_to_sign)
        headers = {
            "Content-Type": "application/json",
            "Client-Id": client_id,
            "Request-Id": nonce,
            "Request-Timestamp": timestamp,
            "Signature": signature,
        }
        return SignedNotification("POST", path, headers, body, string_to_sign, signature)

    def answered(self, status: int, body: bytes) -> tuple[bool, str]:
        return 200 <= status < 300, f"HTTP {status}"


DOKU_NOTIFICATION = DokuNotification()
