"""What `verify` and `notify` print: the verdict on a notification, and a notification sent with its answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .output import json_text, shown

if TYPE_CHECKING:
    from ..gateways.notification import Verdict
    from ..inbound import Inbound
    from ..notifying import Delivery
    from ..redact import Redactor

__all__ = ["delivery_json", "delivery_text", "verdict_json", "verdict_text"]

_BODY_SHOWN = 2000


def _body(body: bytes) -> str:
    text = body[:_BODY_SHOWN].decode("utf-8", errors="replace")
    return text + (f"… ({len(body)} bytes)" if len(body) > _BODY_SHOWN else "")


def verdict_text(inbound: Inbound, verdict: Verdict, redactor: Redactor) -> str:
    """The verdict for people: authentic or not, the reason, the facts, the signed string, the fix."""
    lines = [
        ("authentic" if verdict.body_signed else "authentic signature; the body is not signed (see below)")
        if verdict.authentic
        else f"NOT authentic: {verdict.reason}",
        f"  provider:  {verdict.provider}",
        f"  request:   {inbound.method} {inbound.target} ({inbound.form}, body {len(inbound.body)} bytes)",
        f"  recipe:    {verdict.recipe}",
    ]
    if verdict.signed_at is not None:
        lines.append(f"  signed at: {verdict.signed_at.isoformat()}")
    lines += [f"  {finding}" for finding in verdict.findings]
    lines += [f"  note: {note}" for note in inbound.notes]
    if verdict.string_to_sign is not None:
        lines.append(f"  signed string: {verdict.string_to_sign!r}")
    if verdict.hint:
        lines.append(f"  fix: {verdict.hint}")
    return "\n".join(shown(redactor.text(line)) for line in lines) + "\n"


def verdict_json(inbound: Inbound, verdict: Verdict) -> str:
    """The verdict for scripts."""
    return json_text(
        {
            "provider": verdict.provider,
            "authentic": verdict.authentic,
            "body_signed": verdict.body_signed,
            "reason": verdict.reason,
            "mistake": verdict.mistake,
            "findings": list(verdict.findings),
            "fix": verdict.hint,
            "recipe": verdict.recipe,
            "string_to_sign": verdict.string_to_sign,
            "signed_at": verdict.signed_at.isoformat() if verdict.signed_at else None,
            "request": {"method": inbound.method, "path": inbound.target, "form": inbound.form},
        }
    )


def delivery_text(delivery: Delivery, redactor: Redactor) -> str:
    """The notification sent and the receiver's answer, for people."""
    sent = delivery.notification
    key_path = delivery.key_path
    signed_with = f", signed with the sandbox's gateway key (public half: {key_path})" if key_path else ""
    lines = [f"sent {sent.method} {delivery.url}{signed_with}"]
    lines += [f"  > {name}: {value}" for name, value in sent.headers.items()]
    lines.append(f"  > {_body(sent.body)}")
    lines.append(f"  string to sign: {sent.string_to_sign!r}")
    response = delivery.response
    lines.append(f"answer: {delivery.said}")
    if response.body:
        lines.append(f"  < {_body(response.body)}")
    lines.append("the receiver accepted the notification" if delivery.success else "the receiver did not accept it")
    return "\n".join(shown(redactor.text(line)) for line in lines) + "\n"


def delivery_json(delivery: Delivery) -> str:
    """The notification sent and the answer, for scripts."""
    sent = delivery.notification
    return json_text(
        {
            "request": {
                "method": sent.method,
                "url": delivery.url,
                "headers": dict(sent.headers),
                "body": sent.body.decode("utf-8", errors="replace"),
                "string_to_sign": sent.string_to_sign,
                "signature": sent.signature,
            },
            "status": delivery.response.status,
            "body": delivery.response.body.decode("utf-8", errors="replace"),
            "success": delivery.success,
            "said": delivery.said,
        }
    )
