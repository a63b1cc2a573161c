"""Every listing command answers -o json that jq reads, and prints no box table into a pipe."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from support import assert_clean, paytoken

from tidak_cli.gateways import PROVIDERS
from tidak_cli.sandbox import Sandbox

LISTINGS = [
    ["providers"],
    ["providers", "show", "doku"],
    ["profiles", "list"],
    ["profiles", "show", "nicepay.demo"],
    ["profiles", "show", "doku", "--profile", "demo"],
    ["cache", "list"],
    ["doctor", "nicepay", "-p", "demo"],
]


@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_json_listings_are_strict_json_that_jq_reads(args: list[str], profiles: Path, sandbox: Sandbox) -> None:
    assert paytoken("get", "nicepay", "-p", "demo", "-o", "token").exit_code == 0  # something in the cache
    run = paytoken(*args, "-o", "json")
    assert run.exit_code == 0, run.output
    json.loads(run.stdout, parse_constant=lambda name: pytest.fail(f"not JSON: {name}"))
    if shutil.which("jq"):
        subprocess.run(["jq", "-e", "."], input=run.stdout, text=True, capture_output=True, check=True)
    assert_clean(run.output)


def test_json_listings_hold_what_the_tables_show(profiles: Path, sandbox: Sandbox) -> None:
    assert [row["name"] for row in json.loads(paytoken("providers", "-o", "json").stdout)] == list(PROVIDERS)
    profiles_listed = json.loads(paytoken("profiles", "list", "-o", "json").stdout)
    assert {(row["provider"], row["name"]) for row in profiles_listed} >= {("nicepay", "demo"), ("doku", "demo")}
    paytoken("get", "doku", "-p", "demo")
    cached = json.loads(paytoken("cache", "list", "-o", "json").stdout)
    assert [(row["provider"], row["profile"]) for row in cached] == [("doku", "demo")]
    assert 0 < cached[0]["expires_in"] <= 900
    doctor = json.loads(paytoken("doctor", "doku", "-p", "demo", "-o", "json").stdout)
    assert doctor["exit_code"] == 0 and {check["status"] for check in doctor["checks"]} <= {"ok", "warning"}
    shown = json.loads(paytoken("profiles", "show", "doku", "-p", "demo", "-o", "json").stdout)
    assert shown["profile"] == "demo" and "client_id" in shown["values"]


def test_a_failing_doctor_still_answers_json_with_its_exit_code(profiles: Path) -> None:
    run = paytoken("doctor", "nicepay", "-p", "nosuch", "-o", "json")
    assert run.exit_code == 3
    assert json.loads(run.stdout)["checks"][0]["status"] == "failure"


def test_two_spellings_of_one_profile_must_agree(profiles: Path) -> None:
    run = paytoken("profiles", "show", "nicepay.demo", "--profile", "other")
    assert run.exit_code == 2 and "name two profiles" in run.stderr


@pytest.mark.parametrize("args", [["providers"], ["profiles", "list"]], ids=" ".join)
def test_tables_into_a_pipe_have_no_box(args: list[str], profiles: Path) -> None:
    run = paytoken(*args)
    assert run.exit_code == 0
    assert not set("┏┃━│└┗") & set(run.stdout), run.stdout
