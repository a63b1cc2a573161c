"""paytoken: access tokens from Indonesian payment gateways, signed byte for byte as they expect.

The library API is three functions; the `paytoken` command is built on the same ones.

    >>> from tidak_cli import get_token, verify_notification
    >>> token = get_token("nicepay", profile="dev")          # doctest: +SKIP
    >>> token.access_token, token.expires_at                  # doctest: +SKIP
    >>> verdict = verify_notification("nicepay", "dev", "POST", path, headers, body)  # doctest: +SKIP
    >>> verdict.authentic, verdict.reason, verdict.mistake    # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from .gateways.base import SignedRequest, Token
    from .gateways.notification import Verdict

__all__ = ["__version__", "build_request", "get_token", "verify_notification"]


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
