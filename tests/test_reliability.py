"""The fault table through the CLI against real local servers: retries, deadlines, TLS, interrupts, files, redaction.

Each fault test asserts the exit code, the message, how many requests reached the sandbox, no traceback and
no secret. The counts matter as much as the codes: a retry that should not happen (a rejection, a read
timeout, a TLS failure) is as much a bug as one that is missing.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from support import Run, assert_clean, key_secrets, paytoken, paytoken_process, requests_to, set_fault
from urllib3.response import HTTPResponse

from tidak_cli.demo import Workspace
from tidak_cli.gateways import PROVIDERS
from tidak_cli.profiles import COMMON_SETTINGS
from tidak_cli.sandbox import Sandbox, load_config
from tidak_cli.transport import _retry_policy

PASSPHRASE = "reliability passphrase 7c1f"
DEADLINE_MESSAGE = "was still sending its answer when the time for the whole request ran out"


# --- helpers ---------------------------------------------------------------------------------------


def shared_secrets(workspace: Workspace) -> list[str]:
    """The shared secrets the sandbox holds (the same values as the profiles): never to be printed."""
    document = tomllib.loads(workspace.sandbox_config.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for provider_name, table in document.items():
        if provider_name not in PROVIDERS or not isinstance(table, dict):
            continue
        secret_names = {
            setting.name for setting in (*COMMON_SETTINGS, *PROVIDERS[provider_name].settings) if setting.is_secret
        }
        found[provider_name] = [value for key, value in table.items() if key in secret_names and isinstance(value, str)]
    # doku, finpay-widget and faspay-sendme's token secrets, and the secret that signs each SNAP client's calls.
    shared = {"doku": 1, "finpay-widget": 2, "faspay-sendme": 4}
    assert {name: len(found.get(name, [])) for name in shared} == shared
    assert len(found.get("nicepay", [])) == 1, "the workspace should hold NICEPAY's client_secret"
    return [value for values in found.values() for value in values]


def disguised_secrets(workspace: Workspace) -> list[str]:
    """The same secrets in the spellings they travel in: Basic credentials, Finpay's hex key, Faspay's base64."""
    tables = tomllib.loads(workspace.sandbox_config.read_text(encoding="utf-8"))
    finpay, faspay = tables["finpay-widget"], tables["faspay-sendme"]
    return [
        base64.b64encode(f"{finpay['merchant_id']}:{finpay['merchant_password']}".encode()).decode(),
        finpay["secret_key"].encode().hex(),
        base64.b64encode(f"{faspay['client_key']}:{faspay['client_secret']}".encode()).decode(),
    ]


@pytest.fixture
def secrets(workspace: Workspace) -> list[str]:
    return [*key_secrets(workspace), *shared_secrets(workspace), PASSPHRASE]


def add_profile_keys(profiles: Path, table: str, lines: str) -> None:
    text = profiles.read_text()
    header = f"[{table}]\n"
    assert header in text
    profiles.write_text(text.replace(header, header + lines + "\n"))


def get(provider: str, *args: str) -> Run:
    return paytoken("get", provider, "-p", "demo", *args)


def retry_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("* retry")]


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url) as answer:
        return json.load(answer)  # type: ignore[no-any-return]


@pytest.fixture
def slow_sandbox(workspace: Workspace, profiles: Path, sandbox: Sandbox) -> Iterator[Sandbox]:
    """A sandbox of the test's own, for faults that keep a gateway thread busy after the test has its answer.

    A delayed answer is settled (counted as issued or rejected) when the delay ends: on the shared sandbox
    that would land in a later test's counts.
    """
    server = Sandbox(load_config(workspace.sandbox_config)).start()
    profiles.write_text(profiles.read_text().replace(sandbox.url, server.url))
    try:
        yield server
    finally:
        server.stop()


# --- retries ---------------------------------------------------------------------------------------


@pytest.mark.realtime
@pytest.mark.parametrize(("status", "provider"), [(502, "doku"), (503, "nicepay"), (504, "faspay-sendme")])
def test_5xx_twice_then_success_is_retried(
    status: int, provider: str, profiles: Path, sandbox: Sandbox, secrets: list[str]
) -> None:
    set_fault(sandbox, provider, status=status, times=2)
    run = get(provider, "--no-cache", "-v")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip()
    assert requests_to(sandbox, provider) == 3
    retries = retry_lines(run.stderr)
    assert len(retries) == 2, run.stderr
    assert retries[0].startswith("* retry 1 of 2 after ") and retries[1].startswith("* retry 2 of 2 after ")
    assert all(f"HTTP {status}" in line for line in retries)
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_5xx_forever_gives_up_after_three_tries(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "nicepay", status=503)
    run = get("nicepay", "--no-cache", "-v")
    assert run.exit_code == 6
    assert "error: NICEPAY SNAP B2B failed with HTTP 503: 5037300" in run.stderr
    assert requests_to(sandbox, "nicepay") == 3
    assert len(retry_lines(run.stderr)) == 2
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_html_error_page_from_a_proxy_is_retried_then_reported(
    profiles: Path, sandbox: Sandbox, secrets: list[str]
) -> None:
    set_fault(sandbox, "finpay-snap", html=True, status=502)
    run = get("finpay-snap", "--no-cache", "-v")
    assert run.exit_code == 6
    assert "an HTML page" in run.stderr
    assert requests_to(sandbox, "finpay-snap") == 3
    assert len(retry_lines(run.stderr)) == 2
    assert_clean(run.output, secrets)


def test_html_page_with_200_is_not_retried(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "finpay-widget", html=True)
    run = get("finpay-widget", "--no-cache", "-v")
    assert run.exit_code == 6
    assert "an HTML page" in run.stderr
    assert requests_to(sandbox, "finpay-widget") == 1
    assert retry_lines(run.stderr) == []
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_429_waits_for_its_retry_after(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "doku-snap", status=429, retry_after=1, times=1)
    started = time.monotonic()
    run = get("doku-snap", "--no-cache", "-v")
    elapsed = time.monotonic() - started
    assert run.exit_code == 0, run.stderr
    assert requests_to(sandbox, "doku-snap") == 2
    assert elapsed >= 1.0
    (retry,) = retry_lines(run.stderr)
    assert "HTTP 429" in retry and "waiting 1.0 s" in retry and "Retry-After" in retry
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_429_forever_is_a_rejection_after_three_tries(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "snap", status=429)
    run = get("snap", "--no-cache", "-v")
    assert run.exit_code == 4
    assert "4297300" in run.stderr
    assert requests_to(sandbox, "snap") == 3
    assert len(retry_lines(run.stderr)) == 2
    assert_clean(run.output, secrets)


def test_retry_after_is_capped_at_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Waiting out a two-minute Retry-After for real is too slow for a test: ask the policy itself.
    said: list[str] = []
    policy = _retry_policy(said.append)

    def answer(retry_after: str) -> HTTPResponse:
        return HTTPResponse(body=b"", headers={"Retry-After": retry_after}, status=429, preload_content=False)

    assert policy.get_retry_after(answer("120")) == 30
    assert policy.get_retry_after(answer("5")) == 5
    in_ten_minutes = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    assert policy.get_retry_after(answer(in_ten_minutes)) == 30
    assert policy.is_retry("POST", 429, has_retry_after=True)

    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    response = answer("120")
    policy.increment(method="POST", url="/token", response=response).sleep(response)
    assert slept == [30]
    assert said == ["* retry 1 of 2 after HTTP 429; waiting 30.0 s (its Retry-After)"]


@pytest.mark.parametrize(("status", "code"), [(400, 4), (401, 4), (403, 4), (404, 4), (409, 4), (500, 6), (501, 6)])
def test_statuses_outside_the_retry_list_are_tried_once(
    status: int, code: int, profiles: Path, sandbox: Sandbox, secrets: list[str]
) -> None:
    set_fault(sandbox, "nicepay", status=status, times=1)
    run = get("nicepay", "--no-cache", "-v")
    assert run.exit_code == code, run.stderr
    assert f"HTTP {status}" in run.stderr
    assert requests_to(sandbox, "nicepay") == 1
    assert retry_lines(run.stderr) == []
    assert_clean(run.output, secrets)


@pytest.mark.parametrize("provider", ["doku", "finpay-widget", "faspay-sendme"])
def test_shared_secret_rejections_are_tried_once(
    provider: str, profiles: Path, sandbox: Sandbox, secrets: list[str]
) -> None:
    set_fault(sandbox, provider, status=401, times=1)
    run = get(provider, "--no-cache", "-v")
    assert run.exit_code == 4, run.stderr
    assert requests_to(sandbox, provider) == 1
    assert retry_lines(run.stderr) == []
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_dropped_connection_once_is_retried(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "nicepay", drop=True, times=1)
    run = get("nicepay", "--no-cache", "-v")
    assert run.exit_code == 0, run.stderr
    assert requests_to(sandbox, "nicepay") == 2
    (retry,) = retry_lines(run.stderr)
    assert "the connection closed without an answer" in retry
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_dropped_connection_forever_gives_up_after_three_tries(
    profiles: Path, sandbox: Sandbox, secrets: list[str]
) -> None:
    set_fault(sandbox, "faspay-sendme", drop=True)
    run = get("faspay-sendme", "--no-cache")
    assert run.exit_code == 5
    assert f"error: {sandbox.url.removeprefix('http://')} closed the connection without answering" in run.stderr
    assert "hint: retry" in run.stderr
    assert requests_to(sandbox, "faspay-sendme") == 3
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_connection_refused_is_retried_then_exit_5(profiles: Path, secrets: list[str]) -> None:
    port = free_port()
    run = get("nicepay", "--no-cache", "-v", "--base-url", f"http://127.0.0.1:{port}")
    assert run.exit_code == 5
    assert f"error: 127.0.0.1:{port} refused the connection" in run.stderr
    assert "paytoken sandbox" in run.stderr
    retries = retry_lines(run.stderr)
    assert len(retries) == 2 and all("the connection was refused" in line for line in retries)
    assert_clean(run.output, secrets)


# --- deadlines and sizes ----------------------------------------------------------------------------


@pytest.mark.realtime
def test_delay_beyond_the_timeout_is_exit_5_and_not_retried(
    profiles: Path, slow_sandbox: Sandbox, secrets: list[str]
) -> None:
    add_profile_keys(profiles, "doku.demo", "timeout = 1")
    # Only the first answer is late: a retry (which must not happen) would succeed and show up here.
    set_fault(slow_sandbox, "doku", delay=3, times=1)
    started = time.monotonic()
    run = get("doku", "--no-cache", "-v")
    elapsed = time.monotonic() - started
    assert run.exit_code == 5
    assert "accepted the connection but did not answer within 1 s" in run.stderr
    assert "raise timeout in the profile" in run.stderr
    assert requests_to(slow_sandbox, "doku") == 1
    assert retry_lines(run.stderr) == []
    assert elapsed < 2.9
    assert_clean(run.output, secrets)


def test_truncated_json_is_exit_6(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "nicepay", truncate=True)
    run = get("nicepay", "--no-cache")
    assert run.exit_code == 6
    assert "error: NICEPAY SNAP B2B answered HTTP 200 with a body that is not JSON" in run.stderr
    assert requests_to(sandbox, "nicepay") == 1
    assert_clean(run.output, secrets)


def test_oversized_body_is_refused(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "doku", oversize=True)
    run = get("doku", "--no-cache")
    assert run.exit_code == 6
    assert "sent an answer larger than 1024 KiB; paytoken refuses to read it" in run.stderr
    assert requests_to(sandbox, "doku") == 1
    assert_clean(run.output, secrets)


@contextlib.contextmanager
def raw_server(respond: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-connection HTTP server that reads the whole request, then lets `respond` write raw bytes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with connection:
                received = b""
                while b"\r\n\r\n" not in received:
                    received += connection.recv(65536)
                head, _, body = received.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(body) < length:
                    body += connection.recv(65536)
                respond(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        thread.join(5)


def send_chunked(total: int) -> Callable[[socket.socket], None]:
    def respond(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"x" * 65536
        for _ in range(total // len(piece)):
            connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        connection.sendall(b"0\r\n\r\n")

    return respond


def test_oversized_body_without_content_length_is_refused(profiles: Path, secrets: list[str]) -> None:
    # No Content-Length to refuse up front: the cap must hold while reading.
    with raw_server(send_chunked(3 * 1024 * 1024)) as url:
        run = get("nicepay", "--no-cache", "--base-url", url)
    assert run.exit_code == 6, run.stderr
    assert "larger than 1024 KiB" in run.stderr
    assert_clean(run.output, secrets)


def break_mid_answer(reset: bool) -> Callable[[socket.socket], None]:
    def respond(connection: socket.socket) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
            b'{"responseCode":"2007300","responseMessage":"Successful","accessToken":"'
        )
        time.sleep(0.2)
        if reset:  # an RST, as a proxy or a crashing gateway sends it
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return respond


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_connection_broken_mid_answer_is_exit_5(reset: bool, profiles: Path, secrets: list[str]) -> None:
    with raw_server(break_mid_answer(reset)) as url:
        run = get("nicepay", "--no-cache", "--base-url", url)
    assert run.exit_code == 5, run.stderr
    assert "internal error" not in run.stderr
    assert "connection" in run.stderr
    assert_clean(run.output, secrets)


def send_body(body: bytes) -> Callable[[socket.socket], None]:
    def respond(connection: socket.socket) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )

    return respond


@pytest.mark.parametrize(
    ("token", "token_type"),
    [
        ("a';touch PWNED;#", "Bearer"),  # sourced from a dotenv file, this would run a command
        ("abc\ndef", "Bearer"),
        ("abc def", "Bearer"),
        ("abcdefghijklmnop", "Bearer\r\nX-Evil: 1"),  # -o header would print a second header
    ],
    ids=["shell-quote", "newline", "space", "header-injection"],
)
def test_a_token_that_cannot_be_printed_safely_is_exit_6(token: str, token_type: str, profiles: Path) -> None:
    answer = {"responseCode": "2007300", "responseMessage": "Successful", "accessToken": token}
    answer |= {"tokenType": token_type, "expiresIn": "900"}
    with raw_server(send_body(json.dumps(answer).encode())) as url:
        run = paytoken("get", "nicepay", "-p", "demo", "--base-url", url, "-o", "header", "--dotenv", "app.env")
    assert run.exit_code == 6, run.output
    assert run.stdout == ""
    assert "cannot be used as one" in run.stderr and "Traceback" not in run.stderr
    assert token not in run.stderr
    assert not Path("app.env").exists() and not Path("PWNED").exists()
    assert not list(Path(os.environ["PAYTOKEN_CACHE_DIR"]).glob("*.json"))


UNREADABLE_ANSWERS = {
    # Whole tokens, then the answer breaks off: the gateway issued them, paytoken could not read the rest.
    "nicepay": ("TOKEN-nicepay-7d0c2f9a41b8e6", b'{"responseCode":"2007300","responseMessage":"Successful",'),
    "doku": ("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MjQyMjUyNzB9.U0lHTkFUVVJF", b""),
}


@pytest.mark.parametrize("verbose", [False, True], ids=["plain", "verbose"])
@pytest.mark.parametrize("provider", sorted(UNREADABLE_ANSWERS))
def test_token_in_an_unreadable_answer_is_not_printed(
    provider: str, verbose: bool, profiles: Path, secrets: list[str]
) -> None:
    token, prefix = UNREADABLE_ANSWERS[provider]
    field = b'"accessToken"' if provider == "nicepay" else b'"token"'
    body = prefix + field + b':"' + token.encode() + b'","expiresIn":"900","additionalInfo":{"x":'
    with raw_server(send_body(body)) as url:
        run = get(provider, "--no-cache", "--base-url", url, *(["-v"] if verbose else []))
    assert run.exit_code == 6, run.stderr
    assert "not JSON" in run.stderr
    assert_clean(run.output, [*secrets, token])


@pytest.mark.realtime
@pytest.mark.parametrize("part", ["trickle", "trickle_headers"])
def test_trickled_answer_hits_the_total_deadline(
    part: str, profiles: Path, slow_sandbox: Sandbox, secrets: list[str]
) -> None:
    add_profile_keys(profiles, "nicepay.demo", "timeout = 1")
    # A byte every half second, in the body or in the status line and headers, never trips the read timeout;
    # only the whole-request deadline (10 s + 1 s) ends it.
    set_fault(slow_sandbox, "nicepay", **{part: 0.5}, times=1)
    started = time.monotonic()
    run = get("nicepay", "--no-cache")
    elapsed = time.monotonic() - started
    assert run.exit_code == 5, run.stderr
    assert DEADLINE_MESSAGE in run.stderr
    assert "trickles its answer" in run.stderr
    # The upper bound only says the deadline ended it; it leaves room for a machine busy with other work.
    assert 10.5 <= elapsed <= 20.0
    assert requests_to(slow_sandbox, "nicepay") == 1
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_a_long_retry_after_does_not_eat_the_next_try_s_time(profiles: Path, sandbox: Sandbox) -> None:
    add_profile_keys(profiles, "nicepay.demo", "timeout = 0.5")
    # Each try has its own 10 s + timeout: waiting 11 s as asked must not leave the second try none.
    set_fault(sandbox, "nicepay", status=429, retry_after=11, times=1)
    run = get("nicepay", "--no-cache", "-o", "token")
    assert run.exit_code == 0, run.stderr
    assert len(run.stdout.strip()) >= 32
    assert requests_to(sandbox, "nicepay") == 2


@pytest.mark.realtime
def test_answer_that_stalls_mid_body_is_exit_5(profiles: Path, slow_sandbox: Sandbox, secrets: list[str]) -> None:
    add_profile_keys(profiles, "nicepay.demo", "timeout = 1")
    # Headers and the first byte at once, then silence longer than the read timeout.
    set_fault(slow_sandbox, "nicepay", trickle=2.5, times=1)
    started = time.monotonic()
    run = get("nicepay", "--no-cache")
    elapsed = time.monotonic() - started
    assert run.exit_code == 5, run.stderr
    assert "internal error" not in run.stderr
    assert "1 s" in run.stderr
    assert elapsed < 5
    assert requests_to(slow_sandbox, "nicepay") == 1
    assert_clean(run.output, secrets)


# --- TLS -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    key: Path
    self_signed: Path  # for 127.0.0.1
    expired: Path  # for 127.0.0.1, expired yesterday
    wrong_host: Path  # for gateway.example only


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    directory = tmp_path_factory.mktemp("tls")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = directory / "server-key.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    now = datetime.now(UTC)
    loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))

    def certificate(name: str, san: x509.GeneralName, not_before: datetime, not_after: datetime) -> Path:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"paytoken test {name}")])
        built = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256())
        )
        path = directory / f"{name}.pem"
        path.write_bytes(built.public_bytes(serialization.Encoding.PEM))
        return path

    return Certificates(
        key=key_path,
        self_signed=certificate("self-signed", loopback, now - timedelta(hours=1), now + timedelta(days=1)),
        expired=certificate("expired", loopback, now - timedelta(days=30), now - timedelta(days=1)),
        wrong_host=certificate(
            "wrong-host", x509.DNSName("gateway.example"), now - timedelta(hours=1), now + timedelta(days=1)
        ),
    )


@contextlib.contextmanager
def tls_sandbox(workspace: Workspace, certificate: Path, key: Path) -> Iterator[Sandbox]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server = Sandbox(load_config(workspace.sandbox_config)).start(tls=context)
    try:
        assert server.url.startswith("https://127.0.0.1:")
        yield server
    finally:
        server.stop()


def test_tls_self_signed_without_ca_bundle_is_unknown_ca(
    profiles: Path, workspace: Workspace, certificates: Certificates, secrets: list[str]
) -> None:
    with tls_sandbox(workspace, certificates.self_signed, certificates.key) as server:
        run = get("nicepay", "--no-cache", "-v", "--base-url", server.url)
        assert server.stats()["requests"] == 0
    assert run.exit_code == 5
    assert "error: TLS with 127.0.0.1:" in run.stderr
    assert "self-signed (unknown CA)" in run.stderr
    assert "hint:" in run.stderr and "ca_bundle" in run.stderr
    assert retry_lines(run.stderr) == []  # a certificate does not get better by asking again
    assert_clean(run.output, secrets)


def test_tls_ca_bundle_trusts_the_certificate(
    profiles: Path, workspace: Workspace, certificates: Certificates, secrets: list[str]
) -> None:
    add_profile_keys(profiles, "nicepay.demo", f"ca_bundle = {json.dumps(str(certificates.self_signed))}")
    with tls_sandbox(workspace, certificates.self_signed, certificates.key) as server:
        run = get("nicepay", "--no-cache", "--base-url", server.url)
        assert server.stats()["providers"]["nicepay"]["issued"] == 1
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip()
    assert "warning" not in run.stderr
    assert_clean(run.output, secrets)


@pytest.mark.parametrize(
    ("which", "reason"),
    [("expired", "the server's certificate has expired"), ("wrong_host", "another host name (hostname mismatch)")],
)
def test_tls_failure_names_the_reason(
    which: str, reason: str, profiles: Path, workspace: Workspace, certificates: Certificates, secrets: list[str]
) -> None:
    certificate: Path = getattr(certificates, which)
    add_profile_keys(profiles, "nicepay.demo", f"ca_bundle = {json.dumps(str(certificate))}")
    with tls_sandbox(workspace, certificate, certificates.key) as server:
        host = server.url.removeprefix("https://")
        run = get("nicepay", "--no-cache", "-v", "--base-url", server.url)
        assert server.stats()["requests"] == 0
    assert run.exit_code == 5
    assert f"error: TLS with {host} failed: " in run.stderr
    assert reason in run.stderr
    assert "hint:" in run.stderr
    assert retry_lines(run.stderr) == []
    assert_clean(run.output, secrets)


def verify_off_runs(
    profiles: Path, sandbox: Sandbox, workspace: Workspace, certificates: Certificates
) -> list[tuple[Run, int]]:
    """Two real runs with verify_tls = false (the second a cache hit), and the requests that reached the gateway."""
    add_profile_keys(profiles, "nicepay.demo", "verify_tls = false")
    runs = []
    # A certificate for another host that nobody vouches for: only turning verification off gets through.
    with tls_sandbox(workspace, certificates.wrong_host, certificates.key) as server:
        profiles.write_text(profiles.read_text().replace(sandbox.url, server.url))
        for _ in range(2):
            process = paytoken_process("get", "nicepay", "-p", "demo")
            runs.append((Run(process.returncode, process.stdout, process.stderr), server.stats()["requests"]))
    return runs


def test_tls_verify_off_works_and_warns_on_every_use(
    profiles: Path, sandbox: Sandbox, workspace: Workspace, certificates: Certificates, secrets: list[str]
) -> None:
    runs = verify_off_runs(profiles, sandbox, workspace, certificates)
    for run, _ in runs:
        assert run.exit_code == 0, run.stderr
        assert run.stdout.strip()
        assert run.stderr.count("warning: TLS verification is off for [nicepay.demo]") == 1, run.stderr
        assert_clean(run.output, secrets)
    assert [requests for _, requests in runs] == [1, 1]  # the second run was served from the cache, and warned


def test_tls_verify_off_prints_paytokens_warning_not_a_python_one(
    profiles: Path, sandbox: Sandbox, workspace: Workspace, certificates: Certificates
) -> None:
    for run, _ in verify_off_runs(profiles, sandbox, workspace, certificates):
        assert "InsecureRequestWarning" not in run.stderr, run.stderr
        assert "warnings.warn(" not in run.stderr


# --- interrupts ------------------------------------------------------------------------------------


def interrupt_when_requested(sandbox: Sandbox, provider: str, *args: str, after: float = 0.0) -> tuple[int, str, str]:
    """Start `paytoken get` in a subprocess, Ctrl-C it once its request reached the sandbox (plus `after` s)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tidak_cli", "get", provider, "-p", "demo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 15
    while requests_to(sandbox, provider) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=15)
    return process.returncode, stdout, stderr


