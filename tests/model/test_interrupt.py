"""Ctrl-C while a model runs stops it at the start of a simulated day, never inside one."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from sim.base.interrupt import requested, stop_at_day_boundaries
from sim.model.pathway import Pathway
from sim.runs import tasks
from sim.runs.tasks import Task, run_task
from tests.conftest import scenario_from, single_stage


@pytest.fixture
def default_handler() -> Iterator[None]:
    """The interpreter's own Ctrl-C handler, as an interactive run has it, whatever the test runner set."""
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _interrupt_at(model: Pathway, day: float) -> None:
    def press() -> Iterator[object]:
        yield model.env.timeout(day)
        signal.raise_signal(signal.SIGINT)

    model.env.process(press())


def test_ctrl_c_is_held_to_the_end_of_the_block_and_the_handler_restored(default_handler: None) -> None:
    with pytest.raises(KeyboardInterrupt), stop_at_day_boundaries():
        signal.raise_signal(signal.SIGINT)  # would raise here with the default handler
        assert requested()
        held = True
    assert held and not requested()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_model_interrupted_mid_day_stops_at_the_next_day(default_handler: None) -> None:
    model = Pathway(scenario_from(single_stage(8, 10)), "fragmented", 0)
    _interrupt_at(model, 100.5)
    with pytest.raises(KeyboardInterrupt), stop_at_day_boundaries():
        model.run()
    assert model.env.now == 101
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_replication_interrupted_raises_rather_than_recording_an_error(
    default_handler: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Pathway] = []

    class Pressed(Pathway):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)
            _interrupt_at(self, 30.5)
            built.append(self)

    monkeypatch.setattr(tasks, "Pathway", Pressed)
    with pytest.raises(KeyboardInterrupt):
        run_task(scenario_from(single_stage(8, 10)), Task(0, 0, "fragmented"))
    assert built[0].env.now == 31, "the task defers Ctrl-C to the next day"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_or_programmed_ctrl_c_is_left_alone() -> None:
    before = signal.getsignal(signal.SIGINT)
    try:
        for handler in (signal.SIG_IGN, lambda *_: None):
            signal.signal(signal.SIGINT, handler)
            with stop_at_day_boundaries():
                assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, before)
