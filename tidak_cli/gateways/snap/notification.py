"""SNAP notifications (SPEC 7): what NICEPAY, DOKU SNAP and any SNAP bank send to the merchant's webhook.

- `nicepay`: SHA256withRSA over `X-CLIENT-KEY|X-TIMESTAMP` (not over the body) with NICEPAY's notification
  key, which NICEPAY e-mails and which differs from its transaction key; POST {merchant}/api/v1.0/transfer-va/payment
  (docs.nicepay.co.id/en/nicepay-api-snap-notification-virtual-account). Profile key: notification_public_key_file.
- `snap`, `doku-snap`: the SNAP standard, SHA256withRSA with the gateway's key over
  `METHOD:path:lowerhex(SHA-256(body)):X-TIMESTAMP` (docs.payermax.com/202606-version/developer/SNAP.md,
  "异步通知"). Profile key: gateway_public_key_file.
- `doku-snap` symmetric: DOKU signs its SNAP notifications with the HMAC of SPEC 6.2, keyed with the client
  secret, over `METHOD:path:token:lowerhex(SHA-256(body)):X-TIMESTAMP`, the token in its Authorization header
  (developers.doku.com/get-started-with-doku-api/signature-component/snap). A 64-byte X-SIGNATURE is this
  kind (an RSA signature is the key's size, 256 bytes and more).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from ...errors import ConfigError
from ...forensics import decode_signature
from ...profiles import Profile
from ...signing import hmac_sha512, jakarta_iso, rsa_sha256_b64, sha256_hex
from ..base import compact_json
from ..notification import (
    NO_MATCH,
    NOT_BASE64,
    OTHER_BYTES,
    WRONG_KEY,
    Candidate,
    GatewayKey,
    SignedNotification,
    Verdict,
    Verdicts,
    body_variants,
    header_problems,
    hmac_search,
    require_file,
    rsa_search,
    snap_answer,
)
from .recipe import snap_symmetric_signature

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from ...inbound import Inbound

__all__ = ["NICEPAY_NOTIFICATION", "SnapNotification"]

HMAC_SHA512_SIZE = 64
_OWN_KEYS = ("gateway_public_key_file", "notification_public_key_file", "public_key_file")


@dataclass(frozen=True)
class SnapNotification:
    """One SNAP provider's notification: NICEPAY's kind (client key and timestamp) or the standard (body too)."""

    provider: str
    key_setting: str
    sample_path: str
    over_body: bool = True
    symmetric_too: bool = False  # doku-snap: its notifications may be HMAC-SHA512 with the client secret

    @property
    def describe(self) -> str:
        if not self.over_body:
            return f'SHA256withRSA over X-CLIENT-KEY + "|" + X-TIMESTAMP with the gateway\'s key ({self.key_setting})'
        text = f"SHA256withRSA over METHOD:path:lowerhex(SHA-256(body)):X-TIMESTAMP ({self.key_setting})"
        if self.symmetric_too:
            text += "; or HMAC-SHA512 (client_secret) over METHOD:path:token:lowerhex(SHA-256(body)):X-TIMESTAMP"
        return text

    # --- verify ---------------------------------------------------------------------------------------

    def verify(self, profile: Profile, inbound: Inbound, received_at: datetime) -> Verdict:
        signature = inbound.header("X-SIGNATURE")
        symmetric = False
        if signature is not None and self.symmetric_too:
            raw, _ = decode_signature(signature)
            symmetric = raw is not None and len(raw) == HMAC_SHA512_SIZE
        recipe = self.symmetric_describe if symmetric else self.describe
        needed = ["X-TIMESTAMP", "X-SIGNATURE"] + (["X-CLIENT-KEY"] if not self.over_body else [])
        needed += ["Authorization"] if symmetric else []
        early = header_problems(self.provider, recipe, inbound, needed)
        if early is not None:
            return early
        assert signature is not None
        if symmetric:
            return self._verify_symmetric(profile, inbound, received_at, signature)
        return self._verify_rsa(profile, inbound, received_at, signature, recipe)

    @property
    def symmetric_describe(self) -> str:
        return "HMAC-SHA512 (client_secret) over METHOD:path:token:lowerhex(SHA-256(body)):X-TIMESTAMP"

    def _strings(self, inbound: Inbound, profile: Profile, token: str | None = None) -> Iterator[Candidate]:
        """The string as received, then the same under the receiver's known mistakes."""
        stamp = inbound.header("X-TIMESTAMP") or ""
        if not self.over_body:
            client_key = inbound.header("X-CLIENT-KEY") or ""
            yield None, "as received", f"{client_key}|{stamp}"
            return
        method = inbound.method.upper()
        middle = f"{token}:" if token is not None else ""
        yield None, "as received", f"{method}:{inbound.target}:{middle}{sha256_hex(inbound.body)}:{stamp}"
        if inbound.target != inbound.path:
            note = f"path without its query: {inbound.path}"
            yield OTHER_BYTES, note, f"{method}:{inbound.path}:{middle}{sha256_hex(inbound.body)}:{stamp}"
        for mistake, how, body in body_variants(inbound.body):
            note = f"the gateway signed the body {how}: {body[:120].decode('utf-8', errors='replace')!r}"
            yield mistake, note, f"{method}:{inbound.target}:{middle}{sha256_hex(body)}:{stamp}"

    def _verify_rsa(
        self, profile: Profile, inbound: Inbound, received_at: datetime, signature: str, recipe: str
    ) -> Verdict:
        from ...keys import load_public_key

        data = require_file(profile, self.key_setting, "the gateway's public key for notifications")
        primary = load_public_key(data, source=f"{self.key_setting} in {profile.where}")
        others = list(_other_keys(profile, self.key_setting))
        keys: list[tuple[str, RSAPublicKey]] = [(self.key_setting, primary), *others]
        findings: list[str] = []
        client_key = inbound.header("X-CLIENT-KEY")
        if not self.over_body and client_key is not None and client_key != profile.text("client_id"):
            findings.append(f"X-CLIENT-KEY {client_key!r} is not this profile's client_id")
        made_with, found, encoding = rsa_search(signature, keys, lambda: self._strings(inbound, profile))
        verdict = Verdicts(self.provider, recipe, findings)
        if encoding == "not base64":
            return verdict.fail(NOT_BASE64, "X-SIGNATURE is neither base64 nor hex")
        if encoding:
            findings.append(f"X-SIGNATURE is written as {encoding}")
        if made_with is None:
            same = [name for name, key in others if key.public_numbers() == primary.public_numbers()]
            if same:
                findings.append(
                    f"{self.key_setting} holds the same key as {same[0]}: your own transaction key, not the "
                    "gateway's notification key"
                )
            return verdict.fail(
                WRONG_KEY,
                f"the signature does not open with {self.key_setting}"
                + (" nor with the profile's other keys" if others else ""),
            )
        if made_with != self.key_setting:
            return verdict.fail(
                WRONG_KEY,
                f"the signature opens with {made_with}, not with {self.key_setting}: the profile's keys are mixed up",
            )
        if found is None:
            tried = next(self._strings(inbound, profile))[2]
            return verdict.fail(
                OTHER_BYTES, "signed with the gateway's key, but over other bytes than the ones received", tried
            )
        judged = verdict.judged(found, "X-TIMESTAMP", inbound.header("X-TIMESTAMP") or "", received_at)
        if self.over_body or not judged.authentic:
            return judged
        unsigned = (
            "the body is NOT signed: the signature covers X-CLIENT-KEY and X-TIMESTAMP only, so the amount and "
            "status in it are unproven; confirm the payment with a status inquiry before acting on it"
        )
        return replace(judged, findings=(*judged.findings, unsigned), body_signed=False)

    def _verify_symmetric(self, profile: Profile, inbound: Inbound, received_at: datetime, signature: str) -> Verdict:
        secret = profile.text("client_secret")
        if secret is None:
            from ...profiles import missing_key

            error = missing_key("client_secret", profile)
            raise ConfigError(
                f"{error.message}: this notification is HMAC-SHA512 signed, with the client secret",
                hint=error.hint,
            )
        authorization = inbound.header("Authorization") or ""
        token = authorization.removeprefix("Bearer ").strip()
        raw, _ = decode_signature(signature)
        assert raw is not None
        verdict = Verdicts(self.provider, self.symmetric_describe, [])
        keys = [("client_secret", secret.encode("utf-8"))]
        match = hmac_search(raw, keys, self._strings(inbound, profile, token), hmac_sha512)
        if match is None:
            first = next(self._strings(inbound, profile, token))[2]
            return verdict.fail(
                NO_MATCH,
                "the HMAC does not match with client_secret over the bytes received, nor under the known mistakes",
                first,
            )
        return verdict.judged(match[1], "X-TIMESTAMP", inbound.header("X-TIMESTAMP") or "", received_at)

    # --- notify ---------------------------------------------------------------------------------------

    def sample(self, profile: Profile, when: datetime, nonce: str) -> tuple[str, bytes]:
        digits = "".join(character for character in nonce if character.isdigit())[:12].ljust(12, "0")
        body = {
            "partnerServiceId": "   88899",
            "customerNo": digits,
            "virtualAccountNo": f"   88899{digits}",
            "virtualAccountName": "Budi Santoso",
            "trxId": f"INV-{digits}",
            "paymentRequestId": nonce,
            "paidAmount": {"value": "150000.00", "currency": "IDR"},
            "trxDateTime": jakarta_iso(when),
            "additionalInfo": {"note": "sent by paytoken notify: a test, not a payment"},
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
        x_timestamp = jakarta_iso(when)
        headers = {"Content-Type": "application/json", "X-TIMESTAMP": x_timestamp}
        if not self.over_body:
            string_to_sign = f"{client_id}|{x_timestamp}"
            headers["X-CLIENT-KEY"] = client_id
            signature = rsa_sha256_b64(key().private_key, string_to_sign.encode("utf-8"))
        elif symmetric:
            secret = profile.require_text("client_secret")
            access_token = token or nonce
            string_to_sign = f"POST:{path}:{access_token}:{sha256_hex(body)}:{x_timestamp}"
            signature = snap_symmetric_signature(secret, string_to_sign)
            headers["Authorization"] = f"Bearer {access_token}"
        else:
            string_to_sign = f"POST:{path}:{sha256_hex(body)}:{x_timestamp}"
            signature = rsa_sha256_b64(key().private_key, string_to_sign.encode("utf-8"))
        headers["X-SIGNATURE"] = signature
        if self.over_body:
            headers["X-PARTNER-ID"] = client_id
            headers["X-EXTERNAL-ID"] = "".join(character for character in nonce if character.isdigit())[:36] or "1"
            headers["CHANNEL-ID"] = "95221"
        return SignedNotification("POST", path, headers, body, string_to_sign, signature)

    def answered(self, status: int, body: bytes) -> tuple[bool, str]:
        return snap_answer(status, body)


def _other_keys(profile: Profile, primary: str) -> Iterator[tuple[str, RSAPublicKey]]:
    """The profile's other RSA keys, public halves, to tell "the wrong key" from "another key"."""
    from ...keys import load_public_key

    for name in _OWN_KEYS:
        if name != primary and name in profile.files:
            try:
                yield name, load_public_key(profile.files[name], source=name)
            except ConfigError:
                continue
    if "private_key" in profile.values or "private_key_file" in profile.files:
        from .recipe import GENERIC_SNAP

        try:
            yield "private_key (its public half)", GENERIC_SNAP.private_key(profile).public_key()
        except ConfigError:
            return


NICEPAY_NOTIFICATION = SnapNotification(
    "nicepay", "notification_public_key_file", "/api/v1.0/transfer-va/payment", over_body=False
)
