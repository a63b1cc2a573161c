"""What paytoken prints crosses one checked edge each (issue #12).

- tokens: every served token, fresh or cached (file cache or a shared Redis), is checked in one place;
- the dotenv writer and `-o env` quote whatever they are given so that sourcing them never runs code;
- outside text shown on a terminal goes through ui/output.py's shown();
- internal errors are exit 70; JSON output is strict.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dotenv import dotenv_values
from support import assert_clean, paytoken, requests_to
from test_redis import TOKEN_PREFIX, RedisServer, key_of, profile_table, start_redis

from tidak_cli.cache import CacheEntry
from tidak_cli.errors import GatewayError
from tidak_cli.export import env_lines, write_dotenv
from tidak_cli.providers import PROVIDERS
from tidak_cli.sandbox import Sandbox

# Tokens a poisoned cache entry may hold: each would break out of a header line, an eval or a sourced file.
HOSTILE_TOKENS = {
    "quote": "a';touch PWNED;'",
    "command": "$(touch PWNED)",
    "newline": "abc\ntouch PWNED",
    "crlf": "abc\r\nX-Evil: 1",
}
# Every way get prints a token.
OUTPUTS = {
    "header": ["-o", "header"],
    "token": ["-o", "token"],
    "env": ["-o", "env"],
    "json": ["-o", "json"],
    "pretty": ["-o", "pretty"],
    "dotenv": ["-o", "token", "--dotenv", "app.env"],
}


def cache_files() -> list[Path]:
    return sorted(Path(os.environ["PAYTOKEN_CACHE_DIR"]).glob("*.json"))


def poisoned(entry_text: str, token: str, token_type: str = "Bearer") -> str:
    data = json.loads(entry_text)
    data |= {"access_token": token, "token_type": token_type}
    return json.dumps(data)


def assert_refused_cached(run: object, hostile: str) -> None:
    from support import Run

    assert isinstance(run, Run)
    assert run.exit_code == 6, run.output
    assert run.stdout == ""
    assert "the cached nicepay token" in run.stderr and "refused to serve it" in run.stderr
    assert "paytoken cache clear nicepay" in run.stderr
    assert run.stderr.count("error:") == 1
    assert hostile not in run.stderr
    assert "\r" not in run.stderr
    assert_clean(run.output)
    assert not Path("PWNED").exists() and not Path("app.env").exists()


# --- finding 2: a cached token is checked as a fresh one is ---------------------------------------------


@pytest.mark.parametrize("output", OUTPUTS.values(), ids=OUTPUTS.keys())
@pytest.mark.parametrize("hostile", HOSTILE_TOKENS.values(), ids=HOSTILE_TOKENS.keys())
def test_a_poisoned_file_cache_entry_is_refused_by_every_output_and_removed(
    hostile: str, output: list[str], profiles: Path, sandbox: Sandbox
) -> None:
    assert paytoken("get", "nicepay", "-p", "demo", "-o", "token").exit_code == 0
    [entry] = cache_files()
    entry.write_text(poisoned(entry.read_text(), hostile))
    run = paytoken("get", "nicepay", "-p", "demo", *output)
    assert_refused_cached(run, hostile)
    assert f"cache entry {entry} was removed" in run.stderr
    assert not entry.exists()
    # The next run asks the gateway again and gets a good token.
    again = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    assert again.exit_code == 0 and requests_to(sandbox, "nicepay") == 2


def test_a_poisoned_token_type_in_the_cache_is_refused(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo", "-o", "token").exit_code == 0
    [entry] = cache_files()
    entry.write_text(poisoned(entry.read_text(), "abcdef", "Bearer\r\nX-Evil: 1"))
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "header")
    assert_refused_cached(run, "Bearer\r\nX-Evil: 1")


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    for server in start_redis(tmp_path / "redis"):
        monkeypatch.setenv("PAYTOKEN_CACHE_URL", server.url)
        yield server


@pytest.mark.parametrize("output", OUTPUTS.values(), ids=OUTPUTS.keys())
@pytest.mark.parametrize("hostile", HOSTILE_TOKENS.values(), ids=HOSTILE_TOKENS.keys())
def test_a_poisoned_redis_entry_is_refused_by_every_output_and_removed(
    hostile: str, output: list[str], profiles: Path, sandbox: Sandbox, shared: RedisServer
) -> None:
    key = key_of(profiles)
    now = datetime.now(UTC)
    entry = CacheEntry(
        provider="nicepay",
        profile="demo",
        base_url=str(profile_table(profiles)["base_url"]),
        client_id=str(profile_table(profiles)[PROVIDERS["nicepay"].identity_key]),
        access_token=hostile,
        token_type="Bearer",
        expires_at=now + timedelta(minutes=15),
        stored_at=now,
    )
    shared.client().set(TOKEN_PREFIX + key, entry.to_json(), px=600_000)
    run = paytoken("get", "nicepay", "-p", "demo", *output)
    assert_refused_cached(run, hostile)
    assert f"cache entry {TOKEN_PREFIX}{key} at" in run.stderr and "was removed" in run.stderr
    assert shared.client().get(TOKEN_PREFIX + key) is None
    assert requests_to(sandbox, "nicepay") == 0


# --- finding 2, defence in depth: what the dotenv writer and -o env write never runs when sourced ----------

# Values written by a shell-unaware writer would run `touch PWNED`; others must read back unchanged.
WRITTEN_VALUES = [
    "plain-Token_1.2~3+4/5==",
    "a';touch PWNED;'",
    "a'\"'\"'b",
    "$(touch PWNED)",
    "`touch PWNED`",
    "${HOME}$(touch PWNED)",
    "a\ntouch PWNED",
    "a\r\ntouch PWNED",
    "a\\';touch PWNED;#",
    "a\\",
    "tab\there",
    "\x1b]0;title\x07",
    "spaces and # hash",
    "ñ😀",
    "",
]


def source(file: Path, name: str, tmp_path: Path) -> str:
    """Source file in sh, as a script would, and print one variable."""
    done = subprocess.run(
        ["sh", "-c", f'. "$1" && printf %s "${name}"', "sh", str(file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("value", WRITTEN_VALUES)
def test_a_dotenv_file_sourced_never_runs_code_and_reads_back_the_same(value: str, tmp_path: Path) -> None:
    target = tmp_path / "app.env"
    target.write_text("KEEP='me'\n")
    try:
        write_dotenv(target, [("PAYTOKEN_ACCESS_TOKEN", value)])
    except GatewayError as refused:
        assert "cannot be written for a shell or a dotenv file" in refused.message
        assert target.read_text() == "KEEP='me'\n"  # nothing was written
        assert value not in refused.message or not value
        return
    finally:
        assert not (tmp_path / "PWNED").exists()
    assert source(target, "PAYTOKEN_ACCESS_TOKEN", tmp_path) == value
    assert not (tmp_path / "PWNED").exists()
    assert dotenv_values(target) == {"KEEP": "me", "PAYTOKEN_ACCESS_TOKEN": value}


@pytest.mark.parametrize("value", WRITTEN_VALUES)
def test_env_output_evaluated_never_runs_code_and_reads_back_the_same(value: str, tmp_path: Path) -> None:
    target = tmp_path / "env.sh"
    try:
        target.write_text(env_lines([("PAYTOKEN_ACCESS_TOKEN", value)]))
    except GatewayError as refused:
        assert "cannot be written" in refused.message
        return
    assert source(target, "PAYTOKEN_ACCESS_TOKEN", tmp_path) == value
    assert not (tmp_path / "PWNED").exists()
    assert dotenv_values(target) == {"PAYTOKEN_ACCESS_TOKEN": value}


# --- a hostile gateway: answers whatever the test says, to every request ---------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def hostile_gateway(answer: Answer) -> Iterator[str]:
    """A local HTTP server that gives every request the same answer, raw header values included."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response_only(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("Connection", "close")
            for name, value in answer.headers.items():
                self.wfile.write(f"{name}: {value}\r\n".encode("utf-8", "surrogateescape"))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def token_answer(**fields: object) -> bytes:
    answer: dict[str, object] = {"responseCode": "2007300", "responseMessage": "Successful"}
    answer |= {"accessToken": "abcDEF123", "tokenType": "Bearer", "expiresIn": "900"}
    return json.dumps(answer | fields).encode()


