"""The token cache (SPEC sections 3 and 5): reuse, expiry margin, single flight, damage, modes, export, fast path.

Everything runs through the CLI against the real sandbox, in-process or as real `python -m tidak_cli`
processes; only the unknown-expiry case stubs the transport, because no sandbox answer lacks an expiry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import pytest
from dotenv import dotenv_values
from filelock import FileLock
from support import assert_clean, imported_modules, key_secrets, paytoken, paytoken_process, requests_to, set_fault

from tidak_cli.cache import CACHE_VERSION, CacheEntry, TokenCache, cache_key
from tidak_cli.demo import Workspace
from tidak_cli.gateways import PROVIDERS
from tidak_cli.gateways.base import CliOption, SignedRequest, Token
from tidak_cli.profiles import Profile, Setting, load_profile, secret_keys
from tidak_cli.sandbox import Sandbox
from tidak_cli.tokens import cache_identity, get_token
from tidak_cli.transport import Response

SLOW_IMPORTS = ("requests", "urllib3", "cryptography", "rich")


# --- helpers -------------------------------------------------------------------------------------


def cache_dir() -> Path:
    return Path(os.environ["PAYTOKEN_CACHE_DIR"])


def profile_table(profiles: Path, provider: str = "nicepay", name: str = "demo") -> dict[str, object]:
    return tomllib.loads(profiles.read_text())[provider][name]  # type: ignore[no-any-return]


def add_profile(profiles: Path, provider: str, name: str, **changes: object) -> None:
    """Append [provider.name]: a copy of the provider's demo table with changes applied."""
    values = {**profile_table(profiles, provider), **changes}
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    profiles.write_text(profiles.read_text() + f'\n["{provider}".{name}]\n{lines}')


def entry_path(profiles: Path, provider: str = "nicepay", base_url: str | None = None) -> Path:
    identity = cache_identity(PROVIDERS[provider], load_profile(PROVIDERS[provider], "demo", profiles_file=profiles))
    return cache_dir() / f"{cache_key(identity[0], base_url or identity[1], *identity[2:])}.json"


def entry_files() -> list[Path]:
    return sorted(cache_dir().glob("*.json")) if cache_dir().is_dir() else []


def get_json(*args: str, provider: str = "nicepay", profile: str = "demo") -> dict[str, object]:
    run = paytoken("get", provider, "-p", profile, "-o", "json", *args)
    assert run.exit_code == 0, run.output
    assert_clean(run.output)
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def rewrite_entry(path: Path, **changes: object) -> None:
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


