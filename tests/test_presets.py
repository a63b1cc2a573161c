"""The SNAP presets (#16): each gets a token through the CLI from the sandbox and makes a signed call, and
each quirk has a test where dropping it shows: in the bytes paytoken sends, or as the sandbox's rejection.

Signatures are checked against implementations written here (hmac, hashlib, cryptography, the openssl
command line), never against the code under test; dates against datetime arithmetic done here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from support import assert_clean, paytoken, requests_to, stats

from tidak_cli.clock import expiry_moment
from tidak_cli.demo import Workspace
from tidak_cli.gateways import PROVIDERS, provenance
from tidak_cli.gateways.base import Call
from tidak_cli.gateways.snap.recipe import DURIANPAY, PRESETS
from tidak_cli.profiles import load_profile, resolve_profile
from tidak_cli.sandbox import Sandbox, load_config
from tidak_cli.transport import Transport

NAMES = [preset.name for preset in PRESETS]
JAKARTA = timezone(timedelta(hours=7))
SECONDS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+07:00")
MILLIS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+07:00")
# Go's time.Time.String() in UTC, as Durianpay documents expiresIn.
GO_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{1,9})? \+0000 UTC")

PLAIN = b'{"grantType":"client_credentials"}'
WITH_INFO = b'{"grantType":"client_credentials","additionalInfo":{}}'
# What each gateway's source says the token request is: (body bytes, X-TIMESTAMP shape, extra headers).
TOKEN_REQUESTS: Mapping[str, tuple[bytes, re.Pattern[str], tuple[str, ...]]] = {
    "bri": (PLAIN, MILLIS, ()),
    "bni": (WITH_INFO, SECONDS, ()),
    "mandiri": (PLAIN, MILLIS, ()),
    "bca": (PLAIN, SECONDS, ()),
    "dana": (PLAIN, SECONDS, ("X-PARTNER-ID",)),
    "midtrans": (b'{"grant_type":"client_credentials"}', SECONDS, ()),
    "ifortepay": (WITH_INFO, SECONDS, ()),
    "paydia": (PLAIN, SECONDS, ()),
    "paycloud": (WITH_INFO, SECONDS, ()),
    "durianpay": (b'{"grantType":"AUTHORIZATION_CODE"}', MILLIS, ()),
}


def jakarta_now(millis: bool = False) -> str:
    now = datetime.now(JAKARTA)
    return now.isoformat(timespec="milliseconds" if millis else "seconds")


def openssl_verifies(public_pem: Path, signature_b64: str, text: str, scratch: Path) -> bool:
    """openssl dgst -sha256 -verify: an implementation that shares nothing with paytoken's."""
    (scratch / "sig.bin").write_bytes(base64.b64decode(signature_b64, validate=True))
    (scratch / "data.bin").write_bytes(text.encode("utf-8"))
    done = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", str(public_pem), "-signature", "sig.bin", "data.bin"],
        cwd=scratch,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and "Verified OK" in done.stdout


def preset_public_key(workspace: Workspace) -> Path:
    return workspace.directory / "snap-presets" / "public.pem"


def demo_client_id(profiles: Path, name: str) -> str:
    import tomllib

    return str(tomllib.loads(profiles.read_text())[name]["demo"]["client_id"])


# --- tokens, end to end through the CLI -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_gets_a_token_from_the_sandbox(name: str, profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", name, "-p", "demo", "-o", "json")
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    assert document["provider"] == name and len(document["access_token"]) >= 32
    assert 880 <= document["expires_in"] <= 900
    assert document["response"]["tokenType"] == PROVIDERS[name].token_type  # type: ignore[attr-defined]
    # A token path shared by several presets reached this one's gateway, once.
    assert requests_to(sandbox, name) == 1
    assert stats(sandbox)["requests"] == 1
    assert_clean(run.output)


