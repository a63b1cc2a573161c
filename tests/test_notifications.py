"""`paytoken verify` and `paytoken notify` (SPEC 7): notifications checked against independent implementations.

Notifications are made here by the openssl command line (RSA) and by Python's hmac written in this file, never
by paytoken's recipes; paytoken's own signatures (notify) are checked by the same independent code. The round
trip runs through a real HTTP receiver on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import assert_clean, paytoken, serving, watchdog

from tidak_cli import verify_notification
from tidak_cli.errors import UsageError
from tidak_cli.inbound import read_inbound

JAKARTA = timezone(timedelta(hours=7))
ROOT = Path(__file__).resolve().parent.parent

# SPEC 7's vector (nodejs-nicepay README).
VECTOR_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApizrKJl/1Legp3Zj8f0oTIjKnUWe2HJCBSoRsVLxtpf0Dr1MI+23y+AMNKKxVXxbv"
    "ReZq/sD91uN4GFYMUr16LY9oX7nJXh9C1JlI4/Xb/Q9MF30o1XYvogHLATtvTR/KQ8hxrf6Nlj/yuzeqrT+PiQMZt1CaKiE6UMn36kq11DmDq4oc"
    "wcNhChKDudNZSZ4YYIFn5IgH05K+VsRjehpa0szbO8qHmvnprXVVcqvk7ZSS+6fYwDynOq0f552aL0LWX0glNhh9F0oJqmTreW4lM0mdhNDq4Ghl"
    "JZl5IpaUiaGRM2Rz/t6spgwR7nqUhI9aE2kjzaorgP4ZWUGm3wlTwIDAQAB"
)
VECTOR_SIGNATURE = (
    "VoxMPjbcV9pro4YyHGQgoRj4rDVJgYk2Ecxn+95B90w47Wnabtco35BfhGpR7a5RukUNnAdeOEBNczSFk4B9uYyu3jc+ceX+Dvz5OYSgSnw5CiMH"
    "tGiVnTAqCM/yHZ2MRpIEqekBc4BWMLVtexSWp0YEJjLyo9dZPrSkSbyLVuD7jkUbvmEpVdvK0uK15xb8jueCcDA6LYVXHkq/OMggS1/5mrLNriBh"
    "CGLuR7M7hBUJbhpOXSJJEy7XyfItTBA+3MRC2FLcvUpMDrn/wz1uH1+b9A6FP7mG0bRSBOm2BTLyf+xJR5+cdd88RhF70tNQdQxhqr4okVo3IFq"
    "lCz2FFg=="
)
CLIENT_SECRET = "DOKU-SNAP-CLIENT-SECRET-EXAMPLE"
SECRET_KEY = "SK-NOTIFY-EXAMPLE-SECRET"
BODY = (
    b'{"partnerServiceId":"   88899","customerNo":"1234","virtualAccountNo":"   888991234","trxId":"INV-1",'
    b'"paidAmount":{"value":"150000.00","currency":"IDR"},"additionalInfo":{"receipt":"https://merchant.example/r/1"}}'
)


# --- independent implementations ----------------------------------------------------------------------


def openssl_key(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA key pair made by the openssl command line."""
    private, public = directory / f"{name}.pem", directory / f"{name}.pub.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(private)],
        check=True,
        capture_output=True,
    )
    subprocess.run(["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)], check=True)
    return private, public


def openssl_sign(private: Path, message: str) -> str:
    done = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(private)], input=message.encode(), capture_output=True, check=True
    )
    return base64.b64encode(done.stdout).decode()


def openssl_verifies(public: Path, message: str, signature: str, tmp: Path) -> bool:
    signature_file = tmp / f"sig-{uuid.uuid4().hex}.bin"
    signature_file.write_bytes(base64.b64decode(signature))
    done = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", str(public), "-signature", str(signature_file)],
        input=message.encode(),
        capture_output=True,
        check=False,
    )
    return done.returncode == 0 and b"Verified OK" in done.stdout


def snap_string(method: str, path: str, body: bytes, stamp: str, token: str | None = None) -> str:
    middle = f"{token}:" if token is not None else ""
    return f"{method}:{path}:{middle}{hashlib.sha256(body).hexdigest()}:{stamp}"


def hmac_sha512_b64(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha512).digest()).decode()


