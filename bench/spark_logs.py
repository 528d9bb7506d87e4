"""Benchmark: the full CDNOW purchase log through `engine: spark` (local[2]) and the local engine.

A measurement, not a test: it prints the numbers and writes them to bench/spark_logs.md.

The data is not in the repository. The full CDNOW log (69,659 purchases of 23,570 customers,
January 1997 to June 1998; Fader, Hardie and Lee, Marketing Science 24(2), 2005) ships with the
MIT-licensed `lifetimes` package:

    pip download lifetimes --no-deps -d lifetimes
    unzip -o lifetimes/Lifetimes-*.whl 'lifetimes/datasets/CDNOW_master.txt' -d lifetimes

Run: nice .venv/bin/python bench/spark_logs.py lifetimes/lifetimes/datasets/CDNOW_master.txt

It converts the whitespace-separated file to CSV (ids stay zero-padded text, values unchanged)
in a temporary project, builds the shipped CDNOW configuration (scale: log, four quarterly
snapshots, publish_rows: true) with each engine, and checks:

- every customer's recency, frequency and monetary are exactly those of the local engine and of
  a plain pandas derivation written here (distinct days with a positive sum as purchases, exact
  cents);
- migration.csv agrees with assignments.csv (the same customers, the last date's segment is the
  segment) and with segments.json's flows;
- for every k both engines evaluate: inertia within 1% and segment sizes within 5%.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.build import analyse, load  # noqa: E402
from generator.config import load_all  # noqa: E402
from generator.downloads import segments_json  # noqa: E402
from generator.results import Report  # noqa: E402

RESULTS = ROOT / "bench" / "spark_logs.md"
LOG = "content/data/cdnow.csv"
AS_OF = "1998-06-30"
CONFIG = f"""title: CDNOW {{engine}}
transactions:
  source: {LOG}
  customer: customer_id
  date: date
  amount: dollar_value
  date_format: "%Y%m%d"
as_of: {AS_OF}
features: [recency, frequency, monetary]
scale: log
snapshots: [1997-09-30, 1997-12-31, 1998-03-31, {AS_OF}]
publish_rows: true
engine: {{engine}}
"""
INERTIA = 0.01
SIZES = 0.05


def convert(master: Path, target: Path) -> pd.DataFrame:
    """CDNOW_master.txt (whitespace-separated) as the CSV a shop would export; values unchanged."""
    frame = pd.read_csv(master, sep=r"\s+", dtype=str)
    frame.columns = ["customer_id", "date", "number_of_cds", "dollar_value"]
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    return frame


def expected(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract in plain pandas: a purchase is a day whose amounts add up to more than 0."""
    rows = frame.assign(day=pd.to_datetime(frame["date"], format="%Y%m%d"),
                        cents=[int(Decimal(v) * 100) for v in frame["dollar_value"]])
    rows = rows[rows["day"] <= pd.Timestamp(AS_OF)]
    days = rows.groupby(["customer_id", "day"])["cents"].sum().reset_index()
    bought = days[days["cents"] > 0].groupby("customer_id")["day"].agg(["max", "size"])
    total = rows.groupby("customer_id")["cents"].sum().loc[bought.index]
    return pd.DataFrame({"recency": (pd.Timestamp(AS_OF) - bought["max"]).dt.days,
                         "frequency": bought["size"], "monetary_cents": total})


