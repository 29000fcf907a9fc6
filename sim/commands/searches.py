"""The searching commands' declarations: ``target``, ``calibrate`` and ``national``, each with
options of its own beyond the shared ones. ``cli.py`` adds them to the command line; what each
does loads when it runs (:mod:`sim.commands.plans`, :mod:`sim.commands.fits`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.base.lazy import later
from sim.commands.shared import ForceOpt, JobsOpt, OutOpt, QuietOpt, ScenarioArg, SchedulerOpt, SetOpt, finite
from sim.runs.options import MAX_LOAD

fits = later("sim.commands.fits")
national_task = later("sim.national.task")
plans = later("sim.commands.plans")
targeting = later("sim.planning.targeting")


def target_command(
    scenario: ScenarioArg,
    stage: Annotated[
        list[str], typer.Option("--stage", help="A service whose capacity is searched (or theatre); repeat.", metavar="NAME")
    ],
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="The measure to meet: a numeric column of replications.csv (rtt_incomplete_within_18w_pct) or one "
            "treatment function's return (rtt_110_incomplete_within_18w_pct: trauma and orthopaedics).",
            metavar="MEASURE",
        ),
    ] = "rtt_incomplete_within_18w_pct",
    at_least: Annotated[
        float | None, typer.Option("--at-least", callback=finite, help="The metric must be at least this.", metavar="VALUE")
    ] = None,
    at_most: Annotated[
        float | None, typer.Option("--at-most", callback=finite, help="The metric must be at most this.", metavar="VALUE")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="The contract year to meet it in (default: the last).", min=1, metavar="Y")
    ] = None,
    probability: Annotated[
        float,
        typer.Option(
            "--probability", callback=finite, help="Share of replications that must meet it.", min=0.0, max=1.0, metavar="P"
        ),
    ] = 0.9,
    max_load: Annotated[
        float,
        typer.Option(
            "--max-load",
            callback=finite,
            help="The highest expected load (appointments asked for / slots offered) any searched service may have in "
            "any year of the run: capacity at or above it is never recommended.",
            metavar="L",
        ),
    ] = MAX_LOAD,
    design: Annotated[
        str | None,
        typer.Option("--design", help="The design (default: the scenario's last not based on another).", metavar="NAME"),
    ] = None,
    tolerance: Annotated[
        float,
        typer.Option("--tolerance", callback=finite, help="Stop when the bracket is this close (relative).", min=1e-4, max=1.0),
    ] = 0.01,
    reps: Annotated[int | None, typer.Option("--reps", help="Replications per trial.", min=1, metavar="N")] = None,
    years: Annotated[int | None, typer.Option("--years", help="Contract years.", min=1, metavar="Y")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.", min=0, metavar="S")] = None,
    no_uncertainty: Annotated[bool, typer.Option("--no-uncertainty", help="Run at the point values.")] = False,
    out: OutOpt = None,
    force: ForceOpt = False,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    quiet: QuietOpt = False,
    structure: Annotated[
        str | None,
        typer.Option(
            "--structure", help="Search under this capacity structure only (default: each the design has).", metavar="NAME"
        ),
    ] = None,
    searched: Annotated[
        str,
        typer.Option(
            "--search",
            help="What to search: the capacity set; or, for services with a managed capacity policy, its most "
            "sessions a week (maximum) or its list triggers (trigger).",
            metavar="capacity|maximum|trigger",
        ),
    ] = "capacity",
) -> None:
    """The least capacity of the named services that meets a target: a search on common random numbers.

    Where the design has capacity structures the returns cannot tell apart (a queue-led and a
    delay-led fit), the search runs under each, and the answer is the range they give."""
    plans.target(
        targeting.Ask(scenario, stage, metric, at_least, at_most, year, probability, max_load, design, structure, searched,
                      tolerance, not no_uncertainty, reps, years, seed, set_ or [], out, force),
        jobs, quiet,
    )  # fmt: skip


def calibrate_command(
    scenario: ScenarioArg,
    rtt: Annotated[
        list[Path],
        typer.Option("--rtt", help="Published RTT return files (either format), one per month and part; repeat.", metavar="FILE"),
    ],
    commissioner: Annotated[str, typer.Option("--commissioner", help="The commissioner's code, e.g. 06F.", metavar="CODE")],
    treatment_function: Annotated[
        list[str] | None,
        typer.Option(
            "--treatment-function", help="Functions to fit (default: those the design's clinics report under).", metavar="CODE"
        ),
    ] = None,
    design: Annotated[
        str | None,
        typer.Option("--design", help="The design to fit (default: the scenario's last not based on another).", metavar="NAME"),
    ] = None,
    holdout: Annotated[
        int, typer.Option("--holdout", help="Months held out at the end for the back-test.", min=0, metavar="MONTHS")
    ] = 0,
    fit_referrals: Annotated[
        bool, typer.Option("--fit-referrals", help="Also fit demand.referrals_per_year (it moves every service).")
    ] = False,
    fit_routing: Annotated[
        bool,
        typer.Option(
            "--fit-routing",
            help="Also fit the design's triage_hospital_shift: how many of those triage "
            "would send to a community clinic it sends to hospital instead.",
        ),
    ] = False,
    from_scenario: Annotated[
        bool,
        typer.Option(
            "--from-scenario",
            help="Start the search from the scenario's own values (a refit), not from "
            "capacity at demand and the returns' removals.",
        ),
    ] = False,
    reps: Annotated[
        int, typer.Option("--reps", help="Replications per candidate (common random numbers).", min=1, metavar="N")
    ] = 2,
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds",
            help="Rounds of the search at most (0 with --from-scenario: keep the scenario's "
            "values and fit only the structures beside them).",
            min=0,
            metavar="N",
        ),
    ] = 4,
    queue_led: Annotated[
        list[str] | None,
        typer.Option(
            "--queue-led",
            help="Fit the queue-led structure for this service (or theatre) only, of those the "
            "returns do not tell; repeat (default: all of them).",
            metavar="NAME",
        ),
    ] = None,
    structure_rounds: Annotated[
        int | None,
        typer.Option(
            "--structure-rounds",
            help="Rounds of the queue-led search, where the returns do not tell a capacity (default: --rounds).",
            min=1,
            metavar="N",
        ),
    ] = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Fit an area's capacity, booking lead and removals to its published RTT returns, and back-test.

    The fit holds every service at the capacity set (``run.capacity_policies=fixed``): the returns
    tell the capacity that was in force in their months, sessions added included; the scenario's
    capacity policies act on what is fitted when it is run."""
    fits.calibrate(scenario, rtt, commissioner, treatment_function, design, holdout,
                   (fit_referrals, fit_routing, from_scenario), reps, rounds, queue_led, structure_rounds, out, force, set_,
                   jobs, quiet)  # fmt: skip


