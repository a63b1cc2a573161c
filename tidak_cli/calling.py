"""The `call` core: one signed API call after the token (SPEC 6), as the options declare it.

The body is read once and those bytes are hashed and sent; the token is taken as `get` takes it (cache first);
the provider's `build_call` signs; the call is sent at most once, with one exception: a SNAP gateway that
refuses a token from the cache (401xx01, before processing) gets the call once more with a fresh token. The
answer is judged by the provider's `judge_call`. `sign --request` builds with the same code and sends nothing.
cli/call.py reads the options and renders; nothing here imports Typer or Rich.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .clock import Clock, utc_now
from .errors import ConfigError, GatewayError, NetworkError, PaytokenError, RejectedError, UsageError
from .files import BODY_LIMIT, read_local, read_stdin

if TYPE_CHECKING:
    from .gateways.base import Call, CallVerdict, Provider, SignedRequest
    from .getting import GetRequest
    from .profiles import Profile
    from .transport import Response, Transport

__all__ = [
    "CallOutcome",
    "CallRequest",
    "answer_document",
    "build_call",
    "cached_call_token",
    "check_call",
    "header_pairs",
    "judged",
    "make_call",
    "read_body",
    "send_call",
    "sign_call",
]

# Methods that send nothing a gateway could act on twice, when they carry no body (SPEC 6.1).
_SAFE_METHODS = frozenset({"GET", "HEAD"})
# An HTTP header's name (RFC 9110 token). Patterns as text: re compiles and caches them on first use, not at import.
_HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# A SNAP responseCode: HTTP status (3 digits), service code (2), case (2).
_SNAP_CODE = r"([1-5][0-9]{2})([0-9]{2})([0-9]{2})"


@dataclass(frozen=True)
class CallRequest:
    """A `paytoken call` (or `sign --request`) as its options say it; each field is one declared option."""

    provider: str
    method: str
    path: str
    profile: str | None = None
    profiles_file: Path | None = None
    data: str | None = None
    raw_body: bool = False
    headers: Sequence[str] = ()
    token: str | None = None
    timestamp: str | None = None
    external_id: str | None = None
    base_url: str | None = None
    output: str | None = None
    dry_run: bool = False
    verbose: bool = False
    no_cache: bool = False
    refresh: bool = False
    min_ttl: float = 60.0
    debug: bool = False

    @property
    def upper_method(self) -> str:
        return self.method.upper()

    def chosen_output(self, stdout_is_terminal: bool) -> str:
        """The -o format, or the default for where stdout goes."""
        return self.output or ("pretty" if stdout_is_terminal else "body")


@dataclass(frozen=True)
class CallOutcome:
    """A call sent and answered: the request as last sent, the answer, the provider's verdict."""

    request: SignedRequest
    response: Response
    verdict: CallVerdict
    # Where the token came from: "given" (--token), "cache", "gateway", or None for a call without one.
    token_source: str | None
    # The call was sent twice: the first try's cached token was refused before processing (401xx01).
    resent: bool = False


def check_call(request: CallRequest) -> None:
    """Refuse option values that cannot mean anything, before the profile is loaded."""
    if not re.fullmatch(r"[A-Za-z]{1,20}", request.method):
        raise UsageError(f"METHOD {request.method!r} is not an HTTP method", hint="e.g. POST or GET")
    if not request.path.startswith("/"):
        raise UsageError(f"PATH {request.path!r} must start with /", hint=f"write /{request.path.lstrip('/')}")
    odd = [character for character in request.path if character.isspace() or not character.isprintable()]
    if odd:
        raise UsageError(
            f"PATH {request.path!r} holds {odd[0]!r}, which cannot stand in a request line",
            hint="percent-encode it (a space is %20)",
        )
    if request.raw_body and request.data is None:
        raise UsageError("--raw-body sends the bytes --data gives, and there is no --data", hint="add --data")
    if request.token is not None:
        check_token(request.token)
    if not math.isfinite(request.min_ttl):
        raise UsageError(f"--min-ttl {request.min_ttl} is not a number of seconds", hint="e.g. --min-ttl 60")
    if request.token is not None and (request.no_cache or request.refresh):
        raise UsageError(
            "--token gives the token: --no-cache and --refresh have no cache to skip",
            hint="leave out --token to take the token from the cache, or leave out --no-cache and --refresh",
        )
    if request.dry_run and request.output == "body":
        raise UsageError(
            "--dry-run sends nothing, so there is no answer's body to print",
            hint="use --dry-run with -o pretty, json or curl",
        )
    header_pairs(request.headers)


