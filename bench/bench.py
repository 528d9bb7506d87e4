"""Benchmark: where the site build stands against its performance targets.

A measurement, not a test: it prints every number and a PASS/FAIL per target, writes the
same to bench/results.md, and exits 0 whatever the verdicts. See bench/README.md.

For every size it writes a seeded synthetic customer table (well-separated Gaussian blobs in
eight spending-like features) as CSV and as Parquet, and for each format it builds a copy of
the project that holds that one dataset (the tutorial is part of every build). Each
measurement runs in a fresh child process, so its peak memory is that process's own:

- build:    `python -m mkdocs build --strict` in the project copy;
- rebuild:  the same command again, nothing changed;
- baseline: the table loaded with pandas, scaled with StandardScaler, and
            KMeans(n_clusters=k, n_init=10, random_state=42) fitted for every k on all rows,
            on one thread like the build (two OpenMP threads are slower on small VMs; see the README).

Run: .venv/bin/python bench/bench.py [--quick] [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import itertools
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"
PROJECT_PARTS = ("mkdocs.yml", "content", "templates", "hooks", "overrides")
DATASET_ID = "synthetic-customers"
FEATURES = tuple(f"f{i}" for i in range(1, 9))
K_RANGE = (2, 10)
N_INIT = 10
RANDOM_STATE = 42
FORMATS = ("csv", "parquet")
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 20_000)
SMALL_DATASETS = 50  # the many-small case: this many datasets in one project
SMALL_K_RANGE = (2, 8)  # the k of every small dataset (issue 14)
SMALL_TARGET = 12.0  # the many-small build at most this many times the bare sweep over its tables (issue 25)
SITE_TARGET = 0.5  # the shipped site plus one big table: at most this times the bare sweep on the big table
SERVE_TARGET = 2.0  # seconds: an edit to one small dataset's YAML under `mkdocs serve`, cache warm
SERVE_DATASET = "wholesale-customers"  # the small dataset edited in the serve case
QUICK_SMALL_DATASETS = 10
TARGET_ROWS = 1_000_000  # the size the issue states most targets at
LARGE_ROWS = 10_000_000  # the size of the memory target of 3 GB
BASELINE_LIMIT = 1_000_000  # no bare baseline above this many rows
PARALLEL_USE = 1.5  # CPU time / wall time from which a build on more than one core counts as parallel
BUSY_CORES = 0.5  # other processes keeping this many cores busy make a failed parallel check inconclusive
LINEAR_EXPONENT = 1.1  # growth exponent up to which the cost counts as linear in n
PROJECT_FROM = 100_000  # the 10M memory is projected only from a step reaching this many rows
LIBRARIES = ("numpy", "pandas", "scikit-learn", "scipy", "pyarrow", "matplotlib", "mkdocs", "mkdocs-material")
# Typical yearly spend per category (like the shipped wholesale table) and the blob layout.
BASE_SPEND = np.array([12_000.0, 5_800.0, 7_900.0, 3_100.0, 2_900.0, 1_500.0, 4_200.0, 900.0])
LEVELS = np.array([0.4, 1.0, 2.2])  # a segment spends 0.4x, 1x or 2.2x the typical amount per category
SEGMENT_SHARES = np.array([0.35, 0.25, 0.20, 0.12, 0.08])
SPREAD = 0.12  # standard deviation of a blob, as a share of the typical spend
MB = 1_000_000
KB = 1_000


# --- measurements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One child process: wall time, its own peak resident memory and CPU time, how it ended."""

    seconds: float
    process_peak_mb: float  # the largest peak of any one process (ru_maxrss of wait4)
    tree_peak_mb: float  # the largest sampled sum of PSS over the process and its workers (every 0.1 s)
    cpu_seconds: float  # user + system, the process and every worker it waited for
    returncode: int
    stdout: str
    problem: str = ""  # why it failed: killed by the watchdog, or the last lines of stderr
    processes: int = 1  # the most processes of its session seen at once (sampled)
    others_cores: float = 0.0  # cores that other processes on the machine kept busy meanwhile, on average

    @property
    def peak_mb(self) -> float:
        """Peak memory: of the one process, or of all its processes together when it runs workers."""
        return max(self.process_peak_mb, self.tree_peak_mb)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.problem


@dataclass
class Case:
    """One row of the results table."""

    name: str
    rows: int
    features: int
    fmt: str
    datasets: int = 1
    kind: str = "single"  # "single", "many" (many small datasets), "site" (shipped site + a big table), "serve"
    serve_seconds: float | None = None  # serve case: from the edit to the rebuilt site, wall
    serve_build_seconds: float | None = None  # serve case: MkDocs's own "built in" time of that rebuild
    serve_computed: tuple[str, ...] = ()  # serve case: the datasets the rebuild computed
    build: Run | None = None
    rebuild: Run | None = None
    baseline: Run | None = None
    k: int | None = None
    inertia_diff: float | None = None  # (ours - bare) / bare, at our chosen k, in percent
    worst_inertia_diff: float | None = None  # the largest such difference over every evaluated k
    sweep_seconds: float | None = None  # the baseline's fits alone, without loading and scaling
    page_bytes: int | None = None  # site/reports/<id>/ without assignments.csv (the largest report)
    report_html_bytes: int | None = None
    code: str = ""  # fingerprint of the generator, hooks, templates and mkdocs.yml when the case ran
    notes: list[str] = field(default_factory=list)


