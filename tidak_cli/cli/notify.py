"""`paytoken notify PROVIDER --to URL`: send your webhook receiver a notification signed as the gateway would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..gateways import lookup
from ..ui.output import write_output
from ..ui.session import current, load
from .base import table_command
from .options import NOTIFY

__all__ = ["command"]

_SUMMARY = (
    "Send your webhook receiver a notification signed as the gateway would (with the sandbox's gateway key), "
    "once; judge its answer: exit 0 accepted, 4 refused, 6 failed (5xx), 5 not reached."
)
_EXAMPLES = (
    "paytoken notify snap --profile dev --to http://127.0.0.1:8000",
    "paytoken notify nicepay -p dev --to http://127.0.0.1:8000 -o json",
    "paytoken notify doku -p dev --to http://127.0.0.1:8000/doku --data @paid.json",
    "paytoken notify doku-snap -p dev --to http://127.0.0.1:8000 --symmetric",
)


def _notify(
    provider_name: str,
    to: str,
    profile: str | None,
    profiles_file: Path | None,
    data: str | None,
    raw_body: bool,
    path: str | None,
    symmetric: bool,
    token: str | None,
    output: str,
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
    return table_command("notify", _notify, NOTIFY, _SUMMARY, _EXAMPLES)
