"""Benchmark: customers derived from a big purchase log, against the same derivation in plain pandas.

A measurement, not a test: it prints the numbers and writes them to bench/purchases.md (the
section "Measured", below the hand-written "Choosing the tool", which it keeps).

It writes a seeded synthetic log (zero-padded customer ids, dates over 18 months, amounts in cents)
into a temporary folder, as CSV (dates YYYYMMDD, as CDNOW writes them) and as Parquet (dates of
Parquet's DATE type, as a warehouse writes them), a chunk at a time. Then, per format, it runs each
of these in a fresh child process, so that its peak memory is its own:

- ours:     `generator.purchases.load_customers` (scan the log, check and parse every row, derive
            recency, frequency and monetary at as_of);
- pandas:   recency, frequency and monetary as a plain pandas script: `read_csv` (or `read_parquet`),
            `to_datetime`, `groupby().agg` (max date, sum of amounts, distinct days);
- build:    the real pipeline of one dataset, `generator.build.load` and `analyse_dataset`: the
            derivation, K-Means with k fixed on log-scaled features, profiles, rules, every chart and
            the downloads.

Targets (issue 23): the build at most 1.5x the pandas derivation's time, and its peak memory under 4 GB.

Run: nice .venv/bin/python bench/purchases.py [--rows 50000000] [--customers 2000000] [--formats csv parquet]
"""

from __future__ import annotations

import argparse
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
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "purchases.md"
MEASURED = "## Measured"  # bench/purchases.md from this heading on is this script's
CHUNK = 5_000_000  # rows generated and written at a time
CONFIG = """title: Synthetic purchases
transactions:
  source: content/data/log.{suffix}
  customer: customer
  date: date
  amount: amount{date_format}
features: [recency, frequency, monetary]
scale: log
n_clusters: 4{snapshots}
"""
SNAPSHOTS = "\nas_of: 1998-06-30\nsnapshots: [1997-09-30, 1997-12-31, 1998-03-31, 1998-06-30]"  # with --snapshots
TIME_RATIO = 1.5
MEMORY_GB = 4.0

# The child's own peak resident memory in kB: VmHWM starts afresh at exec (ru_maxrss would keep the parent's).
PEAK = """
import re
PEAK = lambda: int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
"""

OURS = PEAK + """
import sys, time
from pathlib import Path
from generator.config import load_dataset
from generator.purchases import load_customers
root = Path(sys.argv[1])
start = time.perf_counter()
customers = load_customers(root, load_dataset(root, root / "site_config/datasets/log.yml"))
seconds = time.perf_counter() - start
print(seconds, PEAK(), customers.table.rows_used,
      float(customers.table.features["monetary"].sum()))
"""

PANDAS = PEAK + """
import sys, time
import pandas as pd
start = time.perf_counter()
path = sys.argv[1]
if path.endswith(".csv"):
    log = pd.read_csv(path, dtype={"customer": str})
    log["date"] = pd.to_datetime(log["date"].astype(str), format="%Y%m%d")
else:
    log = pd.read_parquet(path)
    log["date"] = pd.to_datetime(log["date"])
as_of = log["date"].max()
found = log.groupby("customer").agg(last=("date", "max"), monetary=("amount", "sum"), frequency=("date", "nunique"))
found["recency"] = (as_of - found["last"]).dt.days
seconds = time.perf_counter() - start
print(seconds, PEAK(), len(found), float(found["monetary"].sum()))
"""

BUILD = PEAK + """
import sys, time
from pathlib import Path
from generator.build import analyse_dataset, load
from generator.config import load_dataset
root = Path(sys.argv[1])
start = time.perf_counter()
config = load_dataset(root, root / "site_config/datasets/log.yml")
report = analyse_dataset(root, config, load(root, config), None)
seconds = time.perf_counter() - start
print(seconds, PEAK(), report.table.rows_used, 0.0)
"""


def write_logs(folder: Path, rows: int, customers: int, seed: int = 42) -> dict[str, int]:
    """A seeded log of `rows` purchases by `customers` over 18 months, as log.csv and log.parquet in
    `folder`, written a chunk at a time; the bytes of each."""
    rng = np.random.default_rng(seed)
    # Some customers buy much more often than others (a skewed draw), as in real shops.
    weights = rng.pareto(1.5, customers) + 1
    weights /= weights.sum()
    folder.mkdir(parents=True, exist_ok=True)
    text = pa.schema([("customer", pa.string()), ("date", pa.int64()), ("amount", pa.float64())])
    typed = pa.schema([("customer", pa.string()), ("date", pa.date32()), ("amount", pa.float64())])
    with pcsv.CSVWriter(folder / "log.csv", text, write_options=pcsv.WriteOptions(quoting_style="none")) as csv, \
            pq.ParquetWriter(folder / "log.parquet", typed) as parquet:
        for start in range(0, rows, CHUNK):
            size = min(CHUNK, rows - start)
            who = np.char.zfill(rng.choice(customers, size=size, p=weights).astype(str), 7)
            days = np.datetime64("1997-01-01") + rng.integers(0, 546, size=size).astype("timedelta64[D]")
            amount = np.round(rng.lognormal(3, 0.8, size=size), 2)
            stamp = np.char.replace(np.datetime_as_string(days, unit="D"), "-", "").astype(np.int64)
            csv.write_table(pa.table({"customer": who, "date": stamp, "amount": amount}, schema=text))
            parquet.write_table(pa.table({"customer": who, "date": days, "amount": amount}, schema=typed))
    return {suffix: (folder / f"log.{suffix}").stat().st_size for suffix in ("csv", "parquet")}


