"""The published B-HEARD record as periods bheard can solve and simulate.

Each :class:`Period` is one published outcome (``docs/sources.md`` ids): the area the pilot
served, the teams on duty per tour, the eligible calls a year in operating hours (09:00-01:00)
and the share of them that got a team. :func:`period_scenario` turns a period into a scenario
that uses the calibrated dispatch parameters: two 8-hour tours, the demand prior's spatial
pattern scaled to the period's published volume, at most ``teams_per_tour`` teams (the budget
does not bind), teams crossing precinct lines within the record's dispatch radius
(:data:`RECORD_RESPONSE_LIMIT_MIN`). Calibration (:mod:`bheard.calibrate`) fits two periods;
the validation table (:mod:`bheard.validation`) checks all of them.

Where the record does not give a period's fleet or area, the period says so and uses a labelled
assumption (``A-fleet-by-period``, ``A-period-areas``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the 31 pilot precincts of 2024 (A-pilot-precincts; scenarios/baseline_2024.yaml)
PILOT_31 = (25, 26, 28, 30, 32, 33, 34, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 52,
            67, 69, 71, 73, 75, 77, 79, 81, 108, 110, 114, 115)
#: March 2023: 25 precincts (S-precincts-2023); the six north and east Bronx precincts joined
#: with "all of the Bronx" in Oct 2023 (S-pilot-footprint). ASSUMPTION A-period-areas
AREA_FY23 = tuple(p for p in PILOT_31 if p not in (43, 45, 47, 49, 50, 52))
#: FY22: Zone 7, West Harlem from Nov 2021, Washington Heights/Inwood and part of the South
#: Bronx in early 2022 (S-bheard-launch, S-expansion-2021-22); the 40th stands for "part of the
#: South Bronx". ASSUMPTION A-period-areas
AREA_FY22 = (25, 26, 28, 30, 32, 33, 34, 40)

#: a team is not sent to a call more than this many minutes away (pre-travel delay + driving)
#: in the record's periods. ASSUMPTION A-record-dispatch-radius: with no limit the simulated
#: 2024 fleet would average over 40 minutes, against about 20 published (S-response-time)
RECORD_RESPONSE_LIMIT_MIN = 30.0
#: the record's operating hours: two 8-hour tours 09:00-17:00 and 17:00-01:00 (S-tours-hours)
RECORD_TOURS = ({"name": "day", "start": "09:00", "hours": 8},
                {"name": "evening", "start": "17:00", "hours": 8})


@dataclass(frozen=True)
class Period:
    """One published outcome of the pilot (shares 0..1, calls a year in operating hours)."""

    name: str
    label: str
    published_share: float
    measure: str  # what the published share counts
    sources: str  # docs/sources.md ids
    precincts: tuple
    area_source: str
    teams_per_tour: int
    fleet_source: str
    eligible_per_year: float
    volume_source: str
    fit: bool = False  # used by the calibration (at most two periods)
    #: calls behind the published share (its binomial sampling error weighs the fit)
    published_calls: float | None = None
    response_min: float | None = None  # published mean response time, minutes
    response_source: str = ""

    @property
    def published_fleet(self) -> bool:
        return not self.fleet_source.startswith("A-")

    @property
    def sampling_se(self) -> float:
        """Binomial standard error of the published share (0..1), from the calls behind it
        (nan when unknown)."""
        if not self.published_calls:
            return float("nan")
        p = self.published_share
        return float(np.sqrt(p * (1 - p) / self.published_calls))


def periods() -> list[Period]:
    """The published periods, oldest first (figures and their ids in docs/sources.md)."""
    return [
        Period("first_month", "2021 first month (Jun-Jul)", 0.80,
               "of calls routed to B-HEARD, answered", "S-first-month",
               (25, 28, 32), "S-bheard-launch", 2, "S-tours-hours",
               16.0 * 0.25 * 365, "16 MH calls/day (S-zone7-calls) x 25% routed (S-first-month)",
               fit=True, published_calls=500 * 0.25),
        Period("h1_fy22", "H1 FY22 (Jul-Dec 2021)", 0.82, "of routed calls, answered",
               "S-h1-fy22", (25, 26, 28, 30, 32), "S-bheard-launch, S-expansion-2021-22", 2,
               "A-fleet-by-period", 684 / 184 * 365, "684 routed in 184 days (S-h1-fy22)",
               response_min=13 + 41 / 60, response_source="S-h1-fy22, S-response-time"),
        Period("fy22", "FY22", 0.73, "of routed calls, answered", "S-fy22", AREA_FY22,
               "A-period-areas", 2, "A-fleet-by-period", 2400.0,
               "about 2,400 routed (S-fy22)", response_min=15.5,
               response_source="S-fy22, S-response-time"),
        Period("h1_fy23", "H1 FY23 (Jul-Dec 2022)", 0.53, "of eligible calls, reached",
               "S-h1-fy23", AREA_FY23, "A-period-areas", 3, "A-fleet-by-period",
               13_000 * 0.295 * 2, "over 13,000 MH calls in 6 months, 30%/29% eligible"
               " (S-h1-fy23)"),
        Period("fy23", "FY23", 0.55, "of eligible calls, responded", "S-fy23-responses",
               AREA_FY23, "S-precincts-2023, A-period-areas", 4, "A-fleet-by-period",
               7200 / 0.55, "7,200 responses = 55% of eligible (S-fy23-responses)"),
        Period("fy24", "FY24", 0.73, "of eligible calls, responded", "S-fy24-responses",
               PILOT_31, "S-pilot-footprint, A-pilot-precincts", 9, "S-teams-2024",
               14_900 / 0.73, "14,900 responses = 73% of eligible (S-fy24-responses)",
               fit=True, response_min=20.0, response_source="S-response-time",
               published_calls=14_900 / 0.73),
    ]


#: the audit's three fiscal years (S-audit-served: 24,071 of 37,113 eligible, 65%)
AUDIT_PERIODS = ("fy22", "fy23", "fy24")
AUDIT_SHARE = 0.65


def period(name: str) -> Period:
    return next(p for p in periods() if p.name == name)


def period_dict(p: Period, params: dict, *, teams_per_tour: int | None = None,
                replications: int = 10, seed: int = 0) -> dict:
    """The scenario of a period (a dict; :func:`period_scenario` validates it). ``params``:
    the dispatch parameters as a partial scenario (``scenarios/calibration/dispatch.yaml``:
    ``teams.service_time_hours``, ``dispatch.availability``, ``geography.dispatch_delay_min``).
    The demand scale is set by :func:`period_scenario`."""
    from bheard.scenario.loader import merge

    teams = p.teams_per_tour if teams_per_tour is None else teams_per_tour
    base = {
        "name": f"record_{p.name}",
        "description": f"{p.label}: {p.measure} {p.published_share:.0%} ({p.sources})",
        "shifts": {"tours": [dict(t) for t in RECORD_TOURS]},
        "precincts": list(p.precincts),
        "demand": {"prior": {}},
        "teams": {"crew": {"emt": 2, "social_worker": 1, "peer": 0},
                  "cost_per_team_shift_usd": 1.0},
        "budget": {"annual_usd": 1e12},
        "limits": {"max_teams_per_slot": 3, "max_teams_per_tour": int(teams)},
        "coverage": {"mode": "shared", "response_standard_min": RECORD_RESPONSE_LIMIT_MIN},
        "solver": {"time_limit_s": 60, "mip_rel_gap": 1e-3},
        "simulation": {"replications": replications, "seed": seed},
    }
    return merge(base, params)


def period_scenario(p: Period, params: dict, **kw):
    """A validated scenario for a period with its demand scaled to the published volume."""
    from bheard.problem import problem_from_scenario
    from bheard.scenario import load_scenario

    d = period_dict(p, params, **kw)
    sc = load_scenario(d)
    prob = problem_from_scenario(sc)
    prior = float(prob.eligible_calls_per_year().sum())  # calls/year in operating hours
    target = p.eligible_per_year * sc.weeks_per_year * 7 / 365.0
    d["demand"] = {"prior": {}, "scale": target / prior}
    return load_scenario(d)


def params_dict(service_time_hours: float, availability: float, dispatch_delay_min: float
                ) -> dict:
    """The calibrated parameters as a partial scenario."""
    return {"teams": {"service_time_hours": float(service_time_hours)},
            "dispatch": {"availability": float(availability)},
            "geography": {"dispatch_delay_min": float(dispatch_delay_min)}}


def expected_response_min(plan) -> float:
    """The optimizer's mean response time of a shared plan's served calls, minutes: the trip
    from each location weighted by the chance a call goes there (approximate hypercube)."""
    from bheard.model.base import preferences
    from bheard.model.hypercube import plan_busy, dispatch_shares
    from bheard.problem import problem_from_scenario

    sc = plan.resolved_scenario
    prob = problem_from_scenario(sc)
    pref = preferences(prob.reach, prob.travel_min, prob.service_time_hours)
    group = np.unique(prob.slot_tour, return_inverse=True)[1].ravel()
    st = plan_busy(prob, pref, plan.teams, group)
    to_loc = dispatch_shares(prob, pref, plan.teams, st)  # (S, P, L)
    trip = (pref.busy_h - prob.service_time_hours) * 60.0
    served = prob.eligible_calls_per_year().T[:, :, None] * to_loc
    return float((served * trip).sum() / max(served.sum(), 1e-300))


__all__ = ["Period", "periods", "period", "period_dict", "period_scenario", "params_dict",
           "expected_response_min", "RECORD_RESPONSE_LIMIT_MIN", "AUDIT_PERIODS",
           "AUDIT_SHARE", "PILOT_31"]
