"""A national batch, from its options to its folder: every area one task, journalled as it ends.

:func:`prepare` checks the options and the returns and settles the areas before anything is
written; :func:`tasks` scales the template to each area (writing ``areas/CODE/scaled.toml``)
and reads its returns; :func:`execute` runs the areas not yet done on an executor, appending
each outcome to ``areas.jsonl`` and writing its calibrated scenario as it finishes, so a batch
stopped half way resumes (``--resume``) from the areas that ended; :func:`finish` writes the
national table, the back-test table, the report and the manifest, whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.base import interrupt
from sim.base.lazy import later
from sim.calibrate.area import CalibrationError, read_published_table
from sim.national.areas import (
    POPULATION_FILE,
    Area,
    AreaError,
    chosen,
    clock_stops,
    estimated,
    read_population_file,
)
from sim.national.task import AreaOutcome, AreaTask, Settings, fitted_here, run_area
from sim.planning import scale
from sim.rtt.return_file import ReturnsError
from sim.rtt.returns import check_one_era, commissioners, read_returns
from sim.runs.batch import Stopped
from sim.runs.executors import Executor
from sim.runs.journal import Lines
from sim.runs.results import SCENARIO_FILE, run_folder, save_inputs, write_atomic, write_csv
from sim.runs.transaction import staged
from sim.scenario.schema import Scenario, ScenarioError

pd = later("pandas")

JOURNAL = "areas.jsonl"
SETTINGS = "national.json"
TABLE = "national.csv"
BACKTEST = "national_backtest.csv"
REPORT = "national.html"
AREAS = "areas"


class NationalError(ValueError):
    """Options a national batch cannot run with, naming the option and the problem."""


@dataclass
class National:
    """A national batch settled: where, from what, which areas and how."""

    folder: Path
    template_path: Path
    template: Scenario
    rtt: list[Path]
    codes: list[str]
    names: dict[str, str]
    settings: Settings
    populations: dict[str, int]
    months: list[str]
    record: dict[str, Any]
    """What the batch was asked (``national.json``): a resumed batch must be asked the same."""
    stops: Any = None
    """Every commissioner's all-specialty clock stops (:func:`sim.national.areas.clock_stops`)."""
    notes: list[str] = field(default_factory=list)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare(
    template_path: Path,
    template: Scenario,
    rtt: list[Path],
    areas: str,
    population_file: Path | None,
    settings: Settings,
    folder: Path,
    sets: list[str] | None = None,
) -> National:
    """Check everything the batch is asked before anything is written.

    Raises
    ------
    NationalError, AreaError, ReturnsError
        Naming the option or file and the problem.
    """
    for name in (settings.design, *settings.others):
        if name not in template.designs:
            raise NationalError(f"--design/--compare: '{name}' is not a design of {template.name}; it has "
                                f"{', '.join(template.designs)}")  # fmt: skip
    if settings.design in settings.others:
        raise NationalError(f"--compare: '{settings.design}' is the design fitted; compare it with another")
    if not rtt:
        raise NationalError("--rtt: give the returns, one file per month and part")
    check_one_era(rtt)
    known = commissioners(rtt)
    codes = chosen(known, areas)
    populations = read_population_file(population_file) if population_file is not None else {}
    try:
        everyone = read_returns(rtt, treatment_functions=["999"])
    except ReturnsError:  # one commissioner's bad row: read the rest one by one, the bad ones left out
        parts = []
        for code in known:
            try:
                parts.append(read_returns(rtt, commissioner=code, treatment_functions=["999"]))
            except ReturnsError:
                continue
        everyone = pd.concat(parts, ignore_index=True) if parts else read_returns([], None)
    months = sorted(set(everyone["month"])) if not everyone.empty else []
    record = {
        "template": str(template_path),
        "template_sha256": _digest(template_path),
        "set": list(sets or []),
        "rtt": {p.name: _digest(p) for p in rtt},
        "areas": codes,
        "population_file": None if population_file is None else _digest(population_file),
        "settings": asdict(settings),
    }
    return National(folder, template_path, template, rtt, codes, known, settings, populations, months, record,
                    clock_stops(everyone))  # fmt: skip


