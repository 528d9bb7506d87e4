"""Scheduling a build: what the cache already holds, what must be computed, and on which cores.

The build's pipeline (`build.generate`) asks this module for every report and the tutorial.
What the cache holds is loaded; the rest runs in one pool of processes, one per core: the
tutorial from the start, then whole datasets side by side when there are at least as many as
cores, else one dataset at a time with its k and charts spread over the pool. Every fit runs
on one thread, so the results are the same bytes whichever process computes them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from multiprocessing import get_context
from pathlib import Path

from generator import cache, figures, model
from generator.config import DatasetConfig
from generator.data import Table
from generator.purchases import Customers
from generator.results import Report, Tutorial

Load = Callable[[Path, DatasetConfig], Table | Customers]  # a table, or customers from a purchase log
# One dataset's report from its table (None: the engine reads the data itself), using the pool if given.
Analyse = Callable[[Path, DatasetConfig, Table | Customers | None, Executor | None], Report]
Log = Callable[[str], None]


def run(root: Path, configs: list[DatasetConfig], store: cache.FolderCache | None, log: Log,
        load: Load, analyse: Analyse, lesson: Callable[[], Tutorial]) -> tuple[list[Report], Tutorial]:
    """Every dataset's report (in the order of `configs`) and the tutorial, cached or computed.

    Every table that is not cached loads before anything is clustered, so bad data stops the
    build before any long computation. `log` receives one line per dataset.
    """
    entries = [cache.key(root, config) if store else "" for config in configs]
    cached = [store.load(entry) if store and entry else None for entry in entries]
    tutorial_entry = cache.tutorial_key() if store else ""
    tutorial = store.load_tutorial(tutorial_entry) if store else None
    cores = os.cpu_count() or 1
    busy = tutorial is None or any(report is None for report in cached)
    with ExitStack() as stack:
        pool: Executor | None = (stack.enter_context(ProcessPoolExecutor(cores, mp_context=get_context("spawn")))
                                 if busy and cores > 1 else None)
        running = pool.submit(lesson) if pool is not None and tutorial is None else None
        if pool is not None:
            for _ in range(cores - 1):
                pool.submit(_preload)  # the other workers import the libraries while tables load
        tables = [load(root, config) if report is None and config.engine == "local" else None
                  for config, report in zip(configs, cached, strict=True)]  # Spark reads its own
        reports: dict[int, Report] = {}
        todo: list[int] = []
        for index, (config, report) in enumerate(zip(configs, cached, strict=True)):
            if report is not None:
                log(f"{config.id}: cached")
                reports[index] = report
            else:
                todo.append(index)

        def done(index: int, report: Report, seconds: float) -> None:
            progress = f" ({len(reports) - (len(configs) - len(todo)) + 1} of {len(todo)} to compute)" \
                if len(todo) > 1 else ""
            log(f"{report.config.id}: computed in {seconds:.1f} s{progress}")
            if store and entries[index]:
                store.store(entries[index], report)
            reports[index] = report

        if pool is not None and len(todo) >= cores:  # whole datasets side by side
            futures = {pool.submit(_timed, analyse, root, configs[i], tables[i], None): i for i in todo}
            for future in as_completed(futures):
                done(futures[future], *future.result())
        else:  # fewer datasets than cores: each one's k and charts side by side
            for index in todo:
                done(index, *_timed(analyse, root, configs[index], tables[index], pool))
        if tutorial is None:
            tutorial = running.result() if running is not None else lesson()
            if store:
                store.store(tutorial_entry, tutorial)
    return [reports[index] for index in range(len(configs))], tutorial


def _preload() -> None:
    model.preload()
    figures.preload()


def _timed(analyse: Analyse, root: Path, config: DatasetConfig, table: Table | Customers | None,
           pool: Executor | None) -> tuple[Report, float]:
    start = time.perf_counter()
    return analyse(root, config, table, pool), time.perf_counter() - start
