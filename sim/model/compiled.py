"""Which form of the model runs: its Python sources, or the modules compiled from them.

This is the one place that decides, and the one place that says how.

An install (``pip install -e .``) compiles the other modules of ``sim.model`` to C with mypyc
where it can (``setup.py``; ``MSKSIM_COMPILE=0`` installs the sources alone): each module gets a
small extension module beside its source (``clinic.cpython-311-x86_64-linux-gnu.so``) that loads
its code from one shared library, the group module ``msksim_model__mypyc`` (beside the ``sim``
package). Python imports an extension module in place of its source, so :func:`choose`, run when
``sim.model`` is imported, settles which form every model module loads as. It reads file names
and dates and loads the group library (about a millisecond); it imports no model module.

The compiled modules run when every model source has one, none was edited since, and the group
module loads and holds each of them. The sources run instead, with the same results, when

* ``MSKSIM_PURE_PYTHON`` is set, to profile or step through the model line by line;
* nothing was compiled (``MSKSIM_COMPILE=0``, or no C compiler at install);
* a source was edited (or added) after compiling: the compiled module would run the old code,
  so a warning names the files and says how to compile again;
* the group module is missing or cannot be loaded (a broken or partial build): with a warning.

Compiled or not, it is all or nothing: the modules call each other, so one stale module would
mix two versions of the model. Every install first removes the compiled files an earlier
compiling install left in the source tree (:func:`build_products`), so an install that does not
compile leaves no stale binaries.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
"""Where an editable install puts the group module: beside the ``sim`` package."""
PACKAGE = __name__.rpartition(".")[0]
GROUP = "msksim_model"
"""The mypyc group name given by ``setup.py``; its library is the module ``GROUP + "__mypyc"``."""
GROUP_MODULE = f"{GROUP}__mypyc"
SLACK_SECONDS = 2.0
"""An install writes sources and compiled modules moments apart, in either order."""
REBUILD = "pip install -e ."


def _extensions(folder: Path, stem: str = "*") -> dict[str, Path]:
    """Module name -> extension file, for each extension module named ``stem`` in ``folder``."""
    out: dict[str, Path] = {}
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for file in folder.glob(f"{stem}{suffix}"):
            name = file.name[: -len(suffix)]
            if name.isidentifier():  # "clinic", not "clinic.cpython-311-x86_64-linux-gnu" for ".so"
                out.setdefault(name, file)
    return out


def compiled_modules(folder: Path = HERE) -> dict[str, Path]:
    """Module name -> compiled file, for each module in ``folder`` that has one."""
    return _extensions(folder)


def build_products(package: Path = HERE, root: Path = ROOT) -> list[Path]:
    """Every compiled file a compiling editable install leaves in the source tree: the model's
    modules and the group library (``setup.py`` removes them before each build)."""
    return sorted([*compiled_modules(package).values(), *_extensions(root, f"{GROUP_MODULE}*").values()])


def model_sources(folder: Path = HERE) -> list[Path]:
    """The sources that are compiled (``setup.py`` reads this too): every module of the
    package but its ``__init__`` and this one, which decides what to load."""
    return [p for p in sorted(folder.glob("*.py")) if p.stem not in ("__init__", Path(__file__).stem)]


def stale(compiled: dict[str, Path], folder: Path = HERE, group: Path | None = None) -> list[str]:
    """Modules whose source changed after they (or the ``group`` library) were compiled, or that
    were never compiled."""
    out = []
    for source in model_sources(folder):
        binary = compiled.get(source.stem)
        built = min(b.stat().st_mtime for b in (binary, group) if b is not None) if binary else None
        if built is None or source.stat().st_mtime > built + SLACK_SECONDS:
            out.append(source.stem)
    return out


def group_problem(names: list[str]) -> tuple[str, Path | None]:
    """Load the group library and check it holds the modules ``names``: ``("", its file)`` if
    so, else what is wrong. Loading it runs no model code: each module starts when imported."""
    try:
        spec = importlib.util.find_spec(GROUP_MODULE)
        if spec is None:
            return f"the compiled library {GROUP_MODULE} is missing", None
        library = importlib.import_module(GROUP_MODULE)
    except (ImportError, OSError) as e:  # a truncated or foreign file, or one built for another model
        return f"the compiled library {GROUP_MODULE} cannot be loaded ({e})", None
    missing = [n for n in names if not hasattr(library, f"init_{PACKAGE.replace('.', '___')}___{n}")]
    if missing:
        return f"the compiled library {GROUP_MODULE} lacks {', '.join(missing)}", None
    return "", Path(spec.origin) if spec.origin else None


class _Sources:
    """Finds ``sim.model.<name>`` at its ``.py`` file, passing over any compiled module (a meta
    path finder; not derived from ``importlib.abc``, which would import ``importlib.resources``)."""

    def find_spec(self, fullname: str, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        source = HERE / f"{name}.py"
        if package == PACKAGE and source.is_file():
            return importlib.util.spec_from_file_location(fullname, source)
        return None


def _why_not_compiled(compiled: dict[str, Path]) -> str:
    """Why the compiled modules must not run, or ``""`` if they may."""
    problem, group = group_problem([p.stem for p in model_sources()])
    if problem:
        return f"{problem}: running the model from its Python sources, more slowly"
    old = stale(compiled, group=group)
    if old:
        return f"sim/model changed since it was compiled ({', '.join(old)}): running the model from its Python sources"
    return ""


def choose() -> str:
    """Arrange for the model's modules to load as ``"compiled"`` or ``"interpreted"``; say which."""
    compiled = compiled_modules()
    if not compiled:
        return "interpreted"
    if not os.environ.get("MSKSIM_PURE_PYTHON"):
        why = _why_not_compiled(compiled)
        if not why:
            return "compiled"
        warnings.warn(f"{why}. Compile it again with `{REBUILD}`, or remove the compiled "
                      "files with `MSKSIM_COMPILE=0 pip install -e .`.", RuntimeWarning, stacklevel=2)  # fmt: skip
    sys.meta_path.insert(0, _Sources())
    return "interpreted"
