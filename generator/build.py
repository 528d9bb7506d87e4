"""The pipeline: dataset files -> validated configs -> tables -> segments -> charts -> pages.

`generate` returns every generated file as bytes in memory; it writes nothing. The MkDocs
hook adds the files to the build, the CLI writes them to a folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, replace
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from generator import __version__, cache, figures, model
from generator.config import DatasetConfig, load_all
from generator.data import Table, load_table
from generator.downloads import assignments_csv, segments_json
from generator.illustrations import illustrate
from generator.model import segment
from generator.pages import environment, reference_page, report_page, reports_index, tutorial_page
from generator.profiles import profile
from generator.results import Report
from generator.spark import segment_spark
from generator.standalone import standalone_report
from generator.tutorial import run_tutorial


@dataclass(frozen=True)
class GeneratedFile:
    """A file of the site that the build makes: its path under the docs root, and its bytes."""

    path: str
    content: bytes


def validate(root: Path) -> list[tuple[DatasetConfig, Table | None]]:
    """Check every configuration, then every table the local engine reads, without clustering;
    raise `UserError`. Every dataset comes back, with None for the tables Spark reads itself, at
    build time."""
    return [(config, load_table(root, config) if config.engine == "local" else None) for config in load_all(root)]


def generate(root: Path, store: cache.FolderCache | None = None,
             log: Callable[[str], None] = lambda line: None) -> list[GeneratedFile]:
    """Every generated page, image and download of the site, in a stable order.

    With a `store`, a dataset whose data, configuration and code are unchanged is not
    analysed again. `log` receives one line per dataset: "cached" or "computed in N s".
    What is computed runs in one pool of processes, one per core: the tutorial from the
    start, then whole datasets side by side, or a dataset's k and charts side by side.
    """
    # Stage 1: every configuration is valid before any data is read.
    configs = load_all(root)
    entries = [cache.key(root, config) if store else "" for config in configs]
    cached = [store.load(entry) if store and entry else None for entry in entries]
    lesson = cache.tutorial_key() if store else ""
    tutorial = store.load_tutorial(lesson) if store else None
    cores = os.cpu_count() or 1
    busy = tutorial is None or any(report is None for report in cached)
    with ExitStack() as stack:
        pool: Executor | None = (stack.enter_context(ProcessPoolExecutor(cores, mp_context=get_context("spawn")))
                                 if busy and cores > 1 else None)
        # The tutorial, every output of which comes from running its own code (once per version
        # of the code and libraries: its results are kept like a dataset's), runs meanwhile.
        running = pool.submit(run_tutorial) if pool is not None and tutorial is None else None
        if pool is not None:
            for _ in range(cores - 1):
                pool.submit(_preload)  # the other workers import the libraries while tables load
        # Stage 2: every table not in the cache loads and parses before anything is clustered.
        tables = [load_table(root, config) if report is None and config.engine == "local" else None
                  for config, report in zip(configs, cached, strict=True)]  # Spark reads its own
        # Stage 3: segment, name and draw each dataset not in the cache.
        reports = _analyse_all(root, configs, tables, cached, entries, store, log, pool)
        if tutorial is None:
            tutorial = running.result() if running is not None else run_tutorial()
            if store:
                store.store(lesson, tutorial)
    # Stage 4: each report's page, charts and downloads; then the pages spanning all of them.
    env = environment(root)
    files: list[GeneratedFile] = []
    for report in reports:
        folder = f"reports/{report.config.id}"
        files.append(GeneratedFile(f"{folder}/index.md", report_page(report, env).encode()))
        files += [GeneratedFile(f"{folder}/{name}", content)
                  for image in report.illustrations.images() for name, content in image.files()]
        files.append(GeneratedFile(f"{folder}/report.html", standalone_report(report, env)))
        files.append(GeneratedFile(f"{folder}/segments.json", segments_json(report)))
        if report.rows is not None:
            files.append(GeneratedFile(f"{folder}/assignments.csv", report.rows))
    files.append(GeneratedFile("reports/index.md", reports_index(reports, env).encode()))
    files.append(GeneratedFile("reference/configuration.md", reference_page(env).encode()))
    files.append(GeneratedFile("tutorial/index.md", tutorial_page(tutorial, env).encode()))
    files.append(GeneratedFile("tutorial/clusters.png", tutorial.image))
    files.append(GeneratedFile("tutorial/scaling.png", tutorial.comparison))
    files += [GeneratedFile(f"tutorial/clusters-k{t.k}.png", t.image) for t in tutorial.trials]
    return files


def _analyse_all(root: Path, configs: list[DatasetConfig], tables: list[Table | None], cached: list[Report | None],
                 entries: list[str], store: cache.FolderCache | None, log: Callable[[str], None],
                 pool: Executor | None) -> list[Report]:
    """Each dataset's report, from the cache or computed, using the pool's processes.

    Every fit runs on one thread, so processes are the way to use more cores, and the results
    are the same bytes whichever process computes them.
    """
    reports: dict[int, Report] = {}
    todo: list[tuple[int, str]] = []
    for index, (config, report) in enumerate(zip(configs, cached, strict=True)):
        if report is not None:
            log(f"{config.id}: cached")
            reports[index] = report
        else:
            todo.append((index, entries[index]))
    datasets = [(root, config, table) for config, table in zip(configs, tables, strict=True)]

    def done(index: int, entry: str, report: Report, seconds: float) -> None:
        finished = len(reports) - (len(configs) - len(todo)) + 1
        progress = f" ({finished} of {len(todo)} to compute)" if len(todo) > 1 else ""
        log(f"{report.config.id}: computed in {seconds:.1f} s{progress}")
        if store and entry:
            store.store(entry, report)
        reports[index] = report

    if pool is not None and len(todo) >= (os.cpu_count() or 1):  # whole datasets side by side
        futures = {pool.submit(_timed, *datasets[index]): (index, entry) for index, entry in todo}
        for future in as_completed(futures):
            done(*futures[future], *future.result())
    else:  # fewer datasets than cores: each one's k and charts side by side
        for index, entry in todo:
            done(index, entry, *_timed(*datasets[index], pool))
    return [reports[index] for index in range(len(datasets))]


def _preload() -> None:
    model.preload()
    figures.preload()


def _timed(root: Path, config: DatasetConfig, table: Table | None,
           pool: Executor | None = None) -> tuple[Report, float]:
    start = time.perf_counter()
    return _slim(analyse(config, table, pool, root=root)), time.perf_counter() - start


def analyse(config: DatasetConfig, table: Table | None, pool: Executor | None = None, *,
            root: Path | None = None) -> Report:
    """One dataset's segments, profiles and charts; its parts in `pool`'s processes, if given.

    The local engine works on the loaded `table`; the Spark engine (no table) reads the data
    itself, from `root`.
    """
    if table is None:
        if root is None:
            raise ValueError("the Spark engine needs the project root")
        table, result = segment_spark(root, config)
    else:
        result = segment(table, config, pool)
    named = profile(result, config)
    versions = {"generator": __version__} | {name: metadata.version(name) for name in cache.LIBRARIES}
    return Report(config, table, result, named, illustrate(config, result, named, pool), versions)


def _slim(report: Report) -> Report:
    """The report with its download written and without per-row arrays: what pages and the
    cache need (a cache entry stays small, and loads fast, whatever the number of rows)."""
    table = report.table
    rows = assignments_csv(report) if report.config.publish_rows else None
    slim = Table(features=pd.DataFrame(index=pd.RangeIndex(table.rows_used)), ids=None, rows_read=table.rows_read,
                 dropped=table.dropped, sha256=table.sha256, origin=table.origin, notes=table.notes,
                 personal=table.personal)
    return replace(report, table=slim, result=report.result.slim(), rows=rows)