def check_token(token: str) -> None:
    """A --token as it goes into `Authorization: Bearer …`: nothing in it is stripped silently."""
    if token[:7].lower() == "bearer ":
        raise UsageError(
            "--token takes the access token alone, and this one starts with 'Bearer '",
            hint='paytoken adds "Bearer " itself: --token "${TOKEN#Bearer }", or --token "$(paytoken get PROVIDER)"',
        )
    if not token or any(character.isspace() or not character.isprintable() for character in token):
        raise UsageError(
            "--token is empty or holds spaces or control characters, which no header can carry",
            hint="give the bare token as `paytoken get PROVIDER` prints it (no newline, no quotes)",
        )


def header_pairs(values: Sequence[str]) -> dict[str, str]:
    """The -H 'Name: value' headers, each checked; a name given twice is refused, not overwritten."""
    headers: dict[str, str] = {}
    for value in values:
        name, colon, text = value.partition(":")
        name, text = name.strip(), text.strip(" \t")
        if not colon or not re.fullmatch(_HEADER_NAME, name):
            raise UsageError(f"-H {value!r} is not 'Name: value'", hint="e.g. -H 'X-Request-Source: cli'")
        if any(character in text for character in "\r\n\0"):
            raise UsageError(f"-H {name}'s value holds a line break or NUL", hint="a header's value is one line")
        if name.lower() in {known.lower() for known in headers}:
            raise UsageError(f"-H sets {name} twice", hint="give each header once")
        headers[name] = text
    return headers


def read_body(data: str | None, raw_body: bool, stdin: BinaryIO | None = None) -> bytes | None:
    """The bytes a call sends and hashes: --data JSON serialized once, compactly; with --raw-body, as given."""
    if data is None:
        return None
    if data == "-":
        given = read_stdin(BODY_LIMIT, "--data -", stdin=stdin, error=UsageError, hint="that is as much as is sent")
        what = "stdin"
    elif data.startswith("@"):
        path = Path(data[1:])
        given = read_local(path, BODY_LIMIT, "--data", error=UsageError, hint="give @FILE a JSON file (or -)")
        what = str(path)
    else:
        # The argument's own bytes, even when they are not UTF-8 (os.fsencode undoes the decoding of argv).
        given = os.fsencode(data)
        what = "--data"
    if raw_body:
        return given
    return compact_body(given, what)


def compact_body(given: bytes, what: str) -> bytes:
    """JSON serialized once, compactly (no spaces between tokens), key order and non-ASCII kept.

    Numbers keep the digits they were written with: json.dumps would turn 10000.00 into 10000.0 and 1e3 into
    1000.0, and an amount is not for paytoken to rewrite. A key given twice is refused (json would keep the last).
    """
    hint = "give one JSON value (an object, usually), or --raw-body to send the bytes exactly as given"
    try:
        text = given.decode("utf-8")
        value = json.loads(
            text, parse_float=_Number, parse_int=_Number, parse_constant=_no_constant, object_pairs_hook=_object
        )
        return _compact(value).encode("utf-8")
    except UnicodeError:
        raise UsageError(f"the body in {what} is not UTF-8 text, as JSON must be", hint=hint) from None
    except _DuplicateKey as duplicate:
        raise UsageError(f"the JSON in {what} gives the key {duplicate.key!r} twice", hint=hint) from None
    except json.JSONDecodeError as error:
        raise UsageError(
            f"the body in {what} is not JSON: {error.msg} at line {error.lineno} column {error.colno}", hint=hint
        ) from None
    except (ValueError, RecursionError):
        raise UsageError(
            f"the body in {what} is not JSON this machine can read (NaN, or nested too deep)", hint=hint
        ) from None


class _Number(str):
    """A JSON number as written."""


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_constant(name: str) -> object:
    raise ValueError(name)


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    made: dict[str, object] = {}
    for key, value in pairs:
        if key in made:
            raise _DuplicateKey(key)
        made[key] = value
    return made


