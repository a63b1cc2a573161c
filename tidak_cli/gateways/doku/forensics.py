"""The mistake search for DOKU: the bodies, digests, targets and keys a client may have signed with."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from ...capture import Captured
from ...clock import iso_moment
from ...forensics import Candidate, CaptureCheck, Comparison, Mistake, Replay, SearchContext, keyed_search
from ...profiles import Profile
from ...signing import hmac_sha256, jakarta_iso, sha256_b64, utc_z
from ..base import SignedRequest, compact_json, parse_json_object
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
)
DOKU_TARGET_URL = Mistake(
    "doku.request-target",
    "Request-Target was not the path alone: the full URL, a query mark, a trailing slash or no leading slash",
    "Request-Target is the path only: /adv-core-api/partner/v1.0/token",
)
DOKU_JAKARTA_TIME = Mistake(
    "doku.timestamp-offset",
    "Request-Timestamp in Jakarta time with +07:00, where DOKU wants UTC with a Z",
    "send UTC: 2020-08-11T08:45:42Z",
)
DOKU_SECRET_NEWLINE = Mistake(
    "doku.secret-newline",
    "the secret key had a trailing line break (read from a file or an environment variable with one)",
    "strip the secret key before using it as the HMAC key",
)
DOKU_NO_PREFIX = Mistake(
    "doku.no-prefix",
    f"the Signature is the HMAC without the {SIGNATURE_PREFIX} prefix",
    f"send {SIGNATURE_PREFIX} followed by the base64 HMAC",
)
DOKU_HEX_SIGNATURE = Mistake(
    "doku.hex-signature",
    "the HMAC was written as hex, not base64",
    f"send {SIGNATURE_PREFIX} + base64(HMAC-SHA256)",
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
        stamps = context.stamps(utc_z)
        sent = context.body if context.body is not None else ours
        for stamp in stamps:
            text, signed = sign(stamp, sent)
            exact = stamp == context.timestamp and context.nonce is not None
            yield Candidate(None, text, signed, note=f"Request-Timestamp {stamp}", exact=exact)
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
                yield Candidate(DOKU_JAKARTA_TIME, *sign(jakarta, sent), note=f"Request-Timestamp {jakarta}")
        for stamp in stamps:
            text, _ = sign(stamp, sent)
            raw = hmac_sha256(secret.encode("utf-8"), text.encode("utf-8"))
            yield Candidate(DOKU_HEX_SIGNATURE, text, SIGNATURE_PREFIX + raw.hex())


def _fields(body: bytes | None) -> dict[str, object] | None:
    """The JSON object a captured body holds, to rebuild its other spellings from."""
    if body is None:
        return None
    return parse_json_object(body)