def _resident_bytes(pid: int, proportional: bool) -> int:
    """A process's resident memory: its proportional set size (PSS) if `proportional`, every page
    it shares with other processes (the same libraries loaded by a build and its workers) divided
    among them, so that the sum over processes counts each page once; else VmRSS (shared pages
    counted in full). VmRSS where PSS is unavailable.

    PSS costs: the kernel walks the process's page tables under its memory lock, some 8 ms for a
    400 MB worker, stalling its page faults meanwhile; VmRSS is a counter, read in 0.1 ms."""
    sources = (("smaps_rollup", "Pss:"), ("status", "VmRSS:")) if proportional else (("status", "VmRSS:"),)
    for name, key in sources:
        try:
            text = Path(f"/proc/{pid}/{name}").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _session(session: int) -> list[int]:
    """The processes of a session: a build and the workers it starts."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 3 and fields[3] == str(session):
            members.append(int(entry.name))
    return members


class _Sampler:
    """The peak resident memory of a session's processes together, sampled cheaply.

    Each sample sums VmRSS; the proportional sum (PSS, shared pages counted once: the peak
    reported) is read only when that cheap sum sets a new high by PEAK_STEP. Reading PSS at
    every sample took a quarter of a core on this 2-core machine (some 25 ms every 0.1 s for a
    build and its two workers) and slowed the build it measured by about 1 s in 16."""

    PEAK_STEP = 1.02

    def __init__(self, session: int) -> None:
        self.session = session
        self.peak = self.most = 0  # PSS bytes; processes at once
        self.resident = 0  # the latest VmRSS sum
        self._high = 0  # the VmRSS sum at the last PSS reading

    def sample(self) -> None:
        members = _session(self.session)
        self.most = max(self.most, len(members))
        self.resident = sum(_resident_bytes(pid, proportional=False) for pid in members)
        if self.resident > self._high * self.PEAK_STEP:
            self._high = self.resident
            self.peak = max(self.peak, sum(_resident_bytes(pid, proportional=True) for pid in members))


def _adopt_orphans() -> None:
    """Make this process the reaper of its children's orphans (Linux): a build's workers are forked
    by a fork server that outlives the build by a moment, and an orphan reaped by init takes its CPU
    time (and its workers') with it. Adopted, `run_child` waits for it and counts that time."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap_orphans(within: float) -> float:
    """CPU seconds of the adopted orphans of the last command (see `_adopt_orphans`), each with the
    children it reaped, waiting up to `within` seconds for them to end."""
    cpu = 0.0
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        try:
            pid, _status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:  # none left
            break
        if pid:
            cpu += usage.ru_utime + usage.ru_stime
        else:
            time.sleep(0.02)
    return cpu


def run_child(command: Sequence[str], cwd: Path, env: dict[str, str], timeout: float, max_rss_gb: float) -> Run:
    """Run a command in a fresh process; measure it with wait4 (its rusage and its descendants', not
    that of this script's other children; its orphans too, see `_adopt_orphans`); kill it when it
    outlives `timeout` seconds or outgrows `max_rss_gb`."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy, own = _busy_seconds(), time.process_time()
        start = time.perf_counter()
        # The commands are this script's own: the venv's Python running mkdocs or this file.
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err,  # noqa: S603
                                   start_new_session=True)
        problem = ""
        sampler = _Sampler(process.pid)  # its session id is its pid
        try:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                elapsed = time.perf_counter() - start
                sampler.sample()
                if not problem and elapsed > timeout:
                    problem = f"killed after {timeout:.0f} s (--timeout)"
                    os.killpg(process.pid, signal.SIGKILL)
                elif not problem and sampler.resident > max_rss_gb * 1e9:
                    problem = f"killed above {max_rss_gb:g} GB resident (--max-rss-gb)"
                    os.killpg(process.pid, signal.SIGKILL)
                time.sleep(0.02 if elapsed < 2 else 0.1)
        except BaseException:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with suppress(ChildProcessError):
                os.waitpid(process.pid, 0)
            process.returncode = -9
            raise
        seconds = time.perf_counter() - start
        cpu = usage.ru_utime + usage.ru_stime + _reap_orphans(within=10)
        others = _busy_seconds() - busy - cpu - (time.process_time() - own)  # neither the child nor this script
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if process.returncode != 0 and not problem:
        lines = [line for line in stderr.splitlines() if line.strip()]
        problem = f"exit {process.returncode}: " + " | ".join(lines[-3:])
    return Run(seconds=seconds, process_peak_mb=usage.ru_maxrss * 1024 / MB, tree_peak_mb=sampler.peak / MB,
               cpu_seconds=cpu, returncode=process.returncode, stdout=stdout, problem=problem,
               processes=max(sampler.most, 1), others_cores=max(others, 0.0) / seconds if seconds > 0 else 0.0)


def build_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OFFLINE", "SITE_URL", "REPO_URL")}
    return env | {"NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1700000000"}


def baseline_env(threads: int) -> dict[str, str]:
    """The baseline's environment: `threads` OpenMP/BLAS threads, or the libraries' default for 0."""
    env = dict(os.environ)
    if threads > 0:
        env |= {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return env


# --- data and projects --------------------------------------------------------------------


def customers(rows: int, seed: int) -> pd.DataFrame:
    """A seeded table of `rows` customers in five well-separated segments, yearly spend per category."""
    layout = np.random.default_rng(7)  # the same five segments at every size
    while True:
        levels = layout.choice(LEVELS, size=(len(SEGMENT_SHARES), len(FEATURES)))
        if len(np.unique(levels, axis=0)) == len(levels):
            break
    centres = levels * BASE_SPEND
    rng = np.random.default_rng(seed)
    segment = rng.choice(len(SEGMENT_SHARES), size=rows, p=SEGMENT_SHARES)
    values = centres[segment] + rng.normal(size=(rows, len(FEATURES))) * (SPREAD * BASE_SPEND)
    values = np.round(np.clip(values, 0.0, None), 2)
    return pd.DataFrame(values, columns=list(FEATURES))


def write_table(frame: pd.DataFrame, folder: Path, stem: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / f"{stem}.{fmt}" for fmt in FORMATS}
    frame.to_csv(paths["csv"], index=False, float_format="%.2f")
    frame.to_parquet(paths["parquet"], index=False)
    return paths


def new_project(target: Path, shipped: bool = False) -> Path:
    """A copy of the shipped site without its datasets (the tutorial stays: it is in every build),
    or with them (`shipped`: the site as it ships, its tables and configurations)."""
    target.mkdir(parents=True)
    for part in (*PROJECT_PARTS, *(("site_config",) if shipped else ())):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    if not shipped:
        data = target / "content" / "data"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        (target / "site_config" / "datasets").mkdir(parents=True)
    return target


def add_dataset(project: Path, dataset_id: str, table: Path, title: str,
                k_range: tuple[int, int] = K_RANGE) -> None:
    source = project / "content" / "data" / f"{dataset_id}{table.suffix}"
    shutil.copyfile(table, source)
    config = (
        f"title: {title}\n"
        "description: >\n"
        "  Seeded synthetic customers in five well-separated segments, written by bench/bench.py.\n"
        f"source: {source.relative_to(project).as_posix()}\n"
        f"features: [{', '.join(FEATURES)}]\n"
        f"n_clusters: [{k_range[0]}, {k_range[1]}]\n"
        "publish_rows: true\n"  # the bench measures writing assignments.csv too, as before it was opt-in
    )
    (project / "site_config" / "datasets" / f"{dataset_id}.yml").write_text(config, encoding="utf-8")


def report_weight(site: Path, dataset_id: str) -> tuple[int, int]:
    """Bytes of a report page (its folder without the downloads `assignments.csv` and
    `report.html`: the page, both palettes of every chart, `segments.json`), and of its report.html."""
    folder = site / "reports" / dataset_id
    files = [p for p in folder.rglob("*") if p.is_file() and p.name not in ("assignments.csv", "report.html")]
    html = folder / "report.html"
    return sum(p.stat().st_size for p in files), html.stat().st_size if html.is_file() else 0


# --- the cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    timeout: float
    max_rss_gb: float
    baseline: bool
    baseline_threads: int
    rebuild: bool
    keep: bool = False  # leave every case's project and tables in the workspace (--keep)

    def discard(self, *folders: Path) -> None:
        """Remove a case's folders, unless asked to keep them."""
        if not self.keep:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)