@pytest.mark.parametrize("name", NAMES)
def test_each_preset_sends_the_token_request_its_source_documents(
    name: str, profiles: Path, workspace: Workspace, isolated: Path
) -> None:
    body, stamp_shape, extra = TOKEN_REQUESTS[name]
    run = paytoken("sign", name, "-p", "demo", "-o", "json")
    assert run.exit_code == 0, run.output
    request = json.loads(run.stdout)
    assert request["body"].encode() == body
    headers = request["headers"]
    assert stamp_shape.fullmatch(headers["X-TIMESTAMP"]), headers["X-TIMESTAMP"]
    client_id = demo_client_id(profiles, name)
    assert set(headers) == {"Content-Type", "X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE", *extra}
    for header in extra:
        assert headers[header] == client_id  # DANA: X-PARTNER-ID, the client id when no partner_id is set
    if shutil.which("openssl"):
        text = f"{client_id}|{headers['X-TIMESTAMP']}"
        assert openssl_verifies(preset_public_key(workspace), headers["X-SIGNATURE"], text, isolated)


def test_dana_token_request_carries_the_profiles_partner_id(profiles: Path) -> None:
    profiles.write_text(profiles.read_text().replace("[dana.demo]\n", '[dana.demo]\npartner_id = "PARTNER-9"\n'))
    headers = json.loads(paytoken("sign", "dana", "-p", "demo", "-o", "json").stdout)["headers"]
    assert headers["X-PARTNER-ID"] == "PARTNER-9"


@pytest.mark.parametrize("name", ["bri", "durianpay"])
def test_the_sandbox_refuses_a_seconds_only_timestamp_where_milliseconds_are_wanted(
    name: str, profiles: Path, sandbox: Sandbox
) -> None:
    run = paytoken("get", name, "-p", "demo", "--timestamp", jakarta_now())
    assert run.exit_code == 4, run.output
    assert "4007301" in run.stderr and "X-TIMESTAMP" in run.stderr
    assert ".123+07:00" in run.stderr  # the hint shows the form this gateway wants
    assert paytoken("get", name, "-p", "demo", "--timestamp", jakarta_now(millis=True)).exit_code == 0


def test_mandiri_sends_milliseconds_and_its_sandbox_takes_seconds_too(profiles: Path, sandbox: Sandbox) -> None:
    # Community code sends both: the sandbox accepts both, paytoken sends milliseconds.
    assert paytoken("get", "mandiri", "-p", "demo", "--timestamp", jakarta_now()).exit_code == 0


def test_only_midtrans_reads_the_snake_case_grant(profiles: Path, sandbox: Sandbox) -> None:
    # The generic `snap` shares midtrans' token path; with grant_type in its body its gateway says grantType is
    # missing, where midtrans' gateway (test above) issues the token.
    text = profiles.read_text().replace("[snap.demo]\n", '[snap.demo]\nbody = {grant_type = "client_credentials"}\n')
    profiles.write_text(text)
    run = paytoken("get", "snap", "-p", "demo")
    assert run.exit_code == 4, run.output
    assert "4007302" in run.stderr and "grantType" in run.stderr
    assert requests_to(sandbox, "snap") == 1 and requests_to(sandbox, "midtrans") == 0


def test_durianpays_sandbox_refuses_client_credentials(profiles: Path, sandbox: Sandbox) -> None:
    # Its documentation's example grant is AUTHORIZATION_CODE; a `snap` profile aimed at its path shows the
    # gateway refusing the usual one.
    signed = json.loads(paytoken("sign", "durianpay", "-p", "demo", "-o", "json").stdout)
    answer = post(sandbox.url + "/v1.0/access-token/b2b", signed["headers"], PLAIN)
    assert answer[0] == 400 and answer[1]["responseCode"] == "4007301", answer
    assert requests_to(sandbox, "durianpay") == 1


