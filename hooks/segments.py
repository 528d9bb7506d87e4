"""MkDocs hook: the only code that knows MkDocs. It asks the generator for the generated
pages and images and adds them to the build in memory.

Everything is generated in `on_config`, before MkDocs empties `site_dir`, so a bad dataset
stops the build with the previous site untouched. Problems a site author can fix arrive as
`UserError` and leave as `PluginError`: one line each, no traceback.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from generator.build import GeneratedFile, generate
from generator.cache import FOLDER, FolderCache
from generator.errors import UserError
from generator.figures import pixels
from generator.scheduler import keep_workers, release_workers

REPORTS_INDEX = "reports/index.md"
# The offline copy's search runs in an iframe shim; Material would load it from a CDN.
SHIM = "assets/javascripts/iframe-worker-shim.js"
SHIM_SOURCE = Path("node_modules") / "iframe-worker" / "shim" / "index.js"

log = logging.getLogger("mkdocs.hooks.segments")

# This module is loaded afresh with every configuration load, so this holds one build's files.
_generated: list[GeneratedFile] = []


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    root = Path(config.config_file_path).resolve().parent
    try:
        files = generate(root, FolderCache(root / FOLDER), log.info)
    except UserError as error:
        raise PluginError(str(error)) from None
    docs = Path(config.docs_dir)
    clashes = [f.path for f in files if (docs / f.path).exists()]
    if clashes:
        raise PluginError(f"{config.docs_dir}/{clashes[0]}: a hand-written file has the path of a "
                          "generated page; rename or remove it")
    polyfills = config.extra.get("polyfills", [])
    if any("iframe-worker" in url for url in polyfills):  # the offline plugin wants its shim
        shim = root / SHIM_SOURCE
        if not shim.is_file():
            raise PluginError(f"{SHIM_SOURCE.as_posix()} is missing: the offline copy needs it (run npm ci)")
        config.extra["polyfills"] = [SHIM if "iframe-worker" in url else url for url in polyfills]
        files.append(GeneratedFile(SHIM, shim.read_bytes()))
    _generated[:] = files
    if config.nav is not None:
        config.nav = _with_reports(config.nav, [f.path for f in files])
    return config


def on_serve(server: object, config: MkDocsConfig, builder: object) -> object:
    keep_workers()  # an edit then rebuilds at once: workers started, libraries loaded
    return server


def on_shutdown() -> None:
    release_workers()


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for generated in _generated:
        files.append(File.generated(config, generated.path, content=generated.content))
    return files


def _with_reports(nav: list[object], paths: list[str]) -> list[object]:
    """The nav with the reports index expanded into a section holding every report."""
    reports = sorted(p for p in paths if p.startswith("reports/") and p.endswith("/index.md") and p != REPORTS_INDEX)
    expanded: list[object] = []
    for item in nav:
        if isinstance(item, dict) and list(item.values()) == [REPORTS_INDEX]:
            (title,) = item
            expanded.append({title: [REPORTS_INDEX, *reports]})
        else:
            expanded.append(item)
    return expanded


# Every image of the site's own gets its width and height in the HTML: with both, the browser reserves
# an image's box before it arrives, so the page does not shift while charts load (Lighthouse's
# "unsized-images"). Templates give at most a display width; the height follows from the image file,
# which only the build knows (generated charts are in memory). Zensical runs no hooks (README).
IMG = re.compile(r"<img\b[^>]*>")
ATTRIBUTE = re.compile(r'\s(src|width|height)="([^"]*)"')


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    def sized(match: re.Match[str]) -> str:
        tag = match.group(0)
        attributes = dict(ATTRIBUTE.findall(tag))
        if "height" in attributes or "src" not in attributes:
            return tag
        size = _size(attributes["src"], page, files)
        if size is None:
            return tag
        width, height = size
        shown = int(attributes["width"]) if attributes.get("width", "").isdigit() else width
        shown_height = round(shown * height / width)  # pixels for the browser, not a number for people
        added = f' height="{shown_height}"'
        if "width" not in attributes:
            added = f' width="{shown}"' + added
        return tag[:4] + added + tag[4:]

    return IMG.sub(sized, html)


def _size(src: str, page: Page, files: Files) -> tuple[int, int] | None:
    """The pixel size of the site's image at `src` (relative to the page), or None for any other."""
    path = src.split("#", 1)[0].split("?", 1)[0]
    if not path or "://" in path or path.startswith(("/", "data:")):
        return None
    file = files.get_file_from_path(posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), path)))
    if file is None:
        return None
    return pixels(file.content_bytes)
