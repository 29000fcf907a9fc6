"""Starting from today's waiting list: patients already waiting when the run begins.

A backlog is a CSV file (one row per patient) or an aggregate in the scenario (counts by
stage and weeks-waited band, from which patients are generated). Either way it is read and
checked once, with errors naming the row and column, before anything runs.

A backlog file may also be a published RTT return (:mod:`sim.rtt.returns`, either format):
the incomplete pathways of one commissioner and month, by treatment function and week band,
become patients on the lists of the services that report under each function, their clocks
already running; a share (or, where the return counts them, those with a decision to admit)
wait on the surgical list instead.

CSV columns: ``stage`` and ``condition`` (required); ``weeks_waited`` or ``clock_start``
(an ISO date; one of them); ``priority`` (``routine`` or ``urgent``, default routine);
``design`` (blank: every design; a design without that stage puts the patient where its own
referrals go, with the same time waited); ``need`` (the latent need if known;
otherwise drawn from what the condition's mix and the routing to that stage imply).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from sim.base.files import MAX_DATA_BYTES, FileProblem, read_text
from sim.base.streams import patient_keys
from sim.rtt.bands import N_BANDS
from sim.rtt.return_file import ReturnsError
from sim.rtt.returns import read_returns, returns_for
from sim.scenario.schema import NEEDS, THEATRE, Scenario, ScenarioError
from sim.scenario.stages import OTHER_FUNCTION

REQUIRED = ("stage", "condition")
KNOWN = {"stage", "condition", "weeks_waited", "clock_start", "priority", "design", "need"}
MAX_WAIT_WEEKS = 5200
"""The longest wait a backlog may give: 100 years (a wait over 10 years is warned of)."""
PLAUSIBLE_WAIT_WEEKS = 520
BAND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")


def read_backlog_csv(path: Path, start: date, stages: set[str], conditions: set[str], designs: set[str]) -> list[dict[str, Any]]:
    """Read and check a backlog file; every problem names the row (1 = first data row) and column."""
    src = str(path)
    try:
        text = read_text(path, MAX_DATA_BYTES)
    except FileProblem as e:
        raise ScenarioError(src, "", f"cannot read the backlog: {e.problem}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    out = []
    n = 0
    try:
        _check_header(src, [h.strip() for h in reader.fieldnames or []])
        for n, raw in enumerate(reader, start=1):
            if None in raw:
                extra = f"{len(raw[None])} more field(s) than the header's {len(reader.fieldnames or [])}"
                raise ScenarioError(src, f"row {n}", extra)
            row = {k.strip(): (v or "").strip() for k, v in raw.items()}
            out.append(_check_row(src, n, row, start, stages, conditions, designs))
    except csv.Error as e:
        raise ScenarioError(src, f"row {n + 1}", f"not readable as CSV: {e}") from None
    return out


def _check_header(src: str, header: list[str]) -> None:
    for col in REQUIRED:
        if col not in header:
            raise ScenarioError(src, f"column {col}", "required column is missing")
    if "weeks_waited" not in header and "clock_start" not in header:
        raise ScenarioError(src, "column weeks_waited", "give weeks_waited or clock_start")
    unknown = [h for h in header if h not in KNOWN]
    if unknown:
        raise ScenarioError(src, f"column {unknown[0]}", f"unknown column; known: {', '.join(sorted(KNOWN))}")


def _check_row(src: str, n: int, row: dict[str, str], start: date, stages, conditions, designs) -> dict[str, Any]:
    def bad(col: str, problem: str) -> ScenarioError:
        return ScenarioError(src, f"row {n}, column {col}", problem)

    stage = row.get("stage", "")
    if stage not in stages:
        raise bad("stage", f"'{stage}' is not a stage; known: {', '.join(sorted(stages))}")
    condition = row.get("condition", "")
    if condition not in conditions:
        raise bad("condition", f"'{condition}' is not a condition group; known: {', '.join(sorted(conditions))}")
    weeks = _weeks_waited(row, start, bad)
    priority = row.get("priority", "") or "routine"
    if priority not in ("routine", "urgent"):
        raise bad("priority", f"'{priority}' must be routine or urgent")
    design = row.get("design", "")
    if design and design not in designs:
        raise bad("design", f"'{design}' is not a design; known: {', '.join(sorted(designs))}")
    need = row.get("need", "")
    if need and need not in NEEDS:
        raise bad("need", f"'{need}' is not a latent need; known: {', '.join(NEEDS)}")
    urgent = priority == "urgent"
    return {"stage": stage, "condition": condition, "weeks": weeks, "urgent": urgent, "design": design, "need": need}


def _weeks_waited(row: dict[str, str], start: date, bad: Callable[[str, str], ScenarioError]) -> float:
    """Weeks waited when the run starts, given directly or by the date the clock started."""
    weeks_text, clock_text = row.get("weeks_waited", ""), row.get("clock_start", "")
    if weeks_text and clock_text:
        raise bad("weeks_waited", "give weeks_waited or clock_start, not both")
    if weeks_text:
        try:
            weeks = float(weeks_text)
        except ValueError:
            raise bad("weeks_waited", f"'{weeks_text}' is not a number") from None
        if not np.isfinite(weeks) or weeks < 0:
            raise bad("weeks_waited", f"must be a number of weeks, 0 or more (got {weeks_text})")
        if weeks > MAX_WAIT_WEEKS:
            raise bad("weeks_waited", f"{weeks_text} weeks is more than 100 years ({MAX_WAIT_WEEKS:,} weeks)")
        return weeks
    if clock_text:
        try:
            started = date.fromisoformat(clock_text)
        except ValueError:
            raise bad("clock_start", f"'{clock_text}' is not a date (YYYY-MM-DD)") from None
        if started > start:
            raise bad("clock_start", f"{started} is after the run starts ({start})")
        weeks = (start - started).days / 7
        if weeks > MAX_WAIT_WEEKS:
            raise bad("clock_start", f"{started} is more than 100 years before the run starts ({start})")
        return weeks
    raise bad("weeks_waited", "no wait given (weeks_waited or clock_start)")


def read_return_backlog(path: Path, s: Scenario) -> list[dict[str, Any]]:
    """The incomplete pathways of ``backlog.commissioner`` in ``backlog.month`` from an RTT
    return, for each treatment function taken: one entry per function with its service, the
    counts by week band, those with a decision to admit (when the return has them) and the
    first week of the return's open band."""
    b, src = s.backlog, str(path)
    if not b.commissioner:
        raise ScenarioError(src, "backlog.commissioner", "required when the backlog is an RTT return (e.g. --commissioner 06F)")
    try:
        table = read_returns([path], b.commissioner)
    except ReturnsError as e:
        raise ScenarioError(src, "backlog.file", str(e)) from None
    months = sorted(set(table["month"]))
    if not months:
        raise ScenarioError(src, "backlog.commissioner", f"no rows for commissioner {b.commissioner} in the return")
    month = b.month or (months[0] if len(months) == 1 else None)
    if month not in months:
        listed = ", ".join(months)
        problem = f"'{b.month}' is not in the return; it has {listed}" if b.month else f"give one of {listed}"
        raise ScenarioError(src, "backlog.month", problem)
    services = _services_by_function(s)
    functions = b.treatment_functions or sorted(f for f in services if f != OTHER_FUNCTION)
    out = []
    for f in functions:
        if f not in services:
            raise ScenarioError(src, "backlog.treatment_functions", f"no consultant-led service reports under '{f}'")
        try:
            counts, open_from = returns_for(table, b.commissioner, month, f, "incomplete")
        except KeyError as e:
            raise ScenarioError(src, "backlog.treatment_functions", str(e).strip("'\"")) from None
        try:
            dta: list[int] | None = returns_for(table, b.commissioner, month, f, "incomplete_dta")[0].tolist()
        except KeyError:
            dta = None
        surgical = s.stages[services[f]].surgical  # a function whose service lists nobody has no surgical list
        out.append(
            {
                "function": f, "stage": services[f], "incomplete": counts.tolist(), "dta": dta,
                "open_from": open_from, "surgical": surgical,
            }
        )  # fmt: skip
    return out


