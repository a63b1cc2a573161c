"""Faspay SendMe's token endpoint and the calls after it: re-encrypt and compare faspay-authorization, then
faspay-signature.

A call (SPEC 6.3, 6.5) is any other `/account/api/…` path with the token request's headers; its string to sign
carries the method sent and base64(client_key:client_secret:access_token), so the token travels only inside
the signature: the gateway tries each token it issued to that faspay-key. Answers follow Faspay's SendMe
"Error Code And Response Code" page: status 2 / response_code 00 for success, status 9 "Unauthorized" else.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ...clock import jakarta_moment
from ...signing import hmac_sha256
from ..emulation import (
    Client,
    Incoming,
    Ledger,
    Reply,
    SandboxConfig,
    SharedSecrets,
    echoed,
    new_token,
    within_skew,
)
from .recipe import FaspaySendMeProvider, faspay_aes, faspay_key_iv, faspay_string_to_sign

__all__ = ["FaspayGateway"]

_SECRETS = ("faspay_secret", "app_key", "app_secret", "client_key", "client_secret", "iv")
_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_HEADERS = ("faspay-key", "faspay-timestamp", "faspay-authorization", "faspay-signature")
_CALL_PREFIX = "/account/api/"


@dataclass(frozen=True)
class FaspayGateway(SharedSecrets):
    secret_keys = _SECRETS
    provider: FaspaySendMeProvider

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
        checked = self._authorized(request, config, now)
        if isinstance(checked, Reply):
            return checked
        values = checked.secrets
        timestamp = request.header("faspay-timestamp") or ""
        string_to_sign = faspay_string_to_sign(
            request.path.split("?")[0], timestamp, values["client_key"], values["client_secret"]
        )
        if not _signs(values, string_to_sign, request.header("faspay-signature") or ""):
            return self._refuse(401, "Invalid faspay-signature")
        token = new_token()
        return Reply.json(
            200,
            {
                "status": "2",
                "response_code": "00",
                "access_token": token,
                "expired_in": str(config.token_ttl),
                "message": "Success",
                "response_desc": "Success",
            },
            issued=True,
            token=token,
            client_id=checked.client_id,
        )

    def _authorized(self, request: Incoming, config: SandboxConfig, now: datetime) -> Client | Reply:
        """The client behind the headers every request carries, or the refusal: timestamp, key, authorization."""
        for name in _HEADERS:
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
        return client

    # --- the calls after the token (SPEC 6.3, 6.5) -----------------------------------------------

    def handle_call(self, request: Incoming, config: SandboxConfig, now: datetime, ledger: Ledger) -> Reply | None:
        if not request.path.startswith(_CALL_PREFIX) or not request.header("faspay-key"):
            return None
        checked = self._authorized(request, config, now)
        if isinstance(checked, Reply):
            return checked
        values = checked.secrets
        timestamp = request.header("faspay-timestamp") or ""
        signature = request.header("faspay-signature") or ""

        def string_to_sign(token: str) -> str:
            # The method and path as sent, query included: what build_call signs (SPEC 6.3).
            return faspay_string_to_sign(
                request.path,
                timestamp,
                values["client_key"],
                values["client_secret"],
                method=request.method,
                token=token,
            )

        for token, issued in ledger.issued_to(self.provider.name, checked.client_id):
            if _signs(values, string_to_sign(token), signature):
                if now >= issued.expires_at:
                    return self._refuse(401, "Access token has expired")
                return Reply.json(
                    200,
                    {
                        "status": "2",
                        "response_code": "00",
                        "message": "Success",
                        "response_desc": "Success",
                        "request": echoed(request),
                    },
                    accepted=True,
                )
        # No token of this client's makes the signature. When the AES form reads back as this very call's
        # string, only the token in it is wrong: say so, as that is what to fix.
        signed = _aes_plaintext(values, signature)
        if signed is not None and _token_in(values, signed, string_to_sign("")) is not None:
            return self._refuse(401, "Invalid access token")
        return self._refuse(401, "Invalid faspay-signature")


def _signs(values: Mapping[str, str], string_to_sign: str, signature: str) -> bool:
    """Whether signature is string_to_sign in either form Faspay takes: AES (both SDKs) or hex HMAC (its prose)."""
    accepted = (
        faspay_aes(values["faspay_secret"], values["iv"], string_to_sign),
        hmac_sha256(values["faspay_secret"].encode(), string_to_sign.encode()).hex(),
    )
    return any(hmac.compare_digest(form.encode(), signature.encode()) for form in accepted)


def _aes_plaintext(values: Mapping[str, str], signature: str) -> str | None:
    """Decrypt an AES faspay-signature with the client's key and IV; None when it is not one."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, derived_iv = faspay_key_iv(values["faspay_secret"], values["iv"])
    try:
        encrypted = base64.b64decode(signature, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(derived_iv)).decryptor()
        padded = decryptor.update(encrypted) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _token_in(values: Mapping[str, str], signed: str, without_token: str) -> str | None:
    """The token inside a decrypted call string, when the rest of it is this call's; None otherwise."""
    # without_token is METHOD:path:timestamp:base64(client_key:client_secret:): only the base64 field differs.
    head = without_token[:-1].rpartition(":")[0]
    if not (signed.startswith(head + ":") and signed.endswith(":")):
        return None
    try:
        credentials = base64.b64decode(signed[len(head) + 1 : -1], validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    prefix = f"{values['client_key']}:{values['client_secret']}:"
    return credentials[len(prefix) :] if credentials.startswith(prefix) else None
