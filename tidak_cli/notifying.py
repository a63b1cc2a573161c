"""The `notify` core: a notification signed as the gateway would, sent once to the merchant's receiver.

The RSA-signing gateways sign with the sandbox's own gateway key pair, made once in the user config directory
(private key 0600), so a receiver under test can be pointed at its public key. A notification is not
idempotent on the receiver's side (it may book the payment): it is sent once, and tried again only when it
certainly never left (connection refused, DNS).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigError, GatewayError, NetworkError, RejectedError, UsageError

if TYPE_CHECKING:
    from .gateways.base import Provider
    from .gateways.notification import GatewayKey, SignedNotification
    from .profiles import Profile
    from .transport import Response, Transport

__all__ = [
    "Delivery",
    "failure",
    "gateway_key",
    "gateway_key_directory",
    "notification_body",
    "send_notification",
]


def gateway_key_directory() -> Path:
    """Where the sandbox keeps its own gateway key pair: the user config directory."""
    from .userdirs import user_config_dir

    return user_config_dir() / "sandbox-gateway"


def gateway_key(directory: Path | None = None) -> GatewayKey:
    """The sandbox's gateway key pair, made on first use (private.pem 0600 in a 0700 directory)."""
    from .files import CONFIG_LIMIT, read_local
    from .gateways.notification import GatewayKey
    from .keys import generate, load_private_key, write_key_pair

    directory = directory or gateway_key_directory()
    private_path = directory / "private.pem"
    if not private_path.exists():
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_key_pair(generate(2048), directory)
        except ConfigError:
            if not private_path.exists():  # another paytoken made it at the same moment: use theirs
                raise
    data = read_local(private_path, CONFIG_LIMIT, "the sandbox's gateway key", follow_links=False)
    key = load_private_key(data, passphrase=None, source=f"the sandbox's gateway key {private_path}")
    return GatewayKey(key, str(directory / "public.pem"))


def notification_body(data: str | None, raw_body: bool) -> bytes | None:
    """--data as the bytes to send, read as `call` reads its body: JSON written once compactly, its numbers as
    written (an amount of 10000.00 stays 10000.00), or the bytes as given with --raw-body."""
    from .calling import read_body

    return read_body(data, raw_body)


def _target(to: str, path: str | None, default_path: str) -> tuple[str, str]:
    """The URL to send to and the path to sign: --to as given; --path replaces its path; none: the sample's."""
    try:
        parts = urlsplit(to)
    except ValueError as error:
        raise UsageError(f"--to {to[:80]!r} is not a URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--to {to[:80]!r} is not an http:// or https:// URL",
            hint="give the receiver's URL, e.g. --to http://127.0.0.1:8000/notify",
        )
    if path is not None:
        if not path.startswith("/"):
            raise UsageError(f"--path {path[:80]!r} must start with /", hint=f"write it /{path.lstrip('/')}")
        signed = path
    elif parts.path not in ("", "/"):
        signed = parts.path + (f"?{parts.query}" if parts.query else "")
    else:
        signed = default_path
    path_only, _, query = signed.partition("?")
    return urlunsplit((parts.scheme, parts.netloc, path_only, query, "")), signed


@dataclass(frozen=True)
class Delivery:
    """What `notify` sent and what the receiver answered, judged."""

    url: str
    notification: SignedNotification
    response: Response
    success: bool
    said: str
    # The public half of the sandbox's gateway key when the notification was signed with it, else None.
    key_path: str | None = None


def send_notification(
    provider: Provider,
    profile: Profile,
    *,
    to: str,
    body: bytes | None,
    path: str | None,
    symmetric: bool,
    token: str | None,
    now: datetime,
    transport: Transport,
    key_directory: Path | None = None,
) -> Delivery:
    """Sign a notification as the gateway would and send it once to `to`; judge the receiver's answer."""
    from .gateways import notification_for
    from .gateways.base import SignedRequest

    recipe = notification_for(provider)
    if symmetric and not recipe.symmetric_too:
        raise UsageError(
            f"--symmetric is not for {provider.name}: its notifications are signed one way only",
            hint="leave it out (doku-snap's may be HMAC-SHA512 with client_secret)",
        )
    nonce = str(uuid.uuid4())
    sample_path, sample_body = recipe.sample(profile, now, nonce)
    url, signed_path = _target(to, path, sample_path)
    used: list[GatewayKey] = []  # whether the recipe signed with the gateway key, as the answer will say

    def key() -> GatewayKey:
        used.append(gateway_key(key_directory))
        return used[-1]

    notification = recipe.sign(
        profile,
        key,
        signed_path,
        sample_body if body is None else body,
        now,
        nonce,
        symmetric=symmetric,
        token=token,
    )
    request = SignedRequest(
        provider=provider.name,
        method=notification.method,
        url=url,
        headers=notification.headers,
        body=notification.body,
        string_to_sign=notification.string_to_sign,
        signature=notification.signature,
        algorithm=recipe.describe,
    )
    try:
        response = transport.send(request, timeout=profile.timeout, verify=profile.tls_verify, idempotent=False)
    except NetworkError as error:
        from .transport import never_arrived

        # Refused or unresolvable: it never left (the transport tried again, as it may). Anything later: the
        # receiver may have taken it, and it is not sent twice.
        arrived = "it never arrived" if never_arrived(error) else "it may have arrived, and was not sent again"
        raise NetworkError(
            f"the notification did not get an answer from the receiver: {error.message}",
            hint=f"{arrived}; start the receiver, check --to, then run notify again",
            quoted=error.quoted,
        ) from None
    success, said = recipe.answered(response.status, response.body)
    return Delivery(url, notification, response, success, said, used[0].public_path if used else None)


def failure(delivery: Delivery) -> Exception | None:
    """The error `notify` ends with when the receiver did not accept the notification, else None."""
    status = delivery.response.status
    if delivery.success:
        return None
    if status >= 500:
        return GatewayError(
            f"the receiver failed: {delivery.said}",
            quoted=[delivery.said],
            hint="its log says why; the notification was sent once and not again",
        )
    return RejectedError(
        f"the receiver did not accept the notification: {delivery.said}",
        status=status,
        hint="a receiver that verifies the signature must be configured with the key this notification was "
        "signed with (`paytoken sandbox` prints the sandbox's public key path)",
    )
