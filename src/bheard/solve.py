"""Solve a staffing problem: greedy incumbent, exact LP bound, reduced-cost fixing, HiGHS.

Pipeline (each step certified; see ``models/isolated_coverage.md``):

1. :func:`~bheard.model.isolated.diagnose_infeasibility` - complete feasibility test that
   names the constraints in conflict.
2. :func:`~bheard.model.isolated.greedy` - a feasible plan (lower bound ``LB``).
3. :func:`~bheard.model.isolated.lagrangian_bound` - the LP relaxation bound ``UB``.
4. :func:`~bheard.model.isolated.fix_by_reduced_cost` - decide every team whose reduced cost
   exceeds ``UB - LB`` (exact: no plan at least as good as the incumbent differs there).
5. Pyomo model of the undecided teams, solved by HiGHS through Pyomo's contrib interface
   (``SolverFactory('highs')``, ``raise_exception_on_nonoptimal_result=False``) with the
   greedy plan as MIP start. A time limit returns the best plan with its certified gap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bheard.model.isolated import (
    TIE_BREAK_REL,
    build_isolated_model,
    diagnose_infeasibility,
    fix_by_reduced_cost,
    greedy,
    lagrangian_bound,
    make_increments,
)
from bheard.model.problem import ProblemData, problem_from_scenario
from bheard.plan import ASSIGNMENT_COLUMNS, Plan, SolverReport


@dataclass
class SolveOptions:
    """Solver settings (mirrors ``scenario.solver``)."""

    time_limit_s: float = 60.0
    mip_rel_gap: float = 1e-4
    threads: int | None = None
    reduce: bool = True
    warm_start: bool = True
    highs_options: dict = field(default_factory=dict)


@dataclass
class SolveResult:
    """Array-level result of :func:`solve_problem`."""

    status: str
    teams: np.ndarray | None  # (P, S) int, None when infeasible
    objective: float  # calls/year
    bound: float  # calls/year
    gap: float
    build_seconds: float
    translate_seconds: float
    solve_seconds: float
    report: SolverReport
    diagnosis: list[str] = field(default_factory=list)
    #: extra results of the shared / constrained model (arrays and JSON-ready entries)
    details: dict = field(default_factory=dict)


def relative_gap(objective: float, bound: float) -> float:
    """``(bound - objective) / |objective|`` (0 when both are 0)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return float("inf")
    diff = max(bound - objective, 0.0)
    if diff == 0.0:
        return 0.0
    return diff / max(abs(objective), 1e-12)


@dataclass
class HighsRun:
    """One HiGHS run through Pyomo's contrib interface."""

    results: object | None  # pyomo contrib Results; None when the solver raised
    error: str  # "" unless the solver raised
    warm: bool  # a MIP start was given
    translate_seconds: float  # Pyomo -> HiGHS (set_instance)
    solve_seconds: float  # HiGHS run


#: the model is not edited between set_instance and solve: skip Pyomo's change detection
_NO_UPDATES = dict(check_for_new_or_removed_constraints=False,
                   check_for_new_or_removed_vars=False, check_for_new_or_removed_params=False,
                   check_for_new_objective=False, update_constraints=False, update_vars=False,
                   update_parameters=False, update_named_expressions=False,
                   update_objective=False)


def plan_status(termination) -> str:
    """Plan status for a HiGHS termination condition when a feasible plan is in hand:
    ``optimal`` (gap reached), ``time_limit_feasible``, or ``feasible`` (stopped otherwise)."""
    from pyomo.contrib.solver.common.results import TerminationCondition

    if termination == TerminationCondition.convergenceCriteriaSatisfied:
        return "optimal"
    if termination == TerminationCondition.maxTimeLimit:
        return "time_limit_feasible"
    return "feasible"


