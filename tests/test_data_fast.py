"""The fast reader: the same Table as the slow reader, or it declines and the slow reader runs.

Every test reads a file both ways: `fast_table` directly (whatever the file's size) and
`load_table` on a file below FAST_FROM (the slow reader, which makes every error message).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import generator.data as data
from generator.config import DatasetConfig
from generator.data import FAST_FROM, Table, fast_table, load_table
from generator.errors import UserError

FEATURES = ("x", "y")


def config(source: str, *, features: tuple[str, ...] = FEATURES, id_column: str | None = None,
           missing: str = "fail") -> DatasetConfig:
    return DatasetConfig(id="t", path="site_config/datasets/t.yml", title="T", source=source, features=features,
                         id_column=id_column, missing=missing)


def write(root: Path, name: str, payload: bytes | str) -> str:
    (root / name).write_bytes(payload.encode() if isinstance(payload, str) else payload)
    return name


def assert_same(fast: Table, slow: Table) -> None:
    """Equal in every field, features to the bit (the sign of zero too) and in the same layout."""
    pd.testing.assert_frame_equal(fast.features, slow.features, check_exact=True)
    assert list(fast.features.dtypes) == list(slow.features.dtypes)
    assert fast.features.columns.dtype == slow.features.columns.dtype
    assert np.array_equal(np.signbit(fast.features.to_numpy()), np.signbit(slow.features.to_numpy()))
    assert fast.features.to_numpy().strides == slow.features.to_numpy().strides
    for name in ("ids", "rows_read", "rows_used", "dropped", "sha256", "origin", "notes", "personal"):
        assert getattr(fast, name) == getattr(slow, name), name


def both(root: Path, dataset: DatasetConfig) -> tuple[Table | None, Table | None]:
    """What the fast reader gives (None: it declines) and what the slow reader gives (None: a UserError).

    Checks the one promise: the fast reader declines, or gives what the slow reader gives.
    """
    assert dataset.source is not None
    assert (root / dataset.source).stat().st_size <= FAST_FROM  # so load_table reads it slowly
    fast = fast_table(root, dataset)
    try:
        slow = load_table(root, dataset)
    except UserError:
        assert fast is None
        return None, None
    if fast is not None:
        assert_same(fast, slow)
    return fast, slow


def agree(root: Path, name: str, payload: bytes | str, id_column: str | None = None) -> Table | None:
    """`both` on a file; the fast reader's table."""
    return both(root, config(write(root, name, payload), id_column=id_column))[0]


# --- files the fast reader reads, to the same Table ---------------------------------------------------

RNG = np.random.default_rng(7)


def cells(kind: str, size: int = 60) -> list[str]:
    """Number cells of a kind, the same on every run."""
    rng = np.random.default_rng(sum(map(ord, kind)))
    if kind == "ints":
        return [str(v) for v in rng.integers(-10**6, 10**6, size)]
    if kind == "decimals":
        return [f"{v:.2f}" for v in rng.normal(5000, 1500, size)]
    if kind == "exponents":
        return [f"{v:.6e}" for v in rng.normal(0, 1e5, size)]
    if kind == "long":
        return [repr(float(v)) for v in rng.normal(0, 1, size)]  # 17 significant digits
    return [f"{v:+.3f}" for v in rng.normal(-10, 3, size)]  # signs


def table_text(columns: dict[str, list[str]], *, delimiter: str = ",", end: str = "\n",
               quote: bool = False) -> str:
    def field(cell: str) -> str:
        if quote or any(c in cell for c in f'"{delimiter}\r\n'):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    rows = [list(columns), *zip(*columns.values(), strict=True)]
    return "".join(delimiter.join(field(cell) for cell in row) + end for row in rows)


