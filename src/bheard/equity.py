"""Equity floors on coverage, their infeasibility diagnosis and the coverage distribution.

Floors (scenario ``equity:``) are annual coverage shares: precinct ``i`` must have
``sum_{s,n} G_{isn} z_{isn} >= f E_i`` (``E_i`` eligible calls/year), a borough likewise over
its precincts. In the model of :mod:`bheard.model.shared` they are linear in ``z``; the
isolated model reaches them through the same machinery with Erlang-B increments as ``G``.
Gains fall with ``n``, so filling ``z`` in order maximises every precinct's coverage at once:
floors keep the continuous ``z`` exact (``models/shared_coverage.md``).
"""

from __future__ import annotations

import math

import numpy as np

from bheard.model.problem import ProblemData
from bheard.model.shared import Floors, build_shared_model, covered_from_counts, max_in_range


def floors_from_scenario(scenario, prob: ProblemData) -> Floors | None:
    """:class:`Floors` (calls/year) from ``scenario.equity``; None when no floor is set."""
    eq = scenario.equity
    if not eq.active:
        return None
    E = prob.eligible_calls_per_year().sum(axis=1)
    labels = {}
    pmin = bmin = bidx = None
    names: tuple = ()
    if eq.min_precinct_share is not None:
        pmin = eq.min_precinct_share * E
        labels["precinct"] = f"equity.min_precinct_share = {eq.min_precinct_share:g}"
    if eq.min_borough_share is not None:
        names = tuple(sorted(set(prob.borough.tolist())))
        bidx = np.array([names.index(b) for b in prob.borough], dtype=np.int64)
        bmin = eq.min_borough_share * np.bincount(bidx, weights=E, minlength=len(names))
        labels["borough"] = f"equity.min_borough_share = {eq.min_borough_share:g}"
    if eq.max_ratio is not None:
        labels["ratio"] = f"equity.max_ratio = {eq.max_ratio:g}"
    return Floors(precinct_min=pmin, borough_index=bidx, borough_min=bmin, borough_names=names,
                  labels=labels, max_ratio=eq.max_ratio, eligible=E)


def diagnose_floors(prob: ProblemData, G: np.ndarray, reach: np.ndarray,
                    floors: Floors | None) -> list[str]:
    """Name the constraints that make the floors unreachable ([] if the floors are not the cause).

    Three checks, each complete for its cause: (1) a precinct (borough) below its floor even
    with every team in range at ``max_teams`` (floor vs ``limits.max_teams_per_slot`` and the
    response standard); (2) the LP relaxation of "cheapest plan meeting the floors" without the
    budget is infeasible (floors vs slot or role caps); (3) its cost exceeds the budget (floor
    vs ``budget.annual_usd``; the LP cost is a lower bound on any plan's cost).
    """
    if floors is None or not floors.active:
        return []
    out: list[str] = []
    best = covered_from_counts(G, max_in_range(prob, reach)).sum(axis=1)  # (P,)
    E = prob.eligible_calls_per_year().sum(axis=1)
    if floors.precinct_min is not None:
        short = np.flatnonzero(best < floors.precinct_min * (1 - 1e-9))
        for i in short[:3]:
            out.append(f"{floors.labels['precinct']} requires precinct {prob.precinct[i]} to cover"
                       f" {floors.precinct_min[i]:,.0f} calls/year but with "
                       f"{prob.max_teams_label} teams in every precinct within range it covers"
                       f" at most {best[i]:,.0f} ({best[i] / max(E[i], 1e-12):.1%}); see also"
                       " coverage.response_standard_min")
        if len(short) > 3:
            out.append(f"... and {len(short) - 3} more precincts below the floor at full staffing")
    if floors.borough_min is not None:
        bb = np.bincount(floors.borough_index, weights=best, minlength=len(floors.borough_min))
        for b in np.flatnonzero(bb < floors.borough_min * (1 - 1e-9)):
            out.append(f"{floors.labels['borough']} requires {floors.borough_names[b]} to cover"
                       f" {floors.borough_min[b]:,.0f} calls/year but at full staffing"
                       f" ({prob.max_teams_label}) it covers at most {bb[b]:,.0f}")
    if out:
        return out
    cost, status = min_cost_for_floors(prob, G, reach, floors)
    names = " and ".join(floors.labels.values())
    if status == "infeasible":
        caps = ["limits.max_teams_per_tour"] if np.isfinite(prob.slot_cap).any() else []
        if prob.role_cap is not None and np.isfinite(prob.role_cap).any():
            caps.append("workforce.max_headcount")
        return [f"{names} cannot be met within {' and '.join(caps) or 'the staffing limits'}"
                " (the LP relaxation without the budget is infeasible)"]
    if status == "optimal" and cost > prob.budget_usd_per_year * (1 + 1e-9):
        return [f"{names} needs at least ${cost:,.0f}/year (LP relaxation: a lower bound on any"
                f" plan meeting it) but budget.annual_usd allows ${prob.budget_usd_per_year:,.0f}"
                "/year"]
    if status == "optimal":
        return [f"{names} is reachable in the LP relaxation for ${cost:,.0f}/year within"
                f" budget.annual_usd ${prob.budget_usd_per_year:,.0f}/year, but not with whole"
                " teams: the floor and the budget conflict once teams are integers"]
    return []


def min_cost_for_floors(prob: ProblemData, G: np.ndarray, reach: np.ndarray, floors: Floors
                        ) -> tuple[float, str]:
    """LP lower bound on the USD/year of any plan meeting the floors (budget ignored)."""
    from pyomo.contrib.solver.common.factory import SolverFactory
    from pyomo.contrib.solver.common.results import TerminationCondition

    built = build_shared_model(prob, G, reach, 0.0, floors, objective="min_cost", relax=True,
                               use_budget=False)
    res = SolverFactory("highs").solve(built.model, load_solutions=False,
                                       raise_exception_on_nonoptimal_result=False,
                                       solver_options={"output_flag": False})
    tc = res.termination_condition
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        return float(res.incumbent_objective), "optimal"
    if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        return float("nan"), "infeasible"
    return float("nan"), tc.name


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal; mean absolute difference / 2 mean)."""
    v = np.sort(np.asarray(values, dtype=float))
    n = v.size
    if n == 0 or v.sum() <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def share_distribution(covered: np.ndarray, eligible: np.ndarray) -> dict:
    """Min, median, max and Gini of precinct coverage shares (precincts with demand)."""
    ok = eligible > 0
    if not ok.any():
        return {"min": math.nan, "median": math.nan, "max": math.nan, "gini": math.nan}
    share = covered[ok] / eligible[ok]
    return {"min": float(share.min()), "median": float(np.median(share)),
            "max": float(share.max()), "gini": gini(share)}
