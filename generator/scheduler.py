"""Scheduling a build: what the cache already holds, what must be computed, and on which cores.

The build's pipeline (`build.generate`) asks this module for every report and the tutorial.
What the cache holds is loaded; the rest runs in one pool of processes, one per core: the
biggest datasets first, one at a time with their k and charts spread over the pool. The tutorial
and the small datasets, each one whole, queue behind the big table's fits, so the workers take
them while this process assigns the big table's rows and finds its rules. Without a big table,
the small datasets run side by side when there are at least as many as cores, else one at a
time spread over the pool. One small dataset and nothing else to compute runs in this process:
starting workers would cost more than it saves. Workers are forked from a server that imported
the libraries once (`WORKER_MODULES`). Under `mkdocs serve`, the hook starts workers once
(`start_workers`) and passes them to every rebuild, so an edit computes at once on every core.
Every fit runs on one thread, so the results are the same bytes whichever process computes them.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, suppress
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from generator import cache, figures, model
from generator.config import DatasetConfig
from generator.data import Table
from generator.formats import count, duration
from generator.purchases import Customers
from generator.results import Report, Tutorial

Load = Callable[[Path, DatasetConfig], Table | Customers]  # a table, or customers from a purchase log
# One dataset's report from its table (None: the engine reads the data itself), using the pool if given.
Analyse = Callable[[Path, DatasetConfig, Table | Customers | None, Executor | None], Report]
Log = Callable[[str], None]
P = ParamSpec("P")
T = TypeVar("T")


BIG_ROWS = 20_000  # a dataset of this many rows or more is analysed alone, first, across every core


def size(loaded: Table | Customers | None) -> int:
    """Rows to cluster; a dataset that Spark reads itself (None) counts as big."""
    if loaded is None:
        return BIG_ROWS
    return (loaded.table if isinstance(loaded, Customers) else loaded).rows_used


def order(sizes: list[int]) -> tuple[list[int], list[int]]:
    """The datasets to compute, by index: the big ones (BIG_ROWS or more), biggest first, and the
    small ones, biggest first; ties keep the configuration order."""
    ranked = sorted(range(len(sizes)), key=lambda i: (-sizes[i], i))
    return [i for i in ranked if sizes[i] >= BIG_ROWS], [i for i in ranked if sizes[i] < BIG_ROWS]


def run(root: Path, configs: list[DatasetConfig], store: cache.FolderCache | None, log: Log,
        load: Load, analyse: Analyse, lesson: Callable[[], Tutorial],
        cores: int | None = None, workers: Executor | None = None) -> tuple[list[Report], Tutorial]:
    """Every dataset's report (in the order of `configs`) and the tutorial, cached or computed.

    Every table that is not cached loads before anything is clustered, so bad data stops the
    build before any long computation. `log` receives one line per dataset. `cores`: the
    processes to use (all the machine's by default). `workers`: a pool kept between builds
    (`start_workers`), used instead of starting one.
    """
    entries = [cache.key(root, config) if store else "" for config in configs]
    cached = [store.load(entry) if store and entry else None for entry in entries]
    tutorial_entry = cache.tutorial_key() if store else ""
    tutorial = store.load_tutorial(tutorial_entry) if store else None
    cores = cores or os.cpu_count() or 1
    missing = [config for config, report in zip(configs, cached, strict=True) if report is None]
    # One small local dataset alone (an edit under `mkdocs serve`): no workers to start.
    alone = (tutorial is not None and len(missing) == 1 and missing[0].engine == "local"
             and _small_file(root, missing[0]))
    busy = (tutorial is None or bool(missing)) and not alone
    with ExitStack() as stack:
        pool: Executor | None = (workers if workers is not None and (busy or alone) else
                                 stack.enter_context(ProcessPoolExecutor(cores, mp_context=_context()))
                                 if busy and cores > 1 else None)
        if pool is not None and pool is not workers:
            # After an error or Ctrl-C, what is queued is dropped and what runs is waited for.
            stack.callback(pool.shutdown, wait=False, cancel_futures=True)
            # The workers start while tables load; if loading fails, the pool shuts down once they have
            # started (a task queued after that would fail).
            stack.callback(_start(pool, cores).join)
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
            progress = f" ({count(len(reports) - (len(configs) - len(todo)) + 1)} of {count(len(todo))} to compute)" \
                if len(todo) > 1 else ""
            log(f"{report.config.id}: computed in {duration(seconds)}{progress}")
            if store and entries[index]:
                store.store(entries[index], report)
            reports[index] = report

        sizes = [size(tables[i]) for i in todo]
        big, small = ([todo[i] for i in part] for part in order(sizes))
        queued: dict[Future[tuple[Report, float]], int] = {}
        running: list[Future[Tutorial]] = []

        def queue_the_rest() -> None:
            """The tutorial and every small dataset, each one whole, into the pool's queue behind
            what is there: the workers take them as soon as they are free."""
            assert pool is not None
            if running or queued:
                return
            if tutorial is None:
                running.append(pool.submit(lesson))
            queued.update({pool.submit(_timed, analyse, root, configs[i], tables[i], None): i for i in small})

        try:
            for index in big:  # each with its k and charts across the pool; the rest queues behind its fits,
                # so the workers take it while this process works on the big table's rows alone
                share = Announcing(pool, queue_the_rest) if pool is not None else None
                done(index, *_timed(analyse, root, configs[index], tables[index], share))
            if pool is not None and (big or len(small) >= cores):  # whole datasets side by side
                queue_the_rest()
                for future in as_completed(queued):
                    done(queued[future], *future.result())
            else:  # fewer datasets than cores, nothing big: each one's k and charts side by side
                for index in small:
                    done(index, *_timed(analyse, root, configs[index], tables[index], pool))
            if tutorial is None:
                tutorial = running[0].result() if running else lesson()
                if store:
                    store.store(tutorial_entry, tutorial)
        finally:  # after an error, what has not started is dropped: a kept pool (`mkdocs serve`) is
            # free for the next build (every future is done otherwise, and cancelling it does nothing)
            pending: list[Future[Any]] = [*queued, *running]
            for waiting in pending:
                waiting.cancel()
    return [reports[index] for index in range(len(configs))], tutorial


class Announcing(Executor):
    """`pool`, calling `then` once, just after the first work is queued in it (a big table's fits):
    whatever `then` queues waits behind that work, and takes the cores the table leaves free."""

    def __init__(self, pool: Executor, then: Callable[[], None]) -> None:
        self._pool = pool
        self._then: Callable[[], None] | None = then

    def _announce(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future = self._pool.submit(fn, *args, **kwargs)
        self._announce()
        return future

    def map(self, fn: Callable[..., T], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1) -> Iterator[T]:
        results = self._pool.map(fn, *iterables, timeout=timeout, chunksize=chunksize)  # queued at once
        self._announce()
        return results


def _small_file(root: Path, config: DatasetConfig) -> bool:
    """Whether a dataset is inline or its file (table or purchase log) is under SMALL_FILE bytes."""
    source = config.transactions.source if config.transactions is not None else config.source
    if source is None:
        return True
    path = root / source
    return path.is_file() and path.stat().st_size < SMALL_FILE


SMALL_FILE = 1_000_000  # bytes of a data file below which its dataset counts as small before it loads


# What a worker runs (a dataset's analysis, a big table's fits and charts, the tutorial) and the
# libraries they load: imported once by the server that forks every worker, or by each spawned worker.
WORKER_MODULES = ("generator.build", "generator.tutorial", *model.LIBRARIES, *figures.LIBRARIES)


def _preload() -> None:
    for name in WORKER_MODULES:
        importlib.import_module(name)


def _start(pool: Executor, cores: int) -> threading.Thread:
    """Start a pool's `cores` workers now, from a thread of their own (returned, started): a worker
    starts with its first task, and the first one waits for the fork server to import
    WORKER_MODULES (some 2 s). The thread blocks Ctrl-C's signal, and the fork server it starts,
    and every worker forked from it, inherit the block: Ctrl-C is this process's to handle (it
    drops the queued work), and a fork server importing would otherwise stop with a traceback."""

    def start() -> None:
        if hasattr(signal, "pthread_sigmask"):  # not on Windows, where workers are spawned (`_quiet`)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        # The pool may have shut down meanwhile, or its fork server stopped: the build's own use of
        # the pool reports that, not this thread.
        with suppress(RuntimeError, EOFError, BrokenProcessPool):
            for _ in range(cores):
                pool.submit(_preload)

    starting = threading.Thread(target=start, daemon=True)
    starting.start()
    return starting


def _context() -> BaseContext:
    """Worker processes forked from a server that imported WORKER_MODULES once (Linux, macOS), so
    no worker imports them again; spawned where there is no fork server (Windows). The server
    starts with a fresh interpreter, like a spawned process: no thread, lock or OpenMP state of
    this one is forked."""
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    context = get_context("forkserver")
    context.set_forkserver_preload(list(WORKER_MODULES))
    return context


def start_workers(cores: int | None = None) -> ProcessPoolExecutor | None:
    """A pool of workers that import the libraries now, to serve every later build of this process (a
    server's rebuilds: `run(..., workers=...)`), the libraries imported here too, meanwhile; None on one
    core. The caller keeps it and shuts it down; the workers leave Ctrl-C to this process."""
    cores = cores or os.cpu_count() or 1
    if cores < 2:
        return None
    workers = ProcessPoolExecutor(cores, mp_context=_context(), initializer=_quiet)
    _start(workers, cores)
    threading.Thread(target=_preload, daemon=True).start()
    return workers


def _quiet() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _timed(analyse: Analyse, root: Path, config: DatasetConfig, table: Table | Customers | None,
           pool: Executor | None) -> tuple[Report, float]:
    start = time.perf_counter()
    return analyse(root, config, table, pool), time.perf_counter() - start
