"""Published RTT returns: reading them (sim.rtt.returns) and the NHS's statistics from week bands (sim.rtt.bands).

The data are the repository's own: the bundled areas' commissioner returns in ``data/rtt``
and an invented full CSV extract in ``tests/data/rtt``.
"""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rtt.bands import BAND_LABELS, N_BANDS, OPEN_BAND, band_counts, band_of, percentile, within_pct
from sim.rtt.return_file import COLUMNS, PARTS, ReturnsError
from sim.rtt.returns import commissioner_rows, read_returns, returns_for

HERE = Path(__file__).resolve().parents[1]
DATA = HERE.parent / "data" / "rtt"
FILES = sorted(DATA.glob("rtt-commissioner-*.csv"))
EXTRACT = HERE / "data" / "rtt" / "20240331-RTT-March-2024-full-extract.csv"
CCG_ADMITTED = DATA / "rtt-commissioner-ccg-2015-01-admitted.csv"
PCT_INCOMPLETE = DATA / "rtt-commissioner-pct-2010-01-incomplete.csv"
TF = "Treatment Function Code"
LETTER_PART = {"I": "incomplete", "A": "admitted", "N": "nonadmitted"}


AREAS = ("5P2", "5J5", "06F", "00Y", "12F", "03R")
"""The bundled areas and two others whose rows are checked one by one (every commissioner's are read)."""


@pytest.fixture(scope="module")
def national() -> pd.DataFrame:
    return read_returns(FILES)


@pytest.fixture(scope="module")
def bundled(national: pd.DataFrame) -> pd.DataFrame:
    return national[national["commissioner"].isin(AREAS)].reset_index(drop=True)


Key = tuple[str, str, str, str]


@pytest.fixture(scope="module")
def counted(bundled: pd.DataFrame) -> dict[Key, tuple[np.ndarray, int]]:
    """Each bundled row's band counts and open band, by (commissioner, month, function, part)."""
    groups = bundled.groupby(["commissioner", "month", "treatment_function", "part"], sort=False)
    return {key: returns_for(group, *key) for key, group in groups}  # one row each: read apart, not searched for


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def edited(tmp_path: Path, source: Path, row: int, column: str, value: str) -> Path:
    """A copy of ``source`` (same name) with one cell changed; ``row`` 1 is the first data row."""
    header, rows = read_rows(source)
    rows[row - 1][header.index(column)] = value
    return write_rows(tmp_path / source.name, header, rows)


def number(text: str) -> float:
    return math.nan if text in ("", "-") else float(text)


# The bundled commissioner returns.


@pytest.mark.slow
def test_every_bundled_file_is_read(national: pd.DataFrame) -> None:
    assert len(FILES) == 18
    assert list(national.columns) == list(COLUMNS)
    codes = set(national["commissioner"])
    assert {"5P2", "5J5", "06F", "00Y"} <= codes
    # every commissioner of England: 211 CCGs and NHS England; 152 PCTs and the national group
    assert len({c for c in codes if (c[0].isdigit() and len(c) == 3) or c == "X24"}) >= 212
    assert sorted(set(national["month"])) == ["2009-12", "2010-01", "2010-02", "2014-12", "2015-01", "2015-02"]
    assert set(national["part"]) == {"incomplete", "admitted", "nonadmitted"}
    assert {"110", "410", "999", "X01"} <= set(national["treatment_function"])
    # The bundled areas: 20 treatment functions each in every one of the 18 files; every other
    # commissioner: T&O, rheumatology and all specialties (data/rtt/trim.py).
    per_area = national.groupby("commissioner")["treatment_function"].nunique()
    assert (per_area[["5P2", "5J5", "06F", "00Y"]] == 20).all()
    assert set(national.loc[~national["commissioner"].isin(["5P2", "5J5", "06F", "00Y"]), "treatment_function"]) == {
        "110",
        "410",
        "999",
    }
    assert len(national) == 9 * (2 * 20 + 210 * 3) + 9 * (2 * 20 + 151 * 3)
    assert not national.duplicated(["month", "commissioner", "treatment_function", "part"]).any()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.slow
