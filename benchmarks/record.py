"""Where a benchmark's figures go: ``benchmarks/results/NAME.md``, which the docs include.

Each script in ``benchmarks/`` prints its figures and writes them, in Markdown, to a file of its
own, headed with the command that made them, the date, the machine, the Python and NumPy, the
form of the model (compiled or the sources) and the load average at the start and the end (other
work on the machine stretches wall-clock times, and CPU times a little). The pages in ``docs/``
include these files, so a figure in the docs is the last run's, never typed by hand: run the
script again on a quiet machine to bring them up to date.
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> str:
    try:
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
        return f", {kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        return ""


def engine() -> str:
    """The form of the model this tree runs here (``compiled`` or ``interpreted``), asked of a fresh process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    code = "import sim.model as m; print(m.ENGINE)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)
    return done.stdout.strip() or "unknown"


class Record:
    """The figures of one run of a benchmark: start it before measuring, write it after."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.load_before = os.getloadavg()[0]
        self.engine = engine()

    def machine(self) -> str:
        import numpy

        return (f"{cpu_model()}, {os.cpu_count()} cores{memory_gib()}; {platform.system()}; Python {platform.python_version()}, "
                f"NumPy {numpy.__version__}; model {self.engine}")  # fmt: skip

    def write(self, body: list[str]) -> Path:
        """Write ``body`` (Markdown lines) under the heading line; the file's path."""
        command = " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *map(shlex.quote, sys.argv[1:])])
        when = datetime.now(UTC)
        head = (f"Made by `{command}` on {when:%Y-%m-%d %H:%M} UTC; {self.machine()}; load average (1 min) "
                f"{self.load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.")  # fmt: skip
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.md"
        scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        scratch.write_text("\n".join([head, "", *body]).rstrip() + "\n")
        os.replace(scratch, path)
        print(f"Written {path.relative_to(ROOT)}")
        return path
