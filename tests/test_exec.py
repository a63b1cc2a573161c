"""`paytoken exec`: a command run with the token in its environment, through the CLI against the sandbox."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import OUTPUTS, assert_clean, paytoken, requests_to, stats

from tidak_cli.sandbox import Sandbox

# Prints a hash of the token it was given, never the token itself.
SHOW_TOKEN = (
    "import hashlib, os; "
    "print(hashlib.sha256(os.environ['{prefix}ACCESS_TOKEN'].encode()).hexdigest(), "
    "os.environ['{prefix}TOKEN_TYPE'], os.environ['{prefix}EXPIRES_AT'])"
)


def paytoken_exec(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `paytoken exec ARGS` in a real process: its child needs real stdin, stdout and stderr to inherit."""
    done = subprocess.run(
        [sys.executable, "-m", "tidak_cli", "exec", *args],
        capture_output=True,
        text=True,
        timeout=60,
        input=input,
        env=os.environ.copy(),
        check=False,
    )
    OUTPUTS.append(done.stdout + done.stderr)
    return done


def cached_token() -> str:
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    assert run.exit_code == 0, run.output
    return run.stdout.strip()


def test_the_command_sees_the_token_and_nothing_else_prints_it(profiles: Path, sandbox: Sandbox) -> None:
    done = paytoken_exec("nicepay", "-p", "demo", "--", sys.executable, "-c", SHOW_TOKEN.format(prefix="PAYTOKEN_"))
    assert done.returncode == 0, done.stderr
    digest, token_type, expires_at = done.stdout.split()
    token = cached_token()  # the cache's token: exec stored the one it fetched, as get does
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert token_type == "Bearer"
    assert expires_at.endswith("Z")
    assert token not in done.stdout + done.stderr
    assert done.stderr == ""
    assert requests_to(sandbox, "nicepay") == 1  # one token request, for exec; get was served from the cache

    again = paytoken_exec("nicepay", "-p", "demo", "--", sys.executable, "-c", SHOW_TOKEN.format(prefix="PAYTOKEN_"))
    assert again.stdout.split()[0] == digest
    assert requests_to(sandbox, "nicepay") == 1  # cache first, as get


def test_the_prefix_names_the_variables(profiles: Path, sandbox: Sandbox) -> None:
    script = SHOW_TOKEN.format(prefix="NICEPAY_") + "; print('PAYTOKEN_ACCESS_TOKEN' in os.environ)"
    done = paytoken_exec("nicepay", "-p", "demo", "--env-prefix", "NICEPAY_", "--", sys.executable, "-c", script)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[0] == hashlib.sha256(cached_token().encode()).hexdigest()
    assert lines[1] == "False"


@pytest.mark.parametrize("code", [0, 3, 77])
def test_the_commands_exit_code_is_passed_through(profiles: Path, sandbox: Sandbox, code: int) -> None:
    done = paytoken_exec("nicepay", "-p", "demo", "--", sys.executable, "-c", f"import sys; sys.exit({code})")
    assert (done.returncode, done.stdout, done.stderr) == (code, "", "")


def test_a_command_killed_by_a_signal_exits_128_plus_its_number(profiles: Path, sandbox: Sandbox) -> None:
    script = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    done = paytoken_exec("doku", "-p", "demo", "--", sys.executable, "-c", script)
    assert done.returncode == 128 + 15, done.stderr


def test_stdin_stdout_and_stderr_are_the_commands(profiles: Path, sandbox: Sandbox) -> None:
    script = "import sys; data = sys.stdin.read(); print(data.upper()); print('to stderr', file=sys.stderr)"
    done = paytoken_exec("doku", "-p", "demo", "--", sys.executable, "-c", script, input="piped in\n")
    assert done.returncode == 0
    assert done.stdout == "PIPED IN\n\n"
    assert done.stderr == "to stderr\n"


def test_a_missing_command_exits_127_with_one_message_and_no_token(profiles: Path, sandbox: Sandbox) -> None:
    done = paytoken_exec("nicepay", "-p", "demo", "--", "no-such-command-here", "--flag")
    assert done.returncode == 127
    assert done.stderr.splitlines()[0] == "error: no-such-command-here: command not found"
    assert len([line for line in done.stderr.splitlines() if line.startswith("error:")]) == 1
    assert_clean(done.stderr)
    assert requests_to(sandbox, "nicepay") == 0


def test_a_file_that_is_not_executable_exits_126(profiles: Path, sandbox: Sandbox, isolated: Path) -> None:
    script = isolated / "script.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o644)
    done = paytoken_exec("nicepay", "-p", "demo", "--", str(script))
    assert done.returncode == 126, done.stderr
    assert done.stderr.startswith(f"error: {script}: cannot run it: Permission denied")
    assert "ran" not in done.stdout
    assert_clean(done.stderr)


def test_a_configuration_error_exits_3_and_the_command_never_runs(profiles: Path, sandbox: Sandbox) -> None:
    marker = Path("ran")
    done = paytoken_exec("nicepay", "-p", "nosuchprofile", "--", sys.executable, "-c", "open('ran', 'w')")
    assert done.returncode == 3, done.stderr
    assert "nosuchprofile" in done.stderr
    assert not marker.exists()
    assert_clean(done.stderr)
    assert stats(sandbox)["requests"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nicepay", "-p", "demo", "--env-prefix", "1X", "--", "true"], "--env-prefix '1X' cannot start"),
        (["nicepay", "-p", "demo"], "exec needs a command to run"),
    ],
)
def test_usage_errors_exit_2_before_anything_runs(
    profiles: Path, sandbox: Sandbox, args: list[str], message: str
) -> None:
    run = paytoken("exec", *args)
    assert run.exit_code == 2, run.output
    assert run.stderr.startswith(f"error: {message}")
    assert stats(sandbox)["requests"] == 0


def test_a_gateway_rejection_exits_4_and_the_command_never_runs(
    profiles: Path, sandbox: Sandbox, isolated: Path
) -> None:
    text = profiles.read_text().replace('client_id = "DEMO-NICEPAY', 'client_id = "WRONG-NICEPAY', 1)
    profiles.write_text(text)
    done = paytoken_exec("nicepay", "-p", "demo", "--", sys.executable, "-c", "open('ran', 'w')")
    assert done.returncode == 4, done.stderr
    assert not (isolated / "ran").exists()
    assert_clean(done.stderr)


def test_exec_help_fits_80_columns_and_shows_examples() -> None:
    run = paytoken("exec", "--help")
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    examples = run.stdout.split("Examples:\n")[1].splitlines()
    assert len(examples) >= 4 and all(line.startswith("  paytoken exec ") for line in examples)
