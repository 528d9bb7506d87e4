"""rules: every segment as thresholds in original units, with the fidelity the published thresholds give."""

from __future__ import annotations

import functools
import io
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from generator.build import analyse, load
from generator.config import DatasetConfig, load_all
from generator.data import Table, load_table
from generator.downloads import segments_json
from generator.model import segment
from generator.pages import environment, report_page, text
from generator.results import Report
from generator.rules import explain, readable
from tests.conftest import ROOT, TINY, MakeProject

SHIPPED = sorted(path.stem for path in (ROOT / "site_config" / "datasets").glob("*.yml"))


@functools.cache
def shipped(dataset: str) -> tuple[Report, dict[str, Any], pd.DataFrame]:
    """A shipped dataset analysed as the build does: the report, its segments.json and assignments.csv."""
    (config,) = [c for c in load_all(ROOT) if c.id == dataset]
    report = analyse(replace(config, publish_rows=True), load(ROOT, config))  # assignments.csv written
    document = json.loads(segments_json(report))
    assert report.rows is not None
    rows = pd.read_csv(io.BytesIO(report.rows))
    return report, document, rows


def applied(rules: dict[str, Any], rows: pd.DataFrame) -> np.ndarray:
    """customers x rules: whether each published rule matches each row, its paths applied as written."""
    matches = []
    for rule in rules["segments"]:
        hit = np.zeros(len(rows), dtype=bool)
        for path in rule["paths"]:
            ok = np.ones(len(rows), dtype=bool)
            for c in path:
                values = rows[c["feature"]].to_numpy(dtype=float)
                ok &= values <= c["value"] if c["op"] == "<=" else values > c["value"]
            hit |= ok
        matches.append(hit)
    return np.column_stack(matches)


@pytest.mark.parametrize(
    ("threshold", "values", "expected"),
    [
        (6.5, [1, 2, 3, 10, 11], 6.0),  # one significant digit keeps every value on its side
        (1234.5, [1000, 2000], 1000.0),  # a value equal to the threshold stays at or below it
        (12345.5, [12345, 12346], 12345.5),  # nothing shorter lies between the neighbours
        (0.0255, [0.02, 0.031], 0.03),
        (-7.25, [-9, -7], -7.2),  # -7 would put the customer at -7 on the other side
        (3.5, [], 4.0),  # no customer reaches the split: any value does
    ],
)
def test_readable_keeps_every_side(threshold: float, values: list[float], expected: float) -> None:
    found = readable(threshold, np.array(values, dtype=float))
    assert found == expected
    assert all((v <= found) == (v <= threshold) for v in values)


def test_two_groups_give_one_threshold(make_project: MakeProject) -> None:
    root = make_project({"tiny": TINY})
    (config,) = load_all(root)
    rules = analyse(config, load_table(root, config)).rules
    assert rules is not None
    assert rules.fidelity == 1.0
    (first,), (second,) = (rule.paths for rule in rules.segments)
    (one,), (other,) = first, second
    # x is 1, 2, 3 | 10, 11, 12 and y is 1, 1, 2 | 10, 11, 10: either splits them, at 6.5 or 6, read as 6.
    assert one.feature == other.feature
    assert {one.op, other.op} == {"<=", ">"}
    assert one.value == other.value == 6.0
    assert {rule.text for rule in rules.segments} == {f"{one.feature} <= 6", f"{one.feature} > 6"}


def direct(frame: pd.DataFrame, **options: Any) -> tuple[DatasetConfig, Table]:
    config = DatasetConfig(id="direct", path="site_config/datasets/direct.yml", title="Direct",
                           features=tuple(frame.columns), **({"suppress_below": 0} | options))
    table = Table(features=frame, ids=None, rows_read=len(frame), dropped={}, sha256="f" * 64, origin="direct")
    return config, table


def test_a_segment_no_leaf_gives_has_no_paths() -> None:
    # Customers 2 and 3 are alike, but 3 is put in segment 2: no threshold can tell them apart.
    frame = pd.DataFrame({"x": [1.0, 1.0, 1.0, 10.0, 11.0, 12.0], "y": [1.0, 1.0, 1.0, 10.0, 10.0, 10.0]})
    config, table = direct(frame, n_clusters=2)
    result, _ = segment(table, config)
    labels = np.array([0, 0, 2, 1, 1, 1])
    third = replace(result.segments[1], number=2, size=1, share=1 / 6)
    rules = explain(table, replace(result, segments=(*result.segments, third)), labels, config)
    assert rules is not None
    assert rules.segments[2].paths == ()
    assert rules.segments[2].text.startswith("No simple rule describes this segment")
    assert rules.segments[2].fidelity == 0.0
    assert rules.fidelity == pytest.approx(5 / 6)
    assert [r.matched for r in rules.segments] == [3, 3, 0]


