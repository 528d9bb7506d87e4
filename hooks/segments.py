"""MkDocs hook: the only code that knows MkDocs. It asks the generator for the generated
pages and images and adds them to the build in memory.

Everything is generated in `on_config`, before MkDocs empties `site_dir`, so a bad dataset
stops the build with the previous site untouched. Problems a site author can fix arrive as
`UserError` and leave as `PluginError`: one line each, no traceback.

Each event does its jobs by name: `generated_files` (the generator's pages, images and downloads),
`with_reports` (every report in the navigation, as for Zensical: navigation.py), `offline_search`
(the offline copy's search shim served with the site), `add_files`, `size_images` (every image's
width and height in the HTML), and `keep_workers` / `release_workers` (the processes a server's
rebuilds share). What the hook keeps between events is one `HookState`, `STATE`.
"""

from __future__ import annotations

import logging
import posixpath
import re
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from navigation import with_reports

from generator.build import GeneratedFile, generate
from generator.cache import FOLDER, FolderCache
from generator.errors import UserError
from generator.figures import pixels
from generator.scheduler import start_workers

# The offline copy's search runs in an iframe shim; Material would load it from a CDN.
SHIM = "assets/javascripts/iframe-worker-shim.js"
SHIM_SOURCE = Path("node_modules") / "iframe-worker" / "shim" / "index.js"

log = logging.getLogger("mkdocs.hooks.segments")


@dataclass
class HookState:
    """What the hook keeps between MkDocs's events. MkDocs (and ProperDocs) load a hook once per
    process, so under `mkdocs serve` this outlives a build: `files` are the build's under way (set
    in `on_config`, added in `on_files`), `workers` serve every rebuild until the server stops."""

    files: list[GeneratedFile] = field(default_factory=list)
    workers: Executor | None = None


STATE = HookState()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    root = Path(config.config_file_path).resolve().parent
    files = generated_files(config, root, STATE.workers)
    shim = offline_search(config, root)
    STATE.files = files + ([shim] if shim is not None else [])
    if config.nav is not None:
        config.nav = with_reports(config.nav, [f.path for f in files])
    return config


def on_serve(server: object, config: MkDocsConfig, builder: object) -> object:
    keep_workers()  # an edit then rebuilds at once: workers started, libraries loaded
    return server


def on_shutdown() -> None:
    release_workers()


def on_files(files: Files, config: MkDocsConfig) -> Files:
    return add_files(files, config, STATE.files)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return size_images(html, page, files)


def generated_files(config: MkDocsConfig, root: Path, workers: Executor | None) -> list[GeneratedFile]:
    """Every page, image and download the generator makes; a hand-written page in its way is an error."""
    try:
        files = generate(root, FolderCache(root / FOLDER), log.info, workers)
    except UserError as error:
        raise PluginError(str(error)) from None
    docs = Path(config.docs_dir)
    clashes = [f.path for f in files if (docs / f.path).exists()]
    if clashes:
        raise PluginError(f"{config.docs_dir}/{clashes[0]}: a hand-written file has the path of a "
                          "generated page; rename or remove it")
    return files


def offline_search(config: MkDocsConfig, root: Path) -> GeneratedFile | None:
    """The offline plugin's search shim as a file of the site, its polyfill entry pointing there
    instead of a CDN; None when the site lists no such polyfill."""
    polyfills = config.extra.get("polyfills", [])
    if not any("iframe-worker" in url for url in polyfills):
        return None
    shim = root / SHIM_SOURCE
    if not shim.is_file():
        raise PluginError(f"{SHIM_SOURCE.as_posix()} is missing: the offline copy needs it (run npm ci)")
    config.extra["polyfills"] = [SHIM if "iframe-worker" in url else url for url in polyfills]
    return GeneratedFile(SHIM, shim.read_bytes())


def add_files(files: Files, config: MkDocsConfig, generated: list[GeneratedFile]) -> Files:
    """The site's files with the generated ones added, in memory (nothing is written into docs_dir)."""
    for one in generated:
        files.append(File.generated(config, one.path, content=one.content))
    return files


def keep_workers() -> None:
    """Start the workers a server's rebuilds share, once per process."""
    if STATE.workers is None:
        STATE.workers = start_workers()


def release_workers() -> None:
    """End the kept workers, if any (the server stops)."""
    if STATE.workers is not None:
        STATE.workers.shutdown()
        STATE.workers = None


# Every image of the site's own gets its width and height in the HTML: with both, the browser reserves
# an image's box before it arrives, so the page does not shift while charts load (Lighthouse's
# "unsized-images"). Templates give at most a display width; the height follows from the image file,
# which only the build knows (generated charts are in memory). Zensical runs no hooks (README).
IMG = re.compile(r"<img\b[^>]*>")
ATTRIBUTE = re.compile(r'\s(src|width|height)="([^"]*)"')


def size_images(html: str, page: Page, files: Files) -> str:
    """`html` with a width and height on every `<img>` of the site's own that lacks a height."""
    def sized(match: re.Match[str]) -> str:
        tag = match.group(0)
        attributes = dict(ATTRIBUTE.findall(tag))
        if "height" in attributes or "src" not in attributes:
            return tag
        size = image_size(attributes["src"], page, files)
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


def image_size(src: str, page: Page, files: Files) -> tuple[int, int] | None:
    """The pixel size of the site's image at `src` (relative to the page), or None for any other."""
    path = src.split("#", 1)[0].split("?", 1)[0]
    if not path or "://" in path or path.startswith(("/", "data:")):
        return None
    file = files.get_file_from_path(posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), path)))
    if file is None:
        return None
    return pixels(file.content_bytes)
