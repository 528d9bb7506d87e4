"""Pages: untrusted text made safe for Markdown, numbers for tables, and the generated pages.

The escaping functions are tested twice: as tables of input -> expected Markdown, and by
rendering their output with Python-Markdown and the extensions of `mkdocs.yml`, which is what a
reader finally gets. Generated pages are compared with golden files in `tests/golden/`;
`UPDATE_GOLDEN=1 pytest tests/test_pages.py` rewrites them (and still compares, so the run
shows what it wrote passes).
"""

from __future__ import annotations

import csv
import functools
import html
import importlib
import io
import os
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import build, formats, pages
from generator.build import generate
from generator.cache import FOLDER, FolderCache
from generator.config import OPTIONS
from tests.conftest import ROOT, TINY, MakeProject
from tests.test_data import EURO_LINES, euro_csv

GOLDEN = Path(__file__).resolve().parent / "golden"
# The project's templates, copied into every temporary project (the environment reads them
# from the project root).
TEMPLATES = {f"templates/{path.name}": path.read_text(encoding="utf-8")
             for path in sorted((ROOT / "templates").glob("*.md.j2"))}


def site_files(make_project: MakeProject, datasets: dict[str, str] | None = None) -> dict[str, bytes]:
    """Every generated file of a temporary project with `datasets` (default: the tiny one)."""
    root = make_project(datasets, TEMPLATES, cached=True)
    return {generated.path: generated.content for generated in generate(root, FolderCache(root / FOLDER))}


# --- Markdown as the site renders it ----------------------------------------------------


class _SiteLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, ignoring tags such as `!!python/name:` that the extension list does not need."""


_SiteLoader.add_multi_constructor("", lambda loader, suffix, node: None)


@functools.cache
def _extensions() -> tuple[tuple[str, ...], dict[str, dict[str, Any]]]:
    site = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_SiteLoader)  # noqa: S506
    names: list[str] = []
    configs: dict[str, dict[str, Any]] = {}
    for item in site["markdown_extensions"]:
        if isinstance(item, dict):
            ((name, config),) = item.items()
            configs[name] = config or {}
        else:
            name = item
        names.append(name)
    return tuple(names), configs


def to_html(markdown_text: str) -> str:
    """HTML of Markdown, through Python-Markdown with the site's extensions (as MkDocs does),
    after MkDocs' own removal of the YAML front matter."""
    names, configs = _extensions()
    markdown = importlib.import_module("markdown")  # MkDocs' own renderer; it ships no type hints
    body, _ = importlib.import_module("mkdocs.utils.meta").get_data(markdown_text)
    return str(markdown.markdown(body, extensions=list(names), extension_configs=configs))


def front_matter_title(markdown_text: str) -> str:
    """The page title MkDocs reads from the front matter."""
    _, meta = importlib.import_module("mkdocs.utils.meta").get_data(markdown_text)
    return str(meta["title"])