def jakarta_timestamp() -> str:
    return (datetime.now(UTC) + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- 1. reuse ------------------------------------------------------------------------------------


def test_second_get_is_served_from_the_cache(profiles: Path, sandbox: Sandbox) -> None:
    first = get_json()
    second = get_json()
    assert first["cached"] is False and second["cached"] is True
    assert second["access_token"] == first["access_token"]
    assert second["expires_at"] == first["expires_at"] and second["response"] == first["response"]
    assert 0 < second["expires_in"] <= 900  # type: ignore[operator]
    assert requests_to(sandbox, "nicepay") == 1
    assert entry_files() == [entry_path(profiles)]


def test_profiles_with_the_same_identity_share_one_entry(profiles: Path, sandbox: Sandbox) -> None:
    add_profile(profiles, "nicepay", "other")
    first = get_json(profile="demo")
    second = get_json(profile="other")
    assert second["cached"] is True and second["access_token"] == first["access_token"]
    assert second["profile"] == "other"
    assert requests_to(sandbox, "nicepay") == 1
    assert len(entry_files()) == 1


def test_a_wrong_key_for_a_cached_client_gets_the_gateways_rejection_not_its_token(
    profiles: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    # Issue 13: the cache served [nicepay.demo]'s token to a profile with the same client id and the wrong key,
    # with exit 0, so someone debugging that key saw success. The credential is part of a token's identity.
    from tidak_cli.keys import generate, write_key_pair

    other = write_key_pair(generate(2048), tmp_path / "other-key")
    add_profile(profiles, "nicepay", "wrongkey", private_key_file=str(other.private_path))
    add_profile(profiles, "doku", "wrongsecret", secret_key="not-the-secret-the-gateway-holds")
    for provider, wrong in (("nicepay", "wrongkey"), ("doku", "wrongsecret")):
        token = get_json(provider=provider)["access_token"]
        assert isinstance(token, str)
        run = paytoken("get", provider, "-p", wrong, "-o", "json")
        assert run.exit_code == 4, run.output
        assert run.stdout == "" and token not in run.output and "cached for the same client id" not in run.output
        assert "rejected" in run.stderr and "Traceback" not in run.output
        assert_clean(run.output)
        # The right credential is still served from its entry.
        assert get_json(provider=provider)["cached"] is True
    assert requests_to(sandbox, "nicepay") == 2 and requests_to(sandbox, "doku") == 2
    assert len(entry_files()) == 2


def test_cache_entries_of_the_previous_format_are_never_served(profiles: Path, sandbox: Sandbox) -> None:
    first = get_json()
    path = entry_path(profiles)
    old = json.loads(path.read_text())
    old["version"] = 1
    del old["credential"]
    old_key = hashlib.sha256("\0".join(("nicepay", old["base_url"], old["client_id"])).encode()).hexdigest()[:40]
    (cache_dir() / f"{old_key}.json").write_text(json.dumps(old))
    path.unlink()
    second = get_json()
    assert second["cached"] is False and second["access_token"] != first["access_token"]
    listing = paytoken("cache", "list")
    assert listing.exit_code == 0 and "(damaged, or older)" in listing.stdout
    cleared = paytoken("cache", "clear")
    assert cleared.exit_code == 0 and "removed 2 cached tokens" in cleared.stderr and entry_files() == []


def test_trailing_slash_on_the_base_url_is_the_same_entry(profiles: Path, sandbox: Sandbox) -> None:
    first = get_json()
    second = get_json("--base-url", sandbox.url + "/")
    assert second["cached"] is True and second["access_token"] == first["access_token"]
    assert requests_to(sandbox, "nicepay") == 1


def test_another_base_url_is_another_entry(profiles: Path, sandbox: Sandbox) -> None:
    by_name = sandbox.url.replace("127.0.0.1", "localhost")
    assert by_name != sandbox.url
    by_address = get_json()
    first_by_name = get_json("--base-url", by_name)
    assert first_by_name["cached"] is False
    assert first_by_name["access_token"] != by_address["access_token"]
    assert requests_to(sandbox, "nicepay") == 2
    assert entry_files() == sorted([entry_path(profiles), entry_path(profiles, base_url=by_name)])
    # Each entry now serves its own base URL.
    assert get_json()["access_token"] == by_address["access_token"]
    assert get_json("--base-url", by_name)["access_token"] == first_by_name["access_token"]
    assert requests_to(sandbox, "nicepay") == 2


# --- 2. expiry margin ----------------------------------------------------------------------------


def test_min_ttl_longer_than_the_lifetime_always_misses(profiles: Path, sandbox: Sandbox) -> None:
    first = get_json("--min-ttl", "1000")
    second = get_json("--min-ttl", "1000")
    assert first["cached"] is False and second["cached"] is False
    assert first["access_token"] != second["access_token"]
    assert requests_to(sandbox, "nicepay") == 2
    default = get_json()
    assert default["cached"] is True and default["access_token"] == second["access_token"]
    assert requests_to(sandbox, "nicepay") == 2


@pytest.mark.parametrize("min_ttl", ["900", "1000"])
def test_a_min_ttl_at_or_above_the_lifetime_warns_once_naming_both(
    min_ttl: str, profiles: Path, sandbox: Sandbox
) -> None:
    """The sandbox issues 900 s tokens: --min-ttl 900 never serves one from the cache either, so it warns too."""
    for _ in range(2):
        run = paytoken("get", "nicepay", "-p", "demo", "--min-ttl", min_ttl, "-o", "token")
        assert run.exit_code == 0, run.output
        assert run.stdout.strip() and "Traceback" not in run.output
        warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
        assert warnings == [
            f"warning: nicepay issued a token for 900 s and --min-ttl is {min_ttl}: it will never be served from "
            "the cache, so every call asks the gateway; use a --min-ttl below 900"
        ], run.stderr
    assert requests_to(sandbox, "nicepay") == 2
    below = paytoken("get", "nicepay", "-p", "demo", "--min-ttl", "899", "-o", "token")
    assert below.exit_code == 0 and "warning" not in below.stderr, below.stderr


def test_a_token_with_less_than_min_ttl_left_is_not_served(profiles: Path, sandbox: Sandbox) -> None:
    first = get_json()
    path = entry_path(profiles)
    rewrite_entry(path, expires_at=(datetime.now(UTC) + timedelta(seconds=30)).isoformat())
    renewed = get_json()
    assert renewed["cached"] is False and renewed["access_token"] != first["access_token"]
    assert requests_to(sandbox, "nicepay") == 2
    assert CacheEntry.from_json(path.read_text()).access_token == renewed["access_token"]

    rewrite_entry(path, expires_at=(datetime.now(UTC) + timedelta(seconds=30)).isoformat())
    lenient = get_json("--min-ttl", "10")
    assert lenient["cached"] is True and lenient["access_token"] == renewed["access_token"]
    assert 0 < lenient["expires_in"] <= 30  # type: ignore[operator]
    assert requests_to(sandbox, "nicepay") == 2


def test_an_expired_token_is_never_served_even_with_min_ttl_zero(profiles: Path, sandbox: Sandbox) -> None:
    first = get_json()
    rewrite_entry(entry_path(profiles), expires_at=(datetime.now(UTC) - timedelta(seconds=5)).isoformat())
    again = get_json("--min-ttl", "0")
    assert again["cached"] is False and again["access_token"] != first["access_token"]
    assert requests_to(sandbox, "nicepay") == 2


# --- 3. --refresh, --no-cache, --timestamp -------------------------------------------------------


def test_refresh_gets_a_new_token_and_stores_it(profiles: Path, sandbox: Sandbox) -> None:
    first = get_json()
    refreshed = get_json("--refresh")
    assert refreshed["cached"] is False and refreshed["access_token"] != first["access_token"]
    after = get_json()
    assert after["cached"] is True and after["access_token"] == refreshed["access_token"]
    assert requests_to(sandbox, "nicepay") == 2


def test_no_cache_writes_nothing(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "json", "--no-cache")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["cached"] is False
    assert not cache_dir().exists()
    assert requests_to(sandbox, "nicepay") == 1


def test_no_cache_does_not_read_or_touch_a_cached_token(profiles: Path, sandbox: Sandbox) -> None:
    cached = get_json()
    path = entry_path(profiles)
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(p.name for p in cache_dir().iterdir()))
    uncached = get_json("--no-cache")
    assert uncached["cached"] is False and uncached["access_token"] != cached["access_token"]
    assert requests_to(sandbox, "nicepay") == 2
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(p.name for p in cache_dir().iterdir())) == before
    assert get_json()["access_token"] == cached["access_token"]


