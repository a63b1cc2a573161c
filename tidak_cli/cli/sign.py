"""`paytoken sign PROVIDER`: the token request signed and shown, nothing sent; --compare and --replay."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..calling import CallRequest
from ..errors import UsageError
from ..gateways.base import Provider
from ..getting import check_timestamp, provider_values
from ..inspection import inspect_request, mismatch
from ..ui.output import write_output
from ..ui.session import current, load
from .base import err, out, provider_group
from .options import SIGN

if TYPE_CHECKING:
    from ..profiles import Profile

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
    request: tuple[str, str] | None = None,
    data: str | None = None,
    raw_body: bool = False,
    headers: list[str] | None = None,
    token: str | None = None,
    external_id: str | None = None,
) -> None:
    from ..ui.render import curl_command, pretty_sign, sign_json

    del debug  # read by the command wrapper
    run = current()
    if request is not None:
        method, path = request
        call = CallRequest(
            provider=provider.name,
            method=method,
            path=path,
            profile=profile,
            profiles_file=profiles_file,
            data=data,
            raw_body=raw_body,
            headers=tuple(headers or ()),
            token=token,
            timestamp=timestamp,
            external_id=external_id,
            base_url=base_url,
        )
        output_name = str(output.value if hasattr(output, "value") else output)
        _sign_call(provider, extras, call, output=output_name, compare=compare, replay=replay, hex_dump=hex)
        return
    given = [
        flag
        for flag, value in (
            ("--data", data),
            ("--raw-body", raw_body or None),
            ("-H", headers or None),
            ("--token", token),
            ("--external-id", external_id),
        )
        if value is not None
    ]
    if given:
        raise UsageError(
            f"{given[0]} belongs to a call, and without --request sign signs the token request",
            hint=f"add --request METHOD PATH to sign a call, or leave out {given[0]}",
        )
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
        from ..ui.render import markup_text

        verdict = "the captured signature is right" if found.replay else "the given signature matches"
        matched = f" {markup_text(found.comparison.matched)}" if found.comparison.matched else ""
        err().print(f"[green]{verdict}[/]{matched}")


def _sign_call(
    provider: Provider,
    extras: dict[str, Any],
    request: CallRequest,
    *,
    output: str,
    compare: str | None,
    replay: Path | None,
    hex_dump: bool,
) -> None:
    """`sign --request`: the call signed and shown; SIG compared with it, or a captured call judged (SPEC 6.4)."""
    from dataclasses import replace

    from ..calling import cached_call_token, check_call, sign_call
    from ..errors import ConfigError
    from ..inspection import Inspection, compare_call, replay_call
    from .call import call_profile, prepared_call, show_signed

    run = current()

    def cached(profile: Profile) -> str | None:
        # The cached token, when the call is signed with another: the likeliest other token a signature was made with.
        try:
            return cached_call_token(provider, profile, replace(request, token=None), warn=run.warn)
        except ConfigError:
            return None

    if replay is not None:
        clashing = [
            flag
            for flag, value in (
                ("--compare", compare),
                ("--timestamp", request.timestamp),
                ("--data", request.data),
                ("--external-id", request.external_id),
            )
            if value is not None
        ]
        if clashing:
            raise UsageError(
                "--replay takes the call, its body, timestamp, id and signature from the capture",
                hint=f"leave out {', '.join(clashing)}",
            )
        check_call(request)
        profile = call_profile(provider, request, extras, run)
        found = replay_call(
            provider,
            profile,
            replay,
            token=lambda: cached_call_token(provider, profile, request, warn=run.warn),
            tokens=[other for other in (request.token, cached(profile)) if other],
        )
        assert found.replay is not None
        captured = found.replay.call
        if captured.method != request.upper_method or not captured.path.endswith(request.path.split("?")[0]):
            run.warn(
                f"the capture is a call to {captured.method} {captured.path}, not {request.upper_method} "
                f"{request.path}: the capture's call is judged"
            )
        check_timestamp(found.replay.timestamp, found.request, provider, run.warn)
    else:
        call, profile = prepared_call(provider, request, extras, run)
        signed = sign_call(provider, profile, request, call)
        check_timestamp(request.timestamp, signed, provider, run.warn)
        comparison = None
        if compare is not None:
            comparison = compare_call(
                provider,
                profile,
                signed,
                call,
                compare,
                timestamp=request.timestamp,
                call_id_given=request.external_id is not None,
                tokens=[other for other in (cached(profile),) if other] if request.token is not None else (),
            )
        found = Inspection(signed, comparison, None)
    show_signed(
        found.request,
        output,
        run,
        note="nothing sent",
        hex_dump=hex_dump,
        comparison=found.comparison,
        replay=found.replay,
    )
    failure = mismatch(found, findings_shown=output != "curl")
    if failure is not None:
        raise failure
    if found.comparison is not None:
        from ..ui.render import markup_text

        verdict = "the captured signature is right" if found.replay else "the given signature matches"
        matched = f" {markup_text(found.comparison.matched)}" if found.comparison.matched else ""
        err().print(f"[green]{verdict}[/]{matched}")


_SUMMARY = (
    "Sign the token request without sending it and show every byte: check a signature (--compare) or a request "
    "your application sent (--replay). With --request METHOD PATH: an API call after the token, signed as "
    "`paytoken call` would send it, with the cached token or --token."
)
sign_app = typer.Typer(help=_SUMMARY, no_args_is_help=True, cls=provider_group("sign", SIGN, _sign, _SUMMARY))


def command() -> Any:
    """The `sign` group, built when invoked."""
    return typer.main.get_group(sign_app)
