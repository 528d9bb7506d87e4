"""Command line: `python -m generator {validate,render,init}` without MkDocs.

- validate: check every dataset configuration and the data the local engine reads, cluster
  nothing; say which datasets Spark will read at build time.
- render DIR: write the generated Markdown, images and downloads to DIR (a way out to
  another site engine).
- init TABLE: start a dataset configuration from a table, explaining each column's role.

Problems a user can fix print as one line each on stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.build import generate, validate
from generator.cache import FOLDER, FolderCache
from generator.errors import UserError
from generator.formats import count
from generator.starter import propose


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project root (default: here)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("validate", help="check configurations and data without building")
    render = commands.add_parser("render", help="write generated pages and images to a folder")
    render.add_argument("folder", type=Path)
    init = commands.add_parser("init", help="start a dataset configuration from a table")
    init.add_argument("table", type=Path, help="a table inside the project, e.g. content/data/x.csv")
    init.add_argument("--id", help="the dataset id (default: from the file name)")
    init.add_argument("--stdout", action="store_true", help="print the configuration instead of writing it")
    arguments = parser.parse_args(argv)
    root = arguments.root.resolve()
    try:
        if arguments.command == "validate":
            checked = validate(root)
            rows = sum(table.rows_used for _, table in checked if table is not None)
            spark = [config.id for config, table in checked if table is None]
            later = f"; Spark will read {len(spark)} at build time: {', '.join(spark)}" if spark else ""
            print(f"ok: {count(len(checked))} dataset(s), {count(rows)} rows usable{later}")
        elif arguments.command == "render":
            _render(root, arguments.folder.resolve())
        else:
            _init(root, arguments.table, arguments.id, to_stdout=arguments.stdout)
    except UserError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


def _render(root: Path, folder: Path) -> None:
    if folder.is_relative_to(root / "content") or folder.is_relative_to(root / "site_config"):
        raise UserError(f"{folder}: render into a folder of its own, not into content/ or site_config/")
    files = generate(root, FolderCache(root / FOLDER), lambda line: print(line, file=sys.stderr))
    for generated in files:
        target = folder / generated.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(generated.content)
    print(f"wrote {count(len(files))} files to {folder}")


def _init(root: Path, table: Path, dataset_id: str | None, *, to_stdout: bool) -> None:
    proposal = propose(root, table, dataset_id)
    for line in proposal.reasons:
        print(line, file=sys.stderr)
    if to_stdout:
        print(proposal.yaml, end="")
        return
    target = root / "site_config" / "datasets" / f"{proposal.id}.yml"
    if target.exists():
        raise UserError(f"{target.relative_to(root).as_posix()}: exists already; use --id or --stdout")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(proposal.yaml, encoding="utf-8")
    print(f"wrote {target.relative_to(root).as_posix()}: check it, then build the site", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