def test_totals_and_shares_are_the_published_ones(
    bundled: pd.DataFrame, counted: dict[Key, tuple[np.ndarray, int]], path: Path
) -> None:
    """Row by row, the frame holds what each file publishes."""
    header, rows = read_rows(path)
    month = path.name[21:28]
    col = {name: i for i, name in enumerate(header)}
    completed = "Patients with unknown clock start date" in col
    for raw in (r for r in rows if r[2] in AREAS):
        code = raw[col[TF]]
        mine = counted[(raw[2], month, code[2:], LETTER_PART[code[0]])]
        got = bundled[
            (bundled["commissioner"] == raw[2])
            & (bundled["month"] == month)
            & (bundled["treatment_function"] == code[2:])
            & (bundled["part"] == LETTER_PART[code[0]])
        ].iloc[0]
        bands = [float(raw[col[f">{k}-{k + 1}"]]) for k in range(52)]
        assert got[list(BAND_LABELS[:52])].tolist() == bands
        assert got["52+"] == float(raw[col["52 plus"]])
        assert got[list(BAND_LABELS[53:])].isna().all()
        if completed:
            assert got["total"] == float(raw[col["Total number of completed pathways (with a known clock start)"]])
            assert got["unknown_start"] == float(raw[col["Patients with unknown clock start date"]])
            assert got["total"] + got["unknown_start"] == float(raw[col["Total number of completed pathways (all)"]])
            assert got["within_18w"] == float(raw[col["Total (with a known clock start) within 18 weeks"]])
        else:
            assert got["total"] == float(raw[col["Total number of incomplete pathways"]])
            assert got["within_18w"] == float(raw[col["Total within 18 weeks"]])
        share = number(raw[col["% within 18 weeks"]])
        if got["total"] > 0:
            assert got["within_18w_pct"] == pytest.approx(100.0 * share, abs=1e-9)
        else:
            assert np.isnan(got["within_18w_pct"])
            assert share == 0.0 or math.isnan(share)  # 2009/10 publish 0, 2014/15 "-"
        for name, column in (
            ("median_weeks", "Average (median) waiting time (in weeks)"),
            ("p95_weeks", "95th percentile waiting time (in weeks)"),
        ):
            published = number(raw[col[column]]) if column in col else math.nan
            assert got[name] == pytest.approx(published, nan_ok=True)
        counts, open_from = mine
        assert open_from == 52 and counts.sum() == got["total"] and not counts[53:].any()


def test_named_rows(bundled: pd.DataFrame) -> None:
    """A few rows read off the published files by eye."""

    def row(commissioner: str, month: str, tf: str, part: str) -> pd.Series:
        sel = bundled.set_index(["commissioner", "month", "treatment_function", "part"])
        return sel.loc[(commissioner, month, tf, part)]

    bed_to = row("06F", "2015-01", "110", "admitted")  # Bedfordshire CCG, orthopaedics, January 2015
    assert (bed_to["total"], bed_to["within_18w"]) == (342, 230)
    assert bed_to["within_18w_pct"] == pytest.approx(67.251461988304106)
    assert (bed_to["median_weeks"], bed_to["p95_weeks"]) == pytest.approx((14.766666666666667, 31.979999999999997))
    bed_wait = row("06F", "2015-01", "110", "incomplete")
    assert (bed_wait["total"], bed_wait["within_18w"]) == (2327, 1932)
    assert bed_wait["median_weeks"] == pytest.approx(8.9586776859504127)
    oldham_rheum = row("00Y", "2015-01", "410", "nonadmitted")
    assert (oldham_rheum["total"], oldham_rheum["within_18w_pct"]) == (173, 100.0)
    pct = row("5P2", "2010-01", "110", "incomplete")  # Bedfordshire PCT
    assert (pct["total"], pct["within_18w"], pct["52+"]) == (2670, 2325, 16)
    assert np.isnan(pct["median_weeks"])  # not published in 2009/10
    oldham_all = row("5J5", "2010-01", "999", "admitted")
    assert (oldham_all["total"], oldham_all["52+"], oldham_all["unknown_start"], oldham_all["within_18w"]) == (1429, 4, 0, 1224)


