"""`paytoken call` and `sign --request` end to end: the real sandbox over loopback, through the CLI.

The SNAP providers' profiles get a client_secret that the sandbox holds too (as after onboarding). Every signature
the sandbox accepts is checked there from the bytes received; the tests below check bytes against hashlib/hmac.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import urllib.request
from pathlib import Path

import pytest
from support import assert_clean, paytoken, sandbox_value, set_fault, stats

from tidak_cli.demo import Workspace
from tidak_cli.sandbox import Sandbox

SNAP = ("nicepay", "finpay-snap", "doku-snap", "snap")
# A call path per SNAP provider; NICEPAY's is given without its /nicepay prefix (it is added to the URL only).
PATHS = {
    "nicepay": "/api/v1.0/transfer-va/create-va",
    "finpay-snap": "/pg/snap/v1.0/transfer-va/create-va",
    "doku-snap": "/virtual-accounts/bi-snap-va/v1/transfer-va/create-va",
    "snap": "/v1.0/transfer-va/create-va",
}
BODY = '{ "trxId": "INV-1",  "totalAmount": {"value": 10000.00, "currency": "IDR"}, "name": "Dévi" }'
COMPACT = '{"trxId":"INV-1","totalAmount":{"value":10000.00,"currency":"IDR"},"name":"Dévi"}'


@pytest.fixture
def snap_secrets(workspace: Workspace) -> dict[str, str]:
    """Each SNAP client's client_secret, which the workspace gives both the profile and the sandbox."""
    return {name: sandbox_value(workspace, name, "client_secret") for name in SNAP}


def _post(sandbox: Sandbox, path: str, body: bytes = b"{}") -> object:
    request = urllib.request.Request(f"{sandbox.url}{path}", data=body, method="POST")
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def _seen(sandbox: Sandbox, provider: str) -> list[dict[str, object]]:
    """The calls (not token requests) to provider's example path the sandbox received, as received.

    By path, not by the provider the sandbox counted: a token no gateway issued is refused by the first SNAP
    emulator that looks at it.
    """
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/requests") as answer:
        received = json.load(answer)["requests"]
    return [item for item in received if str(item["path"]).split("?")[0].endswith(PATHS[provider])]


def _counts(sandbox: Sandbox, provider: str) -> dict[str, int]:
    return stats(sandbox)["providers"][provider]  # type: ignore[index,no-any-return]


def _call(provider: str, *args: str, data: str | None = COMPACT) -> list[str]:
    return ["call", provider, "post", PATHS[provider], "-p", "demo", *(("--data", data) if data else ()), *args]


def _expected_signature(secret: str, method: str, path: str, token: str, body: bytes, stamp: str) -> str:
    """SNAP's symmetric call signature, written here with hmac/hashlib (SPEC 6.2), not with paytoken's code."""
    text = f"{method}:{path}:{token}:{hashlib.sha256(body).hexdigest()}:{stamp}"
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha512).digest()).decode()


@pytest.mark.parametrize("provider", SNAP)
def test_call_every_snap_provider(
    provider: str, profiles: Path, sandbox: Sandbox, snap_secrets: dict[str, str]
) -> None:
    run = paytoken(*_call(provider, "-o", "json", data=BODY))
    assert run.exit_code == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["status"] == 200
    assert document["body"]["responseCode"].startswith("200")
    sent = document["request"]
    # Serialized once, compactly, key order and non-ASCII and the number's digits kept; those bytes hashed.
    assert sent["body"] == COMPACT
    assert sent["method"] == "POST"
    assert document["body"]["request"]["body"] == json.loads(COMPACT)
    counts = _counts(sandbox, provider)
    assert (counts["issued"], counts["calls"]) == (1, 1)
    # The bytes on the wire: signed as the sandbox checks, and by hmac here from what it received.
    [seen] = _seen(sandbox, provider)
    assert seen["body"] == COMPACT
    assert sent["headers"]["Authorization"].startswith("Bearer ••••")
    assert_clean(run.output, [snap_secrets[provider]])


