"""The `paytoken` command: parse arguments, call the core, render. `get` and `sign` come from the registry."""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import os
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import typer.main
from typer.core import TyperGroup

from . import __version__
from .clock import EARLIEST, LATEST, humanize_seconds, utc_now
from .errors import ConfigError, ExitCode, PaytokenError, SignatureMismatch, UsageError
from .gateways import PROVIDERS, forensics_for, lookup
from .gateways.base import NONCE, CliOption, Provider, SignedRequest
from .launch import interrupted, reader_gone, write_output
from .profiles import Profile, default_profile_name, load_dotenv_file, load_profile, secret_keys
from .redact import Redactor
from .render import SHELL_NAME, warning

__all__ = ["app", "main"]

F = TypeVar("F", bound=Callable[..., Any])


class GetFormat(StrEnum):
    pretty = "pretty"
    token = "token"
    json = "json"
    env = "env"
    header = "header"


class SignFormat(StrEnum):
    pretty = "pretty"
    json = "json"
    curl = "curl"


class _Invocation:
    """What one run of paytoken knows beyond its arguments: debug mode and the secrets to mask."""

    def __init__(self) -> None:
        self.debug = False
        self.redactor = Redactor()


_run = _Invocation()

# Top-level commands and groups, each in a Typer app of its own and turned into a click command only
# when it is invoked (or listed by --help): a cache hit should not pay for building all of them.
_TOP: dict[str, Callable[[], Any]] = {}