@pytest.mark.slow
def test_within_18_weeks_is_the_first_18_bands_over_the_known_total(
    bundled: pd.DataFrame, counted: dict[Key, tuple[np.ndarray, int]]
) -> None:
    checked = 0
    for r in bundled.itertuples():
        counts, _ = counted[(r.commissioner, r.month, r.treatment_function, r.part)]
        if r.total > 0:
            assert within_pct(counts) == pytest.approx(r.within_18w_pct, abs=1e-9)
            checked += 1
    assert checked > 600


def test_percentile_reproduces_the_published_median_and_95th_percentile(
    bundled: pd.DataFrame, counted: dict[Key, tuple[np.ndarray, int]]
) -> None:
    """Every published median and 95th percentile of the bundled areas (2014/15), to 1e-9 weeks.

    Over all English commissioners the rate is 99.8% of medians and 99.9% of 95th
    percentiles; the exceptions are one CCG's, not among those checked here.
    """
    results: dict[str, list[bool]] = {}
    for r in bundled.itertuples():
        counts, _ = counted[(r.commissioner, r.month, r.treatment_function, r.part)]
        for name, q in (("median_weeks", 0.5), ("p95_weeks", 0.95)):
            published = getattr(r, name)
            if not np.isnan(published):
                results.setdefault(name, []).append(abs(percentile(counts, q) - published) < 1e-9)
    for name, matches in results.items():
        assert len(matches) > 250, name
        assert sum(matches) == len(matches), f"{name}: {sum(matches)} of {len(matches)} reproduced"


# Two published rows whose 95th percentile falls in the open band ``52 plus`` (NHS England,
# CCG returns): bands >0-1 … >51-52 and 52 plus, the published median and 95th percentile.
OPEN_BAND_ROWS = {
    "Birmingham South and Central CCG, thoracic medicine, non-admitted, January 2015": (
        "6 8 6 3 6 5 8 10 7 10 6 4 4 2 1 2 1 1 0 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 19",
        8.6428571428571423,
        52.705263157894734,
    ),
    "North Somerset CCG, cardiology, admitted, December 2014": (
        "2 3 3 4 3 1 2 5 2 1 2 2 3 3 5 2 3 3 2 0 1 0 0 2 0 0 0 1 0 0 1 0 0 0 1 0 0 1 0 0 0 0 0 0 0 0 0 1 0 0 0 0 5",
        12.833333333333334,
        52.359999999999999,
    ),
}


@pytest.mark.parametrize("name", OPEN_BAND_ROWS)
def test_the_open_band_counts_as_one_week_too(name: str) -> None:
    """Where the percentile falls in the open band, the NHS interpolates as if it were one week wide."""
    published, median, p95 = OPEN_BAND_ROWS[name]
    counts = np.zeros(N_BANDS, dtype=int)
    counts[:53] = [int(c) for c in published.split()]  # the 52 plus count in band 52, as returns_for puts it
    assert percentile(counts, 0.5) == pytest.approx(median, abs=1e-9)
    assert percentile(counts, 0.95) == pytest.approx(p95, abs=1e-9)


def test_the_median_convention_matters(bundled: pd.DataFrame, counted: dict[Key, tuple[np.ndarray, int]]) -> None:
    """The median at position n/2, the textbook interpolation, misses the published ones."""

    def at_half_n(counts: np.ndarray) -> float:
        cum = np.cumsum(counts)
        position = counts.sum() / 2
        k = int(np.searchsorted(cum, position))
        return k + (position - (cum[k] - counts[k])) / counts[k]

    rows = bundled[bundled["median_weeks"].notna()]
    hits = [
        abs(at_half_n(counted[(r.commissioner, r.month, r.treatment_function, r.part)][0]) - r.median_weeks) < 1e-9
        for r in rows.itertuples()
    ]
    assert sum(hits) < len(hits) / 10


