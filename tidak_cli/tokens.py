"""Getting a token: build, send, parse, and add the local facts that explain a rejection."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from .cache import CacheBackend, CacheEntry, TokenCache, Warn, cache_key, identity_url
from .clock import EARLIEST, SKEW_WORTH_SAYING, Clock, clock_skew, describe_skew, expiry_after, utc_now
from .errors import GatewayError, PaytokenError, RejectedError
from .gateways.base import Provider, SignedRequest, Token, snippet
from .profiles import Profile

if TYPE_CHECKING:
    # Imported for types only: a cache hit must not load the HTTP layer.
    from pathlib import Path

    from .transport import Response, Transport

__all__ = [
    "TokenResult",
    "UnusableToken",
    "build",
    "cache_identity",
    "cached_token",
    "credential_fingerprint",
    "fetch",
    "get_token",
    "open_cache",
]

# What an `Authorization: Bearer` header can carry (RFC 6750's b64token), and a token type's shape. A token
# outside them cannot be printed safely into a header line, a shell's eval or a dotenv file.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_TOKEN_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9\-_]*")


@dataclass(frozen=True)
class TokenResult:
    """A token and how it was obtained."""

    provider: str
    profile: str
    token: Token
    cached: bool
    request: SignedRequest | None = field(default=None, repr=False)
    response: Response | None = field(default=None, repr=False)
    stored_by: str | None = None  # for a cached token: the profile that asked the gateway for it

    def __post_init__(self) -> None:
        # The edge for tokens: every token paytoken serves is a TokenResult, fresh or cached, so each one is
        # checked here, once, before any output (-o token/header/env/json, --dotenv, pretty) can print it.
        problem = unprintable(self.token)
        if problem is not None:
            raise UnusableToken(self, problem)


class UnusableToken(GatewayError):
    """A token (fresh from the gateway or read from a cache) that cannot be printed safely: exit 6."""

    def __init__(self, result: TokenResult, problem: str) -> None:
        if result.cached:
            message = (
                f"the cached {result.provider} token (stored by [{result.provider}.{result.stored_by}]) "
                "cannot be used as one: paytoken refused to serve it"
            )
            hint = (
                "something other than paytoken wrote that cache entry (anyone who can write to a shared Redis "
                f"can); `paytoken cache clear {result.provider}` removes it, `--refresh` asks the gateway"
            )
        else:
            message = f"{result.provider} answered with a token that cannot be used as one"
            hint = (
                "a gateway or proxy is answering something else than tokens: check base_url and the token path "
                "(`-v` shows the answer, the token masked)"
            )
        super().__init__(message, details=[problem], hint=hint)


def build(
    provider: Provider,
    profile: Profile,
    *,
    timestamp: str | None = None,
    nonce: str | None = None,
    clock: Clock = utc_now,
    body: bytes | None = None,
) -> SignedRequest:
    """Sign the token request for profile; an exact timestamp string replaces the clock."""
    request_id = nonce if nonce is not None else provider.new_nonce()
    return provider.build(profile, timestamp if timestamp is not None else clock(), request_id, body)


def get_token(
    provider: Provider,
    profile: Profile,
    *,
    cache: CacheBackend | None,
    open_transport: Callable[[], Transport],
    min_ttl: float = 60,
    refresh: bool = False,
    timestamp: str | None = None,
    nonce: str | None = None,
    clock: Clock = utc_now,
) -> TokenResult:
    """A token from the cache while it has min_ttl seconds left, else from the gateway (stored if it expires).

    The transport is opened only on a miss, so that a cache hit never imports the HTTP stack.
    """
    if cache is None:
        with open_transport() as transport:
            return fetch(provider, profile, transport=transport, timestamp=timestamp, nonce=nonce, clock=clock)
    identity = cache_identity(provider, profile)
    key = cache_key(*identity)

    def servable() -> TokenResult | None:
        # --refresh asks for a new token: a cached one is never an answer, not even to stop waiting for the lock.
        return None if refresh else cached_token(provider, profile, cache, min_ttl=min_ttl, clock=clock)

    if (hit := servable()) is not None:
        return hit
    with cache.lock(key, timeout=profile.timeout, ready=lambda: servable() is not None):
        # Another process may have stored a token while this one waited for the lock.
        if (hit := servable()) is not None:
            return hit
        with open_transport() as transport:
            result = fetch(provider, profile, transport=transport, timestamp=timestamp, nonce=nonce, clock=clock)
        lifetime = result.token.expires_in
        if lifetime is not None and lifetime <= min_ttl:
            # A token is served while it has at least --min-ttl left: one that starts with no more never is.
            cache.warn(
                f"{provider.name} issued a token for {lifetime} s and --min-ttl is {min_ttl:g}: it will never be "
                "served from the cache, so every call asks the gateway"
                + (f"; use a --min-ttl below {lifetime}" if lifetime > 0 else "")
            )
        expires_at = result.token.expires_at
        if expires_at is not None:  # a token of unknown lifetime is never cached
            cache.store(
                key,
                CacheEntry(
                    provider=provider.name,
                    profile=profile.name,
                    base_url=identity[1],
                    client_id=identity[2],
                    credential=identity[3],
                    access_token=result.token.access_token,
                    token_type=result.token.token_type,
                    expires_at=expires_at,
                    stored_at=clock(),
                    response=dict(result.token.response),
                ),
                # min_ttl before the expiry; for a --min-ttl beyond the calendar, a moment long past.
                keep_until=expiry_after(expires_at, -min_ttl) or EARLIEST,
            )
    return result


def cached_token(
    provider: Provider, profile: Profile, cache: CacheBackend, *, min_ttl: float = 60, clock: Clock = utc_now
) -> TokenResult | None:
    """The token cached for profile's client if it has min_ttl seconds left, else None; takes no lock."""
    identity = cache_identity(provider, profile)
    entry = cache.read(cache_key(*identity), expect=identity)
    if entry is None or entry.seconds_left(clock()) < min_ttl:
        return None
    token = Token(entry.access_token, entry.token_type, None, entry.expires_at, entry.response)
    key, where = cache_key(*identity), cache.where(cache_key(*identity))
    try:
        return TokenResult(entry.provider, profile.name, token.anchored(clock()), True, stored_by=entry.profile)
    except UnusableToken as refused:
        # A poisoned entry would be served again on every run: take it out of the cache, or say it stayed.
        removed = False
        with contextlib.suppress(OSError, PaytokenError):
            cache.remove(key)
            removed = True
        refused.details = (
            *refused.details,
            f"cache entry {where} " + ("was removed" if removed else "could not be removed; it was ignored"),
        )
        raise


