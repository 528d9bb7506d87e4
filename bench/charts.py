"""Benchmark: the CPU time of a small report's charts, per chart kind.

A measurement, not a test: it prints one line per chart kind and exits 0. One table of the
many-small case (bench.py's `customers`: 500 rows, eight features, five blobs; `n_clusters: [2, 8]`)
is segmented once; then, in this one warm process, every chart kind is drawn `--repeat` times
(after one drawing that loads matplotlib and its fonts) and its median CPU seconds
(`time.process_time`) are printed. CPU time, not wall time: other processes on the machine
lengthen wall times but not this process's CPU seconds. See bench/README.md, "Where a small
dataset's time goes".

Run: .venv/bin/python bench/charts.py [--rows 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import FEATURES, SMALL_K_RANGE, customers
from generator import illustrations
from generator.config import DatasetConfig, load_all
from generator.data import load_table
from generator.model import segment
from generator.profiles import Profile, profile
from generator.segmentation import Segmentation


def report_inputs(rows: int, folder: Path) -> tuple[DatasetConfig, Segmentation, tuple[Profile, ...]]:
    """One small dataset of the many-small case, segmented and named as the build does it."""
    (folder / "site_config" / "datasets").mkdir(parents=True)
    (folder / "content" / "data").mkdir(parents=True)
    customers(rows, seed=1).to_csv(folder / "content" / "data" / "small.csv", index=False, float_format="%.2f")
    (folder / "site_config" / "datasets" / "small.yml").write_text(
        "title: Small\nsource: content/data/small.csv\n"
        f"features: [{', '.join(FEATURES)}]\nn_clusters: [{SMALL_K_RANGE[0]}, {SMALL_K_RANGE[1]}]\n",
        encoding="utf-8")
    (config,) = load_all(folder)
    result, _ = segment(load_table(folder, config), config, None)
    return config, result, profile(result, config)


def cpu_seconds(kind: str, config: DatasetConfig, result: Segmentation, named: tuple[Profile, ...],
                repeat: int) -> tuple[float, float, int]:
    """The median and the least CPU seconds of planning and drawing one chart kind over `repeat` runs
    (after one to warm up), and how many PNG pairs it drew. On a busy machine the least is nearer
    the chart's own cost: other processes slow this one's CPU seconds too (shared caches)."""
    times = []
    pngs = 0
    for run in range(repeat + 1):
        began = time.process_time()
        pngs = illustrations.draw_kind(kind, config, result, named)
        if run:
            times.append(time.process_time() - began)
    return statistics.median(times), min(times), pngs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CPU seconds of a small report's charts, per chart kind.")
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5, help="measured drawings of every kind (median)")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        config, result, named = report_inputs(arguments.rows, Path(work))
    print(f"{arguments.rows} rows, {len(FEATURES)} features, k {SMALL_K_RANGE[0]}..{SMALL_K_RANGE[1]}; "
          f"CPU seconds (process_time) of {arguments.repeat} drawings: median, least")
    totals = [0.0, 0.0]
    for kind in illustrations.CHART_KINDS:
        median, least, pngs = cpu_seconds(kind, config, result, named, arguments.repeat)
        totals = [totals[0] + median, totals[1] + least]
        print(f"  {kind:16} {median:6.3f} {least:6.3f}  ({pngs} PNG{'s' if pngs != 1 else ''}, "
              "both palettes from one drawing)")
    print(f"  {'all':16} {totals[0]:6.3f} {totals[1]:6.3f}")
    began = time.process_time()
    illustrations.illustrate(config, result, named)()
    print(f"  (one illustrate() call: {time.process_time() - began:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
