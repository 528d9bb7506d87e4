"""The Spark engine (`engine: spark`): read, scale, cluster and summarise a table in Spark.

Spark MLlib's K-Means runs where the data is: on `local[*]` here, on a cluster elsewhere
(`spark.master` from `site_config/spark.yml` or `SPARK_MASTER`). Only summaries come back to
this machine: per k the centres, sizes and sums of squares; per segment its percentiles; a
bounded random sample of rows for the charts and for the measures that need single rows
(silhouette, stability, the structureless reference), computed there exactly as for the local
engine; and the rows themselves only when `publish_rows` is true.

With `transactions`, `spark_customers` derives the customers in Spark first (at as_of and at
every snapshot date); each date is clustered here, and migration gets back only counts of
customers between consecutive dates (and, with `publish_rows`, each customer's segments).

This module and `spark_customers` are the only ones that import pyspark, and only when a
dataset asks for it.
"""

from __future__ import annotations

import datetime
import itertools
import operator
import os
import shutil
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from generator import formats, spark_customers
from generator.config import DatasetConfig, is_uri, source_digest, spark_settings
from generator.data import LARGEST, Table, personal_data
from generator.errors import UserError
from generator.kmeans import canonical_order
from generator.measures import SILHOUETTE_SAMPLE, STABILITY_SAMPLE, indices_from_sums, sample_measures
from generator.model import SPARK_SAMPLE, choose, k_values
from generator.purchases import LogSummary
from generator.recommendation import Candidate, band, smallest
from generator.scaling import FIT_SAMPLE, Affine, rounded_scaling
from generator.segmentation import QUANTILES, Population, Scoring, Segment, Segmentation, Solution, segmentation

MAX_ITER = 300  # K-Means iterations at most, as in scikit-learn
TOLERANCE = 1e-4
QUANTILE_ACCURACY = 10_000  # percentile_approx: relative error about 1 / this


@dataclass(frozen=True)
class _Solution:
    """One k fitted in Spark: its measures, the model, and its segments in canonical order."""

    candidate: Candidate
    model: Any  # pyspark's KMeansModel
    renumber: np.ndarray  # canonical number of each of Spark's clusters
    sizes: np.ndarray
    centers: np.ndarray  # segments x features, the mean of each segment's rows in original units
    sample: np.ndarray  # the canonical segment of every sampled row
    jaccard: tuple[float | None, ...]
    scaled: np.ndarray  # segments x features, the mean of each segment's rows as K-Means saw them


@dataclass(frozen=True)
class Dated:
    """The snapshot dates segmented in Spark, each in its own canonical numbers (migration matches them):
    per date its customers and segments, per consecutive pair the customers between them
    (`counts[i][j]`: in segment i, row k: not yet a customer, then in segment j), and with
    `publish_rows` each customer's segment at every date (-1: not yet a customer)."""

    dates: tuple[tuple[datetime.date, int, tuple[Segment, ...]], ...]
    counts: tuple[np.ndarray, ...]
    labels: np.ndarray | None


@dataclass(frozen=True)
class _Clustered:
    """A frame clustered in Spark: the segmentation, what the Table holds, and every row's segment
    (`labels` in file order, only with `publish_rows`; `predicted` as a Spark frame, always)."""

    result: Segmentation
    labels: np.ndarray
    features: pd.DataFrame
    ids: tuple[str, ...] | None
    personal: tuple[str, ...]  # up to 1,000 ids of the sample, for `personal_data`
    predicted: Any  # `_row`, `_id` (where there is one) and `segment` (canonical) of every row