def strict_json(text: str) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


# --- finding 8: every JSON output is strict JSON ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        token_answer().replace(b'"900"', b"1e309"),
        token_answer().replace(b'"900"', b"NaN"),
        token_answer().replace(b'"900"', b"-Infinity"),
        token_answer().replace(b'"Successful"', b'"Successful", "odd": [NaN, {"x": 1e999}]'),
    ],
    ids=["1e309", "NaN", "-Infinity", "nested"],
)
def test_get_json_is_strict_json_fresh_and_from_the_cache(body: bytes, profiles: Path) -> None:
    with hostile_gateway(Answer(body=body)) as url:
        for _ in range(2):  # the second is a cache hit where the lifetime was known
            run = paytoken("get", "nicepay", "-p", "demo", "--base-url", url, "-o", "json")
            assert run.exit_code == 0, run.output
            document = strict_json(run.stdout)
            assert isinstance(document, dict) and document["access_token"] == "abcDEF123"
            assert "Infinity" not in run.stdout and "NaN" not in run.stdout


def test_sign_and_dry_run_json_are_strict(profiles: Path) -> None:
    for args in (
        ["sign", "nicepay", "-p", "demo", "-o", "json"],
        ["get", "nicepay", "-p", "demo", "--dry-run", "-o", "json"],
    ):
        run = paytoken(*args)
        assert run.exit_code == 0, run.output
        assert isinstance(strict_json(run.stdout), dict)
