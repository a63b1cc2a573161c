"""Sending a signed request: one requests.Session, timeouts, error mapping, a redacted trace."""

from __future__ import annotations

import contextvars
import io
import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .clock import http_date, retry_after, utc_now
from .errors import ConfigError, GatewayError, NetworkError
from .redact import Redactor
from .version import __version__

if TYPE_CHECKING:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    from .gateways.base import SignedRequest

__all__ = ["CONNECT_TIMEOUT", "MAX_BODY", "Response", "Trace", "Transport", "never_arrived"]

CONNECT_TIMEOUT = 10.0
MAX_BODY = 1024 * 1024
# At most this many tries of one request, for connection errors, 502/503/504 and 429 only.
MAX_TRIES = 3
BACKOFF = 0.5  # seconds before the first retry, doubling, plus up to half of it again at random
RETRY_AFTER_CAP = 30.0
RETRY_STATUSES = frozenset({429, 502, 503, 504})

Trace = Callable[[str], None]

# How long one try of a request may take in all, connecting and reading headers and body: a gateway that
# trickles its answer a byte at a time never trips the per-read timeout, so each read is held to this.
_TRY_BUDGET: contextvars.ContextVar[float | None] = contextvars.ContextVar("paytoken_try_budget", default=None)


class OutOfTime(TimeoutError):
    """The time for one try of the request ran out while the answer was still arriving."""

    def __init__(self, received: int) -> None:
        super().__init__("the time for the whole request ran out")
        self.received = received


@dataclass(frozen=True)
class Response:
    """What the gateway answered, read in full."""

    status: int
    reason: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    elapsed: float

    @property
    def date(self) -> datetime | None:
        """The gateway's clock, from its Date header."""
        return http_date(self.headers.get("Date") or self.headers.get("date"))


class Transport:
    """One HTTP session for a run of paytoken, so connections are reused."""

    def __init__(self, *, trace: Trace | None = None, redactor: Redactor | None = None) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        def session(resend: bool) -> requests.Session:
            made = _session_that_never_follows(requests.Session)()
            made.headers["User-Agent"] = f"paytoken/{__version__}"
            adapter = _deadline_adapter(HTTPAdapter)(max_retries=_retry_policy(trace, resend=resend))
            made.mount("http://", adapter)
            made.mount("https://", adapter)
            return made

        self._session = session(resend=True)
        # For a request that must not arrive twice (a payment): tried again only when it never left. Made on
        # first use, so that a token request does not pay for it.
        self._make_session = session
        self._once: requests.Session | None = None
        self._trace = trace
        self._redactor = redactor or Redactor()

    def close(self) -> None:
        self._session.close()
        if self._once is not None:
            self._once.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(
        self, request: SignedRequest, *, timeout: float, verify: bool | str = True, idempotent: bool = True
    ) -> Response:
        """Send request and read the whole answer, or raise NetworkError / GatewayError / ConfigError.

        idempotent=False (a payment, a notification): tried again only when the connection was never made
        (refused, DNS, connect timeout); never after a 5xx, a 429, a reset or a timeout while reading.
        """
        self._trace_request(request)
        if idempotent:
            session = self._session
        else:
            if self._once is None:
                self._once = self._make_session(False)
            session = self._once
        return self._exchange(
            request.method, request.url, dict(request.headers), request.body, timeout, verify, session
        )

    def probe(self, url: str, *, timeout: float, verify: bool | str = True) -> Response:
        """HEAD url: what the gateway's front says about itself (its clock, in the Date header)."""
        if self._trace is not None:
            self._trace(self._redactor.text(f"> HEAD {url}"))
        return self._exchange("HEAD", url, {}, None, timeout, verify, self._session)

    def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None,
        timeout: float,
        verify: bool | str,
        session: requests.Session,
    ) -> Response:
        import requests
        import urllib3

        if verify is False:
            # The profile's own warning has said it; urllib3's would repeat it with a stack frame.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

        host = urlsplit(url).netloc.rpartition("@")[2]  # without any user:password@
        started = time.monotonic()
        budget = _TRY_BUDGET.set(CONNECT_TIMEOUT + timeout)
        try:
            with session.request(
                method,
                url,
                headers=headers,
                data=data,
                timeout=(CONNECT_TIMEOUT, timeout),
                verify=verify,
                allow_redirects=False,
                stream=True,
                proxies=_no_proxy_for_loopback(url),
            ) as answer:
                body = _read_capped(answer, host)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as error:
            if out_of_time := _caused_by(error, OutOfTime):
                raise _trickled(host, timeout, out_of_time) from error
            if isinstance(error, requests.exceptions.RequestException):
                raise _network_error(error, host, timeout) from error
            # Raised while the body is read (read1 is urllib3's): the answer stopped halfway.
            raise _broken_answer(error, host, timeout) from error
        finally:
            _TRY_BUDGET.reset(budget)
        response = Response(
            status=answer.status_code,
            reason=answer.reason or "",
            headers=dict(answer.headers),
            body=body,
            elapsed=time.monotonic() - started,
        )
        self._trace_response(response)
        return response

    def _trace_request(self, request: SignedRequest) -> None:
        if self._trace is None:
            return
        self._trace(self._redactor.text(f"> {request.method} {request.url}"))
        for name, value in self._redactor.headers(request.headers).items():
            self._trace(f"> {name}: {value}")
        self._trace(">")
        if request.body:
            self._trace(f"> {self._redactor.body(request.body)}")

    def _trace_response(self, response: Response) -> None:
        if self._trace is None:
            return
        self._trace(f"< HTTP {response.status} {response.reason} ({response.elapsed * 1000:.0f} ms)")
        for name, value in self._redactor.headers(response.headers).items():
            self._trace(f"< {name}: {value}")
        self._trace("<")
        if response.body:
            self._trace(f"< {self._redactor.body(response.body)}")