def post(url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_danas_sandbox_refuses_a_token_request_without_x_partner_id(profiles: Path, sandbox: Sandbox) -> None:
    signed = json.loads(paytoken("sign", "dana", "-p", "demo", "-o", "json").stdout)
    headers = {name: value for name, value in signed["headers"].items() if name != "X-PARTNER-ID"}
    status, answer = post(sandbox.url + "/v1.0/access-token/b2b.htm", headers, signed["body"].encode())
    assert status == 400 and answer["responseCode"] == "4007302", answer
    assert "X-PARTNER-ID" in str(answer["responseMessage"])
    assert post(sandbox.url + "/v1.0/access-token/b2b.htm", signed["headers"], signed["body"].encode())[0] == 200


def test_durianpay_expiry_is_a_date_time_read_as_the_expiry(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "durianpay", "-p", "demo", "-o", "json")
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    answered = document["response"]["expiresIn"]
    match = GO_TIME.fullmatch(answered)
    assert match is not None, answered
    expected = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    expires_at = datetime.fromisoformat(document["expires_at"].replace("Z", "+00:00"))
    assert abs((expires_at - expected).total_seconds()) < 1
    assert document["response"]["tokenType"] == "BearerToken"
    assert document["token_type"] == "Bearer"
    header = paytoken("get", "durianpay", "-p", "demo", "-o", "header")
    assert header.stdout.startswith("Authorization: Bearer ") and "BearerToken" not in header.stdout


@pytest.mark.parametrize(("name", "expected"), [("paycloud", "900"), ("bri", 900), ("dana", 900)])
def test_expires_in_is_answered_as_each_gateway_writes_it(
    name: str, expected: object, profiles: Path, sandbox: Sandbox
) -> None:
    document = json.loads(paytoken("get", name, "-p", "demo", "-o", "json").stdout)
    assert document["response"]["expiresIn"] == expected
    assert 880 <= document["expires_in"] <= 900


def test_durianpays_documented_answer_parses() -> None:
    answer = {
        "responseCode": "2007300",
        "responseMessage": "Successful",
        "accessToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.x",
        "tokenType": "BearerToken",
        "expiresIn": "2024-05-13 08:47:36.452492159 +0000 UTC",
    }
    token = DURIANPAY.parse(200, json.dumps(answer).encode())
    assert token.token_type == "Bearer"
    assert token.expires_in is None
    assert token.expires_at == datetime(2024, 5, 13, 8, 47, 36, 452492, tzinfo=UTC)
    received = datetime(2024, 5, 13, 8, 32, 36, 452492, tzinfo=UTC)
    assert token.anchored(received).expires_in == 900


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-13 08:47:36.452492159 +0000 UTC", datetime(2024, 5, 13, 8, 47, 36, 452492, tzinfo=UTC)),
        ("2024-05-13 08:47:36 +0000 UTC", datetime(2024, 5, 13, 8, 47, 36, tzinfo=UTC)),
        ("2024-05-13 15:47:36.5 +0700 WIB m=+900.000000001", datetime(2024, 5, 13, 8, 47, 36, 500000, tzinfo=UTC)),
        ("2024-05-13 08:47:36.1 -0130", datetime(2024, 5, 13, 10, 17, 36, 100000, tzinfo=UTC)),
        ("2024-05-13T15:47:36+07:00", datetime(2024, 5, 13, 8, 47, 36, tzinfo=UTC)),
        ("2024-05-13 08:47:36", None),  # no offset: no moment
        ("2024-02-30 08:47:36 +0000 UTC", None),
        ("1999-05-13 08:47:36 +0000 UTC", None),
        ("900", None),
        (900, None),
        ("2024-05-13 08:47:36 +0000 UTC" + " " * 60, None),
        ("", None),
    ],
)
def test_expiry_moment_reads_go_and_iso_date_times_only(value: object, expected: datetime | None) -> None:
    assert expiry_moment(value) == expected


# --- calls: every preset makes a signed call against the sandbox ----------------------------------------

CALL_PATHS = {
    "bri": "/snap/v1.0/balance-inquiry",
    "bni": "/snap-service/v1/balance-inquiry",
    "bca": "/openapi/v1.0/balance-inquiry",
    "dana": "/v1.0/qr/qr-mpm-generate.htm",
    "ifortepay": "/v1.0/transfer-va/create-va?channel=x",
}
CALL_BODY = b'{"partnerReferenceNo":"2020102900000000000001","amount":{"value":"10000.00","currency":"IDR"}}'


@dataclass(frozen=True)
class CallWorld:
    sandbox: Sandbox
    profiles: Path
    public_key: Path
    secrets: Mapping[str, Mapping[str, str]]