def mkdocs_build(project: Path, settings: Settings) -> Run:
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(project / "site")]
    return run_child(command, project, build_env(), settings.timeout, settings.max_rss_gb)


def code_fingerprint() -> str:
    """A digest of the code a build runs (the generator is the working tree, installed editable)."""
    digest = hashlib.sha256()
    files = [*ROOT.glob("generator/*.py"), *ROOT.glob("hooks/*.py"), *ROOT.glob("templates/*"), ROOT / "mkdocs.yml"]
    for path in sorted(files):
        with suppress(OSError):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def measure_builds(case: Case, project: Path, settings: Settings) -> None:
    try:
        measure_each_build(case, project, settings)
    finally:
        if code_fingerprint() != case.code:
            case.notes.append(f"the generator changed while this case ran (now {code_fingerprint()})")


def measure_each_build(case: Case, project: Path, settings: Settings) -> None:
    case.build = mkdocs_build(project, settings)
    if not case.build.ok:
        case.notes.append(f"build failed: {case.build.problem}")
        return
    if settings.rebuild:
        case.rebuild = mkdocs_build(project, settings)
        if not case.rebuild.ok:
            case.notes.append(f"rebuild failed: {case.rebuild.problem}")


def single_case(rows: int, fmt: str, table: Path, work: Path, settings: Settings) -> Case:
    case = Case(name=f"{rows:,} rows, {fmt}", rows=rows, features=len(FEATURES), fmt=fmt, code=code_fingerprint())
    project = new_project(work / f"project-{rows}-{fmt}")
    add_dataset(project, DATASET_ID, table, f"Synthetic customers ({rows:,} rows, {fmt})")
    try:
        measure_builds(case, project, settings)
        site = project / "site"
        chosen: dict[int, float] = {}
        if case.build is not None and case.build.ok:
            case.page_bytes, case.report_html_bytes = report_weight(site, DATASET_ID)
            document = json.loads((site / "reports" / DATASET_ID / "segments.json").read_text(encoding="utf-8"))
            case.k = int(document["n_clusters"])
            chosen = {int(c["k"]): float(c["inertia"]) for c in document["candidates"]}
            chosen[case.k] = float(document["inertia"])
        if not settings.baseline:
            case.notes.append("baseline not run (--no-baseline)")
        elif rows > BASELINE_LIMIT:
            case.notes.append(f"baseline not run above {BASELINE_LIMIT:,} rows")
        else:
            measure_baseline(case, table, chosen, work, settings)
    finally:
        settings.discard(project)
    return case


def measure_baseline(case: Case, table: Path, ours: dict[int, float], work: Path, settings: Settings) -> None:
    command = [sys.executable, str(Path(__file__).resolve()), "--baseline-worker", str(table)]
    case.baseline = run_child(command, work, baseline_env(settings.baseline_threads), settings.timeout,
                              settings.max_rss_gb)
    if not case.baseline.ok:
        case.notes.append(f"baseline failed: {case.baseline.problem}")
        return
    result = json.loads(case.baseline.stdout.strip().splitlines()[-1])
    case.sweep_seconds = float(result["sweep_seconds"])
    bare = {int(k): float(v) for k, v in result["inertia"].items()}
    diffs = {k: (ours[k] - bare[k]) / bare[k] * 100 for k in ours if k in bare and bare[k] > 0}
    if case.k is not None and case.k in diffs:
        case.inertia_diff = diffs[case.k]
    if diffs:
        case.worst_inertia_diff = max(diffs.values())