def _retry_policy(trace: Trace | None, *, resend: bool = True) -> Retry:
    """urllib3's Retry, told to say each retry and why, to cap Retry-After, and to back off from the first."""
    import random

    from urllib3.exceptions import ProtocolError
    from urllib3.util import Retry

    class VisibleRetry(Retry):
        def new(self, **changes: object) -> VisibleRetry:
            fresh: VisibleRetry = super().new(**changes)
            fresh.trace = self.trace  # type: ignore[attr-defined]
            return fresh

        def increment(self, *args: Any, **kwargs: Any) -> VisibleRetry:
            fresh: VisibleRetry = super().increment(*args, **kwargs)  # raises when no try is left
            response = kwargs.get("response")
            if response is not None:
                _skip_body(response)  # before urllib3 drains it, whole, for the next try
            return fresh

        def _is_connection_error(self, err: Exception) -> bool:
            # A connection closed or reset before any answer is as safe to retry as a refused one, for a token
            # request; a payment may have been taken before the reset, so it is not (resend=False).
            return super()._is_connection_error(err) or (resend and isinstance(err, ProtocolError))

        def get_retry_after(self, response: Any) -> float | None:
            # Read at the clock edge; one that is neither seconds nor a date is ignored (the usual backoff).
            value = retry_after(response.headers.get("Retry-After"), utc_now())
            return None if value is None else min(value, RETRY_AFTER_CAP)

        def get_backoff_time(self) -> float:
            tries = len(self.history)
            if tries == 0:
                return 0.0
            base: float = self.backoff_factor * 2.0 ** (tries - 1)
            return base + random.uniform(0, base / 2)  # noqa: S311 (jitter, not a secret)

        def sleep(self, response: Any = None) -> None:
            wait = self.get_retry_after(response) if response is not None else None
            wait = self.get_backoff_time() if wait is None else wait
            sink: Trace | None = getattr(self, "trace", None)
            if sink is not None and self.history:
                last = self.history[-1]
                why = f"HTTP {last.status}" if last.status else _retry_reason(last.error)
                used = response is not None and self.get_retry_after(response) is not None
                source = " (its Retry-After)" if used else ""
                sink(f"* retry {len(self.history)} of {MAX_TRIES - 1} after {why}; waiting {wait:.1f} s{source}")
            time.sleep(wait)

    policy = VisibleRetry(
        total=MAX_TRIES - 1,
        connect=MAX_TRIES - 1,
        read=False,  # a gateway that took the request and went quiet is not asked twice
        redirect=0,
        other=False,
        status=MAX_TRIES - 1 if resend else 0,
        status_forcelist=RETRY_STATUSES if resend else frozenset(),
        allowed_methods=frozenset({"GET", "POST", "HEAD"}),
        backoff_factor=BACKOFF,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    policy.trace = trace  # type: ignore[attr-defined]
    return policy


def _skip_body(response: Any) -> None:
    """Skip the body of an answer that is retried: up to MAX_BODY bytes, never decompressed, else drop it."""
    import http.client

    from urllib3.exceptions import HTTPError

    skipped = 0
    try:
        while skipped <= MAX_BODY and (chunk := response.read(65536, decode_content=False)):
            skipped += len(chunk)
    except (OSError, http.client.HTTPException, HTTPError):
        skipped = MAX_BODY + 1
    if skipped > MAX_BODY:
        response.close()  # and its connection: never reused with an answer half unread


def _retry_reason(error: Exception | None) -> str:
    from urllib3.exceptions import NewConnectionError, ProtocolError

    if isinstance(error, NewConnectionError):
        return "the connection was refused"
    if isinstance(error, ProtocolError):
        return "the connection closed without an answer"
    return _first_line(error) if error is not None else "an error"


def _session_that_never_follows(base: type[requests.Session]) -> type[requests.Session]:
    """requests' Session, told that no answer is a redirect.

    Even with allow_redirects=False, requests looks for the next request of a 3xx answer (Response.next) and
    reads its whole body first, with no cap and no deadline: a 307 with a 1 GiB body, or a gzip bomb, took
    GBs. With no redirect target, requests never touches a body; the capped reader reads every answer.
    """

    class NeverFollows(base):  # type: ignore[valid-type,misc]
        def get_redirect_target(self, resp: Any) -> None:
            return None

    return NeverFollows


def _deadline_adapter(base: type[HTTPAdapter]) -> type[HTTPAdapter]:
    """requests' adapter with connections whose every read is held to the try's deadline (see _TRY_BUDGET)."""
    import http.client

    import urllib3.poolmanager
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class DeadlineReader(io.RawIOBase):
        """The socket reader of one answer: each read waits at most until the deadline."""

        def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: float) -> None:
            self._raw, self._sock, self._deadline = raw, sock, deadline
            self._read_timeout = sock.gettimeout()
            self._received = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int | None:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise OutOfTime(self._received)
            self._sock.settimeout(left if self._read_timeout is None else min(self._read_timeout, left))
            try:
                count = self._raw.readinto(buffer)
            except TimeoutError:
                if time.monotonic() >= self._deadline:
                    raise OutOfTime(self._received) from None
                raise
            self._received += count or 0
            return count

        def close(self) -> None:
            self._raw.close()
            super().close()

    class DeadlineResponse(http.client.HTTPResponse):
        """An answer read under the try's deadline, counted from when paytoken starts waiting for it."""

        def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
            super().__init__(sock, *args, **kwargs)
            budget = _TRY_BUDGET.get()
            if budget is not None:
                # detach(): the socket file http.client opened is handed over, not closed (nothing is read yet).
                raw = self.fp.detach()
                self.fp = io.BufferedReader(DeadlineReader(raw, sock, time.monotonic() + budget))

    class DeadlineHTTPConnection(HTTPConnection):
        response_class = DeadlineResponse

    class DeadlineHTTPSConnection(HTTPSConnection):
        response_class = DeadlineResponse

    class DeadlineHTTPPool(HTTPConnectionPool):
        ConnectionCls = DeadlineHTTPConnection

    class DeadlineHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = DeadlineHTTPSConnection

    pools = {"http": DeadlineHTTPPool, "https": DeadlineHTTPSPool}

    class DeadlineAdapter(base):  # type: ignore[valid-type,misc]
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:
                manager.pool_classes_by_scheme = pools  # an HTTP proxy; a SOCKS one keeps its own connections
            return manager

    return DeadlineAdapter


