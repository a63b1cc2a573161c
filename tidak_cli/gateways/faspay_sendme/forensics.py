"""The mistake search for Faspay SendMe: signature methods, methods and timestamp forms a client may have used."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from ...capture import Captured
from ...clock import JAKARTA, jakarta_moment
from ...forensics import Candidate, CaptureCheck, Comparison, Mistake, Replay, SearchContext, symmetric_search
from ...profiles import Profile
from ...signing import hmac_sha256, jakarta_spaced
from ..base import SignedRequest
from .recipe import SIGNED_METHOD, FaspaySendMeProvider, faspay_aes, faspay_string_to_sign

__all__ = ["FaspayForensics"]

FASPAY_OTHER_METHOD = Mistake(
    "faspay.other-signature-method",
    "the signature was made with the other method (AES where paytoken uses HMAC, or the reverse)",
    'set signature_method in the profile to the one your gateway expects ("aes" or "hmac")',
)
FASPAY_NO_TRAILING_COLON = Mistake(
    "faspay.no-trailing-colon",
    "the string to sign lacks its trailing colon (the empty body field)",
    "end the string to sign with ':' even though the body is empty",
)
FASPAY_POST_SIGNED = Mistake(
    "faspay.post-signed",
    "POST was signed; Faspay signs GET for the token request whatever verb is sent",
    "sign GET:/account/api/tokens:…, even when sending POST",
)
FASPAY_TIMESTAMP_FORMAT = Mistake(
    "faspay.timestamp-format",
    "the timestamp in the string to sign was in another format or zone than Jakarta 2018-10-09 14:24:00",
    "use Jakarta time written as YYYY-MM-DD HH:MM:SS, the same value as the faspay-timestamp header",
)


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
        if captured.method not in ("GET", "POST"):
            check.problems.append(f"the request was a {captured.method}; Faspay takes GET (or POST)")
        stamp = captured.header("faspay-timestamp")
        moment = jakarta_moment(stamp or "", "%Y-%m-%d %H:%M:%S")
        check.timestamp("faspay-timestamp", stamp, moment is not None, "2018-10-09 14:24:00 (Jakarta)", moment, now)
        return check.done(timestamp=stamp, nonce=None, signature=captured.header("faspay-signature"), body=None)

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
        stamps = context.stamps(jakarta_spaced)
        for stamp in stamps:
            text = faspay_string_to_sign(self.provider.token_path, stamp, client_key, client_secret)
            yield Candidate(None, text, right(text), note=f"faspay-timestamp {stamp}", exact=stamp == context.timestamp)
        for stamp in stamps:
            text = faspay_string_to_sign(self.provider.token_path, stamp, client_key, client_secret)
            yield Candidate(FASPAY_OTHER_METHOD, text, other(text))
            yield Candidate(FASPAY_NO_TRAILING_COLON, text[:-1], right(text[:-1]))
            post = "POST" + text[len(SIGNED_METHOD) :]
            yield Candidate(FASPAY_POST_SIGNED, post, right(post))
        for moment in context.moments:
            for other_stamp in (
                moment.astimezone(JAKARTA).strftime("%Y-%m-%dT%H:%M:%S"),
                moment.astimezone(JAKARTA).isoformat(timespec="seconds"),
                moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                moment.astimezone(JAKARTA).strftime("%Y%m%d%H%M%S"),
            ):
                text = faspay_string_to_sign(self.provider.token_path, other_stamp, client_key, client_secret)
                yield Candidate(FASPAY_TIMESTAMP_FORMAT, text, right(text), note=f"timestamp {other_stamp!r}")
