"""`paytoken sandbox`: the local gateway emulator for every provider, on one port."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..gateways import PROVIDERS
from ..ui.session import current
from .base import err, guarded, single
from .help import examples
from .params import ProfilesFileOption

__all__ = ["command"]


@guarded
def sandbox(
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port (0 picks a free one).")
    ] = 8787,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            show_default=False,
            help="Sandbox TOML: clients and keys it accepts. Default: ./sandbox.toml, else the profiles file.",
        ),
    ] = None,
    profiles_file: ProfilesFileOption = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", metavar="FILE", show_default=False, help="Serve HTTPS with this certificate (PEM)."),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option("--tls-key", metavar="FILE", show_default=False, help="The certificate's private key (PEM)."),
    ] = None,
) -> None:
    """Run the local gateway emulator for every provider on one port."""
    from ..sandbox import Sandbox
    from ..sandbox.setup import discover_config, read_clients, require_clients, tls_context
    from ..ui.render import markup_text

    notes: list[str] = []
    source, from_profiles_file = discover_config(config, profiles_file)
    settings = read_clients(source, from_profiles_file, notes)
    for note in notes:
        current().warn(note)
    require_clients(settings)
    tls = tls_context(tls_cert, tls_key)
    console = err()
    # A logged line holds a client's request path: outside text, shown escaped and never read as markup.
    server = Sandbox(
        settings,
        log=lambda line: console.print(f"[dim]{time.strftime('%H:%M:%S')} {markup_text(line)}[/]"),
        follow=(source, lambda: read_clients(source, from_profiles_file, [])),
    )
    server.start(host, port, tls=tls)
    console.print(f"paytoken sandbox listening on [bold]{server.url}[/] (clients from {settings.source})")
    for provider_name, clients in settings.clients.items():
        for client in clients:
            path = client.token_path or PROVIDERS[provider_name].token_path
            console.print(f"  {provider_name}: {client.client_id}  at {path}")
    from ..notifying import gateway_key

    console.print(
        "notifications: `paytoken notify` signs as the gateways do with the sandbox's own key pair; give your "
        f"receiver (and the profile's gateway_public_key_file) its public key: {markup_text(gateway_key().public_path)}"
    )
    console.print(
        f'point a profile at it with base_url = "{server.url}" or --base-url {server.url}; '
        f"stats at /_sandbox/stats; edits of {source} are picked up on the next request; Ctrl-C stops it"
    )
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
        console.print("sandbox stopped")


def command() -> Any:
    """The `sandbox` command, built when invoked."""
    return single(
        "sandbox",
        sandbox,
        epilog=examples(
            "paytoken sandbox &",
            "paytoken sandbox --port 0 --profiles-file staging.toml",
            "paytoken sandbox --config sandbox.toml --tls-cert cert.pem --tls-key key.pem",
        ),
    )
