"""What the fitting commands do: ``calibrate`` (one area's capacity, booking lead and removals
fitted to its published returns) and ``national`` (every area fitted and the designs compared
there). Loaded when one runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sim.calibrate import area as area_fit
from sim.calibrate import identify, output
from sim.commands.shared import err_console, out_console, user_errors, warn
from sim.national import batch as national_batch
from sim.national.areas import AreaError
from sim.national.task import Settings
from sim.report import progress
from sim.report.calibration import print_calibration
from sim.report.national import national_report
from sim.report.terminal_national import failed, intro, print_national
from sim.rtt.returns import ReturnsError
from sim.runs.batch import BatchError, open_executor
from sim.runs.executors import StartError
from sim.runs.folders import check_out, claimed, held
from sim.runs.results import run_folder
from sim.runs.transaction import staged
from sim.scenario.loading import load_given
from sim.scenario.schema import THEATRE


def calibrate(scenario: Path, rtt: list[Path], commissioner: str, treatment_function: list[str] | None, design: str | None,
              holdout: int, fits: tuple[bool, bool, bool], reps: int, rounds: int, queue_led: list[str] | None,
              structure_rounds: int | None, out: Path | None, force: bool, sets: list[str] | None, jobs: int | None,
              quiet: bool) -> None:  # fmt: skip
    """``calibrate``: fit, back-test, print the fit and write the calibrated scenario.

    ``fits`` are ``--fit-referrals``, ``--fit-routing`` and ``--from-scenario``."""
    with user_errors(ReturnsError, area_fit.CalibrationError):
        s = load_given(scenario, sets, warn=warn)
        if s.capacity_policies_act:
            err_console.print("Capacity policies held fixed while fitting: the returns tell the capacity in force in "
                              "their months (the calibrated scenario keeps them)", highlight=False)  # fmt: skip
            s = s.model_copy(update={"run": s.run.model_copy(update={"capacity_policies": "fixed"})})
        table = area_fit.read_published(rtt, commissioner, treatment_function)
        st = area_fit.setup(s, design, table, commissioner, treatment_function, holdout, *fits)
        known = [*s.design_stages(st.design), THEATRE]
        for name in queue_led or []:
            if name not in known:
                raise BatchError(f"--queue-led {name}: not a service of design '{st.design}' (or theatre); known: "
                                 f"{', '.join(known)}")  # fmt: skip
        folder = run_folder(f"{s.name}-calibration", out)
        check_out(folder, out is not None, force)
    # the folder held (and refused to a second msksim) from here; its files moved in together at the end
    with user_errors(StartError), claimed(folder, out is not None, force, what="calibrate"):
        err_console.print(
            f"Fitting design '{st.design}' of {s.name} to {commissioner}, functions {', '.join(st.functions)}: "
            f"{len(st.knobs)} unknowns, months {', '.join(st.fit_months)}"
            + (f", holding out {', '.join(st.holdout_months)}" if st.holdout_months else ""),
            highlight=False,
        )
        most = 1 + (rounds + 1) * 2 * len(st.knobs) + 2 * len(identify.capacities(st.knobs))  # candidates, at most
        executor = open_executor(jobs, None, warn=warn)
        try:
            with progress.bar(err_console, "calibrating (simulations)", most * reps, quiet, eta=False) as bar:
                cal = area_fit.calibrate(st, executor, reps, rounds, progress=bar.advance if bar else None,
                                         structure_rounds=structure_rounds, queue_led=queue_led)  # fmt: skip
        finally:
            executor.close()
        print_calibration(cal, out_console)
        with staged(folder, last=("calibrated.toml",)) as stage:
            written = output.write(cal, folder, scenario, rtt, sets or [], stage)
    for path in written:
        err_console.print(f"Written {path}", highlight=False)


def national(scenario: Path, rtt: list[Path], areas: str, population: Path | None, settings: Settings, out: Path | None,
             resume: bool, force: bool, sets: list[str] | None, jobs: int | None, scheduler: str | None,
             quiet: bool) -> None:  # fmt: skip
    """``national``: fit every area and compare the designs there, one area a task, journalled.
    ``settings`` naming no designs to compare compares every other."""
    started = datetime.now(UTC)
    with user_errors(national_batch.NationalError, AreaError, ReturnsError):
        template = load_given(scenario, sets, warn=warn)
        if not settings.others:
            settings = replace(settings, others=tuple(d for d in template.designs if d != settings.design))
        nat = national_batch.settle(scenario, template, rtt, areas, population, settings, out, resume, force, sets)
    folder = nat.folder
    guard = held(folder) if resume else claimed(folder, out is not None, force, what="a national batch")
    with user_errors(StartError), guard:
        if force and not resume:
            national_batch.start_over(folder)
        err_console.print(intro(nat), highlight=False)
        executor = open_executor(jobs, scheduler, warn=warn)
        try:
            with progress.bar(err_console, "areas", len(nat.codes), quiet) as bar:
                watch = (bar.update, lambda code: bar.describe(f"areas (scaling {code})")) if bar else ()
                outcomes = national_batch.run(nat, executor, *watch)
        finally:
            executor.close()
        written = national_batch.finish(nat, outcomes, started, national_report)
    print_national(national_batch.national_table(outcomes), out_console)
    for note in nat.notes:
        warn(note)
    for path in written:
        err_console.print(f"Written {path}", highlight=False)
    unfinished = failed(outcomes)
    if unfinished:
        warn(unfinished)