def many_small_case(count: int, rows: int, work: Path, settings: Settings) -> Case:
    case = Case(name=f"{count} datasets x {rows:,} rows", rows=count * rows, features=len(FEATURES),
                fmt="csv+parquet", datasets=count, kind="many")
    project = new_project(work / "project-many")
    tables = work / "many-tables"
    try:
        written = []
        for number in range(count):
            paths = write_table(customers(rows, seed=1_000 + number), tables, f"small-{number:02d}")
            fmt = FORMATS[number % len(FORMATS)]
            written.append(paths[fmt])
            add_dataset(project, f"small-{number:02d}", paths[fmt], f"Small synthetic table {number} ({fmt})",
                        SMALL_K_RANGE)
        case.code = code_fingerprint()
        measure_builds(case, project, settings)
        if case.build is not None and case.build.ok:
            weights = [report_weight(project / "site", f"small-{n:02d}") for n in range(count)]
            case.page_bytes = max(w[0] for w in weights)
            case.report_html_bytes = max(w[1] for w in weights)
        case.notes.append("page KB and report.html KB are the largest of the reports")
        if settings.baseline:
            listing = work / "many-tables.txt"
            listing.write_text("\n".join(str(p) for p in written), encoding="utf-8")
            command = [sys.executable, str(Path(__file__).resolve()), "--sweep-worker", str(listing)]
            case.baseline = run_child(command, work, baseline_env(settings.baseline_threads), settings.timeout,
                                      settings.max_rss_gb)
            if case.baseline.ok:
                case.sweep_seconds = float(json.loads(case.baseline.stdout.strip().splitlines()[-1])["sweep_seconds"])
                case.notes.append(f"baseline: KMeans(n_init={N_INIT}) and the silhouette for k = "
                                  f"{SMALL_K_RANGE[0]}..{SMALL_K_RANGE[1]} on each of the {count} tables")
            else:
                case.notes.append(f"baseline failed: {case.baseline.problem}")
    finally:
        settings.discard(project, tables)
    return case


def site_case(rows: int, work: Path, settings: Settings) -> Case:
    """The shipped site (its datasets and the tutorial) plus one big synthetic table, built at once."""
    case = Case(name=f"shipped site + {rows:,} rows", rows=rows, features=len(FEATURES), fmt="parquet",
                kind="site", code=code_fingerprint())
    project = new_project(work / "project-site", shipped=True)
    frame = customers(rows, seed=rows)
    paths = write_table(frame, work / "site-tables", f"customers-{rows}")
    del frame
    add_dataset(project, DATASET_ID, paths["parquet"], f"Synthetic customers ({rows:,} rows)")
    try:
        measure_builds(case, project, settings)
        chosen: dict[int, float] = {}
        if case.build is not None and case.build.ok:
            site = project / "site"
            case.page_bytes, case.report_html_bytes = report_weight(site, DATASET_ID)
            document = json.loads((site / "reports" / DATASET_ID / "segments.json").read_text(encoding="utf-8"))
            case.k = int(document["n_clusters"])
            chosen = {int(c["k"]): float(c["inertia"]) for c in document["candidates"]}
            chosen[case.k] = float(document["inertia"])
        if settings.baseline:
            measure_baseline(case, paths["parquet"], chosen, work, settings)
    finally:
        settings.discard(project, work / "site-tables")
    return case


def serve_case(work: Path, settings: Settings) -> Case:
    """`mkdocs serve` on the shipped site with its cache warm; one small dataset's YAML edited: how long
    until the site is rebuilt, and which datasets the rebuild computed."""
    case = Case(name=f"mkdocs serve: edit {SERVE_DATASET}.yml", rows=0, features=0, fmt="-", kind="serve",
                code=code_fingerprint())
    project = new_project(work / "project-serve", shipped=True)
    try:
        case.build = mkdocs_build(project, settings)  # writes the analysis cache
        if not case.build.ok:
            case.notes.append(f"build failed: {case.build.problem}")
            return case
        port = 18_000 + os.getpid() % 1_000
        log = work / "serve.log"
        with log.open("wb") as out:
            # The venv's own Python running mkdocs, in the project copy.
            server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--dev-addr",  # noqa: S603
                                       f"127.0.0.1:{port}"], cwd=project, env=build_env(), stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
            try:
                _wait_for(log, "Serving on", 0, settings.timeout)
                time.sleep(2)  # the watcher settles
                before = log.read_text(encoding="utf-8", errors="replace").count("Documentation built in")
                config = project / "site_config" / "datasets" / f"{SERVE_DATASET}.yml"
                text = config.read_text(encoding="utf-8")
                start = time.perf_counter()
                config.write_text(text.replace("title: ", "title: Edited ", 1), encoding="utf-8")
                line = _wait_for(log, "Documentation built in", before, settings.timeout)
                case.serve_seconds = time.perf_counter() - start
                case.serve_build_seconds = float(line.split("Documentation built in")[1].split()[0])
                tail = log.read_text(encoding="utf-8", errors="replace").split("Documentation built in")[before]
                case.serve_computed = tuple(part.split(": computed")[0].rsplit(" ", 1)[-1]
                                            for part in tail.splitlines() if ": computed" in part)
            finally:
                with suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGTERM)
                with suppress(subprocess.TimeoutExpired):
                    server.wait(timeout=10)
                with suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait()
                _reap_orphans(within=10)  # its fork server: not counted in a later case's CPU time
        case.notes.append(f"the rebuild computed: {', '.join(case.serve_computed) or 'nothing'}; MkDocs reported "
                          f"{case.serve_build_seconds} s for it")
    finally:
        settings.discard(project)
    return case


def _wait_for(log: Path, text: str, seen: int, timeout: float) -> str:
    """The line of `log` holding the (seen + 1)-th `text`, once it is written."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        written = log.read_text(encoding="utf-8", errors="replace")
        lines = [line for line in written.splitlines() if text in line]
        if len(lines) > seen:
            return lines[seen]
        if "An error happened during the rebuild" in written:
            raise RuntimeError(f"the rebuild failed: see {log}")
        time.sleep(0.02)
    raise TimeoutError(f"no {text!r} in {log} after {timeout:.0f} s")


def sweep_worker(listing: Path) -> None:
    """The bare sweep over many small tables, in its own process: for each, load, scale, and for every k
    KMeans(n_init=10) and the silhouette; print JSON."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    start = time.perf_counter()
    for name in listing.read_text(encoding="utf-8").splitlines():
        table = Path(name)
        frame = pd.read_parquet(table) if table.suffix == ".parquet" else pd.read_csv(table)
        values = StandardScaler().fit_transform(frame[list(FEATURES)].to_numpy(dtype=float))
        for k in range(SMALL_K_RANGE[0], SMALL_K_RANGE[1] + 1):
            labels = KMeans(n_clusters=k, n_init=N_INIT, random_state=RANDOM_STATE).fit_predict(values)
            silhouette_score(values, labels)
    print(json.dumps({"sweep_seconds": time.perf_counter() - start}))


