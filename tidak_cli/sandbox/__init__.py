"""The local gateway emulator (SPEC section 4): the default target of the tests and of `paytoken demo`."""

from __future__ import annotations

from .config import Client, Fault, SandboxConfig, from_profiles, load_config
from .server import Sandbox

__all__ = ["Client", "Fault", "Sandbox", "SandboxConfig", "from_profiles", "load_config"]
