"""The one edge for local files: every file paytoken reads is a regular file, size-capped, read without blocking.

A path in a profile, a flag or the cache directory may name /dev/zero, a FIFO nobody writes to, or a 300 MB
file; reading it the ordinary way is a hang or a MemoryError. Here it is an error that says what and why.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from .errors import ConfigError, PaytokenError

__all__ = [
    "BODY_LIMIT",
    "CACHE_ENTRY_LIMIT",
    "CAPTURE_LIMIT",
    "CONFIG_LIMIT",
    "FileProblem",
    "read_bounded",
    "read_local",
    "read_stdin",
]

# Keys, profiles, .env, dotenv targets and sandbox configs are a few kilobytes; a MiB is generous.
CONFIG_LIMIT = 1024 * 1024
# A call's body (--data @FILE, --data -): as much as the sandbox accepts, and far more than any API call holds.
BODY_LIMIT = 1024 * 1024
# A captured request: its body may be as large as the sandbox accepts (1 MiB), plus the request line and headers.
CAPTURE_LIMIT = 2 * 1024 * 1024
# A cache entry holds the gateway's answer (capped at 1 MiB when read) re-encoded with spaces after separators.
CACHE_ENTRY_LIMIT = 2 * 1024 * 1024

_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


class FileProblem(Exception):
    """Why a local file was not read: missing, not a regular file, too large, or the OS's own reason."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


def read_bounded(path: Path, limit: int, *, follow_links: bool = True) -> bytes:
    """Read path whole if it is a regular file of at most limit bytes; else FileProblem.

    O_NONBLOCK: opening a FIFO returns at once (it is refused below) instead of waiting for a writer.
    follow_links=False refuses a symbolic link outright (O_NOFOLLOW), for paths inside paytoken's own directories.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise FileProblem("does not exist", missing=True) from None
    except IsADirectoryError:
        raise FileProblem("is a directory, not a file") from None
    except OSError as error:
        if error.errno == errno.ELOOP and not follow_links:
            raise FileProblem("is a symbolic link, which paytoken does not follow here") from None
        raise FileProblem(error.strerror or str(error), missing=error.errno == errno.ENOTDIR) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            if stat.S_ISDIR(status.st_mode):
                raise FileProblem("is a directory, not a file")
            raise FileProblem(f"is {_KINDS.get(stat.S_IFMT(status.st_mode), 'something else')}, not a regular file")
        if status.st_size > limit:
            raise FileProblem(f"is {_size(status.st_size)}; at most {_size(limit)} is read")
        chunks: list[bytes] = []
        left = limit + 1  # one byte more than allowed tells a file that grew (or lied about its size)
        while left > 0:
            chunk = os.read(descriptor, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise FileProblem(f"is larger than {_size(limit)}, which is as much as is read")
        return data
    except OSError as error:
        raise FileProblem(error.strerror or str(error)) from None
    finally:
        os.close(descriptor)


def read_local(
    path: Path,
    limit: int,
    what: str,
    *,
    error: type[PaytokenError] = ConfigError,
    hint: str | None = None,
    where: str = "",
    follow_links: bool = True,
) -> bytes:
    """Read a local file through the edge; any problem is error (what, why, the fix) naming what and path."""
    try:
        return read_bounded(path, limit, follow_links=follow_links)
    except FileProblem as problem:
        place = f" (set in {where})" if where else ""
        raise error(f"{what} {path} {problem.reason}{place}", hint=hint or _default_hint(problem)) from None


def read_stdin(
    limit: int,
    what: str,
    *,
    stdin: BinaryIO | None = None,
    error: type[PaytokenError] = ConfigError,
    hint: str | None = None,
) -> bytes:
    """Standard input whole, at most limit bytes (stdin: another stream, for tests); else error naming what.

    One read of limit + 1 bytes tells too much from enough without holding more; /dev/zero on stdin ends there.
    """
    fix = hint or "give at most that much on standard input"
    source = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
    if source is None:
        raise error(f"{what}: standard input is closed", hint="pipe the input in, or give a file instead")
    try:
        data = source.read(limit + 1)
    except OSError as problem:
        raise error(f"{what}: standard input could not be read: {problem.strerror or problem}", hint=fix) from None
    if len(data) > limit:
        raise error(f"{what} on standard input is larger than {_size(limit)}, which is as much as is read", hint=fix)
    return data


def _default_hint(problem: FileProblem) -> str:
    if problem.missing:
        return "check the path"
    return "give the path of an ordinary file (not a device, a pipe or a directory) of reasonable size"


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MiB"
    if count >= 1024:
        return f"{count / 1024:.0f} KiB"
    return f"{count} bytes"
