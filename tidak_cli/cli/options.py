"""The options of `get` and `sign`, declared once: Typer builds its parameters from this table, and the plain
console path (launch.py) reads a `get` with it, without Typer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..getting import GET_FORMATS, GetRequest, option_name

if TYPE_CHECKING:
    from ..gateways.base import Provider

__all__ = ["COMMON", "GET", "SIGN", "SIGN_FORMATS", "Option", "plain_get", "provider_options"]

SIGN_FORMATS = ("pretty", "json", "curl")


@dataclass(frozen=True)
class Option:
    """One option: its parameter name, spellings, kind of value, default and help."""

    name: str
    flags: tuple[str, ...]
    kind: Literal["text", "path", "seconds", "switch", "choice"]
    help: str
    default: object = None
    metavar: str | None = None
    choices: tuple[str, ...] = ()


COMMON: tuple[Option, ...] = (
    Option(
        "profile",
        ("--profile", "-p"),
        "text",
        "Profile name: the [PROVIDER.NAME] table. Default: $PAYTOKEN_PROFILE, else 'default'.",
        metavar="NAME",
    ),
    Option(
        "profiles_file",
        ("--profiles-file",),
        "path",
        "Profiles file. Default: $PAYTOKEN_PROFILES, ./profiles.toml, then the user config dir.",
        metavar="FILE",
    ),
    Option(
        "timestamp",
        ("--timestamp",),
        "text",
        "Use this exact timestamp string instead of the clock (reproducible signatures).",
        metavar="TS",
    ),
    Option(
        "base_url",
        ("--base-url",),
        "text",
        "Send to this base URL instead of the profile's (e.g. a local `paytoken sandbox`).",
        metavar="URL",
    ),
    Option("debug", ("--debug",), "switch", "Show tracebacks (secrets masked).", default=False),
)

GET: tuple[Option, ...] = (
    *COMMON,
    Option(
        "output",
        ("--output", "-o"),
        "choice",
        "pretty (terminal default), token (default otherwise), json, header; shell variables: "
        "env, env-no-export, fish, powershell.",
        choices=GET_FORMATS,
    ),
    Option("dry_run", ("--dry-run",), "switch", "Build and sign the request, print it, send nothing.", default=False),
    Option(
        "env_prefix", ("--env-prefix",), "text", "Variable prefix for -o env.", default="PAYTOKEN_", metavar="PREFIX"
    ),
    Option(
        "verbose",
        ("--verbose", "-v"),
        "switch",
        "Show the request and response on stderr, secrets masked.",
        default=False,
    ),
    Option("no_cache", ("--no-cache",), "switch", "Neither read nor write the token cache.", default=False),
    Option("refresh", ("--refresh",), "switch", "Get a new token even if one is cached, and cache it.", default=False),
    Option(
        "min_ttl",
        ("--min-ttl",),
        "seconds",
        "Serve a cached token only if it has this long left.",
        default=60.0,
        metavar="SECONDS",
    ),
    Option(
        "dotenv",
        ("--dotenv",),
        "path",
        "Also write the -o env variables into FILE (created 0600, other lines kept).",
        metavar="FILE",
    ),
)

SIGN: tuple[Option, ...] = (
    *COMMON,
    Option(
        "output",
        ("--output", "-o"),
        "choice",
        "pretty, json, or curl (a runnable command).",
        default="pretty",
        choices=SIGN_FORMATS,
    ),
    Option(
        "compare",
        ("--compare",),
        "text",
        "Exit 0 if SIGNATURE is the computed one, else exit 1 and name the mistake that makes it.",
        metavar="SIGNATURE",
    ),
    Option(
        "replay",
        ("--replay",),
        "path",
        "A request captured from your application (raw HTTP or a curl command): re-sign it with "
        "this profile, say whether its signature is right, and what the gateway will object to.",
        metavar="FILE",
    ),
    Option("hex", ("--hex",), "switch", "Also show the string to sign as a hex dump.", default=False),
)

# Seconds as both this reader and Click's FLOAT with min=0 read them (no signs, exponents, inf, nan, spaces).
_SECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


def provider_options(provider: Provider) -> tuple[Option, ...]:
    """A provider's own flags (its request id, a profile key) as options taking text."""
    return tuple(
        Option(option_name(option.flag), (option.flag,), "text", option.help, metavar=option.metavar)
        for option in provider.options
    )


def plain_get(argv: Sequence[str], provider: Provider) -> GetRequest | None:
    """Read `get PROVIDER [OPTION [VALUE]]…` by the GET table; None for anything it does not read as Click would.

    Help, unknown or repeated options, a missing or option-like value, a short option with its value glued on,
    `--`: each of these is left to Typer, which reports it as a usage error or prints the help.
    """
    if list(argv[:2]) != ["get", provider.name]:
        return None
    table = (*GET, *provider_options(provider))
    by_flag = {flag: option for option in table for flag in option.flags}
    values: dict[str, object] = {}
    extras: dict[str, str] = {}
    words = iter(argv[2:])
    for word in words:
        flag, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        option = by_flag.get(flag)
        if option is None or option.name in values or option.name in extras:
            return None
        if option.kind == "switch":
            if equals:
                return None
            values[option.name] = True
            continue
        if not equals:
            value = next(words, "")
        if not value or value.startswith("-"):
            return None
        parsed = _value(option, value)
        if parsed is None:
            return None
        if option in GET:
            values[option.name] = parsed
        else:
            extras[option.name] = value
    return GetRequest(
        provider=argv[1],
        **{option.name: values.get(option.name, option.default) for option in GET},  # type: ignore[arg-type]
        extras=extras,
    )


def _value(option: Option, text: str) -> object | None:
    if option.kind == "seconds":
        return float(text) if _SECONDS.fullmatch(text) else None
    if option.kind == "choice":
        return text if text in option.choices else None
    if option.kind == "path":
        return Path(text)
    return text
