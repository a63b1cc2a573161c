"""Exporting a token for scripts: variables written into a dotenv file."""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from .errors import ConfigError, GatewayError

__all__ = ["SHELL_FORMATS", "SHELL_NAME", "iso_utc", "quoted", "shell_lines", "shell_quote", "write_dotenv"]

# What a variable prefix (--env-prefix) must be to start a shell variable name.
SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def iso_utc(moment: datetime | None) -> str | None:
    """An expiry as scripts read it: ISO 8601 in UTC, to the second, with Z."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Inside single quotes a POSIX shell takes every character as it is; python-dotenv too, except that it reads
# `\\` and `\'` as escapes, `${NAME}` as a variable, and a CR as a line break. A value without those (and
# without other control characters) reads the same to both; any other is refused, never written.
_QUOTABLE = re.compile(r"[^'\\\x00-\x1f\x7f-\x9f]*")


def quoted(name: str, value: str) -> str:
    """value single-quoted, read back the same by sh, bash and python-dotenv; GatewayError if it cannot be."""
    if _QUOTABLE.fullmatch(value) and "${" not in value:
        return f"'{value}'"
    odd = sorted({character for character in value if not _QUOTABLE.fullmatch(character)})
    odd += ["${"] if "${" in value else []
    raise GatewayError(
        f"{name} cannot be written for a shell or a dotenv file: its value has "
        + " ".join(repr(character) for character in odd[:10]),
        hint="a value from outside (the gateway, a cache entry) holds characters that could run as code; "
        "nothing was written",
    )


def shell_quote(value: str) -> str:
    """Single-quote value for a POSIX shell: any value, a quote in it included, reads back as it is."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


_POWERSHELL_QUOTES = re.compile("['\u2018\u2019\u201a\u201b]")

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
        escaped = [(name, value.replace("\\", "\\\\").replace("'", "\\'")) for name, value in assignments]
        return "".join(f"set -gx {name} '{value}'\n" for name, value in escaped)
    if shell == "powershell":
        # PowerShell's single-quoted strings take one escape: a quote doubled; and it takes the typographic
        # quotes (‘ ’ ‚ ‛) for quotes too, so each of them is doubled as well.
        doubled = [(name, _POWERSHELL_QUOTES.sub(r"\g<0>\g<0>", value)) for name, value in assignments]
        return "".join(f"$Env:{name} = '{value}'\n" for name, value in doubled)
    raise ValueError(f"not a shell format: {shell}")


def write_dotenv(path: Path, assignments: Sequence[tuple[str, str]]) -> None:
    """Set each variable in the dotenv file at path, keeping its other lines; the file ends up mode 0600.

    Each value is written by quoted(): `NAME='value'` reads the same to python-dotenv and to a shell that
    sources the file, and a value that could not is refused before anything is written. A symlink's target
    is updated and the link kept.
    The file is replaced whole (temporary file + rename), under a lock on its directory, so that concurrent
    runs writing to one file each add their variables and a reader never sees half a file.
    """
    target = path.resolve()
    if target.is_dir():
        raise ConfigError(f"--dotenv {path} is a directory", hint="give a file path, e.g. --dotenv .env")
    if path.is_symlink() and not target.exists():
        # Writing through a dangling link creates a file wherever it points: not what "update my .env" means.
        raise ConfigError(
            f"--dotenv {path} is a symbolic link to {target}, which does not exist",
            hint="give the file itself, or create the file the link points to first",
        )
    with _directory_lock(target.parent, path):
        existing = _existing_text(target, path)
        if target.exists() and not os.access(target, os.W_OK):
            raise ConfigError(
                f"--dotenv {path} is read-only", hint="make it writable (chmod u+w), or choose another path"
            )
        _replace(target, path, _updated(existing, assignments))


def _existing_text(target: Path, shown: Path) -> str:
    """The dotenv file being updated, read through the local-file edge; refuse one that is not a dotenv file."""
    from dotenv.parser import parse_stream

    from .files import CONFIG_LIMIT, FileProblem, read_bounded

    try:
        text = read_bounded(target, CONFIG_LIMIT).decode("utf-8")
    except FileProblem as problem:
        if problem.missing:
            return ""
        raise ConfigError(
            f"--dotenv {shown} {problem.reason}", hint="give a dotenv file, or a path that does not exist yet"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"--dotenv {shown} is not UTF-8 text", hint="give a dotenv file, or a path that does not exist yet"
        ) from None
    broken = next(
        (
            binding
            for binding in parse_stream(io.StringIO(text))
            if binding.error or (binding.key is not None and not SHELL_NAME.fullmatch(binding.key))
        ),
        None,
    )
    if broken is not None:
        # A script, a TOML file, a shell rc: rewriting it as NAME='value' lines (and chmod 600) would damage it.
        original = broken.original.string  # may start with the blank lines before it
        line = broken.original.line + len(original) - len(original.lstrip("\n"))
        raise ConfigError(
            f"--dotenv {shown} is not a dotenv file (line {line} is not NAME=value)",
            hint="give a dotenv file (NAME=value lines and # comments), or a path that does not exist yet",
        )
    return text


def _updated(existing: str, assignments: Sequence[tuple[str, str]]) -> str:
    """existing with each NAME set (where it was, keeping an `export`), the new ones appended."""
    from dotenv.parser import parse_stream

    values = {name: quoted(name, value) for name, value in assignments}
    lines: list[str] = []
    seen: set[str] = set()
    for binding in parse_stream(io.StringIO(existing)):
        original = binding.original.string
        if binding.key in values and not binding.error:
            export = "export " if original.lstrip().startswith("export ") else ""
            lines.append(f"{export}{binding.key}={values[binding.key]}\n")
            seen.add(binding.key)
        else:
            lines.append(original)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines += [f"{name}={values[name]}\n" for name, _ in assignments if name not in seen]
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
