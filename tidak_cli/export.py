"""Exporting a token for scripts: variables written into a dotenv file."""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from .errors import ConfigError

__all__ = ["SHELL_FORMATS", "SHELL_NAME", "iso_utc", "shell_lines", "shell_quote", "write_dotenv"]

# What a variable prefix (--env-prefix) must be to start a shell variable name.
SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def iso_utc(moment: datetime | None) -> str | None:
    """An expiry as scripts read it: ISO 8601 in UTC, to the second, with Z."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def shell_quote(value: str) -> str:
    """Single-quote value for a POSIX shell."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


# The -o formats that set variables, each in its shell's own syntax (as `aws configure export-credentials`).
SHELL_FORMATS = ("env", "env-no-export", "fish", "powershell")


def shell_lines(assignments: Sequence[tuple[str, str]], shell: str) -> str:
    """Lines that set each variable in shell (one of SHELL_FORMATS), every value quoted for that shell."""
    if shell == "env":
        return "".join(f"export {name}={shell_quote(value)}\n" for name, value in assignments)
    if shell == "env-no-export":
        return "".join(f"{name}={shell_quote(value)}\n" for name, value in assignments)
    if shell == "fish":
        # fish's single quotes take two escapes: \\ and \'.
        quoted = [(name, value.replace("\\", "\\\\").replace("'", "\\'")) for name, value in assignments]
        return "".join(f"set -gx {name} '{value}'\n" for name, value in quoted)
    if shell == "powershell":
        # PowerShell's single-quoted strings take one escape: '' for '.
        return "".join(f"$Env:{name} = '{value.replace(chr(39), chr(39) * 2)}'\n" for name, value in assignments)
    raise ValueError(f"not a shell format: {shell}")


def write_dotenv(path: Path, assignments: Sequence[tuple[str, str]]) -> None:
    """Set each variable in the dotenv file at path, keeping its other lines; the file ends up mode 0600.

    The values are shell-safe (tokens.fetch refuses any other token), so `NAME='value'` reads the same to
    python-dotenv and to a shell that sources the file. A symlink's target is updated and the link kept.
    The file is replaced whole (temporary file + rename), under a lock on its directory, so that concurrent
    runs writing to one file each add their variables and a reader never sees half a file.
    """
    target = path.resolve()
    if target.is_dir():
        raise ConfigError(f"--dotenv {path} is a directory", hint="give a file path, e.g. --dotenv .env")
    with _directory_lock(target.parent, path):
        try:
            existing = target.read_text(encoding="utf-8") if target.exists() else ""
        except UnicodeDecodeError:
            raise ConfigError(
                f"--dotenv {path} is not UTF-8 text", hint="give a dotenv file, or a path that does not exist yet"
            ) from None
        except OSError as error:
            raise ConfigError(
                f"cannot read {path}: {error.strerror}", hint="choose a readable path for --dotenv"
            ) from None
        if target.exists() and not os.access(target, os.W_OK):
            raise ConfigError(
                f"--dotenv {path} is read-only", hint="make it writable (chmod u+w), or choose another path"
            )
        _replace(target, path, _updated(existing, assignments))


def _updated(existing: str, assignments: Sequence[tuple[str, str]]) -> str:
    """existing with each NAME set (where it was, keeping an `export`), the new ones appended."""
    from dotenv.parser import parse_stream

    values = dict(assignments)
    lines: list[str] = []
    seen: set[str] = set()
    for binding in parse_stream(io.StringIO(existing)):
        original = binding.original.string
        if binding.key in values and not binding.error:
            export = "export " if original.lstrip().startswith("export ") else ""
            lines.append(f"{export}{binding.key}='{values[binding.key]}'\n")
            seen.add(binding.key)
        else:
            lines.append(original)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines += [f"{name}='{value}'\n" for name, value in assignments if name not in seen]
    return "".join(lines)


def _replace(target: Path, shown: Path, text: str) -> None:
    import tempfile

    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise ConfigError(
            f"cannot write {shown}: {error.strerror}", hint="choose a writable path for --dotenv"
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:  # mkstemp made it 0600
            file.write(text)
        Path(temporary).replace(target)
    except OSError as error:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise ConfigError(
            f"cannot write {shown}: {error.strerror}", hint="choose a writable path for --dotenv"
        ) from None


@contextlib.contextmanager
def _directory_lock(directory: Path, shown: Path) -> Iterator[None]:
    """Hold an exclusive lock on directory (POSIX flock; no lock file is left behind)."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; concurrent writers may lose each other's lines
        yield
        return
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError as error:
        raise ConfigError(
            f"cannot write {shown}: {error.strerror} ({directory})", hint="choose a writable path for --dotenv"
        ) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
