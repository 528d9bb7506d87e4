"""Architecture: the stages import one way, and each library is imported in one place.

Read from the source with `ast`, so the rules hold for every import, also those inside
functions. The order is DESIGN.md's pipeline; a new module must take its place in `STAGES`.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Each stage may import only from the stages before it; `errors` is below them all.
# `recommendation` (which k, and why) is pure arithmetic on the scores that `measures` computes; `model` fits
# every k on what `scaling` gives it, with `kmeans`, measures each with `measures`, and `maps` says what is drawn.
STAGES = ("errors", "formats", "config", "caveats", "logs", "data", "purchases", "recommendation", "scaling", "kmeans",
          "measures", "maps", "segmentation", "model", "spark_customers", "spark",
          "migration", "profiles", "figures", "rules", "scorer", "illustrations", "results", "tutorial", "pages",
          "standalone", "cache", "downloads", "scheduler", "build", "__main__")
# Modules outside the line: what each may import from the package.
SIDE_MODULES = {"starter": {"formats", "config", "logs", "data", "purchases", "errors"}}
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
        ("sklearn.cluster", {"generator/kmeans.py"}),
        ("matplotlib", {"generator/figures.py"}),
        ("PIL", {"generator/figures.py"}),
        ("pyspark", {"generator/spark.py", "generator/spark_customers.py"}),
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


def test_the_segmentation_is_one_small_type_built_in_one_place() -> None:
    """`Segmentation` has a dozen fields at most, and only its own module calls it: both engines go
    through its one constructor (no engine assembles it field by field)."""
    from dataclasses import fields

    from generator.segmentation import Segmentation
    assert len(fields(Segmentation)) <= 12
    builders = {path.name for path in MODULES for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Segmentation"}
    assert builders == {"segmentation.py"}


def test_result_types_live_below_the_presentation() -> None:
    """`Report` is read by pages, downloads, the single-file report and the cache: it is defined
    in `results`, and pages needs neither the Spark engine nor the tutorial's code."""
    defined = {node.name for node in ast.walk(ast.parse((ROOT / "generator" / "pages.py").read_text(encoding="utf-8")))
               if isinstance(node, ast.ClassDef)}
    assert "Report" not in defined
    assert not generator_modules(ROOT / "generator" / "pages.py") & {"spark", "tutorial"}


# --- the repository stands alone --------------------------------------------------------------------
# Everything that runs from a clone (the generator, the hooks, the tests, the benchmarks, the Makefile,
# CI and the Pages workflow) reads the checkout, the system's programs and interfaces, and folders it
# makes itself; never a folder of one machine, such as a shared folder of data beside the checkout.
# tests/conftest.py also watches every file the tests open.

RUNS_FROM_A_CLONE = sorted(
    path for folder in ("generator", "hooks", "tests", "bench", ".ci", ".github/workflows")
    for path in (ROOT / folder).rglob("*")
    if path.is_file() and path.suffix in {"", ".py", ".sh", ".yml", ".yaml", ".js", ".toml"}
    and not {"data", "golden", "__pycache__"} & set(path.relative_to(ROOT).parts)
    and path != Path(__file__).resolve()  # this file: it holds the examples it tests the check with
) + [ROOT / name for name in ("Makefile", "pyproject.toml", "mkdocs.yml", "package.json")]

# An absolute path under a folder that differs from machine to machine (system folders such as
# /usr/bin/chromium or /proc are the same on every Debian machine), the home folder, or a shared folder.
MACHINE_PATH = re.compile(r"(?<![\w.:/~-])(/(?:work|home|root|tmp|opt|mnt|srv|var|media|scratch|Users)\b|~/)"
                          r"|\bshared/(?:datasets|tools|hooks)\b")
# A relative path that climbs out of where it starts.
CLIMBING = re.compile(r"[\w.~/${}-]*(?<![\w.])\.\./[\w./${}-]*")
# Climbing paths that stay inside: inputs the generator must refuse, links between site pages, and
# the zip written from build/offline into the project root.
CLIMBS_ALLOWED = {
    ("tests/test_config.py", "../x.csv"): "a source outside the project, which the configuration refuses",
    ("tests/test_config.py", "content/../../x.csv"): "a source outside the project, refused",
    ("tests/test_starter.py", "../outside.csv"): "a table outside the project, which init refuses",
    ("tests/test_pages.py", "../../tutorial/index.md"): "a link from a report page to the tutorial page",
    ("tests/test_hooks.py", "../mall/map.png"): "an image of one report shown on another report's page",
    ("Makefile", "../../site-offline.zip"): "written from build/offline: the project root",
}


