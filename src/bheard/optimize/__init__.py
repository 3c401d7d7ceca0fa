"""Solve a scenario: load -> problem data -> formulation's driver -> :class:`~bheard.plan.Plan`.

:func:`solve` reads top to bottom as its steps: resolve the scenario (with overrides), ask the
registry (:mod:`bheard.optimize.registry`) which formulation solves it, build the problem
data, run the formulation's driver, and write the result back into a Plan
(:func:`make_plan`). Drivers: :mod:`~bheard.optimize.incremental` (isolated),
:mod:`~bheard.optimize.fixed_point` (shared / constrained), :mod:`~bheard.optimize.lp_rounding`
(staggered starts).
"""

from __future__ import annotations

import time

import numpy as np

from bheard.assumptions import scenario_assumptions
from bheard.costs import (cost_breakdown, headcount_by_tour, program_fixed_usd_per_year,
                          team_budget_usd)
from bheard.errors import InputError, Problem
from bheard.limits import max_model_mb
from bheard.model.equity import share_distribution
from bheard.optimize.registry import (
    FORMULATIONS,
    Formulation,
    PlanColumns,
    formulation_for,
    formulation_of,
)
from bheard.plan import BudgetSplit, Plan, ShareDistribution, Workforce
from bheard.results import SharedCoverage, SolveResult
from bheard.scenario import Scenario, load_scenario


def resolve(scenario, *, budget_usd: float | None = None, time_limit_s: float | None = None,
            base_dir=None) -> Scenario:
    """The scenario to solve: loaded and validated, with the overrides applied (USD/year,
    seconds)."""
    sc = load_scenario(scenario, base_dir=base_dir)
    overrides = {}
    if budget_usd is not None:
        overrides["budget.annual_usd"] = budget_usd
    if time_limit_s is not None:
        overrides["solver.time_limit_s"] = time_limit_s
    return sc.with_overrides(**overrides) if overrides else sc


def preflight(sc: Scenario) -> Formulation:
    """The scenario's formulation, after the checks that need no model: ``solver.highs_options``
    (HiGHS's own rules, :func:`bheard.solver.highs.check_options`) and the size guard (the
    formulation's :class:`~bheard.optimize.registry.ModelSize` against
    :func:`bheard.limits.max_model_mb`). Raises :class:`InputError` before anything big is
    built."""
    bad = []
    if sc.solver.highs_options:  # the checker loads HiGHS and Pyomo: only when there is work
        from bheard.solver.highs import check_options

        bad = check_options(dict(sc.solver.highs_options))
    if bad:
        raise InputError(sc.source, [Problem(f"solver.highs_options.{n}", v, e)
                                     for n, v, e in bad])
    formulation = formulation_for(sc)
    size = formulation.size(sc)
    limit = max_model_mb()
    if size.mib > limit:
        raise InputError.single(
            sc.source, "(model size)",
            f"about {size.mib:,.0f} MiB ({size.variables:,} variables for {size.P} precincts x"
            f" {size.C} columns x up to {size.K} teams)",
            f"a model of at most {limit:,.0f} MiB (BHEARD_MAX_MODEL_MB): fewer precincts,"
            " tours or limits.max_teams_per_slot")
    return formulation


def solve(scenario, *, budget_usd: float | None = None, time_limit_s: float | None = None,
          base_dir=None) -> Plan:
    """Solve a scenario (path, dict or :class:`~bheard.scenario.Scenario`) into a :class:`Plan`.

    ``budget_usd`` (USD/year) and ``time_limit_s`` (seconds) override the scenario's values.
    User errors raise :class:`bheard.errors.InputError`; an infeasible scenario returns a Plan
    with ``status == "infeasible"`` and a ``diagnosis`` naming the conflicting constraints.
    """
    t0 = time.perf_counter()
    sc = resolve(scenario, budget_usd=budget_usd, time_limit_s=time_limit_s, base_dir=base_dir)
    formulation = preflight(sc)
    data = formulation.problem(sc)
    prep_s = time.perf_counter() - t0
    result = formulation.run(sc, data)
    return make_plan(sc, formulation, data, result, extra_build_seconds=prep_s)


