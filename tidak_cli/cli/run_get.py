"""`paytoken get` from a GetRequest on: the same function whether Typer read the arguments or launch.py did.

It imports neither Typer nor, unless the answer is the pretty view, Rich.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING

from ..gateways import lookup
from ..getting import GetRequest, check_get, check_timestamp, obtain, provider_values
from ..ui.output import Spinner, trace_line, write_output
from ..ui.session import Run, load

if TYPE_CHECKING:
    from ..transport import Transport

__all__ = ["run_get"]


def run_get(request: GetRequest, run: Run) -> None:
    """Check the options, load the profile, get the token (or sign it, for --dry-run), and print it."""
    check_get(request)
    provider = lookup(request.provider)
    overrides, nonce = provider_values(provider, request.extras)
    profile = load(provider, request.profile, request.profiles_file, {"base_url": request.base_url, **overrides}, run)
    if request.dry_run:
        from ..tokens import build
        from ..ui.render import console, pretty_sign, sign_json

        signed = build(provider, profile, timestamp=request.timestamp, nonce=nonce)
        check_timestamp(request.timestamp, signed, provider, run.warn)
        if request.output == "json":
            write_output(sign_json(signed))
        else:
            pretty_sign(signed, console(), redactor=run.redactor, note="dry run, nothing sent")
        return

    def open_transport() -> Transport:
        from ..transport import Transport

        return Transport(trace=trace_line if request.verbose else None, redactor=run.redactor)

    with Spinner(f"waiting for {provider.name}…") if not request.verbose else contextlib.nullcontext():
        result = obtain(provider, profile, request, nonce, warn=run.warn, open_transport=open_transport)
    output = request.chosen_output(sys.stdout.isatty())
    if output == "pretty":
        from ..ui.render import console, pretty_token

        pretty_token(result, console())
    else:
        from ..ui.render import token_text

        write_output(token_text(result, output, env_prefix=request.env_prefix))