KINDS = ["ints", "decimals", "exponents", "long", "signs"]
IDS = ["a,b", 'say "hi"', "=SUM(A1:A9)", "+1", "-2", "@cmd", "  spaced  ", "naïve €", "'007", "", "NA", "x\ty"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "layout",
    ["plain", "quoted", "crlf", "cr", "bom", "tsv", "ids", "blank-lines", "spaced-header", "extra-columns"],
)
def test_same_table_both_ways(tmp_path: Path, kind: str, layout: str) -> None:
    columns = {"x": cells(kind), "y": cells("decimals")}
    id_column = None
    if layout in ("ids", "tsv", "quoted"):
        columns = {"id": [IDS[i % len(IDS)] + str(i) for i in range(60)], **columns}
        id_column = "id"
    if layout == "extra-columns":
        columns = {"note": [f'said "{i}", twice' for i in range(60)], **columns, "z": cells("ints")}
    name, delimiter, end = ("t.tsv", "\t", "\n") if layout == "tsv" else ("t.csv", ",", "\n")
    end = {"crlf": "\r\n", "cr": "\r"}.get(layout, end)
    text = table_text(columns, delimiter=delimiter, end=end, quote=layout == "quoted")
    if layout == "bom":
        text = "\ufeff" + text
    elif layout == "blank-lines":
        text = "\n\n" + text.replace("\n", "\n\n", 5)
    elif layout == "spaced-header":
        text = text.replace("x,y", " x , y ", 1)
    fast = agree(tmp_path, name, text, id_column)
    assert fast is not None
    assert fast.rows_read == 60


def test_quoted_numbers_and_padding_inside_quotes(tmp_path: Path) -> None:
    fast = agree(tmp_path, "t.csv", 'x,y\n"5",1\n" 6 ",2\n"\t7",3\n 8 ,4\n')
    assert fast is not None
    assert fast.features["x"].tolist() == [5.0, 6.0, 7.0, 8.0]


def test_ids_keep_their_text(tmp_path: Path) -> None:
    ids = ["007", "0.50", "1e3", " a ", 'q"uote', "comma,inside", "=cmd|' /C calc'!A0", "", "\u00a0"]
    text = table_text({"id": ids, "x": [str(i) for i in range(9)], "y": ["1"] * 8 + ["2"]})
    fast = agree(tmp_path, "t.csv", text, id_column="id")
    assert fast is not None
    assert fast.ids == tuple(ids)


def parquet(root: Path, table: pa.Table | pd.DataFrame, **options: object) -> str:
    if isinstance(table, pd.DataFrame):
        table.to_parquet(root / "t.parquet", **options)
    else:
        pq.write_table(table, root / "t.parquet", **options)
    return "t.parquet"


NUMBERS = RNG.normal(100, 30, 50)


@pytest.mark.parametrize(
    ("frame", "id_column"),
    [
        (pd.DataFrame({"x": NUMBERS, "y": NUMBERS.round(2)}), None),
        (pd.DataFrame({"x": RNG.integers(-5, 10**12, 50), "y": NUMBERS.astype(np.float32)}), None),
        (pd.DataFrame({"x": RNG.integers(0, 2**64 - 1, 50, dtype=np.uint64), "y": NUMBERS}), None),
        (pd.DataFrame({"x": pd.array(range(50), dtype="Int64"), "y": -NUMBERS}), None),
        (pd.DataFrame({"x": NUMBERS, "y": [0.0, -0.0] * 25}), None),  # -0.0 stays -0.0 in Parquet
        (pd.DataFrame({"id": [f"c,{i}" for i in range(50)], "x": NUMBERS, "y": NUMBERS}), "id"),
        (pd.DataFrame({"id": range(1000, 1050), "x": NUMBERS, "y": NUMBERS}), "id"),
        (pd.DataFrame({"when": pd.date_range("2020", periods=50), "note": ["n"] * 49 + [None], "x": NUMBERS,
                       "y": NUMBERS, "flag": [True] * 50}), None),
        (pd.DataFrame({"x": NUMBERS, "y": NUMBERS}).iloc[::2], None),  # a stored index, not a column
    ],
    ids=["floats", "ints-float32", "uint64", "nullable-Int64", "signed-zero", "text-ids", "int-ids", "other-columns",
         "stored-index"],
)
def test_same_parquet_table_both_ways(tmp_path: Path, frame: pd.DataFrame, id_column: str | None) -> None:
    fast = both(tmp_path, config(parquet(tmp_path, frame), id_column=id_column))[0]
    assert fast is not None


