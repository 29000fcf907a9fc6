"""Who pays whom: one payment policy for each way a design can be paid.

A design names its kind (``designs.<name>.payment``); :func:`payment_policy` picks the
policy for that kind from :data:`PAYMENT_POLICIES` once, with its terms from the
scenario's ``[finance]``. Every policy settles the activity of a design's result rows, valued
service by service (:class:`Element`), the same way, so a new form of contract is a new class
here, not new branches in the costing. Providers are paid under their own terms
(``finance.providers.<name>.payment``), chosen the same way from :data:`PROVIDER_PAYMENTS`;
an integrator's contract may cover only some services (its ``scope``), and the commissioner
pays for the rest as it would without one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeAlias, TypeVar

import numpy as np

from sim.base.lazy import later
from sim.money.contracts import prime_account, tariff_share_account
from sim.money.prices import cost_index, price_index
from sim.money.provider_costs import ProviderCost
from sim.scenario.contracts import PrimeContract, TariffShare
from sim.scenario.finance import Finance, Provider
from sim.scenario.names import PRIME_SURPLUS_GBP

pd = later("pandas")

FINANCE_COLUMNS = (
    "tariff_value_gbp",
    "commissioner_cost_gbp",
    "gp_cost_gbp",
    "system_cost_gbp",
    "prime_income_gbp",
    "prime_cost_gbp",
    PRIME_SURPLUS_GBP,
    "commissioner_gain_share_gbp",
    "quality_payment_gbp",
    "capacity_cost_gbp",
)
"""The money columns every result row gets (empty where a design's payment has none)."""

INTEGRATOR_COLUMNS = (
    "prime_income_gbp",
    "prime_cost_gbp",
    PRIME_SURPLUS_GBP,
    "commissioner_gain_share_gbp",
    "quality_payment_gbp",
)
"""The money columns only an integrator's payment fills: blank for a design paid by activity."""

PAID_TO_PROVIDER = "pay_provider_"
"""Column prefix: what the commissioner pays a provider directly (``pay_provider_<name>_gbp``)."""

COST_OF_PROVIDER = "cost_provider_"
"""Column prefix: what an integrator pays a provider for its care (``cost_provider_<name>_gbp``)."""

Terms = TypeVar("Terms", PrimeContract, TariffShare)

Columns: TypeAlias = "dict[str, pd.Series]"
"""Result columns by name, each indexed like the rows they were settled for."""


@dataclass(frozen=True)
class Element:
    """One service's activity, or the theatre's, valued at tariff: who provides it, and the
    value in each result row."""

    provider: str
    value: pd.Series


Elements = dict[str, Element]
"""A design's elements by name (its services and ``theatre``)."""

Costs = dict[str, ProviderCost]
"""The costs of the providers whose costs are given, by provider (:mod:`sim.money.provider_costs`)."""

Premiums = dict[str, np.ndarray]
"""The premiums of sessions a capacity policy added, by element (:func:`sim.money.provider_costs.session_premiums`)."""


def by_provider(elements: Elements) -> dict[str, pd.Series]:
    """The elements' values summed per provider, in the order the providers first appear."""
    out: dict[str, pd.Series] = {}
    for element in elements.values():
        out[element.provider] = out[element.provider] + element.value if element.provider in out else element.value
    return out


def provider_column(prefix: str, provider: str) -> str:
    """The column of one provider's money, e.g. ``cost_provider_acute_trust_gbp``."""
    return f"{prefix}{provider}_gbp"


def paid_by_tariff(tariff_value: pd.Series, terms: Provider, index: np.ndarray) -> pd.Series:
    """Payment by Results: the provider is paid the tariff value of its activity (at that
    year's prices already)."""
    return tariff_value


def paid_by_block(tariff_value: pd.Series, terms: Provider, index: np.ndarray) -> pd.Series:
    """A block contract: the same sum every year whatever the activity, moved by the
    provider's price ``index`` for the year."""
    return pd.Series(terms.block_gbp * index, index=tariff_value.index)


PROVIDER_PAYMENTS: dict[str, Callable[[pd.Series, Provider, np.ndarray], pd.Series]] = {
    "tariff": paid_by_tariff,
    "block": paid_by_block,
}
"""How the commissioner pays a provider directly, by ``finance.providers.<name>.payment``."""


def delivery_costs(tariff_by_provider: dict[str, pd.Series], providers: dict[str, Provider]) -> dict[str, pd.Series]:
    """What an integrator pays for the care delivered: each provider's share of tariff.

    Sub-contracted providers are paid ``prime_cost_share`` of tariff; for the services the
    integrator runs itself the tariff stands for its unit cost (share 1.0 unless set otherwise).
    """
    return {p: value * providers[p].prime_cost_share for p, value in tariff_by_provider.items()}


class PaymentPolicy(ABC):
    """How the commissioner pays for one design's care.

    Subclasses name the ``kind`` of ``designs.<name>.payment`` they implement.
    """

    kind: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_finance(cls, finance: Finance, population: float | None = None) -> PaymentPolicy:
        """The policy with its terms taken from the scenario's ``[finance]`` (and its
        population, for a price per head)."""

    @abstractmethod
    def settle(
        self, rows: pd.DataFrame, elements: Elements, providers: dict[str, Provider], costs: Costs | None = None,
        premiums: Premiums | None = None,
    ) -> Columns:  # fmt: skip
        """The money columns for ``rows``, given the tariff value of each element's activity
        (and the costs of the providers whose costs are given, and the premiums of sessions a
        capacity policy added, by element: an integrator pays those of the elements it buys).

        Returns ``commissioner_cost_gbp``, whichever other :data:`FINANCE_COLUMNS` the policy
        defines, and one column per provider (see :func:`provider_column`).
        """


class ActivityPayment(PaymentPolicy):
    """Fragmented: the commissioner pays each provider under its own terms (tariff or block)."""

    kind = "activity"

    def __init__(self, finance: Finance):
        self.finance = finance

    @classmethod
    def from_finance(cls, finance: Finance, population: float | None = None) -> ActivityPayment:
        return cls(finance)

    def settle(
        self, rows: pd.DataFrame, elements: Elements, providers: dict[str, Provider], costs: Costs | None = None,
        premiums: Premiums | None = None,
    ) -> Columns:  # fmt: skip
        tariff_by_provider = by_provider(elements)
        paid = {
            p: PROVIDER_PAYMENTS[providers[p].payment](value, providers[p], price_index(self.finance, p, rows["year"]))
            for p, value in tariff_by_provider.items()
        }
        out = {provider_column(PAID_TO_PROVIDER, p): value for p, value in paid.items()}
        out["commissioner_cost_gbp"] = sum(paid.values())
        return out


class IntegratorPayment(PaymentPolicy, Generic[Terms]):
    """The commissioner pays one integrator, which pays the providers for the care delivered.

    Its terms are ``finance.<kind>``, the section that scenario validation requires of a
    design paid this way.
    """

    def __init__(self, terms: Terms, finance: Finance, population: float | None = None):
        self.terms, self.finance, self.population = terms, finance, population

    @classmethod
    def from_finance(cls, finance: Finance, population: float | None = None) -> IntegratorPayment[Terms]:
        terms = getattr(finance, cls.kind)
        if terms is None:  # scenario validation already says so, naming the design
            raise ValueError(f"a design is paid by {cls.kind} but finance.{cls.kind} is missing")
        return cls(terms, finance, population)

    def settle(
        self, rows: pd.DataFrame, elements: Elements, providers: dict[str, Provider], costs: Costs | None = None,
        premiums: Premiums | None = None,
    ) -> Columns:  # fmt: skip
        scope = self.terms.scope
        inside = {name: e for name, e in elements.items() if scope is None or name in scope}
        outside = {name: e for name, e in elements.items() if name not in inside}
        delivery_by_provider = delivery_costs(by_provider(inside), providers)
        at_cost = set()
        for p in delivery_by_provider:  # services it runs itself: their costs, not a share of tariff
            if providers[p].integrator_pays == "costs" and costs and p in costs:
                delivery_by_provider[p] = pd.Series(costs[p].total, index=rows.index)
                at_cost.add(p)  # its costs hold its premiums already
        for name, premium in (premiums or {}).items():  # sessions it asked for beyond the contracted capacity
            if name in inside and inside[name].provider not in at_cost:
                p = inside[name].provider
                delivery_by_provider[p] = delivery_by_provider[p] + premium
        account = self.account(rows, inside, sum(delivery_by_provider.values()))
        out = {col: account[col] for col in FINANCE_COLUMNS if col in account}
        # what the integrator pays each provider: a bid is re-priced from these columns
        out |= {provider_column(COST_OF_PROVIDER, p): cost for p, cost in delivery_by_provider.items()}
        if outside:  # outside the contract's scope the commissioner pays the providers as before
            direct = ActivityPayment(self.finance).settle(rows, outside, providers)
            out["commissioner_cost_gbp"] = out["commissioner_cost_gbp"] + direct.pop("commissioner_cost_gbp")
            out |= direct
        return out

    @abstractmethod
    def account(self, rows: pd.DataFrame, elements: Elements, delivery_cost: pd.Series) -> pd.DataFrame:
        """The integrator's account for each row, in the columns of :data:`FINANCE_COLUMNS`,
        given the elements it is paid for and what their care costs it."""


class PrimeContractPayment(IntegratorPayment[PrimeContract]):
    """A capitated prime contract (``finance.prime_contract``): see :func:`sim.money.contracts.prime_account`."""

    kind = "prime_contract"

    def account(self, rows: pd.DataFrame, elements: Elements, delivery_cost: pd.Series) -> pd.DataFrame:
        if self.terms.year1_value_gbp is None and self.population is None:
            raise ValueError("a price per head needs the scenario's population")
        price = self.terms.year1_value(self.population or 0.0)
        return prime_account(rows, delivery_cost, self.terms, price, cost_index(self.finance, rows["year"]))


class TariffSharePayment(IntegratorPayment[TariffShare]):
    """Pennine-style (``finance.tariff_share``): see :func:`sim.money.contracts.tariff_share_account`."""

    kind = "tariff_share"

    def account(self, rows: pd.DataFrame, elements: Elements, delivery_cost: pd.Series) -> pd.DataFrame:
        tariff = {name: e.value for name, e in elements.items()}
        return tariff_share_account(rows, tariff, delivery_cost, self.terms, cost_index(self.finance, rows["year"]))


POLICIES: tuple[type[PaymentPolicy], ...] = (ActivityPayment, PrimeContractPayment, TariffSharePayment)
PAYMENT_POLICIES: dict[str, type[PaymentPolicy]] = {policy.kind: policy for policy in POLICIES}
"""The policy for each kind of ``designs.<name>.payment``."""


def payment_policy(kind: str, finance: Finance, population: float | None = None) -> PaymentPolicy:
    """The policy for a design paid by ``kind``, with its terms (and the scenario's
    ``population``, which a price per head needs).

    Raises
    ------
    ValueError
        If no policy pays by ``kind``, or its terms are missing from ``finance``.
    """
    if kind not in PAYMENT_POLICIES:
        raise ValueError(f"no payment policy for '{kind}': expected one of {', '.join(PAYMENT_POLICIES)}")
    return PAYMENT_POLICIES[kind].from_finance(finance, population)
