"""What the sandbox accepts: per provider, the clients (client id plus public key or shared secrets)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..files import CONFIG_LIMIT, read_local
from ..providers import PROVIDERS

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

__all__ = ["DEFAULT_TOKEN_TTL", "Client", "Fault", "SandboxConfig", "from_profiles", "load_config"]

DEFAULT_TOKEN_TTL = 900


@dataclass(frozen=True)
class Client:
    """One partner the sandbox knows, as the real gateway would after onboarding."""

    client_id: str
    public_key: RSAPublicKey | None = field(default=None, repr=False)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    source: str = ""
    # A token path of the client's own (a SNAP bank's), served besides the provider's default.
    token_path: str | None = None


@dataclass(frozen=True)
class Fault:
    """A misbehaviour switched on for one provider's path, optionally for the next `times` requests only."""

    delay: float = 0.0  # seconds before answering
    status: int | None = None  # answer this status, in the gateway's error shape
    html: bool = False  # an HTML page instead of JSON
    drop: bool = False  # close the connection without answering
    times: int | None = None  # only the next N requests
    retry_after: float | None = None  # a Retry-After header on the status answer
    truncate: bool = False  # the normal answer cut in half
    oversize: bool = False  # an answer of 2 MiB
    trickle: float = 0.0  # seconds between the bytes of the answer's body
    trickle_headers: float = 0.0  # seconds between the bytes of its status line and headers

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], where: str) -> Fault:
        switches = {switch.name for switch in fields(cls)}
        unknown = set(data) - switches - {"provider"}
        if unknown:
            raise ConfigError(
                f"unknown fault switch {sorted(unknown)[0]!r} in {where}",
                hint=f"fault switches: {', '.join(sorted(switches))}",
            )
        delay, status, times = data.get("delay", 0.0), data.get("status"), data.get("times")
        retry_after, trickle = data.get("retry_after"), data.get("trickle", 0.0)
        trickle_headers = data.get("trickle_headers", 0.0)
        seconds = {"delay": delay, "retry_after": retry_after, "trickle": trickle, "trickle_headers": trickle_headers}
        for name, value in seconds.items():
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600
            ):
                raise ConfigError(f"{name} in {where} must be a number of seconds up to 3600")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
            raise ConfigError(f"status in {where} must be an HTTP status code such as 503")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise ConfigError(f"times in {where} must be a positive whole number")
        flags = {name: bool(data.get(name, False)) for name in ("html", "drop", "truncate", "oversize")}
        return cls(
            delay=float(delay),  # type: ignore[arg-type]
            status=status,
            times=times,
            retry_after=None if retry_after is None else float(retry_after),  # type: ignore[arg-type]
            trickle=float(trickle),  # type: ignore[arg-type]
            trickle_headers=float(trickle_headers),  # type: ignore[arg-type]
            **flags,
        )


@dataclass(frozen=True)
class SandboxConfig:
    clients: Mapping[str, Sequence[Client]]
    faults: Mapping[str, Fault] = field(default_factory=dict)
    token_ttl: int = DEFAULT_TOKEN_TTL
    source: str = ""
    # Seconds the gateway's clock is off from the machine's (a fault switch for clock-skew tests).
    clock_offset: float = 0.0

    def client(self, provider: str, client_id: str) -> Client | None:
        return next((client for client in self.clients.get(provider, ()) if client.client_id == client_id), None)


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
    from .gateways import gateway_for

    gateway = gateway_for(PROVIDERS[provider])
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
    from .gateways import gateway_for

    document, _ = read_profiles_file(path)
    clients: dict[str, list[Client]] = {}
    for provider_name, profile_name in profile_names(document):
        provider = PROVIDERS.get(provider_name)
        if provider is None:
            continue
        table = document[provider_name][profile_name]  # type: ignore[index]
        try:
            client = gateway_for(provider).client_from(resolve_profile(provider, profile_name, table, path=path))
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
