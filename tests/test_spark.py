"""The Spark engine against the local one, in Spark's local[2] with the machine's Java.

Spark starts once per test process (a JVM takes seconds); the comparison runs the whole
analysis of one table through both engines: the same k on well-separated data, and centres
and sizes within 1%.
"""

from __future__ import annotations

import io
import sqlite3

import numpy as np
import pandas as pd
import pytest

from generator.build import analyse
from generator.cache import key
from generator.config import load_all, spark_settings
from generator.data import load_table
from generator.errors import UserError
from generator.results import Report
from tests.conftest import MakeProject

CENTRES = np.array([[20.0, 200.0, 5.0], [60.0, 800.0, 40.0], [35.0, 1500.0, 80.0], [70.0, 300.0, 90.0]])
SHARES = (0.4, 0.3, 0.2, 0.1)
TINY_LOCAL = "title: Local\ndata: {a: [1, 2, 8, 9], b: [1, 2, 8, 9]}\nfeatures: [a, b]\nn_clusters: 2\n"


def blobs(rows: int, seed: int) -> pd.DataFrame:
    """Four well-separated groups of customers, unequal in size, on very different scales."""
    rng = np.random.default_rng(seed)
    group = rng.choice(len(SHARES), size=rows, p=SHARES)
    values = CENTRES[group] * (1 + 0.05 * rng.normal(size=(rows, CENTRES.shape[1])))
    frame = pd.DataFrame(np.round(values, 2), columns=["age", "spend", "visits"])
    frame.insert(0, "customer", [f"C{i:05d}" for i in range(rows)])
    return frame


def config_text(engine: str, source: str, extra: str = "") -> str:
    return (f"title: {engine}\nsource: {source}\nfeatures: [age, spend, visits]\nid_column: customer\n"
            f"n_clusters: [3, 5]\nn_init: 2\nengine: {engine}\npublish_rows: true\n{extra}")


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Report]:
    root = tmp_path_factory.mktemp("spark")
    folder = root / "site_config" / "datasets"
    folder.mkdir(parents=True)
    (root / "content").mkdir()
    blobs(4000, 11).to_csv(root / "content" / "customers.csv", index=False)
    (root / "site_config" / "spark.yml").write_text("spark.master: local[2]\nspark.driver.memory: 1g\n")
    for engine in ("local", "spark"):
        (folder / f"{engine}.yml").write_text(config_text(engine, "content/customers.csv"))
    configs = {c.id: c for c in load_all(root)}
    local = analyse(configs["local"], load_table(root, configs["local"]))
    spark = analyse(configs["spark"], None, root=root)
    return local, spark


def test_spark_chooses_the_same_k_on_well_separated_data(both: tuple[Report, Report]) -> None:
    local, spark = both
    assert local.result.k == spark.result.k == len(SHARES)
    assert [c.k for c in spark.result.evidence.candidates] == [c.k for c in local.result.evidence.candidates]


def test_spark_centres_and_sizes_are_within_one_percent(both: tuple[Report, Report]) -> None:
    local, spark = both
    for mine, theirs in zip(local.result.segments, spark.result.segments, strict=True):
        assert theirs.size == pytest.approx(mine.size, rel=0.01)
        for feature, value in mine.center.items():
            assert theirs.center[feature] == pytest.approx(value, rel=0.01)
    assert spark.result.inertia == pytest.approx(local.result.inertia, rel=0.01)


def test_spark_centres_are_the_means_of_its_published_rows(both: tuple[Report, Report]) -> None:
    _, spark = both
    assert spark.rows is not None
    frame = pd.read_csv(io.BytesIO(spark.rows), dtype={"customer": str})  # assignments.csv
    labels = frame["segment"].to_numpy()
    assert len(labels) == spark.table.rows_used == 4000
    assert frame["customer"].tolist()[:2] == ["C00000", "C00001"]  # file order
    for segment in spark.result.segments:
        members = frame[labels == segment.number]
        assert len(members) == segment.size
        for feature in ("age", "spend", "visits"):
            assert segment.center[feature] == pytest.approx(float(members[feature].mean()), rel=1e-9)
            assert segment.median[feature] == pytest.approx(float(members[feature].median()), rel=0.01)


def test_spark_scorer_gives_every_published_segment(both: tuple[Report, Report]) -> None:
    """scorer.sql of a Spark report applies Spark's scaling and centres: every published row keeps its segment."""
    _, spark = both
    assert spark.scorer is not None
    assert spark.rows is not None
    rows = pd.read_csv(io.BytesIO(spark.rows), dtype={"customer": str})
    connection = sqlite3.connect(":memory:")
    rows.drop(columns=["segment", "segment_name"]).to_sql("customers", connection, index=False)
    scored = pd.read_sql_query(spark.scorer, connection).set_index("customer")["segment"]
    assert (scored.loc[rows["customer"]].to_numpy() == rows["segment"].to_numpy()).all()


