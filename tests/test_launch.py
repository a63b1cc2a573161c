"""The console script answers a plain cache hit before Typer loads (launch.py), exactly as the full CLI would.

`support.paytoken` runs every in-process test through that early path first, as the console script does;
these tests pin down when it answers, that its answer is the full CLI's, and when it must decline.
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

from tidak_cli import launch
from tidak_cli.cli import GetFormat, app, get_app
from tidak_cli.launch import answered_from_cache, plain_get
from tidak_cli.providers import PROVIDERS
from tidak_cli.render import PLAIN_FORMATS
from tidak_cli.sandbox import Sandbox

# Every spelling the early path reads, for profile `demo` of the profiles.toml in the current directory.
PLAIN = [
    ("-p", "demo"),
    ("--profile", "demo", "-o", "json"),
    ("--profile=demo", "--output=env", "--env-prefix", "GATEWAY_"),
    ("-o", "header", "-p", "demo"),
    ("-p", "demo", "--min-ttl", "0", "-o", "token"),
    ("-p", "demo", "--min-ttl=30.5", "-o", "env", "--env-prefix=X"),
    ("--profiles-file", "profiles.toml", "-p", "demo", "--output", "header"),
]

# Asked with a fresh token cached: the full CLI must answer each of these.
DECLINED = {
    "another command": ["sign", "nicepay", "-p", "demo"],
    "a root option": ["--debug", "get", "nicepay", "-p", "demo"],
    "no provider": ["get"],
    "an unknown provider": ["get", "nicepay2", "-p", "demo"],
    "options before the provider": ["get", "-p", "demo", "nicepay"],
    "--refresh": ["get", "nicepay", "-p", "demo", "--refresh"],
    "--no-cache": ["get", "nicepay", "-p", "demo", "--no-cache"],
    "-v": ["get", "nicepay", "-p", "demo", "-v"],
    "--dry-run": ["get", "nicepay", "-p", "demo", "--dry-run"],
    "--dotenv": ["get", "nicepay", "-p", "demo", "--dotenv", "t.env"],
    "--timestamp": ["get", "nicepay", "-p", "demo", "--timestamp", "2024-12-31T10:11:40+07:00"],
    "--base-url": ["get", "nicepay", "-p", "demo", "--base-url", "http://127.0.0.1:9"],
    "--help": ["get", "nicepay", "--help"],
    "-o pretty": ["get", "nicepay", "-p", "demo", "-o", "pretty"],
    "-o curl": ["get", "nicepay", "-p", "demo", "-o", "curl"],
    "-o JSON": ["get", "nicepay", "-p", "demo", "-o", "JSON"],
    "an option twice": ["get", "nicepay", "-p", "demo", "-p", "demo"],
    "a value glued to a short option": ["get", "nicepay", "-pdemo"],
    "-p=": ["get", "nicepay", "-p=demo"],
    "a missing value": ["get", "nicepay", "-p"],
    "an empty value": ["get", "nicepay", "--profile="],
    "a value like an option": ["get", "nicepay", "-p", "--refresh"],
    "--": ["get", "nicepay", "--", "-p", "demo"],
    "--min-ttl 1e3": ["get", "nicepay", "-p", "demo", "--min-ttl", "1e3"],
    "--min-ttl -1": ["get", "nicepay", "-p", "demo", "--min-ttl", "-1"],
    "--min-ttl inf": ["get", "nicepay", "-p", "demo", "--min-ttl", "inf"],
    "--min-ttl with spaces": ["get", "nicepay", "-p", "demo", "--min-ttl", " 5"],
    "a bad --env-prefix": ["get", "nicepay", "-p", "demo", "-o", "env", "--env-prefix", "1X"],
    "a profile that does not exist": ["get", "nicepay", "-p", "nosuch"],
    "more than the token has left": ["get", "nicepay", "-p", "demo", "--min-ttl", "100000"],
}


def full_cli(*args: str) -> Run:
    """The full Typer CLI alone, without the early answer."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    OUTPUTS.append(result.stdout + result.stderr)
    return Run(result.exit_code, result.stdout, result.stderr)


