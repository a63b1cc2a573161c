"""Where `paytoken sandbox` gets its clients and its TLS certificate from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, UsageError
from .config import SandboxConfig, from_profiles, load_config

if TYPE_CHECKING:
    import ssl

__all__ = ["discover_config", "require_clients", "tls_context"]


def discover_config(config: Path | None, profiles_file: Path | None, notes: list[str]) -> SandboxConfig:
    """The clients to accept: --config, else ./sandbox.toml, else the profiles file (its notes into notes)."""
    if config is not None:
        settings = load_config(config)
    elif Path("sandbox.toml").is_file():
        settings = load_config(Path("sandbox.toml"))
    else:
        from ..profiles import find_profiles_file, read_dotenv_file

        read_dotenv_file()
        try:
            source = find_profiles_file(profiles_file)
        except ConfigError as error:
            raise ConfigError(
                "the sandbox has no clients: no --config, no ./sandbox.toml and no profiles file",
                details=error.details,
                hint="give it --config sandbox.toml ([PROVIDER] tables with client_id and public_key_file), "
                "or run it where your profiles.toml is",
            ) from None
        settings = from_profiles(source, warn=notes)
    return settings


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
