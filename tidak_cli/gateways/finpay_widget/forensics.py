"""The mistake search for the Finpay widget: HMAC keys and field orders a client may have used."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from ...capture import Captured
from ...clock import jakarta_moment
from ...forensics import Candidate, CaptureCheck, Comparison, Mistake, Replay, SearchContext, keyed_search
from ...profiles import Profile
from ...signing import hmac_sha256, jakarta_compact
from ..base import SignedRequest, parse_json_object
from .recipe import FinpayWidgetProvider, finpay_signature, key_text

__all__ = ["FinpayForensics"]

FINPAY_RAW_SECRET = Mistake(
    "finpay.raw-secret-key",
    "the HMAC was keyed with the raw secret, not with the hex text of its bytes",
    'key the HMAC with secret.encode().hex() as ASCII ("e4siErApPs2020" → "6534736945724170507332303230")',
)
FINPAY_UPPER_KEY = Mistake(
    "finpay.uppercase-key-text",
    "the HMAC key text was uppercase hex; Finpay uses lowercase",
    "key the HMAC with the lowercase hex text of the secret",
)
FINPAY_DECODED_KEY = Mistake(
    "finpay.decoded-key",
    "the secret was decoded from hex into bytes and used as the key, not hex-encoded into text",
    "key the HMAC with secret.encode().hex() as ASCII",
)
FINPAY_UNSORTED = Mistake(
    "finpay.unsorted-fields",
    "the field values were joined in another order than sorted by key",
    "sort the fields by key name (byte order) before joining their values",
)
FINPAY_SIGNATURE_INCLUDED = Mistake(
    "finpay.signature-field-included",
    "the signature field itself (still empty, None or null) was among the joined values",
    "leave the signature field out of the fields you join",
)


@dataclass(frozen=True)
class FinpayForensics:
    """What the Finpay widget will object to in a captured request, and which known mistake reproduces a signature."""

    provider: FinpayWidgetProvider

    def compare(self, profile: Profile, request: SignedRequest, signature: str, context: SearchContext) -> Comparison:
        candidates = self.candidates(profile, request, context)
        return keyed_search(
            signature, request.signature, candidates, context, id_flag="--trans-number", id_header="transNumber"
        )

    def read_capture(self, profile: Profile, captured: Captured, now: datetime) -> Replay:
        from ...capture import basic_user

        check = CaptureCheck(captured)
        check.body_shown(self.provider.title)
        check.require("Authorization")
        check.json_content()
        check.path(self.provider.token_path)
        user = basic_user(captured.header("Authorization"))
        if captured.header("Authorization") and user is None:
            check.problems.append("Authorization is not Basic base64(merchant_id:merchant_password)")
        check.same("the Basic authorization's merchant id", user, profile.require_text("merchant_id"))
        fields = parse_json_object(captured.body or b"") or {}
        if not fields:
            check.problems.append("the body is not a JSON object with reqDtime, requestType, transNumber, signature")
        for name in ("reqDtime", "requestType", "transNumber", "signature"):
            if fields and not isinstance(fields.get(name), str):
                check.problems.append(f"the body has no {name} string")
        if fields and fields.get("requestType") not in (None, "getToken"):
            check.problems.append(f"requestType is {fields.get('requestType')!r}, not 'getToken'")
        raw_stamp = fields.get("reqDtime")
        stamp = raw_stamp if isinstance(raw_stamp, str) else None
        moment = jakarta_moment(stamp or "", "%Y%m%d%H%M%S")
        check.timestamp("reqDtime", stamp, moment is not None, "20240821142750 (Jakarta)", moment, now)
        trans = fields.get("transNumber")
        signature = fields.get("signature")
        return check.done(
            timestamp=stamp,
            nonce=trans if isinstance(trans, str) else None,
            signature=signature if isinstance(signature, str) else None,
            body=captured.body,
        )

    def candidates(self, profile: Profile, request: SignedRequest, context: SearchContext) -> Iterator[Candidate]:
        """The right recipe at each moment, then Finpay's known mistakes."""
        secret = profile.require_text("secret_key")
        trans_number = context.nonce or ""
        stamps = context.stamps(jakarta_compact)

        def hmac_hex(key: bytes, text: str) -> str:
            return hmac_sha256(key, text.encode("utf-8")).hex().upper()

        right_key = key_text(secret).encode("ascii")
        keys = [(FINPAY_RAW_SECRET, secret.encode("utf-8")), (FINPAY_UPPER_KEY, key_text(secret).upper().encode())]
        if re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", secret):
            keys.append((FINPAY_DECODED_KEY, bytes.fromhex(secret)))
        for stamp in stamps:
            fields = {"reqDtime": stamp, "requestType": "getToken", "transNumber": trans_number}
            joined, signed = finpay_signature(fields, secret)
            exact = stamp == context.timestamp and context.nonce is not None
            yield Candidate(None, joined, signed, note=f"reqDtime {stamp}", exact=exact)
        for stamp in stamps:
            fields = {"reqDtime": stamp, "requestType": "getToken", "transNumber": trans_number}
            joined, signed = finpay_signature(fields, secret)
            for mistake, key in keys:
                yield Candidate(mistake, joined, hmac_hex(key, joined))
            for order in itertools.permutations(sorted(fields)):
                if list(order) != sorted(fields):
                    unsorted = "".join(fields[name] for name in order)
                    yield Candidate(
                        FINPAY_UNSORTED,
                        unsorted,
                        hmac_hex(right_key, unsorted),
                        note=f"field order: {', '.join(order)}",
                    )
            for placeholder in ("None", "null", "undefined"):
                joined_with = "".join(value for _key, value in sorted({**fields, "signature": placeholder}.items()))
                yield Candidate(
                    FINPAY_SIGNATURE_INCLUDED,
                    joined_with,
                    hmac_hex(right_key, joined_with),
                    note=f"signature field holding {placeholder!r}",
                )
