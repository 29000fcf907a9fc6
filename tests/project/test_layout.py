"""The README's Layout matches the tree: every path it lists exists, and every package of ``sim``
and every top-level folder that matters is listed."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NOT_LISTED = {"docs/_build"}
"""Folders of the tree a reader need not be told of: what the docs build makes."""


def layout() -> list[str]:
    """The paths in the first column of the README's Layout table."""
    text = README.read_text()
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return [m[1].rstrip("/") for m in re.finditer(r"^\| `([^`]+)` \|", section, re.M)]


def top_level_folders() -> set[str]:
    """The repository's top-level folders that hold files under version control, or where git is not
    there (an unpacked archive), every one not hidden."""
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode == 0 and done.stdout:
        return {line.split("/", 1)[0] for line in done.stdout.splitlines() if "/" in line and not line.startswith(".")}
    return {
        p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith((".", "_")) and not p.name.endswith(".egg-info")
    }


def test_every_path_the_layout_lists_exists() -> None:
    listed = layout()
    assert listed, "the README has a Layout section with a table of paths"
    missing = [p for p in listed if not (ROOT / p).exists()]
    assert not missing, f"the README's Layout lists paths that are not in the tree: {missing}"


def test_every_package_of_sim_is_listed() -> None:
    packages = sorted(str(p.parent.relative_to(ROOT)) for p in (ROOT / "sim").rglob("__init__.py"))
    left_out = [p for p in packages if p not in layout() and p != "sim"]
    assert "sim" in layout()
    assert not left_out, f"packages of sim/ the README's Layout does not list: {left_out}"


def test_every_top_level_folder_is_listed() -> None:
    left_out = sorted(top_level_folders() - set(layout()) - NOT_LISTED)
    assert not left_out, f"top-level folders the README's Layout does not list: {left_out}"


def test_the_architecture_page_lists_the_packages_in_the_order_imports_run() -> None:
    source = (ROOT / "tests" / "project" / "test_imports.py").read_text()
    tree = ast.parse(source)
    packages = next(
        ast.literal_eval(n.value) for n in tree.body
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PACKAGES" for t in n.targets)
    )  # fmt: skip
    page = (ROOT / "docs" / "layout.md").read_text()
    rows = re.findall(r"^\| `([\w.]+)` \|", page, re.M)
    assert tuple(r.removesuffix(".py") for r in rows) == packages, (
        "docs/layout.md lists the packages bottom to top, as tests/project/test_imports.py's PACKAGES"
    )