def segment_spark(root: Path, config: DatasetConfig) -> tuple[Table, Segmentation, np.ndarray]:
    """The table's accounting, its segmentation, and the segment of every row (file order; none unless
    `publish_rows`), computed in Spark."""
    session = spark_session(root, config)
    from pyspark.sql import functions as F

    frame = _read(session, root, config)
    total = frame.count()
    valid = F.lit(True)
    for j in range(len(config.features)):
        column = F.col(f"f{j}")
        valid = valid & column.isNotNull() & ~F.isnan(column) & (F.abs(column) <= LARGEST)
    checked = frame.withColumn("_valid", valid).persist()
    bad = checked.filter(~F.col("_valid")).count()
    origin = config.source or ""
    if bad and config.missing == "fail":
        raise UserError(f"{origin}: {formats.count(bad)} row(s) with missing or non-numeric features (read by "
                        "Spark, which does not report lines; fix the data or set missing: drop)")
    frame = checked.filter(F.col("_valid")).drop("_valid")
    count = total - bad
    if count == 0:
        raise UserError(f"{origin}: no row has a number in every feature column")
    if config.scale == "log":
        below = frame.agg(*[F.sum((F.col(f"f{j}") < 0).cast("long")).alias(f"n{j}")
                            for j in range(len(config.features))]).first()
        assert below is not None
        for j, name in enumerate(config.features):
            if below[f"n{j}"]:
                raise UserError(f"{origin}: column {name!r}: {formats.count(below[f'n{j}'])} negative value(s); "
                                f"scale: log ({config.path}) needs values of 0 or more")
    done = _cluster(frame, count, config)
    table = Table(
        features=done.features, ids=done.ids, rows_read=total,
        dropped={"blank or non-numeric feature values": bad} if bad else {},
        sha256=_digest(root, config), origin=origin, notes=(),
        personal=personal_data(config.id_column, done.personal) if config.id_column else None,
    )
    checked.unpersist()
    done.predicted.unpersist()
    return table, done.result, done.labels


def segment_log_spark(root: Path, config: DatasetConfig
                      ) -> tuple[Table, Segmentation, np.ndarray, LogSummary, Dated | None]:
    """A purchase log's customers derived and segmented in Spark, at as_of and at every snapshot date, and
    the segment of every customer (none unless `publish_rows`)."""
    assert config.transactions is not None
    session = spark_session(root, config)
    log = spark_customers.read_log(session, root, config)
    as_of = config.as_of or log.last
    spark_customers.check_dates(log, config, as_of)
    frame, returns_only = spark_customers.customers(log, config, as_of)
    count = frame.count()
    done = _cluster(frame, count, config)
    customer = config.transactions.customer
    table = Table(features=done.features, ids=done.ids, rows_read=count, dropped={}, sha256=_digest(root, config),
                  origin=log.origin, personal=personal_data(customer, done.personal))
    summary = spark_customers.summary(log, config, as_of, count, returns_only)
    dated = _follow(log, config, as_of, frame, done) if config.snapshots else None
    for cached in (done.predicted, frame, log.frame):
        cached.unpersist()
    return table, done.result, done.labels, summary, dated


def _follow(log: spark_customers.SparkLog, config: DatasetConfig, as_of: datetime.date, last: Any,
            done: _Clustered) -> Dated:
    """Every snapshot date before as_of segmented with the report's k; the customers between dates counted."""
    from pyspark.sql import functions as F

    k = done.result.k
    dates, predictions = [], []
    for date in config.snapshots:
        if date == as_of:
            dates.append((date, done.result.population.rows, done.result.segments))
            predictions.append(done.predicted)
            continue
        frame, _ = spark_customers.customers(log, config, date, within=last)
        distinct = frame.select(*[f"f{j}" for j in range(len(config.features))]).distinct().limit(k).count()
        if distinct < k:
            raise UserError(f"{config.path}: snapshots: {k} segments need at least {k} distinct customers; on "
                            f"{date.isoformat()} there are {distinct}")
        segments, predicted = _segments_at(frame, k, config)
        frame.unpersist()
        dates.append((date, int(sum(s.size for s in segments)), segments))
        predictions.append(predicted)
    counts = []
    for earlier, later in itertools.pairwise(predictions):
        moved = later.select("_id", F.col("segment").alias("to")).join(
            earlier.select("_id", F.col("segment").alias("from")), "_id", "left")
        table = np.zeros((k + 1, k), dtype=np.int64)
        for row in moved.groupBy("from", "to").count().collect():
            table[k if row["from"] is None else int(row["from"]), int(row["to"])] = row["count"]
        counts.append(table)
    labels = None
    if config.publish_rows:
        every = done.predicted.select("_row", "_id")
        for column, predicted in enumerate(predictions):
            every = every.join(predicted.select("_id", F.col("segment").alias(f"d{column}")), "_id", "left")
        got = every.orderBy("_row").select(*[F.coalesce(F.col(f"d{c}"), F.lit(-1)).alias(f"d{c}")
                                             for c in range(len(predictions))]).toArrow()
        labels = np.column_stack([got.column(c).to_numpy() for c in range(got.num_columns)]).astype(np.int64)
    for predicted in predictions:
        predicted.unpersist()
    return Dated(tuple(dates), tuple(counts), labels)


