"""Starter configurations: `python -m generator init TABLE` proposes a dataset file from a table.

Numeric columns become features; ids and codes (a channel, a region) are left out, and every
column's role comes with a reason. The proposal is a valid dataset file as it stands.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.__main__ import main
from generator.build import validate
from generator.config import CONFIG_DIR, load_dataset
from generator.errors import UserError
from generator.starter import propose
from tests.conftest import ROOT, MakeProject
from tests.test_data import euro_csv, euro_workbook

TABLE = "content/data/customers.csv"
ROWS = 30


def customers_csv(spend: list[str] | None = None) -> str:
    """30 customers: an id counting up, two codes, a name and two measured quantities."""
    lines = ["CustomerID,Channel,Region,Name,Spend,Visits"]
    for i in range(1, ROWS + 1):
        amount = spend[i - 1] if spend else f"{120.5 + (i * 37) % 23 * 41.25 + i / 8:.2f}"
        lines.append(f"{i},{1 + i % 2},{1 + i % 3},Customer {i},{amount},{(i * 7) % 11 + 0.5 + i / 100:.2f}")
    return "\n".join(lines) + "\n"


def customers(make_project: MakeProject, table: str | None = None) -> Path:
    return make_project({}, {TABLE: table or customers_csv()})


def test_proposes_the_measured_columns(make_project: MakeProject) -> None:
    proposal = propose(customers(make_project), Path(TABLE))
    settings = yaml.safe_load(proposal.yaml)
    assert proposal.id == "customers"
    assert settings["features"] == ["Spend", "Visits"]
    assert settings["id_column"] == "CustomerID"
    assert settings["source"] == TABLE
    assert "title" in settings


def test_gives_a_reason_for_every_column(make_project: MakeProject) -> None:
    reasons = dict(line.split(": ", 1) for line in propose(customers(make_project), Path(TABLE)).reasons)
    assert list(reasons) == ["CustomerID", "Channel", "Region", "Name", "Spend", "Visits"]
    assert "id" in reasons["CustomerID"]
    assert "code" in reasons["Channel"]
    assert "code" in reasons["Region"]
    assert "text" in reasons["Name"]
    assert reasons["Spend"].startswith("feature")
    assert reasons["Visits"].startswith("feature")


def test_proposal_is_a_valid_dataset_file(make_project: MakeProject) -> None:
    root = customers(make_project)
    proposal = propose(root, Path(TABLE))
    path = root / CONFIG_DIR / f"{proposal.id}.yml"
    path.write_text(proposal.yaml, encoding="utf-8")
    config = load_dataset(root, path)
    assert config.features == ("Spend", "Visits")
    assert config.id_column == "CustomerID"
    assert config.source == TABLE
    ((checked, table),) = validate(root)
    assert checked == config
    assert table is not None
    assert table.rows_used == ROWS


def test_whole_number_quantities_are_features(make_project: MakeProject) -> None:
    """Spending in whole dollars, every customer a different amount, is a quantity, not a second id."""
    spend = [str(200 + (i * 37) % 101 * 13) for i in range(ROWS)]
    assert len(set(spend)) == ROWS
    settings = yaml.safe_load(propose(customers(make_project, customers_csv(spend)), Path(TABLE)).yaml)
    assert settings["features"] == ["Spend", "Visits"]
    assert settings["id_column"] == "CustomerID"


@pytest.mark.parametrize("name", ["CustomerID", "customer_id", "Customer Id", "ID"])
def test_an_id_column_is_known_by_its_name(make_project: MakeProject, name: str) -> None:
    """Six customers (too few to tell an id by its values): the name alone says it is the id."""
    table = (f"{name},Age,AnnualSpend\n1,19,15000\n2,35,35000\n3,26,18000\n4,27,22000\n"
             "5,50,55000\n6,45,48000\n")
    root = make_project({}, {"content/data/six.csv": table})
    settings = yaml.safe_load(propose(root, Path("content/data/six.csv")).yaml)
    assert settings["features"] == ["Age", "AnnualSpend"]
    assert settings["id_column"] == name


def test_the_shipped_wholesale_table() -> None:
    proposal = propose(ROOT, Path("content/data/wholesale_customers.csv"))
    settings = yaml.safe_load(proposal.yaml)
    assert settings["features"] == ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
    assert "id_column" not in settings
    reasons = dict(line.split(": ", 1) for line in proposal.reasons)
    assert "code" in reasons["Channel"]
    assert "code" in reasons["Region"]


def test_init_writes_the_file(make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    root = customers(make_project)
    assert main(["--root", str(root), "init", TABLE]) == 0
    written = (root / CONFIG_DIR / "customers.yml").read_text(encoding="utf-8")
    assert written == propose(root, Path(TABLE)).yaml
    out, err = capsys.readouterr()
    assert out == ""
    assert "CustomerID: " in err
    assert "site_config/datasets/customers.yml" in err


def test_init_refuses_to_overwrite(make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    root = customers(make_project)
    existing = root / CONFIG_DIR / "customers.yml"
    existing.write_text("title: Mine\n", encoding="utf-8")
    assert main(["--root", str(root), "init", TABLE]) == 1
    assert existing.read_text(encoding="utf-8") == "title: Mine\n"
    error_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert error_lines == ["error: site_config/datasets/customers.yml: exists already; use --id or --stdout"]


def test_init_with_another_id(make_project: MakeProject) -> None:
    root = customers(make_project)
    (root / CONFIG_DIR / "customers.yml").write_text("title: Mine\n", encoding="utf-8")
    assert main(["--root", str(root), "init", TABLE, "--id", "shop-customers"]) == 0
    assert (root / CONFIG_DIR / "shop-customers.yml").exists()


def test_init_stdout_prints_the_yaml(make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    root = customers(make_project)
    assert main(["--root", str(root), "init", TABLE, "--stdout"]) == 0
    out, err = capsys.readouterr()
    assert yaml.safe_load(out)["features"] == ["Spend", "Visits"]
    assert "Channel: " in err
    assert not (root / CONFIG_DIR / "customers.yml").exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("content/data/missing.csv", "not a file inside the project"),
        ("../outside.csv", "not a file inside the project"),
        ("content/data/notes.doc", "must end in one of"),
    ],
)
def test_init_refuses_what_it_cannot_read(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str], table: str, message: str
) -> None:
    root = make_project({}, {"content/data/notes.doc": "a,b\n1,2\n", "../outside.csv": customers_csv()})
    assert main(["--root", str(root), "init", table]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ")
    assert message in line


def test_init_reads_a_whitespace_separated_table(make_project: MakeProject) -> None:
    spaced = "\n".join("   ".join(line.replace("Customer ", "Customer_").split(",")) for line in
                       customers_csv().splitlines()) + "\n"
    root = make_project({}, {"content/data/customers.txt": spaced})
    settings = yaml.safe_load(propose(root, Path("content/data/customers.txt")).yaml)
    assert settings["source"] == "content/data/customers.txt"
    assert settings["id_column"] == "CustomerID"
    assert settings["features"] == ["Spend", "Visits"]


def test_init_names_the_real_delimiter_of_a_whitespace_csv(make_project: MakeProject) -> None:
    root = make_project({}, {TABLE: "Spend Visits\n1.5 2\n3.5 4\n"})
    with pytest.raises(UserError) as caught:
        propose(root, Path(TABLE))
    (problem,) = caught.value.problems
    assert problem.startswith(f"{TABLE}: the header is one column 'Spend Visits'; the file seems separated by spaces")
    assert "numeric feature column" not in problem


# --- tables as European spreadsheets save them: read: only where detection needs help ----------------------


def builds_as_proposed(root: Path, table: str) -> tuple[dict[str, object], int]:
    """The proposal's settings, and the rows its table gives when validated as written."""
    proposal = propose(root, Path(table))
    path = root / CONFIG_DIR / f"{proposal.id}.yml"
    path.write_text(proposal.yaml, encoding="utf-8")
    ((_, loaded),) = validate(root)
    assert loaded is not None
    return yaml.safe_load(proposal.yaml), loaded.rows_used