def run_highs(model, *, time_limit_s: float, mip_rel_gap: float, threads: int | None = None,
              highs_options: dict | None = None, start=None,
              started_at: float | None = None) -> HighsRun:
    """Solve a Pyomo model with HiGHS (``SolverFactory('highs')`` from ``pyomo.contrib.solver``).

    ``raise_exception_on_nonoptimal_result=False`` and ``load_solutions=False``: a time limit
    returns the incumbent (load it from ``results.solution_loader``), never an exception.
    ``start(solver) -> bool`` may set a MIP start on the persistent instance
    (:func:`set_mip_start`). The time limit counts from ``started_at`` (default: now), so
    earlier steps of the same solve use up the scenario's limit.
    """
    from pyomo.contrib.solver.common.factory import SolverFactory

    t0 = time.perf_counter() if started_at is None else started_at
    t1 = time.perf_counter()
    solver = SolverFactory("highs")
    solver.set_instance(model)
    warm = bool(start(solver)) if start is not None else False
    t2 = time.perf_counter()
    try:
        res = solver.solve(model, load_solutions=False,
                           raise_exception_on_nonoptimal_result=False,
                           time_limit=max(time_limit_s - (t2 - t0), 0.05), rel_gap=mip_rel_gap,
                           threads=threads,
                           solver_options={"output_flag": False, **(highs_options or {})},
                           auto_updates=_NO_UPDATES)
        return HighsRun(res, "", warm, t2 - t1, time.perf_counter() - t2)
    except Exception as exc:  # callers keep their certified incumbent
        return HighsRun(None, f"{type(exc).__name__}: {exc}", warm, t2 - t1,
                        time.perf_counter() - t2)


def solve_problem(prob: ProblemData, options: SolveOptions | None = None, *,
                  increments=None, start_teams: np.ndarray | None = None) -> SolveResult:
    """Solve a :class:`ProblemData` to the requested gap (or time limit).

    ``increments``: precomputed :func:`make_increments` of a problem that differs from
    ``prob`` only in ``budget_usd_per_year`` (increments do not depend on the budget), so a
    budget frontier computes the Erlang gains once. ``start_teams``: a (P, S) plan used as
    incumbent instead of the greedy one when it is feasible here and covers more (e.g. the
    previous, smaller budget's plan).
    """
    opt = options or SolveOptions()
    t0 = time.perf_counter()
    report = SolverReport(time_limit_s=opt.time_limit_s, mip_rel_gap=opt.mip_rel_gap)

    diagnosis = diagnose_infeasibility(prob)
    if diagnosis:
        report.termination = "infeasible (bheard diagnosis, before solving)"
        return SolveResult("infeasible", None, float("nan"), float("nan"), float("nan"),
                           time.perf_counter() - t0, 0.0, 0.0, report, diagnosis)

    inc = make_increments(prob) if increments is None else increments
    taken = greedy(prob, inc)
    lb = float(inc.gain[taken].sum())
    if start_teams is not None:
        start = inc.k <= np.asarray(start_teams)[inc.p, inc.s]
        start_value = float(inc.gain[start].sum())
        fits = (float(inc.cost[start].sum()) <= prob.budget_usd_per_year * (1 + 1e-12)
                and bool((np.bincount(inc.s[start], minlength=prob.shape[1])
                          <= prob.slot_cap).all())
                and bool(start[inc.forced].all()))
        if fits and start_value > lb:
            taken, lb = start, start_value
    lag = lagrangian_bound(prob, inc)
    report.n_increments = inc.n
    report.greedy_objective = lb
    report.lagrangian_bound = lag.value
    if opt.reduce:
        one, zero = fix_by_reduced_cost(inc, lag, lb)
    else:
        one, zero = inc.forced.copy(), np.zeros(inc.n, dtype=bool)
    report.n_fixed_one, report.n_fixed_zero = int(one.sum()), int(zero.sum())
    eps = TIE_BREAK_REL * max(lb, 1.0) / max(prob.budget_usd_per_year, 1.0)
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

    if not (~(one | zero)).any():
        # every team decided: any plan as good as the incumbent equals it, so it is optimal
        report.termination = "all teams decided by reduced-cost fixing"
        report.bound_source = "lagrangian"
        chosen = np.flatnonzero(one)
        return finish("optimal", chosen, lb, time.perf_counter() - t0, 0.0, 0.0)

    # When the greedy plan is already within the requested gap of the LP bound, HiGHS only
    # has to certify that bound: it solves the LP relaxation of the reduced model (no integer
    # variables, no link rows), which is fast even at 2,000 x 168, and the greedy plan stands.
    certify_only = relative_gap(lb, lag.value) <= opt.mip_rel_gap
    built = build_isolated_model(prob, inc, one, zero, 0.0 if certify_only else eps,
                                 relax=certify_only)
    report.n_variables = built.free.size + (len(built.model.x) if hasattr(built.model, "x") else 0)
    report.n_integer = built.n_integer
    build_s = time.perf_counter() - t0

    from pyomo.contrib.solver.common.results import TerminationCondition

    highs_opts = {}
    if certify_only:
        # HiGHS presolve is pathological on this LP (measured: a 191k-column, 1-row LP ran
        # 250 s past a 30 s limit with presolve, 0.36 s without; PERFORMANCE_NOTES.md)
        highs_opts["presolve"] = "off"
    highs_opts.update(opt.highs_options)
    want_start = opt.warm_start and not certify_only
    run = run_highs(built.model, time_limit_s=opt.time_limit_s, mip_rel_gap=opt.mip_rel_gap,
                    threads=opt.threads, highs_options=highs_opts, started_at=t0,
                    start=(lambda solver: _set_mip_start(solver, built, taken)) if want_start else None)
    warm, translate_s, solve_s, res = run.warm, run.translate_seconds, run.solve_seconds, run.results
    if res is None:  # a solver failure still returns the certified incumbent
        report.termination = f"solver error: {run.error}"
        report.bound_source = "lagrangian"
        return finish("feasible", np.flatnonzero(taken), lag.value, build_s, translate_s, solve_s)
    tc = res.termination_condition
    report.termination = tc.name
    report.message = "MIP start from greedy plan" if warm else ""

    chosen = np.flatnonzero(taken)
    inc_pen = float((inc.gain[taken] - eps * inc.cost[taken]).sum())
    if certify_only:
        report.message = "greedy plan within gap of the LP bound; HiGHS solved the LP relaxation"
    elif res.incumbent_objective is not None and res.incumbent_objective >= inc_pen - 1e-9 * abs(inc_pen):
        try:
            res.solution_loader.load_vars()
            yv = np.array([built.model.y[j].value or 0.0 for j in range(built.free.size)])
            chosen = np.concatenate([np.flatnonzero(one), built.free[yv > 0.5]])
        except Exception:  # no loadable solution: keep the greedy plan
            pass

    # lift HiGHS's bound (penalised objective of the reduced model) to coverage of the full
    # model: coverage = penalised + eps * cost <= bound + eps * budget
    bound = lag.value
    report.bound_source = "lagrangian"
    if res.objective_bound is not None and math.isfinite(res.objective_bound):
        hb = float(res.objective_bound) + (0.0 if certify_only else eps * prob.budget_usd_per_year)
        report.highs_bound = hb
        if hb <= bound * (1 + 1e-9) + 1e-9:  # HiGHS's bound, when it is as tight (rounding)
            bound, report.bound_source = hb, ("highs_lp" if certify_only else "highs")
    if tc == TerminationCondition.provenInfeasible:
        # cannot happen after the complete feasibility test; report rather than hide it
        return SolveResult("error", None, float("nan"), float("nan"), float("nan"), build_s,
                           translate_s, solve_s, report,
                           ["HiGHS reported the reduced model infeasible although the minimum"
                            " staffing plan is feasible: please report this as a bug"])
    return finish(plan_status(tc), chosen, bound, build_s, translate_s, solve_s)


