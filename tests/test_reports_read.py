"""What the reports say, read off a real build of the shipped site plus small test datasets.

One `mkdocs build --strict` of a copy of the shipped project, with three datasets added: an
RFM-like table whose best-separated, stable k holds a 1.8% segment (once with the default
`min_segment_share`, once with a floor that admits it) and the tiny fixed-k table. Checked:
every recommendation and structure sentence against segments.json, sentences that start with a
capital and are never glued, and every centre reading the same wherever a page shows it.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from generator.build import analyse
from generator.config import DatasetConfig
from generator.data import Table
from generator.formats import number
from generator.model import segment
from generator.pages import environment, report_page
from generator.recommendation import REASONS, STABLE_ARI
from tests.conftest import ROOT, TINY
from tests.test_site import copy_project, mkdocs_build, tables_of

RFM_SHARE = 0.018  # the share of the small, stable, well separated segment


def rfm_frame(rows: int = 1000, seed: int = 1) -> pd.DataFrame:
    """Two overlapping groups of ordinary customers and 1.8% far apart: k = 2 is unstable (it
    either splits the ordinary customers or sets the small group apart), k = 3 stable and the best
    separated, with a segment of 1.8% of customers."""
    rng = np.random.default_rng(seed)
    small = round(rows * RFM_SHARE)
    big = rows - small
    blocks = [rng.normal([0.0, 0.0], 1.0, size=(big // 2, 2)), rng.normal([4.0, 0.0], 1.0, size=(big - big // 2, 2)),
              rng.normal([2.0, 15.0], 0.4, size=(small, 2))]
    values = np.vstack(blocks) + 10
    return pd.DataFrame({"recency": values[:, 0].round(3), "monetary": values[:, 1].round(3)})


RFM_CONFIG = """\
title: RFM {title}
source: content/data/rfm.csv
features: [recency, monetary]
n_clusters: [2, 4]
"""
EXTRA = {
    "rfm-default": RFM_CONFIG.format(title="with the default floor"),
    "rfm-admitted": RFM_CONFIG.format(title="with a lower floor") + "min_segment_share: 0.015\n",
    "tiny": TINY,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> Path:
    project = copy_project(tmp_path_factory.mktemp("reading") / "project", shared_cache)
    rfm_frame().to_csv(project / "content" / "data" / "rfm.csv", index=False)
    for name, text in EXTRA.items():
        (project / "site_config" / "datasets" / f"{name}.yml").write_text(text, encoding="utf-8")
    result = mkdocs_build(project, project / "site")
    assert result.returncode == 0, result.stderr
    return project / "site"


def report_ids(site: Path) -> list[str]:
    return sorted(path.parent.name for path in (site / "reports").glob("*/segments.json"))


# --- the text of a page -------------------------------------------------------------------------

BLOCKS = {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "div", "figcaption", "br", "tr", "section",
          "article", "nav", "header", "footer", "label", "summary", "details", "dt", "dd", "blockquote", "option",
          "button", "table", "ul", "ol", "figure", "aside", "form", "output"}
SKIPPED = {"script", "style", "code", "pre", "svg", "kbd", "samp"}


class _Text(HTMLParser):
    """A page's readable text (code, scripts and styles left out), one line per block, with image alt texts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.alts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self._skipping += 1
        elif tag in BLOCKS:
            self.parts.append("\n")
        elif tag == "img":
            self.alts.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)
        elif not self.parts or self.parts[-1] != "Code":
            self.parts.append("Code")  # code in a sentence stands for a word, whatever its case


def readable(page: Path) -> list[str]:
    """The lines of text and the alt texts of a page."""
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return [line for line in lines + parser.alts if line]


# A full stop after a word, a space, then a lower-case letter: a sentence that starts in lower case.
LOWER_START = re.compile(r"\b([A-Za-z]{2,})\. +([a-z]\w*)")
ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf", "approx"}
# A word, a full stop and a capitalised word with no space between: two glued sentences.
GLUED = re.compile(r"\b[a-z]{2,}[.!?)][A-Z][a-z]")