def checks(frame: pd.DataFrame, local: Report, spark: Report) -> list[tuple[str, bool, str]]:
    found = []
    want = expected(frame)
    for name, report in (("local", local), ("spark", spark)):
        rows = pd.read_csv(io.BytesIO(report.rows or b""), dtype=str).set_index("customer_id")
        same_ids = rows.index.tolist() == want.index.tolist()
        equal = same_ids and all(
            (rows[f].astype(int) == want[f]).all() for f in ("recency", "frequency")) and all(
            int(Decimal(v) * 100) == c for v, c in zip(rows["monetary"], want["monetary_cents"], strict=True))
        found.append((f"{name}: every customer's R, F, M equal pandas'", equal, f"{len(rows):,} customers"))
        moves = pd.read_csv(io.BytesIO(report.migration_rows or b""), dtype=str).set_index("customer_id")
        last = moves[f"segment_{AS_OF}"]
        consistent = moves.index.equals(rows.index) and (last == rows["segment"]).all()
        document = json.loads(segments_json(report))
        assert report.migration is not None
        flows = True
        for flow, counted in zip(document["migration"], report.migration.flows, strict=True):
            start, end = moves[f"segment_{flow['from']}"], moves[f"segment_{flow['to']}"]
            present = end.notna()
            table = pd.crosstab(start[present].fillna("new"), end[present].astype(int))
            for i, row in enumerate(flow["rows"]):
                for j, column in enumerate(flow["columns"]):
                    count = int(table.loc[str(row), column]) if str(row) in table.index and column in table else 0
                    flows &= count == counted.counts[i, j]  # every cell, published or withheld
                    cell = flow["counts"][i][j]
                    flows &= isinstance(cell, str) or count == cell
        found.append((f"{name}: migration.csv agrees with assignments.csv, the flows and segments.json",
                      consistent and flows, f"{len(document['migration'])} flows, {len(moves):,} customers"))
    a = pd.read_csv(io.BytesIO(local.rows or b""), dtype=str)
    b = pd.read_csv(io.BytesIO(spark.rows or b""), dtype=str)
    same = a[["customer_id", "recency", "frequency", "monetary"]].equals(b[["customer_id", "recency", "frequency",
                                                                            "monetary"]])
    found.append(("spark's R, F, M written exactly as local's", same, ""))
    chosen = local.result.k
    same_k = spark.result.k == chosen
    found.append(("the same k chosen", same_k, f"local {chosen}, spark {spark.result.k}"))
    theirs = {c.k: c for c in spark.result.evidence.candidates}
    for mine in local.result.evidence.candidates:
        other = theirs[mine.k]
        gap = abs(other.inertia - mine.inertia) / mine.inertia
        mark = " (the chosen k)" if mine.k == chosen else ""
        found.append((f"k={mine.k}{mark}: inertia within 1%", gap <= INERTIA,
                      f"local {mine.inertia:,.1f}, spark {other.inertia:,.1f} ({gap:.2%})"))
        ours, others = local.result.maps.summaries[mine.k].sizes, spark.result.maps.summaries[mine.k].sizes
        worst = float(np.max(np.abs(others - ours) / ours))
        found.append((f"k={mine.k}{mark}: segment sizes within 5%", worst <= SIZES,
                      f"local {list(map(int, ours))}, spark {list(map(int, others))} (worst {worst:.1%})"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("master", type=Path, help="CDNOW_master.txt from the lifetimes package")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="spark-logs-"))
    try:
        frame = convert(arguments.master, folder / LOG)
        datasets = folder / "site_config" / "datasets"
        datasets.mkdir(parents=True)
        (folder / "site_config" / "spark.yml").write_text("spark.master: local[2]\nspark.driver.memory: 2g\n")
        for engine in ("local", "spark"):
            (datasets / f"{engine}.yml").write_text(CONFIG.format(engine=engine))
        configs = {c.id: c for c in load_all(folder)}
        start = time.perf_counter()
        local = analyse(configs["local"], load(folder, configs["local"]))
        local_seconds = time.perf_counter() - start
        start = time.perf_counter()
        spark = analyse(configs["spark"], None, root=folder)
        spark_seconds = time.perf_counter() - start
        found = checks(frame, local, spark)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        "# CDNOW's full log: engine: spark (local[2]) against the local engine",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} cores ({platform.processor() or platform.platform()}), Python {platform.python_version()}; "
        "the machine was shared with other jobs, so the times are indicative. Command: "
        f"`nice .venv/bin/python bench/spark_logs.py CDNOW_master.txt` (see its docstring for the data).",
        "",
        f"- log: {len(frame):,} rows, {frame['customer_id'].nunique():,} customers; "
        f"the chosen k: local {local.result.k}, spark {spark.result.k}",
        f"- whole analysis (derivation at 4 dates, every k of [2, 8] with n_init 10, snapshots, profiles, charts): "
        f"local {local_seconds:.1f} s, spark {spark_seconds:.1f} s (including Spark's start)",
        "",
        "| check | result | numbers |",
        "| --- | --- | --- |",
        *[f"| {name} | {'PASS' if ok else 'FAIL'} | {numbers} |" for name, ok, numbers in found],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    arguments.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