class Parsed(HTMLParser):
    """The tags of an HTML fragment with their attributes, its text, its h1 and its table rows."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text = ""
        self.h1 = ""
        self.rows: list[list[str]] = []  # every table row of the fragment, as cell texts
        self.code: list[str] = []  # the text of every <code> element
        self._open: list[str] = []
        self._cell: list[str] | None = None
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        self._open.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "code":
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._cell is not None:
            self._cell.append(data)
        if "h1" in self._open:
            self.h1 += data
        if "code" in self._open:
            self.code[-1] += data


DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
C0_AND_SPACE = "".join(map(chr, range(0x21)))


def assert_harmless(fragment: str) -> None:
    """No script, no event handler, no link or image a browser would run as script."""
    for tag, attrs in Parsed(fragment).tags:
        assert tag not in ("script", "iframe", "object", "embed", "svg", "style"), fragment
        for name, value in attrs.items():
            assert not name.lower().startswith("on"), f"event handler {name}={value!r} in {fragment}"
            # A browser's URL parser drops tabs and newlines anywhere, and leading controls and spaces.
            url = re.sub(r"[\t\n\r]", "", value).lstrip(C0_AND_SPACE).lower()
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert not url.startswith(DANGEROUS_SCHEMES), f"{name}={value!r} in {fragment}"


# --- text: untrusted text as literal inline Markdown ----------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Big spenders", "Big spenders"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"),
        ("Fish & chips", "Fish &amp; chips"),
        ("&amp;", "&amp;amp;"),
        ("*bold* and _em_", "\\*bold\\* and \\_em\\_"),
        ("[x](javascript:alert(1))", "\\[x\\]\\(javascript:alert\\(1\\)\\)"),
        ("a | b", "a \\| b"),
        ("{: .cls }", "\\{: \\.cls \\}"),
        ("{{ x }}", "\\{\\{ x \\}\\}"),
        ("`code`", "\\`code\\`"),
        ("# not a heading", "\\# not a heading"),
        ("back\\slash", "back\\\\slash"),
        ("one\ntwo\r\n  three\tfour", "one two three four"),
        ("  padded  ", "padded"),
        (42, "42"),
    ],
)
def test_text_escapes(value: object, expected: str) -> None:
    assert pages.text(value) == expected


HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "Fish & chips &copy; &#60;",
    "*bold* __strong__ `code` ~~gone~~",
    "[x](javascript:alert(1)) ![i](x.png) <https://example.org>",
    "a | b | c",
    "Total {: .cls onclick=alert(1) }",
    "{{ 7*7 }} {% raw %}",
    "line one\nline two\n\n- a list item",
    "# heading",
    "1. first",
    "- item",
    "+ item",
    "> quote",
    "!!! note",
    "??? note",
    '=== "tab"',
    "~~~ fence",
    "``` fence",
    "*[HTML]: abbreviation",
    "[^1]: footnote",
    "back\\slash\\",
    "    indented code",
]


@pytest.mark.parametrize("value", HOSTILE_TEXT)
def test_text_renders_as_exactly_the_text(value: str) -> None:
    """Whatever the value, the reader sees it literally, on one line, in one paragraph."""
    parsed = Parsed(to_html(pages.text(value)))
    assert [tag for tag, _ in parsed.tags] == ["p"], to_html(pages.text(value))
    assert parsed.text == " ".join(value.split())


# --- attribute: untrusted text inside a double-quoted HTML attribute ------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Segment 0", "Segment 0"),
        ('say "hi"', "say &quot;hi&quot;"),
        ("it's", "it&#x27;s"),
        ("a < b > c", "a &lt; b &gt; c"),
        ("R&D", "R&amp;D"),
        ("two\nlines", "two lines"),
        ('"><script>alert(1)</script>', "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
    ],
)
def test_attribute_escapes(value: str, expected: str) -> None:
    assert pages.attribute(value) == expected


@pytest.mark.parametrize("value", ['" onload="alert(1)', "' onerror='alert(1)", "a\" b='c' <d> & e"])
def test_attribute_stays_one_value(value: str) -> None:
    fragment = f'<p><img src="x.png" alt="{pages.attribute(value)}"></p>'
    (_, (_, img)) = Parsed(fragment).tags
    assert img == {"src": "x.png", "alt": value}


# --- author_markdown: the site author's Markdown, minus raw HTML and script links ----------


@pytest.mark.parametrize(
    "value",
    [
        "Annual spending of 440 clients.",
        "See [the data](https://example.org/data.csv) and the [tutorial](../../tutorial/index.md).",
        "**Bold**, *emphasis* and `code`.",
        "Data: [doi:10.24432/C5030X](https://doi.org/10.24432/C5030X), licensed\n"
        "[CC BY 4.0](https://creativecommons.org/licenses/by/4.0/).",
    ],
)
def test_author_markdown_keeps_markdown(value: str) -> None:
    assert pages.author_markdown(value) == value


def test_author_markdown_of_nothing_is_nothing() -> None:
    assert pages.author_markdown(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Fish & chips", "Fish &amp; chips"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
    ],
)
def test_author_markdown_turns_html_into_text(value: str, expected: str) -> None:
    assert pages.author_markdown(value) == expected


def test_author_markdown_links_keep_their_address() -> None:
    value = "[the data](https://example.org/d?a=1&b=2) and [tutorial](../../tutorial/index.md)"
    links = [attrs["href"] for tag, attrs in Parsed(to_html(pages.author_markdown(value) or "")).tags if tag == "a"]
    assert links == ["https://example.org/d?a=1&b=2", "../../tutorial/index.md"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("<script>alert(1)</script>", id="script"),
        pytest.param("<img src=x onerror=alert(1)>", id="img-onerror"),
        pytest.param("[x](javascript:alert(1))", id="javascript"),
        pytest.param("[x](JavaScript:alert(1))", id="javascript-case"),
        pytest.param("[x]( vbscript:msgbox(1))", id="vbscript"),
        pytest.param("![x](data:text/html;base64,PHNjcmlwdD4=)", id="data-image"),
        pytest.param("[x](data:text/html,<script>alert(1)</script>)", id="data-link"),
        pytest.param("[x](<javascript:alert(1)>)", id="angle-brackets"),
        pytest.param("<javascript:alert(1)>", id="autolink"),
        pytest.param("[x](&#106;avascript:alert(1))", id="entity"),
        pytest.param("[x][1]\n\n[1]: javascript:alert(1)", id="reference-definition"),
        pytest.param("[x]\n\n[x]: javascript:alert(1)", id="shortcut-reference"),
        pytest.param("[x](java\nscript:alert(1))", id="newline-in-scheme"),
        pytest.param('A paragraph.\n{: onclick="alert(1)" }', id="attr-list-paragraph"),
        pytest.param("[x](#){: onmouseover=alert(1) }", id="attr-list-link"),
    ],
)
def test_author_markdown_disarms(value: str) -> None:
    """Raw HTML, script links and event handlers: none reaches the page in any spelling."""
    disarmed = pages.author_markdown(value)
    assert disarmed is not None
    assert "<script" not in disarmed.lower()
    assert_harmless(to_html(disarmed))


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.4, "1,234"),
        (1234567.8, "1,234,568"),
        (-2500.6, "-2,501"),
        (1000.0, "1,000"),
        (48000.0, "48,000"),
        (999.4, "999.4"),
        (42.66, "42.7"),
        (10.5, "10.5"),
        (-12.34, "-12.3"),
        (31.0, "31"),
        (9.994, "9.99"),
        (0.4242, "0.42"),
        (-0.5, "-0.50"),
        (0.0, "0"),
    ],
)
def test_number(value: float, expected: str) -> None:
    """Whole numbers without decimals; else by magnitude: >= 1,000 none, >= 10 one, else two."""
    assert formats.number(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(999.96, "1,000"), (9.996, "10.0"), (-9.999, "-10.0")])
def test_number_that_rounds_up_to_the_next_magnitude_takes_its_decimals(value: float, expected: str) -> None:
    """A column never shows 1,000.0 beside 1,000 or 10.00 beside 10.0."""
    assert formats.number(value) == expected


@pytest.mark.parametrize(("share", "expected"), [(0.5, "50.0%"), (1.0, "100.0%"), (0.1234, "12.3%"), (0.0, "0.0%")])
def test_percent(share: float, expected: str) -> None:
    assert formats.percent(share) == expected


@pytest.mark.parametrize(
    ("write", "value", "expected"),
    [
        (formats.count, 1234567, "1,234,567"),
        (formats.count, 0, "0"),
        (formats.fewer_than, 10, "< 10"),
        (formats.tenths, 42.46, "42.5"),  # a tutorial cell: one decimal, as its code rounds
        (formats.tenths, 1234.0, "1,234"),
        (formats.tenths, -0.25, "-0.2"),
        (formats.points, 0.02, "2"),  # percentage points
        (formats.points, 0.125, "12.5"),
        (formats.duration, 12.34, "12.3 s"),
        (formats.duration, 1234.5, "1,234.5 s"),
        (formats.byte, 0xA0, "0xa0"),
        (formats.byte, 9, "0x09"),
        (formats.exact, 2.0, "2"),  # a constant of the rules, as written in the code
        (formats.exact, 0.25, "0.25"),
        (formats.exact, -1234.5, "-1,234.5"),
    ],
)
def test_formats_writes_each_kind_of_number(write: Callable[[Any], str], value: float, expected: str) -> None:
    assert write(value) == expected


# --- golden files -----------------------------------------------------------------------


def without_versions(page: str) -> str:
    """The page with each version on its "Software: ..." line replaced by `<version>`.

    That line names the libraries that computed the report and changes with every upgrade;
    the golden file pins the names, not the versions.
    """

    def placeholder(match: re.Match[str]) -> str:
        entries = match.group(1).split(", ")
        return "Software: " + ", ".join(entry.rsplit(" ", 1)[0] + " <version>" for entry in entries) + "."

    return re.sub(r"^Software: (.*)\.$", placeholder, page, flags=re.MULTILINE)


def assert_golden(name: str, text: str) -> None:
    """`text` equals tests/golden/<name>; with UPDATE_GOLDEN=1 the file is rewritten first."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode())
    assert path.exists(), f"{path} is missing: run UPDATE_GOLDEN=1 pytest {Path(__file__).name}"
    assert text == path.read_bytes().decode(), f"{name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)"