@pytest.mark.realtime
def test_interrupt_while_waiting_leaves_no_cache_entry(
    profiles: Path, slow_sandbox: Sandbox, secrets: list[str]
) -> None:
    set_fault(slow_sandbox, "doku", delay=20.0, times=1)
    code, stdout, stderr = interrupt_when_requested(slow_sandbox, "doku")
    assert code == 130
    assert stderr.splitlines() == ["paytoken: interrupted"]
    assert stdout == ""
    cache = Path(os.environ["PAYTOKEN_CACHE_DIR"])
    left = sorted(path.name for path in cache.iterdir()) if cache.exists() else []
    assert [name for name in left if not name.endswith(".lock")] == [], left
    assert_clean(stdout + stderr, secrets)


@pytest.mark.realtime
def test_interrupt_mid_answer_leaves_no_dotenv_file(
    profiles: Path, slow_sandbox: Sandbox, isolated: Path, secrets: list[str]
) -> None:
    set_fault(slow_sandbox, "nicepay", trickle=0.2, times=1)
    target = isolated / "token.env"
    code, stdout, stderr = interrupt_when_requested(
        slow_sandbox, "nicepay", "-o", "env", "--dotenv", str(target), after=0.6
    )
    assert code == 130
    assert stderr.splitlines() == ["paytoken: interrupted"]
    assert not target.exists()
    assert [path.name for path in isolated.iterdir()] == ["profiles.toml"]
    cache = Path(os.environ["PAYTOKEN_CACHE_DIR"])
    left = sorted(path.name for path in cache.iterdir()) if cache.exists() else []
    assert [name for name in left if not name.endswith(".lock")] == [], left
    assert_clean(stdout + stderr, secrets)


