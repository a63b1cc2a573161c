"""Notifications from the gateway: what a family's notification recipe offers, and what the recipes share.

A recipe works in both directions: `verify` judges a notification a receiver got (authentic, or the mistake
that most likely explains why not), `sign` writes one as the gateway would (for `paytoken notify`). The
mistakes searched are the receiver's: a body written again by a framework before it was hashed, `/` escaped
as `\\/` on one side only, the wrong key configured, a timestamp outside the window, an old notification
replayed. Pure: the moment of receipt is passed in, keys come from the profile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from ..clock import SIGNATURE_WINDOW, describe_skew, iso_moment
from ..errors import ConfigError
from ..forensics import Mistake, decode_signature
from ..profiles import Profile
from .base import parse_json_object

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

    from ..inbound import Inbound

__all__ = [
    "BODY_RESERIALIZED",
    "DUPLICATE_HEADER",
    "MISSING_HEADER",
    "NOT_BASE64",
    "NO_MATCH",
    "OTHER_BYTES",
    "REPLAYED",
    "SLASH_ESCAPING",
    "TIMESTAMP_WINDOW",
    "WRONG_KEY",
    "Candidate",
    "GatewayKey",
    "NotificationRecipe",
    "SignedNotification",
    "Verdict",
    "Verdicts",
    "body_variants",
    "header_problems",
    "hmac_search",
    "judge_moment",
    "require_file",
    "rsa_search",
    "snap_answer",
]

BODY_RESERIALIZED = Mistake(
    "body-reserialized",
    "the body checked is not the bytes the gateway signed: it was parsed and written again (a framework's "
    "request.json / req.body turned back into text) before it was hashed",
    "hash the raw body bytes as received (Flask request.get_data(), Django request.body, FastAPI "
    "await request.body(), Express express.raw()), never JSON written again from the parsed object",
)
SLASH_ESCAPING = Mistake(
    "slash-escaping",
    "the gateway signed the body with / written differently (\\/ on one side, / on the other, as PHP's "
    "json_encode escapes it): the body checked was decoded and written again",
    "hash the raw body bytes as received; never decode and re-encode the JSON before checking its signature",
)
WRONG_KEY = Mistake(
    "wrong-key",
    "the signature was not made with the key the profile holds for notifications",
    "use the gateway's notification key (a different key from the transaction key): ask the gateway for it",
)
TIMESTAMP_WINDOW = Mistake(
    "timestamp-window",
    "the signature is right, but the timestamp is outside the 5-minute window a receiver must enforce",
    "check the receiver's clock (NTP), and that it reads the timestamp with its offset; refuse what is outside "
    "the window",
)
OTHER_BYTES = Mistake(
    "other-bytes",
    "the signature was made with the gateway's key, but over other bytes than the ones received: the body or a "
    "signed header was changed after signing (tampered), or the receiver's path is not the one the gateway signed",
    "refuse it; if it really came from the gateway, compare the path the gateway calls with the one your app "
    "sees (a proxy that strips a prefix changes it)",
)
NO_MATCH = Mistake(
    "no-match",
    "the HMAC matches neither the bytes received nor any known mistake: the body or a signed header was changed "
    "after signing (tampered), the secret is not the one the gateway has, or the path is not the one it signed",
    "refuse it; if it really came from the gateway, check the secret in the profile and the path the gateway "
    "calls against the one your app sees (a proxy that strips a prefix changes it)",
)
MISSING_HEADER = Mistake("missing-header", "a header the recipe signs is missing", "the gateway always sends it")
DUPLICATE_HEADER = Mistake(
    "duplicate-header",
    "a signed header appears more than once: which one counts is ambiguous, and a forger relies on that",
    "refuse a notification with a repeated signature or timestamp header",
)
NOT_BASE64 = Mistake("not-base64", "X-SIGNATURE is not base64", "the gateway sends standard base64")
REPLAYED = Mistake(
    "replayed",
    "the signature is right, but the notification was signed long before it was received: an old notification "
    "sent again (a replay)",
    "refuse a notification whose timestamp is more than 5 minutes old, and remember the ids already processed; "
    "for a capture verified later, pass --received-at with the time it arrived",
)


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: authentic or not, why, and the known mistake that explains a failure."""

    authentic: bool
    provider: str
    reason: str
    recipe: str
    string_to_sign: str | None = None
    mistake: str | None = None
    findings: tuple[str, ...] = ()
    hint: str | None = None
    signed_at: datetime | None = None
    # Whether the signature covers the body. NICEPAY's covers X-CLIENT-KEY|X-TIMESTAMP only: an authentic
    # notification's amount and status are still unproven, and a handler must confirm them with the gateway.
    body_signed: bool = True

    def __bool__(self) -> bool:
        return self.authentic