class _LazyRoot(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return list(_TOP)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and args[0] not in _TOP:
            import difflib

            close = difflib.get_close_matches(args[0], list(_TOP), n=1)
            suggestion = f" (did you mean {close[0]!r}?)" if close else ""
            ctx.fail(f"no command {args[0]!r}{suggestion}; commands: {', '.join(_TOP)}")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in _TOP:
            return None
        if cmd_name not in self.commands:
            command = _TOP[cmd_name]()
            command.name = cmd_name
            self.commands[cmd_name] = command
        return self.commands[cmd_name]


def _top_command(name: str, **settings: Any) -> Callable[[F], F]:
    """Register a top-level command, built when first asked for."""

    def register(function: F) -> F:
        single = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
        single.command(name, **settings)(function)
        _TOP[name] = lambda: typer.main.get_command(single)
        return function

    return register


app = typer.Typer(
    name="paytoken",
    help="Get access tokens from Indonesian payment gateways, and debug their signatures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Start with: paytoken demo    Docs: README.md",
    cls=_LazyRoot,
)


def _err() -> Any:
    from .render import console

    return console(stderr=True)


def _out() -> Any:
    from .render import console

    return console()


def _guarded(command: F) -> F:
    """Turn paytoken's errors into one message and an exit code; the one place that does so."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PaytokenError as failure:
            if _run.debug:
                _print_traceback()
            from .render import error

            error(failure, _err(), _run.redactor)
            raise typer.Exit(int(failure.exit_code)) from None
        except KeyboardInterrupt:
            raise typer.Exit(interrupted()) from None
        except BrokenPipeError:
            raise typer.Exit(reader_gone()) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as failure:
            if _run.debug:
                _print_traceback()
            else:
                print(
                    f"error: internal error: {type(failure).__name__}: {_run.redactor.text(str(failure))[:300]}\n"
                    "  hint: this is a bug in paytoken; rerun with --debug for the traceback and report it",
                    file=sys.stderr,
                )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]


def _print_traceback() -> None:
    import traceback

    print(_run.redactor.text(traceback.format_exc()), file=sys.stderr, end="")


@_guarded
def _version(value: bool) -> None:
    if value:
        write_output(f"paytoken {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (secrets masked).")] = False,
) -> None:
    """Get access tokens from Indonesian payment gateways, and debug their signatures."""
    del version  # handled by its eager callback
    _run.debug = debug or os.environ.get("PAYTOKEN_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")
    _run.redactor = Redactor()


# --- shared pieces of get and sign ---------------------------------------------------------------


def _load(provider: Provider, profile: str | None, profiles_file: Path | None, overrides: dict[str, object]) -> Profile:
    load_dotenv_file()
    resolved = load_profile(
        provider, profile or default_profile_name(), profiles_file=profiles_file, overrides=overrides
    )
    _run.redactor = Redactor.for_profile(resolved, provider)
    for note in resolved.warnings:
        _warn(note)
    return resolved


def _split_extras(provider: Provider, extras: dict[str, Any]) -> tuple[dict[str, object], str | None]:
    overrides: dict[str, object] = {}
    nonce = None
    for option in provider.options:
        value = extras.get(_param_name(option))
        if value is None:
            continue
        if option.target == NONCE:
            if not str(value).strip():
                raise UsageError(f"{option.flag} is empty", hint=f"leave {option.flag} out to get a fresh one")
            nonce = str(value)
        else:
            overrides[option.target] = value
    return overrides, nonce


def _param_name(option: CliOption) -> str:
    return option.flag.lstrip("-").replace("-", "_")


def _parameter(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


_COMMON: list[inspect.Parameter] = [
    _parameter(
        "profile",
        Annotated[
            str | None,
            typer.Option(
                "--profile",
                "-p",
                metavar="NAME",
                show_default=False,
                help="Profile name: the [PROVIDER.NAME] table. Default: $PAYTOKEN_PROFILE, else 'default'.",
            ),
        ],
        None,
    ),
    _parameter(
        "profiles_file",
        Annotated[
            Path | None,
            typer.Option(
                "--profiles-file",
                metavar="FILE",
                show_default=False,
                help="Profiles file. Default: $PAYTOKEN_PROFILES, ./profiles.toml, then the user config dir.",
            ),
        ],
        None,
    ),
    _parameter(
        "timestamp",
        Annotated[
            str | None,
            typer.Option(
                "--timestamp",
                metavar="TS",
                show_default=False,
                help="Use this exact timestamp string instead of the clock (reproducible signatures).",
            ),
        ],
        None,
    ),
    _parameter(
        "base_url",
        Annotated[
            str | None,
            typer.Option(
                "--base-url",
                metavar="URL",
                show_default=False,
                help="Send to this base URL instead of the profile's (e.g. a local `paytoken sandbox`).",
            ),
        ],
        None,
    ),
    _parameter("debug", Annotated[bool, typer.Option("--debug", help="Show tracebacks (secrets masked).")], False),
]

_GET_ONLY: list[inspect.Parameter] = [
    _parameter(
        "output",
        Annotated[
            GetFormat | None,
            typer.Option(
                "--output",
                "-o",
                show_default=False,
                help="pretty (default on a terminal), token (default otherwise), json, env, header.",
            ),
        ],
        None,
    ),
    _parameter(
        "dry_run",
        Annotated[bool, typer.Option("--dry-run", help="Build and sign the request, print it, send nothing.")],
        False,
    ),
    _parameter(
        "env_prefix",
        Annotated[str, typer.Option("--env-prefix", metavar="PREFIX", help="Variable prefix for -o env.")],
        "PAYTOKEN_",
    ),
    _parameter(
        "verbose",
        Annotated[
            bool, typer.Option("--verbose", "-v", help="Show the request and response on stderr, secrets masked.")
        ],
        False,
    ),
    _parameter(
        "no_cache",
        Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the token cache.")],
        False,
    ),
    _parameter(
        "refresh",
        Annotated[bool, typer.Option("--refresh", help="Get a new token even if one is cached, and cache it.")],
        False,
    ),
    _parameter(
        "min_ttl",
        Annotated[
            float,
            typer.Option(
                "--min-ttl", metavar="SECONDS", min=0, help="Serve a cached token only if it has this long left."
            ),
        ],
        60.0,
    ),
    _parameter(
        "dotenv",
        Annotated[
            Path | None,
            typer.Option(
                "--dotenv",
                metavar="FILE",
                show_default=False,
                help="Also write the -o env variables into FILE (created 0600, other lines kept).",
            ),
        ],
        None,
    ),
]

_SIGN_ONLY: list[inspect.Parameter] = [
    _parameter(
        "output",
        Annotated[SignFormat, typer.Option("--output", "-o", help="pretty, json, or curl (a runnable command).")],
        SignFormat.pretty,
    ),
    _parameter(
        "compare",
        Annotated[
            str | None,
            typer.Option(
                "--compare",
                metavar="SIGNATURE",
                show_default=False,
                help="Exit 0 if SIGNATURE is the computed one, else exit 1 and name the mistake that makes it.",
            ),
        ],
        None,
    ),
    _parameter(
        "replay",
        Annotated[
            Path | None,
            typer.Option(
                "--replay",
                metavar="FILE",
                show_default=False,
                help="A request captured from your application (raw HTTP or a curl command): re-sign it with "
                "this profile, say whether its signature is right, and what the gateway will object to.",
            ),
        ],
        None,
    ),
    _parameter(
        "hex",
        Annotated[bool, typer.Option("--hex", help="Also show the string to sign as a hex dump.")],
        False,
    ),
]


def _provider_parameters(provider: Provider) -> list[inspect.Parameter]:
    return [
        _parameter(
            _param_name(option),
            Annotated[
                str | None,
                typer.Option(option.flag, metavar=option.metavar, help=option.help, show_default=False),
            ],
            None,
        )
        for option in provider.options
    ]


def _register(
    group: typer.Typer,
    provider: Provider,
    parameters: list[inspect.Parameter],
    run: Callable[..., None],
    help_text: str,
    example: str,
) -> None:
    params = [*parameters, *_provider_parameters(provider)]

    def command(**kwargs: Any) -> None:
        if kwargs.pop("debug", False):
            _run.debug = True
        run(provider, **kwargs)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {param.name: param.annotation for param in params}
    command.__name__ = f"{run.__name__}_{provider.name}"
    group.command(provider.name, help=help_text, epilog=f"Example: {example}")(_guarded(command))


# --- get -----------------------------------------------------------------------------------------


def _get(
    provider: Provider,
    *,
    profile: str | None,
    profiles_file: Path | None,
    timestamp: str | None,
    base_url: str | None,
    output: GetFormat | None,
    dry_run: bool,
    env_prefix: str,
    verbose: bool,
    no_cache: bool,
    refresh: bool,
    min_ttl: float,
    dotenv: Path | None,
    **extras: Any,
) -> None:
    from . import tokens
    from .cache import cache_directory, configured_url
    from .tokens import open_cache

    if not SHELL_NAME.fullmatch(env_prefix):
        raise UsageError(
            f"--env-prefix {env_prefix!r} cannot start a shell variable name",
            hint="use letters, digits and underscores, e.g. --env-prefix NICEPAY_",
        )
    if not math.isfinite(min_ttl):
        raise UsageError(f"--min-ttl {min_ttl} is not a number of seconds", hint="e.g. --min-ttl 60")
    if dry_run and (output not in (None, GetFormat.pretty, GetFormat.json) or dotenv is not None):
        raise UsageError(
            "--dry-run prints the signed request, not a token: -o token, env, header and --dotenv have nothing to give",
            hint="use --dry-run with -o pretty or -o json (or `paytoken sign`), or leave out --dry-run",
        )
    overrides, nonce = _split_extras(provider, extras)
    resolved = _load(provider, profile, profiles_file, {"base_url": base_url, **overrides})
    if dry_run:
        from .render import pretty_sign, sign_json

        request = tokens.build(provider, resolved, timestamp=timestamp, nonce=nonce)
        _check_timestamp(timestamp, request, provider)
        if output is GetFormat.json:
            write_output(sign_json(request))
        else:
            pretty_sign(request, _out(), redactor=_run.redactor, note="dry run, nothing sent")
        return

    def open_transport() -> Any:
        from .transport import Transport

        return Transport(trace=_trace_line if verbose else None, redactor=_run.redactor)

    result = tokens.get_token(
        provider,
        resolved,
        cache=None if no_cache else open_cache(configured_url(resolved), cache_directory(), warn=_warn),
        open_transport=open_transport,
        min_ttl=min_ttl,
        # An exact timestamp or request id asks for that request to be sent, not for a cached answer.
        refresh=refresh or timestamp is not None or nonce is not None,
        timestamp=timestamp,
        nonce=nonce,
    )
    if result.request is not None:
        _check_timestamp(timestamp, result.request, provider)
    if verbose and result.cached:
        _warn("served from the token cache; nothing was sent (--refresh asks the gateway)")
    if result.stored_by not in (None, resolved.name):
        _warn(
            f"served the token [{provider.name}.{result.stored_by}] cached for the same client id; "
            "--refresh tests this profile's own credentials"
        )
    if dotenv is not None:
        from .export import write_dotenv
        from .render import env_assignments

        write_dotenv(dotenv, env_assignments(result, env_prefix))
    chosen = output or (GetFormat.pretty if sys.stdout.isatty() else GetFormat.token)
    if chosen is GetFormat.pretty:
        from .render import pretty_token

        pretty_token(result, _out())
    else:
        from .render import token_text

        write_output(token_text(result, chosen.value, env_prefix=env_prefix))


def _check_timestamp(timestamp: str | None, request: SignedRequest, provider: Provider) -> None:
    if timestamp is not None and request.signed_at is None:
        _warn(
            f"--timestamp {timestamp!r} is not a time from {EARLIEST.year} to {LATEST.year - 1} in {provider.name}'s "
            "timestamp format; it is signed as given"
        )


def _trace_line(line: str) -> None:
    print(line, file=sys.stderr)


def _warn(text: str) -> None:
    warning(text, _run.redactor)


# --- sign ----------------------------------------------------------------------------------------


def _sign(
    provider: Provider,
    *,
    profile: str | None,
    profiles_file: Path | None,
    timestamp: str | None,
    base_url: str | None,
    output: SignFormat,
    compare: str | None,
    replay: Path | None,
    hex: bool,
    **extras: Any,
) -> None:
    from . import tokens
    from .forensics import SearchContext
    from .render import curl_command, pretty_sign, sign_json

    overrides, nonce = _split_extras(provider, extras)
    resolved = _load(provider, profile, profiles_file, {"base_url": base_url, **overrides})
    now = utc_now()
    found = None
    body = None
    if replay is not None:
        if compare is not None or timestamp is not None or nonce is not None:
            raise UsageError(
                "--replay takes the signature, timestamp and request id from the capture",
                hint="leave out --compare, --timestamp and the request id option",
            )
        found = forensics_for(provider).read_capture(resolved, _read_capture(replay), now)
        timestamp, nonce, compare, body = found.timestamp, found.nonce, found.signature, found.body
    request = tokens.build(provider, resolved, timestamp=timestamp, nonce=nonce, body=body)
    _check_timestamp(timestamp, request, provider)
    comparison = None
    if compare is not None:
        context = SearchContext.around(now, timestamp=timestamp, signed_at=request.signed_at, nonce=nonce, body=body)
        comparison = forensics_for(provider).compare(resolved, request, compare, context)
    if output is SignFormat.json:
        write_output(sign_json(request, comparison, found))
    elif output is SignFormat.curl:
        write_output(curl_command(request))
    else:
        pretty_sign(request, _out(), redactor=_run.redactor, comparison=comparison, replay=found, hex_dump=hex)
    problems = found.problems if found is not None else ()
    if found is not None and found.signature is None:
        problems = (*problems, "the capture carries no signature")
    if comparison is not None and not comparison.matches:
        raise SignatureMismatch(
            "the captured signature is wrong"
            if found
            else "the given signature differs from the one paytoken computes",
            # pretty and json output already carry the findings on stdout
            details=(*problems, *comparison.findings) if output is SignFormat.curl else problems,
            hint=comparison.hint,
        )
    if problems:
        raise SignatureMismatch(
            "the gateway will refuse the captured request", details=problems, hint="fix the headers named above"
        )
    if comparison is not None:
        _err().print("[green]the captured signature is right[/]" if found else "[green]the given signature matches[/]")


def _tls_context(cert: Path | None, key: Path | None) -> Any:
    if cert is None and key is None:
        return None
    if cert is None:
        raise UsageError("--tls-key needs --tls-cert", hint="give both, or neither")
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(
            f"cannot load the TLS certificate {cert}: {error}", hint="give a PEM certificate and its private key"
        ) from None
    return context


def _read_capture(path: Path) -> Any:
    from .capture import parse_capture

    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read --replay {path}: {error.strerror}") from None
    return parse_capture(data, source=str(path))


def _provider_group(
    parameters: list[inspect.Parameter], run: Callable[..., None], help_text: str, example: str
) -> type[TyperGroup]:
    """A click group class whose subcommands are the providers, each built when first asked for.

    Building all fourteen provider commands costs more than a cache hit does; a run needs one.
    """

    class ProviderGroup(TyperGroup):
        def list_commands(self, ctx: Any) -> list[str]:
            return list(PROVIDERS)

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            if cmd_name not in PROVIDERS:
                return None
            if cmd_name not in self.commands:
                provider = PROVIDERS[cmd_name]
                single = typer.Typer(add_completion=False)
                _register(single, provider, parameters, run, help_text.format(p=provider), example.format(p=provider))
                self.commands[cmd_name] = typer.main.get_command(single)
            return self.commands[cmd_name]

        def resolve_command(self, ctx: Any, args: list[str]) -> Any:
            if args and not args[0].startswith("-") and args[0] not in PROVIDERS:
                try:
                    lookup(args[0])
                except UsageError as error:
                    ctx.fail(f"{error.message}; {error.hint}")
            return super().resolve_command(ctx, args)

    return ProviderGroup


get_app = typer.Typer(
    help="Get an access token: paytoken get PROVIDER --profile NAME.",
    no_args_is_help=True,
    epilog="Example: paytoken get nicepay --profile dev -o json",
    cls=_provider_group(
        [*_COMMON, *_GET_ONLY],
        _get,
        "Get an access token from {p.title} ({p.algorithm}).",
        "paytoken get {p.name} --profile dev -o json",
    ),
)
sign_app = typer.Typer(
    help="Build and sign the token request without sending it, and show every byte.",
    no_args_is_help=True,
    epilog="Example: paytoken sign nicepay --profile dev -o curl",
    cls=_provider_group(
        [*_COMMON, *_SIGN_ONLY],
        _sign,
        "Sign a {p.title} token request and show it; nothing is sent.",
        "paytoken sign {p.name} --profile dev -o curl",
    ),
)
_TOP["get"] = lambda: typer.main.get_group(get_app)
_TOP["sign"] = lambda: typer.main.get_group(sign_app)


# --- providers -----------------------------------------------------------------------------------

providers_app = typer.Typer(help="List the built-in providers, or show what one needs.")
_TOP["providers"] = lambda: typer.main.get_group(providers_app)


@providers_app.callback(invoke_without_command=True, epilog="Example: paytoken providers")
@_guarded
def providers_list(ctx: typer.Context) -> None:
    """List the built-in providers."""
    if ctx.invoked_subcommand is not None:
        return
    from .render import table

    rows = [(p.name, p.title, p.algorithm, p.token_path) for p in PROVIDERS.values()]
    table(None, ("provider", "gateway", "signature", "token path"), rows, _out())


@providers_app.command("show", epilog="Example: paytoken providers show nicepay")
@_guarded
def providers_show(
    name: Annotated[str, typer.Argument(help="Provider name, e.g. nicepay.")],
) -> None:
    """Show what a provider needs in its profile and what it signs."""
    from rich.markup import escape

    from .profiles import COMMON_SETTINGS
    from .render import table

    provider = lookup(name)
    out = _out()
    out.print(f"[bold]{provider.name}[/]: {escape(provider.title)} ({provider.algorithm})")
    for line in provider.recipe:
        out.print(f"  {escape(line)}")
    urls = ", ".join(f"{env} {url}" for env, url in provider.base_urls.items()) or "none: base_url is required"
    out.print(f"  built-in base URLs: {escape(urls)}")
    groups = {key for group in provider.one_of for key in group}
    rows = []
    for setting in (*provider.settings, *COMMON_SETTINGS):
        need = "required" if setting.required else ("one of" if setting.name in groups else "optional")
        default = "" if setting.default is None else f" (default {setting.default})"
        rows.append((setting.name, need, setting.help + default))
    table("profile keys", ("key", "", "meaning"), rows, out)
    if provider.options:
        table("options of get/sign", ("flag", "meaning"), [(o.flag, o.help) for o in provider.options], out)


# --- profiles ------------------------------------------------------------------------------------

profiles_app = typer.Typer(
    help="List profiles, or show one with its secrets masked.",
    no_args_is_help=True,
    epilog="Example: paytoken profiles show nicepay.dev",
)
_TOP["profiles"] = lambda: typer.main.get_group(profiles_app)

_PROFILES_FILE = Annotated[
    Path | None,
    typer.Option(
        "--profiles-file", metavar="FILE", show_default=False, help="Profiles file (default: the usual lookup)."
    ),
]


@profiles_app.command("list", epilog="Example: paytoken profiles list")
@_guarded
def profiles_list(profiles_file: _PROFILES_FILE = None) -> None:
    """List every [PROVIDER.PROFILE] table in the profiles file."""
    from .profiles import expand_variables, find_profiles_file, profile_names, read_profiles_file
    from .render import table

    load_dotenv_file()
    path = find_profiles_file(profiles_file)
    document, notes = read_profiles_file(path)
    for note in notes:
        _warn(note)
    rows = []
    for provider_name, name in profile_names(document):
        raw = document[provider_name][name]  # type: ignore[index]
        known = provider_name in PROVIDERS
        environment = expand_variables(raw.get("environment", "sandbox"))
        where = expand_variables(raw.get("base_url", "")) or (
            PROVIDERS[provider_name].base_urls.get(environment, "(base_url needed)") if known else ""
        )
        identity = expand_variables(raw.get(PROVIDERS[provider_name].identity_key, "")) if known else ""
        label = provider_name if known else f"{provider_name} (unknown provider)"
        rows.append((label, name, identity, environment, where))
    if not rows:
        raise ConfigError(
            f"{path} has no [PROVIDER.PROFILE] tables", hint="profiles.example.toml shows one table per provider"
        )
    table(f"profiles in {path}", ("provider", "profile", "client", "environment", "base URL"), rows, _out())


@profiles_app.command("show", epilog="Example: paytoken profiles show nicepay.dev")
@_guarded
def profiles_show(
    name: Annotated[str, typer.Argument(metavar="PROVIDER.PROFILE", help="e.g. nicepay.dev")],
    profiles_file: _PROFILES_FILE = None,
) -> None:
    """Show one profile's resolved values and where each came from; secrets masked."""
    from .redact import mask
    from .render import table

    provider_name, _, profile_name = name.partition(".")
    provider = lookup(provider_name)
    resolved = _load(provider, profile_name or None, profiles_file, {})
    hidden = set(secret_keys(provider))
    rows = []
    for key, value in resolved.values.items():
        if key in hidden and isinstance(value, str):
            shown = f"•••• ({len(value.splitlines())} lines)" if "\n" in value.strip() else mask(value)
        elif isinstance(value, bool):
            shown = "true" if value else "false"  # as TOML writes it
        else:
            shown = str(value)
        rows.append((key, shown, resolved.origins.get(key, "")))
    table(f"{resolved.where}", ("key", "value", "from"), rows, _out())


# --- cache ---------------------------------------------------------------------------------------

cache_app = typer.Typer(
    help="List or clear cached tokens (the tokens themselves are never shown).",
    no_args_is_help=True,
    epilog="Example: paytoken cache clear nicepay --profile dev",
)
_TOP["cache"] = lambda: typer.main.get_group(cache_app)


_CACHE_URL = Annotated[
    str | None,
    typer.Option(
        "--cache-url",
        metavar="URL",
        show_default=False,
        help="The shared Redis cache (redis:// or rediss://). Default: $PAYTOKEN_CACHE_URL, else the file cache.",
    ),
]


def _open_store(cache_url: str | None) -> Any:
    from .cache import cache_directory, configured_url
    from .tokens import open_cache

    # Asked about the shared cache, list and clear say when it is down rather than work on the files instead.
    return open_cache(configured_url(explicit=cache_url), cache_directory(), warn=_warn, fall_back=False)


@cache_app.command("list", epilog="Example: paytoken cache list")
@_guarded
def cache_list(cache_url: _CACHE_URL = None) -> None:
    """List cached tokens: provider, profile, client id, base URL, time left."""
    from .render import table

    store = _open_store(cache_url)
    now = utc_now()
    rows = []
    for key, entry in store.entries():
        if entry is None:
            rows.append(("?", "?", "?", "?", f"damaged: {store.where(key)} (cache clear removes it)"))
            continue
        left = entry.seconds_left(now)
        rows.append(
            (
                entry.provider,
                entry.profile,
                entry.client_id,
                entry.base_url,
                f"{humanize_seconds(left)}" if left > 0 else "expired",
            )
        )
    if not rows:
        print(f"no cached tokens in {store.location}", file=sys.stderr)
        return
    table(
        f"cached tokens in {store.location}",
        ("provider", "profile", "client id", "base URL", "expires in"),
        rows,
        _out(),
    )


@cache_app.command("clear", epilog="Example: paytoken cache clear nicepay --profile dev")
@_guarded
def cache_clear(
    provider: Annotated[str | None, typer.Argument(help="Only this provider's tokens.", show_default=False)] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", metavar="NAME", help="Only tokens stored by this profile.")
    ] = None,
    cache_url: _CACHE_URL = None,
) -> None:
    """Remove cached tokens: all of them, one provider's, or one profile's."""
    from .cache import cache_key
    from .tokens import cache_identity

    keys: set[str] = set()
    if provider is not None:
        gateway = lookup(provider)
        if profile is not None:
            # The entry this profile would be served, whoever stored it (the key is provider, URL, client id).
            with contextlib.suppress(PaytokenError):
                load_dotenv_file()
                resolved = load_profile(gateway, profile)
                keys.add(cache_key(*cache_identity(gateway, resolved)))
    store = _open_store(cache_url)
    removed = 0
    for key, entry in store.entries():
        chosen = entry is None or (
            (provider is None or entry.provider == provider) and (profile is None or entry.profile == profile)
        )
        if chosen or key in keys:
            store.remove(key)
            removed += 1
    print(f"removed {removed} cached token{'s' if removed != 1 else ''} from {store.location}", file=sys.stderr)


