"""paytoken: access tokens from Indonesian payment gateways, signed byte for byte as they expect.

The library API is two functions; the `paytoken` command is built on the same ones.

    >>> from tidak_cli import get_token
    >>> token = get_token("nicepay", profile="dev")          # doctest: +SKIP
    >>> token.access_token, token.expires_at                  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .version import __version__

if TYPE_CHECKING:
    from .gateways.base import SignedRequest, Token

__all__ = ["__version__", "build_request", "get_token"]


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