def make_plan(sc: Scenario, formulation: Formulation, data, res: SolveResult,
              extra_build_seconds: float = 0.0) -> Plan:
    """Write a driver's result back into a :class:`Plan` (columns, costs, workforce, typed
    summaries, assumptions, the resolved scenario)."""
    cols: PlanColumns = formulation.columns(sc, data, res)
    idx = cols.index
    W = sc.weeks_per_year
    teams = cols.teams
    cost = 0.0 if teams is None else float(
        (teams * (W * idx.cost_per_team_shift_usd)[None, :]).sum())
    workforce = shares = shared = None
    if teams is not None:
        workforce = Workforce(
            headcount=headcount_by_tour(sc.workforce, sc.teams.crew, W, idx.hours, idx.label,
                                        teams),
            cost_breakdown_usd_per_year=cost_breakdown(sc, idx.label,
                                                       idx.start_hour_of_week % 24.0,
                                                       idx.hours, teams))
        a = cols.assignments
        cov_p = a.groupby("precinct", sort=False)["expected_covered_calls"].sum().to_numpy()
        el_p = a.groupby("precinct", sort=False)["eligible_calls"].sum().to_numpy()
        shares = ShareDistribution(**share_distribution(cov_p, el_p))
        if res.teams_in_range is not None and getattr(data, "reach", None) is not None:
            own = float(res.own_covered.sum())
            shared = SharedCoverage(
                response_standard_min=sc.coverage.response_standard_min,
                mean_precincts_in_range=float(data.reach.sum(axis=2).mean()),
                covered_by_own_teams=own, covered_by_neighbours=float(res.objective) - own)
    split = None
    if sc.budget.crisis_team_share is not None:
        split = BudgetSplit(annual_usd=sc.budget.annual_usd,
                            crisis_team_share=sc.budget.crisis_team_share,
                            team_budget_usd=sc.budget.team_budget_usd)  # before fixed costs
    labels = list(dict.fromkeys(idx.label.tolist()))
    tours = []
    for lab in labels:
        m = idx.label == lab
        tours.append({"name": lab, "start_hour": float(idx.start_hour_of_week[m][0] % 24.0),
                      "hours": float(idx.hours[m][0]), "days": list(dict.fromkeys(
                          idx.day[m].tolist()))})
    return Plan(scenario=sc.name, status=res.status, objective=res.objective, bound=res.bound,
                gap=res.gap, annual_cost=cost, budget=team_budget_usd(sc),
                eligible_calls=cols.eligible_calls,
                build_seconds=res.build_seconds + extra_build_seconds,
                translate_seconds=res.translate_seconds, solve_seconds=res.solve_seconds,
                assignments=cols.assignments, solver=res.report, diagnosis=res.diagnosis,
                assumptions=scenario_assumptions(sc, res.coverage_model),
                demand_source=sc.demand.source, tours=tours, teams=teams, index=idx,
                resolved_scenario=sc, coverage_model=res.coverage_model, workforce=workforce,
                precinct_shares=shares, budget_split=split, fixed_point=res.fixed_point,
                shared=shared, equity_cost=res.equity_cost, staggered=cols.staggered,
                uncertainty=res.uncertainty,
                program_fixed_usd_per_year=program_fixed_usd_per_year(sc.costs))


def teams_per_precinct(teams: np.ndarray | None) -> np.ndarray | None:
    """(P,) team-shifts a week per precinct of any plan's (P, C) teams."""
    return None if teams is None else np.asarray(teams).sum(axis=1)


__all__ = ["solve", "resolve", "preflight", "make_plan", "formulation_for", "formulation_of",
           "FORMULATIONS", "Formulation"]
