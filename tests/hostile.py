"""A hostile gateway for the tests: a loopback HTTP server that sends whatever answer a test scripts.

Each connection reads one whole request, then gets the next scripted answer (the last one repeats). An answer
is the status line and headers as given, byte for byte (duplicates, garbage, control bytes allowed), then a
body: bytes, or chunks made on the fly, so a 1 GiB body never sits in the test's memory. Bounded: loopback
only, every socket operation times out, a body stops when the client hangs up, and the server stops when its
`with` block ends.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

__all__ = [
    "Answer",
    "Hostile",
    "deflate_bomb",
    "gzip_bomb",
    "json_answer",
    "later",
    "zeros",
]

MiB = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """One raw HTTP answer: status line, headers (name, value as bytes or text), then a body."""

    status: int = 200
    reason: str = "OK"
    headers: Sequence[tuple[str, str | bytes]] = ()
    body: bytes | Callable[[], Iterable[bytes]] = b""
    length: bool = True  # send a Content-Length (for bytes bodies; a generated body is sent until it ends)
    close: bool = True

    def head(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {self.reason}".encode("latin-1")]
        for name, value in self.headers:
            lines.append(name.encode("latin-1") + b": " + (value if isinstance(value, bytes) else value.encode()))
        if self.close:
            lines.append(b"Connection: close")
        if isinstance(self.body, bytes) and self.length:
            lines.append(b"Content-Length: %d" % len(self.body))
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def chunks(self) -> Iterable[bytes]:
        return [self.body] if isinstance(self.body, bytes) else self.body()


def json_answer(text: str | bytes, status: int = 200, *extra: tuple[str, str | bytes]) -> Answer:
    body = text if isinstance(text, bytes) else text.encode()
    return Answer(status=status, headers=[("Content-Type", "application/json"), *extra], body=body)


def zeros(total: int, piece: int = 64 * 1024) -> Callable[[], Iterator[bytes]]:
    """A body of `total` bytes made on the fly."""

    def make() -> Iterator[bytes]:
        block = b"0" * piece
        for _ in range(total // piece):
            yield block

    return make


@dataclass(frozen=True)
class later:
    """A body made when its server starts, not when the test module is imported (a bomb takes a second)."""

    make: Callable[[], bytes]

    def __call__(self) -> Iterator[bytes]:
        return iter([self.make()])


@cache
def gzip_bomb(size: int = 512 * MiB, layers: int = 1) -> bytes:
    """`size` bytes of zeros, gzipped `layers` times (512 MiB is about 500 KiB once, a few KiB twice)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    block = b"\0" * MiB
    parts = [compressor.compress(block) for _ in range(size // MiB)]
    data = b"".join(parts) + compressor.flush()
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


@cache
def deflate_bomb(size: int = 512 * MiB) -> bytes:
    compressor = zlib.compressobj(9)
    block = b"\0" * MiB
    return b"".join(compressor.compress(block) for _ in range(size // MiB)) + compressor.flush()


@dataclass
class Hostile:
    """The server: `with Hostile(answer, ...) as gateway:` then aim a profile at gateway.url."""

    answers: Sequence[Answer]
    timeout: float = 30.0
    requests: list[bytes] = field(default_factory=list, repr=False)
    sent: list[int] = field(default_factory=list, repr=False)  # body bytes written, per answer

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> Hostile:
        for answer in self.answers:
            if isinstance(answer.body, later):
                answer.body.make()  # cached: made before any header is sent, so no client waits for it
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(self.timeout)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            connection.settimeout(self.timeout)
            self.requests.append(_read_request(connection))
            answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
            connection.sendall(answer.head())
            written = 0
            try:
                for chunk in answer.chunks():
                    if self._stop.is_set():
                        break
                    connection.sendall(chunk)
                    written += len(chunk)
            finally:
                self.sent.append(written)


def _read_request(connection: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        piece = connection.recv(65536)
        if not piece:
            return received
        received += piece
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        piece = connection.recv(65536)
        if not piece:
            break
        body += piece
    return head + b"\r\n\r\n" + body
