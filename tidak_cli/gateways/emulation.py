"""What an emulator needs: the request received, the reply, the partners the sandbox knows, shared checks.

An emulator (each family's `emulator.py`) is the gateway's side of its recipe: it verifies a token request
exactly as the gateway does and answers in its shape. It reads the provider's public facts (path, accepted
timestamp forms) and uses the recipe's primitives (pinned by the spec's vectors and by openssl in the
tests), but never calls a provider's `build`: the request is checked from the bytes received, as the
gateway checks it. The sandbox server (tidak_cli.sandbox) runs them; nothing here imports it.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Protocol

from ..clock import SIGNATURE_WINDOW
from ..errors import ConfigError
from .base import parse_json_object

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from ..profiles import Profile
    from .base import Provider

__all__ = [
    "DEFAULT_TOKEN_TTL",
    "Client",
    "Fault",
    "Gateway",
    "Incoming",
    "Issued",
    "Ledger",
    "Reply",
    "SandboxConfig",
    "SharedSecrets",
    "echoed",
    "expiry",
    "new_token",
    "require_secrets",
    "secrets_client",
    "within_skew",
]

# The lifetime of the tokens the sandbox issues, unless its config says otherwise.
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


@dataclass(frozen=True)
class Incoming:
    """A request as the sandbox received it; header names lowercased."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    issued: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    # A token this answer issues, and to which client: the sandbox's ledger remembers it for the calls.
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    # When that token expires, if the gateway says (DOKU's valid_time); else the sandbox's token_ttl.
    expires_at: datetime | None = None
    # A call the gateway accepted (counted apart from tokens issued).
    accepted: bool = False
    trickle: float = 0.0  # seconds between the body's bytes, for the trickle fault
    trickle_headers: float = 0.0  # seconds between the bytes of the status line and headers

    @classmethod
    def json(
        cls,
        status: int,
        value: object,
        *,
        issued: bool = False,
        token: str | None = None,
        client_id: str | None = None,
        expires_at: datetime | None = None,
        accepted: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        return cls(
            status,
            json.dumps(value).encode(),
            issued=issued,
            headers=headers or {},
            token=token,
            client_id=client_id,
            expires_at=expires_at,
            accepted=accepted,
        )


@dataclass(frozen=True)
class Issued:
    """A token the sandbox issued: to whom, by which provider, until when."""

    provider: str
    client_id: str
    expires_at: datetime


class Ledger:
    """What a gateway remembers between requests: the tokens it issued and the call ids it has seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, Issued] = {}
        self._call_ids: set[tuple[str, str, str, str]] = set()

    def issue(self, token: str, provider: str, client_id: str, expires_at: datetime) -> None:
        with self._lock:
            self._tokens[token] = Issued(provider, client_id, expires_at)

    def holder(self, token: str, now: datetime) -> Issued | None:
        """Who token was issued to, while it is unexpired; None for a token this sandbox never issued."""
        with self._lock:
            issued = self._tokens.get(token)
        return issued if issued is not None and now < issued.expires_at else None

    def record(self, token: str) -> Issued | None:
        """Who token was issued to and until when, expired or not; None for a token this sandbox never issued."""
        with self._lock:
            return self._tokens.get(token)

    def issued_to(self, provider: str, client_id: str) -> list[tuple[str, Issued]]:
        """Every token provider issued to client_id, newest first, expired ones included.

        For a gateway whose calls carry the token only inside a signature (Faspay SendMe): it tries each.
        """
        with self._lock:
            found = [
                (token, issued)
                for token, issued in self._tokens.items()
                if issued.provider == provider and issued.client_id == client_id
            ]
        return found[::-1]

    def expire_all(self) -> int:
        """End the life of every token issued so far (the control behind tests of the refresh-once rule)."""
        past = datetime.fromtimestamp(0, UTC)
        with self._lock:
            for token, issued in self._tokens.items():
                self._tokens[token] = Issued(issued.provider, issued.client_id, past)
            return len(self._tokens)

    def first_use(self, provider: str, client_id: str, call_id: str, now: datetime) -> bool:
        """Record call_id for today; False when the client used it already today (a duplicate)."""
        key = (provider, client_id, now.date().isoformat(), call_id)
        with self._lock:
            if key in self._call_ids:
                return False
            self._call_ids.add(key)
            return True

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._call_ids.clear()


def expiry(now: datetime, ttl: int) -> datetime:
    return now + timedelta(seconds=ttl)


class Gateway(Protocol):
    """One gateway's token endpoint as the gateway runs it."""

    @property
    def provider(self) -> Provider: ...

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply:
        """Verify request as the gateway would and answer in its shape."""
        ...

    def failure(self, status: int) -> Reply:
        """The gateway's own shape for a server-side failure (the 5xx fault)."""
        ...

    def client_from(self, profile: Profile) -> Client:
        """Register the partner a profile describes, as onboarding with the gateway would."""
        ...

    def check_client(self, client: Client, where: str) -> None:
        """Refuse a sandbox config entry that lacks what this gateway verifies with."""
        ...

    def handle_call(self, request: Incoming, config: SandboxConfig, now: datetime, ledger: Ledger) -> Reply | None:
        """Verify a call after the token as the gateway would and answer in its shape (SPEC 6.5); None when
        request is not one of this gateway's calls."""
        ...

    def claims(self, request: Incoming, config: SandboxConfig) -> bool:
        """Whether a token request at a path several gateways share is this one's (SNAP banks: by X-CLIENT-KEY)."""
        ...


def echoed(request: Incoming) -> dict[str, object]:
    """The call as the gateway read it, for a success answer: method, path, and the body (as JSON when it is)."""
    body = parse_json_object(request.body) if request.body else None
    return {
        "method": request.method,
        "path": request.path,
        "body": body if body is not None else request.body.decode("utf-8", "replace"),
    }


def new_token() -> str:
    return secrets.token_urlsafe(32)


def within_skew(moment: datetime, now: datetime) -> bool:
    return abs(now - moment) <= SIGNATURE_WINDOW


def secrets_client(profile: Profile, identity_key: str, secret_keys: tuple[str, ...]) -> Client:
    """A partner known by shared secrets: the gateway holds the same values as the profile."""
    values = {key: profile.require_text(key) for key in secret_keys}
    return Client(profile.require_text(identity_key), None, values, profile.where)


def require_secrets(client: Client, keys: tuple[str, ...], where: str) -> None:
    missing = [key for key in keys if not client.secrets.get(key)]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(missing)}", hint="the sandbox verifies with the same secrets")


class SharedSecrets:
    """client_from and check_client for a gateway that knows its partners by shared secrets (secret_keys)."""

    secret_keys: ClassVar[tuple[str, ...]]
    provider: Provider

    def client_from(self, profile: Profile) -> Client:
        return secrets_client(profile, self.provider.identity_key, self.secret_keys)

    def check_client(self, client: Client, where: str) -> None:
        require_secrets(client, self.secret_keys, where)

    def claims(self, request: Incoming, config: SandboxConfig) -> bool:
        # Its token path is its own: any token request there is for it.
        return True
