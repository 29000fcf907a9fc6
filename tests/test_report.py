"""report.html: every section for every command, self-contained, and it renders in Chromium."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from sim import diagnostics
from sim.experiment import run_replications
from tests.conftest import BEDFORDSHIRE, bundled

runner = CliRunner()
SHORT = ["--reps", "3", "--years", "1", "--set", "run.warmup_days=60", "--quiet", "--report"]
COMMON_SECTIONS = ["scenario", "waiting-lists", "rtt", "flows", "activity", "costs", "diagnostics"]


def _run(tmp_path_factory, name: str, args: list[str]) -> Path:
    out = tmp_path_factory.mktemp(name) / "out"
    result = runner.invoke(app, [*args, *SHORT, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    return _run(tmp_path_factory, "compare", ["compare", str(BEDFORDSHIRE)])


def sections(folder: Path) -> set[str]:
    return set(re.findall(r'<section id="([a-z-]+)">', (folder / "report.html").read_text()))


def test_compare_report_has_every_section(compared: Path) -> None:
    assert {*COMMON_SECTIONS, "kpi"} <= sections(compared)
    text = (compared / "report.html").read_text()
    for phrase in ("92% standard", "18 weeks", "prime - fragmented", "Patient flow", "Commissioner spend"):
        assert phrase in text


def test_report_is_self_contained_and_small(compared: Path) -> None:
    text = (compared / "report.html").read_text()
    assert "<script" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text), "nothing may be fetched"
    assert re.search(r'<img src="data:image/png;base64,', text)
    assert (compared / "report.html").stat().st_size < 5_000_000


def test_report_command_rebuilds_it(compared: Path) -> None:
    (compared / "report.html").unlink()
    assert runner.invoke(app, ["report", str(compared)]).exit_code == 0
    assert (compared / "report.html").exists()
    bad = runner.invoke(app, ["report", str(compared / "nope")])
    assert bad.exit_code == 2


def test_run_report(tmp_path_factory) -> None:
    out = _run(tmp_path_factory, "run", ["run", str(BEDFORDSHIRE), "--design", "prime"])
    assert {*COMMON_SECTIONS, "kpi"} <= sections(out)


def test_bid_report(tmp_path_factory) -> None:
    out = _run(tmp_path_factory, "bid", ["bid", str(BEDFORDSHIRE), "--bid", "25m"])
    assert "bid" in sections(out)
    text = (out / "report.html").read_text()
    for phrase in ("cumulative surplus", "Loss probability against price", "Inputs ranked", "loss region is shaded"):
        assert phrase in text


def test_sweep_report(tmp_path_factory) -> None:
    out = _run(tmp_path_factory, "sweep", ["sweep", str(BEDFORDSHIRE), "--grid", "stages.physio.slots_per_week=2300,2700"])
    assert "sweep" in sections(out)
    assert "92% standard" in (out / "report.html").read_text()


def test_report_renders_in_chromium(compared: Path, tmp_path: Path) -> None:
    """No console errors, no network requests, and a screenshot that is not blank."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium must be installed in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium is not installed on this machine")
    sync_api = pytest.importorskip("playwright.sync_api")
    errors, requests = [], []
    shot = tmp_path / "shot.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((compared / "report.html").as_uri())
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []
    from PIL import Image, ImageStat

    image = Image.open(shot).convert("L")
    assert image.size[1] > 2000, "the page should be long: every section rendered"
    assert ImageStat.Stat(image).stddev[0] > 10, "the screenshot is blank"


def test_over_capacity_stage_is_flagged(tmp_path) -> None:
    """A stage above load 1 gives a warning, in the diagnostics and on the terminal."""
    s = bundled("run.years=1", "run.warmup_days=60", "stages.physio.slots_per_week=1500")
    table = run_replications(s, ["fragmented"], 2)
    msgs = diagnostics.warnings(diagnostics.stage_checks(table, s), 2)
    assert any("physio is over capacity" in m for m in msgs)
    args = ["run", str(BEDFORDSHIRE), "--design", "fragmented", "--reps", "2", "--years", "1", "--quiet"]
    args += ["--set", "run.warmup_days=60", "--set", "stages.physio.slots_per_week=1500", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, args)
    assert "over capacity" in result.output
    fine = bundled("run.years=1", "run.warmup_days=60")
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