def test_signature_matches_an_independent_hmac(profiles: Path, sandbox: Sandbox, snap_secrets: dict[str, str]) -> None:
    token = paytoken("get", "nicepay", "-p", "demo").stdout.strip()
    stamp = "2030-01-01T00:00:00+07:00"
    run = paytoken(*_call("nicepay", "--dry-run", "-o", "json", "--timestamp", stamp, "--external-id", "123"))
    assert run.exit_code == 0, run.stderr
    signed = json.loads(run.stdout)
    expected = _expected_signature(snap_secrets["nicepay"], "POST", PATHS["nicepay"], token, COMPACT.encode(), stamp)
    assert signed["signature"] == expected
    assert signed["url"].endswith("/nicepay" + PATHS["nicepay"])
    assert signed["headers"]["X-EXTERNAL-ID"] == "123"
    assert sum(_counts(sandbox, "nicepay").values()) == 1 + 1  # the one token request: requests and issued


def test_raw_body_is_sent_and_hashed_exactly(profiles: Path, sandbox: Sandbox) -> None:
    raw = '{ "a" : 1,\n  "b":"x" }'
    run = paytoken(*_call("snap", "--raw-body", "-o", "json", data=raw))
    assert run.exit_code == 0, run.stderr
    [seen] = _seen(sandbox, "snap")
    assert seen["body"] == raw
    assert json.loads(run.stdout)["request"]["body"] == raw


def test_data_from_file_and_stdin(profiles: Path, sandbox: Sandbox, isolated: Path) -> None:
    (isolated / "body.json").write_text(BODY)
    assert paytoken(*_call("snap", data="@body.json")).exit_code == 0
    assert paytoken(*_call("snap", data="-"), input=BODY).exit_code == 0
    assert [item["body"] for item in _seen(sandbox, "snap")] == [COMPACT, COMPACT]


