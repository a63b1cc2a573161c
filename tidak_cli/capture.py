"""Read a request captured from someone's application: raw HTTP (as proxies log it), `curl -v` output, a curl command.

`curl -v` prints the request it sends as `>` lines, among its own `*` notes, `<` response lines, `{ [N bytes
data]` / `} [N bytes data]` markers, a `Note:` line and (without -s) its progress meter; it never prints the
request body, only how many bytes it had. So the body of a `-v` capture is taken from, first that fits: text
pasted after the `>` lines, the curl command line if the capture holds it (a terminal pasted whole, `set -x`),
or text pasted after the whole transcript whose length is the request's Content-Length. Without any, the body
is "not shown" (`Captured.hidden_body`), which is not "no body": checks that need it say so.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from .errors import UsageError

__all__ = ["Captured", "parse_capture"]

_REQUEST_LINE = re.compile(r"^([A-Z]{3,10})\s+(\S+)(?:\s+HTTP/\d(?:\.\d)?)?\s*$")
_HEADER = re.compile(r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$")
_DATA_FLAGS = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--json"}
_VALUE_FLAGS = {
    "-X",
    "--request",
    "-H",
    "--header",
    "-u",
    "--user",
    "--url",
    "-A",
    "--user-agent",
    "-o",
    "--output",
    "-m",
    "--max-time",
    "--connect-timeout",
    "-e",
    "--referer",
    "--cacert",
    "--cert",
    "--key",
    "-w",
    "--write-out",
    "-x",
    "--proxy",
    "--resolve",
    "-b",
    "--cookie",
}


@dataclass(frozen=True)
class Captured:
    """A captured request: what the application sent, as far as the capture shows it."""

    method: str
    target: str  # as written: a path (with its query) or a full URL
    headers: Mapping[str, str] = field(repr=False)  # names lowercased; the last value of a repeated header
    body: bytes | None = field(repr=False)
    form: str  # "raw HTTP", "curl -v output" or "curl command"
    # A `curl -v` capture without the body it sent: how many bytes curl said it sent.
    hidden_body: int | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def relative_target(self) -> str:
        """The target as a path with its query, as a call signs it (the host of a full URL dropped)."""
        parts = urlsplit(self.target)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _checked_target(target: str, source: str) -> str:
    try:
        urlsplit(target)
    except ValueError as error:
        raise UsageError(
            f"{source} requests a malformed URL: {target[:80]!r} ({error})", quoted=[repr(target[:80]), str(error)]
        ) from None
    return target


def parse_capture(data: bytes, source: str = "the capture") -> Captured:
    """Parse raw HTTP or a curl command line; UsageError says what is wrong with anything else."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").lstrip("\ufeff")
    if not text.strip():
        raise UsageError(f"{source} is empty", hint="paste the request as raw HTTP, or as the curl command")
    lines = text.split("\n")
    if any(_CURL_SENT.match(line) for line in lines):
        return _parse_curl_verbose(lines, source)
    first = text.lstrip().split(None, 1)[0]
    if first == "curl" or first.endswith("/curl"):
        return _parse_curl(text, source)
    return _parse_raw(text, source)


# What `curl -v` writes about the request it sends ("> " lines, and ">" alone for the blank line ending them).
_CURL_SENT = re.compile(r"^>( |$)")
# curl's other lines: its notes, the answer, its data markers, its warnings and its progress meter (the meter
# redraws with carriage returns, and the first note may follow it on the same line).
_CURL_OWN = re.compile(r"^(?:[*<]( |$)|[{}] \[\d+ bytes data\]\s*$|(?:Note|Warning): |\s+% Total\s|\s+Dload\s)|\r")
# A shell prompt or `set -x` before a command: `$ curl …`, `+ curl …`.
_COMMAND = re.compile(r"^\s*(?:[$#+]\s+)?(?:\S*/)?curl\s")


def _parse_curl_verbose(lines: list[str], source: str) -> Captured:
    sent = [line[2:] if line.startswith("> ") else "" for line in lines if _CURL_SENT.match(line)]
    end = len(sent)
    while end and not sent[end - 1].strip():
        end -= 1
    head = _parse_raw("\n".join(sent[:end]) + "\n", source)
    length = _content_length(head.headers.get("content-length"))
    # The text that is not curl's, in runs: before the first answer line, and after it.
    runs_before, runs_after = _pasted_runs(lines)
    pasted = next((run.encode("utf-8") for run in runs_before if not _COMMAND.match(run)), None)
    command = _curl_command(lines)
    candidates = [pasted, command.body if command is not None else None, *(run.encode() for run in runs_after)]
    fitting = [body for body in candidates if body and (length is None or len(body) == length)]
    # Text pasted right after the `>` lines is the body the user means, even if its length is off (the
    # signature check then judges it); text after the answer counts only when its length fits (else it is the
    # answer's body, printed by curl on stdout).
    body = fitting[0] if fitting else pasted
    hidden = length if body is None and length else None
    return replace(head, body=body, form="curl -v output", hidden_body=hidden)


