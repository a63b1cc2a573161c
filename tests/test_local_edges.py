"""Local files and configuration each cross one edge (issue 12, findings 4, 5, 6 and part of 9).

Files: every local read is of a regular file, size-capped, never blocking (tidak_cli/files.py). Configuration:
the current directory's .env feeds ${VAR} in profiles and nothing else. A base URL's password is never shown.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import MEASURED_CHILD, OUTPUTS, paytoken, paytoken_process, requests_to

from tidak_cli.sandbox import Sandbox

_SMALL_KIB = 100 * 1024


def measured(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    """Run paytoken ARGS in a child; return its exit code, stdout and stderr, and check it stayed small."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_CHILD, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    stderr, _, peak = done.stderr.rpartition("\nPEAK-RSS-KIB ")
    OUTPUTS.append(done.stdout + stderr)
    assert int(peak) < _SMALL_KIB, f"peak memory {int(peak) // 1024} MiB"
    return done.returncode, done.stdout, stderr


def one_error(stderr: str, *says: str) -> None:
    """Exactly one error: one `error:` line (plus its hint), no traceback, naming what went wrong."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert stderr.count("error:") == 1, stderr
    for text in says:
        assert text in stderr, stderr


# --- the hostile files ---------------------------------------------------------------------------

HOSTILE = ["dev-zero", "fifo", "link-to-dev-zero", "sparse-300MB"]
SAYS = {
    "dev-zero": "character device",
    "fifo": "named pipe",
    "link-to-dev-zero": "character device",
    "sparse-300MB": "300.0 MiB",
}


def hostile(kind: str, where: Path) -> Path:
    """A path that an unbounded read hangs on or drowns in; nothing in it is written to disk."""
    if kind == "dev-zero":
        return Path("/dev/zero")
    path = where / f"hostile-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link-to-dev-zero":
        path.symlink_to("/dev/zero")
    else:
        with path.open("wb") as handle:
            handle.truncate(300 * 1024 * 1024)  # sparse: 300 MB long, no block written
    return path


def set_key(profiles: Path, table: str, key: str, value: str) -> None:
    text = profiles.read_text()
    head, marker, rest = text.partition(f"[{table}]\n")
    assert marker, table
    lines = [line for line in rest.split("\n") if not line.startswith(f"{key} =")]
    profiles.write_text(head + marker + f"{key} = {json.dumps(value)}\n" + "\n".join(lines))


@pytest.mark.parametrize("kind", HOSTILE)
def test_3_a_private_key_file_that_is_no_ordinary_file(kind: str, profiles: Path, sandbox: Sandbox) -> None:
    set_key(profiles, "nicepay.demo", "private_key_file", str(hostile(kind, profiles.parent)))
    code, stdout, stderr = measured("get", "nicepay", "-p", "demo", "--no-cache")
    assert code == 3 and stdout == ""
    one_error(stderr, "private_key_file", SAYS[kind])
    assert requests_to(sandbox, "nicepay") == 0


@pytest.mark.parametrize("kind", HOSTILE)
def test_3_a_public_key_file_that_is_no_ordinary_file(kind: str, profiles: Path) -> None:
    set_key(profiles, "nicepay.demo", "public_key_file", str(hostile(kind, profiles.parent)))
    code, _, stderr = measured("sign", "nicepay", "-p", "demo")
    assert code == 3
    one_error(stderr, "public_key_file", SAYS[kind])


@pytest.mark.parametrize("kind", HOSTILE)
def test_3_a_profiles_file_that_is_no_ordinary_file(kind: str, profiles: Path) -> None:
    code, _, stderr = measured("sign", "nicepay", "-p", "demo", "--profiles-file", str(hostile(kind, profiles.parent)))
    assert code == 3
    one_error(stderr, "profiles file", SAYS[kind])


@pytest.mark.parametrize("kind", HOSTILE)
def test_3_a_dotenv_in_the_current_directory_that_is_no_ordinary_file(kind: str, profiles: Path) -> None:
    target = hostile(kind, profiles.parent)
    if kind == "dev-zero":
        Path(".env").symlink_to(target)
        says = SAYS["link-to-dev-zero"]
    else:
        target.rename(".env")
        says = SAYS[kind]
    code, _, stderr = measured("sign", "nicepay", "-p", "demo")
    assert code == 3
    one_error(stderr, ".env", says)


@pytest.mark.parametrize("kind", HOSTILE)
def test_2_a_replay_capture_that_is_no_ordinary_file(kind: str, profiles: Path) -> None:
    code, _, stderr = measured("sign", "nicepay", "-p", "demo", "--replay", str(hostile(kind, profiles.parent)))
    assert code == 2
    one_error(stderr, "--replay", SAYS[kind])


@pytest.mark.parametrize("kind", HOSTILE)
def test_3_a_dotenv_target_that_is_no_ordinary_file(kind: str, profiles: Path, sandbox: Sandbox) -> None:
    target = hostile(kind, profiles.parent)
    before = os.lstat(target)
    code, stdout, stderr = measured("get", "nicepay", "-p", "demo", "--dotenv", str(target))
    assert code == 3 and stdout == ""
    one_error(stderr, "--dotenv", SAYS[kind])
    after = os.lstat(target)
    assert (after.st_mode, after.st_size, after.st_ino) == (before.st_mode, before.st_size, before.st_ino)


@pytest.mark.parametrize("kind", HOSTILE)
def test_3_a_sandbox_config_that_is_no_ordinary_file(kind: str, isolated: Path) -> None:
    code, _, stderr = measured("sandbox", "--port", "0", "--config", str(hostile(kind, isolated)))
    assert code == 3
    one_error(stderr, "sandbox config", SAYS[kind])


@pytest.mark.parametrize("kind", HOSTILE)
def test_3_a_sandbox_public_key_file_that_is_no_ordinary_file(kind: str, isolated: Path) -> None:
    target = hostile(kind, isolated)
    Path("sandbox.toml").write_text(f'[nicepay]\nclient_id = "C"\npublic_key_file = {json.dumps(str(target))}\n')
    code, _, stderr = measured("sandbox", "--port", "0", "--config", "sandbox.toml")
    assert code == 3
    one_error(stderr, "public_key_file", SAYS[kind])


def entry_of(profiles: Path) -> Path:
    from test_cache import entry_path

    return entry_path(profiles)


@pytest.mark.parametrize("kind", ["fifo", "link-to-dev-zero", "sparse-300MB"])
def test_a_cache_entry_that_is_no_ordinary_file_is_damaged_and_replaced(
    kind: str, profiles: Path, sandbox: Sandbox
) -> None:
    entry = entry_of(profiles)
    entry.parent.mkdir(mode=0o700, parents=True)
    hostile(kind, entry.parent).rename(entry)
    code, stdout, stderr = measured("get", "nicepay", "-p", "demo", "-o", "token")
    assert code == 0 and stdout.strip()
    assert "Traceback" not in stderr and stderr.count("warning:") == 1
    assert f"cache entry {entry} is damaged" in stderr and "it will be replaced" in stderr
    assert requests_to(sandbox, "nicepay") == 1
    assert entry.is_file() and not entry.is_symlink() and json.loads(entry.read_text())["access_token"]
    listed = paytoken("cache", "list")
    assert listed.exit_code == 0


def test_a_cache_entry_linked_to_a_real_entry_is_not_followed(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo", "-o", "token").exit_code == 0
    entry = entry_of(profiles)
    planted = entry.with_name("planted")
    entry.rename(planted)
    entry.symlink_to(planted)
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    assert run.exit_code == 0 and "is a symbolic link" in run.stderr
    assert requests_to(sandbox, "nicepay") == 2


# --- .env feeds ${VAR} and nothing else ----------------------------------------------------------


class Recorder:
    """A TCP listener that records every connection made to it (a 'proxy' or a 'Redis' that must see nothing)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                try:
                    self.received.append(connection.recv(65536) or b"(connected)")
                    connection.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    self.received.append(b"(connected)")

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    listening = Recorder()
    yield listening
    listening.close()