def sentence_problems(lines: list[str]) -> list[str]:
    problems = []
    for line in lines:
        for match in LOWER_START.finditer(line):
            if match.group(1).lower() not in ABBREVIATIONS and not line[: match.start()].endswith(("e.", "i.")):
                problems.append(f"lower-case start: ...{line[max(0, match.start() - 40): match.end() + 20]}...")
        problems += [f"glued: ...{line[max(0, m.start() - 40): m.end() + 20]}..." for m in GLUED.finditer(line)]
    return problems


def test_the_checks_catch_what_they_look_for() -> None:
    assert sentence_problems(["See the configuration page.Stability was measured."]) != []
    assert sentence_problems(["Segment 0 is large. recency lower than average."]) != []
    assert sentence_problems(["Stable, e.g. here. The end, see segments.json for more."]) == []


def test_no_page_has_a_lower_case_sentence_start_or_glued_sentences(built: Path) -> None:
    pages = sorted(built.rglob("*.html"))
    assert len(pages) > 5
    found = [f"{page.relative_to(built)}: {problem}" for page in pages for problem in sentence_problems(readable(page))]
    assert found == []


# --- the recommendation and the structure verdict against segments.json ------------------------


def test_every_recommendation_agrees_with_its_numbers(built: Path) -> None:
    ids = report_ids(built)
    assert {"wholesale-customers", "rfm-default", "rfm-admitted", "tiny"} <= set(ids)
    for report in ids:
        document = json.loads((built / "reports" / report / "segments.json").read_text(encoding="utf-8"))
        choice, candidates = document["recommendation"], {c["k"]: c for c in document["candidates"]}
        floor = choice["min_segment_share"]
        chosen = candidates[choice["k"]]

        def stable(c: dict[str, float]) -> bool:
            return c["stability"] is None or c["stability"] >= STABLE_ARI

        def dissolved(c: dict[str, float]) -> bool:
            return c["min_jaccard"] is not None and c["min_jaccard"] < 0.5

        whole = [c for c in candidates.values() if not dissolved(c)] or list(candidates.values())
        assert not dissolved(chosen) or all(dissolved(c) for c in candidates.values()), report
        assert sorted(choice["dissolved"]) == sorted(c["k"] for c in candidates.values() if c not in whole), report
        large = [c for c in whole if c["min_share"] >= floor]
        expected_rule = ("stable" if any(stable(c) for c in large) else "none stable" if large else "all small")
        assert choice["rule"] == expected_rule, report
        reason = choice["reason"] if not choice["fixed"] else choice["reason"].split("would recommend ", 1)[1]
        if expected_rule != "all small":
            pool = [c for c in large if stable(c)] if expected_rule == "stable" else large
            best = max(pool, key=lambda c: (c["silhouette"], -c["k"]))
            # A smaller k within one standard deviation of the best k's refit silhouettes is preferred.
            noise = best["silhouette_spread"] or 0.0
            close = [c for c in pool if c["k"] < best["k"] and best["silhouette"] - c["silhouette"] < noise]
            expected = min(close, key=lambda c: c["k"]) if close else best
            assert choice["k"] == expected["k"], report
            assert choice["best_separated"] == (best["k"] if close else None), report
            assert ("the smaller k is preferred" in reason) == bool(close), report
        for k in choice["dissolved"]:
            named = f"k = {k} (silhouette {candidates[k]['silhouette']:.3f}, lowest Jaccard agreement " \
                    f"{candidates[k]['min_jaccard']:.2f})"
            assert (named in reason) == (candidates[k]["silhouette"] > chosen["silhouette"]), (report, reason)
        assert not re.search(r"no k in the range gave stable", reason)
        if expected_rule == "none stable":
            assert not any(stable(c) for c in large), report
        # Passed over: stable, under the floor, and would have outranked the recommended k.
        passed = {p["k"]: p for p in choice["passed_over"]}
        for k, c in candidates.items():
            outranks = c["silhouette"] > chosen["silhouette"] or expected_rule == "none stable"
            should = c in whole and c["min_share"] < floor and stable(c) and k != choice["k"] and outranks
            assert (k in passed) == should, (report, k)
            if should:
                assert passed[k]["better_separated"] == (c["silhouette"] > chosen["silhouette"])
                assert f"The stable k = {k} (stability {c['stability']:.2f})" in reason, (report, reason)
        lines = readable(built / "reports" / report / "index.html")
        for k in passed:
            assert f"k = {k} (passed over)" in lines, (report, k)  # the title of its map