def test_filters(bundled: pd.DataFrame) -> None:
    bed = read_returns(FILES, commissioner="06F", treatment_functions=["110", "C_410"])
    assert set(bed["commissioner"]) == {"06F"} and set(bed["treatment_function"]) == {"110", "410"}
    assert len(bed) == 3 * 3 * 2
    key = ["month", "commissioner", "treatment_function", "part"]
    expect = bundled[(bundled["commissioner"] == "06F") & bundled["treatment_function"].isin(["110", "410"])]
    pd.testing.assert_frame_equal(bed.set_index(key), expect.set_index(key))
    both = read_returns(FILES, commissioner=["5P2", "5J5"])
    assert set(both["commissioner"]) == {"5P2", "5J5"} and len(both) == 360
    assert read_returns(FILES, commissioner="XXX").empty


def test_dashes_and_blank_counts_read_as_zero(tmp_path: Path) -> None:
    """Zero counts written ``-`` or left blank read the same as ``0``."""
    header, rows = read_rows(CCG_ADMITTED)
    changed = 0
    for i, raw in enumerate(rows):
        for j, name in enumerate(header):
            if (name.startswith(">") or name in ("52 plus", "Patients with unknown clock start date")) and raw[j] == "0":
                raw[j] = "-" if (i + j) % 2 else ""
                changed += 1
    assert changed > 500
    path = write_rows(tmp_path / CCG_ADMITTED.name, header, rows)
    pd.testing.assert_frame_equal(read_returns(path), read_returns(CCG_ADMITTED))
    # A published statistic written "-" is NaN, not zero.
    frame = read_returns(CCG_ADMITTED)
    assert frame["median_weeks"].isna().any() and (frame["median_weeks"].dropna() > 0).all()


# The full CSV extract.


def test_extract_sums_the_providers() -> None:
    got = read_returns(EXTRACT)
    assert list(got.columns) == list(COLUMNS)
    assert set(got["month"]) == {"2024-03"} and set(got["commissioner"]) == {"ZZC"}
    assert set(got["treatment_function"]) == {"110", "410", "999"}
    assert sorted(set(got["part"])) == sorted(PARTS)
    assert len(got) == 15

    header, rows = read_rows(EXTRACT)
    col = {name: i for i, name in enumerate(header)}
    band_cols = [i for i, name in enumerate(header) if name.startswith("Gt ")]
    assert len(band_cols) == N_BANDS
    part_of = {
        "Part_1A": "admitted",
        "Part_1B": "nonadmitted",
        "Part_2": "incomplete",
        "Part_2A": "incomplete_dta",
        "Part_3": "clock_starts",
    }
    expect: dict[tuple[str, str], np.ndarray] = {}
    providers: dict[tuple[str, str], set[str]] = {}
    for raw in rows:
        key = (raw[col[TF]].removeprefix("C_"), part_of[raw[col["RTT Part Type"]]])
        cells = [raw[i] for i in band_cols] + [raw[col["Patients with unknown clock start date"]], raw[col["Total All"]]]
        values = np.array([float(c) if c else 0.0 for c in cells])
        expect[key] = expect.get(key, 0) + values
        providers.setdefault(key, set()).add(raw[col["Provider Org Code"]])
    assert providers[("110", "incomplete")] == {"ZZ1", "ZZ2"}  # summed over two providers
    assert providers[("110", "admitted")] == {"ZZ1"}
    for _, row in got.iterrows():
        e = expect[(row["treatment_function"], row["part"])]
        if row["part"] == "clock_starts":
            assert row[list(BAND_LABELS)].isna().all() and np.isnan(row["52+"])
            assert row["total"] == e[-1]
            continue
        assert row[list(BAND_LABELS)].to_numpy(dtype=float).tolist() == e[:N_BANDS].tolist()
        assert row["total"] == e[:N_BANDS].sum() == e[-1] - e[-2]
        assert row["unknown_start"] == e[-2]
        assert row["52+"] == e[52:N_BANDS].sum()
        assert row["within_18w"] == e[:18].sum()
        assert row["within_18w_pct"] == pytest.approx(100 * e[:18].sum() / e[:N_BANDS].sum())
        assert np.isnan(row["median_weeks"]) and np.isnan(row["p95_weeks"])


