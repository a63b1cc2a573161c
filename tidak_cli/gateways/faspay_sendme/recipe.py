"""Faspay SendMe (v1) access token: AES-256-CBC with a key and IV derived from faspay_secret.

Recipe: SPEC 1.4 (Faspay SendMe API and its official PHP and Java SDKs, which both encrypt the signature).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ...clock import jakarta_moment, lifetime_seconds
from ...errors import GatewayError, RejectedError
from ...profiles import Profile, Setting
from ...signing import aes256_cbc_b64, b64, hmac_sha256, jakarta_spaced
from ..base import (
    Call,
    CallVerdict,
    CliOption,
    SignedRequest,
    Token,
    call_headers,
    parse_json_object,
    snippet,
    unexpected_answer,
)

__all__ = ["FASPAY_SENDME", "FaspaySendMeProvider", "faspay_aes", "faspay_key_iv", "faspay_string_to_sign"]

SIGNED_METHOD = "GET"


def faspay_key_iv(faspay_secret: str, iv: str) -> tuple[bytes, bytes]:
    """Derive Faspay's AES key (SHA-256 of the secret) and IV (last 16 hex characters of MD5(secret + iv))."""
    key = hashlib.sha256(faspay_secret.encode("utf-8")).digest()
    derived_iv = hashlib.md5((faspay_secret + iv).encode("utf-8"), usedforsecurity=False).hexdigest()[-16:]
    return key, derived_iv.encode("ascii")


def faspay_aes(faspay_secret: str, iv: str, plaintext: str) -> str:
    """Faspay's AES primitive: base64(AES-256-CBC(derived key, derived IV, PKCS#7(plaintext)))."""
    key, derived_iv = faspay_key_iv(faspay_secret, iv)
    return aes256_cbc_b64(key, derived_iv, plaintext)


def faspay_string_to_sign(
    path: str,
    timestamp: str,
    client_key: str,
    client_secret: str,
    *,
    method: str = SIGNED_METHOD,
    token: str | None = None,
) -> str:
    """`GET:{path}:{timestamp}:{base64(client_key:client_secret)}:` (the last field, the body, is empty).

    A call after the token signs its own method and base64(client_key:client_secret:access_token).
    """
    credentials = f"{client_key}:{client_secret}" + (f":{token}" if token is not None else "")
    return ":".join((method, path, timestamp, b64(credentials.encode()), ""))


