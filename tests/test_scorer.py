"""scorer: `scorer.sql` in SQLite and DuckDB gives every published row its published segment; the
calculator's arithmetic (in Python and in its own JavaScript, under Node) does too."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from generator import scaling
from generator.build import analyse
from generator.config import SCALES, DatasetConfig
from generator.data import Table, published_id
from generator.model import segment
from generator.pages import environment, report_page
from generator.results import Report
from generator.scaling import Affine
from generator.scorer import literal, nearest, quote, scorer_sql
from tests.conftest import ROOT
from tests.test_rules import SHIPPED, shipped

CALCULATOR = ROOT / "content" / "assets" / "javascripts" / "calculator.js"
HOSTILE = ['Milk"; DROP TABLE customers; --', "Fresh'); --", "sp\u00e9nd [\u20ac]\n2"]
MODEL = re.compile(r'<form class="segment-calculator" data-model="([^"]*)">')


def run_sqlite(sql: str, rows: pd.DataFrame) -> pd.DataFrame:
    connection = sqlite3.connect(":memory:")
    rows.to_sql("customers", connection, index=False)
    cursor = connection.execute(sql)  # one statement, or sqlite3 refuses it
    frame = pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    assert connection.execute("SELECT COUNT(*) FROM customers").fetchone() == (len(rows),)
    return frame


def run_duckdb(sql: str, rows: pd.DataFrame) -> pd.DataFrame:
    connection = duckdb.connect()
    connection.register("published", rows)
    connection.execute("CREATE TABLE customers AS SELECT * FROM published")
    frame = connection.execute(sql).df()
    assert connection.execute("SELECT COUNT(*) FROM customers").fetchone() == (len(rows),)
    return frame


ENGINES: dict[str, Callable[[str, pd.DataFrame], pd.DataFrame]] = {"sqlite": run_sqlite, "duckdb": run_duckdb}


def published_rows(report: Report) -> pd.DataFrame:
    """assignments.csv as published, read back with every column as the file holds it."""
    column = published_id(report.config, report.table)
    assert report.rows is not None
    return pd.read_csv(io.BytesIO(report.rows), dtype={column: str} if column else None)


def segments_of(report: Report) -> np.ndarray:
    """The segment of every customer, as assignments.csv publishes it."""
    assert report.rows is not None
    found: np.ndarray = pd.read_csv(io.BytesIO(report.rows))["segment"].to_numpy()
    return found


def scored(engine: str, sql: str, rows: pd.DataFrame, id_column: str | None) -> np.ndarray:
    """The scorer's segment of every published row, matched by id when there is one, else by position."""
    customers = rows.drop(columns=["segment", "segment_name"], errors="ignore")
    out = ENGINES[engine](sql, customers)
    assert len(out) == len(rows)
    if id_column is not None:
        assert list(out.columns) == [id_column, "segment"]
        out = out.set_index(out[id_column].astype(str)).loc[rows[id_column].astype(str)]
    else:
        assert list(out.columns) == ["segment"]
    segments: np.ndarray = out["segment"].to_numpy(dtype=np.int64)
    return segments


def direct_report(frame: pd.DataFrame, ids: list[str] | None = None, **options: Any) -> Report:
    config = DatasetConfig(id="direct", path="site_config/datasets/direct.yml", title="Direct",
                           features=tuple(frame.columns), id_column="id" if ids is not None else None,
                           **({"publish_rows": True, "suppress_below": 0} | options))
    table = Table(features=frame, ids=tuple(ids) if ids is not None else None, rows_read=len(frame),
                  dropped={}, sha256="f" * 64, origin="direct")
    return analyse(config, table)