@pytest.fixture(scope="module")
def call_world(tmp_path_factory: pytest.TempPathFactory, workspace: Workspace) -> Iterator[CallWorld]:
    """A sandbox that knows each preset's partner as the gateway would after onboarding: its public key and
    the call secrets under the gateway's own names (BNI: api_secret and api_key), and nothing more."""
    directory = tmp_path_factory.mktemp("calls")
    private = workspace.directory / "snap-presets" / "private.pem"
    public = preset_public_key(workspace)
    held: dict[str, dict[str, str]] = {}
    sandbox_lines, profile_lines = [], []
    for preset in PRESETS:
        client_id = f"CALL-{preset.name.upper()}"
        gateway_side = {"client_id": client_id, "public_key_file": str(public)}
        profile_side = {"client_id": client_id, "private_key_file": str(private)}
        if preset.name == "bni":
            calls = {"api_secret": secrets.token_urlsafe(24), "api_key": "BNI-APP-" + secrets.token_hex(4)}
            profile_side["client_secret"] = "a-decoy-that-must-not-key-the-hmac"
        elif preset.call_needs_token:
            calls = {"client_secret": secrets.token_urlsafe(24)}
        else:
            calls = {}
        held[preset.name] = {"client_id": client_id, **calls}
        sandbox_lines += [f"[{preset.name}]", *(f'{k} = "{v}"' for k, v in {**gateway_side, **calls}.items()), ""]
        profile_lines += [f"[{preset.name}.c]", *(f'{k} = "{v}"' for k, v in {**profile_side, **calls}.items())]
        profile_lines.append('base_url = "BASE_URL"\n')
    (directory / "sandbox.toml").write_text("\n".join(sandbox_lines))
    with Sandbox(load_config(directory / "sandbox.toml")).start() as sandbox:
        profiles = directory / "profiles.toml"
        profiles.write_text("\n".join(profile_lines).replace("BASE_URL", sandbox.url))
        profiles.chmod(0o600)
        yield CallWorld(sandbox, profiles, public, held)


def signed_call(world: CallWorld, name: str, token: str | None, path: str) -> tuple[object, Call]:
    provider = PROVIDERS[name]
    profile = load_profile(provider, "c", profiles_file=world.profiles)
    call = Call("POST", path, CALL_BODY, token, provider.new_call_id())
    return provider.build_call(profile, call, datetime.now(UTC)), call


def send(request: object) -> tuple[int, dict[str, object]]:
    with Transport() as transport:
        response = transport.send(request, timeout=10, idempotent=False)  # type: ignore[arg-type]
    return response.status, json.loads(response.body)


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_makes_a_signed_call_against_the_sandbox(name: str, call_world: CallWorld, isolated: Path) -> None:
    """Through the library users call (tidak_cli.auth with requests), the token from the cache `get` filled."""
    import requests

    import tidak_cli

    provider = PROVIDERS[name]
    world = call_world
    world.sandbox.reset()
    token = None
    if provider.call_needs_token:
        got = paytoken("get", name, "-p", "c", "--profiles-file", str(world.profiles), "-o", "token")
        assert got.exit_code == 0, got.output
        token = got.stdout.strip()
    path = CALL_PATHS.get(name, "/v1.0/transfer-va/create-va")
    auth = tidak_cli.auth(name, profile="c", profiles_file=world.profiles)
    answer = requests.post(world.sandbox.url + path, data=CALL_BODY, auth=auth, timeout=30)
    assert answer.status_code == 200 and str(answer.json()["responseCode"]).startswith("200"), answer.text
    assert provider.judge_call(answer.status_code, answer.content).ok
    sent = answer.request
    assert sent.body == CALL_BODY
    body_hash = hashlib.sha256(CALL_BODY).hexdigest()
    stamp = sent.headers["X-TIMESTAMP"]
    assert TOKEN_REQUESTS[name][1].fullmatch(stamp), stamp  # calls use the token's X-TIMESTAMP form
    if token is not None:
        assert sent.headers["Authorization"] == f"Bearer {token}"  # the cached token, not a new one
        key = world.secrets[name]["api_secret" if name == "bni" else "client_secret"]
        text = f"POST:{path}:{token}:{body_hash}:{stamp}"
        independent = base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha512).digest()).decode()
        assert sent.headers["X-SIGNATURE"] == independent
    else:
        assert "Authorization" not in sent.headers
        if shutil.which("openssl"):
            text = f"POST:{path}:{body_hash}:{stamp}"
            assert openssl_verifies(world.public_key, sent.headers["X-SIGNATURE"], text, isolated)
    counts = stats(world.sandbox)["providers"][name]
    assert (counts["calls"], counts["issued"]) == (1, 1 if token else 0)


