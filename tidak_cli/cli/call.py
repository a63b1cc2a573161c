"""`paytoken call PROVIDER METHOD PATH`: Typer reads the options; calling.py signs, sends and judges; this renders."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import typer

from ..calling import (
    CallOutcome,
    CallRequest,
    cached_call_token,
    check_call,
    judged,
    make_call,
    read_body,
    send_call,
    sign_call,
)
from ..errors import UsageError
from ..gateways import lookup
from ..gateways.base import Provider
from ..getting import check_timestamp, provider_values
from ..ui.output import Spinner, json_text, shown, trace_line, write_bytes, write_output
from ..ui.session import Run, current, load
from .base import provider_group
from .options import CALL

if TYPE_CHECKING:
    from ..forensics import Comparison
    from ..gateways.base import Call, CallReplay, SignedRequest
    from ..profiles import Profile
    from ..transport import Transport

__all__ = ["call_app", "call_profile", "command", "prepared_call", "run_call", "show_signed", "signed_call"]


def _call(provider: Provider, extras: dict[str, Any], **values: Any) -> None:
    output = values.pop("output")
    headers = values.pop("headers") or ()
    request = CallRequest(
        provider=provider.name,
        output=None if output is None else str(output.value),
        headers=tuple(headers),
        **values,
    )
    run_call(request, extras, current())


def call_profile(provider: Provider, request: CallRequest, extras: Mapping[str, Any], run: Run) -> Profile:
    """The profile a call signs with: --profile and the provider's own flags (its token request id refused)."""
    overrides, nonce = provider_values(provider, extras)
    if nonce is not None:
        raise UsageError(
            "the request id option names the token request's id; a call's id is --external-id",
            hint="use --external-id ID",
        )
    return load(provider, request.profile, request.profiles_file, {"base_url": request.base_url, **overrides}, run)


def prepared_call(
    provider: Provider, request: CallRequest, extras: Mapping[str, Any], run: Run
) -> tuple[Call, Profile]:
    """The call as `call` would sign it, with the cached token (never fetched) or --token; not signed yet."""
    check_call(request)
    profile = call_profile(provider, request, extras, run)
    body = read_body(request.data, request.raw_body)
    token = cached_call_token(provider, profile, request, warn=run.warn)
    return make_call(provider, request, token, body), profile


def signed_call(
    provider: Provider, request: CallRequest, extras: Mapping[str, Any], run: Run
) -> tuple[SignedRequest, Profile]:
    """The call built and signed as `call` would send it, with the cached token (never fetched) or --token."""
    call, profile = prepared_call(provider, request, extras, run)
    signed = sign_call(provider, profile, request, call)
    check_timestamp(request.timestamp, signed, provider, run.warn)
    return signed, profile


def show_signed(
    signed: SignedRequest,
    output: str,
    run: Run,
    *,
    note: str,
    hex_dump: bool = False,
    comparison: Comparison | None = None,
    replay: CallReplay | None = None,
) -> None:
    """Print a call that is not sent: pretty (the token masked), json, or a curl command that sends it; with the
    verdict on a signature (--compare) or a captured call (--replay)."""
    from ..ui.render import console, curl_command, pretty_sign, sign_json

    if output == "json":
        write_output(sign_json(signed, comparison, replay))
    elif output == "curl":
        write_output(curl_command(signed))
    else:
        token = _bearer(signed)
        redactor = run.redactor.adding(token) if token else run.redactor
        pretty_sign(
            signed,
            console(),
            redactor=redactor,
            note=note,
            hex_dump=hex_dump,
            comparison=comparison,
            replay=replay,
        )


def _bearer(signed: SignedRequest) -> str | None:
    value = next((text for name, text in signed.headers.items() if name.lower() == "authorization"), "")
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def run_call(request: CallRequest, extras: Mapping[str, Any], run: Run) -> None:
    """Check the options, load the profile, take the token, sign, send once, show the answer, exit by its verdict."""
    provider = lookup(request.provider)
    output = request.chosen_output(sys.stdout.isatty())
    if request.dry_run or output == "curl":
        signed, _ = signed_call(provider, request, extras, run)
        show_signed(signed, output, run, note="dry run, nothing sent")
        if output == "curl" and not request.dry_run:
            run.warn("nothing was sent: -o curl prints the command that sends the call")
        return
    check_call(request)
    profile = call_profile(provider, request, extras, run)
    body = read_body(request.data, request.raw_body)

    def open_transport() -> Transport:
        from ..transport import Transport

        return Transport(trace=trace_line if request.verbose else None, redactor=run.redactor)

    def masked(token: str) -> None:
        run.redactor = run.redactor.adding(token)

    with Spinner(f"waiting for {provider.name}…") if not request.verbose else contextlib.nullcontext():
        outcome = send_call(
            provider,
            profile,
            request,
            body,
            warn=run.warn,
            notice=run.warn,
            open_transport=open_transport,
            on_token=masked,
        )
    check_timestamp(request.timestamp, outcome.request, provider, run.warn)
    _show(provider, outcome, output, run)
    failure = judged(provider, outcome)
    if failure is not None:
        raise failure


def _show(provider: Provider, outcome: CallOutcome, output: str, run: Run) -> None:
    from ..calling import answer_document

    if output == "body":
        write_bytes(outcome.response.body)
    elif output == "json":
        write_output(json_text(answer_document(outcome, run.redactor.headers, run.redactor.text)))
    else:
        write_output(_pretty(provider, outcome, run))


def _pretty(provider: Provider, outcome: CallOutcome, run: Run) -> str:
    from ..gateways.base import parse_json

    response, verdict = outcome.response, outcome.verdict
    mark = "accepted" if verdict.ok else "not accepted"
    lines = [f"HTTP {response.status} {response.reason}".rstrip() + f" · {provider.name} · {mark}"]
    # The gateway's words and the URL are outside values, masked as the body is: an answer may echo a secret.
    if verdict.code or verdict.message:
        lines.append(f"gateway says: {run.redactor.text(verdict.words)}")
    lines.append(f"call: {outcome.request.method} {run.redactor.text(outcome.request.url)}")
    if outcome.resent:
        lines.append("sent twice: the first try's cached token was refused before processing (401xx01)")
    if response.body:
        try:
            text = json_text(parse_json(response.body)).rstrip("\n")
        except ValueError:
            text = response.body.decode("utf-8", errors="replace")
        lines.append("")
        lines += ["  " + line for line in run.redactor.text(text).splitlines()]
    else:
        lines.append("(empty body)")
    return shown("\n".join(lines)) + "\n"


_SUMMARY = (
    "Sign an API call after the token and send it once: the token from the cache (as `get` takes it), the body "
    "hashed and sent as the same bytes; show the answer and exit by the gateway's verdict."
)
call_app = typer.Typer(help=_SUMMARY, no_args_is_help=True, cls=provider_group("call", CALL, _call, _SUMMARY))


def command() -> Any:
    """The `call` group, built when invoked."""
    return typer.main.get_group(call_app)