def test_init_proposes_no_read_where_detection_settles_it(make_project: MakeProject) -> None:
    root = make_project({}, {"content/data/kunden.csv": euro_csv()})
    settings, rows = builds_as_proposed(root, "content/data/kunden.csv")
    assert "read" not in settings
    assert settings["features"] == ["Umsatz (€)", "Punkte", "Rabatt"]
    assert rows == 60


@pytest.mark.parametrize(
    ("name", "payload", "read"),
    [
        # Points written 1.234 and nothing else: ';' is a European file, so a decimal comma is likelier.
        ("kunden.csv", "".join(f"{i};{i % 7 + 1}.{(i * 37) % 1000:03d};{i % 9 + 1}.{i * 11 % 1000:03d}\n"
                               for i in range(1, 31)), {"decimal": ","}),
        ("kunden.xlsx", euro_workbook(), {"sheet": "Kunden"}),
    ],
    ids=["points", "workbook"],
)
def test_init_proposes_read_where_detection_needs_help(make_project: MakeProject, name: str, payload: str | bytes,
                                                       read: dict[str, str]) -> None:
    payload = "id;Punkte;Besuche\n" + payload if isinstance(payload, str) else payload
    root = make_project({}, {f"content/data/{name}": payload})
    settings, rows = builds_as_proposed(root, f"content/data/{name}")
    assert settings["read"] == read
    assert rows == 30 if name.endswith(".csv") else rows == 60
    reasons = [line for line in propose(root, Path(f"content/data/{name}")).reasons if line.startswith("read: ")]
    assert len(reasons) == 1
    assert "as detection cannot settle it: content/data/kunden." in reasons[0]
