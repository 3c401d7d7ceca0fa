"""Driver for the buildout model: diagnosis, greedy ramp, HiGHS with the ramp as MIP start.

Steps (``models/buildout.md``): check the floors, pipelines and budgets against each other
(:func:`bheard.model.buildout.diagnose`; an infeasible ramp gets a diagnosis naming the
binding pipeline and period without a solve); build a greedy ramp
(:func:`~bheard.model.buildout.best_greedy`); solve the MIP with HiGHS through the solver door
with the ramp as MIP start, to ``solver.mip_rel_gap`` within ``solver.time_limit_s``. A time
limit returns the best ramp with its certified gap.

Coverage enters as :class:`~bheard.problem.buildout.CoverageGains`, made by the entry of
:data:`GAINS` for the scenario's ``coverage.mode`` from the steady-state solve of the same
scenario: the isolated model's increments (loss with breaks at the lagged load), or the
cross-precinct gains at the steady-state plan's local busy probabilities (approximate
hypercube, frozen per precinct-slot). A new coverage model adds one entry.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bheard.constants import TIE_BREAK_REL
from bheard.model.buildout import (
    Ramp,
    aggregate_applies,
    best_greedy,
    build_buildout_model,
    check_ramp,
    count_values,
    diagnose,
    improve_counts,
    ramp_from_counts,
    ramp_from_teams,
    ramp_value,
    round_counts,
)
from bheard.model.hypercube import equivalent_load, frozen_gains, plan_busy, preferences
from bheard.model.shared import isolated_gains, reach_or_identity
from bheard.problem.buildout import BuildoutData, CoverageGains
from bheard.problem.slots import ProblemData
from bheard.results import SolveResult, SolverReport
from bheard.solver import plan_status, relative_gap, solve_model


# ----------------------------------------------------------------------------------------
# coverage: the steady-state model's gains
# ----------------------------------------------------------------------------------------
def _at_steady_load(prob: ProblemData, steady: SolveResult | None) -> ProblemData:
    """The problem at the steady-state plan's own carried-over load (isolated model,
    :mod:`bheard.optimize.carryover`), when the steady state reports one."""
    if steady is not None and getattr(steady, "carry_share", None) is not None:
        return dataclasses.replace(prob, carry_share=steady.carry_share)
    return prob


def isolated_buildout_gains(sc, prob: ProblemData, steady: SolveResult | None) -> CoverageGains:
    """The isolated model's increments of each precinct's own teams (loss with breaks at the
    lagged offered load, waiting; ``models/dispatch.md``), at the steady state's carried-over
    load."""
    return CoverageGains(isolated_gains(_at_steady_load(prob, steady)), None,
                         "isolated (loss with breaks at the lagged load)")


def shared_buildout_gains(sc, prob: ProblemData, steady: SolveResult | None) -> CoverageGains:
    """Cross-precinct gains at the steady-state plan's LOCAL busy probabilities, frozen per
    precinct-slot (:func:`bheard.model.hypercube.frozen_gains` at the equivalent loads of the
    steady plan's approximate hypercube): every period is valued at the steady state's
    estimate (``models/buildout.md``). Without a steady plan: every team busy
    ``coverage.initial_busy_probability`` of the time."""
    st = sc.coverage
    reach = reach_or_identity(prob)
    pref = preferences(reach, prob.travel_min, prob.service_time_hours)
    if steady is None or steady.teams is None:
        q0 = (st.busy_probability if st.busy_probability is not None
              else st.initial_busy_probability)
        load = np.full(prob.shape, q0 / (1.0 - q0))
    else:
        S = prob.shape[1]
        group = (np.unique(prob.slot_tour, return_inverse=True)[1].ravel()
                 if st.busy_probability_by == "tour" else np.arange(S))
        state = plan_busy(prob, pref, np.asarray(steady.teams, dtype=np.int64), group)
        load = equivalent_load(state)
    G = frozen_gains(prob, pref, load)
    return CoverageGains(G, reach, "local busy probabilities (approximate hypercube) at the"
                                   " steady state's plan, frozen per precinct-slot")


#: coverage.mode -> gains of that coverage model for the buildout (see module docstring)
GAINS: dict[str, Callable[..., CoverageGains]] = {
    "isolated": isolated_buildout_gains,
    "shared": shared_buildout_gains,
}


# ----------------------------------------------------------------------------------------
# the driver
# ----------------------------------------------------------------------------------------
@dataclass
class BuildoutSolve:
    """What the buildout driver returns: the ramp (None if there is none), its value (covered
    calls over the horizon), the certified bound and gap, the greedy ramp's value, timings."""

    status: str
    ramp: Ramp | None
    objective: float  # calls over the horizon
    bound: float  # calls over the horizon
    gap: float
    report: SolverReport
    diagnosis: list[str] = field(default_factory=list)
    greedy_objective: float = math.nan
    build_seconds: float = 0.0
    translate_seconds: float = 0.0
    solve_seconds: float = 0.0


def solve_buildout(data: BuildoutData, opts, *, kind: str | None = None,
                   count_vars: bool = False, warm_start: bool | None = None,
                   heuristics: bool = True, candidates: tuple = ()) -> BuildoutSolve:
    """Solve a buildout problem to ``opts.mip_rel_gap`` within ``opts.time_limit_s``.

    Steps: diagnosis; a greedy ramp; for the aggregated formulation (exact for isolated
    coverage when :func:`~bheard.model.buildout.aggregate_applies`) also the LP relaxation,
    its rounding and a local search on the team counts; HiGHS on the MIP with the best ramp
    as MIP start, unless the LP bound already certifies it within the gap.

    ``kind``: "aggregate", "full" or None (aggregate when exact, else full). ``candidates``:
    more (T, P, C) team arrays to start from when feasible (e.g. the steady-state plan in
    every period).
    ``kind="full", heuristics=False, warm_start=False`` is plain HiGHS on the plain
    formulation (the benchmark's reference); ``count_vars`` adds integer team counts per
    (period, column) to the full formulation.
    """
    t0 = time.perf_counter()
    nan = float("nan")
    report = SolverReport(time_limit_s=opts.time_limit_s, mip_rel_gap=opts.mip_rel_gap)
    diagnosis = diagnose(data)
    if diagnosis:
        report.termination = "infeasible (bheard diagnosis, before solving)"
        return BuildoutSolve("infeasible", None, nan, nan, nan, report, diagnosis,
                             build_seconds=time.perf_counter() - t0)
    if kind is None:
        kind = "aggregate" if aggregate_applies(data) else "full"
    elif kind == "aggregate" and not aggregate_applies(data):
        raise ValueError("the aggregated formulation is not exact for this problem")
    warm = opts.warm_start if warm_start is None else warm_start
    greedy = best_greedy(data) if (warm or heuristics) else None
    g_val = ramp_value(data, greedy.teams) if greedy is not None else nan
    report.greedy_objective = g_val
    total_budget = float(max(data.budget_usd.sum(), 1.0))
    best, steps = greedy, ["greedy ramp"] if greedy is not None else []
    if heuristics:
        for k, teams in enumerate(candidates):
            cand = ramp_from_teams(data, np.asarray(teams, dtype=np.int64))
            if not check_ramp(data, cand):
                best = _better(data, best, cand, steps, f"candidate {k + 1}")
    lp_bound = nan
    translate_s = solve_s = 0.0
    if kind == "aggregate" and heuristics:
        cv = count_values(data)
        if best is not None:
            best = _better(data, best, ramp_from_counts(
                data, improve_counts(data, cv, best.teams.sum(axis=1))), steps, "local search")
        lp = build_buildout_model(data, 0.0, kind="aggregate", relax=True)
        # the LP bound is worth a short overrun of a tiny time limit: it is the certificate
        # a time-limited ramp reports (it takes well under a second on 78 x 3 x 12)
        run = solve_model(lp.model, lp.variables, threads=opts.threads, time_limit_s=max(
            opts.time_limit_s - (time.perf_counter() - t0), LP_MIN_TIME_S))
        translate_s, solve_s = run.translate_seconds, run.solve_seconds
        if run.termination == "optimal" and run.values is not None:
            lp_bound = float(run.objective)
            T, _, C = data.shape
            M = round_counts(data, cv, np.asarray(run.values[:T * C]).reshape(T, C))
            if M is not None:
                best = _better(data, best, ramp_from_counts(data, M), steps,
                               "LP rounding + local search")
    if (kind == "aggregate" and heuristics and best is not None and math.isfinite(lp_bound)
            and relative_gap(ramp_value(data, best.teams), lp_bound) > opts.mip_rel_gap):
        t_w = time.perf_counter()
        found = tail_search(data, best, opts, seconds=min(TAIL_LIMIT_S,
                                                          0.1 * opts.time_limit_s))
        best = _better(data, best, found, steps, "tail MIP")
        solve_s += time.perf_counter() - t_w
    report.lp_bound = lp_bound
    b_val = ramp_value(data, best.teams) if best is not None else nan
    scale = max(b_val if math.isfinite(b_val) else 0.0, 1.0)
    eps = TIE_BREAK_REL * scale / total_budget
    report.tie_break_per_usd = eps
    if best is not None and math.isfinite(lp_bound) and relative_gap(
            b_val, lp_bound) <= opts.mip_rel_gap:
        report.termination = "LP bound certifies the heuristic ramp"
        report.bound_source = "highs_lp"
        report.message = "; ".join([_KIND[kind]] + ([", ".join(steps)] if steps else []))
        return BuildoutSolve("optimal", best, b_val, max(lp_bound, b_val),
                             relative_gap(b_val, lp_bound), report, [], g_val,
                             time.perf_counter() - t0 - translate_s - solve_s, translate_s,
                             solve_s)
    t1 = time.perf_counter()
    built = build_buildout_model(data, eps, kind=kind, count_vars=count_vars,
                                 strengthen=heuristics)
    report.n_variables, report.n_integer = built.n_variables, built.n_integer
    run = solve_model(built.model, built.variables, time_limit_s=opts.time_limit_s,
                      mip_rel_gap=opts.mip_rel_gap, threads=opts.threads,
                      highs_options=opts.highs_options, started_at=t0,
                      start_values=built.start_values(best) if (best is not None and warm)
                      else None)
    build_s = time.perf_counter() - t0 - translate_s - solve_s - run.translate_seconds \
        - run.solve_seconds
    translate_s += run.translate_seconds
    solve_s += run.solve_seconds
    del t1
    report.termination = run.solver_termination
    report.message = "; ".join([_KIND[kind]] + ([", ".join(steps)] if steps else []) + [
        "MIP start from the best of them" if run.start_used else (
            run.start_note or "no MIP start (no heuristic ramp found)")])
    if run.termination == "infeasible":
        return BuildoutSolve("infeasible", None, nan, nan, nan, report, [(
            "HiGHS proved the ramp infeasible although each check passes on its own: the"
            " floors (buildout.milestones, the starting deployment), the pipelines"
            " (buildout.pipelines) and the budgets (buildout.budget_usd_by_fiscal_year)"
            " conflict together (e.g. staff trained ahead of a milestone cost more than the"
            " budget leaves)")], g_val, build_s, translate_s, solve_s)
    ramp = None
    if run.values is not None:
        cand = built.read_teams(run.values)
        if check_ramp(data, cand, tol=1e-6):
            cand = ramp_from_teams(data, cand.teams)  # same teams, smallest headcount path
        if not check_ramp(data, cand, tol=1e-6):
            ramp = cand
    if best is not None and (ramp is None or ramp_value(data, ramp.teams) < b_val - 1e-9):
        ramp = best
    if ramp is None:
        why = f"{run.solver_termination}{': ' + run.error if run.error else ''}"
        return BuildoutSolve("error", None, nan, nan, nan, report, [f"no ramp found ({why})"],
                             g_val, build_s, translate_s, solve_s)
    obj = ramp_value(data, ramp.teams)
    bound = lp_bound if math.isfinite(lp_bound) else nan
    if math.isfinite(bound):
        report.bound_source = "highs_lp"
    if run.finite_bound is not None:
        # penalised bound -> coverage bound: coverage <= bound + eps x spend <= bound + eps x B
        mip_bound = run.finite_bound + eps * total_budget
        report.mip_bound = mip_bound
        if not math.isfinite(bound) or mip_bound < bound:
            bound, report.bound_source = mip_bound, "highs_mip"
    bound = max(bound, obj) if math.isfinite(bound) else nan
    gap = relative_gap(obj, bound) if math.isfinite(bound) else float("inf")
    status = plan_status(run.termination, has_plan=True)
    if status != "optimal" and gap <= opts.mip_rel_gap:
        status = "optimal"
    if status == "optimal" and gap > opts.mip_rel_gap + 2 * TIE_BREAK_REL:
        status = "feasible"
    return BuildoutSolve(status, ramp, obj, bound, gap, report, [], g_val, build_s,
                         translate_s, solve_s)


#: time limit of the tail MIP, seconds
TAIL_LIMIT_S = 4.0


def tail_search(data: BuildoutData, ramp: Ramp, opts, *, seconds: float) -> Ramp | None:
    """A better ramp from the aggregated MIP with the team counts of the first ~40% of the
    periods fixed to ``ramp``'s (None if none is found within ``seconds``). The end of the
    horizon, where the budgets bind, needs tour mixes that fill each quarter's money; single
    moves of the local search do not reach them, a small MIP does."""
    T = data.shape[0]
    if T < 3 or seconds <= 0:
        return None
    M = np.asarray(ramp.teams).sum(axis=1)
    a = T - math.ceil(0.6 * T)
    lo, hi = M.copy(), M.copy()
    lo[a:], hi[a:] = 0, np.iinfo(np.int32).max
    built = build_buildout_model(data, 0.0, kind="aggregate", count_bounds=(lo, hi))
    run = solve_model(built.model, built.variables, time_limit_s=seconds,
                      mip_rel_gap=min(opts.mip_rel_gap, 1e-5), threads=opts.threads,
                      start_values=built.start_values(ramp))
    if run.values is None:
        return None
    return ramp_from_counts(data, built.read_teams(run.values).teams.sum(axis=1))


#: shortest time the LP relaxation of the aggregated model gets, seconds
LP_MIN_TIME_S = 2.0

_KIND = {"aggregate": "aggregated (sorted-increment) formulation", "full": "full formulation"}


def _better(data: BuildoutData, a: Ramp | None, b: Ramp | None, steps: list, name: str):
    """The better of two ramps (by covered calls); notes ``name`` when ``b`` wins."""
    if b is None:
        return a
    if a is None or ramp_value(data, b.teams) > ramp_value(data, a.teams) + 1e-9:
        steps.append(name)
        return b
    return a


__all__ = [
    "GAINS",
    "BuildoutSolve",
    "isolated_buildout_gains",
    "shared_buildout_gains",
    "solve_buildout",
    "tail_search",
]
