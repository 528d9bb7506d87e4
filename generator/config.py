"""Dataset configuration: `site_config/datasets/<id>.yml` -> frozen, validated objects.

All validation happens here, once. Every problem in a file is collected and reported at
once, each as `site_config/datasets/<id>.yml: <key>: <message>`. The schema below (`OPTIONS`)
is also the source of the configuration reference page, so the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import UserError, did_you_mean, shorten

CONFIG_DIR = Path("site_config") / "datasets"
SPARK_CONFIG = Path("site_config") / "spark.yml"  # Spark properties for engine: spark
BLOCK = 1 << 20  # bytes of a data file hashed at a time
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
SCALES = ("standard", "minmax", "robust", "none")
MISSING = ("fail", "drop")
ENGINES = ("local", "spark")
SOURCE_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".parquet", ".xlsx", ".json")
SPARK_SUFFIXES = (".csv", ".tsv", ".parquet")  # what engine: spark reads
MAX_CLUSTERS = 30
MAX_TEXT = 200


@dataclass(frozen=True)
class DatasetConfig:
    """One validated dataset configuration; see `OPTIONS` for what each field means."""

    id: str
    path: str  # the config file, relative to the project root, for messages
    title: str
    features: tuple[str, ...]
    description: str | None = None
    credit: str | None = None
    source: str | None = None
    data: Mapping[str, tuple[object, ...]] | None = None
    id_column: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    n_clusters: int | tuple[int, int] = (2, 8)
    scale: str = "standard"
    random_state: int = 42
    n_init: int = 10
    plot: tuple[str, str] | None = None
    names: Mapping[int, str] = field(default_factory=dict)
    missing: str = "fail"
    publish_rows: bool = True
    publish_personal: bool = False
    engine: str = "local"

    def label(self, column: str) -> str:
        """The display label of a column: its `labels` entry, else its name."""
        return self.labels.get(column, column)

    @property
    def plot_features(self) -> tuple[str, str]:
        """The two features of the main scatterplot."""
        return self.plot or (self.features[0], self.features[1])


class Invalid(Exception):
    """A value does not fit its key; the message completes `<file>: <key>: ...`."""


# --- value checkers: each takes the raw YAML value and returns the typed one -------------


def _text(value: object, *, single_line: bool = True) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be text, got {_kind(value)} {shorten(value)} (put it in quotes)")
    text = value.strip()
    if not text:
        raise Invalid("must not be empty")
    if single_line and ("\n" in text or "\r" in text or len(text) > MAX_TEXT):
        raise Invalid(f"must be one line of at most {MAX_TEXT} characters")
    return text


def _paragraph(value: object) -> str:
    return _text(value, single_line=False)


def _column(value: object) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise Invalid(f"must be a column name, got {_kind(value)} {shorten(value)}")
    name = str(value)
    if not name.strip():
        raise Invalid("must not be empty")
    return name


def _columns(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise Invalid(f"must be a list of column names, got {_kind(value)} {shorten(value)}")
    names = tuple(_column(item) for item in value)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise Invalid(f"lists {shorten(duplicates[0])} more than once")
    return names


def _features(value: object) -> tuple[str, ...]:
    names = _columns(value)
    if len(names) < 2:
        raise Invalid("needs at least two numeric columns (a segment map has two axes)")
    return names


def _integer(value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"must be a whole number, got {_kind(value)} {shorten(value)}")
    if not low <= value <= high:
        raise Invalid(f"must be between {low} and {high}, got {value}")
    return value


def _n_clusters(value: object) -> int | tuple[int, int]:
    if isinstance(value, list):
        if len(value) != 2:
            raise Invalid(f"a range is two numbers [min, max], got {len(value)} items")
        low, high = (_integer(item, 2, MAX_CLUSTERS) for item in value)
        if low > high:
            raise Invalid(f"range [{low}, {high}] is empty: min must not exceed max")
        return (low, high) if low < high else low
    return _integer(value, 2, MAX_CLUSTERS)


def _random_state(value: object) -> int:
    return _integer(value, 0, 2**32 - 1)


def _n_init(value: object) -> int:
    return _integer(value, 1, 1000)


def _choice(options: tuple[str, ...]) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in options:
            hint = did_you_mean(str(value), options)
            raise Invalid(f"must be one of {', '.join(options)}, got {shorten(value)}{hint}")
        return str(value)

    return check


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, got {_kind(value)} {shorten(value)}")
    return value


def _source(value: object) -> str:
    text = _text(value)
    if Path(text).suffix.lower() not in SOURCE_SUFFIXES:
        raise Invalid(f"{shorten(text)} must end in one of {', '.join(SOURCE_SUFFIXES)}")
    return text


def _data(value: object) -> dict[str, tuple[object, ...]]:
    if not isinstance(value, dict) or not value:
        raise Invalid("must map each column name to a list of values")
    table: dict[str, tuple[object, ...]] = {}
    for name, cells in value.items():
        column = _column(name)
        if not isinstance(cells, list):
            raise Invalid(f"column {shorten(column)} must be a list of values")
        for row, cell in enumerate(cells, start=1):
            if cell is not None and not isinstance(cell, str | int | float):
                raise Invalid(f"column {shorten(column)} row {row}: {shorten(cell)} is not a plain value")
        table[column] = tuple(cells)
    lengths = {len(cells) for cells in table.values()}
    if len(lengths) > 1:
        counts = ", ".join(f"{shorten(k)}: {len(v)}" for k, v in table.items())
        raise Invalid(f"columns must have the same number of values ({counts})")
    return table


def _labels(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Invalid(f"must map column names to display labels, got {_kind(value)}")
    return {_column(k): _text(v) for k, v in value.items()}


def _plot(value: object) -> tuple[str, str]:
    names = _columns(value)
    if len(names) != 2:
        raise Invalid(f"must name exactly two features, got {len(names)}")
    return names[0], names[1]


def _names(value: object) -> dict[int, str]:
    if not isinstance(value, dict):
        raise Invalid(f"must map segment numbers to names, got {_kind(value)}")
    return {_integer(k, 0, MAX_CLUSTERS - 1): _text(v) for k, v in value.items()}


@dataclass(frozen=True)
class Option:
    """One configuration key: its checker, its default as shown to people, and its meaning."""

    key: str
    check: Callable[[object], object]
    default: str
    doc: str


OPTIONS: tuple[Option, ...] = (
    Option("title", _text, "required", "Report title, plain text on one line."),
    Option("description", _paragraph, "none",
           "A paragraph of Markdown written by the site author, shown under the title."),
    Option("credit", _paragraph, "none",
           "Where the data comes from and its licence, in Markdown; shown on the report."),
    Option("source", _source, "one of `source` / `data` required",
           "The table file, relative to the project root: `.csv`, `.tsv`, `.parquet`, "
           "`.xlsx` or `.json` (a list of records), or `.txt` or `.dat` for a text table whose "
           "columns are separated by runs of spaces or tabs (as older systems write them; a cell "
           "cannot then hold a space). It must stay inside the project. With "
           "`engine: spark` it may also be any URI Spark reads (`s3a://...`, `hdfs://...`), "
           "`.csv`, `.tsv` or `.parquet`."),
    Option("data", _data, "",
           "An inline table instead of `source`: a mapping of column name to a list of values."),
    Option("id_column", _column, "none",
           "The column that identifies a customer: carried into downloads, never clustered."),
    Option("features", _features, "required",
           "The numeric columns to cluster on, at least two."),
    Option("labels", _labels, "column names",
           "Display labels for columns, e.g. `AnnualSpend: Annual Spending ($)`."),
    Option("n_clusters", _n_clusters, "`[2, 8]`",
           f"A whole number from 2 to {MAX_CLUSTERS} for a fixed number of segments, or "
           "`[min, max]` to evaluate every k in that inclusive range and recommend one."),
    Option("scale", _choice(SCALES), "`standard`",
           "How features are scaled before clustering: `standard` (z-scores), `minmax`, "
           "`robust` (median and quartiles) or `none`. Centres are always reported in the "
           "features' original units."),
    Option("random_state", _random_state, "`42`", "Seed for every random step."),
    Option("n_init", _n_init, "`10`",
           "K-Means restarts; the best of them is kept. Explicit, so results do not move "
           "with scikit-learn's default."),
    Option("plot", _plot, "the first two features",
           "The two features of the main scatterplot. With more than two features the "
           "report adds a PCA map of all of them."),
    Option("names", _names, "generated",
           "Segment names by segment number (0, 1, ...), replacing the generated names."),
    Option("missing", _choice(MISSING), "`fail`",
           "Rows whose features are blank or not numbers: `fail` stops the build and names "
           "the first such cells; `drop` leaves the rows out and reports how many."),
    Option("publish_rows", _boolean, "`true`",
           "Publish row-level data (`assignments.csv`); `false` publishes summaries only."),
    Option("publish_personal", _boolean, "`false`",
           "Publish an `id_column` that looks like personal data (e-mail addresses, phone numbers, "
           "names, postal addresses) in `assignments.csv`. By default such a column is left out "
           "of the download and the report says so."),
    Option("engine", _choice(ENGINES), "`local`",
           "`local` clusters with scikit-learn on this machine. `spark` reads, scales, clusters "
           "and summarises the data in Spark (MLlib K-Means) and brings back only summaries, a "
           "bounded sample for the charts and the rows when `publish_rows` is true; it needs Java "
           "and takes its Spark settings from `site_config/spark.yml` and the environment "
           "(`SPARK_MASTER`). See [big tables](#big-tables-and-spark)."),
)
REQUIRED = ("title", "features")


# --- YAML loading: safe, strict about the YAML 1.1 surprises --------------------------


class _StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` minus aliases and duplicate keys, with YAML 1.2-like scalars.

    YAML 1.1 reads `NO` as false and `010` as 8; here only `true`/`false` are booleans and
    only plain decimal digits are integers, so `NO` stays the text "NO" and `010` is text
    that fails its type check with a message.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in dataset files", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be plain text", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shorten(key)}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _bool_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool | str:
    value = loader.construct_scalar(node)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _int_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    value = loader.construct_scalar(node)
    if re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", value):
        return int(value)
    return value


def _float_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float | str:
    value = loader.construct_scalar(node)
    if "_" in value or ":" in value:  # YAML 1.1 reads 1_000.5 and 1:30.5 as numbers
        return value
    return float(loader.construct_yaml_float(node))


_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _bool_or_text)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _float_or_text)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _int_or_text)


def _read_yaml(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(f"is not valid UTF-8 (byte {error.start}); save it as UTF-8") from None
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        raise Invalid(f"line {line}: a tab character; YAML indents with spaces")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise Invalid(f"{where}{error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise Invalid(f"not valid YAML: {shorten(str(error), 80)}") from None


# --- the whole file -------------------------------------------------------------------


def load_dataset(root: Path, path: Path) -> DatasetConfig:
    """Read and validate one dataset file; raise `UserError` listing all its problems."""
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    problems: list[str] = []

    def problem(key: str, message: str) -> None:
        problems.append(f"{shown}: {key}: {message}")

    dataset_id = path.stem
    if not SLUG.match(dataset_id):
        problem("id", f"file name {shorten(dataset_id)} must be a slug: lower-case letters, "
                "digits and '-', starting with a letter or digit")
    try:
        raw = _read_yaml(path)
    except Invalid as error:
        raise UserError([*problems, f"{shown}: file: {error}"]) from None
    if raw is None:
        problem("file", "is empty; it needs at least title, features and source or data")
    elif not isinstance(raw, dict):
        problem("file", f"must be a mapping of keys to values, got {_kind(raw)}")
    if not isinstance(raw, dict):
        raise UserError(problems)

    known = {option.key: option for option in OPTIONS}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        option = known.get(key) if isinstance(key, str) else None
        if option is None:
            problem(str(key), f"unknown key{did_you_mean(str(key), tuple(known))}")
            continue
        try:
            values[key] = option.check(value)
        except Invalid as error:
            problem(key, str(error))
    for key in REQUIRED:
        if key not in raw:
            problem(key, "is required")
    problems += [f"{shown}: {key}: {message}" for key, message in _cross_check(root, raw, values)]
    if problems:
        raise UserError(problems)
    return DatasetConfig(id=dataset_id, path=shown, **values)


def _cross_check(root: Path, raw: dict[Any, Any], values: dict[str, Any]) -> list[tuple[str, str]]:
    """Checks that involve several keys, run on the keys that passed their own check."""
    found: list[tuple[str, str]] = []
    if "source" in raw and "data" in raw:
        found.append(("data", "give either source or data, not both"))
    elif "source" not in raw and "data" not in raw:
        found.append(("source", "is required (or inline data)"))
    spark = values.get("engine") == "spark"
    if "source" in values and not (spark and is_uri(values["source"])):
        reason = _source_problem(root, values["source"])
        if reason:
            found.append(("source", reason))
    if spark and "data" in values:
        found.append(("data", "engine: spark reads a source file or URI; inline data is clustered by the local engine"))
    if spark and "source" in values and Path(values["source"]).suffix.lower() not in SPARK_SUFFIXES:
        found.append(("source", f"engine: spark reads {', '.join(SPARK_SUFFIXES)} files; use engine: local for "
                                f"{Path(values['source']).suffix}"))
    features: tuple[str, ...] = values.get("features", ())
    id_column = values.get("id_column")
    if id_column is not None and id_column in features:
        found.append(("id_column", f"{shorten(id_column)} is also a feature; an id is never clustered"))
    for feature in values.get("plot", ()):
        if features and feature not in features:
            found.append(("plot", f"{shorten(feature)} is not one of the features{did_you_mean(feature, features)}"))
    n_clusters = values.get("n_clusters")
    top = max(n_clusters) if isinstance(n_clusters, tuple) else n_clusters or (2, 8)[1]
    for number in values.get("names", {}):
        if number >= top:
            found.append(("names", f"segment {number} does not exist: segments are numbered 0 to {top - 1}"))
    if "data" in values and features:
        columns = tuple(values["data"])
        for name in (*features, *([id_column] if id_column else [])):
            if name not in columns:
                found.append(("data", f"has no column {shorten(name)}{did_you_mean(name, columns)}"))
    return found


def is_uri(source: str) -> bool:
    """Whether a source names a URI (`s3a://bucket/key`) rather than a path in the project."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]+://", source) is not None


