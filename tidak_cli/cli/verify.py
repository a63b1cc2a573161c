"""`paytoken verify PROVIDER --capture FILE`: is a notification the gateway sent authentic, and if not, why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SignatureMismatch
from ..gateways import lookup
from ..ui.output import write_output
from ..ui.session import current, load
from .base import table_command
from .options import VERIFY

__all__ = ["command"]

_SUMMARY = (
    "Check a notification the gateway sent, as your receiver got it: exit 0 authentic, 1 not (with the likely "
    "mistake: a re-serialized body, the wrong key, a clock off), 2 a capture that cannot be read, 3 the profile "
    "lacks the key."
)
_EXAMPLES = (
    "paytoken verify snap --profile dev --capture capture.txt",
    "paytoken verify nicepay -p dev --capture capture.txt -o json",
    "paytoken verify doku -p dev --capture - < capture.txt",
    "paytoken verify doku-snap -p dev --capture capture.txt \\\n      --received-at 2024-08-19T17:12:45+07:00",
)


def _verify(
    provider_name: str,
    capture: str,
    profile: str | None,
    profiles_file: Path | None,
    received_at: str | None,
    output: str,
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
    data, source = read_capture_source(capture)
    inbound, verdict = verify_capture(provider, resolved, data, source, moment)
    write_output(verdict_json(inbound, verdict) if output == "json" else verdict_text(inbound, verdict, run.redactor))
    if not verdict.authentic:
        raise SignatureMismatch(
            f"the notification is not authentic: {verdict.reason}",
            # The fix is on stdout already (`fix:`, json's "fix"): said once, as `sign --compare` does.
            quoted=[verdict.reason],
        )


def command() -> Any:
    """The `verify` command, built when invoked."""
    return table_command("verify", _verify, VERIFY, _SUMMARY, _EXAMPLES)
