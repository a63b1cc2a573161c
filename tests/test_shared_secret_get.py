"""`paytoken get` for the shared-secret providers (SPEC 1.2-1.4, 3, 5): the CLI against the real sandbox.

What reached the gateway is read back from the sandbox (`GET /_sandbox/requests`), and signatures and
expiries are checked with hashlib/hmac here, not with tidak_cli's provider code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shlex
import tomllib
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from support import assert_clean, paytoken, requests_to, serving, set_fault

from tidak_cli.demo import Workspace
from tidak_cli.sandbox import Sandbox

PROVIDERS = ["doku", "finpay-widget", "faspay-sendme"]
PATHS = {
    "doku": "/adv-core-api/partner/v1.0/token",
    "finpay-widget": "/apicobrand/security/getToken",
    "faspay-sendme": "/account/api/tokens",
}
METHODS = {"doku": "POST", "finpay-widget": "POST", "faspay-sendme": "GET"}
SECRET_KEYS = ("secret_key", "merchant_password", "faspay_secret", "app_secret", "client_secret", "iv")
TOKEN_TTL = 900  # the sandbox's default lifetime: the workspace's sandbox config does not set token_ttl
JAKARTA_OFFSET = timedelta(hours=7)
JSON_FIELDS = {"provider", "profile", "access_token", "token_type", "expires_in", "expires_at", "cached", "response"}
WRONG = "WRONG-value-not-the-real-secret-0123"
BULLETS = "••••"


# --- helpers ------------------------------------------------------------------------------------


def credentials(workspace: Workspace, provider: str) -> dict[str, str]:
    table = tomllib.loads(workspace.sandbox_config.read_text(encoding="utf-8"))[provider]
    return {key: value for key, value in table.items() if isinstance(value, str)}


def all_secrets(workspace: Workspace) -> list[str]:
    """Every shared secret of the three providers, plus the values derived from them that are as good."""
    secrets = [WRONG]
    for provider in PROVIDERS:
        secrets += [value for key, value in credentials(workspace, provider).items() if key in SECRET_KEYS]
    finpay = credentials(workspace, "finpay-widget")
    secrets.append(finpay["secret_key"].encode().hex())  # Finpay's HMAC key text
    secrets.append(b64(f"{finpay['merchant_id']}:{finpay['merchant_password']}".encode()))
    return secrets


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def received(sandbox: Sandbox, provider: str) -> list[dict[str, object]]:
    """The requests the sandbox received for provider, as received (secret headers masked by the sandbox)."""
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/requests") as answer:
        requests = json.load(answer)["requests"]
    return [request for request in requests if request["provider"] == provider]


def only_request(sandbox: Sandbox, provider: str) -> dict[str, object]:
    seen = received(sandbox, provider)
    assert len(seen) == 1, seen
    return seen[0]


def header(request: dict[str, object], name: str) -> str:
    headers = request["headers"]
    assert isinstance(headers, dict)
    value = headers[name.lower()]
    assert isinstance(value, str)
    return value


def set_profile_value(profiles: Path, provider: str, key: str, old: str, new: str) -> None:
    text = profiles.read_text()
    line = f'{key} = "{old}"'
    assert text.count(line) == 1, f"{line} not in [{provider}.demo]"
    profiles.write_text(text.replace(line, f'{key} = "{new}"'))


def add_profile_lines(profiles: Path, provider: str, lines: str) -> None:
    text = profiles.read_text()
    table = f"[{provider}.demo]\n"
    assert table in text
    profiles.write_text(text.replace(table, table + lines + "\n"))


def jwt_claims(token: str) -> dict[str, object]:
    parts = token.split(".")
    assert len(parts) == 3, token
    claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    assert isinstance(claims, dict)
    return claims


def utc(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def finpay_signature(fields: dict[str, str], secret_key: str) -> str:
    joined = "".join(value for key, value in sorted(fields.items()) if key != "signature")
    mac = hmac.new(secret_key.encode("ascii").hex().encode("ascii"), joined.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest().upper()


def faspay_string_to_sign(timestamp: str, client_key: str, client_secret: str) -> str:
    return f"GET:{PATHS['faspay-sendme']}:{timestamp}:{b64(f'{client_key}:{client_secret}'.encode())}:"


def assert_token_shape(provider: str, token: str, workspace: Workspace) -> None:
    if provider == "doku":
        assert jwt_claims(token)["sub"] == credentials(workspace, "doku")["client_id"]
    else:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", token), token


def get_json(provider: str, *extra: str) -> dict[str, object]:
    run = paytoken("get", provider, "-p", "demo", "-o", "json", *extra)
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    assert isinstance(document, dict)
    return document


# --- every output format ------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["pretty", "token", "json", "env", "header"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_format(provider: str, output: str, profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    run = paytoken("get", provider, "-p", "demo", "-o", output)
    assert run.exit_code == 0, run.output
    assert requests_to(sandbox, provider) == 1
    assert_clean(run.output, all_secrets(workspace))
    if output == "token":
        token = run.stdout.removesuffix("\n")
        assert run.stdout == token + "\n" and " " not in token
        assert_token_shape(provider, token, workspace)
    elif output == "header":
        assert run.stdout.startswith("Authorization: Bearer ") and run.stdout.endswith("\n")
        assert len(run.stdout.splitlines()) == 1
        assert_token_shape(provider, run.stdout.removeprefix("Authorization: Bearer ").strip(), workspace)
    elif output == "env":
        lines = run.stdout.splitlines()
        names = [line.split("=", 1)[0] for line in lines]
        assert names == ["export PAYTOKEN_ACCESS_TOKEN", "export PAYTOKEN_TOKEN_TYPE", "export PAYTOKEN_EXPIRES_AT"]
        values = [shlex.split(line.split("=", 1)[1])[0] for line in lines]
        assert_token_shape(provider, values[0], workspace)
        assert values[1] == "Bearer"
        left = (utc(values[2]) - datetime.now(UTC)).total_seconds()
        assert TOKEN_TTL - 10 <= left <= TOKEN_TTL + 1
    elif output == "json":
        document = json.loads(run.stdout)
        assert set(document) == JSON_FIELDS
        assert_token_shape(provider, document["access_token"], workspace)
    else:
        for text in (provider, "demo", "Bearer", "in 15 min", "no, fresh from the gateway"):
            assert text in run.stdout, run.stdout


def test_env_prefix_and_a_real_shell(profiles: Path, sandbox: Sandbox) -> None:
    import subprocess

    run = paytoken("get", "faspay-sendme", "-p", "demo", "-o", "env", "--env-prefix", "FASPAY_")
    assert run.exit_code == 0, run.output
    shell = subprocess.run(
        ["sh", "-c", run.stdout + 'printf "%s|%s" "$FASPAY_ACCESS_TOKEN" "$FASPAY_TOKEN_TYPE"'],
        capture_output=True,
        text=True,
        check=True,
    )
    token, token_type = shell.stdout.split("|")
    assert len(token) >= 32 and token_type == "Bearer"


# --- json: fields, the gateway's answer as sent, a sensible expiry ---------------------------------


def test_doku_json_expiry_is_the_jwt_exp(profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    before = datetime.now(UTC)
    document = get_json("doku")
    assert set(document) == JSON_FIELDS
    assert document["provider"] == "doku" and document["profile"] == "demo"
    assert document["token_type"] == "Bearer" and document["cached"] is False
    assert document["response"] == {"token": document["access_token"]}
    exp = jwt_claims(str(document["access_token"]))["exp"]
    assert isinstance(exp, int)
    assert utc(str(document["expires_at"])) == datetime.fromtimestamp(exp, UTC)
    assert before.timestamp() + TOKEN_TTL - 2 <= exp <= datetime.now(UTC).timestamp() + TOKEN_TTL + 1
    assert isinstance(document["expires_in"], int) and TOKEN_TTL - 10 <= document["expires_in"] <= TOKEN_TTL
    assert requests_to(sandbox, "doku") == 1


def test_finpay_json_expiry_is_the_token_expiry_in_jakarta_time(profiles: Path, sandbox: Sandbox) -> None:
    before = datetime.now(UTC)
    document = get_json("finpay-widget")
    assert set(document) == JSON_FIELDS
    assert document["provider"] == "finpay-widget" and document["token_type"] == "Bearer"
    response = document["response"]
    assert isinstance(response, dict)
    assert set(response) == {"statusCode", "statusDesc", "tokenID", "tokenExpiry", "processingTime"}
    assert response["statusCode"] == "000" and response["tokenID"] == document["access_token"]
    # `24-AUG-24 16:23:30` is Jakarta's wall clock: UTC is seven hours earlier.
    wall = datetime.strptime(str(response["tokenExpiry"]).title(), "%d-%b-%y %H:%M:%S")
    expiry = (wall - JAKARTA_OFFSET).replace(tzinfo=UTC)
    assert utc(str(document["expires_at"])) == expiry
    assert before + timedelta(seconds=TOKEN_TTL - 2) <= expiry <= datetime.now(UTC) + timedelta(seconds=TOKEN_TTL + 1)
    assert isinstance(document["expires_in"], int) and TOKEN_TTL - 10 <= document["expires_in"] <= TOKEN_TTL
    assert requests_to(sandbox, "finpay-widget") == 1


def test_faspay_json_expiry_is_expired_in(profiles: Path, sandbox: Sandbox) -> None:
    before = datetime.now(UTC)
    document = get_json("faspay-sendme")
    assert set(document) == JSON_FIELDS
    assert document["provider"] == "faspay-sendme" and document["token_type"] == "Bearer"
    response = document["response"]
    assert isinstance(response, dict)
    assert set(response) == {"status", "response_code", "access_token", "expired_in", "message", "response_desc"}
    assert all(isinstance(value, str) for value in response.values())
    assert response["status"] == "2" and response["access_token"] == document["access_token"]
    assert response["expired_in"] == str(TOKEN_TTL)
    assert isinstance(document["expires_in"], int) and TOKEN_TTL - 2 <= document["expires_in"] <= TOKEN_TTL
    expires_at = utc(str(document["expires_at"]))
    assert (
        before + timedelta(seconds=TOKEN_TTL - 1) <= expires_at <= datetime.now(UTC) + timedelta(seconds=TOKEN_TTL + 1)
    )
    assert requests_to(sandbox, "faspay-sendme") == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_get_is_one_request_to_the_token_path(provider: str, profiles: Path, sandbox: Sandbox) -> None:
    first = get_json(provider)
    request = only_request(sandbox, provider)
    assert request["method"] == METHODS[provider] and request["path"] == PATHS[provider]
    assert get_json(provider, "--no-cache")["cached"] is False
    assert requests_to(sandbox, provider) == 2
    # A cached token is served without a request (SPEC 5): still two.
    again = get_json(provider)
    assert again["cached"] is True and again["access_token"] == first["access_token"]
    assert requests_to(sandbox, provider) == 2
    assert sum(requests_to(sandbox, other) for other in PROVIDERS if other != provider) == 0


# --- --dry-run ------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_dry_run_sends_nothing(provider: str, profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    run = paytoken("get", provider, "-p", "demo", "--dry-run")
    assert run.exit_code == 0, run.output
    assert "dry run, nothing sent" in run.stdout
    assert_clean(run.output, all_secrets(workspace))
    as_json = paytoken("get", provider, "-p", "demo", "--dry-run", "-o", "json")
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert document["method"] == METHODS[provider]
    assert document["url"] == sandbox.url + PATHS[provider]
    assert (document["body"] is None) == (provider == "faspay-sendme")
    assert requests_to(sandbox, provider) == 0
    assert received(sandbox, provider) == []


# --- DOKU: the body hashed is the body sent ----------------------------------------------------------


def test_doku_the_digest_is_over_the_exact_bytes_the_gateway_received(
    profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    request_id = str(uuid.uuid4())
    fixed = ("--timestamp", timestamp, "--request-id", request_id)
    sign = paytoken("sign", "doku", "-p", "demo", *fixed, "-o", "json")
    assert sign.exit_code == 0, sign.output
    signed = json.loads(sign.stdout)
    run = paytoken("get", "doku", "-p", "demo", *fixed, "-v", "-o", "token")
    assert run.exit_code == 0, run.output

    request = only_request(sandbox, "doku")
    body = str(request["body"]).encode("utf-8")
    assert body == str(signed["body"]).encode("utf-8") == b'{"grant_type":"client_credentials"}'
    assert f"> {signed['body']}" in run.stderr.splitlines()
    component = str(signed["string_to_sign"]).split("\n")
    assert component[-1] == "Digest:" + b64(hashlib.sha256(body).digest())
    # The component paytoken signed is the one the gateway rebuilds from what it received.
    known = credentials(workspace, "doku")
    assert component == [
        f"Client-Id:{header(request, 'Client-Id')}",
        f"Request-Id:{request_id}",
        f"Request-Timestamp:{timestamp}",
        f"Request-Target:{request['path']}",
        f"Digest:{b64(hashlib.sha256(body).digest())}",
    ]
    assert header(request, "Client-Id") == known["client_id"]
    assert header(request, "Request-Id") == request_id and header(request, "Request-Timestamp") == timestamp
    mac = hmac.new(known["secret_key"].encode(), "\n".join(component).encode(), hashlib.sha256).digest()
    assert header(request, "Signature") == signed["signature"] == "HMACSHA256=" + b64(mac)
    assert_clean(run.output + sign.output, all_secrets(workspace))


@pytest.mark.parametrize("source", ["flag", "profile"])
def test_doku_valid_time_sets_the_body_and_the_expiry(
    source: str, profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    if source == "profile":
        add_profile_lines(profiles, "doku", "valid_time = 5")
    now = datetime.now(UTC).timestamp()
    document = get_json("doku", *(("--valid-time", "5") if source == "flag" else ()))
    exp = jwt_claims(str(document["access_token"]))["exp"]
    assert isinstance(exp, int) and now + 300 - 2 <= exp <= now + 300 + 2
    assert isinstance(document["expires_in"], int) and 290 <= document["expires_in"] <= 300
    assert only_request(sandbox, "doku")["body"] == '{"grant_type":"client_credentials","valid_time":"5"}'


# --- rejections: exit 4, the gateway's words, no traceback, no secret --------------------------------


def test_doku_a_wrong_secret_key_is_rejected(profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    set_profile_value(profiles, "doku", "secret_key", credentials(workspace, "doku")["secret_key"], WRONG)
    run = paytoken("get", "doku", "-p", "demo")
    assert run.exit_code == 4, run.output
    assert run.stdout == ""
    assert run.stderr.splitlines()[:2] == [
        "error: DOKU partner API rejected the token request: invalid_signature Invalid Header Signature",
        "  HTTP 401",
    ]
    assert "hint:" in run.stderr
    assert_clean(run.output, all_secrets(workspace))
    assert requests_to(sandbox, "doku") == 1


def test_finpay_a_wrong_secret_key_shows_both_signatures(
    profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    known = credentials(workspace, "finpay-widget")
    set_profile_value(profiles, "finpay-widget", "secret_key", known["secret_key"], WRONG)
    run = paytoken("get", "finpay-widget", "-p", "demo")
    assert run.exit_code == 4, run.output
    assert run.stdout == ""
    assert "A1004" in run.stderr and "Invalid Signature" in run.stderr
    fields = json.loads(str(only_request(sandbox, "finpay-widget")["body"]))
    sent = fields["signature"]
    expected = finpay_signature(fields, known["secret_key"])
    assert re.fullmatch(r"[0-9A-F]{64}", sent) and sent == finpay_signature(fields, WRONG)
    assert expected != sent
    assert expected in run.stderr, run.stderr
    assert sent in run.stderr, run.stderr
    assert_clean(run.output, all_secrets(workspace))


def test_finpay_a_wrong_merchant_password_is_a1003(profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    known = credentials(workspace, "finpay-widget")
    set_profile_value(profiles, "finpay-widget", "merchant_password", known["merchant_password"], WRONG)
    run = paytoken("get", "finpay-widget", "-p", "demo")
    assert run.exit_code == 4, run.output
    assert run.stdout == ""
    assert "A1003" in run.stderr and "Invalid merchant credentials" in run.stderr
    assert_clean(run.output, [*all_secrets(workspace), b64(f"{known['merchant_id']}:{WRONG}".encode())])
    assert requests_to(sandbox, "finpay-widget") == 1


@pytest.mark.parametrize("key", ["faspay_secret", "app_secret", "client_secret", "iv"])
def test_faspay_a_wrong_secret_is_status_9(key: str, profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    set_profile_value(profiles, "faspay-sendme", key, credentials(workspace, "faspay-sendme")[key], WRONG)
    run = paytoken("get", "faspay-sendme", "-p", "demo")
    assert run.exit_code == 4, run.output
    assert run.stdout == ""
    assert "status 9" in run.stderr and "Unauthorized" in run.stderr
    assert_clean(run.output, all_secrets(workspace))
    assert requests_to(sandbox, "faspay-sendme") == 1


# --- faults: exit 6 for a 5xx or an HTML page, 5 for a dropped connection ---------------------------


@pytest.mark.realtime
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_5xx_is_exit_6(provider: str, profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, provider, status=503)
    run = paytoken("get", provider, "-p", "demo")
    assert run.exit_code == 6, run.output
    assert run.stdout == "" and "503" in run.stderr
    assert_clean(run.output, all_secrets(workspace))
    assert requests_to(sandbox, provider) >= 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_html_page_is_exit_6(provider: str, profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, provider, html=True)
    run = paytoken("get", provider, "-p", "demo")
    assert run.exit_code == 6, run.output
    assert run.stdout == "" and "HTML" in run.stderr
    assert_clean(run.output, all_secrets(workspace))
    assert requests_to(sandbox, provider) == 1


@pytest.mark.realtime
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_dropped_connection_is_exit_5(provider: str, profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, provider, drop=True)
    run = paytoken("get", provider, "-p", "demo")
    assert run.exit_code == 5, run.output
    assert run.stdout == "" and "connection" in run.stderr
    assert_clean(run.output, all_secrets(workspace))


# --- -v: the exchange on stderr, secrets and the token masked -------------------------------------


def test_finpay_verbose_masks_the_authorization_and_the_token(
    profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    known = credentials(workspace, "finpay-widget")
    run = paytoken("get", "finpay-widget", "-p", "demo", "-v", "-o", "token")
    assert run.exit_code == 0, run.output
    token = run.stdout.strip()
    credentials_b64 = b64(f"{known['merchant_id']}:{known['merchant_password']}".encode())
    lines = [line for line in run.stderr.splitlines() if line.lower().startswith("> authorization:")]
    assert len(lines) == 1, run.stderr
    assert lines[0].endswith(BULLETS + credentials_b64[-4:]), lines[0]
    assert credentials_b64 not in run.stderr
    assert "> POST " in run.stderr and "< HTTP 200" in run.stderr and '"requestType":"getToken"' in run.stderr
    assert token not in run.stderr and BULLETS + token[-4:] in run.stderr
    assert_clean(run.output, all_secrets(workspace))


def test_faspay_verbose_masks_the_authorization_and_the_token(
    profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    signed = json.loads(paytoken("sign", "faspay-sendme", "-p", "demo", "-o", "json").stdout)
    authorization = signed["headers"]["faspay-authorization"]
    run = paytoken("get", "faspay-sendme", "-p", "demo", "-v", "-o", "token")
    assert run.exit_code == 0, run.output
    token = run.stdout.strip()
    lines = [line for line in run.stderr.splitlines() if line.lower().startswith("> faspay-authorization:")]
    assert len(lines) == 1, run.stderr
    assert lines[0].endswith(BULLETS + authorization[-4:]), lines[0]
    assert authorization not in run.stderr
    assert "> GET " in run.stderr and "< HTTP 200" in run.stderr and "> faspay-signature: " in run.stderr
    assert token not in run.stderr and BULLETS + token[-4:] in run.stderr
    assert_clean(run.output, all_secrets(workspace))


def test_doku_verbose_shows_the_body_and_masks_the_token(
    profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    run = paytoken("get", "doku", "-p", "demo", "-v", "-o", "token")
    assert run.exit_code == 0, run.output
    token = run.stdout.strip()
    assert '> {"grant_type":"client_credentials"}' in run.stderr.splitlines()
    assert "> Signature: HMACSHA256=" in run.stderr
    assert token not in run.stderr and BULLETS + token[-4:] in run.stderr
    assert_clean(run.output, all_secrets(workspace))


# --- Faspay's profile switches: http_method and signature_method -----------------------------------


def test_faspay_http_method_post_sends_a_post_and_gets_a_token(
    profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    add_profile_lines(profiles, "faspay-sendme", 'http_method = "POST"')
    document = get_json("faspay-sendme")
    assert document["response"]["status"] == "2"  # type: ignore[index]
    request = only_request(sandbox, "faspay-sendme")
    assert request["method"] == "POST" and request["path"] == PATHS["faspay-sendme"]
    # The signed method stays GET: the signature verifies over GET:… even though POST was sent.
    known = credentials(workspace, "faspay-sendme")
    string_to_sign = faspay_string_to_sign(
        header(request, "faspay-timestamp"), known["client_key"], known["client_secret"]
    )
    signed = json.loads(
        paytoken(
            "sign", "faspay-sendme", "-p", "demo", "--timestamp", header(request, "faspay-timestamp"), "-o", "json"
        ).stdout
    )
    assert signed["method"] == "POST" and signed["string_to_sign"] == string_to_sign
    assert header(request, "faspay-signature") == signed["signature"]


def test_faspay_signature_method_hmac_still_gets_a_token(
    profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    add_profile_lines(profiles, "faspay-sendme", 'signature_method = "hmac"')
    document = get_json("faspay-sendme")
    assert document["response"]["status"] == "2"  # type: ignore[index]
    request = only_request(sandbox, "faspay-sendme")
    assert request["method"] == "GET"
    known = credentials(workspace, "faspay-sendme")
    string_to_sign = faspay_string_to_sign(
        header(request, "faspay-timestamp"), known["client_key"], known["client_secret"]
    )
    expected = hmac.new(known["faspay_secret"].encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert header(request, "faspay-signature") == expected


def test_faspay_default_signature_is_aes_not_hmac(profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    get_json("faspay-sendme")
    request = only_request(sandbox, "faspay-sendme")
    signature = header(request, "faspay-signature")
    assert not re.fullmatch(r"[0-9a-f]{64}", signature)
    # AES-256-CBC of a ~110-byte string to sign: whole 16-byte blocks, base64.
    assert len(base64.b64decode(signature, validate=True)) % 16 == 0


# --- an answer the sandbox cannot give: Finpay's rejection with deeply nested JSON ---------------------

NESTED_REJECTION = (
    '{"statusCode":"A1004","statusDesc":"Invalid Signature","detail":' + "[" * 600 + "]" * 600 + "}"
).encode()


@pytest.fixture
def nested_gateway() -> Iterator[str]:
    """A loopback server that answers every POST with NESTED_REJECTION (valid JSON: json.loads reads it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(NESTED_REJECTION)))
            self.end_headers()
            self.wfile.write(NESTED_REJECTION)

        def log_message(self, format: str, *args: object) -> None:
            return

    with serving(Handler) as url:
        yield url


def test_finpay_a_deeply_nested_rejection_is_exit_4_not_an_internal_error(
    profiles: Path, nested_gateway: str, workspace: Workspace
) -> None:
    json.loads(NESTED_REJECTION)  # the answer is valid JSON
    run = paytoken("get", "finpay-widget", "-p", "demo", "--base-url", nested_gateway)
    assert run.exit_code == 4, run.output
    assert "A1004" in run.stderr and "internal error" not in run.stderr
    assert_clean(run.output, all_secrets(workspace))