def test_extract_rows_by_eye() -> None:
    got = read_returns(EXTRACT).set_index(["treatment_function", "part"])
    waiting = got.loc[("110", "incomplete")]
    assert (waiting["total"], waiting["104+"], waiting["52+"], waiting["60-61"]) == (2182, 2, 14, 6)
    assert got.loc[("110", "nonadmitted"), "unknown_start"] == 2
    assert got.loc[("110", "clock_starts"), "total"] == 140 + 70
    assert (
        got.loc[("999", "incomplete"), "total"]
        == got.loc[("110", "incomplete"), "total"] + got.loc[("410", "incomplete"), "total"]
    )
    counts, open_from = returns_for(read_returns(EXTRACT), "ZZC", "2024-03", "C_110", "incomplete")
    assert open_from == OPEN_BAND and counts.sum() == 2182 and counts[OPEN_BAND] == 2
    with pytest.raises(ValueError, match="not counted by weeks"):
        returns_for(read_returns(EXTRACT), "ZZC", "2024-03", "110", "clock_starts")
    with pytest.raises(KeyError):
        returns_for(read_returns(EXTRACT), "ZZC", "2024-04", "110", "incomplete")


@pytest.mark.slow
def test_extract_filters_and_mixes_with_commissioner_returns() -> None:
    assert set(read_returns(EXTRACT, treatment_functions=["C_110"])["treatment_function"]) == {"110"}
    assert read_returns(EXTRACT, commissioner="06F").empty
    both = read_returns([*FILES, EXTRACT])
    assert len(both) == len(read_returns(FILES)) + 15
    assert list(both["month"]) == sorted(both["month"])


# Malformed files.


def assert_names(err: pytest.ExceptionInfo[ReturnsError], path: Path, row: int | None, column: str | None) -> None:
    message = str(err.value)
    assert path.name in message
    assert err.value.row == row and err.value.column == column
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert repr(column) in message


def test_a_word_in_a_count(tmp_path: Path) -> None:
    path = edited(tmp_path, CCG_ADMITTED, 3, ">5-6", "12a")
    with pytest.raises(ReturnsError) as err:
        read_returns(path)
    assert_names(err, path, 3, ">5-6")
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("value", ["-3", "2.5", "nan", "inf"])
def test_counts_are_whole_and_not_negative(tmp_path: Path, value: str) -> None:
    path = edited(tmp_path, PCT_INCOMPLETE, 7, ">30-31", value)
    with pytest.raises(ReturnsError) as err:
        read_returns(path)
    assert_names(err, path, 7, ">30-31")


def test_a_word_in_a_statistic(tmp_path: Path) -> None:
    path = edited(tmp_path, CCG_ADMITTED, 2, "Average (median) waiting time (in weeks)", "about ten")
    with pytest.raises(ReturnsError) as err:
        read_returns(path)
    assert_names(err, path, 2, "Average (median) waiting time (in weeks)")


def test_a_missing_band(tmp_path: Path) -> None:
    header, rows = read_rows(CCG_ADMITTED)
    gone = header.index(">17-18")
    path = write_rows(tmp_path / CCG_ADMITTED.name, header[:gone] + header[gone + 1 :], [r[:gone] + r[gone + 1 :] for r in rows])
    with pytest.raises(ReturnsError) as err:
        read_returns(path)
    assert_names(err, path, None, ">17-18")


@pytest.mark.parametrize(
    ("code", "problem"),
    [("XP110", "unknown part letter"), ("IP110", "code of incomplete pathways, in a file of admitted"), ("110", "part letter")],
)
def test_a_bad_part_letter(tmp_path: Path, code: str, problem: str) -> None:
    path = edited(tmp_path, CCG_ADMITTED, 2, TF, code)
    with pytest.raises(ReturnsError, match=problem) as err:
        read_returns(path)
    assert_names(err, path, 2, TF)


