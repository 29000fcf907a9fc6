"""report.html: every section for every command, self-contained, and it renders in Chromium."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.analysis import diagnostics
from sim.report import charts
from sim.report.bid_section import tornado, tornado_rows
from sim.report.charts import months
from sim.report.folder import load_folder
from sim.report.html import SECTIONS
from sim.report.kpi import _cell, _waits_table
from sim.report.labels import key_label, metric_label
from sim.report.sections import flow_section, scenario_section
from sim.report.terminal import waits_table
from sim.report.verdicts import sweep_verdicts
from sim.report.view import load_view, make_view
from sim.runs.experiment import run_replications
from sim.scenario.columns import column
from sim.scenario.loading import Backlog, load_scenario
from tests.conftest import bundled

runner = CliRunner()
SHORT = ["--reps", "3", "--years", "1", "--set", "run.warmup_days=60", "--quiet", "--report"]
# scenario, KPI, waiting lists, 18 weeks (with the wait distribution), flows, activity, costs, diagnostics
COMMON_SECTIONS = ["scenario", "kpi", "waiting-lists", "rtt", "flows", "activity", "costs", "diagnostics"]
# The reports are of the scenario scaled down (conftest.small: a sixth of the patients, the same loads)
OVERLOADED, ENOUGH = 273, 491  # physio slots a week of the scaled scenario: over capacity at the first


def _run(tmp_path_factory, name: str, args: list[str]) -> Path:
    out = tmp_path_factory.mktemp(name) / "out"
    result = runner.invoke(app, [*args, *SHORT, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def compared(tmp_path_factory, small: Path) -> Path:
    return _run(tmp_path_factory, "compare", ["compare", str(small)])


@pytest.fixture(scope="module")
def bid(tmp_path_factory, small: Path) -> Path:
    return _run(tmp_path_factory, "bid", ["bid", str(small), "--bid", "57/head"])


@pytest.fixture(scope="module")
def swept(tmp_path_factory, small: Path) -> Path:
    grid = f"stages.physio.slots_per_week={OVERLOADED},{ENOUGH}"
    return _run(tmp_path_factory, "sweep", ["sweep", str(small), "--grid", grid])


def page(folder: Path) -> str:
    return (folder / "report.html").read_text()


def sections(folder: Path) -> dict[str, str]:
    """Each section's html by its id."""
    parts = re.split(r'<section id="([a-z-]+)">', page(folder))
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def text(fragment: str) -> str:
    """What a reader sees: tags dropped, entities and spaces as typed."""
    import html

    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


@pytest.mark.slow
def test_compare_report_has_every_section(compared: Path) -> None:
    found = sections(compared)
    assert set(COMMON_SECTIONS) <= set(found)
    assert "Wait distribution" in found["rtt"]
    for phrase in ("92% standard", "18 weeks", "prime − fragmented", "Patient flow", "Commissioner spend"):
        assert phrase in page(compared)


@pytest.mark.slow
def test_bid_report_has_every_section(bid: Path) -> None:
    found = sections(bid)
    assert {*COMMON_SECTIONS, "bid"} <= set(found)
    assert "Wait distribution" in found["rtt"]
    for phrase in ("Surplus distribution", "Loss against price", "What moves the result", "loss region is shaded"):
        assert phrase in found["bid"]
    figures = text(found["bid"])
    assert "bid_year1_gbp" not in figures and "Year-1 price bid" in figures, "plain-English figure names"
    assert "<th>Year</th>" not in found["bid"], "no constant 'all' year column"


@pytest.mark.slow
def test_sweep_report_has_every_section_and_pools_no_grid_points(swept: Path) -> None:
    found = sections(swept)
    assert {*COMMON_SECTIONS, "sweep"} <= set(found)
    assert "Wait distribution" in found["rtt"]
    for ident in ("kpi", "waiting-lists", "rtt", "flows", "activity", "costs"):
        assert "Shown for grid point" in found[ident], f"{ident} must say which grid point it shows"
    sweep = text(found["sweep"])
    assert "Physio slots a week" in sweep and "stages.physio.slots_per_week" not in sweep
    assert "does not cover" in sweep, "fragmented physio carries no 18-week clock"