def _content_length(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def _pasted_runs(lines: list[str]) -> tuple[list[str], list[str]]:
    """The runs of lines that are neither curl's nor the request's: those before the answer, those after."""
    before: list[str] = []
    after: list[str] = []
    current: list[str] = []
    answered = False

    def close() -> None:
        text = "\n".join(current).strip("\n")
        if text.strip():
            (after if answered else before).append(text)
        current.clear()

    for line in lines:
        if _CURL_SENT.match(line) or _CURL_OWN.search(line):
            close()
            answered = answered or line.startswith("<")
        else:
            current.append(line)
    close()
    return before, after


def _curl_command(lines: list[str]) -> Captured | None:
    """The curl command in the capture (with its continuation lines), if it holds one that can be read."""
    for index, line in enumerate(lines):
        if _COMMAND.match(line) and not _CURL_SENT.match(line):
            words = [_COMMAND.sub("curl ", line, count=1)]
            while words[-1].rstrip().endswith("\\") and index + 1 < len(lines):
                index += 1
                words.append(lines[index])
            try:
                return _parse_curl("\n".join(words), "the curl command")
            except UsageError:
                return None
    return None


def _parse_raw(text: str, source: str) -> Captured:
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    match = _REQUEST_LINE.match(lines[0].strip()) if lines else None
    if match is None:
        raise UsageError(
            f"{source} is neither raw HTTP nor a curl command",
            details=[f"first line: {lines[0][:80]!r}" if lines else "no lines"],
            quoted=[repr(lines[0][:80])] if lines else [],
            hint="raw HTTP starts with a request line such as `POST /path HTTP/1.1`; a curl command with `curl`",
        )
    headers: dict[str, str] = {}
    index = 1
    while index < len(lines) and lines[index].strip():
        header = _HEADER.match(lines[index])
        if header is None:
            raise UsageError(
                f"line {index + 1} of {source} is not a header",
                details=[f"line: {lines[index][:80]!r}"],
                quoted=[repr(lines[index][:80])],
                hint="headers are `Name: value` lines; a blank line separates them from the body",
            )
        headers[header.group(1).lower()] = header.group(2)
        index += 1
    body_text = "\n".join(lines[index + 1 :]) if index < len(lines) else ""
    # Trailing newlines come from the file, not from the request; keep the body's own bytes otherwise.
    body = body_text.rstrip("\n").encode("utf-8") if body_text.strip() else None
    return Captured(match.group(1), _checked_target(match.group(2), source), headers, body, "raw HTTP")


def _parse_curl(text: str, source: str) -> Captured:
    try:
        words = shlex.split(text.replace("\\\n", " "))
    except ValueError as error:
        raise UsageError(
            f"{source} is a curl command that cannot be split: {error}", hint="check its quotes", quoted=[str(error)]
        ) from None
    method: str | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    data: list[str] = []
    position = 1
    while position < len(words):
        word = words[position]
        name, equals, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        takes_value = name in _VALUE_FLAGS | _DATA_FLAGS
        if takes_value and not equals:
            if position + 1 >= len(words):
                raise UsageError(f"{word} at the end of {source} has no value")
            value = words[position + 1]
            position += 2
        elif takes_value:
            value = attached
            position += 1
        else:
            position += 1
            if not word.startswith("-") and url is None:
                url = word
            continue
        if name in ("-X", "--request"):
            method = value.upper()
        elif name in ("-H", "--header"):
            header_name, _, header_value = value.partition(":")
            headers[header_name.strip().lower()] = header_value.strip()
        elif name in ("-u", "--user"):
            headers["authorization"] = "Basic " + base64.b64encode(value.encode()).decode()
        elif name == "--url":
            url = value
        elif name in _DATA_FLAGS:
            data.append(value)
            if name == "--json":
                headers.setdefault("content-type", "application/json")
                headers.setdefault("accept", "application/json")
    if url is None:
        raise UsageError(f"{source} is a curl command without a URL")
    body = "&".join(data).encode("utf-8") if data else None
    method = method or ("POST" if body is not None else "GET")
    return Captured(method, _checked_target(url, source), headers, body, "curl command")


def bearer_token(authorization: str | None) -> str | None:
    """The token of a `Bearer` authorization header (the scheme in any letter case), or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def basic_user(authorization: str | None) -> str | None:
    """The user of a Basic authorization header, or None."""
    if not authorization or not authorization.startswith("Basic "):
        return None
    try:
        return base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
