"""Scenario schema: the pydantic models a scenario file is validated into.

A scenario is a YAML file (or a dict with the same structure) validated into an immutable
:class:`Scenario`. Unknown keys are errors, so a typo is never silently ignored. Every default
below names its source in ``docs/sources.md`` (``S-...`` published figures, ``A-...`` labelled
assumptions). Reading files, ``extends:`` and relative paths: :mod:`bheard.scenario.loader`;
checks against the shipped data: :mod:`bheard.scenario.checks`.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bheard.constants import DAYS, ROLES
from bheard.data import BOROUGHS
from bheard.demand.rules import EligibilityRules
from bheard.errors import InputError
from bheard.scenario.checks import problems as data_problems
from bheard.scenario.hours import slots as shift_slots
from bheard.scenario.messages import problems_from
from bheard.strict import Strict as _Strict

Day = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
Borough = Literal["Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island"]

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class Tour(_Strict):
    """One tour (shift template): name, start time (HH:MM, local) and length in hours."""

    name: str = Field(min_length=1)
    start: str = Field(description='start time "HH:MM" (24 h clock)')
    hours: float = Field(gt=0, le=24, description="tour length in hours")
    days: tuple[Day, ...] | None = Field(
        None, description="days this tour runs; default: shifts.days"
    )

    @field_validator("start", mode="before")
    @classmethod
    def _check_start(cls, v: Any) -> str:
        if isinstance(v, int) and not isinstance(v, bool):
            # YAML 1.1 reads an unquoted 09:00 as the sexagesimal integer 540 (minutes).
            v = f"{v // 60:02d}:{v % 60:02d}"
        if not isinstance(v, str) or not _HHMM.match(v.strip()):
            raise ValueError('a time "HH:MM" between 00:00 and 23:59')
        return v.strip()

    @property
    def start_hour(self) -> float:
        """Start time in hours after midnight (e.g. 17.5 for 17:30)."""
        hh, mm = self.start.split(":")
        return int(hh) + int(mm) / 60.0


def _whole_hour(v: Any) -> str:
    """Validate a clock time "HH:00" (whole hours; YAML's sexagesimal ints accepted)."""
    if isinstance(v, int) and not isinstance(v, bool):
        v = f"{v // 60:02d}:{v % 60:02d}"
    if not isinstance(v, str) or not _HHMM.match(v.strip()):
        raise ValueError('a time "HH:MM" between 00:00 and 23:59')
    v = v.strip()
    if not v.endswith(":00"):
        raise ValueError(f'a whole hour "HH:00" (hourly model); got {v!r}')
    return f"{int(v.split(':')[0]):02d}:00"


class Staggered(_Strict):
    """Staggered hourly starts (``models/staggered_tours.md``): teams start at any listed hour
    of each day and work ``hours``; coverage in each hour counts every team on duty then.
    Replaces the fixed tours as the decision (``shifts.tours`` stay for the other tools)."""

    starts: tuple[str, ...] | Literal["every_hour"] = Field(
        "every_hour", description='start times "HH:00" (whole hours), or every_hour (00:00 ..'
        " 23:00)")
    hours: int = Field(8, ge=1, le=24, description="shift length in hours (S-tours-hours:"
                       " 8-hour tours)")
    cost_per_team_shift_usd: float | dict[str, float] | None = Field(
        None, description="USD per team per shift, one value or one per start label"
        ' ("07:00": ...); default: teams.cost_per_team_shift_usd if a single value, else the'
        " bottom-up costs section applied to each start's shift")

    @field_validator("starts", mode="before")
    @classmethod
    def _check_starts(cls, v: Any) -> Any:
        if v == "every_hour":
            return v
        if not isinstance(v, (list, tuple)) or not v:
            raise ValueError('a non-empty list of start times "HH:00", or every_hour')
        out = tuple(_whole_hour(x) for x in v)
        if len(set(out)) != len(out):
            raise ValueError(f"start times must not repeat; got {list(out)}")
        return out

    @field_validator("cost_per_team_shift_usd")
    @classmethod
    def _costs(cls, v: Any) -> Any:
        vals = v.values() if isinstance(v, dict) else ([] if v is None else [v])
        if any(not x >= 0 for x in vals):
            raise ValueError("costs must be >= 0 USD")
        return v

    @property
    def start_hours(self) -> tuple[int, ...]:
        """Start hours of the day, sorted (0..23)."""
        if self.starts == "every_hour":
            return tuple(range(24))
        return tuple(sorted(int(s.split(":")[0]) for s in self.starts))


class Shifts(_Strict):
    """The tours and the days they run. A shift slot is one (day, tour)."""

    tours: tuple[Tour, ...] = Field(min_length=1)
    days: tuple[Day, ...] = Field(DAYS, min_length=1)
    hours_of_operation: tuple[str, str] | dict[Day, tuple[str, str]] | None = Field(
        None, description='open and close "HH:00" of the service window that opens on each'
        ' day, e.g. ["09:00", "01:00"] (closes 01:00 next day; today\'s B-HEARD, S-tours-hours)'
        " for every day of shifts.days, or per day {Mon: [...], ...} (unlisted days"
        " closed); open == close means 24 h. Tours and staggered starts run only inside it;"
        " calls outside it are reported as not served. Default: no restriction")
    staggered: Staggered | None = Field(
        None, description="staggered hourly starts instead of fixed tours (default: fixed"
        " tours)")

    @field_validator("hours_of_operation", mode="before")
    @classmethod
    def _check_hours(cls, v: Any) -> Any:
        if v is None:
            return v
        def window(w):
            if not isinstance(w, (list, tuple)) or len(w) != 2:
                raise ValueError('a window [open, close] of two times "HH:00"')
            return tuple(_whole_hour(x) for x in w)
        if isinstance(v, dict):
            return {k: window(w) for k, w in v.items()}
        return window(v)

    @model_validator(mode="after")
    def _unique(self) -> "Shifts":
        names = [t.name for t in self.tours]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"tour names must be unique; repeated: {dup}")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must not repeat")
        return self


