"""`paytoken doctor PROVIDER`: check a profile end to end, one line per check."""

from __future__ import annotations

from typing import Any

import typer

from ..doctor import Check
from ..errors import PaytokenError
from ..gateways import lookup
from ..redact import Redactor
from ..ui.output import write_json
from ..ui.session import current
from .base import guarded, out, single
from .help import examples
from .params import BaseUrlOption, ListingFormat, ListingOption, ProfileOption, ProfilesFileOption, ProviderArgument

__all__ = ["command"]


@guarded
def doctor(
    provider_name: ProviderArgument,
    profile: ProfileOption = None,
    profiles_file: ProfilesFileOption = None,
    base_url: BaseUrlOption = None,
    output: ListingOption = ListingFormat.table,
) -> None:
    """Check a profile end to end: keys, key pair, environment, clock, and one real token request."""
    from ..clock import utc_now
    from ..doctor import diagnose, exit_code
    from ..profiles import default_profile_name, load_profile, read_dotenv_file
    from ..transport import Transport
    from ..ui.render import doctor_line

    provider = lookup(provider_name)
    read_dotenv_file()
    console = out()
    try:
        resolved = load_profile(
            provider, profile or default_profile_name(), profiles_file=profiles_file, overrides={"base_url": base_url}
        )
    except PaytokenError as error:
        failed = Check("profile", "failure", error.message, error.hint, error.exit_code, error.quoted)
        _report([failed], provider.name, profile, output, console, current().redactor)
        raise typer.Exit(int(error.exit_code)) from None
    run = current()
    run.redactor = Redactor.for_profile(resolved, provider)
    checks = []
    for check in diagnose(provider, resolved, open_transport=lambda: Transport(redactor=run.redactor), clock=utc_now):
        if output == "table":
            doctor_line(check, console, run.redactor)  # each as it is done: the token request may take a while
        checks.append(check)
    if output == "json":
        _report(checks, provider.name, resolved.name, output, console, run.redactor)
    code = exit_code(checks)
    if code:
        raise typer.Exit(code)


def _report(
    checks: list[Check], provider: str, profile: str | None, output: str, console: Any, redactor: Redactor
) -> None:
    from ..doctor import exit_code
    from ..ui.render import doctor_line

    if output == "json":
        write_json(
            {
                "provider": provider,
                "profile": profile,
                "exit_code": exit_code(checks),
                "checks": [
                    {
                        "name": check.name,
                        "status": check.status,
                        "detail": redactor.sentence(check.detail, check.quoted),
                        "fix": redactor.sentence(check.fix, check.quoted) if check.fix else check.fix,
                    }
                    for check in checks
                ],
            }
        )
    else:
        for check in checks:
            doctor_line(check, console, redactor)


def command() -> Any:
    """The `doctor` command, built when invoked."""
    return single(
        "doctor",
        doctor,
        epilog=examples(
            "paytoken doctor nicepay --profile dev",
            "paytoken doctor snap -p bank --base-url http://127.0.0.1:8787",
            "paytoken doctor doku -p dev -o json | jq '.checks[] | select(.status != \"ok\")'",
        ),
    )