def test_bnis_calls_name_the_app_by_its_api_key(call_world: CallWorld) -> None:
    got = paytoken("get", "bni", "-p", "c", "--profiles-file", str(call_world.profiles), "-o", "token")
    request, _call = signed_call(call_world, "bni", got.stdout.strip(), CALL_PATHS["bni"])
    headers = dict(request.headers)  # type: ignore[attr-defined]
    assert headers["X-PARTNER-ID"] == call_world.secrets["bni"]["api_key"]
    # The gateway holds the api_key it issued: another X-PARTNER-ID is refused (the signature does not cover it).
    headers["X-PARTNER-ID"] = call_world.secrets["bni"]["client_id"]
    status, answer = post(request.url, headers, CALL_BODY)  # type: ignore[attr-defined]
    assert status == 401 and answer["responseMessage"] == "Unauthorized. Unknown X-PARTNER-ID", answer


def test_a_call_to_bri_with_a_seconds_only_timestamp_is_refused(call_world: CallWorld) -> None:
    got = paytoken("get", "bri", "-p", "c", "--profiles-file", str(call_world.profiles), "-o", "token")
    provider = PROVIDERS["bri"]
    profile = load_profile(provider, "c", profiles_file=call_world.profiles)
    call = Call("POST", CALL_PATHS["bri"], CALL_BODY, got.stdout.strip(), provider.new_call_id())
    status, answer = send(provider.build_call(profile, call, jakarta_now()))
    assert status == 400 and answer["responseCode"] == "4001101", answer  # 11: balance inquiry


@pytest.mark.parametrize(("name", "channel"), [("bca", "95051"), ("dana", "95221"), ("midtrans", "95221")])
def test_channel_id_defaults_to_the_gateways_own(name: str, channel: str, call_world: CallWorld) -> None:
    provider = PROVIDERS[name]
    token = None if name == "dana" else "T"
    request, _call = signed_call(call_world, name, token, "/v1.0/x")
    assert request.headers["CHANNEL-ID"] == channel  # type: ignore[attr-defined]
    table = {"client_id": "C", "private_key_file": str(call_world.public_key.with_name("private.pem"))}
    table |= {"client_secret": "s", "channel_id": "12345", "base_url": "https://g"}
    profile = resolve_profile(provider, "t", table, path=None, environ={})
    mine = provider.build_call(profile, Call("GET", "/v1.0/x", None, token, "1"), STAMP_SECONDS)
    assert mine.headers["CHANNEL-ID"] == "12345"


# --- providers, providers show, profiles init ------------------------------------------------------------


def test_providers_lists_the_groups_with_each_ones_source_within_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    run = paytoken("providers")
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    headings = ["seed gateways", "SNAP banks", "SNAP e-wallets and aggregators"]
    assert [line.strip() for line in lines if line.strip() in headings] == headings
    where = {line.split()[0]: index for index, line in enumerate(lines) if line.split()}
    for preset in PRESETS:
        source = provenance(preset)
        heading = headings[1] if source.group == "bank" else headings[2]
        assert [line.strip() for line in lines].index(heading) < where[preset.name], preset.name
        assert lines[where[preset.name]].rstrip().endswith(source.confidence)
    listed = json.loads(paytoken("providers", "-o", "json").stdout)
    assert {row["name"]: row["confidence"] for row in listed}["mandiri"] == "community"


