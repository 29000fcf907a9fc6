"""The README and the pages in ``docs/``: every example runs and prints what the page says, and the
pages build.

Examples are found and run with Sybil (https://sybil.readthedocs.io), as pytest items of this
module, one per example, in page order:

- a fenced ``python`` block of ``>>>`` lines is a doctest, run in the repository's folder with
  the page's earlier Python examples (its namespace is the page's);
- a fenced ``console`` block holds commands, each on a line starting ``$ `` (a line ending in
  ``\\`` goes on), followed by what it prints. Each command runs in bash, in a scratch copy of the
  repository's ``scenarios/`` (with ``data/`` beside it and an empty ``results/``) shared by
  every page, with ``msksim`` the command line of this checkout. Its exit code must be 0 and
  its output (stdout and stderr together) must hold the lines given, in order, where ``...``
  stands for anything and runs of spaces, line breaks and table borders count as one space
  (the terminal tables wrap to the width of the terminal); the output's numbers vary with the
  settings, so a page gives the headings, columns and labels to find.

An HTML comment on the line before a block, ``<!-- test: ... -->``, changes how it is run, and
is there in the page's source for anyone to read (``docs/contributing.md``):

- ``<!-- test: ARGS -->`` appends ARGS to every simulating ``msksim`` command of the block
  (``run``, ``compare``, ``sweep``, ``bid``, ``target``, ``calibrate``, ``national``), so an example
  that would take minutes (500 replications of a bid, a national batch) runs with shorter
  settings: the output's shape is what is checked;
- ``<!-- test: cluster ARGS -->`` as well runs a local Dask cluster (``distributed.LocalCluster``)
  in place of the ``dask scheduler`` and ``dask worker`` lines, whose address stands for
  ``tcp://HEAD:8786``;
- ``<!-- test: skip REASON -->`` runs nothing; REASON says which test covers the block instead.
  The install commands are covered by ``tests/project/test_build.py``, which installs the
  package in scratch environments (compiled and from the sources) and runs what it installed:
  they are not installed again here.

A command run twice with the same arguments (the same example on two pages) runs once: its
output is kept for the second.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
DIRECTIVE = re.compile(r"<!--\s*test:\s*(?P<words>[^\n]*?)\s*-->\s*\Z")
"""The comment on the line just before a block (one line)."""
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<language>[^\s`]*)[^\n]*\n", re.M)
RUN = ("console", "python")
"""The languages of blocks that are examples; any other fenced block must say why it is not run."""
BORDERS = str.maketrans({c: " " for c in "│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼━─╇╈╋┳┻╸╺═║╭╮╯╰"})
TIMEOUT = 600

sybil = pytest.importorskip("sybil", reason='Sybil runs the examples: pip install -e ".[test]" (or ".[docs]") installs it')
from sybil import Example, Sybil  # noqa: E402
from sybil.parsers.myst import CodeBlockParser, PythonCodeBlockParser  # noqa: E402


def directive(example: Example) -> str | None:
    """The words of the ``<!-- test: ... -->`` comment just before the example's block, if any."""
    before = example.document.text[: example.region.start].rstrip()
    found = DIRECTIVE.search(before)
    return found["words"] if found else None


