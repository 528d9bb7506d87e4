"""In a real browser, on both engines' sites: every page loads cleanly and only from its own site, the widgets
work, axe finds nothing, with and without hover.

The shipped project is copied once and built by MkDocs (as test_site.py builds it) and by Zensical
(`make site ENGINE=zensical`, the command of the day Material stops); each is served on 127.0.0.1, and
every check that takes the `site` fixture runs on both. The MkDocs site's offline copy (OFFLINE=true) is
built beside it and read from file://. One Chromium runs every check, each in a page of its own; "without
hover" is a touch screen, as a phone is (Material makes wide code blocks keyboard-reachable only where
(hover) matches: the site's own script does it everywhere). Debian's Chromium and the axe-core of
package.json are prerequisites: without them the tests fail and say what to install. No browser is ever
downloaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Request, Response, Route, expect

from tests.conftest import AXE, ROOT, ZENSICAL_SITE, require_prerequisites
from tests.static_server import serve
from tests.test_site import copy_project

BUILD_ENV = {"SOURCE_DATE_EPOCH": "1700000000", "NO_MKDOCS_2_WARNING": "1"}  # as test_site.mkdocs_build
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (390, 800, 1280)  # a phone, a tablet or narrow window, a laptop: Material's three layouts
HEIGHT = 844
WAIT_MS = 5_000  # the longest a single wait may take: a local static site answers at once
DATASETS = sorted(path.stem for path in (ROOT / "site_config" / "datasets").glob("*.yml"))
REPORT = "wholesale-customers"  # the report the widget checks use
CENTROID_HEADER = ["Segment", "Name", "Customers", "Share"]  # how the centroid table starts (as in test_site.py)
MISSING = "no-such-page/"  # a mistyped address: the server answers 404 with the site's 404.html
Scheme = Literal["light", "dark"]
PHONE = 390  # at this width a visit emulates a touch screen without hover, as a phone is

# Load every image now (they are lazy; some are hidden until a tab or the dark scheme shows them), wait for
# each (at most WAIT_MS) and describe it. Images in the article of a report are charts.
IMAGES_JS = """async (timeout) => Promise.all(Array.from(document.images, async (img) => {
  img.loading = "eager";
  if (!img.complete) {
    await Promise.race([
      new Promise((done) => { img.addEventListener("load", done); img.addEventListener("error", done); }),
      new Promise((done) => setTimeout(done, timeout)),
    ]);
  }
  const chart = img.closest("article") !== null && location.pathname.includes("/reports/");
  return {src: img.getAttribute("src").slice(0, 80), alt: img.alt.trim(), width: img.naturalWidth, chart: chart};
}))"""
AXE_JS = "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
# Material (where the device hovers) and the site's scroll-regions.js make a code block that scrolls sideways
# reachable by keyboard (tabindex="0") from resize observers, a frame or more after the load event: axe waits
# for that, or it finds scrollable-region-focusable on the tutorial's wide code blocks. Blocks that never
# become reachable make the wait, and the test, fail.
CODE_REACHABLE_JS = """() => Array.from(document.querySelectorAll("pre > code"))
  .every((code) => code.scrollWidth <= code.clientWidth || code.tabIndex === 0)"""
ROWS_JS = "(table) => Array.from(table.tBodies[0].rows, (row) => Array.from(row.cells, (td) => td.textContent.trim()))"


@dataclass
class Visit:
    """An open page and what happened while it was open: every request URL, and every problem."""

    page: Page
    status: int | None = None
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@contextmanager
def visit(browser: Browser, url: str, *, status: int = 200, scheme: Scheme = "light", width: int = 1280,
          allow: Callable[[str], bool] | None = None) -> Iterator[Visit]:
    """Open `url` in a fresh context `width` CSS pixels wide (at PHONE, a touch screen: no hover). A response
    of 400 or more is a problem unless it is `url` answering `status`; with `allow`, every request it refuses
    is aborted (and so fails, which is a problem too)."""
    context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": HEIGHT},
                                  has_touch=width <= PHONE)
    context.set_default_timeout(WAIT_MS)
    seen = Visit(context.new_page())

    def on_request(request: Request) -> None:
        seen.requests.append(request.url)

    def on_failed(request: Request) -> None:
        seen.problems.append(f"request failed: {request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400 and (response.url, response.status) != (url, status):
            seen.problems.append(f"HTTP {response.status}: {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        # Chromium logs every response of 400 or more, also the deliberate one.
        deliberate = status >= 400 and message.location.get("url") == url
        if message.type == "error" and not (deliberate and message.text.startswith("Failed to load resource")):
            seen.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def on_page_error(error: Error) -> None:
        seen.problems.append(f"uncaught error: {error.message}")

    def on_route(route: Route) -> None:
        if allow is not None and allow(route.request.url):
            route.continue_()
        else:
            route.abort()

    context.on("request", on_request)
    context.on("requestfailed", on_failed)
    context.on("response", on_response)
    seen.page.on("console", on_console)
    seen.page.on("pageerror", on_page_error)
    if allow is not None:
        context.route("**/*", on_route)
    try:
        response = seen.page.goto(url)
        seen.status = response.status if response is not None else None
        yield seen
    finally:
        context.close()


def image_problems(page: Page) -> list[str]:
    """Images that did not load, lack alt text, or (charts) say too little to stand in for the chart."""
    problems = []
    for image in page.evaluate(IMAGES_JS, WAIT_MS):
        if image["width"] == 0:
            problems.append(f"image did not load: {image['src']}")
        if not image["alt"]:
            problems.append(f"image without alt text: {image['src']}")
        elif image["chart"] and len(image["alt"]) < 40:
            problems.append(f"chart alt text says too little: {image['src']}: {image['alt']!r}")
    return problems


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations, one line per rule: its first targets and why."""
    page.wait_for_function(CODE_REACHABLE_JS)
    page.add_script_tag(path=AXE)
    lines = []
    for violation in page.evaluate(AXE_JS, WCAG):
        nodes = violation["nodes"]
        targets = " | ".join(" ".join(node["target"]) for node in nodes[:2])
        why = next((check["message"] for check in nodes[0]["any"] + nodes[0]["all"]), "") if nodes else ""
        lines.append(f"{violation['id']} ({violation['impact']}, {len(nodes)} elements): {targets}: {why}")
    return lines


