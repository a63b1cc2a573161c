"""The README's promises about set-up stay true."""

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


def test_every_test_the_reliability_table_cites_exists() -> None:
    import re

    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Reliability") : text.index("## Security")]
    cited = set(re.findall(r"`(?:[a-z_]+\.py::)?(test_[a-z0-9_]+)(?:\[|`)", table))
    sources = "".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    assert cited, "the table cites no test"
    assert not [name for name in cited if f"def {name}(" not in sources]