def commands(source: str) -> list[tuple[str, str]]:
    """The block's commands, each with the output written after it."""
    out: list[tuple[str, str]] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            raise AssertionError(f"a console block's line that is neither a command nor its output: {line!r}")
        command = line[2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append((command, "\n".join(expected)))
    return out


def squeeze(text: str) -> str:
    """Text with table borders and every run of white space as one space."""
    return " ".join(text.translate(BORDERS).split())


def holds(output: str, expected: str) -> str | None:
    """Why ``output`` does not hold ``expected`` (``...`` for anything), or None where it does."""
    at = 0
    text = squeeze(output)
    for part in (squeeze(p) for p in expected.split("...")):
        if not part:
            continue
        found = text.find(part, at)
        if found < 0:
            return f"expected {part!r} (after {text[max(0, at - 80):at]!r})"
        at = found + len(part)
    return None


class Workspace:
    """Where the pages' commands run: a copy of ``scenarios/``, ``data/`` beside it, ``msksim`` on the path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        shutil.copytree(ROOT / "scenarios", folder / "scenarios")
        (folder / "data").symlink_to(ROOT / "data")
        (folder / "results").mkdir()
        bin_ = folder / ".bin"
        bin_.mkdir()
        script = bin_ / "msksim"
        script.write_text(
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom cli import main\nsys.exit(main())\n"
        )
        script.chmod(0o755)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")},
            "PATH": f"{bin_}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "COLUMNS": "200",
            "NO_COLOR": "1",
            "TERM": "dumb",
        }
        self.done: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        if command not in self.done:
            self.done[command] = subprocess.run(
                ["bash", "-c", command], cwd=self.folder, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, timeout=TIMEOUT,
            )  # fmt: skip
        return self.done[command]


SIMULATING = ("run", "compare", "sweep", "bid", "target", "calibrate", "national")
"""The commands that simulate, to which a block's test arguments are appended; the others
(``validate``, ``scale``, ``report``, ``published``) run as written."""


def with_args(command: str, args: str) -> str:
    """``command`` with ``args`` after it where it runs a simulating ``msksim`` command."""
    words = command.split()
    if not args or words[0] != "msksim" or len(words) < 2 or words[1] not in SIMULATING:
        return command
    assert " #" not in command, f"a shell comment would swallow the test's arguments: {command}"
    return f"{command} {args}"


def evaluate_console(example: Example) -> None:
    words = directive(example) or ""
    if words.startswith("skip"):
        assert words[4:].strip(), "a skipped block says why (which test covers it)"
        return
    cluster = words.startswith("cluster")
    args = words[len("cluster") :].strip() if cluster else words
    workspace: Workspace = example.namespace["workspace"]
    steps = commands(example.parsed)
    context: Any = local_cluster() if cluster else None
    with context or _nothing():
        for command, expected in steps:
            if cluster and command.startswith("dask "):
                continue  # the local cluster stands for the scheduler and its workers
            if cluster:
                command = command.replace("tcp://HEAD:8786", context.scheduler_address)
            command = with_args(command, args)
            done = workspace.run(command)
            assert done.returncode == 0, f"$ {command}\nexit {done.returncode}\n{done.stdout[-4000:]}"
            why = holds(done.stdout, expected)
            assert why is None, f"$ {command}\n{why}\n--- output ---\n{done.stdout[-6000:]}"


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def local_cluster() -> Any:
    distributed = pytest.importorskip("distributed", reason='the cluster example needs Dask: pip install -e ".[cluster]"')
    return distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)


SYBIL = Sybil(
    parsers=[
        CodeBlockParser(language="console", evaluator=evaluate_console),
        PythonCodeBlockParser(),
    ],
    path=str(ROOT),
)


def examples() -> Iterator[Any]:
    for page in PAGES:
        document = SYBIL.parse(page)
        for example in document:
            name = f"{page.relative_to(ROOT)}:{example.line}"
            yield pytest.param(example, id=name, marks=pytest.mark.slow)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("docs"))


@pytest.mark.parametrize("example", list(examples()))
def test_example(example: Example, workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each example of the pages, run as the page says (the module's docstring says how)."""
    monkeypatch.chdir(ROOT)  # the Python examples name the bundled files from the repository's folder
    example.namespace["workspace"] = workspace
    example.evaluate()


def blocks(text: str) -> Iterator[tuple[int, str, str]]:
    """Every fenced block of a Markdown text: its line, its language, the text before it."""
    inside = ""
    for match in FENCE.finditer(text):
        fence = match["fence"]
        if inside:
            if fence.startswith(inside[0]) and len(fence) >= len(inside) and not match["language"]:
                inside = ""
            continue
        inside = fence
        yield text.count("\n", 0, match.start()) + 1, match["language"], text[: match.start()]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_block_is_run_or_says_why_not(page: Path) -> None:
    """A block in another language (or none) is not run, so it must say why: it cannot drift
    unnoticed. Blocks indented by four spaces (which no tool would run) are not used."""
    text = page.read_text()
    for line, language, before in blocks(text):
        if language in RUN or language.startswith("{"):
            continue
        found = DIRECTIVE.search(before.rstrip())
        assert found and found["words"].startswith("skip") and found["words"][4:].strip(), (
            f"{page.name}:{line}: a ```{language} block is not run: make it ```console or ```python, "
            "or say why not with <!-- test: skip REASON --> before it"
        )
    prose = re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", text, flags=re.M | re.S)
    indented = [
        n + 1 for n, (prev, cur) in enumerate(zip(["", *prose.splitlines()], prose.splitlines(), strict=False))
        if cur.startswith("    ") and cur.strip() and not prev.strip() and not re.match(r"\s*([-*]|\d+\.|\|)", cur)
    ]  # fmt: skip
    assert not indented, f"{page.name}: indented code blocks (write them fenced, as console or python examples): {indented[:5]}"


def test_a_console_block_reads_as_the_module_says() -> None:
    block = "$ msksim validate a.toml\nok ...\n$ msksim compare a.toml \\\n    --reps 2\n"
    assert commands(block) == [("msksim validate a.toml", "ok ..."), ("msksim compare a.toml --reps 2", "")]
    assert holds("┃ Per year ┃ fragmented ┃\n│ Referrals │ 46,598 │", "Per year fragmented ... Referrals") is None
    assert holds("a b c", "c ... a") is not None
    assert with_args("msksim bid x --reps 500", "--reps 2") == "msksim bid x --reps 500 --reps 2"


@pytest.mark.slow
def test_the_docs_build_with_warnings_as_errors(tmp_path: Path) -> None:
    """``sphinx-build -W``: a broken link, a missing include, a page in no table of contents fails."""
    pytest.importorskip("sphinx", reason='Sphinx builds the docs: pip install -e ".[test]" (or ".[docs]") installs it')
    pytest.importorskip("myst_parser", reason='MyST-Parser reads the Markdown pages: pip install -e ".[docs]"')
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"),
         str(DOCS), str(tmp_path / "html")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert (tmp_path / "html" / "index.html").exists()
