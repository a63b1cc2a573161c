"""The documentation stays true: its commands parse, its links resolve, the tests it cites exist.

Every `paytoken …` command in a ```console block (after its `$ ` prompt) or a ```sh block of README.md and
docs/*.md is resolved through the real command tree, as Click would parse it, without running anything:
a renamed command or flag, or a value a choice no longer takes, fails here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main

from tidak_cli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
# Options whose callback acts while the arguments are parsed (help, version, completion installs into the
# shell's start-up file): their commands are checked to offer them, never parsed.
EAGER = {"--help", "-h", "--version", "--install-completion", "--show-completion"}
# Commands in the docs that are not meant to parse, each with the reason (keep this short).
NOT_PARSED: dict[str, str] = {}
_FENCE = re.compile(r"^```(\w*)\s*$")
_SUBSTITUTION = re.compile(r"\$\((paytoken [^()]*)\)")
_ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")


def code_blocks(page: Path) -> list[tuple[str, int, str]]:
    """(language, line number, line) for every line inside a fenced code block."""
    found, language = [], None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        fence = _FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language is not None:
            found.append((language, number, line))
    return found


def documented_commands() -> list[tuple[str, str]]:
    """(where, command line) for every paytoken command the pages show."""
    commands = []
    for page in PAGES:
        if not page.exists():
            continue
        for language, number, line in code_blocks(page):
            where = f"{page.relative_to(ROOT)}:{number}"
            if language == "console":
                if not line.startswith("$ "):
                    continue  # output, not a command
                line = line[2:]
            elif language not in ("sh", "bash"):
                continue
            words = line.split()
            while words and _ENV_ASSIGNMENT.match(words[0]):
                words.pop(0)  # TZ=UTC paytoken …
            if words[:1] == ["paytoken"]:
                commands.append((where, " ".join(words)))
            commands += [(where, inner) for inner in _SUBSTITUTION.findall(line)]
    return commands


def arguments(command: str) -> list[str]:
    """The arguments paytoken gets from a shell command line: up to the first pipe, list or redirection."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words: list[str] = []
    for word in lexer:
        if word and set(word) <= set("();<>|&"):
            if words and words[-1].isdigit() and word[0] in "<>":
                words.pop()  # 2>&1: the descriptor belongs to the redirection
            break
        words.append(word)
    assert words[0] == "paytoken", command
    return words[1:]


def resolve(args: list[str], *, bare: bool = False) -> Any:
    """Parse args through the command tree down to the command they name; return its context.

    bare: the arguments had an eager option taken out, so a group may be reached with none left (which Click
    would answer with its help page); parse that empty rest leniently.
    """
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("paytoken", list(args), resilient_parsing=bare and not args)
    while hasattr(command, "resolve_command"):
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        if not rest:
            return ctx
        name, command, rest = command.resolve_command(ctx, rest)
        assert command is not None, f"no command {name!r}"
        ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=bare and not rest)
    assert not ctx.args, f"{ctx.command_path} does not take {ctx.args}"
    return ctx


def check(command: str) -> None:
    args = arguments(command)
    eager = [word for word in args if word in EAGER]
    if eager:
        ctx = resolve([word for word in args if word not in EAGER], bare=True)
        offered = {opt for param in ctx.command.get_params(ctx) for opt in param.opts}
        assert set(eager) <= offered, f"{ctx.command_path} has no {eager}"
        return
    resolve(args)


COMMANDS = documented_commands()


def test_the_docs_show_commands_of_every_kind() -> None:
    shown = {arguments(command)[0] for _, command in COMMANDS if command not in NOT_PARSED}
    assert {"get", "sign", "doctor", "sandbox", "keygen", "profiles", "cache", "providers", "demo"} <= shown


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_every_documented_command_parses(where: str, command: str) -> None:
    if command in NOT_PARSED:
        pytest.skip(NOT_PARSED[command])
    try:
        check(command)
    except Exception as failure:  # Click's usage errors are not importable here without click (the rule)
        format_message = getattr(failure, "format_message", None)
        message = format_message() if format_message else repr(failure)
        pytest.fail(f"{where}: `{command}` does not parse: {message}")


def test_a_renamed_flag_or_command_is_caught() -> None:
    for wrong in ("paytoken get nicepay --profil dev", "paytoken fetch nicepay", "paytoken get nicepay -o xml"):
        with pytest.raises(Exception, match=r".") as failure:
            check(wrong)
        assert getattr(failure.value, "exit_code", None) == 2, wrong
    with pytest.raises(AssertionError, match="has no"):
        check("paytoken keygen --show-completion")
    check("paytoken get nicepay --profile dev -o env-no-export | head -1")
    check('paytoken sign nicepay -p dev --timestamp "$TS" --compare "$SIG" 2>&1')


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"\s+", "-", text)


def anchors(page: Path) -> set[str]:
    in_code, found = False, set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            found.add(_slug(line.lstrip("#")))
    return found


def links(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_every_relative_link_resolves_to_a_file_and_heading() -> None:
    broken = []
    checked = 0
    for page in PAGES:
        for target in links(page):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            checked += 1
            if not file.is_file():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert checked > 20, "the pages link to almost nothing"
    assert not broken, broken


def test_every_page_is_in_the_readme_and_the_mkdocs_nav() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in (ROOT / "docs").glob("*.md"):
        assert f"(docs/{page.name})" in readme, page.name
        assert f": {page.name}\n" in nav, page.name


def cited_tests(text: str) -> set[str]:
    return set(re.findall(r"`(?:[a-z_]+\.py::)?(test_[a-z0-9_]+)(?:\[|`)", text))


def test_every_test_the_reliability_table_cites_exists() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    cited = cited_tests(text)
    sources = "".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    assert len(cited) > 40, "the table cites almost no test"
    assert not [name for name in cited if f"def {name}(" not in sources]


def test_every_test_any_page_cites_exists() -> None:
    sources = "".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    missing = {
        f"{page.relative_to(ROOT)}: {name}"
        for page in PAGES
        if page.exists()
        for name in cited_tests(page.read_text(encoding="utf-8"))
        if f"def {name}(" not in sources
    }
    assert not missing, sorted(missing)
