"""Result types shared by the drivers (:mod:`bheard.optimize`) and the :class:`~bheard.plan.Plan`.

A driver returns one :class:`SolveResult`; the plan keeps its :class:`SolverReport` and the
typed summaries below. Units are in the field names or comments (calls/year, USD/year,
seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from bheard.constants import BOUND_SOURCES


@dataclass
class SolverReport:
    """How the answer was obtained and what its bound certifies.

    ``bound_source`` is one of :data:`bheard.constants.BOUND_SOURCES`. ``lp_bound`` is the LP
    relaxation bound (calls/year) whichever way it was computed; ``mip_bound`` HiGHS's MIP
    bound lifted to the full model (calls/year), when HiGHS ran a MIP.
    """

    termination: str = ""  # solver termination (bheard.solver.status.TERMINATIONS) or a step
    bound_source: str = ""
    n_increments: int = 0  # candidate (precinct, slot, level) teams
    n_fixed_one: int = 0  # decided by fixing (reduced-cost, exchange; incl. minimum staffing)
    n_fixed_zero: int = 0
    n_variables: int = 0  # variables handed to HiGHS
    n_integer: int = 0
    greedy_objective: float = math.nan  # calls/year
    lp_bound: float = math.nan  # calls/year
    mip_bound: float = math.nan  # calls/year
    tie_break_per_usd: float = 0.0  # calls/year per USD/year
    time_limit_s: float = math.nan
    mip_rel_gap: float = math.nan
    message: str = ""

    def __post_init__(self):
        if self.bound_source and self.bound_source not in BOUND_SOURCES:
            raise ValueError(f"unknown bound_source {self.bound_source!r}")

    @property
    def bound_meaning(self) -> str:
        """What the bound certifies, in words."""
        return BOUND_SOURCES.get(self.bound_source, "")


@dataclass
class FixedPointReport:
    """The local busy-probability fixed point of a shared-coverage solve
    (models/shared_coverage.md).

    ``busy_probability`` (S,): team-weighted mean busy probability behind the estimate the
    final MIP was built with; ``busy_probability_from_plan`` (S,): the same for the plan's
    own busy probabilities (approximate hypercube). ``final_change``: the largest difference,
    over precinct-slots, between the covered share the estimate gives the plan and the share
    at its own busy probabilities; ``converged`` is ``final_change <= tolerance``.
    ``objective_at_estimate``: the plan's covered calls/year under the MIP's estimate (what
    the bound is compared with); the plan's objective is at its own busy probabilities.
    """

    busy_probability: list[float]
    busy_probability_from_plan: list[float]
    iterations: int
    converged: bool
    final_change: float
    tolerance: float
    damping: float
    levels: int
    trace: list[dict] = field(default_factory=list)
    objective_at_estimate: float = math.nan  # calls/year
    initial_busy_probability: float = math.nan
    bound_certifies: str = ("no plan covers more than the bound under the final estimate of"
                            " the local busy probabilities (frozen per precinct-slot);"
                            " the objective is the plan's coverage at its own busy"
                            " probabilities")


@dataclass
class SharedCoverage:
    """Cross-precinct coverage of a plan: who covers whom (calls/year)."""

    response_standard_min: float | None  # None = any team of the area
    mean_precincts_in_range: float
    covered_by_own_teams: float
    covered_by_neighbours: float


@dataclass
class EquityCost:
    """What the equity floors cost in covered calls/year (same busy probabilities)."""

    covered_without_floors: float
    bound_without_floors: float
    covered_with_floors: float
    coverage_lost_to_floors: float
    coverage_lost_to_floors_at_most: float
    floors_bind: bool
    note: str = ("without floors: LP-rounded + local-search plan and LP bound, at the same"
                 " busy probabilities (the final q of the fixed point)")


def _typed(cls, d: dict) -> dict:
    """``d`` with the numbers of dataclass ``cls`` converted by their annotation (``float``,
    ``int``, optional ones may be None): a malformed saved summary raises ``TypeError`` or
    ``ValueError`` here instead of surfacing later in a report."""
    if not isinstance(d, dict):
        raise TypeError(f"{cls.__name__}: an object")
    out = dict(d)
    for f in fields(cls):
        if f.name not in out:
            continue
        v, kind = out[f.name], str(f.type)
        if v is None and "None" in kind:
            continue
        if kind.startswith("float"):
            if isinstance(v, (bool, str)):
                raise ValueError(f"{cls.__name__}.{f.name}: a number")
            out[f.name] = float(v)
        elif kind.startswith("int"):
            if isinstance(v, (bool, str)) or float(v) != int(v):
                raise ValueError(f"{cls.__name__}.{f.name}: an integer")
            out[f.name] = int(v)
        elif kind == "str" and not isinstance(v, str):
            raise ValueError(f"{cls.__name__}.{f.name}: a string")
    return out


@dataclass
class GroupDistribution:
    """Held-out coverage of one borough or tour (calls/year, shares 0..1)."""

    name: str
    expected_eligible_calls: float
    expected_covered_calls: float
    expected_share: float  # E[covered] / E[eligible]
    share_p10: float
    share_p50: float
    share_p90: float
    p_meet_target: float | None = None


@dataclass
class CoverageDistribution:
    """Coverage of one plan over held-out demand samples (``models/stochastic.md``).

    Per sample ``m``: covered calls ``C_m`` and eligible calls ``E_m`` (calls/year), share
    ``C_m / E_m``. ``expected_share = mean C / mean E``; quantiles are of the per-sample values;
    ``cvar_share`` the mean share over the worst ``cvar_alpha`` of samples;
    ``p_meet_target`` the share of samples with ``C_m / E_m >= target_share``;
    ``expected_covered_calls_se`` the standard error of ``mean C`` over the samples.
    """

    plan: str  # which plan: stochastic (the solved plan), median, expected
    samples: int
    team_shifts_per_week: int
    annual_cost_usd: float
    expected_eligible_calls: float
    expected_covered_calls: float
    expected_covered_calls_se: float
    expected_share: float
    covered_p10: float
    covered_p50: float
    covered_p90: float
    share_p10: float
    share_p50: float
    share_p90: float
    cvar_alpha: float
    cvar_share: float
    target_share: float | None = None
    p_meet_target: float | None = None
    by_borough: list[GroupDistribution] = field(default_factory=list)
    by_tour: list[GroupDistribution] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict) -> "CoverageDistribution":
        d = _typed(cls, d)
        for k in ("by_borough", "by_tour"):
            d[k] = [GroupDistribution(**_typed(GroupDistribution, g)) for g in d.get(k) or []]
        return cls(**d)


@dataclass
class RiskCertificate:
    """The risk objective of a ``cvar`` solve, in share units: ``(1 - weight) x expected
    share + weight x CVaR_alpha(share)`` over the optimization samples, its HiGHS bound and
    gap."""

    alpha: float
    weight: float
    value: float
    bound: float
    gap: float
    termination: str = ""


@dataclass
class UncertaintySummary:
    """A plan under demand uncertainty (``models/stochastic.md``).

    ``plan`` is the solved plan evaluated on the held-out samples, ``median_plan`` the plan
    optimized for the per-cell median of the optimization samples at the same budget,
    evaluated on the same held-out samples (``expected_plan``: for a ``cvar`` solve, the plan
    maximizing expected coverage). ``value_of_stochastic_solution`` = held-out expected
    covered calls/year of ``plan`` minus ``median_plan``'s, with the standard error of the
    paired difference; ``median_plan_planned_covered_calls`` what the median plan promises at
    the median demand (calls/year); ``price_of_risk_calls`` the held-out expected covered
    calls/year a ``cvar`` plan gives up against ``expected_plan``.
    """

    source: str
    objective: str
    optimization_samples: int
    evaluation_samples: int
    seed: int
    in_sample_expected_covered_calls: float
    plan: CoverageDistribution
    median_plan: CoverageDistribution
    median_plan_planned_covered_calls: float
    median_plan_planned_share: float
    value_of_stochastic_solution: float
    value_of_stochastic_solution_se: float
    expected_plan: CoverageDistribution | None = None
    price_of_risk_calls: float | None = None
    risk: RiskCertificate | None = None
    evaluation: str = ("held-out samples: drawn from another random stream than the samples the"
                       " plans were optimized over (or the held-out part of a sample file)")

    @classmethod
    def from_dict(cls, d: dict) -> "UncertaintySummary":
        d = _typed(cls, d)
        for k in ("plan", "median_plan", "expected_plan"):
            if d.get(k) is not None:
                d[k] = CoverageDistribution.from_dict(d[k])
        if d.get("risk") is not None:
            d["risk"] = RiskCertificate(**_typed(RiskCertificate, d["risk"]))
        return cls(**d)


@dataclass
class SolveResult:
    """What a driver returns: the plan as an array, its value, its certificate, its timings.

    ``teams``: (P, C) int teams per precinct and plan column (a slot, or a staggered start
    option), None when there is no plan. ``covered``: (P, C') expected covered calls/year per
    precinct and slot under the formulation's coverage model (None = the Erlang table of the
    problem data gives it). ``own_covered`` / ``teams_in_range``: shared coverage only.
    """

    status: str
    teams: np.ndarray | None
    objective: float  # calls/year
    bound: float  # calls/year
    gap: float
    build_seconds: float
    translate_seconds: float
    solve_seconds: float
    report: SolverReport
    diagnosis: list[str] = field(default_factory=list)
    coverage_model: str = "isolated (loss with breaks at the lagged load)"
    covered: np.ndarray | None = None
    own_covered: np.ndarray | None = None
    teams_in_range: np.ndarray | None = None
    fixed_point: FixedPointReport | None = None
    equity_cost: EquityCost | None = None
    uncertainty: UncertaintySummary | None = None
    #: (P, S) busy probability of a team at each location (local model; None otherwise)
    local_busy: np.ndarray | None = None
    #: the share of carried-over calls the plan was evaluated at (isolated and staggered
    #: models, :mod:`bheard.optimize.carryover`; None = all of them)
    carry_share: np.ndarray | None = None


@dataclass
class LimitEffect:
    """What relaxing one limit would buy, found by re-solving the scenario with only that
    limit relaxed (:func:`bheard.optimize.explain.explain_limits`).

    ``limit``: the scenario field (``budget.annual_usd``, ``limits.max_teams_per_slot``,
    ``limits.max_teams_per_tour``, ``workforce.max_headcount``); ``binds``: the plan is at
    this limit; ``current`` / ``relaxed``: the value and what was tried, in words;
    ``extra_covered_calls`` (calls/year) and ``extra_cost_usd`` (USD/year of team cost) of the
    re-solved plan against this one; ``detail``: where the limit binds.
    """

    limit: str
    binds: bool
    current: str
    relaxed: str
    extra_covered_calls: float
    extra_cost_usd: float
    detail: str = ""


@dataclass
class LimitReport:
    """Which limit stops a plan: the budget (less than one more team-shift a week for a year
    is left) or another limit (money is left but coverage cannot rise), with what relaxing
    each binding limit would buy. USD/year, calls/year."""

    unspent_usd: float
    cheapest_team_shift_year_usd: float
    budget_binds: bool
    effects: list[LimitEffect] = field(default_factory=list)
    method: str = ("each limit relaxed alone and the scenario re-solved to the same gap;"
                   " the difference in covered calls is what relaxing it would buy")

    def sentences(self) -> list[str]:
        """The finding in words (the CLI and the report print these)."""
        out = []
        eff = {e.limit: e for e in self.effects}
        b = eff.get("budget.annual_usd")
        if self.budget_binds:
            s = (f"The budget binds: ${self.unspent_usd:,.0f}/year is left, less than one more"
                 f" team-shift a week for a year (${self.cheapest_team_shift_year_usd:,.0f}).")
            if b is not None:
                s += (f" {b.relaxed} would cover {b.extra_covered_calls:,.0f} more calls/year"
                      f" (re-solved).")
            out.append(s)
        else:
            binding = [e for e in self.effects if e.binds and e.limit != "budget.annual_usd"]
            names = (" and ".join(e.limit for e in binding) + " keeps coverage from rising"
                     if binding else "no limit keeps coverage from rising: every team that"
                     " would add coverage is bought")
            out.append(f"${self.unspent_usd:,.0f}/year of the team budget is left unspent:"
                       f" the budget does not bind; {names}.")
            if b is not None:
                out.append(f"{b.relaxed} would cover {b.extra_covered_calls:,.0f} more"
                           f" calls/year (re-solved).")
        for e in self.effects:
            if e.limit == "budget.annual_usd":
                continue
            if not e.binds:
                out.append(f"{e.limit} = {e.current} is reached ({e.detail}), but {e.relaxed}"
                           f" would add no coverage (re-solved).")
                continue
            out.append(f"{e.limit} = {e.current} binds ({e.detail}); {e.relaxed} would cover"
                       f" {e.extra_covered_calls:,.0f} more calls/year for"
                       f" ${e.extra_cost_usd:,.0f}/year more (re-solved).")
        return out
