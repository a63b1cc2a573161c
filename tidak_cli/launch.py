"""The `paytoken` console script: a plain cache hit is answered before Typer is imported.

Scripts call `paytoken get` in loops, and on a cache hit most of the time goes into importing Typer. So a
`get PROVIDER` that uses only the options in _OPTIONS, writes a plain format, and finds a fresh token in the
file cache with nothing to warn about but the profile's own warnings, is answered here, with the functions
the `get` command itself calls. Anything else (another command or option, a miss, the Redis cache, a cache
warning, any error) goes to the full CLI in cli.py, which starts over: until it has its answer, this path
never reports a failure and prints nothing, it only declines. tests/test_launch.py checks that both paths
give the same answer, and that declining leaves nothing behind.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .errors import ExitCode, OutputError

if TYPE_CHECKING:
    from logging import LogRecord

__all__ = [
    "ClosedStdout",
    "PlainGet",
    "answered_from_cache",
    "interrupted",
    "main",
    "plain_get",
    "reader_gone",
    "write_output",
]

# The `get` options this path reads, each spelled as in cli.py and taking one value, by parameter name.
_OPTIONS = {
    "--profile": "profile",
    "-p": "profile",
    "--profiles-file": "profiles_file",
    "--output": "output",
    "-o": "output",
    "--env-prefix": "env_prefix",
    "--min-ttl": "min_ttl",
}
# Numbers that float() and Click's FLOAT read alike (no signs, exponents, inf, nan or spaces).
_SECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")


class PlainGet(NamedTuple):
    """A `paytoken get` simple enough to be answered from the cache here."""

    provider: str
    profile: str | None
    profiles_file: Path | None
    output: str
    env_prefix: str
    min_ttl: float


class ClosedStdout(io.TextIOBase):
    """Stands in for a stdout closed by the shell (`>&-`), where Python leaves None: every write fails, clearly.

    Its OutputError passes through Rich's printing as well as write_output, to the one error boundary.
    """

    def write(self, text: str) -> int:
        raise _unwritable("standard output is closed")


def main() -> None:
    """Entry point of the `paytoken` console script."""
    if sys.stdout is None:
        sys.stdout = ClosedStdout()
    if sys.stderr is None:
        # stderr closed (`2>&-`): print(file=None) would write warnings and traces into stdout, the token's place.
        sys.stderr = Path(os.devnull).open("w")  # noqa: SIM115 - open for the whole run
    try:
        if not answered_from_cache(sys.argv[1:]):
            from .cli import main as full_cli

            full_cli()
    except KeyboardInterrupt:  # before the commands' own handling starts, e.g. while Typer is imported
        raise SystemExit(interrupted()) from None


def answered_from_cache(argv: list[str]) -> bool:
    """Print the cached token for a plain `paytoken get` and return True; else print nothing, return False."""
    if argv[:1] != ["get"]:
        return False
    from .render import PLAIN_FORMATS, SHELL_NAME

    request = plain_get(argv, default_output="pretty" if sys.stdout.isatty() else "token")
    if request is None or request.output not in PLAIN_FORMATS or not SHELL_NAME.fullmatch(request.env_prefix):
        return False
    environment = set(os.environ)
    try:
        answer = _from_cache(request)
    except KeyboardInterrupt:
        raise SystemExit(interrupted()) from None
    except Exception:
        answer = None  # the full CLI runs next and reports whatever this was, in its one place
    if answer is None:
        # Leave the full CLI the environment it would have had: it reads .env itself, at its own moment.
        for name in set(os.environ) - environment:
            del os.environ[name]
        return False
    try:
        write_output(answer)
    except KeyboardInterrupt:
        raise SystemExit(interrupted()) from None
    except BrokenPipeError:
        raise SystemExit(reader_gone()) from None
    except OutputError as failure:
        from .render import console, error

        error(failure, console(stderr=True))
        raise SystemExit(int(failure.exit_code)) from None
    return True


def plain_get(argv: list[str], *, default_output: str) -> PlainGet | None:
    """Read `get PROVIDER [OPTION VALUE]…`; None when argv is anything more than that."""
    from .gateways import PROVIDERS

    if len(argv) < 2 or argv[0] != "get" or argv[1] not in PROVIDERS:
        return None
    values: dict[str, str] = {}
    words = iter(argv[2:])
    for word in words:
        name, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        field = _OPTIONS.get(name)
        if field is None or field in values:
            return None
        if not equals:
            value = next(words, "")
        if not value or value.startswith("-"):
            return None  # Click's reading of these is not worth repeating here
        values[field] = value
    min_ttl = values.get("min_ttl", "60")
    if not _SECONDS.fullmatch(min_ttl):
        return None
    profiles_file = values.get("profiles_file")
    return PlainGet(
        provider=argv[1],
        profile=values.get("profile"),
        profiles_file=Path(profiles_file) if profiles_file else None,
        output=values.get("output", default_output),
        env_prefix=values.get("env_prefix", "PAYTOKEN_"),
        min_ttl=float(min_ttl),
    )


def _from_cache(request: PlainGet) -> str | None:
    """The text `get` would print for request from a fresh file-cache entry, with its warnings printed.

    Nothing is printed until the answer is sure, so that declining leaves no trace.
    """
    from .cache import cache_directory, configured_url
    from .gateways import PROVIDERS
    from .profiles import default_profile_name, load_dotenv_file, load_profile
    from .redact import Redactor
    from .render import token_text, warning
    from .tokens import cached_token, open_cache

    provider = PROVIDERS[request.provider]
    dotenv_log: list[LogRecord] = []
    load_dotenv_file(held=dotenv_log)
    profile = load_profile(provider, request.profile or default_profile_name(), profiles_file=request.profiles_file)
    if configured_url(profile):
        return None  # the shared Redis cache, its fallback and its warnings belong to the full CLI
    cache_warnings: list[str] = []
    cache = open_cache(None, cache_directory(), warn=cache_warnings.append)
    result = cached_token(provider, profile, cache, min_ttl=request.min_ttl)
    if result is None or cache_warnings or result.stored_by != profile.name:
        return None
    answer = token_text(result, request.output, env_prefix=request.env_prefix)
    answer.encode(sys.stdout.encoding or "utf-8", sys.stdout.errors or "strict")  # what stdout cannot take fails now
    if dotenv_log:
        import logging

        for record in dotenv_log:
            logging.getLogger(record.name).handle(record)
    redactor = Redactor.for_profile(profile, provider)
    for text in profile.warnings:
        warning(text, redactor)
    return answer


def write_output(text: str) -> None:
    """Write text on stdout now; BrokenPipeError when the reader is gone, OutputError for another failure."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as failure:
        raise _unwritable(failure.strerror or str(failure)) from None
    except UnicodeEncodeError:
        raise OutputError(
            f"cannot write the output: standard output takes only {sys.stdout.encoding} text, "
            "and the answer has other characters",
            hint="use a UTF-8 locale, or set PYTHONIOENCODING=utf-8",
        ) from None


def _unwritable(reason: str) -> OutputError:
    return OutputError(
        f"cannot write the output: {reason}",
        hint="check where standard output goes: a full disk, or a file or device that refuses writes",
    )


def interrupted() -> int:
    """Say that Ctrl-C stopped paytoken (one line, never a traceback); return the status to exit with."""
    print("paytoken: interrupted", file=sys.stderr)
    return int(ExitCode.INTERRUPTED)


def reader_gone() -> int:
    """The reader of stdout went away (`| head -1`): stop quietly with SIGPIPE's status, as Unix tools do."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return int(ExitCode.BROKEN_PIPE)