def refuse_changes(nat: National) -> None:
    """A resumed batch is asked what it was asked at the start, or is refused naming what differs.

    Raises
    ------
    NationalError
        When ``national.json`` is missing, or an option or file differs.
    """
    path = nat.folder / SETTINGS
    try:
        before = json.loads(path.read_text())
    except (OSError, ValueError):
        raise NationalError(f"--resume {nat.folder}: no readable {SETTINGS}; it is not a national batch's folder") from None
    now = json.loads(json.dumps(nat.record))
    for key in now:
        if before.get(key) != now[key]:
            raise NationalError(f"--resume {nat.folder}: {key} differs from the batch's start ({before.get(key)!r} "
                                f"then, {now[key]!r} now); give the same, or start another --out")  # fmt: skip


def area_of(nat: National, code: str) -> Area:
    """The area's population: the file's, or estimated from the returns.

    Raises
    ------
    AreaError
        When neither gives one.
    """
    if code in nat.populations:
        return Area(code, nat.names.get(code, code), nat.populations[code], POPULATION_FILE)
    if not nat.months:
        raise AreaError(f"{code}: the returns hold no all-specialty rows to estimate a population from")
    people, how = estimated(nat.stops, code, nat.months)
    return Area(code, nat.names.get(code, code), people, how)


def task_for(nat: National, code: str) -> AreaTask | AreaOutcome:
    """The area's task: the template scaled to it (``areas/CODE/scaled.toml``, written) and its
    returns read and checked; or, where that fails, its outcome saying why."""
    name = nat.names.get(code, code)
    try:
        area = area_of(nat, code)
        where = nat.folder / AREAS / code
        scaling = scale.scale(nat.template, area.population, f"{nat.template.name}_{code}")
        scaled = scale.write(scaling, nat.folder / SCENARIO_FILE, where / "scaled.toml", force=True)
        functions = list(nat.settings.functions) if nat.settings.functions else None
        published = read_published_table(read_returns(nat.rtt, commissioner=code), nat.rtt, code, functions)
    except (AreaError, ScenarioError, ReturnsError, CalibrationError) as e:
        row = {"code": code, "name": name, "status": "failed", "error": f"setup: {e}"}
        return AreaOutcome(code, row, error=str(e))
    others = list(nat.settings.others)
    return AreaTask(code, name, area.population, area.source, scaled, published, nat.settings,
                    fitted_here(nat.template, code, others), f"{AREAS}/{code}")  # fmt: skip


def read_journal(folder: Path) -> dict[str, AreaOutcome]:
    """The areas journalled so far (the last line of each wins)."""
    return {o.code: o for o in Lines(folder, JOURNAL).records(_outcome)}


def _outcome(line: bytes) -> AreaOutcome | None:
    try:
        rec = json.loads(line)
        out = AreaOutcome(**rec)
        return out if isinstance(out.code, str) and isinstance(out.row, dict) else None
    except (ValueError, TypeError):
        return None


def execute(
    nat: National,
    executor: Executor,
    progress: Callable[[int, int], None] | None = None,
    preparing: Callable[[str], None] | None = None,
) -> dict[str, AreaOutcome]:
    """Run every area not finished before (a failed one is tried again), journalling each outcome
    and writing its calibrated scenario as it ends; the outcomes of every area asked, by code."""
    if not (nat.folder / SCENARIO_FILE).exists():  # the template whole: every area's scaled.toml extends it
        save_inputs(nat.folder, nat.template)
    write_atomic(nat.folder / SETTINGS, json.dumps(nat.record, indent=2) + "\n")
    journal = Lines(nat.folder, JOURNAL)
    done = {o.code: o for o in journal.records(_outcome) if o.row.get("status") == "done"}
    if journal.damaged:
        lines = ", ".join(str(n) for n in journal.damaged)
        nat.notes.append(f"{nat.folder / JOURNAL}: line(s) {lines} held no finished area and were skipped; their areas ran again")
    outcomes: dict[str, AreaOutcome] = {c: done[c] for c in nat.codes if c in done}
    total = len(nat.codes)
    if progress:
        progress(len(outcomes), total)
    runnable: list[tuple[AreaTask]] = []
    for code in nat.codes:
        if code in outcomes:
            continue
        if preparing:
            preparing(code)
        made = task_for(nat, code)
        if isinstance(made, AreaOutcome):  # could not start: recorded as the area's outcome
            _keep(nat, journal, outcomes, made)
            if progress:
                progress(len(outcomes), total)
        else:
            runnable.append((made,))
    for outcome in executor.map(run_area, runnable):
        _keep(nat, journal, outcomes, outcome)
        if progress:
            progress(len(outcomes), total)
    return {c: outcomes[c] for c in nat.codes if c in outcomes}


