"""The edge for dates: every date from outside (a gateway, a cache file, a capture, the user) is read here.

Each reader returns an aware datetime between EARLIEST and LATEST, or None when the value is not one: the
caller decides what None means (an unknown expiry, a damaged cache entry, a timestamp signed as given).
Within those years any arithmetic paytoken does (a lifetime, the signature window, a time zone) stays
within what a datetime holds, so nothing past this module can overflow or mix naive and aware times.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

__all__ = [
    "EARLIEST",
    "JAKARTA",
    "LATEST",
    "MAX_LIFETIME",
    "SIGNATURE_WINDOW",
    "SKEW_WORTH_SAYING",
    "Clock",
    "clock_skew",
    "describe_skew",
    "epoch_moment",
    "expiry_after",
    "expiry_moment",
    "http_date",
    "humanize_seconds",
    "iso_moment",
    "jakarta_moment",
    "lifetime_seconds",
    "oracle_moment",
    "retry_after",
    "sane",
    "utc_now",
]

Clock = Callable[[], datetime]

# Asia/Jakarta (WIB) has been UTC+7 with no daylight saving since 1964, so a fixed offset is the
# zone exactly, and it needs no tz database (Windows and slim containers have none).
JAKARTA = timezone(timedelta(hours=7), "WIB")

# A date outside these years is a mistake or a hostile answer, never what a gateway means.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# How far from their clock SNAP banks, DOKU, Finpay and Faspay accept a signed timestamp.
SIGNATURE_WINDOW = timedelta(minutes=5)

# No gateway issues tokens for longer; a larger lifetime is a mistake, treated as unknown.
MAX_LIFETIME = 366 * 24 * 3600

# Beyond this, a difference between our clock and the gateway's is worth mentioning.
SKEW_WORTH_SAYING = 60.0

# Oracle's DD-MON-YY HH24:MI:SS, as Finpay writes an expiry: `24-AUG-24 16:23:30`.
_ORACLE = re.compile(r"([0-9]{2})-([A-Za-z]{3})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
# Go's time.Time.String(), as Durianpay writes a token's expiry: `2024-05-13 08:47:36.452492159 +0000 UTC`, with
# up to nine fraction digits, a numeric offset, a zone abbreviation, and (from a monotonic clock) ` m=+0.5`.
_GO_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))? ([+-][0-9]{4})"
    r"(?: [A-Za-z][A-Za-z0-9+-]{0,9})?(?: m=[+-][0-9]+\.[0-9]+)?"
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def utc_now() -> datetime:
    """The machine's clock, aware, in UTC."""
    return datetime.now(UTC)


def sane(moment: datetime | None) -> datetime | None:
    """Return moment if it is aware and within EARLIEST..LATEST, else None."""
    if moment is None or moment.utcoffset() is None:
        return None
    return moment if EARLIEST <= moment < LATEST else None


def http_date(value: str | None) -> datetime | None:
    """Read one HTTP Date header (`Sun, 06 Nov 1994 08:49:37 GMT`) as UTC; None unless it is one date with a zone."""
    # Two Date headers arrive joined by ", " (requests does so): neither can be trusted to be the clock.
    if not value or value.count(",") > 1:
        return None
    from email.utils import parsedate_to_datetime  # here: a cache hit reads no Date and need not load email

    try:
        moment = sane(parsedate_to_datetime(value))  # `-0000` means "zone unknown": naive, so None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None if moment is None else moment.astimezone(UTC)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Read a Retry-After header (`120`, or an HTTP date) as seconds from now; None when it is neither."""
    if value is None:
        return None
    if re.fullmatch(r"\s*[0-9]{1,12}\s*", value):
        return float(int(value))
    moment = http_date(value.strip())
    return None if moment is None else max(0.0, (moment - now).total_seconds())


def iso_moment(timestamp: str) -> datetime | None:
    """Read an ISO 8601 timestamp with an offset (or Z), keeping the offset; None when it is not one."""
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return sane(moment)


def jakarta_moment(text: str, layout: str) -> datetime | None:
    """Read a Jakarta wall-clock time written in layout (strptime), or None."""
    try:
        return sane(datetime.strptime(text, layout).replace(tzinfo=JAKARTA))
    except ValueError:
        return None


def oracle_moment(text: str) -> datetime | None:
    """Read `24-AUG-24 16:23:30` (Oracle's DD-MON-YY HH24:MI:SS) as Jakarta time, whatever the locale."""
    match = _ORACLE.fullmatch(text.strip())
    if match is None or match.group(2).upper() not in _MONTHS:
        return None
    day, month, year, hour, minute, second = match.groups()
    try:
        moment = datetime(
            2000 + int(year),
            _MONTHS.index(month.upper()) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=JAKARTA,
        )
    except ValueError:
        return None
    return sane(moment)


def expiry_moment(value: object) -> datetime | None:
    """Read an expiry a gateway sends as a date-time: ISO 8601 with an offset, or Go's time.String(); else None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _GO_TIME.fullmatch(value.strip())
    if match is None:
        return iso_moment(value.strip()) if "T" in value else None
    day, time, fraction, offset = match.groups()
    # Python keeps microseconds: the nanoseconds past them cannot matter to an expiry.
    micro = f".{(fraction or '0')[:6]:0<6}"
    return iso_moment(f"{day}T{time}{micro}{offset[:3]}:{offset[3:]}")


def epoch_moment(value: object) -> datetime | None:
    """Read seconds since 1970 (a JWT's `exp`) as UTC; None for anything else or beyond the sane years."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        return sane(datetime.fromtimestamp(value, UTC))
    except (ValueError, OverflowError, OSError):
        return None


def lifetime_seconds(value: object) -> int | None:
    """Read a token lifetime sent as 900 or "900"; anything else, or beyond a year, is unknown (None)."""
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_LIFETIME else None


def expiry_after(received_at: datetime, seconds: float) -> datetime | None:
    """The moment a lifetime of seconds ends, counted from received_at; None if no sane calendar holds it."""
    try:
        return sane(received_at + timedelta(seconds=seconds))
    except (OverflowError, ValueError):  # ValueError: not a number of seconds at all (NaN)
        return None


def clock_skew(gateway: datetime | None, local: datetime) -> float | None:
    """Seconds by which the local clock is ahead of the gateway's (negative: behind); None if unknown."""
    if gateway is None or sane(gateway) is None or sane(local) is None:
        return None
    return (local - gateway).total_seconds()


def describe_skew(seconds: float) -> str:
    """Say `7h12m ahead of` or `45s behind`."""
    direction = "ahead of" if seconds > 0 else "behind"
    total = round(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 2:
        amount = f"{days}d{hours:02d}h"
    elif days or hours:
        amount = f"{days * 24 + hours}h{minutes:02d}m"
    else:
        amount = f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
    return f"{amount} {direction}"


def humanize_seconds(seconds: float) -> str:
    """Say `14 min`, `2 h 5 min`, `40 s`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
