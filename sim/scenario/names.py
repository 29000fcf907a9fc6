"""The names of the result columns, declared once: a misspelt name is an undefined constant where
it is written, not a silent new column.

Each constant is a column of a replication's rows (:mod:`sim.scenario.columns` declares what it
holds); a name with a hole is a pattern, its concrete names made with :func:`per`:
``per(STAGE_FIRST, stage="physio")`` is ``"physio_first"``.
"""

from __future__ import annotations

from typing import Final

PHYSIO: Final = "physio"
"""The service the physiotherapy totals (``physio_contacts``, ``physio_dna_pct``) are of."""
POINT: Final = "point"
DESIGN: Final = "design"
REPLICATION: Final = "replication"
YEAR: Final = "year"
REFERRALS: Final = "referrals"
SELF_REFERRALS: Final = "self_referrals"
GP_CONSULTATIONS: Final = "gp_consultations"
BOUNCE_BACKS: Final = "bounce_backs"
ADVICE_GIVEN: Final = "advice_given"
ONWARD_REFERRALS: Final = "onward_referrals"
DNA_RETURNS: Final = "dna_returns"
STAGE_ARRIVALS: Final = "{stage}_arrivals"
STAGE_FIRST: Final = "{stage}_first"
STAGE_FOLLOWUP: Final = "{stage}_followup"
STAGE_DNA: Final = "{stage}_dna"
STAGE_LISTED: Final = "{stage}_listed"
STAGE_ADVICE_AND_GUIDANCE: Final = "{stage}_advice_and_guidance"
STAGE_PIFU_SKIPPED: Final = "{stage}_pifu_skipped"
STAGE_OVERFLOW: Final = "{stage}_overflow"
STAGE_REMOVED: Final = "{stage}_removed"
STAGE_WAITING_END: Final = "{stage}_waiting_end"
STAGE_LIST_MEAN: Final = "{stage}_list_mean"
STAGE_LIST_EXITS: Final = "{stage}_list_exits"
STAGE_QUEUE_WAIT_MEAN_DAYS: Final = "{stage}_queue_wait_mean_days"
STAGE_FIRST_WAIT_MEAN_DAYS: Final = "{stage}_first_wait_mean_days"
STAGE_FIRST_WAIT_P92_DAYS: Final = "{stage}_first_wait_p92_days"
TRIAGE_CONTACTS: Final = "triage_contacts"
PHYSIO_CONTACTS: Final = f"{PHYSIO}_contacts"
PHYSIO_DNA_PCT: Final = f"{PHYSIO}_dna_pct"
FIRST_OP_ATTENDANCES: Final = "first_op_attendances"
FOLLOWUP_OP_ATTENDANCES: Final = "followup_op_attendances"
FOLLOWUPS_PER_FIRST_OP: Final = "followups_per_first_op"
LISTED_FOR_SURGERY: Final = "listed_for_surgery"
CONVERSION_RATE: Final = "conversion_rate"
SURGERIES_DAYCASE: Final = "surgeries_daycase"
SURGERIES_INPATIENT: Final = "surgeries_inpatient"
JOINT_REPLACEMENTS: Final = "joint_replacements"
SURGERIES_AVOIDABLE: Final = "surgeries_avoidable"
PROCEDURES: Final = "procedures"
OVERFLOW_JOINT_REPLACEMENTS: Final = "overflow_joint_replacements"
OVERFLOW_SURGERIES_DAYCASE: Final = "overflow_surgeries_daycase"
OVERFLOW_SURGERIES_INPATIENT: Final = "overflow_surgeries_inpatient"
JOINT_REPLACEMENTS_PER_1000: Final = "joint_replacements_per_1000"
BED_DAYS: Final = "bed_days"
THEATRE_REMOVED: Final = "theatre_removed"
THEATRE_WAITING_END: Final = "theatre_waiting_end"
THEATRE_LIST_MEAN: Final = "theatre_list_mean"
THEATRE_LIST_EXITS: Final = "theatre_list_exits"
THEATRE_QUEUE_WAIT_MEAN_DAYS: Final = "theatre_queue_wait_mean_days"
THEATRE_ADMISSION_WAIT_MEAN_DAYS: Final = "theatre_admission_wait_mean_days"
THEATRE_ADMISSION_WAIT_P92_DAYS: Final = "theatre_admission_wait_p92_days"
APPOINTMENTS: Final = "appointments"
OUTSIDE_CONTRACT_REFERRALS: Final = "outside_contract_referrals"
OUTSIDE_CONTRACT_STAGE_FIRST: Final = "outside_contract_{stage}_first"
OUTSIDE_CONTRACT_STAGE_FOLLOWUP: Final = "outside_contract_{stage}_followup"
OUTSIDE_CONTRACT_JOINT_REPLACEMENTS: Final = "outside_contract_joint_replacements"
OUTSIDE_CONTRACT_SURGERIES_DAYCASE: Final = "outside_contract_surgeries_daycase"
OUTSIDE_CONTRACT_SURGERIES_INPATIENT: Final = "outside_contract_surgeries_inpatient"
OUTSIDE_CONTRACT_PROCEDURES: Final = "outside_contract_procedures"
OUTSIDE_CONTRACT_OVERFLOW_JOINT_REPLACEMENTS: Final = "outside_contract_overflow_joint_replacements"
OUTSIDE_CONTRACT_OVERFLOW_SURGERIES_DAYCASE: Final = "outside_contract_overflow_surgeries_daycase"
OUTSIDE_CONTRACT_OVERFLOW_SURGERIES_INPATIENT: Final = "outside_contract_overflow_surgeries_inpatient"
STAGE_SESSIONS_ADDED: Final = "{stage}_sessions_added"
STAGE_SLOTS_ADDED: Final = "{stage}_slots_added"
STAGE_SESSIONS_PEAK: Final = "{stage}_sessions_peak"
JOURNEYS_ENDED: Final = "journeys_ended"
JOURNEYS_RESOLVED_PCT: Final = "journeys_resolved_pct"
JOURNEYS_UNRESOLVED: Final = "journeys_unresolved"
JOURNEYS_DNA_DISCHARGED: Final = "journeys_dna_discharged"
JOURNEYS_REMOVED: Final = "journeys_removed"
JOURNEY_WEEKS_MEAN: Final = "journey_weeks_mean"
JOURNEY_WEEKS_P92: Final = "journey_weeks_p92"
REREFERRALS_PER_JOURNEY: Final = "rereferrals_per_journey"
HOSPITAL_DIVERSION_PCT: Final = "hospital_diversion_pct"
NEVER_IN_HOSPITAL_OP_PCT: Final = "never_in_hospital_op_pct"
RTT_INCOMPLETE_WITHIN_18W_PCT: Final = "rtt_incomplete_within_18w_pct"
RTT_WAIT_P92_WEEKS: Final = "rtt_wait_p92_weeks"
RTT_WAIT_MEDIAN_WEEKS: Final = "rtt_wait_median_weeks"
RTT_INCOMPLETE_MEAN: Final = "rtt_incomplete_mean"
RTT_INCOMPLETE_52W_MEAN: Final = "rtt_incomplete_52w_mean"
RTT_INCOMPLETE_65W_MEAN: Final = "rtt_incomplete_65w_mean"
RTT_INCOMPLETE_78W_MEAN: Final = "rtt_incomplete_78w_mean"
RTT_COMPLETED: Final = "rtt_completed"
RTT_COMPLETED_WEEKS_MEAN: Final = "rtt_completed_weeks_mean"
WAITING_LIST_END: Final = "waiting_list_end"
QALY_LOST_WAITING: Final = "qaly_lost_waiting"
QALY_LOST_PER_1000_REFERRALS: Final = "qaly_lost_per_1000_referrals"
IN_SYSTEM_END: Final = "in_system_end"
TARIFF_VALUE_GBP: Final = "tariff_value_gbp"
COMMISSIONER_COST_GBP: Final = "commissioner_cost_gbp"
GP_COST_GBP: Final = "gp_cost_gbp"
SYSTEM_COST_GBP: Final = "system_cost_gbp"
PRIME_INCOME_GBP: Final = "prime_income_gbp"
PRIME_COST_GBP: Final = "prime_cost_gbp"
PRIME_SURPLUS_GBP: Final = "prime_surplus_gbp"
COMMISSIONER_GAIN_SHARE_GBP: Final = "commissioner_gain_share_gbp"
QUALITY_PAYMENT_GBP: Final = "quality_payment_gbp"
CAPACITY_COST_GBP: Final = "capacity_cost_gbp"
OUTSIDE_CONTRACT_SPEND_GBP: Final = "outside_contract_spend_gbp"
COMMISSIONER_COST_WITH_OUTSIDE_GBP: Final = "commissioner_cost_with_outside_gbp"
ADDED_SESSIONS_COST_GBP: Final = "added_sessions_cost_gbp"
PAY_PROVIDER_PROVIDER_GBP: Final = "pay_provider_{provider}_gbp"
COST_PROVIDER_PROVIDER_GBP: Final = "cost_provider_{provider}_gbp"
PROVIDER_INCOME_PROVIDER_GBP: Final = "provider_income_{provider}_gbp"
PROVIDER_COST_PROVIDER_GBP: Final = "provider_cost_{provider}_gbp"
PROVIDER_STRANDED_PROVIDER_GBP: Final = "provider_stranded_{provider}_gbp"
STAGE_EXPECTED_LOAD: Final = "{stage}_expected_load"
PARAM_KEY: Final = "param.{key}"