def test_timestamp_bypasses_the_cache_read(profiles: Path, sandbox: Sandbox) -> None:
    cached = get_json()
    stamped = get_json("--timestamp", jakarta_timestamp())
    assert stamped["cached"] is False and stamped["access_token"] != cached["access_token"]
    assert requests_to(sandbox, "nicepay") == 2


# --- 4. a token of unknown lifetime (library level: no sandbox answer lacks an expiry) ------------


class FakeProvider:
    """A provider whose parse says what the stub gateway's answer is worth: a token with or without expiry."""

    title = "Fake gateway"
    algorithm = "none"
    identity_key = "client_id"
    token_path = "/token"
    base_urls: Mapping[str, str] = {}
    settings: tuple[Setting, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    options: tuple[CliOption, ...] = ()
    recipe: tuple[str, ...] = ()

    def __init__(self, expires_in: int | None) -> None:
        self.name = "fake"
        self.expires_in = expires_in
        self.issued = 0

    def new_nonce(self) -> str | None:
        return None

    def build(
        self, profile: Profile, when: datetime | str, nonce: str | None, body: bytes | None = None
    ) -> SignedRequest:
        return SignedRequest("fake", "POST", profile.base_url + self.token_path, {}, b"{}", "", "", "none")

    def parse(self, status: int, body: bytes) -> Token:
        self.issued += 1
        token = f"fake-token-{self.issued}"
        return Token(token, "Bearer", self.expires_in, None, {"accessToken": token})


class StubTransport:
    """Answers every request with 200 {} and counts them."""

    sent = 0

    def __enter__(self) -> StubTransport:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def send(self, request: SignedRequest, *, timeout: float, verify: bool | str = True) -> Response:
        StubTransport.sent += 1
        return Response(200, "OK", {}, b"{}", 0.0)


@pytest.fixture
def stub_transport() -> Iterator[type[StubTransport]]:
    StubTransport.sent = 0
    yield StubTransport


def fake_profile() -> Profile:
    return Profile("fake", "demo", None, {"base_url": "http://gateway.invalid", "client_id": "FAKE-1", "timeout": 5})


@pytest.mark.parametrize(("expires_in", "cached_second_time"), [(None, False), (900, True)])
def test_a_token_of_unknown_lifetime_is_not_cached(
    tmp_path: Path, stub_transport: type[StubTransport], expires_in: int | None, cached_second_time: bool
) -> None:
    # The 900 s case is the control: the same stubs do go through the cache when the expiry is known.
    warnings: list[str] = []
    cache = TokenCache(tmp_path / "cache", warn=warnings.append)
    provider = FakeProvider(expires_in)
    results = [
        get_token(provider, fake_profile(), cache=cache, open_transport=stub_transport)  # type: ignore[arg-type]
        for _ in range(2)
    ]
    assert results[0].cached is False
    assert results[1].cached is cached_second_time
    stored = list((tmp_path / "cache").glob("*.json")) if (tmp_path / "cache").is_dir() else []
    if cached_second_time:
        assert len(stored) == 1 and results[1].token.access_token == "fake-token-1"
        assert stub_transport.sent == 1
    else:
        assert stored == []
        assert [result.token.access_token for result in results] == ["fake-token-1", "fake-token-2"]
        assert stub_transport.sent == 2
    assert warnings == []


# --- 5. modes, names, no secrets -----------------------------------------------------------------


def test_directory_and_files_are_private_whatever_the_umask(profiles: Path, sandbox: Sandbox) -> None:
    assert not cache_dir().exists()
    previous = os.umask(0)
    try:
        token = get_json()["access_token"]
    finally:
        os.umask(previous)
    assert cache_dir().is_dir() and mode(cache_dir()) == 0o700
    names = sorted(path.name for path in cache_dir().iterdir())
    key = entry_path(profiles).stem
    assert names == [f"{key}.json", f"{key}.lock"]
    for path in cache_dir().iterdir():
        assert mode(path) == 0o600, path.name
    assert not [name for name in names if name.endswith(".tmp") or name.startswith(".")]
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert "DEMO-NICEPAY" not in key
    assert CacheEntry.from_json(entry_path(profiles).read_text()).access_token == token


def test_no_secret_is_ever_written_into_the_cache(profiles: Path, sandbox: Sandbox, workspace: Workspace) -> None:
    document = tomllib.loads(profiles.read_text())
    secrets = list(key_secrets(workspace))
    for provider in PROVIDERS.values():
        table = document[provider.name]["demo"]
        secrets += [str(table[key]) for key in secret_keys(provider) if key in table]
        run = paytoken("get", provider.name, "-p", "demo", "-o", "token")
        assert run.exit_code == 0, run.output
    assert len(secrets) > 20
    assert len(entry_files()) == len(PROVIDERS)
    for path in cache_dir().iterdir():
        content = path.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in content, f"secret {secret[:6]}… in {path.name}"
        for identity in ("DEMO-", "client", "merchant"):
            assert identity.lower() not in path.name.lower()


# --- 6. atomic replace ---------------------------------------------------------------------------

WRITER = """
import sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tidak_cli.cache import CACHE_VERSION, CacheEntry, TokenCache

directory, key, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
cache = TokenCache(directory, warn=lambda text: print("warning:", text, file=sys.stderr))
now = datetime.now(UTC)
entries = [
    CacheEntry(
        "nicepay", "demo", "http://127.0.0.1:1", "CLIENT", "CREDENTIAL", token, "Bearer",
        now + timedelta(seconds=900), now,
    )
    for token in ("s" * 8, "L" * 300_000)
]
writes = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    cache.store(key, entries[writes % 2])
    writes += 1
print(writes)
"""


@pytest.mark.realtime
def test_readers_never_see_a_partly_written_entry(tmp_path: Path) -> None:
    directory = tmp_path / "atomic"
    key = cache_key("nicepay", "http://127.0.0.1:1", "CLIENT", "CREDENTIAL")
    path = directory / f"{key}.json"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory), key, "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    warnings: list[str] = []
    reader = TokenCache(directory, warn=warnings.append)
    lengths: dict[int, int] = {}
    reads = 0
    try:
        while writer.poll() is None:
            if not path.exists():
                time.sleep(0.001)
                continue
            document = json.loads(path.read_bytes())  # a partial file raises here
            assert document["access_token"] in ("s" * 8, "L" * 300_000)
            entry = reader.read(key, expect=("nicepay", "http://127.0.0.1:1", "CLIENT", "CREDENTIAL"))
            assert entry is not None
            lengths[len(entry.access_token)] = lengths.get(len(entry.access_token), 0) + 1
            reads += 1
    finally:
        if writer.poll() is None:
            writer.kill()
        stdout, stderr = writer.communicate(timeout=10)
    assert writer.returncode == 0, stderr
    assert stderr == ""
    assert warnings == []
    assert int(stdout) > 20, "the writer hardly wrote: the test proves nothing"
    assert reads > 20 and set(lengths) == {8, 300_000}, lengths
    assert sorted(p.name for p in directory.iterdir()) == [f"{key}.json"]


