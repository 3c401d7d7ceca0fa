"""Driver for staggered starts: greedy, LP relaxation rounded down and refilled, then HiGHS.

Steps (``models/staggered_tours.md``): :func:`~bheard.model.staggered.greedy_staggered` gives
an incumbent; the LP relaxation (through the solver door) gives the bound and, rounded down
and refilled by the greedy, a second incumbent; when the best incumbent is within
``solver.mip_rel_gap`` of the LP bound it is certified and no MIP is solved, otherwise HiGHS
solves the MIP with the incumbent as start.
"""

from __future__ import annotations

import math
import time

import numpy as np

from bheard.constants import TIE_BREAK_REL
from bheard.model.staggered import build_staggered_model, greedy_staggered
from bheard.problem.hourly import StaggeredData
from bheard.results import SolveResult, SolverReport
from bheard.scenario.schema import SolverOptions
from bheard.solver import plan_status, relative_gap, solve_model


def lp_rounded_plan(data: StaggeredData, tie_break_per_usd: float, time_limit_s: float = 30.0,
                    threads: int | None = None) -> tuple[np.ndarray | None, float]:
    """Solve the LP relaxation (``w`` continuous) with HiGHS; round its ``w`` down (every row
    has non-negative coefficients, so the rounded plan stays feasible) and fill it with
    :func:`greedy_staggered`. Returns ``(plan, LP bound on coverage in calls/year)``, or
    ``(None, inf)`` if the LP did not solve."""
    built = build_staggered_model(data, tie_break_per_usd, relax=True)
    if len(built.w_index) == 0:
        return None, math.inf
    run = solve_model(built.model, built.variables, time_limit_s=time_limit_s, threads=threads)
    if run.termination != "optimal" or run.values is None or run.objective is None:
        return None, math.inf
    w = np.floor(built.read_teams(run.values) + 1e-9).astype(np.int64)
    bound = run.objective + tie_break_per_usd * data.team_budget_usd_per_year
    if not data.feasible(w):  # rounding noise: start from nothing
        w = np.zeros_like(w)
    return greedy_staggered(data, w), bound


def solve_staggered(data: StaggeredData, options: SolverOptions | None = None) -> SolveResult:
    """Greedy and LP-rounded incumbents, the LP bound, then HiGHS on
    :func:`~bheard.model.staggered.build_staggered_model` with the best incumbent as MIP start
    when the LP bound does not certify it. The objective is recomputed from the plan; the bound
    is the lesser of the LP bound and HiGHS's bound on the penalised objective plus
    ``eps x B``. ``teams`` of the result are (P, O): teams per precinct and start option."""
    opt = options or SolverOptions()
    report = SolverReport(time_limit_s=opt.time_limit_s, mip_rel_gap=opt.mip_rel_gap)
    t0 = time.perf_counter()
    w0 = greedy_staggered(data)
    lb = float(data.coverage(w0).sum())
    report.greedy_objective = lb
    eps = TIE_BREAK_REL * max(lb, 1.0) / max(data.team_budget_usd_per_year, 1.0)
    report.tie_break_per_usd = eps
    t_lp = time.perf_counter()
    w_lp, lp_bound = lp_rounded_plan(data, eps, time_limit_s=max(opt.time_limit_s / 2, 1.0),
                                     threads=opt.threads)
    lp_s = time.perf_counter() - t_lp
    report.lp_bound = lp_bound
    if w_lp is not None and data.coverage(w_lp).sum() > lb:
        w0, lb = w_lp, float(data.coverage(w_lp).sum())
    model_name = "isolated (loss with breaks at the lagged load), staggered starts"
    if relative_gap(lb, lp_bound) <= opt.mip_rel_gap:
        # the incumbent is within the requested gap of the LP bound: certified, no MIP needed
        report.termination = "incumbent within mip_rel_gap of the LP relaxation bound"
        report.bound_source = "highs_lp"
        report.message = "greedy / LP-rounded plan"
        return SolveResult("optimal", w0, lb, max(lp_bound, lb), relative_gap(lb, lp_bound),
                           time.perf_counter() - t0 - lp_s, 0.0, lp_s, report,
                           coverage_model=model_name)
    built = build_staggered_model(data, eps)
    report.n_variables = built.n_variables
    report.n_integer = built.n_integer
    build_s = time.perf_counter() - t0

    def finish(status, w, bound, tr, sv):
        obj = float(data.coverage(w).sum())
        if not math.isfinite(bound):
            # neither the LP nor the MIP gave a bound within the time limit: every eligible
            # call covered is still a (weak) proven bound, so the gap stays finite
            bound = float(data.eligible_calls_per_year().sum())
            report.bound_source = "demand"
        bound = max(bound, obj)
        gap = relative_gap(obj, bound)
        if status == "time_limit_feasible" and gap <= opt.mip_rel_gap:
            status = "optimal"
        return SolveResult(status, w, obj, bound, gap, build_s, tr, sv, report,
                           coverage_model=model_name)

    if len(built.w_index) == 0:  # no start can meet any demand: the empty plan is optimal
        report.termination = "no start option meets demand"
        report.bound_source = "empty"
        return finish("optimal", w0, lb, 0.0, 0.0)
    run = solve_model(built.model, built.variables, time_limit_s=opt.time_limit_s,
                      mip_rel_gap=opt.mip_rel_gap, threads=opt.threads,
                      highs_options=opt.highs_options, started_at=t0,
                      start_values=built.start_values(w0) if opt.warm_start else None)
    translate_s, solve_s = run.translate_seconds, run.solve_seconds
    if run.termination == "error":  # keep the incumbent; the LP bound still holds
        report.termination = f"solver error: {run.error}"
        report.bound_source = "highs_lp"
        return finish("feasible", w0, lp_bound, translate_s, solve_s)
    report.termination = run.solver_termination
    w = w0
    report.message = ("MIP start from the best of the greedy and LP-rounded plans"
                      if run.start_used else run.start_note)
    pen0 = lb - eps * data.annual_cost(w0)
    if (run.values is not None and run.objective is not None
            and run.objective >= pen0 - 1e-9 * abs(pen0)):
        cand = np.rint(built.read_teams(run.values)).astype(np.int64)
        if data.feasible(cand) and data.coverage(cand).sum() >= lb * (1 - 1e-12):
            w = cand
    bound = math.inf
    if run.finite_bound is not None:
        bound = run.finite_bound + eps * data.team_budget_usd_per_year
        report.mip_bound = bound
        report.bound_source = "highs_mip"
    if lp_bound < bound:
        bound, report.bound_source = lp_bound, "highs_lp"
    return finish(plan_status(run.termination), w, bound, translate_s, solve_s)
