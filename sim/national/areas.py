"""The areas of a national batch: the commissioners in the returns, and each one's population.

A population comes from the file given (``--population``, a CSV of code and population) or,
where it names none, is estimated from the returns: the area's share of England's
all-specialty clock stops (completed pathways, admitted and not, over the months given) times
England's population at the middle of those months. An estimate says so in every output;
``--fit-referrals`` lets the fit correct the referral volume it gives.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sim.base.files import FileProblem, read_bytes
from sim.base.lazy import later

pd = later("pandas")

ALL_SPECIALTIES = "999"

NATIONAL_COMMISSIONERS = {
    "X24": "NHS England's direct commissioning (2014/15)",
    "YDD82": "the National Commissioning Group (2009/10)",
}
"""Commissioners in the returns that are not areas: they commission for patients all over
England, so they have no population; their clock stops are left out of England's too."""

ENGLAND_POPULATION = {2009: 51_809_741, 2010: 52_234_045, 2014: 54_316_618, 2015: 54_786_327}
"""England's resident population at 30 June of each year: Office for National Statistics,
mid-year population estimates (MYE2, "Population estimates for the UK, England and Wales,
Scotland and Northern Ireland"). The years of the returns in ``data/rtt``; another year needs
a ``--population`` file, or its estimate added here with its source."""

POPULATION_FILE = "population file"
ESTIMATED = "estimated from the returns"


class AreaError(ValueError):
    """An area, a population file or a month that a national batch cannot use, saying why."""


@dataclass(frozen=True)
class Area:
    """One commissioner: its code, name, the population used and where that came from."""

    code: str
    name: str
    population: int
    source: str
    """:data:`POPULATION_FILE`, or :data:`ESTIMATED` with how."""


def clock_stops(table: pd.DataFrame) -> pd.Series:
    """Each commissioner's all-specialty completed pathways (known and unknown clock starts) over
    the months of ``table`` (a frame of :func:`sim.rtt.returns.read_returns`)."""
    done = table[(table["treatment_function"] == ALL_SPECIALTIES) & table["part"].isin(["admitted", "nonadmitted"])]
    counts = done["total"].fillna(0) + done["unknown_start"].fillna(0)
    return counts.groupby(done["commissioner"]).sum()


def england_population(months: list[str]) -> tuple[float, str]:
    """England's population at the middle of ``months`` (YYYY-MM), between the mid-year estimates
    either side, and how it was found.

    Raises
    ------
    AreaError
        When no estimate is held for a year either side.
    """
    first, last = months[0], months[-1]
    middle = (_index(first) + _index(last)) / 2 + 0.5  # in months from January of year 0, mid-month
    before = int((middle - 6) // 12)  # a mid-year estimate stands at month 6 of its year (30 June)
    after = before + 1
    if before not in ENGLAND_POPULATION or after not in ENGLAND_POPULATION:
        held = ", ".join(str(y) for y in ENGLAND_POPULATION)
        raise AreaError(
            f"England's population in {first} to {last}: no mid-year estimate held for {before} and {after} "
            f"(held: {held}); give the areas' populations with --population FILE"
        )
    share = (middle - (before * 12 + 6)) / 12
    value = ENGLAND_POPULATION[before] + share * (ENGLAND_POPULATION[after] - ENGLAND_POPULATION[before])
    return value, f"ONS mid-{before} and mid-{after} estimates for England, {share:.0%} of the way"


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def estimated(stops: pd.Series, code: str, months: list[str]) -> tuple[int, str]:
    """The population of area ``code`` from its share of England's clock stops (``stops``, as
    :func:`clock_stops` gives them for every commissioner), and how it was found.

    Raises
    ------
    AreaError
        When the area has no all-specialty clock stops in the returns.
    """
    areas = stops.drop([c for c in NATIONAL_COMMISSIONERS if c in stops.index])
    mine = float(areas.get(code, 0.0))
    if not mine > 0:
        raise AreaError(f"{code}: no all-specialty ({ALL_SPECIALTIES}) clock stops in the returns to estimate its "
                        "population from; give it in a --population file")  # fmt: skip
    england, how = england_population(months)
    share = mine / float(areas.sum())
    return round(share * england), (
        f"{ESTIMATED}: {share:.4%} of England's all-specialty clock stops, {months[0]} to {months[-1]} "
        f"({len(areas)} commissioners), x England's {england:,.0f} ({how})"
    )


def read_population_file(path: Path) -> dict[str, int]:
    """Codes and populations from a CSV with columns ``code`` and ``population``.

    Raises
    ------
    AreaError
        Naming the file, the row and the problem.
    """
    try:
        text = read_bytes(path, 10_000_000).decode("utf-8-sig")
    except FileProblem as e:
        raise AreaError(f"{path}: cannot be read: {e.problem}") from None
    except UnicodeDecodeError:
        raise AreaError(f"{path}: is not UTF-8 text") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or not {"code", "population"} <= set(rows[0]):
        raise AreaError(f"{path}: needs a header with columns 'code' and 'population'")
    out: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        code = (row["code"] or "").strip().upper()
        text = (row["population"] or "").strip().replace(",", "").replace("_", "")
        if not code:
            raise AreaError(f"{path}: line {number}: 'code' is empty")
        if not text.isdigit() or not 1 <= int(text) <= 100_000_000:
            raise AreaError(f"{path}: line {number}, {code}: population {row['population']!r} is not a whole number "
                            "from 1 to 100,000,000")  # fmt: skip
        if code in out:
            raise AreaError(f"{path}: line {number}: {code} is given twice")
        out[code] = int(text)
    return out


def chosen(known: dict[str, str], asked: str) -> list[str]:
    """The codes ``--areas`` names (``all``: every commissioner but the national ones), in order.

    Raises
    ------
    AreaError
        For a code not in the returns, with the nearest.
    """
    if asked.strip().lower() == "all":
        return [c for c in known if c not in NATIONAL_COMMISSIONERS]
    out: list[str] = []
    for code in (c.strip().upper() for c in asked.split(",")):
        if not code:
            continue
        if code not in known:
            close = [c for c in known if c[:2] == code[:2]][:5]
            hint = f"; similar: {', '.join(close)}" if close else ""
            raise AreaError(f"--areas: {code} is not a commissioner in the returns given ({len(known)} are){hint}")
        if code in NATIONAL_COMMISSIONERS:
            raise AreaError(f"--areas: {code} is {NATIONAL_COMMISSIONERS[code]}, not an area")
        if code not in out:
            out.append(code)
    if not out:
        raise AreaError("--areas: no code given; give codes such as 06F,00Y or 'all'")
    return out
