"""Zensical's way in: the site's own files laid out for Zensical to build.

Zensical (Material's successor) reads `mkdocs.yml` but runs no hooks, so the generated pages must be on
disk first: `python -m generator render BUILD/zensical-docs` writes them, then this script adds the
hand-written pages beside them and writes `BUILD/zensical.yml`, the configuration Zensical reads, with
every rendered report in the navigation as the MkDocs hook puts them there (both with navigation.py),
and the site in `BUILD/zensical/` (Zensical wants the site inside the configuration's folder). `make
zensical` runs it; the README ("Other engines") says what differs.

Zensical keeps the site's promises with three additions: the theme's classic variant (Material's look, for
which assets/site.css is written); GLightbox from the mkdocs-glightbox package, served with the site and
loaded in the page's head, where Zensical's script finds it instead of fetching it from unpkg.com; and
hooks/zensical_overrides/, its template overrides (no relative canonical link without a site_url).

    python hooks/zensical_site.py BUILD
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml
from navigation import with_reports

ROOT = Path(__file__).resolve().parent.parent
# What Zensical does not take from mkdocs.yml: hooks (it runs none), MkDocs plugins but the lightbox, which it
# knows (search is built in; the offline copy is MkDocs's), and the theme overrides, which are copies of
# Material 9.8.2's own templates (Zensical gets its own, OVERRIDES).
DROPPED = ("hooks", "watch", "strict")
KEPT_PLUGINS = ("glightbox",)
VARIANT = "classic"  # Zensical's own default is "modern"
# GLightbox as the lightbox plugin of the MkDocs site ships it; Zensical loads it from unpkg.com when absent.
GLIGHTBOX = "assets/glightbox"
GLIGHTBOX_CSS = f"{GLIGHTBOX}/glightbox.min.css"
GLIGHTBOX_JS = f"{GLIGHTBOX}/glightbox.min.js"
# The theme's templates for Zensical (Material's, in overrides/, are not Zensical's): copied to BUILD/OVERRIDES.
OVERRIDES = "zensical-overrides"
GLIGHTBOX_FILES = {"glightbox.min.css": "glightbox.min.css", "glightbox.min.js": "glightbox.min.js",
                   "LICENSE.md": "LICENSE.txt"}


class _Loader(yaml.SafeLoader):
    """YAML that keeps `!ENV` tags as they are, for Zensical to resolve."""


class _Env:
    def __init__(self, value: Any) -> None:
        self.value = value


def _env(loader: yaml.SafeLoader, node: yaml.Node) -> _Env:
    if isinstance(node, yaml.SequenceNode):
        return _Env(loader.construct_sequence(node))
    assert isinstance(node, yaml.ScalarNode), node
    return _Env(loader.construct_scalar(node))


def _dump_env(dumper: yaml.SafeDumper, env: _Env) -> yaml.Node:
    if isinstance(env.value, list):
        return dumper.represent_sequence("!ENV", env.value, flow_style=True)
    return dumper.represent_scalar("!ENV", str(env.value))


_Loader.add_constructor("!ENV", _env)
yaml.SafeDumper.add_representer(_Env, _dump_env)


DOCS = "zensical-docs"
SITE = "zensical"
CONFIG = "zensical.yml"


def configuration(docs: Path) -> dict[str, Any]:
    """mkdocs.yml as Zensical should read it: pages from DOCS, the site to SITE, every report in the nav."""
    config: dict[str, Any] = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    for key in DROPPED:
        config.pop(key, None)
    config["plugins"] = [plugin for plugin in config.get("plugins", [])
                         if isinstance(plugin, dict) and set(plugin) <= set(KEPT_PLUGINS)]
    config["theme"]["custom_dir"] = OVERRIDES
    config["theme"]["variant"] = VARIANT
    config["extra_css"] = [GLIGHTBOX_CSS, *config.get("extra_css", [])]
    extra = config.setdefault("extra", {})
    extra["polyfills"] = [*extra.get("polyfills", []), GLIGHTBOX_JS]  # scripts in the head, before Zensical's
    config["docs_dir"] = DOCS
    config["site_dir"] = SITE
    config["nav"] = with_reports(config["nav"], [page.relative_to(docs).as_posix() for page in docs.rglob("*.md")])
    return config


def glightbox() -> Path:
    """The folder of GLightbox's script and styles inside the installed mkdocs-glightbox (not imported: it
    imports MkDocs)."""
    spec = importlib.util.find_spec("mkdocs_glightbox")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("mkdocs-glightbox is not installed: make .venv/.installed")
    return Path(next(iter(spec.submodule_search_locations))) / "glightbox"


def write_project(build: Path) -> None:
    """Add the hand-written pages (not the raw tables) to the rendered ones in BUILD/DOCS; write the config."""
    docs = build / DOCS
    if not docs.is_dir():
        sys.exit(f"{docs} is missing: run python -m generator render {docs} first")
    shutil.copytree(ROOT / "content", docs, dirs_exist_ok=True,
                    ignore=lambda folder, names: ["data"] if Path(folder) == ROOT / "content" else [])
    shutil.copytree(Path(__file__).parent / "zensical_overrides", build / OVERRIDES, dirs_exist_ok=True)
    (docs / GLIGHTBOX).mkdir(parents=True, exist_ok=True)
    for name, target in GLIGHTBOX_FILES.items():  # its licence as a text file, not a page of the site
        shutil.copyfile(glightbox() / name, docs / GLIGHTBOX / target)
    text = yaml.dump(configuration(docs), Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True)
    (build / CONFIG).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    write_project(Path(sys.argv[1]))
