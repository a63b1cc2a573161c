"""`paytoken sign PROVIDER`: the token request signed and shown, nothing sent; --compare and --replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..gateways.base import Provider
from ..getting import check_timestamp, provider_values
from ..inspection import inspect_request, mismatch
from ..ui.output import write_output
from ..ui.session import current, load
from .base import err, out, provider_group
from .options import SIGN

__all__ = ["command", "sign_app"]


def _sign(
    provider: Provider,
    extras: dict[str, Any],
    *,
    profile: str | None,
    profiles_file: Path | None,
    timestamp: str | None,
    base_url: str | None,
    output: Any,
    compare: str | None,
    replay: Path | None,
    hex: bool,
    debug: bool,
) -> None:
    from ..ui.render import curl_command, pretty_sign, sign_json

    del debug  # read by the command wrapper
    run = current()
    overrides, nonce = provider_values(provider, extras)
    resolved = load(provider, profile, profiles_file, {"base_url": base_url, **overrides}, run)
    found = inspect_request(provider, resolved, timestamp=timestamp, nonce=nonce, compare=compare, replay=replay)
    check_timestamp(found.replay.timestamp if found.replay else timestamp, found.request, provider, run.warn)
    if output == "json":
        write_output(sign_json(found.request, found.comparison, found.replay))
    elif output == "curl":
        write_output(curl_command(found.request))
    else:
        pretty_sign(
            found.request,
            out(),
            redactor=run.redactor,
            comparison=found.comparison,
            replay=found.replay,
            hex_dump=hex,
        )
    failure = mismatch(found, findings_shown=output != "curl")
    if failure is not None:
        raise failure
    if found.comparison is not None:
        err().print(
            "[green]the captured signature is right[/]" if found.replay else "[green]the given signature matches[/]"
        )


_SUMMARY = (
    "Sign the token request without sending it and show every byte: check a signature (--compare) or a request "
    "your application sent (--replay)."
)
sign_app = typer.Typer(help=_SUMMARY, no_args_is_help=True, cls=provider_group("sign", SIGN, _sign, _SUMMARY))


def command() -> Any:
    """The `sign` group, built when invoked."""
    return typer.main.get_group(sign_app)
