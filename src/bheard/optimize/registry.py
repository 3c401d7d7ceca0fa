"""The formulation registry: which model and driver solve a scenario, and how its result
becomes plan columns.

``solve``, ``frontier`` and ``batch`` ask :func:`formulation_for`; none of them branches on a
formulation's name. A :class:`Formulation` bundles four steps:

- ``problem(scenario)`` -> problem data (:mod:`bheard.problem`);
- ``run(scenario, data, start=None, cache=None)`` -> :class:`~bheard.results.SolveResult`
  (one driver per solution method, :mod:`bheard.optimize`); ``start`` is a plan (same shape as
  ``result.teams``) to start from when it is feasible; ``cache`` a dict the driver may fill
  with budget-independent work (a frontier reuses it across budgets);
- ``columns(scenario, data, result)`` -> :class:`PlanColumns` (the plan's index, teams and
  per-(precinct, column) table);
- ``index(data)`` -> the :class:`~bheard.plan.PlanIndex` of the plan's columns;
- ``applies(scenario)`` -> whether the formulation is the one for this scenario;
- ``size(scenario)`` -> :class:`ModelSize`, a coarse upper bound on the model's variables and
  memory from the problem's dimensions alone, computed BEFORE any data or model is built
  (the size guard of :func:`bheard.optimize.preflight`).

To add a formulation, write its model in :mod:`bheard.model`, its driver in
:mod:`bheard.optimize`, and add an entry to :data:`FORMULATIONS` (first match wins). Drivers
whose models need Pyomo at import time are imported inside their entry's functions, so solving
an isolated scenario loads neither Pyomo nor SciPy (``bheard solve`` start-up).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from bheard.constants import DAYS
from bheard.model.isolated import make_increments
from bheard.optimize.incremental import solve_problem
from bheard.optimize.carryover import carryover_fixed_point, solve_with_carryover
from bheard.plan import ASSIGNMENT_COLUMNS, SHARED_COLUMNS, PlanIndex, StaggeredSummary
from bheard.problem.hourly import StaggeredData, staggered_from_scenario
from bheard.data import precincts as precinct_table
from bheard.problem.samples import sampled_problem_from_scenario
from bheard.problem.slots import ProblemData, problem_from_scenario, select_precincts
from bheard.results import SolveResult
from bheard.scenario.hours import clock_hour


@dataclass
class PlanColumns:
    """A result as plan columns: index, (P, C) teams, the assignments table, eligible calls in
    the plan's scope (calls/year) and, for staggered starts, the per-hour summary."""

    index: PlanIndex
    teams: np.ndarray | None
    assignments: pd.DataFrame
    eligible_calls: float
    staggered: StaggeredSummary | None = None


@dataclass(frozen=True)
class ModelSize:
    """Upper bound on a model's size from its dimensions: ``P`` precincts, ``C`` plan columns,
    ``K`` teams per precinct and column, ``variables`` and ``bytes`` (model + problem arrays)."""

    P: int
    C: int
    K: int
    variables: int
    bytes: float

    @property
    def mib(self) -> float:
        return self.bytes / 2**20


#: bytes per Pyomo variable with its share of constraints and of HiGHS's copy: a coarse figure,
#: rounded up from one measurement here (the shipped shared citywide solve, 28,560 variables,
#: peaked about 175 MB above the interpreter, imports included: ~6 KB per variable at most;
#: the bound counts every level a precinct-slot may use, far more than the solver keeps)
BYTES_PER_VARIABLE = 4096
#: bytes per (precinct, column, team level) cell of the problem arrays (increments, gains)
BYTES_PER_CELL = 64


def _dims(sc) -> tuple[int, int, int]:
    P = len(select_precincts(precinct_table(), sc.precincts))
    K = max(int(sc.limits.max_teams_per_slot), 1)
    st = sc.shifts.staggered
    C = 7 * len(st.start_hours) if st is not None else len(sc.slots())
    return P, C, K


