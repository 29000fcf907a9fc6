"""Result folders: one per run, holding its resolved scenario, its inputs, tables and manifest.

Every file is written to a temporary name in the same folder and moved into place, so a
reader never sees half a file; ``manifest.json`` is written last and marks a complete run.
A folder stands alone: the inputs a run read (its backlog CSV) are copied in and named
relative to the folder, so it can be moved, reported on and resumed anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from sim import __version__
from sim.base.files import MAX_DATA_BYTES, FileProblem, read_bytes, read_text
from sim.base.lazy import later
from sim.model import ENGINE
from sim.scenario.columns import current_name
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario, ScenarioError
from sim.scenario.values import scenario_to_dict

pd = later("pandas")

SCENARIO_FILE = "scenario.toml"
MANIFEST_FILE = "manifest.json"
BACKLOG_COPY = "backlog.csv"
"""The copy of the backlog file a run started from, named so in its ``scenario.toml``."""
XLSX_FILE = "results.xlsx"
"""With --xlsx: every table of the run in one workbook."""
BATCH_FILE = "batch.json"
"""The settings of a batch, written before its first task so that it can be resumed."""
MAIN_TABLES = ("replications", "sweep")
"""A finished run has one of these: a row per (grid point,) design, replication and year."""
ID_COLUMNS = ("design", "replication", "year")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "replications": ID_COLUMNS,
    "sweep": ("point", *ID_COLUMNS),
    "monthly": ("design", "replication", "day", "year"),
    "rtt_monthly": ("design", "replication", "month_end", "year"),
    "rtt_returns": ("design", "replication", "month", "year", "treatment_function", "part"),
    "rtt_waits": ("design", "weeks", "pathways"),
    "flows": ("design", "from", "to", "per_year"),
    "summary": ("scope", "year", "metric", "mean", "ci_low", "ci_high", "n"),
    "bid_monthly": ("replication", "year", "month", "cumulative_cash_gbp"),
    "takeover": ("metric", "year", "unit", "mean", "ci_low", "ci_high", "n"),
    "switch_over": ("day", "month", "measure", "old_design_mean", "switch_over_mean", "steady_state_mean", "settled"),
    "warmup": ("design", "day", "in_system_mean", "moving_average", "mser_truncation_day", "warmup_day"),
}
"""The columns a report reads from each table, checked when a folder is read back."""
WHOLE_NUMBER_COLUMNS = ("point", "replication", "year", "day")
YEAR_OR_ALL = ("summary", "takeover")
"""Tables whose ``year`` may be "all" (the whole contract): not checked for whole numbers."""
TABLES_KEY = "tables"
"""The manifest's record of each table as written (``bytes``, ``rows``, ``sha256``): a table
that no longer matches was changed or cut short since, and is refused, not read."""
NUMBER_COLUMNS_BUT: dict[str, tuple[str, ...]] = {"rtt_returns": ("design", "month", "treatment_function", "part")}
"""Tables whose every column but these holds numbers: a cell that is not one is named."""
TEXT_COLUMNS: dict[str, type] = {"treatment_function": str}
"""Columns read back as text in any table: a treatment function's code such as "110" is not a number."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
"""What ``open`` would give a new file; ``mkstemp`` alone would leave results private (0600)."""


