"""Driver for the isolated model: greedy incumbent, exact LP bound, fixing, HiGHS if needed.

Steps (each certified; ``models/isolated_coverage.md``):

1. :func:`~bheard.model.isolated.diagnose_infeasibility` - complete feasibility test that
   names the constraints in conflict.
2. :func:`~bheard.model.isolated.greedy` - a feasible plan (lower bound ``LB``).
3. :func:`~bheard.model.isolated.lagrangian_bound` - the LP relaxation's value ``UB``, exact.
4. :func:`~bheard.model.isolated.fix_by_reduced_cost` - decide every team whose reduced cost
   exceeds ``UB - LB`` (exact: no plan at least as good as the incumbent differs there).
5. When ``(UB - LB) / LB`` is within the requested gap the greedy plan is returned with the
   Lagrangian bound as its certificate: no model is built and no solver runs.
6. Otherwise :func:`~bheard.model.isolated.canonical_plan` (same-cost swaps to the highest
   gains) and :func:`~bheard.model.isolated.fix_by_exchange` (team counts per exchange group
   bounded by ``UB - LB``) shrink the model further.
7. :func:`~bheard.model.isolated.best_counts` finds the best team count per exchange group
   exactly (a dynamic programme over the groups) when that takes at most
   ``max_count_states`` partial count vectors: the optimum, with no solver.
8. Otherwise the Pyomo model of the undecided teams
   (:func:`~bheard.model.isolated.build_isolated_model`) is solved by HiGHS through the
   solver door (:mod:`bheard.solver`) with the incumbent as MIP start. A time limit returns
   the best plan with its certified gap.

Pyomo and HiGHS are imported only in step 8, so a solve that steps 1-7 settle loads neither.
"""

from __future__ import annotations

import math
import time

import numpy as np

from bheard.constants import TIE_BREAK_REL
from bheard.model.isolated import (
    Increments,
    best_counts,
    build_isolated_model,
    canonical_plan,
    count_ranges,
    diagnose_infeasibility,
    exchange_groups,
    fix_by_exchange,
    fix_by_reduced_cost,
    greedy,
    lagrangian_bound,
    make_increments,
    plan_from_counts,
)

#: most partial count vectors :func:`~bheard.model.isolated.best_counts` may keep before the
#: driver hands the reduced MIP to HiGHS instead
MAX_COUNT_STATES = 2_000_000
from bheard.problem.slots import ProblemData
from bheard.results import SolveResult, SolverReport
from bheard.scenario.schema import SolverOptions
from bheard.solver.status import plan_status, relative_gap