def baseline_worker(table: Path) -> None:
    """The bare baseline, in its own process: load, scale, fit every k on all rows; print JSON."""
    start = time.perf_counter()
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_parquet(table) if table.suffix == ".parquet" else pd.read_csv(table)
    values = StandardScaler().fit_transform(frame[list(FEATURES)].to_numpy(dtype=float))
    del frame
    loaded = time.perf_counter()
    inertia = {}
    for k in range(K_RANGE[0], K_RANGE[1] + 1):
        inertia[k] = float(KMeans(n_clusters=k, n_init=N_INIT, random_state=RANDOM_STATE).fit(values).inertia_)
    done = time.perf_counter()
    print(json.dumps({"load_seconds": loaded - start, "sweep_seconds": done - loaded, "inertia": inertia}))


# --- targets and report -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    verdict: str  # PASS, FAIL, INCONCLUSIVE or NOT MEASURED


def _judge(passed: bool | None) -> str:
    return "NOT MEASURED" if passed is None else ("PASS" if passed else "FAIL")


def _ratio(first: float | None, second: float | None) -> float | None:
    return first / second if first is not None and second else None


def _at_target(cases: list[Case], fmt: str) -> tuple[Case | None, str]:
    """The case a 1M-row target is judged on: the 1M case, else the largest measured one (said so)."""
    candidates = [c for c in cases if c.fmt == fmt and c.kind == "single" and c.rows <= TARGET_ROWS
                  and c.build is not None and c.build.ok]
    if not candidates:
        return None, ""
    case = max(candidates, key=lambda c: c.rows)
    note = "" if case.rows == TARGET_ROWS else f" (at {case.rows:,} rows: no {TARGET_ROWS:,}-row case was run)"
    return case, note


@dataclass(frozen=True)
class Step:
    """Growth from one size to the next: marginal cost per row."""

    fmt: str
    low: int
    high: int
    seconds_per_million: float  # extra build seconds per extra million rows
    mb_per_million: float  # extra peak MB per extra million rows
    time_exponent: float  # log(t2 / t1) / log(n2 / n1); 1 is proportional
    memory_exponent: float


def growth(cases: list[Case]) -> list[Step]:
    steps: list[Step] = []
    for fmt in FORMATS:
        built = sorted((c for c in cases if c.fmt == fmt and c.kind == "single" and c.build and c.build.ok),
                       key=lambda c: c.rows)
        for low, high in itertools.pairwise(built):
            if low.build is None or high.build is None:
                continue
            extra = (high.rows - low.rows) / 1e6
            scale = math.log(high.rows / low.rows)
            steps.append(Step(fmt, low.rows, high.rows,
                              (high.build.seconds - low.build.seconds) / extra,
                              (high.build.peak_mb - low.build.peak_mb) / extra,
                              math.log(high.build.seconds / low.build.seconds) / scale,
                              math.log(high.build.peak_mb / low.build.peak_mb) / scale))
    return steps


