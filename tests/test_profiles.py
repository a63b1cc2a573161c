"""Profiles (SPEC 2, and `profiles list/show` in SPEC 3): lookup order, `.env` and `${VAR}`, required and
unknown keys, types, base URLs, paths, masking, permissions.

Most checks go through `paytoken sign nicepay -o json`: it resolves a profile and signs with its key without
any network, and its JSON shows the client id, the URL and the signature the profile produced.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import Run, assert_clean, paytoken

from tidak_cli.errors import ConfigError
from tidak_cli.gateways import PROVIDERS
from tidak_cli.profiles import (
    COMMON_SETTINGS,
    default_profile_name,
    find_profiles_file,
    profiles_search_path,
    resolve_profile,
)
from tidak_cli.sandbox import Sandbox

PASSPHRASE = "correct-horse-battery-9x7Q"  # 26 characters: `profiles show` may show its last 4
NICEPAY_PATH = "/nicepay/v1.0/access-token/b2b"


# --- keys and files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    private: rsa.RSAPrivateKey = field(repr=False)
    plain_pem: str = field(repr=False)
    encrypted_pem: str = field(repr=False)  # encrypted with PASSPHRASE

    @property
    def public(self) -> rsa.RSAPublicKey:
        return self.private.public_key()

    @property
    def secrets(self) -> list[str]:
        """Everything that must never be printed: the passphrase and every line of both PEMs."""
        lines = [
            line
            for pem in (self.plain_pem, self.encrypted_pem)
            for line in pem.splitlines()
            if line and "-----" not in line
        ]
        return [PASSPHRASE, *lines]


@pytest.fixture(scope="module")
def keys() -> Keys:
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    plain = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()
    return Keys(private, plain, encrypted)


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def key_file(keys: Keys, isolated: Path) -> Path:
    """The encrypted private key as a 0600 PEM file in the current directory."""
    return write(isolated / "private.pem", keys.encrypted_pem)


def q(value: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these values)."""
    return json.dumps(value)


def toml_table(header: str, **values: str | None) -> str:
    """`[header]` with raw TOML values; None leaves a key out."""
    lines = [f"[{header}]"] + [f"{key} = {value}" for key, value in values.items() if value is not None]
    return "\n".join(lines) + "\n"


def nicepay_table(key_file: Path, name: str = "default", **values: str | None) -> str:
    """A complete [nicepay.NAME] table (encrypted key file plus passphrase), with values replaced or removed."""
    base: dict[str, str | None] = {
        "client_id": q("CLIENT-1"),
        "private_key_file": q(str(key_file)),
        "private_key_passphrase": q(PASSPHRASE),
    }
    return toml_table(f"nicepay.{name}", **{**base, **values})


# --- running and checking ------------------------------------------------------------------------


def sign(*args: str, provider: str = "nicepay") -> Run:
    return paytoken("sign", provider, *args, "-o", "json", "--timestamp", "2024-12-31T10:11:40+07:00")


def signed(run: Run, keys: Keys) -> dict[str, object]:
    """The sign -o json document of a successful run, its signature checked with the public key."""
    assert run.exit_code == 0, run.output
    assert_clean(run.output, keys.secrets)
    document = json.loads(run.stdout)
    signature = base64.b64decode(str(document["signature"]))
    keys.public.verify(signature, str(document["string_to_sign"]).encode(), padding.PKCS1v15(), hashes.SHA256())
    return document  # type: ignore[no-any-return]


def client_of(run: Run, keys: Keys) -> str:
    return signed(run, keys)["headers"]["X-CLIENT-KEY"]  # type: ignore[index,no-any-return]


def url_of(run: Run, keys: Keys) -> str:
    return signed(run, keys)["url"]  # type: ignore[return-value]


def config_error(run: Run, keys: Keys, *needles: str) -> None:
    """Exit 3, nothing on stdout, every needle on stderr, no traceback, no secret."""
    assert run.exit_code == 3, run.output
    assert run.stdout == ""
    assert_clean(run.output, keys.secrets)
    for needle in needles:
        assert needle in run.stderr, f"{needle!r} not in: {run.stderr}"


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a table printed into a pipe: columns start where the header's names start."""
    lines = text.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith(("key ", "provider ")))
    starts = [found.start() for found in re.finditer(r"\S+(?: \S+)*", lines[header])]
    ends = [*starts[1:], None]
    return [[line[start:end].strip() for start, end in zip(starts, ends, strict=True)] for line in lines[header + 1 :]]