def same_answer(early: Run, full: Run) -> None:
    """Equal output, but for json's expires_in, which may tick between the two runs."""
    assert (early.exit_code, early.stderr) == (full.exit_code, full.stderr)
    if early.stdout.startswith("{"):
        mine, theirs = json.loads(early.stdout), json.loads(full.stdout)
        assert abs(mine.pop("expires_in") - theirs.pop("expires_in")) <= 1
        assert mine == theirs
    else:
        assert early.stdout == full.stdout


def declines(argv: list[str], capsys: pytest.CaptureFixture[str]) -> bool:
    answered = answered_from_cache(argv)
    printed = capsys.readouterr()
    assert (printed.out, printed.err) == ("", ""), "declining must print nothing"
    return not answered


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_provider_s_cache_hit_is_answered_early_as_the_full_cli_answers(
    provider: str, profiles: Path, sandbox: Sandbox
) -> None:
    miss = paytoken("get", provider, "-p", "demo", "-o", "token")
    assert miss.exit_code == 0, miss.output
    assert not miss.from_cache_early
    for options in PLAIN:
        early = paytoken("get", provider, *options)
        assert early.from_cache_early, options
        assert miss.stdout.strip() in early.stdout
        same_answer(early, full_cli("get", provider, *options))
        assert_clean(early.output)
    assert json.loads(paytoken("get", provider, "-p", "demo", "-o", "json").stdout)["cached"] is True
    assert requests_to(sandbox, provider) == 1