def targets(cases: list[Case], steps: list[Step]) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for fmt in FORMATS:
        case, note = _at_target(cases, fmt)
        build = case.build if case else None
        ratio = _ratio(build.seconds if build else None, case.baseline.seconds
                       if case and case.baseline and case.baseline.ok else None)
        runs = [r for r in (build, case.baseline if case else None) if r is not None]
        busy = max((r.others_cores for r in runs), default=0.0)
        if busy >= BUSY_CORES:
            note += f"; other processes kept up to {busy:.2f} cores busy during these runs"
        verdicts.append(Verdict(f"{fmt}: full build <= 0.5 x bare KMeans sweep ({TARGET_ROWS:,} rows)",
                                (f"{ratio:.2f} x" if ratio is not None else "no baseline") + note,
                                _judge(None if ratio is None else ratio <= 0.5)))
        diff = case.inertia_diff if case else None
        verdicts.append(Verdict(f"{fmt}: chosen solution's inertia within 0.5% of the bare fit at that k",
                                (f"{diff:+.3f} % at k = {case.k}" if case and diff is not None else "no baseline")
                                + note, _judge(None if diff is None else diff <= 0.5)))
        verdicts.append(Verdict(f"{fmt}: peak memory of the build < 1 GB ({TARGET_ROWS:,} rows)",
                                (f"{build.peak_mb:,.0f} MB" if build else "no build") + note,
                                _judge(None if build is None else build.peak_mb < 1_000)))
        rebuilt = case.rebuild if case and case.rebuild and case.rebuild.ok else None
        share = _ratio(rebuilt.seconds if rebuilt else None, build.seconds if build else None)
        verdicts.append(Verdict(f"{fmt}: unchanged rebuild < 10% of the first build ({TARGET_ROWS:,} rows)",
                                (f"{share:.0%} ({rebuilt.seconds:.1f} s)" if rebuilt and share is not None
                                 else "not measured") + note,
                                _judge(None if share is None else share < 0.10)))
    large = [c for c in cases if c.kind == "single" and c.rows >= LARGE_ROWS and c.build is not None]
    if large:
        worst = max(large, key=lambda c: c.build.peak_mb if c.build else 0)
        assert worst.build is not None
        state = "" if worst.build.ok else f" ({worst.build.problem})"
        verdicts.append(Verdict(f"peak memory of a {LARGE_ROWS:,}-row build < 3 GB",
                                f"{worst.build.peak_mb:,.0f} MB at {worst.rows:,} rows, {worst.fmt}{state}",
                                _judge(worst.build.ok and worst.build.peak_mb < 3_000)))
    else:
        guesses = []
        for fmt in FORMATS:
            own = [s for s in steps if s.fmt == fmt]
            top = [c for c in cases if own and c.fmt == fmt and c.kind == "single" and c.rows == own[-1].high]
            if own and top and top[0].build is not None and own[-1].high >= PROJECT_FROM:
                projected = top[0].build.peak_mb + own[-1].mb_per_million * (LARGE_ROWS - own[-1].high) / 1e6
                guesses.append(f"{fmt} ~{projected / 1000:.1f} GB")
        verdicts.append(Verdict(f"peak memory of a {LARGE_ROWS:,}-row build < 3 GB",
                                f"not run (add {LARGE_ROWS} to --sizes); linear projection from the last step: "
                                f"{', '.join(guesses) or f'- (needs a step up to {PROJECT_FROM:,} rows or more)'}",
                                "NOT MEASURED"))
    by_fmt = {fmt: [s for s in steps if s.fmt == fmt] for fmt in FORMATS}
    for fmt, own in by_fmt.items():
        if not own:
            verdicts.append(Verdict(f"{fmt}: growth with n is at most linear", "needs two sizes", "NOT MEASURED"))
            continue
        last = own[-1]
        shown = (f"exponents from {last.low:,} to {last.high:,} rows: time {last.time_exponent:.2f}, memory "
                 f"{last.memory_exponent:.2f}; per extra 1M rows +{last.seconds_per_million:,.1f} s, "
                 f"+{last.mb_per_million:,.0f} MB")
        linear = last.time_exponent <= LINEAR_EXPONENT and last.memory_exponent <= LINEAR_EXPONENT
        verdicts.append(Verdict(f"{fmt}: growth with n is at most linear (exponent of the last step <= "
                                f"{LINEAR_EXPONENT})", shown, _judge(linear)))
    weighed = [c for c in cases if c.page_bytes is not None]
    if weighed:
        heaviest = max(weighed, key=lambda c: c.page_bytes or 0)
        verdicts.append(Verdict("every report page (folder without assignments.csv and report.html) < 1 MB, whatever n",
                                f"largest {(heaviest.page_bytes or 0) / KB:,.0f} KB ({heaviest.name})",
                                _judge(all((c.page_bytes or 0) < MB for c in weighed))))
        html = max(weighed, key=lambda c: c.report_html_bytes or 0)
        verdicts.append(Verdict("every single-file report.html < 1 MB, whatever n",
                                f"largest {(html.report_html_bytes or 0) / KB:,.0f} KB ({html.name})",
                                _judge(all((c.report_html_bytes or 0) < MB for c in weighed))))
    verdicts += issue_14(cases)
    many = [c for c in cases if c.kind == "many" and c.build is not None and c.build.ok]
    if many:
        build = many[0].build
        assert build is not None
        cores = len(os.sched_getaffinity(0))
        use = build.cpu_seconds / build.seconds
        busy = build.others_cores >= BUSY_CORES
        verdict = _judge(use >= PARALLEL_USE if cores > 1 else None)
        if verdict == "FAIL" and busy:
            verdict = "INCONCLUSIVE"  # other processes held the cores it would have used
        verdicts.append(Verdict(f"{many[0].datasets} small datasets built in parallel (CPU time / wall time >= "
                                f"{PARALLEL_USE})",
                                f"CPU time / wall time = {use:.2f} on {cores} cores ({build.seconds:.1f} s), up to "
                                f"{build.processes} processes at once; other processes kept "
                                f"{build.others_cores:.2f} cores busy meanwhile", verdict))
    return verdicts


# Issue 14's three targets, and the figures measured before: as the issue gave them (bench/results.md of
# 2026-11-26), then as bench/results.md had them on 2026-12-02 at 06:03 UTC (the 2-core VM, quiet).
PREVIOUS_MANY = "51 x (190 s against a 3.7 s sweep); then 20.9 x (92.7 s against 4.4 s); 16.6 to 18.0 x on 2026-12-02"
PREVIOUS_SITE = "0.84 x; then 0.47 x; 0.54 x on 2026-12-02"
PREVIOUS_SERVE = "not measured (each edit started a pool of workers); then 4.93 s"


def issue_14(cases: list[Case]) -> list[Verdict]:
    verdicts = []
    for case in (c for c in cases if c.kind == "many"):
        build, baseline = case.build, case.baseline
        if build is None or not build.ok or baseline is None or not baseline.ok:
            verdicts.append(Verdict(f"{case.name}: build <= {SMALL_TARGET:g} x the bare sweep (was {PREVIOUS_MANY})",
                                    "no build or no baseline", "NOT MEASURED"))
            continue
        ratio = build.seconds / baseline.seconds
        fits = f"; {build.seconds / case.sweep_seconds:.1f} x the fits alone ({case.sweep_seconds:.1f} s)" \
            if case.sweep_seconds else ""
        verdicts.append(Verdict(f"{case.name}: build <= {SMALL_TARGET:g} x the bare sweep, k {SMALL_K_RANGE[0]}.."
                                f"{SMALL_K_RANGE[1]} (was {PREVIOUS_MANY})",
                                f"{ratio:.1f} x ({build.seconds:.1f} s against {baseline.seconds:.1f} s{fits}); "
                                f"other processes kept {max(build.others_cores, baseline.others_cores):.2f} cores busy",
                                _judge(ratio <= SMALL_TARGET)))
    for case in (c for c in cases if c.kind == "site"):
        build, baseline = case.build, case.baseline
        share = _ratio(build.seconds if build and build.ok else None,
                       baseline.seconds if baseline and baseline.ok else None)
        verdicts.append(Verdict(f"{case.name}: whole build <= {SITE_TARGET} x the bare sweep on the big table "
                                f"(was {PREVIOUS_SITE})",
                                "not measured" if share is None or build is None or baseline is None else
                                f"{share:.2f} x ({build.seconds:.1f} s against {baseline.seconds:.1f} s)",
                                _judge(None if share is None else share <= SITE_TARGET)))
        diff = case.inertia_diff
        verdicts.append(Verdict(f"{case.name}: inertia within 0.5% of the bare fit at the chosen k",
                                "no baseline" if diff is None else f"{diff:+.3f} % at k = {case.k}",
                                _judge(None if diff is None else diff <= 0.5)))
    for case in (c for c in cases if c.kind == "serve"):
        seconds = case.serve_seconds
        alone = case.serve_computed == (SERVE_DATASET,)
        verdicts.append(Verdict(f"{case.name}: rebuilt under `mkdocs serve` in < {SERVE_TARGET:g} s, computing that "
                                f"dataset alone (was {PREVIOUS_SERVE})",
                                "not measured" if seconds is None else
                                f"{seconds:.2f} s from the edit to the rebuilt site (MkDocs: built in "
                                f"{case.serve_build_seconds} s); computed: "
                                f"{', '.join(case.serve_computed) or 'nothing'}",
                                _judge(None if seconds is None else seconds < SERVE_TARGET and alone)))
    return verdicts


