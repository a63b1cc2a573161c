"""Typer's side of the option table, and the options several commands share, declared once."""

from __future__ import annotations

import inspect
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..getting import GET_FORMATS
from .options import CALL_FORMATS, PRETTY_JSON_FORMATS, SIGN_FORMATS, Option

__all__ = [
    "BaseUrlOption",
    "CacheUrlOption",
    "CallFormat",
    "GetFormat",
    "ListingFormat",
    "ListingOption",
    "PrettyJson",
    "ProfileOption",
    "ProfilesFileOption",
    "ProviderArgument",
    "SignFormat",
    "parameters",
]

GetFormat = StrEnum("GetFormat", {name: name for name in GET_FORMATS})  # type: ignore[misc]
SignFormat = StrEnum("SignFormat", {name: name for name in SIGN_FORMATS})  # type: ignore[misc]
CallFormat = StrEnum("CallFormat", {name: name for name in CALL_FORMATS})  # type: ignore[misc]
# verify's and notify's -o: a page for people or one JSON document.
PrettyJson = StrEnum("PrettyJson", {name: name for name in PRETTY_JSON_FORMATS})  # type: ignore[misc]
_CHOICES: dict[tuple[str, ...], Any] = {
    GET_FORMATS: GetFormat,
    SIGN_FORMATS: SignFormat,
    CALL_FORMATS: CallFormat,
    PRETTY_JSON_FORMATS: PrettyJson,
}


def profile_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Complete --profile with the profile names the profiles file has for this command's provider."""
    from ..errors import PaytokenError
    from ..profiles import find_profiles_file, profile_names, read_profiles_file

    try:
        document, _ = read_profiles_file(find_profiles_file(ctx.params.get("profiles_file")))
    except PaytokenError:
        return []
    from ..gateways import PROVIDERS

    # get/sign: the provider is the command's name; doctor, profiles: its PROVIDER argument, which completion's
    # lenient parse may leave among the context's unparsed arguments.
    named = [ctx.params.get("provider_name"), ctx.params.get("provider"), ctx.info_name, *ctx.args]
    known = [str(name).partition(".")[0].lower() for name in named if name]
    provider = next((name for name in known if name in PROVIDERS), "")
    return [name for table, name in profile_names(document) if table == provider and name.startswith(incomplete)]


def provider_names(incomplete: str) -> list[str]:
    """Complete a PROVIDER argument with the registered providers' names."""
    from ..gateways import PROVIDERS

    return [name for name in PROVIDERS if name.startswith(incomplete.lower())]


ProviderArgument = Annotated[
    str, typer.Argument(metavar="PROVIDER", help="Provider name, e.g. nicepay.", autocompletion=provider_names)
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME",
        show_default=False,
        help="Profile name (default as for get).",
        autocompletion=profile_names,
    ),
]
ProfilesFileOption = Annotated[
    Path | None,
    typer.Option(
        "--profiles-file", metavar="FILE", show_default=False, help="Profiles file (default: the usual lookup)."
    ),
]
BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", metavar="URL", show_default=False, help="Check this base URL instead.")
]
ListingFormat = StrEnum("ListingFormat", {"table": "table", "json": "json"})
ListingOption = Annotated[
    ListingFormat,
    typer.Option("--output", "-o", metavar="FORMAT", help="table (for people) or json (for jq and scripts)."),
]
CacheUrlOption = Annotated[
    str | None,
    typer.Option(
        "--cache-url",
        metavar="URL",
        show_default=False,
        help="The shared Redis cache (redis:// or rediss://). Default: $PAYTOKEN_CACHE_URL, else the file cache.",
    ),
]


def parameters(options: tuple[Option, ...]) -> list[inspect.Parameter]:
    """Keyword-only parameters whose Annotated Typer options spell the table's options."""
    return [
        inspect.Parameter(
            option.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=_default(option),
            annotation=Annotated[_annotation(option), _typer_option(option)],
        )
        for option in options
    ]


def _annotation(option: Option) -> Any:
    if option.kind == "switch":
        return bool
    if option.kind == "seconds":
        return float
    if option.kind == "path":
        return Path | None
    if option.kind == "repeat":
        return list[str] | None
    if option.kind == "pair":
        return tuple[str, str] | None
    if option.kind == "argument":
        return str
    if option.kind == "choice":
        choice = _CHOICES[option.choices]
        return choice if option.default is not None else choice | None
    return str if option.default is not None or option.required else str | None


def _default(option: Option) -> Any:
    if option.kind == "argument" or option.required:
        return inspect.Parameter.empty
    if option.kind == "choice" and option.default is not None:
        return _CHOICES[option.choices](option.default)
    return option.default


def _typer_option(option: Option) -> Any:
    if option.kind == "argument":
        return typer.Argument(metavar=option.metavar, help=option.help, show_default=False)
    settings: dict[str, Any] = {"help": option.help}
    if option.name == "profile":
        settings["autocompletion"] = profile_names
    if option.metavar:
        settings["metavar"] = option.metavar
    if option.default is None:
        settings["show_default"] = False
    if option.kind == "seconds":
        settings["min"] = 0
    return typer.Option(*option.flags, **settings)
