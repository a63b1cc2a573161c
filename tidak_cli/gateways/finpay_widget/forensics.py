"""The mistake search for the Finpay widget: HMAC keys and field orders a client may have used."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from ...capture import Captured
from ...clock import jakarta_moment
from ...forensics import (
    Candidate,
    CaptureCheck,
    Comparison,
    Mistake,
    Replay,
    SearchContext,
    Tally,
    keyed_search,
    moments_near,
    symmetric_search,
)
from ...profiles import Profile
from ...redact import mask
from ...signing import hmac_sha256, jakarta_compact
from ..base import Call, CallReplay, SignedRequest, compact_json, parse_json_object
from .recipe import FinpayWidgetProvider, finpay_signature, key_text

__all__ = ["FinpayForensics"]

FINPAY_RAW_SECRET = Mistake(
    "finpay.raw-secret-key",
    "the HMAC was keyed with the raw secret, not with the hex text of its bytes",
    'key the HMAC with secret.encode().hex() as ASCII ("e4siErApPs2020" → "6534736945724170507332303230")',
    topic="the raw secret as the HMAC key",
)
FINPAY_UPPER_KEY = Mistake(
    "finpay.uppercase-key-text",
    "the HMAC key text was uppercase hex; Finpay uses lowercase",
    "key the HMAC with the lowercase hex text of the secret",
    topic="the key text in uppercase hex",
)
FINPAY_DECODED_KEY = Mistake(
    "finpay.decoded-key",
    "the secret was decoded from hex into bytes and used as the key, not hex-encoded into text",
    "key the HMAC with secret.encode().hex() as ASCII",
    topic="the secret decoded from hex as the key",
)
FINPAY_UNSORTED = Mistake(
    "finpay.unsorted-fields",
    "the field values were joined in another order than sorted by key",
    "sort the fields by key name (byte order) before joining their values",
    topic="the fields in another order",
)
FINPAY_SIGNATURE_INCLUDED = Mistake(
    "finpay.signature-field-included",
    "the signature field itself (still empty, None or null) was among the joined values",
    "leave the signature field out of the fields you join",
    topic="the signature field joined too",
)


# --- the calls after the token (SPEC 6.3, 6.4) ------------------------------------------------------------
#
# A widget call signs its body's fields plus tokenID, sorted by key, with the getToken recipe (SPEC 6.3).

FINPAY_CALL_NO_TOKEN = Mistake(
    "finpay.call.token-left-out",
    "tokenID was left out of the signed fields",
    "sign every field but signature, tokenID (the token from getToken) included, sorted by key",
    topic="tokenID left out of the signed fields",
)
FINPAY_CALL_OTHER_TOKEN = Mistake(
    "finpay.call.other-token",
    "the signature was made with another tokenID than the one the call carries ({which})",
    "sign with the tokenID the call sends: take the token once (paytoken get) and use it for both",
    topic="the other tokens paytoken knows of",
)
FINPAY_CALL_BEARER = Mistake(
    "finpay.call.bearer-in-token",
    'the signed tokenID kept a "Bearer " prefix',
    "sign the token alone, as the tokenID field carries it",
    topic='"Bearer " kept in the token',
)
FINPAY_CALL_OTHER_TIMESTAMP = Mistake(
    "finpay.call.other-timestamp",
    "the signed reqDtime is another time than the reqDtime field sent",
    "take the time once, put it in reqDtime and sign that same value",
    topic="other reqDtime values within 10 minutes",
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

        check = CaptureCheck(captured)
        check.body_shown(self.provider.title)
        self._authorization(profile, captured, check)
        check.path(self.provider.token_path)
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

    def compare_call(
        self, profile: Profile, request: SignedRequest, call: Call, signature: str, context: SearchContext
    ) -> Comparison:
        tally = Tally(self.call_candidates(profile, request, call, context))
        found = symmetric_search(signature, request.signature, tally, context)
        unknowable = [
            "an HMAC does not say which of its inputs differ: if the fields shown are the ones sent, it was made "
            "with another or an expired tokenID, or another secret_key"
        ]
        return tally.explain(found, unknowable=unknowable)

    def read_call_capture(self, profile: Profile, captured: Captured, now: datetime) -> CallReplay:
        """The call's own fields, tokenID and signature out of the captured body.

        Finpay signs the fields, not the bytes: the call's body is the captured fields but tokenID and signature,
        written again compactly (the recipe adds those two).
        """
        check = CaptureCheck(captured)
        check.body_shown(self.provider.title, "call")
        self._authorization(profile, captured, check)
        fields = parse_json_object(captured.body or b"") or {}
        if not fields:
            check.problems.append("the body is not a JSON object of fields with tokenID and signature")
        token, signature = fields.pop("tokenID", None), fields.pop("signature", None)
        for name, value in (("tokenID", token), ("signature", signature)):
            if fields and not isinstance(value, str):
                check.problems.append(f"the body has no {name} string")
        raw_stamp = fields.get("reqDtime")
        stamp = raw_stamp if isinstance(raw_stamp, str) else None
        if stamp is not None:
            moment = jakarta_moment(stamp, "%Y%m%d%H%M%S")
            check.timestamp("reqDtime", stamp, moment is not None, "20240821142750 (Jakarta)", moment, now)
        body = compact_json(fields) if fields else captured.body
        call = Call(captured.method, captured.relative_target, body, token if isinstance(token, str) else None)
        return CallReplay(
            call, stamp, signature if isinstance(signature, str) else None, tuple(check.problems), tuple(check.cautions)
        )

    def _authorization(self, profile: Profile, captured: Captured, check: CaptureCheck) -> None:
        from ...capture import basic_user

        check.require("Authorization")
        check.json_content()
        user = basic_user(captured.header("Authorization"))
        if captured.header("Authorization") and user is None:
            check.problems.append("Authorization is not Basic base64(merchant_id:merchant_password)")
        check.same("the Basic authorization's merchant id", user, profile.require_text("merchant_id"))

    def call_candidates(
        self, profile: Profile, request: SignedRequest, call: Call, context: SearchContext
    ) -> Iterator[Candidate]:
        """The right call recipe (SPEC 6.3), then the call mistakes of SPEC 6.4 the widget's recipe can make.

        reqDtime is the body's when it sets one; else the clock's, like a timestamp: the one given, or every
        second of the last minutes.
        """
        secret = profile.require_text("secret_key")
        signed = parse_json_object(request.body or b"{}") or {}
        fields = {name: str(value) for name, value in signed.items() if name != "signature"}
        token = fields.get("tokenID", "")
        own_time = "reqDtime" in (parse_json_object(call.body or b"{}") or {})

        def made(
            mistake: Mistake | None, changed: dict[str, str], note: str = "", moment: datetime | None = None
        ) -> Candidate:
            joined, signature = finpay_signature(changed, secret)
            return Candidate(mistake, joined, signature, note=note, moment=moment)

        stamped: list[tuple[str, datetime | None]] = (
            [(fields["reqDtime"], request.signed_at)] if own_time else context.stamped(jakarta_compact)
        )
        for stamp, moment in stamped:
            joined, signature = finpay_signature({**fields, "reqDtime": stamp}, secret)
            exact = own_time or stamp == context.timestamp
            yield Candidate(None, joined, signature, note=f"reqDtime {stamp}", exact=exact, moment=moment)
        for stamp, moment in stamped:
            yield from self._call_mistakes({**fields, "reqDtime": stamp}, token, secret, moment, context)
        signed_at = request.signed_at
        if (own_time or context.timestamp is not None) and signed_at is not None:
            for moment in moments_near(signed_at):
                other_stamp = jakarta_compact(moment)
                if other_stamp != fields["reqDtime"]:
                    note = f"signed reqDtime {other_stamp}; the field carried {fields['reqDtime']}"
                    yield made(FINPAY_CALL_OTHER_TIMESTAMP, {**fields, "reqDtime": other_stamp}, note, moment)

    def _call_mistakes(
        self, fields: dict[str, str], token: str, secret: str, moment: datetime | None, context: SearchContext
    ) -> Iterator[Candidate]:
        right_key = key_text(secret).encode("ascii")

        def mac(key: bytes, joined: str) -> str:
            return hmac_sha256(key, joined.encode("utf-8")).hex().upper()

        def made(mistake: Mistake, changed: dict[str, str], shown: dict[str, str] | None = None) -> Candidate:
            joined, signature = finpay_signature(changed, secret)
            text = joined if shown is None else finpay_signature(shown, secret)[0]
            return Candidate(mistake, text, signature, moment=moment)

        joined, _signature = finpay_signature(fields, secret)
        for mistake, key in self._wrong_keys(secret):
            yield Candidate(mistake, joined, mac(key, joined), moment=moment)
        yield made(FINPAY_CALL_NO_TOKEN, {name: value for name, value in fields.items() if name != "tokenID"})
        for other in dict.fromkeys(context.tokens):
            if other != token:
                which = f"the token ending {mask(other)}, which paytoken knows of"
                mistake = FINPAY_CALL_OTHER_TOKEN._replace(says=FINPAY_CALL_OTHER_TOKEN.says.format(which=which))
                # Shown with that token masked: it is not the one this call prints anyway.
                yield made(mistake, {**fields, "tokenID": other}, {**fields, "tokenID": mask(other)})
        yield made(FINPAY_CALL_BEARER, {**fields, "tokenID": "Bearer " + token})
        own = [name for name in fields if name != "tokenID"]
        for order in ([*own, "tokenID"], ["tokenID", *own]):
            if order != sorted(fields):
                unsorted = "".join(fields[name] for name in order)
                note = f"field order: {', '.join(order)}"
                yield Candidate(FINPAY_UNSORTED, unsorted, mac(right_key, unsorted), note=note, moment=moment)
        for placeholder in ("None", "null", "undefined"):
            with_signature = "".join(value for _name, value in sorted({**fields, "signature": placeholder}.items()))
            note = f"signature field holding {placeholder!r}"
            yield Candidate(
                FINPAY_SIGNATURE_INCLUDED, with_signature, mac(right_key, with_signature), note=note, moment=moment
            )

    def _wrong_keys(self, secret: str) -> list[tuple[Mistake, bytes]]:
        keys = [(FINPAY_RAW_SECRET, secret.encode("utf-8")), (FINPAY_UPPER_KEY, key_text(secret).upper().encode())]
        if re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", secret):
            keys.append((FINPAY_DECODED_KEY, bytes.fromhex(secret)))
        return [(mistake, key) for mistake, key in keys if key != key_text(secret).encode("ascii")]

    def candidates(self, profile: Profile, request: SignedRequest, context: SearchContext) -> Iterator[Candidate]:
        """The right recipe at each moment, then Finpay's known mistakes."""
        secret = profile.require_text("secret_key")
        trans_number = context.nonce or ""
        stamped = context.stamped(jakarta_compact)
        stamps = [stamp for stamp, _moment in stamped]

        def hmac_hex(key: bytes, text: str) -> str:
            return hmac_sha256(key, text.encode("utf-8")).hex().upper()

        right_key = key_text(secret).encode("ascii")
        keys = self._wrong_keys(secret)
        for stamp, at in stamped:
            fields = {"reqDtime": stamp, "requestType": "getToken", "transNumber": trans_number}
            joined, signed = finpay_signature(fields, secret)
            exact = stamp == context.timestamp and context.nonce is not None
            yield Candidate(None, joined, signed, note=f"reqDtime {stamp}", exact=exact, moment=at)
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