@pytest.mark.slow
def test_sweep_diagnostics_flag_the_overloaded_point_and_show_theatre(swept: Path) -> None:
    diag = text(sections(swept)["diagnostics"])
    assert f"Grid point 0 (Physio slots a week = {OVERLOADED:,}): fragmented: physio is over capacity" in diag
    assert f"Grid point 1 (Physio slots a week = {ENOUGH:,}): fragmented: physio is over capacity" not in diag
    assert "theatre day-case slots" in diag and "beds bed-days" in diag
    assert "4.5 weeks" in diag and "waiting to be offered a slot" in diag


@pytest.mark.slow
def test_diagnostics_show_theatre_for_a_compare(compared: Path) -> None:
    diag = text(sections(compared)["diagnostics"])
    assert "Appendix: checks on the model" in diag and "In plain words" in diag, "jargon is explained, at the end"
    assert list(sections(compared))[-1] == "diagnostics"
    assert "fragmented theatre day-case slots" in diag and "prime theatre day-case slots" in diag
    assert "The rule of thumb and msksim target" in diag and "analytic steady state" in diag


@pytest.mark.slow
def test_the_tornado_table_gives_each_terms_ends_as_values(bid: Path) -> None:
    """It showed the words "low" and "high" for every contract term."""
    table = text(sections(bid)["bid"])
    assert "×0.9" in table and "×1.1" in table and "-1 point" in table and "+1 point" in table
    assert "0% earned" in table and "100% earned" in table
    assert "<td>low</td>" not in sections(bid)["bid"]


def test_tornado_lists_a_drawn_input_once_even_when_also_copies_it(bid: Path) -> None:
    terms = pd.read_csv(bid / "sensitivity.csv")  # three replications rank no drawn input: add some
    drawn = {"kind": "drawn input (quartiles)", "prcc": -0.4, "low": 38.2, "high": 46.3, "base_gbp": float("nan")}
    price = {**drawn, "surplus_at_low_gbp": 2.6e6, "surplus_at_high_gbp": 1.9e6, "swing_gbp": 0.7e6}
    other = {**drawn, "low": 0.1, "high": 0.2, "surplus_at_low_gbp": 2.0e6, "surplus_at_high_gbp": 2.2e6, "swing_gbp": 0.2e6}
    sens = pd.concat(
        [
            terms,
            pd.DataFrame(
                [
                    {**price, "input": "stages.physio.tariff_first"},
                    {**price, "input": "stages.physio.tariff_followup"},  # the same draw, copied by `also`
                    {**other, "input": "designs.prime.routing.specialist.advice"},
                ]
            ),
        ],
        ignore_index=True,
    )
    rows = tornado_rows(sens)
    assert len(rows) == len(terms) + 2
    assert list(rows["label"]).count("Physio price per contact (£)") == 1
    assert "Prime routing of specialist need: advice share" in list(rows["label"])
    chart = tornado(rows, 2.1e6)
    assert chart.count("<td>Physio price per contact (£)</td>") == 1
    assert "tariff_followup" not in chart and "stages." not in text(chart)
    assert "Light bar: the input at its low end" in chart, "say which end of a bar is the low quartile"


def test_kpi_colours_activity_and_shows_long_waits(compared: Path) -> None:
    kpi = sections(compared)["kpi"]
    for label in ("Outpatient first attendances", "Outpatient follow-ups"):
        row = re.search(rf"<tr><td>{label}</td>.*?</tr>", kpi)
        assert row and 'class="better"' in row.group(0), f"{label}: fewer is better for cost"
    for weeks in (52, 65, 78):
        assert f"Waiting over {weeks} weeks" in kpi


