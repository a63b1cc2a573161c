"""Generated values through the whole call pipeline (SPEC 6), not only into a parser.

1. Every provider's `judge_call` takes any (status, body) and returns a CallVerdict of str-or-None words.
2. `paytoken call snap POST … --token T` against a hostile gateway on loopback (tests/hostile.py), in each of
   `-o body`, `-o pretty`, `-o json`: a documented exit code, no traceback, strict JSON, no raw control byte
   on the terminal, no secret outside `-o body`'s own bytes, and `-o body` the body's bytes as received.
3. Generated `--data` JSON: the bytes received at the loopback server are the compact serialization (numbers as
   written, calling.compact_body), and X-SIGNATURE is an HMAC-SHA512 computed here over exactly those bytes;
   `--raw-body` sends the given bytes unchanged.
4. Every provider's `build_call`: the signature recomputed here over the body as sent (SNAP HMAC-SHA512 or
   SHA256withRSA, DOKU HMAC-SHA256 component, Finpay's sorted-values HMAC), never with paytoken's own code.

The HTTP-level properties run a tenth of the profile's examples (support.whole_pipeline_settings).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hostile import Answer, Hostile, MiB, json_answer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support import OUTPUTS, strict_json, watchdog, whole_pipeline_settings
from typer.testing import CliRunner

from tidak_cli.cli.app import app
from tidak_cli.demo import Workspace
from tidak_cli.gateways import PROVIDERS
from tidak_cli.gateways.base import MAX_JSON_DEPTH, Call, CallVerdict, parse_json
from tidak_cli.profiles import load_profile
from tidak_cli.ui.output import json_text

EXIT_CODES = {0, 4, 5, 6}  # SPEC 6.1: success, rejected, network, gateway failed or unreadable
# What a terminal acts on: C0 but tab and newline, DEL, C1, the bidi controls, the line and paragraph separators.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
TOKEN = "tok-Zq7wXv9Lm2Pk4Rt6Ys8Ub1Nc3Jd5"  # long: masked anywhere, even inside a word
PATH = "/v1.0/x"
WATCHDOG = 60
PURE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
PIPELINE = whole_pipeline_settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- running `paytoken call` with its stdout as bytes -----------------------------------------------


@dataclass
class Ran:
    exit_code: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")


def paytoken_bytes(*args: str, input: bytes | None = None, body_output: bool = False) -> Ran:
    """Run the CLI in-process, keeping stdout's bytes (support.paytoken decodes them, which -o body must not)."""
    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
    ran = Ran(result.exit_code, result.stdout_bytes, result.stderr)
    # The session's leak check reads everything printed, but for -o body's bytes: those are the gateway's own.
    OUTPUTS.append(ran.stderr if body_output else ran.text + ran.stderr)
    return ran


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    with Hostile([Answer()], timeout=10) as server:
        yield server


@pytest.fixture(scope="module")
def profiles_file(gateway: Hostile, workspace: Workspace) -> Path:
    return workspace.write_profiles(gateway.url, name="call-properties-profiles.toml")


@pytest.fixture(scope="module")
def tables(profiles_file: Path) -> dict[str, dict[str, str]]:
    """The profiles file as TOML, read here: the secrets the independent signatures are keyed with."""
    document = tomllib.loads(profiles_file.read_text())
    return {name: provider["demo"] for name, provider in document.items()}


def call_args(profiles_file: Path, *args: str) -> list[str]:
    return ["call", "snap", "POST", PATH, "-p", "demo", "--profiles-file", str(profiles_file), "--token", TOKEN, *args]


