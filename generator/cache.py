"""The analysis cache: a dataset's segments and charts, kept between builds.

An entry is keyed on everything its numbers and pictures depend on: the data's bytes, the
resolved dataset configuration, the generator's own source, and the versions of
scikit-learn, numpy, pandas and matplotlib. Templates are not in the key: pages are rendered
on every build, so editing prose or a template refits nothing. Entries are written to a
temporary file and renamed into place, so two builds at once never see half an entry; an
entry that cannot be read is ignored and replaced.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from importlib import metadata
from pathlib import Path

from generator.config import DatasetConfig, is_uri, source_digest
from generator.results import Report, Tutorial

LIBRARIES = ("scikit-learn", "numpy", "pandas", "matplotlib", "scipy")  # results depend on these; reports name them
FOLDER = Path(".cache") / "segments"  # under the project root; git-ignored


def key(root: Path, config: DatasetConfig) -> str:
    """The entry of a dataset: changes whenever anything its analysis depends on changes.

    Computed from the data file's bytes without parsing them, so a cached dataset is not
    read again (inline data is part of the configuration itself). Data behind a URI (Spark)
    can change unseen: it gets no entry ("") and is computed on every build.
    """
    source = config.transactions.source if config.transactions is not None else config.source
    if source is not None and is_uri(source):
        return ""
    digest = hashlib.sha256()
    for part in (source_digest(root, config), repr(config), _code_digest(),
                 *(f"{name}=={metadata.version(name)}" for name in LIBRARIES)):
        digest.update(part.encode())
        digest.update(b"\0")
    return f"{config.id}.{digest.hexdigest()[:32]}"  # "." cannot occur in an id


def tutorial_key() -> str:
    """The tutorial's entry: it depends only on the generator's code and the libraries."""
    parts = (_code_digest(), *(f"{name}=={metadata.version(name)}" for name in LIBRARIES))
    return f"_tutorial.{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:32]}"  # "_": never an id


class FolderCache:
    """Entries as pickle files in one folder of the project (the build's own folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, entry: str) -> Report | None:
        found = self.load_any(entry)
        return found if isinstance(found, Report) else None

    def load_tutorial(self, entry: str) -> Tutorial | None:
        found = self.load_any(entry)
        return found if isinstance(found, Tutorial) else None

    def load_any(self, entry: str) -> object:
        path = self.folder / f"{entry}.pickle"
        try:
            with path.open("rb") as handle:
                report = pickle.load(handle)  # noqa: S301 - written by this cache, in the project
        except FileNotFoundError:
            return None
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
            path.unlink(missing_ok=True)  # damaged or from an incompatible version: recompute
            return None
        return report

    def store(self, entry: str, report: Report | Tutorial) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(f"{entry.split('.')[0]}.*.pickle"):
            stale.unlink(missing_ok=True)  # older entries of the same dataset
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(report, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.folder / f"{entry}.pickle")
        finally:
            Path(temporary).unlink(missing_ok=True)  # gone already once renamed into place


def _code_digest() -> str:
    """The generator's own source: a change to the code is a change to the results."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