COLUMNS = ("case", "rows", "features", "format", "k", "build s", "baseline s", "build/baseline", "inertia diff %",
           "peak MB build", "peak MB baseline", "page KB", "report.html KB", "rebuild s", "rebuild/first")


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def row_of(case: Case) -> tuple[str, ...]:
    build = case.build if case.build and case.build.ok else None
    baseline = case.baseline if case.baseline and case.baseline.ok else None
    rebuild = case.rebuild if case.rebuild and case.rebuild.ok else None
    return (
        case.name, f"{case.rows:,}", str(case.features), case.fmt, _num(case.k, "d"),
        _num(build.seconds if build else None, ".1f"), _num(baseline.seconds if baseline else None, ".1f"),
        _num(_ratio(build.seconds if build else None, baseline.seconds if baseline else None), ".2f"),
        _num(case.inertia_diff, "+.3f"),
        _num(case.build.peak_mb if case.build else None, ",.0f"),
        _num(case.baseline.peak_mb if case.baseline else None, ",.0f"),
        _num(None if case.page_bytes is None else case.page_bytes / KB, ",.0f"),
        _num(None if case.report_html_bytes is None else case.report_html_bytes / KB, ",.0f"),
        _num(rebuild.seconds if rebuild else None, ".1f"),
        _num(_ratio(rebuild.seconds if rebuild else None, build.seconds if build else None), ".0%"),
    )


def summary(case: Case) -> str:
    """One finished case on one line, with its notes below it."""
    cells = ", ".join(f"{name} {value}" for name, value in zip(COLUMNS[1:], row_of(case)[1:], strict=True))
    return "\n    ".join([f"{case.name}: {cells}", *case.notes])


def console_table(cases: list[Case]) -> str:
    rows = [COLUMNS, *(row_of(c) for c in cases)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    escape = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(row) + " |" for row in escape)]


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) * 1024 / 1e9:.1f} GB"
    except OSError:
        pass
    return {"cpu": cpu, "cores": str(len(os.sched_getaffinity(0))), "memory": memory,
            "python": platform.python_version(), "system": f"{platform.system()} {platform.release()}"}


