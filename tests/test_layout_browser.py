"""Tables in a real browser: whole at 1,280 px, reachable by keyboard on a 390 px phone, on both sites.

A copy of the shipped project plus a dataset of eight features (long labels, six-figure values)
is built once by MkDocs and once by Zensical (`make site ENGINE=zensical`), and each site is served on
127.0.0.1; Debian's Chromium (/usr/bin/chromium) opens every report.
At 1,280 px no visible table is wider than its scroll container: the centroid table and the
choosing-k table show every column without scrolling. At 390 px a table may scroll, but then its
scroll container is a named region that Tab reaches and the arrow keys scroll.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import ROOT, ZENSICAL_SITE
from tests.static_server import serve
from tests.test_site import copy_project, mkdocs_build

EIGHT = ("Annual spend", "Orders per year", "Average basket", "Days since last order", "Returns share",
         "Loyalty points", "Support tickets", "Newsletter opens")
WIDE = "eight-features"

# Every visible table: its width, its scroll container's width and scroll width, and its first headings.
TABLES_JS = """() => Array.from(document.querySelectorAll("article table"), (table) => {
  const wrap = table.closest(".md-typeset__scrollwrap") || table.parentElement;
  const box = table.getBoundingClientRect();
  return {visible: box.width > 0 && table.offsetParent !== null, width: box.width, room: wrap.clientWidth,
          scroll: wrap.scrollWidth,
          heads: Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim())};
})"""
WRAPS_JS = """() => Array.from(document.querySelectorAll("article .md-typeset__scrollwrap"), (wrap, i) => {
  wrap.dataset.layoutIndex = String(i);
  const shown = wrap.offsetParent !== null && !wrap.closest("details:not([open])");  // a closed "numbers" box hides it
  return {index: i, overflows: wrap.scrollWidth > wrap.clientWidth + 1, visible: shown,
          tabindex: wrap.getAttribute("tabindex"), role: wrap.getAttribute("role"),
          label: wrap.getAttribute("aria-label") || ""};
})"""


def wide_table(rows: int = 300, seed: int = 5) -> pd.DataFrame:
    """Three groups over eight features of unlike size, up to six figures."""
    rng = np.random.default_rng(seed)
    scales = np.array([50_000, 40, 120, 300, 0.2, 90_000, 6, 50])
    groups = [rng.normal(centre, 0.15, size=(rows // 3, len(EIGHT))) for centre in (0.5, 1.0, 1.6)]
    values = np.abs(np.vstack(groups)) * scales
    return pd.DataFrame(values.round(2), columns=[name.replace(" ", "_").lower() for name in EIGHT])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Path:
    """The shipped project with the eight-feature dataset, built by MkDocs into site-mkdocs/."""
    project = copy_project(tmp_path_factory.mktemp("layout") / "project", shared_cache)
    shutil.copy2(ROOT / "Makefile", project / "Makefile")
    frame = wide_table()
    frame.to_csv(project / "content" / "data" / "eight.csv", index=False)
    labels = "\n".join(f"  {column}: {label}" for column, label in zip(frame.columns, EIGHT, strict=True))
    (project / "site_config" / "datasets" / f"{WIDE}.yml").write_text(
        f"title: Eight features\nsource: content/data/eight.csv\nfeatures: [{', '.join(frame.columns)}]\n"
        f"labels:\n{labels}\nn_clusters: [2, 6]\n", encoding="utf-8")
    result = mkdocs_build(project, project / "site-mkdocs")
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture(scope="module", params=["mkdocs", "zensical"])
def site(request: pytest.FixtureRequest, project: Path) -> Path:
    """Each engine's site in turn; Zensical's is built after MkDocs's, from the analyses it cached."""
    if request.param == "mkdocs":
        return project / "site-mkdocs"
    if not (project / "site").is_dir():
        done = subprocess.run(ZENSICAL_SITE, cwd=project, env=os.environ | {"SOURCE_DATE_EPOCH": "1700000000"},
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    return project / "site"


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    with serve(site) as base:
        yield base


def reports(site: Path) -> list[str]:
    return sorted(path.parent.name for path in (site / "reports").glob("*/segments.json"))


def open_page(browser: Browser, url: str, width: int, height: int) -> Page:
    # A phone is a touch screen without hover, where Material leaves scrolling to the site's own script.
    page = browser.new_context(viewport={"width": width, "height": height}, has_touch=width <= 390).new_page()
    page.goto(url)
    page.wait_for_load_state("load")
    return page


def test_every_table_fits_its_column_at_1280_px(browser: Browser, served: str, site: Path) -> None:
    assert WIDE in reports(site)
    too_wide = []
    seen = set()
    for report in reports(site):
        page = open_page(browser, f"{served}reports/{report}/", 1280, 900)
        try:
            for table in page.evaluate(TABLES_JS):
                if not table["visible"]:
                    continue
                seen.add((report, tuple(table["heads"][:4])))
                if table["width"] > table["room"] + 1 or table["scroll"] > table["room"] + 1:
                    too_wide.append(f"{report}: {table['heads'][:4]}... is {table['width']:.0f} px wide, "
                                    f"its column {table['room']} px")
        finally:
            page.context.close()
    assert (WIDE, ("Segment", "Name", "Customers", "Share")) in seen  # the centroid table with eight features
    assert (WIDE, ("k", "Inertia", "Silhouette", "Calinski-Harabasz")) in seen  # the choosing-k table
    assert too_wide == []


def test_tables_that_scroll_on_a_phone_are_reached_and_scrolled_by_keyboard(browser: Browser, served: str) -> None:
    page = open_page(browser, f"{served}reports/{WIDE}/", 390, 844)
    try:
        wraps = [w for w in page.evaluate(WRAPS_JS) if w["visible"]]
        scrolling = [w for w in wraps if w["overflows"]]
        assert scrolling, "the eight-feature centroid table should scroll at 390 px"
        for wrap in scrolling:
            assert (wrap["tabindex"], wrap["role"]) == ("0", "region"), wrap
            assert wrap["label"].startswith("Table"), wrap
        for wrap in wraps:
            if not wrap["overflows"]:
                assert wrap["tabindex"] is None, wrap  # no empty tab stops
        reached: set[int] = set()
        for _ in range(3000):  # Tab through the page until every scrolling table was focused
            page.keyboard.press("Tab")
            index = page.evaluate("() => document.activeElement && document.activeElement.dataset.layoutIndex")
            if index is not None:
                reached.add(int(index))
                before = page.evaluate("() => { const wrap = document.activeElement; wrap.scrollLeft = 0; "
                                       "return wrap.scrollLeft; }")
                page.keyboard.press("ArrowRight")
                page.wait_for_timeout(200)
                assert page.evaluate("() => document.activeElement.scrollLeft") > before, index
            if reached >= {w["index"] for w in scrolling}:
                break
        assert reached >= {w["index"] for w in scrolling}, [w for w in scrolling if w["index"] not in reached]
    finally:
        page.context.close()
