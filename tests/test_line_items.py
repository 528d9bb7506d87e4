"""Purchase logs as shops export them: line items (quantity x price), cancellations, guest rows,
datetimes in three forms and spreadsheet ids (`12923.0`), checked against a plain pandas derivation
of DESIGN.md's contract, written here apart from the generator's code."""

from __future__ import annotations

import datetime
import io
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from generator import cache
from generator.__main__ import main
from generator.build import generate, validate
from generator.config import load_dataset
from generator.errors import UserError
from generator.purchases import load_customers
from generator.starter import propose
from tests.conftest import ROOT, MakeProject

LOG = "content/data/retail.csv"
SHOWN = "site_config/datasets/retail.yml"
AS_OF = "2011-06-30"
PRICES = ("0.85", "2.55", "1.65", "3.39", "0.29", "12.75", "4.95", "0.1", "7")
NEGATIVE = "18000"  # the customer whose returns exceed their purchases
ONLY_RETURNS = "19999"  # the customer who only returned goods
# How each form writes a datetime, and the date_format that reads it back (None: ISO).
FORMS = {
    "iso": (lambda when: when.strftime("%Y-%m-%d %H:%M:%S"), None),
    "month-first": (lambda when: f"{when.month}/{when.day}/{when:%y} {when.hour}:{when:%M}", "%m/%d/%y %H:%M"),
    "day-first": (lambda when: f"{when.day}/{when.month}/{when.year} {when.hour}:{when:%M}", "%d/%m/%Y %H:%M"),
}


