"""What a calibration writes: ``calibrated.toml`` (a scenario extending the one fitted, each
fitted value commented with what it was fitted to) and its tables."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.base.lazy import later
from sim.calibrate.area import Calibration
from sim.calibrate.fit import TOLERANCES, Evaluation, Knob, mean_statistics
from sim.calibrate.identify import UNTOLD
from sim.calibrate.stockflow import LONG_WAIT_WEEKS
from sim.calibrate.structures import WHY
from sim.rtt.returns import commissioner_rows, named_month_part, read_returns
from sim.runs.results import write_atomic, write_csv
from sim.scenario.schema import THEATRE, Scenario
from sim.scenario.values import key_parts, parse_override, scenario_to_dict, toml_key, toml_value, value_at

pd = later("pandas")

FILES = ("calibrated.toml", "fit.csv", "stock_and_flow.csv", "unknowns.csv", "backtest.csv", "structures.csv")


def calibrated_toml(
    cal: Calibration,
    scenario_path: Path,
    folder: Path,
    backlog: Path | None,
    sets: list[str] | None = None,
    command: str = "msksim calibrate",
) -> str:
    """The calibrated scenario: ``extends`` the one given and sets what was fitted, and the
    values set on the command line (``sets``), which the fit simulated too; ``backlog``, the
    return that can start a run instead of a warm-up, is named in a commented block."""
    st = cal.setup
    s = st.scenario
    choice = cal.choice if cal.choice is not None and len(cal.choice.kept) > 1 else None
    if choice is None:
        tables = _rows(cal, cal.scenario_values, cal.best.values, st.knobs)
    else:
        fits = choice.kept
        common = {k: v for k, v in fits[0].scenario_values.items() if all(f.scenario_values.get(k) == v for f in fits[1:])}
        tables = _rows(cal, common, fits[0].best.values, fits[0].knobs)
        d = f"designs.{st.design}"
        tables.setdefault(d, []).append(f'structure = "{fits[0].name}"  # preferred: {choice.why}')
        for f in fits:
            table = f"{d}.structures.{f.name}"
            tables.setdefault(table, []).extend([
                f"why = {toml_value(WHY[f.name])}",
                f"fitted_to = {toml_value(_fitted_to(cal))}  # loss {f.loss:.3g}; {f.describe()}",
            ])  # fmt: skip
            own = {k: v for k, v in f.scenario_values.items() if k not in common}
            for key, rows in _rows(cal, own, f.best.values, f.knobs, f.notes).items():
                tables.setdefault(key.replace(f"{d}.stage_overrides.", f"{table}.stage_overrides.", 1), []).extend(rows)
    for table, rows in _set_rows(s, sets or [], set(cal.scenario_values)).items():
        tables.setdefault(table, []).extend(rows)
    funcs = ", ".join(st.functions)
    months = f"{st.fit_months[0]} to {st.fit_months[-1]}" if len(st.fit_months) > 1 else st.fit_months[0]
    tol = (
        f"counts {TOLERANCES['per_month']:.0%}, within 18 weeks {TOLERANCES['within_18w_pct']:g} points, "
        f"median {TOLERANCES['median_weeks']:g} weeks"
    )
    lines = [
        f"# {s.name}, design '{st.design}', calibrated to commissioner {st.commissioner}'s published RTT returns",
        f"# for {months} (treatment functions {funcs}) by `{command}` on {datetime.now(UTC):%Y-%m-%d}.",
        "# Every value below was fitted, but those marked as set when fitted (--set); everything else",
        "# comes from the scenario this extends.",
        f"# Loss {cal.best.loss:.3g}, from {cal.start.loss:.3g} before the fit (1 = every target at its",
        f"# tolerance: {tol}); {cal.evaluations} candidates of {cal.replications} replications, seed {s.run.seed}.",
        f'extends = "{Path(os.path.relpath(scenario_path.resolve(), folder.resolve())).as_posix()}"',
        f'name = "{s.name}_calibrated"',
        *tables.pop("", []),
    ]
    if backlog is not None:
        rel = Path(os.path.relpath(backlog.resolve(), folder.resolve())).as_posix()
        lines += [
            "",
            f"# To start from the published list of {st.fit_months[-1]} rather than from a warm-up, add",
            "# these (and run.start_date, the first day of the month after); the file holds",
            f"# {st.commissioner}'s rows of that month's return:",
            "# [run]",
            "# warmup_days = 0",
            "# [backlog]",
            f'# file = "{rel}"',
            f'# commissioner = "{st.commissioner}"',
            f'# month = "{st.fit_months[-1]}"',
        ]
    for table, rows in tables.items():
        lines += ["", f"[{table}]", *rows]
    return "\n".join(lines) + "\n"


def _rows(
    cal: Calibration, values: dict[str, Any], fitted: dict[str, float], knobs: list[Knob], notes: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """Fitted scenario values as TOML rows by table, each commented with what it was fitted to
    (``fitted``: the knobs' values they come from; ``notes``: why a value set, not fitted, is so)."""
    notes = notes or {}
    st = cal.setup
    s = st.scenario
    why = {k.key: k.why for k in [*st.knobs, *knobs]}  # a structure's own knobs say why it differs
    tables: dict[str, list[str]] = {}
    for key, value in values.items():
        table, leaf = key.rsplit(".", 1)
        if key in why:
            note = f"fitted to {why[key]}; was {toml_value(current_value(s, st.design, key))}{untold(cal, key)}"
        elif key.endswith(".staff"):
            knob = st.derived[key]
            _, nominal = st.staffed[table.rsplit(".", 1)[1]]
            slots = fitted[knob]
            note = (f"WTE x{slots / nominal:.4g}, giving {slots:,.4g} slots a week (was {nominal:,.4g}), fitted to {why[knob]}"
                    f"{untold(cal, knob)}")  # fmt: skip
        elif key.endswith("stale_removal_rate_per_week"):
            note = f"the returns' removal rate of those waiting {LONG_WAIT_WEEKS} weeks or more, where stale pathways gather"
        elif key in notes:
            note = notes[key]
        elif key.endswith("removal_rate_per_week"):
            knob = st.derived[key]
            note = f"fitted to {why[knob]} (x{fitted[knob]:.3g} the returns' removals)"
        else:
            knob = st.derived[key]
            note = f"from a median delay of {fitted[knob]:.4g} days fitted to {why[knob]}, less ln 2 x the spread"
        tables.setdefault(table, []).append(f"{leaf} = {toml_value(value)}  # {note}")
    return tables


def _fitted_to(cal: Calibration) -> str:
    st = cal.setup
    months = f"{st.fit_months[0]} to {st.fit_months[-1]}" if len(st.fit_months) > 1 else st.fit_months[0]
    return f"{st.commissioner} {', '.join(st.functions)}, {months}"


def _set_rows(s: Scenario, sets: list[str], fitted: set[str]) -> dict[str, list[str]]:
    """The values set with ``--set`` when fitting, as simulated, by table; an item of a list
    (``staff.0.wte``) is written as its whole list. A fitted value wins over one set."""
    data = scenario_to_dict(s)
    out: dict[str, list[str]] = {}
    for item in sets:
        key, _ = parse_override(item)
        parts = key_parts(key) or key.split(".")
        parts = parts[: next((i for i, p in enumerate(parts) if p.isdigit()), len(parts))]
        path = ".".join(parts)
        if path in fitted or not parts:
            continue
        table = ".".join(toml_key(p) for p in parts[:-1])
        out.setdefault(table, []).append(f"{toml_key(parts[-1])} = {toml_value(value_at(data, path))}  # set when fitted")
    return out


def untold(cal: Calibration, key: str) -> str:
    """A note for a capacity the returns do not tell (empty where they do, or it was not checked)."""
    ident = cal.identified.get(key)
    if ident is None or ident.told:
        return ""
    if cal.choice is not None and len(cal.choice.kept) > 1:
        return f"; not told by the returns ({UNTOLD}): one of the structures they allow"
    return f"; NOT TOLD by the returns: {UNTOLD}, so set it from demand (msksim validate shows the load)"


def current_value(s: Scenario, design: str, key: str) -> Any:
    """The value a fitted key had in the scenario (through the design's overrides)."""
    parts = key.split(".")
    if parts[:3] == ["designs", design, "stage_overrides"]:
        place, field = parts[3], parts[4]
        cfg = s.design_surgery(design) if place == THEATRE else s.design_stages(design)[place]
        return getattr(cfg, field)
    return value_at(scenario_to_dict(s), key)


def _incomplete_file(rtt: list[Path], commissioner: str, month: str) -> Path | None:
    """The return among ``rtt`` that holds the commissioner's incomplete pathways of ``month``:
    a commissioner-based return by its name, else a full extract (any name) by its rows."""
    named = {p: named_month_part(p) for p in rtt}
    for p, month_part in named.items():
        if month_part == (month, "incomplete"):
            return p
    for p in (p for p, month_part in named.items() if month_part is None):
        table = read_returns(p, commissioner)
        if ((table["month"] == month) & (table["part"] == "incomplete")).any():
            return p
    return None


def write_backlog(rtt: list[Path], commissioner: str, month: str, folder: Path, into: Path | None = None) -> Path | None:
    """The starting backlog in ``folder``: the commissioner's rows of the return holding
    ``month``'s incomplete pathways, so the results carry their own (the return itself, left
    as it is, where ``folder`` is where it is); None where no return given holds them.
    Written in ``into`` (a staging folder) when given, named by where it will be."""
    source = _incomplete_file(rtt, commissioner, month)
    if source is None:
        return None
    target = folder / source.name
    if target.resolve() == source.resolve():
        return source
    write_atomic((into or folder) / source.name, commissioner_rows(source, commissioner))
    return target


def tables(cal: Calibration) -> dict[str, pd.DataFrame]:
    """The fit month by month, the arithmetic, the unknowns and the back-test."""
    st = cal.setup
    keys = ["month", "treatment_function", "part"]

    def beside(e: Evaluation) -> pd.DataFrame:
        out = st.statistics.merge(mean_statistics(e.statistics), on=keys, how="left", suffixes=("_published", "_simulated"))
        out.insert(0, "used", out["month"].map(lambda m: "fit" if m in st.fit_months else "held out"))
        return out

    fit = beside(cal.best)
    if cal.choice is not None:  # each structure's fit, the kept first
        fit = pd.concat([beside(f.best).assign(structure=f.name) for f in cal.choice.fitted()], ignore_index=True)
    flows = pd.DataFrame([{"treatment_function": f, **flow.__dict__} for f, a in st.arithmetic.items() for flow in a.flows])
    rows = []
    for k in st.knobs:
        ident = cal.identified.get(k.key)
        moves = {"target_move_down": ident.down, "target_move_up": ident.up, "told_by_returns": ident.told} if ident else {}
        rows.append({"key": k.key, "start": k.start, "fitted": cal.best.values[k.key], "fitted_to": k.why, **moves})
    columns = ["key", "start", "fitted", "fitted_to", "target_move_down", "target_move_up", "told_by_returns"]
    unknowns = pd.DataFrame(rows, columns=columns)
    out = {"fit": fit, "stock_and_flow": flows, "unknowns": unknowns, "backtest": cal.backtest}
    if cal.choice is not None:
        out["structures"] = structures_table(cal)
        for f in cal.choice.fitted():
            unknowns[f"fitted_{f.name}"] = unknowns["key"].map(f.best.values)
    return out


def structures_table(cal: Calibration) -> pd.DataFrame:
    """``structures.csv``: each structure fitted, whether kept (the preferred first) and why."""
    assert cal.choice is not None
    choice = cal.choice
    rows = []
    for i, f in enumerate(choice.kept):
        rows.append({"structure": f.name, "kept": True, "preferred": i == 0, "loss": f.loss,
                     "wait_targets_met": len(f.waits_met), "implies": f.describe(), "why": WHY[f.name],
                     "reason": choice.why})  # fmt: skip
    for f, reason in choice.dropped:
        rows.append({"structure": f.name, "kept": False, "preferred": False, "loss": f.loss,
                     "wait_targets_met": len(f.waits_met), "implies": f.describe(), "why": WHY[f.name],
                     "reason": reason})  # fmt: skip
    return pd.DataFrame(rows)


def write(
    cal: Calibration, folder: Path, scenario_path: Path, rtt: list[Path], sets: list[str] | None = None, stage: Path | None = None
) -> list[Path]:
    """Everything, each file whole or not at all; the scenario last (with the ``--set`` values).

    With ``stage`` the files are written there (a staging folder beside ``folder``, moved in
    as one), the paths they name and those returned being where they will be, in ``folder``."""
    into = stage or folder
    written = []
    for name, table in tables(cal).items():
        if table.empty:
            continue
        write_csv(into / f"{name}.csv", table)
        written.append(folder / f"{name}.csv")
    st = cal.setup
    backlog = write_backlog(rtt, st.commissioner, st.fit_months[-1], folder, into)
    if backlog is not None and backlog.resolve() not in {p.resolve() for p in rtt}:  # not a return given, left as it is
        written.append(backlog)
    write_atomic(into / "calibrated.toml", calibrated_toml(cal, scenario_path, folder, backlog, sets))
    written.append(folder / "calibrated.toml")
    return written