@pytest.mark.parametrize(
    ("source", "column"),
    [
        (CCG_ADMITTED, "Total number of completed pathways (with a known clock start)"),
        (CCG_ADMITTED, "Total number of completed pathways (all)"),
        (CCG_ADMITTED, "Total (with a known clock start) within 18 weeks"),
        (PCT_INCOMPLETE, "Total number of incomplete pathways"),
        (PCT_INCOMPLETE, "Total within 18 weeks"),
    ],
)
def test_a_total_that_is_not_its_bands(tmp_path: Path, source: Path, column: str) -> None:
    header, rows = read_rows(source)
    path = edited(tmp_path, source, 4, column, str(int(rows[3][header.index(column)]) + 1))
    with pytest.raises(ReturnsError, match="published, but") as err:
        read_returns(path)
    assert_names(err, path, 4, column)


def test_a_partial_file(tmp_path: Path) -> None:
    """A file cut off in the middle of a row."""
    text = CCG_ADMITTED.read_text()
    lines = text.splitlines()
    cut = [*lines[:6], lines[6][: len(lines[6]) // 2]]
    path = tmp_path / CCG_ADMITTED.name
    path.write_text("\n".join(cut) + "\n")
    with pytest.raises(ReturnsError, match="fields where the header has") as err:
        read_returns(path)
    header, _ = read_rows(CCG_ADMITTED)
    got = next(csv.reader([cut[-1]]))
    assert_names(err, path, 6, header[len(got)])


def test_a_row_twice(tmp_path: Path) -> None:
    header, rows = read_rows(CCG_ADMITTED)
    path = write_rows(tmp_path / CCG_ADMITTED.name, header, [*rows, rows[2]])
    with pytest.raises(ReturnsError, match="again") as err:
        read_returns(path)
    assert_names(err, path, len(rows) + 1, TF)
    other = tmp_path / "copy"
    other.mkdir()
    second = shutil.copy(CCG_ADMITTED, other / CCG_ADMITTED.name)
    with pytest.raises(ReturnsError, match="already read") as err:
        read_returns([CCG_ADMITTED, second])
    assert_names(err, Path(second), 1, None)


def test_files_that_are_not_returns(tmp_path: Path) -> None:
    renamed = shutil.copy(CCG_ADMITTED, tmp_path / "january.csv")
    with pytest.raises(ReturnsError, match="must be named") as err:
        read_returns(renamed)
    assert_names(err, Path(renamed), None, None)
    other = write_rows(tmp_path / "other.csv", ["a", "b"], [["1", "2"]])
    with pytest.raises(ReturnsError, match="neither"):
        read_returns(other)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ReturnsError, match="empty"):
        read_returns(empty)
    with pytest.raises(ReturnsError, match="cannot be read"):
        read_returns(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("row", "column", "value", "problem"),
    [
        (5, "RTT Part Type", "Part_4", "unknown part"),
        (2, "Period", "March 2024", "not a month"),
        (3, "Gt 05 To 06 Weeks SUM 1", "x", "not a count"),
        (4, "Total All", "1", "published, but"),
        (1, "Total", "7", "published, but"),
    ],
)
def test_a_malformed_extract(tmp_path: Path, row: int, column: str, value: str, problem: str) -> None:
    path = edited(tmp_path, EXTRACT, row, column, value)
    with pytest.raises(ReturnsError, match=problem) as err:
        read_returns(path)
    assert_names(err, path, row, column)


def test_an_extract_without_a_band(tmp_path: Path) -> None:
    header, rows = read_rows(EXTRACT)
    path = write_rows(tmp_path / EXTRACT.name, header[:-4] + header[-3:], [r[:-4] + r[-3:] for r in rows])
    with pytest.raises(ReturnsError) as err:
        read_returns(path)
    assert_names(err, path, None, "Gt 104 Weeks SUM 1")


# The bands and their statistics.


def test_band_edges() -> None:
    """Band k holds waits of more than k and at most k + 1 weeks: 126 days is within 18 weeks."""
    assert band_of(0.0) == 0 and band_of(-1.0) == 0 and band_of(float("nan")) == 0
    assert band_of(1.0) == 0 and band_of(8 / 7) == 1
    assert band_of(126 / 7) == 17 and band_of(127 / 7) == 18
    assert band_of(104.0) == 103 and band_of(104.01) == OPEN_BAND and band_of(1e6) == OPEN_BAND
    assert BAND_LABELS[band_of(126 / 7)] == "17-18"
    assert within_pct(band_counts(np.array([126, 127]) / 7)) == 50.0


weeks_lists = st.lists(st.floats(min_value=-2.0, max_value=150.0, allow_nan=False), min_size=1, max_size=200)
days_lists = st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=200)
counts_arrays = st.lists(st.integers(min_value=0, max_value=1000), min_size=N_BANDS, max_size=N_BANDS).map(np.array)