def search(page: Page, engine: Engine, word: str) -> list[str]:
    """Open the site's search, type `word` and wait for results; their links."""
    page.locator(engine.search_opens).click()
    expect(page.locator(engine.search_input)).to_be_focused()
    page.keyboard.type(word)
    expect(page.locator(engine.search_result).first).to_be_visible()
    # Read every link in one step: the list re-renders while typing settles (and as it scrolls), so a
    # link counted first may be gone when read one at a time.
    links: list[str] = page.locator(engine.search_result).evaluate_all(
        "links => links.map(link => link.getAttribute('href') || '')")
    return links


def segment_word(site: Path) -> str:
    """The longest word of the report's first segment name: distinctive enough to search for."""
    result = json.loads((site / "reports" / REPORT / "segments.json").read_text(encoding="utf-8"))
    words: list[str] = re.findall(r"[A-Za-z]+", result["segments"][0]["name"])
    return max(words, key=len)


def pages(site: Path) -> list[tuple[str, int]]:
    """Every page as a path below the root with the status it answers, and a missing path (404.html)."""
    found = sorted(page.parent.relative_to(site).as_posix().removeprefix(".") + "/"
                   for page in site.rglob("index.html"))
    return [(path, 200) for path in found] + [(MISSING, 404)]


@dataclass
class Build:
    """A build of a project running in the background; `wait` gives the site it built."""

    site: Path
    process: subprocess.Popen[str]

    @classmethod
    def start(cls, project: Path, command: list[str], site: Path, **env: str) -> Build:
        return cls(site, subprocess.Popen(command, cwd=project, env=os.environ | BUILD_ENV | env, text=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    @classmethod
    def mkdocs(cls, project: Path, **env: str) -> Build:
        site = project / "site-mkdocs"
        return cls.start(project, [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                         site, **env)

    @classmethod
    def zensical(cls, project: Path) -> Build:
        return cls.start(project, ZENSICAL_SITE, project / "site")

    def wait(self) -> Path:
        _, stderr = self.process.communicate(timeout=300)
        assert self.process.returncode == 0, stderr
        return self.site

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@dataclass(frozen=True)
class Engine:
    """What a reader's checks need to know of an engine's site: how its search opens and shows results."""

    name: str
    search_opens: str  # clicked, then the words are typed
    search_input: str  # where they are typed, focused once search opens
    search_result: str  # each result's link (Zensical's search lives in a shadow root; locators reach it)


ENGINES = (Engine("mkdocs", "input.md-search__input", "input.md-search__input", "a.md-search-result__link"),
           Engine("zensical", "button.md-search__button", "dialog input[role=combobox]",
                  "[role=listbox] a[role=option]"))


@dataclass(frozen=True)
class Site:
    """A built site and the root URL it is served at."""

    engine: Engine
    folder: Path
    base: str


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def offline_build(browser: Browser, tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Iterator[Build]:
    """The offline copy's build (OFFLINE=true turns on Material's offline plugin), started first so that it
    runs beside the shipped site's build; `offline_site` waits for it."""
    project = copy_project(tmp_path_factory.mktemp("offline") / "project", shared_cache)
    (project / "node_modules").symlink_to(ROOT / "node_modules")  # the iframe-worker shim, from npm
    build = Build.mkdocs(project, OFFLINE="true")
    yield build
    build.stop()


@pytest.fixture(scope="module")
def project(offline_build: Build, tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Path:
    """One copy of the shipped project (with the Makefile), which both engines build."""
    project = copy_project(tmp_path_factory.mktemp("browser") / "project", shared_cache)
    shutil.copy2(ROOT / "Makefile", project / "Makefile")
    return project


@pytest.fixture(scope="module")
def mkdocs_site(project: Path) -> Path:
    return Build.mkdocs(project).wait()


@pytest.fixture(scope="module")
def zensical_site(project: Path, mkdocs_site: Path) -> Path:
    """Built after the MkDocs site, so that it finds every analysis in the cache."""
    return Build.zensical(project).wait()


@pytest.fixture(scope="module")
def offline_site(offline_build: Build) -> Path:
    return offline_build.wait()


@pytest.fixture(scope="module", params=ENGINES, ids=lambda engine: engine.name)
def site(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Site]:
    """Each engine's site in turn, served on 127.0.0.1 (a missing page answers 404 with 404.html)."""
    engine: Engine = request.param
    folder: Path = request.getfixturevalue(f"{engine.name}_site")
    with serve(folder) as base:
        yield Site(engine, folder, base)


def test_chromium_and_axe_are_installed() -> None:
    require_prerequisites()


# --- every page ------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [PHONE, 1280])  # with and without hover
def test_every_page_loads_cleanly_from_this_server_only(browser: Browser, site: Site, width: int) -> None:
    problems = []
    for path, status in pages(site.folder):
        with visit(browser, site.base + path, status=status, width=width) as seen:
            found = image_problems(seen.page)
            seen.page.wait_for_load_state("networkidle")  # the search worker and its index load after the page
            if seen.status != status:
                found.append(f"answered {seen.status}, expected {status}")
            if status == 404 and "404" not in seen.page.locator("article h1, .md-content h1").first.inner_text():
                found.append("the site's own 404 page did not answer")
            found += seen.problems + [f"request to another host: {url}"
                                      for url in seen.requests if not url.startswith(site.base)]
        problems += [f"/{path}: {problem}" for problem in found]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("scheme", "attribute"), [("light", "default"), ("dark", "slate")])
def test_no_accessibility_violations(browser: Browser, site: Site, scheme: Scheme, attribute: str,
                                     width: int) -> None:
    problems = []
    for path, status in pages(site.folder):
        with visit(browser, site.base + path, status=status, scheme=scheme, width=width) as seen:
            expect(seen.page.locator("body")).to_have_attribute("data-md-color-scheme", attribute)
            assert seen.page.evaluate("window.innerWidth") == width
            assert seen.page.evaluate("matchMedia('(hover)').matches") == (width > PHONE)
            problems += [f"/{path} ({scheme}, {width} px): {line}" for line in axe_violations(seen.page)]
    assert not problems, "\n".join(problems)


# --- what a reader does ----------------------------------------------------------------------


def test_navigation_reaches_every_report_and_its_single_file_copy(browser: Browser, site: Site) -> None:
    with visit(browser, site.base) as seen:
        for dataset in DATASETS:  # from the home page, then from report to report by the navigation
            seen.page.wait_for_load_state("networkidle")  # leaving sooner would abort the search index's load
            seen.page.locator(f'.md-sidebar--primary a[href$="{dataset}/"]').first.click()  # relative links
            seen.page.wait_for_url(f"{site.base}reports/{dataset}/")
            copy = seen.page.locator('article a[href="report.html"]')
            expect(copy).to_have_count(1)
            answer = seen.page.request.get(f"{site.base}reports/{dataset}/report.html")
            assert answer.status == 200, dataset
            assert answer.headers["content-type"].startswith("text/html"), dataset
        assert not seen.problems


@pytest.mark.parametrize(("path", "tabs"), [("tutorial/", ".tabbed-set")])
def test_content_tabs_switch(browser: Browser, site: Site, path: str, tabs: str) -> None:
    with visit(browser, site.base + path) as seen:
        tab_set = seen.page.locator(tabs).first
        blocks = tab_set.locator(":scope > .tabbed-content > .tabbed-block")
        expect(blocks.nth(0)).to_be_visible()
        expect(blocks.nth(1)).to_be_hidden()
        tab_set.locator(":scope > .tabbed-labels > label").nth(1).click()
        expect(blocks.nth(1)).to_be_visible()
        expect(blocks.nth(0)).to_be_hidden()
        assert not seen.problems


def test_search_finds_a_segment_name(browser: Browser, site: Site) -> None:
    word = segment_word(site.folder)
    with visit(browser, site.base) as seen:
        links = search(seen.page, site.engine, word)
        assert any(link.startswith(f"{site.base}reports/") for link in links), (word, links)
        assert not seen.problems


def test_centroid_table_sorts_by_customers(browser: Browser, site: Site) -> None:
    column = CENTROID_HEADER.index("Customers")
    with visit(browser, f"{site.base}reports/{REPORT}/") as seen:
        tables = seen.page.locator("table").all()
        headers = [[text.strip() for text in table.locator("thead th").all_text_contents()] for table in tables]
        table = next(table for table, header in zip(tables, headers, strict=True) if header[:4] == CENTROID_HEADER)
        heading = table.locator("thead th").nth(column)
        for order in ("ascending", "descending"):
            heading.locator("button.sort-button").click()
            expect(heading).to_have_attribute("aria-sort", order)
            rows: list[list[str]] = table.evaluate(ROWS_JS)
            assert rows[-1][0] == "", "the all-customers row stays last"
            counts = [int(row[column].replace(",", "")) for row in rows[:-1]]
            assert len(counts) >= 2
            assert counts == sorted(counts, reverse=order == "descending"), (order, counts)
        assert not seen.problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_charts_follow_the_colour_scheme_and_open_larger(browser: Browser, site: Site, scheme: Scheme) -> None:
    other = "dark" if scheme == "light" else "light"
    with visit(browser, f"{site.base}reports/{REPORT}/", scheme=scheme) as seen:
        charts = seen.page.locator(f'article img[src$="#only-{scheme}"]')
        assert charts.count() >= 2
        expect(charts.first).to_be_visible()
        hidden = seen.page.locator(f'article img[src$="#only-{other}"]')
        assert hidden.count() == charts.count()
        assert all(not image.is_visible() for image in hidden.all())
        charts.first.click()  # and opens larger (GLightbox, served with the site)
        larger = seen.page.locator(".gslide.current .gslide-image img")
        expect(larger).to_be_visible()
        expect(larger).to_have_attribute("src", re.compile(f"#only-{scheme}$"))
        assert not seen.problems


@pytest.mark.parametrize("path", ["tutorial/", "reference/configuration/"])
def test_wide_code_blocks_are_reached_by_keyboard_without_hover(browser: Browser, site: Site, path: str) -> None:
    with visit(browser, site.base + path, width=PHONE) as seen:
        assert not seen.page.evaluate("matchMedia('(hover)').matches")
        seen.page.wait_for_function(CODE_REACHABLE_JS)
        wide = seen.page.locator("article pre > code").evaluate_all(
            "(codes) => codes.filter((code) => code.offsetParent !== null && code.scrollWidth > code.clientWidth)"
            ".map((code, i) => { code.dataset.wide = String(i); return code.tabIndex; })")
        assert wide, "a code block of this page should scroll sideways at 390 px"
        assert set(wide) == {0}, wide
        for _ in range(400):  # Tab until a wide block has focus, then scroll it with the arrow keys
            seen.page.keyboard.press("Tab")
            if seen.page.evaluate("() => document.activeElement.dataset.wide !== undefined"):
                break
        else:
            pytest.fail("Tab never reached a wide code block")
        seen.page.keyboard.press("ArrowRight")
        seen.page.wait_for_function("() => document.activeElement.scrollLeft > 0")
        assert not seen.problems


# --- what Zensical builds ------------------------------------------------------------------


def test_zensical_builds_every_report_page_image_and_download(project: Path, mkdocs_site: Path,
                                                               zensical_site: Path) -> None:
    rendered_to = project / "build" / "zensical-docs"  # where `make zensical` rendered the generated pages
    rendered = {path.relative_to(rendered_to).as_posix() for path in rendered_to.rglob("*") if path.is_file()}
    built = {path.relative_to(zensical_site).as_posix() for path in zensical_site.rglob("*") if path.is_file()}
    expected = {name.removesuffix("index.md") + "index.html" if name.endswith("index.md") else
                name.removesuffix(".md") + "/index.html" if name.endswith(".md") else name for name in rendered}
    for dataset in DATASETS:
        assert f"reports/{dataset}/index.md" in rendered
        assert f"reports/{dataset}/segments.json" in rendered
        assert any(name.startswith(f"reports/{dataset}/") and name.endswith(".png") for name in rendered)
        single = f"reports/{dataset}/report.html"
        assert (zensical_site / single).read_bytes() == (mkdocs_site / single).read_bytes(), single
    assert {"index.html", "tutorial/index.html", "reports/index.html", "404.html"} <= built
    assert sorted(expected - built) == []
    assert pages(zensical_site) == pages(mkdocs_site)  # the same pages, and no other
    relative = [name for name in built if name.endswith(".html")  # Lighthouse's SEO audit rejects them
                and re.search(r'rel="canonical" href="(?!https?://)', (zensical_site / name).read_text("utf-8"))]
    assert relative == [], "canonical links must be absolute (a site_url) or absent"


# --- from the file system, with every other request blocked ----------------------------------


@pytest.mark.parametrize("dataset", DATASETS)
def test_single_file_report_works_from_disk_alone(browser: Browser, mkdocs_site: Path, dataset: str) -> None:
    report = mkdocs_site / "reports" / dataset / "report.html"  # the generator's file: Zensical's is the same
    assert report.is_file(), f"{report.relative_to(mkdocs_site)} was not built"
    title = json.loads((report.parent / "segments.json").read_text(encoding="utf-8"))["title"]
    url = report.as_uri()
    with visit(browser, url, allow=lambda requested: requested == url) as seen:
        expect(seen.page.locator("h1").first).to_contain_text(title)
        expect(seen.page.locator("table").filter(visible=True).first).to_be_visible()
        assert seen.page.locator("img").count() > 0, "the report shows its charts"
        assert image_problems(seen.page) == []
        assert seen.requests == [url]
        assert not seen.problems


def test_offline_copy_navigates_and_searches_from_disk(browser: Browser, offline_site: Path) -> None:
    root = offline_site.as_uri() + "/"
    with visit(browser, root + "index.html", allow=lambda url: url.startswith(root)) as seen:
        seen.page.locator(".md-sidebar--primary").get_by_role("link", name="Tutorial", exact=True).click()
        seen.page.wait_for_url(root + "tutorial/index.html")
        assert seen.page.locator("article img").count() > 0, "the tutorial shows its charts"
        assert image_problems(seen.page) == []
        assert [url for url in seen.requests if not url.startswith(root)] == []
        assert not seen.problems
        assert search(seen.page, ENGINES[0], segment_word(offline_site))
        assert not seen.problems


# --- the calculator of a report: type a published customer's values, read the published segment ---------


PER_SEGMENT = 3  # published customers typed in per segment: the first, the middle and the last of each


def customers(site: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The report's segments.json, and a few published customers of every segment."""
    folder = site / "reports" / REPORT
    result = json.loads((folder / "segments.json").read_text(encoding="utf-8"))
    rows = pd.read_csv(folder / "assignments.csv")
    picked = [group.iloc[sorted({0, len(group) // 2, len(group) - 1})[:PER_SEGMENT]]
              for _, group in rows.groupby("segment")]
    return result, pd.concat(picked)


def type_and_read(page: Page, result: dict[str, Any], rows: pd.DataFrame) -> list[str]:
    """Type each row into the calculator (each field found by its visible label); what does not match."""
    form = page.locator("form.segment-calculator")
    output = form.locator("output")
    expect(output).to_have_attribute("aria-live", "polite")
    names = {s["segment"]: s["name"] for s in result["segments"]}
    problems = []
    for _, row in rows.iterrows():
        for feature in result["features"]:
            box = form.get_by_label(result["labels"][feature], exact=True)
            expect(box).to_have_attribute("name", feature)
            box.fill(repr(float(row[feature])))
        segment = int(row["segment"])
        shown = output.get_attribute("data-segment")
        if shown != str(segment) or output.text_content() != f"Segment {segment}: {names[segment]}":
            problems.append(f"{row.to_dict()}: shows {shown} ({output.text_content()}), published {segment}")
    return problems


def test_typed_customers_get_their_published_segment(browser: Browser, site: Site) -> None:
    base = site.base
    result, rows = customers(site.folder)
    assert rows["segment"].nunique() == result["n_clusters"]
    with visit(browser, f"{base}reports/{REPORT}/") as seen:
        output = seen.page.locator("form.segment-calculator output")
        start = output.get_attribute("data-segment")
        assert type_and_read(seen.page, result, rows) == []
        seen.page.locator("form.segment-calculator input").first.fill("")
        expect(output).to_have_attribute("data-segment", "")
        expect(output).to_have_text("Enter a number in every field.")
        assert start in {str(s["segment"]) for s in result["segments"]}
        assert not seen.problems
        assert [url for url in seen.requests if not url.startswith(base)] == []


@pytest.mark.parametrize("width", [PHONE, 1280])  # with and without hover
@pytest.mark.parametrize("dataset", DATASETS)
def test_every_calculator_answers(browser: Browser, site: Site, dataset: str, width: int) -> None:
    """A published segment's centre, typed in, gets that segment."""
    result = json.loads((site.folder / "reports" / dataset / "segments.json").read_text(encoding="utf-8"))
    segment = next(s for s in result["segments"] if s.get("center"))
    with visit(browser, f"{site.base}reports/{dataset}/", width=width) as seen:
        assert seen.page.evaluate("matchMedia('(hover)').matches") == (width > PHONE)
        form = seen.page.locator("form.segment-calculator")
        for feature in result["features"]:
            form.locator(f"input[name={json.dumps(feature)}]").fill(repr(float(segment["center"][feature])))
        expect(form.locator("output")).to_have_attribute("data-segment", str(segment["segment"]))
        assert not seen.problems


def test_calculator_works_in_the_offline_copy(browser: Browser, offline_site: Path) -> None:
    root = offline_site.as_uri() + "/"
    result, rows = customers(offline_site)
    with visit(browser, f"{root}reports/{REPORT}/index.html", allow=lambda url: url.startswith(root)) as seen:
        assert type_and_read(seen.page, result, rows.head(2 * PER_SEGMENT)) == []
        assert not seen.problems