@pytest.mark.parametrize("case", DECLINED)
def test_anything_more_than_a_plain_get_goes_to_the_full_cli(
    case: str, profiles: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    assert paytoken("get", "nicepay", "-p", "demo").from_cache_early  # the control: a fresh token is there
    capsys.readouterr()
    assert declines(DECLINED[case], capsys)


def test_the_default_profile_comes_from_the_environment_as_in_the_full_cli(
    profiles: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTOKEN_PROFILE", "demo")
    token = paytoken("get", "doku", "-o", "token").stdout
    early = paytoken("get", "doku", "-o", "json")
    assert early.from_cache_early
    assert json.loads(early.stdout)["access_token"] == token.strip()
    same_answer(early, full_cli("get", "doku", "-o", "json"))


def test_a_terminal_gets_the_pretty_view_from_the_full_cli(
    profiles: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    assert plain_get(["get", "nicepay", "-p", "demo"], default_output="pretty") is not None
    token = paytoken("get", "nicepay", "-p", "demo").stdout
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert declines(["get", "nicepay", "-p", "demo"], capsys)
    assert answered_from_cache(["get", "nicepay", "-p", "demo", "-o", "token"])  # asked for plainly, it answers
    assert capsys.readouterr().out == token


def test_a_token_stored_by_another_profile_is_served_by_the_full_cli_with_its_warning(
    profiles: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    add_profile(profiles, "nicepay", "twin")
    token = paytoken("get", "nicepay", "-p", "demo").stdout
    assert declines(["get", "nicepay", "-p", "twin"], capsys)
    twin = paytoken("get", "nicepay", "-p", "twin")
    assert not twin.from_cache_early
    assert twin.stdout == token and "[nicepay.demo] cached for the same client id" in twin.stderr


def test_a_damaged_entry_is_left_to_the_full_cli_which_warns_and_replaces_it(
    profiles: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    paytoken("get", "nicepay", "-p", "demo")
    entry_path(profiles).write_text("{not json")
    assert declines(["get", "nicepay", "-p", "demo"], capsys)
    run = paytoken("get", "nicepay", "-p", "demo")
    assert run.exit_code == 0 and "damaged" in run.stderr
    assert paytoken("get", "nicepay", "-p", "demo").from_cache_early
    assert requests_to(sandbox, "nicepay") == 2


def test_the_shared_redis_cache_is_left_to_the_full_cli(
    profiles: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paytoken("get", "nicepay", "-p", "demo")
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", "redis://127.0.0.1:9/0")
    assert declines(["get", "nicepay", "-p", "demo"], capsys)


def test_profile_warnings_are_printed_early_as_the_full_cli_prints_them(profiles: Path, sandbox: Sandbox) -> None:
    add_profile(profiles, "nicepay", "noisy", clientid="typo")
    profiles.chmod(0o644)
    assert paytoken("get", "nicepay", "-p", "noisy").exit_code == 0
    early = paytoken("get", "nicepay", "-p", "noisy", "-o", "header")
    assert early.from_cache_early
    assert "unknown key 'clientid'" in early.stderr and "readable by other users" in early.stderr
    same_answer(early, full_cli("get", "nicepay", "-p", "noisy", "-o", "header"))


def test_the_options_read_early_mean_the_same_in_the_full_cli() -> None:
    command = typer.main.get_group(get_app).get_command(None, "nicepay")  # type: ignore[arg-type]
    assert command is not None
    options = {flag: param for param in command.params if isinstance(param, TyperOption) for flag in param.opts}
    for flag, name in launch._OPTIONS.items():
        assert options[flag].name == name, flag
        assert not options[flag].is_flag and options[flag].nargs == 1, flag
    assert {*PLAIN_FORMATS, "pretty"} == {output.value for output in GetFormat}
    defaults = plain_get(["get", "nicepay"], default_output="token")
    assert defaults is not None
    assert options["--env-prefix"].default == defaults.env_prefix
    assert options["--min-ttl"].default == defaults.min_ttl


def test_the_console_script_answers_a_hit_without_importing_typer(profiles: Path, sandbox: Sandbox) -> None:
    miss, modules = imported_modules("get", "nicepay", "-p", "demo", "-o", "token")
    assert miss.returncode == 0, miss.stderr
    assert "typer" in modules  # the control: a miss runs the full CLI
    hit, modules = imported_modules("get", "nicepay", "-p", "demo", "-o", "token")
    assert hit.returncode == 0 and hit.stdout == miss.stdout
    assert not modules & {"typer", "requests", "urllib3", "cryptography", "rich", "filelock"}, sorted(modules)
    declined, modules = imported_modules("--debug", "get", "nicepay", "-p", "demo", "-o", "token")
    assert declined.stdout == miss.stdout and "typer" in modules
    assert requests_to(sandbox, "nicepay") == 1


def test_a_reader_gone_before_the_early_answer_ends_it_quietly(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0
    assert paytoken("get", "nicepay", "-p", "demo").from_cache_early
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
        ["get", "nicepay", "-p", "demo", "-o", "token"],  # answered early
        ["get", "nicepay", "-p", "demo", "-o", "json", "--refresh"],  # the full CLI's get
        ["sign", "nicepay", "-p", "demo", "-o", "curl"],
    ],
    ids=["early", "get", "sign"],
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


# --- what declining must not leave behind, and the endings of the early answer ------------------


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


def test_declining_leaves_the_environment_as_it_was(profiles: Path, sandbox: Sandbox) -> None:
    # The full CLI reads $PAYTOKEN_DEBUG before it loads .env; an early look at .env must not change that.
    Path(".env").write_text("PAYTOKEN_DEBUG=1\n")
    profiles.write_text(profiles.read_text().replace(sandbox.url, "http://127.0.0.1:9"))
    before = dict(os.environ)
    assert not answered_from_cache(["get", "nicepay", "-p", "demo"])
    assert dict(os.environ) == before
    done = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token")
    assert done.returncode == 5
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 2


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
def test_ctrl_c_while_the_early_answer_waits_on_a_full_pipe_is_one_line(profiles: Path, sandbox: Sandbox) -> None:
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
