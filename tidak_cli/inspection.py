"""The `sign` core: the token request built and signed without the network, checked against a signature the
user has (`--compare`) or a request their application sent (`--replay`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SignatureMismatch, UsageError

if TYPE_CHECKING:
    from .capture import Captured
    from .forensics import Comparison, Replay
    from .gateways.base import Provider, SignedRequest
    from .profiles import Profile

__all__ = ["Inspection", "inspect_request", "mismatch", "read_capture"]


@dataclass(frozen=True)
class Inspection:
    """What `sign` found: the request as paytoken signs it, and the verdicts on what the user brought."""

    request: SignedRequest
    comparison: Comparison | None
    replay: Replay | None

    @property
    def problems(self) -> tuple[str, ...]:
        """What the gateway will object to in a replayed capture, beyond its signature."""
        if self.replay is None:
            return ()
        missing = ("the capture carries no signature",) if self.replay.signature is None else ()
        return (*self.replay.problems, *missing)


def inspect_request(
    provider: Provider,
    profile: Profile,
    *,
    timestamp: str | None,
    nonce: str | None,
    compare: str | None,
    replay: Path | None,
) -> Inspection:
    """Sign the token request; compare SIGNATURE with it, or re-sign and judge a captured request."""
    from . import tokens
    from .clock import utc_now
    from .forensics import SearchContext
    from .gateways import forensics_for

    now = utc_now()
    found = None
    body = None
    if replay is not None:
        if compare is not None or timestamp is not None or nonce is not None:
            raise UsageError(
                "--replay takes the signature, timestamp and request id from the capture",
                hint="leave out --compare, --timestamp and the request id option",
            )
        found = forensics_for(provider).read_capture(profile, read_capture(replay), now)
        timestamp, nonce, compare, body = found.timestamp, found.nonce, found.signature, found.body
    request = tokens.build(provider, profile, timestamp=timestamp, nonce=nonce, body=body)
    comparison = None
    if compare is not None:
        context = SearchContext.around(now, timestamp=timestamp, signed_at=request.signed_at, nonce=nonce, body=body)
        comparison = forensics_for(provider).compare(profile, request, compare, context)
    return Inspection(request, comparison, found)


def mismatch(inspection: Inspection, *, findings_shown: bool) -> SignatureMismatch | None:
    """The failure `sign` ends with, if the signature or the capture is wrong; findings_shown: on stdout already."""
    comparison, problems = inspection.comparison, inspection.problems
    if comparison is not None and not comparison.matches:
        return SignatureMismatch(
            "the captured signature is wrong"
            if inspection.replay
            else "the given signature differs from the one paytoken computes",
            details=problems if findings_shown else (*problems, *comparison.findings),
            hint=comparison.hint,
        )
    if problems:
        return SignatureMismatch(
            "the gateway will refuse the captured request", details=problems, hint="fix the headers named above"
        )
    return None


def read_capture(path: Path) -> Captured:
    """Read a --replay capture file."""
    from .capture import parse_capture
    from .files import CAPTURE_LIMIT, read_local

    data = read_local(
        path,
        CAPTURE_LIMIT,
        "--replay",
        error=UsageError,
        hint="give a file holding one captured request (raw HTTP or a curl command)",
    )
    return parse_capture(data, source=str(path))
