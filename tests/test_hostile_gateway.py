"""A hostile gateway's answers through the real CLI: every answer, whatever its status, crosses one edge.

The edge is transport.py's reader: at most 1 MiB after decompression, within the try's deadline, for a 3xx
as for a 200. Each test runs `paytoken get` against tests/hostile.py on loopback and asserts the exit code,
the one message, no traceback and no raw control bytes; the bombs also assert the memory and the time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hostile import Answer, Hostile, MiB, deflate_bomb, gzip_bomb, json_answer, later, zeros
from support import MEASURED_CHILD, OUTPUTS, Run, assert_clean, paytoken

from tidak_cli.transport import CONNECT_TIMEOUT

TIMEOUT = 2  # the profile's timeout: one try may take CONNECT_TIMEOUT + 2 s in all
DEADLINE = CONNECT_TIMEOUT + TIMEOUT
TOKEN_ANSWER = (
    '{"responseCode":"2007300","responseMessage":"Successful","accessToken":"tok-ABCdef123456789",'
    '"tokenType":"Bearer","expiresIn":"900"}'
)
# What a terminal acts on: C0 but tab and newline, DEL, C1, and the bidi overrides and isolates.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def get(url: str, *args: str) -> Run:
    return paytoken("get", "nicepay", "-p", "demo", "--no-cache", "--base-url", url, *args)


def assert_one_message(run: Run, exit_code: int, message: str) -> None:
    assert run.exit_code == exit_code, run.output
    assert run.stdout == ""
    assert run.stderr.count("error:") == 1 and message in run.stderr, run.stderr
    assert "internal error" not in run.stderr
    assert not RAW_CONTROL.search(run.output), run.output
    assert_clean(run.output)


@pytest.fixture
def short_timeout(profiles: Path) -> Path:
    text = profiles.read_text()
    profiles.write_text(text.replace("[nicepay.demo]\n", f"[nicepay.demo]\ntimeout = {TIMEOUT}\n"))
    return profiles


# --- finding 1: a redirect's body, and any other, is read under the cap and the deadline ------------


def run_measured(url: str, cwd: Path) -> tuple[int, str, float, int]:
    """`paytoken get` in a subprocess: its exit code, stderr, seconds taken and peak memory in bytes."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_CHILD, "get", "nicepay", "-p", "demo", "--no-cache", "--base-url", url],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    seconds = time.monotonic() - started
    stderr, _, peak = done.stderr.rpartition("\nPEAK-RSS-KIB ")
    OUTPUTS.append(done.stdout + stderr)
    return done.returncode, stderr, seconds, int(peak) * 1024


GZIP, DEFLATE = ("Content-Encoding", "gzip"), ("Content-Encoding", "deflate")
BOMBS = {  # the compressed ones hold 512 MiB of zeros in about 500 KiB, under the cap until decompressed
    "307-with-1GiB": Answer(307, "Temporary Redirect", [("Location", "https://gw.example/x")], zeros(1024 * MiB)),
    "308-declaring-1GiB": Answer(
        308, "Permanent Redirect", [("Location", "/x"), ("Content-Length", str(1024 * MiB))], zeros(1024 * MiB)
    ),
    "307-gzip-bomb": Answer(307, "Temporary Redirect", [("Location", "/x"), GZIP], later(gzip_bomb)),
    "302-deflate-bomb": Answer(302, "Found", [("Location", "/x"), DEFLATE], later(deflate_bomb)),
    "200-gzip-twice": Answer(200, "OK", [("Content-Encoding", "gzip, gzip")], later(lambda: gzip_bomb(layers=2))),
    "503-gzip-bomb": Answer(503, "Busy", [GZIP], later(gzip_bomb)),
}


@pytest.mark.realtime
@pytest.mark.parametrize("answer", list(BOMBS.values()), ids=list(BOMBS))
def test_a_bomb_in_any_answer_is_refused_within_memory_and_deadline(
    answer: Answer, short_timeout: Path, isolated: Path
) -> None:
    with Hostile([json_answer(TOKEN_ANSWER)]) as plain:
        code, _, _, baseline = run_measured(plain.url, isolated)
    assert code == 0
    with Hostile([answer]) as gateway:
        code, stderr, seconds, peak = run_measured(gateway.url, isolated)
    assert code == 6, stderr
    assert "larger than 1024 KiB; paytoken refuses to read it" in stderr
    assert "Traceback" not in stderr and stderr.count("error:") == 1
    assert peak - baseline < 100 * MiB, f"{(peak - baseline) // MiB} MiB more than a plain answer"
    assert seconds < DEADLINE * (3 if answer.status == 503 else 1)  # a 503 is tried three times


def test_a_retried_answer_s_body_is_skipped_only_up_to_the_cap(profiles: Path) -> None:
    # urllib3 drains a 503's body before its retry: at most 1 MiB of it is read, then the connection is dropped.
    busy = Answer(503, "Busy", [("Retry-After", "0")], zeros(1024 * MiB), length=False)
    with Hostile([busy, json_answer(TOKEN_ANSWER)]) as gateway:
        run = get(gateway.url, "-o", "token")
    assert run.exit_code == 0, run.stderr
    assert len(gateway.requests) == 2
    assert gateway.sent[0] < 64 * MiB, f"{gateway.sent[0] // MiB} MiB of the 503's body were sent"


