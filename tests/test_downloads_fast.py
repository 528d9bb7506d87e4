"""assignments.csv: the chunked, column-wise writer makes exactly the bytes of the row-by-row one."""

from __future__ import annotations

import csv
import io
import sys
from types import SimpleNamespace
from typing import cast
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import downloads
from generator.config import DatasetConfig
from generator.data import Table
from generator.downloads import assignments_csv, neutralise, published_ids
from generator.results import Report
from tests.conftest import MakeProject
from tests.test_downloads import direct_report, project_report

MANY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPECIAL = (0.0, -0.0, 1e-7, -1e-7, 1e-5, 1e-4, 0.0001000001, 1e16, -1e16, 2.0**53, 2.0**53 - 1, 2.0**53 + 2,
           -(2.0**53), 2.0**49 + 0.5, 2.0**52 - 0.5, 123456789.125, 0.1 + 0.2, 1 / 3, 0.5, 2.0**-10,
           9999999999999998.0, 999999999999999.9, 0.09999999999999999, 0.00010000000000000002,
           908940604292129.2, 2841096222627206.5, 5e-324, 2.2250738585072014e-308, sys.float_info.max,
           -sys.float_info.max, 1e22, 1e23, 12669.0, 7057.0, 10.5, 0.01, 99.99, 1e15 + 0.3)
HOSTILE_IDS = ("=SUM(A1:A2)", "+cmd", "-2+3", "@home", "\tTab", "\rCR", "-5", "+1.5", "-", "", " ", "'quoted",
               "a,b", 'say "hi"', "line\nbreak", "cr\r\nlf", '"', ",", "é", "😀", "a\x00b", "\x00", "ÿ", "x" * 300)


def reference_csv(report: Report) -> bytes:
    """The row-by-row writer that `assignments_csv` replaced, as it was."""
    config, table, result = report.config, report.table, report.result
    with_ids = published_ids(report) and table.ids is not None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = ([str(config.id_column)] if with_ids else []) + list(config.features) + ["segment"]
    writer.writerow([neutralise(name) for name in header])
    columns = [table.features[f].to_numpy() for f in config.features]
    for row in range(table.rows_used):
        ids = [neutralise(table.ids[row])] if with_ids and table.ids is not None else []
        writer.writerow(ids + [reference_number(column[row]) for column in columns] + [int(result.labels[row])])
    return buffer.getvalue().encode()


def reference_number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(float(value))


def bare_report(columns: dict[str, list[float]], labels: list[int], ids: list[str] | None = None,
                personal: str | None = None, publish_personal: bool = False) -> Report:
    """What `assignments_csv` reads of a report, without clustering: the labels are given."""
    frame = pd.DataFrame({name: np.asarray(values, dtype=np.float64) for name, values in columns.items()})
    config = DatasetConfig(id="bare", path="site_config/datasets/bare.yml", title="Bare",
                           features=tuple(frame.columns), id_column="id" if ids is not None else None,
                           publish_personal=publish_personal)
    table = Table(features=frame, ids=tuple(ids) if ids is not None else None, rows_read=len(frame), dropped={},
                  sha256="0" * 64, origin="bare", personal=personal)
    return cast(Report, SimpleNamespace(config=config, table=table, result=SimpleNamespace(labels=np.array(labels))))


def assert_same(report: Report) -> None:
    assert assignments_csv(report) == reference_csv(report)


# --- generated tables ------------------------------------------------------------------------

values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(SPECIAL),
    st.integers(-10**9, 10**9).map(lambda cents: cents / 100),  # money
    st.integers(-(2**60), 2**60).map(float),
    st.builds(lambda digits, exponent: float(f"{digits}e{exponent}"),  # short and long decimals
              st.integers(-(10**17), 10**17), st.integers(-24, 6)),
)
ids = st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE_IDS))
names = st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(["=x", "-y", "a,b", 'q"', "n\nl", "@z", "+1"]))


@st.composite
def tables(draw: st.DrawFn) -> Report:
    """A small table of awkward numbers and ids, with labels, published ids or not."""
    rows = draw(st.integers(1, 25))
    features = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    columns = {name: draw(st.lists(values, min_size=rows, max_size=rows)) for name in features}
    labels = draw(st.lists(st.integers(0, 12), min_size=rows, max_size=rows))
    given_ids = draw(st.none() | st.lists(ids, min_size=rows, max_size=rows))
    personal = draw(st.sampled_from([None, "e-mail addresses"]))
    return bare_report(columns, labels, given_ids, personal=personal, publish_personal=draw(st.booleans()))


@MANY
@given(report=tables(), chunk=st.integers(1, 8), id_block=st.sampled_from([1, 64, 1 << 22]))
def test_generated_tables_match_the_row_by_row_writer(report: Report, chunk: int, id_block: int) -> None:
    with mock.patch.object(downloads, "CHUNK_ROWS", chunk), mock.patch.object(downloads, "ID_BLOCK_BYTES", id_block):
        assert_same(report)