# --- keygen, sandbox, demo -----------------------------------------------------------------------


@_top_command("doctor", epilog="Example: paytoken doctor nicepay --profile dev")
@_guarded
def doctor(
    provider_name: Annotated[str, typer.Argument(metavar="PROVIDER", help="Provider name, e.g. nicepay.")],
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", metavar="NAME", show_default=False, help="Profile name (default as for get)."),
    ] = None,
    profiles_file: _PROFILES_FILE = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", metavar="URL", show_default=False, help="Check this base URL instead.")
    ] = None,
) -> None:
    """Check a profile end to end: keys, key pair, environment, clock, and one real token request."""
    from .doctor import diagnose, exit_code
    from .render import doctor_line

    provider = lookup(provider_name)
    load_dotenv_file()
    out = _out()
    checks = []
    try:
        resolved = load_profile(
            provider, profile or default_profile_name(), profiles_file=profiles_file, overrides={"base_url": base_url}
        )
    except PaytokenError as error:
        from .doctor import Check

        failed = Check("profile", "failure", error.message, error.hint, error.exit_code)
        doctor_line(failed, out)
        raise typer.Exit(int(error.exit_code)) from None
    _run.redactor = Redactor.for_profile(resolved, provider)

    def open_transport() -> Any:
        from .transport import Transport

        return Transport(redactor=_run.redactor)

    for check in diagnose(provider, resolved, open_transport=open_transport, clock=utc_now):
        doctor_line(check, out)
        checks.append(check)
    code = exit_code(checks)
    if code:
        raise typer.Exit(code)