# --- 7. single flight ----------------------------------------------------------------------------


@pytest.mark.realtime
def test_concurrent_processes_make_one_gateway_request(profiles: Path, sandbox: Sandbox) -> None:
    set_fault(sandbox, "nicepay", delay=0.5, times=1)
    command = [sys.executable, "-m", "tidak_cli", "get", "nicepay", "-p", "demo", "-o", "token"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(16)
    ]
    outputs = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=60)
            outputs.append((process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for returncode, stdout, stderr in outputs:
        assert returncode == 0, stderr
        assert_clean(stdout + stderr)
        assert "warning" not in stderr
    tokens = {stdout for _, stdout, _ in outputs}
    assert len(tokens) == 1, f"{len(tokens)} different tokens"
    assert requests_to(sandbox, "nicepay") == 1
    assert CacheEntry.from_json(entry_path(profiles).read_text()).access_token + "\n" == tokens.pop()


# --- 8. damage -----------------------------------------------------------------------------------


def _other_client(valid: bytes) -> bytes:
    document = json.loads(valid)
    document["client_id"] = "SOMEONE-ELSE"
    return json.dumps(document).encode()


def _other_version(valid: bytes) -> bytes:
    document = json.loads(valid)
    document["version"] = CACHE_VERSION + 1
    return json.dumps(document).encode()


def _naive_expiry(valid: bytes) -> bytes:
    document = json.loads(valid)
    document["expires_at"] = "2999-01-01T00:00:00"
    return json.dumps(document).encode()


def _deep_response(valid: bytes) -> bytes:
    # Deeper than the edge lets a gateway's answer in (MAX_JSON_DEPTH), yet within what json.loads reads.
    document = json.loads(valid)
    text = json.dumps({**document, "response": {}})
    return text.replace('"response": {}', '"response": {"a": ' + "[" * 850 + "]" * 850 + "}").encode()


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "binary garbage": lambda _valid: bytes(range(256)) * 4,
    "text garbage": lambda _valid: b"this is not json {{{",
    "empty": lambda _valid: b"",
    "truncated": lambda valid: valid[: len(valid) // 2],
    "json list": lambda _valid: b"[1, 2, 3]",
    "another version": _other_version,
    "another client id": _other_client,
    "expiry without time zone": _naive_expiry,
    "deeply nested json": lambda _valid: b"[" * 100_000,
    "a response nested deeper than a gateway's answer may be": _deep_response,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_entry_is_a_miss_and_is_replaced(damage: str, profiles: Path, sandbox: Sandbox) -> None:
    first = get_json()
    path = entry_path(profiles)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "json")
    assert run.exit_code == 0, run.output
    assert_clean(run.output)
    assert "warning:" in run.stderr and str(path) in run.stderr
    renewed = json.loads(run.stdout)
    assert renewed["cached"] is False and renewed["access_token"] != first["access_token"]
    assert requests_to(sandbox, "nicepay") == 2
    entry = CacheEntry.from_json(path.read_text())
    assert entry.access_token == renewed["access_token"]
    assert entry.client_id == profile_table(profiles)["client_id"]
    # Repaired: the next get is a quiet hit.
    again = paytoken("get", "nicepay", "-p", "demo", "-o", "json")
    assert json.loads(again.stdout)["cached"] is True and again.stderr == ""


def test_cache_directory_under_a_regular_file_warns_and_still_prints(
    profiles: Path, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file, not a directory\n")
    monkeypatch.setenv("PAYTOKEN_CACHE_DIR", str(blocker / "cache"))
    for expected_requests in (1, 2):
        run = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
        assert run.exit_code == 0, run.output
        assert_clean(run.output)
        assert len(run.stdout.strip()) >= 32
        assert "warning:" in run.stderr and str(blocker / "cache") in run.stderr
        assert requests_to(sandbox, "nicepay") == expected_requests
    assert blocker.read_text() == "a file, not a directory\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through mode 0500")
def test_read_only_cache_directory_warns_and_still_prints(profiles: Path, sandbox: Sandbox) -> None:
    cache_dir().mkdir(mode=0o700)
    cache_dir().chmod(0o500)
    try:
        run = paytoken("get", "nicepay", "-p", "demo", "-o", "token")
    finally:
        cache_dir().chmod(0o700)
    assert run.exit_code == 0, run.output
    assert_clean(run.output)
    assert len(run.stdout.strip()) >= 32
    assert "warning:" in run.stderr and str(cache_dir()) in run.stderr
    assert entry_files() == []


# --- 9. lock timeout -----------------------------------------------------------------------------


@pytest.mark.realtime
def test_a_lock_held_elsewhere_is_exit_5_not_a_hang(profiles: Path, sandbox: Sandbox) -> None:
    add_profile(profiles, "nicepay", "quick", timeout=1)
    cache_dir().mkdir(mode=0o700)
    key = entry_path(profiles).stem
    with FileLock(cache_dir() / f"{key}.lock"):
        started = time.monotonic()
        run = paytoken_process("get", "nicepay", "-p", "quick", "-o", "token", timeout=30)
        elapsed = time.monotonic() - started
    assert run.returncode == 5, run.stderr
    assert elapsed < 10
    assert run.stdout == ""
    assert "lock" in run.stderr
    assert_clean(run.stdout + run.stderr)
    assert requests_to(sandbox, "nicepay") == 0
    # Released, the same get succeeds.
    assert paytoken("get", "nicepay", "-p", "quick", "-o", "token").exit_code == 0


# --- 10. cache list and cache clear --------------------------------------------------------------


def test_cache_list_shows_whose_tokens_but_never_a_token(profiles: Path, sandbox: Sandbox) -> None:
    empty = paytoken("cache", "list")
    assert empty.exit_code == 0 and "no cached tokens" in empty.output
    tokens = [get_json()["access_token"], get_json(provider="doku-snap")["access_token"]]
    run = paytoken("cache", "list")
    assert run.exit_code == 0, run.output
    assert_clean(run.output, [str(token) for token in tokens])
    for token in tokens:
        assert str(token)[:12] not in run.output and str(token)[-12:] not in run.output
    for column in ("provider", "profile", "client id", "expires in"):
        assert column in run.stdout
    lines = run.stdout.splitlines()
    for provider in ("nicepay", "doku-snap"):
        client_id = str(profile_table(profiles, provider)["client_id"])
        row = next(line for line in lines if client_id in line)
        assert re.search(rf"\b{re.escape(provider)}\b", row) and "demo" in row
        assert re.search(r"\b1[45] min\b", row), row


def test_cache_clear_by_provider_and_profile_removes_only_that_entry(profiles: Path, sandbox: Sandbox) -> None:
    add_profile(profiles, "nicepay", "other")
    by_name = sandbox.url.replace("127.0.0.1", "localhost")
    get_json()
    get_json("--base-url", by_name, profile="other")
    get_json(provider="doku-snap")
    assert len(entry_files()) == 3

    run = paytoken("cache", "clear", "nicepay", "--profile", "demo")
    assert run.exit_code == 0, run.output
    assert entry_files() == sorted([entry_path(profiles, base_url=by_name), entry_path(profiles, "doku-snap")])
    assert get_json("--base-url", by_name, profile="other")["cached"] is True
    assert get_json()["cached"] is False

    everything = paytoken("cache", "clear")
    assert everything.exit_code == 0, everything.output
    assert entry_files() == []
    assert get_json(provider="doku-snap")["cached"] is False


def test_cache_clear_by_provider_keeps_other_providers(profiles: Path, sandbox: Sandbox) -> None:
    get_json()
    get_json(provider="doku-snap")
    assert paytoken("cache", "clear", "nicepay").exit_code == 0
    assert entry_files() == [entry_path(profiles, "doku-snap")]


@pytest.mark.parametrize("damage", ["text garbage", "deeply nested json"])
def test_cache_list_and_clear_cope_with_a_damaged_file(damage: str, profiles: Path, sandbox: Sandbox) -> None:
    get_json()
    path = entry_path(profiles)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    listed = paytoken("cache", "list")
    assert listed.exit_code == 0, listed.output
    assert_clean(listed.output)
    assert "damaged" in listed.stdout and path.name in listed.stdout
    cleared = paytoken("cache", "clear")
    assert cleared.exit_code == 0, cleared.output
    assert entry_files() == []


def test_cache_clear_of_an_unknown_provider_is_a_usage_error(profiles: Path, sandbox: Sandbox) -> None:
    get_json()
    run = paytoken("cache", "clear", "nope")
    assert run.exit_code == 2
    assert "nope" in run.stderr
    assert_clean(run.output)
    assert entry_files() == [entry_path(profiles)]


# --- 11. --dotenv --------------------------------------------------------------------------------


def test_dotenv_creates_a_private_file(profiles: Path, sandbox: Sandbox) -> None:
    target = Path("tokens.env")
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "json", "--dotenv", str(target))
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    assert mode(target) == 0o600
    values = dotenv_values(target)
    assert values == {
        "PAYTOKEN_ACCESS_TOKEN": document["access_token"],
        "PAYTOKEN_TOKEN_TYPE": "Bearer",
        "PAYTOKEN_EXPIRES_AT": document["expires_at"],
    }


def test_dotenv_keeps_other_lines_and_updates_in_place(profiles: Path, sandbox: Sandbox) -> None:
    target = Path("tokens.env")
    target.write_text(
        "# credentials for the integration suite\nOTHER=1\nNICEPAY_ACCESS_TOKEN='stale'\n\n# keep me\nLAST=two words\n"
    )
    target.chmod(0o644)
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "env", "--env-prefix", "NICEPAY_", "--dotenv", str(target))
    assert run.exit_code == 0, run.output
    assert "export NICEPAY_ACCESS_TOKEN=" in run.stdout and "PAYTOKEN_" not in run.stdout
    token = get_json()["access_token"]
    assert mode(target) == 0o600
    lines = target.read_text().splitlines()
    assert lines[:2] == ["# credentials for the integration suite", "OTHER=1"]
    assert lines[2].startswith("NICEPAY_ACCESS_TOKEN=") and "stale" not in target.read_text()
    assert lines[3:6] == ["", "# keep me", "LAST=two words"]
    values = dotenv_values(target)
    assert values["OTHER"] == "1" and values["LAST"] == "two words"
    assert values["NICEPAY_ACCESS_TOKEN"] == token
    assert values["NICEPAY_TOKEN_TYPE"] == "Bearer"
    assert datetime.fromisoformat(str(values["NICEPAY_EXPIRES_AT"]).replace("Z", "+00:00")) > datetime.now(UTC)
    assert not any(name.startswith("PAYTOKEN_") for name in values)