@dataclass(frozen=True)
class SignedNotification:
    """A notification written as the gateway writes it: every byte decided, nothing sent."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    string_to_sign: str
    signature: str


@dataclass(frozen=True)
class GatewayKey:
    """The gateway's side of a notification for `notify`: its private key (the sandbox's own), and its path."""

    private_key: RSAPrivateKey = field(repr=False)
    public_path: str


class NotificationRecipe(Protocol):
    """A provider's notification recipe (optional in a Family: a provider may have none)."""

    @property
    def provider(self) -> str: ...

    @property
    def describe(self) -> str:
        """The recipe in one line, for people."""
        ...

    @property
    def symmetric_too(self) -> bool:
        """Whether the gateway may also sign them with a shared secret (notify --symmetric)."""
        ...

    def verify(self, profile: Profile, inbound: Inbound, received_at: datetime) -> Verdict:
        """Judge a notification a receiver got at received_at; ConfigError when the profile lacks the key."""
        ...

    def sample(self, profile: Profile, when: datetime, nonce: str) -> tuple[str, bytes]:
        """The path and body of a typical notification (a virtual account paid)."""
        ...

    def sign(
        self,
        profile: Profile,
        key: Callable[[], GatewayKey],
        path: str,
        body: bytes,
        when: datetime,
        nonce: str,
        *,
        symmetric: bool = False,
        token: str | None = None,
    ) -> SignedNotification:
        """Write the notification as the gateway would: path, body and headers, signed."""
        ...

    def answered(self, status: int, body: bytes) -> tuple[bool, str]:
        """Judge the receiver's answer: success or not, and what it said."""
        ...


# --- the body as another side may have written it -----------------------------------------------------


def body_variants(body: bytes) -> Iterator[tuple[Mistake, str, bytes]]:
    """The other spellings of a JSON body that a gateway may have signed while the capture shows body."""
    seen = {body}

    def new(mistake: Mistake, how: str, variant: bytes) -> Iterator[tuple[Mistake, str, bytes]]:
        if variant not in seen:
            seen.add(variant)
            yield mistake, how, variant

    yield from new(SLASH_ESCAPING, "with / escaped as \\/", body.replace(b"/", b"\\/").replace(b"\\\\/", b"\\/"))
    yield from new(SLASH_ESCAPING, "with \\/ written as /", body.replace(b"\\/", b"/"))
    fields = parse_json_object(body)
    if fields is None:
        return
    spellings: list[tuple[str, Callable[[object], str]]] = [
        ("compact", lambda value: json.dumps(value, separators=(",", ":"), ensure_ascii=False)),
        ("json.dumps default spacing", lambda value: json.dumps(value, ensure_ascii=False)),
        ("indented by 2", lambda value: json.dumps(value, indent=2, ensure_ascii=False)),
        ("indented by 4", lambda value: json.dumps(value, indent=4, ensure_ascii=False)),
        ("compact, non-ASCII as \\u escapes", lambda value: json.dumps(value, separators=(",", ":"))),
        ("compact, keys sorted", lambda value: json.dumps(value, separators=(",", ":"), sort_keys=True)),
    ]
    for how, write in spellings:
        text = write(fields).encode("utf-8")
        yield from new(BODY_RESERIALIZED, f"written {how}", text)
        yield from new(SLASH_ESCAPING, f"written {how}, / escaped as \\/", text.replace(b"/", b"\\/"))


# --- searches ------------------------------------------------------------------------------------------

Candidate = tuple[Mistake | None, str, str]  # the mistake (None: the recipe as received), its note, string to sign


def rsa_search(
    signature: str,
    keys: Iterable[tuple[str, RSAPublicKey]],
    candidates: Callable[[], Iterable[Candidate]],
) -> tuple[str | None, Candidate | None, str | None]:
    """Open signature with each named key in turn: (the key that made it, the candidate it signed, encoding).

    The first key is the one the profile names for notifications; a match under another is the wrong key.
    """
    from ..signing import rsa_signed_digest

    raw, encoding = decode_signature(signature)
    if raw is None:
        return None, None, "not base64"
    for name, key in keys:
        digest = rsa_signed_digest(key, raw)
        if digest is None:
            continue
        for candidate in candidates():
            if hashlib.sha256(candidate[2].encode("utf-8")).digest() == digest:
                return name, candidate, encoding
        return name, None, encoding
    return None, None, encoding