def test_providers_show_bni_prints_its_quirks_and_sources() -> None:
    run = paytoken("providers", "show", "bni")
    assert run.exit_code == 0
    text = run.stdout
    quirks = text.split("quirks:")[1].split("calls after the token:")[0]
    assert '"additionalInfo":{}' in quirks and "api_secret" in quirks and "api_key" in quirks
    assert "HMAC-SHA512(key = api_secret" in text
    assert "source: official SDK" in text and "github.com/bni-api/bni-nodejs" in text
    shown = json.loads(paytoken("providers", "show", "bni", "-o", "json").stdout)
    assert shown["group"] == "bank" and shown["sources"] and shown["quirks"]
    assert {setting["key"] for setting in shown["settings"]} >= {"api_key", "api_secret"}
    assert "client_secret" not in {setting["key"] for setting in shown["settings"]}


@pytest.mark.parametrize("name", [preset.name for preset in PRESETS if provenance(preset).community_only])
def test_a_preset_from_community_code_says_so(name: str) -> None:
    assert "from community code — check with your sandbox" in paytoken("providers", "show", name).stdout


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("durianpay", ["BearerToken", "expiry date-time", "AUTHORIZATION_CODE", "api-sandbox.durianpay.id"]),
        ("dana", ["X-PARTNER-ID", "without the token", "api.saas.dana.id"]),
        ("ifortepay", ["without the token", 'client_ID + ":"']),
        ("midtrans", ["grant_type"]),
    ],
)
def test_providers_show_says_each_quirk_and_where_a_source_differs(name: str, words: list[str]) -> None:
    text = " ".join(paytoken("providers", "show", name).stdout.split())
    for word in words:
        assert word in text, word


@pytest.mark.parametrize(
    ("name", "present", "absent"),
    [("bni", ["api_key", "api_secret"], ["client_secret", "partner_id"]), ("dana", ["partner_id"], ["client_secret"])],
)
def test_profiles_init_knows_each_presets_keys(
    name: str, present: list[str], absent: list[str], isolated: Path
) -> None:
    assert paytoken("profiles", "init", name, "-p", "dev").exit_code == 0
    written = (isolated / "profiles.toml").read_text()
    for key in present:
        assert re.search(rf"^#? ?{key} = ", written, re.MULTILINE), key
    for key in absent:
        assert not re.search(rf"^#? ?{key} = ", written, re.MULTILINE), key


# --- sign --compare names the shared mistakes for every preset ------------------------------------------

STAMP_SECONDS = "2024-12-31T10:11:40+07:00"
STAMP_MILLIS = "2024-12-31T10:11:40.123+07:00"


