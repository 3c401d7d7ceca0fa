"""Which limit binds, and what relaxing it would buy (issue "answer first").

A plan stops where a limit stops it: the budget (less than the cheapest team-shift-year is
left), the per-slot cap (``limits.max_teams_per_slot``), the citywide per-tour cap
(``limits.max_teams_per_tour``) or a headcount cap (``workforce.max_headcount``).
:func:`explain_limits` tells which ones the plan is at, then re-solves the scenario with each
of those limits relaxed alone (the budget by $1M/year of team money, a cap by one more team,
a headcount cap by 10%) and reports the covered calls/year and the team cost each would add.
A re-solve, not an LP dual: it is exact for the MIP at the scenario's gap and works the same
for every formulation.
"""

from __future__ import annotations

import math

import numpy as np

from bheard.results import LimitEffect, LimitReport

#: team money (USD/year) added when the budget is relaxed
BUDGET_STEP_USD = 1e6
#: a cap binds when relaxing it buys at least this many covered calls/year
MIN_GAIN_CALLS = 0.5
#: a headcount cap is relaxed by this share
HEADCOUNT_STEP = 0.10


def explain_limits(plan, *, budget_step_usd: float = BUDGET_STEP_USD) -> LimitReport | None:
    """A :class:`LimitReport` for a feasible plan that carries its scenario (None otherwise).

    Re-solves (each as :func:`bheard.solve` would): the budget plus ``budget_step_usd`` of
    team money always; each cap the plan is at, relaxed by one team (or 10% of a headcount
    cap)."""
    from bheard.optimize import solve

    sc = plan.resolved_scenario
    if sc is None or not plan.feasible or plan.teams is None or plan.index is None:
        return None
    idx, teams = plan.index, np.asarray(plan.teams)
    W = sc.weeks_per_year
    shift_year = np.asarray(idx.cost_per_team_shift_usd, dtype=float) * W
    positive = shift_year[shift_year > 0]
    cheapest = float(positive.min()) if positive.size else math.inf
    unspent = float(plan.budget - plan.annual_cost)
    budget_binds = unspent < cheapest
    base_calls, base_cost = float(plan.objective), float(plan.annual_cost)

    def effect(limit, at_limit, current, relaxed, overrides, detail=""):
        """Re-solve with one limit relaxed; a cap binds when the plan is at it AND relaxing
        it buys coverage (half a call/year or more)."""
        p = solve(sc.with_overrides(**overrides))
        ok = p.feasible
        gain = float(p.objective) - base_calls if ok else math.nan
        binds = bool(at_limit) if limit == "budget.annual_usd" else bool(
            at_limit and ok and gain >= MIN_GAIN_CALLS)
        return LimitEffect(limit=limit, binds=binds, current=current, relaxed=relaxed,
                           extra_covered_calls=(float(p.objective) - base_calls) if ok
                           else math.nan,
                           extra_cost_usd=(float(p.annual_cost) - base_cost) if ok else math.nan,
                           detail=detail)

    effects = []
    share = sc.budget.crisis_team_share or 1.0
    effects.append(effect(
        "budget.annual_usd", budget_binds, f"${sc.budget.annual_usd:,.0f}",
        f"Another ${budget_step_usd / 1e6:,.0f}M/year for teams",
        {"budget.annual_usd": sc.budget.annual_usd + budget_step_usd / share}))

    staggered = sc.shifts.staggered is not None
    k = int(sc.limits.max_teams_per_slot)
    if not staggered and k > 0:
        at_cap = int((teams >= k).sum())
        if at_cap:
            effects.append(effect(
                "limits.max_teams_per_slot", True, str(k), f"raising it to {k + 1}",
                {"limits.max_teams_per_slot": k + 1},
                f"{at_cap:,} of {teams.size:,} precinct-slots have {k} teams"))
    caps = sc.limits.max_teams_per_tour
    if caps is not None:
        per_col = teams.sum(axis=0)
        labels = np.asarray(idx.label).astype(str)
        full = [t for t in dict.fromkeys(labels.tolist())
                if sc.tour_cap(t) is not None and (per_col[labels == t] >= sc.tour_cap(t)).any()]
        if full:
            if isinstance(caps, dict):
                new = {t: int(v) + (1 if t in full else 0) for t, v in caps.items()}
                cur = ", ".join(f"{t} {v}" for t, v in caps.items())
            else:
                new, cur = int(caps) + 1, str(caps)
            n_full = int(sum((per_col[labels == t] >= sc.tour_cap(t)).sum() for t in full))
            effects.append(effect(
                "limits.max_teams_per_tour", True, cur, "one more team per tour",
                {"limits.max_teams_per_tour": new},
                f"{n_full} slots of {', '.join(full)} at the cap"))
    caps_h = dict(sc.workforce.max_headcount or {})
    if caps_h and plan.workforce is not None:
        fte = plan.workforce.fte_by_role
        full = [r for r, cap in caps_h.items() if fte.get(r, 0.0) >= cap * (1 - 1e-6) - 0.5]
        if full:
            new = {r: (v * (1 + HEADCOUNT_STEP) if r in full else v) for r, v in caps_h.items()}
            effects.append(effect(
                "workforce.max_headcount", True,
                ", ".join(f"{r} {caps_h[r]:,.0f} FTE" for r in full),
                f"{100 * HEADCOUNT_STEP:.0f}% more {', '.join(full)}",
                {"workforce.max_headcount": new},
                ", ".join(f"{r} {fte.get(r, 0):,.1f} FTE of {caps_h[r]:,.0f}" for r in full)))
    return LimitReport(unspent_usd=unspent, cheapest_team_shift_year_usd=cheapest,
                       budget_binds=budget_binds, effects=effects)


__all__ = ["explain_limits", "BUDGET_STEP_USD"]