def test_parquet_without_pandas_metadata(tmp_path: Path) -> None:
    table = pa.table({"id": pa.array([f"r{i}" for i in range(50)], pa.large_string()), "x": NUMBERS,
                      "y": pa.array(range(50), pa.int16())})
    assert both(tmp_path, config(parquet(tmp_path, table), id_column="id"))[0] is not None


# --- what the fast reader declines -----------------------------------------------------------------------

# Cells for a column of whole numbers and of decimals: the fast reader gives the slow reader's float or declines.
CORPUS = [
    "0", "-0", "+0", "-0.0", "-0.00", "-00", "0e0", "-0e5", "-.0", "-0.", "007", "+3", "-2.5", ".5", "5.", "+.5",
    "-.5e-3", "1.e5", "1E5", "1e+5", "1e-400", "4.9e-324", "2.2250738585072011e-308", "1e100", "-1e100",
    "1.0000000000000001e100", "1e101", "1e308", "1e309", "9007199254740993", "9223372036854775808",
    "-9223372036854775809", "18446744073709551616", "123456789012345678901234",
    "0.1000000000000000055511151231257827", "1" + "0" * 400, "0." + "0" * 300 + "1", "1e0000000000000000000002",
    " 7 ", "\t7", "7\t", "\x0b7", "\x0c7", "\xa07", "7\u3000", "\u20287", '"5"', '" 5 "', '"5"5', '5"5"', '"5', '""',
    '"5"""', "inf", "-inf", "+inf", "Infinity", "-Infinity", "INF", "infinity", "nan", "NaN", "-nan", "+nan", "NA",
    "N/A", "null", "None", "", "  ", "1_000", "1,000", '"1,000"', "0x10", "0b1", "1d5", "1e", "e5", ".e5", ".", "-",
    "+", "--5", "+-5", "1e5.5", "1ee5", "5%", "$1", "\uff11\uff12", "\u0661\u0662", "\u22123", "1 000", "5\x00",
    "True", "1.5f", "5L", '"5\n"', '"5\r\n"', "\x1c", "5\x85",
]


@pytest.mark.parametrize("cell", CORPUS)
@pytest.mark.parametrize("others", ["1,3,5", "1.5,3.25,-2e1"], ids=["ints", "decimals"])
@pytest.mark.parametrize("missing", ["fail", "drop"])
def test_tricky_cell(tmp_path: Path, cell: str, others: str, missing: str) -> None:
    first, second, third = others.split(",")
    text = f"x,y\n{first},10\n{cell},20\n{second},30\n{third},40\n"
    fast, slow = both(tmp_path, config(write(tmp_path, "t.csv", text), missing=missing))
    if fast is not None:
        assert slow is not None
        assert not slow.dropped


@pytest.mark.parametrize(
    "payload",
    [
        'x,y,note\n1,2,"ab"cd\n',  # the csv module stops after a closing quote; pyarrow reads "abcd"
        'x,y,note\n1,2,"ab" \n',
        'x,y,note\n1,2,"ab\n',
        'x,y,note\n1,2,a"b\n',  # the csv module keeps the quote; declined all the same
        'x,y,note\n1,2," "a""\n',
        'x,y,note\n1,2,"a\nb"\n3,4,c\n',  # a line break inside quotes
        'x,y,note\n1,2,"a\rb"\n3,4,c\n',
        "x,y,note\n1,2,\xff\n".encode("latin-1"),  # not UTF-8, in a column not read
        b"x,y,note\n1,2,\xe2\x82",  # cut inside a character
        b"x,y,note\n1,2,\xed\xa0\x80\n",  # a surrogate
        "\ufeff\ufeffx,y\n1,2\n",  # a second BOM is part of the first name
        "x,y,\n1,2,\n",  # a padding column
        "x,y\n1,2,\n3,4\n",
        "x,y,x\n1,2,3\n",
        "x, y,y \n1,2,3\n",
        "x\n1\n",
        "x;y\n1;2\n",
        "x,y\n1\n",
        "x,y\n1,2,3\n",
        "x,y\n",
        "",
        "  \n",
        "  \nx,y\n1,2\n",
        ",,\nx,y\n1,2\n",
        "x,y\n1,2\n,\n",
        "x,y\n1,2\n \n",
        "x,y\n1,2\n\x1a\n",
        "x,y\n1,2\n\x0b\n",
        "x,y,note\n1,2," + "n" * 131_073 + "\n",  # longer than the csv module's field limit
        'x,y,note\n1,2,"' + "n," * 70_000 + '"\n',
    ],
)
def test_tricky_file(tmp_path: Path, payload: str | bytes) -> None:
    for source in ("t.csv", "t.tsv"):
        text = payload if source == "t.csv" or isinstance(payload, bytes) else payload.replace(",", "\t")
        both(tmp_path, config(write(tmp_path, source, text)))


