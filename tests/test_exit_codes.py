"""Every exit code of SPEC section 3, reached for real, with one clear message, no traceback, no secret."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support import assert_clean, key_secrets, paytoken, requests_to, set_fault

import tidak_cli.tokens
from tidak_cli.demo import Workspace
from tidak_cli.sandbox import Sandbox

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def secrets(workspace: Workspace) -> list[str]:
    return [*key_secrets(workspace), PASSPHRASE]


def add_profile_keys(profiles: Path, table: str, lines: str) -> None:
    text = profiles.read_text()
    header = f"[{table}]\n"
    assert header in text
    profiles.write_text(text.replace(header, header + lines + "\n"))


def write_wrong_key_profile(profiles: Path, sandbox: Sandbox) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    (profiles.parent / "stranger.pem").write_bytes(pem)
    profiles.write_text(
        profiles.read_text() + f'\n[nicepay.wrong]\nclient_id = "DEMO-NICEPAY-001"\nprivate_key_file = "stranger.pem"\n'
        f'private_key_passphrase = "{PASSPHRASE}"\nbase_url = "{sandbox.url}"\n'
    )


def test_0_success(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    run = paytoken("get", "nicepay", "-p", "demo")
    assert run.exit_code == 0
    assert_clean(run.output, secrets)


def test_1_compare_mismatch(profiles: Path, secrets: list[str]) -> None:
    run = paytoken("sign", "doku-snap", "-p", "demo", "--compare", "AAAA")
    assert run.exit_code == 1
    assert "error: the given signature differs" in run.stderr
    assert_clean(run.output, secrets)


def test_70_internal_error_is_one_line_without_traceback(
    profiles: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, secrets: list[str]
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(tidak_cli.tokens, "fetch", broken)
    run = paytoken("get", "nicepay", "-p", "demo")
    assert run.exit_code == 70  # EX_SOFTWARE: never 1, which is a --compare mismatch
    assert run.stderr == (
        "error: internal error: ZeroDivisionError: simulated bug\n"
        "  hint: this is a bug in paytoken; rerun with --debug for the traceback and report it\n"
    )
    assert run.stdout == ""
    assert_clean(run.output, secrets)
    debug = paytoken("--debug", "get", "nicepay", "-p", "demo")
    assert debug.exit_code == 70 and "Traceback" in debug.stderr


def test_70_internal_error_in_a_typer_command(
    profiles: Path, monkeypatch: pytest.MonkeyPatch, secrets: list[str]
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("simulated bug")

    monkeypatch.setattr(tidak_cli.tokens, "build", broken)
    run = paytoken("sign", "doku-snap", "-p", "demo", "--compare", "AAAA")
    assert run.exit_code == 70, run.output
    assert run.stderr.startswith("error: internal error: KeyError: 'simulated bug'\n")
    assert len(run.stderr.splitlines()) == 2  # the message and its hint
    assert_clean(run.output, secrets)


@pytest.mark.parametrize(
    "args",
    [
        ["get", "nicepay", "--bogus"],
        ["get", "nicepay", "-o", "xml"],
        ["get", "no-such-provider"],
        ["sign", "nicepay", "-o", "token"],
        ["keygen", "--bits", "512"],
    ],
)
def test_2_usage(args: list[str], profiles: Path) -> None:
    run = paytoken(*args)
    assert run.exit_code == 2
    assert_clean(run.output)


def test_3_configuration(isolated: Path, secrets: list[str]) -> None:
    run = paytoken("get", "nicepay")
    assert run.exit_code == 3
    assert "no profiles file found" in run.stderr and "profiles.example.toml" in run.stderr
    assert_clean(run.output, secrets)


def test_3_missing_key_names_key_table_and_file(profiles: Path, secrets: list[str]) -> None:
    profiles.write_text(profiles.read_text().replace('client_id = "DEMO-NICEPAY-001"\n', ""))
    run = paytoken("get", "nicepay", "-p", "demo")
    assert run.exit_code == 3
    assert "client_id is not set in [nicepay.demo]" in run.stderr and str(profiles.name) in run.stderr
    assert_clean(run.output, secrets)


def test_4_rejected_shows_code_message_and_hint(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    write_wrong_key_profile(profiles, sandbox)
    run = paytoken("get", "nicepay", "-p", "wrong")
    assert run.exit_code == 4
    assert "4017300 Unauthorized. Invalid Signature" in run.stderr
    assert "hint:" in run.stderr and "public key" in run.stderr
    assert_clean(run.output, secrets)
    assert requests_to(sandbox, "nicepay") == 1


def test_4_rejection_mentions_a_skewed_clock(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    # A signed timestamp from two hours ago is what a machine with a wrong clock sends.
    run = paytoken("get", "nicepay", "-p", "demo", "--timestamp", "2020-01-01T00:00:00+07:00")
    assert run.exit_code == 4
    assert "4017300" in run.stderr
    assert "the signed timestamp is " in run.stderr and " behind this machine's clock" in run.stderr
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_5_connection_refused(profiles: Path, secrets: list[str]) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "--base-url", "http://127.0.0.1:9")
    assert run.exit_code == 5
    assert "refused the connection" in run.stderr and "paytoken sandbox" in run.stderr
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_5_read_timeout(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    add_profile_keys(profiles, "finpay-snap.demo", "timeout = 0.3")
    set_fault(sandbox, "finpay-snap", delay=1.0, times=1)
    run = paytoken("get", "finpay-snap", "-p", "demo")
    assert run.exit_code == 5
    assert "did not answer within 0.3 s" in run.stderr
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_5_dropped_connection(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "doku-snap", drop=True)
    run = paytoken("get", "doku-snap", "-p", "demo")
    assert run.exit_code == 5
    assert "connection" in run.stderr
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_6_gateway_5xx(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "nicepay", status=503)
    run = paytoken("get", "nicepay", "-p", "demo")
    assert run.exit_code == 6
    assert "HTTP 503" in run.stderr and "5037300" in run.stderr
    assert_clean(run.output, secrets)


def test_6_html_answer(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "snap", html=True)
    run = paytoken("get", "snap", "-p", "demo")
    assert run.exit_code == 6
    assert "an HTML page" in run.stderr
    assert_clean(run.output, secrets)


@pytest.mark.realtime
def test_130_interrupted(profiles: Path, sandbox: Sandbox, secrets: list[str]) -> None:
    set_fault(sandbox, "nicepay", delay=20.0, times=1)
    process = subprocess.Popen(
        [sys.executable, "-m", "tidak_cli", "get", "nicepay", "-p", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 15
    while requests_to(sandbox, "nicepay") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 130
    assert stderr.strip() == "paytoken: interrupted"
    assert stdout == ""
    assert_clean(stdout + stderr, secrets)


@pytest.mark.parametrize(
    "args",
    [
        ["get", "nicepay", "-p", "demo", "-o", "json"],
        ["get", "nicepay", "-p", "demo", "-o", "json", "--refresh"],
        ["get", "nicepay", "-p", "demo", "-o", "pretty"],
        ["sign", "nicepay", "-p", "demo"],
        ["sign", "nicepay", "-p", "demo", "-o", "json"],
        ["providers"],
        ["providers", "show", "nicepay"],
        ["profiles", "list"],
        ["profiles", "show", "nicepay.demo"],
        ["cache", "list"],
        ["--version"],
    ],
    ids=" ".join,
)
def test_141_reader_gone(args: list[str], profiles: Path, sandbox: Sandbox) -> None:
    """`paytoken … | head -1`: the reader may be gone before anything is written; end quietly, as Unix tools do."""
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tidak_cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_a_closed_stderr_never_sends_messages_into_stdout(profiles: Path, sandbox: Sandbox) -> None:
    """`TOKEN=$(paytoken get … 2>&-)`: Python would print to stdout what it cannot print to a closed stderr."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-c", 'exec "$@" 2>&-', "sh", sys.executable, "-m", "tidak_cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **(env or {})},
            check=False,
        )

    traced = run("get", "nicepay", "-p", "demo", "-v", "--refresh", "-o", "token")
    assert traced.returncode == 0
    assert len(traced.stdout.splitlines()) == 1 and len(traced.stdout.strip()) >= 32, traced.stdout
    missing = run("get", "nicepay", "-p", "nosuch", env={"PAYTOKEN_DEBUG": "1"})
    assert (missing.returncode, missing.stdout) == (3, "")