def test_every_structure_verdict_names_the_tests_its_numbers_fail(built: Path) -> None:
    for report in report_ids(built):
        document = json.loads((built / "reports" / report / "segments.json").read_text(encoding="utf-8"))
        silhouette, reference, ari = document["silhouette"], document["reference_silhouette"], document["stability"]
        spread = document["reference_spread"]
        # The reference reaches its mean plus two standard deviations of its draws, at least 0.05.
        reach = max(0.05, 2 * spread) if spread is not None else 0.05
        reasons = set(document["structure_reasons"])
        assert reasons <= set(REASONS)
        assert (document["structure"] == "clear") == (not reasons), report
        if document["structure"] == "weak":
            assert ("unstable" in reasons) == (ari is not None and ari < STABLE_ARI), report
            assert ("moderate silhouette" in reasons) == (silhouette <= 0.5), report
            assert ("small gap" in reasons) == (reference is not None and silhouette - reference < 2 * reach), report
        small = min(s["share"] for s in document["segments"]) < document["recommendation"]["min_segment_share"]
        if document["structure"] == "weak":
            assert ("small segments" in reasons) == small, report
        if document["structure"] == "none":
            assert reasons & {"low silhouette", "like structureless data", "no silhouette"}, report
            assert ("like structureless data" in reasons) == (reference is not None and silhouette is not None
                                                             and silhouette - reference < reach), report
        if document["structure"] == "clear":
            assert silhouette > 0.5, report
            assert reference is None or silhouette - reference >= 2 * reach, report
        lines = readable(built / "reports" / report / "index.html")
        assert ("A few extreme customers" in lines) == small, report
        blames_stability = any("adjusted Rand index of only" in line for line in lines)
        assert blames_stability == ("unstable" in reasons), report


def test_wholesale_names_the_stable_k_refused_for_the_floor(built: Path) -> None:
    """The shipped wholesale data: k = 5 is stable (0.77) but holds one customer in a segment."""
    document = json.loads((built / "reports" / "wholesale-customers" / "segments.json").read_text(encoding="utf-8"))
    passed = {p["k"] for p in document["recommendation"]["passed_over"]}
    stable_small = {c["k"] for c in document["candidates"]
                    if c["stability"] >= STABLE_ARI and c["min_share"] < 0.05}
    assert stable_small
    assert passed == stable_small
    assert "min_segment_share" in document["recommendation"]["reason"]


# --- the RFM case -------------------------------------------------------------------------------


def test_rfm_small_stable_segment_is_passed_over_by_default_and_shown(built: Path) -> None:
    document = json.loads((built / "reports" / "rfm-default" / "segments.json").read_text(encoding="utf-8"))
    candidates = {c["k"]: c for c in document["candidates"]}
    assert candidates[2]["stability"] < STABLE_ARI <= candidates[3]["stability"]  # the premise
    assert candidates[3]["silhouette"] > candidates[2]["silhouette"]
    assert candidates[3]["min_share"] == pytest.approx(RFM_SHARE)
    choice = document["recommendation"]
    assert (choice["k"], choice["rule"]) == (2, "none stable")
    (passed,) = [p for p in choice["passed_over"] if p["k"] == 3]
    assert passed["better_separated"] is True
    lines = readable(built / "reports" / "rfm-default" / "index.html")
    assert any("The stable k = 3" in line and "better separated" in line and "1.8%" in line for line in lines)
    assert any(line == "k = 3 (passed over)" for line in lines)