# --- 1. judge_call of every provider, on anything ----------------------------------------------------

ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**40),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["2000000", "2002400", "4012401", "5000000", "000", "1", "2", "9", "x" * 5000, "\x1b[2J"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
# Every key a family reads its verdict from, at the top and under DOKU's "error".
VERDICT_KEYS = [
    "responseCode",
    "responseMessage",
    "code",
    "message",
    "error",
    "status",
    "response_code",
    "response_desc",
    "statusCode",
    "statusDesc",
]


def nested(depth: int, inner: str = '"2000000"') -> str:
    return "[" * depth + inner + "]" * depth


@st.composite
def odd_objects(draw: st.DrawFn) -> bytes:
    keys = draw(st.lists(st.sampled_from(VERDICT_KEYS), unique=True, max_size=len(VERDICT_KEYS)))
    document: dict[str, object] = {key: draw(ODD | JSON_VALUES) for key in keys}
    if draw(st.booleans()):
        document["error"] = {key: draw(ODD) for key in draw(st.lists(st.sampled_from(VERDICT_KEYS), max_size=4))}
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode()


BODIES = st.one_of(
    st.binary(max_size=300),
    odd_objects(),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.sampled_from(
        [
            b"",
            b"\xff\xfe\x80",
            b'{"responseCode":"\\ud800","responseMessage":"\\udfff"}',
            b'{"responseCode":NaN,"statusCode":Infinity,"status":-Infinity,"code":1e309}',
            b'{"responseCode":' + b"9" * 5000 + b"}",  # more digits than int() takes
            ('{"responseCode":' + nested(100_000) + "}").encode(),
            ('{"message":' + nested(950) + ',"status":' + nested(950) + ',"code":' + nested(950) + "}").encode(),
            b"<html><body>502 Bad Gateway</body></html>",
        ]
    ),
)


def assert_verdict(verdict: object) -> None:
    assert isinstance(verdict, CallVerdict)
    assert isinstance(verdict.ok, bool) and isinstance(verdict.invalid_token, bool)
    assert verdict.code is None or isinstance(verdict.code, str)
    assert verdict.message is None or isinstance(verdict.message, str)
    assert isinstance(verdict.words, str)


@PURE
@given(status=st.integers(100, 599), body=BODIES)
@example(status=200, body=b'{"responseCode":true,"responseMessage":["x"]}')
@example(status=401, body=b'{"responseCode":4012401}')
@example(status=200, body=b'{"statusCode":[0,0,0],"statusDesc":{"a":1}}')
@example(status=200, body=b'{"error":{"code":false,"message":null},"code":{"x":1}}')
def test_judge_call_of_every_provider_never_raises(status: int, body: bytes) -> None:
    for name, provider in PROVIDERS.items():
        verdict = provider.judge_call(status, body)
        assert_verdict(verdict)
        assert not (verdict.ok and not 200 <= status < 300), f"{name}: HTTP {status} accepted"


def test_the_json_edge_reads_up_to_its_depth_and_json_text_walks_any_depth() -> None:
    assert parse_json(nested(MAX_JSON_DEPTH).encode()) is not None
    with pytest.raises(ValueError, match="nested too deep"):
        parse_json(nested(MAX_JSON_DEPTH + 1).encode())
    with pytest.raises(ValueError, match="nested too deep"):
        parse_json(nested(100_000).encode())
    deep: list[object] = [float("nan")]
    for _ in range(MAX_JSON_DEPTH):
        deep = [deep]
    assert strict_json(json_text(deep)) is not None  # a walk with a stack: no RecursionError, NaN as null


# --- 2. a hostile gateway, through every output of `call` --------------------------------------------

HOSTILE_TEXT = st.sampled_from(
    [
        "Successful",
        "\x1b[2J\x1b[H",
        "\x1b]0;pwned\x07",
        "\x9b31m",
        "\u202etxet\u202c",
        "line\u2028separator\u2029",
        "a\rb\x08c\x00d\x7f",
        "<html><body>proxy</body></html>",
        "x" * 3000,
    ]
) | st.text(max_size=40)

STATUSES = st.sampled_from([200, 200, 200, 201, 202, 204, 301, 307, 400, 401, 404, 409, 418, 500, 502, 503, 599])


@st.composite
def call_bodies(draw: st.DrawFn, secrets: tuple[str, ...]) -> bytes:
    """A SNAP-ish answer with odd types and hostile text, sometimes echoing the call's secrets."""
    echo = st.sampled_from(secrets).map(lambda secret: f"echo {secret}!")
    code = draw(st.sampled_from(["2000000", "2002400", "4012400", "4012401", "5002400", "x"]) | ODD)
    document: dict[str, object] = {"responseCode": code, "responseMessage": draw(HOSTILE_TEXT | echo)}
    if draw(st.booleans()):
        document["additionalInfo"] = draw(JSON_VALUES)
    if draw(st.booleans()):
        document["accessToken" if draw(st.booleans()) else "note"] = draw(echo)
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode()


UNDER_CAP = b'{"responseCode":"2000000","pad":"' + b"y" * (MiB - 40) + b'"}'
assert len(UNDER_CAP) <= MiB
SPECIAL_BODIES = [
    b"",
    b"\xff\xfe\x80\xc3\x28 not UTF-8 \x1b[31m",
    b'{"responseCode":"2000000","responseMessage":"\\ud800 lone"}',
    b'{"responseCode":"2000000","x":NaN,"y":1e309,"z":-Infinity}',
    b"<!DOCTYPE html><html><body>\x1b]0;title\x07 \xe2\x80\xae proxy</body></html>",
    "\u202e\u2028\x1b[2J\x9b".encode(),
    UNDER_CAP,
    bytes(range(256)) * (MiB // 256 - 1),  # binary, under the cap
    ('{"responseCode":"2000000","deep":' + nested(990) + "}").encode(),  # as deep as json reads
    ('{"responseCode":"2000000","deep":' + nested(700) + "}").encode(),  # read, then crashed -o json (RecursionError)
    ('{"responseCode":"2000000","deep":' + nested(MAX_JSON_DEPTH - 1) + "}").encode(),  # as deep as the edge lets in
    b"z" * (MiB + 1),  # over the cap: refused, never shown
]
SMALL_SPECIAL_BODIES = [body for body in SPECIAL_BODIES if len(body) < 10_000]  # the big ones: parametrized
SPECIAL_IDS = [
    "empty",
    "not-utf8",
    "lone-surrogate",
    "nan",
    "html",
    "controls",
    "under-cap",
    "binary",
    "deep",
    "deep-700",
    "deep-limit",
    "over-cap",
]


@st.composite
def hostile_answers(draw: st.DrawFn, secrets: tuple[str, ...]) -> Answer:
    status = draw(STATUSES | st.integers(100, 599))
    body = draw(call_bodies(secrets) | st.binary(max_size=200) | st.sampled_from(SMALL_SPECIAL_BODIES))
    headers: list[tuple[str, str | bytes]] = [
        ("Content-Type", draw(st.sampled_from(["application/json", "text/html"])))
    ]
    if 300 <= status < 400:
        headers.append(("Location", draw(st.sampled_from(["/v2", "http://[::1/x", "\x1b]0;t\x07", ""])).encode()))
    if draw(st.booleans()):
        headers.append(("X-Echo", draw(st.sampled_from(secrets))))
    # Last: a CR or LF in it ends the headers early for the client, and what follows is lost.
    headers.append(("X-Note", draw(HOSTILE_TEXT).encode("utf-8", "replace")))
    return Answer(status, "Whatever", headers, body)


def received_body(answer: Answer) -> bytes | None:
    """The body `-o body` must print: None where no answer is read (over the cap, or no final status)."""
    assert isinstance(answer.body, bytes)
    if len(answer.body) > MiB or answer.status < 200:
        return None
    return b"" if answer.status in (204, 304) else answer.body  # no body, whatever follows the headers


def headers_end_early(answer: Answer) -> bool:
    """A line break in a header's value: the client may take what follows for the body (tests/hostile.py)."""
    return any(b"\n" in (value if isinstance(value, bytes) else value.encode()) for _name, value in answer.headers)


def secrets_of(tables: dict[str, dict[str, str]]) -> tuple[str, ...]:
    return (TOKEN, tables["snap"]["client_secret"])


def run_outputs(gateway: Hostile, profiles_file: Path, answer: Answer) -> dict[str, Ran]:
    gateway.answers = [answer]
    with watchdog(WATCHDOG, "the call pipeline"):
        return {
            output: paytoken_bytes(*call_args(profiles_file, "-o", output), body_output=output == "body")
            for output in ("body", "pretty", "json")
        }


def check_outcome(runs: dict[str, Ran], answer: Answer, secrets: tuple[str, ...]) -> None:
    expected = received_body(answer)
    for output, ran in runs.items():
        assert ran.exit_code in EXIT_CODES, f"-o {output}: exit {ran.exit_code}\n{ran.stderr}"
        assert "Traceback" not in ran.text + ran.stderr and "internal error" not in ran.stderr, ran.stderr
        shown = ran.stderr if output == "body" else ran.text + ran.stderr
        found = RAW_CONTROL.search(shown)
        assert found is None, f"-o {output}: {found.group()!r} in {shown!r}" if found else ""
        for secret in secrets:
            assert secret not in shown, f"-o {output} shows the secret {secret[:6]}…"
        if ran.exit_code == 0:
            assert 200 <= answer.status < 300
    # One answer, one verdict: each output exits alike.
    assert len({ran.exit_code for ran in runs.values()}) == 1, {output: ran.exit_code for output, ran in runs.items()}
    body, document = runs["body"], runs["json"]
    if headers_end_early(answer):
        pass  # what the body is depends on where the client ended the headers: the exit code is checked above
    elif expected is None:
        assert body.stdout == b"" and body.exit_code != 0
    else:
        assert body.stdout == expected, "-o body changed the answer's bytes"
    if document.stdout:
        parsed = strict_json(document.text)
        assert isinstance(parsed, dict) and parsed["status"] == answer.status
        assert parsed["request"]["headers"]["Authorization"].startswith("Bearer ••••")
    else:
        assert document.exit_code != 0


@PIPELINE
@given(data=st.data())
def test_any_answer_to_a_call_in_every_output_is_a_documented_outcome(
    data: st.DataObject, gateway: Hostile, profiles_file: Path, tables: dict[str, dict[str, str]]
) -> None:
    secrets = secrets_of(tables)
    answer = data.draw(hostile_answers(secrets))
    check_outcome(run_outputs(gateway, profiles_file, answer), answer, secrets)


@pytest.mark.parametrize("status", [200, 401, 500])
@pytest.mark.parametrize("body", SPECIAL_BODIES, ids=SPECIAL_IDS)
def test_each_hostile_body_in_every_output(
    body: bytes, status: int, gateway: Hostile, profiles_file: Path, tables: dict[str, dict[str, str]]
) -> None:
    answer = Answer(status, "X", [("Content-Type", "application/json")], body)
    check_outcome(run_outputs(gateway, profiles_file, answer), answer, secrets_of(tables))


@pytest.mark.parametrize("status", [100, 101, 103, 199, 204, 304, 418, 599])
def test_an_odd_status_in_every_output(
    status: int, gateway: Hostile, profiles_file: Path, tables: dict[str, dict[str, str]]
) -> None:
    answer = Answer(status, "Odd", [("Content-Type", "application/json")], b'{"responseCode":"2000000"}')
    check_outcome(run_outputs(gateway, profiles_file, answer), answer, secrets_of(tables))


# --- 3. generated --data: the bytes sent, and their signature ----------------------------------------

NUMBER_SPELLINGS = st.sampled_from(["10000.00", "1E3", "1e+21", "-0", "0.10", "12345678901234567890", "-1.5e-7"])
TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from([" ", "/", "\\", '"', "é", "中", "\U0001f600", "\u2028"]),
    max_size=12,
)


@dataclass(frozen=True)
class Spelled:
    """A JSON number as a user wrote it, which paytoken sends with the same digits."""

    text: str


JSON_DOCUMENTS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | NUMBER_SPELLINGS.map(Spelled),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def written(value: object, *, ascii_only: bool, gap: str) -> str:
    """The --data text a user writes: json.dumps's own spelling, with gap between tokens."""
    if isinstance(value, Spelled):
        return value.text
    if isinstance(value, dict):
        items = (
            f"{json.dumps(key, ensure_ascii=ascii_only)}{gap}:{gap}{written(item, ascii_only=ascii_only, gap=gap)}"
            for key, item in value.items()
        )
        return "{" + gap + f"{gap},{gap}".join(items) + gap + "}"
    if isinstance(value, list):
        return "[" + gap + f"{gap},{gap}".join(written(item, ascii_only=ascii_only, gap=gap) for item in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def plain(value: object) -> object:
    """The value with each spelled number as the number json reads (for json.dumps's compact form)."""
    if isinstance(value, Spelled):
        return json.loads(value.text)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def has_spelled(value: object) -> bool:
    if isinstance(value, Spelled):
        return True
    if isinstance(value, dict):
        return any(has_spelled(item) for item in value.values())
    if isinstance(value, list):
        return any(has_spelled(item) for item in value)
    return False


def compact_as_written(value: object) -> str:
    """SPEC 6.1's compact form (separators (",", ":"), non-ASCII as UTF-8), numbers keeping their digits."""
    if isinstance(value, Spelled):
        return value.text
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                f"{json.dumps(key, ensure_ascii=False)}:{compact_as_written(item)}" for key, item in value.items()
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(compact_as_written(item) for item in value) + "]"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def received(raw: bytes) -> Received:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return Received(method, target, headers, body)


def snap_signature(secret: str, method: str, path: str, token: str, body: bytes, stamp: str) -> str:
    """SPEC 6.2 written here with hmac and hashlib: base64(HMAC-SHA512(secret, METHOD:path:token:hex:stamp))."""
    text = f"{method}:{path}:{token}:{hashlib.sha256(body).hexdigest()}:{stamp}"
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha512).digest()).decode()