def skewed(rows: int = 90, seed: int = 7) -> pd.DataFrame:
    """Spend-like features: skewed, positive, of unequal spreads."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"Fresh": np.round(rng.lognormal(8, 1, rows)), "Milk": np.round(rng.lognormal(7, 1.2, rows)),
                         "Visits": rng.integers(1, 40, rows).astype(float)})


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("dataset", SHIPPED)
def test_shipped_scorer_gives_every_published_segment(dataset: str, engine: str) -> None:
    report = shipped(dataset)[0]
    assert report.scorer is not None
    rows = published_rows(report)
    got = scored(engine, report.scorer, rows, published_id(report.config, report.table))
    assert np.array_equal(got, rows["segment"].to_numpy())


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("scale", SCALES)
def test_scorer_reproduces_every_scaling(scale: str, engine: str) -> None:
    ids = [f"c{i}" for i in range(90)]
    report = direct_report(skewed(), ids, scale=scale, n_clusters=[3, 3])
    assert report.scorer is not None
    rows = published_rows(report)
    assert np.array_equal(scored(engine, report.scorer, rows, "id"), rows["segment"].to_numpy())


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_log_scaling_is_log1p_then_standard(engine: str) -> None:
    """`scale: log` is log1p of each feature, then standard scaling: segmenting log1p(x) standardised
    gives the segments, and the scorer with `log` must find them from x itself."""
    frame = skewed()
    logged = np.log1p(frame)
    config = DatasetConfig(id="logged", path="site_config/datasets/logged.yml", title="Logged",
                           features=tuple(frame.columns), n_clusters=3)
    table = Table(features=logged, ids=None, rows_read=len(frame), dropped={}, sha256="f" * 64, origin="direct")
    result, labels = segment(table, config)
    assert result.scoring is not None
    given = frame.to_numpy()
    expected = scaling.scaling(given[np.lexsort(given.T[::-1])], "log")  # fitted in the model's (value) order
    assert expected.log
    assert expected.shift == result.scoring.affine.shift
    assert expected.width == result.scoring.affine.width
    scoring = replace(result.scoring, affine=expected)
    sql = scorer_sql(replace(config, scale="log"), replace(result, scoring=scoring), table)
    assert sql is not None
    assert "LN(1 + CAST(" in sql
    assert np.array_equal(scored(engine, sql, frame, None), labels)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_hostile_column_names_stay_names(engine: str) -> None:
    frame = skewed(40).set_axis(HOSTILE, axis=1)
    hostile_ids = [f'x"; DELETE FROM customers; -- {i}' for i in range(40)]  # noqa: S608 (data, deliberately)
    report = direct_report(frame, hostile_ids, n_clusters=2)
    report = replace(report, config=replace(report.config, id_column='id" --'))
    sql = scorer_sql(report.config, report.result, report.table)
    assert sql is not None
    rows = frame.assign(**{'id" --': hostile_ids})
    got = scored(engine, sql, rows.assign(segment=segments_of(report)), 'id" --')
    assert np.array_equal(got, segments_of(report))
    for name in HOSTILE:
        assert quote(name) in sql
    assert "\n2" not in sql.replace(quote(HOSTILE[2]), "")  # the line break stays inside its quotes


def test_a_blank_feature_gets_no_segment() -> None:
    report = direct_report(skewed(30), n_clusters=2)
    assert report.scorer is not None
    rows = skewed(30)
    rows.loc[3, "Milk"] = np.nan
    out = run_sqlite(report.scorer, rows)
    assert out["segment"].isna().tolist() == [i == 3 for i in range(30)]


@pytest.mark.parametrize(("value", "expected"), [(1.5, "1.5"), (-0.25, "(-0.25)"), (1e-7, "1e-07"),
                                                 (12000.297727272728, "12000.297727272728"), (3.0, "3.0")])
def test_literals_read_back_exactly(value: float, expected: str) -> None:
    assert literal(value) == expected
    assert sqlite3.connect(":memory:").execute(f"SELECT {literal(value)}").fetchone() == (value,)


def test_identifiers_are_quoted_with_quotes_doubled() -> None:
    assert quote('a"b') == '"a""b"'
    assert quote("plain") == '"plain"'


def test_an_id_named_like_an_inner_column_is_kept_apart() -> None:
    report = direct_report(skewed(30), [f"c{i}" for i in range(30)], n_clusters=2)
    config = replace(report.config, id_column="scorer_d0")
    sql = scorer_sql(config, report.result, report.table)
    assert sql is not None
    rows = skewed(30).assign(scorer_d0=[f"c{i}" for i in range(30)], segment=segments_of(report))
    assert np.array_equal(scored("sqlite", sql, rows, "scorer_d0"), segments_of(report))


# --- the calculator's arithmetic ------------------------------------------------------------------


def page_model(report: Report) -> dict[str, Any]:
    """The model the calculator on the report page reads: the JSON of its form's data-model attribute."""
    (found,) = MODEL.findall(report_page(report, environment(ROOT)))
    parsed: dict[str, Any] = json.loads(html.unescape(found))
    return parsed