def doku_signature(secret: str, client_id: str, request_id: str, stamp: str, target: str, body: bytes) -> str:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    text = f"Client-Id:{client_id}\nRequest-Id:{request_id}\nRequest-Timestamp:{stamp}\nRequest-Target:{target}"
    text += f"\nDigest:{digest}" if body else ""
    raw = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return "HMACSHA256=" + base64.b64encode(raw).decode()


def raw_request(path: str, headers: dict[str, str], body: bytes, *, crlf: bool = True) -> bytes:
    end = "\r\n" if crlf else "\n"
    head = f"POST {path} HTTP/1.1{end}Host: merchant.example{end}"
    head += "".join(f"{name}: {value}{end}" for name, value in headers.items())
    head += f"Content-Length: {len(body)}{end}{end}"
    return head.encode() + body


def jakarta(moment: datetime) -> str:
    return moment.astimezone(JAKARTA).isoformat(timespec="seconds")


def utc_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- fixtures ------------------------------------------------------------------------------------------


class Keys:
    def __init__(self, directory: Path) -> None:
        self.gateway, self.gateway_public = openssl_key(directory, "gateway")
        self.merchant, self.merchant_public = openssl_key(directory, "merchant")


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("notification-keys"))


def write_profiles(where: Path, keys: Keys, gateway_public: Path | None = None) -> Path:
    public = gateway_public or keys.gateway_public
    path = where / "profiles.toml"
    path.write_text(
        f"""
[nicepay.dev]
client_id = "TNICEVA023"
private_key_file = "{keys.merchant}"
public_key_file = "{keys.merchant_public}"
notification_public_key_file = "{public}"

[snap.dev]
client_id = "BANK-CLIENT-1"
base_url = "https://bank.example"
private_key_file = "{keys.merchant}"
gateway_public_key_file = "{public}"

[doku-snap.dev]
client_id = "BRN-0001-1"
private_key_file = "{keys.merchant}"
gateway_public_key_file = "{public}"
client_secret = "{CLIENT_SECRET}"

[doku.dev]
client_id = "MCH-0001-10791114622547"
secret_key = "{SECRET_KEY}"

[snap.nokey]
client_id = "BANK-CLIENT-1"
base_url = "https://bank.example"
private_key_file = "{keys.merchant}"
""",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def profiles(isolated: Path, keys: Keys) -> Path:
    return write_profiles(isolated, keys)


def verify(provider: str, capture: bytes, *extra: str, profile: str = "dev") -> tuple[int, dict[str, object], str]:
    path = Path(f"capture-{uuid.uuid4().hex}.txt")
    path.write_bytes(capture)
    run = paytoken("verify", provider, "-p", profile, "--capture", str(path), "-o", "json", *extra)
    assert_clean(run.output, [CLIENT_SECRET, SECRET_KEY])
    document = json.loads(run.stdout) if run.stdout.strip() else {}
    return run.exit_code, document, run.stderr


# --- notifications made independently --------------------------------------------------------------------


def nicepay_capture(keys: Keys, moment: datetime, *, key: Path | None = None, body: bytes = BODY) -> bytes:
    stamp = jakarta(moment)
    signature = openssl_sign(key or keys.gateway, f"TNICEVA023|{stamp}")
    headers = {"Content-Type": "application/json", "X-TIMESTAMP": stamp, "X-CLIENT-KEY": "TNICEVA023"}
    return raw_request("/api/v1.0/transfer-va/payment", {**headers, "X-SIGNATURE": signature}, body)


def snap_capture(
    keys: Keys, moment: datetime, *, signed_body: bytes = BODY, sent_body: bytes = BODY, crlf: bool = True
) -> bytes:
    stamp = jakarta(moment)
    signature = openssl_sign(keys.gateway, snap_string("POST", "/v1.0/transfer-va/payment", signed_body, stamp))
    headers = {"Content-Type": "application/json", "X-TIMESTAMP": stamp, "X-SIGNATURE": signature}
    return raw_request("/v1.0/transfer-va/payment", {**headers, "X-EXTERNAL-ID": "123"}, sent_body, crlf=crlf)


def doku_snap_symmetric_capture(moment: datetime, *, signed_body: bytes = BODY, sent_body: bytes = BODY) -> bytes:
    stamp, token = jakarta(moment), "TOKEN-FROM-MERCHANT"
    signature = hmac_sha512_b64(
        CLIENT_SECRET, snap_string("POST", "/v1/transfer-va/payment", signed_body, stamp, token)
    )
    headers = {"X-TIMESTAMP": stamp, "X-SIGNATURE": signature, "Authorization": f"Bearer {token}"}
    return raw_request("/v1/transfer-va/payment", headers, sent_body)


def doku_capture(moment: datetime, *, signed_body: bytes = BODY, sent_body: bytes = BODY) -> bytes:
    stamp, request_id = utc_z(moment), str(uuid.uuid4())
    signature = doku_signature(
        SECRET_KEY, "MCH-0001-10791114622547", request_id, stamp, "/payments/notifications", signed_body
    )
    headers = {
        "Client-Id": "MCH-0001-10791114622547",
        "Request-Id": request_id,
        "Request-Timestamp": stamp,
        "Signature": signature,
    }
    return raw_request("/payments/notifications", headers, sent_body)


def now() -> datetime:
    return datetime.now(UTC)


# --- the vector ------------------------------------------------------------------------------------------


def test_the_nicepay_vector_of_spec_7_verifies(isolated: Path) -> None:
    (isolated / "nicepay-notification.b64").write_text(VECTOR_KEY)
    profiles = isolated / "profiles.toml"
    profiles.write_text(
        '[nicepay.dev]\nclient_id = "TNICEVA023"\nprivate_key = "unused"\n'
        'notification_public_key_file = "nicepay-notification.b64"\n'
    )
    headers = {
        "X-TIMESTAMP": "2024-08-19T17:12:40+07:00",
        "X-CLIENT-KEY": "TNICEVA023",
        "X-SIGNATURE": VECTOR_SIGNATURE,
    }
    capture = raw_request("/api/v1.0/transfer-va/payment", headers, b"{}")
    code, verdict, _ = verify("nicepay", capture, "--received-at", "2024-08-19T17:12:45+07:00")
    assert (code, verdict["authentic"], verdict["string_to_sign"]) == (0, True, "TNICEVA023|2024-08-19T17:12:40+07:00")
    # The same, checked today: authentic signature, but a notification that old is a replay.
    code, verdict, _ = verify("nicepay", capture)
    assert (code, verdict["mistake"]) == (1, "replayed")
    tampered = capture.replace(b"17:12:40", b"17:12:41")
    code, verdict, _ = verify("nicepay", tampered, "--received-at", "2024-08-19T17:12:45+07:00")
    assert (code, verdict["mistake"]) == (1, "other-bytes")


def test_an_authentic_nicepay_notification_says_its_body_is_not_signed(profiles: Path, keys: Keys) -> None:
    # NICEPAY signs X-CLIENT-KEY|X-TIMESTAMP only: an amount changed in transit keeps the signature authentic,
    # so the verdict must say that the body proves nothing (a handler confirms the payment with the gateway).
    capture = nicepay_capture(keys, now())
    forged = nicepay_capture(keys, now(), body=BODY.replace(b"}", b',"forged":"999999.00"}', 1))
    assert b"forged" in forged
    for notification in (capture, forged):
        code, verdict, _ = verify("nicepay", notification)
        assert (code, verdict["authentic"], verdict["body_signed"]) == (0, True, False)
        assert any("body is NOT signed" in finding for finding in verdict["findings"])
    code, verdict, _ = verify("snap", snap_capture(keys, now()))
    assert (code, verdict["authentic"], verdict["body_signed"]) == (0, True, True)


# --- each recipe against an independent implementation --------------------------------------------------


@pytest.mark.parametrize("crlf", [True, False], ids=["crlf", "lf"])
def test_rsa_notifications_made_by_openssl_verify(profiles: Path, keys: Keys, crlf: bool) -> None:
    code, verdict, _ = verify("nicepay", nicepay_capture(keys, now()))
    assert (code, verdict["authentic"]) == (0, True)
    for provider in ("snap", "doku-snap"):
        code, verdict, _ = verify(provider, snap_capture(keys, now(), crlf=crlf))
        assert (code, verdict["authentic"], verdict["mistake"]) == (0, True, None), provider


def test_hmac_notifications_made_by_python_hmac_verify(profiles: Path) -> None:
    code, verdict, _ = verify("doku-snap", doku_snap_symmetric_capture(now()))
    assert (code, verdict["authentic"]) == (0, True)
    assert str(verdict["recipe"]).startswith("HMAC-SHA512")
    code, verdict, _ = verify("doku", doku_capture(now()))
    assert (code, verdict["authentic"]) == (0, True)


class Receiver(BaseHTTPRequestHandler):
    """A merchant's receiver: keeps each request as it arrived (raw HTTP) and answers SNAP success."""

    received: ClassVar[list[bytes]] = []
    answer: ClassVar[tuple[int, bytes]] = (200, b'{"responseCode":"2002500","responseMessage":"Successful"}')

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received.append(f"{self.requestline}\r\n{self.headers}".replace("\n", "\r\n").encode() + body)
        status, answer = Receiver.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    Receiver.answer = (200, b'{"responseCode":"2002500","responseMessage":"Successful"}')
    with serving(Receiver) as url:
        yield url


ROUND_TRIPS = [("nicepay", ()), ("snap", ()), ("doku-snap", ()), ("doku-snap", ("--symmetric",)), ("doku", ())]


@pytest.mark.parametrize(("provider", "flags"), ROUND_TRIPS, ids=[" ".join((p, *f)) for p, f in ROUND_TRIPS])
def test_notify_to_a_real_receiver_then_verify_what_it_captured(
    isolated: Path, keys: Keys, receiver: str, provider: str, flags: tuple[str, ...]
) -> None:
    from tidak_cli.notifying import gateway_key

    # The receiver is configured with the sandbox's gateway key, as `paytoken sandbox` tells one to.
    write_profiles(isolated, keys, gateway_public=Path(gateway_key().public_path))
    run = paytoken("notify", provider, "-p", "dev", "--to", receiver, "-o", "json", *flags)
    assert run.exit_code == 0, run.output
    sent = json.loads(run.stdout)
    assert sent["success"] is True and len(Receiver.received) == 1
    code, verdict, stderr = verify(provider, Receiver.received[0])
    assert (code, verdict["authentic"]) == (0, True), stderr
    assert verdict["string_to_sign"] == sent["request"]["string_to_sign"]
    request = sent["request"]
    if provider == "doku":
        headers = request["headers"]
        expected = doku_signature(
            SECRET_KEY, headers["Client-Id"], headers["Request-Id"], headers["Request-Timestamp"],
            "/payments/notifications", request["body"].encode(),
        )  # fmt: skip
        assert request["signature"] == expected
    elif flags:
        assert request["signature"] == hmac_sha512_b64(CLIENT_SECRET, request["string_to_sign"])
    else:
        public = Path(gateway_key().public_path)
        assert openssl_verifies(public, request["string_to_sign"], request["signature"], isolated)
        if provider != "nicepay":
            path = "/v1.0/transfer-va/payment" if provider == "snap" else "/v1/transfer-va/payment"
            stamp = request["headers"]["X-TIMESTAMP"]
            assert request["string_to_sign"] == snap_string("POST", path, request["body"].encode(), stamp)


@pytest.mark.parametrize(
    ("provider", "flags", "keyed"),
    [("nicepay", (), True), ("snap", (), True), ("doku-snap", ("--symmetric",), False), ("doku", (), False)],
)
def test_notify_names_the_gateway_key_only_when_it_signed_with_it(
    isolated: Path, keys: Keys, receiver: str, provider: str, flags: tuple[str, ...], keyed: bool
) -> None:
    from tidak_cli.notifying import gateway_key

    write_profiles(isolated, keys)
    run = paytoken("notify", provider, "-p", "dev", "--to", receiver, "-o", "pretty", *flags)
    assert run.exit_code == 0, run.output
    said = f"signed with the sandbox's gateway key (public half: {gateway_key().public_path})"
    assert (said in run.stdout) is keyed, run.stdout


@pytest.mark.parametrize("provider", ["nicepay", "snap", "doku"])
def test_symmetric_is_refused_where_the_gateway_signs_one_way_before_sending(
    isolated: Path, keys: Keys, receiver: str, provider: str
) -> None:
    write_profiles(isolated, keys)
    run = paytoken("notify", provider, "-p", "dev", "--to", receiver, "--symmetric")
    assert run.exit_code == 2, run.output
    assert f"--symmetric is not for {provider}" in run.stderr and "doku-snap" in run.stderr
    assert Receiver.received == []
    assert_clean(run.output)


def test_the_sandbox_gateway_key_is_made_once_and_private(isolated: Path) -> None:
    from tidak_cli.notifying import gateway_key

    first, second = gateway_key(), gateway_key()
    private = Path(first.public_path).with_name("private.pem")
    assert (private.stat().st_mode & 0o777, private.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert first.private_key.private_numbers() == second.private_key.private_numbers()


# --- the mistakes, each from a notification made wrong independently ------------------------------------


def test_a_body_reserialized_before_hashing_is_named(profiles: Path, keys: Keys) -> None:
    pretty = json.dumps(json.loads(BODY), indent=2).encode()
    code, verdict, stderr = verify("snap", snap_capture(keys, now(), signed_body=BODY, sent_body=pretty))
    assert (code, verdict["mistake"]) == (1, "body-reserialized")
    assert "request.get_data()" in str(verdict["fix"]) and "not authentic" in stderr
    code, verdict, _ = verify("doku", doku_capture(now(), signed_body=BODY, sent_body=pretty))
    assert (code, verdict["mistake"]) == (1, "body-reserialized")
    code, verdict, _ = verify("doku-snap", doku_snap_symmetric_capture(now(), signed_body=BODY, sent_body=pretty))
    assert (code, verdict["mistake"]) == (1, "body-reserialized")


def test_slash_escaping_is_named(profiles: Path, keys: Keys) -> None:
    escaped = BODY.replace(b"/", b"\\/")  # as PHP's json_encode writes it
    code, verdict, _ = verify("snap", snap_capture(keys, now(), signed_body=escaped, sent_body=BODY))
    assert (code, verdict["mistake"]) == (1, "slash-escaping")
    code, verdict, _ = verify("doku", doku_capture(now(), signed_body=BODY, sent_body=escaped))
    assert (code, verdict["mistake"]) == (1, "slash-escaping")


def test_the_transaction_key_in_place_of_the_notification_key_is_named(isolated: Path, keys: Keys) -> None:
    # The receiver holds the merchant's own (transaction) public key where NICEPAY's notification key belongs.
    write_profiles(isolated, keys, gateway_public=keys.merchant_public)
    code, verdict, _ = verify("nicepay", nicepay_capture(keys, now()))
    assert (code, verdict["mistake"]) == (1, "wrong-key")
    assert any("your own transaction key" in finding for finding in verdict["findings"])  # type: ignore[attr-defined]


def test_a_notification_signed_with_another_of_the_profiles_keys_is_named(profiles: Path, keys: Keys) -> None:
    code, verdict, _ = verify("nicepay", nicepay_capture(keys, now(), key=keys.merchant))
    assert (code, verdict["mistake"]) == (1, "wrong-key")
    assert "opens with public_key_file" in str(verdict["reason"])


@pytest.mark.parametrize(
    ("offset", "mistake"),
    [
        (timedelta(hours=-7), "timestamp-window"),
        (timedelta(minutes=10), "timestamp-window"),
        (timedelta(hours=-3, minutes=-17), "replayed"),
        (timedelta(days=-2, minutes=-5), "replayed"),
    ],
    ids=["7-hours-off", "from-the-future", "hours-old", "days-old"],
)
def test_a_timestamp_outside_the_window_and_a_replay_are_named(
    profiles: Path, keys: Keys, offset: timedelta, mistake: str
) -> None:
    moment = now() + offset
    for provider, capture in (("nicepay", nicepay_capture(keys, moment)), ("doku", doku_capture(moment))):
        code, verdict, _ = verify(provider, capture)
        assert (code, verdict["mistake"]) == (1, mistake), provider
    # A capture checked later is judged at the moment it arrived.
    code, verdict, _ = verify("doku", doku_capture(moment), "--received-at", utc_z(moment + timedelta(seconds=3)))
    assert (code, verdict["authentic"]) == (0, True)


def test_a_tampered_notification_is_refused_with_its_reason(profiles: Path, keys: Keys) -> None:
    tampered = BODY.replace(b"150000.00", b"950000.00")
    code, verdict, stderr = verify("snap", snap_capture(keys, now(), signed_body=BODY, sent_body=tampered))
    assert (code, verdict["mistake"]) == (1, "other-bytes")
    assert "tampered" in str(verdict["findings"]) and "error: the notification is not authentic" in stderr
    code, verdict, _ = verify("doku", doku_capture(now(), signed_body=BODY, sent_body=tampered))
    assert (code, verdict["mistake"]) == (1, "no-match")


def test_a_missing_key_is_exit_3_naming_it(profiles: Path, keys: Keys) -> None:
    code, _, stderr = verify("snap", snap_capture(keys, now()), profile="nokey")
    assert code == 3 and "gateway_public_key_file is not set" in stderr


def test_a_provider_without_a_notification_recipe_says_so(profiles: Path) -> None:
    run = paytoken("verify", "finpay-snap", "-p", "dev", "--capture", "-", input="POST / HTTP/1.1\n\n")
    assert run.exit_code == 2 and "finpay-snap has no notification recipe" in run.stderr


# --- hostile captures --------------------------------------------------------------------------------------


def hostile_captures(keys: Keys) -> dict[str, bytes]:
    good = snap_capture(keys, now())
    head, _, body = good.partition(b"\r\n\r\n")
    signature_line = next(line for line in head.split(b"\r\n") if line.startswith(b"X-SIGNATURE"))
    return {
        "empty": b"",
        "binary": bytes(range(256)) * 20,
        "nul-in-headers": good.replace(b"Host:", b"Ho\x00st:"),
        "truncated": good[:-20],
        "no-blank-line": head,
        "two-lengths": good.replace(b"Content-Length:", b"Content-Length: 1\r\nContent-Length:"),
        "huge-headers-only": b"POST / HTTP/1.1\r\n" + b"X-A: " + b"a" * 1_900_000 + b"\r\n\r\n",
        "json-not-a-dump": b'{"a": 1}',
        "bad-chunks": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "control-bytes-request-line": b"\x1b[31mPOST /x HTTP/1.1\r\n\r\n",
        "duplicate-signature": head.replace(signature_line, signature_line + b"\r\n" + signature_line)
        + b"\r\n\r\n"
        + body,
    }


def test_hostile_captures_end_in_one_message_and_an_exit_code(profiles: Path, keys: Keys) -> None:
    for name, capture in hostile_captures(keys).items():
        code, verdict, stderr = verify("snap", capture)
        assert code in (1, 2), (name, code, stderr)
        assert stderr.count("error:") == 1 and "Traceback" not in stderr, (name, stderr)
        assert "\x1b" not in stderr and "\x00" not in stderr, name
        if name == "duplicate-signature":
            assert verdict["mistake"] == "duplicate-header"
        if name == "truncated":
            assert "truncated" in stderr


def test_a_capture_over_the_size_limit_is_refused(profiles: Path) -> None:
    Path("huge.txt").write_bytes(b"POST / HTTP/1.1\r\nContent-Length: 3000000\r\n\r\n" + b"x" * 3_000_000)
    run = paytoken("verify", "snap", "-p", "dev", "--capture", "huge.txt")
    assert run.exit_code == 2 and "at most" in run.stderr and "Traceback" not in run.output
    run = paytoken("verify", "snap", "-p", "dev", "--capture", "-", input="x" * 2_200_000)
    assert run.exit_code == 2 and "larger than" in run.stderr


@given(st.binary(max_size=600))
def test_the_capture_reader_takes_any_bytes(data: bytes) -> None:
    try:
        found = read_inbound(data)
    except UsageError:
        return
    assert isinstance(found.body, bytes) and found.target.startswith("/")


def test_tcpdump_a_output_and_json_dumps_are_read(profiles: Path, keys: Keys) -> None:
    capture = snap_capture(keys, now())
    payload = capture.replace(b"\r\n", b"\n")  # tcpdump -A drops a CR before a LF
    header_bytes = b"E..t..@.@.<...........P.....P......."  # the IP and TCP headers, as printed
    dump = (
        (
            f"17:12:40.123456 IP 127.0.0.1.50000 > 127.0.0.1.8000: Flags [P.], seq 1:{len(capture)}, ack 1, "
            f"length {len(capture)}\n"
        ).encode()
        + header_bytes
        + payload
        + b"\n17:12:40.123999 IP 127.0.0.1.8000 > 127.0.0.1.50000: Flags [.], length 0\n"
    )
    code, verdict, stderr = verify("snap", dump)
    assert (code, verdict["authentic"]) == (0, True), stderr
    head, _, body = capture.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    method, target, _ = lines[0].split(" ")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    document = {"method": method, "url": f"https://merchant.example{target}", "headers": headers, "body": body.decode()}
    code, verdict, stderr = verify("snap", json.dumps(document).encode())
    assert (code, verdict["authentic"]) == (0, True), stderr


# --- notify sends once ------------------------------------------------------------------------------------


def test_notify_judges_the_receivers_answer_and_never_resends(isolated: Path, keys: Keys, receiver: str) -> None:
    from tidak_cli.notifying import gateway_key

    write_profiles(isolated, keys, gateway_public=Path(gateway_key().public_path))
    Receiver.answer = (200, b'{"responseCode":"4012500","responseMessage":"Unauthorized. Signature"}')
    run = paytoken("notify", "snap", "-p", "dev", "--to", receiver)
    assert run.exit_code == 4 and "4012500" in run.stderr and len(Receiver.received) == 1
    Receiver.received = []
    Receiver.answer = (503, b"busy")
    run = paytoken("notify", "snap", "-p", "dev", "--to", receiver)
    assert run.exit_code == 6 and len(Receiver.received) == 1  # a 503 is not a reason to send a payment twice
    assert_clean(run.output)


class Hangup(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:
        Hangup.count += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.connection.close()  # took the notification, answered nothing

    def log_message(self, *_: object) -> None:
        pass


def test_a_receiver_that_hangs_up_after_reading_gets_it_once(isolated: Path, keys: Keys) -> None:
    write_profiles(isolated, keys)
    Hangup.count = 0
    with serving(Hangup) as url:
        run = paytoken("notify", "doku", "-p", "dev", "--to", url + "/payments/notifications")
    assert run.exit_code == 5 and Hangup.count == 1, run.output
    assert "was not sent again" in run.stderr


def test_notify_refuses_a_bad_url_and_bad_data(profiles: Path) -> None:
    run = paytoken("notify", "doku", "-p", "dev", "--to", "ftp://x")
    assert run.exit_code == 2 and "http://" in run.stderr
    run = paytoken("notify", "doku", "-p", "dev", "--to", "http://127.0.0.1:9", "--data", "{not json")
    assert run.exit_code == 2 and "the body in --data is not JSON" in run.stderr


def test_notify_sends_the_amount_as_written(profiles: Path, receiver: str) -> None:
    """--data's numbers are not rewritten (10000.00 stays 10000.00); stdin is read through the same edge."""
    given = '{"paidAmount": {"value": 10000.00, "currency": "IDR"}, "n": 1e3}'
    run = paytoken("notify", "doku", "-p", "dev", "--to", receiver + "/n", "--data", given)
    assert run.exit_code == 0, run.output
    run = paytoken("notify", "doku", "-p", "dev", "--to", receiver + "/n", "--data", "-", input=given)
    assert run.exit_code == 0, run.output
    sent = b'\r\n\r\n{"paidAmount":{"value":10000.00,"currency":"IDR"},"n":1e3}'
    assert len(Receiver.received) == 2 and all(raw.endswith(sent) for raw in Receiver.received)


# --- the library face and its example ----------------------------------------------------------------------


def test_verify_notification_in_a_handler(profiles: Path, keys: Keys) -> None:
    capture = doku_capture(now())
    head, _, body = capture.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
    verdict = verify_notification(
        "doku", "dev", "POST", "/payments/notifications", headers, body, profiles_file=profiles
    )
    assert verdict.authentic and verdict.reason == "authentic" and bool(verdict)
    tampered = body.replace(b"150000", b"950000")
    verdict = verify_notification("doku", "dev", "POST", "/payments/notifications", dict(headers), tampered)
    assert not verdict.authentic and verdict.mistake == "no-match"
    verdict = verify_notification("doku", "dev", "POST", "/payments/notifications", dict(headers), body + b"\n ")
    assert not verdict.authentic and verdict.mistake == "body-reserialized"


def test_the_example_receiver_accepts_notify_and_refuses_a_forgery(isolated: Path, keys: Keys) -> None:
    from tidak_cli.notifying import gateway_key

    write_profiles(isolated, keys, gateway_public=Path(gateway_key().public_path))
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "receiver.py"), "snap", "dev", str(port)],
        cwd=isolated,
        env={**os.environ, "PAYTOKEN_PROFILES": str(isolated / "profiles.toml")},
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        run = paytoken("notify", "snap", "-p", "dev", "--to", f"http://127.0.0.1:{port}")
        assert run.exit_code == 0 and "2002500" in run.stdout, run.output
        code, verdict, _ = verify("snap", (isolated / "capture.txt").read_bytes())
        assert (code, verdict["authentic"]) == (0, True)
        forged = snap_capture(keys, now(), signed_body=BODY, sent_body=BODY.replace(b"150000", b"950000"))
        import urllib.error
        import urllib.request

        head, _, body = forged.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if not line.startswith("Host"))
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1.0/transfer-va/payment", data=body, headers=headers, method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401 and b"4012500" in refused.value.read()
    finally:
        child.terminate()
        child.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int) -> None:
    import socket

    stop = threading.Event()
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        stop.wait(0.05)
    raise AssertionError(f"the example receiver did not start on port {port}")


