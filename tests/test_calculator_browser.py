"""The calculator of a report, in a real browser: type a published customer's values, read the published segment.

The shipped site is built once (and its offline copy beside it, read from file://), as tests/test_browser.py
builds them, with Debian's Chromium; no browser is ever downloaded.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import ROOT
from tests.test_browser import CHROMIUM, LAUNCH_ARGS, REPORT, Build, require_prerequisites, visit
from tests.test_site import copy_project

PER_SEGMENT = 3  # published customers typed in per segment: the first, the middle and the last of each


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_prerequisites()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def builds(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Build, Build]]:
    """The site and its offline copy (OFFLINE=true), built side by side."""
    offline = copy_project(tmp_path_factory.mktemp("calculator-offline") / "project")
    (offline / "node_modules").symlink_to(ROOT / "node_modules")  # the iframe-worker shim, from npm
    started = (Build.start(copy_project(tmp_path_factory.mktemp("calculator") / "project")),
               Build.start(offline, OFFLINE="true"))
    yield started
    for build in started:
        build.stop()


@pytest.fixture(scope="module")
def site(builds: tuple[Build, Build]) -> Path:
    return builds[0].wait()


@pytest.fixture(scope="module")
def offline_site(builds: tuple[Build, Build]) -> Path:
    return builds[1].wait()


@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


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
            field = form.get_by_label(result["labels"][feature], exact=True)
            expect(field).to_have_attribute("name", feature)
            field.fill(repr(float(row[feature])))
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