class BoroughFilter(_Strict):
    """Every precinct of the listed boroughs."""

    boroughs: tuple[Borough, ...] = Field(min_length=1)


class PriorDemand(_Strict):
    """The default demand prior: citywide volume spread by population x need uplift.

    A PRIOR, not a forecast: it stands in until 911 records are used (``demand.forecast``).
    """

    annual_mental_health_calls: float = Field(
        175_000,
        gt=0,
        description="citywide mental-health 911 calls a year (S-mh-calls-2024, S-every-3-minutes: about 174,000"
        " in 2024 per NYPD data; OCMH 'every 3 minutes')",
    )
    eligible_share: float = Field(
        0.385,
        ge=0,
        le=1,
        description="share of MH calls eligible for B-HEARD (S-audit-eligible: 37,113 of 96,291,"
        " Comptroller audit MG24-060A)",
    )
    daytime_share: float = Field(
        0.80,
        ge=0,
        le=1,
        description="share of MH calls arriving 09:00-01:00; the rest arrive 01:00-09:00"
        " (S-time-of-day, H+H via Gothamist)",
    )
    uplift: dict[int, float] = Field(
        default_factory=lambda: {25: 2.3, 28: 2.3, 32: 2.3, 75: 1.35},
        description="per-capita call-rate multipliers for high-need precincts (S-need-uplift:"
        " Zone 7 = precincts 25/28/32 about 2.3x, the 75th about 1.35x the city rate)",
    )

    @field_validator("uplift")
    @classmethod
    def _positive(cls, v: dict[int, float]) -> dict[int, float]:
        bad = {p: f for p, f in v.items() if not f > 0}
        if bad:
            raise ValueError(f"uplift factors must be > 0; got {bad}")
        return v


class ForecastDemand(_Strict):
    """Demand forecast from 911 call records (see ``models/forecast.md``)."""

    history: Path = Field(description="call-record export(s): a CSV(.gz) file or a folder")
    target_start: _dt.date = Field(description="first day of the forecast period (YYYY-MM-DD)")
    weeks: int = Field(4, ge=1, le=260, description="length of the forecast period in weeks")
    quantile: float = Field(0.5, gt=0, lt=1, description="forecast quantile to plan for")
    rules: EligibilityRules = Field(default_factory=EligibilityRules)


#: levels at which a stated coefficient of variation (``demand.uncertainty.cv``) applies
CV_LEVELS = ("city", "borough", "precinct", "slot")


class DemandUncertainty(_Strict):
    """Demand as a distribution (``models/stochastic.md``): where demand samples come from,
    how many, with which seed, and what the plan optimizes over them.

    ``source``: ``forecast`` (the negative-binomial predictive distribution of
    ``demand.forecast``, with parameter uncertainty and the trend), ``point`` (the point demand,
    i.e. prior, table or forecast quantile, times random multipliers: ``cv`` and/or ``growth``)
    or ``file`` (a CSV of demand samples). Default: ``forecast`` when ``demand.forecast`` is
    given and neither ``cv`` nor ``growth`` is, ``file`` when ``file`` is given, else ``point``.
    ``cv`` and ``growth`` also apply on top of ``forecast`` samples.
    """

    source: Literal["forecast", "point", "file"] | None = Field(
        None, description="forecast | point | file (default: see the class docstring)")
    cv: float | dict[Literal["city", "borough", "precinct", "slot"], float] | None = Field(
        None, description="coefficient of variation of mean-1 lognormal multipliers on the"
        " rates: one number (per precinct: all slots of a precinct move together) or per level"
        " {city, borough, precinct, slot} (independent multipliers, multiplied). The 0.3-0.5"
        " range of issue 13 is a per-precinct rate CV; no published figure per precinct"
        " (A-demand-cv)")
    growth: tuple[float, ...] | None = Field(
        None, description="citywide growth scenarios as fractions, equally likely, e.g."
        " [0, 0.06, 0.12] (S-fdny-mh-growth: +12% since 2019 with year-to-year swings;"
        " S-edp-trend)")
    file: Path | None = Field(
        None, description="CSV of demand samples: sample,precinct,day,tour,calls_per_hour"
        " (eligible calls/hour; every sample lists every precinct and slot once)")
    holdout_share: float = Field(
        0.5, gt=0, lt=1, description="file source: share of the file's samples held out for"
        " evaluation (a seeded split; the rest are optimized over)")
    samples: int = Field(100, ge=2, le=10_000, description="demand samples the plan is"
                         " optimized over (sample average approximation; method setting,"
                         " models/stochastic.md)")
    evaluation_samples: int = Field(
        1000, ge=2, le=100_000, description="held-out samples (drawn with another seed stream)"
        " every plan is evaluated on (method setting, models/stochastic.md)")
    seed: int = Field(0, ge=0, description="random seed: the optimization samples use stream"
                      " (seed, 0), the held-out samples stream (seed, 1)")
    objective: Literal["expected", "cvar"] = Field(
        "expected", description="expected = maximize expected covered calls over the samples;"
        " cvar = maximize (1 - cvar_weight) x expected share + cvar_weight x CVaR of the share"
        " over the worst cvar_alpha of samples (Rockafellar & Uryasev, S-cvar)")
    cvar_alpha: float = Field(0.1, gt=0, lt=1, description="tail share for CVaR: 0.1 = the"
                              " worst 10% of demand samples (issue 13)")
    cvar_weight: float = Field(1.0, gt=0, le=1, description="weight of the CVaR term in the"
                               " cvar objective (1 = CVaR only)")
    cvar_rel_gap: float = Field(
        0.002, gt=0, lt=1, description="relative gap the cvar objective is solved to. Method"
        " setting: the CVaR of N samples estimates the true CVaR with a sampling error of about"
        " 0.3% of its value at N = 100 (models/stochastic.md), so a tighter gap buys little")
    target_share: float | None = Field(
        None, gt=0, le=1, description="coverage share whose probability of being met is"
                                      " reported (default: none)")

    @field_validator("cv")
    @classmethod
    def _cv(cls, v):
        vals = v.values() if isinstance(v, dict) else ([] if v is None else [v])
        if any(not 0 <= x <= 5 for x in vals):
            raise ValueError("coefficients of variation between 0 and 5")
        return v

    @field_validator("growth")
    @classmethod
    def _growth(cls, v):
        if v is not None and (not v or any(not -1 < x <= 10 for x in v)):
            raise ValueError("a non-empty list of growth fractions, each > -1 and <= 10 (e.g."
                             " [0, 0.06, 0.12])")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "DemandUncertainty":
        if self.source == "file" and self.file is None:
            raise ValueError("source: file needs file: (a CSV of demand samples)")
        if self.file is not None and self.source not in (None, "file"):
            raise ValueError(f"file: is for source: file (got source: {self.source})")
        if self.file is not None and (self.cv is not None or self.growth is not None):
            raise ValueError("cv and growth do not apply to a file of samples")
        if self.source == "point" and self.cv is None and self.growth is None:
            raise ValueError("source: point needs cv and/or growth (else demand has no spread)")
        return self

    def resolved_source(self, has_forecast: bool) -> str:
        """The source in use (the default resolved)."""
        if self.source is not None:
            return self.source
        if self.file is not None:
            return "file"
        if has_forecast and self.cv is None and self.growth is None:
            return "forecast"
        return "point"

    @property
    def cv_levels(self) -> dict[str, float]:
        """The CV per level (a single number applies per precinct)."""
        if self.cv is None:
            return {}
        if isinstance(self.cv, dict):
            return {k: float(x) for k, x in self.cv.items() if x > 0}
        return {"precinct": float(self.cv)} if self.cv > 0 else {}


