"""Shared fixtures: a tiny real project in a temporary folder, and Debian's Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from generator.cache import FOLDER

ROOT = Path(__file__).resolve().parent.parent


# The repository stands alone: a test reads the checkout, the system and its own temporary folders,
# never a folder that happens to lie beside the checkout on a development machine (a shared folder of
# data, say), which a contributor's clone does not have. Python reports every file it opens to an
# audit hook; the run fails when one was beside the checkout. tests/test_architecture.py checks the
# code itself for such paths.
def folders_beside(root: Path) -> tuple[str, ...]:
    """The folders next to `root`, but for hidden ones (a home folder's .cache and .config) and those
    holding Python, the temporary folder or the home folder."""
    parent = root.parent
    if parent == Path(parent.anchor):
        return ()  # a checkout at the top of the file system: what lies beside it is the system itself
    keep = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, tempfile.gettempdir(), Path.home())}
    return tuple(str(entry) + os.sep for entry in sorted(parent.iterdir())
                 if entry != root and not entry.name.startswith(".")
                 and not any(k == entry or entry in k.parents for k in keep))


BESIDE = folders_beside(ROOT)
OPENED_BESIDE: list[str] = []


def watch_opens(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and BESIDE and isinstance(args[0], str | bytes | os.PathLike):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(BESIDE):
            OPENED_BESIDE.append(path)


sys.addaudithook(watch_opens)


@pytest.fixture(scope="session", autouse=True)
def nothing_read_beside_the_checkout() -> Iterator[None]:
    yield
    assert not OPENED_BESIDE, f"tests read files outside the repository: {sorted(set(OPENED_BESIDE))[:5]}"

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


# `make site ENGINE=zensical`, run in a copy of the project (with the Makefile) by this test run's Python: the
# copy's .venv is not made (-o). The README's command for the day Material stops, so tested on every run.
ZENSICAL_SITE = ["make", "-s", "-o", ".venv/.installed", f"BIN={Path(sys.executable).parent}", "site",
                 "ENGINE=zensical"]

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
