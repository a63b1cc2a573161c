"""Signature forensics: find which known mistake reproduces a signature someone else computed.

A gateway only says "Invalid Signature". Given the signature a client sent, paytoken recomputes it under
the mistakes people actually make, each provider declaring its own next to its recipe, and names the one
that reproduces it. RSA signatures are opened with the public key, so that each candidate costs one
SHA-256; symmetric ones are recomputed. Time is searched too: when the exact timestamp is not known, every
second of the last ten minutes is tried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple

from .capture import Captured
from .clock import SIGNATURE_WINDOW, describe_skew
from .errors import UsageError

__all__ = [
    "Candidate",
    "Comparison",
    "Mistake",
    "SearchContext",
    "decode_signature",
    "describe_offset",
    "keyed_search",
    "local_zones",
    "moments_around",
    "rsa_search",
    "symmetric_search",
]

# When the signing time is unknown: this far back and ahead of now, every second.
SEARCH_BEFORE = timedelta(minutes=10)
SEARCH_AFTER = timedelta(minutes=1)


class Mistake(NamedTuple):
    """A way of getting a recipe wrong: a stable key (for scripts and tests), what was done, how to fix it."""

    key: str
    says: str
    fix: str


class Comparison(NamedTuple):
    """The outcome of `sign --compare`: whether it matched, and what paytoken can tell about why not."""

    matches: bool
    findings: tuple[str, ...] = ()
    hint: str | None = None
    # The key of the known mistake that reproduces the signature, when one does.
    mistake: str | None = None


@dataclass(frozen=True)
class Candidate:
    """One way the signature may have been made: under a mistake (or None: the right recipe), over these bytes."""

    mistake: Mistake | None
    string_to_sign: str
    signature: str | None = None  # symmetric recipes: what this candidate signs to
    note: str = ""  # the facts that make it this candidate, e.g. the timestamp tried
    exact: bool = False  # the right recipe over exactly the inputs given or captured
    # When given, the candidate stands for string_to_sign + each ending (its note gets the ending too), so that
    # a family such as a second's thousand milliseconds costs one hash of the shared start (RSA only).
    endings: tuple[str, ...] = ()

    def with_ending(self, ending: str) -> Candidate:
        """The one member of a family that ends with ending."""
        return Candidate(self.mistake, self.string_to_sign + ending, self.signature, self.note + ending, self.exact)


LETTER_CASE = Mistake(
    "letter-case",
    "the signature is right but in the other letter case (lowercase hex where uppercase is wanted, or the reverse)",
    "the gateway compares the text exactly: use the case shown under Signature",
)


@dataclass(frozen=True)
class SearchContext:
    """What is known about the signature being examined, besides the profile."""

    moments: tuple[datetime, ...]
    timestamp: str | None = None  # the exact timestamp string, when given or captured
    nonce: str | None = None  # the request id, when given or captured
    body: bytes | None = None  # the body as captured (replay)
    zones: tuple[tuple[str, tzinfo], ...] = ()

    @classmethod
    def around(
        cls,
        now: datetime,
        *,
        timestamp: str | None,
        signed_at: datetime | None,
        nonce: str | None,
        body: bytes | None = None,
    ) -> SearchContext:
        """Search the given moment when the timestamp is known, else the last minutes around now."""
        moments = (signed_at,) if timestamp is not None and signed_at is not None else moments_around(now)
        return cls(moments, timestamp, nonce, body, local_zones())

    def stamps(self, write: Callable[[datetime], str]) -> list[str]:
        """The timestamp strings to try: the exact one given or captured, then each moment written by write.

        With a known timestamp the one moment is that timestamp: written again, it is not tried twice.
        """
        given = [self.timestamp] if self.timestamp is not None else []
        return list(dict.fromkeys([*given, *(write(moment) for moment in self.moments)]))


def moments_around(now: datetime) -> tuple[datetime, ...]:
    start = (now - SEARCH_BEFORE).replace(microsecond=0)
    count = int((SEARCH_BEFORE + SEARCH_AFTER).total_seconds()) + 1
    return tuple(start + timedelta(seconds=offset) for offset in range(count))


def local_zones() -> tuple[tuple[str, tzinfo], ...]:
    """The zones a server's naive clock is likely in: this machine's, and UTC (where most servers run)."""
    local = datetime.now().astimezone()
    zones: list[tuple[str, tzinfo]] = [(local.tzname() or "local", local.tzinfo or UTC)]
    if local.utcoffset() != timedelta(0):
        zones.append(("UTC", UTC))
    return tuple(zones)


def describe_offset(offset: timedelta) -> str:
    """Say `7 hours behind` or `3 hours ahead of` Jakarta for a local zone's offset."""
    hours = (timedelta(hours=7) - offset).total_seconds() / 3600
    amount = f"{abs(hours):g} hour{'s' if abs(hours) != 1 else ''}"
    return f"{amount} behind" if hours > 0 else f"{amount} ahead of"