class Demand(_Strict):
    """Eligible calls per hour by (precinct, day, tour): exactly one source."""

    prior: PriorDemand | None = None
    table: Path | None = Field(
        None, description="CSV with columns precinct,day,tour,calls_per_hour (eligible calls/hour)"
    )
    forecast: ForecastDemand | None = None
    scale: float = Field(
        1.0, ge=0, description="multiplier on every rate (scenario what-if, e.g. 1.12 for growth)"
    )
    uncertainty: DemandUncertainty | None = Field(
        None, description="demand as a distribution: samples, the stochastic objective and the"
        " held-out evaluation (models/stochastic.md); default none = plan for the point demand")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Demand":
        given = [k for k in ("prior", "table", "forecast") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "exactly one demand source: 'prior', 'table' or 'forecast'"
                + (f" (got {given})" if given else " (got none)")
            )
        u = self.uncertainty
        if u is not None and u.source == "forecast" and self.forecast is None:
            raise ValueError("demand.uncertainty.source: forecast needs demand.forecast")
        return self

    @property
    def source(self) -> str:
        return next(k for k in ("prior", "table", "forecast") if getattr(self, k) is not None)


class Crew(_Strict):
    """Team composition (persons per team). S-team-size: 2 FDNY EMTs/paramedics + 1 licensed
    social worker; the DCS plan adds a peer counselor (S-dcs-plan)."""

    emt: int = Field(2, ge=0)
    social_worker: int = Field(1, ge=0)
    peer: int = Field(0, ge=0)
    paramedic: int = Field(0, ge=0, description="FDNY paramedics (S-team-size: a team has 2"
                           " EMTs or 1 EMT + 1 paramedic)")

    @model_validator(mode="after")
    def _someone(self) -> "Crew":
        if self.emt + self.social_worker + self.peer + self.paramedic < 1:
            raise ValueError("at least one person per team (every role is 0)")
        return self


class Teams(_Strict):
    """What one team is and costs."""

    service_time_hours: float = Field(
        1.75,
        gt=0,
        le=24,
        description="mean busy time per call in hours (travel + on scene + transport)."
        " ASSUMPTION: no published B-HEARD figure (S-denver-star); 1.75 h sits between Denver"
        " STAR's ~80 min and the ~3.5 h implied by FY24 throughput of 2.3 calls/shift (S-fy24-throughput)",
    )
    crew: Crew = Field(default_factory=Crew)
    cost_per_team_shift_usd: dict[str, float] | float | None = Field(
        None,
        description="USD per team per tour worked, one value for all tours or one per tour name"
        " (top-down); or leave out and give a bottom-up ``costs:`` section (bheard.costs)",
    )

    @field_validator("cost_per_team_shift_usd")
    @classmethod
    def _non_negative(cls, v: dict[str, float] | float | None) -> dict[str, float] | float | None:
        vals = v.values() if isinstance(v, dict) else ([] if v is None else [v])
        if any(not x >= 0 for x in vals):
            raise ValueError("costs must be >= 0 USD")
        return v


class Budget(_Strict):
    annual_usd: float = Field(ge=0, description="money for the program, USD/year: the program's"
                              " fixed cost (costs.program_staff) comes out first, the rest buys"
                              " team-shifts (bheard.costs.team_budget_usd)")
    crisis_team_share: float | None = Field(
        None, gt=0, le=1,
        description="if annual_usd is a whole budget (e.g. the DCS's $1.1B, S-dcs-budget), the"
        " share of it for crisis teams; the crisis-team share is not published (S-dcs-no-headcount)",
    )

    @property
    def team_budget_usd(self) -> float:
        """USD/year for crisis teams: annual_usd x crisis_team_share (if given), before the
        program's fixed cost (``bheard.costs.team_budget_usd`` takes that out)."""
        return self.annual_usd * (1.0 if self.crisis_team_share is None else self.crisis_team_share)


