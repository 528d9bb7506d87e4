"""downloads: `segments.json` and `assignments.csv`, as DESIGN.md's contract describes them."""

from __future__ import annotations

import csv
import io
import json
import sys
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.build import analyse
from generator.config import DatasetConfig, load_all
from generator.data import Table, load_table
from generator.downloads import assignments_csv, neutralise, segments_json, table_csv
from generator.results import Report
from tests.conftest import TINY, MakeProject

CONTRACT_KEYS = {"dataset", "title", "features", "scale", "n_clusters", "random_state", "n_init", "rows",
                 "segments", "inertia", "silhouette", "data_sha256", "versions"}
RANGE_KEYS = {"candidates", "recommendation", "structure"}


def project_report(make_project: MakeProject, text: str = TINY) -> Report:
    root = make_project({"tiny": text})
    (config,) = load_all(root)
    report = analyse(config, load_table(root, config))
    return report


def direct_report(columns: dict[str, list[float]], ids: list[str] | None = None, **options: Any) -> Report:
    frame = pd.DataFrame({name: np.asarray(values, dtype=float) for name, values in columns.items()})
    config = DatasetConfig(id="direct", path="site_config/datasets/direct.yml", title="Direct",
                           features=tuple(frame.columns), id_column="id" if ids is not None else None,
                           **({"publish_rows": True, "suppress_below": 0} | options))
    table = Table(features=frame, ids=tuple(ids) if ids is not None else None, rows_read=len(frame),
                  dropped={}, sha256="f" * 64, origin="direct")
    report = analyse(config, table)
    return report


def written(report: Report) -> bytes:
    """assignments.csv as the analysis wrote it (the report publishes its rows)."""
    assert report.rows is not None
    return report.rows


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


# --- segments.json --------------------------------------------------------------------------


def test_segments_json_contract_for_a_fixed_k(make_project: MakeProject) -> None:
    report = project_report(make_project)
    document = json.loads(segments_json(report))

    # A fixed k still carries the evidence: every k evaluated, and what the rule would pick.
    assert set(document) >= CONTRACT_KEYS | RANGE_KEYS
    assert 2 in [c["k"] for c in document["candidates"]]
    assert document["recommendation"]["fixed"] is True
    assert document["dataset"] == "tiny"
    assert document["title"] == "Tiny"
    assert document["features"] == ["x", "y"]
    assert document["scale"] == "standard"
    assert document["n_clusters"] == 2
    assert document["random_state"] == 42
    assert document["n_init"] == 10
    assert document["rows"] == {"read": 6, "used": 6, "dropped": 0}
    assert document["segments"] == [
        {**document["segments"][0], "segment": 0, "size": 3, "share": 0.5,
         "center": {"x": 2.0, "y": pytest.approx(4 / 3)}},
        {**document["segments"][1], "segment": 1, "size": 3, "share": 0.5,
         "center": {"x": 11.0, "y": pytest.approx(31 / 3)}},
    ]
    assert all(isinstance(s["name"], str) and s["name"] for s in document["segments"])
    assert [s["name"] for s in document["segments"]] == [p.name for p in report.profiles]
    assert document["inertia"] == report.result.inertia
    assert document["silhouette"] == report.result.silhouette
    assert document["data_sha256"] == report.table.sha256
    assert len(document["data_sha256"]) == 64
    assert {"scikit-learn", "pandas", "matplotlib"} <= set(document["versions"])
    assert all(isinstance(v, str) and v for v in document["versions"].values())