@pytest.mark.parametrize(
    "payload",
    ['x,y,note\n1,2,"ab"cd\n', 'x,y,note\n1,2,"a\nb"\n', "x,y,note\n1,2,\xff\n".encode("latin-1"),
     "x,y\n1,2\n3,4,5\n", "x,y\ninf,2\n", "x,y\n1,nan\n", "x,y\n1e101,2\n", "x,y\n-0,2\n"],
)
def test_declines(tmp_path: Path, payload: str | bytes) -> None:
    assert fast_table(tmp_path, config(write(tmp_path, "t.csv", payload))) is None


def test_declines_a_field_the_csv_module_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(10)
        text = "x,y,note\n1,2,short\n3,4,much too long\n"
        assert fast_table(tmp_path, config(write(tmp_path, "t.csv", text))) is None
        assert both(tmp_path, config("t.csv")) == (None, None)
        monkeypatch.setattr(data, "CHUNK", 4)
        assert fast_table(tmp_path, config("t.csv")) is None
    finally:
        csv.field_size_limit(limit)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64])
@pytest.mark.parametrize(
    "payload",
    ['\ufeff"x","y"\r\n"1","2"\r\n', 'x,y,n\n1,2,""""\n3,4,"a""b"\n', 'x,y,n\n1,2,"a""b"cd\n', 'x,y,n\n1,2,"a\nb"\n',
     'x,y,n\n1,2,"a,b"\n', "x,y,n\n1,2,\u20ac\n", b"x,y,n\n1,2,\xe2a\x82\xac\n", 'x,y,n\n1,2,"a""\n'],
)
def test_chunk_edges_change_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int,
                                    payload: str | bytes) -> None:
    """Quotes, BOMs and characters cut by a chunk's end are read as in one piece."""
    whole = fast_table(tmp_path, config(write(tmp_path, "t.csv", payload)))
    monkeypatch.setattr(data, "CHUNK", chunk)
    both(tmp_path, config("t.csv"))
    cut = fast_table(tmp_path, config("t.csv"))
    assert (cut is None) == (whole is None)
    if cut is not None and whole is not None:
        assert_same(cut, whole)
        assert cut.sha256 == hashlib.sha256((tmp_path / "t.csv").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("table", "lines"),
    [
        (pa.table({"x": [1.0, None], "y": [1.0, 2.0]}), ()),
        (pa.table({"x": [1.0, float("nan")], "y": [1.0, 2.0]}), ()),
        (pa.table({"x": [1.0, float("inf")], "y": [1.0, 2.0]}), ()),
        (pa.table({"x": [1.0, 1e101], "y": [1.0, 2.0]}), ()),
        (pa.table({"x": ["1", "2"], "y": [1.0, 2.0]}), ()),  # text features: left to the slow reader
        (pa.table({"x": [True, False], "y": [1.0, 2.0]}), ()),
        (pa.table({"x": pa.array([1, 2], pa.decimal128(5, 2)), "y": [1.0, 2.0]}), ()),
        (pa.table({"x": [1.0, 2.0], "y": [1.0, 2.0], "id": ["a", None]}), ("id",)),
        (pa.table({"x": [1.0, 2.0], "y": [1.0, 2.0], "id": [1.5, 2.0]}), ("id",)),
        (pa.table([pa.array([1.0, 2.0]), pa.array([1.0, 2.0]), pa.array([3, 4])], names=["x", "y", "x"]), ()),
        (pa.table({"x": [1.0, 2.0], "y": [1.0, 2.0], "u": pa.array([1, 2], pa.int8())}), ()),
        (pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2.0], "y": [3.0, 4.0]}).set_index("id"), ("id",)),
        (pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]}).T.reset_index(drop=True).T, ()),  # names 0 and 1
        (pd.DataFrame({("x", "a"): [1.0], ("y", "b"): [2.0]}), ()),
        (pd.DataFrame({"x": [1.0, 2.0], "y": pd.Categorical([3.0, 4.0])}), ()),
    ],
    ids=["null", "nan", "inf", "too-big", "text", "bool", "decimal", "null-id", "float-id", "duplicate-name",
         "int8-other", "index-id", "number-names", "tuple-names", "categorical"],
)
def test_parquet_declines_or_agrees(tmp_path: Path, table: pa.Table | pd.DataFrame, lines: tuple[str, ...]) -> None:
    dataset = config(parquet(tmp_path, table), id_column=lines[0] if lines else None)
    fast = fast_table(tmp_path, dataset)
    try:
        slow = load_table(tmp_path, dataset)
    except (UserError, KeyError):  # KeyError: the slow reader's own trouble with names that are numbers
        assert fast is None
        return
    if fast is not None:
        assert_same(fast, slow)