def slot_size(sc) -> ModelSize:
    """Isolated: one variable per (precinct, slot, increment) and one integer per cell."""
    P, C, K = _dims(sc)
    n = P * C * (K + 1)
    return ModelSize(P, C, K, n, n * BYTES_PER_VARIABLE + P * C * K * BYTES_PER_CELL)


def shared_size(sc) -> ModelSize:
    """Shared: coverage levels per (precinct, slot) up to the teams in range, at most the
    levels whose MEXCLP weight stays above LEVEL_TOL at the highest busy probability; plus
    the (C, P, P) reach and travel-time arrays."""
    P, C, K = _dims(sc)
    q = sc.coverage.busy_probability or sc.coverage.max_busy_probability
    levels = min(K * P, 1 + int(math.log(1e-9) / math.log(q)))
    n = P * C * (levels + 1)
    return ModelSize(P, C, K, n, n * BYTES_PER_VARIABLE + P * C * levels * BYTES_PER_CELL
                     + C * P * P * 16)


def _sample_bytes(sc, P: int, C: int, K: int) -> float:
    """Demand samples: the optimization samples with their Erlang tables (one chunk at a
    time) and per-team gains (CVaR), and the held-out samples with two plans' coverage."""
    u = sc.demand.uncertainty
    N, M = u.samples, u.evaluation_samples
    return 8.0 * P * C * (N * (K + 2) + 4 * M)


def stochastic_size(sc) -> ModelSize:
    """Isolated under demand uncertainty: the isolated model (plus, for CVaR, one dense row
    per sample over every candidate team) and the sample arrays."""
    base = slot_size(sc)
    extra = 0.0
    if sc.demand.uncertainty.objective == "cvar":
        extra = float(sc.demand.uncertainty.samples) * base.P * base.C * base.K * 48
    return ModelSize(base.P, base.C, base.K, base.variables,
                     base.bytes + extra + _sample_bytes(sc, base.P, base.C, base.K))


def stochastic_shared_size(sc) -> ModelSize:
    """Shared under demand uncertainty: the shared model and the sample arrays (gains are
    averaged a few samples at a time)."""
    base = shared_size(sc)
    return ModelSize(base.P, base.C, base.K, base.variables,
                     base.bytes + _sample_bytes(sc, base.P, base.C, base.K))


def staggered_size(sc) -> ModelSize:
    """Staggered: one integer per (precinct, day, start) and coverage levels per (precinct,
    hour of week), up to ``limits.max_teams_per_slot`` teams on duty."""
    P, C, K = _dims(sc)
    n = P * C + P * 168 * (K + 1)
    return ModelSize(P, C, K, n, n * BYTES_PER_VARIABLE + P * 168 * K * BYTES_PER_CELL)


@dataclass(frozen=True)
class Formulation:
    """One entry of the registry (see the module docstring)."""

    name: str
    doc: str  # the models/*.md file that writes it up
    applies: Callable[[Any], bool]
    problem: Callable[[Any], Any]
    run: Callable[..., SolveResult]
    index: Callable[[Any], PlanIndex]
    columns: Callable[[Any, Any, SolveResult], PlanColumns]
    size: Callable[[Any], ModelSize] = slot_size


# ---------------------------------------------------------------------------- slot plans
def slot_index(prob: ProblemData) -> PlanIndex:
    return PlanIndex(precinct=prob.precinct, borough=prob.borough, day=prob.slot_day,
                     label=prob.slot_tour, start_hour_of_week=prob.slot_start_how,
                     hours=prob.slot_hours, cost_per_team_shift_usd=prob.slot_cost_usd)