def test_rfm_small_stable_segment_is_recommended_when_the_floor_allows_it(built: Path) -> None:
    document = json.loads((built / "reports" / "rfm-admitted" / "segments.json").read_text(encoding="utf-8"))
    choice = document["recommendation"]
    assert (choice["k"], choice["rule"], choice["min_segment_share"]) == (3, "stable", 0.015)
    assert document["n_clusters"] == 3
    assert min(s["share"] for s in document["segments"]) == pytest.approx(RFM_SHARE)


# --- segment names against segments.json ---------------------------------------------------------


def meaning(name: str) -> frozenset[tuple[str, str]]:
    """What a generated name says, whatever the order of its words: (direction, feature word) pairs."""
    said = set()
    for group in name.lower().split(", "):
        direction, _, nouns = group.partition(" ")
        said |= {(direction, noun) for noun in nouns.split(" and ")} if nouns else {(direction, "")}
    return frozenset(said)


def test_no_two_names_say_the_same_and_average_means_within_a_quarter_sd(built: Path) -> None:
    for report in report_ids(built):
        document = json.loads((built / "reports" / report / "segments.json").read_text(encoding="utf-8"))
        names = [s["name"] for s in document["segments"]]
        said = [meaning(name) for name in names]
        assert len(set(said)) == len(said), (report, names)
        mean, sd = document["overall_mean"], document["overall_sd"]
        for s in document["segments"]:
            near = all(abs(s["center"][f] - mean[f]) < 0.25 * sd[f] for f in document["features"] if sd[f] > 0)
            assert s["name"].startswith("Average customers") == near, (report, s["name"], s["center"])
            # Names read as words: no label with its unit ("Spend ($)"), no column header.
            assert not any(label in s["name"] for label in document["labels"].values() if "(" in label), report


# --- one number, one reading --------------------------------------------------------------------


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alts: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img" and found.get("src"):
            self.alts.setdefault(str(found["src"]).split("#")[0], found.get("alt") or "")


@pytest.mark.parametrize("report", ["wholesale-customers", "tutorial-customers", "rfm-default", "tiny"])
def test_every_centre_reads_the_same_wherever_the_page_shows_it(built: Path, report: str) -> None:
    page = built / "reports" / report / "index.html"
    tables = tables_of(page)
    centroid = next(t for t in tables if t[0][:4] == ["Segment", "Name", "Customers", "Share"])
    header, rows = centroid[0], [row for row in centroid[1:] if row[0]]  # the last row is all customers
    shown = {(int(row[0]), name): row[i] for row in rows for i, name in enumerate(header) if i >= 4}
    images = _Images()
    images.feed(page.read_text(encoding="utf-8"))
    document = json.loads((built / "reports" / report / "segments.json").read_text(encoding="utf-8"))
    k = document["n_clusters"]
    checked = 0
    # The main map's data table, its alt text, and the chosen k's map: the same text as the centroid table.
    for table in tables:
        if table[0][:3] == ["Segment", "Name", "Customers"] and table[0][3].startswith("Centre: "):
            axes = [name.removeprefix("Centre: ") for name in table[0][3:5]]
            if axes[0] == "PC1":
                continue
            for row in table[1:]:
                for axis, cell in zip(axes, row[3:5], strict=True):
                    assert cell == shown[(int(row[0]), axis)], (report, row, axis)
                    checked += 1
            alt = images.alts["segments.png"]
            for s in range(k):
                expected = f"centre at {axes[0]} {shown[(s, axes[0])]}, {axes[1]} {shown[(s, axes[1])]}."
                assert expected in alt, (report, expected)
                checked += 1
            chosen_alt = images.alts["candidates.png"].split(f"Segment map for k = {k}:")[1].split("Segment map")[0]
            for s in range(k):
                centre = f"centre at {axes[0]} {shown[(s, axes[0])]}, {axes[1]} {shown[(s, axes[1])]}."
                segment_text = re.search(rf"Segment {s}: [^.]*?, {re.escape(centre)}", chosen_alt)
                assert segment_text is not None, (report, s, chosen_alt)
    assert checked >= 3 * k
    # The profile text's indices read as the index table's.
    index = next(t for t in tables if t[0][:2] == ["Segment", "Name"] and "Customers" not in t[0])
    lines = readable(page)
    for row in index[1:]:
        profile = next(line for line in lines if line.startswith(f"Segment {row[0]}: "))
        for value in re.findall(r"\(index ([\d,]+)\)", profile):
            assert value in row[2:], (report, profile, row)