def line_items(seed: int = 11) -> pd.DataFrame:
    """Invoices of 16 customers and of guests, January to August 2011, with every quirk of a shop export:
    cancellations (`C` invoices, negative quantities), guest rows (no customer), two invoices on one day,
    an invoice that nets to 0, ids written `12923.0`, a customer who only returned goods and one whose
    returns exceed their purchases. `when` holds datetimes; `write` turns them into a CSV."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, int, datetime.datetime, str, str]] = []  # invoice, quantity, when, price, customer
    start = datetime.datetime(2011, 1, 1)

    def moment(day: int) -> datetime.datetime:
        return start + datetime.timedelta(days=day, minutes=int(rng.integers(8 * 60, 20 * 60)))

    number = 536365
    for index in range(16):
        customer = str(12340 + index * 7)
        for _ in range(int(rng.integers(1, 7))):
            number += 1
            when = moment(int(rng.integers(0, 240)))
            lines = [(int(rng.integers(1, 13)), str(rng.choice(PRICES))) for _ in range(int(rng.integers(1, 5)))]
            rows += [(str(number), quantity, when, price, customer) for quantity, price in lines]
            if rng.random() < 0.35:  # a cancellation of the first line, some days later
                quantity, price = lines[0]
                rows.append((f"C{number}", -quantity, when + datetime.timedelta(days=int(rng.integers(0, 20))),
                             price, customer))
    twice = moment(40)  # customer 12340: two invoices on one day are two purchases
    rows += [("540001", 2, twice, "2.55", "12340"), ("540002", 1, twice + datetime.timedelta(hours=1), "0.85", "12340")]
    rows += [("540003", 3, moment(50), "1.65", "12347"), ("540003", -3, moment(50), "1.65", "12347")]  # nets to 0
    rows += [("540004", 1, moment(10), "2.55", NEGATIVE), ("C540005", -40, moment(30), "12.75", NEGATIVE)]
    rows += [("C540006", -2, moment(20), "4.95", ONLY_RETURNS)]
    for guest in range(6):
        rows.append((str(541000 + guest), int(rng.integers(1, 9)), moment(int(rng.integers(0, 240))),
                     str(rng.choice(PRICES)), ""))
    frame = pd.DataFrame(rows, columns=["InvoiceNo", "Quantity", "when", "UnitPrice", "CustomerID"])
    spreadsheet = (rng.random(len(frame)) < 0.4) & (frame["CustomerID"] != "")
    frame.loc[spreadsheet, "CustomerID"] += ".0"  # as a spreadsheet export writes some ids
    frame["StockCode"] = [f"{85000 + i % 37}A" for i in range(len(frame))]
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def write(frame: pd.DataFrame, form: str = "iso") -> str:
    written = frame.assign(InvoiceDate=frame["when"].map(FORMS[form][0]))
    columns = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    return str(written[columns].to_csv(index=False))


def expected_customers(frame: pd.DataFrame, as_of: str, returns: str = "net") -> pd.DataFrame:
    """The contract in plain pandas: amounts in exact decimals, orders by (customer, invoice), a purchase
    an order whose net amount is above 0, customers those with a purchase on or before as_of."""
    rows = frame[frame["CustomerID"] != ""].copy()
    rows["customer"] = rows["CustomerID"].str.removesuffix(".0")
    rows["day"] = pd.to_datetime(rows["when"]).dt.normalize()
    rows["amount"] = [Decimal(q) * Decimal(p) for q, p in zip(rows["Quantity"].astype(str), rows["UnitPrice"],
                                                              strict=True)]
    if returns == "exclude":
        rows = rows[rows["amount"] >= 0]
    rows = rows[rows["day"] <= pd.Timestamp(as_of)]
    orders = rows.groupby(["customer", "InvoiceNo"]).agg(net=("amount", "sum"), day=("day", "min")).reset_index()
    purchases = orders[orders["net"] > 0].groupby("customer").agg(
        frequency=("net", "size"), last=("day", "max"), first=("day", "min"))
    end = pd.Timestamp(as_of)
    return pd.DataFrame({"recency": (end - purchases["last"]).dt.days, "frequency": purchases["frequency"],
                         "monetary": rows.groupby("customer")["amount"].sum().loc[purchases.index],
                         "tenure": (end - purchases["first"]).dt.days})


def block(form: str = "iso", **more: str) -> str:
    """The `transactions:` block for the log written in `form`, with `more` keys."""
    date_format = FORMS[form][1]
    keys = {"source": LOG, "customer": "CustomerID", "date": "InvoiceDate", "order": "InvoiceNo",
            "quantity": "Quantity", "price": "UnitPrice"} | ({"date_format": f"'{date_format}'"} if date_format else {})
    return "".join(f"\n  {key}: {value}" for key, value in (keys | more).items())


def retail(**changes: str) -> str:
    settings = {"title": "Retail", "transactions": block(), "missing": "drop", "as_of": AS_OF,
                "features": "[recency, frequency, monetary, tenure]", "n_clusters": "2",
                # A made-up log of 15 customers: every row and statistic is published, so they can be checked.
                "publish_rows": "true", "suppress_below": "0"} | changes
    return "".join(f"{key}: {value}\n" for key, value in settings.items() if value)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, shared_cache: Path) -> dict[str, bytes]:
    """One end-to-end generate() of the line-item log."""
    root = tmp_path_factory.mktemp("retail")
    (root / "site_config" / "datasets").mkdir(parents=True)
    shutil.copytree(ROOT / "templates", root / "templates")
    (root / SHOWN).write_text(retail(), encoding="utf-8")
    (root / LOG).parent.mkdir(parents=True)
    (root / LOG).write_text(write(line_items()), encoding="utf-8")
    files = generate(root, cache.FolderCache(shared_cache))
    return {f.path: f.content for f in files if f.path.startswith("reports/retail/")}


def test_the_log_has_every_quirk() -> None:
    frame = line_items()
    assert (frame["CustomerID"] == "").sum() >= 6
    assert frame["InvoiceNo"].str.startswith("C").sum() >= 3
    assert frame["CustomerID"].str.endswith(".0").any()
    expected = expected_customers(frame, AS_OF)
    assert (expected["monetary"] < 0).any()
    assert ONLY_RETURNS not in expected.index
    assert expected["frequency"].max() >= 2


def test_assignments_equal_a_pandas_derivation(built: dict[str, bytes]) -> None:
    rows = pd.read_csv(io.BytesIO(built["reports/retail/assignments.csv"]), dtype=str).set_index("CustomerID")
    expected = expected_customers(line_items(), AS_OF)
    assert rows.index.tolist() == sorted(expected.index)
    for feature in ("recency", "frequency", "tenure"):
        assert rows[feature].astype(int).tolist() == expected.loc[rows.index, feature].tolist(), feature
    # Money exactly: each written amount is the exact decimal sum, with no binary noise.
    assert [Decimal(cell) for cell in rows["monetary"]] == expected.loc[rows.index, "monetary"].tolist()
    assert all(re.fullmatch(r"-?\d+(\.\d{1,2})?", cell) for cell in rows["monetary"]), rows["monetary"].tolist()


def test_no_download_shows_binary_noise(built: dict[str, bytes]) -> None:
    """Sums, means and medians of amounts in cents read as people write them: no 452.99999999999994."""
    downloads = {name: content.decode() for name, content in built.items() if name.endswith((".json", ".csv", ".sql"))}
    assert len(downloads) >= 3
    for name, text in downloads.items():
        assert not re.findall(r"\d\.\d*(?:0{6}|9{6})\d\b", text), name


def test_the_report_counts_the_rows_and_people_left_out(built: dict[str, bytes]) -> None:
    frame = line_items()
    guests = int((frame["CustomerID"] == "").sum())
    document = json.loads(built["reports/retail/segments.json"])["transactions"]
    assert document["rows"] == len(frame)
    assert document["rows_left_out"] == {"blank_customer": guests, "blank_date": 0, "blank_amount": 0, "returns": 0}
    assert document["only_returns"] == 1
    assert document["customers"] == len(expected_customers(frame, AS_OF))
    page = built["reports/retail/index.md"].decode()
    assert f"Left out because a cell was blank ({guests} rows without a customer)" in page
    assert "Left out as not customers: 1 person whose orders by then add up to 0 or less" in page
    assert "its amount is <code>Quantity</code> x <code>UnitPrice</code>" in page
    assert "distinct order numbers\\) whose amounts \\(quantity x price\\) add up to more than 0" in page


@pytest.mark.parametrize("form", ["month-first", "day-first"])
def test_other_date_forms_give_the_same_customers(make_project: MakeProject, form: str) -> None:
    frame = line_items()
    root = make_project({"retail": retail()}, {LOG: write(frame)})
    iso = load_customers(root, load_dataset(root, root / SHOWN)).table
    (root / LOG).write_text(write(frame, form), encoding="utf-8")
    (root / SHOWN).write_text(retail(transactions=block(form)), encoding="utf-8")
    other = load_customers(root, load_dataset(root, root / SHOWN)).table
    assert other.ids == iso.ids
    pd.testing.assert_frame_equal(other.features, iso.features)


def test_returns_exclude_leaves_negative_rows_out(make_project: MakeProject) -> None:
    frame = line_items()
    root = make_project({"retail": retail(transactions=block("iso", returns="exclude"),
                                          features="[frequency, monetary, average_order]")}, {LOG: write(frame)})
    customers = load_customers(root, load_dataset(root, root / SHOWN))
    expected = expected_customers(frame, AS_OF, returns="exclude")
    assert customers.table.ids == tuple(expected.index)
    assert customers.table.features["monetary"].tolist() == [float(v) for v in expected["monetary"]]
    assert customers.table.features["frequency"].tolist() == expected["frequency"].tolist()
    average = [float((m / f).quantize(Decimal("0.01"))) for m, f in zip(expected["monetary"], expected["frequency"],
                                                                       strict=True)]
    assert customers.table.features["average_order"].tolist() == average
    returned = frame[frame["Quantity"] < 0]
    assert customers.summary.left_out.returns == int((returned["CustomerID"] != "").sum())


def test_the_shared_online_retail_rows(make_project: MakeProject) -> None:
    """The first 150 rows of UCI Online Retail (tests/data/online-retail), day-first, one cancellation."""
    text = (ROOT / "tests/data/online-retail/online_retail_first_rows.csv").read_text(encoding="utf-8")
    config = retail(transactions=block("day-first"), as_of="")
    root = make_project({"retail": config}, {LOG: text})
    customers = load_customers(root, load_dataset(root, root / SHOWN))
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame["when"] = pd.to_datetime(frame["InvoiceDate"], format="%d/%m/%Y %H:%M")
    expected = expected_customers(frame, "2010-12-01")
    assert customers.summary.as_of == datetime.date(2010, 12, 1)
    assert customers.table.ids == tuple(expected.index)
    assert customers.table.features["monetary"].tolist() == [float(v) for v in expected["monetary"]]
    assert customers.table.features["frequency"].tolist() == expected["frequency"].tolist()


# --- errors: one line each, naming the file, the column and line, or the customer -------------------


def first_problem(make_project: MakeProject, config: str, log: str | None = None) -> str:
    root = make_project({"retail": config}, {LOG: log if log is not None else write(line_items())})
    with pytest.raises(UserError) as caught:
        validate(root)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def test_returns_beyond_purchases_under_scale_log_name_the_customer(make_project: MakeProject) -> None:
    expected = expected_customers(line_items(), AS_OF)
    value, others = expected.loc[NEGATIVE, "monetary"], int((expected["monetary"] < 0).sum()) - 1
    assert others == 0
    assert first_problem(make_project, retail(scale="log")) == (
        f"{LOG}: customer {NEGATIVE}: monetary is {value.normalize():,f} as of {AS_OF} (returns exceed purchases); "
        f"scale: log needs 0 or more: set transactions.returns: exclude, or another scale ({SHOWN})")


def test_returns_exclude_builds_under_scale_log(make_project: MakeProject) -> None:
    config = retail(scale="log", transactions=block("iso", returns="exclude"))
    root = make_project({"retail": config}, {LOG: write(line_items())})
    ((_, table),) = validate(root)
    assert table is not None
    assert (table.features["monetary"] >= 0).all()


def test_a_blank_customer_under_missing_fail_names_its_line(make_project: MakeProject) -> None:
    text = write(line_items())
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.endswith(","))
    guests = sum(line.endswith(",") for line in text.splitlines())
    assert first_problem(make_project, retail(missing=""), text) == (
        f"{LOG}: column 'CustomerID', line {first}: no customer ({guests} such row(s)); set missing: drop to leave "
        "such rows out and count them")


def test_a_blank_price_is_dropped_and_counted(make_project: MakeProject) -> None:
    log = ("InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n1,2011-01-01 10:00,2,0.1,7\n2,2011-01-02 10:00,1,,7\n"
           "3,,1,0.2,8\n4,2011-01-03 9:00,1,0.2,8\n")
    root = make_project({"retail": retail(as_of="", features="[frequency, monetary]")}, {LOG: log})
    customers = load_customers(root, load_dataset(root, root / SHOWN))
    assert customers.summary.left_out.blank == (("customer", 0), ("date", 1), ("amount", 1))
    assert customers.table.ids == ("7", "8")
    assert customers.table.features.to_dict("list") == {"frequency": [1.0, 1.0], "monetary": [0.2, 0.2]}


@pytest.mark.parametrize(("block", "message"), [
    ("\n  customer: CustomerID\n  date: InvoiceDate\n  quantity: Quantity",
     "transactions: price: is required with quantity (amount = quantity x price)"),
    ("\n  customer: CustomerID\n  date: InvoiceDate\n  amount: Amount\n  price: UnitPrice",
     "transactions: amount and price: give amount, or quantity and price (amount = quantity x price), not both"),
    ("\n  customer: CustomerID\n  date: InvoiceDate",
     "transactions: amount: is required (or quantity and price, for line items: amount = quantity x price)"),
    ("\n  customer: CustomerID\n  date: InvoiceDate\n  quantity: Quantity\n  price: UnitPrice\n  returns: keep",
     "transactions: returns: must be one of net, exclude, got 'keep'"),
])
def test_a_bad_transactions_block_is_one_line(make_project: MakeProject, block: str, message: str) -> None:
    assert first_problem(make_project, retail(transactions=f"\n  source: {LOG}{block}")) == f"{SHOWN}: {message}"


def test_an_error_leaves_the_previous_site_untouched(make_project: MakeProject, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project({"retail": retail()}, {LOG: write(line_items())})
    out = tmp_path / "out"
    assert main(["--root", str(root), "render", str(out)]) == 0
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    (root / SHOWN).write_text(retail(scale="log"), encoding="utf-8")
    capsys.readouterr()
    assert main(["--root", str(root), "render", str(out)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {LOG}: customer {NEGATIVE}: monetary is ")
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


# --- init: a log read by its structure, and its proposal builds as written -----------------------


def proposed(root: Path, table: str) -> tuple[dict[str, object], tuple[str, ...]]:
    """init's proposal for `table`, written where init writes it; its settings and reasons."""
    proposal = propose(root, Path(table))
    (root / "site_config/datasets" / f"{proposal.id}.yml").write_text(proposal.yaml, encoding="utf-8")
    return yaml.safe_load(proposal.yaml), proposal.reasons


