"""One run of a command: its debug switch, the secrets to mask, and the one place errors become messages."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ExitCode, PaytokenError
from ..redact import Redactor
from .output import error, interrupted, reader_gone, shown, warning

if TYPE_CHECKING:
    from ..gateways.base import Provider
    from ..profiles import Profile

__all__ = ["Run", "current", "debug_from_environment", "guarded_call", "load", "start"]


@dataclass
class Run:
    """What one run of paytoken knows beyond its arguments: debug mode and the secrets to mask."""

    debug: bool = False
    redactor: Redactor = field(default_factory=Redactor)

    def warn(self, text: str) -> None:
        warning(text, self.redactor)


_CURRENT: ContextVar[Run] = ContextVar("paytoken_run")


def debug_from_environment() -> bool:
    """PAYTOKEN_DEBUG set to anything but an empty, 0, false, no or off value."""
    return os.environ.get("PAYTOKEN_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def start(*, debug: bool = False) -> Run:
    """Begin a run: the one every command of this invocation reports through."""
    run = Run(debug=debug or debug_from_environment())
    _CURRENT.set(run)
    return run


def current() -> Run:
    """The run in progress (a fresh one when no command has started it, e.g. in a library call)."""
    run = _CURRENT.get(None)
    return run if run is not None else start()


def guarded_call(action: Callable[[], None], run: Run) -> int:
    """Call action; turn paytoken's errors, Ctrl-C and a closed pipe into one message and an exit code.

    The one place that does so, for the plain `get` path and every Typer command alike. Unexpected exceptions
    are reported as what they are, a bug, with the traceback under --debug.
    """
    try:
        action()
    except PaytokenError as failure:
        if run.debug:
            _print_traceback(run)
        error(failure, run.redactor)
        return int(failure.exit_code)
    except KeyboardInterrupt:
        return interrupted()
    except BrokenPipeError:
        return reader_gone()
    except Exception as failure:
        if run.debug:
            _print_traceback(run)
        else:
            print(
                f"error: internal error: {type(failure).__name__}: {shown(run.redactor.text(str(failure))[:300])}\n"
                "  hint: this is a bug in paytoken; rerun with --debug for the traceback and report it",
                file=sys.stderr,
            )
        return int(ExitCode.INTERNAL)
    return 0


def _print_traceback(run: Run) -> None:
    import traceback

    print(run.redactor.text(traceback.format_exc()), file=sys.stderr, end="")


def load(
    provider: Provider,
    profile: str | None,
    profiles_file: Path | None,
    overrides: dict[str, object],
    run: Run,
) -> Profile:
    """Load a command's profile (with the current directory's .env), mask its secrets, print its warnings."""
    from ..profiles import default_profile_name, load_profile, read_dotenv_file

    read_dotenv_file()
    resolved = load_profile(
        provider, profile or default_profile_name(), profiles_file=profiles_file, overrides=overrides
    )
    run.redactor = Redactor.for_profile(resolved, provider)
    for note in resolved.warnings:
        run.warn(note)
    return resolved
