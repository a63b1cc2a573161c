"""Generated gateway answers pushed through the whole pipeline, not only into the parsers.

Each example is served by the hostile gateway (tests/hostile.py) and goes: `get` (a miss: parse, then the
cache store) -> `get` again in every output format (cache hits when the token was cached) -> `--dotenv` ->
a fresh `-v` pretty run -> `doctor`. Whatever the answer, every run ends with a documented exit code, no
internal error, no traceback, no raw control byte on stdout or stderr, strict JSON from `-o json`, and a
dotenv file that runs nothing when a shell sources it. A SIGALRM watchdog turns a hang into a failure.

Strict JSON (finding 8), no raw control byte (finding 3) and a poisoned cache entry (finding 2) have tests of
their own, so that a failure names the finding.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import Answer, Hostile
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st
from support import Run, paytoken, strict_json, watchdog, whole_pipeline_settings

from tidak_cli.demo import Workspace

EXIT_CODES = {0, 4, 5, 6}  # SPEC: success, rejected, network, gateway (3 needs a bad profile, none here)
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMATS = ("json", "token", "env", "header", "pretty")
WATCHDOG = 90  # seconds for one example's whole pipeline: far more than any deadline paytoken has


# --- the generated answers --------------------------------------------------------------------------

HOSTILE_TEXT = st.sampled_from(
    [
        "Successful",
        "\x1b[2J\x1b[H",
        "\x1b]0;pwned\x07",
        "\x9b31m",
        "\u202etxet\u202c",
        "a\rb\x08c\x00d",
        "<html><body>proxy</body></html>",
        "x" * 3000,
        "$(touch PWNED)",
    ]
) | st.text(max_size=40)

TOKENS = st.sampled_from(
    [
        "tok-ABCdef123456789",
        "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.c2ln",
        "a';touch PWNED;#",
        '"; touch PWNED; echo "',
        "$(touch PWNED)",
        "`touch PWNED`",
        "abc\ndef",
        "abc\r\nX-Evil: 1",
        "tok\x1b[2J",
        "",
        "x" * 5000,
    ]
) | st.text(max_size=30)

# Written into the JSON text as they are: NaN and 1e309 are what Python's json reads and Node's refuses.
LIFETIMES = st.sampled_from(
    ['"900"', "900", "NaN", "Infinity", "-Infinity", "1e309", "-1", "0", "9" * 40, "1e12", "900.5", "null", '"x"']
)

# A gzip header, then a deflate block of the reserved type 11: no decompressor gets past it.
CORRUPT_GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff"

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def token_bodies(draw: st.DrawFn) -> bytes:
    fields = {
        "responseCode": json.dumps(draw(st.sampled_from(["2007300"] * 4 + ["4017300", "5007300", "x"]))),
        "responseMessage": json.dumps(draw(HOSTILE_TEXT)),
        "accessToken": json.dumps(draw(st.sampled_from(["tok-ABCdef123456789"]) | TOKENS | JSON_VALUES)),
        "tokenType": json.dumps(draw(st.sampled_from(["Bearer", "bearer", "Bearer\r\nX-Evil: 1", "", "B\x1b"]))),
        "expiresIn": draw(LIFETIMES),
        "additionalInfo": json.dumps(draw(JSON_VALUES)),
    }
    some = st.lists(st.sampled_from(sorted(fields)), unique=True, min_size=3, max_size=len(fields))
    kept = draw(st.just(list(fields)) | some)
    return ("{" + ",".join(f'"{name}":{fields[name]}' for name in kept) + "}").encode()


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    status = draw(st.sampled_from([200, 200, 200, 200, 201, 202, 204, 301, 302, 307, 400, 401, 404, 429, 500, 503]))
    body = draw(st.one_of(token_bodies(), token_bodies(), st.binary(max_size=200), HOSTILE_TEXT.map(str.encode)))
    headers: list[tuple[str, str | bytes]] = [("Content-Type", "application/json")]
    if status in (429, 503):
        headers.append(("Retry-After", "0"))  # the unreadable ones: test_hostile_gateway.py (they wait)
    if 300 <= status < 400:
        headers.append(("Location", draw(st.sampled_from(["/v2", "http://[::1/x", "\x1b]0;t\x07", ""])).encode()))
    for _ in range(draw(st.integers(0, 2))):
        date = ["Fri, 04 Dec 2026 14:00:00 GMT", "yesterday", "Fri, 31 Dec 9999 23:59:59 GMT", "\x1b[2J"]
        headers.append(("Date", draw(st.sampled_from(date)).encode("latin-1")))
    encoding = draw(st.sampled_from(["", "", "", "gzip", "gzip-corrupt"]))
    if encoding == "gzip":
        headers.append(("Content-Encoding", "gzip"))
        body = gzip.compress(body)
    elif encoding == "gzip-corrupt":
        headers.append(("Content-Encoding", "gzip"))
        body = CORRUPT_GZIP + body
    # Last: a CR or LF in it ends the headers early for the client, and what follows is lost.
    headers.append(("X-Note", draw(HOSTILE_TEXT).encode("utf-8", "replace")))
    return Answer(status, "Whatever", headers, body)


# --- running the pipeline ---------------------------------------------------------------------------


@contextlib.contextmanager
def own_cache() -> Iterator[Path]:
    """A fresh cache directory and working directory for one example."""
    before, cwd = os.environ.get("PAYTOKEN_CACHE_DIR"), Path.cwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["PAYTOKEN_CACHE_DIR"] = str(Path(scratch) / "cache")
        os.chdir(scratch)
        try:
            yield Path(scratch)
        finally:
            os.chdir(cwd)
            if before is None:
                os.environ.pop("PAYTOKEN_CACHE_DIR", None)
            else:
                os.environ["PAYTOKEN_CACHE_DIR"] = before


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    with Hostile([Answer()], timeout=10) as server:
        yield server


@pytest.fixture(scope="module")
def profiles_file(gateway: Hostile, workspace: Workspace) -> Path:
    return workspace.write_profiles(gateway.url, name="pipeline-profiles.toml")


def pipeline(gateway: Hostile, profiles_file: Path, answer: Answer, scratch: Path) -> dict[str, Run]:
    """Every run of one answer: the first get (a miss), every format (hits if cached), dotenv, -v, doctor."""
    gateway.answers = [answer]
    common = ("-p", "demo", "--profiles-file", str(profiles_file))
    runs = {"first": paytoken("get", "nicepay", *common, "-o", "json")}
    for output in FORMATS:
        runs[output] = paytoken("get", "nicepay", *common, "-o", output)
    runs["dotenv"] = paytoken("get", "nicepay", *common, "-o", "token", "--dotenv", str(scratch / "app.env"))
    runs["verbose"] = paytoken("get", "nicepay", *common, "--no-cache", "-o", "pretty", "-v")
    runs["doctor"] = paytoken("doctor", "nicepay", *common)
    return runs


# Each example is nine CLI runs: a tenth of the profile's example count (support.whole_pipeline_settings).
PROPERTY = whole_pipeline_settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAN_ANSWER = Answer(
    200,
    "OK",
    [("Content-Type", "application/json")],
    b'{"responseCode":"2007300","accessToken":"tok-ABCdef123456789","expiresIn":NaN,"additionalInfo":{"x":1e309}}',
)


# --- the properties ---------------------------------------------------------------------------------


@PROPERTY
@given(answer=answers())
@example(answer=NAN_ANSWER)
@example(answer=Answer(307, "Moved", [("Location", b"http://[::1/x")], b'{"responseCode":"3077300"}'))
@example(answer=Answer(200, "OK", [("Content-Encoding", "gzip")], CORRUPT_GZIP + b"{}"))
def test_any_answer_through_every_command_is_a_documented_outcome(
    answer: Answer, gateway: Hostile, profiles_file: Path
) -> None:
    with own_cache() as scratch, watchdog(WATCHDOG, "the pipeline"):
        runs = pipeline(gateway, profiles_file, answer, scratch)
        sourced = scratch / "PWNED"
        if (scratch / "app.env").exists():
            subprocess.run(["sh", "-c", "set -a; . ./app.env"], cwd=scratch, timeout=10, check=False)
    for name, run in runs.items():
        assert run.exit_code in EXIT_CODES, f"{name}: exit {run.exit_code}\n{run.output}"
        assert "internal error" not in run.stderr, f"{name}: {run.stderr}"
        assert "Traceback" not in run.output, name
    assert runs["first"].exit_code == 0 or not list((scratch / "cache").glob("*.json")), "a failure cached a token"
    first = runs["first"]
    if answer.body[: len(CORRUPT_GZIP)] == CORRUPT_GZIP and answer.status != 204:  # bad answer, not network
        assert first.exit_code == 6 and "but does not decompress" in first.stderr, first.stderr
    elif 300 <= answer.status < 400:  # said as it came, never followed
        assert first.exit_code == 6 and "paytoken does not follow redirects" in first.stderr, first.stderr
    if runs["first"].exit_code == 0:
        for output in FORMATS:
            assert runs[output].exit_code == 0, f"{output} after a success: {runs[output].output}"
        assert len(runs["token"].stdout.splitlines()) == 1
        assert runs["header"].stdout.startswith("Authorization: ") and len(runs["header"].stdout.splitlines()) == 1
    assert not sourced.exists(), "sourcing the dotenv file ran a command"


@PROPERTY
@given(answer=answers())
@example(answer=NAN_ANSWER)
def test_json_output_of_any_answer_is_strict(answer: Answer, gateway: Hostile, profiles_file: Path) -> None:
    with own_cache() as scratch, watchdog(WATCHDOG, "the pipeline"):
        runs = pipeline(gateway, profiles_file, answer, scratch)
    for name in ("first", "json"):
        if runs[name].exit_code == 0:
            strict_json(runs[name].stdout)


@PROPERTY
@given(answer=answers())
@example(answer=Answer(400, "Bad", [("Content-Type", "application/json")], b"\x1b]0;pwned\x07\x00"))
def test_no_raw_control_byte_reaches_the_terminal(answer: Answer, gateway: Hostile, profiles_file: Path) -> None:
    with own_cache() as scratch, watchdog(WATCHDOG, "the pipeline"):
        runs = pipeline(gateway, profiles_file, answer, scratch)
    for name, run in runs.items():
        found = RAW_CONTROL.search(run.output)
        assert found is None, f"{name}: {found.group()!r} in {run.output!r}" if found else ""


# --- a poisoned cache entry through every format --------------------------------------------------


@PROPERTY
@example(token="a';touch PWNED;#", token_type="Bearer")
@given(token=TOKENS, token_type=st.sampled_from(["Bearer", "Bearer\r\nX-Evil: 1", "B'$(touch PWNED)"]))
def test_a_poisoned_cache_entry_never_reaches_an_output_unchecked(
    token: str, token_type: str, gateway: Hostile, profiles_file: Path
) -> None:
    good = b'{"responseCode":"2007300","accessToken":"tok-ABCdef123456789","tokenType":"Bearer","expiresIn":"900"}'
    common = ("-p", "demo", "--profiles-file", str(profiles_file))
    with own_cache() as scratch, watchdog(WATCHDOG, "the pipeline"):
        gateway.answers = [Answer(200, "OK", [("Content-Type", "application/json")], good)]
        assert paytoken("get", "nicepay", *common, "-o", "token").exit_code == 0
        (entry,) = (scratch / "cache").glob("*.json")
        stored = json.loads(entry.read_text())
        entry.write_text(json.dumps({**stored, "access_token": token, "token_type": token_type}))
        runs = {output: paytoken("get", "nicepay", *common, "-o", output) for output in FORMATS}
        runs["dotenv"] = paytoken("get", "nicepay", *common, "-o", "token", "--dotenv", str(scratch / "app.env"))
        if (scratch / "app.env").exists():
            subprocess.run(["sh", "-c", "set -a; . ./app.env"], cwd=scratch, timeout=10, check=False)
        assert not (scratch / "PWNED").exists(), "sourcing the dotenv file ran a command"
    for name, run in runs.items():
        assert run.exit_code in EXIT_CODES and "internal error" not in run.stderr, f"{name}: {run.output}"
        assert not RAW_CONTROL.search(run.output), f"{name}: {run.output!r}"
        if run.exit_code == 0 and name in ("token", "header"):
            assert len(run.stdout.splitlines()) == 1, f"{name}: {run.stdout!r}"