def _read_capped(answer: requests.Response, host: str) -> bytes:
    """Read the whole body of any answer (a 3xx too), refusing one over MAX_BODY once decompressed."""
    from urllib3.exceptions import DecodeError

    declared = answer.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _oversized(host)
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            # urllib3 decompresses at most about what is asked for per read (no bomb in one chunk).
            chunk = answer.raw.read1(65536, decode_content=True)
        except DecodeError as error:
            raise _undecodable(host, answer.headers.get("Content-Encoding", "")) from error
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise _oversized(host)
        chunks.append(chunk)


def _undecodable(host: str, encoding: str) -> GatewayError:
    return GatewayError(
        f"{host} sent an answer that says it is compressed ({encoding[:40] or 'Content-Encoding'}) "
        "but does not decompress",
        hint="the gateway or a proxy in between garbles its answers: check base_url, or retry later",
    )


def _trickled(host: str, timeout: float, out_of_time: BaseException) -> NetworkError:
    received = getattr(out_of_time, "received", 0)
    return NetworkError(
        f"{host} was still sending its answer when the time for the whole request ran out",
        details=[
            f"{received} bytes had arrived in {CONNECT_TIMEOUT + timeout:g} s ({CONNECT_TIMEOUT:g} s to connect "
            "plus timeout)"
        ],
        hint="the gateway trickles its answer: retry later, or raise timeout in the profile",
    )