def _compact(value: object) -> str:
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(key)}:{_compact(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(item) for item in value) + "]"
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value)  # true, false, null


def _string(text: str) -> str:
    dumped = json.dumps(text, ensure_ascii=False)
    dumped.encode("utf-8")  # a lone surrogate (\ud800) has no UTF-8: UnicodeError, reported as not UTF-8
    return dumped


def _get_request(request: CallRequest, *, refresh: bool) -> GetRequest:
    """The token request a call makes first: `get` with the call's cache options (never its --timestamp)."""
    from .getting import GetRequest

    return GetRequest(
        provider=request.provider,
        profile=request.profile,
        profiles_file=request.profiles_file,
        timestamp=None,
        base_url=request.base_url,
        output=None,
        dry_run=False,
        env_prefix="PAYTOKEN_",
        verbose=request.verbose,
        no_cache=request.no_cache,
        refresh=refresh,
        min_ttl=request.min_ttl,
        dotenv=None,
        debug=request.debug,
    )


def build_call(
    provider: Provider,
    profile: Profile,
    request: CallRequest,
    token: str | None,
    body: bytes | None,
    *,
    fresh: bool = False,
    clock: Clock = utc_now,
) -> SignedRequest:
    """Sign the call; fresh: a new call id and the clock's time, whatever --external-id and --timestamp say."""
    call = make_call(provider, request, token, body, fresh=fresh)
    return sign_call(provider, profile, request, call, fresh=fresh, clock=clock)


def make_call(
    provider: Provider, request: CallRequest, token: str | None, body: bytes | None, *, fresh: bool = False
) -> Call:
    """The call the options describe, with its id (--external-id, or a fresh one), not yet signed."""
    from .gateways.base import Call

    given_id = None if fresh else request.external_id
    if given_id is not None and provider.new_call_id() is None:
        raise UsageError(
            f"{provider.name} calls carry no call id, so --external-id has nothing to set",
            hint="leave out --external-id",
        )
    return Call(
        method=request.upper_method,
        path=request.path,
        body=body,
        token=token,
        call_id=given_id if given_id is not None else provider.new_call_id(),
        headers=header_pairs(request.headers),
    )


def sign_call(
    provider: Provider,
    profile: Profile,
    request: CallRequest,
    call: Call,
    *,
    fresh: bool = False,
    clock: Clock = utc_now,
) -> SignedRequest:
    """Sign call at --timestamp (unless fresh), else at the clock's time."""
    when = request.timestamp if request.timestamp is not None and not fresh else clock()
    return provider.build_call(profile, call, when)


def cached_call_token(
    provider: Provider, profile: Profile, request: CallRequest, *, warn: Callable[[str], None]
) -> str | None:
    """The token of a call not sent: --token, else the cached one (never fetched); None where calls need none."""
    if request.token is not None:
        return request.token
    if not provider.call_needs_token:
        return None
    from .cache import cache_directory, configured_url
    from .tokens import cached_token, open_cache

    hit = None
    if not request.no_cache:
        cache = open_cache(configured_url(profile), cache_directory(), warn=warn)
        hit = cached_token(provider, profile, cache, min_ttl=0)
    if hit is None:
        raise ConfigError(
            f"no unexpired {provider.name} token is cached for [{provider.name}.{profile.name}], and signing a call "
            "never asks the gateway for one",
            hint=f"get one first with `paytoken get {provider.name} -p {profile.name}`, or give it with --token",
        )
    return hit.token.access_token


