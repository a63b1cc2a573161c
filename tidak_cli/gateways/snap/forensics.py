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
from ...signing import jakarta_iso, jakarta_iso_millis, utc_z
from ..base import SignedRequest
from .recipe import TIMESTAMP_EXAMPLES, TIMESTAMP_FORMATS, SnapProvider, timestamp_matches

__all__ = ["SnapForensics"]

SNAP_UTC_Z = Mistake(
    "snap.utc-z",
    "X-TIMESTAMP in UTC with a Z (2024-12-31T03:11:40Z) instead of Jakarta time with +07:00",
    "send Jakarta time with its offset: {example}",
    jakarta_iso,
)
SNAP_LOCAL_LITERAL = Mistake(
    "snap.local-time-literal-offset",
    "X-TIMESTAMP was this machine's local time ({zone}) with a literal +07:00 appended, {off} Jakarta time "
    "(the official NICEPAY SDK's bug on a server not set to Jakarta)",
    "compute X-TIMESTAMP from an aware clock in Asia/Jakarta ({example} for this one), e.g. "
    "datetime.now(ZoneInfo('Asia/Jakarta')).isoformat(timespec='seconds'); never append +07:00 to local time",
    jakarta_iso,
)
SNAP_MILLIS = Mistake(
    "snap.milliseconds",
    "X-TIMESTAMP with milliseconds (2024-12-31T10:11:40.123+07:00)",
    "send the timestamp to the second ({example}), unless your bank asks for milliseconds (snap: timestamp_format)",
    jakarta_iso,
)
SNAP_TO_ISO_STRING = Mistake(
    "snap.utc-milliseconds-z",
    "X-TIMESTAMP as JavaScript's new Date().toISOString() writes it: UTC with milliseconds and a Z "
    "(2024-12-31T03:11:40.123Z), the usual Postman pre-request script slip",
    "send Jakarta time to the second with its offset: {example} (in JavaScript, format the "
    "Asia/Jakarta wall time yourself; toISOString() is UTC)",
    jakarta_iso,
)
# The thousand endings of a second: .000 to .999, before the zone.
_MILLISECONDS = tuple(f".{millisecond:03d}" for millisecond in range(1000))
_JAKARTA_MILLIS = tuple(f"{fraction}+07:00" for fraction in _MILLISECONDS)
_UTC_MILLIS = tuple(f"{fraction}Z" for fraction in _MILLISECONDS)
SNAP_SECONDS = Mistake(
    "snap.seconds",
    "X-TIMESTAMP to the second (2024-12-31T10:11:40+07:00) where this gateway wants milliseconds",
    "send milliseconds too: {example}",
    jakarta_iso_millis,
)
SNAP_NO_OFFSET = Mistake(
    "snap.no-offset",
    "X-TIMESTAMP without its +07:00 offset in the string to sign",
    "sign the X-TIMESTAMP header value exactly, offset included ({example})",
    jakarta_iso,
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
            self.candidates(client_id, context, self.provider.timestamp_format(profile)),
            context,
        )

    def read_capture(self, profile: Profile, captured: Captured, now: datetime) -> Replay:
        check = CaptureCheck(captured)
        check.require("X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE", *self.provider.token_headers)
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
        expected = " or ".join(TIMESTAMP_EXAMPLES[form] for form in forms)
        check.timestamp("X-TIMESTAMP", stamp, well_formed, expected, iso_moment(stamp or ""), now)
        return check.done(timestamp=stamp, nonce=None, signature=captured.header("X-SIGNATURE"), body=captured.body)

    def candidates(self, client_id: str, context: SearchContext, style: str = "jakarta") -> Iterator[Candidate]:
        """Every string a client may have signed: the right one at each moment, then the known mistakes."""
        if context.timestamp is not None:
            yield Candidate(
                None, f"{client_id}|{context.timestamp}", note=f"X-TIMESTAMP {context.timestamp}", exact=True
            )
        if style == "jakarta-millis":
            yield from self._millis_candidates(client_id, context)
            return
        for moment in context.moments:
            stamp = TIMESTAMP_FORMATS[style](moment)
            yield Candidate(None, f"{client_id}|{stamp}", note=f"X-TIMESTAMP {stamp}", moment=moment)
        for moment in context.moments:
            yield from self._mistakes_at(client_id, moment, context)
        # Milliseconds multiply the search by a thousand: last, as families that share one hash per second.
        for moment in context.moments:
            second = jakarta_iso(moment)[:19]
            yield Candidate(
                SNAP_MILLIS,
                f"{client_id}|{second}",
                note=f"X-TIMESTAMP {second}",
                endings=_JAKARTA_MILLIS,
                moment=moment,
            )
        for moment in context.moments:
            second = utc_z(moment)[:19]
            yield Candidate(
                SNAP_TO_ISO_STRING,
                f"{client_id}|{second}",
                note=f"X-TIMESTAMP {second}",
                endings=_UTC_MILLIS,
                moment=moment,
            )

    def _millis_candidates(self, client_id: str, context: SearchContext) -> Iterator[Candidate]:
        """The search for a gateway that wants milliseconds (BRI, Durianpay): the known timestamp's own
        thousandths, else each second's thousand as one family; the slips of the string itself need the
        timestamp that was sent (a thousand of each would be too many)."""
        if context.timestamp is not None:
            for moment in context.moments:
                yield Candidate(_in_millis(SNAP_SECONDS), f"{client_id}|{jakarta_iso(moment)}", moment=moment)
                yield from self._mistakes_at(client_id, moment, context, f".{moment.microsecond // 1000:03d}")
            return
        for moment in context.moments:
            second = jakarta_iso(moment)[:19]
            note = f"X-TIMESTAMP {second}"
            yield Candidate(None, f"{client_id}|{second}", note=note, endings=_JAKARTA_MILLIS, moment=moment)
        for moment in context.moments:
            yield Candidate(_in_millis(SNAP_SECONDS), f"{client_id}|{jakarta_iso(moment)}", moment=moment)
            yield Candidate(_in_millis(SNAP_UTC_Z), f"{client_id}|{utc_z(moment)}", moment=moment)
        for moment in context.moments:
            second, utc_second = jakarta_iso(moment)[:19], utc_z(moment)[:19]
            yield Candidate(_in_millis(SNAP_NO_OFFSET), f"{client_id}|{second}", endings=_MILLISECONDS, moment=moment)
            yield Candidate(
                _in_millis(SNAP_TO_ISO_STRING),
                f"{client_id}|{utc_second}",
                note=f"X-TIMESTAMP {utc_second}",
                endings=_UTC_MILLIS,
                moment=moment,
            )
            for mistake, literal in self._local_literals(moment, context):
                note = f"X-TIMESTAMP {literal}"
                yield Candidate(mistake, f"{client_id}|{literal}", note=note, endings=_JAKARTA_MILLIS, moment=moment)

    @staticmethod
    def _local_literals(moment: datetime, context: SearchContext) -> Iterator[tuple[Mistake, str]]:
        """This machine's wall time (and UTC's) at moment, to the second, where a literal +07:00 is appended."""
        for zone_name, zone in context.zones:
            offset = moment.astimezone(zone).utcoffset() or timedelta(0)
            if offset != timedelta(hours=7):
                mistake = SNAP_LOCAL_LITERAL._replace(
                    says=SNAP_LOCAL_LITERAL.says.format(zone=zone_name, off=describe_offset(offset))
                )
                yield mistake, moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")

    def _mistakes_at(
        self, client_id: str, moment: datetime, context: SearchContext, fraction: str = ""
    ) -> Iterator[Candidate]:
        """The slips at one moment; with a fraction (".123"), as made by a client that sends milliseconds."""
        stamp = jakarta_iso(moment)[:19] + fraction + "+07:00"
        utc = utc_z(moment)[:19] + fraction + "Z"
        named = _in_millis if fraction else _as_is
        yield Candidate(named(SNAP_TO_ISO_STRING if fraction else SNAP_UTC_Z), f"{client_id}|{utc}", moment=moment)
        for mistake, literal in self._local_literals(moment, context):
            literal += fraction + "+07:00"
            yield Candidate(named(mistake), f"{client_id}|{literal}", note=f"X-TIMESTAMP {literal}", moment=moment)
        yield Candidate(named(SNAP_NO_OFFSET), f"{client_id}|{stamp[:-6]}", moment=moment)
        for separator in (":", "", " ", ",", ";", "|\n"):
            yield Candidate(
                SNAP_SEPARATOR, f"{client_id}{separator}{stamp}", note=f"separator {separator!r}", moment=moment
            )
        yield Candidate(SNAP_REVERSED, f"{stamp}|{client_id}", moment=moment)
        for padded in (f" {client_id}", f"{client_id} ", f"{client_id}\n", f" {client_id} ", client_id.strip()):
            if padded != client_id:
                yield Candidate(SNAP_WHITESPACE, f"{padded}|{stamp}", note=f"client id as {padded!r}", moment=moment)


def _as_is(mistake: Mistake) -> Mistake:
    return mistake


def _in_millis(mistake: Mistake) -> Mistake:
    """The mistake as said to a client of a gateway that wants milliseconds: its example fix has them too."""
    fix = mistake.fix.replace("Jakarta time to the second", "Jakarta time with milliseconds")
    return mistake._replace(fix=fix, example=jakarta_iso_millis if mistake.example is not None else None)