def cache_identity(provider: Provider, profile: Profile) -> tuple[str, str, str, str]:
    """What a token belongs to at a gateway, and so what the cache keys it by.

    The client id alone is not enough: a profile with the wrong key for that client must get the gateway's
    rejection, not the token another profile got with the right key.
    """
    return (
        provider.name,
        identity_url(profile.base_url),
        profile.require_text(provider.identity_key),
        credential_fingerprint(provider, profile),
    )


# Fixed, so that every machine sharing a Redis cache names the same credential the same way.
_FINGERPRINT_LABEL = b"paytoken cache identity"


def credential_fingerprint(provider: Provider, profile: Profile) -> str:
    """Name the signing credential without showing it: HMAC-SHA256 keyed by the signing secrets, truncated.

    Keyed by the secrets (the private key as read, its passphrase, the shared secrets), so the name is not a
    plain hash that a lookup table reverses. A weak shared secret can still be guessed offline from it, as from
    any signature the gateway sees, which is keyed the same way. The key as read, rather than its public half:
    a cache hit must not load cryptography, so the same key in PEM and in DER names two credentials.
    """
    material = bytearray()
    # The provider's own secrets: those that sign. A common one (cache_url's password) says where, not who.
    for key in sorted(setting.name for setting in provider.settings if setting.is_secret):
        value = profile.values.get(key)
        data = profile.files.get(key) if key in profile.files else value.encode() if isinstance(value, str) else None
        if data is not None:
            material += key.encode() + b"\0" + len(data).to_bytes(8, "big") + data
    return hmac.new(bytes(material), _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]


