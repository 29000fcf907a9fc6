"""Which form of the model runs: the modules compiled at install, or their Python sources.

Installing msksim compiles the other modules of ``sim.model`` to C with mypyc (see
``setup.py``); Python then imports the compiled module in place of its source. The
sources run instead, with the same results, when

* ``MSKSIM_PURE_PYTHON`` is set, to profile or step through the model line by line;
* nothing was compiled (no C compiler at install, or ``MSKSIM_PURE_PYTHON`` set then);
* a source was edited after it was compiled: the compiled module would run the old
  code, so the sources run and a warning says to install again.

Compiled or not, it is all or nothing: the modules call each other, so one stale
module would mix two versions of the model.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).parent
PACKAGE = __name__.rpartition(".")[0]
SLACK_SECONDS = 2.0
"""An install writes sources and compiled modules moments apart, in either order."""


def compiled_modules(folder: Path = HERE) -> dict[str, Path]:
    """Module name -> compiled file, for each module in ``folder`` that has one."""
    out: dict[str, Path] = {}
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for file in folder.glob(f"*{suffix}"):
            name = file.name[: -len(suffix)]
            if name.isidentifier():  # "clinic", not "clinic.cpython-311-x86_64-linux-gnu" for ".so"
                out.setdefault(name, file)
    return out


def model_sources(folder: Path = HERE) -> list[Path]:
    """The sources that are compiled (``setup.py`` reads this too): every module of the
    package but its ``__init__`` and this one, which decides what to load."""
    return [p for p in sorted(folder.glob("*.py")) if p.stem not in ("__init__", Path(__file__).stem)]


def stale(compiled: dict[str, Path], folder: Path = HERE) -> list[str]:
    """Modules whose source changed after they were compiled (or that were never compiled)."""
    out = []
    for source in model_sources(folder):
        binary = compiled.get(source.stem)
        if binary is None or source.stat().st_mtime > binary.stat().st_mtime + SLACK_SECONDS:
            out.append(source.stem)
    return out


class _Sources(importlib.abc.MetaPathFinder):
    """Finds ``sim.model.<name>`` at its ``.py`` file, passing over any compiled module."""

    def find_spec(self, fullname: str, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        source = HERE / f"{name}.py"
        if package == PACKAGE and source.is_file():
            return importlib.util.spec_from_file_location(fullname, source)
        return None


def choose() -> str:
    """Arrange for the model's modules to load as ``"compiled"`` or ``"interpreted"``; say which."""
    compiled = compiled_modules()
    if not compiled:
        return "interpreted"
    if not os.environ.get("MSKSIM_PURE_PYTHON"):
        old = stale(compiled)
        if not old:
            return "compiled"
        warnings.warn(
            f"sim/model changed since it was compiled ({', '.join(old)}): running the model from its "
            "Python sources, more slowly. Install again (pip install -e .) to compile it.",
            RuntimeWarning,
            stacklevel=2,
        )
    sys.meta_path.insert(0, _Sources())
    return "interpreted"