@pytest.mark.parametrize(
    "args",
    [
        ["--dry-run", "-o", "env"],
        ["--dry-run", "-o", "token"],
        ["--dry-run", "--dotenv", "x.env"],
        ["--min-ttl", "nan"],
        ["--min-ttl", "inf"],
    ],
    ids=" ".join,
)
def test_2_options_that_cannot_be_honoured(args: list[str], profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", *args)
    assert run.exit_code == 2, run.output
    assert run.stdout == "" and run.stderr.startswith("error: ") and "hint: " in run.stderr
    assert not Path("x.env").exists()
    assert requests_to(sandbox, "nicepay") == 0


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_paytoken_debug_off_values_show_no_traceback(
    value: str, profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTOKEN_DEBUG", value)
    run = paytoken("get", "nicepay", "-p", "nosuch")
    assert run.exit_code == 3 and "Traceback" not in run.output


def test_3_a_profile_timeout_of_more_than_a_day(profiles: Path, sandbox: Sandbox) -> None:
    profiles.write_text(profiles.read_text().replace("[nicepay.demo]\n", "[nicepay.demo]\ntimeout = 1e10\n"))
    run = paytoken("get", "nicepay", "-p", "demo", "--no-cache")
    assert run.exit_code == 3, run.output
    assert "timeout" in run.stderr and "at most 86400" in run.stderr


def test_3_a_dotenv_in_the_current_directory_that_is_not_text(profiles: Path, sandbox: Sandbox) -> None:
    Path(".env").write_bytes(b"A=\xff\n")
    for args in (("get", "nicepay", "-p", "demo"), ("get", "nicepay", "-p", "demo", "-o", "json")):
        run = paytoken(*args)
        assert run.exit_code == 3, run.output
        assert run.stderr.startswith("error: cannot read ") and "not UTF-8 text" in run.stderr


def test_a_missing_profile_names_the_one_there_for_get_and_profiles_show(profiles: Path) -> None:
    for args in (("get", "nicepay", "-p", "nosuch"), ("profiles", "show", "nicepay.nosuch")):
        run = paytoken(*args)
        assert run.exit_code == 3
        assert "use --profile demo (for profiles show: nicepay.demo)" in run.stderr


def test_4_an_old_timestamp_given_is_blamed_not_the_clock(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "--timestamp", "2024-12-31T10:11:40+07:00")
    assert run.exit_code == 4, run.output
    assert "hint: sign the current time instead: leave out --timestamp" in run.stderr


@pytest.mark.realtime
def test_a_password_in_the_base_url_is_never_shown(profiles: Path, sandbox: Sandbox) -> None:
    password = "hunter2-url-password"
    with_credentials = sandbox.url.replace("http://", f"http://admin:{password}@")
    profiles.write_text(profiles.read_text().replace(sandbox.url, with_credentials))
    runs = [
        paytoken("get", "nicepay", "-p", "demo", "-v", "-o", "json"),
        paytoken("get", "nicepay", "-p", "demo", "-o", "json"),
        paytoken("cache", "list"),
        paytoken("get", "nicepay", "-p", "demo", "--base-url", f"http://admin:{password}@127.0.0.1:9", "--no-cache"),
        paytoken("--debug", "get", "nicepay", "-p", "demo", "--base-url", f"http://admin:{password}@127.0.0.1:9"),
    ]
    assert [run.exit_code for run in runs] == [0, 0, 0, 5, 5], [run.output for run in runs]
    for run in runs:
        assert password not in run.output
    assert json.loads(runs[1].stdout)["cached"] is True
    assert runs[3].stderr.startswith("error: 127.0.0.1:9 refused the connection")
    for entry in Path(os.environ["PAYTOKEN_CACHE_DIR"]).glob("*.json"):
        assert password not in entry.read_text()


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999", "ftp://127.0.0.1", "http://"])
def test_2_a_base_url_option_that_is_not_an_http_url(url: str, profiles: Path) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "--base-url", url)
    assert run.exit_code == 2, run.output
    assert run.stderr.startswith("error: --base-url") and "Traceback" not in run.output


@pytest.mark.parametrize(
    ("given", "says"),
    [("/" + "a" * 5000, "does not exist"), ("..", "is a directory, not a file")],
    ids=["a-name-too-long", "a-directory"],
)
def test_3_a_profiles_file_option_that_is_no_file(given: str, says: str, profiles: Path) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "--profiles-file", given)
    assert run.exit_code == 3, run.output
    assert says in run.stderr and "internal error" not in run.stderr