class CoverageSettings(_Strict):
    """Which coverage model: ``isolated`` (own teams only) or ``shared`` (teams cross precinct
    lines within the response standard, with local busy probabilities from an approximate
    hypercube model; ``models/shared_coverage.md``)."""

    mode: Literal["isolated", "shared"] = Field("isolated", description="coverage model")
    response_standard_min: float | None = Field(
        15.0, gt=0, le=240,
        description="a team may be sent to a call when its trip (pre-travel delay + driving)"
        " takes at most this, minutes; a call is covered when such a team arrives (S-response-time,"
        " S-nypd-dispatch-delay, S-mmr-response: B-HEARD averages 13:41-15:30, ~20 min in 2024;"
        " the table suggests <= 15 min). null = any team of the scenario's area (the published"
        " record counts every answered call, whatever its response time)")
    busy_probability: float | None = Field(
        None, gt=0, lt=1,
        description="fixed busy probability of every team (no fixed point: a what-if and a"
        " test device); default None = each location's own, from the plan's workload")
    initial_busy_probability: float = Field(
        0.5, gt=0, lt=1, description="busy probability every team starts the fixed point with"
        " (the result must not depend on it beyond the tolerance; tests check 0.2-0.8)."
        " ASSUMPTION")
    max_busy_probability: float = Field(
        0.95, gt=0, lt=1, description="unused by the local model (kept so that older scenarios"
        " load); A-max-busy-probability")
    damping: float = Field(0.5, gt=0, le=1, description="fixed point step after the first: "
                           "damping / (k - 1) (method of successive averages)")
    max_iterations: int = Field(25, ge=1, le=200, description="greedy fixed point iterations"
                                " before the LP rounds")
    busy_probability_by: Literal["tour", "slot"] = Field(
        "tour", description="a location's busy probability from the workload of each tour (its"
        " slots pooled over the days) or of each (day, tour) slot")
    tolerance: float = Field(
        0.01, gt=0, lt=1, description="the fixed point has converged when the estimate the"
        " MIP used and the plan's own busy probabilities give covered shares that differ by at"
        " most this, calls-weighted mean of the absolute difference over precinct-slots (0.01"
        " = a percent of the calls, about the model's own error against the simulation)."
        " ASSUMPTION")
    # replaced by the local busy-probability model (a clear error names what to do)
    amexclp: Any = Field(None, exclude=True)
    busy_workload: Any = Field(None, exclude=True)

    @field_validator("amexclp", "busy_workload")
    @classmethod
    def _replaced(cls, v: Any, info) -> Any:
        if v is not None and v is not False and v != "served":
            raise ValueError(
                "replaced: coverage.mode shared now estimates each location's own busy"
                " probability from the plan's workload with an approximate hypercube model"
                " (Jarvis's correction for dependent teams included, models/shared_coverage.md);"
                f" remove coverage.{info.field_name}")
        return None


class GeographySettings(_Strict):
    """Travel-time model between precincts (``bheard.geography``), or an OD table."""

    travel_times: Path | None = Field(
        None, description="CSV origin,destination,minutes[,tour] replacing the formula")
    speeds_kmh: dict[Borough, float] = Field(
        default_factory=lambda: {"Manhattan": 16.0, "Bronx": 22.0, "Brooklyn": 20.0,
                                 "Queens": 24.0, "Staten Island": 30.0},
        description="daytime driving speed without lights and sirens (S-response-time), km/h."
        " ASSUMPTION: no published NYC figure per borough; NYC DOT's 2018 Mobility Report puts"
        " citywide bus speeds at 7.4 mph (12 km/h), a lower reference")
    night_speed_factor: float = Field(
        1.3, gt=0, description="speed multiplier for tours whose midpoint is 00:00-07:00."
        " ASSUMPTION")
    speed_factor_by_tour: dict[str, float] = Field(
        default_factory=dict, description="tour name -> speed multiplier > 0 (overrides the"
        " night rule)")

    @field_validator("speed_factor_by_tour")
    @classmethod
    def _positive_factors(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not x > 0}
        if bad:
            raise ValueError(f"speed multipliers > 0; got {bad}")
        return v
    detour_factor: float = Field(
        1.3, ge=1, description="road distance / straight-line distance. ASSUMPTION: 4/pi = 1.27"
        " for a rectangular grid at random orientation (Larson & Odoni 3.7)")
    within_precinct_factor: float = Field(
        0.382598, gt=0, description="mean distance centre -> call = factor x sqrt(area) (square"
        " -root law for a square: (sqrt 2 + asinh 1)/6; Larson & Odoni 3.7)")
    cross_borough_penalty_min: float = Field(
        5.0, ge=0, description="minutes added when the team crosses a borough line (bridges)."
        " ASSUMPTION")
    dispatch_delay_min: float = Field(
        1.1, ge=0, description="minutes from call entry to dispatch (S-nypd-dispatch-delay: NYPD median"
        " 1.0-1.2 min)")

    @field_validator("speeds_kmh")
    @classmethod
    def _speeds(cls, v):
        _B = BOROUGHS
        missing = [b for b in _B if b not in v]
        if missing or any(not x > 0 for x in v.values()):
            raise ValueError(f"a speed > 0 km/h for every borough {list(_B)}"
                             + (f"; missing {missing}" if missing else ""))
        return v


def _check_roles(v: dict, what: str) -> dict:
    """Keys must be crew roles and values >= 0 (``what`` names the values in the message)."""
    bad = [k for k in v if k not in ROLES]
    if bad or any(not x >= 0 for x in v.values()):
        raise ValueError(f"roles must be among {list(ROLES)} with {what} >= 0"
                         + (f"; unknown {bad}" if bad else ""))
    return v


class ProgramPosition(_Strict):
    """One line of program staff outside the teams (``costs.program_staff``)."""

    fte: float = Field(ge=0, description="full-time equivalents, FTE")
    salary_usd: float = Field(ge=0, description="base salary, USD/year per FTE")