def test_the_sandbox_prints_its_gateway_public_key(isolated: Path) -> None:
    from tidak_cli.notifying import gateway_key_directory

    Path("sandbox.toml").write_text('[doku]\nclient_id = "MCH-1"\nsecret_key = "s"\n')
    child = subprocess.Popen(
        [sys.executable, "-m", "tidak_cli", "sandbox", "--port", "0", "--config", "sandbox.toml"],
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert child.stderr is not None
        with watchdog(30, "the sandbox's banner"):
            while not any("public key:" in line for line in lines) and len(lines) < 20:
                lines.append(child.stderr.readline())  # the banner comes first, then the sandbox waits
    finally:
        child.terminate()
        child.wait(timeout=10)
    public = gateway_key_directory() / "public.pem"
    assert any(f"its public key: {public}" in line for line in lines), lines
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_a_snap_preset_without_a_recipe_points_at_the_standard_one(isolated: Path) -> None:
    capture = isolated / "capture.txt"
    capture.write_bytes(b"POST /notify HTTP/1.1\r\nHost: shop\r\n\r\n")
    run = paytoken("verify", "bni", "--capture", str(capture))
    assert run.exit_code == 2
    assert "bni has no notification recipe" in run.stderr
    assert "check them as snap" in run.stderr and "gateway_public_key_file" in run.stderr
    assert_clean(run.output)


def test_a_receiver_that_is_down_is_told_apart_from_one_that_hung_up(isolated: Path, keys: Keys) -> None:
    write_profiles(isolated, keys)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = paytoken("notify", "doku", "-p", "dev", "--to", f"http://127.0.0.1:{port}/payments/notifications")
    assert run.exit_code == 5
    assert "it never arrived" in run.stderr and "was not sent again" not in run.stderr
    assert_clean(run.output)


def test_verify_and_notify_take_debug_and_notify_takes_d_as_call_does(isolated: Path) -> None:
    capture = isolated / "capture.txt"
    capture.write_bytes(b"POST /notify HTTP/1.1\r\nHost: shop\r\n\r\n")
    run = paytoken("verify", "bni", "--capture", str(capture), "--debug")
    assert run.exit_code == 2 and "no such option" not in run.stderr and "no notification recipe" in run.stderr
    run = paytoken("notify", "bni", "--to", "http://127.0.0.1:9/x", "-d", "{}", "--debug")
    assert run.exit_code == 2 and "no such option" not in run.stderr and "no notification recipe" in run.stderr


def test_an_old_notification_whole_hours_old_is_a_replay_not_a_zone_slip() -> None:
    # Found by CI: the SPEC 7 vector (2024) checked at a moment a whole number of hours after it was named a
    # time-zone slip. Only offsets a time zone can have (up to 14 hours) are.
    from tidak_cli.gateways.notification import judge_moment

    signed = datetime(2024, 8, 19, 10, 12, 40, tzinfo=UTC)
    for hours, expected in ((7, "timestamp-window"), (14, "timestamp-window"), (15, "replayed"), (20000, "replayed")):
        found = judge_moment(signed, signed + timedelta(hours=hours))
        assert found is not None and found[0].key == expected, hours
    found = judge_moment(signed + timedelta(hours=7), signed)  # from the future
    assert found is not None and found[0].key == "timestamp-window"
    assert judge_moment(signed, signed + timedelta(minutes=4)) is None
