"""Plain-English names for result columns and scenario keys, for charts and tables a board reads."""

from __future__ import annotations

from collections.abc import Callable

from sim.rtt.summary import parse_metric
from sim.scenario.columns import find, stage_name, words

BID_FIGURES: dict[str, str] = {  # the bid summary's own figures, which are not result columns
    "bid_year1_gbp": "Year-1 price bid",
    "bid_per_head_gbp": "Year-1 price bid per head of the population covered",
    "cumulative_surplus_gbp": "Expected cumulative surplus of the prime",
    "cumulative_surplus_npv_gbp": "Expected cumulative surplus, net present value (year-1 pounds)",
    "commissioner_cost_total_npv_gbp": "Commissioner spend, whole contract, net present value",
    "discount_rate": "Discount rate a year (net present values)",
    "safe_price_per_head_gbp": "Lowest price per head within the risk appetite",
    "margin_pct": "Expected margin on income",
    "loss_probability_year1": "Probability of a loss in year 1",
    "loss_probability_any_year": "Probability of a loss in any year",
    "loss_probability_cumulative": "Probability of a loss over the whole contract",
    "cumulative_surplus_p5_gbp": "Cumulative surplus, 5th percentile (a bad case)",
    "value_at_risk_5pct_gbp": "5% value at risk (the loss at the 5th percentile, if any)",
    "commissioner_cost_total_gbp": "Commissioner spend, whole contract",
    "commissioner_gain_share_total_gbp": "Commissioner's share of the surplus, whole contract",
    "safe_price_year1_gbp": "Lowest year-1 price within the risk appetite",
    "max_loss_probability": "Risk appetite (highest acceptable probability of a cumulative loss)",
    "loss_probability": "Probability of a loss",
    "reserve_gbp": "Reserve (or parent guarantee) the prime holds",
    "cash_low_point_gbp": "Lowest running cash balance (0 if it never goes below)",
    "reserve_exhausted_probability_6m": "Probability the reserve runs out within 6 months",
    "reserve_exhausted_probability_12m": "Probability the reserve runs out within 12 months",
    "reserve_exhausted_probability_24m": "Probability the reserve runs out within 24 months",
    "reserve_exhausted_probability_contract": "Probability the reserve runs out during the contract",
    "cash_buffer_90pct_gbp": "Cash buffer (reserve plus guarantee) for a 90% chance of never running out",
    "pathways_taken_over": "Incomplete RTT pathways taken over at the contract start",
}

TREATMENT_FUNCTIONS: dict[str, tuple[str, str]] = {  # code: (name, short name) as RTT returns name them
    "110": ("Trauma & orthopaedics", "T&O"),
    "410": ("Rheumatology", "Rheumatology"),
    "X01": ("Other", "Other"),
    "999": ("All", "All"),
}
RETURN_PARTS: dict[str, str] = {
    "incomplete": "incomplete",
    "admitted": "admitted",
    "nonadmitted": "non-admitted",
    "clock_starts": "clock starts",
    "removals": "removals",
    "transfers_in": "transfers in",
    "transfers_out": "transfers out",
}
RETURN_STATISTICS: dict[str, str] = {
    "per_month": "per month",
    "within_18w_pct": "within 18 weeks (%)",
    "median_weeks": "median wait (weeks)",
    "p95_weeks": "95th percentile wait (weeks)",
}

