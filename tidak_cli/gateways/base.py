"""What a provider is: declared settings and options, plus `build` and `parse`, both pure; and what a
family's optional mistake search offers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ..clock import expiry_after
from ..errors import ConfigError, GatewayError, PaytokenError, RejectedError, UsageError
from ..profiles import Profile, Setting
from ..redact import mask_token_fields

if TYPE_CHECKING:
    from ..capture import Captured
    from ..forensics import Comparison, Replay, SearchContext

__all__ = [
    "NONCE",
    "Call",
    "CallReplay",
    "CallVerdict",
    "CliOption",
    "Forensics",
    "Provenance",
    "Provider",
    "SignedRequest",
    "Token",
    "call_headers",
    "compact_json",
    "parse_json",
    "parse_json_object",
    "request_id",
    "snippet",
    "unexpected_answer",
    "unreadable_answer",
]

# The target of a CLI option that supplies the request's unique id instead of a profile key.
NONCE = "nonce"


class CliOption(NamedTuple):
    """A provider-specific flag on `get PROVIDER` and `sign PROVIDER`.

    `target` is the profile key the flag overrides, or NONCE for the request id.
    """

    flag: str
    target: str
    help: str
    metavar: str = "VALUE"


@dataclass(frozen=True)
class SignedRequest:
    """A request ready to send: every byte decided, nothing sent."""

    provider: str
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    string_to_sign: str
    signature: str
    algorithm: str
    # Extra facts `sign` shows on the way to the signature (digests, derived keys), in order.
    derivation: tuple[tuple[str, str], ...] = ()
    # The moment the signed timestamp claims, when it can be read (gateways accept it for minutes only).
    signed_at: datetime | None = None
    # The token lifetime the request asked for (DOKU's valid_time), the expiry of last resort.
    requested_lifetime: int | None = None

    @property
    def body_text(self) -> str | None:
        return None if self.body is None else self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Token:
    """An access token as the gateway issued it."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int | None
    expires_at: datetime | None
    response: Mapping[str, object] = field(repr=False)

    def anchored(self, received_at: datetime) -> Token:
        """Fill whichever of expires_in / expires_at the gateway left out, from the receipt time."""
        if self.expires_at is None and self.expires_in is not None:
            expires_at = expiry_after(received_at, self.expires_in)
            if expires_at is None:  # a lifetime no sane calendar holds: the expiry is unknown
                return replace(self, expires_in=None)
            return replace(self, expires_at=expires_at)
        if self.expires_in is None and self.expires_at is not None:
            return replace(self, expires_in=max(0, int((self.expires_at - received_at).total_seconds())))
        return self


@dataclass(frozen=True)
class Call:
    """A signed API call as the user asks for it, before a recipe signs it (SPEC 6)."""

    method: str
    # The path as the user gave it, relative, with its query string.
    path: str
    # The exact bytes sent and hashed; None for a call without a body.
    body: bytes | None = field(default=None, repr=False)
    # The access token, without "Bearer "; None for calls signed without one.
    token: str | None = field(default=None, repr=False)
    # The call's unique id (SNAP X-EXTERNAL-ID, DOKU Request-Id); None where the recipe has none.
    call_id: str | None = None
    # Headers the user adds (-H); a recipe refuses one it computes.
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallReplay:
    """What a captured call says: the call to sign again, the timestamp and signature it carried, and what the
    gateway will object to besides the signature."""

    call: Call
    timestamp: str | None
    signature: str | None
    problems: tuple[str, ...] = ()  # the gateway rejects these
    cautions: tuple[str, ...] = ()  # worth knowing; may be fine (an old capture's timestamp)
    # Whether the call id was in the capture: a recipe that signs it can then be searched (call.call_id is None
    # when the capture had none to use; the caller makes one where the recipe does not sign it).
    call_id_captured: bool = False


@dataclass(frozen=True)
class CallVerdict:
    """What a gateway's answer to a call says: success or not, in its own words."""

    ok: bool
    code: str | None = None
    message: str | None = None
    # The gateway refused the token before processing the call (SNAP 401xx01): safe to send once more.
    invalid_token: bool = False

    @property
    def words(self) -> str:
        return " ".join(part for part in (self.code, self.message) if part)


