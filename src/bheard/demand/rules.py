"""Which 911 calls are mental-health calls and which of those are B-HEARD-eligible.

Defaults and their sources (see ``../shared/facts.md`` rows 18, 22, 53, 57, 59):

- FDNY EMS call types starting ``EDP`` are mental-health calls; ``EDPM`` ("psych patient,
  non-violent") is the code FDNY gives B-HEARD-eligible calls (facts rows 18, 59).
- NYPD radio codes starting ``54E`` (54E1/2/5/8/9, "AMBULANCE CASE: EDP/...") are mental-health
  calls (facts rows 53, 57). NYPD records carry no eligibility code, so a share of them is
  counted as eligible: 0.385, the share the 2025 Comptroller audit found (37,113 of 96,291,
  facts row 22).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EligibilityRules(BaseModel):
    """Classification rules for call records (mental-health and eligible calls)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ems_mental_health_prefix: str = Field(
        "EDP", description="EMS call types starting with this are mental-health calls (facts row 59)"
    )
    ems_eligible_codes: tuple[str, ...] = Field(
        ("EDPM",), description="EMS call types that are B-HEARD-eligible (facts rows 18, 59)"
    )
    nypd_mental_health_prefix: str = Field(
        "54E", description="NYPD radio codes starting with this are mental-health calls (facts row 57)"
    )
    nypd_eligible_share: float = Field(
        0.385,
        ge=0.0,
        le=1.0,
        description="share of NYPD mental-health calls counted as eligible (audit, facts row 22)",
    )
