"""Signature forensics: find which known mistake reproduces a signature someone else computed.

A gateway only says "Invalid Signature". Given the signature a client sent, paytoken recomputes it under
the mistakes people actually make, each provider declaring its own next to its recipe, and names the one
that reproduces it. RSA signatures are opened with the public key, so that each candidate costs one
SHA-256; symmetric ones are recomputed. Time is searched too: when the exact timestamp is not known, every
second of the last ten minutes is tried.

The calls after the token (SPEC 6.4) add a body, which clients hash in other spellings than the bytes they
send (`body_spellings`), and a search that ends empty says what it went through (`Tally`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
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
    "Spelling",
    "Tally",
    "body_spellings",
    "decode_signature",
    "describe_ago",
    "describe_offset",
    "keyed_search",
    "local_zones",
    "moments_around",
    "moments_near",
    "rsa_search",
    "symmetric_search",
]

# When the signing time is unknown: this far back and ahead of now, every second.
SEARCH_BEFORE = timedelta(minutes=10)
SEARCH_AFTER = timedelta(minutes=1)


class Mistake(NamedTuple):
    """A way of getting a recipe wrong: a stable key (for scripts and tests), what was done, how to fix it.

    A fix that shows a timestamp writes `{example}` and gives example, the gateway's way of writing a moment:
    the example is then the user's own timestamp (or now), never a fixed one from the documentation.
    """

    key: str
    says: str
    fix: str
    example: Callable[[datetime], str] | None = None
    # A few words for the list of what a search checked when nothing reproduced the signature.
    topic: str = ""

    def fix_at(self, moment: datetime | None) -> str:
        """The fix, with the example timestamp written for moment."""
        if self.example is None or moment is None:
            return self.fix
        return self.fix.replace("{example}", self.example(moment))


class Comparison(NamedTuple):
    """The outcome of `sign --compare`: whether it matched, and what paytoken can tell about why not."""

    matches: bool
    findings: tuple[str, ...] = ()
    hint: str | None = None
    # The key of the known mistake that reproduces the signature, when one does.
    mistake: str | None = None
    # A match without --timestamp: the timestamp it was made for, and how long ago (`X-TIMESTAMP …, 2 minutes ago`).
    matched: str | None = None


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
    moment: datetime | None = None  # the moment the candidate's timestamp stands for, when it has one

    def with_ending(self, ending: str) -> Candidate:
        """The one member of a family that ends with ending."""
        return Candidate(
            self.mistake,
            self.string_to_sign + ending,
            self.signature,
            self.note + ending,
            self.exact,
            moment=self.moment,
        )


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
    now: datetime | None = None  # when the search ran
    # Other access tokens the caller knows of (the cached one, when the call was signed with another).
    tokens: tuple[str, ...] = ()

    def example_moment(self, found: Candidate) -> datetime | None:
        """The moment a fix's example timestamp is written for: the user's own, else now."""
        if found.moment is not None:
            return found.moment
        if self.timestamp is not None and len(self.moments) == 1:
            return self.moments[0]
        return self.now

    def within_window(self, found: Candidate) -> bool:
        """Whether found is the right recipe at a moment the gateway still accepts, searched for without --timestamp."""
        if self.timestamp is not None or found.moment is None or self.now is None:
            return False
        return abs(found.moment - self.now) <= SIGNATURE_WINDOW

    @classmethod
    def around(
        cls,
        now: datetime,
        *,
        timestamp: str | None,
        signed_at: datetime | None,
        nonce: str | None,
        body: bytes | None = None,
        tokens: Iterable[str] = (),
    ) -> SearchContext:
        """Search the given moment when the timestamp is known, else the last minutes around now."""
        moments = (signed_at,) if timestamp is not None and signed_at is not None else moments_around(now)
        return cls(moments, timestamp, nonce, body, local_zones(), now, tuple(tokens))

    def stamps(self, write: Callable[[datetime], str]) -> list[str]:
        """The timestamp strings to try: the exact one given or captured, then each moment written by write.

        With a known timestamp the one moment is that timestamp: written again, it is not tried twice.
        """
        return [stamp for stamp, _moment in self.stamped(write)]

    def stamped(self, write: Callable[[datetime], str]) -> list[tuple[str, datetime | None]]:
        """stamps(write), each with the moment it stands for (None: a given timestamp paytoken could not read)."""
        pairs: dict[str, datetime | None] = {}
        if self.timestamp is not None:
            pairs[self.timestamp] = self.moments[0] if len(self.moments) == 1 else None
        for moment in self.moments:
            pairs.setdefault(write(moment), moment)
        return list(pairs.items())


def moments_around(now: datetime) -> tuple[datetime, ...]:
    start = (now - SEARCH_BEFORE).replace(microsecond=0)
    count = int((SEARCH_BEFORE + SEARCH_AFTER).total_seconds()) + 1
    return tuple(start + timedelta(seconds=offset) for offset in range(count))


def moments_near(moment: datetime, span: timedelta = SEARCH_BEFORE) -> tuple[datetime, ...]:
    """Every second within span either side of moment, nearest first (a timestamp taken twice, or a stale one)."""
    seconds = int(span.total_seconds())
    offsets = sorted(range(-seconds, seconds + 1), key=lambda offset: (abs(offset), offset))
    return tuple(moment + timedelta(seconds=offset) for offset in offsets)


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


def describe_ago(seconds: float) -> str:
    """Say `2 minutes ago` (whole minutes, as people count them), `40 seconds from now`, `this second`."""
    total = round(abs(seconds))
    if total == 0:
        return "this second"
    amount, unit = (total, "second") if total < 60 else (total // 60, "minute")
    return f"{amount} {unit}{'s' if amount != 1 else ''} " + ("ago" if seconds > 0 else "from now")


def _report(found: Candidate, context: SearchContext, extra: Iterable[str] = ()) -> Comparison:
    lines = list(extra)
    if found.mistake is None and found.exact:
        return Comparison(True, (*lines, "right for the request exactly as given"))
    if found.mistake is None and context.within_window(found):
        # Made a moment ago by the right recipe: the gateway accepts it still, so it is no mistake.
        assert found.moment is not None and context.now is not None
        matched = f"{found.note}, {describe_ago((context.now - found.moment).total_seconds())}"
        return Comparison(True, (*lines, f"matches {matched}"), matched=matched)
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
    fix = found.mistake.fix_at(context.example_moment(found))
    return Comparison(False, tuple(lines), hint=fix, mistake=found.mistake.key)


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
                return _report(candidate, context, notes)
        for ending in candidate.endings:
            tried += 1
            whole = start.copy()
            whole.update(ending.encode("utf-8"))
            if whole.digest() == digest:
                return _report(candidate.with_ending(ending), context, notes)
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
            return _report(candidate, context)
        if other_case is None and candidate.mistake is None and candidate.signature.lower() == given.lower():
            other_case = candidate
    if other_case is not None:
        return _report(
            Candidate(LETTER_CASE, other_case.string_to_sign, note=other_case.note, moment=other_case.moment), context
        )
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


class Spelling(NamedTuple):
    """Other bytes a client may have hashed for the body it sent: which kind of slip, in what words, the bytes."""

    kind: str  # "spacing", "escaped-slash", "unicode-escaped", "spaces-stripped", "empty"
    note: str
    body: bytes


def _unicode_escaped(text: str) -> str:
    # As json.dumps(ensure_ascii=True) and PHP's json_encode write them: lowercase hex, astral characters as a pair.
    out: list[str] = []
    for character in text:
        code = ord(character)
        if code < 0x80:
            out.append(character)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out)


def body_spellings(sent: bytes) -> list[Spelling]:
    """The spellings of a body that clients hash instead of the bytes they send (SPEC 6.2, 6.4), each once.

    Python's json.dumps spaces items with ", " and ": " and escapes non-ASCII unless told otherwise; with an
    indent it writes ",\\n" and ": " (docs.python.org/3/library/json.html, json.dumps). PHP's json_encode writes
    compact JSON but escapes "/" as "\\/" and non-ASCII as \\uXXXX by default (php.net json_encode:
    JSON_UNESCAPED_SLASHES, JSON_UNESCAPED_UNICODE). Some snippets "minify" by deleting every space, values
    included. Re-serialized spellings come first: a body sent spaced and hashed minified is a spacing slip, not a
    stripped one, unless stripping changed a value.
    """
    found: dict[bytes, Spelling] = {}

    def add(kind: str, note: str, body: bytes) -> None:
        if body != sent and body not in found:
            found[body] = Spelling(kind, note, body)

    try:
        text: str | None = sent.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.strip():
        # Not JSON (or JSON that no UTF-8 can hold): only the textual slips below apply.
        with contextlib.suppress(ValueError, RecursionError):
            _json_spellings(json.loads(text), escapes=not text.isascii(), add=add)
    if b"/" in sent:
        add("escaped-slash", "/ written as \\/ (PHP json_encode's default)", sent.replace(b"/", b"\\/"))
    if text is not None and not text.isascii():
        add("unicode-escaped", "non-ASCII written as \\uXXXX, the rest as sent", _unicode_escaped(text).encode())
    add("spaces-stripped", "every space deleted, even inside values", sent.replace(b" ", b""))
    add("spaces-stripped", 'all whitespace deleted, even inside values (a regex "minify")', re.sub(rb"\s+", b"", sent))
    if sent:
        add("empty", "the hash of an empty body (e3b0c442…b855), though a body was sent", b"")
    return list(found.values())


def _json_spellings(value: object, *, escapes: bool, add: Callable[[str, str, bytes], None]) -> None:
    """The body's JSON written again the ways libraries write it."""
    escaped = " and \\uXXXX escapes" if escapes else ""
    add("spacing", f'json.dumps\'s default spacing (", " and ": "){escaped}', _utf8(json.dumps(value)))
    add(
        "spacing",
        '", " and ": " spacing (json.dumps with ensure_ascii=False)',
        _utf8(json.dumps(value, ensure_ascii=False)),
    )
    for indent in (2, 4):
        pretty = f"pretty-printed, indent {indent} (json.dumps(indent={indent}), JSON.stringify(body, null, {indent}))"
        add("spacing", pretty, _utf8(json.dumps(value, indent=indent, ensure_ascii=False)))
        add("spacing", pretty + escaped, _utf8(json.dumps(value, indent=indent)))
    add(
        "spacing",
        "minified JSON, where the body sent has other spacing",
        _utf8(json.dumps(value, separators=(",", ":"), ensure_ascii=False)),
    )
    ascii_compact = _utf8(json.dumps(value, separators=(",", ":")))
    add("unicode-escaped", "non-ASCII written as \\uXXXX (json.dumps's default ensure_ascii=True)", ascii_compact)
    add(
        "escaped-slash",
        "PHP json_encode's defaults: / as \\/ and non-ASCII as \\uXXXX",
        ascii_compact.replace(b"/", b"\\/"),
    )


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