def send(gateway: Hostile, profiles_file: Path, given: bytes, source: str, scratch: Path, *extra: str) -> Received:
    """`call` with --data given as an argument, @FILE or stdin; the one request the gateway received."""
    gateway.answers = [json_answer('{"responseCode":"2000000","responseMessage":"Successful"}')]
    gateway.requests.clear()
    stdin = None
    if source == "argument":
        data = given.decode("utf-8", errors="surrogateescape")
    elif source == "file":
        (scratch / "body.json").write_bytes(given)
        data = f"@{scratch / 'body.json'}"
    else:
        data, stdin = "-", given
    with watchdog(WATCHDOG, "the call"):
        ran = paytoken_bytes(*call_args(profiles_file, "--data", data, "-o", "json", *extra), input=stdin)
    assert ran.exit_code == 0, ran.stderr
    [request] = gateway.requests
    return received(request)


def assert_signed(seen: Received, secret: str) -> None:
    assert seen.method == "POST" and seen.target == PATH
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert int(seen.headers["content-length"]) == len(seen.body)
    expected = snap_signature(secret, "POST", PATH, TOKEN, seen.body, seen.headers["x-timestamp"])
    assert seen.headers["x-signature"] == expected


@PIPELINE
@given(
    value=JSON_DOCUMENTS,
    ascii_only=st.booleans(),
    gap=st.sampled_from(["", " ", "\n  ", "\t"]),
    source=st.sampled_from(["argument", "file", "stdin"]),
)
@example(
    value={"amount": Spelled("10000.00"), "url": "https://x/y", "name": "Jokul Doe  中"},
    ascii_only=True,
    gap=" ",
    source="argument",
)
@example(value=[Spelled("1E3"), "\u2028/", None], ascii_only=False, gap="\n", source="stdin")
def test_data_is_sent_compact_and_signed_over_the_bytes_received(
    value: object,
    ascii_only: bool,
    gap: str,
    source: str,
    gateway: Hostile,
    profiles_file: Path,
    tables: dict[str, dict[str, str]],
    tmp_path: Path,
) -> None:
    given_text = written(value, ascii_only=ascii_only, gap=gap)
    seen = send(gateway, profiles_file, given_text.encode(), source, tmp_path)
    assert seen.body == compact_as_written(value).encode()
    if not has_spelled(value):  # every number as json.dumps spells it: SPEC 6.1's own words hold byte for byte
        assert seen.body == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(seen.body) == plain(value)
    assert_signed(seen, tables["snap"]["client_secret"])


