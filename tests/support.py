"""Helpers for tests: run the CLI, observe the sandbox, check output for leaks."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from typer.testing import CliRunner

from tidak_cli.cli.app import app
from tidak_cli.demo import Workspace
from tidak_cli.launch import run_plain
from tidak_cli.sandbox import Sandbox


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    plain: bool = False  # run by launch.py without Typer, as the console script runs a plain `get`

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# Everything the CLI printed in this test session, through these helpers: conftest greps it for secrets.
OUTPUTS: list[str] = []


def paytoken(*args: str, input: str | None = None) -> Run:
    """Run the CLI in-process as the console script does: a plain `get` without Typer, else the full CLI."""
    runner = CliRunner()
    with runner.isolation(input=input) as (stdout, stderr, _):
        code = run_plain(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        printed = (stdout.getvalue().decode(), stderr.getvalue().decode())
    if code is not None:
        run = Run(code, *printed, plain=True)
    else:
        assert printed == ("", ""), "declining to run plainly must print nothing"
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        run = Run(result.exit_code, result.stdout, result.stderr)
    OUTPUTS.append(run.output)
    return run


def paytoken_process(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a real subprocess (for time zones, signals and `python -m`)."""
    done = subprocess.run(
        [sys.executable, "-m", "tidak_cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=False,
    )
    OUTPUTS.append(done.stdout + done.stderr)
    return done


def strict_json(text: str) -> object:
    """json.loads that refuses NaN and Infinity, which no JSON reader outside Python accepts."""

    def refuse(constant: str) -> object:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def imported_modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime -m tidak_cli ARGS`; return the run and the top-level packages it imported."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tidak_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    OUTPUTS.append(run.stdout)
    modules = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return run, modules


def faspay_credentials() -> dict[str, str]:
    """Fresh Faspay SendMe credentials (every key its recipes sign with), new for each call."""
    return {
        "faspay_key": "FK-" + secrets.token_hex(6),
        "faspay_secret": secrets.token_urlsafe(20),
        "app_key": "APP-" + secrets.token_hex(6),
        "app_secret": secrets.token_urlsafe(16),
        "client_key": "CK-" + secrets.token_hex(6),
        "client_secret": secrets.token_urlsafe(16),
        "iv": secrets.token_urlsafe(12),
    }


def stats(sandbox: Sandbox) -> dict[str, object]:
    """Read the sandbox's counts over HTTP, as an outside observer would."""
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/stats") as answer:
        return json.load(answer)  # type: ignore[no-any-return]


def requests_to(sandbox: Sandbox, provider: str) -> int:
    return stats(sandbox)["providers"][provider]["requests"]  # type: ignore[index,no-any-return]


def set_fault(sandbox: Sandbox, provider: str, **switches: object) -> None:
    body = json.dumps({"provider": provider, **switches}).encode()
    request = urllib.request.Request(f"{sandbox.url}/_sandbox/faults", data=body, method="POST")
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200


def assert_clean(output: str, secrets: Sequence[str] = ()) -> None:
    """No traceback, and none of the given secrets, anywhere in what the user saw."""
    assert "Traceback" not in output
    for secret in secrets:
        assert secret not in output, f"secret leaked: {secret[:6]}…"


def sandbox_value(workspace: Workspace, provider: str, key: str) -> str:
    """A value of provider's table in the workspace's sandbox config: the gateway's half of the credentials."""
    import tomllib

    return str(tomllib.loads(workspace.sandbox_config.read_text())[provider][key])


def workspace_secrets(workspace: Workspace) -> list[str]:
    """Every secret the throwaway workspace holds: private-key lines and the shared secrets."""
    import tomllib

    config = tomllib.loads(workspace.sandbox_config.read_text())
    shared = [
        value
        for table in config.values()
        if isinstance(table, dict)
        for key, value in table.items()
        if isinstance(value, str)
        and key not in {"client_id", "merchant_id", "faspay_key", "app_key", "client_key"}
        and not key.endswith("_file")
    ]
    return [*key_secrets(workspace), *shared]


def key_secrets(workspace: Workspace) -> list[str]:
    """The lines of every throwaway private key: none may ever be printed."""
    lines: list[str] = []
    for pem in workspace.directory.glob("*/private.pem"):
        lines += [line for line in pem.read_text().splitlines() if "-----" not in line]
    return lines


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve handler on a free loopback port, in a thread, for the time of the block; yield its base URL."""

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client hanging up is its business; and the CLI's captured stderr is no place for it

    import threading

    server = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def whole_pipeline_settings(**settings_given: object) -> object:
    """Hypothesis settings for a property whose example runs the CLI many times: a tenth of the profile's count.

    `ci` draws 500 examples per property; at about a second an example, a pipeline property would then take
    most of the suite's time. A tenth (50 in CI, 5 locally) still serves every generated shape of answer.
    """
    from hypothesis import settings

    return settings(max_examples=max(5, settings().max_examples // 10), **settings_given)  # type: ignore[arg-type]


class Hang(Exception):
    """A watched block ran past its time."""


@contextmanager
def watchdog(seconds: int, what: str = "the run") -> Iterator[None]:
    """Raise Hang in the block if it takes more than seconds (SIGALRM: the main thread only)."""
    import signal

    def fire(_signal: int, _frame: object) -> None:
        raise Hang(f"{what} took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# Runs the CLI in a child that reports its own peak memory (VmHWM, not ru_maxrss: getrusage keeps the forking
# pytest worker's peak across exec) on its last stderr line; the address-space limit keeps an unbounded read
# (a bomb, /dev/zero) from taking the machine down with it. Use: [sys.executable, "-c", MEASURED_CHILD, *args].
MEASURED_CHILD = """
import resource, runpy, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))
sys.argv = ["paytoken", *sys.argv[1:]]
try:
    runpy.run_module("tidak_cli", run_name="__main__")
finally:
    peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    sys.stderr.write(f"\\nPEAK-RSS-KIB {peak}\\n")
"""
