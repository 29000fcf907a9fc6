"""Uncertain inputs: a distribution for any numeric value of a scenario, by its key path.

The outer Monte Carlo loop: each replication draws its own parameter set from its own
stream (``SeedSequence(seed, spawn_key=(replication, "uncertainty"))``), then runs the
simulation with it (the inner loop). Both designs of a replication get the same draw.
Putting drawn values into a scenario validates it again, so that step
(:func:`sim.scenario.loading.apply_parameters`) belongs to loading, which this module comes before.

Distributions are given by the moments a planner knows (mean and sd of the value itself),
or by their natural parameters::

    [uncertainty."demand.growth"]
    dist = "triangular"
    low = 0.02
    mode = 0.04
    high = 0.08

    [uncertainty."demand.referrals_per_year"]          # ±10% of the value set, whatever it is
    dist = "uniform"
    relative = true
    low = 0.9
    high = 1.1

    [uncertainty."designs.prime.routing.specialist"]   # a row that must still sum to 1
    dist = "dirichlet"
    concentration = 200                               # alpha = 200 x the row's point values
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, TypeAdapter, ValidationError, model_validator

from sim.base.lazy import later
from sim.base.streams import generator
from sim.scenario.fields import Strict
from sim.scenario.schema import Scenario, ScenarioError
from sim.scenario.values import MISSING, scenario_to_dict, value_at

special = later("scipy.special")  # quantiles, without the second it takes to import scipy.stats

Positive = Annotated[float, Field(gt=0.0)]
TAIL = 1e-4
"""The plausible range of a distribution leaves out this much at each end: in 1,000
replications a draw beyond one end turns up with a chance of about 1 in 10."""


class _Dist(Strict):
    also: list[str] = Field(default_factory=list)
    """Other key paths that take the same drawn value (e.g. a follow-up price with a first)."""
    relative: bool = False
    """Parameters as multiples of the value the scenario sets (``low = 0.9, high = 1.1``: ±10%),
    so the range moves with the value: a copy of a scenario that changes the value keeps a
    distribution around its own value, not the original's."""

    @model_validator(mode="after")
    def _relative_numbers(self) -> _Dist:
        if self.relative and isinstance(self, (Beta, Dirichlet)):
            raise ValueError(f"relative is for numbers given by a range or moments, not {self.dist}")  # type: ignore[attr-defined]
        return self

    def sample(self, rng: np.random.Generator, point: Any) -> Any:
        """One draw for a key whose value in the scenario is ``point``."""
        value = self.draw(rng, point)
        return value * point if self.relative else value

    def ends(self, point: Any = None) -> tuple[float, float]:
        """The lowest and highest values drawn in practice (bounds, or the TAIL quantiles)."""
        lo, hi = self._ends()
        if self.relative:
            lo, hi = sorted((lo * point, hi * point))
        return lo, hi

    def _ends(self) -> tuple[float, float]:
        lo, hi = self._quantiles(np.array([TAIL, 1.0 - TAIL]))
        return float(lo), float(hi)

    def draw(self, rng: np.random.Generator, point: Any) -> Any:
        raise NotImplementedError

    def _quantiles(self, q: np.ndarray) -> np.ndarray:
        """The quantiles ``q``, computed as ``scipy.stats``' ``ppf`` does (a test checks it)."""
        raise NotImplementedError


class Normal(_Dist):
    dist: Literal["normal"]
    mean: float
    sd: Annotated[float, Field(ge=0.0)]

    def draw(self, rng: np.random.Generator, point: Any) -> float:
        return float(rng.normal(self.mean, self.sd))

    def _quantiles(self, q: np.ndarray) -> np.ndarray:
        return special.ndtri(q) * self.sd + self.mean


class LogNormal(_Dist):
    """Positive, right-skewed; ``mean`` and ``sd`` are of the value itself."""

    dist: Literal["lognormal"]
    mean: Positive
    sd: Annotated[float, Field(ge=0.0)]

    def draw(self, rng: np.random.Generator, point: Any) -> float:
        sigma2 = math.log(1.0 + (self.sd / self.mean) ** 2)
        return float(rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)))

    def _quantiles(self, q: np.ndarray) -> np.ndarray:
        sigma2 = math.log(1.0 + (self.sd / self.mean) ** 2)
        return np.exp(math.sqrt(sigma2) * special.ndtri(q)) * math.exp(math.log(self.mean) - sigma2 / 2)


