"""Which 911 calls are mental-health calls and which of those are B-HEARD-eligible.

Defaults and their sources (see S-dispatch-process, S-audit-eligible, S-radio-codes-2024, S-nypd-cfs, S-ems-call-types):

- FDNY EMS call types starting ``EDP`` are mental-health calls; ``EDPM`` ("psych patient,
  non-violent") is the code FDNY gives B-HEARD-eligible calls (S-dispatch-process, S-ems-call-types).
- NYPD radio codes starting ``54E`` (54E1/2/5/8/9, "AMBULANCE CASE: EDP/...") are mental-health
  calls (S-radio-codes-2024, S-nypd-cfs). NYPD records carry no eligibility code, so a share of them is
  counted as eligible: 0.385, the share the 2025 Comptroller audit found (37,113 of 96,291,
  S-audit-eligible).
"""

from __future__ import annotations

from pydantic import Field

from bheard.strict import Strict


class EligibilityRules(Strict):
    """Classification rules for call records (mental-health and eligible calls)."""

    ems_mental_health_prefix: str = Field(
        "EDP", description="EMS call types starting with this are mental-health calls (S-ems-call-types)"
    )
    ems_eligible_codes: tuple[str, ...] = Field(
        ("EDPM",), description="EMS call types that are B-HEARD-eligible (S-dispatch-process, S-ems-call-types)"
    )
    nypd_mental_health_prefix: str = Field(
        "54E", description="NYPD radio codes starting with this are mental-health calls (S-nypd-cfs)"
    )
    nypd_eligible_share: float = Field(
        0.385,
        ge=0.0,
        le=1.0,
        description="share of NYPD mental-health calls counted as eligible (audit, S-audit-eligible)",
    )