class CostSettings(_Strict):
    """Bottom-up cost of a team-shift from pay, plus the program's fixed annual cost
    (``bheard.costs``; ``models/workforce_cost.md``)."""

    salary_usd: dict[str, float] = Field(
        default_factory=lambda: {"emt": 59534.0, "paramedic": 75872.0, "social_worker": 80000.0,
                                 "peer": 50000.0},
        description="base salary per role, USD/year: EMT top step (S-emt-pay), paramedic"
        " top step (S-paramedic-pay), social worker ASSUMPTION $80k (A-sw-salary), peer ASSUMPTION $50k"
        " (A-peer-salary)")
    mental_health_differential: dict[str, float] = Field(
        default_factory=lambda: {"emt": 0.06, "paramedic": 0.06},
        description="pay uplift for EMS on mental-health teams (S-mh-differential: 6%)")
    fringe_rate: float = Field(0.70, ge=0, le=2, description="fringe as a share of salary"
                               " (S-fringe: 54% FY2008, 62% FY2010, 71-72% FY2013-14)")
    evening_differential: float = Field(
        0.10, ge=0, le=1, description="pay uplift on tours whose midpoint is 17:00-24:00"
        " (S-hh-differential: H+H +10%; ASSUMPTION A-differentials: all roles)")
    night_differential: float = Field(
        0.10, ge=0, le=1, description="pay uplift on tours whose midpoint is 00:00-07:00"
        " (ASSUMPTION A-differentials: as S-hh-differential, all roles)")
    vehicle_usd_per_shift: float = Field(
        100.0, ge=0, description="vehicle and fuel per team-shift, USD (A-vehicle-per-shift;"
        " S-ambulance-tour-cost, S-vehicle-cost)")
    overhead_rate: float = Field(
        0.15, ge=0, le=5, description="agency indirect cost (HR, payroll, IT, fleet, facilities)"
        " on top of every other cost; supervision, training and program staff are separate lines"
        " (A-overhead)")
    supervisors_per_team: dict[str, float] = Field(
        default_factory=lambda: {"ems_officer": 0.25, "clinical_supervisor": 0.25},
        description="supervisors on duty per team on duty, by supervisor title (ASSUMPTION"
        " A-supervision: one EMS officer and one clinical supervisor per 4 teams)")
    supervisor_salary_usd: dict[str, float] = Field(
        default_factory=lambda: {"ems_officer": 87000.0, "clinical_supervisor": 100000.0},
        description="base salary per supervisor title, USD/year (ASSUMPTION A-supervision;"
        " S-sw-pay-references: hospital social workers up to $100k)")
    training_weeks_per_hire: float = Field(
        5.0, ge=0, le=52, description="paid weeks of joint training per new team member before"
        " the first tour (S-team-size: 5 weeks)")
    annual_attrition: float = Field(
        0.16, ge=0, le=2, description="share of team members replaced (and trained) a year"
        " (S-ems-attrition: about two FDNY EMS resignations a day, ~16%/year)")
    program_staff: dict[str, ProgramPosition] = Field(
        default_factory=dict,
        description="program-level staff outside the teams (oversight, program offices,"
        " dispatch desk): name -> {fte, salary_usd}. A FIXED annual cost, taken out of the"
        " budget before teams are bought. Default none; the shipped scenarios list theirs"
        " (A-program-staff)")
    program_other_usd_per_year: float = Field(
        0.0, ge=0, description="program-level non-staff cost (data systems, evaluation, public"
        " information), USD/year, fixed (A-program-staff)")

    @field_validator("salary_usd", "mental_health_differential")
    @classmethod
    def _roles(cls, v):
        return _check_roles(v, "values")

    @model_validator(mode="after")
    def _supervisors(self) -> "CostSettings":
        bad = [k for k in self.supervisors_per_team if k not in self.supervisor_salary_usd]
        neg = [k for k, x in {**self.supervisors_per_team, **self.supervisor_salary_usd}.items()
               if not x >= 0]
        if bad or neg:
            raise ValueError("costs.supervisors_per_team needs a costs.supervisor_salary_usd for"
                             " every title, all values >= 0"
                             + (f"; no salary for {bad}" if bad else "")
                             + (f"; negative {neg}" if neg else ""))
        return self


class WorkforceSettings(_Strict):
    """Headcount from paid hours (``bheard.costs.headcount``) and caps per role."""

    paid_hours_per_fte: float = Field(2088.0, gt=0, description="paid hours a year per FTE"
                                      " (S-paid-hours)")
    productive_share: float = Field(
        0.82, gt=0, le=1, description="share of paid hours worked after leave and training;"
        " 1/0.82 = 1.22 relief (A-relief: ~1,700 productive of 2,088 h; ASSUMPTION)")
    max_headcount: dict[str, float] = Field(
        default_factory=dict, description="role -> max FTE (e.g. licensed social workers"
        " available to hire)")

    @field_validator("max_headcount")
    @classmethod
    def _caps(cls, v):
        return _check_roles(v, "caps")


class EquitySettings(_Strict):
    """Optional coverage floors (annual shares of eligible calls; ``bheard.equity``)."""

    min_precinct_share: float | None = Field(None, ge=0, le=1)
    min_borough_share: float | None = Field(None, ge=0, le=1)
    max_ratio: float | None = Field(None, ge=1, description="cap on best / worst precinct share")

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.min_precinct_share, self.min_borough_share,
                                           self.max_ratio))


class Limits(_Strict):
    """Workforce and policy limits."""

    max_teams_per_slot: int = Field(
        4, ge=0, le=200, description="max teams in one precinct in one (day, tour) slot"
    )
    max_teams_per_tour: int | dict[str, int] | None = Field(
        None,
        description="citywide max teams on duty in one (day, tour) slot: one number, or per tour",
    )
    min_teams: dict[int, int] = Field(
        default_factory=dict,
        description="precinct -> min teams in every slot (e.g. a guaranteed local team)",
    )
    min_teams_every_precinct: int = Field(
        0, ge=0, description="min teams in every slot of every precinct (DCS: a team everywhere)"
    )

    @field_validator("max_teams_per_tour")
    @classmethod
    def _caps_non_negative(cls, v):
        vals = v.values() if isinstance(v, dict) else ([] if v is None else [v])
        if any(x < 0 for x in vals):
            raise ValueError("caps must be >= 0 teams")
        return v

    @field_validator("min_teams")
    @classmethod
    def _mins_non_negative(cls, v: dict[int, int]) -> dict[int, int]:
        if any(x < 0 for x in v.values()):
            raise ValueError("minimum teams must be >= 0")
        return v