STAGE_FIELDS: dict[str, str] = {
    "slots_per_week": "slots a week",
    "tariff_first": "price per first contact (£)",
    "tariff_followup": "price per follow-up contact (£)",
    "contacts_per_episode": "contacts per course",
    "dna_first": "did-not-attend rate, first visits",
    "dna_followup": "did-not-attend rate, follow-ups",
    "booking_lead_days": "booking lead time (days)",
    "booking_lead_spread_days": "booking delay beyond the lead, mean (days)",
    "decision_at_followup_share": "share decided at a follow-up",
    "procedure_share": "share treated first by a day-case procedure",
    "working_days": "working days a week",
    "followup_interval_days": "days between follow-ups",
    "advice_and_guidance_share": "share answered by advice and guidance",
    "pifu_share": "share of follow-ups made patient-initiated",
    "pifu_return_rate": "patient-initiated follow-ups taken up",
    "overflow_after_weeks": "weeks before overflow to another provider",
    "diagnostics_per_first": "diagnostic tests per first visit",
    "long_wait_weeks": "long-wait threshold (weeks)",
    "max_dna": "missed appointments before discharge",
}
SURGERY_FIELDS: dict[str, str] = {
    "slots_per_week": "Theatre slots a week (day-case slots)",
    "beds": "Beds",
    "los_joint_days": "Length of stay, joint replacement (days)",
    "los_other_days": "Length of stay, other inpatient operations (days)",
    "daycase_share": "Day-case share of operations",
    "tariff_joint_replacement": "Price of a joint replacement (£)",
    "tariff_other_daycase": "Price of a day-case operation (£)",
    "tariff_other_inpatient": "Price of another inpatient operation (£)",
    "cancellation_rate": "Share of operations cancelled on the day",
    "joint_replacement_slots": "Theatre slots per joint replacement",
    "inpatient_slots": "Theatre slots per other inpatient operation",
    "procedure_slots": "Theatre slots per day-case procedure",
    "tariff_procedure": "Price of a day-case procedure (£)",
    "booking_lead_days": "Theatre booking lead time (days)",
    "booking_lead_spread_days": "Theatre booking delay beyond the lead, mean (days)",
    "postop_followups": "Follow-ups after an operation",
}
OTHER_KEYS: dict[str, str] = {
    "demand.referrals_per_year": "Referrals a year",
    "demand.growth": "Demand growth a year",
    "demand.urgent_share": "Urgent share of referrals",
    "demand.self_referral.per_year": "Self-referrals a year",
    "demand.outside_contract.per_year": "Referrals outside the contract a year",
    "demand.outside_contract.growth": "Growth of care outside the contract a year",
    "gp.consultation_cost": "GP consultation cost (£)",
    "gp.wait_days": "Days to see the GP again",
    "gp.max_referrals": "Most referrals a GP makes per patient",
    "run.years": "Contract years",
    "run.warmup_days": "Warm-up (days)",
}
CONTRACT_FIELDS: dict[str, str] = {
    "year1_value_gbp": "Year-1 contract value (£)",
    "escalator": "Yearly price escalator",
    "overheads_gbp": "Overheads (£ a year)",
    "mobilisation_gbp": "Mobilisation cost (£)",
    "vat_rate": "VAT rate",
    "upfront_share": "Share paid up front",
    "quality_share": "Quality pot (share of the contract)",
}
TERMS: dict[str, str] = {  # the contract terms sim/money/bid.py swings low/high
    "delivery cost (activity and unit costs)": "Delivery costs, all activity and unit costs (×0.9 to ×1.1)",
    "overheads_gbp": "Overheads (×0.8 to ×1.2)",
    "escalator": "Yearly price escalator (1 point lower to 1 point higher)",
    "vat_rate on 30% of costs": "VAT on 30% of costs (0% to 20%)",
    "quality_share earned": "Quality pot earned (none to all)",
}


TERM_ENDS: dict[str, Callable[[float], str]] = {  # a swung term's low or high end as the reader thinks of it
    "delivery cost (activity and unit costs)": lambda x: f"×{x:g}",
    "overheads_gbp": lambda x: f"×{x:g}",
    "escalator": lambda x: f"{100 * x:+g} point",
    "vat_rate on 30% of costs": lambda x: f"{x:.0%}",
    "quality_share earned": lambda x: f"{x:.0%} earned",
}


def term_end(name: str, value: float) -> str:
    """The value a contract term or cost level was swung to, in words (``×0.9``, ``+1 point``)."""
    shown = TERM_ENDS.get(name)
    return shown(float(value)) if shown else f"{float(value):g}"


def function_label(code: str, short: bool = True) -> str:
    """A treatment function by name and code: ``T&O (110)``; an unknown code as ``TF 123``."""
    names = TREATMENT_FUNCTIONS.get(str(code))
    if names is None:
        return f"TF {code}"
    return f"{names[1] if short else names[0]} ({code})"


def metric_label(metric: str) -> str:
    """A result column (or a figure of the bid, or of the RTT returns) in words, with its unit."""
    if metric in BID_FIGURES:
        return BID_FIGURES[metric]
    returns = parse_metric(metric)
    if returns is not None:
        tf, part, stat = returns
        return f"{function_label(tf)}, {RETURN_PARTS[part]}: {RETURN_STATISTICS[stat]}"
    col = find(metric)
    if col is not None:
        return col.heading
    return stage_name(metric.removesuffix("_gbp")) + (" (£)" if metric.endswith("_gbp") else "")


