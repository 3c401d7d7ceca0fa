"""Driver for shared coverage: the busy-probability fixed point around LP, heuristics and HiGHS.

Fixed point (``models/shared_coverage.md``): with busy probabilities ``q`` per slot, build the
gains ``G``; plan (greedy while ``q`` moves, then the LP bound, an LP-rounded plan and local
search, and HiGHS only when the LP bound does not certify the plan within
``solver.mip_rel_gap``); compute ``q(plan)``; update ``q`` by successive averages until
``max |q(plan) - q| <= tolerance``. The objective and bound refer to the gains of the final
``q``. The same driver solves the isolated model with role caps or equity floors
(``coverage.mode: isolated``: Erlang-B gains, own teams only, no fixed point).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from bheard.constants import TIE_BREAK_REL
from bheard.model.base import covered_from_counts, in_range
from bheard.model.equity import Floors, floors_from_scenario, meets_floors
from bheard.model.isolated import diagnose_infeasibility
from bheard.model.shared import (
    build_shared_model,
    busy_from_plan,
    diagnose_roles,
    greedy_shared,
    improve_plan,
    isolated_gains,
    max_in_range,
    reach_or_identity,
    round_lp,
    shared_gains,
    step_size,
)
from bheard.problem.slots import ProblemData
from bheard.results import EquityCost, FixedPointReport, SolveResult, SolverReport
from bheard.scenario.schema import CoverageSettings, SolverOptions
from bheard.solver import plan_status, relative_gap, solve_model

#: at most this many LP/MIP solves in the fixed point (greedy iterations come first)
MAX_LP_ROUNDS = 6
#: time limit of one LP relaxation, seconds (the LPs here take well under a second citywide)
LP_TIME_LIMIT_S = 60.0


def solve_lp_relaxation(prob: ProblemData, G: np.ndarray, reach: np.ndarray,
                        floors: Floors | None, *, threads: int | None = None,
                        time_limit_s: float = LP_TIME_LIMIT_S):
    """LP relaxation at gains ``G``: (status, bound in calls/year, (P, S) fractional teams)."""
    built = build_shared_model(prob, G, reach, 0.0, floors, relax=True)
    run = solve_model(built.model, built.variables, time_limit_s=time_limit_s, threads=threads)
    if run.termination == "infeasible":
        return "infeasible", float("nan"), None
    if run.termination != "optimal" or run.values is None:
        return run.solver_termination, float("nan"), None
    return "optimal", float(run.objective), built.read_teams(run.values)


def best_heuristic_plan(prob: ProblemData, G: np.ndarray, reach: np.ndarray,
                        floors: Floors | None = None) -> tuple[np.ndarray, float, float]:
    """Best of greedy and LP-rounded plans after local search, with the LP bound (calls/year).

    Returns (teams, covered calls/year, LP bound); the bound is nan if the LP is not solved.
    """
    cands = [greedy_shared(prob, G, reach, floors)]
    status, bound, X = solve_lp_relaxation(prob, G, reach, floors)
    if X is not None:
        cands.append(round_lp(prob, G, reach, X, floors))
    cands = [improve_plan(prob, G, reach, c, floors) for c in cands
             if meets_floors(G, reach, c, floors)]
    if not cands:
        return None, float("nan"), bound
    vals = [float(covered_from_counts(G, in_range(reach, c)).sum()) for c in cands]
    k = int(np.argmax(vals))
    return cands[k], vals[k], bound


@dataclass
class MipOutcome:
    """Result of one HiGHS solve of the shared model at fixed gains."""

    status: str  # optimal | time_limit_feasible | feasible | infeasible | error
    teams: np.ndarray | None
    bound: float  # calls/year (nan if none)
    termination: str
    warm: bool
    n_variables: int
    n_integer: int
    build_seconds: float
    translate_seconds: float
    solve_seconds: float


def solve_shared_mip(prob: ProblemData, G: np.ndarray, reach: np.ndarray, start: np.ndarray,
                     floors: Floors | None, *, time_limit_s: float, mip_rel_gap: float,
                     threads: int | None = None, highs_options: dict | None = None,
                     warm_start: bool = True) -> MipOutcome:
    """Solve the model at fixed gains ``G`` with HiGHS (through the solver door)."""
    t0 = time.perf_counter()
    start_value = float(covered_from_counts(G, in_range(reach, start)).sum())
    eps = TIE_BREAK_REL * max(start_value, 1.0) / max(prob.team_budget_usd_per_year, 1.0)
    built = build_shared_model(prob, G, reach, eps, floors)
    build_s = time.perf_counter() - t0
    nvar = built.n_variables
    run = solve_model(built.model, built.variables, time_limit_s=time_limit_s,
                      mip_rel_gap=mip_rel_gap, threads=threads, highs_options=highs_options,
                      started_at=t0,
                      start_values=built.start_values(start) if warm_start else None)
    translate_s, solve_s = run.translate_seconds, run.solve_seconds
    if run.termination == "error":
        return MipOutcome("error", None, float("nan"), f"solver error: {run.error}",
                          run.start_used, nvar, built.n_integer, build_s, translate_s, solve_s)
    if run.termination == "infeasible":
        return MipOutcome("infeasible", None, float("nan"), run.solver_termination,
                          run.start_used, nvar, built.n_integer, build_s, translate_s, solve_s)
    teams = None
    if run.values is not None:
        teams = np.rint(built.read_teams(run.values)).astype(np.int64)
    bound = float("nan")
    if run.finite_bound is not None:
        # penalised bound -> coverage bound: coverage <= bound + eps * cost <= bound + eps * B
        bound = run.finite_bound + eps * prob.team_budget_usd_per_year
    status = plan_status(run.termination, has_plan=teams is not None)
    return MipOutcome(status, teams, bound, run.solver_termination, run.start_used, nvar,
                      built.n_integer, build_s, translate_s, solve_s)


def _gains_for(prob, st: CoverageSettings, q, n_system, reach, floors=None):
    if st.mode == "isolated":
        return isolated_gains(prob)
    full = floors is not None and floors.max_ratio is not None
    return shared_gains(prob, q, st.amexclp, n_system, reach, full_levels=full)


def fixed_point_trace_row(it: int, phase: str, q: np.ndarray, q_plan: np.ndarray,
                          covered: float) -> dict:
    return {"iteration": it, "phase": phase, "q_mean": float(np.mean(q)),
            "q_min": float(np.min(q)), "q_max": float(np.max(q)),
            "max_change": float(np.max(np.abs(q_plan - q))) if len(q) else 0.0,
            "covered_calls": float(covered)}


def coverage_model_name(settings: CoverageSettings) -> str:
    """The coverage model a shared-driver solve uses, in words."""
    if settings.mode == "isolated":
        return "isolated Erlang loss with extra constraints"
    return "AMEXCLP" if settings.amexclp else "MEXCLP"


def solve_shared(prob: ProblemData, opts: SolverOptions, settings: CoverageSettings,
                 floors: Floors | None = None) -> SolveResult:
    """Solve the shared (or constrained isolated) model into a :class:`SolveResult`.

    Fixed point (``models/shared_coverage.md``): with ``q`` per slot, build gains, plan
    (greedy while ``q`` moves, then LP rounding, local search and HiGHS), compute ``q(plan)``;
    update ``q <- q + step (q(plan) - q)`` until ``max |q(plan) - q| <= tolerance``. The
    objective and bound refer to the gains of the final ``q``; the trace is in
    ``result.fixed_point``.
    """
    t0 = time.perf_counter()
    report = SolverReport(time_limit_s=opts.time_limit_s, mip_rel_gap=opts.mip_rel_gap)
    model_name = coverage_model_name(settings)
    nan = float("nan")
    diagnosis = diagnose_infeasibility(prob) + diagnose_roles(prob)
    if diagnosis:
        report.termination = "infeasible (bheard diagnosis, before solving)"
        return SolveResult("infeasible", None, nan, nan, nan, time.perf_counter() - t0, 0.0, 0.0,
                           report, diagnosis, coverage_model=model_name)
    reach = reach_or_identity(prob)
    S = prob.shape[1]
    rho_max = settings.max_busy_probability
    served = settings.busy_workload == "served"
    group = (np.unique(prob.slot_tour, return_inverse=True)[1].ravel()
             if settings.busy_probability_by == "tour" else np.arange(S))
    fixed_q = settings.mode == "isolated" or settings.busy_probability is not None
    q = np.full(S, settings.busy_probability if settings.busy_probability is not None
                else settings.initial_busy_probability)
    n_system = None
    trace: list[dict] = []
    teams = None
    G = None
    # phase 1: greedy fixed point (cheap)
    for it in range(1, settings.max_iterations + 1):
        G = _gains_for(prob, settings, q, n_system, reach, floors)
        teams = greedy_shared(prob, G, reach, floors)
        if fixed_q and not settings.amexclp:
            break
        q_plan = q if fixed_q else busy_from_plan(prob, teams, reach, rho_max, group,
                                                  G if served else None)
        covered = float(covered_from_counts(G, in_range(reach, teams)).sum())
        trace.append(fixed_point_trace_row(it, "greedy", q, q_plan, covered))
        n_new = np.maximum(teams.sum(axis=0), 1)
        n_same = n_system is not None and bool((n_new == n_system).all())
        n_system = n_new
        if float(np.max(np.abs(q_plan - q))) <= settings.tolerance and (
                not settings.amexclp or n_same):
            break
        q = q + step_size(settings.damping, len(trace)) * (q_plan - q)
    report.greedy_objective = float(covered_from_counts(G, in_range(reach, teams)).sum())
    report.n_increments = int((G > 0).sum())
    # phase 2: LP bound + LP-rounded plan + local search at the current q; HiGHS only when the
    # certified gap is above mip_rel_gap; then re-check the fixed point with the final plan
    build_s = translate_s = solve_s = 0.0
    rounds = 0
    status, bound, converged = "feasible", nan, fixed_q
    while True:
        rounds += 1
        t_lp = time.perf_counter()
        lp_status, lp_bound, X = solve_lp_relaxation(
            prob, G, reach, floors, threads=opts.threads,
            time_limit_s=max(opts.time_limit_s - (t_lp - t0), 1.0))
        report.lp_bound = lp_bound
        report.n_variables = int((prob.max_teams > 0).sum() + (G > 0).sum())
        report.n_integer = int((prob.max_teams > 0).sum())
        solve_s += time.perf_counter() - t_lp
        if lp_status == "infeasible":
            report.termination = "LP relaxation infeasible"
            diag = diagnose_floors(prob, G, reach, floors) or [
                "the LP relaxation is infeasible but no single constraint group explains it;"
                " the combination of budget.annual_usd, limits.* and workforce.max_headcount"
                " with the equity floors conflicts"]
            return SolveResult("infeasible", None, nan, nan, nan, time.perf_counter() - t0, 0.0,
                               solve_s, report, diag, coverage_model=model_name)
        cands = [teams] if meets_floors(G, reach, teams, floors) else []
        if X is not None:
            r = round_lp(prob, G, reach, X, floors)
            if meets_floors(G, reach, r, floors):
                cands.append(r)
        cands = [improve_plan(prob, G, reach, c, floors) for c in cands]
        vals = [float(covered_from_counts(G, in_range(reach, c)).sum()) for c in cands]
        best_v = max(vals) if vals else -np.inf
        if vals:
            teams = cands[int(np.argmax(vals))]
        bound = lp_bound
        report.bound_source = "highs_lp"
        status = "feasible"
        report.termination = "LP bound certifies the heuristic plan"
        report.message = "LP-rounded + local-search plan"
        final = fixed_q
        if not fixed_q:
            q_plan = busy_from_plan(prob, teams, reach, rho_max, group, G if served else None)
            n_new = np.maximum(teams.sum(axis=0), 1)
            trace.append(fixed_point_trace_row(len(trace) + 1, "lp", q, q_plan, best_v))
            ok_n = not settings.amexclp or (n_system is not None
                                             and bool((n_new == n_system).all()))
            converged = float(np.max(np.abs(q_plan - q))) <= settings.tolerance and ok_n
            final = converged or rounds >= MAX_LP_ROUNDS or (
                len(trace) >= settings.max_iterations + MAX_LP_ROUNDS)
        if not final:
            q = q + step_size(settings.damping, len(trace)) * (q_plan - q)
            n_system = n_new
            G = _gains_for(prob, settings, q, n_system, reach, floors)
            teams = greedy_shared(prob, G, reach, floors)
            continue
        # final round: HiGHS only if the LP bound does not certify the plan yet
        teams_before = teams
        if not vals or relative_gap(best_v, bound) > opts.mip_rel_gap:
            start = teams if vals else greedy_shared(prob, G, reach, floors)
            out = solve_shared_mip(prob, G, reach, start, floors,
                                   time_limit_s=max(opts.time_limit_s
                                                    - (time.perf_counter() - t0), 0.5),
                                   mip_rel_gap=opts.mip_rel_gap, threads=opts.threads,
                                   highs_options=opts.highs_options,
                                   warm_start=opts.warm_start and bool(vals))
            build_s += out.build_seconds
            translate_s += out.translate_seconds
            solve_s += out.solve_seconds
            report.termination, report.n_variables, report.n_integer = (
                out.termination, out.n_variables, out.n_integer)
            report.message = "MIP start from the heuristic plan" if out.warm else ""
            if out.status == "infeasible":
                diag = diagnose_floors(prob, G, reach, floors) or [
                    "HiGHS proved the model infeasible with whole teams; the equity floors, "
                    "budget.annual_usd and the limits conflict once teams are integers"]
                return SolveResult("infeasible", None, nan, nan, nan, build_s, translate_s,
                                   solve_s, report, diag, coverage_model=model_name)
            if out.teams is not None and meets_floors(G, reach, out.teams, floors):
                v_mip = float(covered_from_counts(G, in_range(reach, out.teams)).sum())
                if v_mip >= best_v - 1e-9 * max(abs(best_v), 1.0):
                    teams, best_v = out.teams, v_mip
            if not np.isfinite(best_v):
                return SolveResult("error", None, nan, nan, nan, build_s, translate_s, solve_s,
                                   report, [f"no plan meeting the equity floors was found"
                                            f" ({out.termination})"], coverage_model=model_name)
            status = out.status
            if math.isfinite(out.bound) and out.bound < bound:
                bound, report.bound_source = out.bound, "highs_mip"
        if not fixed_q and teams is not teams_before:
            q_plan = busy_from_plan(prob, teams, reach, rho_max, group, G if served else None)
            trace.append(fixed_point_trace_row(len(trace) + 1, "mip", q, q_plan, best_v))
            converged = converged and float(np.max(np.abs(q_plan - q))) <= settings.tolerance
        break
    counts = in_range(reach, teams)
    covered = covered_from_counts(G, counts)
    obj = float(covered.sum())
    # levels cut by LEVEL_TOL: add their largest possible contribution to the bound
    cap = max_in_range(prob, reach)
    L = G.shape[-1]
    tail = 0.0
    if settings.mode == "shared":
        tail = float((prob.eligible_calls_per_year() * (np.asarray(q)[None, :] ** L)
                      * (cap > L)).sum())
    bound = max(bound + tail, obj) if math.isfinite(bound) else nan
    report.mip_bound = bound if report.bound_source == "highs_mip" else nan
    gap = relative_gap(obj, bound) if math.isfinite(bound) else float("inf")
    if status in ("time_limit_feasible", "feasible") and gap <= opts.mip_rel_gap:
        status = "optimal"
    own = covered_from_counts(G, teams)
    q_plan = q if fixed_q else busy_from_plan(prob, teams, reach, rho_max, group,
                                              G if served else None)
    fp = FixedPointReport(
        busy_probability=[float(v) for v in q], busy_probability_from_plan=[float(v) for v in q_plan],
        iterations=len(trace), converged=bool(converged),
        final_change=(trace[-1]["max_change"] if trace else 0.0), tolerance=settings.tolerance,
        damping=settings.damping, levels=int(L), trace=trace)
    result = SolveResult(status, teams, obj, bound, gap, build_s + (time.perf_counter() - t0
                         - build_s - translate_s - solve_s), translate_s, solve_s, report,
                         coverage_model=model_name, covered=covered, own_covered=own,
                         teams_in_range=counts, fixed_point=fp)
    if floors is not None and floors.active:
        result.equity_cost = equity_cost(prob, G, reach, result.objective)
    return result


def equity_cost(prob: ProblemData, G: np.ndarray, reach: np.ndarray, covered_with_floors: float
                ) -> EquityCost:
    """Covered calls/year without the floors at the same gains, against the plan with them."""
    _, free_obj, free_bound = best_heuristic_plan(prob, G, reach)
    lost = max(free_obj - covered_with_floors, 0.0)
    return EquityCost(covered_without_floors=free_obj, bound_without_floors=free_bound,
                      covered_with_floors=covered_with_floors, coverage_lost_to_floors=lost,
                      coverage_lost_to_floors_at_most=max(free_bound - covered_with_floors, 0.0),
                      floors_bind=bool(lost > 1e-6 * max(free_obj, 1.0)))


def solve_scenario_problem(sc, prob: ProblemData, *, start=None, cache=None) -> SolveResult:
    """Registry entry: a scenario's problem with :func:`solve_shared` (shared mode, or isolated
    mode with role caps / equity floors)."""
    return solve_shared(prob, sc.solver, sc.coverage, floors_from_scenario(sc, prob))



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
    if status == "optimal" and cost > prob.team_budget_usd_per_year * (1 + 1e-9):
        return [f"{names} needs at least ${cost:,.0f}/year (LP relaxation: a lower bound on any"
                f" plan meeting it) but budget.annual_usd allows ${prob.team_budget_usd_per_year:,.0f}"
                "/year"]
    if status == "optimal":
        return [f"{names} is reachable in the LP relaxation for ${cost:,.0f}/year within"
                f" budget.annual_usd ${prob.team_budget_usd_per_year:,.0f}/year, but not with whole"
                " teams: the floor and the budget conflict once teams are integers"]
    return []


def min_cost_for_floors(prob: ProblemData, G: np.ndarray, reach: np.ndarray, floors: Floors
                        ) -> tuple[float, str]:
    """LP lower bound on the USD/year of any plan meeting the floors (budget ignored)."""
    built = build_shared_model(prob, G, reach, 0.0, floors, objective="min_cost", relax=True,
                               use_budget=False)
    run = solve_model(built.model, built.variables, time_limit_s=LP_TIME_LIMIT_S)
    if run.termination == "optimal" and run.objective is not None:
        return float(run.objective), "optimal"
    if run.termination == "infeasible":
        return float("nan"), "infeasible"
    return float("nan"), run.solver_termination