@pytest.mark.parametrize("form", ["iso", "month-first", "day-first"])
def test_init_proposes_line_items_and_its_proposal_builds(make_project: MakeProject, form: str) -> None:
    frame = line_items()
    root = make_project({}, {LOG: write(frame, form)})
    settings, reasons = proposed(root, LOG)
    expected_block = {"source": LOG, "customer": "CustomerID", "date": "InvoiceDate", "order": "InvoiceNo",
                      "quantity": "Quantity", "price": "UnitPrice"}
    if FORMS[form][1]:
        expected_block["date_format"] = str(FORMS[form][1])
    assert settings["transactions"] == expected_block
    assert settings["missing"] == "drop"
    assert settings["scale"] == "standard"  # customer 18000 returned more than they bought: log would refuse
    guests = int((frame["CustomerID"] == "").sum())
    assert f"CustomerID: {guests} rows have no customer (guest checkouts): missing: drop leaves them out, and the " \
           "report counts them" in reasons
    assert any(line.startswith("CustomerID: ") and "are written like 1" in line for line in reasons)
    ((_, table),) = validate(root)
    assert table is not None
    last = frame.loc[frame["CustomerID"] != "", "when"].max().strftime("%Y-%m-%d")
    expected = expected_customers(frame, last)
    assert table.ids == tuple(expected.index)
    assert table.features["recency"].tolist() == expected["recency"].tolist()
    assert table.features["frequency"].tolist() == expected["frequency"].tolist()