def test_without_versions() -> None:
    line = "Software: generator 0\\.1\\.0, scikit\\-learn 1\\.9\\.1, matplotlib 3\\.11\\.2.\n"
    assert without_versions("a\n" + line) == (
        "a\nSoftware: generator <version>, scikit\\-learn <version>, matplotlib <version>.\n")


def test_report_page_golden(make_project: MakeProject) -> None:
    page = site_files(make_project)["reports/tiny/index.md"].decode()
    assert re.search(r"^Software: .*scikit\\?-learn \S", page, flags=re.MULTILINE), "the page names its software"
    assert_golden("tiny-report.md", without_versions(page))


def test_no_template_prints_a_float_of_its_own(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every number on a page goes through formats (pages hand templates text): a float a template prints
    as it is (0.75, 0.30000000000000004) escaped it. Whole numbers may be identifiers (segment 2, k = 3)."""
    printed: list[object] = []

    def shown(value: object) -> object:
        printed.append(value)
        return value

    def environment(root: Path) -> Any:
        env = pages.environment(root)
        env.finalize = shown
        return env

    monkeypatch.setattr(build, "environment", environment)
    files = site_files(make_project)
    assert {"reports/tiny/index.md", "reference/configuration.md", "tutorial/index.md"} <= set(files)
    assert printed
    assert [value for value in printed if isinstance(value, float)] == []


def test_reports_index_golden(make_project: MakeProject) -> None:
    assert_golden("reports-index.md", site_files(make_project)["reports/index.md"].decode())


def test_reference_page_golden(make_project: MakeProject) -> None:
    assert_golden("configuration-reference.md", site_files(make_project)["reference/configuration.md"].decode())


def test_fixed_n_clusters_is_reported_as_fixed(make_project: MakeProject) -> None:
    """TINY fixes n_clusters: 2, so the page and the reports index must not say k was chosen."""
    files = site_files(make_project)
    for path in ("reports/tiny/index.md", "reports/index.md"):
        page = files[path].decode()
        assert "2 segments \\(fixed;" in page, path
        assert "chosen by" not in page.split("## How it was computed")[0], path


def test_reference_page_documents_every_option(make_project: MakeProject) -> None:
    page = site_files(make_project, {})["reference/configuration.md"].decode()
    for option in OPTIONS:
        assert f"| `{option.key}` |" in page, f"{option.key} is not on the reference page"
        assert option.doc in page


def test_reports_index_without_datasets_says_how_to_add_one(make_project: MakeProject) -> None:
    assert "site_config/datasets/" in site_files(make_project, {})["reports/index.md"].decode()


# --- hostile names ------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
JINJA = "{{ 7*7 }}"
RAW = "{% raw %}"
LINK = "[x](javascript:alert(1))"
FEATURES = (SCRIPT, f"{JINJA}|{RAW}", f"a|b \\| {LINK}")
LABEL = f"{RAW} {SCRIPT} | label"
NAMES = {0: f"{SCRIPT} | {JINJA}", 1: f"{LINK} {RAW}"}
TITLE = f"{SCRIPT} {JINJA} {RAW} | {LINK}"
IDS = [SCRIPT, JINJA, RAW, "|", LINK, "f"]
HOSTILE = {
    "title": TITLE,
    "description": f"Hello {SCRIPT} {LINK} {JINJA} {RAW}",
    "data": {
        LINK: IDS,
        FEATURES[0]: [1, 2, 3, 10, 11, 12],
        FEATURES[1]: [1, 1, 2, 10, 11, 10],
        FEATURES[2]: [5, 6, 5, 6, 5, 6],
    },
    "id_column": LINK,
    "features": list(FEATURES),
    "labels": {FEATURES[2]: LABEL},
    "names": NAMES,
    "n_clusters": 2,
    "publish_rows": True,  # the hostile ids must come through the download as text
    "suppress_below": 0,  # and the hostile names through every table of statistics
}


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table row: split at every `|` that no backslash escapes."""
    cells, cell, escaped = [], "", False
    for char in line.strip():
        if escaped:
            cell, escaped = cell + char, False
        elif char == "\\":
            cell, escaped = cell + char, True
        elif char == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += char
    cells.append(cell)
    assert cells[0] == "", f"a row starts with |: {line}"
    assert cells[-1] == "", f"a row ends with an unescaped |: {line}"
    return cells[1:-1]


def test_split_row() -> None:
    assert split_row("| a | b \\| c | d\\\\ |") == [" a ", " b \\| c ", " d\\\\ "]


@pytest.fixture
def hostile(make_project: MakeProject) -> dict[str, bytes]:
    return site_files(make_project, {"hostile": yaml.safe_dump(HOSTILE, sort_keys=False, allow_unicode=True)})


def centroid_table(page: str) -> list[str]:
    """The lines of the centroid table: from its header to the first line that is not a row."""
    lines = page.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Segment |"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def test_hostile_names_stay_text_in_the_markdown(hostile: dict[str, bytes]) -> None:
    page = hostile["reports/hostile/index.md"].decode()
    assert "<script" not in page.lower()
    assert f"\n# {pages.text(TITLE)}\n" in page
    # MkDocs and the theme put the front-matter title into <title>, the nav and the search
    # index unescaped: it must arrive HTML-escaped, and read back as the title.
    assert front_matter_title(page) == html.escape(TITLE, quote=False)
    assert html.unescape(front_matter_title(page)) == TITLE
    header, _, *rows = centroid_table(page)
    names = [split_row(row)[1].strip() for row in rows[:2]]
    assert names == [pages.text(NAMES[0]), pages.text(NAMES[1])]
    lines = page.splitlines()
    placed = {  # where {{ 7*7 }} went; none of these lines holds a number of its own
        "title": next(line for line in lines if line.startswith("# ")),
        "table header": header,
        "segment 0": names[0],
        "features": next(line for line in lines if line.startswith("- Clustered on")),
        "description": next(line for line in lines if line.startswith("Hello")),
    }
    for where, line in placed.items():
        assert JINJA in line or pages.text(JINJA) in line or str(pages.author_markdown(JINJA)) in line, where
        assert "49" not in line, f"{{{{ 7*7 }}}} was evaluated in the {where}: {line}"


def test_hostile_names_keep_the_centroid_table_in_shape(hostile: dict[str, bytes]) -> None:
    table = centroid_table(hostile["reports/hostile/index.md"].decode())
    assert len(table) == 2 + 2 + 1, "header, alignment, two segments, all customers"
    assert [len(split_row(line)) for line in table] == [4 + len(FEATURES)] * len(table), table


def test_hostile_names_read_literally_on_the_rendered_page(hostile: dict[str, bytes]) -> None:
    rendered = to_html(hostile["reports/hostile/index.md"].decode())
    assert_harmless(rendered)
    parsed = Parsed(rendered)
    assert parsed.h1.rstrip("\u00b6") == TITLE
    start = next(i for i, row in enumerate(parsed.rows) if row[:4] == ["Segment", "Name", "Customers", "Share"])
    header, *body = parsed.rows[start: start + 1 + 2 + 1]
    assert header == ["Segment", "Name", "Customers", "Share", FEATURES[0], FEATURES[1], LABEL]
    assert [row[:2] for row in body] == [["0", NAMES[0]], ["1", NAMES[1]], ["", "All customers"]]
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    assert all(attrs["alt"] for attrs in images)
    named = [attrs["alt"] for attrs in images
             if attrs["src"].split("#")[0] in ("segments.png", "pca.png", "profiles.png")]
    assert len(named) == 3
    assert all(NAMES[0] in alt and NAMES[1] in alt for alt in named)


def test_hostile_ids_are_published_as_they_are(hostile: dict[str, bytes]) -> None:
    rows = list(csv.reader(io.StringIO(hostile["reports/hostile/assignments.csv"].decode())))
    assert rows[0][0] == LINK
    assert [row[0] for row in rows[1:]] == IDS


def test_labelled_feature_is_named_verbatim(make_project: MakeProject) -> None:
    """A feature shown under a label is also named as it is in the data, without escapes."""
    dataset = TINY.replace("  x:", "  Spend_Total:").replace("[x, y]", "[Spend_Total, y]")
    dataset += "labels:\n  Spend_Total: Total spend\n"
    rendered = Parsed(to_html(site_files(make_project, {"tiny": dataset})["reports/tiny/index.md"].decode()))
    assert "Total spend" in rendered.text
    assert "Spend_Total" in rendered.text
    assert "Spend\\_Total" not in rendered.text


def test_a_european_table_is_shown_as_written(make_project: MakeProject) -> None:
    """A ';'-separated Windows-1252 table: its header as written, and how it was read, in "The data"."""
    dataset = "title: Kunden\nsource: content/data/kunden.csv\n" + "\n".join(EURO_LINES) + "\n"
    root = make_project({"kunden": dataset}, {**TEMPLATES, "content/data/kunden.csv": euro_csv()}, cached=True)
    files = {generated.path: generated.content for generated in generate(root, FolderCache(root / FOLDER))}
    rendered = Parsed(to_html(files["reports/kunden/index.md"].decode()))
    assert "Clustered on: Umsatz (€), Punkte, Rabatt" in rendered.text
    assert "Read as: ';'-separated, decimal comma, '.' between thousands, Windows-1252" in rendered.text


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2.0, 11.0, 6.5], ["2.0", "11.0", "6.5"]),  # one decimals rule per column, by its largest
        ([0.5, 0.25], ["0.50", "0.25"]),
        ([1200.4, 35.25], ["1,200", "35"]),
        ([3.0, 40.0], ["3", "40"]),  # whole numbers stay whole
    ],
)
def test_column_shares_its_decimals(values: list[float], expected: list[str]) -> None:
    assert formats.column(values) == expected
