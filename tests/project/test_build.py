"""Every way of installing leaves a working ``msksim`` that runs the form the README says.

Real installs, made cheap: the repository's files (``git ls-files``) are copied to a scratch
folder and installed with ``pip install --no-deps --no-build-isolation -e`` into a scratch
virtual environment that sees this one's packages through a ``.pth`` file (``venv
--system-site-packages`` would see the base interpreter's instead). An install of the sources
(``MSKSIM_COMPILE=0``) takes seconds; the one compiling install of the suite (the default)
takes a minute or more and is skipped, saying
why, where there is no C compiler or mypy (unless ``MSKSIM_REQUIRE_COMPILE_TEST`` is set, as
in CI, where a skip would hide the compiled model). One checkout goes through the paths in the
order of this file: sources install, stale compiled files, no C compiler, compiling install
(switching from the sources), edited source, broken library, sources install again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from sim.model.compiled import GROUP_MODULE, REBUILD, build_products, model_sources
from tests.model.test_compiled_model import rows_and_flows

ROOT = Path(__file__).resolve().parents[2]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("MSKSIM_")}
"""The suite may run with ``MSKSIM_PURE_PYTHON=1``: each install and run here says its own."""


@dataclass
class Checkout:
    """A copy of the repository and the scratch environment it is installed in."""

    src: Path
    venv: Path

    def run(self, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=cwd or self.src, env={**ENV, **env}, capture_output=True, text=True, timeout=900)

    def install(self, **env: str) -> str:
        """``pip install -e .`` with ``env`` set; what the build said."""
        python = str(self.venv / "bin" / "python")
        out = self.run(python, "-m", "pip", "install", "-v", "--no-deps", "--no-build-isolation", "-e", ".", **env)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        return out.stdout + out.stderr

    def engine(self, cwd: Path | None = None) -> tuple[str, str]:
        """The form ``import sim.model`` chose, and the warnings it gave, run from ``cwd``."""
        python = str(self.venv / "bin" / "python")
        out = self.run(python, "-W", "always", "-c", "import sim.model; print(sim.model.ENGINE)", cwd=cwd)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip(), out.stderr

    def check_cli(self) -> None:
        """The console script starts, run from outside the checkout (so through the install)."""
        out = self.run(str(self.venv / "bin" / "msksim"), "--help", cwd=self.venv)
        assert out.returncode == 0, out.stderr
        assert "Usage" in out.stdout

    def products(self) -> list[Path]:
        return build_products(self.src / "sim" / "model", self.src)

    def sources(self) -> list[Path]:
        return model_sources(self.src / "sim" / "model")


def expect(checkout: Checkout, engine: str, warning: str = "", everywhere: bool = True) -> None:
    """``checkout`` runs ``engine`` from its root, warning as said, and (``everywhere``) from
    elsewhere, and its console script works."""
    for cwd in (checkout.src, checkout.venv) if everywhere else (checkout.src,):
        found, said = checkout.engine(cwd)
        assert found == engine, said
        assert (warning in said) if warning else ("Warning" not in said), said
    if everywhere:
        checkout.check_cli()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Checkout:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the files to install are those git tracks")
    scratch = tmp_path_factory.mktemp("install")
    src, venv = scratch / "src", scratch / "venv"
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():  # tracked but deleted in the working tree: skip
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(site) / "_msksim_test_base.pth").write_text("".join(f"{p}\n" for p in ours))
    return Checkout(src, venv)


def cannot_compile() -> str:
    """Why a compiling install cannot be tested here, or ``""``."""
    if importlib.util.find_spec("mypyc") is None:
        return "mypy (its mypyc) is not installed: pip install -e '.[test]' brings it"
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler}) to compile the model"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        return "no Python headers (Python.h) to compile the model against"
    return ""


@pytest.fixture(scope="module")
def compiled(checkout: Checkout) -> Checkout:
    """The checkout compiled: the suite's one compiling install (half a minute: without the C
    compiler's optimisation, which changes the speed, not the numbers)."""
    why = cannot_compile()
    if why and os.environ.get("MSKSIM_REQUIRE_COMPILE_TEST"):
        pytest.fail(f"MSKSIM_REQUIRE_COMPILE_TEST is set but {why}")
    if why:
        pytest.skip(why)
    said = checkout.install(MSKSIM_COMPILE_OPT_LEVEL="0")  # compiling is the default
    assert "could not compile" not in said and "not compiling" not in said, said[-3000:]
    return checkout


