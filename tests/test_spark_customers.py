"""Purchase logs under `engine: spark`: the customers Spark derives are the local engine's, quirks included.

One Spark session (local[2]) for the module. One log is analysed end to end by both engines (line
items, cancellations, guests, ids written `12923.0`, snapshots, publish_rows); the other cases
compare the derivation alone, which costs a few Spark jobs and no K-Means.
"""

from __future__ import annotations

import io
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generator import spark, spark_customers
from generator.build import analyse, load
from generator.cache import key
from generator.config import DatasetConfig, load_all, load_dataset
from generator.downloads import segments_json
from generator.errors import UserError
from generator.purchases import load_customers
from generator.results import Report
from tests.conftest import ROOT, MakeProject
from tests.test_line_items import (
    AS_OF,
    FORMS,
    LOG,
    NEGATIVE,
    SHOWN,
    block,
    expected_customers,
    line_items,
    retail,
    write,
)

SNAPSHOTS = "[2011-03-31, 2011-06-30]"
FEATURES = "[recency, frequency, monetary, tenure, average_order]"
SPARK_YML = "spark.master: local[2]\nspark.driver.memory: 1g\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spark-logs")
    (root / "site_config" / "datasets").mkdir(parents=True)
    shutil.copytree(ROOT / "templates", root / "templates")
    (root / LOG).parent.mkdir(parents=True)
    (root / LOG).write_text(write(line_items()), encoding="utf-8")
    (root / "site_config" / "spark.yml").write_text(SPARK_YML)
    return root


@pytest.fixture(scope="module")
def both(project: Path) -> tuple[Report, Report]:
    """The line-item log with two snapshot dates (returns left out, log-scaled), analysed by both engines."""
    folder = project / "site_config" / "datasets"
    for engine in ("local", "spark"):
        (folder / f"{engine}.yml").write_text(retail(engine=engine, snapshots=SNAPSHOTS, features=FEATURES,
                                                     n_clusters="[2, 3]", n_init="2", scale="log",
                                                     transactions=block("iso", returns="exclude")), encoding="utf-8")
    configs = {engine: load_dataset(project, folder / f"{engine}.yml") for engine in ("local", "spark")}
    return analyse(configs["local"], load(project, configs["local"])), analyse(configs["spark"], None, root=project)


def derived(root: Path, config: DatasetConfig) -> tuple[pd.DataFrame, spark_customers.SparkLog]:
    """The customers Spark derives at as_of, as a pandas frame indexed by id, and the parsed log."""
    session = spark.spark_session(root, config)
    log = spark_customers.read_log(session, root, config)
    frame, _ = spark_customers.customers(log, config, config.as_of or log.last)
    table: Any = frame.orderBy("_row").toArrow()
    found = pd.DataFrame({name: table.column(f"f{j}").to_numpy() for j, name in enumerate(config.features)},
                         index=pd.Index(table.column("_id").to_pylist()))
    frame.unpersist()
    log.frame.unpersist()
    return found, log


def dataset(root: Path, text: str) -> DatasetConfig:
    (root / SHOWN).write_text(text, encoding="utf-8")
    return load_dataset(root, root / SHOWN)


def test_spark_derives_the_local_engines_customers(both: tuple[Report, Report]) -> None:
    local, theirs = both
    assert theirs.rows is not None
    assert local.rows is not None

    def customers(report: Report) -> pd.DataFrame:  # assignments.csv without the segment: ids and features
        rows = pd.read_csv(io.BytesIO(report.rows or b""), dtype=str)
        return rows.drop(columns=[c for c in rows.columns if c.startswith("segment")])

    pd.testing.assert_frame_equal(customers(theirs), customers(local))  # exactly as written, money included
    assert theirs.purchases == local.purchases  # rows, left out (guests), only returns, not yet customers