@pytest.fixture(scope="module")
def compare_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def compare_profiles(compare_key: rsa.RSAPrivateKey, isolated: Path) -> None:
    pem = isolated / "compare.pem"
    pem.write_bytes(
        compare_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    pem.chmod(0o600)
    tables = [
        f'[{name}.t]\nclient_id = "P-{name}"\nprivate_key_file = "{pem}"\nbase_url = "https://g"\n' for name in NAMES
    ]
    (isolated / "profiles.toml").write_text("\n".join(tables))
    (isolated / "profiles.toml").chmod(0o600)


def rsa_b64(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def compare_mistake(name: str, stamp: str, signature: str) -> tuple[int, dict[str, object]]:
    run = paytoken("sign", name, "-p", "t", "--timestamp", stamp, f"--compare={signature}", "-o", "json")
    assert "Traceback" not in run.output
    return run.exit_code, json.loads(run.stdout)["compare"]


def shared_mistakes(client: str, millis: bool) -> list[tuple[str, str, str]]:
    """(what the client signed, with which X-TIMESTAMP, the mistake paytoken must name)."""
    fraction = ".123" if millis else ""
    stamp = f"2024-12-31T10:11:40{fraction}+07:00"
    return [
        (f"{client}:{stamp}", stamp, "snap.separator"),
        (f"{stamp}|{client}", stamp, "snap.reversed"),
        (f" {client}|{stamp}", stamp, "snap.client-id-whitespace"),
        (f"{client}|2024-12-31T10:11:40{fraction}", stamp, "snap.no-offset"),
        (f"{client}|2024-12-31T03:11:40{fraction}Z", stamp, "snap.utc-milliseconds-z" if millis else "snap.utc-z"),
        (f"{client}|2024-12-31T03:11:40{fraction}+07:00", stamp, "snap.local-time-literal-offset"),
        # The other precision: seconds where milliseconds are wanted, and the reverse.
        (
            f"{client}|2024-12-31T10:11:40{'' if millis else '.123'}+07:00",
            stamp,
            "snap.seconds" if millis else "snap.milliseconds",
        ),
    ]


@pytest.mark.parametrize("name", NAMES)
def test_compare_names_the_shared_mistakes_for_every_preset(
    name: str, compare_key: rsa.RSAPrivateKey, compare_profiles: None
) -> None:
    millis = PROVIDERS[name].timestamp_style == "jakarta-millis"  # type: ignore[attr-defined]
    client = f"P-{name}"
    stamp = STAMP_MILLIS if millis else STAMP_SECONDS
    code, verdict = compare_mistake(name, stamp, rsa_b64(compare_key, f"{client}|{stamp}"))
    assert code == 0 and verdict["matches"] is True, verdict
    for text, sent, mistake in shared_mistakes(client, millis):
        code, verdict = compare_mistake(name, sent, rsa_b64(compare_key, text))
        assert code == 1 and verdict["mistake"] == mistake, (text, verdict)


def test_compare_finds_a_bri_signature_made_now_without_the_timestamp(
    compare_key: rsa.RSAPrivateKey, compare_profiles: None
) -> None:
    now = jakarta_now(millis=True)
    run = paytoken("sign", "bri", "-p", "t", f"--compare={rsa_b64(compare_key, f'P-bri|{now}')}", "-o", "json")
    assert run.exit_code == 0, run.output
    seconds_only = rsa_b64(compare_key, f"P-bri|{jakarta_now()}")
    run = paytoken("sign", "bri", "-p", "t", f"--compare={seconds_only}", "-o", "json")
    assert run.exit_code == 1 and json.loads(run.stdout)["compare"]["mistake"] == "snap.seconds"


# --- sign --replay judges a captured request by the preset's own rules ---------------------------------


def captured(workspace: Workspace, profiles: Path, name: str, stamp: str, headers: Mapping[str, str]) -> Path:
    """A raw HTTP capture of a token request, signed here with the workspace's key (cryptography)."""
    key = serialization.load_pem_private_key((workspace.directory / "snap-presets" / "private.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    client_id = demo_client_id(profiles, name)
    body = TOKEN_REQUESTS[name][0].decode()
    lines = [
        f"POST {PROVIDERS[name].token_path} HTTP/1.1",
        "Host: gateway.example",
        "Content-Type: application/json",
        f"X-TIMESTAMP: {stamp}",
        f"X-CLIENT-KEY: {client_id}",
        f"X-SIGNATURE: {rsa_b64(key, f'{client_id}|{stamp}')}",
        *(f"{header}: {value}" for header, value in headers.items()),
        "",
        body,
    ]
    path = Path("captured.txt")
    path.write_text("\r\n".join(lines))
    return path


def test_replay_wants_danas_x_partner_id_and_bris_milliseconds(profiles: Path, workspace: Workspace) -> None:
    dana = demo_client_id(profiles, "dana")
    right = captured(workspace, profiles, "dana", jakarta_now(), {"X-PARTNER-ID": dana})
    run = paytoken("sign", "dana", "-p", "demo", "--replay", str(right), "-o", "json")
    assert run.exit_code == 0 and json.loads(run.stdout)["replay"]["problems"] == [], run.output
    without = captured(workspace, profiles, "dana", jakarta_now(), {})
    problems = json.loads(paytoken("sign", "dana", "-p", "demo", "--replay", str(without), "-o", "json").stdout)
    assert any("X-PARTNER-ID" in problem for problem in problems["replay"]["problems"]), problems
    seconds = captured(workspace, profiles, "bri", jakarta_now(), {})
    problems = json.loads(paytoken("sign", "bri", "-p", "demo", "--replay", str(seconds), "-o", "json").stdout)
    assert any(".123+07:00" in problem for problem in problems["replay"]["problems"]), problems
    millis = captured(workspace, profiles, "bri", jakarta_now(millis=True), {})
    run = paytoken("sign", "bri", "-p", "demo", "--replay", str(millis), "-o", "json")
    assert run.exit_code == 0 and json.loads(run.stdout)["replay"]["problems"] == [], run.output