def test_segments_json_contract_for_a_range(make_project: MakeProject) -> None:
    report = project_report(make_project, TINY.replace("n_clusters: 2", "n_clusters: [2, 4]"))
    document = json.loads(segments_json(report))

    assert set(document) >= CONTRACT_KEYS | RANGE_KEYS
    assert [c["k"] for c in document["candidates"]] == [2, 3, 4]
    for entry, candidate in zip(document["candidates"], report.result.evidence.candidates, strict=True):
        assert {"k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "stability"} <= set(entry)
        assert (entry["inertia"], entry["silhouette"]) == (candidate.inertia, candidate.silhouette)
    assert document["recommendation"]["k"] == document["n_clusters"] == len(document["segments"])
    assert isinstance(document["recommendation"]["reason"], str)
    assert document["recommendation"]["reason"]
    assert document["structure"] in ("clear", "weak", "none")
    assert document["structure"] == report.result.structure


def test_a_range_cut_to_one_k_still_reports_candidates(make_project: MakeProject) -> None:
    """n_clusters is a range, but three rows allow only k = 2: the range keys are still due."""
    text = "title: Three\ndata:\n  x: [1, 2, 10]\n  y: [1, 2, 10]\nfeatures: [x, y]\nn_clusters: [2, 4]\n"
    document = json.loads(segments_json(project_report(make_project, text)))
    assert document["n_clusters"] == 2
    assert set(document) >= RANGE_KEYS
    assert [c["k"] for c in document["candidates"]] == [2]


def test_rows_count_what_was_dropped(make_project: MakeProject) -> None:
    text = TINY.replace("[a, b, c, d, e, f]", "[a, b, c, d, e, f, g, h]").replace(
        "x: [1, 2, 3, 10, 11, 12]", "x: [1, 2, 3, 10, 11, 12, null, 7]").replace(
        "y: [1, 1, 2, 10, 11, 10]", "y: [1, 1, 2, 10, 11, 10, 4, abc]") + "missing: drop\n"
    report = project_report(make_project, text)
    document = json.loads(segments_json(report))
    assert document["rows"] == {"read": 8, "used": 6, "dropped": 2}
    assert sum(s["size"] for s in document["segments"]) == 6
    assert [row[0] for row in read_csv(written(report))[1:]] == ["a", "b", "c", "d", "e", "f"]


def test_json_centres_are_the_means_of_the_csv_rows() -> None:
    points = np.random.default_rng(3).normal(size=(40, 3)) * [1000, 10, 1] + [5000, 40, 0]
    report = direct_report({"a": points[:, 0].tolist(), "b": points[:, 1].tolist(), "c": points[:, 2].tolist()},
                           ids=[f"c{i}" for i in range(40)], n_clusters=3)
    document = json.loads(segments_json(report))
    header, *rows = read_csv(written(report))
    assert header == ["id", "a", "b", "c", "segment", "segment_name"]

    groups: dict[int, list[list[float]]] = {}
    for row in rows:
        groups.setdefault(int(row[-2]), []).append([float(cell) for cell in row[1:-2]])
        assert row[-1] == document["segments"][int(row[-2])]["name"]
    assert sorted(groups) == [s["segment"] for s in document["segments"]]
    for entry in document["segments"]:
        members = groups[entry["segment"]]
        means = {name: sum(m[j] for m in members) / len(members) for j, name in enumerate("abc")}
        assert entry["center"] == pytest.approx(means, rel=1e-12)
        assert entry["size"] == len(members)
        assert entry["share"] == pytest.approx(len(members) / 40)
    assert sum(s["share"] for s in document["segments"]) == pytest.approx(1.0)


# --- assignments.csv ------------------------------------------------------------------------


def test_assignments_csv_golden(make_project: MakeProject) -> None:
    report = project_report(make_project)
    low, high = (profile.name.encode() for profile in report.profiles)
    assert written(report) == (
        b"id,x,y,segment,segment_name\r\n"
        b"a,1,1,0," + low + b"\r\n"
        b"b,2,1,0," + low + b"\r\n"
        b"c,3,2,0," + low + b"\r\n"
        b"d,10,10,1," + high + b"\r\n"
        b"e,11,11,1," + high + b"\r\n"
        b"f,12,10,1," + high + b"\r\n"
    )


def test_assignments_csv_without_id_column() -> None:
    report = direct_report({"x": [1.0, 2.0, 10.0], "y": [1.0, 2.0, 10.0]}, n_clusters=2)
    low, high = (profile.name.encode() for profile in report.profiles)
    assert written(report) == (b"x,y,segment,segment_name\r\n1,1,0," + low + b"\r\n2,2,0," + low
                                       + b"\r\n10,10,1," + high + b"\r\n")


def test_numbers_integral_as_ints_others_round_trip() -> None:
    x = [12669.0, 7057.0, -3.0, 0.1, 0.1 + 0.2, 1 / 3, 1e-7, 123456.789, 2.0**53, 1e20]
    y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.5]
    header, *rows = read_csv(written(direct_report({"x": x, "y": y}, n_clusters=2)))
    assert header == ["x", "y", "segment", "segment_name"]
    cells = [row[0] for row in rows]
    assert cells[:3] == ["12669", "7057", "-3"]
    assert [float(cell) for cell in cells] == x  # exactly
    assert [row[1] for row in rows][:9] == ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    assert rows[-1][1] == "10.5"
    assert all(".0" not in cell for cell in cells[:3])


