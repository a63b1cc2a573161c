"""The console script runs a plain `get` without Typer (launch.py), exactly as the full CLI would.

`support.paytoken` runs every in-process test through that plain path first, as the console script does;
these tests pin down what it runs, that its answer is the full CLI's, and when it must decline.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer.main
from support import OUTPUTS, Run, assert_clean, imported_modules, paytoken, paytoken_process, requests_to
from test_cache import add_profile, entry_path
from typer.core import TyperOption
from typer.testing import CliRunner

from tidak_cli.cli.app import app
from tidak_cli.cli.get import get_app
from tidak_cli.cli.options import GET, plain_get
from tidak_cli.gateways import PROVIDERS
from tidak_cli.launch import run_plain
from tidak_cli.sandbox import Sandbox

# Spellings of a cache hit, for profile `demo` of the profiles.toml in the current directory.
PLAIN = [
    ("-p", "demo"),
    ("--profile", "demo", "-o", "json"),
    ("--profile=demo", "--output=env", "--env-prefix", "GATEWAY_"),
    ("-o", "header", "-p", "demo"),
    ("-p", "demo", "--min-ttl", "0", "-o", "token"),
    ("-p", "demo", "--min-ttl=30.5", "-o", "env", "--env-prefix=X"),
    ("--profiles-file", "profiles.toml", "-p", "demo", "--output", "header"),
    ("-p", "demo", "-o", "pretty"),
    ("-p", "demo", "-v", "--debug"),
    ("-p", "demo", "--dotenv", "t.env", "-o", "env"),
]

# With a fresh token cached, run plainly, each with the same answer (or the same error) as the full CLI.
ALSO_PLAIN = {
    "a bad --env-prefix": ["get", "nicepay", "-p", "demo", "-o", "env", "--env-prefix", "1X"],
    "a profile that does not exist": ["get", "nicepay", "-p", "nosuch"],
    "an unreachable --base-url": ["get", "nicepay", "-p", "demo", "--base-url", "http://127.0.0.1:9"],
    "--dry-run at a given --timestamp": [
        "get", "nicepay", "-p", "demo", "--dry-run", "-o", "json", "--timestamp", "2024-12-31T10:11:40+07:00",
    ],
    "--dry-run with -o token": ["get", "nicepay", "-p", "demo", "--dry-run", "-o", "token"],
    "an empty request id": ["get", "doku", "-p", "demo", "--request-id", " "],
}  # fmt: skip

# Left to Typer (usage errors, help, other commands), having done nothing.
DECLINED = {
    "another command": ["sign", "nicepay", "-p", "demo"],
    "a root option": ["--debug", "get", "nicepay", "-p", "demo"],
    "no provider": ["get"],
    "an unknown provider": ["get", "nicepay2", "-p", "demo"],
    "options before the provider": ["get", "-p", "demo", "nicepay"],
    "--help": ["get", "nicepay", "--help"],
    "-h": ["get", "nicepay", "-h"],
    "-o curl": ["get", "nicepay", "-p", "demo", "-o", "curl"],
    "-o JSON": ["get", "nicepay", "-p", "demo", "-o", "JSON"],
    "an option twice": ["get", "nicepay", "-p", "demo", "-p", "demo"],
    "a switch twice": ["get", "nicepay", "-v", "-v"],
    "a switch with a value": ["get", "nicepay", "--verbose=1"],
    "another provider's option": ["get", "nicepay", "--request-id", "1"],
    "a value glued to a short option": ["get", "nicepay", "-pdemo"],
    "short options together": ["get", "nicepay", "-vp", "demo"],
    "-p=": ["get", "nicepay", "-p=demo"],
    "a missing value": ["get", "nicepay", "-p"],
    "an empty value": ["get", "nicepay", "--profile="],
    "a value like an option": ["get", "nicepay", "-p", "--refresh"],
    "--": ["get", "nicepay", "--", "-p", "demo"],
    "an argument": ["get", "nicepay", "demo"],
    "--min-ttl 1e3": ["get", "nicepay", "-p", "demo", "--min-ttl", "1e3"],
    "--min-ttl -1": ["get", "nicepay", "-p", "demo", "--min-ttl", "-1"],
    "--min-ttl inf": ["get", "nicepay", "-p", "demo", "--min-ttl", "inf"],
    "--min-ttl with spaces": ["get", "nicepay", "-p", "demo", "--min-ttl", " 5"],
}


def full_cli(*args: str) -> Run:
    """The full Typer CLI alone, without the plain path."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    OUTPUTS.append(result.stdout + result.stderr)
    return Run(result.exit_code, result.stdout, result.stderr)