def _source_problem(root: Path, source: str) -> str | None:
    if is_uri(source):
        return f"{shorten(source)} is a URI: only engine: spark reads URIs; the local engine reads project files"
    relative = Path(source)
    if relative.is_absolute() or ".." in relative.parts:
        return f"{shorten(source)} must be a path inside the project, relative to its root"
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        return f"{shorten(source)} leads outside the project (a link?)"
    if not target.is_file():
        return f"{shorten(source)} does not exist"
    return None


def spark_settings(root: Path) -> dict[str, str]:
    """Spark properties for `engine: spark`: `site_config/spark.yml`, then the environment.

    The file maps Spark property names to values (`spark.master: local[2]`); `SPARK_MASTER`
    in the environment overrides `spark.master`, so one site builds on a laptop and on a cluster.
    """
    path = root / SPARK_CONFIG
    shown = path.relative_to(root).as_posix()
    settings: dict[str, str] = {"spark.master": "local[*]"}
    if path.is_file():
        try:
            raw = _read_yaml(path)
        except Invalid as error:
            raise UserError(f"{shown}: {error}") from None
        if raw is not None and not isinstance(raw, dict):
            raise UserError(f"{shown}: must map Spark property names (spark.master, ...) to values")
        for key, value in (raw or {}).items():
            if not isinstance(key, str) or not key.startswith("spark."):
                raise UserError(f"{shown}: {str(key)[:60]}: not a Spark property (they start with 'spark.')")
            if isinstance(value, (dict, list)) or value is None:
                raise UserError(f"{shown}: {key}: must be one value, got {_kind(value)}")
            settings[key] = str(value).lower() if isinstance(value, bool) else str(value)
    if os.environ.get("SPARK_MASTER"):
        settings["spark.master"] = os.environ["SPARK_MASTER"]
    return settings


