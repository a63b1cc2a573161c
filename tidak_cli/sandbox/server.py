"""The local gateway emulator: every provider's token path on one port, with stats and fault switches."""

from __future__ import annotations

import contextlib
import email.utils
import functools
import json
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..errors import ConfigError, PaytokenError
from ..gateways import PROVIDERS, emulator_for
from ..gateways.emulation import Fault, Gateway, Incoming, Ledger, Reply, SandboxConfig, expiry
from ..redact import Redactor

__all__ = ["Sandbox"]

_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The upstream server is unavailable.</p></body></html>"
)
_MAX_REQUEST_BODY = 1024 * 1024
# The last requests received, as received (secret headers masked), for `GET /_sandbox/requests`.
RECENT_REQUESTS = 50
# The largest clock offset the switch takes (ten years), in seconds.
MAX_OFFSET = 10 * 365 * 86400

Log = Callable[[str], None]


@dataclass
class _Counts:
    requests: int = 0
    issued: int = 0
    rejected: int = 0
    faulted: int = 0
    calls: int = 0  # calls after the token that the gateway accepted


class Sandbox:
    """Serve the token endpoints of every provider the config names, in a background thread."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        log: Log | None = None,
        follow: tuple[Path, Callable[[], SandboxConfig]] | None = None,
    ) -> None:
        self.config = config
        self._log = log
        self._lock = threading.Lock()
        # Token path -> the gateways serving it: several SNAP gateways share one (`/v1.0/access-token/b2b`).
        self._gateways: dict[str, list[Gateway]] = {}
        # What the gateways remember between requests: tokens issued, call ids used today.
        self.ledger = Ledger()
        self._index(config)
        # The file the clients came from and how to read them again: the sandbox follows an edited profiles file.
        self._follow = follow
        self._source_stamp = _stamp(follow[0]) if follow else None
        self._faults: dict[str, Fault] = dict(config.faults)
        self._counts: dict[str, _Counts] = {name: _Counts() for name in PROVIDERS}
        self._recent: deque[dict[str, object]] = deque(maxlen=RECENT_REQUESTS)
        self._clock_offset = config.clock_offset
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None) -> Sandbox:
        """Bind and serve in a daemon thread; port 0 picks a free one; with tls, serve HTTPS."""
        handler = _handler_for(self)
        try:
            self._server = _Server((host, port), handler)
            self._server.tls = tls
        except OSError as error:
            raise ConfigError(
                f"the sandbox cannot listen on {host}:{port}: {error.strerror}",
                hint="choose another --port (or stop whatever holds this one)",
            ) from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="paytoken-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self if self._server else self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until stopped (for `paytoken sandbox` in the foreground)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    @property
    def url(self) -> str:
        assert self._server is not None, "the sandbox is not running"
        host, port = self._server.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        scheme = "https" if self._server.tls is not None else "http"
        return f"{scheme}://{host_text if ':' not in host_text else f'[{host_text}]'}:{port}"

    # --- state -----------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._lock:
            providers = {name: asdict(counts) for name, counts in self._counts.items()}
        return {"requests": sum(item["requests"] for item in providers.values()), "providers": providers}

    def set_fault(self, provider: str, fault: Fault | None) -> None:
        with self._lock:
            if fault is None:
                self._faults.pop(provider, None)
            else:
                self._faults[provider] = fault

    def now(self) -> datetime:
        """The gateway's clock: the machine's, moved by the clock offset switch."""
        return datetime.now(UTC) + timedelta(seconds=self._clock_offset)

    def reset(self) -> None:
        with self._lock:
            self._clock_offset = self.config.clock_offset
            self._faults = dict(self.config.faults)
            self._counts = {name: _Counts() for name in PROVIDERS}
            self._recent.clear()
        self.ledger.clear()

    def _take_fault(self, provider: str) -> Fault | None:
        with self._lock:
            fault = self._faults.get(provider)
            if fault is not None and fault.times is not None:
                remaining = fault.times - 1
                if remaining:
                    self._faults[provider] = replace(fault, times=remaining)
                else:
                    del self._faults[provider]
            return fault

    def _arrived(self, provider: str, request: Incoming) -> None:
        # Counted on arrival, so an observer sees a request that is still being delayed.
        seen: dict[str, object] = {
            "provider": provider,
            "method": request.method,
            "path": request.path,
            "headers": Redactor().headers(request.headers),
            "body": request.body.decode("utf-8", errors="replace"),
        }
        with self._lock:
            self._counts[provider].requests += 1
            self._recent.append(seen)

    def _settled(self, provider: str, reply: Reply | None, faulted: bool) -> None:
        with self._lock:
            counts = self._counts[provider]
            if faulted:
                counts.faulted += 1
            elif reply is not None and reply.issued:
                counts.issued += 1
            elif reply is not None and reply.accepted:
                counts.calls += 1
            else:
                counts.rejected += 1

    def _index(self, config: SandboxConfig) -> None:
        for provider in PROVIDERS.values():
            gateway = emulator_for(provider)
            # A path shared by providers (`snap`, Midtrans and Durianpay) goes to the one whose client asks.
            own = [client.token_path for client in config.clients.get(provider.name, ()) if client.token_path]
            for path in (provider.token_path, *own):
                serving = self._gateways.setdefault(path, [])
                if all(other.provider.name != provider.name for other in serving):
                    serving.append(gateway)

    def _follow_source(self) -> None:
        """Take the clients again if the file they came from changed since they were read."""
        if self._follow is None:
            return
        path, read = self._follow
        stamp = _stamp(path)
        if stamp == self._source_stamp:
            return
        self._source_stamp = stamp
        try:
            fresh = read()
        except PaytokenError as error:
            self._note(f"{path} changed but cannot be read ({error.message}); keeping the clients I had")
            return
        with self._lock:
            self.config = replace(self.config, clients=fresh.clients)
            self._index(fresh)
        count = sum(len(clients) for clients in fresh.clients.values())
        self._note(f"{path} changed: now accepting {count} client(s) from it")

    # --- requests --------------------------------------------------------------------------------

    def route(self, request: Incoming) -> Reply | None:
        """Answer one request; None means drop the connection without answering."""
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        self._follow_source()
        gateway = self._token_gateway(request)
        if gateway is None:
            return self._call(request)
        return self._answer(gateway, request, lambda: gateway.handle(request, self.config, self.now()))

    def _token_gateway(self, request: Incoming) -> Gateway | None:
        """The gateway whose token path this is: of several, the first that knows the client asking."""
        serving = self._gateways.get(request.path.split("?", 1)[0], [])
        for gateway in serving[1:]:
            if gateway.claims(request, self.config):
                return gateway
        return serving[0] if serving else None

    def _call(self, request: Incoming) -> Reply | None:
        """A call after the token (SPEC 6.5): the first gateway that recognises it as its own answers."""
        now = self.now()
        gateways = {id(gateway): gateway for serving in self._gateways.values() for gateway in serving}.values()
        # Calls signed without a token (SNAP type 2) name their partner; those gateways look first.
        for gateway in sorted(gateways, key=lambda gateway: gateway.provider.call_needs_token):
            reply = gateway.handle_call(request, self.config, now, self.ledger)
            if reply is not None:
                # Verified before the fault switches apply: a gateway that fails after taking a call has still
                # taken it (its X-EXTERNAL-ID is used), which is why a call is never resent.
                return self._answer(gateway, request, functools.partial(_same, reply))
        paths = {gateway.provider.name: path for path, serving in self._gateways.items() for gateway in serving}
        return Reply.json(404, {"error": f"no token endpoint or call at {request.path}", "paths": paths})

    def _answer(self, gateway: Gateway, request: Incoming, handle: Callable[[], Reply]) -> Reply | None:
        name = gateway.provider.name
        self._arrived(name, request)
        fault = self._take_fault(name)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and (fault.drop or fault.html or fault.status is not None or fault.oversize):
            reply = self._faulty(gateway, fault)
            self._settled(name, reply, faulted=True)
            self._note(f"{request.method} {request.path} -> fault: {reply.status if reply else 'dropped'}")
            return reply
        reply = handle()
        if reply.token is not None and reply.client_id is not None:
            expires_at = reply.expires_at or expiry(self.now(), self.config.token_ttl)
            self.ledger.issue(reply.token, name, reply.client_id, expires_at)
        if fault is not None and fault.truncate:
            reply = replace(reply, body=reply.body[: len(reply.body) // 2])
        if fault is not None and (fault.trickle or fault.trickle_headers):
            reply = replace(reply, trickle=fault.trickle, trickle_headers=fault.trickle_headers)
        trickled = fault is not None and bool(fault.trickle or fault.trickle_headers)
        self._settled(name, reply, faulted=fault is not None and (fault.truncate or trickled))
        self._note(f"{request.method} {request.path} -> {reply.status} {_summary(reply)}")
        return reply

    @staticmethod
    def _faulty(gateway: Gateway, fault: Fault) -> Reply | None:
        if fault.drop:
            return None
        if fault.oversize:
            return Reply(200, b'{"padding":"' + b"x" * (2 * 1024 * 1024) + b'"}')
        if fault.html:
            return Reply(fault.status or 200, _HTML_PAGE, "text/html")
        assert fault.status is not None
        reply = gateway.failure(fault.status)
        if fault.retry_after is not None:
            reply = replace(reply, headers={**reply.headers, "Retry-After": f"{fault.retry_after:g}"})
        return reply

    def _control(self, request: Incoming) -> Reply:
        action = (request.method, request.path)
        if action == ("GET", "/_sandbox/stats"):
            return Reply.json(200, self.stats())
        if action == ("GET", "/_sandbox/requests"):
            with self._lock:
                return Reply.json(200, {"requests": list(self._recent)})
        if action == ("POST", "/_sandbox/clock"):
            try:
                offset = json.loads(request.body.decode("utf-8"))["offset"]
                if isinstance(offset, bool) or not isinstance(offset, int | float) or not abs(offset) <= MAX_OFFSET:
                    raise ValueError(offset)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
                return Reply.json(400, {"error": f'bad clock request (want {{"offset": seconds}}): {error}'})
            with self._lock:
                self._clock_offset = float(offset)
            return Reply.json(200, {"offset": offset})
        if action == ("POST", "/_sandbox/expire-tokens"):
            return Reply.json(200, {"expired": self.ledger.expire_all()})
        if action == ("POST", "/_sandbox/reset"):
            self.reset()
            return Reply.json(200, {"reset": True})
        if action == ("DELETE", "/_sandbox/faults"):
            with self._lock:
                self._faults.clear()
            return Reply.json(200, {"faults": {}})
        if action == ("POST", "/_sandbox/faults"):
            try:
                data = json.loads(request.body.decode("utf-8"))
                provider = data["provider"]
                if provider not in PROVIDERS:
                    raise KeyError(provider)
                fault = Fault.from_mapping(data, "the fault request")
            except (ValueError, KeyError, TypeError, AttributeError, ConfigError) as error:
                return Reply.json(400, {"error": f"bad fault request: {error}"})
            self.set_fault(provider, fault)
            return Reply.json(200, {"provider": provider, "fault": asdict(fault)})
        return Reply.json(404, {"error": f"no sandbox control at {request.method} {request.path}"})

    def _note(self, line: str) -> None:
        if self._log is not None:
            self._log(line)


def _same(reply: Reply) -> Reply:
    return reply


def _stamp(path: Path) -> tuple[int, int] | None:
    """What tells a file changed: its modification time and size (None when it is gone)."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _summary(reply: Reply) -> str:
    try:
        data = json.loads(reply.body)
    except ValueError:
        return ""
    code = data.get("responseCode") if isinstance(data, dict) else None
    message = data.get("responseMessage") if isinstance(data, dict) else None
    return " ".join(str(part) for part in (code, message) if part)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        if self.tls is not None:
            # The handshake happens in the request's thread, so one slow client cannot stall the others.
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a timeout, Ctrl-C) is normal for a gateway; anything else is a bug to show.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _handler_for(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "paytoken-sandbox"

        def version_string(self) -> str:
            return self.server_version

        def date_time_string(self, timestamp: float | None = None) -> str:
            # The Date header tells the gateway's clock, skewed or not: doctor reads it.
            return email.utils.formatdate(sandbox.now().timestamp(), usegmt=True)

        def handle(self) -> None:
            if isinstance(self.connection, ssl.SSLSocket):
                try:
                    self.connection.settimeout(10)
                    self.connection.do_handshake()
                    self.connection.settimeout(None)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate: that is its answer, not our error
            super().handle()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_REQUEST_BODY:
                self._send(Reply.json(413, {"error": "request body too large"}))
                return
            body = self.rfile.read(length) if length > 0 else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = sandbox.route(Incoming(self.command, self.path, headers, body))
            if reply is None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.trickle_headers:
                # end_headers writes the status line and headers in one write: make that write trickle.
                stream, self.wfile = self.wfile, _Trickling(self.wfile, reply.trickle_headers)  # type: ignore[assignment]
                try:
                    self.end_headers()
                finally:
                    self.wfile = stream
            else:
                self.end_headers()
            if self.command == "HEAD":
                return
            if reply.trickle:
                _Trickling(self.wfile, reply.trickle).write(reply.body)
            else:
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            # Requests are logged by Sandbox.route, without headers: nothing secret reaches the log.
            return

    return Handler


class _Trickling:
    """A writer that sends one byte at a time, pausing between them (the trickle faults)."""

    def __init__(self, stream: Any, pause: float) -> None:
        self._stream = stream
        self._pause = pause

    def write(self, data: bytes) -> int:
        for byte in data:
            self._stream.write(bytes([byte]))
            self._stream.flush()
            time.sleep(self._pause)
        return len(data)