def same_answer(plain: Run, full: Run) -> None:
    """Equal output, but for json's expires_in, which may tick between the two runs."""
    assert (plain.exit_code, plain.stderr) == (full.exit_code, full.stderr)
    if plain.stdout.startswith("{") and "expires_in" in plain.stdout:
        mine, theirs = json.loads(plain.stdout), json.loads(full.stdout)
        assert abs(mine.pop("expires_in") - theirs.pop("expires_in")) <= 1
        assert mine == theirs
    else:
        assert plain.stdout == full.stdout


def declines(argv: list[str], capsys: pytest.CaptureFixture[str]) -> bool:
    before = dict(os.environ)
    code = run_plain(argv)
    printed = capsys.readouterr()
    assert (printed.out, printed.err) == ("", ""), "declining must print nothing"
    assert dict(os.environ) == before, "declining must leave the environment as it was"
    return code is None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_provider_s_plain_get_answers_as_the_full_cli_answers(
    provider: str, profiles: Path, sandbox: Sandbox
) -> None:
    miss = paytoken("get", provider, "-p", "demo", "-o", "token")
    assert miss.exit_code == 0, miss.output
    assert miss.plain  # a miss is run plainly too
    for options in PLAIN:
        plain = paytoken("get", provider, *options)
        assert plain.plain, options
        assert miss.stdout.strip() in plain.stdout
        same_answer(plain, full_cli("get", provider, *options))
        assert_clean(plain.output)
    assert json.loads(paytoken("get", provider, "-p", "demo", "-o", "json").stdout)["cached"] is True
    assert requests_to(sandbox, provider) == 1


@pytest.mark.parametrize("case", ALSO_PLAIN)
def test_errors_and_dry_runs_are_run_plainly_as_the_full_cli_runs_them(
    case: str, profiles: Path, sandbox: Sandbox
) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    plain = paytoken(*ALSO_PLAIN[case])
    assert plain.plain
    same_answer(plain, full_cli(*ALSO_PLAIN[case]))
    assert_clean(plain.output)


