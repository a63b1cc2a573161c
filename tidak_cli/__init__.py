"""paytoken: access tokens from Indonesian payment gateways, signed byte for byte as they expect.

The library API is a few functions; the `paytoken` command is built on the same code.

    >>> from tidak_cli import get_token, verify_notification
    >>> token = get_token("nicepay", profile="dev")          # doctest: +SKIP
    >>> token.access_token, token.expires_at                  # doctest: +SKIP
    >>> verdict = verify_notification("nicepay", "dev", "POST", path, headers, body)  # doctest: +SKIP
    >>> verdict.authentic, verdict.reason, verdict.mistake    # doctest: +SKIP

Signed calls after the token, with requests or httpx (docs/library.md):

    >>> requests.post(url, json=body, auth=tidak_cli.auth("nicepay", profile="dev"))   # doctest: +SKIP
    >>> httpx.Client(auth=tidak_cli.httpx_auth("nicepay", profile="dev"))              # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from .call_auth import RequestsAuth
    from .call_auth_httpx import HttpxAuth
    from .gateways.base import SignedRequest, Token
    from .gateways.notification import Verdict

__all__ = ["__version__", "auth", "build_request", "get_token", "httpx_auth", "verify_notification"]


def get_token(provider: str, profile: str = "default", *, profiles_file: Path | None = None) -> Token:
    """Load a profile, sign, request and return the gateway's token."""
    from . import tokens
    from .gateways import lookup
    from .profiles import load_profile
    from .transport import Transport

    gateway = lookup(provider)
    resolved = load_profile(gateway, profile, profiles_file=profiles_file)
    with Transport() as transport:
        return tokens.fetch(gateway, resolved, transport=transport).token


def build_request(
    provider: str, profile: str = "default", *, profiles_file: Path | None = None, timestamp: str | None = None
) -> SignedRequest:
    """Load a profile and return the signed token request without sending it."""
    from . import tokens
    from .gateways import lookup
    from .profiles import load_profile

    gateway = lookup(provider)
    return tokens.build(gateway, load_profile(gateway, profile, profiles_file=profiles_file), timestamp=timestamp)


def auth(
    provider: str, profile: str = "default", *, profiles_file: Path | None = None, min_ttl: float = 60
) -> RequestsAuth:
    """A requests auth object that signs each call with the profile (the token from the cache, as `get`)."""
    from .call_auth import CallSigner, RequestsAuth

    return RequestsAuth(CallSigner(provider, profile, profiles_file=profiles_file, min_ttl=min_ttl))


def httpx_auth(
    provider: str, profile: str = "default", *, profiles_file: Path | None = None, min_ttl: float = 60
) -> HttpxAuth:
    """An httpx auth object that signs each call with the profile (the token from the cache, as `get`)."""
    try:
        import httpx  # noqa: F401
    except ImportError:
        raise ImportError(
            "tidak_cli.httpx_auth needs httpx, which is not installed: pip install httpx "
            "(or sign with requests: tidak_cli.auth)"
        ) from None
    from .call_auth import CallSigner
    from .call_auth_httpx import HttpxAuth

    return HttpxAuth(CallSigner(provider, profile, profiles_file=profiles_file, min_ttl=min_ttl))


def verify_notification(
    provider: str,
    profile: str,
    method: str,
    path: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | str,
    *,
    profiles_file: Path | None = None,
    received_at: datetime | None = None,
) -> Verdict:
    """Judge a notification the gateway sent, inside a web handler: a Verdict with .authentic and .reason.

    path is the request's path with its query, as received; body the raw bytes (never JSON parsed and
    written again). A profile without the key raises ConfigError; anything else is a Verdict.
    """
    from .clock import utc_now
    from .gateways import lookup
    from .profiles import load_profile
    from .verifying import verify_parts

    gateway = lookup(provider)
    resolved = load_profile(gateway, profile, profiles_file=profiles_file)
    return verify_parts(gateway, resolved, method, path, headers, body, received_at or utc_now())