class Tally:
    """Candidates passed through to a search, noting which mistakes it tried and whether it tried them all."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self._candidates = candidates
        self.topics: dict[str, str] = {}
        self.tried = 0
        self.exhausted = False

    def __iter__(self) -> Iterator[Candidate]:
        for candidate in self._candidates:
            self.tried += 1
            if candidate.mistake is not None:
                self.topics.setdefault(candidate.mistake.key, candidate.mistake.topic or candidate.mistake.key)
            yield candidate
        self.exhausted = True

    def explain(self, comparison: Comparison, *, unknowable: Iterable[str] = (), hint: str | None = None) -> Comparison:
        """To a search that went through every candidate and found nothing, add what it checked (and what it
        cannot tell: an HMAC does not say which of its inputs differ)."""
        if comparison.matches or comparison.mistake is not None or not self.exhausted:
            return comparison
        checked = "checked: the recipe as given; " + "; ".join(self.topics.values())
        return comparison._replace(findings=(*comparison.findings, checked, *unknowable), hint=hint or comparison.hint)


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

    def body_shown(self, gateway: str, what: str = "token request") -> None:
        """Refuse a `curl -v` capture without its body, for a gateway whose check needs the body."""
        hidden = self.captured.hidden_body
        if hidden is not None:
            raise UsageError(
                f"the capture does not show the body: `curl -v` prints only `}} [{hidden} bytes data]`, "
                f"and checking a {gateway} {what} needs the body",
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
