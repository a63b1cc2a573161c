"""The token cache on Redis, shared by every machine that points at it; the file cache stands in when it is down.

Entries live at `paytoken:token:{key}` with a TTL ending when the token stops being servable. The lock is
`paytoken:lock:{key}`: SET NX PX with a random owner token, kept alive by its owner while the gateway is
asked, and released only by its owner (a Lua compare-and-delete), so a crashed owner's lock simply expires.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from .cache import CacheBackend, CacheEntry, Identity, TokenCache, decode_entry
from .clock import utc_now
from .errors import NetworkError

__all__ = ["CacheUnavailable", "FallbackCache", "RedisCache"]

TOKEN_PREFIX = "paytoken:token:"
LOCK_PREFIX = "paytoken:lock:"
# A held lock lives this long unless its owner renews it; a crashed owner's lock is gone after it.
LOCK_TTL_MS = 5000
RENEW_EVERY = LOCK_TTL_MS / 1000 / 3

# Delete or renew the lock only while it still holds our owner token.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)

T = TypeVar("T")


class CacheUnavailable(Exception):
    """Redis cannot be used (down, unreachable, refusing our password)."""


def printable_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        user = f"{parts.username}:••••@" if parts.username else "••••@"
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, parts.fragment))
    return url


class RedisCache:
    """Tokens in Redis; every failure to reach it is a CacheUnavailable."""

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise CacheUnavailable("cache_url needs the redis package: pip install 'tidak_cli[redis]'") from None

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        try:
            self._client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0)
        except (ValueError, *self._errors) as error:
            raise CacheUnavailable(f"cache_url is not a usable Redis URL ({error})") from None
        self._location = printable_url(url)

    @property
    def location(self) -> str:
        return self._location

    def _call(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return operation(*args, **kwargs)
        except self._errors as error:
            raise CacheUnavailable(str(error).splitlines()[0] if str(error) else type(error).__name__) from None

    def read_text(self, key: str) -> str | None:
        raw = self._call(self._client.get, _name(key))
        if raw is None:
            return None
        return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)

    def store(self, key: str, entry: CacheEntry, *, keep_until: datetime) -> None:
        milliseconds = int((keep_until - utc_now()).total_seconds() * 1000)
        if milliseconds > 0:
            self._call(self._client.set, TOKEN_PREFIX + key, entry.to_json(), px=milliseconds)

    @contextlib.contextmanager
    def lock(self, key: str, timeout: float, ready: Callable[[], bool] | None = None) -> Iterator[None]:
        """Take the lock, or wait for it with backoff; stop waiting early once ready() says a token is there."""
        name, owner = LOCK_PREFIX + key, secrets.token_hex(16)
        deadline = time.monotonic() + timeout
        pause = 0.02
        while not self._call(self._client.set, name, owner, nx=True, px=LOCK_TTL_MS):
            if ready is not None and ready():
                # The owner stored a token this caller can use: it re-reads it, no lock needed for that.
                yield
                return
            if time.monotonic() > deadline:
                raise NetworkError(
                    f"another paytoken process held the shared token lock for {timeout:g} s",
                    details=[f"lock: {name} at {self.location}"],
                    hint="that process is probably stuck waiting for the gateway; retry, or pass --no-cache",
                )
            time.sleep(pause + random.uniform(0, pause))  # noqa: S311 (jitter, not a secret)
            pause = min(pause * 2, 0.25)
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(name, owner, stop), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(*self._errors):
                self._client.eval(_RELEASE, 1, name, owner)

    def _renew(self, name: str, owner: str, stop: threading.Event) -> None:
        while not stop.wait(RENEW_EVERY):
            with contextlib.suppress(*self._errors):
                self._client.eval(_RENEW, 1, name, owner, LOCK_TTL_MS)

    def entries_text(self) -> list[tuple[str, str | None]]:
        found: list[tuple[str, str | None]] = []
        for name in self._call(lambda: list(self._client.scan_iter(match=TOKEN_PREFIX + "*", count=100))):
            raw = bytes(name)[len(TOKEN_PREFIX) :]
            try:
                key = raw.decode()
            except UnicodeDecodeError:
                # Not a name paytoken writes (those are hex): a damaged entry, listed and cleared by its bytes.
                found.append((raw.decode("utf-8", "surrogateescape"), None))
                continue
            found.append((key, self.read_text(key)))
        return sorted(found)

    def remove(self, key: str) -> None:
        self._call(self._client.delete, _name(key))


def _name(key: str) -> bytes:
    """The Redis name of the entry under key; a key read from a name that was not UTF-8 gets its bytes back."""
    return (TOKEN_PREFIX + key).encode("utf-8", "surrogateescape")


def unavailable(location: str, reason: object) -> NetworkError:
    """The shared cache named by the user cannot be used, where falling back to files would mislead."""
    return NetworkError(
        f"the shared token cache at {location} is unavailable ({reason})",
        hint="start Redis or fix the URL (cache_url in the profile, --cache-url or $PAYTOKEN_CACHE_URL); "
        "the file cache was not touched",
    )


class FallbackCache:
    """Redis while it answers; on its first failure, one warning and the file cache for the rest of the run.

    With fall_back=False (cache list and clear, which were asked about Redis) that failure is an error instead.
    """

    def __init__(self, shared: RedisCache, files: TokenCache, *, fall_back: bool = True) -> None:
        self._shared: RedisCache | None = shared
        self._files = files
        self._may_fall_back = fall_back

    @property
    def location(self) -> str:
        return self._shared.location if self._shared is not None else self._files.location

    def warn(self, message: str) -> None:
        self._files.warn(message)

    def _fall_back(self, error: CacheUnavailable) -> CacheBackend:
        if self._shared is not None and not self._may_fall_back:
            raise unavailable(self._shared.location, error)
        if self._shared is not None:
            self.warn(
                f"the shared token cache at {self._shared.location} is unavailable ({error}); "
                f"using the file cache in {self._files.location} instead"
            )
            self._shared = None
        return self._files

    def read(self, key: str, *, expect: Identity | None = None) -> CacheEntry | None:
        if self._shared is not None:
            try:
                text = self._shared.read_text(key)
            except CacheUnavailable as error:
                return self._fall_back(error).read(key, expect=expect)
            return None if text is None else decode_entry(text, self.where(key), expect, self.warn)
        return self._files.read(key, expect=expect)

    def store(self, key: str, entry: CacheEntry, *, keep_until: datetime) -> None:
        if self._shared is not None:
            try:
                self._shared.store(key, entry, keep_until=keep_until)
                return
            except CacheUnavailable as error:
                self._fall_back(error)
        self._files.store(key, entry, keep_until=keep_until)

    @contextlib.contextmanager
    def lock(self, key: str, timeout: float, ready: Callable[[], bool] | None = None) -> Iterator[None]:
        if self._shared is not None:
            try:
                held = self._shared.lock(key, timeout, ready)
                held.__enter__()
            except CacheUnavailable as error:
                self._fall_back(error)
            else:
                try:
                    yield
                finally:
                    with contextlib.suppress(CacheUnavailable):
                        held.__exit__(None, None, None)
                return
        with self._files.lock(key, timeout):
            yield

    def entries(self) -> list[tuple[str, CacheEntry | None]]:
        if self._shared is not None:
            try:
                texts = self._shared.entries_text()
            except CacheUnavailable as error:
                return self._fall_back(error).entries()
            found: list[tuple[str, CacheEntry | None]] = []
            for key, text in texts:
                try:
                    found.append((key, CacheEntry.from_json(text) if text is not None else None))
                except ValueError:
                    found.append((key, None))
            return found
        return self._files.entries()

    def where(self, key: str) -> str:
        if self._shared is not None:
            return f"{TOKEN_PREFIX}{key} at {self._shared.location}"
        return self._files.where(key)

    def remove(self, key: str) -> None:
        if self._shared is not None:
            try:
                self._shared.remove(key)
                return
            except CacheUnavailable as error:
                self._fall_back(error)
        self._files.remove(key)