def slot_assignments(prob: ProblemData, teams: np.ndarray, res: SolveResult) -> pd.DataFrame:
    """One row per (precinct, day, tour): :data:`ASSIGNMENT_COLUMNS` (+ shared columns)."""
    P, S = prob.shape
    eligible = prob.eligible_calls_per_year()
    covered = res.covered if res.covered is not None else prob.coverage(teams)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(eligible > 0, covered / np.where(eligible > 0, eligible, 1.0), np.nan)
    df = pd.DataFrame({
        "precinct": np.repeat(prob.precinct, S),
        "borough": np.repeat(prob.borough, S),
        "day": np.tile(prob.slot_day, P),
        "tour": np.tile(prob.slot_tour, P),
        "teams": teams.ravel(),
        "calls_per_hour": prob.calls_per_hour.ravel(),
        "eligible_calls": eligible.ravel(),
        "expected_covered_calls": covered.ravel(),
        "coverage_share": share.ravel(),
        "annual_cost_usd": (teams * prob.team_cost_per_year()[None, :]).ravel(),
    })[ASSIGNMENT_COLUMNS]
    if res.teams_in_range is not None and prob.reach is not None:
        df["teams_in_range"] = res.teams_in_range.ravel()
        df["own_covered_calls"] = res.own_covered.ravel()
        df["neighbour_covered_calls"] = (covered - res.own_covered).ravel()
        df["team_busy_probability"] = (np.full((P, S), np.nan) if res.local_busy is None
                                       else np.where(teams > 0, res.local_busy, np.nan)).ravel()
        df = df[ASSIGNMENT_COLUMNS + SHARED_COLUMNS]
    return df


def slot_columns(sc, prob: ProblemData, res: SolveResult) -> PlanColumns:
    eligible = float(prob.eligible_calls_per_year().sum())
    if res.teams is None:
        return PlanColumns(slot_index(prob), None, pd.DataFrame(columns=ASSIGNMENT_COLUMNS),
                           eligible)
    teams = np.asarray(res.teams, dtype=np.int64)
    return PlanColumns(slot_index(prob), teams, slot_assignments(prob, teams, res), eligible)


# ---------------------------------------------------------------------------- staggered
def staggered_index(data: StaggeredData) -> PlanIndex:
    labels_h = np.array([clock_hour(s) for s in data.start_labels], dtype=np.int64)
    row_day = np.repeat(np.arange(7), len(labels_h))
    row_hour = np.tile(labels_h, 7)
    cost = np.full(len(row_day), math.nan)
    pos = {(int(d), int(h)): c for d, h, c in zip(data.start_day, data.start_hour,
                                                    data.start_cost_usd)}
    for j, (d, h) in enumerate(zip(row_day.tolist(), row_hour.tolist())):
        cost[j] = pos.get((d, h), math.nan)
    return PlanIndex(precinct=data.precinct, borough=data.borough,
                     day=np.array(DAYS, dtype=object)[row_day],
                     label=np.array([f"{h:02d}:00" for h in row_hour], dtype=object),
                     start_hour_of_week=(row_day * 24 + row_hour).astype(float),
                     hours=np.full(len(row_day), float(data.shift_hours)),
                     cost_per_team_shift_usd=np.nan_to_num(cost, nan=0.0))


def staggered_columns(sc, data: StaggeredData, res: SolveResult) -> PlanColumns:
    from bheard.model.staggered import assignments_frame as staggered_assignments
    from bheard.model.staggered import hourly_frame, plan_columns

    if res.carry_share is not None:
        data = dataclasses.replace(data, carry_share=res.carry_share)
    elig_h = data.eligible_calls_per_year()
    summary = StaggeredSummary(
        starts=list(data.start_labels), shift_hours=data.shift_hours,
        start_options_per_week=data.n_options,
        max_teams_on_duty_per_precinct_hour=data.max_on_duty,
        hourly_cap=None if not math.isfinite(data.hourly_cap) else data.hourly_cap,
        eligible_calls_in_hours_of_operation=float(elig_h[:, data.open_hours].sum()),
        eligible_calls_outside_hours_of_operation=float(elig_h[:, ~data.open_hours].sum()))
    index = staggered_index(data)
    if res.teams is None:
        return PlanColumns(index, None, pd.DataFrame(columns=ASSIGNMENT_COLUMNS),
                           float(elig_h.sum()), summary)
    w = np.asarray(res.teams, dtype=np.int64)
    summary.hourly = hourly_frame(data, w)
    summary.max_teams_on_duty_citywide = int(data.on_duty(w).sum(axis=0).max())
    assignments = staggered_assignments(data, w)[ASSIGNMENT_COLUMNS]
    return PlanColumns(index, plan_columns(data, w), assignments, float(elig_h.sum()), summary)


def run_staggered(sc, data: StaggeredData, *, start=None, cache=None) -> SolveResult:
    """The staggered driver at the plan's own carried-over load (:mod:`bheard.optimize.carryover`)."""
    from bheard.optimize.lp_rounding import solve_staggered

    def solve(d, _start, left):
        opts = sc.solver if left is None else sc.solver.model_copy(
            update={"time_limit_s": max(left, 1.0)})
        return solve_staggered(d, opts)

    return carryover_fixed_point(data, solve, time_limit_s=sc.solver.time_limit_s,
                                 tolerance=sc.coverage.tolerance)


def run_fixed_point(sc, prob: ProblemData, **kw) -> SolveResult:
    """The shared / constrained driver (:mod:`bheard.optimize.fixed_point`)."""
    from bheard.optimize.fixed_point import solve_scenario_problem

    return solve_scenario_problem(sc, prob, **kw)


def run_incremental(sc, prob: ProblemData, *, start=None, cache=None) -> SolveResult:
    """The isolated driver at the plan's own carried-over load
    (:mod:`bheard.optimize.carryover`); ``cache`` keeps the increments, which do not depend on
    the budget."""
    return solve_with_carryover(prob, sc.solver, start_teams=start, cache=cache,
                                tolerance=sc.coverage.tolerance)


def run_stochastic(sc, prob, **kw) -> SolveResult:
    """The sample-average (or CVaR) isolated driver, imported on first use."""
    from bheard.optimize.stochastic import run_stochastic as run

    return run(sc, prob, **kw)


def run_stochastic_shared(sc, prob, **kw) -> SolveResult:
    """The sample-average shared driver, imported on first use."""
    from bheard.optimize.stochastic import run_stochastic_shared as run

    return run(sc, prob, **kw)


def _uses_fixed_point(sc) -> bool:
    return (sc.coverage.mode == "shared" or sc.equity.active
            or bool(sc.workforce.max_headcount))


def _uncertain(sc) -> bool:
    return sc.demand.uncertainty is not None


#: the registry, first match wins (staggered, then demand uncertainty (shared, then isolated),
#: then shared / constrained, then isolated)
FORMULATIONS: tuple[Formulation, ...] = (
    Formulation("staggered", "models/staggered_tours.md",
                applies=lambda sc: sc.shifts.staggered is not None,
                problem=staggered_from_scenario, run=run_staggered, index=staggered_index,
                columns=staggered_columns, size=staggered_size),
    Formulation("stochastic_shared", "models/stochastic.md",
                applies=lambda sc: _uncertain(sc) and sc.coverage.mode == "shared",
                problem=sampled_problem_from_scenario, run=run_stochastic_shared,
                index=slot_index, columns=slot_columns, size=stochastic_shared_size),
    Formulation("stochastic", "models/stochastic.md", applies=_uncertain,
                problem=sampled_problem_from_scenario, run=run_stochastic, index=slot_index,
                columns=slot_columns, size=stochastic_size),
    Formulation("shared", "models/shared_coverage.md", applies=_uses_fixed_point,
                problem=problem_from_scenario, run=run_fixed_point, index=slot_index,
                columns=slot_columns, size=shared_size),
    Formulation("isolated", "models/isolated_coverage.md", applies=lambda sc: True,
                problem=problem_from_scenario, run=run_incremental, index=slot_index,
                columns=slot_columns),
)


def formulation_for(sc) -> Formulation:
    """The registered formulation that solves scenario ``sc``."""
    return next(f for f in FORMULATIONS if f.applies(sc))


def formulation_of(sc) -> str:
    """Name of the formulation that solves ``sc`` (``staggered``, ``stochastic_shared``,
    ``stochastic``, ``shared``, ``isolated``)."""
    return formulation_for(sc).name