@_top_command("keygen", epilog="Example: paytoken keygen --out keys")
@_guarded
def keygen(
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Directory for private.pem and public.pem.")
    ] = Path(),
    bits: Annotated[int, typer.Option("--bits", min=2048, max=16384, help="RSA key size.")] = 2048,
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help="Encrypt private.pem with a passphrase: asked for twice on a terminal, else the first line of stdin.",
        ),
    ] = False,
) -> None:
    """Write a new RSA key pair: private.pem (PKCS#8, 0600) and public.pem for the gateway."""
    from .keys import generate, write_key_pair

    secret = _new_passphrase() if passphrase else None
    pair = write_key_pair(generate(bits), out, passphrase=secret)
    print(f"private key: {pair.private_path}  (mode 0600{', encrypted' if secret else ''}; keep it here)")
    print(f"public key:  {pair.public_path}  (upload this to the gateway)")
    print(f"SHA-256 fingerprint: {pair.fingerprint}")
    print(
        f'profile: private_key_file = "{pair.private_path.resolve()}"'
        + ("\n         private_key_passphrase = your passphrase (or ${VARIABLE})" if secret else "")
    )


def _new_passphrase() -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        secret: str = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=True)
    else:
        # A script pipes it in, as `docker login --password-stdin` takes one: the first line, asked once.
        secret = sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""
    if not secret:
        raise UsageError(
            "the passphrase is empty",
            hint="type one, or pipe one line in (printf '%s\\n' \"$PASS\" | paytoken keygen --passphrase), "
            "or leave out --passphrase",
        )
    return secret