class Gamma(_Dist):
    """Positive; ``mean`` and ``sd`` of the value."""

    dist: Literal["gamma"]
    mean: Positive
    sd: Positive

    def draw(self, rng: np.random.Generator, point: Any) -> float:
        shape = (self.mean / self.sd) ** 2
        return float(rng.gamma(shape, self.mean / shape))

    def _quantiles(self, q: np.ndarray) -> np.ndarray:
        shape = (self.mean / self.sd) ** 2
        return special.gammaincinv(shape, q) * (self.mean / shape)


class Beta(_Dist):
    """A probability; either ``alpha`` and ``beta``, or ``mean`` and ``sd``."""

    dist: Literal["beta"]
    alpha: Positive | None = None
    beta: Positive | None = None
    mean: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    sd: Positive | None = None

    @model_validator(mode="after")
    def _parameters(self) -> Beta:
        natural = self.alpha is not None and self.beta is not None
        moments = self.mean is not None and self.sd is not None
        if natural == moments:
            raise ValueError("give either alpha and beta, or mean and sd")
        if moments and self.sd**2 >= self.mean * (1 - self.mean):
            raise ValueError(f"sd {self.sd} is too large for a beta with mean {self.mean}")
        return self

    def parameters(self) -> tuple[float, float]:
        if self.alpha is not None and self.beta is not None:
            return self.alpha, self.beta
        m, v = self.mean, self.sd**2
        k = m * (1 - m) / v - 1
        return m * k, (1 - m) * k

    def draw(self, rng: np.random.Generator, point: Any) -> float:
        return float(rng.beta(*self.parameters()))

    def _quantiles(self, q: np.ndarray) -> np.ndarray:
        return special.betaincinv(*self.parameters(), q)


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self

    def draw(self, rng: np.random.Generator, point: Any) -> float:
        return float(rng.uniform(self.low, self.high))

    def _ends(self) -> tuple[float, float]:
        return self.low, self.high


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def draw(self, rng: np.random.Generator, point: Any) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))

    def _ends(self) -> tuple[float, float]:
        return self.low, self.high


class Dirichlet(_Dist):
    """A row of shares (a routing row, a need or case mix) that must still sum to 1.

    ``concentration`` scales the row's point values into the Dirichlet's alphas: larger
    means tighter around the point values. ``alpha`` may instead give them one by one.
    """

    dist: Literal["dirichlet"]
    concentration: Positive | None = None
    alpha: dict[str, Positive] | None = None

    @model_validator(mode="after")
    def _parameters(self) -> Dirichlet:
        if (self.concentration is None) == (self.alpha is None):
            raise ValueError("give either concentration or alpha")
        return self

    def draw(self, rng: np.random.Generator, point: Any) -> dict[str, float]:
        if self.alpha is not None:
            keys = list(self.alpha)
            alpha = np.array([self.alpha[k] for k in keys])
        else:
            keys = [k for k, v in point.items() if v > 0]
            alpha = np.array([point[k] for k in keys]) * self.concentration
        x = rng.dirichlet(alpha)
        # Rows must sum to 1 to the last bit; the largest share absorbs the rounding, since a
        # tiny one could be pushed below 0.
        big = int(np.argmax(x))
        x[big] = 1.0 - (x.sum() - x[big])
        out = dict.fromkeys(point, 0.0)
        out.update(zip(keys, (float(v) for v in x), strict=True))
        return out


Distribution = Annotated[
    Normal | LogNormal | Gamma | Beta | Uniform | Triangular | Dirichlet,
    Field(discriminator="dist"),
]
_ADAPTER = TypeAdapter(dict[str, Distribution])


