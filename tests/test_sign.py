"""`paytoken sign`: every output format, --timestamp, --compare, and the curl command run for real."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from support import assert_clean, key_secrets, paytoken, requests_to

from tidak_cli.demo import Workspace
from tidak_cli.gateways import PROVIDERS
from tidak_cli.sandbox import Sandbox

STAMP = "2024-12-31T10:11:40+07:00"


def private_key(workspace: Workspace, provider: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((workspace.directory / provider / "private.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def sign_independently(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def sign_json(*args: str) -> dict[str, object]:
    run = paytoken("sign", *args, "-o", "json")
    assert run.exit_code == 0, run.output
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def test_json_has_the_spec_fields_and_exact_bytes(profiles: Path, workspace: Workspace) -> None:
    document = sign_json("nicepay", "-p", "demo", "--timestamp", STAMP)
    assert {"provider", "method", "url", "headers", "body", "string_to_sign", "signature", "algorithm"} <= set(document)
    assert document["method"] == "POST" and document["algorithm"] == "SHA256withRSA"
    assert str(document["url"]).endswith("/nicepay/v1.0/access-token/b2b")
    assert document["body"] == '{"grantType":"client_credentials","additionalInfo":{}}'
    headers = document["headers"]
    assert isinstance(headers, dict)
    assert headers["X-TIMESTAMP"] == STAMP and headers["Content-Type"] == "application/json"
    client_id = headers["X-CLIENT-KEY"]
    assert document["string_to_sign"] == f"{client_id}|{STAMP}"
    expected = sign_independently(private_key(workspace, "nicepay"), f"{client_id}|{STAMP}")
    assert document["signature"] == headers["X-SIGNATURE"] == expected


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("finpay-snap", '{"grantType":"client_credentials"}'),
        ("doku-snap", '{"grantType":"client_credentials"}'),
        ("snap", '{"grantType":"client_credentials","additionalInfo":{}}'),
    ],
)
def test_each_snap_provider_sends_its_body(provider: str, body: str, profiles: Path) -> None:
    assert sign_json(provider, "-p", "demo")["body"] == body


def test_same_timestamp_same_signature(profiles: Path) -> None:
    first = sign_json("doku-snap", "-p", "demo", "--timestamp", STAMP)
    second = sign_json("doku-snap", "-p", "demo", "--timestamp", STAMP)
    assert first["signature"] == second["signature"]


def test_pretty_shows_string_to_sign_length_digest_headers_and_body(profiles: Path, workspace: Workspace) -> None:
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP)
    assert run.exit_code == 0, run.output
    string_to_sign = f"DEMO-NICEPAY-001|{STAMP}"
    assert string_to_sign in run.stdout
    assert f"({len(string_to_sign)} bytes, SHA-256 {hashlib.sha256(string_to_sign.encode()).hexdigest()})" in run.stdout
    for text in ("X-CLIENT-KEY: DEMO-NICEPAY-001", "SHA256withRSA", '{"grantType":"client_credentials"'):
        assert text in run.stdout
    assert_clean(run.output, key_secrets(workspace))


def test_pretty_makes_invisible_characters_visible(profiles: Path) -> None:
    profiles.write_text(profiles.read_text().replace('client_id = "DEMO-NICEPAY-001"', 'client_id = "DEMO\\t001 "'))
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP)
    assert "DEMO\\t001 |" in run.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl command")
@pytest.mark.parametrize("provider", PROVIDERS)
def test_curl_command_gets_a_token_from_the_sandbox(provider: str, profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("sign", provider, "-p", "demo", "-o", "curl")
    assert run.exit_code == 0 and run.stdout.startswith("curl ")
    answer = subprocess.run(["sh", "-c", run.stdout], capture_output=True, text=True, timeout=30, check=True)
    # The gateway's own answer shape, read as paytoken reads it: a token, not a rejection.
    assert PROVIDERS[provider].parse(200, answer.stdout.encode()).access_token
    assert requests_to(sandbox, provider) == 1


def test_snap_token_path_option_and_profile_body_and_headers(profiles: Path, workspace: Workspace) -> None:
    key_file = workspace.directory / "snap" / "private.pem"
    profiles.write_text(
        profiles.read_text() + f'\n[snap.bank]\nclient_id = "BANK-1"\nprivate_key_file = "{key_file}"\n'
        'base_url = "https://api.bank.example"\ntimestamp_format = "jakarta-millis"\n'
        '[snap.bank.body]\ngrantType = "client_credentials"\n[snap.bank.body.additionalInfo]\npartner = "x"\n'
        '[snap.bank.headers]\nX-PARTNER-ID = "P-9"\n'
    )
    document = sign_json("snap", "-p", "bank", "--token-path", "/openapi/v1.0/access-token/b2b")
    assert document["url"] == "https://api.bank.example/openapi/v1.0/access-token/b2b"
    assert document["body"] == '{"grantType":"client_credentials","additionalInfo":{"partner":"x"}}'
    headers = document["headers"]
    assert isinstance(headers, dict)
    assert headers["X-PARTNER-ID"] == "P-9"
    assert len(headers["X-TIMESTAMP"]) == 29 and headers["X-TIMESTAMP"][19] == "."


def test_compare_accepts_the_right_signature(profiles: Path, workspace: Workspace) -> None:
    good = sign_independently(private_key(workspace, "nicepay"), f"DEMO-NICEPAY-001|{STAMP}")
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP, "--compare", good)
    assert run.exit_code == 0
    assert "matches" in run.output


def test_compare_tells_other_bytes_from_other_key(profiles: Path, workspace: Workspace) -> None:
    key = private_key(workspace, "nicepay")
    other_input = sign_independently(key, "DEMO-NICEPAY-001|something else entirely")
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP, "--compare", other_input)
    assert run.exit_code == 1
    assert "made with this profile's key, but over other bytes" in run.output
    assert hashlib.sha256(b"DEMO-NICEPAY-001|something else entirely").hexdigest() in run.output

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_key = sign_independently(stranger, f"DEMO-NICEPAY-001|{STAMP}")
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP, "--compare", other_key)
    assert run.exit_code == 1
    assert "not made with this profile's private key" in run.output
    assert "over other bytes" not in run.output
    assert_clean(run.output, key_secrets(workspace))


def test_compare_spots_encoding_and_garbage(profiles: Path, workspace: Workspace) -> None:
    good = sign_independently(private_key(workspace, "nicepay"), f"DEMO-NICEPAY-001|{STAMP}")
    wrapped = "\n".join(good[i : i + 64] for i in range(0, len(good), 64))
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP, "--compare", wrapped)
    assert run.exit_code == 1 and "same signature bytes" in run.output
    as_hex = base64.b64decode(good).hex()
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP, "--compare", as_hex)
    assert run.exit_code == 1 and "written as hex" in run.output
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP, "--compare", "not a signature!")
    assert run.exit_code == 1 and "not base64" in run.output


def test_compare_in_json_output(profiles: Path) -> None:
    run = paytoken("sign", "nicepay", "-p", "demo", "--timestamp", STAMP, "-o", "json", "--compare", "AAAA")
    assert run.exit_code == 1
    assert json.loads(run.stdout)["compare"]["matches"] is False
