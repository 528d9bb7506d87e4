"""scheduler: the biggest dataset starts first and gets the cores; results come back in config order."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from generator import scheduler
from generator.config import DatasetConfig
from generator.data import Table
from generator.errors import UserError
from generator.purchases import Customers
from generator.results import Report, Tutorial


@pytest.mark.parametrize(("sizes", "big", "small"), [
    ([500, 1_000_000, 440, 6], [1], [0, 2, 3]),
    ([500, 500, 500], [], [0, 1, 2]),  # ties keep the configuration's order
    ([20_000, 19_999, 2_000_000], [2, 0], [1]),
    ([], [], []),
])
def test_order_puts_big_datasets_first_biggest_first(sizes: list[int], big: list[int], small: list[int]) -> None:
    assert scheduler.order(sizes) == (big, small)


def table(rows: int) -> Table:
    frame = pd.DataFrame({"a": np.arange(rows, dtype=float), "b": np.ones(rows)})
    return Table(features=frame, ids=None, rows_read=rows, dropped={}, sha256="0" * 64, origin="t")


def test_run_computes_the_biggest_first_and_returns_config_order(tmp_path: Path) -> None:
    rows = {"small": 30, "huge": 50_000, "middle": 300}
    configs = [DatasetConfig(id=name, path=f"{name}.yml", title=name, features=("a", "b"), data={"a": (1.0,)})
               for name in rows]
    started: list[tuple[str, bool]] = []

    def load(root: Path, config: DatasetConfig) -> Table | Customers:
        return table(rows[config.id])

    def analyse(root: Path, config: DatasetConfig, loaded: Table | Customers | None,
                pool: Executor | None) -> Report:
        started.append((config.id, pool is not None))
        return SimpleNamespace(config=config)  # type: ignore[return-value]  # the scheduler reads only its config

    def lesson() -> Tutorial:
        return "tutorial"  # type: ignore[return-value]

    reports, tutorial = scheduler.run(tmp_path, configs, None, lambda line: None, load, analyse, lesson, cores=1)
    assert [name for name, _ in started] == ["huge", "middle", "small"]
    assert [report.config.id for report in reports] == ["small", "huge", "middle"]
    assert tutorial == "tutorial"  # type: ignore[comparison-overlap]


def tutorial_text() -> Tutorial:
    return "tutorial"  # type: ignore[return-value]  # runs in a worker, so defined at module level


def test_kept_workers_serve_every_later_build_of_the_process(tmp_path: Path) -> None:
    """Under `mkdocs serve` the pool starts once: every rebuild, even of one small dataset, uses its workers."""
    configs = [DatasetConfig(id="one", path="one.yml", title="one", features=("a", "b"), data={"a": (1.0,)})]
    pools: list[Executor | None] = []

    def analyse(root: Path, config: DatasetConfig, loaded: Table | Customers | None,
                pool: Executor | None) -> Report:
        pools.append(pool)
        return SimpleNamespace(config=config)  # type: ignore[return-value]

    def build(cores: int, workers: Executor | None = None) -> None:
        scheduler.run(tmp_path, configs, None, lambda line: None, lambda root, config: table(30), analyse,
                      tutorial_text, cores=cores, workers=workers)

    build(1)
    assert pools == [None]  # one core, nothing kept: no pool
    assert scheduler.start_workers(1) is None  # one core: no workers to keep
    kept = scheduler.start_workers(2)
    assert kept is not None
    try:
        build(2, kept)  # one dataset for two cores: its parts spread over the pool, which is the kept one
        build(2, kept)
        assert pools[1] is kept
        assert pools[2] is kept
        assert kept.submit(int, "7").result(timeout=60) == 7  # still running after both builds
    finally:
        kept.shutdown()
    build(1)
    assert pools[3] is None


class Recording(Executor):
    """An executor that runs nothing and records what was queued, in order."""

    def __init__(self) -> None:
        self.queued: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.queued.append(str(args[0]))
        return Future()

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1) -> Iterator[Any]:
        self.queued += [str(value) for value in next(iter(iterables))]
        return iter(())


def test_announcing_pool_calls_back_once_right_after_the_first_work_is_queued() -> None:
    pool = Recording()
    calls: list[int] = []

    def then() -> None:
        calls.append(len(pool.queued))
        pool.submit(int, "then")

    announcing = scheduler.Announcing(pool, then)
    announcing.map(int, ["fit 3", "fit 2"])
    announcing.submit(int, "chart")
    announcing.map(int, ["chart 2"])
    assert calls == [2]  # once, when the first two were queued
    assert pool.queued == ["fit 3", "fit 2", "then", "chart", "chart 2"]


def note_and_wait(root: Path, config: DatasetConfig, loaded: Table | Customers | None,
                  pool: Executor | None) -> Report:
    """The big dataset queues work in the pool, then waits (up to a minute) for a small dataset to have
    run meanwhile; a small one leaves its mark. Module level: the small ones run in workers."""
    if config.id == "huge":
        assert pool is not None
        assert list(pool.map(abs, [-1, -2])) == [1, 2]  # its own work first (a big table's fits)
        deadline = time.monotonic() + 60
        while not (root / "small.ran").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        (root / "huge.saw").write_text(str((root / "small.ran").exists()), encoding="utf-8")
    else:
        (root / f"{config.id}.ran").write_text("yes", encoding="utf-8")
    return SimpleNamespace(config=config)  # type: ignore[return-value]


def test_small_datasets_run_while_the_big_one_is_still_computed(tmp_path: Path) -> None:
    """The tutorial and the small datasets queue behind the big table's first work in the pool, so
    the workers take them while this process still works on the big table (its rows, its rules)."""
    rows = {"small": 30, "huge": 50_000}
    configs = [DatasetConfig(id=name, path=f"{name}.yml", title=name, features=("a", "b"), data={"a": (1.0,)})
               for name in rows]
    reports, tutorial = scheduler.run(tmp_path, configs, None, lambda line: None,
                                      lambda root, config: table(rows[config.id]), note_and_wait, tutorial_text,
                                      cores=2)
    assert (tmp_path / "huge.saw").read_text(encoding="utf-8") == "True"
    assert [report.config.id for report in reports] == ["small", "huge"]
    assert tutorial == "tutorial"  # type: ignore[comparison-overlap]


def test_a_table_that_fails_to_load_stops_the_build_without_a_thread_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers start from a thread while tables load; a table's error shuts the pool down, and that
    thread must not then fail on it (a traceback on the terminal for a user's mistake)."""
    failed: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", failed.append)
    configs = [DatasetConfig(id=name, path=f"{name}.yml", title=name, features=("a", "b"), data={"a": (1.0,)})
               for name in ("one", "two")]

    def load(root: Path, config: DatasetConfig) -> Table | Customers:
        raise UserError(f"{config.path}: bad data")

    before = set(threading.enumerate())
    with pytest.raises(UserError, match=r"one\.yml: bad data"):
        scheduler.run(tmp_path, configs, None, lambda line: None, load, note_and_wait, tutorial_text, cores=2)
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=60)
    assert [str(args.exc_value) for args in failed] == []


def blocked_signals() -> set[int]:
    """The signals blocked in the process running this (a worker)."""
    return {int(number) for number in signal.pthread_sigmask(signal.SIG_BLOCK, set())}


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="workers are spawned where signals are not masked")
def test_workers_leave_ctrl_c_to_the_build() -> None:
    """Ctrl-C reaches every process of the terminal's group: the build's, which drops the queued work,
    and the workers', which must not stop with tracebacks of their own (nor their fork server, while
    it imports the libraries)."""
    kept = scheduler.start_workers(2)
    assert kept is not None
    try:
        assert int(signal.SIGINT) in kept.submit(blocked_signals).result(timeout=60)
    finally:
        kept.shutdown()
    assert int(signal.SIGINT) not in blocked_signals()  # this process still takes Ctrl-C