class SolverOptions(_Strict):
    time_limit_s: float = Field(60.0, gt=0, description="wall-clock limit for HiGHS, seconds")
    mip_rel_gap: float = Field(1e-4, ge=0, lt=1, description="relative MIP gap to stop at")
    threads: int | None = Field(None, ge=1, description="HiGHS threads (default: HiGHS decides)")
    reduce: bool = Field(
        True,
        description="fix increments by Lagrangian reduced costs before HiGHS (exact; see"
        " models/isolated_coverage.md). false = hand HiGHS the full model",
    )
    warm_start: bool = Field(True, description="give HiGHS the greedy plan as a MIP start")
    highs_options: dict[str, Union[bool, int, float, str]] = Field(
        default_factory=dict, description="extra HiGHS options passed as is"
    )


#: keys that moved out of ``simulation:`` because the optimizer reads them too: old key -> new
MOVED_SIMULATION_KEYS = {
    "availability": "dispatch.availability",
    "max_wait_min": "dispatch.max_wait_min",
    "hospital_share": "dispatch.hospital_share",
    "hospital_extra_hours": "dispatch.hospital_extra_hours",
    "local_travel_min": ("geography (the trip to a call now comes from the travel model:"
                         " geography.dispatch_delay_min + driving time)"),
}


class SimulationSettings(_Strict):
    """Discrete-event simulation of a plan (``bheard simulate``; see models/simulation.md).

    How teams are dispatched and how long calls keep them busy is NOT here: the simulator reads
    the same ``dispatch:``, ``teams.service_time_hours``, ``geography:`` and ``coverage:``
    settings as the optimizer (``models/dispatch.md``)."""

    replications: int = Field(10, ge=1, le=10_000, description="independent replications")
    seed: int = Field(0, ge=0, description="random seed (results are deterministic per seed)")
    weeks: int | None = Field(
        None, ge=1, le=520, description="simulated weeks per replication; default:"
        " weeks_per_year rounded (one year)")
    dispatch: Literal["isolated", "pooled", "shared"] | None = Field(
        None, description="a what-if override of the dispatch rule; default None = the"
        " optimizer's own rule (coverage.mode and coverage.response_standard_min). isolated ="
        " a precinct's own teams only; pooled = the nearest free team of the scenario's area;"
        " shared = the nearest free team within coverage.response_standard_min")
    # keys that moved to dispatch: (validated aliases would let the optimizer and the
    # simulator disagree again; a clear error names the new key)
    availability: Any = Field(None, exclude=True)
    max_wait_min: Any = Field(None, exclude=True)
    hospital_share: Any = Field(None, exclude=True)
    hospital_extra_hours: Any = Field(None, exclude=True)
    local_travel_min: Any = Field(None, exclude=True)

    @field_validator(*MOVED_SIMULATION_KEYS)
    @classmethod
    def _moved(cls, v: Any, info) -> Any:
        if v is not None:
            raise ValueError(f"moved: use {MOVED_SIMULATION_KEYS[info.field_name]} (read by the"
                             " optimizer and the simulator alike, models/dispatch.md)")
        return v


class DispatchSettings(_Strict):
    """How a call gets a team and how long it keeps the team busy: the one parameter set that
    the optimizer's coverage model and the simulator both read (``models/dispatch.md``).

    With ``teams.service_time_hours`` (busy time per call beyond the trip), ``geography``
    (pre-travel delay and driving times) and ``coverage.response_standard_min`` (which teams
    may be sent). Shipped scenarios take the calibrated values from
    ``scenarios/calibration.yaml`` (``bheard calibrate``)."""

    availability: float = Field(
        1.0, gt=0, le=1, description="share of each team's tour it can take calls; the rest is"
        " one unavailable block (meal, restock, paperwork) at a random time of the tour,"
        " deferred while the team is on a call (A-availability; CALIBRATED in"
        " scenarios/calibration.yaml). Default 1.0 = always available")
    max_wait_min: float = Field(
        0.0, ge=0, le=240, description="minutes a call may wait for a team in range to free up"
        " before it gets the traditional response; 0 = none (S-first-month: calls that found"
        " the teams busy went to NYPD)")
    hospital_share: float = Field(
        0.5, ge=0, le=1, description="share of calls whose client is taken to hospital"
        " (S-fy22, S-hospital-transport, S-h1-fy23: 46-54%); shapes the busy-time distribution")
    hospital_extra_hours: float = Field(
        1.0, ge=0, description="extra busy hours of a hospital transport over an on-site call"
        " (A-hospital-extra-time); the mean busy time stays teams.service_time_hours")
    handover: Literal["post", "free"] = Field(
        "post", description="a team busy at the end of its tour: post = keeps its post busy"
        " until the call ends (the relieving team starts then) and is paid overtime for the"
        " overrun; free = the relieving team starts free (the overrun is still paid)."
        " ASSUMPTION A-handover")
    overtime_premium: float = Field(
        1.5, ge=1, le=3, description="overtime pay as a multiple of straight time (S-overtime:"
        " time and a half)")


#: a fiscal-year label "FY27" (NYC fiscal year 1 July - 30 June, named by the year it ends in)
_FY = re.compile(r"^FY(\d\d)$")
#: a period label: "FY29" (the fiscal year's last period), "FY29Q4", "FY29H2" or "FY29M12"
_PERIOD = re.compile(r"^FY(\d\d)(?:(Q)([1-4])|(H)([12])|(M)(0[1-9]|1[0-2]))?$")


class Pipeline(_Strict):
    """One hiring pipeline (a crew role): training cohorts and attrition (``models/buildout.md``).

    Trained graduates per period = ``cohort_size x cohorts_at_once x period weeks /
    training_weeks`` (cohorts run back to back); they join the headcount at the start of the
    next period. ``cohort_size: null`` = no hiring limit.
    """

    training_weeks: float = Field(
        5.0, gt=0, le=104, description="length of one training cohort, weeks (S-team-size: all"
        " three crew members take 5 weeks of joint training)")
    cohort_size: float | None = Field(
        None, gt=0, description="persons per training cohort; null = no hiring limit. No"
        " default size is published (A-buildout-pipelines): give one per role")
    cohorts_at_once: int | tuple[int, ...] = Field(
        1, description="cohorts training at the same time: one number, or one per period of the"
        " horizon (A-buildout-pipelines)")
    attrition_per_year: float = Field(
        0.0, ge=0, lt=1, description="share of trained staff who leave per year. ASSUMPTION"
        " (A-buildout-attrition): no published B-HEARD figure, so none unless stated")

    @field_validator("cohorts_at_once")
    @classmethod
    def _cohorts(cls, v):
        vals = v if isinstance(v, tuple) else (v,)
        if not vals or any(x < 0 for x in vals):
            raise ValueError("cohorts >= 0 (one number, or a non-empty list per period)")
        return v