@dataclass(frozen=True)
class Provenance:
    """Where a provider's facts come from and how sure they are, for `paytoken providers` and `providers show`."""

    # "seed": the gateways paytoken started with; "bank": a SNAP bank; "wallet": a SNAP e-wallet or aggregator.
    group: str = "seed"
    # How the facts were checked: "SPEC vectors", "official docs", "official SDK", "community", …
    confidence: str = "SPEC vectors"
    # Where to read them (a documentation page, an SDK file), most authoritative first.
    sources: tuple[str, ...] = ()
    # Where a source contradicts another (or the issue that asked for the preset), and what paytoken follows.
    notes: tuple[str, ...] = ()

    @property
    def community_only(self) -> bool:
        return self.confidence == "community"


class Provider(Protocol):
    """A gateway's token endpoint: data, plus two pure functions `build` and `parse`."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str:
        """The gateway and product, for people."""
        ...

    @property
    def algorithm(self) -> str: ...

    @property
    def identity_key(self) -> str:
        """The profile key that names the partner to the gateway (client_id, merchant_id, faspay_key)."""
        ...

    @property
    def token_path(self) -> str:
        """The default token path (a profile may override it where the provider allows)."""
        ...

    @property
    def base_urls(self) -> Mapping[str, str]:
        """Built-in base URL per environment (`sandbox`, `production`)."""
        ...

    @property
    def settings(self) -> tuple[Setting, ...]:
        """The profile keys this provider reads, beyond the common ones."""
        ...

    @property
    def one_of(self) -> tuple[tuple[str, ...], ...]:
        """Groups of keys of which exactly one must be set."""
        ...

    @property
    def options(self) -> tuple[CliOption, ...]:
        """Flags of its own on `get` and `sign`."""
        ...

    @property
    def recipe(self) -> tuple[str, ...]:
        """The signing recipe in a few lines, for `providers show`."""
        ...

    def new_nonce(self) -> str | None:
        """Return a fresh request id (impure: called outside build), or None if none is used."""
        ...

    def build(
        self, profile: Profile, when: datetime | str, nonce: str | None, body: bytes | None = None
    ) -> SignedRequest:
        """Build and sign the token request; `when` is an aware time or an exact timestamp string.

        `body` replaces the body the recipe would write (--replay re-signs the bytes that were sent).
        """
        ...

    def parse(self, status: int, body: bytes) -> Token:
        """Read the gateway's answer into a Token, or raise RejectedError / GatewayError."""
        ...

    def derived_secrets(self, profile: Profile) -> list[str]:
        """Values that are the profile's secrets in another spelling (base64, hex): masked like them."""
        ...

    @property
    def call_recipe(self) -> tuple[str, ...]:
        """The signing recipe of the calls after the token, in a few lines, for `providers show`."""
        ...

    @property
    def call_needs_token(self) -> bool:
        """Whether a call carries the access token (SNAP asymmetric calls do not)."""
        ...

    def new_call_id(self) -> str | None:
        """Return a fresh id for one call (impure: called outside build_call), or None if calls carry none."""
        ...

    def build_call(self, profile: Profile, call: Call, when: datetime | str) -> SignedRequest:
        """Sign call for profile; `when` is an aware time or an exact timestamp string (pure, like build)."""
        ...

    def judge_call(self, status: int, body: bytes) -> CallVerdict:
        """Tell from a call's answer whether the gateway accepted it (never raises: any bytes may come)."""
        ...


class Forensics(Protocol):
    """A family's mistake search for `sign --compare` and `sign --replay` (optional: a family may have none)."""

    def read_capture(self, profile: Profile, captured: Captured, now: datetime) -> Replay:
        """Take the signed inputs out of a captured request, and say what the gateway will object to."""
        ...

    def compare(self, profile: Profile, request: SignedRequest, signature: str, context: SearchContext) -> Comparison:
        """Tell whether signature is the one request carries; if not, search the known mistakes for it."""
        ...

    def read_call_capture(self, profile: Profile, captured: Captured, now: datetime) -> CallReplay:
        """Take a captured call apart into what re-signs it, and say what the gateway will object to."""
        ...

    def compare_call(
        self, profile: Profile, request: SignedRequest, call: Call, signature: str, context: SearchContext
    ) -> Comparison:
        """Tell whether signature is the one the signed call request carries; if not, search the call mistakes
        of SPEC 6.4 for the one that reproduces it."""
        ...


