"""The mistake search for DOKU: the bodies, digests, targets and keys a client may have signed with."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from ...capture import Captured, bearer_token
from ...clock import iso_moment
from ...forensics import (
    Candidate,
    CaptureCheck,
    Comparison,
    Mistake,
    Replay,
    SearchContext,
    Tally,
    body_spellings,
    keyed_search,
    moments_near,
)
from ...profiles import Profile
from ...signing import hmac_sha256, jakarta_iso, sha256_b64, utc_z
from ..base import Call, CallReplay, SignedRequest, compact_json, parse_json_object
from .recipe import MAX_REQUEST_ID, SIGNATURE_PREFIX, DokuProvider, component, doku_signature

__all__ = ["DokuForensics"]

DOKU_PRETTY = Mistake(
    "doku.pretty-body",
    "the Digest was computed over a pretty-printed body, not over the bytes sent",
    "hash exactly the bytes you send: serialize once (separators=(',', ':')), send with data=, never json=",
)
DOKU_DEFAULT_DUMPS = Mistake(
    "doku.default-dumps",
    "the Digest was computed over json.dumps with its default spacing (', ' and ': '), not over the bytes sent",
    "hash exactly the bytes you send: serialize once and send those bytes (data=, not json=)",
)
DOKU_REORDERED = Mistake(
    "doku.reordered-body",
    "the Digest was computed over the body with its keys in another order than the bytes sent",
    "serialize the body once and hash and send that same string",
)
DOKU_VALID_TIME_NUMBER = Mistake(
    "doku.valid-time-number",
    'valid_time was a number (360) in the hashed body, where DOKU wants a string ("360")',
    'write "valid_time": "360", a string',
)
DOKU_DIGEST_HEX = Mistake(
    "doku.digest-hex",
    "the Digest line holds the SHA-256 as hex, not base64",
    "Digest is base64(SHA-256(body)), e.g. 23kYsU7yk6vZ/exEcBe1UAFmjn17wuk165Oc+E3Cb8Y=",
    topic="the Digest as hex",
)
DOKU_TARGET_URL = Mistake(
    "doku.request-target",
    "Request-Target was not the path alone: the full URL, a query mark, a trailing slash or no leading slash",
    "Request-Target is the path only: /adv-core-api/partner/v1.0/token",
)
DOKU_JAKARTA_TIME = Mistake(
    "doku.timestamp-offset",
    "Request-Timestamp in Jakarta time with +07:00, where DOKU wants UTC with a Z",
    "send UTC: {example}",
    utc_z,
    topic="Jakarta time instead of UTC",
)
DOKU_SECRET_NEWLINE = Mistake(
    "doku.secret-newline",
    "the secret key had a trailing line break (read from a file or an environment variable with one)",
    "strip the secret key before using it as the HMAC key",
    topic="the secret key with a trailing line break",
)
DOKU_NO_PREFIX = Mistake(
    "doku.no-prefix",
    f"the Signature is the HMAC without the {SIGNATURE_PREFIX} prefix",
    f"send {SIGNATURE_PREFIX} followed by the base64 HMAC",
    topic=f"no {SIGNATURE_PREFIX} prefix",
)
DOKU_HEX_SIGNATURE = Mistake(
    "doku.hex-signature",
    "the HMAC was written as hex, not base64",
    f"send {SIGNATURE_PREFIX} + base64(HMAC-SHA256)",
    topic="hex output instead of base64",
)


# --- the calls after the token (SPEC 6.3, 6.4) ------------------------------------------------------------
#
# Request-Target is the path of the endpoint called; Digest is base64(SHA-256(JSON body)) and "only applied
# for POST Method": a GET has no Digest line (developers.doku.com, get-started-with-doku-api/signature-component/
# non-snap: "Signature Component from Request Header" and "Signature from API Get Method").

_DIGEST = "the Digest was computed over"
_DIGEST_SENT = "hash exactly the bytes you send: serialize the body once and send those same bytes (data=, not json=)"
DOKU_CALL_BODY: dict[str, Mistake] = {
    "spacing": Mistake(
        "doku.call.body-spacing",
        f"{_DIGEST} the body with other spacing than the bytes sent",
        _DIGEST_SENT,
        topic="the body hashed with other spacing (json.dumps default, indent 2 or 4, minified)",
    ),
    "escaped-slash": Mistake(
        "doku.call.body-escaped-slash",
        f"{_DIGEST} the body with / escaped as \\/ (PHP json_encode's default), not over the bytes sent",
        f"{_DIGEST_SENT}; in PHP encode once with JSON_UNESCAPED_SLASHES and send that string",
        topic="/ escaped as \\/",
    ),
    "unicode-escaped": Mistake(
        "doku.call.body-unicode-escaped",
        f"{_DIGEST} the body with non-ASCII characters escaped as \\uXXXX, not over the bytes sent",
        f"{_DIGEST_SENT}; json.dumps(body, ensure_ascii=False) (PHP: JSON_UNESCAPED_UNICODE)",
        topic="non-ASCII escaped as \\uXXXX",
    ),
    "spaces-stripped": Mistake(
        "doku.call.body-spaces-stripped",
        f"{_DIGEST} the body with every space deleted, even inside values",
        "minify by serializing the JSON again (separators=(',', ':')), never by deleting spaces: spaces inside "
        "values are data",
        topic="every space stripped, even inside values",
    ),
    "empty": Mistake(
        "doku.call.empty-body-digest",
        f"{_DIGEST} an empty body (47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=), though the call sends a body",
        "compute the Digest from the body the call sends",
        topic="the Digest of an empty body",
    ),
}
DOKU_CALL_NO_DIGEST = Mistake(
    "doku.call.digest-left-out",
    "the Digest line was left out, though the call sends a body",
    "add Digest:base64(SHA-256(body)) as the last line of the string to sign when the call has a body",
    topic="the Digest line left out",
)
DOKU_CALL_DIGEST_WITHOUT_BODY = Mistake(
    "doku.call.digest-without-body",
    "a Digest line was signed for a call without a body",
    "leave the Digest line out when there is no body (a GET): the string to sign ends with Request-Target",
    topic="a Digest line without a body",
)
DOKU_CALL_QUERY_LEFT_OUT = Mistake(
    "doku.call.query-left-out",
    "the query string was left out of Request-Target",
    "Request-Target is the path with its query string, exactly as sent",
    topic="the query string left out of Request-Target",
)
DOKU_CALL_HOST_INCLUDED = Mistake(
    "doku.call.host-included",
    "Request-Target was the whole URL (scheme and host included), not the path",
    "Request-Target is the path only (with its query string): no scheme, no host",
    topic="the host included in Request-Target",
)
DOKU_CALL_CLIENT_ID_KEY = Mistake(
    "doku.call.client-id-as-key",
    "the HMAC was keyed with the Client-Id, not with the secret key",
    "key the HMAC-SHA256 with secret_key as UTF-8 text",
    topic="Client-Id as the HMAC key",
)
DOKU_CALL_OTHER_TIMESTAMP = Mistake(
    "doku.call.other-timestamp",
    "the string to sign carries another timestamp than the Request-Timestamp header",
    "take the time once and sign exactly the Request-Timestamp header's value",
    topic="other timestamps within 10 minutes of Request-Timestamp (UTC and Jakarta forms)",
)


@dataclass(frozen=True)
class DokuForensics:
    """What DOKU will object to in a captured request, and which known mistake reproduces a signature."""

    provider: DokuProvider

    def compare(self, profile: Profile, request: SignedRequest, signature: str, context: SearchContext) -> Comparison:
        candidates = self.candidates(profile, request, context)
        return keyed_search(
            signature, request.signature, candidates, context, id_flag="--request-id", id_header="Request-Id"
        )

    def read_capture(self, profile: Profile, captured: Captured, now: datetime) -> Replay:
        check = CaptureCheck(captured)
        check.body_shown(self.provider.title)
        check.require("Client-Id", "Request-Id", "Request-Timestamp", "Signature")
        check.json_content()
        check.path(self.provider.token_path)
        check.same("Client-Id", captured.header("Client-Id"), profile.require_text("client_id"))
        stamp = captured.header("Request-Timestamp")
        well_formed = stamp is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp) is not None
        check.timestamp("Request-Timestamp", stamp, well_formed, "2020-08-11T08:45:42Z", iso_moment(stamp or ""), now)
        request_id = captured.header("Request-Id")
        if request_id is not None and len(request_id) > MAX_REQUEST_ID:
            check.problems.append(f"Request-Id is {len(request_id)} characters; DOKU takes at most {MAX_REQUEST_ID}")
        if captured.body is None:
            check.problems.append("the capture has no body; DOKU's token request carries one")
        return check.done(timestamp=stamp, nonce=request_id, signature=captured.header("Signature"), body=captured.body)

    def compare_call(
        self, profile: Profile, request: SignedRequest, call: Call, signature: str, context: SearchContext
    ) -> Comparison:
        tally = Tally(self.call_candidates(profile, request, call, context))
        found = keyed_search(
            signature, request.signature, tally, context, id_flag="--external-id", id_header="Request-Id"
        )
        return tally.explain(
            found,
            unknowable=[
                "an HMAC does not say which of its inputs differ: if the Request-Id, Request-Timestamp, path and "
                "body shown are the ones sent, it was made with another secret_key or Client-Id"
            ],
        )

    def read_call_capture(self, profile: Profile, captured: Captured, now: datetime) -> CallReplay:
        check = CaptureCheck(captured)
        check.body_shown(self.provider.title, "call")
        check.require("Client-Id", "Request-Id", "Request-Timestamp", "Signature")
        if captured.body:
            check.json_content()
        check.same("Client-Id", captured.header("Client-Id"), profile.require_text("client_id"))
        stamp = captured.header("Request-Timestamp")
        well_formed = stamp is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp) is not None
        check.timestamp("Request-Timestamp", stamp, well_formed, "2020-08-11T08:45:42Z", iso_moment(stamp or ""), now)
        request_id = captured.header("Request-Id") or None
        if request_id is not None and len(request_id) > MAX_REQUEST_ID:
            check.problems.append(f"Request-Id is {len(request_id)} characters; DOKU takes at most {MAX_REQUEST_ID}")
            request_id = None
        authorization = captured.header("Authorization")
        token = bearer_token(authorization)
        if authorization and token is None:
            check.problems.append("Authorization is not `Bearer <access token>`")
        call = Call(captured.method, captured.relative_target, captured.body, token, request_id)
        return CallReplay(
            call,
            stamp,
            captured.header("Signature"),
            tuple(check.problems),
            tuple(check.cautions),
            call_id_captured=request_id is not None,
        )

    def call_candidates(
        self, profile: Profile, request: SignedRequest, call: Call, context: SearchContext
    ) -> Iterator[Candidate]:
        """The right call recipe (SPEC 6.3) at each moment, then the call mistakes of SPEC 6.4 that DOKU can make."""
        client_id = profile.require_text("client_id")
        secret = profile.require_text("secret_key")
        request_id = call.call_id or request.headers["Request-Id"]
        body = call.body or b""
        digest = sha256_b64(body) if body else None
        origin = urlsplit(request.url)
        path, _, query = call.path.partition("?")

        def made(
            mistake: Mistake | None,
            stamp: str,
            *,
            target: str = call.path,
            digest: str | None = digest,
            key: str = secret,
            note: str = "",
            moment: datetime | None = None,
            exact: bool = False,
        ) -> Candidate:
            text = component(client_id, request_id, stamp, target, digest)
            return Candidate(mistake, text, doku_signature(key, text), note=note, exact=exact, moment=moment)

        stamped = context.stamped(utc_z)
        for stamp, moment in stamped:
            exact = stamp == context.timestamp and context.nonce is not None
            yield made(None, stamp, note=f"Request-Timestamp {stamp}", exact=exact, moment=moment)
        spellings = body_spellings(body)
        for stamp, moment in stamped:
            for spelling in spellings:
                if spelling.kind == "empty":
                    yield made(DOKU_CALL_BODY["empty"], stamp, digest=sha256_b64(b""), moment=moment)
                    yield made(DOKU_CALL_NO_DIGEST, stamp, digest=None, moment=moment)
                else:
                    mistake = DOKU_CALL_BODY[spelling.kind]
                    note = f"hashed: {spelling.note}"
                    yield made(mistake, stamp, digest=sha256_b64(spelling.body), note=note, moment=moment)
            if not body:
                for empty in (sha256_b64(b""), ""):
                    yield made(
                        DOKU_CALL_DIGEST_WITHOUT_BODY, stamp, digest=empty, note=f"Digest:{empty}", moment=moment
                    )
            else:
                yield made(DOKU_DIGEST_HEX, stamp, digest=hashlib.sha256(body).hexdigest(), moment=moment)
            if query:
                yield made(DOKU_CALL_QUERY_LEFT_OUT, stamp, target=path, note=f"Request-Target:{path}", moment=moment)
            for url in dict.fromkeys((f"{origin.scheme}://{origin.netloc}{call.path}", request.url)):
                yield made(DOKU_CALL_HOST_INCLUDED, stamp, target=url, note=f"Request-Target:{url}", moment=moment)
            right = made(None, stamp)
            yield Candidate(
                DOKU_NO_PREFIX, right.string_to_sign, (right.signature or "").removeprefix(SIGNATURE_PREFIX)
            )
            raw = hmac_sha256(secret.encode("utf-8"), right.string_to_sign.encode("utf-8"))
            yield Candidate(DOKU_HEX_SIGNATURE, right.string_to_sign, SIGNATURE_PREFIX + raw.hex())
            for key in (secret + "\n", secret + "\r\n"):
                yield made(DOKU_SECRET_NEWLINE, stamp, key=key, moment=moment)
            yield made(DOKU_CALL_CLIENT_ID_KEY, stamp, key=client_id, moment=moment)
            if moment is not None:
                jakarta = jakarta_iso(moment)
                yield made(DOKU_JAKARTA_TIME, jakarta, note=f"Request-Timestamp {jakarta}", moment=moment)
        signed_at = request.signed_at
        if context.timestamp is None or signed_at is None:
            return
        for moment in moments_near(signed_at):
            for form in (utc_z, jakarta_iso):
                stamp = form(moment)
                if stamp != context.timestamp and moment != signed_at:
                    note = f"signed with Request-Timestamp {stamp}; the header carried {context.timestamp}"
                    yield made(DOKU_CALL_OTHER_TIMESTAMP, stamp, note=note, moment=moment)

    def candidates(self, profile: Profile, request: SignedRequest, context: SearchContext) -> Iterator[Candidate]:
        """The right recipe at each moment, then DOKU's known mistakes."""
        client_id = profile.require_text("client_id")
        secret = profile.require_text("secret_key")
        request_id = context.nonce or request.headers["Request-Id"]
        path = self.provider.token_path

        def sign(
            stamp: str, body: bytes | None, *, key: str = secret, target: str = path, digest: str | None = None
        ) -> tuple[str, str]:
            text = component(client_id, request_id, stamp, target, digest or (sha256_b64(body) if body else None))
            return text, doku_signature(key, text)

        ours = self.provider.request_body(profile)
        fields = _fields(context.body) or json.loads(ours)
        bodies = [(DOKU_PRETTY, json.dumps(fields, indent=indent).encode()) for indent in (2, 4)]
        bodies += [
            (DOKU_DEFAULT_DUMPS, json.dumps(fields).encode()),
            (DOKU_REORDERED, compact_json(dict(reversed(list(fields.items()))))),
        ]
        valid_time = fields.get("valid_time")
        if isinstance(valid_time, str) and valid_time.isascii() and valid_time.isdigit():
            bodies.append((DOKU_VALID_TIME_NUMBER, compact_json({**fields, "valid_time": int(valid_time)})))
        stamped = context.stamped(utc_z)
        stamps = [stamp for stamp, _moment in stamped]
        sent = context.body if context.body is not None else ours
        for stamp, at in stamped:
            text, signed = sign(stamp, sent)
            exact = stamp == context.timestamp and context.nonce is not None
            yield Candidate(None, text, signed, note=f"Request-Timestamp {stamp}", exact=exact, moment=at)
        for stamp in stamps:
            for mistake, body in bodies:
                if body != sent:
                    text, signed = sign(stamp, body)
                    note = f"the body sent: {sent.decode(errors='replace')!r}"
                    yield Candidate(mistake, text, signed, note=note)
            text, signed = sign(stamp, sent)
            yield Candidate(DOKU_NO_PREFIX, text, signed.removeprefix(SIGNATURE_PREFIX))
            hex_digest = hashlib.sha256(sent).hexdigest()
            yield Candidate(DOKU_DIGEST_HEX, *sign(stamp, sent, digest=hex_digest))
            for target in (profile.base_url + path, path + "?", path + "/", path.lstrip("/")):
                yield Candidate(DOKU_TARGET_URL, *sign(stamp, sent, target=target), note=f"Request-Target:{target}")
            yield Candidate(DOKU_SECRET_NEWLINE, *sign(stamp, sent, key=secret + "\n"))
            yield Candidate(DOKU_SECRET_NEWLINE, *sign(stamp, sent, key=secret + "\r\n"))
            moment = iso_moment(stamp)
            if moment is not None:
                jakarta = jakarta_iso(moment)
                yield Candidate(
                    DOKU_JAKARTA_TIME, *sign(jakarta, sent), note=f"Request-Timestamp {jakarta}", moment=moment
                )
        for stamp in stamps:
            text, _ = sign(stamp, sent)
            raw = hmac_sha256(secret.encode("utf-8"), text.encode("utf-8"))
            yield Candidate(DOKU_HEX_SIGNATURE, text, SIGNATURE_PREFIX + raw.hex())


def _fields(body: bytes | None) -> dict[str, object] | None:
    """The JSON object a captured body holds, to rebuild its other spellings from."""
    if body is None:
        return None
    return parse_json_object(body)