def commit() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    # Fixed arguments to the git found on PATH, reading this repository.
    head = subprocess.run([git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,  # noqa: S603
                          text=True, check=False)
    dirty = subprocess.run([git, "status", "--porcelain", "--", "generator", "hooks", "templates", "mkdocs.yml"],  # noqa: S603
                           cwd=ROOT, capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" with uncommitted changes to the generator" if dirty.stdout.strip() else "")


def versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


@dataclass(frozen=True)
class Header:
    """What a run was: its command, when, on which code, and how busy the machine was."""

    command: str
    started: datetime
    load: float  # 1-minute load average at the start
    commit: str
    baseline_threads: int


def markdown(cases: list[Case], verdicts: list[Verdict], steps: list[Step], header: Header, finished: bool) -> str:
    info = machine()
    codes = sorted({c.code for c in cases if c.code})
    changed = ("; **the generator changed during the run**: the cases ran on code "
               f"{', '.join(codes)} (see Details)" if len(codes) > 1 else "")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{header.command}`, started {header.started:%Y-%m-%d %H:%M} UTC"
        + ("" if finished else " (**incomplete**: the run was still going or stopped early)") + ".",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['memory']} RAM; {info['system']}",
        f"- Python {info['python']}; {versions()}",
        f"- Load average (1 min) at the start {header.load:.2f}, at the end {os.getloadavg()[0]:.2f}: other "
        "processes on the machine lengthen wall times; CPU seconds are under Details",
        f"- Project commit at the start: {header.commit}; code fingerprint {', '.join(codes) or '-'}{changed}",
        f"- Every case: {len(FEATURES)} features, `n_clusters: [{K_RANGE[0]}, {K_RANGE[1]}]`, defaults otherwise "
        f"(standard scaling, n_init {N_INIT}, random_state {RANDOM_STATE}); the tutorial is part of every build.",
        f"- Baseline threads: {header.baseline_threads or 'library default (all cores)'}; the build fits on one "
        "thread per dataset.",
        "- Column meanings: see [README.md](README.md). MB = 10^6 bytes, KB = 10^3 bytes.",
        "",
        "## Cases",
        "",
        *_md_table(COLUMNS, [row_of(c) for c in cases]),
        "",
        "## Targets",
        "",
        *_md_table(("target", "measured", "verdict"),
                   [(v.target, v.measured, f"**{v.verdict}**") for v in verdicts]),
        "",
        "## Growth with n",
        "",
    ]
    if steps:
        lines += _md_table(
            ("format", "from rows", "to rows", "extra build s per 1M rows", "extra peak MB per 1M rows",
             "time exponent", "memory exponent"),
            [(s.fmt, f"{s.low:,}", f"{s.high:,}", f"{s.seconds_per_million:,.1f}", f"{s.mb_per_million:,.0f}",
              f"{s.time_exponent:.2f}", f"{s.memory_exponent:.2f}") for s in steps])
        lines += ["", "An exponent is log(cost ratio) / log(rows ratio): 1 is proportional to n, below 1 means "
                      "fixed costs still dominate, above 1 is faster than linear growth."]
    else:
        lines.append("Needs at least two sizes.")
    lines += ["", "## Details", ""]
    for case in cases:
        parts = []
        if case.build is not None:
            parts.append(f"build CPU {case.build.cpu_seconds:.1f} s, up to {case.build.processes} process(es) at "
                         f"once, other processes kept {case.build.others_cores:.2f} cores busy meanwhile; peak of "
                         f"the largest process {case.build.process_peak_mb:,.0f} MB, of all its processes together "
                         f"{case.build.tree_peak_mb:,.0f} MB (sampled)")
        if case.rebuild is not None:
            parts.append(f"rebuild peak {case.rebuild.peak_mb:,.0f} MB")
        if case.sweep_seconds is not None and case.baseline is not None:
            parts.append(f"baseline: fits alone {case.sweep_seconds:.1f} s of {case.baseline.seconds:.1f} s")
        if case.worst_inertia_diff is not None:
            parts.append(f"largest inertia difference over all k {case.worst_inertia_diff:+.3f} %")
        parts.append(f"code {case.code}")
        parts += case.notes
        lines.append(f"- {case.name}: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


# --- main ---------------------------------------------------------------------------------


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def workspace(keep: bool) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="segment-bench-"))
    try:
        yield folder
    finally:
        if keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Measure the site build against its performance targets.")
    parser.add_argument("--quick", action="store_true", help=f"sizes {', '.join(f'{n:,}' for n in QUICK_SIZES)}")
    parser.add_argument("--sizes", type=int, nargs="+", help=f"rows per case (default {DEFAULT_SIZES})")
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare KMeans sweep")
    parser.add_argument("--baseline-threads", type=int, default=1,
                        help="OpenMP/BLAS threads of the baseline (default 1, as the build; 0: library default)")
    parser.add_argument("--no-rebuild", action="store_true", help="skip the second, unchanged build")
    parser.add_argument("--small-datasets", type=int,
                        help=f"datasets in the many-small case (default {SMALL_DATASETS}, {QUICK_SMALL_DATASETS} "
                             "with --quick; 0: skip)")
    parser.add_argument("--small-rows", type=int, default=500, help="rows of each small dataset")
    parser.add_argument("--site-rows", type=int, default=TARGET_ROWS,
                        help=f"the big table built with the shipped site (default {TARGET_ROWS:,}; 0: skip)")
    parser.add_argument("--no-serve", action="store_true", help="skip the `mkdocs serve` edit case")
    parser.add_argument("--only-issue-14", action="store_true",
                        help="only the cases of issue 14: many small datasets, the site with a big table, serve")
    parser.add_argument("--sweep-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a child process is killed")
    parser.add_argument("--max-rss-gb", type=float, default=16, help="resident GB at which a child is killed")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the Markdown results file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--baseline-worker", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse(argv)
    if arguments.baseline_worker is not None:
        baseline_worker(arguments.baseline_worker)
        return 0
    if arguments.sweep_worker is not None:
        sweep_worker(arguments.sweep_worker)
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    _adopt_orphans()
    sizes = sorted(set(arguments.sizes or (QUICK_SIZES if arguments.quick else DEFAULT_SIZES)))
    settings = Settings(timeout=arguments.timeout, max_rss_gb=arguments.max_rss_gb,
                        baseline=not arguments.no_baseline, baseline_threads=arguments.baseline_threads,
                        rebuild=not arguments.no_rebuild, keep=arguments.keep)
    shown = ["bench/bench.py", *(argv if argv is not None else sys.argv[1:])]
    header = Header(command=" ".join(shown), started=datetime.now(UTC), load=os.getloadavg()[0], commit=commit(),
                    baseline_threads=settings.baseline_threads)
    cases: list[Case] = []
    output: Path = arguments.output

    def record(finished: bool) -> None:
        steps = growth(cases)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(markdown(cases, targets(cases, steps), steps, header, finished), encoding="utf-8")

    print(f"sizes {', '.join(f'{n:,}' for n in sizes)}; formats {', '.join(arguments.formats)}; "
          f"{machine()['cores']} cores", flush=True)
    finished = False
    try:
        with workspace(arguments.keep) as work:
            for rows in [] if arguments.only_issue_14 else sizes:
                began = time.perf_counter()
                frame = customers(rows, seed=rows)
                paths = write_table(frame, work / "tables", f"customers-{rows}")
                del frame
                print(f"[{rows:,} rows] tables written in {time.perf_counter() - began:.1f} s", flush=True)
                for fmt in arguments.formats:
                    case = single_case(rows, fmt, paths[fmt], work, settings)
                    cases.append(case)
                    print(summary(case), flush=True)
                    record(finished=False)
                for path in paths.values() if not arguments.keep else ():
                    path.unlink(missing_ok=True)
            count = arguments.small_datasets
            if count is None:
                count = QUICK_SMALL_DATASETS if arguments.quick else SMALL_DATASETS
            if count > 0:
                case = many_small_case(count, arguments.small_rows, work, settings)
                cases.append(case)
                print(summary(case), flush=True)
                record(finished=False)
            if arguments.site_rows > 0:
                case = site_case(arguments.site_rows, work, settings)
                cases.append(case)
                print(summary(case), flush=True)
                record(finished=False)
            if not arguments.no_serve:
                case = serve_case(work, settings)
                cases.append(case)
                print(summary(case), flush=True)
        finished = True
    except KeyboardInterrupt:
        print("interrupted: results so far are written", file=sys.stderr)
    finally:
        record(finished)
    steps = growth(cases)
    print()
    print(console_table(cases))
    if steps:
        print("\ngrowth (extra build s / extra peak MB per extra 1M rows; exponents, 1 = proportional):")
        for s in steps:
            print(f"  {s.fmt:8} {s.low:>12,} -> {s.high:>12,}: {s.seconds_per_million:8.1f} s/1M  "
                  f"{s.mb_per_million:8,.0f} MB/1M  exponents: time {s.time_exponent:.2f}, "
                  f"memory {s.memory_exponent:.2f}")
    print("\ntargets:")
    for verdict in targets(cases, steps):
        print(f"  {verdict.verdict:12} {verdict.target}: {verdict.measured}")
    print(f"\nwritten {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
