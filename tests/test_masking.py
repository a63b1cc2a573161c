"""Masking secrets that are common words (issue 13): paytoken's own sentences stay whole, values are masked.

A secret such as "secret", "sandbox" or "wrong" used to be masked everywhere, paytoken's words included
(`hint: check client_id and ••••_key`, ``is `paytoken ••••` running?``, `error: •••• passphrase`): the gap
spelt the secret. Each test runs the CLI against a local gateway started here that quotes the secret back in
its rejection, the way a gateway quotes a field it refused.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from support import Run, assert_clean, paytoken

from tidak_cli.keys import generate

WORDS = ("secret", "sandbox", "wrong", "token", "error", "profile", "client")
DOKU_HINT = (
    "check client_id and secret_key, and that the Digest was computed over the exact body bytes sent "
    "(`paytoken sign doku` shows both)"
)


class Gateway:
    """A DOKU-shaped gateway that refuses every token request, quoting the secret it was configured with."""

    def __init__(self, secret: str) -> None:
        quoted = secret

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps(
                    {
                        "error": {"code": "invalid_signature", "message": f"no signature made with {quoted}"},
                        "secret_key": quoted,
                    }
                ).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=WORDS)
def word(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def gateway(word: str) -> Iterator[Gateway]:
    server = Gateway(word)
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_profiles(isolated: Path, word: str, base_url: str) -> Path:
    path = isolated / "profiles.toml"
    path.write_text(
        "[doku.words]\n"
        'client_id = "BRN-0001-WORDS"\n'
        f'secret_key = "{word}"\n'
        f'base_url = "{base_url}"\n'
        "[doku.refused]\n"
        'client_id = "BRN-0001-WORDS"\n'
        f'secret_key = "{word}"\n'
        f'base_url = "http://127.0.0.1:{closed_port()}"\n'
    )
    path.chmod(0o600)
    return path


def no_bare(word: str, text: str) -> None:
    """word never stands as a value in text: the gateway's quotes of it are masked."""
    assert f"made with {word}" not in text and f'"secret_key": "{word}"' not in text, text


def test_a_rejection_quoting_the_secret_masks_it_and_keeps_the_hint_whole(
    word: str, gateway: Gateway, isolated: Path
) -> None:
    write_profiles(isolated, word, gateway.url)
    for run in (paytoken("get", "doku", "-p", "words", "-o", "json"), paytoken("get", "doku", "-p", "words", "-v")):
        assert run.exit_code == 4, run.output
        assert run.stdout == ""
        assert "error: DOKU partner API rejected the token request: invalid_signature no signature made with ••••" in (
            run.stderr
        )
        assert f"hint: {DOKU_HINT}" in run.stderr
        assert '"secret_key": "••••"' in run.stderr  # the body, quoted in the details
        no_bare(word, run.output)
        assert_clean(run.output)


def test_doctor_keeps_its_words_and_masks_the_gateways_quote(word: str, gateway: Gateway, isolated: Path) -> None:
    write_profiles(isolated, word, gateway.url)
    run = paytoken("doctor", "doku", "--profile", "words")
    assert run.exit_code == 4, run.output
    assert "[doku.words] in" in run.stdout and "has every key doku needs" in run.stdout
    assert "no signature made with ••••" in run.stdout
    assert f"fix: {DOKU_HINT}" in " ".join(run.stdout.split())
    no_bare(word, run.output)
    assert_clean(run.output)
    as_json = paytoken("doctor", "doku", "--profile", "words", "-o", "json")
    assert as_json.exit_code == 4, as_json.output
    token_check = next(check for check in json.loads(as_json.stdout)["checks"] if check["name"] == "token request")
    assert "no signature made with ••••" in token_check["detail"] and token_check["fix"] == DOKU_HINT
    no_bare(word, as_json.output)