def test_dotenv_on_a_cache_hit_writes_the_cached_token(profiles: Path, sandbox: Sandbox) -> None:
    token = get_json()["access_token"]
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "token", "--dotenv", "tokens.env")
    assert run.exit_code == 0, run.output
    assert run.stdout.strip() == token
    assert dotenv_values("tokens.env")["PAYTOKEN_ACCESS_TOKEN"] == token
    assert requests_to(sandbox, "nicepay") == 1


PAYTOKEN_PROCESS = [sys.executable, "-m", "tidak_cli"]


def prefix(provider: str) -> str:
    return provider.upper().replace("-", "_") + "_"


def test_dotenv_writers_running_together_each_add_their_variables(profiles: Path, sandbox: Sandbox) -> None:
    providers = ["nicepay", "finpay-snap", "doku-snap", "snap", "doku", "finpay-widget"]
    processes = [
        subprocess.Popen(
            [*PAYTOKEN_PROCESS, "get", name, "-p", "demo", "--env-prefix", prefix(name), "--dotenv", "all.env"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in providers
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
    values = dotenv_values("all.env")
    assert len(values) == 3 * len(providers), sorted(values)
    assert mode(Path("all.env")) == 0o600


def test_a_dotenv_file_sources_in_a_shell_to_the_same_values(profiles: Path, sandbox: Sandbox) -> None:
    Path("app.env").write_text("export KEEP='kept'\n")
    assert paytoken("get", "doku", "-p", "demo", "-o", "token", "--dotenv", "app.env").exit_code == 0
    shell = subprocess.run(
        ["sh", "-c", 'set -a; . ./app.env; printf "%s|%s|%s" "$PAYTOKEN_ACCESS_TOKEN" "$PAYTOKEN_TOKEN_TYPE" "$KEEP"'],
        capture_output=True,
        text=True,
        check=True,
    )
    values = dotenv_values("app.env")
    assert shell.stdout == f"{values['PAYTOKEN_ACCESS_TOKEN']}|{values['PAYTOKEN_TOKEN_TYPE']}|kept"


def test_dotenv_through_a_symlink_updates_its_target_and_keeps_the_link(profiles: Path, sandbox: Sandbox) -> None:
    Path("real.env").write_text("OTHER=1\n")
    Path("link.env").symlink_to("real.env")
    assert paytoken("get", "nicepay", "-p", "demo", "--dotenv", "link.env").exit_code == 0
    assert Path("link.env").is_symlink()
    assert dotenv_values("real.env")["OTHER"] == "1" and "PAYTOKEN_ACCESS_TOKEN" in dotenv_values("real.env")
    assert mode(Path("real.env")) == 0o600


def test_dotenv_that_is_a_directory_or_not_text_is_exit_3_and_untouched(profiles: Path, sandbox: Sandbox) -> None:
    Path("adir").mkdir(mode=0o755)
    Path("adir").chmod(0o755)
    Path("binary.env").write_bytes(b"A=\xff\n")
    for target, says in (("adir", "is a directory"), ("binary.env", "is not UTF-8 text")):
        run = paytoken("get", "nicepay", "-p", "demo", "--dotenv", target)
        assert run.exit_code == 3, run.output
        assert says in run.stderr and run.stdout == ""
    assert mode(Path("adir")) == 0o755
    assert Path("binary.env").read_bytes() == b"A=\xff\n"
    assert sorted(path.name for path in Path().iterdir()) == ["adir", "binary.env", "profiles.toml"]


# --- 12. the fast path ---------------------------------------------------------------------------


def test_a_cache_hit_imports_no_http_crypto_or_rich(profiles: Path, sandbox: Sandbox) -> None:
    miss, modules = imported_modules("get", "nicepay", "-p", "demo", "-o", "token")
    assert miss.returncode == 0, miss.stderr
    # The control: the probe does see the HTTP stack when it is used.
    assert {"requests", "urllib3", "cryptography"} <= modules
    token = miss.stdout.strip()
    for output in ("token", "env", "header", "json"):
        hit, modules = imported_modules("get", "nicepay", "-p", "demo", "-o", output)
        assert hit.returncode == 0, hit.stderr
        assert token in hit.stdout
        assert not modules & set(SLOW_IMPORTS), f"-o {output} imported {sorted(modules & set(SLOW_IMPORTS))}"
    assert requests_to(sandbox, "nicepay") == 1


def test_processes_starting_together_all_get_the_cache_directory(tmp_path: Path) -> None:
    # The first runs of a fleet create the directory at the same moment: none may give up the cache.
    directory = tmp_path / "fresh" / "cache"
    barrier = threading.Barrier(16)
    said: list[str] = []
    ready: list[bool] = []  # asserted here: an assert inside a thread would only be a warning

    def first_use() -> None:
        store = TokenCache(directory, warn=said.append)
        barrier.wait()
        ready.append(store._ready())

    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ready == [True] * 16
    assert said == []
    assert directory.is_dir()


def test_a_cache_directory_others_can_write_to_is_not_used(profiles: Path, sandbox: Sandbox) -> None:
    # Anyone who can write there could plant a token of their own for paytoken to serve.
    first = get_json()
    path = entry_path(profiles)
    rewrite_entry(path, access_token="PLANTED-BY-SOMEONE-ELSE")
    cache_dir().chmod(0o777)
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "json")
    assert run.exit_code == 0, run.output
    said = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(said) == 1 and "is not private: other users can write to it (mode 0777" in said[0], run.stderr
    served = json.loads(run.stdout)
    assert served["cached"] is False and served["access_token"] not in (
        "PLANTED-BY-SOMEONE-ELSE",
        first["access_token"],
    )
    assert json.loads(path.read_text())["access_token"] == "PLANTED-BY-SOMEONE-ELSE"  # left alone
    assert requests_to(sandbox, "nicepay") == 2
    cache_dir().chmod(0o700)
    assert paytoken("get", "nicepay", "-p", "demo", "-o", "token").stdout.strip() == "PLANTED-BY-SOMEONE-ELSE"