@_top_command("sandbox", epilog="Example: paytoken sandbox --port 8787")
@_guarded
def sandbox(
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port (0 picks a free one).")
    ] = 8787,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            show_default=False,
            help="Sandbox TOML: clients and keys it accepts. Default: ./sandbox.toml, else the profiles file.",
        ),
    ] = None,
    profiles_file: _PROFILES_FILE = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", metavar="FILE", show_default=False, help="Serve HTTPS with this certificate (PEM)."),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option("--tls-key", metavar="FILE", show_default=False, help="The certificate's private key (PEM)."),
    ] = None,
) -> None:
    """Run the local gateway emulator for every provider on one port."""
    from .sandbox import Sandbox, from_profiles, load_config

    notes: list[str] = []
    if config is not None:
        settings = load_config(config)
    elif Path("sandbox.toml").is_file():
        settings = load_config(Path("sandbox.toml"))
    else:
        from .profiles import find_profiles_file

        load_dotenv_file()
        try:
            source = find_profiles_file(profiles_file)
        except ConfigError as error:
            raise ConfigError(
                "the sandbox has no clients: no --config, no ./sandbox.toml and no profiles file",
                details=error.details,
                hint="give it --config sandbox.toml ([PROVIDER] tables with client_id and public_key_file), "
                "or run it where your profiles.toml is",
            ) from None
        settings = from_profiles(source, warn=notes)
    err = _err()
    for note in notes:
        _warn(note)
    if not any(settings.clients.values()):
        raise ConfigError(
            f"the sandbox has no clients to accept (from {settings.source})",
            hint="give it --config sandbox.toml with [PROVIDER] client_id and public_key_file, "
            "or run it where your profiles.toml is",
        )
    tls = _tls_context(tls_cert, tls_key)
    server = Sandbox(settings, log=lambda line: err.print(f"[dim]{time.strftime('%H:%M:%S')} {line}[/]"))
    server.start(host, port, tls=tls)
    err.print(f"paytoken sandbox listening on [bold]{server.url}[/] (clients from {settings.source})")
    for provider_name, clients in settings.clients.items():
        for client in clients:
            path = client.token_path or PROVIDERS[provider_name].token_path
            err.print(f"  {provider_name}: {client.client_id}  at {path}")
    err.print(
        f'point a profile at it with base_url = "{server.url}" or --base-url {server.url}; '
        "stats at /_sandbox/stats; Ctrl-C stops it"
    )
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
        err.print("sandbox stopped")


@_top_command("demo", epilog="Example: paytoken demo")
@_guarded
def demo() -> None:
    """Run every provider end to end against a private in-process sandbox: no network, no setup."""
    from .demo import run_demo
    from .render import error, table

    err = _err()
    rows = run_demo(progress=lambda line: err.print(f"[dim]{line}[/]"))
    table(
        "paytoken demo: one token per provider from the local sandbox",
        ("provider", "client id", "token", "expires in", "time"),
        [
            (
                row.provider,
                row.client_id,
                (row.token[:10] + "…" + row.token[-4:]) if row.token else "failed",
                humanize_seconds(row.expires_in) if row.expires_in is not None else "-",
                f"{row.milliseconds:.0f} ms",
            )
            for row in rows
        ],
        _out(),
    )
    failures = [row.failure for row in rows if row.failure is not None]
    for failure in failures:
        error(failure, err)
    if failures:
        raise typer.Exit(int(failures[0].exit_code))
    print("every provider signed, verified and answered: see README.md for your own profiles")


def main() -> None:
    """Run the full CLI (the console script tries the cache first: see launch.py)."""
    app()