@pytest.mark.parametrize("case", DECLINED)
def test_anything_but_a_plainly_read_get_goes_to_the_full_cli(
    case: str, profiles: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    capsys.readouterr()
    assert declines(DECLINED[case], capsys)
    assert not paytoken(*DECLINED[case]).plain


def test_the_default_profile_comes_from_the_environment_as_in_the_full_cli(
    profiles: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTOKEN_PROFILE", "demo")
    token = paytoken("get", "doku", "-o", "token").stdout
    plain = paytoken("get", "doku", "-o", "json")
    assert plain.plain
    assert json.loads(plain.stdout)["access_token"] == token.strip()
    same_answer(plain, full_cli("get", "doku", "-o", "json"))


def test_a_terminal_gets_the_pretty_view_by_default(
    profiles: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = paytoken("get", "nicepay", "-p", "demo").stdout.strip()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run_plain(["get", "nicepay", "-p", "demo"]) == 0
    pretty = capsys.readouterr().out
    assert "paytoken" in pretty.splitlines()[0] and pretty.endswith(token + "\n")  # a panel, then the token
    assert run_plain(["get", "nicepay", "-p", "demo", "-o", "token"]) == 0  # asked for plainly, it is plain
    assert capsys.readouterr().out == token + "\n"


def test_a_token_stored_by_another_profile_is_served_with_its_warning(profiles: Path, sandbox: Sandbox) -> None:
    add_profile(profiles, "nicepay", "twin")
    token = paytoken("get", "nicepay", "-p", "demo").stdout
    twin = paytoken("get", "nicepay", "-p", "twin")
    assert twin.plain
    assert twin.stdout == token and "[nicepay.demo] cached for the same client id" in twin.stderr
    same_answer(twin, full_cli("get", "nicepay", "-p", "twin"))


def test_a_damaged_entry_is_replaced_with_a_warning(profiles: Path, sandbox: Sandbox) -> None:
    paytoken("get", "nicepay", "-p", "demo")
    entry_path(profiles).write_text("{not json")
    run = paytoken("get", "nicepay", "-p", "demo")
    assert run.plain
    assert run.exit_code == 0 and "damaged" in run.stderr
    assert paytoken("get", "nicepay", "-p", "demo").plain
    assert requests_to(sandbox, "nicepay") == 2


def test_a_shared_redis_cache_that_is_down_falls_back_alike(
    profiles: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    paytoken("get", "nicepay", "-p", "demo")
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", "redis://127.0.0.1:9/0")
    plain = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    assert plain.plain and plain.exit_code == 0, plain.output
    assert "redis" in plain.stderr.lower()
    full = full_cli("get", "nicepay", "-p", "demo", "-o", "token")
    assert (full.exit_code, full.stderr) == (plain.exit_code, plain.stderr)


def test_profile_warnings_are_printed_plainly_as_the_full_cli_prints_them(profiles: Path, sandbox: Sandbox) -> None:
    add_profile(profiles, "nicepay", "noisy", clientid="typo")
    profiles.chmod(0o644)
    assert paytoken("get", "nicepay", "-p", "noisy").exit_code == 0
    plain = paytoken("get", "nicepay", "-p", "noisy", "-o", "header")
    assert plain.plain
    assert "unknown key 'clientid'" in plain.stderr and "readable by other users" in plain.stderr
    same_answer(plain, full_cli("get", "nicepay", "-p", "noisy", "-o", "header"))


def test_typer_s_get_options_are_the_declared_table() -> None:
    for name in PROVIDERS:
        command = typer.main.get_group(get_app).get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        params = {param.name: param for param in command.params if isinstance(param, TyperOption)}
        for option in GET:
            param = params.pop(option.name)
            assert tuple(param.opts) == option.flags, option.name
            assert param.is_flag == (option.kind == "switch"), option.name
            default = param.default.value if hasattr(param.default, "value") else param.default
            assert default == option.default, option.name
        assert {f"--{name.replace('_', '-')}" for name in params} == {o.flag for o in PROVIDERS[name].options}
    defaults = plain_get(["get", "nicepay"], PROVIDERS["nicepay"])
    assert defaults is not None
    assert (defaults.env_prefix, defaults.min_ttl, defaults.output) == ("PAYTOKEN_", 60.0, None)


def test_the_console_script_runs_a_plain_get_without_typer(profiles: Path, sandbox: Sandbox) -> None:
    miss, modules = imported_modules("get", "nicepay", "-p", "demo", "-o", "token")
    assert miss.returncode == 0, miss.stderr
    assert "requests" in modules  # the control: a miss sends the request
    assert not modules & {"typer", "click", "rich"}, sorted(modules)
    hit, modules = imported_modules("get", "nicepay", "-p", "demo", "-o", "token")
    assert hit.returncode == 0 and hit.stdout == miss.stdout
    assert not modules & {"typer", "click", "requests", "urllib3", "cryptography", "rich", "filelock"}, sorted(modules)
    declined, modules = imported_modules("--debug", "get", "nicepay", "-p", "demo", "-o", "token")
    assert declined.stdout == miss.stdout and "typer" in modules
    assert requests_to(sandbox, "nicepay") == 1


def test_a_reader_gone_before_the_plain_answer_ends_it_quietly(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    assert paytoken("get", "nicepay", "-p", "demo").plain
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tidak_cli", "get", "nicepay", "-p", "demo", "-o", "json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""
    assert requests_to(sandbox, "nicepay") == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize(
    "args",
    [
        ["get", "nicepay", "-p", "demo", "-o", "token"],  # a plain hit
        ["get", "nicepay", "-p", "demo", "-o", "json", "--refresh"],  # a plain miss
        ["sign", "nicepay", "-p", "demo", "-o", "curl"],  # the full CLI
    ],
    ids=["hit", "miss", "sign"],
)
def test_an_unwritable_stdout_is_one_message_and_exit_1(args: list[str], profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "tidak_cli", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    OUTPUTS.append(done.stderr)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: cannot write the output: No space left on device",
        "  hint: check where standard output goes: a full disk, or a file or device that refuses writes",
    ]


# --- the endings of the plain path ------------------------------------------------------------------


def test_a_closed_stdout_is_one_message_not_a_traceback(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    for args, code in (
        (["get", "nicepay", "-p", "demo", "-o", "token"], 1),
        (["--version"], 1),
        (["providers", "show", "nicepay"], 1),  # Rich output
        (["cache", "clear"], 0),
    ):
        done = subprocess.run(
            ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "tidak_cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        OUTPUTS.append(done.stderr)
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
        if code:
            assert done.stderr.splitlines()[0] == "error: cannot write the output: standard output is closed"


def test_paytoken_debug_in_dotenv_is_read_alike_by_both_paths(profiles: Path, sandbox: Sandbox) -> None:
    # Both paths read $PAYTOKEN_DEBUG before they load .env: a .env cannot switch tracebacks on.
    Path(".env").write_text("PAYTOKEN_DEBUG=1\n")
    profiles.write_text(profiles.read_text().replace(sandbox.url, "http://127.0.0.1:9"))
    for args in (["get", "nicepay", "-p", "demo", "-o", "token"], ["sign", "nicepay", "-p", "demo", "--compare", "x"]):
        done = paytoken_process(*args)
        assert "Traceback" not in done.stderr, args
    done = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token")
    assert done.returncode == 5
    assert len(done.stderr.splitlines()) == 2


def test_a_dotenv_complaint_is_printed_once_whoever_answers(profiles: Path, sandbox: Sandbox) -> None:
    Path(".env").write_text("FOO=1\nthis is not valid !!\n")
    complaint = "could not parse statement starting at line 2"
    miss = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token")
    assert miss.returncode == 0 and miss.stderr.count(complaint) == 1, miss.stderr
    hit = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token")
    assert hit.stdout == miss.stdout and hit.stderr == miss.stderr
    assert requests_to(sandbox, "nicepay") == 1


def test_an_answer_stdout_cannot_encode_is_one_message(profiles: Path, sandbox: Sandbox) -> None:
    profiles.chmod(0o644)  # so that a profile warning is printed too: once, not by both paths
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    entry = entry_path(profiles)
    document = json.loads(entry.read_text())
    document["response"]["responseMessage"] = "Berhasil ✓"
    entry.write_text(json.dumps(document))
    done = paytoken_process("get", "nicepay", "-p", "demo", "-o", "json", env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 1
    assert done.stderr.count("readable by other users") == 1
    assert "standard output takes only ascii text" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


@pytest.mark.realtime
def test_ctrl_c_while_the_plain_answer_waits_on_a_full_pipe_is_one_line(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write_end, b"x" * 65536)
    os.set_blocking(write_end, True)
    process = subprocess.Popen(
        [sys.executable, "-m", "tidak_cli", "get", "nicepay", "-p", "demo", "-o", "json"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    try:
        time.sleep(3)  # long enough to have found the token and blocked writing it
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        os.close(read_end)
    OUTPUTS.append(stderr)
    assert (process.returncode, stderr) == (130, "paytoken: interrupted\n")
