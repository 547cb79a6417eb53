"""The package layering, checked from the source with ``ast`` (nothing is imported).

Layers, bottom up (README "Project layout"):

- ``core``: the shared types and leaf helpers (schema, errors, text shape, time parsing, argument types).
  It imports nothing of the project above it.
- ``sources`` and ``filters``: connectors and pure filter cores. They import ``core`` (and each other), never
  ``pipeline``.
- ``pipeline``: the Beam stages and the application (CLI, run, report, tools). Its modules import each other
  without a cycle.

Every import counts, wherever it is written: at module level, inside a function (a lazy import), under
``if TYPE_CHECKING``. A lazy import still makes the two modules depend on each other: a cycle through one is
a circle a newcomer has to untangle all the same, and it breaks as soon as someone hoists the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "sources", "filters", "pipeline")
# package -> the project packages it may import (besides itself)
ALLOWED = {
    "core": set(),
    "sources": {"core", "filters"},
    "filters": {"core", "sources"},
    "pipeline": {"core", "sources", "filters"},
}


def module_files(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the packages under ``root``."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports anywhere in its file (module level and inside functions).

    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module, else ``a.b``. Relative imports
    are resolved against the module's package. Importing a submodule does not count as importing the
    packages above it (their ``__init__`` files are trivial or listed on their own).
    """
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import pipeline.stats.x` -> the longest known prefix
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = REPO, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    files = module_files(root, packages)
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """``a imports b`` for every import across packages that ``ALLOWED`` does not permit."""
    bad = []
    for name, targets in sorted(graph.items()):
        top = name.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other != top and other not in ALLOWED.get(top, set()):
                bad.append(f"{name} imports {target}")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_graph_is_read_from_the_real_tree(graph):
    """The checker sees the real imports (a parser that found none would pass every rule below)."""
    assert {
        "core.schema",
        "core.errors",
        "pipeline.run",
        "pipeline.cli",
        "sources.edgar",
        "filters.quality",
    } <= set(graph)
    assert "core.schema" in graph["pipeline.run"]
    assert "core.schema" in graph["sources.edgar"]
    assert "filters.quality" in graph["pipeline.stages.quality"]
    assert "pipeline.run" in graph["pipeline.cli"]  # a lazy (function-level) import counts


def test_core_imports_nothing_above_it(graph):
    assert [v for v in layer_violations(graph) if v.startswith("core.")] == []


def test_sources_and_filters_never_import_pipeline(graph):
    assert [v for v in layer_violations(graph) if v.startswith(("sources", "filters"))] == []


def test_no_import_cycle_among_pipeline_modules(graph):
    pipeline = {
        k: {t for t in v if t.startswith("pipeline")} for k, v in graph.items() if k.startswith("pipeline")
    }
    assert cycles(pipeline) == []


def test_no_import_cycle_anywhere_in_the_project(graph):
    assert cycles(graph) == []


def top_level_names(path: Path) -> set[str]:
    """The names a module defines or imports at its top level (inside ``if``/``try`` blocks too)."""
    names: set[str] = set()
    body = list(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body)
    while body:
        node = body.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for block in ("body", "orelse", "finalbody", "handlers"):
                body.extend(getattr(node, block, []))
        elif isinstance(node, ast.ExceptHandler):
            body.extend(node.body)
    return names


def unknown_imports(root: Path, folders: Iterable[str], files: dict[str, Path]) -> list[str]:
    """``file: module`` (or ``file: module.name``) for every import of a project module (``core``, ``sources``,
    ``filters``, ``pipeline``) that names no module of the tree, or a name that module does not define: an
    import left behind by a move. Relative imports are not checked."""
    bad = []
    defined: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
                if isinstance(node, ast.Import):
                    pairs = [(alias.name, None) for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    pairs = [(node.module, alias.name) for alias in node.names]
                else:
                    continue
                for module, name in pairs:
                    if module.split(".")[0] not in PACKAGES:
                        continue
                    if module not in files:
                        bad.append(f"{path.relative_to(root)}: {module}")
                    elif name and name != "*" and f"{module}.{name}" not in files:
                        if module not in defined:
                            defined[module] = top_level_names(files[module])
                        if name not in defined[module]:
                            bad.append(f"{path.relative_to(root)}: {module}.{name}")
    return bad


def test_every_project_import_names_an_existing_module():
    """Imports in the code, tests, benchmarks and scripts (lazy ones included, which only fail when their
    function runs) name modules that exist."""
    assert unknown_imports(REPO, (*PACKAGES, "tests", "benchmarks", "scripts"), module_files(REPO)) == []


def test_the_checker_finds_an_upward_import_and_a_cycle(tmp_path):
    """The rules fail on a tree that breaks them: an upward import, and a circle made of a lazy import."""
    for rel, text in {
        "core/__init__.py": "",
        "core/schema.py": "from pipeline import run\n",
        "sources/__init__.py": "",
        "sources/web.py": (
            "import pipeline.errors as E\nfrom core.schema import X\nfrom sources.textshape import f\n"
            "from pipeline.errors import ConfigError, RecordFailure\n"
        ),
        "pipeline/__init__.py": "",
        "pipeline/errors.py": "class ConfigError(Exception):\n    pass\n",
        "pipeline/run.py": "from . import stats\n",
        "pipeline/stats.py": "def f():\n    from pipeline.report_html import render\n",
        "pipeline/report_html.py": "from pipeline import stats as S\n",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    g = import_graph(tmp_path, ("core", "sources", "pipeline"))
    assert layer_violations(g) == [
        "core.schema imports pipeline.run",
        "sources.web imports pipeline.errors",
    ]
    assert cycles(g) == [["pipeline.report_html", "pipeline.stats"]]
    assert unknown_imports(
        tmp_path, ("sources",), module_files(tmp_path, ("core", "sources", "pipeline"))
    ) == [
        "sources/web.py: core.schema.X",
        "sources/web.py: sources.textshape",
        "sources/web.py: pipeline.errors.RecordFailure",
    ]


def domain_literals(root: Path, domains: Iterable[str]) -> list[str]:
    """``file:line`` of every string constant equal to a profile's domain name in the code outside
    ``pipeline/profiles``. Docstrings are prose and may name the finance profile's domain; a line that says
    ``not a domain`` in a comment uses the word otherwise (a heading keyword, the profile name "medical")."""
    names = set(domains)
    found = []
    for module, path in module_files(root).items():
        if module.startswith("pipeline.profiles"):
            continue
        source = path.read_text(encoding="utf-8")
        lines = source.split("\n")
        tree = ast.parse(source)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in names
                and id(node) not in docstrings
                and "not a domain" not in lines[node.lineno - 1]
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_module_outside_a_profile_names_a_domain():
    """Issue 22: the domain values, the defaults of the schema and mix, the extractors' domains and the
    report's labels come from the profiles; a literal "financial" elsewhere is a finance fork."""
    from pipeline.profiles import DOMAINS, GENERAL_DOMAIN

    assert domain_literals(REPO, [d for d in DOMAINS if d != GENERAL_DOMAIN]) == []


def test_the_domain_check_finds_a_literal(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "x.py").write_text('"""financial"""\nDOMAIN = "financial"\n', encoding="utf-8")
    assert domain_literals(tmp_path, ["financial"]) == ["core/x.py:2"]


def test_worker_modules_do_not_import_the_report_libraries():
    """Every worker process imports ``pipeline.run`` (its DoFns live there) and the stage modules; the report's
    plotting library (matplotlib: ~0.4 s and tens of MB per process) is imported only when a report is
    written."""
    import subprocess
    import sys

    code = (
        "import sys, pipeline.run, pipeline.flow, pipeline.stages.extract, pipeline.stages.quality;"
        "print(sorted(m for m in ('matplotlib', 'pipeline.report', 'pipeline.report_plots') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]", out.stdout
