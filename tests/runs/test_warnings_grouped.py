"""Warnings alike grouped into one with a count: the first run reads clean."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sim.base.alike import group, pattern
from sim.commands import shared

WARMUP = (
    "warm-up may be too short for design '{d}': the number in the system settles by day {day} (MSER-5), the warm-up "
    "ends at day 365. Rerun with --set run.warmup_days=1095 to see"
)


def test_one_warning_for_each_design_becomes_one_with_a_count() -> None:
    messages = [WARMUP.format(d="fragmented", day=1050), WARMUP.format(d="prime_queue", day=700)]
    (joined,) = group(messages)
    head, *lines = joined.splitlines()
    assert head == "2 alike: warm-up may be too short for design …"
    assert lines[0].strip().startswith("'fragmented': the number in the system settles by day 1050")
    assert lines[1].strip().startswith("'prime_queue': the number in the system settles by day 700")
    assert lines[-1].strip().endswith("--set run.warmup_days=1095 to see")


def test_services_over_capacity_at_several_designs_are_grouped_and_others_kept_in_order() -> None:
    messages = [
        "fragmented: physio over capacity in 2 of 10 replications from year 4 (load up to 1.04-1.11)",
        "only 4 replication(s): the 95% intervals shown are rough; use at least 10",
        "prime_queue: theatre over capacity in 1 of 10 replications from year 5 (load up to 1)",
    ]
    out = group(messages)
    assert len(out) == 2
    assert out[0].startswith("2 alike:") and "fragmented: physio" in out[0] and "prime_queue: theatre" in out[0]
    assert out[1] == messages[1]


def test_the_same_warning_twice_is_said_once_with_its_count() -> None:
    assert group(["x is odd", "x is odd"]) == ["x is odd (2 times)"]


@given(st.lists(st.sampled_from(["a: load 1.2 at 'x'", "b: load 0.9 at 'y'", "nothing alike", "other 3"]), max_size=8))
def test_every_message_is_kept(messages: list[str]) -> None:
    out = "\n".join(group(messages))
    for m in set(messages):
        rest = m.split(": ", 1)[-1]
        assert all(word in out for word in rest.split()), m
    assert len(group(messages)) == len({pattern(m) for m in messages})


def test_the_command_prints_a_burst_of_warnings_grouped(capsys) -> None:
    """What the batch's checks say comes out once the checks end, alike grouped."""
    with shared.grouped():
        shared.warn(WARMUP.format(d="fragmented", day=1050))
        shared.warn(WARMUP.format(d="prime", day=700))
        shared.warn(WARMUP.format(d="prime_queue", day=800))
    err = " ".join(capsys.readouterr().err.split())
    assert err.count("warning:") == 1 and "warning: 3 alike: warm-up may be too short" in err


def test_a_warning_outside_a_burst_is_printed_at_once(capsys) -> None:
    shared.warn("on its own")
    assert "warning: on its own" in capsys.readouterr().err
