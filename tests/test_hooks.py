"""The hooks' jobs, each on its own: the navigation both engines share, image sizes, and the workers a
server keeps. The hook is loaded as MkDocs loads it (from mkdocs.yml); the builds are tests/test_site.py's
and tests/test_browser.py's."""

from __future__ import annotations

import io
import sys
from concurrent.futures import Executor
from typing import Any

import pytest
from mkdocs.config import load_config
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from PIL import Image

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "hooks"))  # as MkDocs and `python hooks/zensical_site.py` find it
from navigation import with_reports

NAV: list[object] = ["index.md", {"Tutorial": "tutorial/index.md"}, {"Reports": "reports/index.md"},
                     {"Reference": "reference/index.md"}]


@pytest.mark.parametrize(
    ("pages", "reports"),
    [
        (["reports/mall/index.md", "reports/cdnow/index.md"], ["reports/cdnow/index.md", "reports/mall/index.md"]),
        ([], []),
        (["reports/index.md", "reports/mall/scatter.png", "reports/a/b/index.md", "tutorial/index.md"], []),
    ],
)
def test_the_reports_index_becomes_a_section_of_every_report(pages: list[str], reports: list[str]) -> None:
    assert with_reports(NAV, pages) == [NAV[0], NAV[1], {"Reports": ["reports/index.md", *reports]}, NAV[3]]


def test_a_nav_without_the_reports_index_stays_as_it_is() -> None:
    nav: list[object] = ["index.md", {"Reports": "reports/other.md"}, {"Two": ["reports/index.md"]}]
    assert with_reports(nav, ["reports/mall/index.md"]) == nav


@pytest.fixture(scope="module")
def hook() -> tuple[Any, Any]:
    """The MkDocs hook module as MkDocs loads it, and the site's validated configuration."""
    config = load_config(str(ROOT / "mkdocs.yml"))
    return config.plugins["hooks/segments.py"], config


def png(width: int, height: int) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (width, height)).save(image, "PNG")
    return image.getvalue()


def made(path: str, content: bytes) -> File:
    """A file of the site held in memory, as the hook adds the generated ones."""
    file = File(path, src_dir=None, dest_dir="site", use_directory_urls=True)
    file.content_bytes = content
    return file


@pytest.mark.parametrize(
    ("tag", "sized"),
    [
        ('<img src="map.png" alt="a">', '<img width="600" height="400" src="map.png" alt="a">'),
        ('<img src="map.png" width="300">', '<img height="200" src="map.png" width="300">'),
        ('<img src="../mall/map.png?v=1">', '<img width="600" height="400" src="../mall/map.png?v=1">'),
        ('<img src="map.png" height="10">', '<img src="map.png" height="10">'),  # sized by the author
        ('<img src="https://example.org/map.png">', '<img src="https://example.org/map.png">'),
        ('<img src="missing.png">', '<img src="missing.png">'),
    ],
)
def test_images_of_the_site_get_their_size(hook: tuple[Any, Any], tag: str, sized: str) -> None:
    module, config = hook
    files = Files([made("reports/mall/map.png", png(600, 400))])
    page = Page(None, made("reports/mall/index.md", b""), config)
    assert module.size_images(f"<p>{tag}</p>", page, files) == f"<p>{sized}</p>"


class Pool:
    def __init__(self) -> None:
        self.open = True

    def shutdown(self) -> None:
        self.open = False


def test_a_server_keeps_one_pool_of_workers_until_it_stops(hook: tuple[Any, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    module, _ = hook
    started: list[Pool] = []

    def start_workers() -> Executor:
        started.append(Pool())
        return started[-1]  # type: ignore[return-value]

    monkeypatch.setattr(module, "STATE", module.HookState())
    monkeypatch.setattr(module, "start_workers", start_workers)
    module.keep_workers()
    module.keep_workers()  # a second serve event: the same workers
    assert len(started) == 1
    assert module.STATE.workers is started[0]
    module.release_workers()
    assert not started[0].open
    assert module.STATE.workers is None