def test_sign_and_profiles_show_keep_their_words(word: str, gateway: Gateway, isolated: Path) -> None:
    write_profiles(isolated, word, gateway.url)
    signed = paytoken("sign", "doku", "--profile", "words")
    assert signed.exit_code == 0, signed.output
    # The request target (…/token) and the string's labels are not the secret: shown as they are.
    assert "Request-Target:/adv-core-api/partner/v1.0/token" in signed.stdout
    assert "Client-Id:BRN-0001-WORDS" in signed.stdout and "••••" not in signed.stdout
    shown = paytoken("profiles", "show", "doku.words")
    assert shown.exit_code == 0, shown.output
    rows = dict(line.split()[:2] for line in shown.stdout.splitlines()[2:])
    assert rows["secret_key"] == "••••" and rows["client_id"] == "BRN-0001-WORDS"
    assert shown.stdout.startswith("[doku.words] in profiles.toml\nkey ")
    as_json = json.loads(paytoken("profiles", "show", "doku.words", "-o", "json").stdout)
    assert as_json["where"] == "[doku.words] in profiles.toml" and as_json["values"]["secret_key"]["value"] == "••••"


def test_a_refused_connection_keeps_its_hint_whole(word: str, isolated: Path) -> None:
    write_profiles(isolated, word, "http://127.0.0.1:9")
    run = paytoken("get", "doku", "-p", "refused")
    assert run.exit_code == 5, run.output
    assert "refused the connection" in run.stderr
    assert "hint: nothing is listening there: check base_url (is `paytoken sandbox` running?)" in run.stderr
    assert_clean(run.output)


def test_a_wrong_passphrase_named_wrong_keeps_the_message_whole(isolated: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = generate(2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"the-right-passphrase"),
    )
    (isolated / "private.pem").write_bytes(key)
    (isolated / "private.pem").chmod(0o600)
    profiles = isolated / "profiles.toml"
    profiles.write_text(
        '[nicepay.words]\nclient_id = "IONPAYTEST"\nprivate_key_file = "private.pem"\n'
        'private_key_passphrase = "wrong"\nbase_url = "http://127.0.0.1:9"\n'
    )
    profiles.chmod(0o600)
    runs: list[Run] = [
        paytoken("get", "nicepay", "-p", "words"),
        paytoken("sign", "nicepay", "--profile", "words"),
    ]
    for run in runs:
        assert run.exit_code == 3, run.output
        assert "error: wrong passphrase for private_key_file" in run.stderr, run.stderr
        assert "hint: check private_key_passphrase (and the variable it refers to)" in run.stderr
        assert_clean(run.output, ["the-right-passphrase"])
    doctor = paytoken("doctor", "nicepay", "--profile", "words")
    assert "wrong passphrase for private_key_file" in doctor.stdout


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # Where a short secret stands as a value: masked.
        ('{"secret_key":"sandbox"}', '{"secret_key":"••••"}'),
        ("https://merchant:sandbox@gateway.example/x", "https://merchant:••••@gateway.example/x"),
        ("client=abc&key=sandbox&x=1", "client=abc&key=••••&x=1"),
        ("Invalid key: sandbox.", "Invalid key: ••••."),
        ("Client-Id:DEMO|sandbox|2024", "Client-Id:DEMO|••••|2024"),
        # Where it is part of something else: a word, a path, a host, a JSON key. Not the value; shown.
        ("POST /sandbox/v1.0/token", "POST /sandbox/v1.0/token"),
        ("http://sandbox.local:8787", "http://sandbox.local:8787"),
        ("paytoken-sandbox sandboxes sandbox_id", "paytoken-sandbox sandboxes sandbox_id"),
        ('{"sandbox": "on"}', '{"sandbox": "on"}'),
        # A long secret is masked anywhere, inside a word too.
        ("prefix-Zx81LongSecretValue-suffix", "prefix-••••alue-suffix"),
    ],
)
def test_the_redactor_masks_a_secret_where_it_stands_as_a_value(text: str, shown: str) -> None:
    from tidak_cli.redact import Redactor

    redactor = Redactor(["sandbox", "Zx81LongSecretValue"])
    assert redactor.text(text) == shown
    # In paytoken's own sentence only the outside values it quotes are masked (and long secrets anywhere).
    sentence = f"is `paytoken sandbox` running? the gateway said: {text}"
    assert redactor.sentence(sentence, [text]) == f"is `paytoken sandbox` running? the gateway said: {shown}"