def test_scenario_says_how_the_run_starts(compared: Path) -> None:
    view = load_view(compared)
    body = text(scenario_section(view).body)
    assert "60-day warm-up" in body
    assert body.count(view.scenario.description) == 1, "the description once"
    backlog = Backlog(stages={"orthopaedics": {"18-52": 40}})
    view.scenario = view.scenario.model_copy(update={"backlog": backlog})
    body = text(scenario_section(view).body)
    assert "from a backlog: 40 patients already waiting" in body and "warm-up from" not in body
    # the snapshot on day 0 of a run from a backlog is month 0, not month 1
    assert list(months(pd.Index([0, 30, 61]), 0)) == [0, 1, 2]
    assert list(months(pd.Index([395, 426]), 365)) == [1, 2]


@pytest.mark.parametrize("name", ["compared", "bid", "swept"])
def test_the_report_opens_with_the_question_the_answer_and_the_caveats(name: str, request) -> None:
    folder: Path = request.getfixturevalue(name)
    assert next(iter(sections(folder))) == "summary"
    said = text(sections(folder)["summary"])
    assert "The question:" in said and "Caveats" in said
    for outcome in ("Waits.", "Activity.", "Cost."):
        assert outcome in said, outcome
    if name == "compared":
        assert "Prime against fragmented:" in said
    if name == "bid":
        assert "chance of a cumulative loss" in said and "lowest year-1 price" in said
    if name == "swept":
        assert "Sweep, " in said and "92% within 18 weeks" in said


def test_sweep_lines_that_coincide_are_all_visible() -> None:
    """Two designs both at 100% drew one line over the other."""
    key = "surgery.beds"
    same = pd.DataFrame({key: [30, 40, 50], "mean": [100.0] * 3, "ci_low": [100.0] * 3, "ci_high": [100.0] * 3})
    fig = charts.sweep(
        [(None, [("fragmented", same), ("prime", same)])], key, "rtt_incomplete_within_18w_pct", 99.0, ("Beds", "%")
    )
    lines = [c.lines[0] for c in fig.axes[0].containers if c.get_label() in ("fragmented", "prime")]
    assert len(lines) == 2
    assert not np.array_equal(lines[0].get_xdata(), lines[1].get_xdata()), "set a little apart"
    assert lines[0].get_marker() != lines[1].get_marker() and lines[0].get_linestyle() != lines[1].get_linestyle()
    assert np.allclose(np.mean([lines[0].get_xdata(), lines[1].get_xdata()], axis=0), [30, 40, 50]), "centred on the values"


def test_an_interval_of_a_count_is_cut_at_zero_and_says_so() -> None:
    """At 2 replications a t-interval on a small count reached below 0."""
    r = pd.Series({"mean": 3.0, "ci_low": -4.0, "ci_high": 10.0})
    cell = _cell(r, "prime", "count", -1)
    assert "-4" not in cell and "0<abbr" in cell and "cut at 0" in cell
    difference = _cell(r, "prime - fragmented", "count", -1)
    assert "-4" in difference and "abbr" not in difference, "a difference may be negative"
    money = _cell(pd.Series({"mean": 3.0, "ci_low": -4.0, "ci_high": 10.0}), "prime", "gbp", 1)
    assert "abbr" not in money, "money can be negative"


def test_kpi_labels_come_from_the_results_schema(compared: Path) -> None:
    kpi = sections(compared)["kpi"]
    for name in ("rtt_incomplete_within_18w_pct", "waiting_list_end", "commissioner_cost_gbp"):
        assert f"<tr><td>{column(name).label}</td>" in kpi
    assert metric_label("rtt_incomplete_within_18w_pct") == "Incomplete pathways within 18 weeks (%)"
    assert metric_label("orthopaedics_queue_wait_mean_days") == "Orthopaedics: mean wait on the list after booking (days)"
    assert metric_label("bid_year1_gbp") == "Year-1 price bid"