def test_a_redirect_is_said_as_it_came_and_never_followed(profiles: Path) -> None:
    body = '{"responseCode":"3077300","responseMessage":"moved somewhere else, really"}'
    redirect = json_answer(body, 307, ("Location", "https://gw.example/v2/token"))
    with Hostile([redirect, json_answer(TOKEN_ANSWER)]) as gateway:
        run = get(gateway.url)
    assert_one_message(run, 6, "answered HTTP 307 OK to 'https://gw.example/v2/token'; paytoken does not follow")
    assert f"body ({len(body)} bytes): {body}" in run.stderr
    assert "not JSON" not in run.stderr and "body is empty" not in run.stderr
    assert len(gateway.requests) == 1


# --- finding 9: the smaller ones at this edge -----------------------------------------------------


@pytest.mark.parametrize("location", ["http://[::1/x", "http://[zz::]/", "\x1b]0;owned\x07http://x/"])
def test_a_location_that_is_not_a_url_is_a_gateway_error(location: str, profiles: Path) -> None:
    answer = Answer(307, "Temporary Redirect", [("Location", location.encode("latin-1"))], b"")
    with Hostile([answer]) as gateway:
        run = get(gateway.url)
    assert_one_message(run, 6, "answered HTTP 307 Temporary Redirect to ")
    assert "body is empty" in run.stderr


@pytest.mark.parametrize(
    ("encoding", "body"),
    [("gzip", b"\x1f\x8b\x08\x00garbage-garbage-garbage"), ("deflate", b"not deflate at all")],
    ids=["gzip", "deflate"],
)
def test_a_corrupt_compressed_body_is_the_gateway_s_fault(encoding: str, body: bytes, profiles: Path) -> None:
    with Hostile([Answer(200, "OK", [("Content-Encoding", encoding)], body)]) as gateway:
        run = get(gateway.url)
    assert_one_message(run, 6, f"sent an answer that says it is compressed ({encoding}) but does not decompress")
    assert len(gateway.requests) == 1


@pytest.mark.realtime
@pytest.mark.parametrize("retry_after", ["soon", "1e309", "-5", "Fri, 31 Dec 9999 23:59:59 GMT", "", "1, 2"])
def test_an_unreadable_retry_after_is_ignored_not_fatal(retry_after: str, profiles: Path) -> None:
    busy = Answer(503, "Service Unavailable", [("Retry-After", retry_after)], b"busy")
    with Hostile([busy, json_answer(TOKEN_ANSWER)]) as gateway:
        started = time.monotonic()
        run = get(gateway.url, "-o", "token", "-v")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "tok-ABCdef123456789\n"
    assert len(gateway.requests) == 2
    assert "(its Retry-After)" not in run.stderr  # the usual backoff, not the unreadable header
    assert time.monotonic() - started < 5


def test_a_retry_after_date_in_the_past_retries_at_once(profiles: Path) -> None:
    an_hour_ago = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    busy = Answer(429, "Too Many", [("Retry-After", an_hour_ago)], b"slow down")
    with Hostile([busy, json_answer(TOKEN_ANSWER)]) as gateway:
        run = get(gateway.url, "-o", "token", "-v")
    assert run.exit_code == 0, run.stderr
    assert "waiting 0.0 s (its Retry-After)" in run.stderr


# --- the rest of the hostile answers, end to end ----------------------------------------------------

REJECTION = '{"responseCode":"4017300","responseMessage":"Unauthorized. %s"}'
HOSTILE_TEXT = {
    "ansi-clear": "\x1b[2J\x1b[H",
    "osc-title": "\x1b]0;pwned\x07",
    "c1-csi": "\x9b31m",
    "bidi": "\u202edecnalab\u202c",
    "backspace": "abc\x08\x08\x08xyz",
}


def _escaped(text: str) -> str:
    return text.encode("unicode_escape").decode().replace('"', '\\"')


@pytest.mark.parametrize("text", list(HOSTILE_TEXT.values()), ids=list(HOSTILE_TEXT))
@pytest.mark.parametrize("verbose", [False, True], ids=["plain", "verbose"])
def test_control_bytes_in_a_rejection_never_reach_the_terminal(text: str, verbose: bool, profiles: Path) -> None:
    headers: Sequence[tuple[str, str | bytes]] = [("Content-Type", "application/json"), ("X-Note", text.encode())]
    answer = Answer(401, "Unauthorized", headers, (REJECTION % _escaped(text)).encode())
    with Hostile([answer]) as gateway:
        run = get(gateway.url, *(["-v"] if verbose else []))
    assert run.exit_code == 4, run.output
    assert "internal error" not in run.stderr
    assert not RAW_CONTROL.search(run.output), repr(run.output)


@pytest.mark.parametrize(
    "dates",
    [
        [("Date", "Mon, 01 Jan 2024 00:00:00 GMT"), ("Date", "Tue, 02 Jan 2024 00:00:00 GMT")],
        [("Date", "yesterday")],
        [("Date", "Fri, 31 Dec 9999 23:59:59 GMT")],
        [("Date", b"\xff\xfe\x1b[2J")],
    ],
    ids=["duplicate", "garbage", "year-9999", "bytes"],
)
def test_a_strange_date_on_a_rejection_is_no_crash(dates: Sequence[tuple[str, str | bytes]], profiles: Path) -> None:
    answer = Answer(401, "Unauthorized", [("Content-Type", "application/json"), *dates], (REJECTION % "x").encode())
    with Hostile([answer]) as gateway:
        run = get(gateway.url)
    assert_one_message(run, 4, "rejected the token request: 4017300 Unauthorized. x")
