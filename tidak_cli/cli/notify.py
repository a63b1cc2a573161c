"""`paytoken notify PROVIDER --to URL`: send your webhook receiver a notification signed as the gateway would."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..gateways import lookup
from ..ui.output import write_output
from ..ui.session import current, load
from .base import guarded, single
from .help import examples
from .params import PrettyJson, PrettyJsonOption, ProfileOption, ProfilesFileOption, ProviderArgument

__all__ = ["command"]


@guarded
def notify(
    provider_name: ProviderArgument,
    to: Annotated[
        str, typer.Option("--to", metavar="URL", help="The receiver's URL; the notification goes there only, once.")
    ],
    profile: ProfileOption = None,
    profiles_file: ProfilesFileOption = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data", metavar="JSON|@FILE", show_default=False, help="Body to send instead of the sample payment."
        ),
    ] = None,
    raw_body: Annotated[
        bool, typer.Option("--raw-body", help="Send --data's bytes unchanged (default: JSON written compactly).")
    ] = False,
    path: Annotated[
        str | None,
        typer.Option(
            "--path", metavar="P", show_default=False, help="Path to send to and sign (replaces --to's path)."
        ),
    ] = None,
    symmetric: Annotated[
        bool, typer.Option("--symmetric", help="doku-snap: HMAC-SHA512 with client_secret, as DOKU signs them.")
    ] = False,
    token: Annotated[
        str | None,
        typer.Option("--token", metavar="T", show_default=False, help="--symmetric: the Bearer token to send."),
    ] = None,
    output: PrettyJsonOption = PrettyJson.pretty,
) -> None:
    """Send a notification signed as the gateway would (the sandbox's gateway key), once; judge the answer."""
    from ..clock import utc_now
    from ..gateways import notification_for
    from ..notifying import failure, notification_body, send_notification
    from ..transport import Transport
    from ..ui.notifications import delivery_json, delivery_text

    provider = lookup(provider_name)
    notification_for(provider)
    run = current()
    resolved = load(provider, profile, profiles_file, {}, run)
    body = notification_body(data, raw_body)
    with Transport(redactor=run.redactor) as transport:
        delivery = send_notification(
            provider,
            resolved,
            to=to,
            body=body,
            path=path,
            symmetric=symmetric,
            token=token,
            now=utc_now(),
            transport=transport,
        )
    write_output(delivery_json(delivery) if output == "json" else delivery_text(delivery, run.redactor))
    ended = failure(delivery)
    if ended is not None:
        raise ended


def command() -> Any:
    """The `notify` command, built when invoked."""
    return single(
        "notify",
        notify,
        epilog=examples(
            "paytoken notify nicepay --profile dev --to http://127.0.0.1:8000",
            "paytoken notify snap -p bank --to http://127.0.0.1:8000/webhooks/snap",
            "paytoken notify doku -p dev --to http://127.0.0.1:8000 --data @paid.json",
            "paytoken notify doku-snap -p dev --to http://127.0.0.1:8000 --symmetric",
        ),
    )
