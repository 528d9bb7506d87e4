"""The Spark engine (`engine: spark`): read, scale, cluster and summarise a table in Spark.

Spark MLlib's K-Means runs where the data is: on `local[*]` here, on a cluster elsewhere
(`spark.master` from `site_config/spark.yml` or `SPARK_MASTER`). Only summaries come back to
this machine: per k the centres, sizes and sums of squares; per segment its percentiles; a
bounded random sample of rows for the charts and for the measures that need single rows
(silhouette, stability, the structureless reference), computed there exactly as for the local
engine; and the rows themselves only when `publish_rows` is true.

This is the only module that imports pyspark, and only when a dataset asks for it.
"""

from __future__ import annotations

import operator
import os
import shutil
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from generator.config import DatasetConfig, is_uri, source_digest, spark_settings
from generator.data import LARGEST, Table, personal_data
from generator.errors import UserError
from generator.kmeans import canonical_order
from generator.measures import SILHOUETTE_SAMPLE, STABILITY_SAMPLE, indices_from_sums, sample_measures
from generator.model import SPARK_SAMPLE, choose, k_values
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


def segment_spark(root: Path, config: DatasetConfig) -> tuple[Table, Segmentation, np.ndarray]:
    """The table's accounting, its segmentation, and the segment of every row (file order; none unless
    `publish_rows`), computed in Spark."""
    session = _session(root, config)
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import VectorAssembler
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
        raise UserError(f"{origin}: {bad} row(s) with missing or non-numeric features (read by Spark, which "
                        "does not report lines; fix the data or set missing: drop)")
    frame = checked.filter(F.col("_valid")).drop("_valid")
    count = total - bad
    if count == 0:
        raise UserError(f"{origin}: no row has a number in every feature column")

    names = [f"f{j}" for j in range(len(config.features))]  # features by position: any name is safe
    stats = frame.agg(*[F.avg(n).alias(f"mean{j}") for j, n in enumerate(names)],
                      *[F.stddev_pop(n).alias(f"std{j}") for j, n in enumerate(names)]).first()
    assert stats is not None
    mean = np.array([stats[f"mean{j}"] for j in range(len(names))], dtype=float)
    spread = np.array([stats[f"std{j}"] for j in range(len(names))], dtype=float)
    shift, width = _scaling(frame, names, config.scale, mean, spread)
    scaled = [((F.col(n) - float(shift[j])) / float(width[j])).alias(f"s{j}") for j, n in enumerate(names)]
    vectors = VectorAssembler(inputCols=[f"s{j}" for j in range(len(names))], outputCol="features").transform(
        frame.select("_row", *names, *scaled, *(["_id"] if config.id_column else []))).persist()

    # The sample: a seeded draw, sorted by value so what follows does not depend on its order.
    fraction = min(1.0, 1.5 * SPARK_SAMPLE / count)
    drawn_frame = vectors.sample(False, fraction, seed=config.random_state).orderBy("_row").limit(SPARK_SAMPLE)
    local = _numbers(drawn_frame.select(*names))
    local = local[np.lexsort(local.T[::-1])]
    points = (local - shift) / width

    solutions: dict[int, _Solution] = {}
    for k in k_values(points[:FIT_SAMPLE], config):
        best = None
        for run in range(config.n_init):
            fitted = KMeans(k=k, seed=config.random_state + run, maxIter=MAX_ITER, tol=TOLERANCE,
                            featuresCol="features", predictionCol="cluster").fit(vectors)
            if best is None or fitted.summary.trainingCost < best.summary.trainingCost:
                best = fitted
        assert best is not None
        solutions[k] = _summarise(best, vectors, names, k, count, points, config)
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
    table = Table(
        features=table_frame, ids=ids, rows_read=total,
        dropped={"blank or non-numeric feature values": bad} if bad else {},
        sha256=_digest(root, config), origin=origin, notes=(),
        personal=_personal(drawn_frame, config),
    )
    result = segmentation(
        evidence,
        {k: Solution(s.candidate, s.sizes, s.centers, (s.centers - shift) / width, s.sample)
         for k, s in solutions.items()},
        segments,
        Population(rows=count, fitted=count, overall={f: float(mean[j]) for j, f in enumerate(config.features)},
                   spread={f: float(spread[j]) for j, f in enumerate(config.features)}),
        original=local, scaled=lambda rows: points[rows], fitted=points, seed=config.random_state,
        # What scorer.sql and the calculator apply: Spark's scaling and its own centres, in segment order.
        scoring=Scoring(Affine(tuple(float(v) for v in shift), tuple(float(v) for v in width)),
                        np.array(chosen.model.clusterCenters())[np.argsort(renumber)]))
    vectors.unpersist()
    checked.unpersist()
    return table, result, labels


