"""The shared token cache on Redis (fleet mode): single flight across machines, the lock, fallback, cache list/clear.

Everything runs against a real `redis-server` that each test starts on a free loopback port with its own
temporary directory (fakeredis would not show what a real server, a real kill or a real expiry do), and
against the real sandbox through the CLI, in-process or as real `python -m tidak_cli` processes. Two
PAYTOKEN_CACHE_DIR directories stand in for two machines sharing one Redis.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from support import assert_clean, imported_modules, paytoken, paytoken_process, requests_to, set_fault

from tidak_cli.cache import CacheEntry, cache_key
from tidak_cli.gateways import PROVIDERS
from tidak_cli.profiles import load_profile
from tidak_cli.sandbox import Sandbox
from tidak_cli.tokens import cache_identity

TOKEN_PREFIX = "paytoken:token:"
LOCK_PREFIX = "paytoken:lock:"
PASSWORD = "Redis-Pa55word-4f1c9e"  # distinctive, so that a leak cannot hide among ordinary words
NICEPAY_LIFETIME = 900  # the sandbox's token lifetime


# --- a real redis-server -------------------------------------------------------------------------


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    password: str | None
    log: Path
    certificate: Path | None = None  # serving TLS only, with this self-signed certificate

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        if self.certificate is None:
            return f"redis://{credentials}127.0.0.1:{self.port}/0"
        return f"rediss://{credentials}127.0.0.1:{self.port}/0?ssl_ca_certs={self.certificate}"

    def client(self) -> redis.Redis:
        tls = {"ssl": True, "ssl_ca_certs": str(self.certificate)} if self.certificate else {}
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=5, **tls)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def free_port() -> int:
    """A loopback port nothing listens on (once closed, connecting to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        reason = "redis-server is not on PATH (Debian: apt-get install redis-server; .ci/run installs it)"
        if os.environ.get("PAYTOKEN_REQUIRE_REDIS") == "1":
            pytest.fail(f"{reason}, and PAYTOKEN_REQUIRE_REDIS=1 says these tests must run")
        pytest.skip(reason)
    return found


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = directory / "redis-cert.pem", directory / "redis-key.pem"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_file, key_file


def start_redis(directory: Path, password: str | None = None, *, tls: bool = False) -> Iterator[RedisServer]:
    binary = redis_server_binary()
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)]
    certificate = None
    if tls:
        certificate, key = self_signed_certificate(directory)
        command += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(certificate)]
        command += ["--tls-key-file", str(key), "--tls-ca-cert-file", str(certificate), "--tls-auth-clients", "no"]
    else:
        command += ["--port", str(port)]
    if password is not None:
        command += ["--requirepass", password]
    log = directory / "redis.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    server = RedisServer(process, port, password, log, certificate)
    try:
        client = server.client()
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"redis-server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not answer PING within 10 s:\n{log.read_text()}")
                time.sleep(0.02)
        client.close()
        yield server
    finally:
        server.kill()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server on a free loopback port, with no persistence, killed afterwards."""
    yield from start_redis(tmp_path / "redis")


@pytest.fixture
def redis_with_password(tmp_path: Path) -> Iterator[RedisServer]:
    """The same, requiring a password."""
    yield from start_redis(tmp_path / "redis-password", PASSWORD)


@pytest.fixture
def redis_over_tls(tmp_path: Path) -> Iterator[RedisServer]:
    """The same, speaking only TLS (rediss://), with a self-signed certificate."""
    yield from start_redis(tmp_path / "redis-tls", tls=True)


@pytest.fixture
def shared(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> RedisServer:
    """PAYTOKEN_CACHE_URL points at the private redis-server (for in-process and child runs alike)."""
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", redis_server.url)
    return redis_server


# --- helpers -------------------------------------------------------------------------------------


def profile_table(profiles: Path, provider: str = "nicepay", name: str = "demo") -> dict[str, object]:
    return tomllib.loads(profiles.read_text())[provider][name]  # type: ignore[no-any-return]


def add_profile(profiles: Path, provider: str, name: str, **changes: object) -> None:
    """Append [provider.name]: a copy of the provider's demo table with changes applied."""
    values = {**profile_table(profiles, provider), **changes}
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    profiles.write_text(profiles.read_text() + f'\n["{provider}".{name}]\n{lines}')


def key_of(profiles: Path, provider: str = "nicepay") -> str:
    return cache_key(
        *cache_identity(PROVIDERS[provider], load_profile(PROVIDERS[provider], "demo", profiles_file=profiles))
    )


def stored(server: RedisServer, key: str) -> CacheEntry:
    raw = server.client().get(TOKEN_PREFIX + key)
    assert raw is not None, f"no {TOKEN_PREFIX}{key} in Redis"
    return CacheEntry.from_json(raw.decode())


def token_keys(server: RedisServer) -> list[str]:
    return sorted(name.decode() for name in server.client().scan_iter(match=TOKEN_PREFIX + "*"))


def file_entries(directory: Path | None = None) -> list[Path]:
    directory = directory or Path(os.environ["PAYTOKEN_CACHE_DIR"])
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def get_json(*args: str, provider: str = "nicepay", profile: str = "demo") -> dict[str, object]:
    run = paytoken("get", provider, "-p", profile, "-o", "json", *args)
    assert run.exit_code == 0, run.output
    assert_clean(run.output)
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def finish(processes: list[subprocess.Popen[str]], timeout: float = 60) -> list[tuple[int, str, str]]:
    outputs = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=timeout)
            outputs.append((process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return outputs


GET_TOKEN = [sys.executable, "-m", "tidak_cli", "get", "nicepay", "-p", "demo", "-o", "token"]

# Holds the shared lock of one entry the way `get` does (RedisCache.lock), then sleeps: killed, it is a crashed owner.
HOLDER = """\
import sys, time
from tidak_cli.cache_redis import RedisCache

url, key, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
with RedisCache(url).lock(key, timeout=5):
    print("held", flush=True)
    time.sleep(seconds)
print("released", flush=True)
"""


def hold_lock(tmp_path: Path, server: RedisServer, key: str, seconds: float) -> subprocess.Popen[str]:
    script = tmp_path / "hold_lock.py"
    script.write_text(HOLDER)
    holder = subprocess.Popen(
        [sys.executable, str(script), server.url, key, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line == "held\n", f"holder said {line!r} (exit {holder.poll()})"
    return holder


# --- single flight across machines ---------------------------------------------------------------


@pytest.mark.realtime
def test_32_processes_on_two_machines_make_one_gateway_request(
    profiles: Path, sandbox: Sandbox, shared: RedisServer, tmp_path: Path
) -> None:
    machines = [tmp_path / "machine-a" / "cache", tmp_path / "machine-b" / "cache"]
    set_fault(sandbox, "nicepay", delay=2.0, times=1)
    processes = [
        subprocess.Popen(
            GET_TOKEN,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PAYTOKEN_CACHE_DIR": str(machines[number % 2])},
        )
        for number in range(32)
    ]
    outputs = finish(processes)
    tokens = {stdout for _, stdout, _ in outputs}
    gateway_requests = requests_to(sandbox, "nicepay")
    # One SET takes the lock and one stores the token; every other SET is a process trying the lock
    # while another held it: the runs did overlap.
    sets = shared.client().info("commandstats").get("cmdstat_set", {}).get("calls", 0)
    polls = sets - 2
    print(
        f"32 processes: exit codes {sorted({code for code, _, _ in outputs})}, "
        f"{len(tokens)} distinct token(s), {gateway_requests} gateway request(s), {polls} lock polls"
    )
    for returncode, stdout, stderr in outputs:
        assert returncode == 0, stderr
        assert_clean(stdout + stderr)
        assert stderr == ""
    assert len(tokens) == 1, f"{len(tokens)} different tokens"
    assert gateway_requests == 1
    assert polls > 0, "no process ever waited for the lock: the test did not exercise single flight"
    key = key_of(profiles)
    assert stored(shared, key).access_token + "\n" == tokens.pop()
    # Kept until min-ttl (60 s) before the token's expiry.
    assert NICEPAY_LIFETIME - 60 - 15 <= shared.client().ttl(TOKEN_PREFIX + key) <= NICEPAY_LIFETIME - 60
    assert not shared.client().exists(LOCK_PREFIX + key), "the lock outlived its owner"
    # The entry lives in Redis only; neither machine's file cache was written.
    assert file_entries(machines[0]) == file_entries(machines[1]) == []


@pytest.mark.realtime
@pytest.mark.parametrize("backend", ["file", "redis"])
def test_a_stale_entry_does_not_let_waiters_skip_the_lock(
    backend: str, profiles: Path, sandbox: Sandbox, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter may stop waiting when a *servable* entry appears, not merely when some entry exists.

    An entry stored with --min-ttl 0 is kept until the token expires; once it has less than the default
    60 s left, every default `get` misses, and they must still queue behind one lock and share the one new
    token (the file backend, run as the control, does) rather than each asking the gateway.
    """
    if backend == "redis":
        monkeypatch.setenv("PAYTOKEN_CACHE_URL", redis_server.url)
    get_json("--min-ttl", "0")
    key = key_of(profiles)
    expiring = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    if backend == "redis":
        document = json.loads(redis_server.client().get(TOKEN_PREFIX + key) or b"")
        document["expires_at"] = expiring
        redis_server.client().set(TOKEN_PREFIX + key, json.dumps(document), ex=30)
    else:
        (path,) = file_entries()
        document = json.loads(path.read_text())
        document["expires_at"] = expiring
        path.write_text(json.dumps(document))
    set_fault(sandbox, "nicepay", delay=0.5, times=1)
    outputs = finish(
        [subprocess.Popen(GET_TOKEN, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    )
    for returncode, stdout, stderr in outputs:
        assert returncode == 0, stderr
        assert_clean(stdout + stderr)
    tokens = {stdout for _, stdout, _ in outputs}
    refreshes = requests_to(sandbox, "nicepay") - 1
    assert (refreshes, len(tokens)) == (1, 1), f"8 processes: {refreshes} gateway requests, {len(tokens)} tokens"


# --- TTL -----------------------------------------------------------------------------------------


def test_the_entry_ttl_ends_min_ttl_before_expiry(profiles: Path, sandbox: Sandbox, shared: RedisServer) -> None:
    first = get_json("--min-ttl", "300")
    assert first["cached"] is False
    ttl = shared.client().ttl(TOKEN_PREFIX + key_of(profiles))
    assert NICEPAY_LIFETIME - 300 - 15 <= ttl <= NICEPAY_LIFETIME - 300
    # Served from Redis, not from the file cache (which stays empty).
    again = get_json("--min-ttl", "300")
    assert again["cached"] is True and again["access_token"] == first["access_token"]
    assert requests_to(sandbox, "nicepay") == 1
    assert file_entries() == []


# --- choosing the backend ------------------------------------------------------------------------


def test_cache_url_in_the_profile_selects_redis(
    profiles: Path, sandbox: Sandbox, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "PAYTOKEN_CACHE_URL" not in os.environ
    add_profile(profiles, "nicepay", "fleet", cache_url=redis_server.url)
    token = get_json(profile="fleet")["access_token"]
    assert stored(redis_server, key_of(profiles)).access_token == token
    assert file_entries() == []
    assert get_json(profile="fleet")["cached"] is True
    # The profile's cache_url comes before $PAYTOKEN_CACHE_URL (here a port nothing listens on).
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", f"redis://127.0.0.1:{free_port()}/0")
    run = paytoken("get", "nicepay", "-p", "fleet", "-o", "json")
    assert run.exit_code == 0 and run.stderr == "", run.output
    assert json.loads(run.stdout)["cached"] is True
    assert requests_to(sandbox, "nicepay") == 1


def test_a_password_url_works_and_the_password_is_never_shown(
    profiles: Path, sandbox: Sandbox, redis_with_password: RedisServer
) -> None:
    url = redis_with_password.url
    add_profile(profiles, "nicepay", "fleet", cache_url=url)
    runs = [
        paytoken("get", "nicepay", "-p", "fleet", "-o", "json", "-v"),
        paytoken("get", "nicepay", "-p", "fleet", "-o", "json", "-v"),
        paytoken("cache", "list", "--cache-url", url),
        paytoken("profiles", "show", "nicepay.fleet"),
    ]
    for run in runs[:3]:
        assert run.exit_code == 0, run.output
    for run in runs:
        assert_clean(run.output, [PASSWORD])
        assert [line for line in warnings(run.stderr) if "served from the token cache" not in line] == []
    first, second = (json.loads(run.stdout) for run in runs[:2])
    assert (first["cached"], second["cached"]) == (False, True)
    assert stored(redis_with_password, key_of(profiles)).access_token == first["access_token"]
    listing = runs[2].output
    assert f"redis://••••@127.0.0.1:{redis_with_password.port}/0" in listing
    assert "fleet" in listing and first["access_token"] not in listing
    cleared = paytoken("cache", "clear", "--cache-url", url)
    assert cleared.exit_code == 0, cleared.output
    assert "removed 1 cached token" in cleared.output
    assert_clean(cleared.output, [PASSWORD])
    assert token_keys(redis_with_password) == []
    assert requests_to(sandbox, "nicepay") == 1


def test_a_wrong_password_falls_back_with_one_warning_and_no_password(
    profiles: Path, sandbox: Sandbox, redis_with_password: RedisServer
) -> None:
    wrong = "Wrong-Pa55word-77aa01"
    add_profile(profiles, "nicepay", "fleet", cache_url=f"redis://:{wrong}@127.0.0.1:{redis_with_password.port}/0")
    run = paytoken_process("get", "nicepay", "-p", "fleet", "-o", "token")
    assert run.returncode == 0, run.stderr
    assert_clean(run.stdout + run.stderr, [wrong, PASSWORD])
    assert len(run.stdout.strip()) >= 32
    assert len(warnings(run.stderr)) == 1 and "file cache" in run.stderr
    assert len(file_entries()) == 1


# --- cache list and cache clear ------------------------------------------------------------------


def populate_two_providers(sandbox: Sandbox) -> list[str]:
    tokens = [get_json()["access_token"], get_json(provider="doku")["access_token"]]
    assert requests_to(sandbox, "nicepay") == requests_to(sandbox, "doku") == 1
    return [str(token) for token in tokens]


def test_cache_list_and_clear_with_the_environment_variable(
    profiles: Path, sandbox: Sandbox, shared: RedisServer
) -> None:
    tokens = populate_two_providers(sandbox)
    assert len(token_keys(shared)) == 2 and file_entries() == []
    listing = paytoken("cache", "list")
    assert listing.exit_code == 0, listing.output
    assert_clean(listing.output, tokens)
    assert "nicepay" in listing.output and "doku" in listing.output
    assert f"redis://127.0.0.1:{shared.port}/0" in listing.output
    one = paytoken("cache", "clear", "nicepay", "--profile", "demo")
    assert one.exit_code == 0, one.output
    assert "removed 1 cached token from" in one.output
    assert_clean(one.output, tokens)
    assert token_keys(shared) == [TOKEN_PREFIX + key_of(profiles, "doku")]
    rest = paytoken("cache", "clear")
    assert rest.exit_code == 0 and "removed 1 cached token" in rest.output
    assert token_keys(shared) == []
    empty = paytoken("cache", "list")
    assert empty.exit_code == 0 and "no cached tokens" in empty.output


def test_cache_list_and_clear_with_the_cache_url_option(
    profiles: Path, sandbox: Sandbox, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", redis_server.url)
    tokens = populate_two_providers(sandbox)
    monkeypatch.delenv("PAYTOKEN_CACHE_URL")
    # Without a URL, the (empty) file cache is what is listed.
    assert "no cached tokens" in paytoken("cache", "list").output
    listing = paytoken("cache", "list", "--cache-url", redis_server.url)
    assert listing.exit_code == 0, listing.output
    assert_clean(listing.output, tokens)
    assert "nicepay" in listing.output and "doku" in listing.output
    cleared = paytoken("cache", "clear", "--cache-url", redis_server.url)
    assert cleared.exit_code == 0 and "removed 2 cached tokens" in cleared.output
    assert_clean(cleared.output, tokens)
    assert token_keys(redis_server) == []


def test_cache_list_and_clear_cope_with_a_damaged_redis_entry(
    profiles: Path, sandbox: Sandbox, shared: RedisServer
) -> None:
    get_json()
    key = key_of(profiles)
    shared.client().set(TOKEN_PREFIX + key, b"\xff not json {{{")
    listing = paytoken("cache", "list")
    assert listing.exit_code == 0, listing.output
    assert_clean(listing.output)
    assert "damaged" in listing.output and key in listing.output
    cleared = paytoken("cache", "clear")
    assert cleared.exit_code == 0 and "removed 1 cached token" in cleared.output
    assert token_keys(shared) == []


# --- the lock ------------------------------------------------------------------------------------


@pytest.mark.realtime
def test_a_crashed_lock_owner_holds_others_up_only_until_the_lock_expires(
    profiles: Path, sandbox: Sandbox, shared: RedisServer, tmp_path: Path
) -> None:
    key = key_of(profiles)
    holder = hold_lock(tmp_path, shared, key, 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    killed_at = time.monotonic()
    left = shared.client().pttl(LOCK_PREFIX + key) / 1000
    assert 0 < left <= 5, f"the dead owner's lock has {left} s left"
    run = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token", timeout=30)
    elapsed = time.monotonic() - killed_at
    assert run.returncode == 0, run.stderr
    assert_clean(run.stdout + run.stderr)
    assert run.stderr == ""
    assert len(run.stdout.strip()) >= 32
    assert elapsed < 8, f"took {elapsed:.1f} s after the owner died"
    assert elapsed >= left - 0.3, "the get did not wait for the dead owner's lock"
    assert requests_to(sandbox, "nicepay") == 1


@pytest.mark.realtime
def test_a_waiter_behind_a_live_renewed_lock_does_not_fetch_until_it_is_released(
    profiles: Path, sandbox: Sandbox, shared: RedisServer, tmp_path: Path
) -> None:
    key = key_of(profiles)
    # Held 7 s, longer than the lock's 5 s TTL: only the owner's renewal keeps it.
    holder = hold_lock(tmp_path, shared, key, 7)
    held_at = time.monotonic()
    waiter = subprocess.Popen(GET_TOKEN, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6 - (time.monotonic() - held_at))
        assert waiter.poll() is None, "the waiter did not wait for the live lock"
        assert requests_to(sandbox, "nicepay") == 0
        assert shared.client().exists(LOCK_PREFIX + key), "the live lock expired: it was not renewed"
        stdout, stderr = waiter.communicate(timeout=30)
        released_after = time.monotonic() - held_at
        assert holder.stdout is not None
        assert holder.stdout.read() == "released\n"
    finally:
        for process in (waiter, holder):
            if process.poll() is None:
                process.kill()
            process.wait()
    assert waiter.returncode == 0, stderr
    assert_clean(stdout + stderr)
    assert released_after >= 7 - 0.2
    assert requests_to(sandbox, "nicepay") == 1
    assert stored(shared, key).access_token + "\n" == stdout
    assert not shared.client().exists(LOCK_PREFIX + key)


# --- Redis down ----------------------------------------------------------------------------------


def assert_fallback_warning(run: subprocess.CompletedProcess[str], server_port: int) -> None:
    assert run.returncode == 0, run.stderr
    assert_clean(run.stdout + run.stderr)
    said = warnings(run.stderr)
    assert len(said) == 1, run.stderr
    assert "shared token cache" in said[0] and "file cache" in said[0] and str(server_port) in said[0]
    assert run.stderr.strip() == said[0]


def test_redis_killed_mid_run_falls_back_to_the_file_cache_with_one_warning(
    profiles: Path, sandbox: Sandbox, shared: RedisServer
) -> None:
    populated = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token")
    assert populated.returncode == 0 and populated.stderr == "", populated.stderr
    assert stored(shared, key_of(profiles)).access_token + "\n" == populated.stdout
    shared.kill()
    first = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token", timeout=30)
    assert_fallback_warning(first, shared.port)
    assert len(first.stdout.strip()) >= 32
    assert requests_to(sandbox, "nicepay") == 2
    assert len(file_entries()) == 1
    second = paytoken_process("get", "nicepay", "-p", "demo", "-o", "json", timeout=30)
    assert_fallback_warning(second, shared.port)
    served = json.loads(second.stdout)
    assert served["cached"] is True and served["access_token"] + "\n" == first.stdout
    assert requests_to(sandbox, "nicepay") == 2


@pytest.mark.realtime
def test_redis_killed_while_a_get_waits_for_the_gateway(profiles: Path, sandbox: Sandbox, shared: RedisServer) -> None:
    key = key_of(profiles)
    set_fault(sandbox, "nicepay", delay=1.5, times=1)
    getter = subprocess.Popen(GET_TOKEN, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not shared.client().exists(LOCK_PREFIX + key):
            assert time.monotonic() < deadline and getter.poll() is None, "the get never took the shared lock"
            time.sleep(0.02)
        shared.kill()
        stdout, stderr = getter.communicate(timeout=30)
    finally:
        if getter.poll() is None:
            getter.kill()
        getter.wait()
    assert_fallback_warning(subprocess.CompletedProcess(GET_TOKEN, getter.returncode, stdout, stderr), shared.port)
    assert requests_to(sandbox, "nicepay") == 1
    # The token the gateway gave is kept in the file cache instead.
    assert [CacheEntry.from_json(path.read_text()).access_token + "\n" for path in file_entries()] == [stdout]


def test_redis_unreachable_from_the_start_warns_once_and_still_prints(
    profiles: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = free_port()
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", f"redis://127.0.0.1:{closed}/0")
    started = time.monotonic()
    run = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token", timeout=30)
    assert time.monotonic() - started < 10
    assert_fallback_warning(run, closed)
    assert len(run.stdout.strip()) >= 32
    assert requests_to(sandbox, "nicepay") == 1
    assert len(file_entries()) == 1


@pytest.mark.parametrize("command", [["cache", "list"], ["cache", "clear"]], ids=" ".join)
def test_cache_commands_asked_about_a_redis_that_is_down_fail_and_leave_the_files(
    command: list[str], profiles: Path, sandbox: Sandbox
) -> None:
    assert paytoken("get", "nicepay", "-p", "demo").exit_code == 0  # a token in the file cache
    files = sorted(Path(os.environ["PAYTOKEN_CACHE_DIR"]).glob("*.json"))
    assert len(files) == 1
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    run = paytoken(*command, "--cache-url", url)
    assert run.exit_code == 5, run.output
    assert run.stderr.startswith("error: the shared token cache at redis://••••@127.0.0.1:")
    assert "the file cache was not touched" in run.stderr
    assert_clean(run.output, [PASSWORD])
    assert sorted(Path(os.environ["PAYTOKEN_CACHE_DIR"]).glob("*.json")) == files


def test_a_rediss_url_shares_tokens_over_tls(
    profiles: Path, sandbox: Sandbox, redis_over_tls: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", redis_over_tls.url)
    first = get_json()
    second = paytoken("get", "nicepay", "-p", "demo", "-o", "json")
    assert second.exit_code == 0 and second.stderr == "", second.output
    assert json.loads(second.stdout)["cached"] is True
    assert stored(redis_over_tls, key_of(profiles)).access_token == first["access_token"]
    assert requests_to(sandbox, "nicepay") == 1
    listed = paytoken("cache", "list")
    assert listed.exit_code == 0 and "rediss://127.0.0.1" in listed.output


def test_a_rediss_server_paytoken_cannot_verify_is_a_fallback_with_the_reason(
    profiles: Path, sandbox: Sandbox, redis_over_tls: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", redis_over_tls.url.split("?")[0])  # no ssl_ca_certs: not trusted
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    assert run.exit_code == 0, run.output
    said = warnings(run.stderr)
    assert len(said) == 1 and "certificate verify failed" in said[0] and "file cache" in said[0], run.stderr
    assert paytoken("get", "nicepay", "-p", "demo", "-o", "token").stdout == run.stdout
    assert token_keys(redis_over_tls) == []
    assert requests_to(sandbox, "nicepay") == 1


def test_without_the_redis_package_a_cache_url_falls_back_instead_of_failing(
    profiles: Path, sandbox: Sandbox, shared: RedisServer
) -> None:
    """The redis package is an optional extra: configured but not installed, the cache is just unavailable."""
    without_redis = "import sys; sys.modules['redis'] = None; sys.argv[0] = 'paytoken'; "
    without_redis += "from tidak_cli.cli.app import main; main()"
    run = subprocess.run(
        [sys.executable, "-c", without_redis, "get", "nicepay", "-p", "demo", "-o", "token"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert_clean(run.stdout + run.stderr)
    assert len(run.stdout.strip()) >= 32
    assert len(warnings(run.stderr)) == 1 and "redis" in run.stderr


# --- damage --------------------------------------------------------------------------------------


def _other_client(valid: bytes) -> bytes:
    document = json.loads(valid)
    document["client_id"] = "SOMEONE-ELSE"
    return json.dumps(document).encode()


DAMAGE = {
    "text garbage": lambda _valid: b"this is not json {{{",
    "binary garbage": lambda _valid: bytes(range(256)),
    "another client id": _other_client,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_redis_entry_warns_and_is_replaced(
    damage: str, profiles: Path, sandbox: Sandbox, shared: RedisServer
) -> None:
    first = get_json()
    key = key_of(profiles)
    client = shared.client()
    client.set(TOKEN_PREFIX + key, DAMAGE[damage](client.get(TOKEN_PREFIX + key) or b""))
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "json")
    assert run.exit_code == 0, run.output
    assert_clean(run.output)
    assert len(warnings(run.stderr)) == 1 and TOKEN_PREFIX + key in run.stderr
    renewed = json.loads(run.stdout)
    assert renewed["cached"] is False and renewed["access_token"] != first["access_token"]
    assert requests_to(sandbox, "nicepay") == 2
    assert stored(shared, key).access_token == renewed["access_token"]
    assert 0 < client.ttl(TOKEN_PREFIX + key) <= NICEPAY_LIFETIME - 60
    again = paytoken("get", "nicepay", "-p", "demo", "-o", "json")
    assert json.loads(again.stdout)["cached"] is True and again.stderr == ""


# --- the file backend is untouched ---------------------------------------------------------------


def test_without_a_cache_url_redis_is_neither_imported_nor_contacted(
    profiles: Path, sandbox: Sandbox, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis_server.client()
    connections = int(client.info("stats")["total_connections_received"])
    for _ in ("miss", "hit"):
        run, modules = imported_modules("get", "nicepay", "-p", "demo", "-o", "token")
        assert run.returncode == 0, run.stderr
        assert "redis" not in modules
    assert len(file_entries()) == 1
    assert int(client.info("stats")["total_connections_received"]) == connections
    assert token_keys(redis_server) == []
    # The control: the probe does see redis when a cache URL asks for it.
    monkeypatch.setenv("PAYTOKEN_CACHE_URL", redis_server.url)
    run, modules = imported_modules("get", "nicepay", "-p", "demo", "-o", "token")
    assert run.returncode == 0, run.stderr
    assert "redis" in modules
    assert requests_to(sandbox, "nicepay") == 2
