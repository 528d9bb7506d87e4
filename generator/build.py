"""The pipeline: dataset files -> validated configs -> tables -> segments -> charts -> pages.

`generate` returns every generated file as bytes in memory; it writes nothing. The MkDocs
hook adds the files to the build, the CLI writes them to a folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path

from generator import __version__, cache
from generator.config import DatasetConfig, load_all
from generator.data import Table, load_table
from generator.downloads import assignments_csv, segments_json
from generator.illustrations import illustrate
from generator.model import segment
from generator.pages import Report, environment, reference_page, report_page, reports_index, tutorial_page
from generator.profiles import profile
from generator.standalone import standalone_report
from generator.tutorial import run_tutorial


@dataclass(frozen=True)
class GeneratedFile:
    """A file of the site that the build makes: its path under the docs root, and its bytes."""

    path: str
    content: bytes


def validate(root: Path) -> list[Table]:
    """Check every configuration, then every table, without clustering; raise `UserError`."""
    return [load_table(root, config) for config in load_all(root)]


def generate(root: Path, store: cache.FolderCache | None = None,
             log: Callable[[str], None] = lambda line: None) -> list[GeneratedFile]:
    """Every generated page, image and download of the site, in a stable order.

    With a `store`, a dataset whose data, configuration and code are unchanged is not
    analysed again. `log` receives one line per dataset: "cached" or "computed in N s".
    """
    # Stage 1: every configuration is valid before any data is read.
    configs = load_all(root)
    # Stage 2: every table loads and parses before anything is clustered.
    tables = [load_table(root, config) for config in configs]
    # Stage 3: segment, name and draw each dataset (or take it from the cache), in parallel.
    reports = _analyse_all(list(zip(configs, tables, strict=True)), store, log)
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
        if report.config.publish_rows:
            files.append(GeneratedFile(f"{folder}/assignments.csv", assignments_csv(report)))
    files.append(GeneratedFile("reports/index.md", reports_index(reports, env).encode()))
    files.append(GeneratedFile("reference/configuration.md", reference_page(env).encode()))
    # Stage 5: the tutorial, every output of which comes from running its own code.
    tutorial = run_tutorial()
    files.append(GeneratedFile("tutorial/index.md", tutorial_page(tutorial, env).encode()))
    files.append(GeneratedFile("tutorial/clusters.png", tutorial.image))
    files.append(GeneratedFile("tutorial/scaling.png", tutorial.comparison))
    files += [GeneratedFile(f"tutorial/clusters-k{t.k}.png", t.image) for t in tutorial.trials]
    return files


def _analyse_all(datasets: list[tuple[DatasetConfig, Table]], store: cache.FolderCache | None,
                 log: Callable[[str], None]) -> list[Report]:
    """Each dataset's report, from the cache or computed; several at once across the cores.

    Every fit runs on one thread, so processes are the way to use more cores, and the results
    are the same bytes whichever process computes them.
    """
    reports: dict[int, Report] = {}
    todo: list[tuple[int, str]] = []
    for index, (config, table) in enumerate(datasets):
        entry = cache.key(config, table) if store else ""
        cached = store.load(entry) if store else None
        if cached is not None:
            log(f"{config.id}: cached")
            reports[index] = cached
        else:
            todo.append((index, entry))

    def done(index: int, entry: str, report: Report, seconds: float) -> None:
        log(f"{report.config.id}: computed in {seconds:.1f} s")
        if store:
            store.store(entry, report)
        reports[index] = report

    workers = min(len(todo), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_timed, *datasets[index]): (index, entry) for index, entry in todo}
            for future in as_completed(futures):
                done(*futures[future], *future.result())
    else:
        for index, entry in todo:
            done(index, entry, *_timed(*datasets[index]))
    return [reports[index] for index in range(len(datasets))]


def _timed(config: DatasetConfig, table: Table) -> tuple[Report, float]:
    start = time.perf_counter()
    return analyse(config, table), time.perf_counter() - start


def analyse(config: DatasetConfig, table: Table) -> Report:
    """One dataset's segments, profiles and charts."""
    result = segment(table, config)
    named = profile(result, config)
    versions = {"generator": __version__} | {name: metadata.version(name) for name in cache.LIBRARIES}
    return Report(config, table, result, named, illustrate(config, table, result, named), versions)
