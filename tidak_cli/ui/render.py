"""Output: token / json / env / header as plain text (no Rich, for the fast path), pretty views with Rich."""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ..clock import SIGNATURE_WINDOW, humanize_seconds, utc_now
from ..export import SHELL_FORMATS, iso_utc, shell_lines
from ..getting import env_assignments
from ..redact import Redactor
from .output import json_text, shown

if TYPE_CHECKING:
    from rich.console import Console

    from ..doctor import Check
    from ..forensics import Comparison, Replay
    from ..gateways.base import CallReplay, SignedRequest
    from ..tokens import TokenResult

__all__ = [
    "PLAIN_FORMATS",
    "console",
    "curl_command",
    "expires_in",
    "markup_text",
    "pretty_sign",
    "pretty_token",
    "sign_json",
    "token_text",
    "visible",
]

# The -o formats of get that token_text writes, without Rich; `pretty` is the fifth.
PLAIN_FORMATS = ("token", "json", "header", *SHELL_FORMATS)


def console(*, stderr: bool = False) -> Console:
    """A Rich console: colour only on a terminal, NO_COLOR honoured (Rich reads it)."""
    stream = sys.stderr if stderr else sys.stdout
    # Off a terminal (a pipe, a log file) tables are not squeezed into 80 columns.
    width = None if stream.isatty() else 200
    return _console_class()(stderr=stderr, highlight=False, soft_wrap=True, width=width)


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class PaytokenConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich would exit 1 here; paytoken ends on a closed pipe in one place, with SIGPIPE's status.
            raise BrokenPipeError

    return PaytokenConsole


# --- get ---------------------------------------------------------------------------------------------


def expires_in(result: TokenResult, now: datetime | None = None) -> int | None:
    """Seconds the token has left now."""
    expires_at = result.token.expires_at
    if expires_at is None:
        return result.token.expires_in
    return max(0, int((expires_at - (now or utc_now())).total_seconds()))


def token_text(result: TokenResult, output: str, *, env_prefix: str = "PAYTOKEN_") -> str:
    """Render a token as `token`, `json`, `header` or shell text (`env`, `fish`, …), ending in a newline."""
    token = result.token
    if output == "token":
        return token.access_token + "\n"
    if output == "header":
        return f"Authorization: {token.token_type} {token.access_token}\n"
    if output in SHELL_FORMATS:
        return shell_lines(env_assignments(result, env_prefix), output)
    if output == "json":
        document = {
            "provider": result.provider,
            "profile": result.profile,
            "access_token": token.access_token,
            "token_type": token.token_type,
            "expires_in": expires_in(result),
            "expires_at": iso_utc(token.expires_at),
            "cached": result.cached,
            "response": token.response,
        }
        return json_text(document)
    raise ValueError(f"not a plain output format: {output}")


def pretty_token(result: TokenResult, out: Console) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    expires_at = result.token.expires_at
    if expires_at is None:
        expires = "unknown (the gateway did not say)"
    else:
        left = expires_in(result) or 0
        local = expires_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        expires = f"{local} (in {humanize_seconds(left)})"
    for label, value in (
        ("provider", result.provider),
        ("profile", result.profile),  # a profile name is the user's text: "x[/]y" is no markup
        ("token type", result.token.token_type),
        ("expires", expires),
        ("cached", "yes" if result.cached else "no, fresh from the gateway"),
    ):
        table.add_row(label, Text(shown(value)))
    out.print(Panel(table, title="paytoken", title_align="left", expand=False))
    # The token goes below the box, on a line of its own, so that copying it picks up no border.
    out.print(Text(shown(result.token.access_token), style="green"), soft_wrap=True)


# --- sign --------------------------------------------------------------------------------------------

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """Make control characters, non-ASCII and trailing spaces visible, keeping line breaks readable."""
    lines = text.split("\n")
    shown = [_visible_line(line) for line in lines]
    # Each line break is written \n at the end of its line, and then really broken.
    return "\n".join(line + ("\\n" if index < len(lines) - 1 else "") for index, line in enumerate(shown))


def _visible_line(line: str) -> str:
    body = line.rstrip(" ")
    out: list[str] = []
    for char in body:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) > 0x7E:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return "".join(out) + "·" * (len(line) - len(body))


def sign_json(
    request: SignedRequest, comparison: Comparison | None = None, replay: Replay | CallReplay | None = None
) -> str:
    document: dict[str, object] = {
        "provider": request.provider,
        "method": request.method,
        "url": request.url,
        "headers": dict(request.headers),
        "body": request.body_text,
        "string_to_sign": request.string_to_sign,
        "signature": request.signature,
        "algorithm": request.algorithm,
    }
    if request.derivation:
        document["derivation"] = dict(request.derivation)
    if replay is not None:
        document["replay"] = {
            "signature": replay.signature,
            "problems": list(replay.problems),
            "cautions": list(replay.cautions),
        }
    if comparison is not None:
        document["compare"] = {
            "matches": comparison.matches,
            "mistake": comparison.mistake,
            "findings": list(comparison.findings),
            "fix": comparison.hint,
        }
    return json_text(document)


def curl_command(request: SignedRequest) -> str:
    import shlex

    parts = [f"curl -sS -X {request.method} {shlex.quote(request.url)}"]
    parts += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in request.headers.items()]
    if request.body is not None:
        parts.append(f"--data-raw {shlex.quote(request.body.decode('utf-8'))}")
    return " \\\n  ".join(parts) + "\n"