class Milestone(_Strict):
    """A target the ramp must meet from period ``by`` on (e.g. a team in every precinct)."""

    by: str = Field(description='period label: "FY29" (end of FY29), "FY29Q2", "FY29H1" or'
                    ' "FY29M06" (period 6 of FY29 = December)')
    min_teams_every_precinct: int = Field(0, ge=0, description="teams in every precinct, in"
                                          " every slot of the listed tours")
    min_teams: dict[int, int] = Field(default_factory=dict, description="precinct -> teams in"
                                      " every slot of the listed tours")
    tours: tuple[str, ...] | None = Field(None, description="tours the minimum applies to"
                                          " (default: every tour)")
    name: str = Field("", description="what the milestone stands for (for messages)")

    @field_validator("by")
    @classmethod
    def _by(cls, v):
        if not isinstance(v, str) or not _PERIOD.match(v.strip()):
            raise ValueError('a period label like "FY29", "FY29Q4", "FY29H2" or "FY29M12"')
        return v.strip()

    @field_validator("min_teams")
    @classmethod
    def _mins(cls, v):
        if any(x < 0 for x in v.values()):
            raise ValueError("minimum teams must be >= 0")
        return v


class TourRamp(_Strict):
    """How fast one tour can grow: teams added per period (recruiting for a tour, e.g. the
    overnight tour, which H+H calls among the hardest to recruit for: S-tours-hours)."""

    max_added_teams_per_period: float = Field(
        ge=0, description="teams added to the tour citywide per period, counted per slot (a"
        " team on every day of the week counts once); ASSUMPTION (A-buildout-overnight)")


class StartingDeployment(_Strict):
    """Today's deployment, the ramp's starting point: a saved plan folder (``bheard solve
    --out``) or a scenario solved for its plan (e.g. ``baseline_2024.yaml``, the 2024 pilot)."""

    plan: Path | None = Field(None, description="folder written by `bheard solve --out`")
    scenario: Path | None = Field(None, description="scenario file whose solved plan is today's"
                                  " deployment (its precincts, tours and team counts)")

    @model_validator(mode="after")
    def _one(self):
        if (self.plan is None) == (self.scenario is None):
            raise ValueError("exactly one of plan (a saved plan folder) and scenario")
        return self


class BuildoutSettings(_Strict):
    """A multi-period hiring ramp (``bheard buildout``, ``models/buildout.md``): teams per
    precinct, tour and period, headcount carried from period to period, fiscal-year budgets."""

    first_fiscal_year: int = Field(
        ge=2000, le=2099, description="first fiscal year of the horizon, e.g. 2027 for FY27"
        " (1 Jul 2026 - 30 Jun 2027; NYC fiscal years run July-June)")
    fiscal_years: int = Field(3, ge=1, le=20, description="horizon length in fiscal years")
    period: Literal["quarter", "month", "half", "year"] = Field(
        "quarter", description="length of one period (quarters by default)")
    teams_by: Literal["tour", "day_and_tour"] = Field(
        "tour", description="tour: a precinct's teams on a tour are the same every day of the"
        " week (one decision per precinct and tour); day_and_tour: one per (day, tour) slot,"
        " like the steady-state solve")
    starting_deployment: StartingDeployment | None = Field(
        None, description="today's deployment; default: no teams")
    starting_headcount: dict[str, float] | None = Field(
        None, description="trained staff at the start, FTE by role; default: what the starting"
        " deployment needs with this scenario's crew and relief (workforce)")
    allow_reductions: bool = Field(
        False, description="may a precinct-slot ever have fewer teams than the period before"
        " (the starting deployment before the first period)? Default no: planners cannot take"
        " away service precincts already have")
    budget_usd_by_fiscal_year: dict[str, float] | None = Field(
        None, description='program budget per fiscal year, USD ({"FY27": 5.0e7, ...}), read like'
        " budget.annual_usd: the program's fixed cost (costs:) comes out first, the rest pays"
        " teams; default: the scenario's team budget every year")
    budget_per: Literal["period", "fiscal_year"] = Field(
        "period", description="period: each period spends at most its share of its fiscal"
        " year's budget (no quarter runs above the year's rate, so the ramp ends within what"
        " the last year funds); fiscal_year: a year's periods together spend at most its"
        " budget (money moves between its quarters). ASSUMPTION (A-buildout-budgets)")
    pipelines: dict[str, Pipeline] = Field(
        default_factory=dict, description="role -> hiring pipeline; a crew role not listed has"
        " no hiring limit and no attrition")
    tours: dict[str, TourRamp] = Field(
        default_factory=dict, description="tour name -> growth limit per period")
    milestones: tuple[Milestone, ...] = Field(default_factory=tuple)
    bench_cost_usd_per_fte_year: dict[str, float] | None = Field(
        None, description="USD/year for a trained person not (yet) on a team, by role; default:"
        " salary x (1 + mental-health differential) x (1 + fringe) from the costs section (or"
        " its documented defaults: S-emt-pay, S-paramedic-pay, A-sw-salary, A-peer-salary,"
        " S-mh-differential, S-fringe)")
    training_cost_usd_per_hire: dict[str, float] = Field(
        default_factory=dict, description="USD per person trained, by role; default 0: training"
        " is inside the team-shift overhead (A-overhead)")
    discount_rate_per_year: float = Field(
        0.0, ge=0, lt=1, description="covered calls in later years count (1 + rate)^-years;"
        " default 0 = every covered call counts the same (ASSUMPTION, A-buildout-discount)")

    @field_validator("budget_usd_by_fiscal_year")
    @classmethod
    def _budgets(cls, v):
        if v is None:
            return v
        bad = [k for k in v if not isinstance(k, str) or not _FY.match(k)]
        if bad or any(not (0 <= x < float("inf")) for x in v.values()):
            raise ValueError('keys "FY27", "FY28", ... with finite budgets >= 0 USD'
                             + (f"; bad keys {bad}" if bad else ""))
        return v

    @field_validator("starting_headcount", "bench_cost_usd_per_fte_year",
                     "training_cost_usd_per_hire", "pipelines")
    @classmethod
    def _role_keys(cls, v):
        if v is None:
            return v
        bad = [k for k in v if k not in ROLES]
        if bad:
            raise ValueError(f"roles must be among {list(ROLES)}; unknown {bad}")
        if any(not isinstance(x, Pipeline) and not (0 <= x < float("inf")) for x in v.values()):
            raise ValueError("values must be finite and >= 0")
        return v