def _segments_at(frame: Any, k: int, config: DatasetConfig) -> tuple[tuple[Segment, ...], Any]:
    """A snapshot's customers clustered with k alone (its own scaling, n_init restarts): its segments in
    canonical order, and every customer's segment (`_id`, `segment`)."""
    from pyspark.sql import functions as F

    names = [f"f{j}" for j in range(len(config.features))]
    count = frame.count()
    vectors, _, _, _ = _vectors(frame, names, config)
    predicted = _best_fit(vectors, k, config).transform(vectors)
    sizes, originals, scaled = _means(predicted, names, k)
    renumber = canonical_order(sizes, scaled)
    segments = tuple(sorted((Segment(number=int(renumber[c]), size=int(sizes[c]), share=float(sizes[c] / count),
                                     center={f: float(originals[c, j]) for j, f in enumerate(config.features)})
                             for c in range(k)), key=lambda s: s.number))
    numbers = F.array(*[F.lit(int(v)) for v in renumber])
    segmented = predicted.select("_id", F.element_at(numbers, F.col("cluster") + 1).alias("segment")).persist()
    segmented.count()  # kept before the vectors (and the date's customers) are let go
    vectors.unpersist()
    return segments, segmented


def _vectors(frame: Any, names: list[str], config: DatasetConfig) -> tuple[Any, np.ndarray, np.ndarray, Affine]:
    """The rows with their scaled features (`s0`..) and as one vector column; the means and standard
    deviations of the features; the scaling, as the local engine's `scaling` fits it."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    stats = frame.agg(*[F.avg(n).alias(f"mean{j}") for j, n in enumerate(names)],
                      *[F.stddev_pop(n).alias(f"std{j}") for j, n in enumerate(names)]).first()
    assert stats is not None
    mean = np.array([stats[f"mean{j}"] for j in range(len(names))], dtype=float)
    spread = np.array([stats[f"std{j}"] for j in range(len(names))], dtype=float)
    shift, width = _scaling(frame, names, config.scale, mean, spread)
    logged = config.scale == "log"
    scaled = [(((F.log1p(n) if logged else F.col(n)) - float(shift[j])) / float(width[j])).alias(f"s{j}")
              for j, n in enumerate(names)]
    ids = ["_id"] if "_id" in frame.columns else []
    vectors = VectorAssembler(inputCols=[f"s{j}" for j in range(len(names))], outputCol="features").transform(
        frame.select("_row", *names, *scaled, *ids)).persist()
    affine = Affine(tuple(float(v) for v in shift), tuple(float(v) for v in width), log=logged)
    return vectors, mean, spread, affine


def _cluster(frame: Any, count: int, config: DatasetConfig) -> _Clustered:
    """Scale, cluster and summarise a frame of `_row`, features `f0`.. (and `_id`) in Spark."""
    from pyspark.sql import functions as F

    names = [f"f{j}" for j in range(len(config.features))]  # features by position: any name is safe
    vectors, mean, spread, affine = _vectors(frame, names, config)

    # The sample: a seeded draw, sorted by value so what follows does not depend on its order.
    fraction = min(1.0, 1.5 * SPARK_SAMPLE / count)
    drawn_frame = vectors.sample(False, fraction, seed=config.random_state).orderBy("_row").limit(SPARK_SAMPLE)
    local = _numbers(drawn_frame.select(*names))
    local = local[np.lexsort(local.T[::-1])]
    points = affine.apply(local)

    solutions: dict[int, _Solution] = {}
    for k in k_values(points[:FIT_SAMPLE], config):
        solutions[k] = _summarise(_best_fit(vectors, k, config), vectors, names, k, count, points, config)
    evidence = choose(tuple(s.candidate for s in solutions.values()), config,
                      silhouette_sampled=len(points) < count or len(points) > SILHOUETTE_SAMPLE,
                      stability_sampled=len(points) < count or len(points) > STABILITY_SAMPLE)
    chosen = solutions[evidence.k]
    renumber = chosen.renumber
    predicted = chosen.model.transform(vectors)
    cuts = predicted.groupBy("cluster").agg(*[
        F.percentile_approx(n, [q / 100 for q in QUANTILES], QUANTILE_ACCURACY).alias(f"q{j}")
        for j, n in enumerate(names)]).collect()
    quantiles = {int(renumber[row["cluster"]]): [tuple(float(v) for v in row[f"q{j}"]) for j in range(len(names))]
                 for row in cuts}
    segments = tuple(
        Segment(number=s, size=int(chosen.sizes[s]), share=float(chosen.sizes[s] / count),
                center={f: float(chosen.centers[s, j]) for j, f in enumerate(config.features)},
                stability=chosen.jaccard[s], band=band(chosen.jaccard[s]),
                median={f: quantiles[s][j][QUANTILES.index(50)] for j, f in enumerate(config.features)},
                quantiles={f: quantiles[s][j] for j, f in enumerate(config.features)})
        for s in range(evidence.k))

    labels, table_frame, ids = _rows(predicted, names, config, renumber) if config.publish_rows else (
        np.zeros(0, dtype=np.int8), pd.DataFrame(index=pd.RangeIndex(count)), None)
    result = segmentation(
        evidence,
        {k: Solution(s.candidate, s.sizes, s.centers, s.scaled, s.sample) for k, s in solutions.items()},
        segments,
        Population(rows=count, fitted=count, overall={f: float(mean[j]) for j, f in enumerate(config.features)},
                   spread={f: float(spread[j]) for j, f in enumerate(config.features)}),
        original=local, scaled=lambda rows: points[rows], fitted=points, seed=config.random_state,
        # What scorer.sql and the calculator apply: Spark's scaling and its own centres, in segment order.
        scoring=Scoring(affine, np.array(chosen.model.clusterCenters())[np.argsort(renumber)]))
    numbers = F.array(*[F.lit(int(v)) for v in renumber])
    segmented = predicted.select("_row", *(["_id"] if "_id" in frame.columns else []),
                                 F.element_at(numbers, F.col("cluster") + 1).alias("segment")).persist()
    personal = _personal(drawn_frame) if "_id" in frame.columns else ()
    vectors.unpersist()
    return _Clustered(result, labels, table_frame, ids, personal, segmented)


def _best_fit(vectors: Any, k: int, config: DatasetConfig) -> Any:
    """Spark MLlib's K-Means with k, the best of n_init seeded restarts (the lowest within sum of squares)."""
    from pyspark.ml.clustering import KMeans

    best = None
    for run in range(config.n_init):
        fitted = KMeans(k=k, seed=config.random_state + run, maxIter=MAX_ITER, tol=TOLERANCE,
                        featuresCol="features", predictionCol="cluster").fit(vectors)
        if best is None or fitted.summary.trainingCost < best.summary.trainingCost:
            best = fitted
    assert best is not None
    return best


