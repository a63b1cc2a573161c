"""`paytoken sign PROVIDER --replay FILE`: a request captured from the user's application, re-signed and judged.

Every capture here is built in the test from the SPEC recipes with hashlib, hmac, base64 and `cryptography`
and the workspace's credentials, never with tidak_cli's provider code, at the current time. The recipes are
pinned to the SPEC's test vectors first, so a bug shared by a provider and these helpers cannot hide. Each
capture is written the ways a user pastes one: raw HTTP (CRLF and LF), a `curl -v` transcript with the body
appended, a curl command line with continuations, and curl --json.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shlex
import subprocess
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support import Run, assert_clean, key_secrets, paytoken

from tidak_cli.capture import Captured, parse_capture
from tidak_cli.demo import Workspace
from tidak_cli.errors import UsageError
from tidak_cli.sandbox import Sandbox

JAKARTA = ZoneInfo("Asia/Jakarta")
HOST = "127.0.0.1:8787"
SNAP_PROVIDERS = ("nicepay", "finpay-snap", "doku-snap", "snap")
PROVIDERS = (*SNAP_PROVIDERS, "doku", "finpay-widget", "faspay-sendme")
SNAP_PATHS = {
    "nicepay": "/nicepay/v1.0/access-token/b2b",
    "finpay-snap": "/pg/snap/oauth/v1.0/access-token/b2b",
    "doku-snap": "/authorization/v1/access-token/b2b",
    "snap": "/v1.0/access-token/b2b",
}
SNAP_BODIES = {
    "nicepay": b'{"grantType":"client_credentials","additionalInfo":{}}',
    "finpay-snap": b'{"grantType":"client_credentials"}',
    "doku-snap": b'{"grantType":"client_credentials"}',
    "snap": b'{"grantType":"client_credentials","additionalInfo":{}}',
}
DOKU_PATH = "/adv-core-api/partner/v1.0/token"
FINPAY_PATH = "/apicobrand/security/getToken"
FASPAY_PATH = "/account/api/tokens"
DOKU_FIELDS = {"grant_type": "client_credentials", "valid_time": "360"}
PROFILE_DOKU_BODY = b'{"grant_type":"client_credentials"}'  # what the workspace's profile (no valid_time) sends
FORMS = ("raw-crlf", "raw-lf", "curl-v", "curl", "curl-json")
PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- the recipes, independently, pinned to SPEC's vectors -------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def doku_component(client_id: str, request_id: str, stamp: str, digest: str) -> str:
    return "\n".join(
        [
            f"Client-Id:{client_id}",
            f"Request-Id:{request_id}",
            f"Request-Timestamp:{stamp}",
            f"Request-Target:{DOKU_PATH}",
            f"Digest:{digest}",
        ]
    )


def doku_signature(secret: str, component: str) -> str:
    return "HMACSHA256=" + b64(hmac.new(secret.encode(), component.encode(), hashlib.sha256).digest())


def finpay_joined(fields: dict[str, str]) -> str:
    return "".join(value for _name, value in sorted(fields.items()))


def finpay_signature(key: bytes, joined: str) -> str:
    return hmac.new(key, joined.encode(), hashlib.sha256).hexdigest().upper()


def finpay_key(secret: str) -> bytes:
    return secret.encode("ascii").hex().encode("ascii")


def faspay_aes(faspay_secret: str, iv: str, plaintext: str) -> str:
    key = hashlib.sha256(faspay_secret.encode()).digest()
    vector = hashlib.md5((faspay_secret + iv).encode()).hexdigest()[-16:].encode("ascii")
    padder = symmetric_padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(vector)).encryptor()
    return b64(encryptor.update(padded) + encryptor.finalize())


def faspay_string(stamp: str, client_key: str, client_secret: str) -> str:
    return f"GET:{FASPAY_PATH}:{stamp}:{b64(f'{client_key}:{client_secret}'.encode())}:"


def test_the_independent_recipes_give_the_spec_vectors() -> None:
    body = b'{"grant_type":"client_credentials","valid_time":"360"}'
    digest = b64(hashlib.sha256(body).digest())
    assert digest == "23kYsU7yk6vZ/exEcBe1UAFmjn17wuk165Oc+E3Cb8Y="
    component = doku_component(
        "BRN-0001-10791114622547", "fdb69f47-96da-499d-acec-7cdc318ab2fe", "2020-08-11T08:45:42Z", digest
    )
    assert doku_signature("SK-EXAMPLE-SECRET", component) == "HMACSHA256=0sLUiPJP4lo5X2JbvywDRqdMjJ0e7+iMkMgcvMehEZA="
    assert finpay_key("e4siErApPs2020") == b"6534736945724170507332303230"
    joined = finpay_joined(
        {"reqDtime": "20240821142750", "requestType": "getToken", "transNumber": "TKN212418241627519329"}
    )
    assert finpay_signature(finpay_key("e4siErApPs2020"), joined) == (
        "02580ADCB95AABF2CBBA78B53CE45182F5B429EA30154C259A45CAECF532E7AE"
    )
    assert faspay_aes("FASPAY_SECRET_EXAMPLE", "IV_EXAMPLE", "APPKEY_EXAMPLE:APPSECRET_EXAMPLE") == (
        "iovowZGTwGVQni9cbrwgGx9sbsDKzX0W8OC9AHEBbs61VIQxMEUhnfvutNuut2l0"
    )
    text = faspay_string("2018-10-09 14:24:00", "CLIENTKEY_EXAMPLE", "CLIENTSECRET_EXAMPLE")
    assert faspay_aes("FASPAY_SECRET_EXAMPLE", "IV_EXAMPLE", text).startswith("jPzOaPI1YK2ReoMELrv2mN9r2YNV6Qp4")
    hmac_form = hmac.new(b"FASPAY_SECRET_EXAMPLE", text.encode(), hashlib.sha256).hexdigest()
    assert hmac_form == "9eb29b19de5f163a937279f5f91f4445103de8736ea1d66b5bf2abb9b9c7a8ad"


# --- captures ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capture:
    """A request as the user's application sent it, before it is written in one of the capture forms."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    signature: str  # what the signature header or field carries
    string_to_sign: str  # what the right recipe signs for this request

    def without(self, name: str) -> Capture:
        return replace(self, headers=tuple(item for item in self.headers if item[0].lower() != name.lower()))

    def with_header(self, name: str, value: str) -> Capture:
        return replace(self, headers=(*self.without(name).headers, (name, value)))


