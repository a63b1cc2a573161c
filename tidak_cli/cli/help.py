"""Help pages in 80 columns, written from the option table: grouped options, then examples (as gh does)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

from .options import Option

__all__ = ["EXAMPLES", "example_values", "examples", "option_lines", "page"]

_WIDTH = 80
_FLAGS = 28  # the column where an option's help starts
# Groups in the order a reader looks for them.
_ORDER = ("Notification", "Call", "Output", "Checking", "Cache", "Request", "Profile", "Debugging")

# Per command, with {p} for the provider ({path} and {data}: an example call of that provider, for `call`):
# eval only after the command succeeded (a failed get prints nothing).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "get": (
        "paytoken get {p} --profile dev",
        "TOKEN=$(paytoken get {p} -p dev)",
        'out=$(paytoken get {p} -p dev -o env) && eval "$out"',
        "paytoken get {p} -p dev -v --refresh",
    ),
    "sign": (
        "paytoken sign {p} --profile dev",
        'paytoken sign {p} -p dev --timestamp "$TS" --compare "$SIGNATURE"',
        "paytoken sign {p} -p dev --replay request.txt",
        "paytoken sign {p} -p dev --request POST {path} -d @body.json",
    ),
    "call": (
        "paytoken call {p} POST {path} -p dev -d {data}",
        "paytoken call {p} POST {path} -p dev -d @body.json -o pretty",
        "paytoken call {p} POST {path} -p dev -d @body.json --dry-run",
        "paytoken call {p} POST {path} -p dev -d @body.json -o json | jq .status",
    ),
}


# An example call per provider for the help pages: PATH under base_url and a --data. The SNAP paths are the
# standard's (/v1.0/transfer-va/create-va, as Faspay's SNAP signature page lists it); NICEPAY's is its own
# without the unsigned /nicepay prefix; DOKU SNAP's from doku-python-library (VaController.createVa); the rest
# from SPEC 6.3.
_EXAMPLE_CALLS: dict[str, tuple[str, str]] = {
    "nicepay": ("/api/v1.0/transfer-va/create-va", '\'{"trxId":"INV-1"}\''),
    "doku-snap": ("/virtual-accounts/bi-snap-va/v1/transfer-va/create-va", '\'{"trxId":"INV-1"}\''),
    "doku": ("/checkout/v1/payment", '\'{"order":{"invoice_number":"INV-1"}}\''),
    "faspay-sendme": ("/account/api/transfer", '\'{"amount":"10000"}\''),
    "finpay-widget": ("/apicobrand/widget/topup", '\'{"amount":"10000"}\''),
}


def example_values(provider: str) -> dict[str, str]:
    """The {p}, {path} and {data} of a help page's examples, for provider."""
    path, data = _EXAMPLE_CALLS.get(provider, ("/v1.0/transfer-va/create-va", '\'{"trxId":"INV-1"}\''))
    # The rest of an example goes on a line of its own, as a shell continues it, to stay within 80 columns.
    if len(f"  paytoken call {provider} POST {path} \\") > _WIDTH:
        path = f"\\\n      {path}"
    return {"p": provider, "path": f"{path} \\\n     ", "data": data}


def _flags(option: Option) -> str:
    short = [flag for flag in option.flags if not flag.startswith("--")]
    long = [flag for flag in option.flags if flag.startswith("--")]
    spelled = ", ".join([*short, *long]) if short else "    " + ", ".join(long)
    return f"  {spelled} {option.metavar}" if option.metavar else f"  {spelled}"


def _help(option: Option) -> str:
    shown_default = option.default not in (None, False)
    default = option.default if not isinstance(option.default, float) else f"{option.default:g}"
    return option.help + (f" [{default}]" if shown_default else "") + (" [required]" if option.required else "")


def option_lines(options: Iterable[Option]) -> list[str]:
    """The options under their group headings, each flag with its help wrapped beside it."""
    groups: dict[str, list[Option]] = {}
    for option in options:
        if option.kind != "argument":  # named in the usage line
            groups.setdefault(option.group, []).append(option)
    lines: list[str] = []
    ordered = sorted(groups.items(), key=lambda item: _ORDER.index(item[0]) if item[0] in _ORDER else len(_ORDER))
    for group, members in ordered:
        lines.append(f"{group}:")
        for option in members:
            flags = _flags(option)
            wrapped = textwrap.wrap(_help(option), _WIDTH - _FLAGS, break_on_hyphens=False)
            if len(flags) >= _FLAGS - 1:
                lines.append(flags)
            else:
                lines.append(flags.ljust(_FLAGS) + wrapped.pop(0))
            lines += [" " * _FLAGS + line for line in wrapped]
    return lines


def page(
    usage: str, summary: str, sections: Sequence[tuple[str | None, Sequence[str]]], examples: Sequence[str]
) -> str:
    """A whole help page: usage, one paragraph, the sections (a heading or none, then lines), examples."""
    lines = [f"Usage: {usage}", "", *textwrap.wrap(summary, _WIDTH, initial_indent="  ", subsequent_indent="  ")]
    for heading, body in sections:
        lines.append("")
        if heading:
            lines.append(heading)
        lines += body
    if examples:
        lines += ["", "Examples:", *(f"  {example}" for example in examples)]
    return "\n".join(lines) + "\n"


def examples(*lines: str) -> str:
    """An epilog for Typer's help: each example on a line of its own (Rich markup escaped)."""
    return "Examples:\n\n" + "\n\n".join("  " + line.replace("[", "\\[") for line in lines)
