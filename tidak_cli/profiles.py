"""Profiles: TOML tables `[provider.profile]`, `.env` and `${VAR}`, resolved in one written order.

Every value remembers where it came from (the file, a variable, a flag, a built-in default), so that
`profiles show` and error messages can say so.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import stat
import tomllib
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

from .errors import ConfigError, UsageError

if TYPE_CHECKING:
    from logging import LogRecord

__all__ = [
    "COMMON_SETTINGS",
    "EXAMPLE",
    "Profile",
    "ProfileRow",
    "ProfileSchema",
    "Setting",
    "default_profile_name",
    "expand_variables",
    "find_profiles_file",
    "load_profile",
    "profile_names",
    "profile_template",
    "profile_variables",
    "profiles_overview",
    "profiles_search_path",
    "read_dotenv_file",
    "read_profiles_file",
    "resolve_profile",
    "secret_keys",
]

SettingKind = Literal["text", "secret", "choice", "number", "integer", "bool", "table", "headers", "file", "path"]


class Setting(NamedTuple):
    """One profile key a provider understands."""

    name: str
    help: str
    kind: SettingKind = "text"
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    secret: bool = False

    @property
    def is_secret(self) -> bool:
        return self.secret or self.kind == "secret"


class ProfileSchema(Protocol):
    """What reading a profile needs of its provider (a gateways Provider is one): its name and its keys."""

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> tuple[Setting, ...]: ...

    @property
    def one_of(self) -> tuple[tuple[str, ...], ...]: ...

    @property
    def base_urls(self) -> Mapping[str, str]: ...

    @property
    def identity_key(self) -> str: ...


COMMON_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "environment", "which built-in base URL to use", "choice", default="sandbox", choices=("sandbox", "production")
    ),
    Setting("base_url", "gateway base URL; overrides environment", "text"),
    Setting("call_headers", "extra headers of the calls after the token, as a TOML table", "headers"),
    Setting("timeout", "read timeout in seconds", "number", default=30),
    Setting("ca_bundle", "CA bundle file for TLS verification", "path"),
    Setting("verify_tls", "verify the gateway's TLS certificate", "bool", default=True),
    Setting("cache_url", "a redis:// or rediss:// URL: share the token cache between machines", "secret"),
)

# Every provider's tables, commented: shipped inside the package, so an installed paytoken can point at it.
EXAMPLE = Path(__file__).parent / "examples" / "profiles.example.toml"

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
# A number setting is seconds (timeout): more than a day is a slip, and a huge one overflows the socket timeout.
MAX_SECONDS = 86400


@dataclass(frozen=True)
class Profile:
    """A resolved profile: typed values with defaults applied, file settings read, origins recorded."""

    provider: str
    name: str
    path: Path | None
    values: Mapping[str, object] = field(repr=False)
    origins: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return f"[{self.provider}.{self.name}]"

    @property
    def where(self) -> str:
        return f"{self.table} in {self.path}" if self.path else self.table

    def get(self, key: str) -> object:
        return self.values.get(key)

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if isinstance(value, str) else None

    def require_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise missing_key(key, self)
        return value

    @property
    def base_url(self) -> str:
        return self.require_text("base_url").rstrip("/")

    @property
    def timeout(self) -> float:
        value = self.values.get("timeout", 30)
        return float(value) if isinstance(value, int | float) else 30.0

    @property
    def tls_verify(self) -> bool | str:
        """What `requests` takes as `verify`: False, True, or a CA bundle path."""
        if self.values.get("verify_tls") is False:
            return False
        bundle = self.values.get("ca_bundle")
        return str(bundle) if bundle else True


def secret_keys(provider: ProfileSchema) -> list[str]:
    """The profile keys whose values must never be shown."""
    return [setting.name for setting in (*COMMON_SETTINGS, *provider.settings) if setting.is_secret]


def missing_key(
    key: str,
    profile: Profile | None = None,
    *,
    table: str = "",
    path: Path | None = None,
    details: Sequence[str] = (),
) -> ConfigError:
    """Build the error for a required key that is not set, naming key, table and file."""
    table = profile.table if profile else table
    path = profile.path if profile else path
    place = f"{table} of {path}" if path else table
    return ConfigError(
        f"{key} is not set in {place}",
        details=details,
        hint=f'add `{key} = "…"` to {table}'
        + (f" in {path}" if path else "")
        + f' (or `{key} = "${{VARIABLE}}"` to take it from the environment)',
    )


# --- where profiles live -------------------------------------------------------------------------


def profiles_search_path(explicit: Path | None = None) -> list[tuple[Path, str]]:
    """The places a profiles file is looked for, first match wins, each with why it is there."""
    return list(_search_path(explicit))


# The places named by the user, each with the fix for a name that leads nowhere.
_CHOSEN = {
    "--profiles-file": ("", "check the path given to --profiles-file"),
    "$PAYTOKEN_PROFILES": (
        " (named by $PAYTOKEN_PROFILES)",
        "fix the path in PAYTOKEN_PROFILES, or unset it to use ./profiles.toml",
    ),
}


def _search_path(explicit: Path | None) -> Iterator[tuple[Path, str]]:
    # A generator, so that the user config directory is only worked out when needed.
    if explicit is not None:
        yield explicit, "--profiles-file"
    if os.environ.get("PAYTOKEN_PROFILES"):
        yield Path(os.environ["PAYTOKEN_PROFILES"]), "$PAYTOKEN_PROFILES"
    yield Path("profiles.toml"), "current directory"
    from .userdirs import user_config_dir

    yield user_config_dir() / "profiles.toml", "user config directory"


def find_profiles_file(explicit: Path | None = None) -> Path:
    """Return the first profiles file in the lookup order, or fail listing every place tried."""
    tried = []
    for path, why in _search_path(explicit):
        if _is_file(path.expanduser()):
            return path.expanduser()
        tried.append(f"{path} ({why})")
        if why in _CHOSEN:
            # A file chosen by name (flag or variable) that does not exist is a mistake, not a reason to look
            # elsewhere: a typo in CI must not pick up ./profiles.toml, maybe another environment's.
            what = "is a directory, not a file" if _is_directory(path.expanduser()) else "does not exist"
            named_by, hint = _CHOSEN[why]
            raise ConfigError(f"profiles file {path}{named_by} {what}", hint=hint)
    raise ConfigError(
        "no profiles file found",
        details=["looked in: " + "; ".join(tried)],
        hint="write one with `paytoken profiles init PROVIDER --profile NAME` (every provider's keys are in "
        f"{EXAMPLE}), or pass --profiles-file PATH",
    )


def _is_file(path: Path) -> bool:
    # Anything there but a directory counts as found: a device or a pipe is then refused by name when read.
    try:
        return path.exists() and not path.is_dir()
    except OSError:  # e.g. a name too long for the file system: no such file either
        return False


def _is_directory(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def read_dotenv_file(directory: Path | None = None, *, held: list[LogRecord] | None = None) -> dict[str, str]:
    """Read `.env` from the current directory: the values it gives `${VAR}` in profiles, and nothing else.

    It never enters the process environment: a checkout's .env must not set a proxy, a CA bundle, a shared
    cache or paytoken's own switches. python-dotenv logs what it cannot parse; with held, those records are
    kept there instead of printed. A file read before (same inode, size and time) is not read or logged again.
    """
    path = (directory or Path.cwd()) / ".env"
    try:
        status = path.stat()
    except OSError:
        return {}
    if stat.S_ISDIR(status.st_mode):
        return {}
    signature = (str(path.absolute()), status.st_ino, status.st_size, status.st_mtime_ns)
    if _DOTENV_READ.get(signature[0], (None, {}))[0] == signature:
        return dict(_DOTENV_READ[signature[0]][1])
    from .files import CONFIG_LIMIT, FileProblem, read_bounded

    try:
        text = read_bounded(path, CONFIG_LIMIT).decode("utf-8")
    except (FileProblem, UnicodeDecodeError) as error:
        reason = "it is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else f"it {error}"
        raise ConfigError(
            f"cannot read {path}: {reason}", hint="fix or remove it: paytoken reads .env from the current directory"
        ) from None
    from dotenv import dotenv_values

    with contextlib.nullcontext() if held is None else _log_held("dotenv", held):
        values = {name: value for name, value in dotenv_values(stream=io.StringIO(text)).items() if value is not None}
    _DOTENV_READ[signature[0]] = (signature, values)
    return dict(values)


_DOTENV_READ: dict[str, tuple[tuple[str, int, int, int], dict[str, str]]] = {}


def profile_variables(directory: Path | None = None) -> Mapping[str, str]:
    """What `${VAR}` in a profile is taken from: the process environment first, then the current directory's .env.

    The one place that decides it (SPEC 2: a .env never overrides a variable already set).
    """
    return ChainMap(os.environ, read_dotenv_file(directory))


@contextlib.contextmanager
def _log_held(name: str, records: list[LogRecord]) -> Iterator[None]:
    """Keep what the logger called name says in records instead of printing it."""
    import logging

    class Hold(logging.Handler):
        def emit(self, record: LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger(name)
    hold, propagate = Hold(), logger.propagate
    logger.addHandler(hold)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(hold)
        logger.propagate = propagate


def read_profiles_file(path: Path) -> tuple[dict[str, object], tuple[str, ...]]:
    """Parse a profiles file; return its tables and any warnings about the file itself."""
    from .files import CONFIG_LIMIT, read_local

    data = read_local(
        path, CONFIG_LIMIT, "profiles file", hint="point --profiles-file or $PAYTOKEN_PROFILES at a TOML file"
    )
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"profiles file {path} is not UTF-8 text", hint="save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"profiles file {path} is not valid TOML",
            details=[str(error)],
            hint='fix the line named above; multi-line PEM keys go in triple quotes: private_key = """…"""',
        ) from None
    return document, tuple(file_permission_warnings(path))


def file_permission_warnings(path: Path) -> Iterable[str]:
    """Warn, as ssh does, about a secret-bearing file that others may read."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        yield f"{path} is readable by other users (mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"


def profile_names(document: Mapping[str, object]) -> list[tuple[str, str]]:
    """List (provider, profile) pairs in a parsed profiles file."""
    pairs: list[tuple[str, str]] = []
    for provider, tables in document.items():
        if isinstance(tables, dict):
            pairs.extend((provider, name) for name, table in tables.items() if isinstance(table, dict))
    return pairs


def default_profile_name() -> str:
    return os.environ.get("PAYTOKEN_PROFILE") or "default"


# --- resolution ----------------------------------------------------------------------------------


def load_profile(
    provider: ProfileSchema,
    name: str,
    *,
    profiles_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Profile:
    """Find, read and resolve `[provider.name]`, applying overrides (from flags) on top."""
    path = find_profiles_file(profiles_file)
    document, file_warnings = read_profiles_file(path)
    tables = document.get(provider.name)
    table = tables.get(name) if isinstance(tables, dict) else None
    if not isinstance(table, dict):
        raise _no_such_profile(provider.name, name, path, document)
    return resolve_profile(provider, name, table, path=path, overrides=overrides, warnings=file_warnings)


def _no_such_profile(provider: str, name: str, path: Path, document: Mapping[str, object]) -> ConfigError:
    available = [profile for owner, profile in profile_names(document) if owner == provider]
    details = (
        [f"profiles for {provider} in that file: {', '.join(available)}"]
        if available
        else [f"that file has no [{provider}.…] table at all"]
    )
    if available:
        first = available[0]
        hint = f"use --profile {first} (for profiles show: {provider}.{first})" + (
            ", or another listed above" if len(available) > 1 else ""
        )
        if name == default_profile_name():
            hint += ", or set PAYTOKEN_PROFILE"
    else:
        hint = f"add a [{provider}.{name}] table; `paytoken providers show {provider}` lists its keys"
    return ConfigError(f"no profile [{provider}.{name}] in {path}", details=details, hint=hint)


def resolve_profile(
    provider: ProfileSchema,
    name: str,
    table: Mapping[str, object],
    *,
    path: Path | None,
    overrides: Mapping[str, object] | None = None,
    warnings: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Profile:
    """Turn one raw table into a Profile: substitute variables, check types, apply defaults, read files."""
    dotenv: Mapping[str, str] = {}
    if environ is None:
        dotenv = read_dotenv_file()
        environ = ChainMap(os.environ, dotenv)  # as profile_variables(), keeping what came from .env
    settings = {setting.name: setting for setting in (*COMMON_SETTINGS, *provider.settings)}
    where = f"[{provider.name}.{name}]" + (f" of {path}" if path else "")
    notes = list(warnings)
    from_dotenv = False
    values: dict[str, object] = {}
    origins: dict[str, str] = {}
    files: dict[str, bytes] = {}

    for key, raw in table.items():
        if key not in settings:
            import difflib

            close = difflib.get_close_matches(key.lower(), settings, n=1)
            notes.append(
                f"unknown key {key!r} in {where} is ignored" + (f" (did you mean {close[0]!r}?)" if close else "")
            )
            continue
        value, used = _substitute(raw, key, where, environ)
        origin = "$" + ", $".join(used) if used else None
        from_dotenv = from_dotenv or any(variable in dotenv and variable not in os.environ for variable in used)
        typed = values[key] = _typed(settings[key], value, where)
        origins[key] = origin or (str(path) if path else "profile")
        if settings[key].kind == "text" and isinstance(typed, str) and typed != typed.strip():
            notes.append(f"{key} in {where} has spaces or line breaks around it; gateways compare it exactly")

    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        flag = "--" + key.replace("_", "-")
        values[key] = _typed(settings[key], raw, f"the {flag} option", error=UsageError)
        origins[key] = flag

    for setting in settings.values():
        if setting.name not in values and setting.default is not None:
            values[setting.name] = setting.default
            origins[setting.name] = "default"

    _resolve_base_url(provider, values, origins, where)
    for setting in settings.values():
        if setting.required and values.get(setting.name) == "":
            raise ConfigError(
                f"{setting.name} is empty in {where}",
                hint=f"set {setting.name}; if it is written ${{VARIABLE}}, that variable is set but empty",
            )
    missing = [setting.name for setting in settings.values() if setting.required and setting.name not in values]
    for alternatives in provider.one_of:
        present = [key for key in alternatives if key in values]
        if not present:
            missing.append(" or ".join(alternatives))
        elif len(present) > 1:
            raise ConfigError(
                f"both {' and '.join(present)} are set in {where}",
                hint=f"keep only one of {', '.join(alternatives)}",
            )
    if missing:
        # A typo is the usual reason a key is missing: say so in the same breath.
        typos = [note for note in notes if note.startswith("unknown key")]
        also = [f"also missing: {', '.join(missing[1:])}"] if len(missing) > 1 else []
        raise missing_key(missing[0], table=f"[{provider.name}.{name}]", path=path, details=[*typos, *also])

    base = path.parent if path else Path.cwd()
    for key, value in list(values.items()):
        setting = settings[key]
        if setting.kind in ("file", "path"):
            resolved = _resolve_path(key, str(value), base, where)
            values[key] = resolved
            if setting.kind == "file":
                files[key] = _read_setting_file(key, resolved, where)
                # A public key that others can read is fine (and a separate error follows anyway).
                if setting.is_secret and b"PUBLIC KEY-----" not in files[key] and b"CERTIFICATE-----" not in files[key]:
                    notes.extend(file_permission_warnings(resolved))
            elif not resolved.exists():
                raise ConfigError(f"{key} {resolved} in {where} does not exist", hint=f"fix the path in {key}")

    if from_dotenv:
        # The .env that fed a secret is as much a secrets file as profiles.toml: the same warning, as ssh gives.
        notes.extend(file_permission_warnings(Path(".env")))
    if values.get("verify_tls") is False:
        notes.append(
            f"TLS verification is off for {where} (verify_tls = false): anyone on the network path "
            "can read and forge this exchange; use ca_bundle for a private CA instead"
        )
    return Profile(provider.name, name, path, values, origins, files, tuple(notes))


def _resolve_base_url(provider: ProfileSchema, values: dict[str, object], origins: dict[str, str], where: str) -> None:
    if "base_url" in values:
        url = str(values["base_url"])
        if not _is_http_url(url):
            if origins.get("base_url") == "--base-url":
                raise UsageError(
                    f"--base-url {url!r} is not an http(s) URL",
                    hint="write it like http://127.0.0.1:8787",
                    quoted=[repr(url)],
                )
            raise ConfigError(
                f"base_url {url!r} in {where} is not an http(s) URL",
                hint="write it like https://dev.nicepay.co.id (scheme and host, no path)",
                quoted=[repr(url)],
            )
        return
    environment = str(values.get("environment", "sandbox"))
    built_in = provider.base_urls.get(environment)
    if built_in is None:
        known = ", ".join(f"{env} = {url}" for env, url in provider.base_urls.items()) or "none"
        raise ConfigError(
            f"{provider.name} has no built-in {environment} URL, and base_url is not set in {where}",
            details=[f"built-in URLs for {provider.name}: {known}"],
            hint="set base_url in the profile (your gateway's host, e.g. https://api.bank.example)",
        )
    values["base_url"] = built_in
    origins["base_url"] = f"built-in ({environment})"


def _is_http_url(url: str) -> bool:
    """http(s), a host, a valid port if any, and nothing the HTTP layer would choke on."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError when out of range
    except ValueError:  # e.g. an unclosed [IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", url)


def _substitute(raw: object, key: str, where: str, environ: Mapping[str, str]) -> tuple[object, list[str]]:
    """raw with its ${VAR}s substituted from environ, and the variables used."""
    used: list[str] = []

    def replace_in(value: object) -> object:
        if isinstance(value, str):
            return _VARIABLE.sub(lookup, value)
        if isinstance(value, dict):
            return {name: replace_in(item) for name, item in value.items()}
        if isinstance(value, list):
            return [replace_in(item) for item in value]
        return value

    def lookup(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable not in environ:
            raise ConfigError(
                f"environment variable {variable} is not set (used by {key} in {where})",
                hint=f"export {variable}=… or add {variable}=… to a .env file in the current directory",
            )
        used.append(variable)
        return environ[variable]

    value = replace_in(raw)
    return value, list(dict.fromkeys(used))


def expand_variables(value: object, environ: Mapping[str, str] | None = None) -> str:
    """Substitute the ${VAR}s that are set, leaving the others as written (for listings, which must not fail)."""
    environ = profile_variables() if environ is None else environ
    return _VARIABLE.sub(lambda match: environ.get(match.group(1), match.group(0)), str(value))


def _typed(setting: Setting, value: object, where: str, error: type[ConfigError | UsageError] = ConfigError) -> object:
    convert = _CONVERTERS[setting.kind]
    try:
        return convert(setting, value)
    except (TypeError, ValueError) as problem:
        raise error(
            f"{setting.name} in {where} {problem}", hint=f"{setting.name}: {setting.help}", quoted=[repr(value)]
        ) from None


def _as_table(_setting: Setting, value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise TypeError(f"must be a table, not {_toml_type(value)}")
    _json_only(value)
    return value


# RFC 9110 field names are tokens; a value is visible Latin-1 with inner spaces and tabs (what requests can send).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")


def _as_headers(_setting: Setting, value: object) -> dict[str, str]:
    """A table of extra HTTP headers: every name a token, every value a string HTTP can carry."""
    if not isinstance(value, dict):
        raise TypeError(f"must be a table, not {_toml_type(value)}")
    for name, item in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"has a header name {name!r} that HTTP does not allow (letters, digits, - and _)")
        if not isinstance(item, str):
            raise TypeError(f"sets {name} to {_toml_type(item)}; a header value must be a string: write it in quotes")
        if item[:1].isspace():
            raise ValueError(f"sets {name} to a value starting with a space, which HTTP does not allow")
        bad = _HEADER_VALUE_FORBIDDEN.search(item)
        if bad is not None:
            # The character, never the value: a header may carry a secret.
            what = "a line break (CR or LF)" if bad.group() in "\r\n" else f"{bad.group()!r} (U+{ord(bad.group()):04X})"
            raise ValueError(
                f"sets {name} to a value holding {what}, which an HTTP header cannot carry (Latin-1 text, one line)"
            )
    return value


def _json_only(value: object) -> None:
    # Tables become JSON bodies and headers: TOML dates and times, NaN and infinity have no JSON spelling.
    if isinstance(value, dict):
        for item in value.values():
            _json_only(item)
    elif isinstance(value, list):
        for item in value:
            _json_only(item)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"holds {value!r}, which JSON cannot write")
    elif not isinstance(value, str | int | float | bool):
        raise ValueError(f"holds a TOML {type(value).__name__} ({value}), which JSON cannot write: quote it")


def _as_text(setting: Setting, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"must be a string, not {_toml_type(value)}: write it in quotes")
    if setting.choices and value not in setting.choices:
        close = [choice for choice in setting.choices if choice.lower() == value.strip().lower()]
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"is {value!r}; expected one of: {', '.join(setting.choices)}{suggestion}")
    return value


def _as_number(_setting: Setting, value: object) -> float | int:
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number) or number <= 0:
        raise ValueError(f"must be a positive number, not {value!r}")
    if number > MAX_SECONDS:
        raise ValueError(f"is {value!r} seconds; at most {MAX_SECONDS} (a day) makes sense")
    return number


def _as_integer(_setting: Setting, value: object) -> int:
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"must be a positive whole number, not {value!r}")
    return value


def _as_bool(_setting: Setting, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"must be true or false, not {value!r}")


def _toml_type(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "a table",
        str: "a string",
    }.get(type(value), type(value).__name__)


_CONVERTERS: dict[str, Callable[[Setting, object], object]] = {
    "text": _as_text,
    "secret": _as_text,
    "choice": _as_text,
    "file": _as_text,
    "path": _as_text,
    "number": _as_number,
    "integer": _as_integer,
    "bool": _as_bool,
    "table": _as_table,
    "headers": _as_headers,
}


def _resolve_path(key: str, value: str, base: Path, where: str) -> Path:
    # Relative paths are relative to the profiles file, so a profile works from any directory.
    try:
        if "\0" in value:
            raise ValueError("it contains a NUL character")
        path = Path(value).expanduser()
    except (RuntimeError, ValueError) as error:
        raise ConfigError(f"{key} {value!r} in {where} is not a usable path: {error}") from None
    return Path(os.path.normpath(path if path.is_absolute() else base.absolute() / path))


def _read_setting_file(key: str, path: Path, where: str) -> bytes:
    from .files import CONFIG_LIMIT, FileProblem, read_bounded

    try:
        return read_bounded(path, CONFIG_LIMIT)
    except FileProblem as problem:
        hint = (
            "fix the path; relative paths are taken from the profiles file's directory"
            if problem.missing
            else f"point {key} at the key file itself (PEM or DER, a few kilobytes)"
        )
        raise ConfigError(f"{key} {path} {problem.reason} (set in {where})", hint=hint) from None


class ProfileRow(NamedTuple):
    """One [PROVIDER.PROFILE] table as `profiles list` shows it, read without resolving the profile."""

    provider: str
    known: bool
    name: str
    identity: str
    environment: str
    base_url: str


def profiles_overview(document: Mapping[str, object], providers: Mapping[str, ProfileSchema]) -> list[ProfileRow]:
    """Every profile table in a profiles document: who it names, where it points (the built-in URL by default)."""
    rows = []
    for provider_name, name in profile_names(document):
        raw = document[provider_name][name]  # type: ignore[index]
        provider = providers.get(provider_name)
        environment = expand_variables(raw.get("environment", "sandbox"))
        where = expand_variables(raw.get("base_url", ""))
        if not where and provider is not None:
            where = provider.base_urls.get(environment, "(base_url needed)")
        identity = expand_variables(raw.get(provider.identity_key, "")) if provider is not None else ""
        rows.append(ProfileRow(provider_name, provider is not None, name, identity, environment, where))
    return rows


def profile_template(provider: ProfileSchema, name: str, values: Mapping[str, str] | None = None) -> str:
    """A [PROVIDER.NAME] table for a profiles file: every key the provider reads, each with what it means.

    Keys in values are written with those values. Other required keys get a ${VARIABLE} placeholder (so that
    no secret need be typed into the file); of each group of alternatives the file setting is written (what
    `paytoken keygen` makes) and the others commented; optional keys are commented out.
    """
    values = values or {}
    groups = {key: group for group in provider.one_of for key in group}
    settings = (*provider.settings, *COMMON_SETTINGS)
    kinds = {setting.name: setting.kind for setting in settings}
    prefix = re.sub(r"[^A-Z0-9]+", "_", provider.name.upper())
    files = {"private_key_file": "private.pem", "public_key_file": "public.pem"}

    def preferred(group: tuple[str, ...]) -> str:
        return next((key for key in group if kinds.get(key) == "file"), group[0])

    lines = [f"[{provider.name}.{name}]"]
    for setting in settings:
        group = groups.get(setting.name)
        chosen = setting.name in values or setting.required or (group is not None and preferred(group) == setting.name)
        if setting.name in values:
            value = json.dumps(values[setting.name], ensure_ascii=False)
        elif setting.kind in ("file", "path"):
            value = f'"keys/{provider.name}/{files.get(setting.name, setting.name + ".pem")}"'
        elif setting.default is not None:
            value = str(setting.default).lower() if isinstance(setting.default, bool) else json.dumps(setting.default)
        else:
            value = f'"${{{prefix}_{setting.name.upper()}}}"'
        need = "required" if setting.required else (f"one of {', '.join(group)}" if group else "optional")
        lines.append(f"# {setting.help} ({need})")
        lines.append(f"{'' if chosen else '# '}{setting.name} = {value}")
    return "\n".join(lines) + "\n"