def test_spark_customers_equal_a_pandas_derivation(both: tuple[Report, Report]) -> None:
    _, theirs = both
    rows = pd.read_csv(io.BytesIO(theirs.rows or b""), dtype=str).set_index("CustomerID")
    expected = expected_customers(line_items(), AS_OF, returns="exclude")
    assert rows.index.tolist() == sorted(expected.index)
    for feature in ("recency", "frequency", "tenure"):
        assert rows[feature].astype(int).tolist() == expected.loc[rows.index, feature].tolist(), feature
    assert [Decimal(cell) for cell in rows["monetary"]] == expected.loc[rows.index, "monetary"].tolist()
    assert theirs.purchases is not None
    assert theirs.purchases.left_out.blank[0] == ("customer", int((line_items()["CustomerID"] == "").sum()))


def test_spark_clusters_the_logged_customers_as_the_local_engine(both: tuple[Report, Report]) -> None:
    """scale: log in Spark: log1p, then standard scaling, as the local engine's; the same k and, at that k
    (two restarts each on 15 customers: other k may land in other optima), the same inertia and sizes."""
    local, theirs = both
    assert theirs.result.scoring is not None
    assert local.result.scoring is not None
    assert theirs.result.scoring.affine is not None
    assert theirs.result.scoring.affine == local.result.scoring.affine
    assert theirs.result.k == local.result.k
    assert theirs.result.inertia == pytest.approx(local.result.inertia, rel=0.01)
    assert [s.size for s in theirs.result.segments] == [s.size for s in local.result.segments]


def test_spark_migration_agrees_with_its_assignments(both: tuple[Report, Report]) -> None:
    local, theirs = both
    assert theirs.migration is not None
    assert local.migration is not None
    assert [d.customers for d in theirs.migration.dates] == [d.customers for d in local.migration.dates]
    rows = pd.read_csv(io.BytesIO(theirs.rows or b""), dtype=str).set_index("CustomerID")
    moves = pd.read_csv(io.BytesIO(theirs.migration_rows or b""), dtype=str).set_index("CustomerID")
    assert moves.index.equals(rows.index)
    assert (moves[f"segment_{AS_OF}"] == rows["segment"]).all()
    document = json.loads(segments_json(theirs))
    (flow,) = document["migration"]
    start, end = moves[f"segment_{flow['from']}"].fillna("new"), moves[f"segment_{flow['to']}"]
    table = pd.crosstab(start, end)
    counts = [[int(table.loc[str(r), str(c)]) if str(r) in table.index and str(c) in table else 0
               for c in flow["columns"]] for r in flow["rows"]]
    assert counts == flow["counts"]
    sizes = [s["size"] for s in document["snapshots"][0]["segments"]]
    assert sizes == [int((moves[f"segment_{flow['from']}"] == str(s)).sum()) for s in range(len(sizes))]


@pytest.mark.parametrize("form", ["month-first", "day-first"])
def test_datetimes_in_other_forms_give_the_same_customers(project: Path, form: str) -> None:
    frame = line_items()
    (project / "content" / "data" / f"{form}.csv").write_text(write(frame, form), encoding="utf-8")
    config = dataset(project, retail(engine="spark", features=FEATURES,
                                     transactions=block(form, source=f"content/data/{form}.csv")))
    found, _ = derived(project, config)
    local = load_customers(project, dataset(project, retail(features=FEATURES))).table
    assert tuple(found.index) == local.ids
    pd.testing.assert_frame_equal(found.reset_index(drop=True), local.features)


def test_two_digit_years_read_as_strptime_reads_them(project: Path) -> None:
    """`%y`: 69-99 are 1969-1999 and 00-68 are 2000-2068 in Spark as in Python and DuckDB (Java's own
    reading would put 97 in 2097 and every customer in the future)."""
    frame = line_items()
    frame["when"] = frame["when"] - pd.DateOffset(years=14)  # 2010-2011 -> 1996-1997
    (project / "content" / "data" / "nineties.csv").write_text(write(frame, "month-first"), encoding="utf-8")
    text = retail(features=FEATURES, as_of="", transactions=block("month-first", source="content/data/nineties.csv"))
    found, log = derived(project, dataset(project, text.replace("title:", "engine: spark\ntitle:")))
    local = load_customers(project, dataset(project, text))
    assert (log.first, log.last) == (local.summary.first, local.summary.last)
    assert log.last.year == frame["when"].max().year
    assert tuple(found.index) == local.table.ids
    pd.testing.assert_frame_equal(found.reset_index(drop=True), local.table.features)


