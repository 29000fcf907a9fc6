"""Result folders: one per run, holding its resolved scenario, tables and manifest.

Every file is written to a temporary name in the same folder and moved into place, so a
reader never sees half a file; ``manifest.json`` is written last and marks a complete run.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from sim import __version__
from sim.model import ENGINE
from sim.scenario import Scenario, scenario_to_dict


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
"""What ``open`` would give a new file; ``mkstemp`` alone would leave results private (0600)."""


def run_folder(scenario: Scenario, out: Path | None, root: Path = Path("results")) -> Path:
    """``--out`` if given, else ``results/<scenario>-<UTC timestamp>``."""
    if out is not None:
        return out
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / f"{scenario.name}-{stamp}"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a whole file or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(path: Path, table: pd.DataFrame) -> None:
    write_atomic(path, table.to_csv(index=False, float_format="%.6g"))


def write_run(
    folder: Path,
    scenario: Scenario,
    tables: dict[str, pd.DataFrame],
    *,
    started: datetime,
    command: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a finished run: ``scenario.toml``, each table as CSV, then ``manifest.json``."""
    resolved = scenario_to_dict(scenario)
    write_atomic(folder / "scenario.toml", tomli_w.dumps(toml_ready(resolved)))
    for name, table in tables.items():
        write_csv(folder / f"{name}.csv", table)
    manifest = {
        "msksim_version": __version__,
        "model": ENGINE,
        "scenario_name": scenario.name,
        "seed": scenario.run.seed,
        "replications": scenario.run.replications,
        "years": scenario.run.years,
        "seeds": "numpy SeedSequence(seed, spawn_key=(replication, purpose)); see sim/streams.py",
        "command": command if command is not None else sys.argv,
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "files": sorted({f"{n}.csv" for n in tables} | {p.name for p in folder.iterdir() if not p.name.startswith(".")}),
        "scenario": json.loads(scenario.model_dump_json()),
        **(extra or {}),
    }
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2))
    return folder


def toml_ready(value: Any) -> Any:
    """TOML has no null: drop keys whose value is None."""
    if isinstance(value, dict):
        return {k: toml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [toml_ready(v) for v in value]
    return value
