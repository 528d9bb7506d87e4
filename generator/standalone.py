"""Standalone reports: one dataset's report as a single self-contained HTML file.

`reports/<id>/report.html` is for people who will never open the site: it is the same page,
rendered with the site's own Markdown extensions, with its charts inlined as PNG data, a
small stylesheet of its own, no script, and no request to any other file or host.
"""

from __future__ import annotations

import base64
import html
import re

import jinja2
import markdown

from generator.pages import report_page
from generator.results import Report

EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "pymdownx.details", "pymdownx.superfences"]
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)

STYLE = """
:root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #3f51b5; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.9rem; line-height: 1.25; } h2 { margin-top: 2.2rem; border-bottom: 1px solid var(--line); }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; }
th { background: #f6f8fa; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-style: italic; }
.admonition, details { border-left: 4px solid var(--accent); background: #f6f8fa; padding: .5rem 1rem;
  margin: 1rem 0; }
.admonition.warning { border-color: #bf8700; } .admonition.danger { border-color: #cf222e; }
.admonition-title, summary { font-weight: 600; cursor: pointer; }
code { background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; }
footer { color: var(--muted); font-size: .85rem; margin-top: 3rem; }
"""


def standalone_report(report: Report, env: jinja2.Environment) -> bytes:
    """The report page as one HTML file with everything inlined."""
    source = _FRONT_MATTER.sub("", report_page(report, env, standalone=True))
    body = markdown.markdown(source, extensions=EXTENSIONS, output_format="html")
    for image in report.illustrations.images():
        encoded = base64.b64encode(image.content).decode("ascii")
        body = body.replace(f'src="{image.src}"', f'src="data:image/png;base64,{encoded}"')
    title = html.escape(" ".join(report.config.title.split()))
    page = (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n"
        f"<footer>A single-file copy of the report \u201c{title}\u201d, generated with every chart inlined. "
        "The downloads it mentions are published beside the report on the site.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )
    return page.encode()
