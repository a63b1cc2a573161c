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
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dotenv import dotenv_values
from support import assert_clean, paytoken, requests_to, serving
from test_redis import TOKEN_PREFIX, RedisServer, key_of, profile_table, start_redis

from tidak_cli.cache import CacheEntry
from tidak_cli.demo import Workspace
from tidak_cli.errors import GatewayError
from tidak_cli.export import shell_lines, write_dotenv
from tidak_cli.gateways import PROVIDERS
from tidak_cli.profiles import load_profile
from tidak_cli.sandbox import Sandbox
from tidak_cli.tokens import cache_identity

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
        credential=cache_identity(PROVIDERS["nicepay"], load_profile(PROVIDERS["nicepay"], "demo"))[3],
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
        cwd=tmp_path,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()  # as bytes: text mode would turn a CR LF into LF


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


@pytest.mark.parametrize("shell", ["env", "env-no-export"])
@pytest.mark.parametrize("value", WRITTEN_VALUES)
def test_env_output_evaluated_never_runs_code_and_reads_back_the_same(value: str, shell: str, tmp_path: Path) -> None:
    target = tmp_path / "env.sh"
    target.write_text(shell_lines([("PAYTOKEN_ACCESS_TOKEN", value)], shell))
    assert source(target, "PAYTOKEN_ACCESS_TOKEN", tmp_path) == value
    assert not (tmp_path / "PWNED").exists()


def test_powershell_doubles_its_typographic_quotes_too() -> None:
    # PowerShell reads ‘ ’ ‚ ‛ as quotes: a value holding one must not end the string.
    written = shell_lines([("A", "a\u2019;calc;\u2018'")], "powershell")
    assert written == "$Env:A = 'a\u2019\u2019;calc;\u2018\u2018'''\n"


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
                # Raw, past http.server's own checks: a hostile gateway sends what it likes.
                self._headers_buffer.append(f"{name}: {value}\r\n".encode("utf-8", "surrogateescape"))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST

        def log_message(self, *_args: object) -> None:
            pass

    with serving(Handler) as url:
        yield url


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


# --- finding 3: outside text reaches the terminal only through shown() -----------------------------------

# Each kind of byte that acts on a terminal instead of showing: CSI (clear screen), OSC (window title), an 8-bit
# CSI (C1), a bidi override, and a bare CR that would overwrite the line.
ACTING_TEXTS = {
    "csi": "\x1b[2J\x1b[31mred",
    "osc": "\x1b]0;pwned\x07title",
    "c1": "\x9b31mc1",
    "bidi": "evil\u202eexe.txt",
    "cr": "fine\rfake",
}
ACTING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def assert_nothing_acts(output: str) -> None:
    found = ACTING.findall(output)
    assert not found, f"raw terminal-acting characters printed: {found!r}"
    assert_clean(output)


@pytest.mark.parametrize("text", ACTING_TEXTS.values(), ids=ACTING_TEXTS.keys())
def test_a_rejection_message_an_html_page_and_a_v_header_are_shown_escaped(text: str, profiles: Path) -> None:
    rejection = {"responseCode": "4017300", "responseMessage": f"Unauthorized {text}"}
    with hostile_gateway(Answer(401, json.dumps(rejection).encode(), {"X-Note": text})) as url:
        run = paytoken("get", "nicepay", "-p", "demo", "--base-url", url, "-v")
    assert run.exit_code == 4, run.output
    assert_nothing_acts(run.output)
    assert "Unauthorized" in run.stderr and "X-Note: " in run.stderr
    html = f"<html><title>{text}</title><body>{text}</body></html>".encode()
    with hostile_gateway(Answer(200, html, {"Content-Type": "text/html"})) as url:
        page = paytoken("get", "nicepay", "-p", "demo", "--base-url", url, "-v")
    assert page.exit_code == 6, page.output
    assert_nothing_acts(page.output)


@pytest.mark.parametrize("text", ACTING_TEXTS.values(), ids=ACTING_TEXTS.keys())
def test_doctor_lines_show_a_gateway_s_text_escaped(text: str, profiles: Path) -> None:
    rejection = {"responseCode": "4017300", "responseMessage": f"Unauthorized {text}"}
    with hostile_gateway(Answer(401, json.dumps(rejection).encode())) as url:
        run = paytoken("doctor", "nicepay", "-p", "demo", "--base-url", url)
    assert run.exit_code == 4, run.output
    assert "Unauthorized" in run.output
    assert_nothing_acts(run.output)


def add_table(profiles: Path, name: str, **values: str) -> None:
    """A copy of [nicepay.demo] under a (TOML-escaped) name, with values changed."""
    table = {**profile_table(profiles), **values}
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items())
    profiles.write_text(profiles.read_text() + f"\n[nicepay.{json.dumps(name)}]\n{lines}")


@pytest.mark.parametrize(
    "text", [*ACTING_TEXTS.values(), "x[/]y", "[bold]b[/bold]"], ids=[*ACTING_TEXTS, "markup", "tag"]
)
def test_pretty_views_and_profile_tables_show_a_profile_s_text_escaped(
    text: str, profiles: Path, sandbox: Sandbox
) -> None:
    add_table(profiles, f"p{text}")
    name = f"p{text}"
    runs = [
        paytoken("get", "nicepay", "-p", name, "-o", "pretty"),
        paytoken("profiles", "list"),
        paytoken("profiles", "show", f"nicepay.{name}"),
        paytoken("sign", "nicepay", "-p", name),
        paytoken("cache", "list"),
    ]
    for run in runs:
        assert run.exit_code == 0, run.output
        assert_nothing_acts(run.output)
    if text.isprintable():  # markup is printed as it is, never interpreted (and never a crash)
        assert text in runs[0].stdout and text in runs[1].stdout


