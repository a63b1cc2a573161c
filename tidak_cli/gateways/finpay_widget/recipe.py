"""Finpay Money widget `getToken`: HMAC-SHA256 over the sorted field values, keyed with the secret's hex text.

Recipe: SPEC 1.3 (Finpay Money co-brand API, "security/getToken").
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ...clock import jakarta_moment, oracle_moment
from ...errors import ConfigError, GatewayError, RejectedError, UsageError
from ...profiles import Profile, Setting
from ...redact import mask
from ...signing import b64, hmac_sha256, jakarta_compact
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
    request_id,
    unexpected_answer,
)

__all__ = ["FINPAY_WIDGET", "FinpayWidgetProvider", "finpay_signature", "key_text"]

MAX_TRANS_NUMBER = 100

_HEX_SIGNATURE = re.compile(r"\b[0-9A-Fa-f]{64}\b")


def key_text(secret_key: str) -> str:
    """The HMAC key Finpay uses: the lowercase hex text of the secret's ASCII bytes (not the secret itself)."""
    return secret_key.encode("ascii").hex()


def finpay_signature(fields: Mapping[str, str], secret_key: str) -> tuple[str, str]:
    """Return (joined string, signature): values sorted by key, joined, HMAC-SHA256 hex, uppercase."""
    joined = "".join(value for _key, value in sorted((k, v) for k, v in fields.items() if k != "signature"))
    digest = hmac_sha256(key_text(secret_key).encode("ascii"), joined.encode("utf-8"))
    return joined, digest.hex().upper()


def _echoed_signatures(answer: object) -> list[str]:
    # Finpay's staging server may put the signature it expected in its answer. A walk with a stack,
    # not recursion: an answer nested a thousand deep must not crash paytoken.
    found: list[str] = []
    pending = [answer]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            found += _HEX_SIGNATURE.findall(value)
        elif isinstance(value, dict):
            pending += reversed(list(value.values()))
        elif isinstance(value, list):
            pending += reversed(value)
    return found