def request_id(nonce: str | None, limit: int, name: str, flag: str) -> str:
    """The request id a recipe signs: given (1 to limit characters) or a UsageError naming its flag."""
    value = nonce or ""
    if not value or len(value) > limit:
        raise UsageError(
            f"{name} must be 1 to {limit} characters, not {len(value)}",
            hint=f"leave {flag} out to get a fresh one",
        )
    return value


def call_headers(computed: Mapping[str, str], profile: Profile, call: Call) -> dict[str, str]:
    """The computed headers plus the profile's `call_headers` and the user's -H; neither may replace one computed."""
    headers = dict(computed)
    table = profile.get("call_headers")
    own = {str(name): str(value) for name, value in table.items()} if isinstance(table, dict) else {}
    for source, what, error in (
        (own, f"call_headers in {profile.where}", ConfigError),
        (call.headers, "-H", UsageError),
    ):
        for name, value in source.items():
            if name.lower() in {taken.lower() for taken in headers}:
                raise error(
                    f"{what} sets the header {name}, which paytoken computes for this call",
                    hint=f"leave {name} out; `paytoken sign PROVIDER --request …` shows the value it computes",
                )
            headers[name] = value
    return headers


def compact_json(value: object) -> bytes:
    """Serialize once, compactly, in the given key order; these bytes are what gets sent and signed."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# Deeper than any gateway's answer, and shallow enough that every step after this edge that walks the value
# by recursion (json.dumps with indent, for one) stays within Python's recursion limit, whatever its caller's
# stack: json.loads itself reads nearly a thousand levels, and one more frame later would crash an output.
MAX_JSON_DEPTH = 800


def parse_json(body: bytes) -> object:
    """Decode a gateway's JSON body, any value; ValueError when it is not UTF-8 JSON nested at most
    MAX_JSON_DEPTH levels (the one edge a gateway's JSON crosses)."""
    try:
        value = json.loads(body.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deep") from None
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError("nested too deep")
            pending += [(child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)]
    return value


def parse_json_object(body: bytes) -> dict[str, object] | None:
    """Decode a JSON object body; None when it is not one (the caller decides what that means)."""
    try:
        value = parse_json(body)
        # JSON may escape a lone surrogate (\ud800), which no UTF-8 output can hold: not text at all.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        return None
    return value if isinstance(value, dict) else None


def snippet(body: bytes, limit: int = 300) -> str:
    """The start of a body, verbatim but printable, for error messages; a token in it is masked."""
    text = mask_token_fields(body[:limit].decode("utf-8", errors="replace").strip())
    return text + ("…" if len(body) > limit else "")


def unexpected_answer(status: int, body: bytes, gateway: str, expected: str) -> PaytokenError:
    """The error for an answer that is not the gateway's documented JSON: a rejection if 4xx."""
    if 400 <= status < 500:
        return RejectedError(
            f"{gateway} rejected the token request with HTTP {status}",
            status=status,
            details=[f"body: {snippet(body)}" if body.strip() else "body is empty"],
            quoted=[snippet(body)],
            hint="a 404 or 405 usually means a wrong base_url or token path"
            if status in (404, 405)
            else "the body above is the gateway's own words",
        )
    return unreadable_answer(status, body, gateway, expected)


def unreadable_answer(status: int, body: bytes, gateway: str, expected: str) -> GatewayError:
    """The error for an answer that is not the JSON the gateway documents."""
    start = mask_token_fields(body[:200].decode("utf-8", errors="replace").strip().replace("\n", " "))
    kind = "an HTML page" if start.lower().startswith(("<!doctype", "<html")) else "a body that is not JSON"
    return GatewayError(
        f"{gateway} answered HTTP {status} with {kind}, not {expected}",
        details=[f"body starts: {start[:120]!r}" if start else "body is empty"],
        quoted=[repr(start[:120])],
        hint="a proxy, firewall or wrong base_url often answers with a page; check base_url, or retry later",
    )