def send_call(
    provider: Provider,
    profile: Profile,
    request: CallRequest,
    body: bytes | None,
    *,
    warn: Callable[[str], None],
    notice: Callable[[str], None],
    open_transport: Callable[[], Transport],
    on_token: Callable[[str], None] = lambda _token: None,
    clock: Clock = utc_now,
) -> CallOutcome:
    """Get the token, sign, send once, judge; once more only for a cached token refused before processing.

    notice: a line the user sees whatever -v says (the resend); on_token: told each token, so it is masked.
    """
    source: str | None = None
    token: str | None = None
    if request.token is not None:
        token, source = request.token, "given"
    elif provider.call_needs_token:
        token, source = _token(provider, profile, request, warn, open_transport, refresh=request.refresh)
    if token is not None:
        on_token(token)
    signed = build_call(provider, profile, request, token, body, clock=clock)
    response, verdict = _exchange(provider, profile, signed, open_transport)
    if not (verdict.invalid_token and source == "cache"):
        return CallOutcome(signed, response, verdict, source)
    # SNAP 401xx01: the gateway refused the token before processing the call (SPEC 6.1), the one case where
    # sending it again cannot take a payment twice. Once, with a fresh token, timestamp, signature and call id.
    _drop_cached(provider, profile, warn)
    notice(
        f"{provider.name} refused the cached token ({verdict.words or 'invalid token'}) before processing the call; "
        "sending it once more with a new token, X-TIMESTAMP, signature and call id"
    )
    token, source = _token(provider, profile, request, warn, open_transport, refresh=True)
    on_token(token)
    first = signed
    signed = build_call(provider, profile, request, token, body, fresh=True, clock=clock)
    if request.verbose:
        warn_id = _call_id(first), _call_id(signed)
        warn(f"first try's call id {warn_id[0]}, this try's {warn_id[1]}; the cached token was dropped")
    response, verdict = _exchange(provider, profile, signed, open_transport)
    return CallOutcome(signed, response, verdict, source, resent=True)


def _call_id(request: SignedRequest) -> str:
    for name in ("X-EXTERNAL-ID", "Request-Id"):
        if name in request.headers:
            return request.headers[name]
    return "(none)"


def _token(
    provider: Provider,
    profile: Profile,
    request: CallRequest,
    warn: Callable[[str], None],
    open_transport: Callable[[], Transport],
    *,
    refresh: bool,
) -> tuple[str, str]:
    from .getting import obtain

    result = obtain(
        provider, profile, _get_request(request, refresh=refresh), None, warn=warn, open_transport=open_transport
    )
    return result.token.access_token, "cache" if result.cached else "gateway"


def _drop_cached(provider: Provider, profile: Profile, warn: Callable[[str], None]) -> None:
    from .cache import cache_directory, cache_key, configured_url
    from .tokens import cache_identity, open_cache

    cache = open_cache(configured_url(profile), cache_directory(), warn=warn)
    cache.remove(cache_key(*cache_identity(provider, profile)))


def _exchange(
    provider: Provider, profile: Profile, signed: SignedRequest, open_transport: Callable[[], Transport]
) -> tuple[Response, CallVerdict]:
    idempotent = signed.method in _SAFE_METHODS and not signed.body
    try:
        with open_transport() as transport:
            response = transport.send(signed, timeout=profile.timeout, verify=profile.tls_verify, idempotent=idempotent)
    except NetworkError as error:
        from .transport import never_arrived

        if not idempotent and not never_arrived(error):
            error.details = (
                *error.details,
                "the call may have reached the gateway before the connection failed; paytoken did not send it again",
            )
            error.hint = "check the call's status at the gateway before sending it again"
        raise
    return response, provider.judge_call(response.status, response.body)


def judged(provider: Provider, outcome: CallOutcome) -> PaytokenError | None:
    """The failure a call ends with (exit 4 rejected, 6 failed or unreadable), or None when it was accepted."""
    from .gateways.base import parse_json_object, snippet

    response, verdict = outcome.response, outcome.verdict
    status = response.status
    words = verdict.words
    body_note = f"body: {snippet(response.body)}" if response.body.strip() else "body is empty"
    readable = not response.body.strip() or parse_json_object(response.body) is not None
    may_be_taken = "the gateway may have processed the call: check its status there before sending it again"
    if verdict.ok and readable:
        return None
    if verdict.ok or (200 <= status < 300 and not readable and verdict.code is None):
        return GatewayError(
            f"{provider.title} answered the call with HTTP {status} and a body that is not JSON",
            details=[body_note],
            quoted=[snippet(response.body)],
            hint=f"{may_be_taken}; a proxy or a wrong base_url often answers with a page",
        )
    if 300 <= status < 400:
        location = response.headers.get("Location") or response.headers.get("location") or ""
        return GatewayError(
            f"{provider.title} answered the call with HTTP {status}"
            + (f" to {location[:200]!r}" if location else "")
            + "; paytoken does not follow redirects",
            quoted=[location[:200]],
            hint="a signature is made for one URL: set base_url to where the gateway points",
        )
    if status >= 500 or (verdict.code or "").startswith("5"):
        return GatewayError(
            f"{provider.title} failed the call with HTTP {status}" + (f": {words}" if words else ""),
            details=[] if words else [body_note],
            quoted=[words, snippet(response.body)],
            hint=f"{may_be_taken}; paytoken never resends a call that may have arrived",
        )
    return RejectedError(
        f"{provider.title} rejected the call: {words or f'HTTP {status}'}",
        status=status,
        code=verdict.code,
        gateway_message=verdict.message,
        details=[f"HTTP {status}", *([] if words else [body_note])],
        quoted=[snippet(response.body)],
        hint=_rejection_hint(provider, outcome),
    )