def decode_signature(text: str) -> tuple[bytes | None, str | None]:
    """Decode a signature as base64, URL-safe base64 or hex; say which, when it is not plain base64."""
    compact = re.sub(r"\s+", "", text)
    if len(compact) >= 64 and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", compact):
        return bytes.fromhex(compact), "hex instead of base64"
    try:
        if re.search(r"[-_]", compact):
            padded = compact + "=" * (-len(compact) % 4)
            return base64.urlsafe_b64decode(padded), "URL-safe base64 (- and _ instead of + and /)"
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None, None
    return decoded, ("base64 with line breaks or spaces" if compact != text.strip() else None)


def _report(found: Candidate, extra: Iterable[str] = ()) -> Comparison:
    lines = list(extra)
    if found.mistake is None and found.exact:
        return Comparison(True, (*lines, "right for the request exactly as given"))
    if found.mistake is None:
        lines.append("the recipe is right, but for other inputs than the ones paytoken used")
        lines.append(f"it matches: {found.note or found.string_to_sign!r}")
        return Comparison(
            False,
            tuple(lines),
            hint="pass the exact timestamp and request id you sent "
            "(--timestamp, and the provider's id option) to reproduce it",
        )
    lines.append(f"found the mistake: {found.mistake.says}")
    lines.append(f"signed string: {found.string_to_sign!r}")
    if found.note:
        lines.append(found.note)
    return Comparison(False, tuple(lines), hint=found.mistake.fix, mistake=found.mistake.key)


def _none_found(tried: int, context: SearchContext, what: str) -> Comparison:
    span = (
        f"at the timestamp {context.timestamp!r}"
        if len(context.moments) <= 1
        else f"at every second from {context.moments[0]:%H:%M:%S} to {context.moments[-1]:%H:%M:%S} UTC"
    )
    return Comparison(
        False,
        (what, f"none of the {tried:,} strings tried (the recipe and its known mistakes) {span} reproduces it"),
        hint="compare your string to sign with the one shown, byte by byte",
    )


def rsa_search(
    signature: str,
    ours: str,
    string_to_sign: str,
    signed_digest: Callable[[bytes], bytes | None],
    candidates: Iterable[Candidate],
    context: SearchContext,
) -> Comparison:
    """Explain an RSA signature: encoding slips, another key, or the candidate whose bytes it signed."""
    if signature == ours:
        return Comparison(True)
    decoded, encoding = decode_signature(signature)
    if decoded is None:
        return Comparison(
            False,
            ("the given signature is not base64 (nor hex): it cannot be an X-SIGNATURE",),
            hint="copy the whole X-SIGNATURE header value, without quotes",
        )
    notes = [f"the given signature is written as {encoding}"] if encoding else []
    if decoded == base64.b64decode(ours):
        return Comparison(
            False,
            (f"same signature bytes, but written as {encoding}",),
            hint="SNAP wants standard base64 with padding and no line breaks",
            mistake="encoding",
        )
    digest = signed_digest(decoded)
    if digest is None:
        # Never a variant: no string makes another key's signature open with this one.
        return Comparison(
            False,
            (
                *notes,
                "the given signature was not made with this profile's private key: it was signed with another key "
                "(opening it with the public half gives no valid PKCS#1 v1.5 SHA-256 block)",
            ),
            hint="sign with the private key whose public half the gateway has, or fix private_key_file",
            mistake="another-key",
        )
    tried = 0
    for candidate in candidates:
        start = hashlib.sha256(candidate.string_to_sign.encode("utf-8"))
        if not candidate.endings:
            tried += 1
            if start.digest() == digest:
                return _report(candidate, notes)
        for ending in candidate.endings:
            tried += 1
            whole = start.copy()
            whole.update(ending.encode("utf-8"))
            if whole.digest() == digest:
                return _report(candidate.with_ending(ending), notes)
    found = _none_found(tried, context, "the given signature was made with this profile's key, but over other bytes")
    return Comparison(
        False,
        (
            *notes,
            *found.findings,
            f"SHA-256 it signed:         {digest.hex()}",
            f"SHA-256 of string to sign: {hashlib.sha256(string_to_sign.encode('utf-8')).hexdigest()}",
        ),
        hint="the string to sign differs: hash yours and compare it with the two above; pass the exact "
        "X-TIMESTAMP you sent with --timestamp (or the whole request with --replay), and check client_id for "
        "stray spaces",
    )