def fetch(
    provider: Provider,
    profile: Profile,
    *,
    transport: Transport,
    timestamp: str | None = None,
    nonce: str | None = None,
    clock: Clock = utc_now,
) -> TokenResult:
    """Ask the gateway for a new token."""
    request = build(provider, profile, timestamp=timestamp, nonce=nonce, clock=clock)
    response = transport.send(request, timeout=profile.timeout, verify=profile.tls_verify)
    received_at = clock()
    if 300 <= response.status < 400:
        raise _redirected(provider, response)
    try:
        token = provider.parse(response.status, response.body)
    except RejectedError as error:
        sent = [f"signature paytoken sent:              {request.signature}"] if error.echoed_signature else []
        facts = time_facts(request, response, received_at)
        error.details = (*error.details, *sent, *facts)
        if facts:
            # Time is the likeliest cause once paytoken knows it is off: say that first.
            first = (
                "sign the current time instead: leave out --timestamp"
                if timestamp is not None
                else "fix the time first (see above), then retry"
            )
            error.hint = first + (f"; otherwise: {error.hint}" if error.hint else "")
        raise
    if token.expires_in is None and token.expires_at is None and request.requested_lifetime:
        # The gateway did not say; the lifetime asked for is the best estimate (DOKU's valid_time).
        token = replace(token, expires_in=request.requested_lifetime)
    return TokenResult(provider.name, profile.name, token.anchored(received_at), False, request, response)


def _redirected(provider: Provider, response: Response) -> GatewayError:
    """A token URL that answers with a redirect: said as it came, never followed (a signature is for one URL)."""
    location = next((value for name, value in response.headers.items() if name.lower() == "location"), "")
    target = f" to {location[:200]!r}" if location else " with no Location"
    return GatewayError(
        f"{provider.title} answered HTTP {response.status} {response.reason[:40]}".rstrip()
        + f"{target}; paytoken does not follow redirects",
        details=[
            f"body ({len(response.body)} bytes): {snippet(response.body)}" if response.body.strip() else "body is empty"
        ],
        hint="a signature is made for one URL: set base_url to where the gateway points (https:// rather than "
        "http://, a host or path that moved)",
    )


def unprintable(token: Token) -> str | None:
    """Why token cannot be printed into a header line, a shell's eval or a dotenv file; None when it can."""
    for what, value, shape in (
        ("access token", token.access_token, _B64TOKEN),
        ("token type", token.token_type, _TOKEN_TYPE),
    ):
        if not shape.fullmatch(value):
            odd = sorted({character for character in value if not (character.isascii() and character.isalnum())})
            odd = [character for character in odd if character not in "-._~+/="] or odd
            return f"a bearer {what} is letters, digits and - . _ ~ + / (= only at the end); this one " + (
                f"has {' '.join(repr(character) for character in odd[:10])}" if odd else "is empty"
            )
    return None


def time_facts(request: SignedRequest, response: Response, local: datetime) -> list[str]:
    """The local facts about time that make a rejection's cause likely."""
    facts = []
    skew = clock_skew(response.date, local)
    if skew is not None and abs(skew) >= SKEW_WORTH_SAYING:
        facts.append(
            f"this machine's clock is {describe_skew(skew)} the gateway's (from its Date header): "
            "signed timestamps will be refused until the clock is synced"
        )
    if request.signed_at is not None:
        lead = (request.signed_at - local).total_seconds()
        if abs(lead) >= SKEW_WORTH_SAYING:
            facts.append(
                f"the signed timestamp is {describe_skew(lead)} this machine's clock; "
                "gateways accept only a few minutes either way"
            )
    return facts


def open_cache(url: str | None, directory: Path, *, warn: Warn, fall_back: bool = True) -> CacheBackend:
    """The file cache, or with a redis:// or rediss:// URL the shared one (falling back to files if it is down).

    fall_back=False: the shared cache or a NetworkError, never the files in its place.
    """
    files = TokenCache(directory, warn=warn)
    if not url:
        return files
    from .cache_redis import CacheUnavailable, FallbackCache, RedisCache, printable_url, unavailable

    try:
        return FallbackCache(RedisCache(url), files, fall_back=fall_back)
    except CacheUnavailable as error:
        if not fall_back:
            raise unavailable(printable_url(url), error) from None
        files.warn(f"{error}; using the file cache in {files.location} instead")
        return files
