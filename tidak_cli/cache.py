"""The token cache: one JSON file per (provider, base URL, client id, credential), written atomically, refreshed
under a lock.

Reading needs no lock: a file is only ever replaced whole (temp file + os.replace), so a reader sees the old
entry or the new one, never a mix. The lock is taken from "miss" to "stored", so that concurrent `get`
processes for one profile make one gateway request between them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .clock import iso_moment
from .errors import NetworkError
from .gateways.base import parse_json

if TYPE_CHECKING:
    from .profiles import Profile

__all__ = [
    "CACHE_VERSION",
    "CacheBackend",
    "CacheEntry",
    "TokenCache",
    "cache_directory",
    "cache_key",
    "clear_entries",
    "configured_url",
    "identity_url",
]

# 2: the identity holds the signing credential's fingerprint. Version 1 entries are named by another key, so
# a lookup never finds them; `cache list` shows them as unreadable and `cache clear` removes them.
CACHE_VERSION = 2
_SUFFIX = ".json"
_TEMPORARY = ".tmp"
# A temporary entry file this old is a leftover: writing one takes milliseconds (seconds on a slow disk).
_STALE_TEMPORARY = 60.0

Warn = Callable[[str], None]


def cache_directory() -> Path:
    """$PAYTOKEN_CACHE_DIR, else the platform's user cache directory."""
    configured = os.environ.get("PAYTOKEN_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    from .userdirs import user_cache_dir

    return user_cache_dir()


def configured_url(profile: Profile | None = None, explicit: str | None = None) -> str | None:
    """A profile's cache_url, else --cache-url, else $PAYTOKEN_CACHE_URL: where tokens are shared, if anywhere."""
    configured = profile.text("cache_url") if profile is not None else None
    return configured or explicit or os.environ.get("PAYTOKEN_CACHE_URL") or None


def identity_url(url: str) -> str:
    """url without the user:password@ it may carry: the cache's names and entries never hold a secret."""
    if "@" not in url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def cache_key(provider: str, base_url: str, client_id: str, credential: str) -> str:
    """Name an entry by what identifies a token at a gateway; never by a secret (credential is a fingerprint)."""
    parts = (f"v{CACHE_VERSION}", provider, identity_url(base_url).rstrip("/"), client_id, credential)
    material = "\0".join(parts).encode("utf-8")
    return hashlib.sha256(material).hexdigest()[:40]


@dataclass(frozen=True)
class CacheEntry:
    """A stored token and the facts that say whose it is."""

    provider: str
    profile: str
    base_url: str
    client_id: str
    # A keyed fingerprint of the signing key or shared secrets (tokens.credential_fingerprint), never a secret.
    credential: str
    access_token: str = field(repr=False)
    token_type: str
    expires_at: datetime
    stored_at: datetime
    response: dict[str, object] = field(repr=False, default_factory=dict)

    def seconds_left(self, now: datetime) -> float:
        return (self.expires_at - now).total_seconds()

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": CACHE_VERSION,
                "provider": self.provider,
                "profile": self.profile,
                "base_url": self.base_url,
                "client_id": self.client_id,
                "credential": self.credential,
                "access_token": self.access_token,
                "token_type": self.token_type,
                "expires_at": self.expires_at.isoformat(),
                "stored_at": self.stored_at.isoformat(),
                "response": self.response,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> CacheEntry:
        """Read an entry; ValueError says why a file is not one of ours."""
        # Through the gateway-JSON edge: the entry holds a gateway's answer (anyone who can write the cache
        # can put one there), which may be no deeper here than when the gateway sent it.
        try:
            data = parse_json(text.encode("utf-8", "surrogateescape"))
        except ValueError as error:
            raise ValueError(f"not JSON of an entry ({error})") from None
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            raise ValueError("not a paytoken cache entry of this version")
        response = data.get("response")
        try:
            texts = {key: _text(data, key) for key in _TEXT_FIELDS}
        except (KeyError, TypeError) as error:
            raise ValueError(f"field {error} is missing or not text") from None
        expires_at, stored_at = iso_moment(texts.pop("expires_at")), iso_moment(texts.pop("stored_at"))
        if expires_at is None or stored_at is None:
            raise ValueError("a time that is not a date with a time zone, or beyond 2099")
        if not texts["access_token"]:
            raise ValueError("an empty token")
        return cls(
            **texts,
            expires_at=expires_at,
            stored_at=stored_at,
            response=response if isinstance(response, dict) else {},
        )


_TEXT_FIELDS = (
    "provider",
    "profile",
    "base_url",
    "client_id",
    "credential",
    "access_token",
    "token_type",
    "expires_at",
    "stored_at",
)


def _text(data: dict[str, object], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(key)
    return value


# provider, base URL, client id, credential fingerprint.
Identity = tuple[str, str, str, str]


class CacheBackend(Protocol):
    """Where tokens are kept between runs: files on this machine, or a Redis shared by many."""

    @property
    def location(self) -> str:
        """Where, for people (never with a password)."""
        ...

    def warn(self, message: str) -> None:
        """Say something about the cache once per run."""
        ...

    def read(self, key: str, *, expect: Identity | None = None) -> CacheEntry | None:
        """The entry under key, or None; a damaged or foreign entry is a miss, with a warning."""
        ...

    def store(self, key: str, entry: CacheEntry, *, keep_until: datetime) -> None:
        """Keep entry; it need not outlive keep_until (its expiry less the min-ttl margin)."""
        ...

    def lock(
        self, key: str, timeout: float, ready: Callable[[], bool] | None = None
    ) -> contextlib.AbstractContextManager[None]:
        """Hold the entry's lock from miss to stored; NetworkError (exit 5) if not had within timeout.

        A backend that polls for the lock may stop early once ready() says a usable token is there.
        """
        ...

    def entries(self) -> list[tuple[str, CacheEntry | None]]:
        """Every entry by key; None for a damaged one."""
        ...

    def where(self, key: str) -> str:
        """Where the entry under key is kept, for people."""
        ...

    def remove(self, key: str) -> None: ...


class WarnOnce:
    """A run reads an entry twice (before and after the lock): say each thing once."""

    def __init__(self, warn: Warn) -> None:
        self._say = warn
        self._said: set[str] = set()

    def warn(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            self._say(message)


def decode_entry(text: str, where: str, expect: Identity | None, warn: Warn) -> CacheEntry | None:
    """Read a stored entry, turning a damaged or foreign one into a miss with a warning."""
    try:
        entry = CacheEntry.from_json(text)
    except ValueError as error:
        warn(f"cache entry {where} is damaged ({error}); it will be replaced")
        return None
    if expect is not None and (entry.provider, entry.base_url, entry.client_id, entry.credential) != expect:
        warn(f"cache entry {where} belongs to another profile; it will be replaced")
        return None
    return entry


class TokenCache(WarnOnce):
    """Token files in one directory (0700), each 0600."""

    def __init__(self, directory: Path, *, warn: Warn) -> None:
        super().__init__(warn)
        self.directory = directory
        self._usable: bool | None = None
        self._locked: set[str] = set()  # the keys whose file lock this process holds

    @property
    def location(self) -> str:
        return str(self.directory)

    # --- the directory -------------------------------------------------------------------------------

    def _private(self) -> bool:
        """Whether the directory, if it exists, is safe to read: others could plant a token in it otherwise."""
        if self._usable is None and os.name == "posix":
            try:
                info = self.directory.stat()
            except OSError:
                return True  # not there (yet): it is created 0700
            if info.st_uid != os.getuid():
                problem = f"it belongs to another user (uid {info.st_uid})"
            elif info.st_mode & 0o022:
                problem = f"other users can write to it (mode {stat.S_IMODE(info.st_mode):04o}; chmod 700 it)"
            else:
                return True
            self._usable = False
            self.warn(f"token cache {self.directory} is not private: {problem}; continuing without it")
        return self._usable is not False

    def _ready(self) -> bool:
        """Create the directory (0700) on first use; say once, as a warning, if it cannot be used."""
        if not self._private():
            return False
        if self._usable is None:
            try:
                if not self.directory.is_dir():
                    # exist_ok: the first runs of a fleet start together, and another may make it first; a file
                    # in the way is still a FileExistsError.
                    self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                    self.directory.chmod(0o700)
                self._usable = os.access(self.directory, os.W_OK | os.X_OK)
                problem = "it is not writable"
            except FileExistsError:
                self._usable, problem = False, "it is a file, not a directory"
            except NotADirectoryError:
                self._usable, problem = False, "a directory above it is a file"
            except OSError as error:
                self._usable, problem = False, error.strerror or str(error)
            if not self._usable:
                self.warn(f"token cache {self.directory} cannot be used ({problem}); continuing without it")
        return self._usable

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}{_SUFFIX}"

    # --- entries ---------------------------------------------------------------------------------------

    def read(self, key: str, *, expect: Identity | None = None) -> CacheEntry | None:
        if not self._private():
            return None
        self._sweep()
        path = self._path(key)
        text = self._entry_text(path)
        return None if text is None else decode_entry(text, str(path), expect, self.warn)

    def _entry_text(self, path: Path, *, quiet: bool = False) -> str | None:
        """An entry file's text through the local-file edge; None for none, or for a damaged one (with a warning).

        A link (even to /dev/zero), a FIFO, a device or an oversized file in the cache was not written by
        paytoken: it is damaged, and the next store replaces it.
        """
        from .files import CACHE_ENTRY_LIMIT, FileProblem, read_bounded

        try:
            return read_bounded(path, CACHE_ENTRY_LIMIT, follow_links=False).decode("utf-8")
        except FileProblem as problem:
            if not problem.missing and not quiet:
                self.warn(f"cache entry {path} is damaged (it {problem.reason}); it will be replaced")
            return None  # a missing entry (or no usable directory, which storing will say) is a plain miss
        except UnicodeDecodeError:
            if not quiet:
                self.warn(f"cache entry {path} is damaged (it is not UTF-8 text); it will be replaced")
            return None

    def _sweep(self, key: str | None = None) -> None:
        """Remove temporary files left by a writer that was killed between writing and renaming.

        A kill -9 runs no `finally`, and such a file may hold a live token. Those of key (whose lock the
        caller holds, so no one else is writing it) go at once; any other once it is older than _STALE_TEMPORARY.
        """
        import time

        try:
            leftovers = list(self.directory.glob(f".*{_TEMPORARY}"))
        except OSError:
            return
        now = time.time()
        for path in leftovers:
            with contextlib.suppress(OSError):
                if (key is not None and path.name.startswith(f".{key}.")) or (
                    now - path.lstat().st_mtime > _STALE_TEMPORARY
                ):
                    path.unlink()

    def store(self, key: str, entry: CacheEntry, *, keep_until: datetime | None = None) -> None:
        """Write entry atomically: a reader sees the old file or the new one, never part of one."""
        if not self._ready():
            return
        import tempfile

        self._sweep(key if key in self._locked else None)
        temporary: str | None = None
        try:
            # mkstemp: O_EXCL and mode 0600 in the cache directory, named .KEY.RANDOM.tmp so a sweep knows it.
            descriptor, temporary = tempfile.mkstemp(prefix=f".{key}.", suffix=_TEMPORARY, dir=self.directory)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(entry.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            Path(temporary).replace(self._path(key))
            temporary = None
        except OSError as error:
            self.warn(f"cannot write the token cache in {self.directory} ({error.strerror}); token not cached")
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    Path(temporary).unlink()

    @contextlib.contextmanager
    def lock(self, key: str, timeout: float, ready: Callable[[], bool] | None = None) -> Iterator[None]:
        """Hold the entry's lock; a lock not acquired within timeout is a NetworkError (exit 5)."""
        if not self._ready():
            yield
            return
        path = self.directory / f"{key}.lock"
        try:
            release = _acquire(path, timeout)
        except TimeoutError:
            raise NetworkError(
                f"another paytoken process held the token lock for {timeout:g} s",
                details=[f"lock file: {path}"],
                hint="that process is probably stuck waiting for the gateway; retry, or pass --no-cache",
            ) from None
        except OSError as error:
            self.warn(f"cannot lock the token cache ({error.strerror}); continuing without the lock")
            yield
            return
        self._locked.add(key)
        try:
            yield
        finally:
            self._locked.discard(key)
            release()

    def entries(self) -> list[tuple[str, CacheEntry | None]]:
        if not self.directory.is_dir():
            return []
        self._sweep()
        found: list[tuple[str, CacheEntry | None]] = []
        for path in sorted(self.directory.glob(f"*{_SUFFIX}")):
            text = self._entry_text(path, quiet=True)  # listed as damaged, not warned about
            try:
                found.append((path.stem, None if text is None else CacheEntry.from_json(text)))
            except ValueError:
                found.append((path.stem, None))
        return found

    def where(self, key: str) -> str:
        return str(self._path(key))

    def remove(self, key: str) -> None:
        # The lock file stays: unlinking it while another process holds it would break the exclusion.
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()


def clear_entries(store: CacheBackend, provider: str | None, profile: str | None, also: set[str]) -> int:
    """Remove the entries `cache clear` asks for; return how many.

    Those of provider (all when None) stored by profile (any when None), every damaged entry (which no one can
    be served), and the keys in also (the entry a profile would be served, whoever stored it).
    """
    removed = 0
    for key, entry in store.entries():
        chosen = entry is None or (
            (provider is None or entry.provider == provider) and (profile is None or entry.profile == profile)
        )
        if chosen or key in also:
            store.remove(key)
            removed += 1
    return removed


def _acquire(path: Path, timeout: float) -> Callable[[], None]:
    """Lock path (created 0600) for this process and return the release; TimeoutError if another holds it.

    On POSIX this is flock(2), as filelock itself does there (so it also excludes older paytoken runs), without
    importing filelock, which costs a miss more than its lock does. Elsewhere filelock.
    """
    if os.name != "posix":
        from filelock import FileLock, Timeout

        lock = FileLock(path, timeout=timeout, mode=0o600)
        try:
            lock.acquire()
        except Timeout:
            raise TimeoutError from None
        return lock.release
    import fcntl
    import time

    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(descriptor)
                raise TimeoutError from None
            time.sleep(0.05)
        except OSError:
            os.close(descriptor)
            raise
        else:
            return lambda: os.close(descriptor)  # closing the descriptor releases its flock
