"""The pipeline: dataset files -> validated configs -> tables -> segments -> charts -> pages.

`generate` returns every generated file as bytes in memory; it writes nothing. The MkDocs
hook adds the files to the build, the CLI writes them to a folder.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

from generator import __version__, cache, scheduler
from generator.config import DatasetConfig, load_all
from generator.data import Table, load_table
from generator.downloads import assignments_csv, migration_csv, segments_json
from generator.illustrations import illustrate
from generator.migration import follow, migrate
from generator.model import segment
from generator.pages import environment, reference_page, report_page, reports_index, tutorial_page
from generator.profiles import profile
from generator.purchases import Customers, load_customers
from generator.results import Report
from generator.rules import explain
from generator.scorer import scorer_sql
from generator.spark import segment_log_spark, segment_spark
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
    return [(config, _table(load(root, config)) if config.engine == "local" else None) for config in load_all(root)]


def load(root: Path, config: DatasetConfig) -> Table | Customers:
    """A dataset's customers: its table, or those derived from its purchase log."""
    return load_customers(root, config) if config.transactions is not None else load_table(root, config)


def _table(loaded: Table | Customers) -> Table:
    return loaded.table if isinstance(loaded, Customers) else loaded


def generate(root: Path, store: cache.FolderCache | None = None, log: Callable[[str], None] = lambda line: None,
             workers: Executor | None = None) -> list[GeneratedFile]:
    """Every generated page, image and download of the site, in a stable order.

    With a `store`, a dataset whose data, configuration and code are unchanged is not
    analysed again. `log` receives one line per dataset: "cached" or "computed in N s". `workers`:
    processes kept between builds (a server's rebuilds, `scheduler.start_workers`).
    """
    # Stage 1: every configuration is valid before any data is read.
    configs = load_all(root)
    # Stages 2 and 3: every table not in the cache loads, then each is segmented, named and
    # drawn; the tutorial runs its own code meanwhile (see `scheduler` for where and when).
    reports, tutorial = scheduler.run(root, configs, store, log, load, analyse_dataset, run_tutorial,
                                      workers=workers)
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
        if report.scorer is not None:
            files.append(GeneratedFile(f"{folder}/scorer.sql", report.scorer.encode()))
        if report.migration_rows is not None:
            files.append(GeneratedFile(f"{folder}/migration.csv", report.migration_rows))
    files.append(GeneratedFile("reports/index.md", reports_index(reports, env).encode()))
    files.append(GeneratedFile("reference/configuration.md", reference_page(env).encode()))
    files.append(GeneratedFile("tutorial/index.md", tutorial_page(tutorial, env).encode()))
    files.append(GeneratedFile("tutorial/clusters.png", tutorial.image))
    files.append(GeneratedFile("tutorial/scaling.png", tutorial.comparison))
    files += [GeneratedFile(f"tutorial/clusters-k{t.k}.png", t.image) for t in tutorial.trials]
    return files


def analyse_dataset(root: Path, config: DatasetConfig, table: Table | Customers | None,
                    pool: Executor | None) -> Report:
    """One dataset's report as pages and the cache need it (the scheduler's task)."""
    return analyse(config, table, pool, root=root)


def analyse(config: DatasetConfig, loaded: Table | Customers | None, pool: Executor | None = None, *,
            root: Path | None = None) -> Report:
    """One dataset's segments, profiles, charts and downloads; its parts in `pool`'s processes, if given.

    The local engine works on the loaded table (or the customers of a purchase log, followed
    across its snapshot dates); the Spark engine (nothing loaded) reads the data itself, from `root`.
    The rows (the table, the segment of every customer, their segments over time) are read here
    (rules, the scorer, assignments.csv and migration.csv) and not kept: the report holds what pages
    and the cache need, so a cache entry stays small whatever the number of rows.
    """
    customers = loaded if isinstance(loaded, Customers) else None
    purchases = customers.summary if customers is not None else None
    flows, moves = None, None
    if loaded is None:
        if root is None:
            raise ValueError("the Spark engine needs the project root")
        if config.transactions is not None:
            table, result, labels, purchases, dated = segment_log_spark(root, config)
            if dated is not None:
                flows, moves = migrate(config, result, dated.dates, dated.counts, dated.labels)
        else:
            table, result, labels = segment_spark(root, config)
    else:
        table = _table(loaded)
        result, labels = segment(table, config, pool)
        if customers is not None and customers.snapshots:
            flows, moves = follow(customers, config, result, labels, pool)
    named = profile(result, config)
    versions = {"generator": __version__} | {name: metadata.version(name) for name in cache.LIBRARIES}
    charts = illustrate(config, result, named, pool, flows)  # drawn in the pool while the rules are found here
    rules, scorer = explain(table, result, labels, config), scorer_sql(config, result, table)
    report = Report(config, table.accounting, result, named, charts(), versions, rules=rules, scorer=scorer,
                    purchases=purchases, migration=flows)
    if not config.publish_rows:
        return report
    return replace(report, rows=assignments_csv(report, table, labels),
                   migration_rows=migration_csv(report, table, moves) if moves is not None else None)