def test_parquet_column_not_used_that_will_not_convert(tmp_path: Path) -> None:
    when = pa.array([1, 2], pa.timestamp("s", tz="Mars/Olympus"))
    pq.write_table(pa.table({"x": [1.0, 2.0], "y": [3.0, 4.0], "when": when}), tmp_path / "t.parquet")
    assert both(tmp_path, config("t.parquet")) == (None, None)


def test_parquet_column_not_used_that_is_corrupt(tmp_path: Path) -> None:
    notes = [f"note {i} " * 3 for i in range(1000)]
    pq.write_table(pa.table({"x": np.arange(1000.0), "y": np.arange(1000.0), "note": notes}), tmp_path / "t.parquet")
    corrupt_column(tmp_path / "t.parquet", 2)
    assert both(tmp_path, config("t.parquet")) == (None, None)


def test_parquet_feature_that_is_corrupt(tmp_path: Path) -> None:
    values = RNG.normal(0, 1, 1000)
    pq.write_table(pa.table({"x": values, "y": values}), tmp_path / "t.parquet", compression="snappy")
    corrupt_column(tmp_path / "t.parquet", 1)
    assert both(tmp_path, config("t.parquet")) == (None, None)


def corrupt_column(path: Path, column: int) -> None:
    """Flip 20 bytes inside the first page of one column of a Parquet file."""
    payload = bytearray(path.read_bytes())
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(column)
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    payload[start + 40:start + 60] = bytes(b ^ 0x5A for b in payload[start + 40:start + 60])
    path.write_bytes(payload)


def test_other_formats_are_left_to_the_slow_reader(tmp_path: Path) -> None:
    assert fast_table(tmp_path, config(write(tmp_path, "t.json", '[{"x": 1, "y": 2}]'))) is None


def test_personal_feature_is_left_to_the_slow_reader(tmp_path: Path) -> None:
    dataset = config(write(tmp_path, "t.csv", "x,phone\n1,2\n"), features=("x", "phone"))
    assert fast_table(tmp_path, dataset) is None


TOKENS = ["1", "-2.5", "3e2", ".5", "7.", "+4", "-0", "0", " 8 ", "inf", "nan", "", "NA", '"', '""', '"9"', ",", "\n",
          "\r\n", "\r", "\t", "a", "\u00e9", "\ufeff", "_", "e", "x", "y", "1e400"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=4, max_size=40), st.sampled_from(["t.csv", "t.tsv"]),
       st.sampled_from(["fail", "drop"]))