def test_ids_are_quoted_as_rfc_4180() -> None:
    ids = ["a,b", 'say "hi"', "line\nbreak", "plain"]
    report = direct_report({"x": [1.0, 2.0, 10.0, 11.0], "y": [1.0, 2.0, 10.0, 11.0]}, ids=ids, n_clusters=2)
    content = written(report)
    assert content.startswith(b"id,x,y,segment,segment_name\r\n")
    assert b'\r\n"a,b",1,1,' in content
    assert b'\r\n"say ""hi""",2,2,' in content
    assert b'\r\n"line\nbreak",10,10,' in content
    assert b"\r\nplain,11,11," in content
    assert content.endswith(b"\r\n")
    assert [row[0] for row in read_csv(content)[1:]] == ids


def test_formulas_are_neutralised_in_ids() -> None:
    ids = ["=SUM(A1:A2)", "+cmd", "-2+3", "@home", "\tTab", "\rCR", "-5", "+1.5", "-", "plain", "'quoted", "a=b"]
    expected = ["'=SUM(A1:A2)", "'+cmd", "'-2+3", "'@home", "'\tTab", "'\rCR", "-5", "+1.5", "'-", "plain",
                "'quoted", "a=b"]
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0]
    report = direct_report({"x": values, "y": values}, ids=ids, n_clusters=2)
    assert [row[0] for row in read_csv(written(report))[1:]] == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "-5"),
        ("+5", "+5"),
        ("-1.25", "-1.25"),
        ("-.5", "-.5"),
        ("-1e3", "-1e3"),
        ("-5 ", "'-5 "),
        ("5", "5"),
        ("abc", "abc"),
        ("", ""),
    ],
)
def test_neutralise(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


def test_formula_like_column_names_are_neutralised_in_the_header() -> None:
    frame = {"=x": [1.0, 2.0, 10.0], "y": [1.0, 2.0, 10.0]}
    header = read_csv(written(direct_report(frame, n_clusters=2)))[0]
    assert header == ["'=x", "y", "segment", "segment_name"]


# --- determinism ----------------------------------------------------------------------------


def test_downloads_are_byte_identical(make_project: MakeProject) -> None:
    report = project_report(make_project)
    assert segments_json(report) == segments_json(report)
    again = project_report(make_project)
    assert segments_json(again) == segments_json(report)
    assert written(again) == written(report)
    assert segments_json(report).endswith(b"\n")


# --- assignments.csv: numbers that read back, ids as they are, without clustering ----------------------


def bare_report(columns: dict[str, list[float]], labels: list[int], ids: list[str] | None = None,
                names: tuple[str, ...] = ("Low", "High"), personal: str | None = None,
                publish_personal: bool = False) -> tuple[Report, Table, np.ndarray]:
    """What `assignments_csv` reads, without clustering: a report, its table and the segment of every row."""
    frame = pd.DataFrame({name: np.asarray(values, dtype=np.float64) for name, values in columns.items()})
    config = DatasetConfig(id="bare", path="site_config/datasets/bare.yml", title="Bare",
                           features=tuple(frame.columns), id_column="id" if ids is not None else None,
                           publish_personal=publish_personal)
    table = Table(features=frame, ids=tuple(ids) if ids is not None else None, rows_read=len(frame), dropped={},
                  sha256="0" * 64, origin="bare", personal=personal)
    report = cast(Report, SimpleNamespace(config=config, table=table.accounting,
                                          profiles=[SimpleNamespace(name=name) for name in names]))
    return report, table, np.array(labels)


SPECIAL = (0.0, -0.0, 1e-7, -1e-7, 1e-5, 1e-4, 1e16, -1e16, 2.0**53, 2.0**53 + 2, 2.0**63, -(2.0**63), 2.0**62,
           2.0**49 + 0.5, 0.1 + 0.2, 1 / 3, 5e-324, 2.2250738585072014e-308, sys.float_info.max,
           -sys.float_info.max, 1e22, 1e23, 12669.0, 10.5, 99.99, 1e15 + 0.3, 123456789012.0)
HOSTILE = ("=SUM(A1:A2)", "+cmd", "-2+3", "@home", "\tTab", "\rCR", "-5", "+1.5", "-", "", " ", "'quoted", "a,b",
           'say "hi"', "line\nbreak", "cr\r\nlf", '"', ",", "é", "😀", "a\x00b", "007", "x" * 300)
values = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(SPECIAL),
                   st.integers(-10**9, 10**9).map(lambda cents: cents / 100),
                   st.integers(-(2**62), 2**62).map(float))
texts = st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE))