def test_returns_exclude_in_spark(project: Path) -> None:
    text = retail(engine="spark", features=FEATURES, transactions=block("iso", returns="exclude"))
    found, log = derived(project, dataset(project, text))
    local = load_customers(project, dataset(project, text.replace("engine: spark\n", "")))
    assert tuple(found.index) == local.table.ids
    pd.testing.assert_frame_equal(found.reset_index(drop=True), local.table.features)
    assert log.left_out == local.summary.left_out
    assert log.left_out.returns > 0


def test_the_shared_online_retail_rows_in_spark(project: Path) -> None:
    """UCI Online Retail's first rows (tests/data/online-retail): day-first datetimes, a cancellation."""
    text = (ROOT / "tests/data/online-retail/online_retail_first_rows.csv").read_text(encoding="utf-8")
    (project / "content" / "data" / "online.csv").write_text(text, encoding="utf-8")
    config = retail(features=FEATURES, as_of="", transactions=block("day-first", source="content/data/online.csv"))
    found, _ = derived(project, dataset(project, config.replace("title:", "engine: spark\ntitle:")))
    local = load_customers(project, dataset(project, config)).table
    assert tuple(found.index) == local.ids
    pd.testing.assert_frame_equal(found.reset_index(drop=True), local.features)


def test_a_parquet_log_with_a_date_column(project: Path) -> None:
    """Parquet's DATE type and integer quantities, read by Spark: the same customers as the pandas contract."""
    frame = line_items()
    table = pa.table({"InvoiceNo": frame["InvoiceNo"], "Quantity": frame["Quantity"].astype("int64"),
                      "InvoiceDate": pa.array(frame["when"].dt.date, pa.date32()),
                      "UnitPrice": frame["UnitPrice"].astype(float), "CustomerID": frame["CustomerID"]})
    pq.write_table(table, project / "content" / "data" / "log.parquet")
    config = dataset(project, retail(engine="spark", transactions=block("iso", source="content/data/log.parquet")))
    found, _ = derived(project, config)
    expected = expected_customers(frame, AS_OF)
    assert tuple(found.index) == tuple(expected.index)
    assert found["monetary"].tolist() == [float(v) for v in expected["monetary"]]
    assert found["recency"].tolist() == expected["recency"].tolist()


@pytest.mark.parametrize(("changes", "message"), [
    ({"missing": ""}, r"content/data/retail.csv: column 'CustomerID': no customer in 6 row\(s\) .*set missing: drop"),
    ({"scale": "log"}, rf"content/data/retail.csv: customer {NEGATIVE}: monetary is -\d+(\.\d+)? as of {AS_OF} "
                       r"\(returns exceed purchases\); scale: log needs 0 or more"),
    ({"transactions": block("iso", date_format="'%d.%m.%Y'")},
     r"column 'InvoiceDate': '2011-\d\d-\d\d \d\d:\d\d:\d\d' is not a date in the form '%d.%m.%Y' \(\d+ such row"),
])
def test_spark_names_the_problem(project: Path, changes: dict[str, str], message: str) -> None:
    config = dataset(project, retail(engine="spark", **changes))
    with pytest.raises(UserError, match=message):
        derived(project, config)


def test_strptime_formats_become_spark_patterns() -> None:
    assert spark_customers.java_pattern("%Y%m%d") == "yyyyMMdd"
    assert spark_customers.java_pattern(FORMS["month-first"][1] or "") == "M'/'d'/'yy' 'H':'m"
    assert spark_customers.java_pattern("%d.%m.%Y T%H") == "d'.'M'.'yyyy' T'H"
    assert spark_customers.java_pattern("%Y-%m-%d'") == "yyyy'-'M'-'d''''"


def test_a_log_behind_a_uri_is_accepted_for_spark(make_project: MakeProject) -> None:
    log = "\n  source: s3a://shop/log.parquet\n  customer: c\n  date: d\n  amount: a"
    root = make_project({"t": retail(engine="spark", transactions=log)})
    (config,) = load_all(root)
    assert config.transactions is not None
    assert config.transactions.source == "s3a://shop/log.parquet"
    assert key(root, config) == ""  # the log could change without the build seeing it: no cache entry
