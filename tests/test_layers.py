"""The package's shape holds: imports point down the layers declared in pyproject.toml, and none goes round."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the tidak_cli package found in root, with root's pyproject.toml."""
    script = (
        "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import each other, directly or not (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_imports_point_down_the_declared_layers() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "tidak_cli", tmp_path / "tidak_cli", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    clock = tmp_path / "tidak_cli" / "clock.py"
    clock.write_text(clock.read_text() + "\n\ndef _upward() -> None:\n    from .cli import app  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1
    assert "tidak_cli.clock is not allowed to import tidak_cli.cli" in done.stdout


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("tidak_cli", exclude_type_checking_imports=True)
    assert cycles(graph) == []
    graph.add_import(importer="tidak_cli.clock", imported="tidak_cli.errors")
    graph.add_import(importer="tidak_cli.errors", imported="tidak_cli.clock")
    assert cycles(graph) == [["tidak_cli.clock", "tidak_cli.errors"]]  # the check sees one