def key_label(key: str) -> str:
    """A scenario key (as in ``--set`` or ``--grid``) in words, with its unit."""
    key = key.removeprefix("param.")
    if key in OTHER_KEYS:
        return OTHER_KEYS[key]
    parts = key.split(".")
    rule = _KEY_RULES.get(parts[0])
    text = rule(parts) if rule else None
    return text or stage_name(" › ".join(words(p) for p in parts))


def _stage_key(parts: list[str]) -> str | None:
    if len(parts) < 3:
        return None
    stage, field = stage_name(parts[1]), parts[2]
    if field in ("resolves", "list_for_surgery") and len(parts) == 4:
        what = "resolved" if field == "resolves" else "listed for surgery"
        return f"{stage}: share {what} ({words(parts[3])} need)"
    if len(parts) == 3 and field in STAGE_FIELDS:
        return f"{stage} {STAGE_FIELDS[field]}"
    return None


def _surgery_key(parts: list[str]) -> str | None:
    return SURGERY_FIELDS.get(parts[1]) if len(parts) == 2 else None


def _design_key(parts: list[str]) -> str | None:
    if len(parts) != 5:
        return None
    if parts[2] in ("routing", "onward"):
        how = "routing" if parts[2] == "routing" else "onward referral"
        return f"{stage_name(parts[1])} {how} of {words(parts[3])} need: {words(parts[4])} share"
    if parts[2] == "stage_overrides":
        return f"{stage_name(parts[1])} design: {key_label('stages.' + '.'.join(parts[3:]))}"
    return None


def _finance_key(parts: list[str]) -> str | None:
    if parts[1:2] == ["prime_contract"] and len(parts) == 3 and parts[2] in CONTRACT_FIELDS:
        return CONTRACT_FIELDS[parts[2]]
    if parts[1:2] == ["providers"] and len(parts) == 4 and parts[3] == "prime_cost_share":
        return f"{stage_name(parts[2])}: the prime's cost as a share of tariff"
    return None


def _demand_key(parts: list[str]) -> str | None:
    if parts[1:2] == ["conditions"] and len(parts) >= 4:
        tail = " ".join(words(p) for p in parts[3:])
        return f"{stage_name(parts[2])} condition: {tail}"
    return None


_KEY_RULES = {
    "stages": _stage_key, "surgery": _surgery_key, "designs": _design_key, "finance": _finance_key, "demand": _demand_key,
}  # fmt: skip


def input_label(name: str) -> str:
    """A row of the bid's sensitivity table (a drawn input or a contract term) in words."""
    return TERMS.get(name, key_label(name))


def merged_label(names: list[str]) -> str:
    """One label for inputs that are the same drawn number (one copied to the others by ``also``).

    A price copied from first to follow-up contacts reads as one price per contact."""
    if len(names) == 1:
        return input_label(names[0])
    fields = {n.rsplit(".", 1)[-1] for n in names}
    stems = {n.rsplit(".", 1)[0] for n in names}
    if fields == {"tariff_first", "tariff_followup"} and len(stems) == 1:
        stem = stems.pop()
        if stem.startswith("stages."):
            return f"{stage_name(stem.split('.')[1])} price per contact (£)"
    return " = ".join(input_label(n) for n in names)


def value_text(key: str, value: float) -> str:
    """A swept or drawn value as a person reads it: thousands separators, shares as %, prices in £."""
    if isinstance(value, str):
        return value
    value = float(value)
    tail = key.rsplit(".", 1)[-1]
    share = (
        tail.endswith(("share", "rate", "growth", "escalator"))
        or ".routing." in key
        or ".onward." in key
        or ".inflation." in key  # finance.inflation.tariff -0.01 is -1.0% a year, not a price
        or any(f".{field}." in key for field in ("resolves", "list_for_surgery", "need"))
    )
    if share and abs(value) <= 1:
        return f"{100 * value:.1f}%"
    money = "tariff" in tail or tail.endswith(("_gbp", "_cost"))
    if abs(value) >= 100 or value.is_integer():
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:.3g}"
    return f"£{text}" if money else text
