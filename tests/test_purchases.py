"""Purchase logs: customers derived from purchases, checked against an independent pandas computation."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from generator import cache, purchases
from generator.build import generate, validate
from generator.config import load_dataset
from generator.errors import UserError
from generator.profiles import profile
from generator.purchases import load_customers
from generator.starter import propose
from tests.conftest import ROOT, MakeProject

LOG = "content/data/log.csv"
SHOWN = "site_config/datasets/shop.yml"
SNAPSHOTS = ("2024-03-31", "2024-06-30", "2024-09-30")


def purchase_log(seed: int = 7) -> str:
    """A small log: 14 customers with zero-padded ids, two kinds of buyer, some joining late."""
    rng = np.random.default_rng(seed)
    lines = ["customer,date,amount,invoice"]
    invoice = 1000
    for number in range(1, 15):
        frequent = number % 2 == 0
        first = datetime.date(2024, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 60 if number < 10 else 200)))
        visits = int(rng.integers(6, 10)) if frequent else int(rng.integers(1, 3))
        for _ in range(visits):
            day = first + datetime.timedelta(days=int(rng.integers(0, 270 - (first - datetime.date(2024, 1, 1)).days)))
            invoice += 1
            for _ in range(int(rng.integers(1, 3))):  # one or two rows per invoice
                amount = round(float(rng.uniform(40, 90) if frequent else rng.uniform(5, 20)), 2)
                lines.append(f"{number:04d},{day.isoformat()},{amount},{invoice}")
    return "\n".join(lines) + "\n"


def shop(**changes: str) -> str:
    settings = {
        "title": "Shop",
        "transactions": f"\n  source: {LOG}\n  customer: customer\n  date: date\n  amount: amount",
        "features": "[recency, frequency, monetary]",
        "n_clusters": "2",
        "snapshots": f"[{', '.join(SNAPSHOTS)}]",
        "publish_rows": "true",  # the tests read assignments.csv and migration.csv
        "suppress_below": "0",
    } | changes
    return "".join(f"{key}: {value}\n" for key, value in settings.items() if value)


def expected_customers(log: str, as_of: str) -> pd.DataFrame:
    """recency, frequency and monetary computed the plain pandas way, by customer."""
    frame = pd.read_csv(io.StringIO(log), dtype={"customer": str})
    frame["date"] = pd.to_datetime(frame["date"])
    upto = frame[frame["date"] <= pd.Timestamp(as_of)]
    groups = upto.groupby("customer")
    return pd.DataFrame({"recency": (pd.Timestamp(as_of) - groups["date"].max()).dt.days,
                         "frequency": groups["date"].nunique(), "monetary": groups["amount"].sum()})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> dict[str, bytes]:
    """One end-to-end generate() of a tiny log project with snapshots."""
    import shutil
    root = tmp_path_factory.mktemp("shop")
    (root / "site_config" / "datasets").mkdir(parents=True)
    shutil.copytree(ROOT / "templates", root / "templates")
    (root / "site_config" / "datasets" / "shop.yml").write_text(shop(), encoding="utf-8")
    (root / LOG).parent.mkdir(parents=True)
    (root / LOG).write_text(purchase_log(), encoding="utf-8")
    files = generate(root, cache.FolderCache(shared_cache))
    return {f.path: f.content for f in files if f.path.startswith("reports/shop/")}


def test_assignments_equal_an_independent_computation(built: dict[str, bytes]) -> None:
    rows = pd.read_csv(io.BytesIO(built["reports/shop/assignments.csv"]), dtype={"customer": str})
    assert list(rows.columns) == ["customer", "recency", "frequency", "monetary", "segment", "segment_name"]
    expected = expected_customers(purchase_log(), SNAPSHOTS[-1])
    assert rows["customer"].tolist() == sorted(expected.index)
    assert rows["customer"].iloc[0] == "0001"  # leading zeros kept
    got = rows.set_index("customer")
    assert (got["recency"] == expected["recency"]).all()
    assert (got["frequency"] == expected["frequency"]).all()
    assert np.allclose(got["monetary"], expected["monetary"], rtol=1e-12)


def test_migration_counts_equal_a_cross_tabulation(built: dict[str, bytes]) -> None:
    document = json.loads(built["reports/shop/segments.json"])
    moves = pd.read_csv(io.BytesIO(built["reports/shop/migration.csv"]), dtype=str)
    assert list(moves.columns) == ["customer", *(f"segment_{d}" for d in SNAPSHOTS)]
    assert [s["date"] for s in document["snapshots"]] == list(SNAPSHOTS)
    assert len(document["migration"]) == len(SNAPSHOTS) - 1
    log = pd.read_csv(io.StringIO(purchase_log()), dtype={"customer": str})
    first = pd.to_datetime(log.groupby("customer")["date"].min())
    for step in document["migration"]:
        assert step["rows"] == [0, 1, "new"]
        assert step["columns"] == [0, 1]
        start = moves[f"segment_{step['from']}"].fillna("new")
        table = pd.crosstab(start, moves[f"segment_{step['to']}"])
        for i, row in enumerate(step["rows"]):
            for j, column in enumerate(step["columns"]):
                found = table.loc[str(row), str(column)] if str(row) in table.index else 0
                assert step["counts"][i][j] == found
        joined = ((first > pd.Timestamp(step["from"])) & (first <= pd.Timestamp(step["to"]))).sum()
        assert sum(step["counts"][-1]) == joined
    assert sum(sum(step["counts"][-1]) for step in document["migration"]) > 0  # the log has late joiners
    # The last date is the report's own segmentation.
    last = moves.set_index("customer")[f"segment_{SNAPSHOTS[-1]}"]
    rows = pd.read_csv(io.BytesIO(built["reports/shop/assignments.csv"]), dtype=str).set_index("customer")
    assert (last == rows["segment"]).all()
    assert document["as_of"] == SNAPSHOTS[-1]
    for snap in document["snapshots"]:
        assert set(snap) == {"date", "customers", "segments"}
        assert snap["customers"] == sum(s["size"] for s in snap["segments"])
        assert snap["customers"] == moves[f"segment_{snap['date']}"].notna().sum()


def test_migration_csv_writes_whole_numbers_and_blanks(built: dict[str, bytes]) -> None:
    text = built["reports/shop/migration.csv"].decode()
    assert ".0" not in text
    assert ",," in text or text.split("\r\n")[1].count(",") == len(SNAPSHOTS)


def test_the_page_names_the_as_of_date_and_the_moves(built: dict[str, bytes]) -> None:
    page = built["reports/shop/index.md"].decode()
    assert "as of **2024-09-30**" in page
    assert "days from the customer's latest purchase to the as\\-of date" in page
    assert "## Segments over time" in page
    assert "The largest moves: " in page
    assert "reports/shop/migration.png" in built
    assert "reports/shop/migration-dark.png" in built
    assert "low Recency" not in page
    assert "high Recency" not in page


def test_names_say_recent_and_lapsed(make_project: MakeProject) -> None:
    log = "customer,date,amount\n" + "".join(
        f"{n:02d},{'2024-09-30' if n > 6 else '2024-01-01'},{10 + n % 3}\n" for n in range(1, 13))
    root = make_project({"shop": shop(snapshots="", features="[recency, monetary]")}, {LOG: log})
    config = load_dataset(root, root / SHOWN)
    from generator.model import segment
    result, _ = segment(load_customers(root, config).table, config)
    names = [p.name for p in profile(result, config)]
    assert sorted(names) == ["Lapsed", "Recent"], names
    assert not any("ecency" in name for name in names), names


def test_names_of_log_features_read_as_words(make_project: MakeProject) -> None:
    """Issue 21: frequency and monetary read "frequent" / "occasional", "big-spending" / "small-spending"."""
    log = "customer,date,amount\n" + "".join(
        f"{n:02d},2024-0{1 + day}-01,{500 if n > 6 else 5}\n"
        for n in range(1, 13) for day in range(1 if n <= 6 else 6))
    root = make_project({"shop": shop(snapshots="", features="[frequency, monetary]")}, {LOG: log})
    config = load_dataset(root, root / SHOWN)
    from generator.model import segment
    result, _ = segment(load_customers(root, config).table, config)
    names = [p.name for p in profile(result, config)]
    assert sorted(names) == ["Frequent, big-spending", "Occasional, small-spending"], names


@pytest.mark.parametrize("suffix", [".parquet", ".json", ".xlsx", ".tsv"])
def test_every_source_format_reads_the_same_customers(make_project: MakeProject, suffix: str) -> None:
    frame = pd.read_csv(io.StringIO(purchase_log()), dtype={"customer": str, "date": str})
    buffer = io.BytesIO()
    if suffix == ".parquet":
        frame.to_parquet(buffer)
    elif suffix == ".json":
        buffer.write(frame.to_json(orient="records").encode())
    elif suffix == ".xlsx":
        frame.to_excel(buffer, index=False)
    else:
        buffer.write(frame.to_csv(sep="\t", index=False).encode())
    name = LOG.replace(".csv", suffix)
    root = make_project({"shop": shop(snapshots="").replace(LOG, name)}, {name: buffer.getvalue()})
    table = load_customers(root, load_dataset(root, root / SHOWN)).table
    expected = expected_customers(purchase_log(), "2024-09-30")
    assert table.ids == tuple(sorted(expected.index))
    assert table.features["frequency"].tolist() == expected["frequency"].tolist()


# Parquet's DATE and TIMESTAMP types, as a warehouse writes a log's dates; noon in New York is the same day in UTC.
DATE_TYPES = {"DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"),
              "TIMESTAMP with a time zone": pa.timestamp("us", tz="America/New_York")}


@pytest.mark.parametrize("kind", DATE_TYPES.values(), ids=DATE_TYPES.keys())
def test_a_parquet_log_with_typed_dates_reads_the_same_customers(make_project: MakeProject,
                                                                 kind: pa.DataType) -> None:
    frame = pd.read_csv(io.StringIO(purchase_log()), dtype={"customer": str, "date": str})
    days = pd.to_datetime(frame["date"])
    if kind == pa.date32():
        dates = pa.array(days.dt.date, kind)
    else:
        local = days + pd.Timedelta(hours=12)
        dates = pa.array(local.dt.tz_localize(kind.tz) if kind.tz else local)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"customer": frame["customer"], "date": dates, "amount": frame["amount"]}), buffer)
    name = LOG.replace(".csv", ".parquet")
    root = make_project({"shop": shop(snapshots="").replace(LOG, name)}, {name: buffer.getvalue()})
    table = load_customers(root, load_dataset(root, root / SHOWN)).table
    expected = expected_customers(purchase_log(), str(days.max().date()))  # as_of: the last date
    assert table.ids == tuple(expected.index)
    assert table.features["recency"].tolist() == expected["recency"].tolist()
    assert table.features["frequency"].tolist() == expected["frequency"].tolist()
    assert np.allclose(table.features["monetary"], expected["monetary"], rtol=1e-12)


def test_a_log_duckdb_refuses_is_read_as_every_table_is(make_project: MakeProject) -> None:
    """Rows padded with empty cells (as spreadsheets save them) and a byte that is not UTF-8 past the first
    megabyte: DuckDB refuses the file, `read_file` reads it."""
    header, *rows = purchase_log().splitlines()
    padded = [f"{row},," if i % 3 else row for i, row in enumerate(rows)]
    filler = "\n".join(["9999,2024-01-01,1.00,1"] * 50_000)  # one customer past the first megabyte
    text = "\n".join([header, *padded, filler, "9999,2024-01-02,1.00,2 caf\xe9"]) + "\n"
    root = make_project({"shop": shop(snapshots="")}, {LOG: text.encode("cp1252")})
    table = load_customers(root, load_dataset(root, root / SHOWN)).table
    expected = expected_customers(purchase_log(), "2024-09-30")
    assert table.ids == (*expected.index, "9999")
    assert table.features["frequency"].tolist() == [*expected["frequency"].tolist(), 2.0]


def test_a_log_that_is_not_parquet_is_one_line(make_project: MakeProject) -> None:
    name = LOG.replace(".csv", ".parquet")
    root = make_project({"shop": shop(snapshots="").replace(LOG, name)}, {name: b"not parquet"})
    with pytest.raises(UserError) as caught:
        load_customers(root, load_dataset(root, root / SHOWN))
    assert caught.value.problems[0].startswith(f"{name}: cannot be read as parquet"), caught.value.problems


def test_a_big_log_gives_the_same_customers(make_project: MakeProject) -> None:
    small = purchase_log()
    header, *rows = small.splitlines()
    big = "\n".join([header, *(rows * 500)]) + "\n"  # over a megabyte, read in several pyarrow blocks
    assert len(big) > 1 << 20
    root = make_project({"shop": shop(snapshots="")}, {LOG: big})
    table = load_customers(root, load_dataset(root, root / SHOWN)).table
    expected = expected_customers(big, "2024-09-30")
    assert table.ids == tuple(expected.index)
    assert table.features["frequency"].tolist() == expected["frequency"].tolist()
    assert np.allclose(table.features["monetary"], expected["monetary"], rtol=1e-9)


def test_rows_blank_in_every_column_are_no_rows(make_project: MakeProject) -> None:
    """A log exported from a spreadsheet often ends in rows of delimiters: they are skipped, not customers
    without a name (which `missing: fail` would refuse)."""
    log = purchase_log()
    padded = log.replace("\n", "\n,,\n", 3) + ",,\n,,\n"
    root = make_project({"shop": shop(snapshots="")}, {LOG: padded})
    found = load_customers(root, load_dataset(root, root / SHOWN))
    expected = expected_customers(log, "2024-09-30")
    assert found.table.ids == tuple(expected.index)
    assert found.table.features["frequency"].tolist() == expected["frequency"].tolist()
    assert found.summary.rows == len(log.splitlines()) - 1


def test_the_spaces_trimmed_are_those_str_strip_takes_off() -> None:
    assert sorted(purchases.SPACES) == [c for c in map(chr, range(0x110000)) if c.isspace()]


def test_cells_are_trimmed_of_every_kind_of_space(make_project: MakeProject) -> None:
    """Tabs and no-break spaces around an id (a spreadsheet's export) are trimmed as spaces are, as
    Python's str.strip() trims them: one customer, not three."""
    log = "customer,date,amount\n007,2024-01-01,5\n007\t,2024-01-02,6\n\u00a0007\u00a0,2024-01-03,1\n008,2024-01-02,2\n"
    root = make_project({"shop": shop(snapshots="")}, {LOG: log})
    table = load_customers(root, load_dataset(root, root / SHOWN)).table
    assert table.ids == ("007", "008")
    assert table.features["frequency"].tolist() == [3.0, 1.0]


def test_order_counts_purchases(make_project: MakeProject) -> None:
    log = "id,when,paid,order\n007,2024-01-01,5,A\n007,2024-01-01,6,B\n007,2024-01-02,1,B\n008,2024-01-02,2,C\n"
    config = ("title: T\ntransactions:\n  source: content/data/o.csv\n  customer: id\n  date: when\n  amount: paid\n"
              "  order: order\nfeatures: [frequency, average_order, tenure]\n")
    root = make_project({"o": config}, {"content/data/o.csv": log})
    table = load_customers(root, load_dataset(root, root / "site_config/datasets/o.yml")).table
    assert table.ids == ("007", "008")
    assert table.features.to_dict("list") == {"frequency": [2.0, 1.0], "average_order": [6.0, 2.0],
                                             "tenure": [1.0, 0.0]}


# --- guards: one line each, naming the file, the key or column and the first offending line ---------


def load_error(make_project: MakeProject, config: str, log: str = "") -> str:
    root = make_project({"shop": config}, {LOG: log or purchase_log()})
    with pytest.raises(UserError) as caught:
        validate(root)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


BAD_LOG = "customer,date,amount\n001,2024-01-01,5\n002,2024-13-01,6\n003,2024-02-01,7\n"


@pytest.mark.parametrize(("log", "changes", "message"), [
    (BAD_LOG, {}, f"{LOG}: column 'date', line 3: '2024-13-01' is not a date in an ISO date such as 1998-06-30 "
                  "(set transactions.date_format for other forms) (1 such row(s))"),
    # Rows blank in every column (a spreadsheet's padding) are no rows: the line is still the file's.
    ("customer,date,amount\n001,2024-01-01,5\n,,\n , ,\n002,2024-13-01,6\n,,\n", {},
     f"{LOG}: column 'date', line 5: '2024-13-01' is not a date in an ISO date such as 1998-06-30 "
     "(set transactions.date_format for other forms) (1 such row(s))"),
    ("customer,date,amount\n001,2024-01-01,5\n002,2024-01-02,$6\n", {},
     f"{LOG}: column 'amount', line 3: '$6' is not an amount (a plain number such as 12.50) (1 such row(s))"),
    ("customer,date,amount\n001,20240101,5\n002,2024-01-02,6\n",
     {"transactions": f"\n  source: {LOG}\n  customer: customer\n  date: date\n  amount: amount\n"
                      "  date_format: '%Y%m%d'"},
     f"{LOG}: column 'date', line 3: '2024-01-02' is not a date in the form '%Y%m%d' "
     "(set transactions.date_format for other forms) (1 such row(s))"),
    ("", {"as_of": "2023-06-30", "snapshots": ""},
     f"{LOG}: column 'date': as_of 2023-06-30 is before every purchase; the first is 2024-02-13 (row 75 of the "
     f"log; {SHOWN} sets as_of)"),
])
def test_a_bad_log_is_one_line(make_project: MakeProject, log: str, changes: dict[str, str], message: str) -> None:
    assert load_error(make_project, shop(**({"snapshots": ""} | changes)), log) == message


@pytest.mark.parametrize(("changes", "message"), [
    ({"snapshots": "[2024-06-30, 2024-03-31]"},
     f"{SHOWN}: snapshots: must be ascending: 2024-03-31 comes after 2024-06-30"),
    ({"snapshots": "[2024-06-30]"}, f"{SHOWN}: snapshots: needs two or more dates to follow segments across, got 1"),
    ({"features": "[recency, frequncy]"},
     f"{SHOWN}: features: 'frequncy' is not derived from transactions; choose among recency, frequency, monetary, "
     "tenure, average_order (did you mean 'frequency'?)"),
    ({"as_of": "2024-08-31"},
     f"{SHOWN}: snapshots: the last date 2024-09-30 must be as_of (2024-08-31), or leave as_of out"),
    ({"engine": "spark", "transactions": "\n  source: s3a://shop/log.xlsx\n  customer: c\n  date: d\n  amount: a"},
     f"{SHOWN}: transactions: source: engine: spark reads .csv, .tsv, .parquet files; use engine: local for .xlsx"),
    ({"transactions": "\n  source: s3a://shop/log.parquet\n  customer: c\n  date: d\n  amount: a"},
     f"{SHOWN}: transactions: source: 's3a://shop/log.parquet' is a URI: only engine: spark reads URIs; the local "
     "engine reads project files"),
    ({"id_column": "customer"},
     f"{SHOWN}: id_column: not used with transactions: the customer column (transactions.customer) is the id"),
    ({"as_of": "30/06/2024", "snapshots": ""},
     f"{SHOWN}: as_of: must be a date written YYYY-MM-DD, got text '30/06/2024'"),
])
def test_a_bad_configuration_is_one_line(make_project: MakeProject, changes: dict[str, str], message: str) -> None:
    assert load_error(make_project, shop(**changes)) == message


def test_every_problem_at_once(make_project: MakeProject) -> None:
    config = shop(transactions=f"\n  source: {LOG}\n  customer: customer\n  amount: amount\n  dat: date",
                  features="[recency, date]", as_of="tomorrow", snapshots="")
    root = make_project({"shop": config}, {LOG: purchase_log()})
    with pytest.raises(UserError) as caught:
        validate(root)
    assert caught.value.problems == [
        f"{SHOWN}: transactions: 'dat': unknown key (did you mean 'date'?)",
        f"{SHOWN}: transactions: date: is required",
        f"{SHOWN}: as_of: must be a date written YYYY-MM-DD, got text 'tomorrow'",
        f"{SHOWN}: features: 'date' is not derived from transactions; choose among recency, frequency, monetary, "
        "tenure, average_order",
    ]


CUSTOMERS = "title: C\nsource: content/data/c.csv\nid_column: id\nfeatures: [when, spend]\n"


@pytest.mark.parametrize(("table", "config", "message"), [
    ("id,when,spend\n01,3,5\n01,4,6\n02,5,7\n", CUSTOMERS,
     "content/data/c.csv: column 'id' (id_column) repeats: 3 rows but 2 distinct ids. A customer table has one row "
     "per customer; for a purchase log (many rows per customer) use transactions: instead of source"),
    ("id,when,spend\n01,1997-01-01,5\n02,1997-02-01,7\n", CUSTOMERS,
     "content/data/c.csv: column 'when' holds dates ('1997-01-01'), not quantities; a date is not a feature: remove "
     "it from features (a purchase log's dates give recency and tenure under transactions:)"),
    ("id,when,spend\n01,19970101,5\n02,19970201,7\n", CUSTOMERS,
     "content/data/c.csv: column 'when' holds whole numbers that read as dates YYYYMMDD (such as 19970101), not "
     "quantities; a date is not a feature: remove it from features (a purchase log's dates give recency and tenure "
     "under transactions:)"),
])
def test_a_log_posing_as_a_customer_table_is_an_error(make_project: MakeProject, table: str, config: str,
                                                      message: str) -> None:
    root = make_project({"c": config}, {"content/data/c.csv": table})
    with pytest.raises(UserError) as caught:
        validate(root)
    assert caught.value.problems == [message]


def test_the_real_cdnow_log_as_a_customer_table_is_refused(make_project: MakeProject) -> None:
    log = (ROOT / "content/data/cdnow_sample_transactions.csv").read_bytes()
    config = "title: C\nsource: content/data/c.csv\nid_column: customer_id\nfeatures: [date, dollar_value]\n"
    root = make_project({"c": config}, {"content/data/c.csv": log})
    with pytest.raises(UserError) as caught:
        validate(root)
    assert "6,919 rows but 2,357 distinct ids" in caught.value.problems[0]


def test_a_personal_customer_column_is_withheld(make_project: MakeProject) -> None:
    log = "email,date,amount\na@x.org,2024-01-01,5\nb@x.org,2024-01-02,6\na@x.org,2024-01-03,7\nc@y.org,2024-01-02,1\n"
    config = shop(snapshots="", transactions=f"\n  source: {LOG}\n  customer: email\n  date: date\n  amount: amount")
    root = make_project({"shop": config}, {LOG: log})
    files = {f.path: f.content for f in generate(root)}
    header = files["reports/shop/assignments.csv"].decode().splitlines()[0]
    assert header == "recency,frequency,monetary,segment,segment_name"
    assert b"a@x.org" not in files["reports/shop/assignments.csv"]


# --- init and the cache -----------------------------------------------------------------------


def test_init_proposes_transactions_for_the_cdnow_log() -> None:
    proposal = propose(ROOT, Path("content/data/cdnow_sample_transactions.csv"))
    settings = yaml.safe_load(proposal.yaml)
    assert settings["transactions"] == {"source": "content/data/cdnow_sample_transactions.csv",
                                        "customer": "customer_id", "date": "date", "date_format": "%Y%m%d",
                                        "amount": "dollar_value"}
    assert settings["features"] == ["recency", "frequency", "monetary"]
    assert proposal.reasons[0] == ("customer_id: the customer: 6,919 rows but 2,357 distinct values, some on several "
                                   "dates, so this is a purchase log, proposed as transactions:")


def test_init_never_proposes_a_date_as_a_feature(make_project: MakeProject) -> None:
    table = "day,spend,visits\n" + "".join(f"{19970101 + i},{i * 1.5 + 1},{i * 2 + 3}\n" for i in range(25))
    root = make_project({}, {"content/data/t.csv": table})
    proposal = propose(root, Path("content/data/t.csv"))
    assert "day" not in proposal.yaml.split("features:")[1]
    assert "day: left out: dates (YYYYMMDD), not a quantity" in proposal.reasons


def test_the_cache_keys_on_the_log(make_project: MakeProject) -> None:
    root = make_project({"shop": shop()}, {LOG: purchase_log(), "content/data/other.csv": "a\n1\n"})
    config = load_dataset(root, root / SHOWN)
    before = cache.key(root, config)
    (root / "content/data/other.csv").write_text("a\n2\n", encoding="utf-8")
    assert cache.key(root, config) == before  # another file changes nothing
    with (root / LOG).open("a", encoding="utf-8") as log:
        log.write("0003,2024-09-30,12.5,9999\n")  # a purchase appended
    assert cache.key(root, config) != before


@pytest.mark.parametrize(("cells", "form"), [
    (["1997-01-01", " 1997-02-03 ", "", "1998-06-30T10:00"], "iso"),
    (["n/a", "19970101", "19970203"], "%Y%m%d"),  # text that is no number is not counted against dates
    (["19970101", "19970203", "12.5"], None),  # a plain number that is no whole YYYYMMDD rules them out
    (["19970101"] * 1500 + ["7"], None),  # beyond the first cells looked at: the whole column decides
    (["1997-01-01", "5"], None),
    ([str(v) for v in range(3000)], None),
])
def test_date_columns_are_told_from_quantities(cells: list[str], form: str | None) -> None:
    from generator.logs import date_form
    assert date_form(pd.Series(cells, dtype=object))[0] == form
    assert date_form(pd.Series(cells, dtype="string[pyarrow]"))[0] == form