@st.composite
def bare_reports(draw: st.DrawFn) -> tuple[Report, Table, np.ndarray]:
    rows = draw(st.integers(0, 25))
    columns = {name: draw(st.lists(values, min_size=rows, max_size=rows))
               for name in draw(st.lists(st.sampled_from(["x", "=y", "a,b", 'q"', "z"]), min_size=1, unique=True))}
    names = tuple(draw(st.lists(texts, min_size=3, max_size=3)))
    labels = draw(st.lists(st.integers(0, 2), min_size=rows, max_size=rows))
    return bare_report(columns, labels, draw(st.none() | st.lists(texts, min_size=rows, max_size=rows)), names)


@settings(max_examples=200, deadline=None)
@given(bare=bare_reports())
def test_assignments_read_back_exactly(bare: tuple[Report, Table, np.ndarray]) -> None:
    """Parsed as CSV: the same float64 for every value, integers for whole values, text neutralised."""
    report, table, labels = bare
    header, *rows = read_csv(assignments_csv(report, table, labels))
    features = list(report.config.features)
    ids = table.ids
    assert header == [neutralise(name) for name in ([*(["id"] if ids is not None else []), *features])] + [
        "segment", "segment_name"]
    assert len(rows) == report.table.rows_used
    for number, row in enumerate(rows):
        if ids is not None:
            assert row.pop(0) == neutralise(ids[number])
        for feature, cell in zip(features, row, strict=False):
            value = float(table.features[feature].iloc[number])
            assert float(cell) == value
            if value.is_integer() and abs(value) < 2**63:
                assert cell == str(int(value))
        segment = int(labels[number])
        assert row[-2:] == [str(segment), neutralise(report.profiles[segment].name)]


def test_a_million_rows_read_back_exactly() -> None:
    rng = np.random.default_rng(7)
    n = 1_000_000
    bits = rng.integers(0, 2**63, n, dtype=np.int64).view(np.float64)
    columns = {"bits": np.where(np.isfinite(bits), bits, 1.0), "money": np.round(rng.lognormal(4, 2, n), 2),
               "counts": rng.integers(0, 10**6, n).astype(np.float64), "normal": rng.normal(size=n) * 1e5}
    ids = [f"{i:07d}" for i in range(n)]
    content = assignments_csv(*bare_report({k: v.tolist() for k, v in columns.items()}, (np.arange(n) % 2).tolist(),
                                           ids))
    names = ["id", *columns, "segment", "segment_name"]
    read = pcsv.read_csv(io.BytesIO(content), convert_options=pcsv.ConvertOptions(
        column_types={"id": pa.string(), "segment_name": pa.string(), **dict.fromkeys(columns, pa.float64())}))
    assert read.column_names == names
    for name, column in columns.items():
        assert np.array_equal(read.column(name).to_numpy(), column)
    assert read.column("id").to_pylist() == ids
    assert read.column("segment_name").to_pylist()[:2] == ["Low", "High"]
    counts = pcsv.read_csv(io.BytesIO(content), convert_options=pcsv.ConvertOptions(
        include_columns=["counts"], column_types={"counts": pa.string()})).column(0)
    assert counts.to_pylist() == [str(int(v)) for v in columns["counts"]]  # whole numbers without ".0"


def test_formulas_are_neutralised_in_segment_names() -> None:
    bare = bare_report({"x": [1.0, 2.0]}, [0, 1], names=("=HYPERLINK(\"x\")", "-5"))
    assert read_csv(assignments_csv(*bare))[1:] == [["1", "0", "'=HYPERLINK(\"x\")"], ["2", "1", "-5"]]


def test_personal_ids_stay_out_unless_allowed() -> None:
    columns, labels, ids = {"x": [1.0, 2.0]}, [0, 1], ["a@example.com", "b@example.com"]
    hidden = bare_report(columns, labels, ids, personal="e-mail addresses")
    shown = bare_report(columns, labels, ids, personal="e-mail addresses", publish_personal=True)
    assert assignments_csv(*hidden) == b"x,segment,segment_name\r\n1,0,Low\r\n2,1,High\r\n"
    assert assignments_csv(*shown).startswith(b"id,x,segment,segment_name\r\na@example.com,1,0,Low\r\n")


def test_empty_table_is_a_header() -> None:
    assert assignments_csv(*bare_report({"x": []}, [], [])) == b"id,x,segment,segment_name\r\n"


def test_table_csv_writes_any_header_and_columns() -> None:
    content = table_csv(["customer", "=segment_2020-01-01", "spend"],
                        [["007", "a,b", "+x"], np.array([1, -2, 3], dtype=np.int16), np.array([0.5, 2.0, -0.0])])
    assert content == b"customer,'=segment_2020-01-01,spend\r\n007,1,0.5\r\n\"a,b\",-2,2\r\n'+x,3,0\r\n"
