"""Keyed streams draw the numbers their definition gives, in either form of the model.

The definition (``sim.model.draws``) is on unsigned 64-bit words: SplitMix64's finaliser for a
seed, Knuth's MMIX step, the top 53 bits as a uniform. The model keeps the words as C's signed
64-bit integers when compiled and as Python integers from the sources; both must give these
numbers to the last bit, whichever runs here (the compiled one in CI).
"""

from __future__ import annotations

import bisect

from hypothesis import given
from hypothesis import strategies as st

from sim.model import draws
from sim.model.draws import EPISODE, GP, ROUTE, SURGERY
from sim.model.patient import Patient

WORD = (1 << 64) - 1


def mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & WORD
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & WORD
    return z ^ (z >> 31)


def seed(key: int, purpose: int, place: int = 0, episode: int = 0) -> int:
    code = (purpose << 40) | (place << 20) | episode
    return mix((key + (code + 1) * 0x9E3779B97F4A7C15) & WORD)


def uniforms(state: int, n: int) -> list[float]:
    out = []
    for _ in range(n):
        out.append((state >> 11) / 2**53)
        state = (state * 6364136223846793005 + 1442695040888963407) & WORD
    return out


KEYS = st.integers(0, (1 << 63) - 1)
PLACES = st.integers(0, (1 << 20) - 1)


@given(KEYS, st.sampled_from([EPISODE, ROUTE, GP, SURGERY]), PLACES, PLACES)
def test_a_seed_is_splitmix_of_the_key_and_code(key: int, purpose: int, place: int, episode: int) -> None:
    assert draws.seed(key, purpose, place, episode) & WORD == seed(key, purpose, place, episode)


@given(st.integers(0, WORD))
def test_a_step_and_a_uniform_are_those_of_the_unsigned_word(state: int) -> None:
    signed = state - (1 << 64) if state >> 63 and draws.COMPILED else state
    assert draws.step(signed) & WORD == (state * 6364136223846793005 + 1442695040888963407) & WORD
    assert draws.unit(signed) == (state >> 11) / 2**53


def patient(key: int) -> Patient:
    return Patient(0, 0, "physio", False, 0, key, 0.5, 0.5, 0.5)


@given(KEYS, st.lists(st.integers(0, 5), min_size=1, max_size=4))
def test_a_patients_streams_draw_the_defined_numbers(key: int, places: list[int]) -> None:
    p = patient(key)
    for purpose in (ROUTE, GP, SURGERY):
        assert [p.u(purpose) for _ in range(5)] == uniforms(seed(key, purpose), 5)
    seen: dict[int, int] = {}
    for place in places:  # each episode at a place has its own stream, numbered from 0
        p.arrive(place)
        assert [p.here_u() for _ in range(3)] == uniforms(seed(key, EPISODE, place, seen.get(place, 0)), 3)
        seen[place] = seen.get(place, 0) + 1


def test_the_largest_words_draw_below_one() -> None:
    assert uniforms(WORD, 1) == [draws.unit(-1 if draws.COMPILED else WORD)]
    assert draws.unit(-1 if draws.COMPILED else WORD) < 1.0


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40), st.floats(0.0, 1.0, exclude_max=True))
def test_the_search_of_a_row_is_bisect_right(values: list[float], u: float) -> None:
    """Compiled, ``Choice`` and ``CountTable`` search their rows with ``first_above``; from the
    sources with ``bisect``: the same index either way."""
    cum = sorted(values)
    assert draws.first_above(cum, u) == bisect.bisect_right(cum, u)


@given(st.lists(st.integers(0, 61), min_size=1, max_size=12))
def test_episodes_are_counted_by_place(places: list[int]) -> None:
    p = patient(1)
    for i, place in enumerate(places):
        assert p.episodes_at(place) == places[:i].count(place)
        p.arrive(place)
        assert p.episodes_at(place) == places[: i + 1].count(place)