def render(capture: Capture, form: str) -> bytes:
    """Write capture as a user pastes it."""
    body = capture.body.decode() if capture.body is not None else None
    url = f"http://{HOST}{capture.path}"
    if form in ("raw-crlf", "raw-lf"):
        newline = "\r\n" if form == "raw-crlf" else "\n"
        lines = [f"{capture.method} {capture.path} HTTP/1.1", f"Host: {HOST}"]
        lines += [f"{name}: {value}" for name, value in capture.headers]
        if capture.body is not None:
            lines.append(f"Content-Length: {len(capture.body)}")
        return (newline.join(lines) + newline + newline + (body or "")).encode()
    if form == "curl-v":
        lines = [
            f"*   Trying {HOST}...",
            "* Connected to 127.0.0.1 (127.0.0.1) port 8787 (#0)",
            f"> {capture.method} {capture.path} HTTP/1.1",
            f"> Host: {HOST}",
            "> User-Agent: curl/8.5.0",
            "> Accept: */*",
            *(f"> {name}: {value}" for name, value in capture.headers),
        ]
        if capture.body is not None:
            lines.append(f"> Content-Length: {len(capture.body)}")
        lines += [
            "> ",
            "< HTTP/1.1 401 Unauthorized",
            "< Content-Type: application/json",
            "< ",
            "* Connection #0 to host 127.0.0.1 left intact",
        ]
        return ("\n".join(lines) + "\n" + (body + "\n" if body is not None else "")).encode()
    if form == "curl":
        parts = [f"curl -sS -X {capture.method} {shlex.quote(url)}"]
        parts += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in capture.headers]
        if body is not None:
            parts.append(f"--data-raw {shlex.quote(body)}")
        return (" \\\n  ".join(parts) + "\n").encode()
    if form == "curl-json":
        assert body is not None, "curl --json sends a body"
        # --json brings its own Content-Type: application/json.
        headers = [item for item in capture.headers if item[0].lower() != "content-type"]
        parts = [f"curl --json {shlex.quote(body)}"]
        parts += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers]
        parts.append(shlex.quote(url))
        return (" \\\n  ".join(parts) + "\n").encode()
    raise AssertionError(form)


def credentials(workspace: Workspace, provider: str) -> dict[str, str]:
    table = tomllib.loads(workspace.sandbox_config.read_text(encoding="utf-8"))[provider]
    return {key: value for key, value in table.items() if isinstance(value, str)}


