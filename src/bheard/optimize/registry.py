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
- ``applies(scenario)`` -> whether the formulation is the one for this scenario.

To add a formulation, write its model in :mod:`bheard.model`, its driver in
:mod:`bheard.optimize`, and add an entry to :data:`FORMULATIONS` (first match wins).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from bheard.constants import DAYS
from bheard.model.staggered import assignments_frame as staggered_assignments
from bheard.model.staggered import hourly_frame, plan_columns
from bheard.optimize.fixed_point import solve_scenario_problem as run_fixed_point
from bheard.optimize.carryover import carryover_fixed_point, solve_with_carryover
from bheard.optimize.lp_rounding import solve_staggered
from bheard.plan import ASSIGNMENT_COLUMNS, SHARED_COLUMNS, PlanIndex, StaggeredSummary
from bheard.problem.hourly import StaggeredData, staggered_from_scenario
from bheard.problem.slots import ProblemData, problem_from_scenario
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
class Formulation:
    """One entry of the registry (see the module docstring)."""

    name: str
    doc: str  # the models/*.md file that writes it up
    applies: Callable[[Any], bool]
    problem: Callable[[Any], Any]
    run: Callable[..., SolveResult]
    index: Callable[[Any], PlanIndex]
    columns: Callable[[Any, Any, SolveResult], PlanColumns]


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
    def solve(d, _start, left):
        opts = sc.solver if left is None else sc.solver.model_copy(
            update={"time_limit_s": max(left, 1.0)})
        return solve_staggered(d, opts)

    return carryover_fixed_point(data, solve, time_limit_s=sc.solver.time_limit_s,
                                 tolerance=sc.coverage.tolerance)


def run_incremental(sc, prob: ProblemData, *, start=None, cache=None) -> SolveResult:
    """The isolated driver at the plan's own carried-over load
    (:mod:`bheard.optimize.carryover`); ``cache`` keeps the increments, which do not depend on
    the budget."""
    return solve_with_carryover(prob, sc.solver, start_teams=start, cache=cache,
                                tolerance=sc.coverage.tolerance)


def _uses_fixed_point(sc) -> bool:
    return (sc.coverage.mode == "shared" or sc.equity.active
            or bool(sc.workforce.max_headcount))


#: the registry, first match wins (staggered, then shared / constrained, then isolated)
FORMULATIONS: tuple[Formulation, ...] = (
    Formulation("staggered", "models/staggered_tours.md",
                applies=lambda sc: sc.shifts.staggered is not None,
                problem=staggered_from_scenario, run=run_staggered, index=staggered_index,
                columns=staggered_columns),
    Formulation("shared", "models/shared_coverage.md", applies=_uses_fixed_point,
                problem=problem_from_scenario, run=run_fixed_point, index=slot_index,
                columns=slot_columns),
    Formulation("isolated", "models/isolated_coverage.md", applies=lambda sc: True,
                problem=problem_from_scenario, run=run_incremental, index=slot_index,
                columns=slot_columns),
)


def formulation_for(sc) -> Formulation:
    """The registered formulation that solves scenario ``sc``."""
    return next(f for f in FORMULATIONS if f.applies(sc))


def formulation_of(sc) -> str:
    """Name of the formulation that solves ``sc`` (``staggered``, ``shared``, ``isolated``)."""
    return formulation_for(sc).name
