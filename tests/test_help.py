"""Help pages fit a terminal, show examples, and usage errors speak as every other error does."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import assert_clean, paytoken, paytoken_process, set_fault

from tidak_cli.gateways import PROVIDERS
from tidak_cli.sandbox import Sandbox

PAGES = [
    ["--help"],
    ["get", "--help"],
    ["sign", "--help"],
    *(["get", name, "--help"] for name in PROVIDERS),
    *(["sign", name, "--help"] for name in PROVIDERS),
    ["call", "--help"],
    *(["call", name, "--help"] for name in PROVIDERS),
    ["verify", "--help"],
    ["notify", "--help"],
]


@pytest.mark.parametrize("args", PAGES, ids=" ".join)
def test_help_fits_80_columns_and_shows_examples(args: list[str]) -> None:
    run = paytoken(*args)
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    assert len(lines) <= 45
    examples = run.stdout.split("Examples:\n")[1].splitlines()
    # An example too long for a line goes on as the shell continues it: a backslash, then an indented line.
    continued = [index for index, line in enumerate(examples[1:], 1) if examples[index - 1].endswith(" \\")]
    assert all(examples[index].startswith("      ") for index in continued)
    firsts = [line for index, line in enumerate(examples) if index not in continued]
    assert len(firsts) >= 4 and all(line.startswith("  paytoken ") or "$(paytoken" in line for line in firsts)
    assert "│" not in run.stdout  # no box drawing


def test_get_help_shows_the_options_grouped() -> None:
    page = paytoken("get", "--help").stdout
    headings = [line for line in page.splitlines() if line in {"Output:", "Cache:", "Request:", "Debugging:"}]
    assert headings == ["Output:", "Cache:", "Request:", "Debugging:"]
    for flag in ("--output", "--refresh", "--min-ttl", "--profile", "--verbose", "--dry-run", "--dotenv"):
        assert flag in page, flag
    assert "--request-id" not in page  # a provider's own flag shows on its page
    assert "--request-id" in paytoken("get", "doku", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["get", "nicepay", "--profle", "x"], "error: no such option: --profle", "see `paytoken get nicepay --help`"),
        (["gett"], "error: no command 'gett' (did you mean 'get'?)", "see `paytoken --help`"),
        (
            ["get", "nicepai"],
            "error: unknown provider 'nicepai' (did you mean 'nicepay'?)",
            "see `paytoken get --help`",
        ),
        (["get", "nicepay", "-o", "yaml"], "error: invalid value for '--output' / '-o'", "--help`"),
        (["sign", "nicepay", "--min-ttl", "5"], "error: no such option: --min-ttl", "paytoken sign nicepay --help"),
    ],
)
def test_a_usage_error_is_one_error_and_hint_not_a_box(args: list[str], message: str, hint: str) -> None:
    run = paytoken(*args)
    assert run.exit_code == 2
    lines = run.stderr.splitlines()
    assert lines[0].startswith(message), run.stderr
    assert lines[-1].startswith("  hint: ") and hint in lines[-1]
    assert "╭" not in run.output and "Usage:" not in run.output
    assert_clean(run.output)


def test_provider_names_are_case_insensitive(profiles: Path, sandbox: Sandbox) -> None:
    plain = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    for spelling in ("NICEPAY", "NicePay"):
        run = paytoken("get", spelling, "-p", "demo", "-o", "token")
        assert (run.exit_code, run.stdout) == (0, plain.stdout), run.output
    assert paytoken("sign", "DOKU", "-p", "demo", "-o", "json").exit_code == 0
    assert paytoken("providers", "show", "Faspay-SendMe").exit_code == 0


def complete(shell: str, words: str, cword: int) -> list[str]:
    """Ask the console script for completions, as the shell's completion function does."""
    env = {**os.environ, "_PAYTOKEN_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        env |= {"COMP_WORDS": words, "COMP_CWORD": str(cword)}
    else:
        env |= {"_TYPER_COMPLETE_ARGS": words}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv[0] = 'paytoken'; from tidak_cli.launch import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    if shell == "zsh":  # _arguments '*: :(("get":"help" "sign":"help"))': the quoted names
        return re.findall(r'[(\s]"((?:[^"\\]|\\.)*)"(?=[:)])', done.stdout)
    return done.stdout.split()


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_offers_commands_providers_options_and_profiles(shell: str, profiles: Path) -> None:
    commands = complete(shell, "paytoken ", 1)
    assert {"get", "sign", "doctor", "cache"} <= set(commands), commands
    providers = " ".join(complete(shell, "paytoken get fin", 2))
    assert "finpay-snap" in providers and "finpay-widget" in providers and "nicepay" not in providers
    options = " ".join(complete(shell, "paytoken get nicepay --pro", 3))
    assert "--profile" in options and "--profiles-file" in options
    names = " ".join(complete(shell, "paytoken get nicepay --profile ", 4))
    assert "demo" in names, names
    names = " ".join(complete(shell, "paytoken doctor doku -p ", 4))
    assert "demo" in names, names


@pytest.mark.realtime
def test_a_slow_gateway_gets_a_spinner_on_a_terminal_and_none_in_a_pipe(profiles: Path, sandbox: Sandbox) -> None:
    import pty

    set_fault(sandbox, "nicepay", delay=2.0, times=2)
    main, child = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tidak_cli", "get", "nicepay", "-p", "demo", "--refresh", "-o", "token"],
            stdout=subprocess.PIPE,
            stderr=child,
            timeout=60,
            check=False,
        )
        os.close(child)
        terminal = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(main, 65536):
                terminal += chunk
    finally:
        os.close(main)
    assert done.returncode == 0 and done.stdout.strip()
    assert "waiting for nicepay…".encode() in terminal and terminal.endswith(b"\r\x1b[K")
    piped = paytoken_process("get", "nicepay", "-p", "demo", "--refresh", "-o", "token")
    assert piped.returncode == 0 and piped.stderr == ""


def test_options_before_the_provider_are_its_options(profiles: Path, sandbox: Sandbox) -> None:
    plain = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    for args in (["-p", "demo", "nicepay", "-o", "token"], ["--profile=demo", "-o", "token", "NicePay"]):
        run = paytoken("get", *args)
        assert (run.exit_code, run.stdout) == (0, plain.stdout), run.output
    assert paytoken("sign", "-o", "json", "-p", "demo", "doku").exit_code == 0


def test_a_group_without_its_provider_prints_its_help_not_an_error_box() -> None:
    for group in ("get", "sign"):
        run = paytoken(group)
        assert run.exit_code == 2
        assert run.stderr.startswith(f"Usage: paytoken {group} PROVIDER [OPTIONS]")
        assert "error:" not in run.stderr and "╭" not in run.output