ALL: Final[tuple[str, ...]] = (
    POINT,
    DESIGN,
    REPLICATION,
    YEAR,
    REFERRALS,
    SELF_REFERRALS,
    GP_CONSULTATIONS,
    BOUNCE_BACKS,
    ADVICE_GIVEN,
    ONWARD_REFERRALS,
    DNA_RETURNS,
    STAGE_ARRIVALS,
    STAGE_FIRST,
    STAGE_FOLLOWUP,
    STAGE_DNA,
    STAGE_LISTED,
    STAGE_ADVICE_AND_GUIDANCE,
    STAGE_PIFU_SKIPPED,
    STAGE_OVERFLOW,
    STAGE_REMOVED,
    STAGE_WAITING_END,
    STAGE_LIST_MEAN,
    STAGE_LIST_EXITS,
    STAGE_QUEUE_WAIT_MEAN_DAYS,
    STAGE_FIRST_WAIT_MEAN_DAYS,
    STAGE_FIRST_WAIT_P92_DAYS,
    TRIAGE_CONTACTS,
    PHYSIO_CONTACTS,
    PHYSIO_DNA_PCT,
    FIRST_OP_ATTENDANCES,
    FOLLOWUP_OP_ATTENDANCES,
    FOLLOWUPS_PER_FIRST_OP,
    LISTED_FOR_SURGERY,
    CONVERSION_RATE,
    SURGERIES_DAYCASE,
    SURGERIES_INPATIENT,
    JOINT_REPLACEMENTS,
    SURGERIES_AVOIDABLE,
    PROCEDURES,
    OVERFLOW_JOINT_REPLACEMENTS,
    OVERFLOW_SURGERIES_DAYCASE,
    OVERFLOW_SURGERIES_INPATIENT,
    JOINT_REPLACEMENTS_PER_1000,
    BED_DAYS,
    THEATRE_REMOVED,
    THEATRE_WAITING_END,
    THEATRE_LIST_MEAN,
    THEATRE_LIST_EXITS,
    THEATRE_QUEUE_WAIT_MEAN_DAYS,
    THEATRE_ADMISSION_WAIT_MEAN_DAYS,
    THEATRE_ADMISSION_WAIT_P92_DAYS,
    APPOINTMENTS,
    OUTSIDE_CONTRACT_REFERRALS,
    OUTSIDE_CONTRACT_STAGE_FIRST,
    OUTSIDE_CONTRACT_STAGE_FOLLOWUP,
    OUTSIDE_CONTRACT_JOINT_REPLACEMENTS,
    OUTSIDE_CONTRACT_SURGERIES_DAYCASE,
    OUTSIDE_CONTRACT_SURGERIES_INPATIENT,
    OUTSIDE_CONTRACT_PROCEDURES,
    OUTSIDE_CONTRACT_OVERFLOW_JOINT_REPLACEMENTS,
    OUTSIDE_CONTRACT_OVERFLOW_SURGERIES_DAYCASE,
    OUTSIDE_CONTRACT_OVERFLOW_SURGERIES_INPATIENT,
    STAGE_SESSIONS_ADDED,
    STAGE_SLOTS_ADDED,
    STAGE_SESSIONS_PEAK,
    JOURNEYS_ENDED,
    JOURNEYS_RESOLVED_PCT,
    JOURNEYS_UNRESOLVED,
    JOURNEYS_DNA_DISCHARGED,
    JOURNEYS_REMOVED,
    JOURNEY_WEEKS_MEAN,
    JOURNEY_WEEKS_P92,
    REREFERRALS_PER_JOURNEY,
    HOSPITAL_DIVERSION_PCT,
    NEVER_IN_HOSPITAL_OP_PCT,
    RTT_INCOMPLETE_WITHIN_18W_PCT,
    RTT_WAIT_P92_WEEKS,
    RTT_WAIT_MEDIAN_WEEKS,
    RTT_INCOMPLETE_MEAN,
    RTT_INCOMPLETE_52W_MEAN,
    RTT_INCOMPLETE_65W_MEAN,
    RTT_INCOMPLETE_78W_MEAN,
    RTT_COMPLETED,
    RTT_COMPLETED_WEEKS_MEAN,
    WAITING_LIST_END,
    QALY_LOST_WAITING,
    QALY_LOST_PER_1000_REFERRALS,
    IN_SYSTEM_END,
    TARIFF_VALUE_GBP,
    COMMISSIONER_COST_GBP,
    GP_COST_GBP,
    SYSTEM_COST_GBP,
    PRIME_INCOME_GBP,
    PRIME_COST_GBP,
    PRIME_SURPLUS_GBP,
    COMMISSIONER_GAIN_SHARE_GBP,
    QUALITY_PAYMENT_GBP,
    CAPACITY_COST_GBP,
    OUTSIDE_CONTRACT_SPEND_GBP,
    COMMISSIONER_COST_WITH_OUTSIDE_GBP,
    ADDED_SESSIONS_COST_GBP,
    PAY_PROVIDER_PROVIDER_GBP,
    COST_PROVIDER_PROVIDER_GBP,
    PROVIDER_INCOME_PROVIDER_GBP,
    PROVIDER_COST_PROVIDER_GBP,
    PROVIDER_STRANDED_PROVIDER_GBP,
    STAGE_EXPECTED_LOAD,
    PARAM_KEY,
)
"""Every name, in the order of the declarations."""


def per(pattern: str, **holes: str) -> str:
    """The concrete name of a pattern: ``per(PAY_PROVIDER_PROVIDER_GBP, provider="trust")``."""
    return pattern.format(**holes)
