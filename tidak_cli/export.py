"""Exporting a token for scripts: variables written into a dotenv file."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

from .errors import ConfigError

__all__ = ["write_dotenv"]


def _exported_names(path: Path) -> set[str]:
    # A line written `export NAME=…` stays an export line when its value is replaced.
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return set(re.findall(r"^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)\s*=", text, flags=re.MULTILINE))


def write_dotenv(path: Path, assignments: Sequence[tuple[str, str]]) -> None:
    """Set each variable in the dotenv file at path, keeping its other lines; the file ends up mode 0600."""
    from dotenv import set_key

    created = False
    try:
        # Narrow the mode before the token goes in: python-dotenv keeps the mode of the file it rewrites.
        if path.exists():
            path.chmod(0o600)
        else:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            created = True
        exported = _exported_names(path)
        for name, value in assignments:
            set_key(path, name, value, quote_mode="always", export=name in exported)
        path.chmod(0o600)
    except OSError as error:
        if created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise ConfigError(
            f"cannot write {path}: {error.strerror}",
            hint="choose a writable path for --dotenv",
        ) from None