def _summarise(model: Any, vectors: Any, names: list[str], k: int, count: int, points: np.ndarray,
               config: DatasetConfig) -> _Solution:
    """One k's measures: sizes, means and sums of squares from Spark, the rest on the sample."""
    from pyspark.sql import functions as F

    predicted = model.transform(vectors)
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
    return _Solution(candidate, model, renumber, sizes, originals, sample, jaccard)


def _session(root: Path, config: DatasetConfig) -> Any:
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
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    assert config.source is not None
    location = config.source if is_uri(config.source) else str((root / config.source).resolve())
    suffix = Path(config.source).suffix.lower()
    try:
        if suffix == ".parquet":
            raw = session.read.parquet(location)
        else:
            raw = session.read.csv(location, header=True, sep="\t" if suffix == ".tsv" else ",",
                                   inferSchema=False, encoding="UTF-8", multiLine=False, mode="PERMISSIVE")
    except AnalysisException as error:
        raise UserError(f"{config.source}: Spark cannot read it: {str(error).splitlines()[0][:160]}") from None
    columns = list(raw.columns)
    wanted = [*config.features, *([config.id_column] if config.id_column else [])]
    for name in wanted:
        if name not in columns:
            raise UserError(f"{config.source}: no column {name!r}; the columns are: "
                            f"{', '.join(columns)[:100]} ({config.path} names it)")
    selected = [F.col(f"`{f}`").try_cast("double").alias(f"f{j}") for j, f in enumerate(config.features)]
    if config.id_column:
        selected.append(F.col(f"`{config.id_column}`").cast("string").alias("_id"))
    return raw.select(F.monotonically_increasing_id().alias("_row"), *selected)


def _scaling(frame: Any, names: list[str], method: str, mean: np.ndarray,
             spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift and width per feature (scaled = (x - shift) / width), as the local engine's `scaling`."""
    from pyspark.sql import functions as F

    if method == "standard":
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
    columns = ["_row", *names, "cluster", *(["_id"] if config.id_column else [])]
    rows = predicted.select(*columns).orderBy("_row").toArrow()
    features = pd.DataFrame({f: rows.column(n).to_numpy() for f, n in zip(config.features, names, strict=True)})
    ids = tuple("" if v is None else str(v) for v in rows.column("_id").to_pylist()) if config.id_column else None
    labels = renumber[rows.column("cluster").to_numpy()].astype(np.int8 if len(renumber) < 128 else np.int16)
    return labels, features, ids


def _numbers(frame: Any) -> np.ndarray:
    """A Spark frame of double columns as a rows x columns array (through Arrow, no pandas)."""
    table = frame.toArrow()
    return np.column_stack([table.column(j).to_numpy() for j in range(table.num_columns)]).astype(float)


def _personal(sample: Any, config: DatasetConfig) -> str | None:
    if not config.id_column:
        return None
    cells = tuple("" if v is None else str(v) for v in sample.select("_id").limit(1000).toArrow().column(0).to_pylist())
    return personal_data(config.id_column, cells)


def _digest(root: Path, config: DatasetConfig) -> str:
    return "" if config.source is None or is_uri(config.source) else source_digest(root, config)