def test_init_on_the_shared_online_retail_rows(make_project: MakeProject, tmp_path: Path) -> None:
    text = (ROOT / "tests/data/online-retail/online_retail_first_rows.csv").read_text(encoding="utf-8")
    root = make_project({}, {LOG: text})
    settings, reasons = proposed(root, LOG)
    assert settings["transactions"] == {"source": LOG, "customer": "CustomerID", "date": "InvoiceDate",
                                        "date_format": "%d/%m/%Y %H:%M", "order": "InvoiceNo",
                                        "quantity": "Quantity", "price": "UnitPrice"}
    assert settings["scale"] == "log"
    assert any("no value above 12 tells day from month" in line for line in reasons)
    assert main(["--root", str(root), "render", str(tmp_path / "out")]) == 0
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame["when"] = pd.to_datetime(frame["InvoiceDate"], format="%d/%m/%Y %H:%M")
    expected = expected_customers(frame, "2010-12-01")
    config = load_dataset(root, root / "site_config/datasets/retail.yml")
    table = load_customers(root, config).table
    assert table.ids == tuple(expected.index)
    assert table.features["frequency"].tolist() == expected["frequency"].tolist()


@pytest.mark.parametrize("names", [("cust", "purchased_on", "cds", "amount_usd"), ("a", "b", "c", "d")])
def test_init_reads_a_log_whose_names_tell_nothing(make_project: MakeProject, names: tuple[str, ...]) -> None:
    """The CDNOW sample with its columns renamed: customer, date, number of CDs, dollars."""
    log = pd.read_csv(ROOT / "content/data/cdnow_sample_transactions.csv", dtype=str)
    assert list(log.columns) == ["customer_id", "date", "number_of_cds", "dollar_value"]
    root = make_project({}, {"content/data/cdnow.csv": log.set_axis(list(names), axis=1).to_csv(index=False)})
    settings, reasons = proposed(root, "content/data/cdnow.csv")
    assert settings["transactions"] == {"source": "content/data/cdnow.csv", "customer": names[0], "date": names[1],
                                        "date_format": "%Y%m%d", "amount": names[3]}
    assert f"{names[2]}: left out (the features are derived from the log)" in reasons
    ((_, table),) = validate(root)
    assert table is not None
    days = log.astype({"dollar_value": float}).groupby(["customer_id", "date"])["dollar_value"].sum()
    assert table.rows_used == days[days > 0].reset_index()["customer_id"].nunique()  # a purchase adds up to more than 0