@dataclass(frozen=True)
class FaspaySendMeProvider:
    """Faspay SendMe's token endpoint."""

    name: str = "faspay-sendme"
    title: str = "Faspay SendMe"
    token_path: str = "/account/api/tokens"
    base_urls: Mapping[str, str] = field(
        default_factory=lambda: {
            "sandbox": "https://sendme-sandbox.faspay.co.id",
            "production": "https://sendme.faspay.co.id",
        }
    )
    algorithm: str = "AES-256-CBC"
    identity_key: str = "faspay_key"
    settings: tuple[Setting, ...] = (
        Setting("faspay_key", "the faspay-key header value", "text", required=True),
        Setting("faspay_secret", "derives the AES key and IV", "secret", required=True),
        Setting("app_key", "first half of faspay-authorization", "text", required=True),
        Setting("app_secret", "second half of faspay-authorization", "secret", required=True),
        Setting("client_key", "first half of the signed credentials", "text", required=True),
        Setting("client_secret", "second half of the signed credentials", "secret", required=True),
        Setting("iv", "the IV seed Faspay issued", "secret", required=True),
        Setting(
            "signature_method",
            "aes (both official SDKs) or hmac (Faspay's prose)",
            "choice",
            default="aes",
            choices=("aes", "hmac"),
        ),
        Setting(
            "http_method",
            "HTTP verb sent; the signed method stays GET",
            "choice",
            default="GET",
            choices=("GET", "POST"),
        ),
    )
    one_of: tuple[tuple[str, ...], ...] = ()
    options: tuple[CliOption, ...] = ()

    @property
    def recipe(self) -> tuple[str, ...]:
        return (
            f"GET {{base_url}}{self.token_path} (http_method = POST switches the verb), no body",
            "AES: key = SHA-256(faspay_secret); iv = last 16 hex characters of MD5(faspay_secret + iv); "
            "base64(AES-256-CBC, PKCS#7)",
            "faspay-key; faspay-timestamp (Jakarta, 2018-10-09 14:24:00); "
            "faspay-authorization = AES(app_key:app_secret)",
            f"string to sign: GET:{self.token_path}:{{timestamp}}:{{base64(client_key:client_secret)}}: "
            "(empty body, hence the trailing colon)",
            "faspay-signature: AES(string to sign), or with signature_method = hmac, "
            "lowercase hex HMAC-SHA256(faspay_secret, string to sign)",
            "success: status 2, access_token, expired_in seconds",
        )

    def new_nonce(self) -> str | None:
        return None

    def build(
        self, profile: Profile, when: datetime | str, nonce: str | None, body: bytes | None = None
    ) -> SignedRequest:
        # The body is not signed as bytes here (Faspay sends none; Finpay's is rebuilt from its fields).
        return self._signed(profile, SIGNED_METHOD, self.token_path, when, None, None)

    def _signed(
        self, profile: Profile, method: str, path: str, when: datetime | str, token: str | None, call: Call | None
    ) -> SignedRequest:
        faspay_secret = profile.require_text("faspay_secret")
        iv = profile.require_text("iv")
        timestamp = when if isinstance(when, str) else jakarta_spaced(when)
        string_to_sign = faspay_string_to_sign(
            path,
            timestamp,
            profile.require_text("client_key"),
            profile.require_text("client_secret"),
            method=method,
            token=token,
        )
        if profile.text("signature_method") == "hmac":
            signature = hmac_sha256(faspay_secret.encode("utf-8"), string_to_sign.encode("utf-8")).hex()
            algorithm = "HMAC-SHA256 (hex)"
        else:
            signature = faspay_aes(faspay_secret, iv, string_to_sign)
            algorithm = self.algorithm
        key, derived_iv = faspay_key_iv(faspay_secret, iv)
        authorization = faspay_aes(
            faspay_secret, iv, f"{profile.require_text('app_key')}:{profile.require_text('app_secret')}"
        )
        computed = {
            "faspay-key": profile.require_text("faspay_key"),
            "faspay-timestamp": timestamp,
            "faspay-authorization": authorization,
            "faspay-signature": signature,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        signed_method = (
            ("Signed method", f"{SIGNED_METHOD} (whatever verb is sent)")
            if call is None
            else ("Signed body", "none: Faspay signs the body as the empty string, whatever is sent")
        )
        return SignedRequest(
            provider=self.name,
            method=(profile.text("http_method") or "GET") if call is None else method,
            url=profile.base_url + path,
            headers=computed if call is None else call_headers(computed, profile, call),
            body=None if call is None else call.body,
            string_to_sign=string_to_sign,
            signature=signature,
            algorithm=algorithm,
            derivation=(
                ("AES key", f"SHA-256(faspay_secret), fingerprint {hashlib.sha256(key).hexdigest()[:16]}"),
                ("AES IV", f"{derived_iv.decode()}  (last 16 hex characters of MD5(faspay_secret + iv))"),
                signed_method,
                (
                    "Signature method",
                    "HMAC-SHA256 keyed with faspay_secret; faspay-authorization stays AES"
                    if algorithm.startswith("HMAC")
                    else "AES, as both official SDKs do",
                ),
            ),
            signed_at=jakarta_moment(timestamp, "%Y-%m-%d %H:%M:%S"),
        )

    def parse(self, status: int, body: bytes) -> Token:
        data = parse_json_object(body)
        if data is None:
            raise unexpected_answer(status, body, self.title, "a JSON answer with status")
        state = str(data.get("status") or "")
        token = data.get("access_token")
        if state == "2" and 200 <= status < 300:
            if not isinstance(token, str) or not token:
                raise GatewayError(f"{self.title} answered status 2 but sent no access_token")
            return Token(token, "Bearer", lifetime_seconds(data.get("expired_in")), None, data)
        if status >= 500:
            raise GatewayError(
                f"{self.title} failed with HTTP {status}",
                details=[f"body: {snippet(body)}"],
                quoted=[snippet(body)],
                hint="the gateway failed on its side: retry later",
            )
        message = " / ".join(str(data[key]) for key in ("message", "response_desc") if data.get(key))
        code = str(data.get("response_code") or "")
        raise RejectedError(
            f"{self.title} rejected the token request: status {state or '(none)'} {message}".rstrip(),
            status=status,
            code=code or state or None,
            gateway_message=message or None,
            details=[f"HTTP {status}" + (f", response_code {code}" if code else "")],
            hint="status 9 is Unauthorized: check faspay_key, app_key/app_secret (faspay-authorization), "
            "client_key/client_secret and faspay_secret/iv (the AES key and IV); if Faspay expects the HMAC "
            'form, set signature_method = "hmac"',
        )

    def derived_secrets(self, profile: Profile) -> list[str]:
        # The string to sign carries base64(client_key:client_secret): the secret, readable by anyone.
        client_key, client_secret = profile.text("client_key"), profile.text("client_secret")
        return [b64(f"{client_key}:{client_secret}".encode())] if client_secret is not None else []

    # --- the calls after the token (SPEC 6.3) ----------------------------------------------------

    call_needs_token: bool = True

    @property
    def call_recipe(self) -> tuple[str, ...]:
        return (
            "METHOD {base_url}PATH with the token request's headers (faspay-key, -timestamp, -authorization)",
            "string to sign: METHOD:path:faspay-timestamp:base64(client_key:client_secret:access_token): "
            "(the body is signed as the empty string)",
            "faspay-signature: AES(string to sign) as for the token (or the hex HMAC with signature_method = hmac)",
            'success: HTTP 2xx and status "2" (or "1", on process) when the answer has one',
        )

    def new_call_id(self) -> str | None:
        return None

    def build_call(self, profile: Profile, call: Call, when: datetime | str) -> SignedRequest:
        if not call.path.startswith("/"):
            from ...errors import UsageError

            raise UsageError(f"the call's PATH {call.path!r} must start with /", hint=f"write /{call.path}")
        return self._signed(profile, call.method.upper(), call.path, when, call.token or "", call)

    def judge_call(self, status: int, body: bytes) -> CallVerdict:
        data = parse_json_object(body)
        state = data.get("status") if data is not None else None
        code = data.get("response_code") if data is not None else None
        message = " / ".join(str(data[key]) for key in ("message", "response_desc") if data.get(key)) if data else ""
        # Faspay SendMe's "Error Code And Response Code" page: a transaction answers status 1 (on process), 2
        # (success) or 4 (failed), and 9 is an error; a transfer on process was taken, not refused.
        ok = 200 <= status < 300 and (state is None or str(state) in ("1", "2"))
        return CallVerdict(ok, str(code) if code is not None else None, message or None)


FASPAY_SENDME = FaspaySendMeProvider()