# --- file hygiene ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_profiles_file_readable_by_others_gets_a_warning(
    mode: int, profiles: Path, sandbox: Sandbox, secrets: list[str]
) -> None:
    profiles.chmod(mode)
    run = get("nicepay")
    assert run.exit_code == 0, run.stderr
    assert f"warning: profiles.toml is readable by other users (mode {mode:04o}); run: chmod 600 profiles.toml" in (
        run.stderr
    )
    assert_clean(run.output, secrets)


def test_private_profiles_file_gets_no_warning(profiles: Path, sandbox: Sandbox) -> None:
    run = get("nicepay")
    assert run.exit_code == 0
    assert "warning" not in run.stderr


def test_key_file_readable_by_others_gets_a_warning(
    profiles: Path, workspace: Workspace, sandbox: Sandbox, isolated: Path, secrets: list[str]
) -> None:
    loose = isolated / "loose.pem"
    loose.write_bytes((workspace.directory / "nicepay" / "private.pem").read_bytes())
    loose.chmod(0o644)
    profiles.write_text(
        profiles.read_text().replace(
            f'private_key_file = "{workspace.directory / "nicepay" / "private.pem"}"', 'private_key_file = "loose.pem"'
        )
    )
    run = get("nicepay", "--no-cache")
    assert run.exit_code == 0, run.stderr
    assert f"warning: {loose} is readable by other users (mode 0644); run: chmod 600 {loose}" in run.stderr
    assert_clean(run.output, secrets)
    loose.chmod(0o600)
    assert "warning" not in get("nicepay", "--no-cache").stderr