def set_mip_start(solver, values: list[tuple[object, float]]) -> bool:
    """Give HiGHS a MIP start: ``values`` pairs Pyomo variables of the instance with numbers.

    Pyomo 6.10's contrib HiGHS interface has no warm-start option; its persistent instance
    holds the highspy model and the Pyomo-variable -> column map, which we use directly
    (pinned: pyomo>=6.10.1,<6.11). Variables not listed start at 0. Returns False (no start)
    if that internal API is not there.
    """
    try:
        import highspy

        h = solver._solver_model
        col_of = solver._pyomo_var_to_solver_var_map
        cols = np.zeros(h.getNumCol())
        for var, value in values:
            cols[col_of[id(var)]] = value
        sol = highspy.HighsSolution()
        sol.col_value = cols.tolist()
        h.setSolution(sol)
        return True
    except Exception:
        return False


def _set_mip_start(solver, built, taken: np.ndarray) -> bool:
    """The greedy plan as MIP start of the isolated model (y, class counts n, group sums x)."""
    m = built.model
    yv = taken[built.free].astype(float)
    pairs = [(m.y[j], yv[j]) for j in range(built.free.size)]
    if built.classes is not None and len(built.classes):
        pairs += [(m.n[t], yv[built.classes == t].sum()) for t in range(len(m.n))]
    if hasattr(m, "x"):
        pairs += [(m.x[g], yv[members].sum()) for g, members in enumerate(_group_members(built))]
    return set_mip_start(solver, pairs)


