"""MkDocs hook: every image of the site's own gets its width and height in the HTML.

With both attributes the browser reserves an image's box before the image arrives, so the page does not
shift while charts load (Lighthouse's "unsized-images"). Templates give at most a display width; the
height follows from the image file, which only the build knows (generated charts are in memory), so this
is done here, for every page and every image, hand-written or generated. Zensical ignores hooks: its
build has the images unsized (README, "Other engines").
"""

from __future__ import annotations

import io
import posixpath
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from PIL import Image, UnidentifiedImageError

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
        added = f' height="{round(shown * height / width)}"'
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
    try:
        with Image.open(io.BytesIO(file.content_bytes)) as image:
            width, height = image.size
    except UnidentifiedImageError:  # not a raster image (an SVG, say): it sizes itself
        return None
    return (width, height) if width > 0 and height > 0 else None