def test_pretty_sign_shows_every_outside_field_escaped() -> None:
    from io import StringIO

    from rich.console import Console

    from tidak_cli.forensics import Comparison
    from tidak_cli.gateways.base import SignedRequest
    from tidak_cli.ui.render import doctor_line, pretty_sign

    odd = "".join(ACTING_TEXTS.values()) + "[/]"
    request = SignedRequest(
        provider="nicepay",
        method="POST",
        url=f"http://127.0.0.1/{odd}",
        headers={f"X-{odd}": odd},
        body=odd.encode(),
        string_to_sign=odd,
        signature=odd,
        algorithm="HMAC",
        derivation=((odd, odd),),
    )
    buffer = StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    pretty_sign(request, console, comparison=Comparison(False, (odd,), odd), hex_dump=True)
    from tidak_cli.doctor import Check

    doctor_line(Check(odd, "failure", odd, odd), console)
    assert_nothing_acts(buffer.getvalue())
    assert "\\x1b" in buffer.getvalue() and "[/]" in buffer.getvalue()


# --- finding 9: cache list/clear cope with Redis keys and entries that are not ours -------------------------


def test_cache_list_and_clear_a_redis_key_that_is_not_utf8_or_holds_control_bytes(
    profiles: Path, sandbox: Sandbox, shared: RedisServer
) -> None:
    client = shared.client()
    client.set(TOKEN_PREFIX.encode() + b"\xff\xfe-not-utf8", b"{}")
    client.set(TOKEN_PREFIX.encode() + b"\x1b]0;pwned\x07", b"{}")
    now = datetime.now(UTC)
    entry = CacheEntry(
        provider="nicepay\x1b[2J",
        profile="demo\u202e",
        base_url="http://x/\x9b31m",
        client_id="[/]",
        credential="0123456789abcdef0123456789abcdef",
        access_token="abc",
        token_type="Bearer",
        expires_at=now + timedelta(minutes=15),
        stored_at=now,
    )
    client.set(TOKEN_PREFIX + "a" * 40, entry.to_json())
    listing = paytoken("cache", "list")
    assert listing.exit_code == 0, listing.output
    assert_nothing_acts(listing.output)
    assert listing.output.count("damaged") == 2 and "\\xff" in listing.output.replace("\\udcff", "\\xff")
    cleared = paytoken("cache", "clear", "nicepay")
    assert cleared.exit_code == 0, cleared.output
    assert "removed 2 cached tokens" in cleared.stderr  # the two damaged ones; the third is not nicepay's
    assert_nothing_acts(cleared.output)
    assert sorted(client.scan_iter(match=TOKEN_PREFIX + "*")) == [(TOKEN_PREFIX + "a" * 40).encode()]
    everything = paytoken("cache", "clear")
    assert everything.exit_code == 0 and "removed 1 cached token " in everything.stderr
    assert list(client.scan_iter(match=TOKEN_PREFIX + "*")) == []


# --- finding 9: a --min-ttl beyond any token's lifetime still prints the token the gateway issued ----------


@pytest.mark.parametrize("min_ttl", ["1e12", "1e300"])
@pytest.mark.parametrize("output", ["pretty", "token", "json", "env"])
def test_a_huge_min_ttl_still_prints_the_issued_token(
    min_ttl: str, output: str, profiles: Path, sandbox: Sandbox
) -> None:
    for _ in range(2):
        run = paytoken("get", "nicepay", "-p", "demo", "--min-ttl", min_ttl, "-o", output)
        assert run.exit_code == 0, run.output
        assert run.stdout.strip() and "internal error" not in run.output
        assert_nothing_acts(run.output)


def test_the_sandbox_log_shows_a_client_s_request_path_escaped(workspace: Workspace, tmp_path: Path) -> None:
    import socket
    import sys
    import time

    from test_redis import free_port

    port = free_port()
    log = tmp_path / "sandbox.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tidak_cli",
                "sandbox",
                "--port",
                str(port),
                "--config",
                str(workspace.sandbox_config),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while "listening" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(
                b"POST /nicepay/v1.0/access-token/b2b?x\x1b]0;pwned\x07[/]\x9b31m\xe2\x80\xae HTTP/1.1\r\n"
                b"Host: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            while client.recv(65536):
                pass
        time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(timeout=10)
    text = log.read_text()
    assert "b2b?x" in text and "[/]" in text, text
    assert_nothing_acts(text)


def test_every_bidi_control_and_invisible_separator_is_escaped() -> None:
    from tidak_cli.ui.output import json_text, shown

    # Unicode's Bidi_Control set, the line/paragraph separators and the byte-order mark (the hostile review's).
    acting = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029\ufeff"
    for character in acting:
        assert character not in shown(f"a{character}b"), hex(ord(character))
        written = json_text({"message": f"a{character}b"})
        assert character not in written and json.loads(written)["message"] == f"a{character}b"