def test_the_waits_at_each_service_are_shown_beside_the_key_results(compared: Path) -> None:
    """Every service's wait for a first appointment and the theatre's for admission, in the report
    and the terminal; a folder written before they were counted shows neither table."""
    kpi = text(sections(compared)["kpi"])
    assert "Waits at each service" in kpi
    for name in ("orthopaedics_first_wait_mean_days", "triage_first_wait_p92_days", "theatre_admission_wait_p92_days"):
        assert column(name).label in kpi
    summary = pd.read_csv(compared / "summary.csv", dtype={"year": str})
    scopes = ["fragmented", "prime", "prime - fragmented"]
    table = waits_table(summary, scopes)
    labels = list(table.columns[0].cells)
    assert "Orthopaedics: first wait, mean" in labels and "Triage: first wait, 92nd centile" in labels
    assert labels[-2:] == ["Theatre: listing to admission, mean", "Theatre: listing to admission, 92nd centile"]
    prime = dict(zip(labels, table.columns[2].cells, strict=True))
    assert re.fullmatch(r"[\d.,]+ d \[dim\]± [\d.,]+ d\[/dim\]", prime["Orthopaedics: first wait, mean"]), "days, ± the interval"
    fragmented = dict(zip(labels, table.columns[1].cells, strict=True))
    assert fragmented["Triage: first wait, mean"] == "–", "the fragmented design has no triage"
    before = summary[~summary["metric"].str.contains("_first_wait_|_admission_wait_")]
    assert waits_table(before, scopes) is None
    assert _waits_table(before[before["year"] == "all"], scopes, "") == ""


def test_key_labels_for_every_kind_of_key() -> None:
    assert key_label("param.stages.physio.slots_per_week") == "Physio slots a week"
    assert key_label("stages.orthopaedics.list_for_surgery.surgical") == "Orthopaedics: share listed for surgery (surgical need)"
    assert key_label("surgery.beds") == "Beds"
    assert key_label("designs.prime.stage_overrides.physio.slots_per_week") == "Prime design: Physio slots a week"
    assert key_label("finance.prime_contract.escalator") == "Yearly price escalator"
    assert key_label("finance.providers.acute_trust.prime_cost_share") == "Acute trust: the prime's cost as a share of tariff"
    assert key_label("demand.conditions.hip.utility_loss") == "Hip condition: utility loss"
    assert key_label("demand.growth") == "Demand growth a year"
    assert key_label("surgery.nothing_known") == "Surgery › nothing known"


@pytest.mark.slow
def test_a_folder_is_read_once_and_sections_without_data_are_left_out(compared: Path) -> None:
    folder = load_folder(compared)
    assert folder.has("replications") and not folder.has("bid_summary") and folder.warmup_png
    view = make_view(folder)
    assert view.point is None and view.designs == ["fragmented", "prime"]
    made = {make.__name__: make(view) for make in SECTIONS}
    assert made["bid_section"] is None and made["sweep_section"] is None
    folder.tables.pop("flows")
    assert flow_section(make_view(folder)) is None


def test_report_is_self_contained_and_small(compared: Path) -> None:
    text = page(compared)
    assert "<script" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text), "nothing may be fetched"
    assert re.search(r'<img src="data:image/png;base64,', text)
    assert (compared / "report.html").stat().st_size < 5_000_000


@pytest.mark.slow
def test_report_command_rebuilds_it(compared: Path) -> None:
    (compared / "report.html").unlink()
    assert runner.invoke(app, ["report", str(compared)]).exit_code == 0
    assert (compared / "report.html").exists()
    bad = runner.invoke(app, ["report", str(compared / "nope")])
    assert bad.exit_code == 2


@pytest.mark.slow
def test_run_report(tmp_path_factory, small: Path) -> None:
    out = _run(tmp_path_factory, "run", ["run", str(small), "--design", "prime"])
    assert set(COMMON_SECTIONS) <= set(sections(out))


