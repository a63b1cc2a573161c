"""Writing to the terminal without Rich: the answer on stdout, warnings and errors on stderr, the endings.

The plain `get` path (launch.py) and the full CLI print through these same functions, so both say the same
thing in the same bytes; Rich is imported only by the pretty views.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ExitCode, OutputError

if TYPE_CHECKING:
    from ..errors import PaytokenError
    from ..redact import Redactor

__all__ = [
    "ClosedStdout",
    "Spinner",
    "error",
    "interrupted",
    "json_text",
    "reader_gone",
    "shown",
    "trace_line",
    "warning",
    "write_bytes",
    "write_json",
    "write_output",
]


class ClosedStdout(io.TextIOBase):
    """Stands in for a stdout closed by the shell (`>&-`), where Python leaves None: every write fails, clearly.

    Its OutputError passes through Rich's printing as well as write_output, to the one error boundary.
    """

    def write(self, text: str) -> int:
        raise _unwritable("standard output is closed")


# Characters that would act on a terminal rather than show: C0 controls but tab and newline, DEL, C1 controls,
# the bidirectional controls that reorder what is shown (Unicode's Bidi_Control set), the line and paragraph
# separators and the byte-order mark, which move or hide text; and lone surrogates (bytes that were not UTF-8,
# in a file name or a Redis key), which no terminal encoding can write.
_ACTING = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def shown(text: str) -> str:
    """Text safe to print on a terminal: every character that would act on it written as an escape."""
    return _ACTING.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _coloured(code: str, label: str) -> str:
    if sys.stderr.isatty() and "NO_COLOR" not in os.environ:
        return f"\033[{code}m{label}\033[0m"
    return label


def warning(text: str, redactor: Redactor) -> None:
    """Print a warning on stderr (paytoken's sentence: long secrets masked, its words kept whole)."""
    print(f"{_coloured('33', 'warning:')} {shown(redactor.sentence(text))}", file=sys.stderr)


def error(failure: PaytokenError, redactor: Redactor) -> None:
    """Print one error on stderr: what failed, the facts, and the fix; secrets masked in what it quotes."""

    def masked(text: str) -> str:
        return shown(redactor.sentence(text, failure.quoted))

    lines = [f"{_coloured('1;31', 'error:')} {masked(failure.message)}"]
    lines += [f"  {masked(detail)}" for detail in failure.details]
    if failure.hint:
        lines.append(f"  {_coloured('1', 'hint:')} {masked(failure.hint)}")
    print("\n".join(lines), file=sys.stderr)


def json_text(document: object) -> str:
    """Every JSON output paytoken writes: strict JSON (RFC 8259), so that any parser reads it.

    A gateway's answer may hold numbers Python reads as infinity or NaN (`1e309`, `NaN`); json.dumps would
    write them as `Infinity` and `NaN`, which JSON has not. They are written as null. Characters that would act
    on a terminal (DEL, C1 controls, bidi overrides, lone surrogates; json.dumps escapes only C0) are written
    as `\\uXXXX` escapes: the same string to any parser, and nothing raw on the terminal.
    """
    text = json.dumps(_finite(document), indent=2, ensure_ascii=False, allow_nan=False)
    return _ACTING.sub(lambda found: f"\\u{ord(found.group()):04x}", text) + "\n"


def _finite(value: object) -> object:
    """value with every infinite or NaN float as None: a walk with a stack, not recursion, so that an answer
    nested as deep as the JSON edge lets through does not exhaust the recursion limit here."""
    from functools import partial

    root: list[object] = []
    pending: list[tuple[object, Callable[[object], None]]] = [(value, root.append)]
    while pending:
        item, put = pending.pop()
        if isinstance(item, dict):
            table: dict[object, object] = dict.fromkeys(item)
            pending += [(child, partial(table.__setitem__, key)) for key, child in item.items()]
            put(table)
        elif isinstance(item, list | tuple):
            items: list[object] = [None] * len(item)
            pending += [(child, partial(items.__setitem__, index)) for index, child in enumerate(item)]
            put(items)
        else:
            put(None if isinstance(item, float) and not math.isfinite(item) else item)
    return root[0]


def write_json(value: object) -> None:
    """Write value on stdout as json_text writes it."""
    write_output(json_text(value))


class Spinner:
    """A line on a terminal's stderr that moves while paytoken waits for a gateway, from `after` seconds on.

    Nothing is printed off a terminal (a script's stderr stays clean), nor before `after`: a cache hit or a quick
    gateway never shows it. The line is erased when the wait ends.
    """

    _FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, text: str, *, after: float = 1.0) -> None:
        import threading

        self._text = shown(text)
        self._after = after
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        if sys.stderr is not None and sys.stderr.isatty() and os.environ.get("TERM") != "dumb":
            self._thread = threading.Thread(target=self._run, name="paytoken-spinner", daemon=True)

    def __enter__(self) -> Spinner:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        if self._done.wait(self._after):
            return
        frame = 0
        while not self._done.is_set():
            sys.stderr.write(f"\r{self._FRAMES[frame % len(self._FRAMES)]} {self._text}")
            sys.stderr.flush()
            frame += 1
            self._done.wait(0.1)
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def trace_line(line: str) -> None:
    """Print one line of the -v trace on stderr (the transport has masked it)."""
    print(shown(line), file=sys.stderr)


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


def write_bytes(data: bytes) -> None:
    """Write bytes on stdout as they are (a gateway's answer for a pipe); on a terminal, as shown() text."""
    if sys.stdout.isatty():
        text = shown(data.decode("utf-8", errors="replace"))
        write_output(text if text.endswith("\n") or not text else text + "\n")
        return
    try:
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a text-only stdout (a test's capture): the bytes as UTF-8 text
            sys.stdout.write(data.decode("utf-8", errors="replace"))
        else:
            buffer.write(data)
            buffer.flush()
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as failure:
        raise _unwritable(failure.strerror or str(failure)) from None


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