def outside_reads(name: str, text: str) -> dict[str, list[str]]:
    """What in the file `name` (relative to ROOT) with contents `text` points outside the repository."""
    found = {
        "machine": [match.group(0) for match in MACHINE_PATH.finditer(text)],
        "climb": sorted({match.group(0).rstrip(".") for match in CLIMBING.finditer(text)}
                        - {climb for where, climb in CLIMBS_ALLOWED if where == name}),
        "above": [],
    }
    if name.endswith(".py"):
        found["above"] = [f"line {line}" for line in anchors_above_the_root(text, name.count("/"))]
    return {kind: where for kind, where in found.items() if where}


def anchors_above_the_root(source: str, depth: int) -> list[int]:
    """Lines where `Path(__file__)` is walked up (`.parent`, `.parents[n]`) past the repository root, for
    a file `depth` folders below it."""
    above = []
    for node in ast.walk(ast.parse(source)):
        ups, inner = 0, node
        while True:
            if isinstance(inner, ast.Attribute) and inner.attr == "parent":
                ups, inner = ups + 1, inner.value
            elif (isinstance(inner, ast.Subscript) and isinstance(inner.value, ast.Attribute)
                  and inner.value.attr == "parents" and isinstance(inner.slice, ast.Constant)
                  and isinstance(inner.slice.value, int)):
                ups, inner = ups + inner.slice.value + 1, inner.value.value
            elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "resolve":
                inner = inner.func.value
            else:
                break
        from_file = (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "Path"
                     and len(inner.args) == 1 and isinstance(inner.args[0], ast.Name)
                     and inner.args[0].id == "__file__")
        if from_file and ups - 1 > depth:  # the first `.parent` is the file's own folder
            above.append(getattr(node, "lineno", 0))
    return above


@pytest.mark.parametrize("path", RUNS_FROM_A_CLONE, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_nothing_reads_outside_the_repository(path: Path) -> None:
    name = path.relative_to(ROOT).as_posix()
    assert outside_reads(name, path.read_text(encoding="utf-8")) == {}


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ('DATA = Path("/work/shared/datasets/messy")', {"machine"}),
        ("# the files in ~/data/messy", {"machine"}),
        ('MESSY = ROOT / "../shared/datasets"', {"machine", "climb"}),
        ('OTHER = ROOT / "../sibling/table.csv"', {"climb"}),
        ("# cp -r ../data .", {"climb"}),
        ("UP = Path(__file__).resolve().parents[2]", {"above"}),
        ("UP = Path(__file__).parent.parent.parent", {"above"}),
        ('TABLE = "../x.csv"', {"climb"}),  # allowed in tests/test_config.py only
        ("ROOT = Path(__file__).resolve().parent.parent", set()),
        ('CHROMIUM = Path("/usr/bin/chromium")', set()),
        ('url = "https://example.org/home/tmp"', set()),
        ('page = "reports/x/index.md"', set()),
    ],
)
def test_the_outside_check_finds_what_it_must(code: str, found: set[str]) -> None:
    """The check above on lines written to break it, as if in a test module (one folder down)."""
    assert set(outside_reads("tests/test_x.py", code + "\n")) == found


# --- one voice for numbers ----------------------------------------------------------------------------
# Every number written for people goes through generator/formats.py (STYLE.md, habit 15), so no other
# module gives a number its own format spec: `{n:,}`, `{x:.2f}`, `{s:.1%}`, `format(x, "g")`,
# `"{:,}".format(n)`, `"%d" % n`, or `round(x)` written out as it comes. What is not a number spec passes:
# a conversion (`{name!r}`), width or alignment alone (`{name:>10}`, text takes them too), a date's
# strftime spec (`{day:%Y-%m-%d}`: dates are not numbers here, and are written as ISO dates), and a number
# rounded through text and read straight back (`float(f"{x:.15g}")`: a number, not text for anyone).