@PIPELINE
@given(given_bytes=st.binary(max_size=300), source=st.sampled_from(["file", "stdin"]))
@example(given_bytes=b'{ "a" : 1,\n  "b":"x\\/y" }', source="file")
@example(given_bytes=b"\xff\x00\x1b[2J not JSON", source="stdin")
@example(given_bytes=b"", source="stdin")
def test_raw_body_is_sent_unchanged_and_signed(
    given_bytes: bytes,
    source: str,
    gateway: Hostile,
    profiles_file: Path,
    tables: dict[str, dict[str, str]],
    tmp_path: Path,
) -> None:
    seen = send(gateway, profiles_file, given_bytes, source, tmp_path, "--raw-body")
    assert seen.body == given_bytes
    assert_signed(seen, tables["snap"]["client_secret"])


@PIPELINE
@given(text=TEXT.filter(lambda text: "\x00" not in text))
@example(text='{ "a" :  "b / c" }')
def test_raw_body_from_the_argument_is_its_utf8_bytes(
    text: str, gateway: Hostile, profiles_file: Path, tables: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    seen = send(gateway, profiles_file, text.encode(), "argument", tmp_path, "--raw-body")
    assert seen.body == text.encode()
    assert_signed(seen, tables["snap"]["client_secret"])


# --- 4. every provider's build_call, its signature recomputed over the body as sent ------------------

STAMPS = st.sampled_from(
    ["2024-12-31T10:11:40+07:00", "2024-12-31T03:11:40Z", "2024-12-31T10:11:40.123+07:00", "20241231101140"]
)
CALL_PATHS = st.sampled_from(
    [
        "/v1.0/transfer-va/status",
        "/v1.0/x?partnerServiceId=1&b=%20",
        "/nicepay/api/v1.0/x",
        "/orders/v1/status/INV-1",
        "/",
    ]
)
FIELD_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=10)
WIDGET_FIELDS = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda key: key not in ("tokenID", "signature")),
    FIELD_TEXT | st.integers(-(10**12), 10**12),
    max_size=5,
)