def test_random_files_agree(tokens: list[str], name: str, missing: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        text = ("x,y,note\n" if name == "t.csv" else "x\ty\tnote\n") + "".join(tokens)
        both(root, config(write(root, name, text), missing=missing))


NUMBER_TEXTS = ["0", "-0", "-0.0", "-00", "+0", "0.0", "1", "-1", "2.0", "2.5", "-3.75", "1e2", "-1e-2", "12345678901",
                "9007199254740993", "1.5e99", " 4 ", '"5"', "6.", ".25"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(NUMBER_TEXTS), min_size=1, max_size=30))
def test_random_numbers_agree(texts: list[str]) -> None:
    """Numbers only: the fast reader reads them all, but for -0 in a column of whole numbers."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        text = "x,y\n" + "".join(f"{cell},{i}\n" for i, cell in enumerate(texts))
        fast, slow = both(root, config(write(root, "t.csv", text)))
        assert slow is not None
        assert fast is not None or any(cell.lstrip().startswith("-0") for cell in texts)


# --- big files --------------------------------------------------------------------------------------------


@pytest.fixture
def no_slow_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(root: Path, source: str) -> None:
        raise AssertionError(f"the slow reader read {source}")

    monkeypatch.setattr(data, "read_file", refuse)


def big_csv(root: Path, rows: int, *, bad: dict[int, str] | None = None) -> tuple[str, np.ndarray]:
    """A CSV of ids and two features over FAST_FROM, with `bad` cells of x at some rows."""
    x = np.arange(rows) * 0.25 - 1000
    lines = ["id,x,y"] + [f"c{i:07d},{x[i]},{(i * 7) % 1000}.5" for i in range(rows)]
    for row, cell in (bad or {}).items():
        lines[row + 1] = f"c{row:07d},{cell},1"
    name = write(root, "t.csv", "\n".join(lines) + "\n")
    assert (root / name).stat().st_size > FAST_FROM
    return name, x


def test_big_csv_takes_the_fast_reader(tmp_path: Path, no_slow_reader: None) -> None:
    name, x = big_csv(tmp_path, 200_000)
    table = load_table(tmp_path, config(name, id_column="id"))
    assert table.rows_read == table.rows_used == 200_000
    assert np.array_equal(table.features["x"].to_numpy(), x)
    assert table.ids is not None
    assert table.ids[:2] == ("c0000000", "c0000001")
    assert table.sha256 == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    (note,) = table.notes
    assert note.startswith("x is negative in 4000 row(s)")


def test_big_parquet_takes_the_fast_reader(tmp_path: Path, no_slow_reader: None) -> None:
    rows = 200_000
    frame = pd.DataFrame({"id": [f"c{i}" for i in range(rows)], "x": RNG.normal(0, 1, rows),
                          "y": RNG.integers(0, 100, rows), "note": ["n"] * rows})
    name = parquet(tmp_path, frame, row_group_size=30_000)
    assert (tmp_path / name).stat().st_size > FAST_FROM
    table = load_table(tmp_path, config(name, id_column="id"))
    assert np.array_equal(table.features["x"].to_numpy(), frame["x"].to_numpy())
    assert np.array_equal(table.features["y"].to_numpy(), frame["y"].to_numpy(dtype=float))
    assert table.ids == tuple(frame["id"])


def test_big_csv_error_names_the_line(tmp_path: Path) -> None:
    name, _ = big_csv(tmp_path, 60_000, bad={59_000: "abc"})
    with pytest.raises(UserError) as caught:
        load_table(tmp_path, config(name))
    assert "column 'x', line 59002: 'abc' is not a number" in str(caught.value)


def test_big_csv_with_gaps_is_counted_by_the_slow_reader(tmp_path: Path) -> None:
    name, _ = big_csv(tmp_path, 60_000, bad={10: "", 20: "NA", 30: "5%"})
    table = load_table(tmp_path, config(name, missing="drop"))
    assert table.dropped == {"blank or missing feature values": 2, "feature values that are not numbers": 1}
    assert table.rows_used == 59_997


def test_big_csv_not_utf8_outside_the_features(tmp_path: Path) -> None:
    name, _ = big_csv(tmp_path, 60_000)
    payload = (tmp_path / name).read_bytes().replace(b"c0059999", b"c\xff059999")
    (tmp_path / name).write_bytes(payload)
    with pytest.raises(UserError) as caught:
        load_table(tmp_path, config(name))
    assert "line 60001: byte 0xff is not UTF-8" in str(caught.value)


def test_small_files_keep_the_slow_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "fast_table", lambda root, dataset: pytest.fail("the fast reader ran"))
    assert load_table(tmp_path, config(write(tmp_path, "t.csv", "x,y\n1,2\n"))).rows_used == 1


# --- notes, the same as before at any size ------------------------------------------------------------------


def reference_notes(features: pd.DataFrame, dataset: DatasetConfig) -> tuple[str, ...]:
    """The notes as first written, with pandas' nunique, unique and diff."""
    notes = []
    for name in features.columns:
        column = features[name]
        distinct = column.nunique()
        label = dataset.label(name)
        if distinct == 1:
            notes.append(f"{label} has the same value in every row, so it cannot separate segments.")
        elif len(column) >= 20 and distinct <= 5 and all(math.isclose(v, round(v)) for v in column.unique()):
            notes.append(f"{label} takes only {distinct} whole-number values: if it is a code "
                         "(a channel, a region), its distances mean nothing and it should not be a feature.")
        elif len(column) >= 20 and distinct == len(column) and (column.diff().dropna() == 1).all():
            notes.append(f"{label} counts up by one on every row, like an id: it should not be a feature.")
        negative = int((column < 0).sum())
        if 0 < negative <= 0.05 * len(column):
            notes.append(f"{label} is negative in {negative} row(s) and positive or zero in the rest: "
                         "check that these values are not errors (returns, corrections, test rows).")
    return tuple(notes)