TINY_LOG = "InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n"


@pytest.mark.parametrize(("rows", "changes", "message"), [
    ("1,2011-01-01,2,0.1,7\n2,,1,0.2,8\n", {"missing": ""},
     f"{LOG}: column 'InvoiceDate', line 3: no date (1 such row(s)); set missing: drop to leave such rows out and "
     "count them"),
    ("1,2011-01-01,2,0.1,7\n2,2011-01-02,,0.2,8\n", {"missing": ""},
     f"{LOG}: column 'Quantity', line 3: no amount (1 such row(s)); set missing: drop to leave such rows out and "
     "count them"),
    ("1,2011-01-01,2,0.1,7\n2,2011-01-02,1,,8\n", {"missing": ""},
     f"{LOG}: column 'UnitPrice', line 3: no amount (1 such row(s)); set missing: drop to leave such rows out and "
     "count them"),
    ("1,2011-01-01,2,0.1,7\n2,2011-01-02,two,0.2,8\n", {},
     f"{LOG}: column 'Quantity', line 3: 'two' is not a number (a plain number such as 12.50) (1 such row(s))"),
    ("1,2011-01-01,-2,0.1,7\n", {"as_of": ""},
     f"{LOG}: no customer as of 2011-01-01: no order on or before it adds up to more than 0 ({SHOWN})"),
    ("1,2011-01-01,2,0.1,\n", {"as_of": ""},
     f"{LOG}: no row is left once rows without a customer, date or amount are left out"),
])
def test_a_bad_line_item_log_is_one_line(make_project: MakeProject, rows: str, changes: dict[str, str],
                                         message: str) -> None:
    assert first_problem(make_project, retail(**changes), TINY_LOG + rows) == message


