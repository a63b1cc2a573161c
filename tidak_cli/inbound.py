"""Read a request as it reached a receiver, byte for byte: the notification `paytoken verify` judges.

A notification's signature covers the body's exact bytes, so the body is taken as captured, never decoded and
written again: from raw HTTP (`nc -l`, a proxy's "copy as raw", Go's httputil.DumpRequest; CRLF or LF) its
length is the request's Content-Length (a file's own trailing newline is not the body's), a chunked body is
put back together, and a capture that holds less than its Content-Length is refused as truncated. Also read:
`tcpdump -A` output (lossy: it prints a non-printable byte as `.` and drops a CR before a LF), a JSON request
dump (`{"method", "path" or "url", "headers", "body"}`, as webhook.site and httpbin show one), and the curl
forms of capture.py. A header given twice stays twice (`repeated`): a receiver must not guess which counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .capture import parse_capture
from .errors import UsageError

__all__ = ["Inbound", "read_inbound"]

_METHODS = r"GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_REQUEST_LINE = re.compile(rf"^({_METHODS}) (\S+) HTTP/(?:1\.[01]|2(?:\.0)?)$")
_ANYWHERE = re.compile(rf"({_METHODS}) \S+ HTTP/1\.[01]\n")
_HEADER = re.compile(r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$")
# tcpdump's line for each packet: `12:34:56.789012 IP 127.0.0.1.5000 > 127.0.0.1.8080: Flags [P.], …, length 299`
_TCPDUMP = re.compile(r"^\d\d:\d\d:\d\d\.\d+ IP6? (\S+) > (\S+): .*\blength (\d+)")
_SHOWN = 80


@dataclass(frozen=True)
class Inbound:
    """A request as the receiver got it: method, target (path and query), every header in order, exact body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    body: bytes = field(repr=False)
    form: str
    notes: tuple[str, ...] = ()  # what the capture's form may have changed

    def header(self, name: str) -> str | None:
        """The value of header name (any letter case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def repeated(self) -> list[str]:
        """The header names given more than once."""
        seen: dict[str, int] = {}
        for key, _ in self.headers:
            seen[key.lower()] = seen.get(key.lower(), 0) + 1
        return [key for key, count in seen.items() if count > 1]

    @property
    def path(self) -> str:
        """The path without its query."""
        return urlsplit(self.target).path or "/"


def read_inbound(data: bytes, source: str = "the capture") -> Inbound:
    """Read a captured request in any of the forms above; UsageError (what, why, fix) for anything else."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    start = data.lstrip()
    if not start:
        raise UsageError(f"{source} is empty", hint="give the request as received: raw HTTP, from `nc -l` or a proxy")
    text = data.decode("utf-8", errors="replace")
    if any(_TCPDUMP.match(line) for line in text.splitlines()[:50]):
        return _from_tcpdump(text, source)
    if start[:1] == b"{":
        return _from_json_dump(start, source)
    first = start.split(None, 1)[0]
    if first == b"curl" or first.endswith(b"/curl") or re.search(rb"^> ", data, re.MULTILINE):
        captured = parse_capture(data, source)
        target = urlsplit(captured.target)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        headers = tuple((name, value) for name, value in captured.headers.items())
        return Inbound(captured.method, path, headers, captured.body or b"", captured.form)
    return _from_raw(data.lstrip(b"\r\n"), source, "raw HTTP")


def _shown(line: bytes | str) -> str:
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    return repr(text[:_SHOWN])


def _from_raw(data: bytes, source: str, form: str, notes: tuple[str, ...] = ()) -> Inbound:
    ends = [(index, len(mark)) for mark in (b"\r\n\r\n", b"\n\n") if (index := data.find(mark)) >= 0]
    if ends:
        end, width = min(ends)
        head, body, complete = data[:end], data[end + width :], True
    else:
        head, body, complete = data.rstrip(b"\r\n"), b"", False
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    request = _REQUEST_LINE.match(lines[0].decode("latin-1").strip())
    if request is None:
        raise UsageError(
            f"{source} is not an HTTP request",
            details=[f"first line: {_shown(lines[0])}"],
            quoted=[_shown(lines[0])],
            hint="give the request as received, starting with its request line (`POST /notify HTTP/1.1`): "
            "from `nc -l`, a proxy's raw view, tcpdump -A, or a curl command",
        )
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            decoded = None
        header = _HEADER.match(decoded) if decoded is not None and "\x00" not in decoded else None
        if header is None:
            raise UsageError(
                f"line {number} of {source} is not a header",
                details=[f"line: {_shown(line)}"],
                quoted=[_shown(line)],
                hint="headers are `Name: value` lines, ended by one blank line before the body",
            )
        headers.append((header.group(1), header.group(2)))
    method, target = request.group(1), request.group(2)
    found = Inbound(method, _target(target, source), tuple(headers), b"", form, notes)
    return _with_body(found, body, complete, source)