def _services_by_function(s: Scenario) -> dict[str, str]:
    """The service that holds each treatment function's list: its first clinic, else its first service."""
    out: dict[str, str] = {}
    for kind in ("clinic", "therapy", "triage"):
        for name, st in s.stages.items():
            if st.kind == kind and st.rtt_function is not None:
                out.setdefault(st.rtt_function, name)
    return out


def from_return(pathways: list[dict[str, Any]], share: float, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Patients from a return's incomplete pathways: each band's count waits a whole number of
    days inside the band (more than ``k``, at most ``k + 1`` weeks); the open band's count
    waits up to half a year longer (assumed: the return does not say). On the surgical list
    (for a function whose service lists for surgery): those the return counts with a
    decision to admit, otherwise each with ``share``."""
    out = []
    for entry in pathways:
        counts, dta, open_from = entry["incomplete"], entry["dta"], entry["open_from"]
        for k in range(N_BANDS):
            n = int(counts[k])
            if not n:
                continue
            width = 26 if k == open_from else 1
            days = 7 * k + rng.integers(1, 7 * width + 1, n)
            if not entry["surgical"]:
                listed = np.zeros(n, dtype=bool)
            elif dta is not None:
                listed = np.arange(n) < int(dta[k])
            else:
                listed = rng.random(n) < share
            out += [
                {
                    "stage": THEATRE if surgical else entry["stage"], "condition": "", "weeks": float(d) / 7,
                    "urgent": False, "design": "", "need": "", "function": entry["function"],
                }
                for d, surgical in zip(days.tolist(), listed.tolist(), strict=True)
            ]  # fmt: skip
    return out


def parse_band(text: str) -> tuple[float, float]:
    """'18-52' → (18, 52) weeks."""
    m = BAND.match(text)
    if not m or float(m.group(1)) >= float(m.group(2)):
        raise ValueError(f"'{text}' is not a weeks-waited band such as '18-52'")
    if float(m.group(2)) > MAX_WAIT_WEEKS:
        raise ValueError(f"'{text}' reaches past {MAX_WAIT_WEEKS:,} weeks (100 years): no one has waited so long")
    return float(m.group(1)), float(m.group(2))


def generate(
    counts: dict[str, dict[str, int]], rng: np.random.Generator, stage_conditions: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    """Patients from an aggregate backlog: waits uniform within each band, conditions in
    proportion to how often each reaches the stage."""
    out = []
    for stage in sorted(counts):
        weights = stage_conditions[stage]
        names = sorted(weights)
        p = np.array([weights[c] for c in names], dtype=float)
        p = p / p.sum() if p.sum() > 0 else np.full(len(names), 1 / len(names))
        for band in sorted(counts[stage]):
            lo, hi = parse_band(band)
            n = counts[stage][band]
            weeks = rng.uniform(lo, hi, n)
            conds = rng.choice(len(names), size=n, p=p)
            out += [
                {"stage": stage, "condition": names[c], "weeks": float(w), "urgent": False, "design": "", "need": ""}
                for w, c in zip(weeks, conds, strict=True)
            ]
    return out


# --------------------------------------------------------------------------- seeding a run


def seed_backlog(model: Any) -> None:
    """Put the patients already waiting on a model's lists, their clocks already running.

    ``model`` is a :class:`sim.model.pathway.Pathway` before it runs. A patient's latent
    need, when not given, is drawn from their condition's need mix weighted by how likely
    each need is to have been sent to that stage (Bayes). A patient waiting at a service
    this design does not have (the fragmented design has no triage) waits, with the same
    time waited, where this design's referrals go: its single point of access, or the
    service the GP would choose for their need.
    """
    b = model.scenario.backlog
    rng = model.streams.rng["backlog"]
    conds = model.scenario.demand.conditions
    names = list(conds)
    here = {*model.stages, THEATRE}

    def weight(need: str, stage: str) -> float:
        if stage not in here:
            return 1.0  # no routing to learn from
        if stage == THEATRE:
            return 1.0 if need == "surgical" else 0.0
        return model.entry.routing_weight(need, stage)

    def posterior(condition: str, stage: str) -> np.ndarray:
        prior = np.array([conds[condition].need.get(n, 0.0) for n in NEEDS])
        w = prior * np.array([weight(n, stage) for n in NEEDS])
        return w / w.sum() if w.sum() > 0 else prior

    def reached(c: str, st: str) -> float:
        mix = [conds[c].need.get(n, 0.0) for n in NEEDS]
        return conds[c].share * float(np.dot(mix, [weight(n, st) for n in NEEDS]))

    published = from_return(b.pathways, b.decision_to_admit_share, rng)
    wanted = {*b.stages, *(r["stage"] for r in published)}
    reach = {st: {c: reached(c, st) for c in names} for st in wanted}
    rows = list(b.patients) + generate(dict(b.stages), rng, reach) + published
    # Every row's numbers are drawn, whichever design it is for, so each design's patients
    # get the same numbers: the need (when not given) by inverse CDF, the first routing
    # draws and the patient's key.
    u = rng.random((len(rows), 5)).tolist()
    keys = patient_keys(rng, len(rows))
    for row, (u_condition, u_need, *first), key in zip(rows, u, keys, strict=True):
        if row["design"] and row["design"] != model.design_name:
            continue
        condition = row["condition"] or _condition(reach[row["stage"]], names, u_condition)
        need = row["need"] or NEEDS[_pick(posterior(condition, row["stage"]), u_need)]
        listed = -round(row["weeks"] * 7)
        model.admit_waiting(
            row["stage"], names.index(condition), need, row["urgent"], listed, key, first, row.get("function", "")
        )
    model.sort_waiting()


def _condition(weights: dict[str, float], names: list[str], u: float) -> str:
    """A condition group in proportion to how often each reaches the place."""
    w = np.array([weights[c] for c in names], dtype=float)
    return names[_pick(w / w.sum() if w.sum() > 0 else np.full(len(names), 1 / len(names)), u)]


def _pick(weights: np.ndarray, u: float) -> int:
    """The index that ``u`` falls in, by inverse CDF over ``weights`` (which sum to 1)."""
    return min(int(np.searchsorted(np.cumsum(weights), u, side="right")), len(weights) - 1)