def test_default_output_off_a_terminal_is_the_answer_body(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken(*_call("doku-snap"))
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["responseCode"].startswith("200")


def test_pretty_shows_status_code_and_message(profiles: Path) -> None:
    run = paytoken(*_call("finpay-snap", "-o", "pretty"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("HTTP 200")
    assert re.search(r"gateway says: 200\d{4} Successful", run.stdout)
    assert '"responseCode"' in run.stdout


def test_wrong_client_secret_is_rejected_with_one_message(
    profiles: Path, sandbox: Sandbox, snap_secrets: dict[str, str]
) -> None:
    wrong = secrets.token_urlsafe(24)
    profiles.write_text(profiles.read_text().replace(snap_secrets["snap"], wrong))
    run = paytoken(*_call("snap", "-v"))
    assert run.exit_code == 4
    assert run.stderr.count("error:") == 1
    assert re.search(r"error: SNAP B2B rejected the call: 401\d\d00 Unauthorized\. Signature", run.stderr)
    assert "client_secret" in run.stderr  # the hint names what to check
    assert _counts(sandbox, "snap")["calls"] == 0
    assert_clean(run.output, [wrong, snap_secrets["snap"]])


def test_expired_cached_token_is_refreshed_once(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0  # the token is now in the cache
    _post(sandbox, "/_sandbox/expire-tokens")
    run = paytoken(*_call("nicepay"))
    assert run.exit_code == 0, run.stderr
    assert "refused the cached token" in run.stderr
    assert run.stderr.count("\n") == 1  # one visible line, no more without -v
    counts = _counts(sandbox, "nicepay")
    assert counts["issued"] == 2  # the first get and the one refresh
    calls = _seen(sandbox, "nicepay")
    assert len(calls) == 2 and counts["calls"] == 1  # refused once (401xx01), accepted once
    ids = [item["headers"]["x-external-id"] for item in calls]  # type: ignore[index]
    assert ids[0] != ids[1]


def test_expired_token_refresh_says_more_under_verbose(
    profiles: Path, sandbox: Sandbox, snap_secrets: dict[str, str]
) -> None:
    assert paytoken("get", "snap", "-p", "demo").exit_code == 0
    token = paytoken("get", "snap", "-p", "demo").stdout.strip()
    _post(sandbox, "/_sandbox/expire-tokens")
    run = paytoken(*_call("snap", "-v"))
    assert run.exit_code == 0, run.stderr
    assert "first try's call id" in run.stderr
    assert "Authorization: Bearer ••••" in run.stderr
    assert_clean(run.output, [token, snap_secrets["snap"]])


def test_refused_token_is_not_refreshed_twice(
    profiles: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert paytoken("get", "snap", "-p", "demo").exit_code == 0
    _post(sandbox, "/_sandbox/expire-tokens")
    # A gateway that forgets every token it issues from now on: the fresh token is refused as well.
    monkeypatch.setattr(sandbox.ledger, "issue", lambda *args, **kwargs: None)
    run = paytoken(*_call("snap"))
    assert run.exit_code == 4
    assert "refused too" in run.stderr
    assert len(_seen(sandbox, "snap")) == 2
    assert _counts(sandbox, "snap")["issued"] == 2


def test_given_token_is_never_refreshed(profiles: Path, sandbox: Sandbox) -> None:
    token = paytoken("get", "doku-snap", "-p", "demo").stdout.strip()
    _post(sandbox, "/_sandbox/expire-tokens")
    run = paytoken(*_call("doku-snap", "--token", token))
    assert run.exit_code == 4
    assert re.search(r"401\d\d01 Invalid Token \(B2B\)", run.stderr)
    assert "--token" in run.stderr and "refreshes only" in run.stderr
    assert len(_seen(sandbox, "doku-snap")) == 1
    assert _counts(sandbox, "doku-snap")["issued"] == 1
    assert_clean(run.stderr, [token])


def test_bearer_prefix_on_token_is_a_usage_error(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken(*_call("snap", "--token", "Bearer abcdefghijklmnop"))
    assert run.exit_code == 2
    assert "Bearer" in run.stderr and "hint:" in run.stderr
    assert stats(sandbox)["requests"] == 0


def test_duplicate_external_id_is_rejected_naming_it(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken(*_call("snap", "--external-id", "20240101123")).exit_code == 0
    run = paytoken(*_call("snap", "--external-id", "20240101123"))
    assert run.exit_code == 4
    assert re.search(r"409\d\d00 Conflict", run.stderr)
    assert "X-EXTERNAL-ID 20240101123" in run.stderr
    assert len(_seen(sandbox, "snap")) == 2  # each reached the sandbox once: nothing resent


def test_5xx_is_exit_6_and_reaches_the_sandbox_once(
    profiles: Path, sandbox: Sandbox, snap_secrets: dict[str, str]
) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    set_fault(sandbox, "nicepay", status=503)
    run = paytoken(*_call("nicepay"))
    assert run.exit_code == 6
    assert "HTTP 503" in run.stderr and "never resends" in run.stderr
    assert len(_seen(sandbox, "nicepay")) == 1
    assert _counts(sandbox, "nicepay")["faulted"] == 1
    assert_clean(run.output, [snap_secrets["nicepay"]])


def test_dropped_connection_is_exit_5_and_reaches_the_sandbox_once(
    profiles: Path, sandbox: Sandbox, snap_secrets: dict[str, str]
) -> None:
    assert paytoken("get", "snap", "-p", "demo").exit_code == 0
    set_fault(sandbox, "snap", drop=True)
    run = paytoken(*_call("snap"))
    assert run.exit_code == 5
    assert "did not send it again" in run.stderr
    assert len(_seen(sandbox, "snap")) == 1
    assert_clean(run.output, [snap_secrets["snap"]])


def test_connection_refused_is_exit_5(profiles: Path, isolated: Path, snap_secrets: dict[str, str]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    token = "T" * 40
    run = paytoken(*_call("snap", "--token", token, "--base-url", f"http://127.0.0.1:{port}"))
    assert run.exit_code == 5
    assert "refused the connection" in run.stderr
    assert_clean(run.output, [token, snap_secrets["snap"]])


def test_dry_run_sends_nothing(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken(*_call("snap", "--dry-run", "--token", "T" * 40))
    assert run.exit_code == 0, run.stderr
    assert "dry run, nothing sent" in run.stdout
    assert "X-SIGNATURE" in run.stdout
    assert "T" * 40 not in run.stdout  # the token masked in the pretty view
    assert stats(sandbox)["requests"] == 0


def test_dry_run_without_a_cached_token_is_exit_3(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken(*_call("snap", "--dry-run"))
    assert run.exit_code == 3
    assert "paytoken get snap -p demo" in run.stderr and "--token" in run.stderr
    assert stats(sandbox)["requests"] == 0


def test_curl_output_sends_nothing_and_runs(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "snap", "-p", "demo").exit_code == 0
    run = paytoken(*_call("snap", "-o", "curl"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("curl ") and "nothing was sent" in run.stderr
    assert _seen(sandbox, "snap") == []


def test_json_output_shape(profiles: Path) -> None:
    run = paytoken(*_call("snap", "-o", "json", "-H", "X-Note: hello"))
    assert run.exit_code == 0, run.stderr
    document = json.loads(run.stdout)
    assert list(document) == ["status", "headers", "body", "request"]
    assert list(document["request"]) == ["method", "url", "headers", "body", "string_to_sign", "signature"]
    assert document["request"]["headers"]["X-Note"] == "hello"
    token_part = document["request"]["string_to_sign"].split(":")[2]
    assert token_part.startswith("••••")


def test_method_is_case_insensitive_and_sent_upper_case(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("call", "snap", "gEt", f"{PATHS['snap']}?partnerServiceId=1", "-p", "demo")
    assert run.exit_code == 0, run.stderr
    [seen] = _seen(sandbox, "snap")
    assert seen["method"] == "GET" and seen["path"] == f"{PATHS['snap']}?partnerServiceId=1"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--data", "{not json"), "not JSON"),
        (("--data", '{"a":1,"a":2}'), "twice"),
        (("--data", "@missing.json"), "does not exist"),
        (("--raw-body",), "no --data"),
        (("-H", "no colon"), "Name: value"),
        (("-H", "X-A: 1", "-H", "x-a: 2"), "twice"),
        (("-H", "X-SIGNATURE: forged"), "computes"),
        (("--external-id", "abc"), "digits"),
        (("--token", "two words"), "spaces"),
    ],
)
def test_bad_call_input_is_one_usage_error(args: tuple[str, ...], words: str, profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("call", "snap", "POST", "/v1.0/x", "-p", "demo", "--token", "T" * 40, *args)
    assert run.exit_code == 2, run.output
    assert run.stderr.count("error:") == 1 and words in run.stderr
    assert_clean(run.output)
    assert stats(sandbox)["requests"] == 0


def test_sign_request_uses_the_cached_token_and_the_same_bytes(
    profiles: Path, sandbox: Sandbox, snap_secrets: dict[str, str]
) -> None:
    token = paytoken("get", "snap", "-p", "demo").stdout.strip()
    stamp = "2030-01-01T00:00:00+07:00"
    run = paytoken(
        "sign", "snap", "-p", "demo", "--request", "post", PATHS["snap"], "--data", BODY, "--timestamp", stamp,
        "--external-id", "77", "-o", "json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    signed = json.loads(run.stdout)
    assert signed["body"] == COMPACT
    assert signed["signature"] == _expected_signature(
        snap_secrets["snap"], "POST", PATHS["snap"], token, COMPACT.encode(), stamp
    )
    assert stats(sandbox)["providers"]["snap"]["requests"] == 1  # the get's token request only


def test_sign_request_pretty_shows_every_byte(profiles: Path) -> None:
    run = paytoken("sign", "snap", "-p", "demo", "--request", "POST", "/v1.0/x", "--token", "T" * 40, "-d", "{}")
    assert run.exit_code == 0, run.stderr
    assert "String to sign" in run.stdout and hashlib.sha256(b"{}").hexdigest() in run.stdout
    assert "X-EXTERNAL-ID" in run.stdout and "T" * 40 not in run.stdout
    assert "sent exactly as shown" in run.stdout


def test_sign_request_says_a_non_ascii_body_is_shown_escaped_but_sent_as_utf8(profiles: Path) -> None:
    run = paytoken(
        "sign", "snap", "-p", "demo", "--request", "POST", "/v1.0/x", "--token", "T" * 40, "-d", '{"n":"Dévi"}'
    )
    assert run.exit_code == 0, run.stderr
    assert "Body (13 bytes, non-ASCII shown as \\uXXXX here, sent as UTF-8)" in run.stdout
    assert hashlib.sha256('{"n":"Dévi"}'.encode()).hexdigest() in run.stdout


def test_sign_request_without_a_cached_token_is_exit_3(profiles: Path) -> None:
    run = paytoken("sign", "nicepay", "-p", "demo", "--request", "POST", PATHS["nicepay"])
    assert run.exit_code == 3
    assert "paytoken get nicepay -p demo" in run.stderr


def test_call_options_without_request_are_a_usage_error(profiles: Path) -> None:
    run = paytoken("sign", "snap", "-p", "demo", "--data", "{}")
    assert run.exit_code == 2
    assert "--request" in run.stderr


def test_providers_show_prints_the_call_recipe() -> None:
    run = paytoken("providers", "show", "nicepay")
    assert "calls after the token" in run.stdout and "HMAC-SHA512" in run.stdout
    document = json.loads(paytoken("providers", "show", "doku", "-o", "json").stdout)
    assert any("Request-Target" in line for line in document["call_recipe"])


def _profile_value(profiles: Path, provider: str, key: str) -> str:
    import tomllib

    return str(tomllib.loads(profiles.read_text())[provider]["demo"][key])


def test_doku_call_is_signed_over_its_request_target(profiles: Path) -> None:
    """DOKU's call signature (SPEC 6.3), written here with hmac: the four lines, no Digest for a GET."""
    assert paytoken("get", "doku", "-p", "demo").exit_code == 0
    stamp = "2030-01-01T00:00:00Z"
    path = "/orders/v1/status/INV-123"
    run = paytoken(
        "call", "doku", "GET", path, "-p", "demo", "--dry-run", "-o", "json", "--timestamp", stamp,
        "--external-id", "d895fb53-479c-4f77-a76a-ab81b40d77cb",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    signed = json.loads(run.stdout)
    client_id, secret = (
        _profile_value(profiles, "doku", "client_id"),
        _profile_value(profiles, "doku", "secret_key"),
    )
    request_id = "d895fb53-479c-4f77-a76a-ab81b40d77cb"
    lines = f"Client-Id:{client_id}\nRequest-Id:{request_id}\nRequest-Timestamp:{stamp}\nRequest-Target:{path}"
    digest = base64.b64encode(hmac.new(secret.encode(), lines.encode(), hashlib.sha256).digest()).decode()
    assert signed["headers"]["Signature"] == f"HMACSHA256={digest}"
    assert signed["body"] is None


NON_SNAP_CALLS = [
    ("doku", "GET", "/orders/v1/status/INV-123", None),
    ("faspay-sendme", "POST", "/account/api/transfer", '{"amount":"10000","beneficiary_account":"1234567890"}'),
    ("finpay-widget", "POST", "/apicobrand/widget/topup", '{"amount":"10000","custId":"C-1"}'),
]


@pytest.mark.parametrize(("provider", "method", "path", "data"), NON_SNAP_CALLS)
def test_call_non_snap_providers(
    provider: str, method: str, path: str, data: str | None, profiles: Path, sandbox: Sandbox
) -> None:
    run = paytoken("call", provider, method, path, "-p", "demo", "-o", "json", *(("--data", data) if data else ()))
    assert run.exit_code == 0, run.stderr
    document = json.loads(run.stdout)
    assert 200 <= document["status"] < 300
    counts = _counts(sandbox, provider)
    assert (counts["issued"], counts["calls"]) == (1, 1)
    assert_clean(run.output)


@pytest.mark.parametrize(("provider", "method", "path", "data"), NON_SNAP_CALLS)
def test_non_snap_5xx_reaches_the_sandbox_once(
    provider: str, method: str, path: str, data: str | None, profiles: Path, sandbox: Sandbox
) -> None:
    assert paytoken("get", provider, "-p", "demo").exit_code == 0
    set_fault(sandbox, provider, status=500)
    run = paytoken("call", provider, method, path, "-p", "demo", *(("--data", data) if data else ()))
    assert run.exit_code == 6
    counts = _counts(sandbox, provider)
    assert (counts["requests"], counts["faulted"]) == (2, 1)  # the get's token request, then the call once


def test_stdin_is_read_through_one_capped_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    """`call --data -`, `notify --data -` and `verify --capture -` read stdin by files.read_stdin: capped, closed."""
    import io
    import sys

    from tidak_cli.calling import read_body
    from tidak_cli.errors import UsageError
    from tidak_cli.files import BODY_LIMIT

    assert read_body("-", True, stdin=io.BytesIO(b"x" * BODY_LIMIT)) == b"x" * BODY_LIMIT
    with pytest.raises(UsageError, match=r"larger than 1\.0 MiB"):
        read_body("-", True, stdin=io.BytesIO(b"x" * (BODY_LIMIT + 1)))
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(UsageError, match="standard input is closed"):
        read_body("-", False)