def test_rows_in_another_order_give_the_same_rules() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.gamma(2.0, 1000.0, size=(150, 3)), columns=["a", "b", "c"])
    config, table = direct(frame, n_clusters=4)
    result, labels = segment(table, config)
    order = rng.permutation(len(frame))
    moved = replace(table, features=frame.iloc[order].reset_index(drop=True))
    first = explain(table, result, labels, config)
    second = explain(moved, result, labels[order], config)
    assert first is not None
    assert second == first


def test_low_fidelity_is_said_on_the_page() -> None:
    report = shipped("tutorial-customers")[0]
    assert report.rules is not None
    env = environment(ROOT)
    good = report_page(report, env)
    poor = report_page(replace(report, rules=replace(report.rules, fidelity=0.55)), env)
    assert "not well described by simple thresholds" not in good
    assert "not well described by simple thresholds" in poor
    assert "put only 55.0% of customers in their own segment" in poor


@pytest.mark.parametrize("dataset", SHIPPED)
def test_published_rules_match_every_customer_once_with_the_stated_fidelity(dataset: str) -> None:
    _, document, rows = shipped(dataset)
    rules = document["rules"]
    assert [r["segment"] for r in rules["segments"]] == list(range(document["n_clusters"]))
    for rule in rules["segments"]:
        for path in rule["paths"]:
            assert all(c["op"] in {"<=", ">"} and c["feature"] in document["features"] for c in path)
            assert len({(c["feature"], c["op"]) for c in path}) == len(path), "one bound per feature and side"
    matches = applied(rules, rows)
    assert (matches.sum(axis=1) == 1).all(), "every customer matches exactly one rule"
    given = np.array([r["segment"] for r in rules["segments"]])[matches.argmax(axis=1)]
    own = rows["segment"].to_numpy()
    assert abs(float((given == own).mean()) - rules["fidelity"]) < 0.001
    for rule in rules["segments"]:
        mine = own == rule["segment"]
        assert abs(float((given[mine] == rule["segment"]).mean()) - rule["fidelity"]) < 0.001
        assert rule["matched"] == int((given == rule["segment"]).sum())


@pytest.mark.parametrize("dataset", SHIPPED)
def test_each_rule_stands_beside_its_segment_on_both_pages(dataset: str) -> None:
    report = shipped(dataset)[0]
    assert report.rules is not None
    env = environment(ROOT)
    for page in (report_page(report, env), report_page(report, env, standalone=True)):
        lines = [line for line in page.splitlines() if line.startswith("- **Segment ")]
        assert len(lines) == len(report.rules.segments)
        for line, rule in zip(lines, report.rules.segments, strict=True):
            assert line.startswith(f"- **Segment {rule.segment}:")
            assert f" Rule: {text(rule.text)}" in line


# --- short rules: what the page says ------------------------------------------------------------


def matches(paths: list[list[dict[str, Any]]], frame: pd.DataFrame) -> np.ndarray:
    """Whether each customer matches any of `paths`, applied as written (plain pandas)."""
    hit = np.zeros(len(frame), dtype=bool)
    for path in paths:
        ok = np.ones(len(frame), dtype=bool)
        for c in path:
            column = frame[c["feature"]]
            ok &= (column <= c["value"] if c["op"] == "<=" else column > c["value"]).to_numpy()
        hit |= ok
    return hit


@pytest.mark.parametrize("dataset", SHIPPED)
def test_a_short_rule_is_shorter_and_within_two_points_of_the_exact_one(dataset: str) -> None:
    _, document, frame = shipped(dataset)  # assignments.csv: every customer's features and segment
    labels = frame["segment"].to_numpy()
    for rule in document["rules"]["segments"]:
        own = labels == rule["segment"]
        exact = matches(rule["paths"], frame)
        recall, precision = (exact & own).sum() / own.sum(), (exact & own).sum() / max(exact.sum(), 1)
        assert rule["precision"] == pytest.approx(precision)
        short = rule["short"]
        if short is None:
            continue
        said = matches(short["paths"], frame)
        assert short["recall"] == pytest.approx((said & own).sum() / own.sum())
        assert short["precision"] == pytest.approx((said & own).sum() / said.sum())
        assert short["recall"] >= recall - 0.02
        assert short["precision"] >= precision - 0.02
        assert sum(map(len, short["paths"])) < sum(map(len, rule["paths"]))
        assert rule["text"] != rule["exact_text"]


def test_the_cdnow_rule_of_ten_conditions_is_said_in_two() -> None:
    """Issue 21: a segment's rule was four OR-ed paths of up to three conditions."""
    report, document, _ = shipped("cdnow-customers")
    said = sum(sum(map(len, (r["short"] or r)["paths"])) for r in document["rules"]["segments"])
    exact = sum(sum(map(len, r["paths"])) for r in document["rules"]["segments"])
    assert said < exact
    page = report_page(report, environment(ROOT))
    for rule in document["rules"]["segments"]:
        assert f" Rule: {text(rule['text'])}" in page
    assert f"{said} conditions in all instead of {exact}" in " ".join(page.split())