@pytest.mark.parametrize("name", ["compared", "bid", "swept"])
@pytest.mark.browser
def test_report_renders_in_chromium(name: str, request, tmp_path: Path) -> None:
    """No console errors, no network requests, and a screenshot that is not blank."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium must be installed in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium is not installed on this machine")
    sync_api = pytest.importorskip("playwright.sync_api")
    folder: Path = request.getfixturevalue(name)
    errors, requests = [], []
    shot = tmp_path / "shot.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        view = browser.new_page(viewport={"width": 1100, "height": 900})
        view.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        view.on("pageerror", lambda e: errors.append(str(e)))
        view.on("request", lambda r: requests.append(r.url))
        view.goto((folder / "report.html").as_uri())
        view.screenshot(path=str(shot), full_page=True)
        first = view.evaluate("document.querySelector('section').id")
        summary_bottom = view.evaluate("document.getElementById('summary').getBoundingClientRect().bottom")
        # printed on A4 (about 718 px wide inside the margins) no table may stick out
        view.emulate_media(media="print")
        view.set_viewport_size({"width": 718, "height": 900})
        wide = view.evaluate(
            "Array.from(document.querySelectorAll('table')).filter(t => t.getBoundingClientRect().right > "
            "document.documentElement.clientWidth + 1).map(t => t.closest('section').id)"
        )
        browser.close()
    assert errors == []
    assert first == "summary", "the page opens with the summary"
    assert summary_bottom <= 1.5 * 900, f"the summary should fit about one screen; it ends at {summary_bottom:.0f} px"
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert wide == [], f"tables wider than an A4 page in {wide}"
    from PIL import Image, ImageStat

    image = Image.open(shot).convert("L")
    assert image.size[1] > 2000, "the page should be long: every section rendered"
    assert ImageStat.Stat(image).stddev[0] > 10, "the screenshot is blank"


def test_sweep_verdict_uses_the_lower_end_and_knows_uncovered_stages() -> None:
    # a triage that starts a clock carries it on to physio in the prime design, not in the fragmented
    bedfordshire = bundled("stages.triage.consultant_led=true", 'stages.triage.treatment_function="X01"')
    key = "stages.physio.slots_per_week"
    rows = [  # prime: the mean meets 92% at 1,800 but the interval does not until 2,300
        ("prime", 1800, 94.0, 70.0, 100.0),
        ("prime", 2300, 99.6, 99.1, 100.0),
        ("fragmented", 1800, 100.0, 100.0, 100.0),
        ("fragmented", 2300, 100.0, 100.0, 100.0),
    ]
    summary = pd.DataFrame(
        [
            {"design": d, key: v, "metric": "rtt_incomplete_within_18w_pct", "mean": m, "ci_low": lo, "ci_high": hi}
            for d, v, m, lo, hi in rows
        ]
    )
    verdicts = sweep_verdicts(summary, [key], "rtt_incomplete_within_18w_pct", bedfordshire)
    assert ": 2300" in verdicts["prime"] and "lower end" in verdicts["prime"]
    assert "does not cover" in verdicts["fragmented"] and "meeting" not in verdicts["fragmented"]


def _verdict_rows(key: str, rows: list[tuple], other: str | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"design": "prime", key: v, **({other: o} if other else {}), "metric": "rtt_incomplete_within_18w_pct",
             "mean": m, "ci_low": lo, "ci_high": 100.0}
            for v, o, m, lo in rows
        ]
    )  # fmt: skip


def test_a_sweep_met_at_its_lowest_value_says_the_threshold_may_lie_lower(bedfordshire) -> None:
    key = "designs.prime.stage_overrides.orthopaedics.slots_per_week"  # the key that changes the prime
    summary = _verdict_rows(key, [(500, None, 99.0, 98.0), (600, None, 99.5, 99.0)])
    verdict = sweep_verdicts(summary, [key], "rtt_incomplete_within_18w_pct", bedfordshire)["prime"]
    assert ": 500" in verdict and "the lowest value tried" in verdict and "may lie lower" in verdict
    later = _verdict_rows(key, [(400, None, 80.0, 75.0), (500, None, 99.0, 98.0)])
    assert "lowest value tried" not in sweep_verdicts(later, [key], "rtt_incomplete_within_18w_pct", bedfordshire)["prime"]


def test_a_two_key_sweep_gets_a_verdict_for_each_value_of_the_other(bedfordshire) -> None:
    key, other = "designs.prime.stage_overrides.orthopaedics.slots_per_week", "demand.growth"
    rows = [(500, 0.02, 95.0, 93.0), (600, 0.02, 99.0, 98.0), (500, 0.06, 85.0, 80.0), (600, 0.06, 95.0, 93.0)]
    verdict = sweep_verdicts(_verdict_rows(key, rows, other), [key, other], "rtt_incomplete_within_18w_pct", bedfordshire)[
        "prime"
    ]
    lines = verdict.split("\n")
    assert len(lines) == 2
    assert "demand.growth = 0.02" in lines[0] and ": 500" in lines[0]
    assert "demand.growth = 0.06" in lines[1] and ": 600" in lines[1]


def test_sweep_warnings_name_the_grid_point_by_its_values() -> None:
    checks = pd.DataFrame([
        {"point": p, "stage": "theatre", "design": "prime", "load": 1.2, "removals": True, "key": "surgery.slots_per_week",
         "key_needed": 120.0, "key_value": 100.0, "littles_gap_pct": 0.0, "simulated_list": 0.0}
        for p in (0, 1)
    ])  # fmt: skip
    msgs = diagnostics.warnings(checks, 10, names={0: "surgery.slots_per_week = 100", 1: "surgery.slots_per_week = 90"})
    assert msgs[0].startswith("surgery.slots_per_week = 100, prime: theatre is over capacity")
    assert "grid point" not in " ".join(msgs)


@pytest.mark.slow
def test_over_capacity_stage_is_flagged(tmp_path, small: Path) -> None:
    """A stage above load 1 gives a warning, in the diagnostics and on the terminal."""
    s = load_scenario(small, ["run.years=1", "run.warmup_days=60", f"stages.physio.slots_per_week={OVERLOADED}"])
    table = run_replications(s, ["fragmented"], 2)
    msgs = diagnostics.warnings(diagnostics.stage_checks(table, s), 2)
    assert any("physio is over capacity" in m for m in msgs)
    args = ["run", str(small), "--design", "fragmented", "--reps", "2", "--years", "1", "--quiet"]
    args += ["--set", "run.warmup_days=60", "--set", f"stages.physio.slots_per_week={OVERLOADED}", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert "over capacity" in result.output
    fine = load_scenario(small, ["run.years=1", "run.warmup_days=60"])
    table = run_replications(fine, ["fragmented"], 2)
    assert not any("over capacity" in m for m in diagnostics.warnings(diagnostics.stage_checks(table, fine), 10))


def test_nhsrwaitinglist_rules_by_hand() -> None:
    # capacity = λ + (cv_d² + cv_c²)/2 · f/T = 30 + 1 · 4/18
    assert diagnostics.target_capacity(30, 18) == pytest.approx(30.2222, abs=1e-4)
    assert diagnostics.target_capacity(30, 18, cv_demand=2, cv_capacity=0) == pytest.approx(30 + 2 * 4 / 18)
    # target list λT/f = 30 · 18 / 4
    assert diagnostics.target_queue_size(30, 18) == pytest.approx(135.0)
    # a list of 18R/(-ln(1-p)) keeps p within 18 weeks: R = 10, p = 0.92 gives 71.27
    assert diagnostics.relief_list_size(10) == pytest.approx(71.27, abs=0.01)


@pytest.mark.slow
def test_the_waiting_lists_say_what_capacity_policies_added(tmp_path, small: Path) -> None:
    """The small scenario holds capacity as set; with the bundled policies acting, the report says what they did."""
    out = tmp_path / "o"
    args = ["run", str(small), "--design", "prime", "--reps", "2", "--years", "1", "--quiet", "--report",
            "--set", "run.warmup_days=60", "--set", "run.capacity_policies=as_set",
            "--set", "stages.triage.capacity_policy.add_at=1", "--set", "stages.triage.capacity_policy.remove_at=0",
            "--out", str(out)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "prime: triage added" in result.output
    lists = text(sections(out)["waiting-lists"])
    assert "Capacity policies (sessions added as lists grow): prime: triage added" in lists