def national_command(
    scenario: ScenarioArg,
    rtt: Annotated[
        list[Path],
        typer.Option("--rtt", help="Published RTT return files of one era, one per month and part; repeat.", metavar="FILE"),
    ],
    areas: Annotated[
        str, typer.Option("--areas", help="Commissioner codes, comma-separated (06F,00Y), or 'all'.", metavar="CODES")
    ] = "all",
    holdout: Annotated[
        int,
        typer.Option("--holdout", help="Months held out at the end of each area's, for the back-test.", min=0, metavar="MONTHS"),
    ] = 1,
    population: Annotated[
        Path | None,
        typer.Option(
            "--population",
            help="CSV of code,population; an area it does not name has its population estimated from the returns.",
            metavar="FILE",
        ),
    ] = None,
    design: Annotated[
        str, typer.Option("--design", help="The design fitted to each area's returns.", metavar="NAME")
    ] = "fragmented",
    compare: Annotated[
        list[str] | None,
        typer.Option(
            "--compare", help="A design run beside it on the same patients (repeat; default: every other).", metavar="NAME"
        ),
    ] = None,
    fit_referrals: Annotated[
        bool,
        typer.Option(
            "--fit-referrals/--no-fit-referrals",
            help="Fit each area's referral volume too (a third to three times the scaled one): an estimated population "
            "is corrected by the area's own clock starts and stops.",
        ),
    ] = True,
    reps: Annotated[int, typer.Option("--reps", help="Replications per fitting candidate.", min=1, metavar="N")] = 2,
    rounds: Annotated[int, typer.Option("--rounds", help="Rounds of each area's fit at most.", min=0, metavar="N")] = 4,
    compare_reps: Annotated[
        int, typer.Option("--compare-reps", help="Replications of the paired comparison.", min=2, metavar="N")
    ] = 10,
    out: OutOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the batch in --out from the areas that finished.")] = False,
    force: ForceOpt = False,
    set_: SetOpt = None,
    jobs: JobsOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Fit every area in the returns and compare the designs there: one area, one task.

    For each commissioner: scale the template to its population (from --population or estimated
    from the returns), fit the design to its months but those held out, back-test the held-out
    months beside the naive forecast, and run the compared designs on the same patients. Writes
    national.csv (a row an area), national_backtest.csv, national.html and, per area,
    areas/CODE/scaled.toml and calibrated.toml. A failed area is recorded and the rest go on."""
    settings = national_task.Settings(design, tuple(compare or ()), holdout, fit_referrals, reps, rounds, compare_reps)
    fits.national(scenario, rtt, areas, population, settings, out, resume, force, set_, jobs, scheduler, quiet)
