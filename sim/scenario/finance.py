"""The ``[finance]`` section: how providers are paid, how prices move, the discount rate,
and the integrator's terms (:mod:`sim.scenario.contracts`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sim.scenario.contracts import PrimeContract, TariffShare, share_in_year
from sim.scenario.fields import Money, Probability, Strict


class Provider(Strict):
    """How a provider is paid: by the commissioner (fragmented) and by a prime contractor.

    ``prices_follow`` says how its prices (tariffs, its block sum, what a prime pays it) move
    after year 1: with the national tariff (``finance.inflation.tariff``) or with its own
    costs (``finance.inflation.pay`` and ``non_pay``), as for services run at cost.
    """

    payment: Literal["tariff", "block"] = "tariff"
    block_gbp: Money = 0.0
    prime_cost_share: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0
    prices_follow: Literal["tariff", "costs"] = "tariff"
    overheads_gbp: Money = 0.0
    """Its fixed costs a year beyond its services' staff and slots (management, estates)."""
    integrator_pays: Literal["tariff_share", "costs"] = "tariff_share"
    """What an integrator pays it: ``prime_cost_share`` of tariff, or its costs (staff, slots,
    contacts and overheads), as for services an integrator runs itself."""


Rate = Annotated[float, Field(ge=-0.5, le=1.0)]
YearlyRate = Rate | Annotated[list[Rate], Field(min_length=1, max_length=50)]
"""A change a year: one rate for every year, or a list whose first entry is the change from
contract year 1 to year 2, the next from year 2 to 3, and so on (the last holds after)."""


def rate_index(rate: float | list[float], year: int) -> float:
    """Prices in contract ``year`` relative to year 1, given a :data:`YearlyRate`."""
    index = 1.0
    for step in range(1, year):
        index *= 1.0 + share_in_year(rate, step)
    return index


class Inflation(Strict):
    """How prices move after the contract's first year (the scenario's prices are year 1's).

    Pay and non-pay inflation move the costs of what is run at cost (providers whose
    ``prices_follow = "costs"``, the prime's overheads, GP consultations); ``tariff`` is the
    net change in national tariff prices (cost uplift less the efficiency factor), which moves
    tariff-paid activity and block sums. The contract's ``escalator`` is set against them.
    """

    pay: YearlyRate = 0.0
    non_pay: YearlyRate = 0.0
    pay_share: Probability = 0.7
    """Share of a service's own costs that are pay (staff)."""
    tariff: YearlyRate = 0.0

    def cost_index(self, year: int) -> float:
        """Costs in ``year`` relative to year 1: pay and non-pay, weighted."""
        index = 1.0
        for step in range(1, year):
            pay, other = share_in_year(self.pay, step), share_in_year(self.non_pay, step)
            index *= 1.0 + self.pay_share * pay + (1.0 - self.pay_share) * other
        return index

    def tariff_index(self, year: int) -> float:
        """National tariff prices in ``year`` relative to year 1."""
        return rate_index(self.tariff, year)


GREEN_BOOK_RATE = 0.035
"""HM Treasury Green Book social time preference rate: the default discount rate."""


class Finance(Strict):
    """Who is paid what, how prices move, and how later years are discounted.

    ``discount_rate`` turns each contract year's money into a net present value: year 1 is
    not discounted, year ``y`` by ``(1 + rate) ** (y - 1)``.
    """

    providers: dict[str, Provider]
    inflation: Inflation = Field(default_factory=Inflation)
    discount_rate: Annotated[float, Field(ge=0.0, le=0.5)] = GREEN_BOOK_RATE
    prime_contract: PrimeContract | None = None
    tariff_share: TariffShare | None = None
