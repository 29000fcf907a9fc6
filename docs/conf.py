"""Sphinx configuration: the pages are Markdown, read by MyST-Parser.

Build with ``pip install -e ".[docs]"`` then ``sphinx-build -W -b html docs docs/_build/html``;
``tests/project/test_docs.py`` builds them so, warnings as errors.
"""

from __future__ import annotations

project = "msksim"
author = "msksim contributors"
copyright = "msksim contributors, MIT licence"
release = "0.1.0"

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# links such as [The switch-over](model.md#the-switch-over) name a heading's anchor
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

html_theme = "alabaster"
html_title = "msksim"
html_static_path: list[str] = []
