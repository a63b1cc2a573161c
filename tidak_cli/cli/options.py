"""The options of `get` and `sign`, declared once: Typer builds its parameters from this table, and the plain
console path (launch.py) reads a `get` with it, without Typer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..getting import GET_FORMATS, GetRequest, option_name

if TYPE_CHECKING:
    from ..gateways.base import Provider

__all__ = [
    "CALL",
    "CALL_ARGUMENTS",
    "CALL_FORMATS",
    "COMMON",
    "EXEC",
    "GET",
    "NOTIFY",
    "PRETTY_JSON_FORMATS",
    "SIGN",
    "SIGN_FORMATS",
    "VERIFY",
    "Option",
    "plain_get",
    "provider_options",
]

SIGN_FORMATS = ("pretty", "json", "curl")
# call's -o formats; without -o, pretty on a terminal and the answer's body elsewhere.
CALL_FORMATS = ("pretty", "body", "json", "curl")
# verify's and notify's -o: a page for people or one JSON document.
PRETTY_JSON_FORMATS = ("pretty", "json")


@dataclass(frozen=True)
class Option:
    """One option: its parameter name, spellings, kind of value, help group, one-line help and default."""

    name: str
    flags: tuple[str, ...]
    # repeat: given any number of times; pair: two values (METHOD PATH); argument: positional, in the usage line.
    kind: Literal["text", "path", "seconds", "switch", "choice", "repeat", "pair", "argument"]
    group: str
    help: str
    default: object = None
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    required: bool = False  # an option that must be given (shown in the usage line)


_DEBUG = Option("debug", ("--debug",), "switch", "Debugging", "tracebacks, secrets masked", default=False)

COMMON: tuple[Option, ...] = (
    Option(
        "profile",
        ("--profile", "-p"),
        "text",
        "Request",
        "[PROVIDER.NAME] table [$PAYTOKEN_PROFILE, default]",
        metavar="NAME",
    ),
    Option(
        "profiles_file",
        ("--profiles-file",),
        "path",
        "Request",
        "[$PAYTOKEN_PROFILES, ./profiles.toml, config dir]",
        metavar="FILE",
    ),
    Option("base_url", ("--base-url",), "text", "Request", "send here, not to the profile's base_url", metavar="URL"),
    Option(
        "timestamp", ("--timestamp",), "text", "Request", "sign this exact timestamp, not the clock's", metavar="TS"
    ),
    _DEBUG,
)

# What a call is made of beyond the common options: `call` and `sign --request` share them.
CALL_BODY: tuple[Option, ...] = (
    Option(
        "data",
        ("--data", "-d"),
        "text",
        "Call",
        "JSON body (sent compactly), @FILE, or - for stdin",
        metavar="JSON",
    ),
    Option("raw_body", ("--raw-body",), "switch", "Call", "send --data's bytes exactly as given", default=False),
    Option("headers", ("--header", "-H"), "repeat", "Call", "add a header 'Name: value' (repeatable)", metavar="H"),
    Option("token", ("--token",), "text", "Call", "sign with this token, not the cached one", metavar="TOKEN"),
    Option(
        "external_id",
        ("--external-id",),
        "text",
        "Call",
        "the call's id (X-EXTERNAL-ID, Request-Id) [fresh]",
        metavar="ID",
    ),
)

GET: tuple[Option, ...] = (
    *COMMON,
    Option(
        "output",
        ("--output", "-o"),
        "choice",
        "Output",
        "token, json, header, or for a shell: env, env-no-export, fish, powershell [pretty on a terminal]",
        metavar="FORMAT",
        choices=GET_FORMATS,
    ),
    Option(
        "env_prefix",
        ("--env-prefix",),
        "text",
        "Output",
        "prefix of the variables' names",
        default="PAYTOKEN_",
        metavar="PREFIX",
    ),
    Option("dotenv", ("--dotenv",), "path", "Output", "also set the variables in FILE (0600)", metavar="FILE"),
    Option("refresh", ("--refresh",), "switch", "Cache", "ask the gateway even if a token is cached", default=False),
    Option("no_cache", ("--no-cache",), "switch", "Cache", "neither read nor write the token cache", default=False),
    Option(
        "min_ttl",
        ("--min-ttl",),
        "seconds",
        "Cache",
        "serve a cached token only with this long left",
        default=60.0,
        metavar="SECONDS",
    ),
    Option(
        "verbose",
        ("--verbose", "-v"),
        "switch",
        "Debugging",
        "the request and the answer on stderr, secrets masked",
        default=False,
    ),
    Option("dry_run", ("--dry-run",), "switch", "Debugging", "sign and print the request; send nothing", default=False),
)

SIGN: tuple[Option, ...] = (
    *COMMON,
    Option(
        "output",
        ("--output", "-o"),
        "choice",
        "Output",
        "pretty, json, or curl (a command to run)",
        default="pretty",
        metavar="FORMAT",
        choices=SIGN_FORMATS,
    ),
    Option("hex", ("--hex",), "switch", "Output", "also show the string to sign as a hex dump", default=False),
    Option(
        "request",
        ("--request",),
        "pair",
        "Call",
        "an API call after the token, as `call` signs it",
        metavar="METHOD PATH",
    ),
    *CALL_BODY,
    Option(
        "compare",
        ("--compare",),
        "text",
        "Checking",
        "exit 0 if SIGNATURE is right, else name the mistake that made it",
        metavar="SIGNATURE",
    ),
    Option(
        "replay",
        ("--replay",),
        "path",
        "Checking",
        "judge a request your application sent (raw HTTP, curl -v, or a curl command)",
        metavar="FILE",
    ),
)

CALL_ARGUMENTS: tuple[Option, ...] = (
    Option("method", (), "argument", "Call", "HTTP method, e.g. POST (any case; sent upper case)", metavar="METHOD"),
    Option("path", (), "argument", "Call", "path and query under base_url, e.g. /v1.0/x?a=1", metavar="PATH"),
)

CALL: tuple[Option, ...] = (
    *CALL_ARGUMENTS,
    *COMMON,
    *CALL_BODY,
    Option(
        "output",
        ("--output", "-o"),
        "choice",
        "Output",
        "pretty, body (the answer's bytes), json, or curl (sends nothing) [pretty on a terminal, else body]",
        metavar="FORMAT",
        choices=CALL_FORMATS,
    ),
    *(option for option in GET if option.name in ("refresh", "no_cache", "min_ttl", "verbose")),
    Option("dry_run", ("--dry-run",), "switch", "Debugging", "sign and print the call; send nothing", default=False),
)

# `exec` takes the token as `get` does, from the cache: get's options that say which token and how it is named.
EXEC: tuple[Option, ...] = tuple(
    option for option in GET if option.name in ("profile", "profiles_file", "env_prefix", "refresh", "min_ttl")
)

# verify and notify read the profile as get does; nothing else of get's.
_PROFILE: tuple[Option, ...] = tuple(
    replace(option, group="Profile") for option in COMMON if option.name in ("profile", "profiles_file")
)
_PRETTY_JSON = Option(
    "output",
    ("--output", "-o"),
    "choice",
    "Output",
    "pretty (for people) or json (one document)",
    default="pretty",
    metavar="FORMAT",
    choices=PRETTY_JSON_FORMATS,
)

VERIFY: tuple[Option, ...] = (
    Option(
        "capture",
        ("--capture",),
        "text",
        "Notification",
        "the notification as received: raw HTTP (nc -l, a proxy), tcpdump -A, a JSON dump, or - for stdin",
        metavar="FILE|-",
        required=True,
    ),
    Option(
        "received_at",
        ("--received-at",),
        "text",
        "Notification",
        "when it arrived (ISO 8601), for a capture checked later [now]",
        metavar="TIME",
    ),
    *_PROFILE,
    _PRETTY_JSON,
    _DEBUG,
)

NOTIFY: tuple[Option, ...] = (
    Option(
        "to",
        ("--to",),
        "text",
        "Notification",
        "the receiver's URL; the notification goes there only, once",
        metavar="URL",
        required=True,
    ),
    Option(
        "data",
        ("--data", "-d"),
        "text",
        "Notification",
        "body to send instead of the sample payment: JSON, @FILE, or - for stdin",
        metavar="JSON",
    ),
    Option(
        "raw_body",
        ("--raw-body",),
        "switch",
        "Notification",
        "send --data's bytes unchanged (default: JSON written compactly)",
        default=False,
    ),
    Option(
        "path",
        ("--path",),
        "text",
        "Notification",
        "path to send to and sign (replaces --to's path)",
        metavar="PATH",
    ),
    Option(
        "symmetric",
        ("--symmetric",),
        "switch",
        "Notification",
        "doku-snap: HMAC-SHA512 with client_secret, as DOKU signs them",
        default=False,
    ),
    Option("token", ("--token",), "text", "Notification", "--symmetric: the Bearer token to send", metavar="TOKEN"),
    *_PROFILE,
    _PRETTY_JSON,
    _DEBUG,
)

# Seconds as both this reader and Click's FLOAT with min=0 read them (no signs, exponents, inf, nan, spaces).
_SECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


def provider_options(provider: Provider) -> tuple[Option, ...]:
    """A provider's own flags (its request id, a profile key) as options taking text."""
    return tuple(
        Option(option_name(option.flag), (option.flag,), "text", provider.name, option.help, metavar=option.metavar)
        for option in provider.options
    )


def plain_get(argv: Sequence[str], provider: Provider) -> GetRequest | None:
    """Read `get PROVIDER [OPTION [VALUE]]…` by the GET table; None for anything it does not read as Click would.

    Help, unknown or repeated options, a missing or option-like value, a short option with its value glued on,
    `--`: each of these is left to Typer, which reports it as a usage error or prints the help.
    """
    if len(argv) < 2 or argv[0] != "get" or argv[1].lower() != provider.name:
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
        provider=provider.name,
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
