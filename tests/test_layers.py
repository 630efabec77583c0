"""The layer table in docs/architecture.md is a contract: every import in src/shikaku obeys it.

The table is read from the page itself (one source of truth): each row names its packages or
modules in backticks and, in its last column, what they may import: other layers by name,
"stdlib only" (no third-party library either), "everything" or "—" (nothing of shikaku).
Every import counts, also inside functions and under TYPE_CHECKING. A layer may always import
itself and the package root (`shikaku.__version__`).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "shikaku"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

STDLIB_ONLY, EVERYTHING, NOTHING = "stdlib only", "everything", "—"

# (importing module, layer it imports) → why it is tolerated for now. Each one must still
# occur: when the code stops needing it, delete its line here and in docs/architecture.md.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}  # none left: add one only with a TODO


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    line: int
    target: str  # the imported module, dotted


def layer_of(module: str) -> str:
    """shikaku.registry.db → registry; shikaku.cli_serve → cli_serve; shikaku → shikaku."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__init__" else "shikaku"


def contract() -> dict[str, str | frozenset[str]]:
    """Layer → what it may import, from the table under "## Layers"."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("\n## Layers", 1)[1].split("\n## ", 1)[0]
    rules: dict[str, str | frozenset[str]] = {}
    for row in section.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue  # the header and its rule
        may = cells[-1]
        allowed: str | frozenset[str] = (
            may
            if may in (STDLIB_ONLY, EVERYTHING, NOTHING)
            else frozenset(name.strip() for name in may.split(","))
        )
        for name in re.findall(r"`([^`]+)`", cells[0]):
            layer = name.removesuffix("/").removesuffix(".py")
            assert layer not in rules, f"{name} has two rows in the layer table"
            rules[layer] = allowed
    return rules


def imports(src: Path = SRC) -> list[Import]:
    found: list[Import] = []
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [Import(module, node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from .x import y
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                found.append(Import(module, node.lineno, target))
    return found


def violations(found: list[Import]) -> tuple[list[str], set[tuple[str, str]]]:
    rules = contract()
    broken: list[str] = []
    excused: set[tuple[str, str]] = set()
    for imp in found:
        layer = layer_of(imp.module)
        allowed = rules[layer]
        top = imp.target.split(".")[0]
        if top != "shikaku":
            if allowed == STDLIB_ONLY and top not in sys.stdlib_module_names:
                broken.append(f"{imp.module}:{imp.line} imports {imp.target} (stdlib only)")
            continue
        target = layer_of(imp.target)
        if target in (layer, "shikaku") or allowed == EVERYTHING:
            continue
        if isinstance(allowed, frozenset) and target in allowed:
            continue
        if (imp.module, target) in KNOWN_EXCEPTIONS:
            excused.add((imp.module, target))
            continue
        broken.append(
            f"{imp.module}:{imp.line} imports {imp.target} ({layer} may import: {allowed})"
        )
    return broken, excused


def test_the_table_names_every_package_and_module_once() -> None:
    rules = contract()
    present = {layer_of(imp.module) for imp in imports()}
    assert present - set(rules) == set(), "add these to docs/architecture.md's layer table"
    assert set(rules) - present == set(), "these rows name nothing in src/shikaku"
    named = {n for v in rules.values() if isinstance(v, frozenset) for n in v}
    assert named <= set(rules), f"unknown layers in 'may import': {named - set(rules)}"


def test_every_import_obeys_the_layer_table() -> None:
    broken, excused = violations(imports())
    assert broken == [], "\n".join(broken)
    stale = set(KNOWN_EXCEPTIONS) - excused
    assert not stale, f"no longer needed, delete from KNOWN_EXCEPTIONS and the docs: {stale}"


def test_imports_inside_functions_and_relative_ones_count(tmp_path: Path) -> None:
    """A check of the check: a domain module that reaches for I/O is caught."""
    domain = tmp_path / "shikaku" / "domain"
    domain.mkdir(parents=True)
    (domain / "__init__.py").write_text("")
    (domain / "rules.py").write_text(
        "import datetime\n"
        "from . import errors\n"
        "def f():\n"
        "    from ..registry import db\n"
        "    import sqlalchemy\n"
    )
    broken, _ = violations(imports(tmp_path / "shikaku"))
    assert [b.split(" (")[0] for b in broken] == [
        "shikaku.domain.rules:4 imports shikaku.registry",
        "shikaku.domain.rules:5 imports sqlalchemy",
    ]