@MANY
@given(column=st.lists(values, min_size=1, max_size=60))
def test_every_value_is_written_as_before(column: list[float]) -> None:
    assert_same(bare_report({"v": column}, [0] * len(column)))


def test_many_kinds_of_numbers_match() -> None:
    """A large sample of each kind of column, through both writers."""
    rng = np.random.default_rng(7)
    n = 20_000
    bits = rng.integers(0, 2**63, n, dtype=np.int64).view(np.float64)
    columns = {
        "bits": np.where(np.isfinite(bits), bits, 1.0) * rng.choice([-1.0, 1.0], n),
        "ordinary": rng.integers(0x3F10000000000000, 0x4340000000000000, n, dtype=np.int64).view(np.float64),
        "normal": rng.normal(size=n) * 10.0 ** rng.integers(-6, 17, n),
        "money": np.round(rng.lognormal(4, 2, n), 2) * rng.choice([-1.0, 1.0], n),
        "counts": rng.integers(0, 10**6, n).astype(np.float64),
        "ratios": rng.integers(1, 1000, n) / rng.integers(1, 1000, n),
        "large": rng.uniform(2.0**48, 2.0**54, n),
        "near_powers": np.nextafter(10.0 ** rng.integers(-5, 17, n), np.where(rng.random(n) < 0.5, 0, np.inf)),
    }
    report = bare_report({k: v.tolist() for k, v in columns.items()}, rng.integers(0, 10, n).tolist(),
                         [f"C{i:06d}" for i in range(n)])
    with mock.patch.object(downloads, "CHUNK_ROWS", 3_000):
        assert_same(report)


# --- ids and quoting -------------------------------------------------------------------------


def test_hostile_ids_match() -> None:
    hostile = list(HOSTILE_IDS)
    report = bare_report({"x": [float(i) for i in range(len(hostile))]}, [i % 3 for i in range(len(hostile))],
                         hostile)
    assert_same(report)
    # Plain ids around hostile ones, and a chunk of only plain ids.
    mixed = [f"c{i}" for i in range(50)] + hostile + [f"d{i}" for i in range(50)]
    report = bare_report({"x": [0.5] * len(mixed), "y": [-3.25] * len(mixed)}, [1] * len(mixed), mixed)
    with mock.patch.object(downloads, "CHUNK_ROWS", 40):
        assert_same(report)


def test_a_long_id_is_written_in_halves() -> None:
    long_ids = [f"id{i}" for i in range(9)] + ["L" * 5000]
    report = bare_report({"x": [float(i) for i in range(10)]}, list(range(10)), long_ids)
    with mock.patch.object(downloads, "ID_BLOCK_BYTES", 100):
        assert_same(report)


def test_quoting_matches_csv_writer_for_every_character() -> None:
    characters = [chr(c) for c in range(sys.maxunicode + 1)]
    written = io.StringIO()
    csv.writer(written, lineterminator="\r\n").writerows([c, ""] for c in characters)
    assert written.getvalue() == "".join(downloads._quoted(c) + ",\r\n" for c in characters)


def test_personal_ids_stay_out_unless_allowed() -> None:
    columns, labels, ids_ = {"x": [1.0, 2.0]}, [0, 1], ["a@example.com", "b@example.com"]
    hidden = bare_report(columns, labels, ids_, personal="e-mail addresses")
    shown = bare_report(columns, labels, ids_, personal="e-mail addresses", publish_personal=True)
    assert assignments_csv(hidden) == reference_csv(hidden) == b"x,segment\r\n1,0\r\n2,1\r\n"
    assert assignments_csv(shown) == reference_csv(shown)
    assert assignments_csv(shown).startswith(b"id,x,segment\r\na@example.com,1,0\r\n")


# --- real reports ----------------------------------------------------------------------------


def test_project_report_matches(make_project: MakeProject) -> None:
    assert_same(project_report(make_project))


def test_clustered_reports_match_with_and_without_ids() -> None:
    x = [1.0, 2.0, 1e-7, 0.1 + 0.2, 1 / 3, 10.0, 11.0, 12.5, 13.0, -0.0]
    y = [1.0, 1.5, 2.0, 0.01, 2.75, 10.0, 11.0, 10.125, 12.99, 9.5]
    hostile = ["=1+1", "a,b", 'say "hi"', "line\nbreak", "-5", "@x", "plain", "", "é", "\tt"]
    with_ids = direct_report({"x": x, "y": y}, ids=hostile, n_clusters=2)
    without = direct_report({"x": x, "y": y}, n_clusters=2)
    assert_same(with_ids)
    assert_same(without)
    assert assignments_csv(with_ids).startswith(b"id,x,y,segment\r\n'=1+1,1,1,")
    assert assignments_csv(without).startswith(b"x,y,segment\r\n1,1,")


def test_empty_table_is_a_header() -> None:
    report = bare_report({"x": []}, [], [])
    assert assignments_csv(report) == reference_csv(report) == b"id,x,segment\r\n"
