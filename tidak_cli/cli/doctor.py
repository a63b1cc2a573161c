"""`paytoken doctor PROVIDER`: check a profile end to end, one line per check."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..errors import PaytokenError
from ..gateways import lookup
from ..redact import Redactor
from ..ui.session import current
from .base import guarded, out, single
from .params import BaseUrlOption, ProfileOption, ProfilesFileOption

__all__ = ["command"]


@guarded
def doctor(
    provider_name: Annotated[str, typer.Argument(metavar="PROVIDER", help="Provider name, e.g. nicepay.")],
    profile: ProfileOption = None,
    profiles_file: ProfilesFileOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Check a profile end to end: keys, key pair, environment, clock, and one real token request."""
    from ..clock import utc_now
    from ..doctor import Check, diagnose, exit_code
    from ..profiles import default_profile_name, load_dotenv_file, load_profile
    from ..transport import Transport
    from ..ui.render import doctor_line

    provider = lookup(provider_name)
    load_dotenv_file()
    console = out()
    try:
        resolved = load_profile(
            provider, profile or default_profile_name(), profiles_file=profiles_file, overrides={"base_url": base_url}
        )
    except PaytokenError as error:
        failed = Check("profile", "failure", error.message, error.hint, error.exit_code, error.quoted)
        doctor_line(failed, console, current().redactor)
        raise typer.Exit(int(error.exit_code)) from None
    run = current()
    run.redactor = Redactor.for_profile(resolved, provider)
    checks = []
    for check in diagnose(provider, resolved, open_transport=lambda: Transport(redactor=run.redactor), clock=utc_now):
        doctor_line(check, console, run.redactor)
        checks.append(check)
    code = exit_code(checks)
    if code:
        raise typer.Exit(code)


def command() -> Any:
    """The `doctor` command, built when invoked."""
    return single("doctor", doctor, epilog="Example: paytoken doctor nicepay --profile dev")