@given(weeks_lists)
def test_band_counts_bands_as_band_of(weeks: list[float]) -> None:
    counts = band_counts(np.array(weeks))
    assert counts.shape == (N_BANDS,) and counts.sum() == len(weeks)
    assert counts.tolist() == np.bincount([band_of(w) for w in weeks], minlength=N_BANDS).tolist()


@given(days_lists)
def test_within_pct_counts_waits_of_at_most_18_weeks(days: list[int]) -> None:
    weeks = np.array(days) / 7
    assert within_pct(band_counts(weeks)) == pytest.approx(100.0 * np.mean(np.array(days) <= 126))


@given(counts_arrays, st.floats(min_value=0.0, max_value=1.0))
@pytest.mark.slow
def test_percentile_lies_in_the_counted_bands(counts: np.ndarray, q: float) -> None:
    if counts.sum() == 0:
        assert math.isnan(percentile(counts, q))
        return
    counted = np.flatnonzero(counts)
    assert counted[0] <= percentile(counts, q) <= counted[-1] + 1


@given(counts_arrays, st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=2, max_size=6))
@pytest.mark.slow
def test_percentile_rises_with_q(counts: np.ndarray, qs: list[float]) -> None:
    """Except across the median, whose position (n + 1)/2 is above q n for q a little over 0.5 when n < 50."""
    qs = sorted(q for q in qs if q != 0.5)
    values = [percentile(counts, q) for q in qs]
    if counts.sum():
        assert values == sorted(values)
    if counts.sum() >= 50:
        assert percentile(counts, 0.49) <= percentile(counts, 0.5) <= percentile(counts, 0.51)


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=OPEN_BAND), st.integers(min_value=1, max_value=10_000))
def test_percentile_inside_one_band(k: int, n: int) -> None:
    counts = np.zeros(N_BANDS, dtype=int)
    counts[k] = n
    assert percentile(counts, 0.5) == pytest.approx(k + (n + 1) / (2 * n))
    assert percentile(counts, 0.95) == pytest.approx(k + 0.95)


def test_percentile_rejects_what_is_not_counts() -> None:
    with pytest.raises(ValueError):
        percentile(np.ones(N_BANDS), 1.5)
    with pytest.raises(ValueError):
        percentile(-np.ones(N_BANDS), 0.5)
    with pytest.raises(ValueError):
        percentile(np.full(N_BANDS, np.nan), 0.5)
    assert math.isnan(percentile(np.zeros(N_BANDS), 0.5))


@pytest.mark.parametrize(("source", "commissioner"), [(PCT_INCOMPLETE, "5J5"), (CCG_ADMITTED, "06f"), (EXTRACT, "ZZC")])
def test_one_commissioners_rows_read_as_the_whole_return_does_for_it(tmp_path: Path, source: Path, commissioner: str) -> None:
    """The starting backlog a calibration writes: the commissioner's rows alone, under the header."""
    if source == EXTRACT:  # its one commissioner's rows again, under another code
        header, rows = read_rows(EXTRACT)
        at = header.index("Commissioner Org Code")
        source = write_rows(tmp_path / "two.csv", header, [*rows, *([*r[:at], "ZZD", *r[at + 1 :]] for r in rows)])
    part = tmp_path / "one" / source.name  # a commissioner return's name says its month and part
    part.parent.mkdir()
    part.write_text(commissioner_rows(source, commissioner), encoding="utf-8")
    whole = read_returns(source)
    assert set(whole["commissioner"]) - {commissioner.upper()}, "the source must hold other commissioners too"
    pd.testing.assert_frame_equal(read_returns(part), read_returns(source, commissioner.upper()))