class Scenario(_Strict):
    """A validated scenario. Build it with :func:`load_scenario`."""

    name: str = Field(min_length=1)
    description: str = ""
    shifts: Shifts
    precincts: Literal["all"] | tuple[int, ...] | BoroughFilter = "all"
    demand: Demand = Field(default_factory=lambda: Demand(prior=PriorDemand()))
    teams: Teams
    budget: Budget
    weeks_per_year: float = Field(
        52.0, gt=0, le=53, description="weeks a year the weekly schedule runs"
    )
    limits: Limits = Field(default_factory=Limits)
    solver: SolverOptions = Field(default_factory=SolverOptions)
    coverage: CoverageSettings = Field(default_factory=CoverageSettings)
    geography: GeographySettings = Field(default_factory=GeographySettings)
    costs: CostSettings | None = Field(
        None, description="bottom-up team cost; alternative to teams.cost_per_team_shift_usd")
    workforce: WorkforceSettings = Field(default_factory=WorkforceSettings)
    equity: EquitySettings = Field(default_factory=EquitySettings)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    buildout: BuildoutSettings | None = Field(
        None, description="multi-period hiring ramp (`bheard buildout`); not used by `solve`")
    #: where the scenario came from (file path or "<dict>"), for messages and reports
    source: str = "<dict>"

    @model_validator(mode="after")
    def _cross_checks(self) -> "Scenario":
        tours = [t.name for t in self.shifts.tours]
        c = self.teams.cost_per_team_shift_usd
        if (c is None) == (self.costs is None):
            raise ValueError("give exactly one of teams.cost_per_team_shift_usd (top-down) and"
                             " costs (bottom-up)")
        unknown = [k for k in self.geography.speed_factor_by_tour if k not in tours]
        if unknown:
            raise ValueError(f"geography.speed_factor_by_tour names unknown tours {unknown}")
        if isinstance(c, dict):
            missing = [t for t in tours if t not in c]
            extra = [k for k in c if k not in tours]
            if missing or extra:
                raise ValueError(
                    f"teams.cost_per_team_shift_usd must give a cost for each tour {tours}"
                    + (f"; missing {missing}" if missing else "")
                    + (f"; unknown tours {extra}" if extra else "")
                )
        d = self.dispatch
        if not self.teams.service_time_hours > d.hospital_share * d.hospital_extra_hours:
            raise ValueError(
                f"teams.service_time_hours ({self.teams.service_time_hours} h) must exceed"
                f" dispatch.hospital_share x dispatch.hospital_extra_hours"
                f" ({d.hospital_share * d.hospital_extra_hours:g} h): the on-site part of the"
                " busy time would be negative")
        caps = self.limits.max_teams_per_tour
        if isinstance(caps, dict):
            extra = [k for k in caps if k not in tours]
            if extra:
                raise ValueError(
                    f"limits.max_teams_per_tour names unknown tours {extra}; tours are {tours}"
                )
        return self

    # --- convenience -------------------------------------------------------------------
    def tour_cap(self, tour: str) -> int | None:
        """Citywide max teams on duty in one slot of ``tour`` (None = no cap)."""
        caps = self.limits.max_teams_per_tour
        if caps is None:
            return None
        if isinstance(caps, dict):
            return caps.get(tour)
        return int(caps)

    def slots(self) -> list[tuple[str, str]]:
        """The (day, tour) slots of the week, in day order then tour order."""
        return shift_slots(self.shifts)

    def with_overrides(self, **changes: Any) -> "Scenario":
        """A copy with dotted-path overrides, e.g. ``{"budget.annual_usd": 5e6}``; validated.

        An unknown path raises :class:`InputError` naming it (like an unknown key in a file).
        """
        data = self.model_dump(mode="python", exclude={"source"})
        for dotted, value in changes.items():
            node: Any = data
            parts = str(dotted).split(".")
            for i, p in enumerate(parts[:-1]):
                nxt = node.get(p) if isinstance(node, dict) else None
                if nxt is None:
                    if isinstance(node, dict) and p in node:  # an optional section not set
                        node[p] = nxt = {}
                    else:
                        raise InputError.single(self.source, ".".join(parts[:i + 1]), dotted,
                                                "a dotted path of existing scenario fields")
                node = nxt
            if not isinstance(node, dict):
                raise InputError.single(self.source, dotted, value,
                                        "a dotted path of existing scenario fields")
            node[parts[-1]] = value
        return Scenario.validate_dict(data, self.source)

    @classmethod
    def validate_dict(cls, data: dict, source: str) -> "Scenario":
        """Validate plain data (paths already resolved) into a Scenario, or raise
        :class:`InputError` listing every problem: schema first, then the checks against the
        shipped data (:func:`bheard.scenario.checks.problems`)."""
        data = dict(data)
        data["source"] = source
        try:
            scenario = cls.model_validate(data)
        except ValidationError as exc:
            raise InputError(source, problems_from(exc, cls)) from None
        found = data_problems(scenario)
        if found:
            raise InputError(source, found)
        return scenario