def test_spark_measures_match_scikit_learn_definitions(both: tuple[Report, Report]) -> None:
    local, spark = both
    theirs = {c.k: c for c in spark.result.evidence.candidates}
    for mine in local.result.evidence.candidates:
        other = theirs[mine.k]
        if mine.k == local.result.k:  # the same partition: the same sums, whichever engine
            assert other.calinski_harabasz == pytest.approx(mine.calinski_harabasz, rel=0.01)
            assert other.davies_bouldin == pytest.approx(mine.davies_bouldin, rel=0.01)
            assert other.silhouette == pytest.approx(mine.silhouette, abs=0.02)
        assert other.min_share == pytest.approx(mine.min_share, abs=0.02)


def test_spark_settings_come_from_the_site_config_then_the_environment(make_project: MakeProject,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(files={"site_config/spark.yml": "spark.master: local[2]\nspark.executor.memory: 2g\n"})
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    assert spark_settings(root) == {"spark.master": "local[2]", "spark.executor.memory": "2g"}
    monkeypatch.setenv("SPARK_MASTER", "spark://cluster:7077")
    assert spark_settings(root)["spark.master"] == "spark://cluster:7077"


@pytest.mark.parametrize(("text", "fragment"), [
    ("master: local\n", "master: not a Spark property"),
    ("spark.master: [a, b]\n", "spark.master: must be one value"),
    ("- spark.master\n", "must map Spark property names"),
])
def test_bad_spark_settings_name_the_file_and_key(make_project: MakeProject, text: str, fragment: str) -> None:
    root = make_project(files={"site_config/spark.yml": text})
    with pytest.raises(UserError, match="site_config/spark.yml: " + fragment):
        spark_settings(root)


def test_without_java_the_spark_engine_says_so(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project({"spark": config_text("spark", "content/customers.csv")},
                        {"content/customers.csv": blobs(50, 1).to_csv(index=False)})
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(root))  # no java here
    (config,) = load_all(root)
    with pytest.raises(UserError, match=r"engine: spark needs Java .* none was found"):
        analyse(config, None, root=root)


@pytest.mark.parametrize(("config", "fragment"), [
    ("title: t\ndata: {a: [1, 2], b: [3, 4]}\nfeatures: [a, b]\nengine: spark\n",
     "data: engine: spark reads a source file or URI"),
    ("title: t\nsource: s3a://bucket/table.xlsx\nfeatures: [a, b]\nengine: spark\n",
     "source: engine: spark reads .csv, .tsv, .parquet files"),
    ("title: t\nsource: s3a://bucket/table.parquet\nfeatures: [a, b]\n",
     "source: 's3a://bucket/table.parquet' is a URI: only engine: spark reads URIs"),
])
def test_spark_only_options_are_checked(make_project: MakeProject, config: str, fragment: str) -> None:
    root = make_project({"t": config})
    with pytest.raises(UserError, match=fragment):
        load_all(root)


def test_a_uri_source_is_accepted_for_spark(make_project: MakeProject) -> None:
    root = make_project({"t": "title: t\nsource: s3a://bucket/table.parquet\nfeatures: [a, b]\nengine: spark\n"})
    (config,) = load_all(root)
    assert config.source == "s3a://bucket/table.parquet"


def test_spark_counts_or_refuses_rows_that_are_not_numbers(make_project: MakeProject) -> None:
    table = blobs(200, 3).astype(object)
    table.loc[5, "age"] = "n/a"
    table.loc[9, "spend"] = ""
    csv = table.to_csv(index=False)
    root = make_project({"fail": config_text("spark", "content/c.csv"),
                         "drop": config_text("spark", "content/c.csv", "missing: drop\n")},
                        {"content/c.csv": csv, "site_config/spark.yml": "spark.master: local[2]\n"})
    configs = {c.id: c for c in load_all(root)}
    with pytest.raises(UserError, match=r"content/c.csv: 2 row\(s\) with missing or non-numeric features"):
        analyse(configs["fail"], None, root=root)
    report = analyse(configs["drop"], None, root=root)
    assert (report.table.rows_read, report.table.rows_used) == (200, 198)
    assert sum(s.size for s in report.result.segments) == 198


def test_data_behind_a_uri_gets_no_cache_entry(make_project: MakeProject) -> None:
    root = make_project({"t": "title: t\nsource: s3a://bucket/table.parquet\nfeatures: [a, b]\nengine: spark\n",
                         "local": TINY_LOCAL})
    configs = {c.id: c for c in load_all(root)}
    assert key(root, configs["t"]) == ""  # it could change without the build seeing it
    assert key(root, configs["local"]).startswith("local.")
