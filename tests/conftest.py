"""Shared fixtures: a tiny real project in a temporary folder, and Debian's Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from generator.cache import FOLDER

ROOT = Path(__file__).resolve().parent.parent

MakeProject = Callable[..., Path]

TINY = """\
title: Tiny
data:
  id: [a, b, c, d, e, f]
  x: [1, 2, 3, 10, 11, 12]
  y: [1, 1, 2, 10, 11, 10]
id_column: id
features: [x, y]
n_clusters: 2
publish_rows: true
suppress_below: 0
"""
# TINY's six customers are made up (like the tutorial's): it publishes its rows and every statistic,
# so that the tests of other contracts can read them; tests/test_safety.py checks the defaults.


def use_cache(root: Path, folder: Path) -> None:
    """Make `folder` the analysis cache of the project at `root`."""
    (root / FOLDER).parent.mkdir(parents=True, exist_ok=True)
    (root / FOLDER).symlink_to(folder, target_is_directory=True)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One analysis cache for this test run's builds that opt in (the shipped project's, and tiny
    projects made with `cached`), shared by the xdist workers (whose temporary folders have a
    common parent): the first build of a dataset computes it, the others load it. Entries are
    written whole and renamed into place, so two builds at once are safe. test_cache checks that
    a cached report is the computed one."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-segments"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def make_project(tmp_path: Path, shared_cache: Path) -> MakeProject:
    """Make a project root under tmp_path: the shipped templates, dataset files by id, and
    any other files by path. With `cached`, its analysis cache (`generator.cache.FOLDER`) is the
    run's shared one: the tutorial, the same for every project, is then computed once per run."""

    def make(datasets: dict[str, str] | None = None, files: dict[str, bytes | str] | None = None, *,
             cached: bool = False) -> Path:
        root = tmp_path / "project"
        folder = root / "site_config" / "datasets"
        folder.mkdir(parents=True, exist_ok=True)
        if cached and not (root / FOLDER).exists():
            use_cache(root, shared_cache)
        if not (root / "templates").exists():
            shutil.copytree(ROOT / "templates", root / "templates")
        for dataset_id, text in (datasets if datasets is not None else {"tiny": TINY}).items():
            (folder / f"{dataset_id}.yml").write_text(text, encoding="utf-8")
        for name, content in (files or {}).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            else:
                path.write_bytes(content)
        return root

    return make


# Browser tests drive Debian's Chromium through Playwright: no browser is ever downloaded.
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PREREQUISITES = (  # each with the one line that says how to get it
    (CHROMIUM, f"{CHROMIUM} is missing: apt-get install chromium"),
    (AXE, f"{AXE.relative_to(ROOT)} is missing: npm ci"),
)
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]


def require_prerequisites() -> None:
    """Fail, never skip, with one line saying what to install."""
    missing = [message for path, message in PREREQUISITES if not path.is_file()]
    if missing:
        pytest.fail("; ".join(missing), pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for a module (every test that needs it errors when a prerequisite is missing)."""
    require_prerequisites()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()
