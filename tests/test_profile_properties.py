"""Generated profiles pushed through the real CLI, as a user would: `get`, `sign`, `doctor`, `profiles show`.

Hypothesis starts from a profile that works against the session's sandbox (the throwaway workspace's) and
replaces, drops or keeps each key the provider reads and each common one: wrong types, empty strings, huge
numbers, NaN and infinity, TOML dates, control bytes, bidi overrides, Rich markup, `${UNSET}` and `${SET}`
variables, URLs with passwords or odd schemes and hosts, key files that are missing, empty, garbage or a
directory, `[snap.x.headers]` tables with odd names and values, and profile names with odd characters. Each
profile goes through `get` (plain and `-o json`), `sign` (pretty and `-o json`), `doctor` (table and
`-o json`) and `profiles show` (table and `-o json`). Every run ends with a documented exit code (never 70),
no internal error, no traceback, no raw control byte, strict JSON from `-o json` when it succeeds, and no
secret of the generated profile anywhere. A SIGALRM watchdog turns a hang into a failure.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import string
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st
from support import Run, paytoken, strict_json, watchdog, whole_pipeline_settings

from tidak_cli.demo import Workspace
from tidak_cli.gateways import PROVIDERS
from tidak_cli.profiles import COMMON_SETTINGS
from tidak_cli.sandbox import Sandbox

# SPEC's exit-code table without 1 (only `--compare` and `verify` give it, neither run here), 70 and 130.
EXIT_CODES = {0, 2, 3, 4, 5, 6}
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
WATCHDOG = 30  # seconds for one CLI run: far more than any deadline paytoken has against loopback
SET_VARIABLE = "PAYTOKEN_PROPS_SET"
SET_VALUE = "from-the-environment-\x1b[2J-Q7x"  # control bytes through ${VAR} too
UNSET_VARIABLE = "PAYTOKEN_PROPS_UNSET"
SANDBOX = "{sandbox}"  # stands for the session sandbox's URL in a drawn value


class Raw(str):
    """A value written into the TOML file as it is (a date, nan, inf)."""


# --- the generated values -----------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "x[/]y",
        "[bold red]x[/]",
        "\x1b[2J\x1b[H",
        "\x1b]0;pwned\x07",
        "\x9b31m",
        "\u202etxet\u202c",
        "a\rb\x08c\x00d",
        "line\nbreak",
        "\x7f",
        "ñ😀",
        "$(touch PWNED)",
        "${" + UNSET_VARIABLE + "}",
        "${" + SET_VARIABLE + "}",
        "${not a variable}",
        "x" * 3000,
    ]
) | st.text(max_size=12)

NUMBERS = (
    st.sampled_from(
        [0, -1, 1, 10**30, -(10**30), 2**63 - 1, 0.0, 1e-9, 1e10, 1e308, Raw("nan"), Raw("inf"), Raw("-inf")]
    )
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
)

OTHER_TYPES = st.sampled_from(
    [True, False, Raw("1979-05-27T07:32:00Z"), Raw("07:32:00"), Raw("1979-05-27"), [], ["a", 1], {}, {"a": "b"}]
)

ANY_VALUE = ODD_TEXT | NUMBERS | OTHER_TYPES

URLS = st.sampled_from(
    [
        SANDBOX,
        SANDBOX,
        SANDBOX + "/",
        SANDBOX.replace("http://", "http://user:Pw-Very-Secret-91x@"),
        SANDBOX.replace("http://", "http://:Pw-Very-Secret-91x@"),
        "http://[::1/x",
        "http://[::1]:9",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "http://user:pw@127.0.0.1:9",
        "http://user:Another-Long-Pass-42@127.0.0.1:9",
        "http://127.0.0.1:0",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:9/\x1b[2J",
        "http:///x",
        "http://",
        "https://127.0.0.1:9",
        "http://127.0.0.1:9\u202e",
        "127.0.0.1:9",
        "http://x[/]y@127.0.0.1:9",
    ]
)

# Secrets worth looking for in the output: long, and nothing that is there by chance.
SECRETS = st.sampled_from(
    ["Secret-Value-Q7x9-long", "s3cr3t with spaces & 'quotes' \"too\"", "tab\there-Secret-41", "Ünïcødé-Sécrèt-😀"]
) | st.text(alphabet=string.ascii_letters + string.digits + "-_+/=.", min_size=12, max_size=40)

HEADER_NAMES = st.sampled_from(["X-Test", "X-Óñ", "Bad Name", "", "X:Y", "x[/]y", "\x1b[2J", "X-Ok_1"])
HEADER_VALUES = st.sampled_from(["ok", "ñ😀", "a\r\nX-Evil: 1", " lead", "tab\tinside", "\x1b[2J", "x[/]y"]) | (
    NUMBERS | OTHER_TYPES | ODD_TEXT
)
HEADER_TABLES = st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=3)

FILE_SHAPES = st.sampled_from(["keep", "keep", "missing", "empty", "garbage", "directory", "public", "relative"])

PROFILE_NAMES = st.sampled_from(
    ["dev", "dev", "x[/]y", "a.b", "ñ😀", "with space", "\x1b[2J", "\u202eved", "-x", "[bold]b[/bold]", "a\nb"]
) | st.text(alphabet=string.ascii_letters + "-_", min_size=1, max_size=8)


@dataclass
class Generated:
    """One drawn profile: provider, name, its table (file shapes still to make), and its secrets."""

    provider: str
    name: str
    table: dict[str, object]
    files: dict[str, str] = field(default_factory=dict)  # key -> shape, for the file settings

    def __repr__(self) -> str:
        return f"Generated({self.provider!r}, {self.name!r}, {self.table!r}, files={self.files!r})"


def value_for(kind: str, secret: bool) -> st.SearchStrategy[object]:
    """What a key of this kind may be set to: its own odd shapes, and anything at all."""
    own: st.SearchStrategy[object] = ANY_VALUE
    if secret:
        own = SECRETS | ANY_VALUE
    if kind == "number":
        own = NUMBERS | st.sampled_from(["30", "1e10", "nan", " 5 ", "-0"])
    elif kind == "integer":
        own = NUMBERS | st.sampled_from(["900", " 900 ", "9" * 12, "0x10"])
    elif kind == "bool":
        own = st.booleans() | st.sampled_from(["yes", "off", "maybe", ""])
    elif kind == "headers":
        own = HEADER_TABLES
    elif kind == "table":
        own = st.dictionaries(st.text(max_size=5), ANY_VALUE, max_size=3)
    return st.one_of(own, ANY_VALUE)


@st.composite
def profiles(draw: st.DrawFn) -> Generated:
    """The workspace's working table for a provider with zero to three of its keys dropped or replaced."""
    provider = PROVIDERS[draw(st.sampled_from(sorted(PROVIDERS)))]
    settings = {setting.name: setting for setting in (*provider.settings, *COMMON_SETTINGS)}
    table: dict[str, object] = {"base_url": SANDBOX}
    files = {name: "keep" for name, setting in settings.items() if setting.kind == "file"}
    for name in draw(st.lists(st.sampled_from(sorted(settings)), unique=True, max_size=3)):
        setting = settings[name]
        if setting.kind in ("file", "path"):
            files[name] = draw(FILE_SHAPES.filter(lambda shape: shape != "keep"))
        elif name == "base_url":
            table[name] = draw(URLS)  # never dropped: the built-in URLs are real gateways
        elif draw(st.integers(0, 3)) == 0:
            table[name] = "{drop}"
        else:
            table[name] = draw(value_for(setting.kind, setting.is_secret))
    if draw(st.integers(0, 3)) == 0:
        table[draw(st.sampled_from(["client_idd", "x[/]y", "\x1b[2J"]))] = draw(ANY_VALUE)
    return Generated(provider.name, draw(PROFILE_NAMES), table, files)


