"""The `get` core: one token request as the options declare it, checked, then served from the cache or fetched.

Both fronts call it: the plain console path in launch.py (no Typer, no Rich) and the Typer command in
cli/get.py. They differ only in how they read the arguments; from a GetRequest on, the run is this code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .clock import EARLIEST, LATEST
from .errors import UsageError
from .export import SHELL_FORMATS, SHELL_NAME
from .gateways.base import NONCE

if TYPE_CHECKING:
    from .gateways.base import Provider, SignedRequest
    from .profiles import Profile
    from .tokens import TokenResult
    from .transport import Transport

__all__ = [
    "GET_FORMATS",
    "GetRequest",
    "check_get",
    "check_timestamp",
    "env_assignments",
    "obtain",
    "option_name",
    "provider_values",
]

# get's -o formats; without -o, pretty on a terminal and token elsewhere.
GET_FORMATS = ("pretty", "token", "json", "header", *SHELL_FORMATS)


@dataclass(frozen=True)
class GetRequest:
    """A `paytoken get` as its options say it; every field is one declared option (cli/options.py)."""

    provider: str
    profile: str | None
    profiles_file: Path | None
    timestamp: str | None
    base_url: str | None
    output: str | None
    dry_run: bool
    env_prefix: str
    verbose: bool
    no_cache: bool
    refresh: bool
    min_ttl: float
    dotenv: Path | None
    debug: bool
    # The provider's own flags (by parameter name, e.g. request_id), as given.
    extras: Mapping[str, str] = field(default_factory=dict)

    def chosen_output(self, stdout_is_terminal: bool) -> str:
        """The -o format, or the default for where stdout goes."""
        return self.output or ("pretty" if stdout_is_terminal else "token")


def check_get(request: GetRequest) -> None:
    """Refuse option values and combinations that cannot mean anything, before anything is loaded."""
    if not SHELL_NAME.fullmatch(request.env_prefix):
        raise UsageError(
            f"--env-prefix {request.env_prefix!r} cannot start a shell variable name",
            hint="use letters, digits and underscores, e.g. --env-prefix NICEPAY_",
        )
    if not math.isfinite(request.min_ttl):
        raise UsageError(f"--min-ttl {request.min_ttl} is not a number of seconds", hint="e.g. --min-ttl 60")
    if request.dry_run and (request.output not in (None, "pretty", "json") or request.dotenv is not None):
        raise UsageError(
            "--dry-run prints the signed request, not a token: -o token, header, env (and the other shells) "
            "and --dotenv have nothing to give",
            hint="use --dry-run with -o pretty or -o json (or `paytoken sign`), or leave out --dry-run",
        )


def option_name(flag: str) -> str:
    """The parameter name of a provider's flag: --request-id -> request_id."""
    return flag.lstrip("-").replace("-", "_")


def provider_values(provider: Provider, extras: Mapping[str, str | None]) -> tuple[dict[str, object], str | None]:
    """Split the provider's own flags into profile overrides and the request id (the nonce)."""
    overrides: dict[str, object] = {}
    nonce = None
    for option in provider.options:
        value = extras.get(option_name(option.flag))
        if value is None:
            continue
        if option.target == NONCE:
            if not str(value).strip():
                raise UsageError(f"{option.flag} is empty", hint=f"leave {option.flag} out to get a fresh one")
            nonce = str(value)
        else:
            overrides[option.target] = value
    return overrides, nonce


def check_timestamp(
    timestamp: str | None, request: SignedRequest, provider: Provider, warn: Callable[[str], None]
) -> None:
    """Warn when an exact --timestamp is not in the provider's format: it is signed as given."""
    if timestamp is not None and request.signed_at is None:
        warn(
            f"--timestamp {timestamp!r} is not a time from {EARLIEST.year} to {LATEST.year - 1} in {provider.name}'s "
            "timestamp format; it is signed as given"
        )


def obtain(
    provider: Provider,
    profile: Profile,
    request: GetRequest,
    nonce: str | None,
    *,
    warn: Callable[[str], None],
    open_transport: Callable[[], Transport],
) -> TokenResult:
    """The token request asks for: from the cache while it is fresh enough, else from the gateway."""
    from . import tokens
    from .cache import cache_directory, configured_url
    from .tokens import open_cache

    result = tokens.get_token(
        provider,
        profile,
        cache=None if request.no_cache else open_cache(configured_url(profile), cache_directory(), warn=warn),
        open_transport=open_transport,
        min_ttl=request.min_ttl,
        # An exact timestamp or request id asks for that request to be sent, not for a cached answer.
        refresh=request.refresh or request.timestamp is not None or nonce is not None,
        timestamp=request.timestamp,
        nonce=nonce,
    )
    if result.request is not None:
        check_timestamp(request.timestamp, result.request, provider, warn)
    if request.verbose and result.cached:
        warn("the token was served from the token cache: no token request was sent (--refresh asks the gateway)")
    if result.stored_by not in (None, profile.name):
        warn(
            f"served the token [{provider.name}.{result.stored_by}] cached for the same client id and key; "
            "--refresh tests this profile's own credentials"
        )
    if request.dotenv is not None:
        from .export import write_dotenv

        write_dotenv(request.dotenv, env_assignments(result, request.env_prefix))
    return result


def env_assignments(result: TokenResult, prefix: str) -> list[tuple[str, str]]:
    """The variables -o env and --dotenv set: the token, its type and its expiry."""
    from .export import iso_utc

    return [
        (f"{prefix}ACCESS_TOKEN", result.token.access_token),
        (f"{prefix}TOKEN_TYPE", result.token.token_type),
        (f"{prefix}EXPIRES_AT", iso_utc(result.token.expires_at) or ""),
    ]