# A standard format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?(?P<sign>[-+ ]?)(?P<z>z?)(?P<alt>#?)(?P<zero>0?)\d*(?P<grouping>[,_]?)"
                         r"(?P<precision>\.\d+)?(?P<type>[a-zA-Z%]?)")
NUMBER_TYPES = set("bcdeEfFgGnoxX%")
PERCENT_DIRECTIVE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")


def number_spec(spec: str) -> bool:
    """Whether a format spec writes a number (a number type, grouping, sign or precision); not a date's."""
    if re.search(r"%[a-zA-Z]", spec):  # strftime directives: a date
        return False
    parts = FORMAT_SPEC.fullmatch(spec)
    if parts is None:  # nothing text takes
        return True
    return bool(parts["sign"] or parts["z"] or parts["alt"] or parts["zero"] or parts["grouping"]
                or parts["precision"] or parts["type"] in NUMBER_TYPES)


def _spec_text(node: ast.expr) -> str:
    """A format spec's text, a nested field (`{x:,.{decimals}f}`) read as a 1."""
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "1"
                       for v in node.values)
    return ""


def _rounded(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "round"


def own_number_formats(source: str) -> list[tuple[int, str]]:
    """Where `source` writes a number with its own format: (line, spec), `round` for a rounded number
    written out as it is."""
    tree = ast.parse(source)
    read_back = {id(node.args[0]) for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Name) and node.func.id == "float" and len(node.args) == 1}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in read_back:
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    spec = _spec_text(value.format_spec) if value.format_spec is not None else ""
                    if number_spec(spec) if spec else _rounded(value.value):
                        found.append((value.lineno, spec or "round"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if (node.func.id == "format" and len(node.args) == 2 and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str) and number_spec(node.args[1].value)):
                found.append((node.lineno, node.args[1].value))
            elif node.func.id == "str" and node.args and _rounded(node.args[0]):
                found.append((node.lineno, "round"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
              and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
            found += [(node.lineno, spec) for _, field, spec, _ in string.Formatter().parse(node.func.value.value)
                      if field is not None and spec and number_spec(spec)]
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant)
              and isinstance(node.left.value, str)):
            found += [(node.lineno, directive.group(0)) for directive in PERCENT_DIRECTIVE.finditer(node.left.value)
                      if directive.group(1) in "diouxXeEfFgG"]
    return found


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ('f"{n:,} rows"', [","]),
        ('f"{share:.1%}"', [".1%"]),
        ('f"{seconds:.1f} s"', [".1f"]),
        ('f"{value:,.{decimals}f}"', [",.1f"]),
        ('f"{x:g} is negative"', ["g"]),
        ('f"{x:+}"', ["+"]),
        ('f"{size:>10,}"', [">10,"]),
        ('"{:,} rows".format(n)', [","]),
        ('"%d rows, %.2f%%" % (n, x)', ["%d", "%.2f"]),
        ('format(x, ".2f")', [".2f"]),
        ("str(round(x, 2))", ["round"]),
        ('f"height={round(x)}"', ["round"]),
        ('f"{day:%Y-%m-%d}"', []),  # a date
        ('f"{name!r}: {name:>10} {name:<{width}}"', []),  # text
        ('f"{count(n)} rows, {percent(share)}"', []),  # through formats
        ('f"%m{sep}%d{sep}%Y"', []),  # a date format for strptime
        ('"%s: %r" % (name, value)', []),
        ('f"inertia: {{kmeans.inertia_:,.0f}} {k}"', []),  # code shown to the reader, not run here
        ('"{{x:,}} {k}".format(k=k)', []),
        ('float(f"{x:.{digits}g}")', []),  # a number read back, not written
        ('f"{float(x):.3g}"', [".3g"]),
    ],
)
def test_the_number_check_finds_what_it_must(code: str, found: list[str]) -> None:
    assert [spec for _, spec in own_number_formats(code + "\n")] == found


@pytest.mark.parametrize("path", [p for p in MODULES + HOOKS if p.name != "formats.py"],
                         ids=lambda path: path.relative_to(ROOT).as_posix())
def test_numbers_for_people_go_through_formats(path: Path) -> None:
    name = path.relative_to(ROOT).as_posix()
    own = [f"line {line}: {spec}" for line, spec in own_number_formats(path.read_text(encoding="utf-8"))]
    assert not own, f"{name} formats numbers itself (use generator/formats.py): {own}"