def hmac_search(
    signature: bytes,
    keys: Iterable[tuple[str, bytes]],
    candidates: Iterable[Candidate],
    sign: Callable[[bytes, bytes], bytes],
) -> tuple[str, Candidate] | None:
    """The (key name, candidate) whose HMAC (sign: key, message -> raw) is signature, or None."""
    listed = list(candidates)
    for name, key in keys:
        for candidate in listed:
            if hmac.compare_digest(sign(key, candidate[2].encode("utf-8")), signature):
                return name, candidate
    return None


def judge_moment(moment: datetime | None, received_at: datetime) -> tuple[Mistake, str] | None:
    """None when moment is within the window of received_at; else the mistake and the facts."""
    if moment is None:
        return TIMESTAMP_WINDOW, "the timestamp cannot be read as a moment (ISO 8601 with its offset)"
    off = (moment - received_at).total_seconds()
    if abs(off) <= SIGNATURE_WINDOW.total_seconds():
        return None
    facts = f"it is {describe_skew(off)} the moment of receipt; the window is 5 minutes either way"
    hours = abs(off) / 3600
    # UTC offsets run from -12 to +14 hours: a whole number of hours beyond that is no zone slip but an old
    # notification that happens to be whole hours old (a replay).
    whole_hours = 0.9 <= hours <= 14.1 and abs(abs(off) - round(hours) * 3600) <= 60
    if whole_hours:
        return TIMESTAMP_WINDOW, facts + (
            f"; a whole {round(hours)} hour(s) off is a time-zone slip (a clock in local time read as another zone)"
        )
    if off > 0:
        return TIMESTAMP_WINDOW, facts + "; a timestamp from the future means one of the clocks is off"
    return REPLAYED, facts + f" (signed {timedelta(seconds=round(-off))} before it was received)"


# --- SNAP's answer to a notification -------------------------------------------------------------------


def snap_answer(status: int, body: bytes) -> tuple[bool, str]:
    """A SNAP receiver's answer: success is HTTP 2xx with a responseCode starting 200 (`2002500`)."""
    data = parse_json_object(body)
    code = data.get("responseCode") if data is not None else None
    message = data.get("responseMessage") if data is not None else None
    said = f"HTTP {status}" + (f", responseCode {code}" if code is not None else ", no responseCode")
    said += f" {message}" if isinstance(message, str) and message else ""
    ok = 200 <= status < 300 and isinstance(code, str) and code.startswith("200")
    return ok, said


def header_problems(provider: str, recipe: str, inbound: Inbound, needed: list[str]) -> Verdict | None:
    """A verdict when a signed header is missing or given twice; None when each is there once."""
    missing = [name for name in needed if not (inbound.header(name) or "").strip()]
    if missing:
        return Verdicts(provider, recipe, []).fail(MISSING_HEADER, f"the notification has no {', '.join(missing)}")
    repeated = [name for name in needed if name.lower() in inbound.repeated()]
    if repeated:
        return Verdicts(provider, recipe, []).fail(DUPLICATE_HEADER, f"{', '.join(repeated)} given more than once")
    return None


@dataclass
class Verdicts:
    """Writes the verdicts of one check: its provider, its recipe, and the findings gathered on the way."""

    provider: str
    recipe: str
    findings: list[str]

    def fail(self, mistake: Mistake, reason: str, string_to_sign: str | None = None) -> Verdict:
        return Verdict(
            False,
            self.provider,
            reason,
            self.recipe,
            string_to_sign,
            mistake.key,
            (*self.findings, f"likely mistake: {mistake.says}"),
            mistake.fix,
        )

    def judged(self, found: Candidate, stamp_name: str, stamp: str, received_at: datetime) -> Verdict:
        mistake, note, string_to_sign = found
        if mistake is not None:
            self.findings.append(note)
            return self.fail(mistake, "the signature matches other bytes than the ones received", string_to_sign)
        moment = iso_moment(stamp)
        late = judge_moment(moment, received_at)
        if late is not None:
            self.findings.append(late[1])
            reason = f"the gateway's signature, but {stamp_name} {stamp} is outside the window"
            return self.fail(late[0], reason, string_to_sign)
        findings = tuple(self.findings)
        return Verdict(True, self.provider, "authentic", self.recipe, string_to_sign, None, findings, None, moment)


def require_file(profile: Profile, key: str, what: str) -> bytes:
    """The bytes of a key file the profile must name; ConfigError (exit 3) saying which key to set."""
    from ..profiles import missing_key

    data = profile.files.get(key)
    if data is None:
        error = missing_key(key, profile)
        raise ConfigError(f"{error.message}: verifying needs {what}", details=error.details, hint=error.hint)
    return data