def test_an_order_cancelled_later_leaves_a_snapshot_consistent(make_project: MakeProject) -> None:
    """Invoice 1 is a purchase on 2011-01-03 but its later line cancels it: 7 is a customer at the first date
    only, and the snapshots keep the customers of the last."""
    log = TINY_LOG + ("1,2011-01-01,2,0.1,7\n1,2011-01-05,-2,0.1,7\n2,2011-01-01,1,0.5,8\n3,2011-01-05,1,0.5,8\n"
                      "4,2011-01-02,1,0.5,9\n")
    config = retail(as_of="", snapshots="[2011-01-03, 2011-01-06]", features="[frequency, monetary]")
    root = make_project({"retail": config}, {LOG: log})
    customers = load_customers(root, load_dataset(root, root / SHOWN))
    assert customers.table.ids == ("8", "9")
    first = customers.snapshots[0]
    assert first.table.ids == ("8", "9")
    assert first.rows.tolist() == [0, 1]
    assert first.table.features["frequency"].tolist() == [1.0, 1.0]


def test_init_tells_a_unit_price_by_its_values(make_project: MakeProject) -> None:
    """No returns and no telling names: a unit price does not grow with the quantity, as an amount would."""
    frame = line_items()
    sold = frame[(frame["Quantity"] > 0) & (frame["CustomerID"] != "")]
    names = {"InvoiceNo": "k1", "StockCode": "k2", "Quantity": "k3", "InvoiceDate": "k4", "UnitPrice": "k5",
             "CustomerID": "k6"}
    text = pd.read_csv(io.StringIO(write(sold)), dtype=str).rename(columns=names).to_csv(index=False)
    root = make_project({}, {"content/data/items.csv": text})
    settings, _ = proposed(root, "content/data/items.csv")
    assert settings["transactions"] == {"source": "content/data/items.csv", "customer": "k6", "date": "k4",
                                        "order": "k1", "quantity": "k3", "price": "k5"}
    assert "missing" not in settings


def test_amounts_with_more_decimals_late_in_the_log(make_project: MakeProject) -> None:
    """The decimals are counted on the first rows, then checked on all: a late 0.125 makes them three."""
    rows = [f"{i},2011-01-{1 + i % 28:02d},1,{1 + i % 7}.5,{i % 50}" for i in range(12_000)]
    rows.append("99999,2011-01-28,1,0.125,1")
    root = make_project({"retail": retail(as_of="", features="[monetary, frequency]")},
                        {LOG: TINY_LOG + "\n".join(rows) + "\n"})
    table = load_customers(root, load_dataset(root, root / SHOWN)).table
    expected = {str(c): Decimal(0) for c in range(50)}
    for i in range(12_000):
        expected[str(i % 50)] += Decimal(f"{1 + i % 7}.5")
    expected["1"] += Decimal("0.125")
    assert table.ids is not None
    assert table.features["monetary"].tolist() == [float(expected[c]) for c in table.ids]
