"""The clock edge: every date from outside is checked once, and a strange one never crashes paytoken."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import assert_clean, paytoken, paytoken_process, serving

from tidak_cli.cache import CACHE_VERSION, CacheEntry
from tidak_cli.clock import (
    EARLIEST,
    LATEST,
    MAX_LIFETIME,
    SIGNATURE_WINDOW,
    clock_skew,
    describe_skew,
    epoch_moment,
    expiry_after,
    http_date,
    humanize_seconds,
    iso_moment,
    jakarta_moment,
    lifetime_seconds,
    oracle_moment,
)
from tidak_cli.demo import Workspace
from tidak_cli.errors import ExitCode

# The largest moment a datetime holds: a year no gateway means.
YEAR_9999 = 253402300799


def jwt(payload: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2ln"


@contextmanager
def gateway(status: int, body: object, dates: Sequence[str] = ()) -> Iterator[str]:
    """A gateway on loopback answering every request with status and body, and these Date headers verbatim."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            payload = json.dumps(body).encode()
            self.send_response_only(status)  # no Date of its own: only the ones given
            for date in dates:
                self.send_header("Date", date)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_HEAD = _answer

    with serving(Handler) as url:
        yield url


def aimed_at(workspace: Workspace, url: str, isolated: Path) -> Path:
    """A profiles file in the current directory: every provider as profile `demo`, aimed at url."""
    target = isolated / "profiles.toml"
    target.write_text(workspace.write_profiles(url, name="clock-profiles.toml").read_text())
    target.chmod(0o600)
    return target


SNAP_REJECTION = {"responseCode": "4017300", "responseMessage": "Unauthorized. Signature"}
ODD_DATES = {
    "no usable zone": ["Fri, 04 Dec 2026 13:39:39 -0000"],
    "two Date headers": ["Fri, 04 Dec 2026 13:39:39 GMT", "Fri, 04 Dec 2026 13:39:40 GMT"],
    "year 9999": ["Fri, 31 Dec 9999 23:59:59 +0000"],
    "garbage": ["yesterday"],
}


@pytest.mark.parametrize("dates", ODD_DATES.values(), ids=ODD_DATES.keys())
def test_a_rejection_with_an_odd_date_header_is_a_rejection(
    dates: list[str], workspace: Workspace, isolated: Path
) -> None:
    with gateway(401, SNAP_REJECTION, dates) as url:
        aimed_at(workspace, url, isolated)
        run = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    assert run.exit_code == ExitCode.REJECTED, run.output
    assert "4017300" in run.stderr
    assert "internal error" not in run.output
    assert_clean(run.output)


@pytest.mark.parametrize("dates", ODD_DATES.values(), ids=ODD_DATES.keys())
def test_doctor_with_an_odd_date_header_says_it_cannot_compare_clocks(
    dates: list[str], workspace: Workspace, isolated: Path
) -> None:
    with gateway(401, SNAP_REJECTION, dates) as url:
        aimed_at(workspace, url, isolated)
        run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == ExitCode.REJECTED, run.output
    assert "its clock cannot be compared" in run.output
    assert "internal error" not in run.output
    assert_clean(run.output)


def test_a_doku_token_expiring_in_9999_has_an_unknown_expiry_and_is_not_cached(
    workspace: Workspace, isolated: Path
) -> None:
    with gateway(200, {"token": jwt({"exp": YEAR_9999, "sub": "BRN"})}, ["Fri, 04 Dec 2026 13:39:39 GMT"]) as url:
        aimed_at(workspace, url, isolated)
        pretty = paytoken_process("get", "doku", "-p", "demo", "-o", "pretty", env={"TZ": "Asia/Jakarta"})
        listed = paytoken_process("cache", "list", env={"TZ": "Asia/Jakarta"})
        answer = paytoken_process("get", "doku", "-p", "demo", "-o", "json", env={"TZ": "Asia/Jakarta"})
    assert pretty.returncode == 0, pretty.stderr
    assert re.search(r"expires +unknown", pretty.stdout)
    assert listed.returncode == 0, listed.stderr
    assert "doku" not in listed.stdout
    assert answer.returncode == 0, answer.stderr
    document = json.loads(answer.stdout)
    assert document["expires_at"] is None and document["cached"] is False
    for process in (pretty, listed, answer):
        assert_clean(process.stdout + process.stderr)


@pytest.mark.parametrize("output", ["pretty", "json", "curl"])
@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+07:00", "2200-01-01T00:00:00+07:00"])
def test_sign_with_a_timestamp_beyond_the_calendar_signs_it_as_given_with_a_warning(
    stamp: str, output: str, profiles: Path
) -> None:
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", stamp, "-o", output)
    assert run.exit_code == 0, run.output
    assert stamp in run.stdout
    assert f"--timestamp {stamp!r}" in run.stderr and "signed as given" in run.stderr
    assert_clean(run.output)


# --- the readers: whatever comes in, an aware moment within the sane years, or None ---------------------

OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
# Any moment a datetime holds, in any zone a gateway could write: most beyond the sane years.
moments = st.datetimes(timezones=OFFSETS) | st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2110, 1, 1), timezones=OFFSETS
)
numbers = st.integers() | st.floats() | st.integers(-(2**64), 2**64) | st.floats(-1e12, 1e12)
values = st.none() | st.booleans() | numbers | st.text(max_size=40) | numbers.map(str)