def test_the_build_requirement_is_pinned_as_the_test_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build = [r for r in project["build-system"]["requires"] if r.startswith("mypy")]
    assert len(build) == 1
    assert "==" in build[0]
    assert build[0] in project["project"]["optional-dependencies"]["test"]


def test_an_install_asked_not_to_compile_runs_the_sources(checkout: Checkout) -> None:
    checkout.install(MSKSIM_COMPILE="0")
    expect(checkout, "interpreted")
    assert checkout.products() == []


def test_compiled_files_left_behind_run_no_code_and_go_at_the_next_install(checkout: Checkout) -> None:
    """Modules without their library (the first symptom reported): the sources run, warned;
    the next install removes them."""
    suffix = EXTENSION_SUFFIXES[0]
    for source in checkout.sources():
        (source.parent / f"{source.stem}{suffix}").write_bytes(b"not a library")
    (checkout.src / f"{GROUP_MODULE}{suffix}").write_bytes(b"not a library")
    expect(checkout, "interpreted", GROUP_MODULE)  # "cannot be loaded" at the root, "missing" elsewhere
    assert "removed" in checkout.install(MSKSIM_COMPILE="0")
    assert checkout.products() == []
    expect(checkout, "interpreted")


def test_without_a_c_compiler_the_install_goes_on_from_the_sources(checkout: Checkout) -> None:
    said = checkout.install(CC="false")  # the default install, which compiles where it can
    assert "msksim: " in said and "will run from its Python sources" in said, said[-3000:]
    assert checkout.products() == []
    expect(checkout, "interpreted")


def test_a_compiling_install_runs_compiled(compiled: Checkout) -> None:
    expect(compiled, "compiled")
    first = compiled.sources()[0].stem
    out = compiled.run(str(compiled.venv / "bin" / "python"), "-c", f"import sim.model.{first} as m; print(m.__file__)")
    assert Path(out.stdout.strip()).suffix != ".py", out.stderr
    out = compiled.run(str(compiled.venv / "bin" / "python"), "-c", "import sim.model; print(sim.model.ENGINE)",
                       MSKSIM_PURE_PYTHON="1")  # fmt: skip
    assert out.stdout.strip() == "interpreted", out.stderr


def test_the_compiled_model_gives_the_same_numbers(compiled: Checkout) -> None:
    script = ("import json, sim.model; from tests.model.test_compiled_model import rows_and_flows; "
              "assert sim.model.ENGINE == 'compiled'; "
              "print(json.dumps([rows_and_flows(d) for d in ('fragmented', 'prime')]))")  # fmt: skip
    out = compiled.run(str(compiled.venv / "bin" / "python"), "-c", script)
    assert out.returncode == 0, out.stderr
    for design, theirs in zip(["fragmented", "prime"], json.loads(out.stdout), strict=True):
        assert rows_and_flows(design) == theirs, f"{design}: the compiled model differs from its sources"


def test_a_source_edited_after_compiling_runs_from_the_sources_with_a_warning(compiled: Checkout) -> None:
    source = compiled.sources()[-1]
    then, now = source.stat().st_mtime, time.time() + 60  # the copy kept the repository's dates
    os.utime(source, (now, now))
    try:
        expect(compiled, "interpreted", f"({source.stem})")
        assert REBUILD in compiled.engine()[1]
    finally:
        os.utime(source, (then, then))
    expect(compiled, "compiled", everywhere=False)


def test_a_missing_or_broken_library_falls_back_to_the_sources(compiled: Checkout) -> None:
    (library,) = (p for p in compiled.products() if p.name.startswith(GROUP_MODULE))
    kept = library.with_name("kept")
    shutil.copy2(library, kept)
    try:
        library.unlink()
        expect(compiled, "interpreted", f"{GROUP_MODULE} is missing")
        library.write_bytes(b"\x7fELF broken")
        expect(compiled, "interpreted", f"{GROUP_MODULE} cannot be loaded", everywhere=False)
    finally:
        kept.replace(library)
    expect(compiled, "compiled", everywhere=False)


def test_an_install_of_the_sources_after_compiling_removes_the_compiled_files(compiled: Checkout) -> None:
    compiled.install(MSKSIM_COMPILE="0")
    assert compiled.products() == []
    assert [p for p in compiled.src.rglob("*.so") if "build" not in p.relative_to(compiled.src).parts] == []
    expect(compiled, "interpreted")
