"""The mistake search for Faspay SendMe: signature methods, methods and timestamp forms a client may have used."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ...capture import Captured, bearer_token
from ...clock import JAKARTA, jakarta_moment
from ...forensics import (
    Candidate,
    CaptureCheck,
    Comparison,
    Mistake,
    Replay,
    SearchContext,
    Tally,
    moments_near,
    symmetric_search,
)
from ...profiles import Profile
from ...redact import mask
from ...signing import aes256_cbc_open, hmac_sha256, jakarta_spaced
from ..base import Call, CallReplay, SignedRequest
from .recipe import SIGNED_METHOD, FaspaySendMeProvider, faspay_aes, faspay_key_iv, faspay_string_to_sign

__all__ = ["FaspayForensics"]

FASPAY_OTHER_METHOD = Mistake(
    "faspay.other-signature-method",
    "the signature was made with the other method (AES where paytoken uses HMAC, or the reverse)",
    'set signature_method in the profile to the one your gateway expects ("aes" or "hmac")',
    topic="the other signature method (AES or HMAC)",
)
FASPAY_NO_TRAILING_COLON = Mistake(
    "faspay.no-trailing-colon",
    "the string to sign lacks its trailing colon (the empty body field)",
    "end the string to sign with ':' even though the body is empty",
    topic="no trailing colon",
)
FASPAY_POST_SIGNED = Mistake(
    "faspay.post-signed",
    "POST was signed; Faspay signs GET for the token request whatever verb is sent",
    "sign GET:/account/api/tokens:…, even when sending POST",
)
FASPAY_TIMESTAMP_FORMAT = Mistake(
    "faspay.timestamp-format",
    "the timestamp in the string to sign was in another format or zone than Jakarta 2018-10-09 14:24:00",
    "use Jakarta time written as YYYY-MM-DD HH:MM:SS ({example}), the same value as the faspay-timestamp header",
    jakarta_spaced,
    topic="the timestamp in another format or zone",
)


# --- the calls after the token (SPEC 6.3, 6.4) ------------------------------------------------------------
#
# A call signs METHOD:path:faspay-timestamp:base64(client_key:client_secret:access_token): with the body field
# empty (SPEC 6.3, from the official SDKs). The AES form can be opened with the profile's faspay_secret and iv,
# so that the search knows which string, and which token, the signature holds.

FASPAY_CALL_NO_TOKEN = Mistake(
    "faspay.call.token-left-out",
    "the access token was left out of the signed credentials: base64(client_key:client_secret), as for the token "
    "request",
    "a call signs base64(client_key + ':' + client_secret + ':' + access_token)",
    topic="the token left out of the credentials",
)
FASPAY_CALL_OTHER_TOKEN = Mistake(
    "faspay.call.other-token",
    "the signature was made with another access token than the one given ({which})",
    "sign with the token you were issued last (paytoken get): take the token once and use it for the call",
    topic="the other tokens paytoken knows of",
)
FASPAY_CALL_BEARER = Mistake(
    "faspay.call.bearer-in-token",
    'the token in the signed credentials kept its "Bearer " prefix',
    "sign the access token alone",
    topic='"Bearer " kept in the token',
)
FASPAY_CALL_GET_SIGNED = Mistake(
    "faspay.call.get-signed",
    "GET was signed, as for the token request; a call signs its own method",
    "sign the call's method: POST:/account/api/…",
    topic="GET signed for another method",
)
FASPAY_CALL_LOWER_METHOD = Mistake(
    "faspay.call.lowercase-method",
    "the HTTP method was signed in lower case",
    "sign the method in upper case",
    topic="the method in lower case",
)
FASPAY_CALL_QUERY_LEFT_OUT = Mistake(
    "faspay.call.query-left-out",
    "the query string was left out of the signed path",
    "sign the path with its query string, exactly as sent",
    topic="the query string left out",
)
FASPAY_CALL_HOST_INCLUDED = Mistake(
    "faspay.call.host-included",
    "the signed path was the whole URL (scheme and host included)",
    "sign the path only, no scheme, no host",
    topic="the host included",
)
FASPAY_CALL_BODY_SIGNED = Mistake(
    "faspay.call.body-signed",
    "the body was signed in the last field; Faspay signs it as the empty string",
    "end the string to sign with an empty body field (a trailing ':'), whatever the call sends",
    topic="the body signed in the last field",
)
FASPAY_CALL_WRONG_SECRET = Mistake(
    "faspay.call.wrong-secret",
    "the signature was made with {which} in place of faspay_secret",
    "derive the AES key and IV (or key the HMAC) from faspay_secret",
    topic="client_secret or app_secret in place of faspay_secret",
)
FASPAY_CALL_OTHER_TIMESTAMP = Mistake(
    "faspay.call.other-timestamp",
    "the string to sign carries another timestamp than the faspay-timestamp header",
    "take the time once and sign exactly the faspay-timestamp header's value",
    topic="other timestamps within 10 minutes of faspay-timestamp",
)


def _fields(text: str, client_key: str) -> tuple[str, str, str, str, str]:
    """METHOD, path, timestamp, credentials, body of a Faspay string to sign (the timestamp and a body may hold
    colons: the credentials field, base64 of `client_key:…`, is found by what it holds)."""
    parts = text.split(":")
    for index in range(2, len(parts)):
        held = _credentials(parts[index])
        if held is not None and held[0] == client_key:
            return parts[0], parts[1], ":".join(parts[2:index]), parts[index], ":".join(parts[index + 1 :])
    if len(parts) < 5:
        return (text, "", "", "", "")
    return parts[0], parts[1], ":".join(parts[2:-2]), parts[-2], parts[-1]


def _masked_credentials(text: str, client_key: str) -> str:
    """text with its credentials field written as base64(client_key:••••:••••abcd), the secret and token masked."""
    method, path, stamp, field, body = _fields(text, client_key)
    held = _credentials(field)
    if held is None or held[0] != client_key:
        return text
    shown = ":".join([held[0], *(mask(value) for value in held[1:])])
    return ":".join((method, path, stamp, f"base64({shown})", body))


def _credentials(field: str) -> list[str] | None:
    """client_key, client_secret and token out of base64(client_key:client_secret:token), if it is that."""
    try:
        return base64.b64decode(field, validate=True).decode("utf-8").split(":", 2)
    except (binascii.Error, ValueError):
        return None


class _Opened:
    """The string an AES signature holds, opened with the profile's faspay_secret and iv (None: it does not open)."""

    def __init__(self, profile: Profile, signature: str) -> None:
        self.client_key = profile.require_text("client_key")
        key, iv = faspay_key_iv(profile.require_text("faspay_secret"), profile.require_text("iv"))
        try:
            plain = aes256_cbc_open(key, iv, base64.b64decode(signature.strip(), validate=True))
            self.text = plain.decode("utf-8") if plain is not None else None
        except (binascii.Error, ValueError):
            self.text = None
        credentials = _credentials(_fields(self.text, self.client_key)[3]) if self.text else None
        self.token = credentials[2] if credentials is not None and len(credentials) == 3 else None

    def differences(self, ours: str) -> list[str]:
        """What differs between the opened string and paytoken's, field by field, secrets masked."""
        if self.text is None:
            return []
        found: list[str] = []
        for name, theirs, mine in zip(
            ("method", "path", "timestamp", "credentials", "body field"),
            _fields(self.text, self.client_key),
            _fields(ours, self.client_key),
            strict=True,
        ):
            if theirs == mine:
                continue
            if name != "credentials":
                found.append(f"the signature holds the {name} {theirs!r} where paytoken signs {mine!r}")
                continue
            held, wanted = _credentials(theirs), _credentials(mine) or []
            if held is None:
                found.append("the signature's credentials field is not base64 of client_key:client_secret:token")
                continue
            for label, got, expected in zip(("client_key", "client_secret", "token"), held, wanted, strict=False):
                if got == expected:
                    continue
                if label == "client_key":
                    found.append(f"the signature holds another client_key ({got!r})")
                elif label == "client_secret":
                    found.append("the signature holds another client_secret")
                else:
                    found.append(f"the signature holds another access token (ending {mask(got)})")
            if len(held) < len(wanted):
                found.append("the signature's credentials hold no access token")
        return [f"it opens, with this profile's faspay_secret and iv: {line}" for line in found]


