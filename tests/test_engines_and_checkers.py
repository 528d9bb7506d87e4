"""The built site judged by tools nobody here wrote, and built by the engines that may replace MkDocs.

One copy of the project is built once with `mkdocs build --strict`; on the same copy (its analysis cache
warm) ProperDocs builds it again. Checked:
- the Nu Html Checker (npm vnu-jar, on the system's Java) finds no error on any page;
- ProperDocs builds the same files, byte for byte but for the generator meta tag;
(Lighthouse, which must not share the machine with other tests, is tests/test_lighthouse.py; Zensical's
build, checked file by file and in the browser, is tests/test_browser.py's.)
- the theme overrides are Material's own templates with only the listed changes;
- `make site ENGINE=zensical` leaves the previous site as it was when a dataset is wrong.
Every tool comes from package.json or pyproject.toml; a missing one fails the test, saying what to run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, ZENSICAL_SITE
from tests.test_site import copy_project

NODE_MODULES = ROOT / "node_modules"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
BUILD_ENV = {"SOURCE_DATE_EPOCH": "1700000000", "NO_MKDOCS_2_WARNING": "1"}  # as test_site.mkdocs_build
DATASETS = sorted(path.stem for path in (ROOT / "site_config" / "datasets").glob("*.yml"))
# The only difference ProperDocs may make: its name in the generator meta tag of every page.
GENERATOR_META = re.compile(rb'<meta name="generator" content="[^"]*">')
MATERIAL = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / \
    "material" / "templates"
# Each theme override: Material's own template with these changes (and a comment saying so on top).
OVERRIDES = {
    "base.html": [
        ('    <input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">\n'
         '    <input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search" autocomplete="off">\n',
         '    <form id="__toggles" autocomplete="off" hidden></form>\n'
         '    <input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" form="__toggles">\n'
         '    <input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search" form="__toggles">\n'),
    ],
    "partials/nav-item.html": [
        ('tabindex="{{ tabindex }}"', '{% if tabindex %}tabindex="{{ tabindex }}"{% endif %}'),
    ],
    "partials/search.html": [
        ('role="dialog">', "role=\"dialog\" aria-label=\"{{ lang.t('search.placeholder') }}\">"),
    ],
}
TOP_COMMENT = re.compile(r"\A\{#-.*?-#\}\n", re.DOTALL)


def require(*paths: Path | None, how: str) -> None:
    """Fail, never skip, when a tool is missing, saying how to get it."""
    missing = [str(path) for path in paths if path is None or not path.exists()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: {how}", pytrace=False)


def which(program: str) -> Path | None:
    found = shutil.which(program)
    return Path(found) if found else None


def run(command: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run a project command; fail with its output when it fails."""
    done = subprocess.run(command, cwd=cwd, env=os.environ | BUILD_ENV, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


@dataclass(frozen=True)
class Builds:
    project: Path
    mkdocs: Path


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Builds:
    """The project, copied and built once with MkDocs (which fills its analysis cache)."""
    project = copy_project(tmp_path_factory.mktemp("engines") / "project", shared_cache)
    run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", "site-mkdocs"], project)
    return Builds(project, project / "site-mkdocs")


# --- the theme overrides ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OVERRIDES))
def test_override_is_materials_template_with_only_the_listed_changes(name: str) -> None:
    original = (MATERIAL / name).read_text(encoding="utf-8")
    override = (ROOT / "overrides" / name).read_text(encoding="utf-8")
    expected = TOP_COMMENT.sub("", original)
    for old, new in OVERRIDES[name]:
        assert old in expected, f"Material's {name} changed: copy it again into overrides/ and redo the changes"
        expected = expected.replace(old, new)
    assert TOP_COMMENT.sub("", override) == expected


def test_every_override_is_listed() -> None:
    found = sorted(path.relative_to(ROOT / "overrides").as_posix() for path in (ROOT / "overrides").rglob("*.html"))
    assert found == sorted(OVERRIDES)


# --- the Nu Html Checker ---------------------------------------------------------------------


def test_nu_html_checker_finds_no_error(builds: Builds, tmp_path: Path) -> None:
    java = which("java")
    require(java, how="install Java 17 (apt-get install openjdk-17-jre-headless)")
    require(VNU, how="npm ci")
    assert java is not None
    # A page with a known error goes first, so that a checker that checks nothing cannot pass.
    canary = tmp_path / "canary.html"
    canary.write_text('<!doctype html><html lang="en"><title>c</title><figure markdown="span"></figure></html>',
                      encoding="utf-8")
    pages = sorted(builds.mkdocs.rglob("*.html"))
    assert len(pages) >= 6 + len(DATASETS)
    done = subprocess.run([str(java), "-jar", str(VNU), "--errors-only", "--format", "json", str(canary),
                           *map(str, pages)], capture_output=True, text=True, timeout=300, check=False)
    messages = json.loads(done.stderr or done.stdout)["messages"]
    errors = [f"{Path(m['url'].removeprefix('file:')).name} {m.get('lastLine')}: {m['message']}"
              for m in messages if m["type"] == "error" and not m["url"].endswith("/canary.html")]
    assert any(m["url"].endswith("/canary.html") for m in messages), "the checker missed the canary's error"
    assert not errors, "\n".join(errors)


# --- ProperDocs ------------------------------------------------------------------------------


def test_properdocs_builds_the_same_site(builds: Builds) -> None:
    run([sys.executable, "-m", "properdocs", "build", "--strict", "--site-dir", "site-properdocs"], builds.project)
    mkdocs, properdocs = files_of(builds.mkdocs), files_of(builds.project / "site-properdocs")
    assert sorted(properdocs) == sorted(mkdocs)
    different = [name for name in mkdocs if GENERATOR_META.sub(b"", mkdocs[name]) !=
                 GENERATOR_META.sub(b"", properdocs[name])]
    assert not different, different
    assert GENERATOR_META.findall(properdocs["index.html"]) != GENERATOR_META.findall(mkdocs["index.html"])
    assert b"ProperDocs" in GENERATOR_META.findall(properdocs["index.html"])[0]  # ProperDocs really built it


# --- Zensical --------------------------------------------------------------------------------


def test_zensical_site_keeps_the_previous_site_when_a_dataset_is_wrong(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")  # no analysis runs: the configuration stops it first
    shutil.copy2(ROOT / "Makefile", project / "Makefile")
    (project / "site_config" / "datasets" / "broken.yml").write_text(
        "title: Broken\nsource: content/data/wholesale_customers.csv\nfeaturs: [Milk]\n", encoding="utf-8")
    (project / "site").mkdir()
    (project / "site" / "index.html").write_text("the previous site", encoding="utf-8")
    done = subprocess.run(ZENSICAL_SITE, cwd=project, env=os.environ | BUILD_ENV, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode != 0
    assert "site_config/datasets/broken.yml: featurs: unknown key (did you mean 'features'?)" in done.stderr
    assert "Traceback" not in done.stderr
    assert [path.name for path in (project / "site").iterdir()] == ["index.html"]
    assert (project / "site" / "index.html").read_text(encoding="utf-8") == "the previous site"
