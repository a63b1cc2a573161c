"""`paytoken verify PROVIDER --capture FILE`: is a notification the gateway sent authentic, and if not, why."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ..errors import SignatureMismatch
from ..gateways import lookup
from ..ui.output import write_output
from ..ui.session import current, load
from .base import guarded, single
from .help import examples
from .params import PrettyJson, PrettyJsonOption, ProfileOption, ProfilesFileOption, ProviderArgument

__all__ = ["command"]


@guarded
def verify(
    provider_name: ProviderArgument,
    capture: Annotated[
        str,
        typer.Option(
            "--capture",
            metavar="FILE|-",
            help="The notification as received: raw HTTP (nc -l, a proxy), tcpdump -A, a JSON dump, or - for stdin.",
        ),
    ],
    profile: ProfileOption = None,
    profiles_file: ProfilesFileOption = None,
    received_at: Annotated[
        str | None,
        typer.Option(
            "--received-at",
            metavar="TIME",
            show_default=False,
            help="When it arrived (ISO 8601), for a capture checked later. Default: now.",
        ),
    ] = None,
    output: PrettyJsonOption = PrettyJson.pretty,
) -> None:
    """Check a notification the gateway sent: exit 0 authentic, 1 not (with the likely mistake), 3 no key."""
    from ..clock import utc_now
    from ..gateways import notification_for
    from ..ui.notifications import verdict_json, verdict_text
    from ..verifying import read_capture_source, received_moment, verify_capture

    provider = lookup(provider_name)
    notification_for(provider)  # a provider without a recipe says so before anything is read
    run = current()
    moment = received_moment(received_at, utc_now())
    resolved = load(provider, profile, profiles_file, {}, run)
    data, source = read_capture_source(capture, sys.stdin.buffer)
    inbound, verdict = verify_capture(provider, resolved, data, source, moment)
    write_output(verdict_json(inbound, verdict) if output == "json" else verdict_text(inbound, verdict, run.redactor))
    if not verdict.authentic:
        raise SignatureMismatch(
            f"the notification is not authentic: {verdict.reason}",
            hint=verdict.hint,
            quoted=[verdict.reason],
        )


def command() -> Any:
    """The `verify` command, built when invoked."""
    return single(
        "verify",
        verify,
        epilog=examples(
            "paytoken verify nicepay --profile dev --capture notification.txt",
            "nc -l 8000 | tee capture.txt; paytoken verify snap -p bank --capture capture.txt",
            "paytoken verify doku -p dev --capture - -o json < notification.txt",
            "paytoken verify doku-snap -p dev --capture old.txt --received-at 2024-08-19T17:12:45+07:00",
        ),
    )