@contextlib.contextmanager
def permissive_umask() -> Iterator[None]:
    # With umask 0 a mode comes only from how the file is created: nothing narrows it by accident.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize("passphrase", [False, True])
def test_keygen_writes_the_private_key_0600(passphrase: bool, isolated: Path) -> None:
    with permissive_umask():
        if passphrase:
            run = paytoken("keygen", "--out", "keys", "--passphrase", input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
        else:
            run = paytoken("keygen", "--out", "keys")
    assert run.exit_code == 0, run.stderr
    assert (isolated / "keys" / "private.pem").stat().st_mode & 0o777 == 0o600
    assert (isolated / "keys" / "public.pem").stat().st_mode & 0o777 == 0o644
    assert_clean(run.output, [PASSPHRASE])


def test_dotenv_is_created_0600(profiles: Path, sandbox: Sandbox, isolated: Path, secrets: list[str]) -> None:
    target = isolated / "token.env"
    with permissive_umask():
        run = get("doku", "-o", "env", "--dotenv", str(target))
    assert run.exit_code == 0, run.stderr
    assert target.stat().st_mode & 0o777 == 0o600
    assert "PAYTOKEN_ACCESS_TOKEN=" in target.read_text()
    assert_clean(run.output + target.read_text(), secrets)


def test_dotenv_that_others_could_read_is_narrowed_and_keeps_its_lines(
    profiles: Path, sandbox: Sandbox, isolated: Path
) -> None:
    target = isolated / "app.env"
    target.write_text("DATABASE_URL='postgres://localhost/app'\n")
    target.chmod(0o644)
    run = get("doku", "-o", "env", "--dotenv", str(target))
    assert run.exit_code == 0, run.stderr
    assert target.stat().st_mode & 0o777 == 0o600
    assert "DATABASE_URL='postgres://localhost/app'" in target.read_text()
    assert "PAYTOKEN_ACCESS_TOKEN=" in target.read_text()


# --- redaction -------------------------------------------------------------------------------------


def test_debug_traceback_on_a_config_error_shows_no_secret(
    profiles: Path, workspace: Workspace, secrets: list[str]
) -> None:
    # The key inline, one line of it damaged, and a passphrase beside it: every line is secret material.
    lines = (workspace.directory / "nicepay" / "private.pem").read_text().splitlines()
    lines[5] = "!" * len(lines[5])
    inline = "\n".join(lines)
    text = profiles.read_text()
    start = text.index("[nicepay.demo]")
    end = text.index("\n\n", start)
    profiles.write_text(
        text[:start]
        + '[nicepay.demo]\nclient_id = "DEMO-NICEPAY-001"\nbase_url = "http://127.0.0.1:9"\n'
        + f'private_key = """{inline}"""\n'
        + f'private_key_passphrase = "{PASSPHRASE}"\n'
        + text[end:]
    )
    run = paytoken("--debug", "get", "nicepay", "-p", "demo")
    assert run.exit_code == 3
    assert "Traceback (most recent call last)" in run.stderr
    assert "is not a readable private key" in run.stderr
    for secret in secrets:
        assert secret not in run.output, f"secret in --debug output: {secret[:6]}…"
    quiet = get("nicepay")
    assert quiet.exit_code == 3
    assert_clean(quiet.output, secrets)


@pytest.mark.parametrize("provider", ["doku", "finpay-widget", "faspay-sendme", "snap"])
def test_debug_traceback_on_a_rejection_shows_no_secret(
    provider: str, profiles: Path, sandbox: Sandbox, workspace: Workspace, secrets: list[str]
) -> None:
    set_fault(sandbox, provider, status=401, times=1)
    run = paytoken("--debug", "get", provider, "-p", "demo", "-v", "--no-cache")
    assert run.exit_code == 4
    assert "Traceback (most recent call last)" in run.stderr
    for secret in [*secrets, *disguised_secrets(workspace)]:
        assert secret not in run.output, f"secret in --debug output: {secret[:6]}…"


def test_profiles_show_masks_every_secret(
    profiles: Path, workspace: Workspace, isolated: Path, secrets: list[str]
) -> None:
    pem = serialization.load_pem_private_key((workspace.directory / "snap" / "private.pem").read_bytes(), None)
    encrypted = pem.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()
    profiles.write_text(
        profiles.read_text() + f'\n[snap.inline]\nclient_id = "DEMO-SNAP-004"\nbase_url = "http://127.0.0.1:9"\n'
        f'private_key = """{encrypted}"""\nprivate_key_passphrase = "{PASSPHRASE}"\n'
    )
    encrypted_lines = [line for line in encrypted.splitlines() if "-----" not in line]
    names = [f"{provider}.demo" for provider in PROVIDERS] + ["snap.inline"]
    for name in names:
        run = paytoken("profiles", "show", name)
        assert run.exit_code == 0, run.stderr
        assert_clean(run.output, [*secrets, *encrypted_lines, *disguised_secrets(workspace)])
    inline = paytoken("profiles", "show", "snap.inline")
    assert "private_key_passphrase" in inline.stdout and "••••" in inline.stdout
    doku = paytoken("profiles", "show", "doku.demo")
    assert "secret_key" in doku.stdout and "••••" in doku.stdout


def test_cache_list_never_shows_tokens_or_secrets(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    tokens = []
    for provider in PROVIDERS:
        run = get(provider, "-o", "json")
        assert run.exit_code == 0, run.stderr
        tokens.append(json.loads(run.stdout)["access_token"])
    listing = paytoken("cache", "list")
    assert listing.exit_code == 0, listing.stderr
    for provider in PROVIDERS:
        assert provider in listing.stdout
    assert_clean(listing.output, [*secrets, *tokens])


def test_sandbox_request_log_masks_credentials(
    profiles: Path, sandbox: Sandbox, workspace: Workspace, secrets: list[str]
) -> None:
    signed = json.loads(paytoken("sign", "faspay-sendme", "-p", "demo", "-o", "json").stdout)
    faspay_authorization = signed["headers"]["faspay-authorization"]
    for provider in ("finpay-widget", "faspay-sendme"):
        assert get(provider, "--no-cache").exit_code == 0
    seen = fetch_json(f"{sandbox.url}/_sandbox/requests")["requests"]
    assert isinstance(seen, list)
    by_provider = {entry["provider"]: entry["headers"] for entry in seen}
    assert by_provider["finpay-widget"]["authorization"].startswith("Basic ••••")
    assert by_provider["faspay-sendme"]["faspay-authorization"].startswith("••••")
    assert_clean(json.dumps(seen, ensure_ascii=False), [*secrets, *disguised_secrets(workspace), faspay_authorization])


# --- the grep: every output of a representative session --------------------------------------------


def test_no_secret_in_any_output(profiles: Path, workspace: Workspace, isolated: Path, secrets: list[str]) -> None:
    log: list[str] = []
    server = Sandbox(load_config(workspace.sandbox_config), log=log.append).start()
    pem = serialization.load_pem_private_key((workspace.directory / "nicepay" / "private.pem").read_bytes(), None)
    (isolated / "locked.pem").write_bytes(
        pem.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    (isolated / "locked.pem").chmod(0o600)
    profiles.write_text(
        profiles.read_text() + f'\n[nicepay.locked]\nclient_id = "DEMO-NICEPAY-001"\nprivate_key_file = "locked.pem"\n'
        f'private_key_passphrase = "{PASSPHRASE}"\nbase_url = "{server.url}"\n'
        f'\n[nicepay.wrongpass]\nclient_id = "DEMO-NICEPAY-001"\nprivate_key_file = "locked.pem"\n'
        f'private_key_passphrase = "{PASSPHRASE} but wrong"\nbase_url = "{server.url}"\n'
    )
    at = ("--base-url", server.url)
    plain: list[Run] = []  # outputs in which not even a disguised secret may appear
    debug: list[Run] = []  # --debug runs: a traceback is expected there, a secret still is not
    exact: list[Run] = []  # sign -o json / curl: they exist to show the exact headers, Basic credentials included
    try:
        for provider in PROVIDERS:
            plain.append(paytoken("get", provider, "-p", "demo", *at))
            plain.append(paytoken("get", provider, "-p", "demo", "-v", "--no-cache", "-o", "json", *at))
            plain.append(paytoken("sign", provider, "-p", "demo", *at))
            plain.append(paytoken("sign", provider, "-p", "demo", "--hex", "--compare", "AAAA", *at))
            exact.append(paytoken("sign", provider, "-p", "demo", "-o", "json", *at))
            exact.append(paytoken("sign", provider, "-p", "demo", "-o", "curl", *at))
            plain.append(paytoken("profiles", "show", f"{provider}.demo"))
            plain.append(paytoken("doctor", provider, "-p", "demo", "--base-url", server.url))
            for fault in ({"status": 401}, {"status": 500}, {"html": True}, {"truncate": True}):
                set_fault(server, provider, **fault, times=1)
                debug.append(paytoken("--debug", "get", provider, "-p", "demo", "-v", "--no-cache", *at))
        plain.append(paytoken("get", "nicepay", "-p", "locked", "-v", "--no-cache"))
        debug.append(paytoken("--debug", "get", "nicepay", "-p", "wrongpass", "-v", "--no-cache"))
        plain.append(paytoken("profiles", "show", "nicepay.locked"))
        plain.append(paytoken("profiles", "list"))
        plain.append(paytoken("cache", "list"))
        seen = json.dumps(fetch_json(f"{server.url}/_sandbox/requests"), ensure_ascii=False)
    finally:
        server.stop()
    assert any(run.exit_code == 0 for run in plain)
    assert {run.exit_code for run in debug} == {3, 4, 6}  # wrong passphrase, rejections, gateway failures
    assert all("Traceback (most recent call last)" in run.stderr for run in debug)
    disguised = disguised_secrets(workspace)
    wrong = f"{PASSPHRASE} but wrong"
    for run in plain:
        assert_clean(run.output, [*secrets, *disguised, wrong])
    for run in debug:
        assert_clean(run.output.replace("Traceback (most recent call last)", ""), [*secrets, *disguised, wrong])
    for run in exact:
        assert_clean(run.output, [*secrets, wrong])
    assert_clean("\n".join(log) + seen, [*secrets, *disguised, wrong])