def private_key(workspace: Workspace, provider: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((workspace.directory / provider / "private.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def rsa_sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return b64(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()))


def jakarta_iso(moment: datetime) -> str:
    return moment.astimezone(JAKARTA).isoformat(timespec="seconds")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def snap_capture(
    workspace: Workspace,
    provider: str,
    *,
    stamp: str | None = None,
    client_id: str | None = None,
    signed: Callable[[str, str], str] = lambda client_id, stamp: f"{client_id}|{stamp}",
    key: rsa.RSAPrivateKey | None = None,
) -> Capture:
    """A SNAP token request; `signed` makes the string the application signed (a mistake, when not the recipe)."""
    client_id = client_id or credentials(workspace, provider)["client_id"]
    stamp = stamp or jakarta_iso(now())
    signature = rsa_sign(key or private_key(workspace, provider), signed(client_id, stamp))
    headers = (
        ("Content-Type", "application/json"),
        ("X-TIMESTAMP", stamp),
        ("X-CLIENT-KEY", client_id),
        ("X-SIGNATURE", signature),
    )
    return Capture("POST", SNAP_PATHS[provider], headers, SNAP_BODIES[provider], signature, f"{client_id}|{stamp}")


def doku_capture(
    workspace: Workspace,
    *,
    body: bytes | None = None,
    hashed: bytes | None = None,
    secret: str | None = None,
    stamp: str | None = None,
    client_id: str | None = None,
) -> Capture:
    """A DOKU token request sending `body`; its Digest computed over `hashed` (the mistake) or over body."""
    values = credentials(workspace, "doku")
    body = body if body is not None else json.dumps(DOKU_FIELDS, separators=(",", ":")).encode()
    client_id = client_id or values["client_id"]
    request_id = str(uuid.uuid4())
    stamp = stamp or now().strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = b64(hashlib.sha256(hashed if hashed is not None else body).digest())
    component = doku_component(client_id, request_id, stamp, digest)
    signature = doku_signature(secret or values["secret_key"], component)
    headers = (
        ("Content-Type", "application/json"),
        ("Client-Id", client_id),
        ("Request-Id", request_id),
        ("Request-Timestamp", stamp),
        ("Signature", signature),
    )
    right = doku_component(values["client_id"], request_id, stamp, b64(hashlib.sha256(body).digest()))
    return Capture("POST", DOKU_PATH, headers, body, signature, right)


def finpay_capture(
    workspace: Workspace,
    *,
    key: bytes | None = None,
    merchant_id: str | None = None,
    stamp: str | None = None,
    lowercase: bool = False,
) -> Capture:
    values = credentials(workspace, "finpay-widget")
    fields = {
        "reqDtime": stamp or now().astimezone(JAKARTA).strftime("%Y%m%d%H%M%S"),
        "requestType": "getToken",
        "transNumber": f"TKN{uuid.uuid4().int % 10**18:018d}",
    }
    joined = finpay_joined(fields)
    signature = finpay_signature(key or finpay_key(values["secret_key"]), joined)
    signature = signature.lower() if lowercase else signature
    body = json.dumps({**fields, "signature": signature}, separators=(",", ":")).encode()
    user = merchant_id or values["merchant_id"]
    headers = (
        ("Content-Type", "application/json"),
        ("Authorization", "Basic " + b64(f"{user}:{values['merchant_password']}".encode())),
    )
    return Capture("POST", FINPAY_PATH, headers, body, signature, joined)


def faspay_capture(
    workspace: Workspace, *, method: str = "aes", string_to_sign: Callable[[str], str] | None = None
) -> Capture:
    values = credentials(workspace, "faspay-sendme")
    stamp = now().astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")
    right = faspay_string(stamp, values["client_key"], values["client_secret"])
    text = string_to_sign(right) if string_to_sign else right
    if method == "aes":
        signature = faspay_aes(values["faspay_secret"], values["iv"], text)
    else:
        signature = hmac.new(values["faspay_secret"].encode(), text.encode(), hashlib.sha256).hexdigest()
    authorization = faspay_aes(values["faspay_secret"], values["iv"], f"{values['app_key']}:{values['app_secret']}")
    headers = (
        ("faspay-key", values["faspay_key"]),
        ("faspay-timestamp", stamp),
        ("faspay-authorization", authorization),
        ("faspay-signature", signature),
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    )
    return Capture("GET", FASPAY_PATH, headers, None, signature, right)


def right_capture(workspace: Workspace, provider: str) -> Capture:
    if provider in SNAP_PROVIDERS:
        return snap_capture(workspace, provider)
    if provider == "doku":
        return doku_capture(workspace)
    if provider == "finpay-widget":
        return finpay_capture(workspace)
    return faspay_capture(workspace)


def other_snap_key(provider: str) -> str:
    return SNAP_PROVIDERS[(SNAP_PROVIDERS.index(provider) + 1) % len(SNAP_PROVIDERS)]


def wrong_key_capture(workspace: Workspace, provider: str) -> Capture:
    """Right recipe, wrong key: another provider's private key, or a secret the gateway never issued."""
    if provider in SNAP_PROVIDERS:
        return snap_capture(workspace, provider, key=private_key(workspace, other_snap_key(provider)))
    if provider == "doku":
        return doku_capture(workspace, secret="SK-NOT-THE-SECRET")
    if provider == "finpay-widget":
        return finpay_capture(workspace, key=finpay_key("not-the-secret"))
    values = credentials(workspace, "faspay-sendme")
    capture = faspay_capture(workspace)
    wrong = faspay_aes("not-the-faspay-secret", values["iv"], capture.string_to_sign)
    return replace(capture.with_header("faspay-signature", wrong), signature=wrong)


# --- running it --------------------------------------------------------------------------------------------


def replay(provider: str, data: bytes, *extra: str, profile: str = "demo") -> Run:
    path = Path("captured.txt")
    path.write_bytes(data)
    return paytoken("sign", provider, "--profile", profile, "--replay", str(path), *extra)


def replay_json(provider: str, data: bytes, *extra: str) -> tuple[Run, dict[str, Any]]:
    run = replay(provider, data, "-o", "json", *extra)
    return run, json.loads(run.stdout)


def secrets_of(workspace: Workspace) -> list[str]:
    """Every throwaway secret (shared secrets and private key lines): none may be printed."""
    document = tomllib.loads(workspace.sandbox_config.read_text(encoding="utf-8"))
    shared = [
        value
        for table in document.values()
        for name, value in table.items()
        if name in ("secret_key", "merchant_password", "faspay_secret", "app_secret", "client_secret")
    ]
    return shared + key_secrets(workspace)


def forms_for(provider: str) -> tuple[str, ...]:
    # Faspay's token request is a GET without a body: there is nothing for curl --json to send.
    return tuple(form for form in FORMS if not (provider == "faspay-sendme" and form == "curl-json"))


# --- right and wrong, for each provider and each form ------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "form"), [(provider, form) for provider in PROVIDERS for form in forms_for(provider)]
)
def test_a_right_capture_is_right(provider: str, form: str, profiles: Path, workspace: Workspace) -> None:
    capture = right_capture(workspace, provider)
    run = replay(provider, render(capture, form))
    assert run.exit_code == 0, run.output
    assert "the captured signature is right" in run.output
    assert "headers, formats and client id as the gateway wants them" in run.stdout
    assert_clean(run.output, secrets_of(workspace))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_right_capture_as_json_re_signs_the_captured_inputs(
    provider: str, profiles: Path, workspace: Workspace
) -> None:
    # DOKU's body here is the profile's own (no valid_time); a body of the capture's own is the next test.
    capture = (
        doku_capture(workspace, body=PROFILE_DOKU_BODY) if provider == "doku" else right_capture(workspace, provider)
    )
    run, document = replay_json(provider, render(capture, "raw-crlf"))
    assert run.exit_code == 0, run.output
    assert document["compare"]["matches"] is True
    assert document["compare"]["mistake"] is None
    assert document["replay"] == {"signature": capture.signature, "problems": [], "cautions": []}
    # Re-signed from the capture's own timestamp and request id, so the independent recipe gives the same.
    assert document["string_to_sign"] == capture.string_to_sign
    assert document["signature"] == capture.signature


def test_doku_replay_re_signs_the_captured_body(profiles: Path, workspace: Workspace) -> None:
    # The profile sets no valid_time; the application sent one. The issue says to take the body from the
    # capture: the request shown must be the one captured (its Digest, its signature), not the profile's.
    capture = doku_capture(workspace, body=json.dumps(DOKU_FIELDS, separators=(",", ":")).encode())
    run, document = replay_json("doku", render(capture, "raw-lf"))
    assert run.exit_code == 0, run.output
    assert document["compare"]["matches"] is True
    assert capture.body is not None
    assert document["body"] == capture.body.decode()
    assert document["string_to_sign"] == capture.string_to_sign
    assert document["signature"] == document["headers"]["Signature"] == capture.signature


# --- real `curl -v` output ------------------------------------------------------------------------------


def curl_verbose(capture: Capture, sandbox: Sandbox, *flags: str, merged: bool = False) -> tuple[list[str], bytes]:
    """Send capture with the real curl and `-v` (and flags); its command and what it printed on stderr.

    merged: stdout into the same stream, as `curl -v … > log 2>&1` writes it (the answer's body among the lines).
    """
    command = ["curl", *flags, "-X", capture.method, sandbox.url + capture.path]
    command += [word for name, value in capture.headers for word in ("-H", f"{name}: {value}")]
    if capture.body is not None:
        command += ["--data-raw", capture.body.decode()]
    done = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merged else subprocess.PIPE, timeout=30
    )
    assert done.returncode == 0, done
    return command, done.stdout if merged else done.stderr


@pytest.mark.parametrize("provider", ["nicepay", "doku", "finpay-widget"])
@pytest.mark.parametrize("flags", [("-v",), ("-sv",)])
def test_real_curl_v_output_is_read_as_curl_prints_it(
    provider: str, flags: tuple[str, ...], profiles: Path, workspace: Workspace, sandbox: Sandbox
) -> None:
    # Issue 13: `curl -v` starts with `Note: Unnecessary use of -X…` and its progress meter, and `-sv` has no
    # body line: paytoken refused the first and said "no body" for the second.
    capture = right_capture(workspace, provider)
    command, printed = curl_verbose(capture, sandbox, *flags)
    if flags == ("-v",):
        assert printed.startswith(b"Note: Unnecessary use of -X") and b"% Total" in printed
    assert b"} [" in printed and b"bytes data]" in printed
    with_command = f"$ {shlex.join(command)}\n".encode() + printed
    _, merged = curl_verbose(capture, sandbox, *flags, merged=True)
    with_answer = f"$ {shlex.join(command)}\n".encode() + merged
    # SNAP's token signature does not cover the body: the -v output alone is enough.
    enough = [with_command, with_answer] + ([printed] if provider == "nicepay" else [])
    for data in enough:
        run = replay(provider, data)
        assert run.exit_code == 0, run.output
        assert "the captured signature is right" in run.output
        assert "headers, formats and client id as the gateway wants them" in run.stdout
        assert "no body" not in run.output
        assert_clean(run.output, secrets_of(workspace))
    if provider != "nicepay":
        # The body is what DOKU's and Finpay's checks are about, and `curl -v` does not print it: say so.
        assert capture.body is not None
        run = replay(provider, printed)
        assert_one_usage_error(run)
        assert f"the capture does not show the body: `curl -v` prints only `}} [{len(capture.body)} bytes data]`" in (
            run.stderr
        )
        assert "curl command line" in run.stderr.split("hint:")[1]


@pytest.mark.parametrize(
    ("provider", "form"), [(provider, form) for provider in PROVIDERS for form in ("raw-lf", "curl")]
)
def test_a_capture_signed_with_the_wrong_key_or_secret_is_wrong(
    provider: str, form: str, profiles: Path, workspace: Workspace
) -> None:
    capture = wrong_key_capture(workspace, provider)
    run, document = replay_json(provider, render(capture, form))
    assert run.exit_code == 1, run.output
    assert "the captured signature is wrong" in run.stderr
    assert document["compare"]["matches"] is False
    assert document["replay"]["problems"] == []
    # An RSA signature from another key is told apart; a wrong shared secret is no known mistake.
    assert document["compare"]["mistake"] == ("another-key" if provider in SNAP_PROVIDERS else None)
    assert_clean(run.output, secrets_of(workspace))


KNOWN_MISTAKES: list[tuple[str, str, Callable[[Workspace], Capture], str, str]] = [
    (
        "nicepay",
        "curl-v",
        lambda ws: snap_capture(ws, "nicepay", signed=lambda client_id, stamp: f"{client_id}|{stamp[:19]}"),
        "snap.no-offset",
        "without its +07:00 offset",
    ),
    (
        "finpay-snap",
        "curl",
        lambda ws: snap_capture(ws, "finpay-snap", signed=lambda client_id, stamp: f"{client_id}:{stamp}"),
        "snap.separator",
        "another separator",
    ),
    (
        "doku-snap",
        "raw-crlf",
        lambda ws: snap_capture(ws, "doku-snap", signed=lambda client_id, stamp: f"{stamp}|{client_id}"),
        "snap.reversed",
        "timestamp first",
    ),
    (
        "snap",
        "curl-json",
        lambda ws: snap_capture(
            ws,
            "snap",
            signed=lambda client_id, stamp: (
                f"{client_id}|" + datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            ),
        ),
        "snap.utc-z",
        "UTC with a Z",
    ),
    (
        "doku",
        "curl-json",
        lambda ws: doku_capture(ws, hashed=json.dumps(DOKU_FIELDS).encode()),
        "doku.default-dumps",
        "default spacing",
    ),
    (
        "finpay-widget",
        "raw-lf",
        lambda ws: finpay_capture(ws, key=credentials(ws, "finpay-widget")["secret_key"].encode()),
        "finpay.raw-secret-key",
        "keyed with the raw secret",
    ),
    (
        "finpay-widget",
        "curl",
        lambda ws: finpay_capture(ws, lowercase=True),
        "letter-case",
        "other letter case",
    ),
    (
        "faspay-sendme",
        "raw-crlf",
        lambda ws: faspay_capture(ws, method="hmac"),
        "faspay.other-signature-method",
        "the other method",
    ),
    (
        "faspay-sendme",
        "curl-v",
        lambda ws: faspay_capture(ws, string_to_sign=lambda text: text[:-1]),
        "faspay.no-trailing-colon",
        "trailing colon",
    ),
]


@pytest.mark.parametrize(
    ("provider", "form", "make", "mistake", "words"),
    KNOWN_MISTAKES,
    ids=[f"{case[0]}-{case[3]}" for case in KNOWN_MISTAKES],
)
def test_a_known_mistake_is_named(
    provider: str,
    form: str,
    make: Callable[[Workspace], Capture],
    mistake: str,
    words: str,
    profiles: Path,
    workspace: Workspace,
) -> None:
    capture = make(workspace)
    run, document = replay_json(provider, render(capture, form))
    assert run.exit_code == 1, run.output
    assert document["compare"]["matches"] is False
    assert document["compare"]["mistake"] == mistake
    assert any(words in finding for finding in document["compare"]["findings"]), document["compare"]
    pretty = replay(provider, render(capture, form))
    assert pretty.exit_code == 1
    assert words in pretty.stdout
    assert "the captured signature is wrong" in pretty.stderr
    assert_clean(pretty.output, secrets_of(workspace))


# --- the DOKU done-when case -------------------------------------------------------------------------------


def dev_profiles() -> None:
    """The same credentials as profile `dev`, as the issue's command line names it."""
    path = Path("profiles.toml")
    path.write_text(path.read_text().replace("[doku.demo]", "[doku.dev]"))
    path.chmod(0o600)


@pytest.mark.parametrize("sent", ["compact", "default-dumps"])
@pytest.mark.parametrize("newline", ["raw-crlf", "raw-lf"])
def test_doku_digest_over_a_pretty_printed_body_is_diagnosed(
    sent: str, newline: str, profiles: Path, workspace: Workspace
) -> None:
    dev_profiles()
    body = json.dumps(DOKU_FIELDS, separators=(",", ":")) if sent == "compact" else json.dumps(DOKU_FIELDS)
    capture = doku_capture(workspace, body=body.encode(), hashed=json.dumps(DOKU_FIELDS, indent=2).encode())
    data = render(capture, newline)
    run = replay("doku", data, profile="dev")
    assert run.exit_code == 1, run.output
    assert "the Digest was computed over a pretty-printed body" in run.stdout
    assert "the captured signature is wrong" in run.stderr
    assert_clean(run.output, secrets_of(workspace))
    as_json = replay("doku", data, "-o", "json", profile="dev")
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert document["compare"]["mistake"] == "doku.pretty-body"
    assert document["replay"]["problems"] == []


def test_doku_pretty_body_sent_and_hashed_as_sent_is_right(profiles: Path, workspace: Workspace) -> None:
    pretty = json.dumps(DOKU_FIELDS, indent=2).encode()
    capture = doku_capture(workspace, body=pretty)
    for form in ("raw-lf", "raw-crlf", "curl"):
        run, document = replay_json("doku", render(capture, form))
        assert run.exit_code == 0, (form, run.output)
        assert document["compare"]["matches"] is True


# --- what the gateway will object to -----------------------------------------------------------------------


def test_a_missing_header_is_a_problem(profiles: Path, workspace: Workspace) -> None:
    capture = snap_capture(workspace, "nicepay").without("X-CLIENT-KEY")
    run, document = replay_json("nicepay", render(capture, "raw-crlf"))
    assert run.exit_code == 1, run.output
    assert document["replay"]["problems"] == ["missing header: X-CLIENT-KEY"]
    assert document["compare"]["matches"] is True  # signed right; the gateway still refuses it
    assert "the gateway will refuse the captured request" in run.stderr


def test_a_missing_signature_is_a_problem(profiles: Path, workspace: Workspace) -> None:
    capture = doku_capture(workspace).without("Signature")
    run, document = replay_json("doku", render(capture, "curl"))
    assert run.exit_code == 1, run.output
    assert "missing header: Signature" in document["replay"]["problems"]
    assert "the capture carries no signature" in run.stderr
    assert_clean(run.output, secrets_of(workspace))


def test_a_nicepay_timestamp_in_z_form_is_a_problem(profiles: Path, workspace: Workspace) -> None:
    stamp = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    capture = snap_capture(workspace, "nicepay", stamp=stamp)
    run, document = replay_json("nicepay", render(capture, "raw-lf"))
    assert run.exit_code == 1, run.output
    (problem,) = document["replay"]["problems"]
    assert stamp in problem and "2024-12-31T10:11:40+07:00" in problem
    assert document["compare"]["matches"] is True


def test_doku_snap_accepts_the_z_form(profiles: Path, workspace: Workspace) -> None:
    capture = snap_capture(workspace, "doku-snap", stamp=now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    run, document = replay_json("doku-snap", render(capture, "raw-lf"))
    assert run.exit_code == 0, run.output
    assert document["replay"]["problems"] == []


@pytest.mark.parametrize("provider", ["nicepay", "doku"])
def test_a_timestamp_two_hours_old_is_a_caution_about_the_clock(
    provider: str, profiles: Path, workspace: Workspace
) -> None:
    old = now() - timedelta(hours=2)
    capture = (
        snap_capture(workspace, provider, stamp=jakarta_iso(old))
        if provider == "nicepay"
        else doku_capture(workspace, stamp=old.strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    run, document = replay_json(provider, render(capture, "curl"))
    assert document["replay"]["problems"] == []
    (caution,) = document["replay"]["cautions"]
    assert "clock" in caution and "behind" in caution and "5 minutes" in caution
    assert document["compare"]["matches"] is True
    # A caution (the capture may simply be old) does not fail the run.
    assert run.exit_code == 0, run.output


@pytest.mark.parametrize("provider", ["nicepay", "doku"])
def test_a_client_id_other_than_the_profiles_is_a_problem(provider: str, profiles: Path, workspace: Workspace) -> None:
    if provider == "nicepay":
        capture = snap_capture(workspace, provider, client_id="SOMEONE-ELSE")
        header, profile_value = "X-CLIENT-KEY", credentials(workspace, provider)["client_id"]
    else:
        capture = doku_capture(workspace, client_id="SOMEONE-ELSE")
        header, profile_value = "Client-Id", credentials(workspace, provider)["client_id"]
    run, document = replay_json(provider, render(capture, "raw-crlf"))
    assert run.exit_code == 1, run.output
    assert f"{header} 'SOMEONE-ELSE' differs from the profile's {profile_value!r}" in document["replay"]["problems"]


@pytest.mark.parametrize("provider", ["nicepay", "doku", "finpay-widget"])
def test_a_content_type_other_than_json_is_a_problem(provider: str, profiles: Path, workspace: Workspace) -> None:
    capture = right_capture(workspace, provider).with_header("Content-Type", "text/plain")
    run, document = replay_json(provider, render(capture, "raw-lf"))
    assert run.exit_code == 1, run.output
    assert document["replay"]["problems"] == ["Content-Type is text/plain, not application/json"]
    assert document["compare"]["matches"] is True
    assert "Content-Type is text/plain" in run.stderr


def test_a_content_type_with_charset_is_json(profiles: Path, workspace: Workspace) -> None:
    capture = snap_capture(workspace, "nicepay").with_header("Content-Type", "application/json; charset=utf-8")
    run, document = replay_json("nicepay", render(capture, "raw-lf"))
    assert run.exit_code == 0, run.output
    assert document["replay"]["problems"] == []


def test_a_finpay_basic_user_other_than_merchant_id_is_a_problem(profiles: Path, workspace: Workspace) -> None:
    capture = finpay_capture(workspace, merchant_id="SOMEONE-ELSE")
    run, document = replay_json("finpay-widget", render(capture, "curl"))
    assert run.exit_code == 1, run.output
    merchant_id = credentials(workspace, "finpay-widget")["merchant_id"]
    assert document["replay"]["problems"] == [
        f"the Basic authorization's merchant id 'SOMEONE-ELSE' differs from the profile's {merchant_id!r}"
    ]
    assert document["compare"]["matches"] is True
    assert_clean(run.output, secrets_of(workspace))


def test_a_capture_for_another_provider_names_the_missing_headers(profiles: Path, workspace: Workspace) -> None:
    run = replay("nicepay", render(doku_capture(workspace), "raw-crlf"))
    assert run.exit_code == 1, run.output
    assert "missing headers: X-TIMESTAMP, X-CLIENT-KEY, X-SIGNATURE" in run.output
    assert "the capture carries no signature" in run.output
    assert_clean(run.output, secrets_of(workspace))


# --- files that are not captures ---------------------------------------------------------------------------


def assert_one_usage_error(run: Run, *words: str) -> None:
    assert run.exit_code == 2, run.output
    assert run.stdout == ""
    assert run.stderr.count("error:") == 1, run.stderr
    assert "internal error" not in run.stderr
    for word in words:
        assert word in run.stderr
    assert_clean(run.output)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", ("is empty",)),
        (b" \r\n\n\t", ("is empty",)),
        (bytes(range(256)) * 4, ("neither raw HTTP nor a curl command",)),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", ("neither raw HTTP nor a curl command",)),
        (b"POST /x HTTP/1.1\nnot a header\n\n{}", ("is not a header",)),
        (b"curl -X POST 'http://127.0.0.1/x", ("cannot be split",)),
        (b"curl -H 'A: b'", ("without a URL",)),
    ],
    ids=["empty", "blank", "binary", "png", "bad-header", "bad-quotes", "no-url"],
)
def test_a_file_that_is_not_a_capture_is_a_usage_error(
    data: bytes, words: tuple[str, ...], profiles: Path, workspace: Workspace
) -> None:
    assert_one_usage_error(replay("nicepay", data), "captured.txt", *words)


def test_a_file_that_does_not_exist_is_a_usage_error(profiles: Path) -> None:
    run = paytoken("sign", "doku", "-p", "demo", "--replay", "no-such-capture.txt")
    assert_one_usage_error(run, "no-such-capture.txt")


def test_a_directory_is_a_usage_error(profiles: Path) -> None:
    Path("captures").mkdir()
    assert_one_usage_error(paytoken("sign", "doku", "-p", "demo", "--replay", "captures"), "captures")


@pytest.mark.parametrize(
    "extra",
    [("--compare", "HMACSHA256=AAAA"), ("--timestamp", "2020-08-11T08:45:42Z"), ("--request-id", "abc")],
)
def test_replay_with_the_flags_it_replaces_is_a_usage_error(
    extra: tuple[str, ...], profiles: Path, workspace: Workspace
) -> None:
    run = replay("doku", render(doku_capture(workspace), "raw-lf"), *extra)
    assert_one_usage_error(run, "--replay")


@pytest.mark.parametrize(
    "data",
    [
        b"curl -X POST 'http://[bad/x' -H 'Content-Type: application/json' --data-raw '{}'",
        b"POST http://[::1/nicepay/v1.0/access-token/b2b HTTP/1.1\nContent-Type: application/json\n\n{}",
    ],
    ids=["curl", "raw"],
)
def test_a_capture_with_a_malformed_url_is_a_usage_error(data: bytes, profiles: Path) -> None:
    # The capture is the user's input: a URL urllib cannot split is a usage error, not a bug in paytoken.
    assert_one_usage_error(replay("nicepay", data))


# --- parse_capture: property tests -------------------------------------------------------------------------


def parse_or_usage_error(data: bytes) -> Captured | None:
    try:
        captured = parse_capture(data, source="the capture")
    except UsageError as error:
        assert error.message
        return None
    assert isinstance(captured, Captured)
    assert captured.form in ("raw HTTP", "curl -v output", "curl command")
    assert captured.method
    assert all(name == name.lower() for name in captured.headers)
    return captured


@PROPERTY
@given(data=st.binary(max_size=2048))
@example(data=b"")
@example(data=b"\xef\xbb\xbf")
@example(data=b"curl")
@example(data=b"> ")
@example(data=b"* \n< \n")
@example(data=b"GET / HTTP/1.1")
def test_parse_capture_on_arbitrary_bytes_returns_or_refuses(data: bytes) -> None:
    parse_or_usage_error(data)


methods = st.sampled_from(["GET", "POST", "PUT", "get", "P0ST", "CONNECT", "X"])
targets = st.one_of(
    st.sampled_from(["/", "/nicepay/v1.0/access-token/b2b", "http://h/x?y=1", "*", "http://[::1]/x", ""]),
    st.text(max_size=30),
)
header_names = st.one_of(
    st.sampled_from(["X-TIMESTAMP", "Content-Type", "Signature", "faspay-key", "Authorization", ""]),
    st.text(max_size=12),
)
header_values = st.text(max_size=40)
newlines = st.sampled_from(["\n", "\r\n", "\r"])
near_http = st.builds(
    lambda prefix, method, target, version, headers, body, newline: newline.join(
        [
            prefix + f"{method} {target}{version}",
            *(f"{prefix}{name}:{value}" for name, value in headers),
            prefix.rstrip(),
            body,
        ]
    ),
    st.sampled_from(["", "> ", ">", "* "]),
    methods,
    targets,
    st.sampled_from([" HTTP/1.1", " HTTP/2", " HTTP/x", ""]),
    st.lists(st.tuples(header_names, header_values), max_size=6),
    st.text(max_size=80),
    newlines,
)
curl_words = st.one_of(
    st.sampled_from(
        [
            "-X",
            "POST",
            "-H",
            "'Content-Type: application/json'",
            "--data-raw",
            "--json",
            "--data=x",
            "--header=A:b",
            "-u",
            "user:pass",
            "--url",
            "http://127.0.0.1/x",
            "'unbalanced",
            '"',
            "\\\n",
            "-d",
            "@file",
            "--",
            "-",
        ]
    ),
    st.text(max_size=20),
)
near_curl = st.builds(
    lambda start, words: " ".join([start, *words]),
    st.sampled_from(["curl", "/usr/bin/curl", " curl", "\ufeffcurl"]),
    st.lists(curl_words, max_size=12),
)


@PROPERTY
@given(text=st.one_of(near_http, near_curl), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_parse_capture_on_near_http_text_returns_or_refuses(text: str, encoding: str) -> None:
    parse_or_usage_error(text.encode(encoding, errors="replace"))


@PROPERTY
@given(text=st.one_of(near_http, near_curl))
@example(text="curl -X POST 'http://[bad/x'")
def test_what_parse_capture_returns_can_be_read(text: str) -> None:
    """A Captured is handed to every provider's read_capture, which reads its path: that must not raise."""
    captured = parse_or_usage_error(text.encode())
    if captured is not None:
        assert isinstance(captured.path, str)
        assert captured.header("Content-Type") == captured.headers.get("content-type")
