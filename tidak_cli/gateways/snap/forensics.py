"""The mistake search for SNAP B2B: the strings a client may have signed instead of `client_id|X-TIMESTAMP`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    Spelling,
    Tally,
    body_spellings,
    describe_offset,
    moments_near,
    rsa_search,
    symmetric_search,
)
from ...profiles import Profile
from ...redact import mask
from ...signing import hmac_sha512, jakarta_iso, jakarta_iso_millis, sha256_hex, utc_z
from ..base import Call, CallReplay, SignedRequest
from .recipe import TIMESTAMP_EXAMPLES, TIMESTAMP_FORMATS, SnapProvider, snap_symmetric_signature, timestamp_matches

__all__ = ["SnapForensics"]

SNAP_UTC_Z = Mistake(
    "snap.utc-z",
    "X-TIMESTAMP in UTC with a Z (2024-12-31T03:11:40Z) instead of Jakarta time with +07:00",
    "send Jakarta time with its offset: {example}",
    jakarta_iso,
)
SNAP_LOCAL_LITERAL = Mistake(
    "snap.local-time-literal-offset",
    "X-TIMESTAMP was this machine's local time ({zone}) with a literal +07:00 appended, {off} Jakarta time "
    "(the official NICEPAY SDK's bug on a server not set to Jakarta)",
    "compute X-TIMESTAMP from an aware clock in Asia/Jakarta ({example} for this one), e.g. "
    "datetime.now(ZoneInfo('Asia/Jakarta')).isoformat(timespec='seconds'); never append +07:00 to local time",
    jakarta_iso,
)
SNAP_MILLIS = Mistake(
    "snap.milliseconds",
    "X-TIMESTAMP with milliseconds (2024-12-31T10:11:40.123+07:00)",
    "send the timestamp to the second ({example}), unless your bank asks for milliseconds (snap: timestamp_format)",
    jakarta_iso,
)
SNAP_TO_ISO_STRING = Mistake(
    "snap.utc-milliseconds-z",
    "X-TIMESTAMP as JavaScript's new Date().toISOString() writes it: UTC with milliseconds and a Z "
    "(2024-12-31T03:11:40.123Z), the usual Postman pre-request script slip",
    "send Jakarta time to the second with its offset: {example} (in JavaScript, format the "
    "Asia/Jakarta wall time yourself; toISOString() is UTC)",
    jakarta_iso,
)
# The thousand endings of a second: .000 to .999, before the zone.
_MILLISECONDS = tuple(f".{millisecond:03d}" for millisecond in range(1000))
_JAKARTA_MILLIS = tuple(f"{fraction}+07:00" for fraction in _MILLISECONDS)
_UTC_MILLIS = tuple(f"{fraction}Z" for fraction in _MILLISECONDS)
SNAP_SECONDS = Mistake(
    "snap.seconds",
    "X-TIMESTAMP to the second (2024-12-31T10:11:40+07:00) where this gateway wants milliseconds",
    "send milliseconds too: {example}",
    jakarta_iso_millis,
)
SNAP_NO_OFFSET = Mistake(
    "snap.no-offset",
    "X-TIMESTAMP without its +07:00 offset in the string to sign",
    "sign the X-TIMESTAMP header value exactly, offset included ({example})",
    jakarta_iso,
)
SNAP_SEPARATOR = Mistake(
    "snap.separator",
    "client id and timestamp joined with another separator than |",
    'join them as client_id + "|" + X-TIMESTAMP',
)
SNAP_REVERSED = Mistake(
    "snap.reversed",
    "timestamp first, then client id",
    'sign client_id + "|" + X-TIMESTAMP, in that order',
)
SNAP_WHITESPACE = Mistake(
    "snap.client-id-whitespace",
    "the client id with spaces or a line break around it",
    "trim the client id (check the value your config or environment variable really holds)",
)


_TIMESTAMP_EXAMPLES = {
    "jakarta": "2024-12-31T10:11:40+07:00",
    "utc": "2024-12-31T03:11:40Z",
    "jakarta-millis": "2024-12-31T10:11:40.123+07:00",
}


@dataclass(frozen=True)
class SnapForensics:
    """What SNAP B2B will object to in a captured request, and which known mistake reproduces a signature."""

    provider: SnapProvider

    def compare(self, profile: Profile, request: SignedRequest, signature: str, context: SearchContext) -> Comparison:
        from ...signing import rsa_signed_digest

        public_key = self.provider.private_key(profile).public_key()
        client_id = profile.require_text("client_id")
        return rsa_search(
            signature,
            request.signature,
            request.string_to_sign,
            lambda raw: rsa_signed_digest(public_key, raw),
            self.candidates(client_id, context, self.provider.timestamp_format(profile)),
            context,
        )

    def read_capture(self, profile: Profile, captured: Captured, now: datetime) -> Replay:
        check = CaptureCheck(captured)
        check.require("X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE", *self.provider.token_headers)
        check.json_content()
        check.path(self.provider.path(profile))
        check.same("X-CLIENT-KEY", captured.header("X-CLIENT-KEY"), profile.require_text("client_id"))
        stamp = captured.header("X-TIMESTAMP")
        forms = (
            (self.provider.timestamp_format(profile),)
            if self.provider.configurable
            else self.provider.accepted_timestamps
        )
        well_formed = stamp is not None and any(timestamp_matches(form, stamp) for form in forms)
        expected = " or ".join(TIMESTAMP_EXAMPLES[form] for form in forms)
        check.timestamp("X-TIMESTAMP", stamp, well_formed, expected, iso_moment(stamp or ""), now)
        return check.done(timestamp=stamp, nonce=None, signature=captured.header("X-SIGNATURE"), body=captured.body)

    def compare_call(
        self, profile: Profile, request: SignedRequest, call: Call, signature: str, context: SearchContext
    ) -> Comparison:
        search = _SnapCallSearch(self.provider, profile, request, call)
        tally = Tally(search.candidates(context, request.signed_at))
        if not search.symmetric:
            from ...signing import rsa_signed_digest

            public_key = self.provider.private_key(profile).public_key()
            found = rsa_search(
                signature,
                request.signature,
                request.string_to_sign,
                lambda raw: rsa_signed_digest(public_key, raw),
                tally,
                context,
            )
            return tally.explain(found)
        found = symmetric_search(signature, request.signature, tally, context)
        known = [mask(token) for token in dict.fromkeys(context.tokens) if token != call.token]
        secret = self.provider.call_secret
        unknowable = [
            "an HMAC does not say which of its inputs differ: if the method, path, body and X-TIMESTAMP shown are "
            f"the ones sent, it was made with another or an expired access token, or another {secret}"
            + (
                f" (the other tokens paytoken knows of, {', '.join(known)}, do not reproduce it either)"
                if known
                else ""
            )
        ]
        return tally.explain(
            found,
            unknowable=unknowable,
            hint=f"sign with the token the call sends in Authorization and with {self.provider.call_secret}, over the "
            "exact body bytes and X-TIMESTAMP sent"
            + (
                ""
                if context.timestamp is not None
                else "; give the X-TIMESTAMP you sent with --timestamp, or the whole call with --replay"
            ),
        )

    def read_call_capture(self, profile: Profile, captured: Captured, now: datetime) -> CallReplay:
        provider = self.provider
        check = CaptureCheck(captured)
        check.body_shown(provider.title, "call")
        needed = ("X-TIMESTAMP", "X-SIGNATURE", "X-PARTNER-ID", "X-EXTERNAL-ID", "CHANNEL-ID")
        check.require(*(("Authorization", *needed) if provider.call_needs_token else needed))
        if captured.body:
            check.json_content()
        authorization = captured.header("Authorization")
        token = bearer_token(authorization)
        if provider.call_needs_token and authorization and token is None:
            check.problems.append("Authorization is not `Bearer <access token>`")
        check.same("X-PARTNER-ID", captured.header("X-PARTNER-ID"), provider.partner_id(profile))
        external = captured.header("X-EXTERNAL-ID")
        call_id = external if external is not None and re.fullmatch(r"[0-9]{1,36}", external) else None
        if external and call_id is None:
            check.problems.append(f"X-EXTERNAL-ID {external!r} is not 1 to 36 digits")
        if provider.call_prefix and not captured.path.startswith(provider.call_prefix + "/"):
            check.cautions.append(f"the call went to {captured.path}, not under {provider.call_prefix}/")
        stamp = captured.header("X-TIMESTAMP")
        forms = (provider.timestamp_format(profile),) if provider.configurable else provider.accepted_timestamps
        well_formed = stamp is not None and any(timestamp_matches(form, stamp) for form in forms)
        expected = " or ".join(TIMESTAMP_EXAMPLES[form] for form in forms)
        check.timestamp("X-TIMESTAMP", stamp, well_formed, expected, iso_moment(stamp or ""), now)
        call = Call(captured.method, captured.relative_target, captured.body, token, call_id)
        return CallReplay(
            call,
            stamp,
            captured.header("X-SIGNATURE"),
            tuple(check.problems),
            tuple(check.cautions),
            call_id_captured=call_id is not None,
        )

    def candidates(self, client_id: str, context: SearchContext, style: str = "jakarta") -> Iterator[Candidate]:
        """Every string a client may have signed: the right one at each moment, then the known mistakes."""
        if context.timestamp is not None:
            yield Candidate(
                None, f"{client_id}|{context.timestamp}", note=f"X-TIMESTAMP {context.timestamp}", exact=True
            )
        if style == "jakarta-millis":
            yield from self._millis_candidates(client_id, context)
            return
        for moment in context.moments:
            stamp = TIMESTAMP_FORMATS[style](moment)
            yield Candidate(None, f"{client_id}|{stamp}", note=f"X-TIMESTAMP {stamp}", moment=moment)
        for moment in context.moments:
            yield from self._mistakes_at(client_id, moment, context)
        # Milliseconds multiply the search by a thousand: last, as families that share one hash per second.
        for moment in context.moments:
            second = jakarta_iso(moment)[:19]
            yield Candidate(
                SNAP_MILLIS,
                f"{client_id}|{second}",
                note=f"X-TIMESTAMP {second}",
                endings=_JAKARTA_MILLIS,
                moment=moment,
            )
        for moment in context.moments:
            second = utc_z(moment)[:19]
            yield Candidate(
                SNAP_TO_ISO_STRING,
                f"{client_id}|{second}",
                note=f"X-TIMESTAMP {second}",
                endings=_UTC_MILLIS,
                moment=moment,
            )

    def _millis_candidates(self, client_id: str, context: SearchContext) -> Iterator[Candidate]:
        """The search for a gateway that wants milliseconds (BRI, Durianpay): the known timestamp's own
        thousandths, else each second's thousand as one family; the slips of the string itself need the
        timestamp that was sent (a thousand of each would be too many)."""
        if context.timestamp is not None:
            for moment in context.moments:
                yield Candidate(_in_millis(SNAP_SECONDS), f"{client_id}|{jakarta_iso(moment)}", moment=moment)
                yield from self._mistakes_at(client_id, moment, context, f".{moment.microsecond // 1000:03d}")
            return
        for moment in context.moments:
            second = jakarta_iso(moment)[:19]
            note = f"X-TIMESTAMP {second}"
            yield Candidate(None, f"{client_id}|{second}", note=note, endings=_JAKARTA_MILLIS, moment=moment)
        for moment in context.moments:
            yield Candidate(_in_millis(SNAP_SECONDS), f"{client_id}|{jakarta_iso(moment)}", moment=moment)
            yield Candidate(_in_millis(SNAP_UTC_Z), f"{client_id}|{utc_z(moment)}", moment=moment)
        for moment in context.moments:
            second, utc_second = jakarta_iso(moment)[:19], utc_z(moment)[:19]
            yield Candidate(_in_millis(SNAP_NO_OFFSET), f"{client_id}|{second}", endings=_MILLISECONDS, moment=moment)
            yield Candidate(
                _in_millis(SNAP_TO_ISO_STRING),
                f"{client_id}|{utc_second}",
                note=f"X-TIMESTAMP {utc_second}",
                endings=_UTC_MILLIS,
                moment=moment,
            )
            for mistake, literal in self._local_literals(moment, context):
                note = f"X-TIMESTAMP {literal}"
                yield Candidate(mistake, f"{client_id}|{literal}", note=note, endings=_JAKARTA_MILLIS, moment=moment)

    @staticmethod
    def _local_literals(moment: datetime, context: SearchContext) -> Iterator[tuple[Mistake, str]]:
        """This machine's wall time (and UTC's) at moment, to the second, where a literal +07:00 is appended."""
        for zone_name, zone in context.zones:
            offset = moment.astimezone(zone).utcoffset() or timedelta(0)
            if offset != timedelta(hours=7):
                mistake = SNAP_LOCAL_LITERAL._replace(
                    says=SNAP_LOCAL_LITERAL.says.format(zone=zone_name, off=describe_offset(offset))
                )
                yield mistake, moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")

    def _mistakes_at(
        self, client_id: str, moment: datetime, context: SearchContext, fraction: str = ""
    ) -> Iterator[Candidate]:
        """The slips at one moment; with a fraction (".123"), as made by a client that sends milliseconds."""
        stamp = jakarta_iso(moment)[:19] + fraction + "+07:00"
        utc = utc_z(moment)[:19] + fraction + "Z"
        named = _in_millis if fraction else _as_is
        yield Candidate(named(SNAP_TO_ISO_STRING if fraction else SNAP_UTC_Z), f"{client_id}|{utc}", moment=moment)
        for mistake, literal in self._local_literals(moment, context):
            literal += fraction + "+07:00"
            yield Candidate(named(mistake), f"{client_id}|{literal}", note=f"X-TIMESTAMP {literal}", moment=moment)
        yield Candidate(named(SNAP_NO_OFFSET), f"{client_id}|{stamp[:-6]}", moment=moment)
        for separator in (":", "", " ", ",", ";", "|\n"):
            yield Candidate(
                SNAP_SEPARATOR, f"{client_id}{separator}{stamp}", note=f"separator {separator!r}", moment=moment
            )
        yield Candidate(SNAP_REVERSED, f"{stamp}|{client_id}", moment=moment)
        for padded in (f" {client_id}", f"{client_id} ", f"{client_id}\n", f" {client_id} ", client_id.strip()):
            if padded != client_id:
                yield Candidate(SNAP_WHITESPACE, f"{padded}|{stamp}", note=f"client id as {padded!r}", moment=moment)


def _as_is(mistake: Mistake) -> Mistake:
    return mistake


def _in_millis(mistake: Mistake) -> Mistake:
    """The mistake as said to a client of a gateway that wants milliseconds: its example fix has them too."""
    fix = mistake.fix.replace("Jakarta time to the second", "Jakarta time with milliseconds")
    return mistake._replace(fix=fix, example=jakarta_iso_millis if mistake.example is not None else None)


# --- the calls after the token (SPEC 6.2, 6.4) ------------------------------------------------------------
#
# The string to sign is METHOD:path:token:lowerhex(SHA-256(body)):X-TIMESTAMP (DOKU, "Symmetric Signature":
# developers.doku.com/get-started-with-doku-api/signature-component/snap/symmetric-signature), and without the
# token for the asymmetric kind (the same site's "Asymmetric Signature" page, "For Transactional").

_HASH = "the body hash (lowercase hex SHA-256 in the string to sign)"
_HASH_SENT = "hash exactly the bytes you send: serialize the body once and send those same bytes (data=, not json=)"
SNAP_CALL_BODY: dict[str, Mistake] = {
    "spacing": Mistake(
        "snap.call.body-spacing",
        f"{_HASH} was computed over the body with other spacing than the bytes sent",
        _HASH_SENT,
        topic="the body hashed with other spacing (json.dumps default, indent 2 or 4, minified)",
    ),
    "escaped-slash": Mistake(
        "snap.call.body-escaped-slash",
        f"{_HASH} was computed over the body with / escaped as \\/ (PHP json_encode's default), not over the "
        "bytes sent",
        f"{_HASH_SENT}; in PHP encode once with JSON_UNESCAPED_SLASHES and send that string",
        topic="/ escaped as \\/",
    ),
    "unicode-escaped": Mistake(
        "snap.call.body-unicode-escaped",
        f"{_HASH} was computed over the body with non-ASCII characters escaped as \\uXXXX, not over the bytes sent",
        f"{_HASH_SENT}; json.dumps(body, ensure_ascii=False) (PHP: JSON_UNESCAPED_UNICODE)",
        topic="non-ASCII escaped as \\uXXXX",
    ),
    "spaces-stripped": Mistake(
        "snap.call.body-spaces-stripped",
        f"{_HASH} was computed over the body with every space deleted, even inside values",
        "minify by serializing the JSON again (separators=(',', ':')), never by deleting spaces: spaces inside "
        "values are data, and the gateway hashes them",
        topic="every space stripped, even inside values",
    ),
    "empty": Mistake(
        "snap.call.empty-body-hash",
        f"{_HASH} is the hash of an empty body (e3b0c442…b855), though the call sends a body",
        "hash the body the call sends; only a call without a body hashes the empty string",
        topic="the hash of an empty body",
    ),
}
SNAP_CALL_QUERY_LEFT_OUT = Mistake(
    "snap.call.query-left-out",
    "the query string was left out of the signed path",
    "sign the path with its query string, exactly as sent (/v1.0/…?partnerServiceId=…)",
    topic="the query string left out",
)
SNAP_CALL_HOST_INCLUDED = Mistake(
    "snap.call.host-included",
    "the signed path was the whole URL (scheme and host included)",
    "sign the relative path with its query string, no scheme, no host",
    topic="the host included",
)
SNAP_CALL_PREFIX_SIGNED = Mistake(
    "snap.call.prefix-signed",
    "the URL's /nicepay prefix was signed; NICEPAY signs the path without it",
    "send the call to …/nicepay/api/…, but sign /api/… (the path without /nicepay)",
    topic="the /nicepay prefix signed",
)
SNAP_CALL_UPPERCASE_HASH = Mistake(
    "snap.call.uppercase-body-hash",
    "the body hash was written in uppercase hex",
    "write the body's SHA-256 as lowercase hex (hexdigest(), or .toLowerCase())",
    topic="the body hash in uppercase hex",
)
SNAP_CALL_HEX_SIGNATURE = Mistake(
    "snap.call.hex-signature",
    "the HMAC-SHA512 was written as hex, not base64",
    "send base64(HMAC-SHA512(client_secret, string to sign)): the raw digest, base64-encoded (digest(), not "
    "hexdigest())",
    topic="hex output instead of base64",
)
SNAP_CALL_BEARER = Mistake(
    "snap.call.bearer-in-token",
    'the token in the string to sign kept its "Bearer " prefix',
    'sign the access token alone; "Bearer " belongs to the Authorization header only',
    topic='"Bearer " kept in the token',
)
SNAP_CALL_OTHER_TOKEN = Mistake(
    "snap.call.other-token",
    "the signature was made with another access token than the one the call carries ({which})",
    "sign with the token you send in Authorization: take the token once (paytoken get) and use it for both",
    topic="the other tokens paytoken knows of",
)
SNAP_CALL_LOWER_METHOD = Mistake(
    "snap.call.lowercase-method",
    "the HTTP method was signed in lower case",
    "sign the method in upper case: POST, GET",
    topic="the method in lower case",
)
SNAP_CALL_OTHER_TIMESTAMP = Mistake(
    "snap.call.other-timestamp",
    "the string to sign carries another timestamp than the X-TIMESTAMP header",
    "take the time once and sign exactly the X-TIMESTAMP header's value, byte for byte",
    topic="other timestamps within 10 minutes of X-TIMESTAMP (Jakarta and UTC forms)",
)
SNAP_CALL_RSA_KEY = Mistake(
    "snap.call.rsa-key-as-secret",
    "the HMAC was keyed with the RSA private key (the token request's key), not with {secret}",
    "key the HMAC-SHA512 with {secret} as UTF-8 text; the RSA key signs the token request only",
    topic="the RSA private key as the HMAC key",
)
SNAP_CALL_CLIENT_ID_KEY = Mistake(
    "snap.call.client-id-as-secret",
    "the HMAC was keyed with client_id, not with {secret}",
    "key the HMAC-SHA512 with {secret} as UTF-8 text (set {secret} in the profile)",
    topic="client_id as the HMAC key",
)


def _private_key_texts(profile: Profile) -> list[str]:
    """The private key as a client may have pasted it where the client secret goes: as held, trimmed, bare base64."""
    held = [profile.text("private_key"), profile.files.get("private_key_file", b"").decode("utf-8", errors="ignore")]
    forms: list[str] = []
    for text in filter(None, held):
        bare = "".join(line.strip() for line in text.splitlines() if line.strip() and "-----" not in line)
        forms += [text, text.strip(), text.strip() + "\n", bare]
    return [form for form in dict.fromkeys(forms) if form]


def _call_string(method: str, path: str, token: str | None, body_hash: str, x_timestamp: str) -> str:
    return ":".join((method, path, *((token,) if token is not None else ()), body_hash, x_timestamp))


class _SnapCallSearch:
    """The candidates for one call: the right recipe at each timestamp, then SPEC 6.4's mistakes."""

    def __init__(self, provider: SnapProvider, profile: Profile, request: SignedRequest, call: Call) -> None:
        self.provider = provider
        self.method = call.method.upper()
        self.url_path, self.signed_path = provider.call_paths(call.path)
        self.body = call.body or b""
        self.body_hash = sha256_hex(self.body)
        self.symmetric = provider.call_needs_token
        self.token = (call.token or "") if self.symmetric else None
        self.secret = profile.require_text(provider.call_secret) if self.symmetric else ""
        origin = urlsplit(request.url)
        self.origin = f"{origin.scheme}://{origin.netloc}"
        own = TIMESTAMP_FORMATS[provider.timestamp_format(profile)]
        self.forms = tuple(dict.fromkeys((own, jakarta_iso, utc_z)))
        self.client_id = profile.require_text("client_id")
        self.rsa_texts = _private_key_texts(profile) if self.symmetric else []
        self.rsa_key, self.client_id_key = (
            mistake._replace(
                says=mistake.says.format(secret=provider.call_secret),
                fix=mistake.fix.format(secret=provider.call_secret),
            )
            for mistake in (SNAP_CALL_RSA_KEY, SNAP_CALL_CLIENT_ID_KEY)
        )

    def sign(self, text: str, key: str | None = None) -> str | None:
        if not self.symmetric:
            return None  # the RSA search opens the given signature instead
        return snap_symmetric_signature(self.secret if key is None else key, text)

    def text(self, stamp: str, **changed: str) -> str:
        return _call_string(
            changed.get("method", self.method),
            changed.get("path", self.signed_path),
            changed.get("token", self.token),
            changed.get("body_hash", self.body_hash),
            stamp,
        )

    def candidates(self, context: SearchContext, signed_at: datetime | None) -> Iterator[Candidate]:
        stamped = context.stamped(self.forms[0])
        for stamp, moment in stamped:
            text = self.text(stamp)
            exact = stamp == context.timestamp
            yield Candidate(None, text, self.sign(text), note=f"X-TIMESTAMP {stamp}", exact=exact, moment=moment)
        spellings = [(spelling, sha256_hex(spelling.body)) for spelling in body_spellings(self.body)]
        for stamp, moment in stamped:
            yield from self._mistakes(stamp, moment, spellings, context)
        if context.timestamp is not None and signed_at is not None and self.forms[0] is jakarta_iso_millis:
            # A timestamp taken twice is milliseconds apart: every one within two seconds, nearest first.
            for offset in sorted(range(-2000, 2001), key=abs):
                moment = signed_at + timedelta(milliseconds=offset)
                stamp = jakarta_iso_millis(moment)
                if stamp != context.timestamp:
                    text = self.text(stamp)
                    note = f"signed with X-TIMESTAMP {stamp}; the header carried {context.timestamp}"
                    yield Candidate(SNAP_CALL_OTHER_TIMESTAMP, text, self.sign(text), note=note, moment=moment)
        if context.timestamp is not None and signed_at is not None:
            for moment in moments_near(signed_at):
                for form in self.forms:
                    stamp = form(moment)
                    if stamp != context.timestamp:
                        text = self.text(stamp)
                        note = f"signed with X-TIMESTAMP {stamp}; the header carried {context.timestamp}"
                        yield Candidate(SNAP_CALL_OTHER_TIMESTAMP, text, self.sign(text), note=note, moment=moment)

    def _mistakes(
        self,
        stamp: str,
        moment: datetime | None,
        spellings: list[tuple[Spelling, str]],
        context: SearchContext,
    ) -> Iterator[Candidate]:
        def made(mistake: Mistake, text: str, note: str = "", signature: str | None = None) -> Candidate:
            signed = signature if signature is not None else self.sign(text)
            return Candidate(mistake, text, signed, note=note, moment=moment)

        for spelling, body_hash in spellings:
            yield made(SNAP_CALL_BODY[spelling.kind], self.text(stamp, body_hash=body_hash), f"hashed: {spelling.note}")
        path, _, query = self.signed_path.partition("?")
        if query:
            yield made(SNAP_CALL_QUERY_LEFT_OUT, self.text(stamp, path=path), f"signed path {path}")
        for url in dict.fromkeys((self.origin + self.url_path, self.origin + self.signed_path, self.origin + path)):
            yield made(SNAP_CALL_HOST_INCLUDED, self.text(stamp, path=url), f"signed path {url}")
        if self.url_path != self.signed_path:
            yield made(SNAP_CALL_PREFIX_SIGNED, self.text(stamp, path=self.url_path), f"signed path {self.url_path}")
        if self.body_hash.upper() != self.body_hash:
            yield made(SNAP_CALL_UPPERCASE_HASH, self.text(stamp, body_hash=self.body_hash.upper()))
        if self.method.lower() != self.method:
            yield made(SNAP_CALL_LOWER_METHOD, self.text(stamp, method=self.method.lower()))
        if self.token is None:
            return
        for prefix in ("Bearer ", "bearer "):
            yield made(SNAP_CALL_BEARER, self.text(stamp, token=prefix + self.token))
        for other in dict.fromkeys(context.tokens):
            if other != self.token:
                which = f"the token ending {mask(other)}, which paytoken knows of"
                mistake = SNAP_CALL_OTHER_TOKEN._replace(says=SNAP_CALL_OTHER_TOKEN.says.format(which=which))
                # Shown with that token masked: it is not the one this call prints anyway.
                signed = self.sign(self.text(stamp, token=other))
                yield made(mistake, self.text(stamp, token=mask(other)), signature=signed)
        text = self.text(stamp)
        raw = hmac_sha512(self.secret.encode("utf-8"), text.encode("utf-8"))
        yield made(SNAP_CALL_HEX_SIGNATURE, text, "lowercase hex", raw.hex())
        yield made(SNAP_CALL_HEX_SIGNATURE, text, "uppercase hex", raw.hex().upper())
        for key_text in self.rsa_texts:
            yield made(self.rsa_key, text, signature=self.sign(text, key_text))
        yield made(self.client_id_key, text, signature=self.sign(text, self.client_id))