@st.composite
def calls(draw: st.DrawFn, provider_name: str) -> Call:
    method = draw(st.sampled_from(["POST", "GET", "PUT", "DELETE"]))
    if provider_name == "finpay-widget":
        body: bytes | None = json.dumps(draw(WIDGET_FIELDS), ensure_ascii=False).encode()
    else:
        body = draw(st.none() | st.binary(max_size=200) | JSON_VALUES.map(lambda value: json.dumps(value).encode()))
    call_id = PROVIDERS[provider_name].new_call_id()
    return Call(method, draw(CALL_PATHS), body, draw(st.sampled_from([TOKEN, "a.b.c", "x" * 200])), call_id, {})


@pytest.fixture(scope="module")
def library_profiles(workspace: Workspace) -> Path:
    return workspace.write_profiles("https://gateway.example", name="call-properties-library.toml")


def snap_expected(name: str, table: dict[str, str], call: Call, sent: object) -> None:
    """SNAP: HMAC-SHA512 keyed with the call secret, or SHA256withRSA, over METHOD:path[:token]:hex:stamp."""
    from tidak_cli.gateways.base import SignedRequest

    assert isinstance(sent, SignedRequest)
    provider = PROVIDERS[name]
    body = sent.body or b""
    assert body == (call.body or b"")
    parts = urlsplit(sent.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    assert path == ("/nicepay" if name == "nicepay" and not call.path.startswith("/nicepay/") else "") + call.path
    if name == "nicepay":  # SPEC 6.2: the URL's /nicepay prefix is not signed
        path = path.removeprefix("/nicepay")
    stamp = sent.headers["X-TIMESTAMP"]
    if provider.call_needs_token:
        secret = table[provider.call_secret]
        assert sent.headers["X-SIGNATURE"] == snap_signature(secret, call.method, path, call.token or "", body, stamp)
        assert sent.headers["Authorization"] == f"Bearer {call.token}"
    else:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        key = serialization.load_pem_private_key(Path(table["private_key_file"]).read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        text = f"{call.method}:{path}:{hashlib.sha256(body).hexdigest()}:{stamp}".encode()
        key.public_key().verify(
            base64.b64decode(sent.headers["X-SIGNATURE"]), text, padding.PKCS1v15(), hashes.SHA256()
        )
        assert "Authorization" not in sent.headers


def doku_expected(table: dict[str, str], call: Call, sent: object) -> None:
    """DOKU (SPEC 6.3): HMAC-SHA256 over the component lines, a Digest line only with a body."""
    from tidak_cli.gateways.base import SignedRequest

    assert isinstance(sent, SignedRequest)
    assert sent.body == call.body
    lines = [
        f"Client-Id:{table['client_id']}",
        f"Request-Id:{call.call_id}",
        f"Request-Timestamp:{sent.headers['Request-Timestamp']}",
        f"Request-Target:{call.path}",
    ]
    if sent.body:
        lines.append("Digest:" + base64.b64encode(hashlib.sha256(sent.body).digest()).decode())
    mac = hmac.new(table["secret_key"].encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
    assert sent.headers["Signature"] == "HMACSHA256=" + base64.b64encode(mac).decode()
    assert sent.headers["Request-Id"] == call.call_id and sent.url == "https://gateway.example" + call.path


def widget_expected(table: dict[str, str], call: Call, sent: object) -> None:
    """Finpay widget (SPEC 6.3): the body's values sorted by key, HMAC-SHA256 keyed with the secret's hex text."""
    from tidak_cli.gateways.base import SignedRequest

    assert isinstance(sent, SignedRequest) and sent.body is not None
    fields = json.loads(sent.body)
    assert sent.body == json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    signature = fields.pop("signature")
    assert fields["tokenID"] == call.token
    given = json.loads(call.body or b"{}")
    assert {key: fields[key] for key in given} == {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in given.items()
    }
    joined = "".join(str(value) for _key, value in sorted(fields.items()))
    key = table["secret_key"].encode().hex().encode()
    assert signature == hmac.new(key, joined.encode(), hashlib.sha256).hexdigest().upper()


CHECKED = [name for name in PROVIDERS if name != "faspay-sendme"]  # its AES form: tests/test_call_recipes.py


@pytest.mark.parametrize("name", CHECKED)
@whole_pipeline_settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), stamp=STAMPS)
def test_every_provider_s_call_signature_is_over_the_body_as_sent(
    name: str, data: st.DataObject, stamp: str, library_profiles: Path
) -> None:
    provider = PROVIDERS[name]
    profile = load_profile(provider, "demo", profiles_file=library_profiles)
    table = tomllib.loads(library_profiles.read_text())[name]["demo"]
    call = data.draw(calls(name))
    if name == "finpay-widget":
        stamp = "20241231101140"
    sent = provider.build_call(profile, call, stamp)
    if name == "doku":
        doku_expected(table, call, sent)
    elif name == "finpay-widget":
        widget_expected(table, call, sent)
    else:
        snap_expected(name, table, call, sent)