def source_digest(root: Path, config: DatasetConfig) -> str:
    """The sha256 of a dataset's source file, read in blocks; "inline" for data in the config."""
    if config.source is None:
        return "inline"
    if is_uri(config.source):
        return f"uri {config.source}"  # remote data: its bytes are Spark's to read
    digest = hashlib.sha256()
    try:
        with (root / config.source).open("rb") as handle:
            while block := handle.read(BLOCK):
                digest.update(block)
    except OSError:
        return "unreadable"  # loading the table will say what is wrong
    return digest.hexdigest()


def load_all(root: Path) -> list[DatasetConfig]:
    """Validate every dataset file under `root`; raise one `UserError` with every problem."""
    folder = root / CONFIG_DIR
    paths = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml"))
    configs: list[DatasetConfig] = []
    problems: list[str] = []
    stems: dict[str, Path] = {}
    for path in sorted(paths):
        if path.stem in stems:
            problems.append(f"{path.relative_to(root).as_posix()}: id: {path.stem!r} is also "
                            f"configured by {stems[path.stem].name}; each report needs its own id")
            continue
        stems[path.stem] = path
        try:
            configs.append(load_dataset(root, path))
        except UserError as error:
            problems += error.problems
    if problems:
        raise UserError(problems)
    return configs


def _kind(value: object) -> str:
    kinds = {bool: "true/false", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "a mapping", type(None): "nothing"}
    return kinds.get(type(value), type(value).__name__)
