"""What the sandbox accepts: per provider, the clients (client id plus public key or shared secrets)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError
from ..files import CONFIG_LIMIT, read_local
from ..gateways import PROVIDERS, emulator_for
from ..gateways.emulation import DEFAULT_TOKEN_TTL, Client, Fault, SandboxConfig

__all__ = ["DEFAULT_TOKEN_TTL", "Client", "Fault", "SandboxConfig", "from_profiles", "load_config"]


def load_config(path: Path) -> SandboxConfig:
    """Read a sandbox TOML file: `[provider]` (or `[[provider]]` for several clients) and `[faults.provider]`."""
    data = read_local(path, CONFIG_LIMIT, "sandbox config", hint="give --config a TOML file")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"sandbox config {path} is not valid TOML", details=[str(error)]) from None
    clients: dict[str, list[Client]] = {}
    faults: dict[str, Fault] = {}
    token_ttl = document.pop("token_ttl", DEFAULT_TOKEN_TTL)
    if isinstance(token_ttl, bool) or not isinstance(token_ttl, int) or token_ttl < 1:
        raise ConfigError(f"token_ttl in {path} must be a positive number of seconds")
    clock_offset = document.pop("clock_offset", 0)
    if isinstance(clock_offset, bool) or not isinstance(clock_offset, int | float):
        raise ConfigError(f"clock_offset in {path} must be a number of seconds")
    for name, value in document.items():
        if name == "faults" and isinstance(value, dict):
            for provider, switches in value.items():
                _known(provider, path)
                if not isinstance(switches, dict):
                    raise ConfigError(f"[faults.{provider}] in {path} must be a table")
                faults[provider] = Fault.from_mapping(switches, f"[faults.{provider}] of {path}")
            continue
        _known(name, path)
        tables = value if isinstance(value, list) else [value]
        for index, table in enumerate(tables):
            if not isinstance(table, dict):
                raise ConfigError(f"[{name}] in {path} must be a table")
            clients.setdefault(name, []).append(_client(name, table, path, index))
    return SandboxConfig(clients, faults, token_ttl, str(path), float(clock_offset))


def _known(name: str, path: Path) -> None:
    if name not in PROVIDERS:
        raise ConfigError(
            f"unknown provider {name!r} in sandbox config {path}",
            hint=f"known providers: {', '.join(PROVIDERS)}",
        )


def _client(provider: str, table: Mapping[str, object], path: Path, index: int) -> Client:
    from ..keys import load_public_key

    gateway = emulator_for(PROVIDERS[provider])
    identity_key = PROVIDERS[provider].identity_key
    where = f"[{provider}] #{index + 1} of {path}"
    # Each gateway knows its partners by its own name for them; client_id is accepted everywhere.
    identity = table.get(identity_key, table.get("client_id"))
    if not isinstance(identity, str) or not identity:
        raise ConfigError(f"{identity_key} is not set in {where}")
    public_key = None
    inline, file = table.get("public_key"), table.get("public_key_file")
    if isinstance(inline, str):
        public_key = load_public_key(inline.encode(), source=f"public_key in {where}")
    elif isinstance(file, str):
        key_path = Path(file).expanduser()
        key_path = key_path if key_path.is_absolute() else path.parent / key_path
        data = read_local(key_path, CONFIG_LIMIT, "public_key_file", where=where, hint="point it at a PEM public key")
        public_key = load_public_key(data, source=f"public_key_file {key_path}")
    named = {"client_id", identity_key, "public_key", "public_key_file", "token_path"}
    secrets = {key: value for key, value in table.items() if key not in named and isinstance(value, str)}
    token_path = table.get("token_path")
    if token_path is not None and (not isinstance(token_path, str) or not token_path.startswith("/")):
        raise ConfigError(f"token_path in {where} must be a path starting with /")
    client = Client(identity, public_key, secrets, where, token_path)
    gateway.check_client(client, where)
    return client


def from_profiles(path: Path, *, warn: list[str] | None = None) -> SandboxConfig:
    """Accept the partners a profiles file describes, as if each had onboarded with the gateway.

    SNAP profiles contribute their client id and public key (public_key_file, else the public half of
    the private key: the sandbox is local, and the key never leaves the machine); the others their
    shared secrets, which the real gateway holds too.
    """
    from ..profiles import profile_names, read_profiles_file, resolve_profile

    document, _ = read_profiles_file(path)
    clients: dict[str, list[Client]] = {}
    for provider_name, profile_name in profile_names(document):
        provider = PROVIDERS.get(provider_name)
        if provider is None:
            continue
        table = document[provider_name][profile_name]  # type: ignore[index]
        try:
            client = emulator_for(provider).client_from(resolve_profile(provider, profile_name, table, path=path))
        except ConfigError as error:
            if warn is not None:
                warn.append(f"[{provider_name}.{profile_name}] skipped: {error.message}")
            continue
        known = clients.setdefault(provider_name, [])
        first = next((other for other in known if other.client_id == client.client_id), None)
        if first is not None:
            # A gateway holds one set of credentials per client id: the first profile registers it.
            if warn is not None:
                warn.append(
                    f"[{provider_name}.{profile_name}] skipped: client {client.client_id} is already "
                    f"registered by {first.source}"
                )
            continue
        known.append(client)
    return SandboxConfig(clients, source=f"profiles in {path}")