def assert_sane(moment: object, *, utc: bool = False) -> None:
    """None, or an aware datetime within the sane years (in UTC when utc)."""
    if moment is None:
        return
    assert isinstance(moment, datetime)
    assert moment.utcoffset() is not None
    assert EARLIEST <= moment < LATEST
    if utc:
        assert moment.utcoffset() == timedelta(0)
    # Whatever paytoken does with a sane moment afterwards must hold: the window, a year's lifetime, any zone.
    (moment + SIGNATURE_WINDOW + timedelta(seconds=MAX_LIFETIME)).astimezone(timezone(timedelta(hours=14)))
    (moment - SIGNATURE_WINDOW).astimezone(timezone(timedelta(hours=-14)))


def http_dates(moment: datetime) -> list[str]:
    try:
        written = format_datetime(moment)
    except (ValueError, OverflowError):
        return []
    return [written, written.replace(written[-5:], "-0000"), f"{written}, {written}", written.upper()]


@given(value=st.none() | st.text(max_size=60), moment=moments)
def test_http_date_is_utc_and_sane_or_none(value: str | None, moment: datetime) -> None:
    for text in [value, *http_dates(moment)]:
        assert_sane(http_date(text), utc=True)
    written = http_dates(moment)
    if written and EARLIEST <= moment < LATEST:
        assert http_date(written[0]) == moment.replace(microsecond=0)
        assert http_date(written[1]) is None  # -0000: the zone is unknown
        assert http_date(written[2]) is None  # two Date headers joined


@given(value=st.text(max_size=40), moment=moments, spec=st.sampled_from(["seconds", "milliseconds", "auto"]))
def test_iso_moment_keeps_the_offset_and_is_sane_or_none(value: str, moment: datetime, spec: str) -> None:
    written = moment.isoformat(timespec=spec)
    for text in (value, written, written.replace("+00:00", "Z"), moment.replace(tzinfo=None).isoformat()):
        assert_sane(iso_moment(text))
    read, expected = iso_moment(written), datetime.fromisoformat(written)  # written: cut to the timespec
    if EARLIEST <= expected < LATEST:
        assert read is not None and read == expected and read.utcoffset() == moment.utcoffset()
    else:
        assert read is None
    assert iso_moment(moment.replace(tzinfo=None).isoformat()) is None


LAYOUTS = ["%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S"]


@given(value=st.text(max_size=30), moment=moments, layout=st.sampled_from(LAYOUTS))
def test_jakarta_moment_is_jakarta_time_and_sane_or_none(value: str, moment: datetime, layout: str) -> None:
    written = moment.replace(tzinfo=None).strftime(layout)
    for text in (value, written):
        read = jakarta_moment(text, layout)
        assert_sane(read)
        assert read is None or read.utcoffset() == timedelta(hours=7)


@given(value=st.text(max_size=30), day=st.integers(0, 99), month=st.text(min_size=3, max_size=3), rest=st.text())
def test_oracle_moment_is_jakarta_time_and_sane_or_none(value: str, day: int, month: str, rest: str) -> None:
    for text in (value, f"{day:02d}-{month}-{rest}", f"{day:02d}-AUG-24 16:23:30"):
        read = oracle_moment(text)
        assert_sane(read)
        assert read is None or read.utcoffset() == timedelta(hours=7)


@given(value=values | st.lists(numbers, max_size=2))
def test_epoch_moment_is_utc_and_sane_or_none(value: object) -> None:
    assert_sane(epoch_moment(value), utc=True)


@given(value=values)
def test_lifetime_is_at_most_a_year_or_none(value: object) -> None:
    lifetime = lifetime_seconds(value)
    assert lifetime is None or (type(lifetime) is int and 0 < lifetime <= MAX_LIFETIME)


@given(received=moments, seconds=numbers)
def test_an_expiry_after_any_lifetime_is_sane_or_none(received: datetime, seconds: float) -> None:
    assert_sane(expiry_after(received, seconds))


@given(gateway=st.none() | moments | st.datetimes(), local=moments | st.datetimes())
def test_clock_skew_of_any_two_moments_is_seconds_or_none(gateway: datetime | None, local: datetime) -> None:
    skew = clock_skew(gateway, local)
    assert skew is None or abs(skew) <= (LATEST - EARLIEST).total_seconds()
    if skew is not None:
        describe_skew(skew)
        humanize_seconds(abs(skew))


@given(expires_at=st.text(max_size=40) | moments.map(datetime.isoformat), stored_at=moments.map(datetime.isoformat))
def test_a_cache_entry_has_sane_times_or_is_damaged(expires_at: str, stored_at: str) -> None:
    document = {
        "version": CACHE_VERSION,
        **dict.fromkeys(("provider", "profile", "base_url", "client_id", "token_type"), "x"),
        "access_token": "tok",
        "expires_at": expires_at,
        "stored_at": stored_at,
    }
    try:
        entry = CacheEntry.from_json(json.dumps(document))
    except ValueError:
        return
    assert_sane(entry.expires_at)
    assert_sane(entry.stored_at)


@pytest.mark.parametrize("min_ttl", ["1e300", "999999999999"])
def test_a_min_ttl_beyond_the_calendar_still_gets_a_token(min_ttl: str, profiles: Path) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "--min-ttl", min_ttl, "-o", "token")
    assert run.exit_code == 0, run.output
    assert run.stdout.strip()
    assert_clean(run.output)