@pytest.mark.parametrize("dataset", SHIPPED)
def test_calculator_model_gives_every_published_segment(dataset: str) -> None:
    report = shipped(dataset)[0]
    embedded = page_model(report)
    affine = Affine(tuple(embedded["shift"]), tuple(embedded["width"]), embedded["log"])
    centers = np.array(embedded["centers"])
    rows = published_rows(report)
    values = rows[list(report.config.features)].to_numpy(dtype=float).tolist()
    assert [nearest(v, affine, centers) for v in values] == rows["segment"].tolist()
    assert embedded["names"] == [p.name for p in report.profiles]


@pytest.mark.parametrize("dataset", SHIPPED)
def test_calculator_script_gives_every_published_segment(dataset: str) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to run the calculator's script (it also installs npm packages)"
    report = shipped(dataset)[0]
    rows = published_rows(report)
    values = rows[list(report.config.features)].to_numpy(dtype=float).tolist()
    program = ("const {segmentOf} = require(process.argv[1]);"
               "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
               "console.log(JSON.stringify(input.rows.map((row) => segmentOf(input.model, row))));")
    run = subprocess.run([node, "-e", program, str(CALCULATOR)], input=json.dumps(
        {"model": page_model(report), "rows": values}), capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(run.stdout) == rows["segment"].tolist()


def test_calculator_is_prefilled_with_the_average_and_its_segment() -> None:
    report = shipped("wholesale-customers")[0]
    page = report_page(report, environment(ROOT))
    fields = re.findall(r'<input id="[^"]+" name="([^"]+)" type="number" step="any" value="([^"]+)" required>', page)
    assert [name for name, _ in fields] == list(report.config.features)
    averages = [report.result.population.overall[f] for f in report.config.features]
    assert [float(value) for _, value in fields] == pytest.approx(averages, rel=1e-3, abs=0.5)
    embedded = page_model(report)
    affine = Affine(tuple(embedded["shift"]), tuple(embedded["width"]), embedded["log"])
    start = nearest([float(value) for _, value in fields], affine, np.array(embedded["centers"]))
    assert f'data-segment="{start}">Segment {start}: ' in page
    standalone = report_page(report, environment(ROOT), standalone=True)
    assert "segment-calculator" not in standalone
    assert "leaves the calculator out" in standalone


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_a_withheld_centre_is_in_neither_the_scorer_nor_the_calculator(engine: str) -> None:
    """Three far-out customers form a segment below suppress_below: its centre (and the second one
    withheld with it) is written nowhere, and scorer.sql, the calculator's model and its script
    give every customer the nearest published centre: their own, unless their segment is withheld."""
    far = pd.DataFrame({"Fresh": [900000.0, 910000.0, 905000.0], "Milk": [1.0, 2.0, 3.0], "Visits": [1.0, 2.0, 1.0]})
    frame = pd.concat([skewed(), far], ignore_index=True)
    report = direct_report(frame, [f"c{i}" for i in range(len(frame))], n_clusters=3, suppress_below=10)
    sizes = [s.size for s in report.result.segments]
    assert 3 in sizes
    withheld = {s for s, size in enumerate(sizes) if size < 10} | {min(
        (size, s) for s, size in enumerate(sizes) if size >= 10)[1]}  # the smallest other one too
    published = [s for s in range(3) if s not in withheld]
    assert report.scorer is not None
    assert report.result.scoring is not None
    for s in withheld:
        for value in report.result.scoring.centers[s]:
            assert repr(float(value)) not in report.scorer
    embedded = page_model(report)
    assert [c is None for c in embedded["centers"]] == [s in withheld for s in range(3)]
    rows = published_rows(report)
    got = scored(engine, report.scorer, rows, "id")
    own = ~rows["segment"].isin(withheld).to_numpy()
    assert (got[own] == rows["segment"].to_numpy()[own]).all()
    assert set(got[~own]) <= set(published)
    # The nearest published centre, computed with plain numpy from the model's numbers.
    scaled = (frame.to_numpy() - np.array(embedded["shift"])) / np.array(embedded["width"])
    centres = np.array([embedded["centers"][s] for s in published])
    nearest_published = np.array(published)[((scaled[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)]
    assert (got == nearest_published).all()
    node = shutil.which("node")
    assert node is not None
    program = ("const {segmentOf} = require(process.argv[1]);"
               "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
               "console.log(JSON.stringify(input.rows.map((row) => segmentOf(input.model, row))));")
    run = subprocess.run([node, "-e", program, str(CALCULATOR)], input=json.dumps(
        {"model": embedded, "rows": frame.to_numpy().tolist()}), capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(run.stdout) == nearest_published.tolist()