def _group_members(built) -> list[np.ndarray]:
    m = built.model
    out = []
    index = {id(m.y[j]): j for j in range(built.free.size)}
    for g in range(len(m.x)):
        body = m.link[g].body
        out.append(np.array([index[id(v)] for v in body.linear_vars[1:]], dtype=np.int64))
    return out


# ----------------------------------------------------------------------------------------
# scenario-level API
# ----------------------------------------------------------------------------------------
def formulation_of(sc) -> str:
    """Which model solves a scenario: ``"staggered"`` (shifts.staggered),
    ``"shared"`` (coverage.mode shared, equity floors or role caps: models/shared_coverage.md)
    or ``"isolated"`` (models/isolated_coverage.md)."""
    if sc.shifts.staggered is not None:
        return "staggered"
    if sc.coverage.mode == "shared" or sc.equity.active or sc.workforce.max_headcount:
        return "shared"
    return "isolated"


def solve(scenario, *, budget_usd: float | None = None, time_limit_s: float | None = None,
          base_dir=None) -> Plan:
    """Solve a scenario (path, dict or :class:`~bheard.scenario.Scenario`) into a :class:`Plan`.

    ``budget_usd`` (USD/year) and ``time_limit_s`` (seconds) override the scenario's values.
    User errors raise :class:`bheard.errors.InputError`; an infeasible scenario returns a Plan
    with ``status == "infeasible"`` and a ``diagnosis`` naming the conflicting constraints.
    """
    from bheard.scenario import load_scenario

    t0 = time.perf_counter()
    sc = load_scenario(scenario, base_dir=base_dir)
    overrides = {}
    if budget_usd is not None:
        overrides["budget.annual_usd"] = budget_usd
    if time_limit_s is not None:
        overrides["solver.time_limit_s"] = time_limit_s
    if overrides:
        sc = sc.with_overrides(**overrides)
    formulation = formulation_of(sc)
    if formulation == "staggered":  # staggered hourly starts: models/staggered_tours.md
        from bheard.model.staggered import solve_scenario_staggered

        return solve_scenario_staggered(sc, extra_build_seconds=time.perf_counter() - t0)
    prob = problem_from_scenario(sc)
    prep_s = time.perf_counter() - t0
    opts = SolveOptions(**sc.solver.model_dump())
    if formulation == "shared":
        from bheard.model.shared import solve_scenario_shared

        res = solve_scenario_shared(sc, prob, opts)
    else:
        res = solve_problem(prob, opts)
    return make_plan(sc, prob, res, extra_build_seconds=prep_s)


def assignments_frame(prob: ProblemData, teams: np.ndarray) -> pd.DataFrame:
    """One row per (precinct, day, tour) of a (P, S) plan, columns :data:`ASSIGNMENT_COLUMNS`."""
    P, S = prob.shape
    eligible = prob.eligible_calls_per_year()
    covered = prob.coverage(teams)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(eligible > 0, covered / np.where(eligible > 0, eligible, 1.0), np.nan)
    return pd.DataFrame({
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


def make_plan(sc, prob: ProblemData, res: SolveResult, extra_build_seconds: float = 0.0) -> Plan:
    """Wrap a :class:`SolveResult` for a scenario into a :class:`Plan`."""
    from bheard.assumptions import scenario_assumptions

    eligible_total = float(prob.eligible_calls_per_year().sum())
    if res.teams is None:
        assignments = pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
        cost = 0.0
    else:
        assignments = assignments_frame(prob, res.teams)
        cost = prob.annual_cost(res.teams)
    details = {}
    if res.details or sc.costs is not None or sc.coverage.mode == "shared":
        from bheard.model.shared import plan_details

        assignments, details = plan_details(sc, prob, res, assignments)
    return Plan(scenario=sc.name, status=res.status, objective=res.objective, bound=res.bound,
                gap=res.gap, annual_cost=cost, budget=prob.budget_usd_per_year,
                eligible_calls=eligible_total,
                build_seconds=res.build_seconds + extra_build_seconds,
                translate_seconds=res.translate_seconds, solve_seconds=res.solve_seconds,
                assignments=assignments, solver=res.report, diagnosis=res.diagnosis,
                assumptions=scenario_assumptions(sc), demand_source=sc.demand.source,
                tours=[{"name": t.name, "start_hour": t.start_hour, "hours": t.hours,
                        "days": list(t.days if t.days is not None else sc.shifts.days)}
                       for t in sc.shifts.tours], details=details)