def _keep(nat: National, journal: Lines, outcomes: dict[str, AreaOutcome], outcome: AreaOutcome) -> None:
    journal.add(asdict(outcome))
    outcomes[outcome.code] = outcome
    if outcome.calibrated:
        write_atomic(nat.folder / AREAS / outcome.code / "calibrated.toml", outcome.calibrated)


def national_table(outcomes: dict[str, AreaOutcome]) -> pd.DataFrame:
    """One row per area, in code order, failed areas with their error."""
    rows = [outcomes[c].row for c in sorted(outcomes)]
    table = pd.DataFrame(rows)
    first = ["code", "name", "status", "flags", "error", "population", "population_source"]
    for col in first:
        if col not in table:
            table[col] = ""
    return table[[*first, *(c for c in table.columns if c not in first)]]


def backtest_table(outcomes: dict[str, AreaOutcome]) -> pd.DataFrame:
    rows = [r for c in sorted(outcomes) for r in outcomes[c].backtest]
    return pd.DataFrame(rows)


def finish(nat: National, outcomes: dict[str, AreaOutcome], started: datetime, report: Callable[..., str]) -> list[Path]:
    """Write ``national.csv``, ``national_backtest.csv``, the report and the manifest, moved in together."""
    table, bt = national_table(outcomes), backtest_table(outcomes)
    written = []
    with staged(nat.folder, last=(TABLE,)) as stage:
        write_csv(stage / TABLE, table)
        written.append(nat.folder / TABLE)
        if not bt.empty:
            write_csv(stage / BACKTEST, bt)
            written.append(nat.folder / BACKTEST)
        write_atomic(stage / REPORT, report(nat, table, bt))
        written.append(nat.folder / REPORT)
        manifest = {
            "command": "national",
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "areas": len(nat.codes),
            "done": int((table["status"] == "done").sum()) if not table.empty else 0,
            "failed": int((table["status"] == "failed").sum()) if not table.empty else 0,
            "cpu_seconds_by_area": {c: o.cpu_seconds for c, o in sorted(outcomes.items())},
            "peak_memory_mb_by_area": {c: o.peak_memory_mb for c, o in sorted(outcomes.items())},
        }
        write_atomic(stage / "national_manifest.json", json.dumps(manifest, indent=2) + "\n")
    return written


def start_over(folder: Path) -> None:
    """With ``--force`` on a folder holding a national batch: its journal and areas go first."""
    (folder / JOURNAL).unlink(missing_ok=True)
    if (folder / AREAS).is_dir():
        shutil.rmtree(folder / AREAS)


def settle(template_path: Path, template: Scenario, rtt: list[Path], areas: str, population_file: Path | None,
           settings: Settings, out: Path | None, resume: bool, force: bool, sets: list[str] | None) -> National:  # fmt: skip
    """The batch in ``out`` (a new folder without it), new or resumed, checked before anything is written.

    Raises
    ------
    NationalError, AreaError, ReturnsError
        When ``--resume`` finds no batch, a batch is there already (without ``--force``), or :func:`prepare`
        or, on resume, :func:`refuse_changes` refuse it.
    """
    folder = out if out is not None else run_folder(f"{template.name}-national", None)
    if resume and not (folder / JOURNAL).exists():
        raise NationalError(f"--resume: {folder} holds no national batch to continue (no {JOURNAL}); give its --out")
    if not resume and (folder / JOURNAL).exists() and not force:
        raise NationalError(f"--out {folder}: already holds a national batch: continue it with --resume, choose another "
                            "--out, or --force to replace it")  # fmt: skip
    nat = prepare(template_path, template, rtt, areas, population_file, settings, folder, sets)
    if resume:
        refuse_changes(nat)
    return nat


def run(nat: National, executor: Executor, progress: Callable[[int, int], None] | None = None,
        preparing: Callable[[str], None] | None = None) -> dict[str, AreaOutcome]:  # fmt: skip
    """:func:`execute`, stopped by Ctrl-C, SIGTERM or SIGHUP.

    Raises
    ------
    Stopped
        When stopped: the finished areas are kept in the folder, for ``--resume``.
    """
    try:
        with interrupt.terminating():
            return execute(nat, executor, progress, preparing)
    except KeyboardInterrupt as e:
        done = read_journal(nat.folder)
        how = f"stopped by {e.name}" if isinstance(e, interrupt.Terminated) else "interrupted"
        raise Stopped(f"{how}: {len(done)} finished area(s) are kept in {nat.folder}; continue with the same command "
                      "and --resume", interrupt.exit_code(e)) from None  # fmt: skip