def _means(predicted: Any, names: list[str], k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per Spark cluster of `predicted`: its size, and the mean of its rows in original units (`names`) and
    as K-Means saw them (`s0`..)."""
    from pyspark.sql import functions as F

    width = len(names)
    sums = predicted.groupBy("cluster").agg(
        F.count(F.lit(1)).alias("n"),
        *[F.sum(n).alias(f"o{j}") for j, n in enumerate(names)],
        *[F.sum(f"s{j}").alias(f"m{j}") for j in range(width)]).collect()
    sizes = np.zeros(k, dtype=np.int64)
    originals, scaled = np.zeros((k, width)), np.zeros((k, width))
    for row in sums:
        cluster = int(row["cluster"])
        sizes[cluster] = row["n"]
        originals[cluster] = [row[f"o{j}"] / row["n"] for j in range(width)]
        scaled[cluster] = [row[f"m{j}"] / row["n"] for j in range(width)]
    return sizes, originals, scaled


def _summarise(model: Any, vectors: Any, names: list[str], k: int, count: int, points: np.ndarray,
               config: DatasetConfig) -> _Solution:
    """One k's measures: sizes, means and sums of squares from Spark, the rest on the sample."""
    from pyspark.sql import functions as F

    predicted = model.transform(vectors)
    width = len(names)
    sizes, originals, scaled = _means(predicted, names, k)
    # Distances to the segment means (not to Spark's last centres), summed per segment.
    means = F.array(*[F.array(*[F.lit(float(v)) for v in scaled[c]]) for c in range(k)])
    squared = reduce(operator.add, [(F.col(f"s{j}") - F.element_at(F.element_at(means, F.col("cluster") + 1), j + 1))
                                    ** 2 for j in range(width)])
    spreads = predicted.groupBy("cluster").agg(F.sum(squared).alias("sq"), F.sum(F.sqrt(squared)).alias("d")).collect()
    squares, distances = np.zeros(k), np.zeros(k)
    for row in spreads:
        squares[int(row["cluster"])] = row["sq"]
        distances[int(row["cluster"])] = row["d"]
    overall = (scaled * sizes[:, None]).sum(axis=0) / count
    between = float((sizes * ((scaled - overall) ** 2).sum(axis=1)).sum())
    renumber = canonical_order(sizes, scaled)
    order = np.argsort(renumber)
    sizes, originals, scaled = sizes[order], originals[order], scaled[order]
    squares, distances = squares[order], distances[order]
    inertia = float(squares.sum())
    calinski, davies = indices_from_sums(sizes, scaled, squares, distances, between, count)
    centers = np.array(model.clusterCenters())
    nearest = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    sample = renumber[nearest]
    silhouette, ari, jaccard, spread, reference = sample_measures(points, sample, k, config)
    candidate = Candidate(k=k, inertia=inertia, silhouette=silhouette, calinski_harabasz=calinski,
                          davies_bouldin=davies, min_share=float(sizes.min() / count), stability=ari,
                          reference=reference[0], reference_spread=reference[1], min_jaccard=smallest(jaccard),
                          silhouette_spread=spread)
    return _Solution(candidate, model, renumber, sizes, originals, sample, jaccard, scaled)


def spark_session(root: Path, config: DatasetConfig) -> Any:
    """The Spark session for this build, with the site's settings; clear errors without Java."""
    settings = spark_settings(root)
    java = Path(os.environ["JAVA_HOME"]) / "bin" / "java" if os.environ.get("JAVA_HOME") else None
    if not (java and java.is_file()) and shutil.which("java") is None:
        raise UserError(f"{config.path}: engine: spark needs Java (17 or 21) and none was found (no JAVA_HOME, "
                        "no java on PATH); install it (Debian: apt-get install openjdk-17-jre-headless) "
                        "or set engine: local")
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError(f"{config.path}: engine: spark needs pyspark; install the project again "
                        "(make site installs it) or set engine: local") from None
    builder = SparkSession.builder.appName("segments")
    defaults = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.session.timeZone": "UTC", "spark.sql.shuffle.partitions": "8"}
    if settings["spark.master"].startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # this machine only: no network lookup
    for key, value in (defaults | settings).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except (PySparkException, Py4JError, OSError, RuntimeError) as error:  # Spark's start-up failures
        raise UserError(f"{config.path}: engine: spark could not start Spark "
                        f"(spark.master {settings['spark.master']}): {str(error).splitlines()[0][:160]}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def _read(session: Any, root: Path, config: DatasetConfig) -> Any:
    """The configured columns, features as doubles (cells that are not numbers become null)."""
    from pyspark.sql import functions as F

    assert config.source is not None
    wanted = [*config.features, *([config.id_column] if config.id_column else [])]
    raw = spark_customers.source_frame(session, root, config.source, wanted, str(config.path))
    selected = [F.col(f"`{f}`").try_cast("double").alias(f"f{j}") for j, f in enumerate(config.features)]
    if config.id_column:
        selected.append(F.col(f"`{config.id_column}`").cast("string").alias("_id"))
    return raw.select(F.monotonically_increasing_id().alias("_row"), *selected)


def _scaling(frame: Any, names: list[str], method: str, mean: np.ndarray,
             spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift and width per feature (scaled = (x - shift) / width), as the local engine's `scaling`."""
    from pyspark.sql import functions as F

    if method == "log":  # standard scaling of log1p, as the local engine's
        row = frame.agg(*[F.avg(F.log1p(n)).alias(f"mean{j}") for j, n in enumerate(names)],
                        *[F.stddev_pop(F.log1p(n)).alias(f"std{j}") for j, n in enumerate(names)]).first()
        shift = np.array([row[f"mean{j}"] for j in range(len(names))], dtype=float)
        width = np.array([row[f"std{j}"] for j in range(len(names))], dtype=float)
    elif method == "standard":
        shift, width = mean, spread
    elif method == "minmax":
        row = frame.agg(*[F.min(n).alias(f"lo{j}") for j, n in enumerate(names)],
                        *[F.max(n).alias(f"hi{j}") for j, n in enumerate(names)]).first()
        shift = np.array([row[f"lo{j}"] for j in range(len(names))], dtype=float)
        width = np.array([row[f"hi{j}"] for j in range(len(names))], dtype=float) - shift
    elif method == "robust":
        row = frame.agg(*[F.percentile_approx(n, [0.25, 0.5, 0.75], QUANTILE_ACCURACY).alias(f"q{j}")
                          for j, n in enumerate(names)]).first()
        cuts = np.array([row[f"q{j}"] for j in range(len(names))], dtype=float)
        shift, width = cuts[:, 1], cuts[:, 2] - cuts[:, 0]
    else:
        shift, width = np.zeros(len(names)), np.ones(len(names))
    return rounded_scaling(shift, width)


def _rows(predicted: Any, names: list[str], config: DatasetConfig,
          renumber: np.ndarray) -> tuple[np.ndarray, pd.DataFrame, tuple[str, ...] | None]:
    """Every row with its segment, in file order, for `assignments.csv`."""
    identified = "_id" in predicted.columns
    columns = ["_row", *names, "cluster", *(["_id"] if identified else [])]
    rows = predicted.select(*columns).orderBy("_row").toArrow()
    features = pd.DataFrame({f: rows.column(n).to_numpy() for f, n in zip(config.features, names, strict=True)})
    ids = tuple("" if v is None else str(v) for v in rows.column("_id").to_pylist()) if identified else None
    labels = renumber[rows.column("cluster").to_numpy()].astype(np.int8 if len(renumber) < 128 else np.int16)
    return labels, features, ids


def _numbers(frame: Any) -> np.ndarray:
    """A Spark frame of double columns as a rows x columns array (through Arrow, no pandas)."""
    table = frame.toArrow()
    return np.column_stack([table.column(j).to_numpy() for j in range(table.num_columns)]).astype(float)


def _personal(sample: Any) -> tuple[str, ...]:
    """Up to 1,000 ids of the sample: enough to tell whether they look like personal data."""
    return tuple("" if v is None else str(v) for v in sample.select("_id").limit(1000).toArrow().column(0).to_pylist())


def _digest(root: Path, config: DatasetConfig) -> str:
    source = config.transactions.source if config.transactions is not None else config.source
    return "" if source is None or is_uri(source) else source_digest(root, config)