@dataclass(frozen=True)
class FinpayWidgetProvider:
    """Finpay Money widget's getToken endpoint."""

    name: str = "finpay-widget"
    title: str = "Finpay Money widget"
    token_path: str = "/apicobrand/security/getToken"
    base_urls: Mapping[str, str] = field(default_factory=lambda: {"sandbox": "https://demos.finnet.co.id"})
    algorithm: str = "HMAC-SHA256 (hex)"
    identity_key: str = "merchant_id"
    settings: tuple[Setting, ...] = (
        Setting("merchant_id", "merchant id, the user of the Basic authorization", "text", required=True),
        Setting(
            "merchant_password", "merchant password, the password of the Basic authorization", "secret", required=True
        ),
        Setting("secret_key", "the signature secret Finpay issued", "secret", required=True),
    )
    one_of: tuple[tuple[str, ...], ...] = ()
    options: tuple[CliOption, ...] = (
        CliOption("--trans-number", NONCE, "use this transNumber instead of a fresh TKN… number", "N"),
    )

    @property
    def recipe(self) -> tuple[str, ...]:
        return (
            f"POST {{base_url}}{self.token_path}, Content-Type: application/json",
            "Authorization: Basic base64(merchant_id:merchant_password)",
            "body: reqDtime (Jakarta yyyyMMddHHmmss), requestType getToken, transNumber, signature",
            "string to sign: every field but signature, sorted by key, values joined with no separator",
            'HMAC key: the lowercase hex text of secret_key\'s bytes ("e4siErApPs2020" → "6534…3230")',
            "signature: HMAC-SHA256 hex digest, UPPERCASE",
            "success: statusCode 000, tokenID, tokenExpiry (DD-MMM-YY HH24:MI:SS, Jakarta)",
        )

    def new_nonce(self) -> str | None:
        return "TKN" + "".join(secrets.choice("0123456789") for _ in range(18))

    def build(
        self, profile: Profile, when: datetime | str, nonce: str | None, body: bytes | None = None
    ) -> SignedRequest:
        # The body is not signed as bytes here (Faspay sends none; Finpay's is rebuilt from its fields).
        merchant_id = profile.require_text("merchant_id")
        password = profile.require_text("merchant_password")
        secret_key = profile.require_text("secret_key")
        if not secret_key.isascii():
            raise ConfigError(
                f"secret_key in {profile.where} has non-ASCII characters",
                hint="Finpay keys the HMAC with the hex text of the secret's ASCII bytes: check the secret for "
                "pasted quotes or spaces",
            )
        trans_number = request_id(nonce, MAX_TRANS_NUMBER, "--trans-number", "--trans-number")
        req_dtime = when if isinstance(when, str) else jakarta_compact(when)
        fields = {"reqDtime": req_dtime, "requestType": "getToken", "transNumber": trans_number}
        joined, signature = finpay_signature(fields, secret_key)
        derived = key_text(secret_key)
        return SignedRequest(
            provider=self.name,
            method="POST",
            url=profile.base_url + self.token_path,
            headers=_json_with_basic(merchant_id, password),
            body=compact_json({**fields, "signature": signature}),
            string_to_sign=joined,
            signature=signature,
            algorithm=self.algorithm,
            derivation=(
                ("Sorted fields", ", ".join(sorted(fields))),
                # The key text is the secret in hex: shown masked, like the secret itself.
                ("HMAC key text", f"{mask(derived)}  (lowercase hex of secret_key, {len(derived)} characters)"),
            ),
            signed_at=jakarta_moment(req_dtime, "%Y%m%d%H%M%S"),
        )

    def parse(self, status: int, body: bytes) -> Token:
        data = parse_json_object(body)
        if data is None:
            raise unexpected_answer(status, body, self.title, "a JSON answer with statusCode")
        code = str(data.get("statusCode") or "")
        description = str(data.get("statusDesc") or "")
        token = data.get("tokenID")
        if code == "000" and 200 <= status < 300:
            if not isinstance(token, str) or not token:
                raise GatewayError(f"{self.title} answered statusCode 000 but sent no tokenID")
            expiry = data.get("tokenExpiry")
            return Token(token, "Bearer", None, oracle_moment(expiry) if isinstance(expiry, str) else None, data)
        if status >= 500:
            raise GatewayError(
                f"{self.title} failed with HTTP {status}: {code} {description}".rstrip(),
                quoted=[code, description],
                hint="the gateway failed on its side: retry later",
            )
        echoed = _echoed_signatures(data)
        details = [f"HTTP {status}"]
        if echoed:
            details.append(f"64-character hex value in the answer: {echoed[0]}")
        raise RejectedError(
            f"{self.title} rejected the token request: statusCode {code or '(none)'} {description}".rstrip(),
            status=status,
            code=code or None,
            gateway_message=description or None,
            details=details,
            hint="check merchant_id, merchant_password and secret_key; a signature problem is usually the HMAC "
            "key: Finpay keys it with the hex text of the secret (`paytoken sign finpay-widget` shows the steps)",
            echoed_signature=echoed[0] if echoed else None,
        )

    def derived_secrets(self, profile: Profile) -> list[str]:
        secret, password = profile.text("secret_key"), profile.text("merchant_password")
        derived = [key_text(secret)] if secret and secret.isascii() else []
        if password is not None:
            derived.append(b64(f"{profile.text('merchant_id')}:{password}".encode()))
        return derived

    # --- the calls after the token (SPEC 6.3) ----------------------------------------------------

    call_needs_token: bool = True

    @property
    def call_recipe(self) -> tuple[str, ...]:
        return (
            "POST {base_url}PATH (e.g. /apicobrand/widget/topup), Authorization: Basic as for the token",
            "body: your fields plus reqDtime (unless given), tokenID (the token) and signature, compact JSON",
            "signature: the getToken recipe over every field but signature, tokenID included",
            "success: statusCode 000",
        )

    def new_call_id(self) -> str | None:
        return None

    def build_call(self, profile: Profile, call: Call, when: datetime | str) -> SignedRequest:
        if not call.path.startswith("/"):
            raise UsageError(f"the call's PATH {call.path!r} must start with /", hint=f"write /{call.path}")
        fields = _call_fields(call.body)
        # Every widget request carries its time as reqDtime (Jakarta yyyyMMddHHmmss), as getToken does: the
        # clock's (or --timestamp's) unless the body sets its own.
        fields.setdefault("reqDtime", when if isinstance(when, str) else jakarta_compact(when))
        fields["tokenID"] = call.token or ""
        secret_key = profile.require_text("secret_key")
        joined, signature = finpay_signature(fields, secret_key)
        computed = _json_with_basic(profile.require_text("merchant_id"), profile.require_text("merchant_password"))
        return SignedRequest(
            provider=self.name,
            method=call.method.upper(),
            url=profile.base_url + call.path,
            headers=call_headers(computed, profile, call),
            body=compact_json({**fields, "signature": signature}),
            string_to_sign=joined,
            signature=signature,
            algorithm=self.algorithm,
            derivation=(
                ("Sorted fields", ", ".join(sorted(fields))),
                ("Body", "your fields, reqDtime unless given, tokenID and signature, serialized compactly once"),
            ),
            signed_at=jakarta_moment(fields["reqDtime"], "%Y%m%d%H%M%S"),
        )

    def judge_call(self, status: int, body: bytes) -> CallVerdict:
        data = parse_json_object(body)
        code = data.get("statusCode") if data is not None else None
        message = data.get("statusDesc") if data is not None else None
        return CallVerdict(
            200 <= status < 300 and str(code) == "000",
            str(code) if code is not None else None,
            message if isinstance(message, str) else None,
        )


def _call_fields(body: bytes | None) -> dict[str, str]:
    """A widget call's own fields: a JSON object of strings or numbers (each signed as its text)."""
    data = parse_json_object(body or b"{}")
    if data is None:
        raise UsageError(
            "a finpay-widget call's --data must be a JSON object of fields", hint='e.g. --data \'{"amount":"10000"}\''
        )
    fields: dict[str, str] = {}
    for key, value in data.items():
        if key in ("tokenID", "signature"):
            raise UsageError(f"--data sets {key}, which paytoken computes", hint=f"leave {key} out")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise UsageError(
                f"the field {key} is not a string or a number", hint="Finpay signs the fields' text values only"
            )
        fields[key] = value if isinstance(value, str) else json.dumps(value)
    return fields


FINPAY_WIDGET = FinpayWidgetProvider()


def _json_with_basic(merchant_id: str, password: str) -> dict[str, str]:
    """The headers of every Finpay request, the token's and the calls': a JSON body and Basic merchant auth."""
    return {"Content-Type": "application/json", "Authorization": "Basic " + b64(f"{merchant_id}:{password}".encode())}
