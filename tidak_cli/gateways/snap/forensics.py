"""The mistake search for SNAP B2B: the strings a client may have signed instead of `client_id|X-TIMESTAMP`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...capture import Captured
from ...clock import iso_moment
from ...forensics import (
    Candidate,
    CaptureCheck,
    Comparison,
    Mistake,
    Replay,
    SearchContext,
    describe_offset,
    rsa_search,
)
from ...profiles import Profile
from ...signing import jakarta_iso, utc_z
from ..base import SignedRequest
from .recipe import SnapProvider, timestamp_matches

__all__ = ["SnapForensics"]

SNAP_UTC_Z = Mistake(
    "snap.utc-z",
    "X-TIMESTAMP in UTC with a Z (2024-12-31T03:11:40Z) instead of Jakarta time with +07:00",
    "send Jakarta time with its offset: 2024-12-31T10:11:40+07:00",
)
SNAP_LOCAL_LITERAL = Mistake(
    "snap.local-time-literal-offset",
    "X-TIMESTAMP was this machine's local time ({zone}) with a literal +07:00 appended, {off} Jakarta time "
    "(the official NICEPAY SDK's bug on a server not set to Jakarta)",
    "compute X-TIMESTAMP from an aware clock in Asia/Jakarta, e.g. "
    "datetime.now(ZoneInfo('Asia/Jakarta')).isoformat(timespec='seconds'); never append +07:00 to local time",
)
SNAP_MILLIS = Mistake(
    "snap.milliseconds",
    "X-TIMESTAMP with milliseconds (2024-12-31T10:11:40.123+07:00)",
    "send the timestamp to the second, unless your bank asks for milliseconds (snap: timestamp_format)",
)
SNAP_TO_ISO_STRING = Mistake(
    "snap.utc-milliseconds-z",
    "X-TIMESTAMP as JavaScript's new Date().toISOString() writes it: UTC with milliseconds and a Z "
    "(2024-12-31T03:11:40.123Z), the usual Postman pre-request script slip",
    "send Jakarta time to the second with its offset: 2024-12-31T10:11:40+07:00 (in JavaScript, format the "
    "Asia/Jakarta wall time yourself; toISOString() is UTC)",
)
# The thousand endings of a second: .000 to .999, before the zone.
_MILLISECONDS = tuple(f".{millisecond:03d}" for millisecond in range(1000))
_JAKARTA_MILLIS = tuple(f"{fraction}+07:00" for fraction in _MILLISECONDS)
_UTC_MILLIS = tuple(f"{fraction}Z" for fraction in _MILLISECONDS)
SNAP_NO_OFFSET = Mistake(
    "snap.no-offset",
    "X-TIMESTAMP without its +07:00 offset in the string to sign",
    "sign the X-TIMESTAMP header value exactly, offset included",
)
SNAP_SEPARATOR = Mistake(
    "snap.separator",
    "client id and timestamp joined with another separator than |",
    'join them as client_id + "|" + X-TIMESTAMP',
)
SNAP_REVERSED = Mistake(
    "snap.reversed",
    "timestamp first, then client id",
    'sign client_id + "|" + X-TIMESTAMP, in that order',
)
SNAP_WHITESPACE = Mistake(
    "snap.client-id-whitespace",
    "the client id with spaces or a line break around it",
    "trim the client id (check the value your config or environment variable really holds)",
)


@dataclass(frozen=True)
class SnapForensics:
    """What SNAP B2B will object to in a captured request, and which known mistake reproduces a signature."""

    provider: SnapProvider

    def compare(self, profile: Profile, request: SignedRequest, signature: str, context: SearchContext) -> Comparison:
        from ...signing import rsa_signed_digest

        public_key = self.provider.private_key(profile).public_key()
        client_id = profile.require_text("client_id")
        return rsa_search(
            signature,
            request.signature,
            request.string_to_sign,
            lambda raw: rsa_signed_digest(public_key, raw),
            self.candidates(client_id, context),
            context,
        )

    def read_capture(self, profile: Profile, captured: Captured, now: datetime) -> Replay:
        check = CaptureCheck(captured)
        check.require("X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE")
        check.json_content()
        check.path(self.provider.path(profile))
        check.same("X-CLIENT-KEY", captured.header("X-CLIENT-KEY"), profile.require_text("client_id"))
        stamp = captured.header("X-TIMESTAMP")
        forms = (
            (self.provider.timestamp_format(profile),)
            if self.provider.configurable
            else self.provider.accepted_timestamps
        )
        well_formed = stamp is not None and any(timestamp_matches(form, stamp) for form in forms)
        examples = {
            "jakarta": "2024-12-31T10:11:40+07:00",
            "utc": "2024-12-31T03:11:40Z",
            "jakarta-millis": "2024-12-31T10:11:40.123+07:00",
        }
        expected = " or ".join(examples[form] for form in forms)
        check.timestamp("X-TIMESTAMP", stamp, well_formed, expected, iso_moment(stamp or ""), now)
        return check.done(timestamp=stamp, nonce=None, signature=captured.header("X-SIGNATURE"), body=captured.body)

    def candidates(self, client_id: str, context: SearchContext) -> Iterator[Candidate]:
        """Every string a client may have signed: the right one at each moment, then the known mistakes."""
        if context.timestamp is not None:
            yield Candidate(
                None, f"{client_id}|{context.timestamp}", note=f"X-TIMESTAMP {context.timestamp}", exact=True
            )
        for moment in context.moments:
            stamp = jakarta_iso(moment)
            yield Candidate(None, f"{client_id}|{stamp}", note=f"X-TIMESTAMP {stamp}")
        for moment in context.moments:
            yield from self._mistakes_at(client_id, moment, context)
        # Milliseconds multiply the search by a thousand: last, as families that share one hash per second.
        for moment in context.moments:
            second = jakarta_iso(moment)[:19]
            yield Candidate(SNAP_MILLIS, f"{client_id}|{second}", note=f"X-TIMESTAMP {second}", endings=_JAKARTA_MILLIS)
        for moment in context.moments:
            second = utc_z(moment)[:19]
            yield Candidate(
                SNAP_TO_ISO_STRING, f"{client_id}|{second}", note=f"X-TIMESTAMP {second}", endings=_UTC_MILLIS
            )

    def _mistakes_at(self, client_id: str, moment: datetime, context: SearchContext) -> Iterator[Candidate]:
        stamp = jakarta_iso(moment)
        yield Candidate(SNAP_UTC_Z, f"{client_id}|{utc_z(moment)}")
        for zone_name, zone in context.zones:
            offset = moment.astimezone(zone).utcoffset() or timedelta(0)
            if offset != timedelta(hours=7):
                literal = moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"
                mistake = Mistake(
                    SNAP_LOCAL_LITERAL.key,
                    SNAP_LOCAL_LITERAL.says.format(zone=zone_name, off=describe_offset(offset)),
                    SNAP_LOCAL_LITERAL.fix,
                )
                yield Candidate(mistake, f"{client_id}|{literal}", note=f"X-TIMESTAMP {literal}")
        yield Candidate(SNAP_NO_OFFSET, f"{client_id}|{stamp[:19]}")
        for separator in (":", "", " ", ",", ";", "|\n"):
            yield Candidate(SNAP_SEPARATOR, f"{client_id}{separator}{stamp}", note=f"separator {separator!r}")
        yield Candidate(SNAP_REVERSED, f"{stamp}|{client_id}")
        for padded in (f" {client_id}", f"{client_id} ", f"{client_id}\n", f" {client_id} ", client_id.strip()):
            if padded != client_id:
                yield Candidate(SNAP_WHITESPACE, f"{padded}|{stamp}", note=f"client id as {padded!r}")
