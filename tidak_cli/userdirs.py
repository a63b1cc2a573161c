"""The user's cache and config directories for paytoken, as platformdirs names them.

On Linux these are the XDG directories, worked out here: importing platformdirs costs a cache hit more than
all the rest of its path does. Elsewhere platformdirs decides.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["user_cache_dir", "user_config_dir"]

_APP = "paytoken"


def _xdg(variable: str, fallback: str) -> Path:
    # platformdirs' Unix rule: the variable if set to something other than blanks, else the fallback under ~.
    configured = os.environ.get(variable, "").strip()
    return (Path(configured) if configured else Path(fallback).expanduser()) / _APP


def user_cache_dir() -> Path:
    """~/.cache/paytoken on Linux ($XDG_CACHE_HOME), the platform's user cache directory elsewhere."""
    if sys.platform.startswith("linux"):
        return _xdg("XDG_CACHE_HOME", "~/.cache")
    import platformdirs

    return Path(platformdirs.user_cache_dir(_APP))


def user_config_dir() -> Path:
    """~/.config/paytoken on Linux ($XDG_CONFIG_HOME), the platform's user config directory elsewhere."""
    if sys.platform.startswith("linux"):
        return _xdg("XDG_CONFIG_HOME", "~/.config")
    import platformdirs

    return Path(platformdirs.user_config_dir(_APP))