def pretty_sign(
    request: SignedRequest,
    out: Console,
    *,
    redactor: Redactor | None = None,
    comparison: Comparison | None = None,
    note: str = "nothing sent",
    replay: Replay | CallReplay | None = None,
    hex_dump: bool = False,
) -> None:
    from rich.rule import Rule

    redactor = redactor or Redactor()
    data = request.string_to_sign.encode("utf-8")
    out.print(Rule(f"[bold]{markup_text(request.provider)}[/] · signed request ({markup_text(note)})", align="left"))
    out.print(f"[bold]{markup_text(request.method)}[/] {markup_text(redactor.text(request.url))}")
    out.print()
    out.print(f"[bold]String to sign[/] ({len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()})")
    out.print(_indented(markup_text(redactor.text(visible(request.string_to_sign)))), style="cyan")
    if hex_dump:
        masked = redactor.text(request.string_to_sign)
        if masked != request.string_to_sign:
            out.print("  [dim](hex of the string as shown: the secret part is masked)[/]")
        out.print(_indented(markup_text(hexdump(masked.encode("utf-8")))))
    for label, value in request.derivation:
        out.print(f"[bold]{markup_text(label)}[/]  {markup_text(value)}")
    out.print(f"[bold]Algorithm[/]  {markup_text(request.algorithm)}")
    out.print(f"[bold]Signature[/]  [green]{markup_text(request.signature)}[/]")
    out.print()
    out.print("[bold]Headers[/]")
    for name, value in redactor.headers(request.headers).items():
        out.print(f"  {markup_text(name)}: {markup_text(value)}")
    if request.body is not None:
        text = request.body_text or ""
        # visible() writes a non-ASCII character as \uXXXX, which in a JSON body reads like JSON's own escape.
        unicode = any(ord(char) > 0x7E for char in text)
        how = "non-ASCII shown as \\uXXXX here, sent as UTF-8" if unicode else "sent exactly as shown"
        out.print(f"[bold]Body[/] ({len(request.body)} bytes, {how})")
        out.print(_indented(markup_text(visible(request.body_text or ""))))
    else:
        out.print("[bold]Body[/]  none")
    if request.signed_at is not None and replay is None:
        until = (request.signed_at + SIGNATURE_WINDOW).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        out.print()
        out.print(f"Valid until about {until}: gateways accept a signed timestamp for about 5 minutes.")
    if replay is not None:
        out.print()
        out.print("[bold]Capture[/]  the request above is re-signed from the capture's own timestamp and id")
        for problem in replay.problems:
            out.print(f"  [red]✗[/] {markup_text(problem)}")
        for caution in replay.cautions:
            out.print(f"  [yellow]![/] {markup_text(caution)}")
        if not replay.problems and not replay.cautions:
            out.print("  [green]✓[/] headers, formats and client id as the gateway wants them")
    if comparison is not None:
        out.print()
        if replay is not None:
            verdict = "the captured signature " + ("[green]is right[/]" if comparison.matches else "[red]is wrong[/]")
        else:
            verdict = "the given signature " + ("[green]matches[/]" if comparison.matches else "[red]differs[/]")
        out.print(f"[bold]Compare[/]  {verdict}")
        # Findings quote signed strings, which may hold a secret in disguise or a token: masked as the string is.
        for finding in comparison.findings:
            out.print(f"  {markup_text(redactor.text(finding))}")
        if comparison.hint and not comparison.matches:
            out.print(f"  [bold]fix:[/] {markup_text(redactor.text(comparison.hint))}")


def hexdump(data: bytes, width: int = 16) -> str:
    """Offset, hex bytes and printable ASCII, 16 bytes a line, as `xxd` shows them."""
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in chunk)
        lines.append(f"{offset:08x}  {chunk.hex(' '):<{width * 3 - 1}}  {text}")
    return "\n".join(lines)


def markup_text(text: str) -> str:
    """Outside text for a Rich markup string: terminal-acting characters escaped (shown), then markup escaped."""
    from rich.markup import escape as markup_escape

    return markup_escape(shown(text))


def _indented(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


# --- errors and notes --------------------------------------------------------------------------------


def doctor_line(check: Check, out: Console, redactor: Redactor | None = None) -> None:
    """One doctor check: a mark, its name, what was seen, and the fix when it is not ok; secrets masked."""
    from dataclasses import replace

    redactor = redactor or Redactor()
    # paytoken's sentences: secrets masked in the outside values they quote, never in doctor's own words.
    fix = redactor.sentence(check.fix, check.quoted) if check.fix else None
    check = replace(check, detail=redactor.sentence(check.detail, check.quoted), fix=fix)
    mark = {"ok": "[green]✓ ok[/]     ", "warning": "[yellow]! warning[/]", "failure": "[red]✗ failure[/]"}
    out.print(f"{mark[check.status]}  [bold]{markup_text(check.name)}[/]: {markup_text(check.detail)}")
    if check.fix and check.status != "ok":
        out.print(f"             [bold]fix:[/] {markup_text(check.fix)}")


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    out: Console,
    widths: Sequence[int] = (),
) -> None:
    # Off a terminal, no box: columns that `cut`, `awk` and `column -t` can read.
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # Plain text, never markup: values such as "[nicepay.dev]" must print as they are; and shown(): a cell may
    # hold outside text (a Redis key, a cache entry's fields, a profile's values).
    view = Table(
        title=Text(shown(title)) if title else None,
        title_justify="left",
        header_style="bold",
        box=box.HEAVY_HEAD if out.is_terminal else None,
        show_edge=out.is_terminal,
        pad_edge=out.is_terminal,
    )
    # widths: the columns' least widths, so that tables printed one under another line up.
    for index, column in enumerate(columns):
        view.add_column(Text(shown(column)), overflow="fold", min_width=widths[index] if index < len(widths) else None)
    for row in rows:
        view.add_row(*(Text(shown(cell)) for cell in row))
    out.print(view)
