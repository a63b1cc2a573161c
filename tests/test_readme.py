"""The README's promises about set-up stay true (tests/test_docs.py keeps the rest of the docs true)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line for line in lines[:8] if line.startswith("python3 -m venv")]


def test_readme_opens_with_the_demo_and_test_commands() -> None:
    demo, tests = readme_commands()
    assert demo.endswith("paytoken demo")
    assert tests.endswith("python -m pytest") and "'.[test]'" in tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci
