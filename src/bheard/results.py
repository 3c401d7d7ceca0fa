"""Result types shared by the drivers (:mod:`bheard.optimize`) and the :class:`~bheard.plan.Plan`.

A driver returns one :class:`SolveResult`; the plan keeps its :class:`SolverReport` and the
typed summaries below. Units are in the field names or comments (calls/year, USD/year,
seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    n_fixed_one: int = 0  # decided by reduced-cost fixing (incl. minimum staffing)
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
    """The busy-probability fixed point of a shared-coverage solve (models/shared_coverage.md).

    ``busy_probability`` (S,) is the q the final model was built with;
    ``busy_probability_from_plan`` (S,) the q the plan's own workload implies. ``converged``
    is ``max |difference| <= tolerance``.
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


@dataclass
class SharedCoverage:
    """Cross-precinct coverage of a plan: who covers whom (calls/year)."""

    response_standard_min: float
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
    coverage_model: str = "isolated Erlang loss"
    covered: np.ndarray | None = None
    own_covered: np.ndarray | None = None
    teams_in_range: np.ndarray | None = None
    fixed_point: FixedPointReport | None = None
    equity_cost: EquityCost | None = None


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