# --- scale: log and the skew warning, rendered without MkDocs ----------------------------------


def test_skewed_features_get_a_warning_that_names_them_and_suggests_log() -> None:
    rng = np.random.default_rng(3)
    spend = np.round(rng.lognormal(3.7, 1.2, size=400), 2)  # median near 40, a long tail
    frame = pd.DataFrame({"spend": spend, "visits": np.round(rng.normal(10, 2, size=400), 1)})
    table = Table(features=frame, ids=None, rows_read=400, dropped={}, sha256="0" * 64, origin="t.csv")
    env = environment(ROOT)
    standard = analyse(DatasetConfig(id="s", path="s.yml", title="S", features=("spend", "visits")), table)
    (skew,) = standard.result.cautions.skewed
    assert skew.feature == "spend"
    assert skew.skewness > 2
    assert skew.skewness == pytest.approx(float(scipy.stats.skew(spend)), rel=1e-12)  # the population skewness
    assert skew.maximum == spend.max()
    assert skew.median == pytest.approx(np.median(spend))
    page = report_page(standard, env)
    assert "Heavily skewed features" in page
    assert "scale: log" in page
    # The maximum is one customer's own value: published only where every statistic is (suppress_below: 0).
    assert "maximum" not in page
    assert f"median {number(float(np.median(spend)))}" in page.replace("\\", "")
    shown = analyse(DatasetConfig(id="s", path="s.yml", title="S", features=("spend", "visits"), suppress_below=0),
                    table)
    assert f"maximum {number(spend.max())} against a median of {number(float(np.median(spend)))}" in report_page(
        shown, env).replace("\\", "")
    logged = analyse(DatasetConfig(id="s", path="s.yml", title="S", features=("spend", "visits"), scale="log"), table)
    assert logged.result.cautions.skewed == ()
    assert "Heavily skewed features" not in report_page(logged, env)


# --- a few extreme customers -------------------------------------------------------------------


def test_segments_of_a_few_extreme_customers_are_named_as_such_with_their_numbers() -> None:
    """Issue 21: on purchase logs, k = 5 with segments of 4 and 6 customers out of 3,500 was called clear."""
    rng = np.random.default_rng(4)
    bulk = rng.normal([50.0, 10.0], [10.0, 2.0], size=(600, 2))
    extreme = np.vstack([rng.normal([400.0, 12.0], 5.0, size=(4, 2)), rng.normal([60.0, 90.0], 3.0, size=(6, 2))])
    frame = pd.DataFrame(np.vstack([bulk, extreme]).round(2), columns=["spend", "orders"])
    table = Table(features=frame, ids=None, rows_read=len(frame), dropped={}, sha256="0" * 64, origin="t.csv")
    config = DatasetConfig(id="x", path="x.yml", title="X", features=("spend", "orders"), n_init=3)
    report = analyse(config, table)
    result = report.result
    assert result.evidence.choice.rule == "all small"
    assert result.structure != "clear"
    assert "small segments" in result.evidence.verdict.reasons
    page = report_page(report, environment(ROOT)).replace("\\", "")
    assert 'warning "A few extreme customers"' in page
    sizes = pd.Series(segment(table, config)[1]).value_counts()  # the segment of every customer
    small = sorted(int(s) for s in sizes.index if sizes[s] / len(frame) < config.min_segment_share)
    assert small
    for s in small:
        assert f"segment {s} holds {sizes[s]} customers ({sizes[s] / len(frame):.1%})" in page, page
    assert "`scale: log`" in page
    assert "`min_segment_share`" in page