def symmetric_search(
    signature: str,
    ours: str,
    candidates: Iterable[Candidate],
    context: SearchContext,
    normalize: Callable[[str], str] = lambda text: text.strip(),
) -> Comparison:
    """Explain an HMAC or AES signature: the candidate that produces it, or none."""
    if signature == ours:
        return Comparison(True)
    given = normalize(signature)
    tried = 0
    other_case: Candidate | None = None
    for candidate in candidates:
        tried += 1
        if candidate.signature is None:
            continue
        assert not candidate.endings, "a family of candidates needs an RSA signature to open"
        if normalize(candidate.signature) == given:
            return _report(candidate)
        if other_case is None and candidate.mistake is None and candidate.signature.lower() == given.lower():
            other_case = candidate
    if other_case is not None:
        return _report(Candidate(LETTER_CASE, other_case.string_to_sign, note=other_case.note))
    return _none_found(tried, context, "the signatures differ")


def keyed_search(
    signature: str,
    ours: str,
    candidates: Iterable[Candidate],
    context: SearchContext,
    *,
    id_flag: str,
    id_header: str,
) -> Comparison:
    """symmetric_search for a recipe that signs a random request id: without that id, no search is possible."""
    if context.nonce is not None or signature.strip() == ours:
        return symmetric_search(signature, ours, candidates, context)
    findings = [f"the signature covers the {id_header}, which paytoken cannot guess"]
    if signature.strip().lower() == ours.lower():
        findings.insert(0, f"same signature in the other letter case: {LETTER_CASE.says}")
    return Comparison(
        False,
        tuple(findings),
        hint=f"pass the {id_header} you sent with {id_flag} (and the timestamp with --timestamp), or use --replay "
        "with the captured request, so that paytoken can search for the mistake",
    )


@dataclass(frozen=True)
class Replay:
    """What a captured request says: the inputs to re-sign with, and what the gateway will object to."""

    timestamp: str | None
    nonce: str | None
    signature: str | None
    body: bytes | None
    problems: tuple[str, ...] = ()  # the gateway rejects these
    cautions: tuple[str, ...] = ()  # worth knowing; may be fine


@dataclass
class CaptureCheck:
    """Collects what is wrong with a captured request, in the gateway's terms."""

    captured: Captured
    problems: list[str] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)

    def require(self, *names: str) -> None:
        missing = [name for name in names if not (self.captured.header(name) or "").strip()]
        if missing:
            self.problems.append(f"missing header{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")

    def body_shown(self, gateway: str) -> None:
        """Refuse a `curl -v` capture without its body, for a gateway whose check needs the body."""
        hidden = self.captured.hidden_body
        if hidden is not None:
            raise UsageError(
                f"the capture does not show the body: `curl -v` prints only `}} [{hidden} bytes data]`, "
                f"and checking a {gateway} token request needs the body",
                hint="put the curl command line (with its -d) above its -v output in the file, "
                "or paste the body after the `>` lines",
            )

    def json_content(self) -> None:
        content_type = (self.captured.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            shown = content_type or "none"
            self.problems.append(f"Content-Type is {shown}, not application/json")

    def same(self, what: str, sent: str | None, profile_value: str) -> None:
        if sent is not None and sent != profile_value:
            self.problems.append(f"{what} {sent!r} differs from the profile's {profile_value!r}")

    def timestamp(
        self, what: str, value: str | None, well_formed: bool, expected: str, moment: datetime | None, now: datetime
    ) -> None:
        if value is None:
            return
        if not well_formed:
            self.problems.append(f"{what} {value!r} is not in the form the gateway accepts: {expected}")
        if moment is None:
            return
        off = (moment - now).total_seconds()
        if abs(off) > SIGNATURE_WINDOW.total_seconds():
            caution = (
                f"{what} is {describe_skew(off)} this machine's clock; the gateway refuses more than 5 minutes "
                "either way (ignore this if the capture is older)"
            )
            hours = abs(off) / 3600
            if hours >= 0.9 and abs(hours - round(hours)) < 0.1:
                caution += (
                    f"; a whole {round(hours)} hour(s) off is the mark of local time with a literal +07:00 appended"
                )
            self.cautions.append(caution)

    def path(self, expected: str) -> None:
        if self.captured.path != expected:
            self.cautions.append(f"the request went to {self.captured.path}, not {expected}")

    def done(self, *, timestamp: str | None, nonce: str | None, signature: str | None, body: bytes | None) -> Replay:
        return Replay(timestamp, nonce, signature, body, tuple(self.problems), tuple(self.cautions))