# --- writing the profile ------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    # JSON's escapes are TOML's, but for DEL, which TOML wants escaped too (and json.dumps leaves raw).
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(key)} = {toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(value)


def write_profile(
    generated: Generated, base: Mapping[str, object], sandbox_url: str, scratch: Path
) -> tuple[Path, dict[str, object]]:
    """Write the generated profile to scratch/profiles.toml; return the path and the table as written."""
    table = {key: value for key, value in base.items() if key not in generated.files}
    for key, value in generated.table.items():
        if value == "{drop}":
            table.pop(key, None)
        else:
            table[key] = value
    if isinstance(table.get("base_url"), str):
        table["base_url"] = str(table["base_url"]).replace(SANDBOX, sandbox_url)
    for key, shape in generated.files.items():
        original = base.get(key)
        target = scratch / f"{key}.pem"
        if shape == "keep" and original is None:
            continue
        if shape == "keep":
            table[key] = original
        elif shape == "missing":
            table[key] = str(scratch / "no-such-file.pem")
        elif shape == "empty":
            target.write_bytes(b"")
            table[key] = str(target)
        elif shape == "garbage":
            target.write_bytes(b"\x00\xff garbage \x1b[2J not a key\n" * 20)
            table[key] = str(target)
        elif shape == "directory":
            target.mkdir()
            table[key] = str(target)
        elif shape == "public":  # the pair's other half, where a private key belongs (or the other way round)
            other = "public_key_file" if key == "private_key_file" else "private_key_file"
            source = base.get(other) or base.get("private_key_file")
            if source is not None:
                table[key] = source
        elif shape == "relative" and original is not None:
            target.write_bytes(Path(str(original)).read_bytes())
            table[key] = target.name  # taken from the profiles file's directory
    lines = [f"[{toml_string(generated.provider)}.{toml_string(generated.name)}]"]
    subtables = []
    for key, value in table.items():
        if isinstance(value, dict) and not isinstance(value, Raw):
            subtables.append((key, value))
        else:
            lines.append(f"{toml_string(key)} = {toml_value(value)}")
    for key, value in subtables:
        lines.append(f"[{toml_string(generated.provider)}.{toml_string(generated.name)}.{toml_string(key)}]")
        lines += [f"{toml_string(name)} = {toml_value(item)}" for name, item in value.items()]
    path = scratch / "profiles.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path, table


COMMON_WORDS = {"sandbox", "production", "secret", "password", "true", "false"}


def secrets_of(generated: Generated, table: Mapping[str, object], scratch: Path) -> list[str]:
    """The values no output may show: secret keys' values, private-key lines, URL passwords (12+ characters)."""
    provider = PROVIDERS[generated.provider]
    secret_names = {setting.name for setting in (*provider.settings, *COMMON_SETTINGS) if setting.is_secret}
    found: list[str] = []
    shown_values = " ".join(str(value) for key, value in table.items() if key not in secret_names)
    for key in secret_names - {"private_key_file"}:
        value = table.get(key)
        if isinstance(value, str):
            value = value.replace("${" + SET_VARIABLE + "}", SET_VALUE)
            found += [value, *value.splitlines()] if "\n" in value else [value]
    key_file = table.get("private_key_file")
    if isinstance(key_file, str) and "\0" not in key_file:
        path = Path(key_file) if Path(key_file).is_absolute() else scratch / key_file
        if path.is_file():
            found += [line.strip() for line in path.read_text(errors="replace").splitlines() if "-----" not in line]
    url = table.get("base_url")
    if isinstance(url, str):
        found += re.findall(r"://[^/@:]*:([^/@]*)@", url)
    return [
        secret
        for secret in dict.fromkeys(found)
        if len(secret.strip()) >= 12
        and len(set(secret)) >= 6
        and secret.lower() not in COMMON_WORDS
        and secret not in shown_values
        and secret != SET_VALUE
    ]


# --- running it ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_directory() -> Iterator[Path]:
    """A fresh working directory and cache directory for one example; ${SET} set, ${UNSET} not."""
    saved = {name: os.environ.get(name) for name in ("PAYTOKEN_CACHE_DIR", SET_VARIABLE, UNSET_VARIABLE)}
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["PAYTOKEN_CACHE_DIR"] = str(Path(scratch) / "cache")
        os.environ[SET_VARIABLE] = SET_VALUE
        os.environ.pop(UNSET_VARIABLE, None)
        os.chdir(scratch)
        try:
            yield Path(scratch)
        finally:
            os.chdir(cwd)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def every_command(generated: Generated, path: Path) -> dict[str, Run]:
    common = (f"--profile={generated.name}", "--profiles-file", str(path))
    commands = {
        "get": ("get", generated.provider, *common),
        "get -o json": ("get", generated.provider, *common, "-o", "json", "--no-cache"),
        "sign": ("sign", generated.provider, *common),
        "sign -o json": ("sign", generated.provider, *common, "-o", "json"),
        "doctor": ("doctor", generated.provider, *common),
        "doctor -o json": ("doctor", generated.provider, *common, "-o", "json"),
        "profiles show": ("profiles", "show", generated.provider, *common),
        "profiles show -o json": ("profiles", "show", generated.provider, *common, "-o", "json"),
    }
    runs = {}
    for name, args in commands.items():
        with watchdog(WATCHDOG, "one CLI run"):
            runs[name] = paytoken(*args)
    return runs


@pytest.fixture(scope="module")
def base_tables(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Every provider's working `demo` table (its base_url left to each example)."""
    path = workspace.write_profiles(SANDBOX, name="profile-properties.toml")
    document = tomllib.loads(path.read_text())
    return {provider: tables["demo"] for provider, tables in document.items()}


PROPERTY = whole_pipeline_settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the property -------------------------------------------------------------------------------------


@PROPERTY
@given(generated=profiles())
@example(generated=Generated("nicepay", "x[/]y", {}, {}))
@example(generated=Generated("snap", "dev", {"headers": {"X-Test": "ñ😀"}}, {}))
@example(generated=Generated("snap", "dev", {"headers": {"X-Test": "a\r\nX-Evil: 1"}}, {}))
@example(generated=Generated("doku", "dev", {"timeout": 1e10}, {}))
@example(generated=Generated("faspay-sendme", "dev", {"base_url": "http://[::1/x"}, {}))
@example(
    generated=Generated(
        "finpay-widget", "dev", {"base_url": SANDBOX.replace("http://", "http://u:Pw-Very-Secret-91x@")}, {}
    )
)
def test_any_profile_through_every_command_is_a_documented_outcome(
    generated: Generated, sandbox: Sandbox, base_tables: dict[str, dict[str, object]]
) -> None:
    with scratch_directory() as scratch:
        path, table = write_profile(generated, base_tables[generated.provider], sandbox.url, scratch)
        secrets = secrets_of(generated, table, scratch)
        runs = every_command(generated, path)
    written = path.name
    for name, run in runs.items():
        seen = f"{name} of {written}: exit {run.exit_code}\n{run.output}"
        assert run.exit_code in EXIT_CODES, seen
        assert "internal error" not in run.output, seen
        assert "Traceback" not in run.output, seen
        found = RAW_CONTROL.search(run.output)
        assert found is None, f"{name}: raw {found.group()!r} in {run.output!r}" if found else ""
        if name.endswith("-o json") and run.exit_code == 0:
            strict_json(run.stdout)
        for secret in secrets:
            assert secret not in run.output, f"{name}: secret {secret[:4]!r}… shown in\n{run.output}"


# --- findings, each with a test of its own ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["\u202eved", "a\x9bb", "x\x7fy"])
def test_json_output_escapes_characters_that_act_on_a_terminal(
    name: str, sandbox: Sandbox, base_tables: dict[str, dict[str, object]]
) -> None:
    """A profile name with a bidi override or a C1 control is written as a \\u escape in `-o json`, not raw."""
    with scratch_directory() as scratch:
        path, _ = write_profile(Generated("doku", name, {}, {}), base_tables["doku"], sandbox.url, scratch)
        run = paytoken("get", "doku", f"--profile={name}", "--profiles-file", str(path), "-o", "json")
    assert run.exit_code == 0, run.output
    assert not RAW_CONTROL.search(run.stdout), repr(run.stdout)
    assert strict_json(run.stdout)["profile"] == name  # type: ignore[index]
