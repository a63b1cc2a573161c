"""The `verify` core: is a notification the gateway sent authentic, and if not, which mistake explains it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .errors import UsageError

if TYPE_CHECKING:
    from .gateways.base import Provider
    from .gateways.notification import Verdict
    from .inbound import Inbound
    from .profiles import Profile

__all__ = ["read_capture_source", "received_moment", "verify_capture", "verify_inbound", "verify_parts"]

STDIN = "-"


def read_capture_source(capture: str, stdin: BinaryIO | None = None) -> tuple[bytes, str]:
    """The capture's bytes and how to name it: a file (through the files edge), or `-` for stdin, both capped."""
    from .files import CAPTURE_LIMIT, read_local, read_stdin

    if capture == STDIN:
        hint = "a notification is a few kilobytes: give one captured request"
        data = read_stdin(CAPTURE_LIMIT, "the capture", stdin=stdin, error=UsageError, hint=hint)
        return data, "the capture on standard input"
    data = read_local(
        Path(capture),
        CAPTURE_LIMIT,
        "--capture",
        error=UsageError,
        hint="give a file holding one captured request (raw HTTP, tcpdump -A, a JSON dump or a curl command)",
    )
    return data, capture


def received_moment(text: str | None, now: datetime) -> datetime:
    """The moment the notification arrived: --received-at (ISO 8601 with an offset), else now."""
    from .clock import iso_moment

    if text is None:
        return now
    moment = iso_moment(text.strip())
    if moment is None:
        raise UsageError(
            f"--received-at {text[:40]!r} is not a moment: ISO 8601 with its offset",
            hint="e.g. --received-at 2024-08-19T17:12:45+07:00 (or ...Z for UTC)",
        )
    return moment


def verify_inbound(provider: Provider, profile: Profile, inbound: Inbound, received_at: datetime) -> Verdict:
    """Judge one captured notification with the provider's notification recipe."""
    from .gateways import notification_for

    return notification_for(provider).verify(profile, inbound, received_at)


def verify_capture(
    provider: Provider, profile: Profile, data: bytes, source: str, received_at: datetime
) -> tuple[Inbound, Verdict]:
    """Read a capture in any form `verify` accepts, then judge it."""
    from .gateways import notification_for
    from .inbound import read_inbound

    recipe = notification_for(provider)  # before reading: a provider without one says so first
    inbound = read_inbound(data, source)
    return inbound, recipe.verify(profile, inbound, received_at)


def verify_parts(
    provider: Provider,
    profile: Profile,
    method: str,
    path: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | str,
    received_at: datetime,
) -> Verdict:
    """Judge a notification given as its parts, as a web framework hands them to a handler."""
    from .inbound import Inbound

    pairs = headers.items() if isinstance(headers, Mapping) else headers
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    inbound = Inbound(method.upper(), path or "/", tuple((str(k), str(v)) for k, v in pairs), raw, "library call")
    return verify_inbound(provider, profile, inbound, received_at)