@pytest.fixture
def dotenv(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write ./.env; the variables python-dotenv puts into os.environ are removed after the test."""

    def write_dotenv(**values: str) -> Path:
        for name in values:
            monkeypatch.setenv(name, "")  # so that monkeypatch restores "not set" afterwards
            monkeypatch.delenv(name)
        return write(isolated / ".env", "".join(f"{name}={value}\n" for name, value in values.items()))

    return write_dotenv


# --- 1. where the profiles file is found ---------------------------------------------------------

LEVELS = ["flag", "env", "cwd", "config"]


@pytest.mark.parametrize("winner", LEVELS)
def test_lookup_order(
    winner: str, key_file: Path, isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    # Every level below the winner also has a file; each file names itself in client_id.
    places = {
        "flag": tmp_path / "flag" / "from-flag.toml",
        "env": tmp_path / "env" / "from-env.toml",
        "cwd": isolated / "profiles.toml",
        "config": tmp_path / "home" / ".config" / "paytoken" / "profiles.toml",
    }
    for level in LEVELS[LEVELS.index(winner) :]:
        write(places[level], nicepay_table(key_file, client_id=q(f"FROM-{level.upper()}")))
    args: list[str] = []
    if winner == "flag":
        args = ["--profiles-file", str(places["flag"])]
    if winner in ("flag", "env"):
        monkeypatch.setenv("PAYTOKEN_PROFILES", str(places["env"]))
    assert client_of(sign(*args), keys) == f"FROM-{winner.upper()}"


def test_search_path_lists_the_places_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYTOKEN_PROFILES", "/somewhere/p.toml")
    places = profiles_search_path(Path("given.toml"))
    assert [path for path, _why in places] == [
        Path("given.toml"),
        Path("/somewhere/p.toml"),
        Path("profiles.toml"),
        tmp_path / "home" / ".config" / "paytoken" / "profiles.toml",
    ]


def test_config_directory_file_is_found_by_function(tmp_path: Path, key_file: Path) -> None:
    config = write(tmp_path / "home" / ".config" / "paytoken" / "profiles.toml", nicepay_table(key_file))
    assert find_profiles_file().resolve() == config.resolve()


def test_missing_explicit_file_is_an_error_and_does_not_fall_back(
    key_file: Path, isolated: Path, tmp_path: Path, keys: Keys
) -> None:
    write(isolated / "profiles.toml", nicepay_table(key_file))
    missing = tmp_path / "nowhere" / "typo.toml"
    run = sign("--profiles-file", str(missing))
    config_error(run, keys, str(missing))
    with pytest.raises(ConfigError):
        find_profiles_file(missing)


def test_missing_explicit_file_for_profiles_list(key_file: Path, isolated: Path, keys: Keys) -> None:
    write(isolated / "profiles.toml", nicepay_table(key_file))
    run = paytoken("profiles", "list", "--profiles-file", "typo.toml")
    config_error(run, keys, "typo.toml")


def test_env_file_that_does_not_exist_is_an_error_and_does_not_fall_back(
    key_file: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    # Issue 13: a typo in PAYTOKEN_PROFILES (in CI, say) must not quietly pick up ./profiles.toml, which may be
    # another environment's. A file chosen by name that does not exist is a mistake, as with --profiles-file.
    write(isolated / "profiles.toml", nicepay_table(key_file, client_id=q("FROM-CWD")))
    missing = isolated / "not-there.toml"
    monkeypatch.setenv("PAYTOKEN_PROFILES", str(missing))
    for run in (sign(), paytoken("profiles", "list"), paytoken("get", "nicepay", "--dry-run")):
        config_error(run, keys, f"profiles file {missing} (named by $PAYTOKEN_PROFILES) does not exist")
        assert "PAYTOKEN_PROFILES" in run.stderr.split("hint:")[1]
        assert "FROM-CWD" not in run.output
    with pytest.raises(ConfigError, match="PAYTOKEN_PROFILES"):
        find_profiles_file()
    (isolated / "a-directory").mkdir()
    monkeypatch.setenv("PAYTOKEN_PROFILES", str(isolated / "a-directory"))
    config_error(sign(), keys, "(named by $PAYTOKEN_PROFILES) is a directory, not a file")


def test_no_profiles_file_anywhere_lists_the_places_looked(tmp_path: Path, keys: Keys) -> None:
    run = sign()
    config_error(
        run,
        keys,
        "no profiles file",
        "profiles.toml (current directory)",
        str(tmp_path / "home" / ".config" / "paytoken" / "profiles.toml"),
    )
    listing = paytoken("profiles", "list")
    config_error(listing, keys, "no profiles file", str(tmp_path / "home" / ".config" / "paytoken"))


# --- 2. which profile --------------------------------------------------------------------------


@pytest.fixture
def two_profiles(key_file: Path, isolated: Path) -> Path:
    text = nicepay_table(key_file, "default", client_id=q("DEFAULT-ID")) + nicepay_table(
        key_file, "staging", client_id=q("STAGING-ID")
    )
    return write(isolated / "profiles.toml", text)


def test_profile_defaults_to_default(two_profiles: Path, keys: Keys) -> None:
    assert default_profile_name() == "default"
    assert client_of(sign(), keys) == "DEFAULT-ID"


def test_profile_comes_from_environment(two_profiles: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys) -> None:
    monkeypatch.setenv("PAYTOKEN_PROFILE", "staging")
    assert default_profile_name() == "staging"
    assert client_of(sign(), keys) == "STAGING-ID"
    # The flag beats the variable.
    assert client_of(sign("--profile", "default"), keys) == "DEFAULT-ID"
    assert client_of(sign("-p", "default"), keys) == "DEFAULT-ID"


def test_missing_profile_names_table_and_file_and_lists_others(two_profiles: Path, keys: Keys) -> None:
    run = sign("--profile", "x")
    config_error(run, keys, "[nicepay.x]", "profiles.toml", "default", "staging")


def test_missing_profile_from_environment(two_profiles: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys) -> None:
    monkeypatch.setenv("PAYTOKEN_PROFILE", "prod")
    config_error(sign(), keys, "[nicepay.prod]", "profiles.toml", "default, staging")


def test_missing_provider_table(two_profiles: Path, keys: Keys) -> None:
    run = sign("--profile", "default", provider="doku-snap")
    config_error(run, keys, "[doku-snap.default]", "profiles.toml")


# --- 3. .env and ${VAR} --------------------------------------------------------------------------


def test_dotenv_values_are_substituted(
    dotenv: Callable[..., Path], key_file: Path, isolated: Path, tmp_path: Path, keys: Keys
) -> None:
    key_dir = tmp_path / "secret-keys"
    write(key_dir / "private.pem", keys.encrypted_pem)
    dotenv(PT_CLIENT_ID="FROM-DOTENV", PT_PREFIX="ID", PT_KEY_DIR=str(key_dir), PT_PASS=PASSPHRASE)
    write(
        isolated / "profiles.toml",
        nicepay_table(
            key_file,
            client_id=q("${PT_CLIENT_ID}"),
            private_key_file=q("${PT_KEY_DIR}/private.pem"),
            private_key_passphrase=q("${PT_PASS}"),
        )
        + nicepay_table(key_file, "mixed", client_id=q("${PT_PREFIX}-${PT_CLIENT_ID}-$NOT_A_REFERENCE")),
    )
    assert client_of(sign(), keys) == "FROM-DOTENV"
    assert client_of(sign("-p", "mixed"), keys) == "ID-FROM-DOTENV-$NOT_A_REFERENCE"


def test_dotenv_reaches_snap_headers_and_body(
    dotenv: Callable[..., Path], key_file: Path, isolated: Path, keys: Keys
) -> None:
    dotenv(PT_BANK_URL="https://api.bank.example", PT_PARTNER="P-77", PT_CHANNEL="95221", PT_MERCHANT="M-1")
    write(
        isolated / "profiles.toml",
        f"""
[snap.default]
client_id = "SNAP-1"
private_key_file = {q(str(key_file))}
private_key_passphrase = {q(PASSPHRASE)}
base_url = "${{PT_BANK_URL}}"
headers = {{ "X-PARTNER-ID" = "${{PT_PARTNER}}", "CHANNEL-ID" = "ch-${{PT_CHANNEL}}" }}

[snap.default.body]
grantType = "client_credentials"
additionalInfo = {{ merchantId = "${{PT_MERCHANT}}", ids = ["${{PT_PARTNER}}", 7] }}
""",
    )
    document = signed(sign(provider="snap"), keys)
    assert document["url"] == "https://api.bank.example/v1.0/access-token/b2b"
    headers = document["headers"]
    assert headers["X-PARTNER-ID"] == "P-77"  # type: ignore[index]
    assert headers["CHANNEL-ID"] == "ch-95221"  # type: ignore[index]
    assert json.loads(str(document["body"])) == {
        "grantType": "client_credentials",
        "additionalInfo": {"merchantId": "M-1", "ids": ["P-77", 7]},
    }


def test_environment_wins_over_dotenv(
    dotenv: Callable[..., Path], key_file: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    dotenv(PT_CLIENT_ID="FROM-DOTENV")
    monkeypatch.setenv("PT_CLIENT_ID", "FROM-ENVIRONMENT")
    write(isolated / "profiles.toml", nicepay_table(key_file, client_id=q("${PT_CLIENT_ID}")))
    assert client_of(sign(), keys) == "FROM-ENVIRONMENT"


def test_dotenv_outside_the_current_directory_is_not_read(
    key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    monkeypatch.delenv("PT_ELSEWHERE", raising=False)
    conf = tmp_path / "conf"
    write(conf / ".env", "PT_ELSEWHERE=should-not-be-read\n")
    profiles_file = write(conf / "profiles.toml", nicepay_table(key_file, client_id=q("${PT_ELSEWHERE}")))
    try:
        run = sign("--profiles-file", str(profiles_file))
    finally:
        monkeypatch.delenv("PT_ELSEWHERE", raising=False)
    config_error(run, keys, "PT_ELSEWHERE", "client_id")


def test_missing_variable_names_variable_and_key(
    key_file: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    monkeypatch.delenv("PT_NOT_SET", raising=False)
    write(isolated / "profiles.toml", nicepay_table(key_file, client_id=q("${PT_NOT_SET}")))
    config_error(sign(), keys, "PT_NOT_SET", "client_id", "[nicepay.default]")


def test_missing_variable_inside_snap_headers(
    key_file: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    monkeypatch.delenv("PT_NOT_SET", raising=False)
    write(
        isolated / "profiles.toml",
        toml_table(
            "snap.default",
            client_id=q("SNAP-1"),
            private_key_file=q(str(key_file)),
            private_key_passphrase=q(PASSPHRASE),
            base_url=q("https://api.bank.example"),
            headers='{ "X-PARTNER-ID" = "${PT_NOT_SET}" }',
        ),
    )
    config_error(sign(provider="snap"), keys, "PT_NOT_SET", "headers", "[snap.default]")


# --- 4. required keys ----------------------------------------------------------------------------


@pytest.fixture
def conf_file(tmp_path: Path) -> Path:
    """A profiles file away from the current directory, so that messages must name it in full."""
    return tmp_path / "conf" / "credentials.toml"


def test_missing_client_id_names_key_table_and_file(key_file: Path, conf_file: Path, keys: Keys) -> None:
    write(conf_file, nicepay_table(key_file, client_id=None))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, "client_id", "[nicepay.default]", str(conf_file))


def test_missing_key_material_names_both_keys(key_file: Path, conf_file: Path, keys: Keys) -> None:
    write(conf_file, nicepay_table(key_file, private_key_file=None))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, "private_key", "private_key_file", "[nicepay.default]", str(conf_file))
    assert re.search(r"\bprivate_key\b", run.stderr), run.stderr  # on its own, not only inside private_key_file


def test_both_private_key_and_file_is_an_error(key_file: Path, conf_file: Path, keys: Keys) -> None:
    write(conf_file, nicepay_table(key_file, private_key=q(keys.encrypted_pem)))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, "private_key", "private_key_file", "[nicepay.default]", str(conf_file))
    assert re.search(r"\bprivate_key\b", run.stderr), run.stderr  # on its own, not only inside private_key_file


def test_inline_private_key_is_enough(key_file: Path, isolated: Path, keys: Keys) -> None:
    write(
        isolated / "profiles.toml",
        nicepay_table(key_file, private_key_file=None, private_key=q(keys.plain_pem), private_key_passphrase=None),
    )
    assert client_of(sign(), keys) == "CLIENT-1"


def test_empty_client_id_counts_as_missing(key_file: Path, conf_file: Path, keys: Keys) -> None:
    # `client_id = "${ID}"` with `ID=` in a .env template: signing for client "" only fails at the gateway.
    write(conf_file, nicepay_table(key_file, client_id=q("")))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, "client_id", "[nicepay.default]", str(conf_file))


# --- 5. unknown keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "typo", "meant"),
    [
        ('clientid = "OTHER"', "clientid", "client_id"),
        ('private_key_flie = "x.pem"', "private_key_flie", "private_key_file"),
        ("verify_ssl = false", "verify_ssl", "verify_tls"),
    ],
)
def test_unknown_key_warns_with_suggestion(
    line: str, typo: str, meant: str, key_file: Path, isolated: Path, keys: Keys
) -> None:
    write(isolated / "profiles.toml", nicepay_table(key_file) + line + "\n")
    run = sign()
    assert client_of(run, keys) == "CLIENT-1"
    warning = [text for text in run.stderr.splitlines() if typo in text]
    assert warning, run.stderr
    assert "warning" in warning[0] and "did you mean" in warning[0] and repr(meant) in warning[0]
    assert typo not in run.stdout


def test_unknown_key_without_a_close_match_still_warns(key_file: Path, isolated: Path, keys: Keys) -> None:
    write(isolated / "profiles.toml", nicepay_table(key_file) + 'colour = "blue"\n')
    run = sign()
    assert client_of(run, keys) == "CLIENT-1"
    assert "colour" in run.stderr and "warning" in run.stderr


# --- 6. types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("client_id", "12345"),
        ("client_id", "true"),
        ("timeout", "-5"),
        ("timeout", "0"),
        ("timeout", '"soon"'),
        ("timeout", "nan"),
        ("timeout", "inf"),
        ("verify_tls", '"maybe"'),
        ("verify_tls", "2"),
        ("environment", '"staging"'),
        ("environment", "1"),
        ("base_url", "42"),
        ("private_key_passphrase", "123456789012"),
    ],
)
def test_wrong_type_is_a_config_error_naming_the_key(
    key: str, raw: str, key_file: Path, conf_file: Path, keys: Keys
) -> None:
    write(conf_file, nicepay_table(key_file, **{key: raw}))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, key, "[nicepay.default]", str(conf_file))


@pytest.mark.parametrize(("raw", "expected"), [("45", 45), ("2.5", 2.5), ('"60"', 60)])
def test_timeout_accepts_positive_numbers(raw: str, expected: float, key_file: Path, isolated: Path) -> None:
    write(isolated / "profiles.toml", nicepay_table(key_file, timeout=raw))
    run = paytoken("profiles", "show", "nicepay.default")
    assert run.exit_code == 0, run.output
    rows = {row[0]: row for row in table_rows(run.stdout)}
    assert math.isclose(float(rows["timeout"][1]), expected)


def test_verify_tls_false_warns_on_use(profiles: Path, sandbox: Sandbox) -> None:
    # SPEC 5: turning TLS verification off prints a warning on every use.
    text = profiles.read_text().replace("[nicepay.demo]\n", "[nicepay.demo]\nverify_tls = false\n", 1)
    profiles.write_text(text)
    run = paytoken("get", "nicepay", "--profile", "demo", "-o", "token")
    assert run.exit_code == 0, run.output
    assert "verify_tls" in run.stderr and "warning" in run.stderr.lower()


# --- 7. environment and base_url -----------------------------------------------------------------

BUILT_IN = {
    # SPEC 1, copied here as an independent record.
    "nicepay": ("https://dev.nicepay.co.id", "https://www.nicepay.co.id", "/nicepay/v1.0/access-token/b2b"),
    "finpay-snap": ("https://devo.finnet.co.id", "https://live.finnet.co.id", "/pg/snap/oauth/v1.0/access-token/b2b"),
    "doku-snap": ("https://api-sandbox.doku.com", "https://api.doku.com", "/authorization/v1/access-token/b2b"),
}


def provider_table(provider: str, key_file: Path, **values: str | None) -> str:
    base: dict[str, str | None] = {
        "client_id": q("CLIENT-1"),
        "private_key_file": q(str(key_file)),
        "private_key_passphrase": q(PASSPHRASE),
    }
    return toml_table(f"{provider}.default", **{**base, **values})


@pytest.mark.parametrize("provider", sorted(BUILT_IN))
def test_environment_picks_the_built_in_url(provider: str, key_file: Path, isolated: Path, keys: Keys) -> None:
    sandbox_url, production_url, path = BUILT_IN[provider]
    text = (
        provider_table(provider, key_file)
        + provider_table(provider, key_file, environment=q("sandbox")).replace(".default]", ".sb]")
        + provider_table(provider, key_file, environment=q("production")).replace(".default]", ".live]")
    )
    write(isolated / "profiles.toml", text)
    assert url_of(sign(provider=provider), keys) == sandbox_url + path
    assert url_of(sign("-p", "sb", provider=provider), keys) == sandbox_url + path
    assert url_of(sign("-p", "live", provider=provider), keys) == production_url + path


@pytest.mark.parametrize("environment", ["sandbox", "production"])
def test_base_url_overrides_environment(environment: str, key_file: Path, isolated: Path, keys: Keys) -> None:
    write(
        isolated / "profiles.toml",
        nicepay_table(key_file, environment=q(environment), base_url=q("http://127.0.0.1:8787/")),
    )
    assert url_of(sign(), keys) == "http://127.0.0.1:8787" + NICEPAY_PATH
    # And --base-url beats the profile's.
    assert url_of(sign("--base-url", "https://gw.example"), keys) == "https://gw.example" + NICEPAY_PATH


def test_snap_uses_its_base_url_and_default_token_path(key_file: Path, isolated: Path, keys: Keys) -> None:
    write(isolated / "profiles.toml", provider_table("snap", key_file, base_url=q("https://api.bank.example")))
    assert url_of(sign(provider="snap"), keys) == "https://api.bank.example/v1.0/access-token/b2b"


@pytest.mark.parametrize("environment", [None, '"sandbox"', '"production"'])
def test_snap_without_base_url_is_a_config_error(
    environment: str | None, key_file: Path, conf_file: Path, keys: Keys
) -> None:
    write(conf_file, provider_table("snap", key_file, environment=environment))
    run = sign("--profiles-file", str(conf_file), provider="snap")
    config_error(run, keys, "base_url", "[snap.default]", str(conf_file))


@pytest.mark.parametrize(
    "url", ["ftp://dev.nicepay.co.id", "dev.nicepay.co.id", "https://", "file:///etc/passwd", "  https://x.example"]
)
def test_base_url_must_be_http(url: str, key_file: Path, conf_file: Path, keys: Keys) -> None:
    write(conf_file, nicepay_table(key_file, base_url=q(url)))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, "base_url", "[nicepay.default]", str(conf_file))


def test_base_url_flag_must_be_http_too(key_file: Path, isolated: Path, keys: Keys) -> None:
    write(isolated / "profiles.toml", nicepay_table(key_file))
    run = sign("--base-url", "gw.example")
    # A flag given wrong is a usage error (SPEC 3: 2), not the profile's fault (3).
    assert run.exit_code == 2, run.output
    assert_clean(run.output, keys.secrets)
    assert run.stderr.startswith("error: --base-url 'gw.example' is not an http(s) URL") and run.stdout == ""


# --- 8. paths ------------------------------------------------------------------------------------


def test_relative_key_path_is_taken_from_the_profiles_file_directory(
    keys: Keys, tmp_path: Path, isolated: Path
) -> None:
    conf = tmp_path / "conf"
    write(conf / "keys" / "private.pem", keys.encrypted_pem)
    profiles_file = write(conf / "profiles.toml", nicepay_table(Path("keys/private.pem")))
    # The current directory is elsewhere, and has no keys/ of its own.
    assert not (isolated / "keys").exists()
    assert client_of(sign("--profiles-file", str(profiles_file)), keys) == "CLIENT-1"
    # A relative --profiles-file: the key is still found next to the file.
    assert client_of(sign("--profiles-file", "../conf/profiles.toml"), keys) == "CLIENT-1"


def test_relative_key_path_is_not_taken_from_the_current_directory(keys: Keys, tmp_path: Path, isolated: Path) -> None:
    write(isolated / "keys" / "private.pem", keys.encrypted_pem)
    profiles_file = write(tmp_path / "conf" / "profiles.toml", nicepay_table(Path("keys/private.pem")))
    run = sign("--profiles-file", str(profiles_file))
    config_error(run, keys, "private_key_file", str(tmp_path / "conf" / "keys" / "private.pem"))


def test_relative_key_path_with_profiles_from_environment(
    keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "conf"
    write(conf / "private.pem", keys.encrypted_pem)
    write(conf / "profiles.toml", nicepay_table(Path("private.pem")))
    monkeypatch.setenv("PAYTOKEN_PROFILES", str(conf / "profiles.toml"))
    assert client_of(sign(), keys) == "CLIENT-1"


def test_tilde_is_expanded_to_home(keys: Keys, tmp_path: Path, isolated: Path) -> None:
    write(tmp_path / "home" / "keys" / "private.pem", keys.encrypted_pem)
    write(isolated / "profiles.toml", nicepay_table(Path("~/keys/private.pem")))
    assert client_of(sign(), keys) == "CLIENT-1"


@pytest.mark.parametrize("path", ["~no-such-user-paytoken/private.pem", "keys/priv\\u0000ate.pem"])
def test_unusable_key_path_is_a_config_error(path: str, keys: Keys, key_file: Path, conf_file: Path) -> None:
    # `~user` for a user that does not exist, or a NUL in the path: the profile is wrong, not paytoken.
    write(conf_file, nicepay_table(key_file, private_key_file=f'"{path}"'))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, "private_key_file", "[nicepay.default]")


def test_key_file_that_is_missing_names_it(keys: Keys, key_file: Path, conf_file: Path) -> None:
    write(conf_file, nicepay_table(key_file, private_key_file=q("gone.pem")))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, "private_key_file", str(conf_file.parent / "gone.pem"))


# --- 9. profiles list and show -------------------------------------------------------------------


@pytest.fixture
def several(keys: Keys, key_file: Path, isolated: Path) -> Path:
    text = "\n".join(
        [
            toml_table(
                "nicepay.demo",
                client_id=q("NICE-DEMO"),
                private_key=f'"""\n{keys.encrypted_pem}"""',
                private_key_passphrase=q(PASSPHRASE),
            ),
            nicepay_table(key_file, "live", environment=q("production")),
            toml_table(
                "doku-snap.uat",
                client_id=q("DOKU-1"),
                private_key_file=q("private.pem"),
                private_key_passphrase=q(PASSPHRASE),
                base_url=q("https://doku.internal.example"),
            ),
            toml_table(
                "snap.bank", client_id=q("S"), private_key=q(keys.plain_pem), base_url=q("https://api.bank.example")
            ),
        ]
    )
    return write(isolated / "profiles.toml", text)


def test_profiles_list_shows_every_profile(several: Path, keys: Keys) -> None:
    run = paytoken("profiles", "list")
    assert run.exit_code == 0, run.output
    assert_clean(run.output, keys.secrets)
    # Columns: provider, profile, client, environment, base URL; the client column is checked below.
    assert sorted((row[0], row[1], row[3], row[4]) for row in table_rows(run.stdout)) == sorted(
        [
            ("nicepay", "demo", "sandbox", "https://dev.nicepay.co.id"),
            ("nicepay", "live", "production", "https://www.nicepay.co.id"),
            ("doku-snap", "uat", "sandbox", "https://doku.internal.example"),
            ("snap", "bank", "sandbox", "https://api.bank.example"),
        ]
    )
    assert "profiles.toml" in run.stdout
    assert "DOKU-1" in {row[2] for row in table_rows(run.stdout)}


def test_profiles_list_follows_the_lookup_order(
    key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "home" / ".config" / "paytoken" / "profiles.toml", nicepay_table(key_file, "cfg"))
    run = paytoken("profiles", "list")
    assert run.exit_code == 0, run.output
    assert [row[:2] for row in table_rows(run.stdout)] == [["nicepay", "cfg"]]
    assert str(config) in run.stdout
    other = write(tmp_path / "other.toml", nicepay_table(key_file, "via-env"))
    monkeypatch.setenv("PAYTOKEN_PROFILES", str(other))
    assert [row[:2] for row in table_rows(paytoken("profiles", "list").stdout)] == [["nicepay", "via-env"]]


def test_profiles_list_substitutes_variables(
    dotenv: Callable[..., Path], key_file: Path, isolated: Path, keys: Keys
) -> None:
    # SPEC 2: any string value may be ${NAME}; the list shows the base URL that will be used.
    dotenv(PT_NICEPAY_URL="https://nicepay.mirror.example", PT_ENV="production")
    write(
        isolated / "profiles.toml",
        nicepay_table(key_file, base_url=q("${PT_NICEPAY_URL}"))
        + nicepay_table(key_file, "live", environment=q("${PT_ENV}")),
    )
    run = paytoken("profiles", "list")
    assert run.exit_code == 0, run.output
    rows = {row[1]: row for row in table_rows(run.stdout)}
    assert rows["default"][4] == "https://nicepay.mirror.example"
    assert rows["live"][3:] == ["production", "https://www.nicepay.co.id"]


def test_profiles_list_without_tables(isolated: Path, keys: Keys) -> None:
    write(isolated / "profiles.toml", "# nothing yet\n")
    config_error(paytoken("profiles", "list"), keys, "profiles.toml")


def test_profiles_show_masks_secrets_and_gives_origins(several: Path, keys: Keys) -> None:
    run = paytoken("profiles", "show", "nicepay.demo")
    assert run.exit_code == 0, run.output
    assert_clean(run.output, keys.secrets)
    assert "••••" + PASSPHRASE[-4:] in run.stdout
    rows = {row[0]: row[1:] for row in table_rows(run.stdout)}
    assert rows["client_id"] == ["NICE-DEMO", "profiles.toml"]
    assert rows["private_key"][0].startswith("••••") and rows["private_key"][1] == "profiles.toml"
    assert rows["private_key_passphrase"] == ["••••" + PASSPHRASE[-4:], "profiles.toml"]
    assert rows["environment"] == ["sandbox", "default"]
    assert rows["base_url"][0] == "https://dev.nicepay.co.id" and "built-in" in rows["base_url"][1]
    assert rows["timeout"] == ["30", "default"]


def test_profiles_show_names_the_profile(several: Path) -> None:
    run = paytoken("profiles", "show", "nicepay.demo")
    assert run.exit_code == 0, run.output
    assert "nicepay.demo" in run.stdout, run.stdout


def test_profiles_show_single_line_inline_key_is_masked(several: Path, keys: Keys) -> None:
    # private_key written on one line with \n escapes.
    run = paytoken("profiles", "show", "snap.bank")
    assert run.exit_code == 0, run.output
    assert_clean(run.output, keys.secrets)
    rows = {row[0]: row[1:] for row in table_rows(run.stdout)}
    assert rows["private_key"][0].startswith("••••")
    assert rows["base_url"] == ["https://api.bank.example", "profiles.toml"]


def test_profiles_show_key_file_by_path_and_variable_origins(
    dotenv: Callable[..., Path], keys: Keys, key_file: Path, isolated: Path
) -> None:
    dotenv(PT_CLIENT_ID="FROM-DOTENV", PT_PASS=PASSPHRASE)
    write(
        isolated / "profiles.toml",
        nicepay_table(key_file, client_id=q("${PT_CLIENT_ID}"), private_key_passphrase=q("${PT_PASS}")),
    )
    run = paytoken("profiles", "show", "nicepay.default")
    assert run.exit_code == 0, run.output
    assert_clean(run.output, keys.secrets)
    rows = {row[0]: row[1:] for row in table_rows(run.stdout)}
    assert rows["client_id"] == ["FROM-DOTENV", "$PT_CLIENT_ID"]
    assert rows["private_key_passphrase"] == ["••••" + PASSPHRASE[-4:], "$PT_PASS"]
    assert rows["private_key_file"][0] == str(key_file)


def test_profiles_show_short_secret_shows_no_tail(keys: Keys, key_file: Path, isolated: Path) -> None:
    short = "hunter2pass"  # 11 characters: too short to show any of it
    write(isolated / "profiles.toml", nicepay_table(key_file, private_key_passphrase=q(short)))
    run = paytoken("profiles", "show", "nicepay.default")
    assert run.exit_code == 0, run.output
    assert_clean(run.output, [*keys.secrets, short])
    rows = {row[0]: row[1:] for row in table_rows(run.stdout)}
    assert rows["private_key_passphrase"][0] == "••••"


def test_profiles_show_uses_profile_from_environment(
    two_profiles: Path, monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    monkeypatch.setenv("PAYTOKEN_PROFILE", "staging")
    run = paytoken("profiles", "show", "nicepay")
    assert run.exit_code == 0, run.output
    assert {row[0]: row[1] for row in table_rows(run.stdout)}["client_id"] == "STAGING-ID"


def test_profiles_show_missing_profile(several: Path, keys: Keys) -> None:
    run = paytoken("profiles", "show", "nicepay.nope")
    config_error(run, keys, "[nicepay.nope]", "profiles.toml", "demo", "live")


def test_profiles_show_broken_profile_prints_no_secret(keys: Keys, isolated: Path) -> None:
    write(
        isolated / "profiles.toml",
        toml_table(
            "nicepay.default",
            client_id=q("X"),
            private_key=f'"""\n{keys.encrypted_pem}"""',
            private_key_passphrase=q(PASSPHRASE),
            timeout='"soon"',
        ),
    )
    config_error(paytoken("profiles", "show", "nicepay.default"), keys, "timeout")


# --- 10. permissions and invalid TOML ------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_profiles_file_warns(mode: int, key_file: Path, conf_file: Path, keys: Keys) -> None:
    write(conf_file, nicepay_table(key_file), mode=mode)
    run = sign("--profiles-file", str(conf_file))
    assert client_of(run, keys) == "CLIENT-1"  # a warning, not an error
    warning = [line for line in run.stderr.splitlines() if "chmod 600" in line]
    assert warning and str(conf_file) in warning[0], run.stderr
    assert "chmod" not in run.stdout
    listing = paytoken("profiles", "list", "--profiles-file", str(conf_file))
    assert listing.exit_code == 0 and "chmod 600" in listing.stderr


def test_private_profiles_file_does_not_warn(key_file: Path, conf_file: Path, keys: Keys) -> None:
    write(conf_file, nicepay_table(key_file), mode=0o600)
    run = sign("--profiles-file", str(conf_file))
    assert client_of(run, keys) == "CLIENT-1"
    assert "chmod" not in run.stderr and "warning" not in run.stderr


def test_readable_key_file_warns(key_file: Path, isolated: Path, keys: Keys) -> None:
    key_file.chmod(0o644)
    write(isolated / "profiles.toml", nicepay_table(key_file))
    run = sign()
    assert client_of(run, keys) == "CLIENT-1"
    assert any(str(key_file) in line and "chmod 600" in line for line in run.stderr.splitlines()), run.stderr


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[nicepay.default\nclient_id = "X"\n', "line 1"),
        ('[nicepay.default]\nclient_id = "X"\nprivate_key = "{pem}"\n', "line 3"),
        ('[nicepay.default]\nclient_id = "X"\nclient_id = "Y"\n', "line 3"),
        ('[nicepay.default]\nprivate_key_passphrase = "{passphrase}"\ntimeout = 30 seconds\n', "line 3"),
    ],
)
def test_invalid_toml_gives_the_line(text: str, line: str, keys: Keys, conf_file: Path) -> None:
    write(conf_file, text.format(pem=keys.encrypted_pem, passphrase=PASSPHRASE))
    run = sign("--profiles-file", str(conf_file))
    config_error(run, keys, str(conf_file), "TOML", line)
    listing = paytoken("profiles", "list", "--profiles-file", str(conf_file))
    config_error(listing, keys, str(conf_file), line)


def test_profiles_file_that_is_not_utf8(keys: Keys, conf_file: Path) -> None:
    conf_file.parent.mkdir(parents=True)
    conf_file.write_bytes(b'[nicepay.default]\nclient_id = "\xff\xfe"\n')
    config_error(sign("--profiles-file", str(conf_file)), keys, str(conf_file))


# --- property: no table makes resolution fail in any way but a ConfigError ----------------------

EDGE_VALUES: list[object] = [
    *("", " ", "~", "~nobody-here/x", "a\x00b", "${PT_UNSET_VAR}", "https://x.example", "production", "-1", "nan"),
    *(math.nan, math.inf, -math.inf, 0, -1, 0.5, True, [], {}, {"a": "${PT_UNSET_VAR}"}),
]
_NICEPAY_KEYS = [setting.name for setting in (*COMMON_SETTINGS, *PROVIDERS["nicepay"].settings)]


def problem_with(key: str, value: object, keys: Keys, directory: Path) -> str | None:
    """Resolve a nicepay table with `key = value` and sign with it; say what went wrong, if anything.

    Right outcomes: a profile with sane values, or a ConfigError (exit 3). Anything else would reach the user
    as "internal error" (exit 70).
    """
    key_path = directory / "prop-private.pem"
    if not key_path.exists():
        write(key_path, keys.plain_pem)
    table: dict[str, object] = {"client_id": "C", "private_key_file": str(key_path), key: value}
    provider = PROVIDERS["nicepay"]
    try:
        profile = resolve_profile(provider, "p", table, path=directory / "profiles.toml", environ={})
        provider.build(profile, "2024-12-31T10:11:40+07:00", None)
    except ConfigError as error:
        return None if error.message else "a ConfigError without a message"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    if not (math.isfinite(profile.timeout) and profile.timeout > 0):
        return f"accepted, with timeout {profile.timeout}"
    if not isinstance(profile.get("verify_tls"), bool):
        return f"accepted, with verify_tls {profile.get('verify_tls')!r}"
    return None


@pytest.mark.parametrize("key", _NICEPAY_KEYS)
def test_awkward_values_resolve_or_are_config_errors(key: str, keys: Keys, tmp_path: Path) -> None:
    problems = [
        f"{key} = {value!r}: {problem}"
        for value in EDGE_VALUES
        if (problem := problem_with(key, value, keys, tmp_path))
    ]
    assert not problems, "\n".join(problems)


_toml_values = st.recursive(
    st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.booleans()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=5,
)


@settings(
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(key=st.sampled_from(_NICEPAY_KEYS), value=_toml_values)
def test_any_value_resolves_or_is_a_config_error(key: str, value: object, keys: Keys, tmp_path: Path) -> None:
    assert problem_with(key, value, keys, tmp_path) is None