def _rejection_hint(provider: Provider, outcome: CallOutcome) -> str:
    verdict, request = outcome.verdict, outcome.request
    from urllib.parse import urlsplit

    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    sign = f"`paytoken sign {provider.name} --request {request.method} {path} …` with the same options shows every byte"
    if verdict.invalid_token:
        if outcome.token_source == "given":
            return (
                "the token given with --token is refused (expired, or another client's); paytoken refreshes only a "
                f"token it took from its cache: leave out --token, or `paytoken get {provider.name} --refresh`"
            )
        if outcome.resent:
            return "a fresh token was refused too: check that base_url is the gateway that issued it"
        return "the token was just issued and still refused: check that base_url is the gateway that issued it"
    match = re.fullmatch(_SNAP_CODE, verdict.code or "")
    if match is not None:
        status, case = match.group(1), match.group(3)
        if status == "401" and case == "00":
            return (
                "the gateway could not verify X-SIGNATURE (or X-TIMESTAMP): check client_secret in the profile, "
                f"that the body hashed is the body sent, and this machine's clock; {sign}"
            )
        if status == "409":
            call_id = request.headers.get("X-EXTERNAL-ID", "")
            return (
                f"X-EXTERNAL-ID {call_id} was used already today: the gateway took a call with it. Each call needs "
                "its own: leave out --external-id for a fresh one (and check the first call's status)"
            )
        if status == "400":
            return f"a header or field is missing or has the wrong format (the gateway's words above); {sign}"
        if status == "404":
            return "the gateway has no such service: check PATH and base_url"
    if outcome.response.status in (404, 405):
        return "a 404 or 405 usually means a wrong PATH or base_url"
    if outcome.response.status == 401:
        return f"the gateway refused the signature or the credentials; {sign}"
    return "the gateway's own words are above"


def answer_document(
    outcome: CallOutcome, redact_headers: Callable[[Mapping[str, str]], dict[str, str]], masked: Callable[[str], str]
) -> dict[str, object]:
    """-o json: the answer and the request as sent, secrets masked in the request's headers and string.

    The answer's headers and the strings of its body are masked too, as -o pretty masks them: a gateway (or a
    proxy) that echoes the token or a secret must not get it printed where only -o body prints bytes as received.
    """
    from .gateways.base import parse_json

    response, request = outcome.response, outcome.request
    body: object
    if not response.body:
        body = None
    else:
        try:
            body = parse_json(response.body)
        except ValueError:
            body = response.body.decode("utf-8", errors="replace")
    return {
        "status": response.status,
        "headers": redact_headers(response.headers),
        "body": _masked_strings(body, masked),
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": redact_headers(request.headers),
            "body": request.body_text,
            "string_to_sign": masked(request.string_to_sign),
            "signature": request.signature,
        },
    }


def _masked_strings(value: object, masked: Callable[[str], str]) -> object:
    """value with masked applied to every string in it, keys and values, order kept (a walk with a stack)."""
    from functools import partial

    root: list[object] = []
    pending: list[tuple[object, Callable[[object], None]]] = [(value, root.append)]
    while pending:
        item, put = pending.pop()
        if isinstance(item, dict):
            pairs = [(masked(key) if isinstance(key, str) else key, child) for key, child in item.items()]
            table: dict[object, object] = dict.fromkeys(key for key, _ in pairs)
            pending += [(child, partial(table.__setitem__, key)) for key, child in pairs]
            put(table)
        elif isinstance(item, list):
            items: list[object] = [None] * len(item)
            pending += [(child, partial(items.__setitem__, index)) for index, child in enumerate(item)]
            put(items)
        else:
            put(masked(item) if isinstance(item, str) else item)
    return root[0]