@dataclass(frozen=True)
class FaspayForensics:
    """What Faspay SendMe will object to in a captured request, and which known mistake reproduces a signature."""

    provider: FaspaySendMeProvider

    def compare(self, profile: Profile, request: SignedRequest, signature: str, context: SearchContext) -> Comparison:
        return symmetric_search(signature, request.signature, self.candidates(profile, context), context)

    def read_capture(self, profile: Profile, captured: Captured, now: datetime) -> Replay:
        check = CaptureCheck(captured)
        check.require("faspay-key", "faspay-timestamp", "faspay-authorization", "faspay-signature")
        check.path(self.provider.token_path)
        check.same("faspay-key", captured.header("faspay-key"), profile.require_text("faspay_key"))
        self._authorization(profile, captured, check)
        if captured.method not in ("GET", "POST"):
            check.problems.append(f"the request was a {captured.method}; Faspay takes GET (or POST)")
        stamp = captured.header("faspay-timestamp")
        moment = jakarta_moment(stamp or "", "%Y-%m-%d %H:%M:%S")
        check.timestamp("faspay-timestamp", stamp, moment is not None, "2018-10-09 14:24:00 (Jakarta)", moment, now)
        return check.done(timestamp=stamp, nonce=None, signature=captured.header("faspay-signature"), body=None)

    def compare_call(
        self, profile: Profile, request: SignedRequest, call: Call, signature: str, context: SearchContext
    ) -> Comparison:
        aes_form = profile.text("signature_method") != "hmac"
        opened = _Opened(profile, signature) if aes_form else None
        read = opened.token if opened is not None else None
        tally = Tally(self.call_candidates(profile, request, call, context, read))
        found = symmetric_search(signature, request.signature, tally, context)
        if opened is None:
            unknowable = [
                "an HMAC does not say which of its inputs differ: if the method, path and faspay-timestamp shown "
                "are the ones sent, it was made with another or an expired access token, or other credentials"
            ]
        elif opened.text is None:
            unknowable = [
                "it does not open with this profile's faspay_secret and iv: it was made with another faspay_secret "
                "or iv, or not by the AES recipe"
            ]
        else:
            unknowable = opened.differences(request.string_to_sign)
        return tally.explain(found, unknowable=unknowable)

    def read_call_capture(self, profile: Profile, captured: Captured, now: datetime) -> CallReplay:
        check = CaptureCheck(captured)
        check.require("faspay-key", "faspay-timestamp", "faspay-authorization", "faspay-signature")
        check.same("faspay-key", captured.header("faspay-key"), profile.require_text("faspay_key"))
        self._authorization(profile, captured, check)
        stamp = captured.header("faspay-timestamp")
        moment = jakarta_moment(stamp or "", "%Y-%m-%d %H:%M:%S")
        check.timestamp("faspay-timestamp", stamp, moment is not None, "2018-10-09 14:24:00 (Jakarta)", moment, now)
        signature = captured.header("faspay-signature")
        token = bearer_token(captured.header("Authorization"))
        if token is None and signature and profile.text("signature_method") != "hmac":
            token = _Opened(profile, signature).token
            if token is not None:
                check.cautions.append("the access token was read from faspay-signature (a call carries it only there)")
        if token is None:
            check.cautions.append(
                "the capture does not say which access token was signed (Faspay carries it inside the signature "
                "only): the call is signed again with the token given, or the cached one"
            )
        call = Call(captured.method, captured.relative_target, captured.body, token, None)
        return CallReplay(call, stamp, signature, tuple(check.problems), tuple(check.cautions))

    def _authorization(self, profile: Profile, captured: Captured, check: CaptureCheck) -> None:
        authorization = captured.header("faspay-authorization")
        expected = faspay_aes(
            profile.require_text("faspay_secret"),
            profile.require_text("iv"),
            f"{profile.require_text('app_key')}:{profile.require_text('app_secret')}",
        )
        if authorization and authorization.strip() != expected:
            check.problems.append(
                "faspay-authorization is not AES(app_key:app_secret) with this profile's faspay_secret and iv"
            )

    def call_candidates(
        self, profile: Profile, request: SignedRequest, call: Call, context: SearchContext, read: str | None = None
    ) -> Iterator[Candidate]:
        """The right call recipe (SPEC 6.3) at each moment, then the call mistakes of SPEC 6.4 Faspay can make.

        read: the token the AES signature holds, when it opens. Each candidate's string is shown with its
        credentials field written out masked: base64(client_key:client_secret:…) is the client secret, readable.
        """
        client_key = profile.require_text("client_key")
        for candidate in self._call_candidates(profile, request, call, context, read):
            yield replace(candidate, string_to_sign=_masked_credentials(candidate.string_to_sign, client_key))

    def _call_candidates(
        self, profile: Profile, request: SignedRequest, call: Call, context: SearchContext, read: str | None
    ) -> Iterator[Candidate]:
        faspay_secret, iv = profile.require_text("faspay_secret"), profile.require_text("iv")
        client_key, client_secret = profile.require_text("client_key"), profile.require_text("client_secret")
        hmac_form = profile.text("signature_method") == "hmac"
        method, token = call.method.upper(), call.token or ""
        path, _, query = call.path.partition("?")
        origin = urlsplit(request.url)

        def sealer(secret: str, hmac_kind: bool) -> Callable[[str], str]:
            if hmac_kind:
                return lambda text: hmac_sha256(secret.encode("utf-8"), text.encode("utf-8")).hex()
            return lambda text: faspay_aes(secret, iv, text)

        right, other = sealer(faspay_secret, hmac_form), sealer(faspay_secret, not hmac_form)

        def text(stamp: str, *, method: str = method, path: str = call.path, token: str | None = token) -> str:
            return faspay_string_to_sign(path, stamp, client_key, client_secret, method=method, token=token)

        def made(mistake: Mistake, signed: str, note: str = "", moment: datetime | None = None) -> Candidate:
            return Candidate(mistake, signed, right(signed), note=note, moment=moment)

        stamped = context.stamped(jakarta_spaced)
        for stamp, moment in stamped:
            exact = stamp == context.timestamp
            signed = text(stamp)
            yield Candidate(None, signed, right(signed), note=f"faspay-timestamp {stamp}", exact=exact, moment=moment)
        others = [(other_token, "which paytoken knows of") for other_token in context.tokens]
        if read is not None:
            others.insert(0, (read, "read from the signature, which opens with this profile's faspay_secret and iv"))
        for stamp, moment in stamped:
            signed = text(stamp)
            yield Candidate(FASPAY_OTHER_METHOD, signed, other(signed), moment=moment)
            yield made(FASPAY_CALL_NO_TOKEN, text(stamp, token=None), moment=moment)
            yield made(FASPAY_CALL_BEARER, text(stamp, token="Bearer " + token), moment=moment)
            for other_token, how in dict.fromkeys(others):
                if other_token != token:
                    which = f"the token ending {mask(other_token)}, {how}"
                    mistake = FASPAY_CALL_OTHER_TOKEN._replace(says=FASPAY_CALL_OTHER_TOKEN.says.format(which=which))
                    yield made(mistake, text(stamp, token=other_token), moment=moment)
            if method != SIGNED_METHOD:
                yield made(FASPAY_CALL_GET_SIGNED, text(stamp, method=SIGNED_METHOD), moment=moment)
            yield made(FASPAY_CALL_LOWER_METHOD, text(stamp, method=method.lower()), moment=moment)
            if query:
                yield made(FASPAY_CALL_QUERY_LEFT_OUT, text(stamp, path=path), moment=moment)
            url = f"{origin.scheme}://{origin.netloc}{call.path}"
            yield made(FASPAY_CALL_HOST_INCLUDED, text(stamp, path=url), f"signed path {url}", moment)
            if call.body:
                body_text = call.body.decode("utf-8", errors="replace")
                yield made(FASPAY_CALL_BODY_SIGNED, signed + body_text, moment=moment)
            yield made(FASPAY_NO_TRAILING_COLON, signed[:-1], moment=moment)
            for name in ("client_secret", "app_secret"):
                wrong = sealer(profile.require_text(name), hmac_form)
                mistake = FASPAY_CALL_WRONG_SECRET._replace(says=FASPAY_CALL_WRONG_SECRET.says.format(which=name))
                yield Candidate(mistake, signed, wrong(signed), moment=moment)
        for moment in context.moments:
            for other_stamp in _other_forms(moment):
                yield made(FASPAY_TIMESTAMP_FORMAT, text(other_stamp), f"timestamp {other_stamp!r}", moment)
        signed_at = request.signed_at
        if context.timestamp is None or signed_at is None:
            return
        for moment in moments_near(signed_at):
            stamp = jakarta_spaced(moment)
            if stamp != context.timestamp:
                note = f"signed with faspay-timestamp {stamp}; the header carried {context.timestamp}"
                yield made(FASPAY_CALL_OTHER_TIMESTAMP, text(stamp), note, moment)

    def candidates(self, profile: Profile, context: SearchContext) -> Iterator[Candidate]:
        """The right recipe at each moment, then Faspay's known mistakes."""
        faspay_secret, iv = profile.require_text("faspay_secret"), profile.require_text("iv")
        client_key, client_secret = profile.require_text("client_key"), profile.require_text("client_secret")
        hmac_form = profile.text("signature_method") == "hmac"

        def aes(text: str) -> str:
            return faspay_aes(faspay_secret, iv, text)

        def hmac_hex(text: str) -> str:
            return hmac_sha256(faspay_secret.encode("utf-8"), text.encode("utf-8")).hex()

        right, other = (hmac_hex, aes) if hmac_form else (aes, hmac_hex)
        stamped = context.stamped(jakarta_spaced)
        stamps = [stamp for stamp, _moment in stamped]
        for stamp, at in stamped:
            text = faspay_string_to_sign(self.provider.token_path, stamp, client_key, client_secret)
            exact = stamp == context.timestamp
            yield Candidate(None, text, right(text), note=f"faspay-timestamp {stamp}", exact=exact, moment=at)
        for stamp in stamps:
            text = faspay_string_to_sign(self.provider.token_path, stamp, client_key, client_secret)
            yield Candidate(FASPAY_OTHER_METHOD, text, other(text))
            yield Candidate(FASPAY_NO_TRAILING_COLON, text[:-1], right(text[:-1]))
            post = "POST" + text[len(SIGNED_METHOD) :]
            yield Candidate(FASPAY_POST_SIGNED, post, right(post))
        for moment in context.moments:
            for other_stamp in _other_forms(moment):
                text = faspay_string_to_sign(self.provider.token_path, other_stamp, client_key, client_secret)
                yield Candidate(
                    FASPAY_TIMESTAMP_FORMAT, text, right(text), note=f"timestamp {other_stamp!r}", moment=moment
                )


def _other_forms(moment: datetime) -> tuple[str, ...]:
    """The moment written in the formats and zones people send instead of Jakarta `2018-10-09 14:24:00`."""
    return (
        moment.astimezone(JAKARTA).strftime("%Y-%m-%dT%H:%M:%S"),
        moment.astimezone(JAKARTA).isoformat(timespec="seconds"),
        moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        moment.astimezone(JAKARTA).strftime("%Y%m%d%H%M%S"),
    )
