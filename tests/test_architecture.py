"""Architecture: the stages import one way, and each library is imported in one place.

Read from the source with `ast`, so the rules hold for every import, also those inside
functions. The order is DESIGN.md's pipeline; a new module must take its place in `STAGES`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Each stage may import only from the stages before it; `errors` is below them all.
# `recommendation` (which k, and why) is pure arithmetic on the scores that `model` computes.
STAGES = ("errors", "formats", "config", "caveats", "logs", "data", "purchases", "recommendation", "model", "spark",
          "migration", "profiles", "figures", "rules", "scorer", "illustrations", "results", "tutorial", "pages",
          "standalone", "cache", "downloads", "scheduler", "build", "__main__")
# Modules outside the line: what each may import from the package.
SIDE_MODULES = {"starter": {"config", "logs", "data", "purchases", "errors"}}
# What the MkDocs hook may use: the pipeline's result and the user-facing error.
HOOK_MAY_IMPORT = set(STAGES[: STAGES.index("build") + 1])

MODULES = sorted((ROOT / "generator").glob("*.py"))
HOOKS = sorted((ROOT / "hooks").glob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module `path` imports, as dotted names (`from a import b` gives `a` and `a.b`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import inside the package
                base = "generator" + (f".{base}" if base else "")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def generator_modules(path: Path) -> set[str]:
    """The modules of the package that `path` imports, by short name (`generator.x` -> `x`)."""
    found = set()
    for name in imported(path):
        parts = name.split(".")
        if parts[0] == "generator" and len(parts) > 1 and (ROOT / "generator" / f"{parts[1]}.py").exists():
            found.add(parts[1])
    return found


def importers(prefix: str) -> set[str]:
    """Paths (relative to the root) of the modules of generator/ and hooks/ importing `prefix` or below it."""
    return {path.relative_to(ROOT).as_posix() for path in MODULES + HOOKS
            if any(name == prefix or name.startswith(prefix + ".") for name in imported(path))}


def test_imported_reads_every_form(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text("import numpy as np\nfrom sklearn import cluster\nfrom . import pages\n\n\n"
                      "def late() -> None:\n    import matplotlib.pyplot\n", encoding="utf-8")
    assert imported(source) == {"numpy", "sklearn", "sklearn.cluster", "generator", "generator.pages",
                                "matplotlib.pyplot"}


def test_every_module_has_a_place() -> None:
    known = {*STAGES, *SIDE_MODULES, "__init__"}
    unplaced = [path.name for path in MODULES if path.stem not in known]
    assert not unplaced, f"put {unplaced} in STAGES or SIDE_MODULES of {Path(__file__).name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_module_imports_only_earlier_stages(path: Path) -> None:
    uses = generator_modules(path)
    if path.stem in SIDE_MODULES:
        allowed = SIDE_MODULES[path.stem]
    elif path.stem == "__main__":
        allowed = {*STAGES[:-1], *SIDE_MODULES}
    elif path.stem in STAGES:
        allowed = set(STAGES[: STAGES.index(path.stem)])
    else:  # __init__, and modules test_every_module_has_a_place reports
        allowed = set()
    assert uses <= allowed, f"{path.name} imports {sorted(uses - allowed)}, which come after it"


def test_errors_and_init_import_nothing_from_the_package() -> None:
    for name in ("errors.py", "__init__.py"):
        assert not {n for n in imported(ROOT / "generator" / name) if n.split(".")[0] == "generator"}, name


@pytest.mark.parametrize("path", HOOKS, ids=lambda path: path.name)
def test_hook_uses_the_pipeline_only(path: Path) -> None:
    uses = generator_modules(path)
    assert uses <= HOOK_MAY_IMPORT, f"{path.name} imports {sorted(uses - HOOK_MAY_IMPORT)}"


@pytest.mark.parametrize(
    ("library", "only_in"),
    [
        ("sklearn.cluster", {"generator/model.py"}),
        ("matplotlib", {"generator/figures.py"}),
        ("PIL", {"generator/figures.py"}),
        ("pyspark", {"generator/spark.py"}),
        ("mkdocs", {"hooks/segments.py"}),
    ],
)
def test_library_is_imported_in_one_module(library: str, only_in: set[str]) -> None:
    assert importers(library) == only_in


def test_core_never_imports_mkdocs() -> None:
    assert not {path for path in importers("mkdocs") if path.startswith("generator/")}


def _broad_handlers(path: Path) -> list[int]:
    """Lines of `except:`, `except Exception` and `except BaseException` (also in a tuple)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ExceptHandler):
            caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            names = {c.id if isinstance(c, ast.Name) else c.attr if isinstance(c, ast.Attribute) else ""
                     for c in caught if c is not None}
            if node.type is None or names & {"Exception", "BaseException"}:
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", MODULES + HOOKS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_catch_all(path: Path) -> None:
    """Only `UserError` and named library errors are caught: a bug keeps its traceback."""
    assert not _broad_handlers(path), f"{path.name}: broad except on lines {_broad_handlers(path)}"


def test_templates_are_markdown_jinja() -> None:
    templates = sorted(path.name for path in (ROOT / "templates").iterdir() if not path.name.startswith("."))
    assert templates
    assert all(name.endswith(".md.j2") for name in templates), templates


def test_every_template_named_in_the_code_exists() -> None:
    named = {node.value for path in MODULES for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith(".j2")}
    assert named
    assert {name for name in named if not (ROOT / "templates" / name).is_file()} == set()


EVERY_SOURCE = MODULES + HOOKS + sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "bench").glob("*.py"))


@pytest.mark.parametrize("path", EVERY_SOURCE, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_private_name_crosses_a_module(path: Path) -> None:
    """A name starting with `_` is its module's own: nobody imports it or reaches for it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {"generator", *(f"generator.{p.stem}" for p in MODULES)}
    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    reached = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and (node.module or "").startswith("generator") for alias in node.names if private(alias.name)]
    imported_modules = {alias.asname or alias.name.split(".")[-1] for node in ast.walk(tree)
                        if isinstance(node, ast.ImportFrom) and node.module in modules for alias in node.names}
    reached += [f"{node.value.id}.{node.attr}" for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name) and node.value.id in imported_modules
                and private(node.attr)]
    assert not reached, f"{path.name} uses private names of other modules: {reached}"


def test_result_types_live_below_the_presentation() -> None:
    """`Report` is read by pages, downloads, the single-file report and the cache: it is defined
    in `results`, and pages needs neither the Spark engine nor the tutorial's code."""
    defined = {node.name for node in ast.walk(ast.parse((ROOT / "generator" / "pages.py").read_text(encoding="utf-8")))
               if isinstance(node, ast.ClassDef)}
    assert "Report" not in defined
    assert not generator_modules(ROOT / "generator" / "pages.py") & {"spark", "tutorial"}
