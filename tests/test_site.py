"""End to end: the real `mkdocs build --strict` on a copy of the shipped project.

This is the one test module that runs MkDocs. It checks what a reader gets: the pages of the
contract exist, the centroid tables show the group means of the published rows, the site
loads nothing from another host, and a bad dataset leaves the previous site untouched.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from html import escape as html_escape
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, use_cache

PROJECT_PARTS = ("mkdocs.yml", "content", "site_config", "hooks", "templates", "overrides")


class _Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(page: Path) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.tables


def copy_project(target: Path, cache: Path | None = None) -> Path:
    """The shipped project copied to `target`; with `cache`, its analysis cache is that shared folder
    (builds of the shipped datasets only: a changed dataset would replace the shared entry)."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    if cache is not None:
        use_cache(target, cache)
    return target


def mkdocs_build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SOURCE_DATE_EPOCH": "1700000000", "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Path:
    project = copy_project(tmp_path_factory.mktemp("e2e") / "project", shared_cache)
    result = mkdocs_build(project, project / "site")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr
    return project


def test_contract_pages_exist(built: Path) -> None:
    site = built / "site"
    for page in ("index.html", "tutorial/index.html", "reports/index.html", "reference/configuration/index.html"):
        assert (site / page).is_file(), page
    for config in sorted((built / "site_config" / "datasets").glob("*.yml")):
        folder = site / "reports" / config.stem
        published = yaml.safe_load(config.read_text()).get("publish_rows", False)
        for name in ("index.html", "segments.json", "segments.png", *(["assignments.csv"] if published else [])):
            assert (folder / name).is_file(), f"{config.stem}/{name}"
        assert (folder / "assignments.csv").is_file() == published, config.stem
        html = (folder / "index.html").read_text(encoding="utf-8")
        assert re.search(r'<img[^>]*alt="[^"]{40,}"', html), "a report image needs descriptive alt text"


def test_nothing_generated_lands_in_content(built: Path) -> None:
    assert not (built / "content" / "reports").exists()
    assert not (built / "content" / "tutorial").exists()
    assert not (built / "site" / "data").exists(), "raw input tables must not be published"


@pytest.mark.parametrize("dataset", ["wholesale-customers", "tutorial-customers"])
def test_centroid_table_shows_the_means_of_the_published_rows(built: Path, dataset: str) -> None:
    folder = built / "site" / "reports" / dataset
    result = json.loads((folder / "segments.json").read_text())
    features: list[str] = result["features"]
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0] * len(features))
    counts: dict[int, int] = defaultdict(int)
    with (folder / "assignments.csv").open(newline="") as handle:
        for record in csv.DictReader(handle):
            segment = int(record["segment"])
            counts[segment] += 1
            for j, feature in enumerate(features):
                sums[segment][j] += float(record[feature])
    header = ["Segment", "Name", "Customers", "Share"]
    centroids = next(t for t in tables_of(folder / "index.html") if t[0][:4] == header)
    body = [row for row in centroids[1:] if row[0]]  # the last row (all customers) has no number
    assert len(body) == result["n_clusters"] == len(counts)
    for row in body:
        segment = int(row[0])
        assert int(row[2].replace(",", "")) == counts[segment]
        for j, cell in enumerate(row[4:]):
            shown = float(cell.replace(",", ""))
            mean = sums[segment][j] / counts[segment]
            decimals = len(cell.split(".")[1]) if "." in cell else 0
            assert abs(shown - mean) <= 0.5 * 10 ** -decimals + 1e-9, (segment, features[j], cell, mean)


def test_tutorial_shows_its_figures_and_tabs(built: Path) -> None:
    site = built / "site" / "tutorial"
    html = (site / "index.html").read_text(encoding="utf-8")
    for k in (2, 3, 4):
        assert f"k = {k}" in html
        assert (site / f"clusters-k{k}.png").read_bytes().startswith(b"\x89PNG")
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert 'kmeans = KMeans(n_clusters=2, random_state=42)' in text
    assert 'kmeans = KMeans(n_clusters=4, random_state=42)' in text


def test_no_request_to_another_host(built: Path) -> None:
    loads = re.compile(r'<(?:script|img|link|iframe|source)\b[^>]*\b(?:src|href)="(https?:)?//', re.IGNORECASE)
    for page in (built / "site").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not loads.search(text), f"{page} loads from another host"
        assert "fonts.googleapis" not in text
        assert "fonts.gstatic" not in text
    for sheet in (built / "site").rglob("*.css"):
        assert "@import url(http" not in sheet.read_text(encoding="utf-8")