def parse_uncertainty(raw: dict[str, Any], scenario: Scenario, source: str) -> dict[str, Distribution]:
    """Validate an ``[uncertainty]`` table against the scenario it varies."""
    try:
        dists = _ADAPTER.validate_python(raw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = err["loc"]
        key = f'uncertainty."{loc[0]}"' + (f".{loc[-1]}" if len(loc) > 2 else "")
        problem = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            problem = f"unknown key '{loc[-1]}'"
        raise ScenarioError(source, key, problem) from None
    data = scenario_to_dict(scenario)
    for key, dist in dists.items():
        problem = _misfit(dist, data, key)
        if problem:
            raise ScenarioError(source, f'uncertainty."{key}"' + problem[0], problem[1])
    return dists


def _misfit(dist: Distribution, data: dict[str, Any], key: str) -> tuple[str, str] | None:
    """Why a distribution does not fit the value at its key path (and its ``also`` keys):
    (where below the entry, problem), or None when it fits."""
    point = value_at(data, key)
    if point is MISSING:
        return "", f"no value at key path '{key}' in the scenario"
    if isinstance(dist, Dirichlet):
        if not isinstance(point, dict) or not all(isinstance(v, int | float) for v in point.values()):
            return "", "dirichlet needs a table of shares (a routing row or a mix)"
        if dist.alpha is not None and set(dist.alpha) - set(point):
            return "", f"alpha names keys not in the row: {sorted(set(dist.alpha) - set(point))}"
    elif isinstance(point, bool) or not isinstance(point, int | float):
        return "", f"'{key}' is not a number"
    for other in dist.also:
        if type(value_at(data, other)) is not type(point) and not isinstance(value_at(data, other), int | float):
            return ".also", f"'{other}' is not a value like '{key}'"
    return None


Revalidate = Callable[[Scenario, dict[str, Any]], Scenario]
"""The scenario with values set by key path, validated again; raises ScenarioError."""


def check_limits(dists: dict[str, Distribution], scenario: Scenario, source: str, revalidate: Revalidate) -> None:
    """Every value a distribution draws in practice must be valid where it goes.

    The scenario is validated (by ``revalidate``, which loading passes in, since loading
    is what calls this) with every uncertain value at the low end of its plausible range,
    then at the high end, so a normal on a probability or a uniform reaching a negative
    count is an error at load time, not a failure in every replication.
    """
    singles = {k: d for k, d in dists.items() if not isinstance(d, Dirichlet)}
    if not singles:
        return
    data = scenario_to_dict(scenario)
    # the backlog was checked already: no need to read its file twice more
    bare = scenario.model_copy(update={"uncertainty": {}, "backlog": None})
    for end, word in ((0, "lowest"), (1, "highest")):
        values = {}
        for key, dist in singles.items():
            value = dist.ends(value_at(data, key))[end]
            if isinstance(value_at(data, key), int):
                value = round(value)
            values |= dict.fromkeys((key, *dist.also), value)
        try:
            revalidate(bare, values)
        except ScenarioError as e:
            raise _beyond_limits(e, singles, values, word, source) from None


def _beyond_limits(
    e: ScenarioError, singles: dict[str, Distribution], values: dict[str, Any], word: str, source: str
) -> ScenarioError:
    """The error for a scenario invalid at one end of the ranges, naming the entry to blame."""
    culprit = next((k for k, d in singles.items() if any(e.key == t or e.key.startswith(t + ".") for t in (k, *d.also))), None)
    if culprit is None:
        return ScenarioError(source, "uncertainty", f"with every uncertain value at its {word}: {e.key}: {e.problem}")
    return ScenarioError(
        source,
        f'uncertainty."{culprit}"',
        f"its {word} plausible draw, {values[culprit]:.4g}, is not a valid value: {e.problem} "
        "(choose a distribution that stays within the key's limits, e.g. beta for a probability)",
    )


def draw_parameters(dists: dict[str, Distribution], scenario: Scenario, replication: int) -> dict[str, Any]:
    """One replication's parameter set, from its own stream, in a fixed key order."""
    rng = generator(scenario.run.seed, replication, "uncertainty")
    data = scenario_to_dict(scenario)
    drawn = {}
    for key in sorted(dists):
        value = dists[key].sample(rng, value_at(data, key))
        if isinstance(value_at(data, key), int) and not isinstance(value, dict):
            value = round(value)  # counts (beds, slots) stay whole
        drawn[key] = value
        for other in dists[key].also:
            drawn[other] = value
    return drawn


def parameter_columns(drawn: dict[str, Any], copies: set[str] | None = None) -> dict[str, float]:
    """Drawn values as ``param.<key path>`` columns; a row gives one column per share.

    ``copies`` (the ``also`` targets) are left out: each is the same number as its draw, and
    a second, identical column would count one uncertain input twice in a sensitivity ranking.
    """
    out = {}
    for key, value in drawn.items():
        if copies and key in copies:
            continue
        if isinstance(value, dict):
            for k, v in value.items():
                out[f"param.{key}.{k}"] = v
        else:
            out[f"param.{key}"] = value
    return out
