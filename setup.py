"""Build: install msksim with its model compiled to C where a C compiler is there.

``pip install -e .`` compiles the model (``sim/model``) with mypyc: a replication runs about
twice as fast as from the Python sources, with the same numbers, for a minute or two more of
install. Where compiling fails (no C compiler, say) the install goes on with the sources and
says so. ``MSKSIM_COMPILE=0`` (or ``MSKSIM_PURE_PYTHON=1``) installs the sources alone.
``MSKSIM_COMPILE_OPT_LEVEL`` (0 to 3, default 3) is the C compiler's optimisation: 0 builds in
half the time, for a slower model with the same numbers (the build tests use it).
Every build first removes the compiled files an earlier build left in the source tree, so an
install that does not compile leaves none to run stale. ``sim/model/compiled.py`` says which
modules are compiled and picks the form at import.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

# isort: split
# distutils as setuptools ships it (so imported after setuptools): the compilers the build uses
from distutils.ccompiler import new_compiler
from distutils.sysconfig import customize_compiler

HERE = Path(__file__).resolve().parent
OFF = ("", "0", "false", "no")


def say(message: str) -> None:
    print(f"msksim: {message}", file=sys.stderr)


def _compiled_rules():
    """``sim/model/compiled.py``, loaded by path: importing ``sim.model`` would import the model,
    and its libraries are not in the build environment."""
    spec = importlib.util.spec_from_file_location("compiled", HERE / "sim" / "model" / "compiled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RULES = _compiled_rules()


def compiling() -> bool:
    """Whether this install compiles the model: unless ``MSKSIM_COMPILE`` says no."""
    asked = os.environ.get("MSKSIM_COMPILE", "1").strip().lower() not in OFF
    return asked and not os.environ.get("MSKSIM_PURE_PYTHON", "").strip()


def opt_level() -> str:
    """The C optimisation level asked for (``MSKSIM_COMPILE_OPT_LEVEL``), 3 unless given."""
    asked = os.environ.get("MSKSIM_COMPILE_OPT_LEVEL", "").strip() or "3"
    if asked not in ("0", "1", "2", "3"):
        say(f"MSKSIM_COMPILE_OPT_LEVEL={asked!r} is not 0, 1, 2 or 3: compiling at 3")
        return "3"
    return asked


def remove_build_products() -> None:
    """Delete compiled files left in the tree by an earlier editable build: they would run in
    place of the sources (or fail to load, once their group library is gone)."""
    for file in RULES.build_products():
        file.unlink(missing_ok=True)
        say(f"removed {file.relative_to(HERE)}, left by an earlier build")


class OptionalBuildExt(build_ext):
    """Build the compiled model if possible; otherwise go on, the sources running, and say so."""

    failure: Exception | None = None

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:  # no compiler, missing headers: setuptools raises several kinds
            self.failure = self.failure or e
        if self.failure:
            say(
                f"could not compile the model ({type(self.failure).__name__}: {str(self.failure)[:100]}...); "
                "it will run from its Python sources, more slowly"
            )
            self.extensions = []  # nothing to install or copy into the tree
            remove_build_products()  # a partial build would leave modules without their library

    def build_extension(self, ext) -> None:
        if self.failure:
            return  # all or nothing: one missing module is as bad as none
        try:
            super().build_extension(ext)
        except Exception as e:
            self.failure = e


def c_compiler_problem() -> str:
    """Why no extension can be compiled here (no C compiler, no Python headers), or ``""``:
    found in a moment, before mypyc spends half a minute writing C for nothing."""
    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.c"
        probe.write_text("#include <Python.h>\nint probe(void) { return 0; }\n")
        try:
            compiler.compile([str(probe)], output_dir=tmp, include_dirs=[sysconfig.get_paths()["include"]])
        except Exception as e:  # CompileError, or the compiler missing altogether
            return f"no working C compiler with Python's headers: {str(e)[:100]}"
    return ""


def model_extensions() -> list:
    if not compiling():
        return []
    problem = c_compiler_problem()
    if problem:
        say(f"not compiling the model ({problem}); it will run from its Python sources, more slowly")
        return []
    sources = [str(p.relative_to(HERE)) for p in RULES.model_sources()]
    try:
        from mypyc.build import mypycify

        # Every other module, ours or a library's, is read as untyped (Any): the compiled code
        # then does not depend on which libraries, or which of their versions, the build sees.
        flags = ["--follow-imports=skip", "--no-site-packages", "--ignore-missing-imports"]
        extensions = mypycify([*flags, *sources], group_name=RULES.GROUP, opt_level=opt_level())
    except (ImportError, SystemExit) as e:  # mypyc absent, or the sources did not type-check
        say(f"not compiling the model ({e!r}); it will run from its Python sources")
        return []
    if new_compiler().compiler_type == "unix":
        # Random streams wrap 64-bit integers (sim/model/draws.py): defined C only with -fwrapv
        # (Python's own flags carry it too, on most builds).
        for extension in extensions:
            extension.extra_compile_args = [*extension.extra_compile_args, "-fwrapv"]
    return extensions


remove_build_products()
setup(ext_modules=model_extensions(), cmdclass={"build_ext": OptionalBuildExt})