def solve_problem(prob: ProblemData, options: SolverOptions | None = None, *,
                  increments: Increments | None = None,
                  start_teams: np.ndarray | None = None,
                  max_count_states: int = MAX_COUNT_STATES) -> SolveResult:
    """Solve a :class:`ProblemData` to the requested gap (or time limit).

    ``increments``: precomputed :func:`make_increments` of a problem that differs from
    ``prob`` only in ``team_budget_usd_per_year`` (increments do not depend on the budget),
    so a budget frontier computes the Erlang gains once. ``start_teams``: a (P, S) plan used
    as incumbent instead of the greedy one when it is feasible here and covers more (e.g. the
    previous, smaller budget's plan). ``max_count_states``: the work allowed to the exact
    count enumeration (step 7); 0 always hands the undecided teams to HiGHS.
    """
    opt = options or SolverOptions()
    t0 = time.perf_counter()
    report = SolverReport(time_limit_s=opt.time_limit_s, mip_rel_gap=opt.mip_rel_gap)
    nan = math.nan

    diagnosis = diagnose_infeasibility(prob)
    if diagnosis:
        report.termination = "infeasible (bheard diagnosis, before solving)"
        return SolveResult("infeasible", None, nan, nan, nan, time.perf_counter() - t0, 0.0,
                           0.0, report, diagnosis)

    inc = make_increments(prob) if increments is None else increments
    taken = greedy(prob, inc)
    lb = float(inc.gain[taken].sum())
    if start_teams is not None:
        start = inc.k <= np.asarray(start_teams)[inc.p, inc.s]
        start_value = float(inc.gain[start].sum())
        fits = (float(inc.cost[start].sum()) <= prob.team_budget_usd_per_year * (1 + 1e-12)
                and bool((np.bincount(inc.s[start], minlength=prob.shape[1])
                          <= prob.slot_cap).all())
                and bool(start[inc.forced].all()))
        if fits and start_value > lb:
            taken, lb = start, start_value
    lag = lagrangian_bound(prob, inc)
    report.n_increments = inc.n
    report.greedy_objective = lb
    report.lp_bound = lag.value
    eps = TIE_BREAK_REL * max(lb, 1.0) / max(prob.team_budget_usd_per_year, 1.0)
    report.tie_break_per_usd = eps

    def finish(status, chosen, bound, build_s, translate_s, solve_s):
        teams = np.zeros(prob.shape, dtype=np.int64)
        np.add.at(teams, (inc.p[chosen], inc.s[chosen]), 1)
        obj = float(prob.coverage(teams).sum())
        bound = max(bound, obj)
        gap = relative_gap(obj, bound)
        if status == "time_limit_feasible" and gap <= opt.mip_rel_gap:
            status = "optimal"
        return SolveResult(status, teams, obj, bound, gap, build_s, translate_s, solve_s, report)

    def settled(one, zero, taken, lb):
        """A result when fixing decided every team or the incumbent meets the gap, else None."""
        report.n_fixed_one, report.n_fixed_zero = int(one.sum()), int(zero.sum())
        if not (~(one | zero)).any():
            # every team decided: any plan as good as the incumbent equals it, so it is optimal
            report.termination = "all teams decided by fixing"
            report.bound_source = "decided"
            return finish("optimal", np.flatnonzero(one), lb, time.perf_counter() - t0, 0.0, 0.0)
        if relative_gap(lb, lag.value) <= opt.mip_rel_gap:
            # the Lagrangian bound is the LP relaxation's exact value (models/isolated_coverage.md):
            # it certifies the incumbent without building a model or running a solver
            report.termination = "incumbent within the requested gap of the LP bound"
            report.message = "greedy plan certified by the Lagrangian (LP) bound; no solver run"
            report.bound_source = "lagrangian_lp"
            return finish("optimal", np.flatnonzero(taken), lag.value,
                          time.perf_counter() - t0, 0.0, 0.0)
        return None

    if opt.reduce:
        one, zero = fix_by_reduced_cost(inc, lag, lb)
    else:
        one, zero = inc.forced.copy(), np.zeros(inc.n, dtype=bool)
    done = settled(one, zero, taken, lb)
    if done is not None:
        return done

    # the incumbent, swapped to the highest gains within each exchange group (same cost, at
    # least as much coverage), then count fixing over those groups
    groups = exchange_groups(prob, inc)
    taken = canonical_plan(inc, groups, taken)
    lb = max(lb, float(inc.gain[taken].sum()))
    report.greedy_objective = lb
    exchange = False
    if opt.reduce:
        one, zero = fix_by_reduced_cost(inc, lag, lb)
        one_x, zero_x = fix_by_exchange(inc, groups, lag, lb)
        both_one, both_zero = one | one_x, zero | zero_x
        # both rules keep every optimal plan and the canonical incumbent; a clash could only
        # come from rounding, and then the exchange rule is left out
        exchange = (not (both_one & both_zero).any() and bool(taken[both_one].all())
                    and not taken[both_zero].any())
        if exchange:
            one, zero = both_one, both_zero
    done = settled(one, zero, taken, lb)
    if done is not None:
        return done

    if exchange and max_count_states > 0:
        # every optimal plan is a top set of each exchange group with its count in range: the
        # best count vector, found exactly, is the optimum (models/isolated_coverage.md)
        lo, hi = count_ranges(groups, lag, lb)
        best = best_counts(prob, inc, groups, lo, hi, eps, max_states=max_count_states)
        if best is not None:
            report.termination = "exact optimum over the exchange groups' team counts"
            report.message = (f"count enumeration over {groups.n_groups} groups "
                              f"({best.states:,} partial count vectors at most); no solver run")
            report.bound_source = "count_enumeration"
            chosen = plan_from_counts(inc, groups, best.counts)
            bound = min(lag.value, float(inc.gain[inc.forced].sum()) + best.coverage)
            return finish("optimal", np.flatnonzero(chosen), bound,
                          time.perf_counter() - t0, 0.0, 0.0)

    from bheard.solver import solve_model  # loads Pyomo and HiGHS

    built = build_isolated_model(prob, inc, one, zero, eps)
    report.n_variables = built.n_variables
    report.n_integer = built.n_integer
    build_s = time.perf_counter() - t0
    run = solve_model(built.model, built.variables, time_limit_s=opt.time_limit_s,
                      mip_rel_gap=opt.mip_rel_gap, threads=opt.threads,
                      highs_options=dict(opt.highs_options), started_at=t0,
                      start_values=built.start_values(taken) if opt.warm_start else None)
    translate_s, solve_s = run.translate_seconds, run.solve_seconds
    chosen = np.flatnonzero(taken)
    if run.termination == "error":  # a solver failure still returns the certified incumbent
        report.termination = f"solver error: {run.error}"
        report.bound_source = "lagrangian_lp"
        return finish("feasible", chosen, lag.value, build_s, translate_s, solve_s)
    if run.termination == "infeasible":
        # cannot happen after the complete feasibility test; report rather than hide it
        report.termination = run.solver_termination
        return SolveResult("error", None, nan, nan, nan, build_s, translate_s, solve_s, report,
                           ["HiGHS reported the reduced model infeasible although the minimum"
                            " staffing plan is feasible: please report this as a bug"])
    report.termination = run.solver_termination
    report.message = ("MIP start from greedy plan" if run.start_used else run.start_note)
    inc_pen = float((inc.gain[taken] - eps * inc.cost[taken]).sum())
    if (run.values is not None and run.objective is not None
            and run.objective >= inc_pen - 1e-9 * abs(inc_pen)):
        chosen = np.concatenate([np.flatnonzero(one), built.read_teams(run.values)])

    # lift HiGHS's bound (penalised objective of the reduced model) to coverage of the full
    # model: coverage = penalised + eps * cost <= bound + eps * budget
    bound = lag.value
    report.bound_source = "lagrangian_lp"
    if run.finite_bound is not None:
        hb = run.finite_bound + eps * prob.team_budget_usd_per_year
        report.mip_bound = hb
        if hb <= bound * (1 + 1e-9) + 1e-9:  # HiGHS's bound, when it is as tight (rounding)
            bound, report.bound_source = hb, "highs_mip"
    return finish(plan_status(run.termination), chosen, bound, build_s, translate_s, solve_s)