def run_folder(scenario: Scenario | str, out: Path | None, root: Path = Path("results")) -> Path:
    """``--out`` if given, else ``results/<scenario>-<UTC time to the microsecond>-<random>``.

    The random part keeps apart runs started in the same microsecond (on several machines
    sharing a folder); a name already taken is never reused.
    """
    if out is not None:
        return out
    name = scenario if isinstance(scenario, str) else scenario.name
    while True:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        folder = root / f"{name}-{stamp}-{secrets.token_hex(3)}"
        if not os.path.lexists(folder):
            return folder


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a whole file or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:  # named by the file to be written, not a temporary name
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(e.errno, e.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(path: Path, table: pd.DataFrame) -> None:
    """A table as CSV that any spreadsheet reads as plain numbers (see :func:`csv_text`)."""
    write_atomic(path, csv_text(table))


def csv_text(table: pd.DataFrame) -> str:
    """CSV with every number written in full and never in E-notation: floats as the shortest
    decimal that reads back as the same number, money (``_gbp`` columns, or rows whose
    ``metric`` is in pounds) to the penny."""
    return _pounds_to_pennies(table).to_csv(index=False, float_format=plain_number)


def write_xlsx(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Every table in one workbook, a sheet each, the data dictionary first; written whole or not at all.

    Numbers go in as numbers (money rounded to the penny, as in the CSVs), so a spreadsheet
    shows them plainly; a table too long for a sheet is refused by name.
    """
    order = sorted(tables, key=lambda n: (n != "data_dictionary", n))
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as book:
        for name in order:
            table = tables[name]
            if len(table) >= EXCEL_ROWS:
                raise ResultsError(path, f"{name} has {len(table):,} rows, more than a sheet holds ({EXCEL_ROWS - 1:,})")
            _pounds_to_pennies(table).to_excel(book, sheet_name=name[:31], index=False)
    write_atomic(path, buffer.getvalue())


EXCEL_ROWS = 1_048_576
"""Rows in an Excel sheet, the header included."""


def _pounds_to_pennies(table: pd.DataFrame) -> pd.DataFrame:
    """The table with amounts in pounds rounded to the penny (columns, or rows whose metric is in pounds)."""
    out = table.copy()
    floats = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
    for c in floats:
        if is_money(str(c)):
            out[c] = out[c].round(2)
    if "metric" in out.columns and floats:
        pounds = out["metric"].astype(str).map(is_money)
        if pounds.any():
            out.loc[pounds, floats] = out.loc[pounds, floats].round(2)
    return out


def is_money(name: str) -> bool:
    """Whether a column or metric is in pounds (its name says ``gbp``)."""
    return "gbp" in name


def plain_number(x: float) -> str:
    """A float as plain decimal digits, as few as read back exactly (``2.62792e+07`` → ``26279200``)."""
    return np.format_float_positional(x, trim="-")


def as_saved(scenario: Scenario) -> Scenario:
    """The scenario as its results folder keeps it: the backlog file by its copy's name."""
    b = scenario.backlog
    if b is None or not b.file:
        return scenario
    return scenario.model_copy(update={"backlog": b.model_copy(update={"file": BACKLOG_COPY})})


def save_inputs(folder: Path, scenario: Scenario) -> None:
    """Copy the run's input files into ``folder`` and write ``scenario.toml`` naming the copies.

    A resumed run's scenario already names the copy in the folder; it is left as it is.
    """
    b = scenario.backlog
    if b is not None and b.file:
        source, copy = Path(b.file), folder / BACKLOG_COPY
        # copied once, at the start: the original may be gone by the time the run finishes
        if source.resolve() != copy.resolve() and (source.exists() or not copy.exists()):
            write_atomic(copy, source.read_bytes())
    write_atomic(folder / SCENARIO_FILE, tomli_w.dumps(toml_ready(scenario_to_dict(as_saved(scenario)))))


def write_run(
    folder: Path,
    scenario: Scenario,
    tables: dict[str, pd.DataFrame],
    *,
    started: datetime,
    command: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    workers: list[str] | None = None,
    stage: Path | None = None,
) -> Path:
    """Write a finished run: its inputs and ``scenario.toml``, each table as CSV, then ``manifest.json``.

    ``workers`` are the engines the tasks ran on (``sim.model.ENGINE`` in each worker), kept
    in the manifest beside this process's own. With ``stage`` (a staging folder, moved into
    ``folder`` as one, :mod:`sim.runs.transaction`) the files are written there, the manifest
    listing those of both.
    """
    into = stage or folder
    save_inputs(into, scenario)
    written: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        data = csv_text(table).encode("utf-8")
        write_atomic(into / f"{name}.csv", data)
        written[f"{name}.csv"] = {"bytes": len(data), "rows": len(table), "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {
        "msksim_version": __version__,
        "model": {"parent": ENGINE, "workers": sorted(workers or [])},
        "scenario_name": scenario.name,
        "seed": scenario.run.seed,
        "replications": scenario.run.replications,
        "years": scenario.run.years,
        "seeds": "numpy SeedSequence(seed, spawn_key=(replication, purpose)); see sim/base/streams.py",
        "command": command if command is not None else sys.argv,
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "files": sorted(
            {f"{n}.csv" for n in tables} | {p.name for f in {folder, into} for p in f.iterdir() if not p.name.startswith(".")}
        ),
        "scenario": json.loads(as_saved(scenario).model_dump_json()),
        TABLES_KEY: written,
        **(extra or {}),
    }
    write_atomic(into / MANIFEST_FILE, json.dumps(manifest, indent=2))
    return folder


def toml_ready(value: Any) -> Any:
    """TOML has no null: drop keys whose value is None."""
    if isinstance(value, dict):
        return {k: toml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [toml_ready(v) for v in value]
    return value


# --------------------------------------------------------------------------- reading a folder


class ResultsError(Exception):
    """A results folder that cannot be read as a finished run: names the file and the problem."""

    def __init__(self, path: Path, problem: str):
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Run:
    """A finished run read back from its folder."""

    folder: Path
    scenario: Scenario
    """Validated, with its backlog (if any) read from the copy in the folder."""
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    """Every CSV the manifest lists but the backlog copy, by name without ``.csv``."""
    batch: dict[str, Any]
    """The batch settings (``batch.json``, else the manifest's ``batch``)."""

    @property
    def main(self) -> pd.DataFrame:
        """The result rows: ``replications``, or ``sweep`` for a sweep."""
        return next(self.tables[n] for n in MAIN_TABLES if n in self.tables)


def read_run(folder: Path) -> Run:
    """Read and check a results folder: manifest, scenario (with its backlog copy) and tables.

    Raises
    ------
    ResultsError
        Naming the file and the problem: a file missing, unreadable or not what it should be.
    """
    if not folder.is_dir():
        raise ResultsError(folder, "no such results folder")
    if not (folder / MANIFEST_FILE).exists():
        raise ResultsError(folder, f"no {MANIFEST_FILE}; not a finished results folder")
    manifest = _read_json(folder / MANIFEST_FILE)
    batch_path = folder / BATCH_FILE
    batch = _read_json(batch_path) if batch_path.exists() else manifest.get("batch", {})
    if not isinstance(batch, dict):
        raise ResultsError(folder / MANIFEST_FILE, "batch: expected the batch settings (an object)")
    wrong = wrong_setting(batch) if batch else None
    if wrong:
        raise ResultsError(batch_path if batch_path.exists() else folder / MANIFEST_FILE, f"{wrong}; not the settings of a batch")
    if isinstance(batch.get("metric"), str):
        batch = {**batch, "metric": current_name(batch["metric"])}
    return Run(folder, _read_scenario(folder), manifest, _read_tables(folder, manifest), batch)


def wrong_setting(settings: dict[str, Any]) -> str | None:
    """What is wrong with a batch's saved settings (None when nothing is, or when a key is absent)."""
    expected: dict[str, tuple[type, ...]] = {
        "kind": (str,), "designs": (list,), "uncertainty": (bool,), "precision": (int, float, type(None)),
        "metric": (str,), "grid": (dict,), "extra": (dict,),
    }  # fmt: skip
    for name, types in expected.items():
        if name in settings and (
            not isinstance(settings[name], types) or (name == "precision" and isinstance(settings[name], bool))
        ):
            return f"{name}: {settings[name]!r} is not {' or '.join(t.__name__ for t in types)}"
    if "designs" in settings and not (settings["designs"] and all(isinstance(d, str) for d in settings["designs"])):
        return "designs: expected a list of design names"
    if "grid" in settings and not all(isinstance(v, list) and v for v in settings["grid"].values()):
        return "grid: expected lists of values"
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_text(path))
    except FileProblem as e:
        raise ResultsError(path, e.problem) from None
    except json.JSONDecodeError as e:
        raise ResultsError(path, f"not valid JSON: {e.msg} at line {e.lineno}") from None
    if not isinstance(data, dict):
        raise ResultsError(path, "expected a JSON object")
    return data


def _read_scenario(folder: Path) -> Scenario:
    path = folder / SCENARIO_FILE
    if not path.exists():
        raise ResultsError(path, "missing: the scenario the run used")
    try:
        raw = tomllib.loads(read_text(path))
    except FileProblem as e:
        raise ResultsError(path, e.problem) from None
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        raise ResultsError(path, f"not valid TOML: {e}") from None
    backlog = raw.get("backlog")
    if isinstance(backlog, dict) and isinstance(backlog.get("file"), str) and not (folder / backlog["file"]).exists():
        raise ResultsError(folder / backlog["file"], f"missing: the backlog the run started from (backlog.file in {path})")
    try:
        return load_scenario(path)
    except ScenarioError as e:
        raise ResultsError(path, f"not a valid scenario: {e.key}: {e.problem}") from None


def _read_tables(folder: Path, manifest: dict[str, Any]) -> dict[str, pd.DataFrame]:
    files = manifest.get("files")
    if not isinstance(files, list):
        raise ResultsError(folder / MANIFEST_FILE, "files: expected the list of the folder's files")
    names = [f.removesuffix(".csv") for f in files if isinstance(f, str) and f.endswith(".csv") and f != BACKLOG_COPY]
    if not any(n in names for n in MAIN_TABLES):
        raise ResultsError(folder / MANIFEST_FILE, "files: lists neither replications.csv nor sweep.csv")
    recorded = manifest.get(TABLES_KEY)
    recorded = recorded if isinstance(recorded, dict) else {}  # folders written before it was recorded
    return {name: _read_table(folder / f"{name}.csv", name, recorded.get(f"{name}.csv")) for name in names}


def _read_table(path: Path, name: str, recorded: Any = None) -> pd.DataFrame:
    if not path.exists():
        raise ResultsError(path, f"missing (listed in {MANIFEST_FILE})")
    try:
        raw = read_bytes(path, MAX_DATA_BYTES)
        if raw.strip() and not raw.endswith(b"\n"):  # every table is written whole, ending its last line
            row = raw.count(b"\n")
            raise ResultsError(path, f"row {row} ends mid-line: the table was cut short since it was written")
        if not raw.strip():  # a table with no rows and no columns, as written
            _check_recorded(path, raw, recorded)
            return pd.DataFrame()
        table = pd.read_csv(io.BytesIO(raw), dtype=TEXT_COLUMNS)
    except FileProblem as e:
        raise ResultsError(path, e.problem) from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ResultsError(path, f"not a readable CSV table: {str(e).strip()}") from None
    table = table.rename(columns=current_name)
    if "metric" in table.columns:
        table["metric"] = table["metric"].map(lambda m: current_name(m) if isinstance(m, str) else m)
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in table.columns]
    if missing:
        raise ResultsError(path, f"not msksim's {name} table: no column {', '.join(missing)}")
    for column in WHOLE_NUMBER_COLUMNS if name in REQUIRED_COLUMNS and name not in YEAR_OR_ALL else ():
        if column in table.columns and len(table) and not pd.api.types.is_integer_dtype(table[column]):
            raise ResultsError(path, f"column {column}: expected whole numbers, got {table[column].iloc[0]!r} and the like")
    if name in NUMBER_COLUMNS_BUT:
        _check_numbers(path, table, NUMBER_COLUMNS_BUT[name])
    _check_recorded(path, raw, recorded)
    return table


def _check_numbers(path: Path, table: pd.DataFrame, text: tuple[str, ...]) -> None:
    """Refuse a cell that is not a number in a column of numbers, naming its row and column."""
    for column in table.columns:
        if column in text or pd.api.types.is_numeric_dtype(table[column]):
            continue
        bad = pd.to_numeric(table[column], errors="coerce").isna() & table[column].notna()
        if bad.any():
            at = int(bad.to_numpy().argmax())
            raise ResultsError(path, f"row {at + 1}, column {column}: {table[column].iloc[at]!r} is not a number")


def _check_recorded(path: Path, raw: bytes, recorded: Any) -> None:
    """Refuse a table that is not as the manifest records it was written."""
    if not isinstance(recorded, dict) or not isinstance(recorded.get("sha256"), str):
        return
    if hashlib.sha256(raw).hexdigest() != recorded["sha256"]:
        size = recorded.get("bytes")
        how = (
            f"{len(raw):,} bytes where {size:,} were written"
            if isinstance(size, int) and size != len(raw)
            else "its checksum differs"
        )
        raise ResultsError(
            path, f"does not match {MANIFEST_FILE}: {how} (changed or damaged since); run the batch again, or restore the table"
        )
