"""Read a request captured from someone's application: raw HTTP (as proxies and `curl -v` log it) or a curl command."""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    form: str  # "raw HTTP" or "curl command"

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"


def _checked_target(target: str, source: str) -> str:
    try:
        urlsplit(target)
    except ValueError as error:
        raise UsageError(f"{source} requests a malformed URL: {target[:80]!r} ({error})") from None
    return target


def parse_capture(data: bytes, source: str = "the capture") -> Captured:
    """Parse raw HTTP or a curl command line; UsageError says what is wrong with anything else."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").lstrip("\ufeff")
    if not text.strip():
        raise UsageError(f"{source} is empty", hint="paste the request as raw HTTP, or as the curl command")
    first = text.lstrip().split(None, 1)[0]
    if first == "curl" or first.endswith("/curl"):
        return _parse_curl(text, source)
    return _parse_raw(text, source)


def _parse_raw(text: str, source: str) -> Captured:
    lines = text.split("\n")
    # `curl -v` writes the request as "> " lines among "*" and "<" lines; keep the request's.
    if any(line.startswith("> ") for line in lines):
        lines = [
            line[2:] if line.startswith("> ") else "" if line.strip() == ">" else line
            for line in lines
            if not line.startswith(("* ", "< ", "{ ", "} "))
        ]
    while lines and not lines[0].strip():
        lines.pop(0)
    match = _REQUEST_LINE.match(lines[0].strip()) if lines else None
    if match is None:
        raise UsageError(
            f"{source} is neither raw HTTP nor a curl command",
            details=[f"first line: {lines[0][:80]!r}" if lines else "no lines"],
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
        raise UsageError(f"{source} is a curl command that cannot be split: {error}", hint="check its quotes") from None
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


def basic_user(authorization: str | None) -> str | None:
    """The user of a Basic authorization header, or None."""
    if not authorization or not authorization.startswith("Basic "):
        return None
    try:
        return base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