@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("PAYTOKEN_CACHE_URL", raising=False)


def test_a_hostile_dotenv_sets_no_proxy_ca_bundle_or_debug(
    profiles: Path, recorder: Recorder, no_proxy_environment: None
) -> None:
    # A gateway off loopback (the sandbox bypasses proxies anyway); .invalid never resolves, so without the
    # "proxy" the request cannot leave: exit 5. With it, the proxy would have received the signed request.
    set_key(profiles, "finpay-widget.demo", "base_url", "http://gateway.invalid")
    proxy = f"http://127.0.0.1:{recorder.port}"
    Path(".env").write_text(
        f"HTTP_PROXY={proxy}\nHTTPS_PROXY={proxy}\nALL_PROXY={proxy}\nhttp_proxy={proxy}\n"
        "REQUESTS_CA_BUNDLE=/nonexistent/ca.pem\nPAYTOKEN_DEBUG=1\n"
    )
    done = paytoken_process("get", "finpay-widget", "-p", "demo", "--no-cache", timeout=90)
    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr and "gateway.invalid" in done.stderr
    time.sleep(0.2)
    assert recorder.received == []


def test_a_hostile_dotenv_points_at_no_foreign_cache_or_profiles(
    profiles: Path, sandbox: Sandbox, recorder: Recorder, no_proxy_environment: None, isolated: Path
) -> None:
    # ${VAR} still works from .env: the client id comes from it.
    client_id = "DEMO-NICEPAY-001"
    assert f'client_id = "{client_id}"' in profiles.read_text()
    set_key(profiles, "nicepay.demo", "client_id", "${NICEPAY_CLIENT_ID}")
    Path("other.toml").write_text(f'[nicepay.demo]\nclient_id = "X"\nbase_url = "http://127.0.0.1:{recorder.port}"\n')
    Path(".env").write_text(
        f"NICEPAY_CLIENT_ID={client_id}\n"
        f"PAYTOKEN_CACHE_URL=redis://127.0.0.1:{recorder.port}/0\n"
        f"PAYTOKEN_PROFILES={isolated / 'other.toml'}\n"
        f"PAYTOKEN_CACHE_DIR={isolated / 'elsewhere'}\n"
    )
    Path(".env").chmod(0o600)  # private, so that stderr stays empty (a readable one is warned about)
    done = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and done.stderr == ""
    assert requests_to(sandbox, "nicepay") == 1
    time.sleep(0.2)
    assert recorder.received == []
    assert not (isolated / "elsewhere").exists()
    assert len(list(Path(os.environ["PAYTOKEN_CACHE_DIR"]).glob("*.json"))) == 1


