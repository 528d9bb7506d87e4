"""In a real browser: every page loads cleanly and only from its own site, the widgets work, axe finds nothing.

The shipped site is built once, as test_site.py builds it, and served on 127.0.0.1; its offline copy
(OFFLINE=true) is built beside it and read from file://. One Chromium runs every check, each in a page of
its own. Debian's Chromium and the axe-core of package.json are prerequisites: without them
the tests fail and say what to install. No browser is ever downloaded.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Request, Response, Route, expect

from tests.conftest import AXE, ROOT, require_prerequisites
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
# Material makes a code block that scrolls sideways reachable by keyboard (tabindex="0") from a resize
# observer, a frame or more after the load event: axe waits for that, or it finds scrollable-region-focusable
# on the tutorial's wide code blocks. Blocks that never become reachable make the wait, and the test, fail.
CODE_REACHABLE_JS = """() => Array.from(document.querySelectorAll("pre > code"))
  .every((code) => code.scrollWidth <= code.clientWidth || code.tabIndex === 0)"""
ROWS_JS = "(table) => Array.from(table.tBodies[0].rows, (row) => Array.from(row.cells, (td) => td.textContent.trim()))"


class _QuietFiles(SimpleHTTPRequestHandler):
    """Static files without a log; a missing path gets 404.html with status 404, as a static host serves it."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


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
    """Open `url` in a fresh context `width` CSS pixels wide. A response of 400 or more is a problem unless it
    is `url` answering `status`; with `allow`, every request it refuses is aborted (and so fails, which is a
    problem too)."""
    context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": HEIGHT})
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


def search(page: Page, word: str) -> list[str]:
    """Type `word` into Material's search and wait for results; their links."""
    page.locator("input.md-search__input").click()
    page.keyboard.type(word)
    expect(page.locator(".md-search-result__item").first).to_be_visible()
    return [link.get_attribute("href") or "" for link in page.locator("a.md-search-result__link").all()]


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
    """`mkdocs build --strict` of a project into project/site, running in the background."""

    site: Path
    process: subprocess.Popen[str]

    @classmethod
    def start(cls, project: Path, **env: str) -> Build:
        site = project / "site"
        command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
        return cls(site, subprocess.Popen(command, cwd=project, env=os.environ | BUILD_ENV | env, text=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    def wait(self) -> Path:
        _, stderr = self.process.communicate(timeout=300)
        assert self.process.returncode == 0, stderr
        return self.site

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def offline_build(browser: Browser, tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Iterator[Build]:
    """The offline copy's build (OFFLINE=true turns on Material's offline plugin), started first so that it
    runs beside the shipped site's build; `offline_site` waits for it."""
    project = copy_project(tmp_path_factory.mktemp("offline") / "project", shared_cache)
    (project / "node_modules").symlink_to(ROOT / "node_modules")  # the iframe-worker shim, from npm
    build = Build.start(project, OFFLINE="true")
    yield build
    build.stop()


@pytest.fixture(scope="module")
def site(offline_build: Build, tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Path:
    """The shipped site, built once."""
    return Build.start(copy_project(tmp_path_factory.mktemp("browser") / "project", shared_cache)).wait()


@pytest.fixture(scope="module")
def offline_site(offline_build: Build) -> Path:
    return offline_build.wait()


@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    """The root URL of the site, served on 127.0.0.1 from a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def test_chromium_and_axe_are_installed() -> None:
    require_prerequisites()


# --- every page ------------------------------------------------------------------------------


def test_every_page_loads_cleanly_from_this_server_only(browser: Browser, site: Path, base: str) -> None:
    problems = []
    for path, status in pages(site):
        with visit(browser, base + path, status=status) as seen:
            found = image_problems(seen.page)
            seen.page.wait_for_load_state("networkidle")  # the search worker and its index load after the page
            if seen.status != status:
                found.append(f"answered {seen.status}, expected {status}")
            found += seen.problems + [f"request to another host: {url}"
                                      for url in seen.requests if not url.startswith(base)]
        problems += [f"/{path}: {problem}" for problem in found]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("scheme", "attribute"), [("light", "default"), ("dark", "slate")])
def test_no_accessibility_violations(browser: Browser, site: Path, base: str, scheme: Scheme, attribute: str,
                                     width: int) -> None:
    problems = []
    for path, status in pages(site):
        with visit(browser, base + path, status=status, scheme=scheme, width=width) as seen:
            expect(seen.page.locator("body")).to_have_attribute("data-md-color-scheme", attribute)
            assert seen.page.evaluate("window.innerWidth") == width
            problems += [f"/{path} ({scheme}, {width} px): {line}" for line in axe_violations(seen.page)]
    assert not problems, "\n".join(problems)


# --- what a reader does ----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "tabs"), [("tutorial/", ".tabbed-set")])
def test_content_tabs_switch(browser: Browser, base: str, path: str, tabs: str) -> None:
    with visit(browser, base + path) as seen:
        tab_set = seen.page.locator(tabs).first
        blocks = tab_set.locator(":scope > .tabbed-content > .tabbed-block")
        expect(blocks.nth(0)).to_be_visible()
        expect(blocks.nth(1)).to_be_hidden()
        tab_set.locator(":scope > .tabbed-labels > label").nth(1).click()
        expect(blocks.nth(1)).to_be_visible()
        expect(blocks.nth(0)).to_be_hidden()
        assert not seen.problems


def test_search_finds_a_segment_name(browser: Browser, site: Path, base: str) -> None:
    word = segment_word(site)
    with visit(browser, base) as seen:
        links = search(seen.page, word)
        assert any(link.startswith(f"{base}reports/") for link in links), (word, links)
        assert not seen.problems


def test_centroid_table_sorts_by_customers(browser: Browser, base: str) -> None:
    column = CENTROID_HEADER.index("Customers")
    with visit(browser, f"{base}reports/{REPORT}/") as seen:
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


# --- from the file system, with every other request blocked ----------------------------------


@pytest.mark.parametrize("dataset", DATASETS)
def test_single_file_report_works_from_disk_alone(browser: Browser, site: Path, dataset: str) -> None:
    report = site / "reports" / dataset / "report.html"
    assert report.is_file(), f"{report.relative_to(site)} was not built"
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
        assert search(seen.page, segment_word(offline_site))
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


def test_typed_customers_get_their_published_segment(browser: Browser, site: Path, base: str) -> None:
    result, rows = customers(site)
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


def test_calculator_works_in_the_offline_copy(browser: Browser, offline_site: Path) -> None:
    root = offline_site.as_uri() + "/"
    result, rows = customers(offline_site)
    with visit(browser, f"{root}reports/{REPORT}/index.html", allow=lambda url: url.startswith(root)) as seen:
        assert type_and_read(seen.page, result, rows.head(2 * PER_SEGMENT)) == []
        assert not seen.problems