def _oversized(host: str) -> GatewayError:
    return GatewayError(
        f"{host} sent an answer larger than {MAX_BODY // 1024} KiB; paytoken refuses to read it",
        hint="a token answer is a few hundred bytes: check base_url and the token path",
    )


def _no_proxy_for_loopback(url: str) -> dict[str, str] | None:
    # The local sandbox must never be sent through a corporate proxy from the environment.
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    # requests drops proxy entries set to None after merging the environment's: typed as str for its stubs.
    return {"http": None, "https": None, "all": None} if loopback else None  # type: ignore[dict-item]


def _caused_by(error: BaseException, *types: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, types):
            return current
        stack += [current.__cause__, current.__context__]
        stack += [arg for arg in current.args if isinstance(arg, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return None


def _network_error(error: requests.exceptions.RequestException, host: str, timeout: float) -> Exception:
    import requests

    if isinstance(error, requests.exceptions.SSLError):
        reason = _tls_reason(str(error))
        if "expired" in reason:
            hint = "the gateway must renew its certificate; check this machine's date too (`date -u`)"
        elif "host name" in reason:
            hint = "check the host in base_url: the certificate names another one"
        else:
            hint = (
                "if the gateway uses a private CA, set ca_bundle in the profile; never turn verify_tls off "
                "for production"
            )
        return NetworkError(f"TLS with {host} failed: {reason}", hint=hint, quoted=[reason])
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return NetworkError(
            f"could not connect to {host} within {CONNECT_TIMEOUT:.0f} s",
            hint="check the network path to the gateway (VPN, firewall, IP allow-list)",
        )
    if isinstance(error, requests.exceptions.ReadTimeout):
        return NetworkError(
            f"{host} accepted the connection but did not answer within {timeout:g} s",
            hint="retry later, or raise timeout in the profile",
        )
    if isinstance(
        error, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema | requests.exceptions.MissingSchema
    ):
        return ConfigError(
            f"the URL for {host or 'the gateway'} is not valid: {error}", hint="fix base_url", quoted=[str(error)]
        )
    if isinstance(error, requests.exceptions.ConnectionError):
        if _caused_by(error, socket.gaierror):
            return NetworkError(
                f"cannot resolve {host.rsplit(':', 1)[0]}: no such host, or no DNS",
                hint="check base_url's host name and this machine's DNS",
            )
        if _caused_by(error, ConnectionRefusedError):
            return NetworkError(
                f"{host} refused the connection",
                hint="nothing is listening there: check base_url (is `paytoken sandbox` running?)",
            )
        import http.client

        if _caused_by(error, http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError):
            what = f"{host} closed the connection without answering"
        else:
            what = f"the connection to {host} broke before a full answer arrived"
        return NetworkError(
            what,
            hint="retry; if it persists, the gateway or a proxy in between is dropping connections",
        )
    return NetworkError(f"request to {host} failed: {_first_line(error)}", quoted=[_first_line(error)])


def never_arrived(error: BaseException) -> bool:
    """Tell whether a failed send certainly never reached the gateway: refused, no such host, no connection made."""
    import requests

    return isinstance(error.__cause__, requests.exceptions.ConnectTimeout) or (
        _caused_by(error, ConnectionRefusedError, socket.gaierror) is not None
    )


def _broken_answer(error: Exception, host: str, timeout: float) -> NetworkError:
    from urllib3.exceptions import ReadTimeoutError

    if isinstance(error, ReadTimeoutError):
        return NetworkError(
            f"{host} stopped sending its answer halfway and was silent for {timeout:g} s",
            hint="retry later, or raise timeout in the profile",
        )
    return NetworkError(
        f"the connection to {host} broke before a full answer arrived",
        hint="retry; if it persists, the gateway or a proxy in between is dropping connections",
    )


def _tls_reason(text: str) -> str:
    lowered = text.lower()
    if "certificate has expired" in lowered:
        return "the server's certificate has expired"
    if "mismatch" in lowered or "doesn't match" in lowered or "not valid for" in lowered:
        return "the certificate is for another host name (hostname mismatch)"
    if "self-signed" in lowered or "self signed" in lowered:
        return "the certificate is self-signed (unknown CA)"
    if "unable to get local issuer" in lowered or "certificate verify failed" in lowered:
        return "the certificate is signed by an unknown CA"
    if "wrong version number" in lowered:
        return "the server does not speak TLS on that port (is base_url http://?)"
    return _first_line_text(text)


def _first_line(error: BaseException) -> str:
    return _first_line_text(str(error))


def _first_line_text(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else "unknown error"