def test_the_process_environment_wins_over_dotenv_for_variables(
    profiles: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_key(profiles, "nicepay.demo", "client_id", "${NICEPAY_CLIENT_ID}")
    Path(".env").write_text("NICEPAY_CLIENT_ID=WRONG-FROM-DOTENV\n")
    monkeypatch.setenv("NICEPAY_CLIENT_ID", "DEMO-NICEPAY-001")
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    assert run.exit_code == 0, run.output
    shown = paytoken("profiles", "show", "nicepay.demo")
    assert "DEMO-NICEPAY-001" in shown.stdout and "WRONG" not in shown.stdout


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
@pytest.mark.parametrize("command", ["get", "sign"])
def test_a_dotenv_feeding_a_profile_readable_by_others_gets_one_warning(
    mode: int, command: str, profiles: Path, sandbox: Sandbox
) -> None:
    """As for profiles.toml: the .env that gives a profile its secret gets ssh's chmod 600 warning, once a run."""
    secret = tomllib.loads(profiles.read_text())["doku"]["demo"]["secret_key"]
    set_key(profiles, "doku.demo", "secret_key", "${DOKU_SECRET_KEY}")
    dotenv = Path(".env")
    dotenv.write_text(f"DOKU_SECRET_KEY={secret}\n")
    dotenv.chmod(mode)
    run = paytoken(command, "doku", "-p", "demo", *(["-o", "token"] if command == "get" else []))
    assert run.exit_code == 0, run.output
    expected = f"warning: .env is readable by other users (mode {mode:04o}); run: chmod 600 .env"
    assert run.stderr.splitlines().count(expected) == 1, run.stderr
    assert "Traceback" not in run.output and secret not in run.output
    dotenv.chmod(0o600)
    quiet = paytoken(command, "doku", "-p", "demo", *(["-o", "token"] if command == "get" else []))
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr, quiet.stderr


def test_a_dotenv_that_feeds_no_profile_gets_no_warning(profiles: Path, sandbox: Sandbox) -> None:
    Path(".env").write_text("UNRELATED=1\n")
    Path(".env").chmod(0o644)
    run = paytoken("get", "doku", "-p", "demo", "-o", "token")
    assert run.exit_code == 0 and "warning" not in run.stderr, run.stderr


def test_dotenv_never_enters_the_process_environment(profiles: Path) -> None:
    Path(".env").write_text("PAYTOKEN_TEST_ONLY_VARIABLE=1\nHTTPS_PROXY=http://127.0.0.1:9\n")
    before = dict(os.environ)
    assert paytoken("sign", "nicepay", "-p", "demo").exit_code == 0
    assert paytoken("profiles", "list").exit_code == 0
    assert dict(os.environ) == before


# --- --dotenv writes only into a dotenv file ------------------------------------------------------


def test_3_dotenv_through_a_dangling_symlink_writes_nothing(profiles: Path, sandbox: Sandbox) -> None:
    Path("link.env").symlink_to("nowhere/created.env")
    Path("nowhere").mkdir()
    run = paytoken("get", "nicepay", "-p", "demo", "--dotenv", "link.env")
    assert run.exit_code == 3 and run.stdout == ""
    one_error(run.stderr, "--dotenv link.env is a symbolic link", "does not exist")
    assert not Path("nowhere/created.env").exists() and Path("link.env").is_symlink()


@pytest.mark.parametrize(
    "text", ["#!/bin/sh\necho hello\n", '[nicepay.dev]\nclient_id = "x"\n', "import os\nprint(os.getcwd())\n"]
)
def test_3_dotenv_into_a_file_that_is_not_a_dotenv_file_leaves_it_alone(
    text: str, profiles: Path, sandbox: Sandbox
) -> None:
    target = Path("script")
    target.write_text(text)
    target.chmod(0o755)
    run = paytoken("get", "nicepay", "-p", "demo", "--dotenv", "script")
    assert run.exit_code == 3 and run.stdout == ""
    one_error(run.stderr, "--dotenv script is not a dotenv file")
    assert target.read_text() == text and target.stat().st_mode & 0o777 == 0o755


# --- a base URL's password is never shown ----------------------------------------------------------

PASSWORDS = ["password", "Xq7Zr9Kp2LwT"]


def with_password(profiles: Path, password: str) -> str:
    url = next(line for line in profiles.read_text().splitlines() if line.startswith("base_url")).split('"')[1]
    profiles.write_text(profiles.read_text().replace(url, url.replace("http://", f"http://merchant:{password}@")))
    return url


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize(
    "args",
    [
        ("sign", "nicepay", "-p", "demo"),
        ("sign", "nicepay", "-p", "demo", "--hex"),
        ("sign", "doku", "-p", "demo", "--hex"),
        ("get", "nicepay", "-p", "demo", "--dry-run"),
        ("get", "finpay-widget", "-p", "demo", "--dry-run", "-o", "pretty"),
        ("profiles", "show", "nicepay.demo"),
        ("profiles", "list"),
        ("doctor", "nicepay", "-p", "demo"),
        ("doctor", "doku", "-p", "demo"),
        ("profiles", "list", "-o", "json"),
        ("profiles", "show", "nicepay.demo", "-o", "json"),
        ("doctor", "nicepay", "-p", "demo", "-o", "json"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else value,
)
def test_a_base_url_password_is_never_shown(
    args: tuple[str, ...], password: str, profiles: Path, sandbox: Sandbox
) -> None:
    with_password(profiles, password)
    run = paytoken(*args)
    assert "Traceback" not in run.output
    assert password not in run.output
    assert "merchant:••••@" in run.output or "merchant:\\u2022\\u2022\\u2022\\u2022@" in run.output


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("command", [("sign", "nicepay"), ("get", "nicepay", "--dry-run"), ("doctor", "nicepay")])
def test_a_base_url_option_password_is_never_shown(
    command: tuple[str, ...], password: str, profiles: Path, sandbox: Sandbox
) -> None:
    url = sandbox.url.replace("http://", f"http://merchant:{password}@")
    run = paytoken(*command[:2], "-p", "demo", "--base-url", url, *command[2:])
    assert "Traceback" not in run.output and password not in run.output
    assert "merchant:••••@" in run.output


def test_an_unusable_base_url_with_a_password_is_masked_in_the_error(profiles: Path) -> None:
    run = paytoken("sign", "nicepay", "-p", "demo", "--base-url", "ftp://merchant:Zx9Qw7Er5Ty@gw.example")
    assert run.exit_code == 2
    assert "Zx9Qw7Er5Ty" not in run.output and "merchant:••••@" in run.stderr


# --- [snap.x.headers]: HTTP headers or a config error ---------------------------------------------


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ('"X-Note" = "ñ😀"', "'😀' (U+1F600)"),
        ('"X-Note" = "a\\r\\nInjected: yes"', "a line break"),
        ('"X-Note" = "a\\u0000b"', "U+0000"),
        ('"X-Note" = " leading"', "starting with a space"),
        ('"X-Note" = 1', "an integer"),
        ('"X-Note" = { a = 1 }', "a table"),
        ('"X Note" = "x"', "header name"),
    ],
    ids=["not-latin-1", "crlf", "nul", "leading-space", "a-number", "a-table", "bad-name"],
)
@pytest.mark.parametrize("command", ["get", "sign"])
def test_3_a_snap_header_http_cannot_carry_names_the_key(
    entry: str, says: str, command: str, profiles: Path, sandbox: Sandbox
) -> None:
    profiles.write_text(profiles.read_text() + f"\n[snap.demo.headers]\n{entry}\n")
    args = (command, "snap", "-p", "demo") + (("--no-cache",) if command == "get" else ())
    run = paytoken(*args)
    assert run.exit_code == 3, run.output
    one_error(run.stderr, "headers in [snap.demo]", "X", says)
    assert requests_to(sandbox, "snap") == 0


def test_a_latin_1_snap_header_is_sent(profiles: Path, sandbox: Sandbox) -> None:
    profiles.write_text(profiles.read_text() + '\n[snap.demo.headers]\n"X-Note" = "café\tau lait"\n')
    run = paytoken("get", "snap", "-p", "demo", "-o", "token")
    assert run.exit_code == 0, run.output


# --- a temporary cache file left by a killed writer is swept ------------------------------------------


def leftover(entry: Path, key: str, age: float) -> Path:
    path = entry.parent / f".{key}.k1ll3d.tmp"
    path.write_text(json.dumps({"access_token": "LIVE-TOKEN-LEFT-BEHIND"}))
    path.chmod(0o600)
    moment = time.time() - age
    os.utime(path, (moment, moment))
    return path


def test_a_temporary_cache_file_left_by_a_kill_is_swept(profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo", "-o", "token").exit_code == 0
    entry = entry_of(profiles)
    own = leftover(entry, entry.stem, age=0)  # this entry's: removed by the next writer, who holds its lock
    stale = leftover(entry, "0" * 40, age=3600)  # another's, long dead: removed by any reader
    fresh = leftover(entry, "1" * 40, age=0)  # another's, maybe being written right now: kept
    hit = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    assert hit.exit_code == 0 and not stale.exists() and own.exists() and fresh.exists()
    refreshed = paytoken("get", "nicepay", "-p", "demo", "-o", "token", "--refresh")
    assert refreshed.exit_code == 0 and not own.exists() and fresh.exists()
    assert requests_to(sandbox, "nicepay") == 2
