"""Benchmark: customers derived from a big purchase log, against the same derivation in plain pandas.

A measurement, not a test: it prints the numbers and writes them to bench/purchases.md.

It writes a seeded synthetic log (zero-padded customer ids, YYYYMMDD dates, amounts in cents) as
CSV, then runs each of these in a fresh child process, so that its peak memory is its own:

- ours:     `generator.purchases.load_customers` (read the log, parse it, derive recency,
            frequency, monetary, tenure and average_order at as_of);
- pandas:   the same derivation as a plain pandas script: `read_csv`, `to_datetime`,
            `groupby().agg` (min and max date, sum of amounts, distinct days);
- build:    (with --build) `generator.build.analyse` of the log as a dataset: derivation,
            K-Means with k fixed, profiles and every chart.

Targets: ours at most 1.5x the pandas time; the build's peak memory under 3 GB.

Run: nice .venv/bin/python bench/purchases.py [--rows 10000000] [--build]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "purchases.md"
LOG = "content/data/log.csv"
CONFIG = f"""title: Synthetic purchases
transactions:
  source: {LOG}
  customer: customer
  date: date
  amount: amount
  date_format: "%Y%m%d"
features: [recency, frequency, monetary, tenure, average_order]
n_clusters: 4
"""
TIME_RATIO = 1.5
MEMORY_GB = 3.0

OURS = """
import sys, time, resource
from pathlib import Path
from generator.config import load_dataset
from generator.purchases import load_customers
root = Path(sys.argv[1])
start = time.perf_counter()
customers = load_customers(root, load_dataset(root, root / "site_config/datasets/log.yml"))
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, customers.table.rows_used,
      float(customers.table.features["monetary"].sum()))
"""

PANDAS = """
import sys, time, resource
import pandas as pd
start = time.perf_counter()
log = pd.read_csv(sys.argv[1], dtype={"customer": str})
log["date"] = pd.to_datetime(log["date"].astype(str), format="%Y%m%d")
as_of = log["date"].max()
found = log[log["date"] <= as_of].groupby("customer").agg(
    first=("date", "min"), last=("date", "max"), monetary=("amount", "sum"), frequency=("date", "nunique"))
found["recency"] = (as_of - found["last"]).dt.days
found["tenure"] = (as_of - found["first"]).dt.days
found["average_order"] = found["monetary"] / found["frequency"]
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(found), float(found["monetary"].sum()))
"""

BUILD = """
import sys, time, resource
from pathlib import Path
from generator.build import analyse_dataset, load
from generator.config import load_dataset
root = Path(sys.argv[1])
start = time.perf_counter()
config = load_dataset(root, root / "site_config/datasets/log.yml")
report = analyse_dataset(root, config, load(root, config), None)
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, report.table.rows_used, 0.0)
"""


def write_log(path: Path, rows: int, seed: int = 42) -> int:
    """A seeded log of `rows` purchases by rows / 10 customers over 18 months; returns its bytes."""
    rng = np.random.default_rng(seed)
    customers = max(rows // 10, 1)
    # Some customers buy much more often than others (a skewed draw), as in real shops.
    weights = rng.pareto(1.5, customers) + 1
    who = rng.choice(customers, size=rows, p=weights / weights.sum())
    days = np.datetime64("1997-01-01") + rng.integers(0, 546, size=rows).astype("timedelta64[D]")
    stamp = np.char.replace(np.datetime_as_string(days, unit="D"), "-", "")
    ids = np.char.zfill(who.astype(str), 7)
    amount = np.round(rng.lognormal(3, 0.8, size=rows), 2)
    table = pa.table({"customer": pa.array(ids), "date": pa.array(stamp.astype(np.int64)),
                      "amount": pa.array(amount)})
    path.parent.mkdir(parents=True, exist_ok=True)
    pcsv.write_csv(table, path, write_options=pcsv.WriteOptions(quoting_style="none"))
    return path.stat().st_size


def measure(script: str, argument: Path) -> tuple[float, float, int, float]:
    """Seconds, peak resident memory (GB), customers and the sum of monetary, from a child process."""
    done = subprocess.run([sys.executable, "-c", script, str(argument)], cwd=ROOT, check=True,  # noqa: S603
                          capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)})
    seconds, peak, customers, total = done.stdout.split()
    return float(seconds), int(peak) / 1024**2, int(customers), float(total)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--build", action="store_true", help="also measure a whole analysis of the log")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "site_config" / "datasets").mkdir(parents=True)
        (root / "site_config" / "datasets" / "log.yml").write_text(CONFIG, encoding="utf-8")
        size = write_log(root / LOG, arguments.rows)
        print(f"log: {arguments.rows:,} rows, {size / 1e6:,.0f} MB", flush=True)
        ours = measure(OURS, root)
        print(f"ours:   {ours[0]:.1f} s, peak {ours[1]:.2f} GB, {ours[2]:,} customers", flush=True)
        plain = measure(PANDAS, root / LOG)
        print(f"pandas: {plain[0]:.1f} s, peak {plain[1]:.2f} GB, {plain[2]:,} customers", flush=True)
        if ours[2] != plain[2] or not np.isclose(ours[3], plain[3], rtol=1e-9):
            print("the two derivations disagree", file=sys.stderr)
            return 1
        build = measure(BUILD, root) if arguments.build else None
        if build is not None:
            print(f"build:  {build[0]:.1f} s, peak {build[1]:.2f} GB", flush=True)
    ratio = ours[0] / plain[0]
    lines = [
        "# Purchase logs: customers from a big log",
        "",
        "Written by `bench/purchases.py` (see its docstring). A seeded log of zero-padded customer ids,",
        "YYYYMMDD dates over 18 months and amounts, as CSV; each measurement in a fresh process.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        f"Log: {arguments.rows:,} purchase rows, {size / 1e6:,.0f} MB, {ours[2]:,} customers.",
        "",
        "| | time (s) | peak memory (GB) |",
        "| --- | ---: | ---: |",
        f"| ours: `load_customers` (read, parse, derive five features) | {ours[0]:.1f} | {ours[1]:.2f} |",
        f"| plain pandas: `read_csv`, `to_datetime`, `groupby().agg` | {plain[0]:.1f} | {plain[1]:.2f} |",
    ]
    if build is not None:
        lines.append(f"| whole analysis: derivation, K-Means (k = 4), profiles, charts | {build[0]:.1f} | "
                     f"{build[1]:.2f} |")
    lines += ["", f"- Time: ours / plain pandas = {ratio:.2f} (target at most {TIME_RATIO}): "
                  f"{'PASS' if ratio <= TIME_RATIO else 'FAIL'}."]
    peak = build[1] if build is not None else ours[1]
    what = "whole analysis" if build is not None else "derivation"
    lines.append(f"- Memory: the {what} peaks at {peak:.2f} GB (target under {MEMORY_GB} GB): "
                 f"{'PASS' if peak < MEMORY_GB else 'FAIL'}.")
    lines.append("- Both derivations find the same customers and the same total spend.")
    text = "\n".join(lines) + "\n"
    print(text)
    arguments.output.write_text(text, encoding="utf-8")
    print(json.dumps({"ratio": ratio, "peak_gb": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