def measure(script: str, argument: Path) -> tuple[float, float, int, float]:
    """Seconds, peak resident memory (GB), customers and the sum of monetary, from a child process."""
    done = subprocess.run([sys.executable, "-c", script, str(argument)], cwd=ROOT, check=False,  # noqa: S603
                          capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise SystemExit(done.stderr)
    seconds, peak, customers, total = done.stdout.split()
    return float(seconds), int(peak) / 1024**2, int(customers), float(total)


def project(folder: Path, suffix: str, snapshots: bool) -> Path:
    """A project whose one dataset is the log in `suffix`'s format (followed over four quarters with `snapshots`)."""
    root = folder / suffix
    (root / "site_config" / "datasets").mkdir(parents=True)
    (root / "content" / "data").mkdir(parents=True)
    os.link(folder / f"log.{suffix}", root / "content" / "data" / f"log.{suffix}")  # inside the project: no link out
    date_format = '\n  date_format: "%Y%m%d"' if suffix == "csv" else ""
    text = CONFIG.format(suffix=suffix, date_format=date_format, snapshots=SNAPSHOTS if snapshots else "")
    (root / "site_config" / "datasets" / "log.yml").write_text(text, encoding="utf-8")
    return root


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: rows / 25")
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"], choices=["parquet", "csv"])
    parser.add_argument("--snapshots", action="store_true", help="derive (and segment) four quarterly snapshots too")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    customers = arguments.customers or max(arguments.rows // 25, 1)
    load_before = uptime()
    lines = [MEASURED, "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"{time.strftime('%Y-%m-%d %H:%M')} UTC.", "", f"Load before: `{load_before}`", ""]
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="bench-purchases-") as name:
        folder = Path(name)
        started = time.perf_counter()
        sizes = write_logs(folder, arguments.rows, customers)
        print(f"logs: {arguments.rows:,} rows of {customers:,} customers, written in "
              f"{time.perf_counter() - started:.0f} s: " + ", ".join(f"{suffix} {size / 1e6:,.0f} MB"
                                                                    for suffix, size in sizes.items()), flush=True)
        lines += [f"Log: {arguments.rows:,} purchase rows of {customers:,} customers; "
                  + ", ".join(f"{suffix.upper()} {size / 1e6:,.0f} MB" for suffix, size in sizes.items()) + ".", "",
                  "| log | step | time (s) | peak memory (GB) |", "| --- | --- | ---: | ---: |"]
        for suffix in arguments.formats:
            root = project(folder, suffix, arguments.snapshots)
            ours = measure(OURS, root)
            print(f"{suffix} ours:   {ours[0]:.1f} s, peak {ours[1]:.2f} GB, {ours[2]:,} customers", flush=True)
            plain = measure(PANDAS, folder / f"log.{suffix}")
            print(f"{suffix} pandas: {plain[0]:.1f} s, peak {plain[1]:.2f} GB, {plain[2]:,} customers", flush=True)
            if ours[2] != plain[2] or not np.isclose(ours[3], plain[3], rtol=1e-9):
                print(f"{suffix}: the two derivations disagree", file=sys.stderr)
                return 1
            build = measure(BUILD, root)
            print(f"{suffix} build:  {build[0]:.1f} s, peak {build[1]:.2f} GB", flush=True)
            shown = suffix.upper()
            lines += [f"| {shown} | ours: `load_customers` (scan, check, derive) | {ours[0]:.1f} | {ours[1]:.2f} |",
                      f"| {shown} | plain pandas: read, `to_datetime`, `groupby().agg` (R/F/M) | {plain[0]:.1f} | "
                      f"{plain[1]:.2f} |",
                      f"| {shown} | whole build of the dataset (k = 4, scale: log) | {build[0]:.1f} | {build[1]:.2f} |"]
            ratio = build[0] / plain[0]
            verdicts += [f"- {shown}: whole build / plain pandas derivation = {ratio:.2f} (target at most "
                         f"{TIME_RATIO}): {'PASS' if ratio <= TIME_RATIO else 'FAIL'}; derivation alone "
                         f"{ours[0] / plain[0]:.2f}.",
                         f"- {shown}: the whole build peaks at {build[1]:.2f} GB (target under {MEMORY_GB} GB): "
                         f"{'PASS' if build[1] < MEMORY_GB else 'FAIL'}; plain pandas at {plain[1]:.2f} GB."]
    lines += ["", *verdicts, "- Ours and pandas find the same customers and the same total spend.", "",
              f"Load after: `{uptime()}`"]
    text = "\n".join(lines) + "\n"
    print(text)
    before = arguments.output.read_text(encoding="utf-8") if arguments.output.exists() else ""
    kept = before.split(MEASURED)[0] if MEASURED in before else before
    arguments.output.write_text(kept + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