def _target(target: str, source: str) -> str:
    try:
        parts = urlsplit(target)
    except ValueError as error:
        raise UsageError(f"{source} requests a malformed target: {target[:_SHOWN]!r} ({error})") from None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _with_body(found: Inbound, body: bytes, complete: bool, source: str) -> Inbound:
    lengths = {value.strip() for key, value in found.headers if key.lower() == "content-length"}
    chunked = "chunked" in (found.header("Transfer-Encoding") or "").lower()
    if len(lengths) > 1 or any(not value.isdigit() for value in lengths):
        raise UsageError(
            f"{source} has a Content-Length that cannot be read: {', '.join(sorted(lengths))[:_SHOWN]}",
            hint="a request has one Content-Length, a number; a receiver must refuse anything else",
        )
    if chunked:
        return _replace_body(found, _dechunked(body, source))
    if lengths:
        declared = int(lengths.pop())
        if len(body) < declared or (declared and not complete):
            raise UsageError(
                f"{source} is truncated: Content-Length says {declared} bytes, the capture holds {len(body)}",
                hint="capture the whole request (nc -l, or a proxy's raw view); a copy from a terminal may cut it",
            )
        extra = body[declared:]
        if extra.strip():
            raise UsageError(
                f"{source} holds {len(extra)} bytes after the {declared} that Content-Length announces",
                hint="give one request per capture, or fix Content-Length if the body was edited",
            )
        return _replace_body(found, body[:declared])
    # No length given: the body runs to the end, less the newline a file or terminal adds after it.
    return _replace_body(found, body.rstrip(b"\r\n"))


def _replace_body(found: Inbound, body: bytes) -> Inbound:
    return Inbound(found.method, found.target, found.headers, body, found.form, found.notes)


def _dechunked(body: bytes, source: str) -> bytes:
    parts: list[bytes] = []
    rest = body
    while True:
        line, separator, rest = rest.partition(b"\n")
        size_text = line.split(b";", 1)[0].strip()
        if not separator or not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_text):
            raise UsageError(
                f"{source} says Transfer-Encoding: chunked, but its body is not in chunks",
                hint="capture the request as it arrived, or give it with a Content-Length",
            )
        size = int(size_text, 16)
        if size == 0:
            return b"".join(parts)
        if len(rest) < size:
            raise UsageError(f"{source} is truncated inside a chunk of its body", hint="capture the whole request")
        parts.append(rest[:size])
        rest = rest[size:].removeprefix(b"\r\n").removeprefix(b"\n")


def _packets(text: str) -> Iterator[tuple[str, int, str]]:
    """tcpdump -A's packets: the direction (`A > B`), the payload length, and what it printed of the packet."""
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        summary = _TCPDUMP.match(lines[index])
        index += 1
        if summary is None:
            continue
        shown: list[str] = []
        while index < len(lines) and not _TCPDUMP.match(lines[index]):
            shown.append(lines[index])
            index += 1
        yield f"{summary.group(1)} > {summary.group(2)}", int(summary.group(3)), "\n".join(shown).rstrip("\n")


def _from_tcpdump(text: str, source: str) -> Inbound:
    direction: str | None = None
    payload: list[str] = []
    for way, length, shown in _packets(text):
        if not length:
            continue
        if direction is None:
            start = _ANYWHERE.search(shown)
            if start is None:
                continue
            direction = way
            payload.append(shown[start.start() :])
        elif way == direction:
            # The packet's own headers come first, printed as characters: its payload is the last `length`.
            payload.append(shown[-length:])
    if direction is None:
        raise UsageError(
            f"{source} is tcpdump output without an HTTP request in it",
            hint="capture with `tcpdump -A -s 0 -i lo 'tcp port 8080'` while the notification arrives",
        )
    note = (
        "tcpdump -A prints a non-printable byte as `.` and drops a CR before a LF: a body holding either "
        "is not shown as it was sent"
    )
    return _from_raw("".join(payload).encode("utf-8"), source, "tcpdump -A output", (note,))


def _from_json_dump(data: bytes, source: str) -> Inbound:
    try:
        dump = json.loads(data.decode("utf-8"))
    except (UnicodeError, ValueError, RecursionError):
        dump = None
    if not isinstance(dump, dict):
        raise UsageError(
            f"{source} starts like JSON but is not a request dump",
            hint='a JSON dump is an object with "method", "path" (or "url"), "headers" and "body"',
        )
    method, target = dump.get("method"), dump.get("path") or dump.get("url")
    headers = dump.get("headers")
    body = next((dump[key] for key in ("body", "content", "data") if key in dump), "")
    if not isinstance(method, str) or not isinstance(target, str) or not isinstance(headers, dict):
        raise UsageError(
            f"{source} is JSON without a request's method, path and headers",
            hint='give {"method": "POST", "path": "/notify", "headers": {...}, "body": "..."}',
        )
    if not isinstance(body, str):
        raise UsageError(
            f"{source} holds the body as parsed JSON, not as the text that was sent",
            hint="a signature covers the body's exact bytes: dump the raw body as a string",
        )
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((str(name), str(one)))
    return Inbound(method.upper(), _target(target, source), tuple(pairs), body.encode("utf-8"), "JSON request dump")