def test_same_inputs_same_site_bytes(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    result = mkdocs_build(built, again)
    assert result.returncode == 0, result.stderr
    assert tree_digest(again) == tree_digest(built / "site")


def test_bad_dataset_stops_the_build_and_keeps_the_previous_site(built: Path, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    site = project / "site"
    shutil.copytree(built / "site", site)
    before = tree_digest(site)
    config = project / "site_config" / "datasets" / "tutorial-customers.yml"
    config.write_text(config.read_text().replace("n_clusters: [2, 4]", "n_clusters: 010\nscales: none"))
    result = mkdocs_build(project, site)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "site_config/datasets/tutorial-customers.yml: n_clusters: must be a whole number" in result.stderr
    assert "site_config/datasets/tutorial-customers.yml: scales: unknown key (did you mean 'scale'?)" in result.stderr
    assert tree_digest(site) == before


def test_hand_written_page_may_not_be_overwritten(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    (project / "content" / "reports").mkdir()
    (project / "content" / "reports" / "index.md").write_text("# Mine\n")
    result = mkdocs_build(project, project / "site")
    assert result.returncode != 0
    assert "content/reports/index.md: a hand-written file has the path of a generated page" in result.stderr
    assert not (project / "site").exists()


# --- hostile data ------------------------------------------------------------------------

HOSTILE_TITLE = "</title><script>alert('title')</script> {{ 7*7 }} | *b* ??? note"
HOSTILE = """\
title: "</title><script>alert('title')</script> {{ 7*7 }} | *b* ??? note"
description: "<img src=x onerror=alert(1)> [click](javascript:alert(2)) [ref][r]
  {: onclick=\\"alert(3)\\" }\\n\\n[r]: java script:alert(4)"
data:
  "id<script>": ["=cmd|' /C calc'!A0", "<b>x</b>", "javascript:alert(1)", "@SUM(1)", "-5", "+x"]
  "<img src=x onerror=alert(5)>": [1, 2, 3, 10, 11, 12]
  "a|b {{x}} [l](javascript:alert(8))": [1, 1, 2, 10, 11, 10]
id_column: "id<script>"
features: ["<img src=x onerror=alert(5)>", "a|b {{x}} [l](javascript:alert(8))"]
labels:
  "a|b {{x}} [l](javascript:alert(8))": "</script><script>alert(6)</script> $x$"
names:
  0: "<svg onload=alert(7)>"
  1: "{% raw %} === \\"tab\\" [y](javascript:z)"
n_clusters: 2
publish_rows: true
suppress_below: 0
"""
# Inline scripts of Material and of the lightbox plugin; anything else would be injected.
THEME_INLINE_SCRIPTS = ("__md_scope", "var palette", "var tabs", "var target", "const lightbox = GLightbox(")


class _Markup(HTMLParser):
    """Every start tag with its attributes, and the text of every inline script and <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in = tag if tag in ("script", "title") and not dict(attrs).get("src") else None
        if self._in == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "title":
            self.title += data


def test_hostile_data_stays_text_on_every_page(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    for config in (project / "site_config" / "datasets").glob("*.yml"):
        config.unlink()
    (project / "site_config" / "datasets" / "evil.yml").write_text(HOSTILE, encoding="utf-8")
    result = mkdocs_build(project, project / "site")
    assert result.returncode == 0, result.stderr
    site = project / "site"
    for page in site.rglob("*.html"):
        markup = _Markup()
        markup.feed(page.read_text(encoding="utf-8"))
        where = page.relative_to(site).as_posix()
        for tag, attrs in markup.tags:
            for name, value in attrs:
                assert not name.startswith("on"), f"{where}: <{tag} {name}>"
                target = re.sub(r"[\x00-\x20]", "", value or "").lower()
                if name in ("href", "src", "action", "formaction"):
                    assert not target.startswith(("javascript:", "vbscript:")), f"{where}: {value}"
                    # Only the single-file report inlines its charts, as PNG images.
                    inlined = tag == "img" and name == "src" and target.startswith("data:image/png;base64,")
                    assert not target.startswith("data:") or inlined, f"{where}: {target[:40]}"
            if tag == "script":
                src = dict(attrs).get("src") or ""
                assert not src or "assets/javascripts/" in src, f"{where}: script {src}"
        for script in markup.scripts:
            assert script.strip().startswith(THEME_INLINE_SCRIPTS) or script.strip().startswith("{"), where
        if where == "reports/evil/index.html":
            assert markup.title.startswith(HOSTILE_TITLE)
    index = json.loads((site / "search" / "search_index.json").read_text())
    titles = [doc["title"] for doc in index["docs"] if doc["location"] == "reports/evil/"]
    assert titles
    assert titles[0] == html_escape(HOSTILE_TITLE, quote=False)
    with (site / "reports" / "evil" / "assignments.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert [row[0] for row in rows[1:]] == ["'=cmd|' /C calc'!A0", "<b>x</b>", "javascript:alert(1)", "'@SUM(1)",
                                            "-5", "'+x"]


def test_defaults_publish_no_id_and_no_small_segment_statistic_in_any_file(tmp_path: Path,
                                                                          shared_cache: Path) -> None:
    """A real build with the defaults: no customer id in any file of the site (the search index, the
    sitemap and scripts included), and no statistic of the three big customers' segment in the report."""
    from tests.test_safety import BIG, ID_TOKEN, NUMBER, PRIVATE, private_ids, private_table

    project = copy_project(tmp_path / "project", shared_cache)
    for config in (project / "site_config" / "datasets").glob("*.yml"):
        config.unlink()
    (project / "site_config" / "datasets" / "private.yml").write_text(PRIVATE, encoding="utf-8")
    (project / "content" / "data" / "private.csv").write_text(private_table(), encoding="utf-8")
    result = mkdocs_build(project, project / "site")
    assert result.returncode == 0, result.stderr
    site, ids = project / "site", private_ids()
    searched = 0
    for path in sorted(site.rglob("*")):
        if path.suffix in (".png", ".gz", ".woff", ".woff2", ".ico") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        searched += 1
        assert not ids & set(ID_TOKEN.findall(text)), path.relative_to(site).as_posix()
        if path.is_relative_to(site / "reports" / "private") or path.name == "search_index.json":
            for found in NUMBER.findall(text):
                value = float(found.replace(",", ""))
                assert not any(low <= value <= high for low, high in BIG.values()), f"{path.name}: {found}"
    assert (site / "search" / "search_index.json").is_file()
    assert searched > 20
    assert not (site / "reports" / "private" / "assignments.csv").exists()