def late_sixth_value(size: int) -> np.ndarray:
    values = np.arange(size) % 5.0
    values[-1] = 7.0
    return values


COLUMNS = {
    "constant": np.full(100_000, 3.5),
    "signed-zeros": np.array([0.0, -0.0] * 50),
    "codes": np.arange(100_000) % 5.0,
    "codes-not-whole": np.arange(100) % 5 + 0.5,
    "codes-nearly-whole": np.arange(100) % 5 + 1e-12,
    "late-sixth-value": late_sixth_value(300_000),
    "counter": np.arange(100_000) + 10.0,
    "counter-19": np.arange(19.0),
    "counter-broken": np.concatenate([np.arange(50_000.0), np.arange(50_000.0)]),
    "counter-down": np.arange(100.0)[::-1],
    "few-negative": np.concatenate([-np.ones(4), np.arange(96.0) % 7]),
    "many-negative": np.arange(100.0) - 50,
    "one-row": np.array([2.0]),
    "random": RNG.normal(0, 1, 1000),
}


@pytest.mark.parametrize("name", list(COLUMNS))
def test_notes_are_the_same_as_before(name: str) -> None:
    frame = pd.DataFrame({"v": COLUMNS[name], "w": COLUMNS[name][::-1].copy()})
    dataset = config("t.csv", features=("v", "w"))
    assert data._notes(frame, dataset) == reference_notes(frame, dataset)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.0, 2.5, -3.0, 4.0, 5.0, 1e16, 6.0]), min_size=1, max_size=60))
def test_notes_agree_on_any_column(values: list[float]) -> None:
    frame = pd.DataFrame({"v": np.array(values), "w": np.cumsum(np.ones(len(values)))})
    dataset = config("t.csv", features=("v", "w"))
    assert data._notes(frame, dataset) == reference_notes(frame, dataset)


def test_table_bytes_are_hashed_as_read(tmp_path: Path) -> None:
    payload = io.BytesIO()
    pd.DataFrame({"x": NUMBERS, "y": NUMBERS}).to_parquet(payload)
    fast = fast_table(tmp_path, config(write(tmp_path, "t.parquet", payload.getvalue())))
    assert fast is not None
    assert fast.sha256 == hashlib.sha256(payload.getvalue()).hexdigest()
