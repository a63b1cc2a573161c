"""The `sign` core: the token request (or, with --request, a call) built and signed without the network, checked
against a signature the user has (`--compare`) or a request their application sent (`--replay`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from .errors import SignatureMismatch, UsageError

if TYPE_CHECKING:
    from .capture import Captured
    from .forensics import Comparison, Replay
    from .gateways.base import Call, CallReplay, Provider, SignedRequest
    from .profiles import Profile

__all__ = ["Inspection", "compare_call", "inspect_request", "mismatch", "read_capture", "replay_call"]


class _Judged(Protocol):
    """A capture `sign --replay` judged: a token request's (Replay) or, with --request, a call's (CallReplay)."""

    @property
    def signature(self) -> str | None: ...

    @property
    def problems(self) -> tuple[str, ...]: ...


_Captured = TypeVar("_Captured", bound=_Judged)


@dataclass(frozen=True)
class Inspection(Generic[_Captured]):
    """What `sign` (or `sign --request`) found: the request as paytoken signs it, and the verdicts on what the
    user brought."""

    request: SignedRequest
    comparison: Comparison | None
    replay: _Captured | None

    @property
    def problems(self) -> tuple[str, ...]:
        """What the gateway will object to in a replayed capture, beyond its signature."""
        replay = self.replay
        if replay is None:
            return ()
        missing = ("the capture carries no signature",) if replay.signature is None else ()
        return (*replay.problems, *missing)


def inspect_request(
    provider: Provider,
    profile: Profile,
    *,
    timestamp: str | None,
    nonce: str | None,
    compare: str | None,
    replay: Path | None,
) -> Inspection[Replay]:
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


def compare_call(
    provider: Provider,
    profile: Profile,
    request: SignedRequest,
    call: Call,
    signature: str,
    *,
    timestamp: str | None,
    call_id_given: bool,
    tokens: Iterable[str] = (),
    now: datetime | None = None,
) -> Comparison:
    """Compare SIGNATURE with the signed call; if it differs, search the call mistakes (SPEC 6.4) for it.

    timestamp: the one the user gave (None: search the last minutes); call_id_given: whether call.call_id is
    the user's (a recipe that signs it can only be searched then); tokens: other access tokens worth trying.
    """
    from .clock import utc_now
    from .forensics import SearchContext
    from .gateways import forensics_for

    context = SearchContext.around(
        now or utc_now(),
        timestamp=timestamp,
        signed_at=request.signed_at,
        nonce=call.call_id if call_id_given else None,
        tokens=[token for token in tokens if token and token != call.token],
    )
    return forensics_for(provider).compare_call(profile, request, call, signature, context)


def replay_call(
    provider: Provider,
    profile: Profile,
    capture: Path,
    *,
    token: Callable[[], str | None],
    tokens: Iterable[str] = (),
) -> Inspection[CallReplay]:
    """Sign a captured call again from its own inputs and judge the signature it carried.

    token: where the access token comes from when the capture does not carry it (--token, else the cache).
    """
    from .clock import utc_now
    from .gateways import forensics_for

    now = utc_now()
    found = forensics_for(provider).read_call_capture(profile, read_capture(capture), now)
    call = found.call
    if call.token is None and provider.call_needs_token:
        call = replace(call, token=token())
    if call.call_id is None:
        call = replace(call, call_id=provider.new_call_id())
    request = provider.build_call(profile, call, found.timestamp if found.timestamp is not None else now)
    comparison = None
    if found.signature is not None:
        comparison = compare_call(
            provider,
            profile,
            request,
            call,
            found.signature,
            timestamp=found.timestamp,
            call_id_given=found.call_id_captured,
            tokens=tokens,
            now=now,
        )
    return Inspection(request, comparison, found)


def mismatch(
    inspection: Inspection[Replay] | Inspection[CallReplay], *, findings_shown: bool
) -> SignatureMismatch | None:
    """The failure `sign` ends with, if the signature or the capture is wrong; findings_shown: on stdout already."""
    comparison, problems = inspection.comparison, inspection.problems
    if comparison is not None and not comparison.matches:
        return SignatureMismatch(
            "the captured signature is wrong"
            if inspection.replay
            else "the given signature differs from the one paytoken computes",
            details=problems if findings_shown else (*problems, *comparison.findings),
            # Shown, the findings end with their fix (`fix:`, json's "fix"): said once, not again as the hint.
            hint=None if findings_shown else comparison.hint,
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
