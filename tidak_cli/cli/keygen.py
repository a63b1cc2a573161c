"""`paytoken keygen`: a new RSA key pair for the SNAP gateways."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from .base import guarded, single
from .help import examples

__all__ = ["command"]


@guarded
def keygen(
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Directory for private.pem and public.pem.")
    ] = Path(),
    bits: Annotated[int, typer.Option("--bits", min=2048, max=16384, help="RSA key size.")] = 2048,
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help="Encrypt private.pem with a passphrase: asked for twice on a terminal, else the first line of stdin.",
        ),
    ] = False,
) -> None:
    """Write a new RSA key pair: private.pem (PKCS#8, 0600) and public.pem for the gateway."""
    from ..keys import generate, write_key_pair

    secret = _new_passphrase() if passphrase else None
    pair = write_key_pair(generate(bits), out, passphrase=secret)
    print(f"private key: {pair.private_path}  (mode 0600{', encrypted' if secret else ''}; keep it here)")
    print(f"public key:  {pair.public_path}  (upload this to the gateway)")
    print(f"SHA-256 fingerprint: {pair.fingerprint}")
    print(
        f'profile: private_key_file = "{pair.private_path.resolve()}"'
        + ("\n         private_key_passphrase = your passphrase (or ${VARIABLE})" if secret else "")
    )


def _new_passphrase() -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        secret: str = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=True)
    else:
        # A script pipes it in, as `docker login --password-stdin` takes one: the first line, asked once, read
        # through the one bounded reader of standard input.
        from ..files import read_stdin

        piped = read_stdin(4096, "the passphrase", error=UsageError, hint="pipe in one line: the passphrase")
        secret = piped.decode("utf-8", errors="replace").split("\n", 1)[0].rstrip("\r")
    if not secret:
        raise UsageError(
            "the passphrase is empty",
            hint="type one, or pipe one line in (printf '%s\\n' \"$PASS\" | paytoken keygen --passphrase), "
            "or leave out --passphrase",
        )
    return secret


def command() -> Any:
    """The `keygen` command, built when invoked."""
    return single(
        "keygen",
        keygen,
        epilog=examples(
            "paytoken keygen --out keys/nicepay",
            "paytoken keygen --out keys/bank --bits 4096",
            "printf '%s\\n' \"$PASS\" | paytoken keygen --out keys/prod --passphrase",
        ),
    )
