"""Where `paytoken sandbox` gets its clients and its TLS certificate from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, UsageError
from .config import SandboxConfig, from_profiles, load_config

if TYPE_CHECKING:
    import ssl

__all__ = ["discover_config", "read_clients", "require_clients", "tls_context"]


def discover_config(config: Path | None, profiles_file: Path | None) -> tuple[Path, bool]:
    """Where the clients come from: --config, else ./sandbox.toml, else the profiles file (True: profiles)."""
    if config is not None:
        return config, False
    if Path("sandbox.toml").is_file():
        return Path("sandbox.toml"), False
    from ..profiles import find_profiles_file, read_dotenv_file

    read_dotenv_file()
    try:
        return find_profiles_file(profiles_file), True
    except ConfigError as error:
        raise ConfigError(
            "the sandbox has no clients: no --config, no ./sandbox.toml and no profiles file",
            details=error.details,
            hint="give it --config sandbox.toml ([PROVIDER] tables with client_id and public_key_file), "
            "or run it where your profiles.toml is",
        ) from None


def read_clients(path: Path, from_profiles_file: bool, notes: list[str]) -> SandboxConfig:
    """The clients in a sandbox config, or in a profiles file (its notes into notes)."""
    return from_profiles(path, warn=notes) if from_profiles_file else load_config(path)


def require_clients(settings: SandboxConfig) -> None:
    """Refuse to start a sandbox that would reject every request."""
    if not any(settings.clients.values()):
        raise ConfigError(
            f"the sandbox has no clients to accept (from {settings.source})",
            hint="give it --config sandbox.toml with [PROVIDER] client_id and public_key_file, "
            "or run it where your profiles.toml is",
        )


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """A server TLS context from a PEM certificate and its key; None when neither is given."""
    if cert is None and key is None:
        return None
    if cert is None:
        raise UsageError("--tls-key needs --tls-cert", hint="give both, or neither")
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(
            f"cannot load the TLS certificate {cert}: {error}", hint="give a PEM certificate and its private key"
        ) from None
    return context
