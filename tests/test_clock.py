"""The clock edge: every date from outside is checked once, and a strange one never crashes paytoken."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import assert_clean, paytoken, paytoken_process

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

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client hanging up is its business; and the CLI's captured stderr is no place for it

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


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
