"""Drivers for plans under demand uncertainty (``models/stochastic.md``).

- :func:`run_stochastic` (isolated coverage): the sample average approximation is the
  isolated driver (:func:`bheard.optimize.incremental.solve_problem`: greedy, Lagrangian
  bound, reduced-cost fixing, HiGHS) run on a :class:`~bheard.problem.samples.SampledProblem`,
  whose coverage table is the sample average; with role caps or equity floors, the
  constrained driver (:mod:`bheard.optimize.fixed_point`) on the same averaged gains. With
  ``objective: cvar`` the expected plan is the start of the CVaR model
  (:func:`solve_cvar`).
- :func:`run_stochastic_shared` (shared coverage, MEXCLP): the busy-probability fixed point
  with one busy probability per sample and slot; at each step the gains are the sample
  average of the per-sample gains, and the plan comes from the shared model's greedy, LP
  rounding, local search and HiGHS (:mod:`bheard.model.shared`, :mod:`bheard.optimize.fixed_point`).

Both then solve the reference plan, optimized for the per-cell MEDIAN of the optimization
samples at the same budget, and evaluate both plans on the held-out samples
(:func:`evaluate`): a :class:`~bheard.results.UncertaintySummary` on the result.
"""

from __future__ import annotations

import math
import time

import numpy as np

from bheard.constants import TIE_BREAK_REL
from bheard.model.base import covered_from_counts, in_range
from bheard.model.isolated import (diagnose_infeasibility, fix_by_reduced_cost, greedy,
                                   lagrangian_bound, make_increments)
from bheard.model.shared import (diagnose_roles, greedy_shared, max_in_range, reach_or_identity,
                                 step_size)
from bheard.model.stochastic import (build_cvar_model, class_count_plan, cvar_lower,
                                     cvar_weights, risk_sample_weights, risk_value,
                                     saa_shared_gains, sample_increment_gains,
                                     shared_busy_by_sample, shared_coverage_by_sample,
                                     weighted_increments)
from bheard.optimize.fixed_point import (best_heuristic_plan, fixed_point_trace_row,
                                         solve_scenario_problem, solve_shared_mip)
from bheard.optimize.incremental import solve_problem
from bheard.problem.samples import SampledProblem
from bheard.results import (CoverageDistribution, FixedPointReport, GroupDistribution,
                            RiskCertificate, SolveResult, SolverReport, UncertaintySummary)
from bheard.solver import plan_status, relative_gap, solve_model


# ----------------------------------------------------------------------------------------
# evaluation on held-out samples
# ----------------------------------------------------------------------------------------
def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    q = np.quantile(x, [0.1, 0.5, 0.9])
    return float(q[0]), float(q[1]), float(q[2])


def _groups(names: np.ndarray, covered: np.ndarray, eligible: np.ndarray,
            target: float | None) -> list[GroupDistribution]:
    """Per group (``names`` labels the columns of ``covered``/``eligible``, (M, G'))."""
    out = []
    for name in dict.fromkeys(names.tolist()):
        m = names == name
        c, e = covered[:, m].sum(axis=1), eligible[:, m].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(e > 0, c / np.where(e > 0, e, 1.0), np.nan)
        ok = share[np.isfinite(share)]
        p10, p50, p90 = _quantiles(ok) if ok.size else (math.nan,) * 3
        out.append(GroupDistribution(
            name=str(name), expected_eligible_calls=float(e.mean()),
            expected_covered_calls=float(c.mean()),
            expected_share=float(c.mean() / e.mean()) if e.mean() > 0 else math.nan,
            share_p10=p10, share_p50=p50, share_p90=p90,
            p_meet_target=None if target is None or not ok.size
            else float((ok >= target - 1e-12).mean())))
    return out


def distribution(name: str, prob, teams: np.ndarray, covered: np.ndarray,
                 eligible: np.ndarray, alpha: float, target: float | None
                 ) -> CoverageDistribution:
    """:class:`CoverageDistribution` of a (P, S) plan from its per-sample covered and eligible
    calls/year, (M, P, S) each."""
    c, e = covered.sum(axis=(1, 2)), eligible.sum(axis=(1, 2))
    share = c / np.maximum(e, 1e-300)
    M = c.size
    c10, c50, c90 = _quantiles(c)
    s10, s50, s90 = _quantiles(share)
    teams = np.asarray(teams)
    return CoverageDistribution(
        plan=name, samples=int(M), team_shifts_per_week=int(teams.sum()),
        annual_cost_usd=prob.annual_cost(teams),
        expected_eligible_calls=float(e.mean()), expected_covered_calls=float(c.mean()),
        expected_covered_calls_se=float(c.std(ddof=1) / math.sqrt(M)) if M > 1 else math.nan,
        expected_share=float(c.mean() / e.mean()) if e.mean() > 0 else math.nan,
        covered_p10=c10, covered_p50=c50, covered_p90=c90,
        share_p10=s10, share_p50=s50, share_p90=s90,
        cvar_alpha=float(alpha), cvar_share=cvar_lower(share, alpha),
        target_share=target,
        p_meet_target=None if target is None else float((share >= target - 1e-12).mean()),
        by_borough=_groups(np.asarray(prob.borough), covered.sum(axis=2), eligible.sum(axis=2),
                           target),
        by_tour=_groups(np.asarray(prob.slot_tour), covered.sum(axis=1), eligible.sum(axis=1),
                        target))


class Evaluator:
    """Per-sample coverage of plans on the held-out samples of a problem, under the
    scenario's coverage model (isolated Erlang loss, or MEXCLP at each plan's own busy
    probabilities in each sample)."""

    def __init__(self, sc, prob: SampledProblem):
        self.sc, self.prob = sc, prob
        self.eligible = prob.eligible_by_sample(holdout=True)
        self.shared = sc.coverage.mode == "shared"
        if self.shared:
            self.reach = reach_or_identity(prob)
            self.group = _busy_group(sc, prob)

    def covered(self, teams: np.ndarray) -> np.ndarray:
        """(M, P, S) covered calls/year of ``teams`` in each held-out sample."""
        if not self.shared:
            return self.prob.coverage_by_sample(teams, holdout=True)
        cov, _ = shared_coverage_by_sample(self.prob, self.eligible, self.prob.samples.holdout,
                                           teams, self.reach, self.sc.coverage, self.group)
        return cov


def summarize(sc, prob: SampledProblem, res: SolveResult, median: SolveResult,
              expected: SolveResult | None = None, risk: RiskCertificate | None = None
              ) -> UncertaintySummary:
    """Evaluate the solved plan, the median plan (and, for CVaR, the expected plan) on the
    held-out samples of ``prob``."""
    u = sc.demand.uncertainty
    ev = Evaluator(sc, prob)
    E = ev.eligible
    c_plan = ev.covered(res.teams)
    c_med = ev.covered(median.teams)
    alpha, target = u.cvar_alpha, u.target_share
    d_plan = distribution("stochastic" if u.objective == "expected" else "cvar", prob,
                          res.teams, c_plan, E, alpha, target)
    d_med = distribution("median", prob, median.teams, c_med, E, alpha, target)
    diff = c_plan.sum(axis=(1, 2)) - c_med.sum(axis=(1, 2))
    M = diff.size
    d_exp = price = None
    if expected is not None and expected.teams is not None:
        c_exp = ev.covered(expected.teams)
        d_exp = distribution("expected", prob, expected.teams, c_exp, E, alpha, target)
        price = d_exp.expected_covered_calls - d_plan.expected_covered_calls
    med_eligible = float(prob.at_rates(prob.samples.median()).eligible_calls_per_year().sum())
    return UncertaintySummary(
        source=prob.samples.source, objective=u.objective,
        optimization_samples=prob.samples.n, evaluation_samples=prob.samples.m, seed=u.seed,
        in_sample_expected_covered_calls=float(res.objective),
        plan=d_plan, median_plan=d_med,
        median_plan_planned_covered_calls=float(median.objective),
        median_plan_planned_share=float(median.objective / med_eligible)
        if med_eligible > 0 else math.nan,
        value_of_stochastic_solution=float(diff.mean()),
        value_of_stochastic_solution_se=float(diff.std(ddof=1) / math.sqrt(M)) if M > 1
        else math.nan,
        expected_plan=d_exp, price_of_risk_calls=price, risk=risk)


# ----------------------------------------------------------------------------------------
# isolated: SAA (and CVaR)
# ----------------------------------------------------------------------------------------
def _constrained(sc) -> bool:
    """Role caps or equity floors: the constrained (fixed-point) driver solves these."""
    return sc.equity.active or bool(sc.workforce.max_headcount)


def _deterministic(sc, prob, cache: dict, start=None) -> SolveResult:
    """The scenario's isolated driver on ``prob`` (a SampledProblem: SAA; a ProblemData: one
    demand table), with the budget-independent increments kept in ``cache``.

    When no slot cap binds and the teams have at most three costs, the class-count
    enumeration (:func:`~bheard.model.stochastic.class_count_plan`) solves the model exactly
    and is its own certificate (``bound_source`` ``class_count``); otherwise the isolated
    driver (:func:`bheard.optimize.incremental.solve_problem`) runs as for one demand table."""
    if _constrained(sc):
        return solve_scenario_problem(sc, prob)
    if "increments" not in cache:
        cache["increments"] = make_increments(prob)
    inc = cache["increments"]
    t0 = time.perf_counter()
    if not diagnose_infeasibility(prob):
        lag = lagrangian_bound(prob, inc)
        eps = TIE_BREAK_REL * max(lag.value, 1.0) / max(prob.team_budget_usd_per_year, 1.0)
        exact = class_count_plan(prob, inc, eps)
        if exact is not None:
            return _enumerated(sc, prob, inc, lag, exact, eps, time.perf_counter() - t0)
    return solve_problem(prob, sc.solver, increments=inc, start_teams=start)


def _enumerated(sc, prob, inc, lag, teams: np.ndarray, eps: float, seconds: float
                ) -> SolveResult:
    """The result of an exact class-count enumeration: coverage, the bound (the plan's value
    plus the tie-break allowance ``eps x budget``) and, for reference, the LP bound ``lag``."""
    opt = sc.solver
    obj = float(prob.coverage(teams).sum())
    bound = obj + eps * prob.team_budget_usd_per_year
    report = SolverReport(termination="class-count enumeration (exact; no slot cap binds)",
                          bound_source="class_count", n_increments=inc.n,
                          n_fixed_one=int(inc.forced.sum()), lp_bound=lag.value,
                          tie_break_per_usd=eps, time_limit_s=opt.time_limit_s,
                          mip_rel_gap=opt.mip_rel_gap,
                          message="every count of teams per cost class enumerated")
    return SolveResult("optimal", teams, obj, bound, relative_gap(obj, bound), seconds, 0.0,
                       0.0, report)


#: at most this many Frank-Wolfe steps of the CVaR dual bound (each: one weighted isolated
#: problem's plan and Lagrangian bound, about 20 ms citywide)
CVAR_DUAL_STEPS = 100


def cvar_dual(prob, inc, gains: np.ndarray, E: np.ndarray, alpha: float, weight: float,
              taken: np.ndarray, steps: int = CVAR_DUAL_STEPS, rel_gap: float = 0.0):
    """Upper bound on the risk objective of every plan, and the best plan met on the way.

    For CVaR weights ``w`` in ``W`` (:func:`~bheard.model.stochastic.cvar_weights`) every plan
    has ``risk(y) <= sum_n v_n(w) share_n(y)`` (``CVaR = min_w``), the weighted expected share
    of an isolated model (:func:`~bheard.model.stochastic.weighted_increments`) whose
    Lagrangian (LP) bound is therefore a bound on the risk objective; its minimum over ``W``
    is the CVaR model's LP bound (minimax). Frank-Wolfe steps move ``w`` toward the worst
    samples of the weighted problem's LP solution; the best bound is kept, with its
    multipliers for reduced-cost fixing. Each weighted problem's greedy (or exact class-count)
    plan is a candidate incumbent. Stops after ``steps`` steps or once the incumbent is within
    ``rel_gap`` of the bound. Returns ``(bound, weighted increments, Lagrangian bound,
    incumbent mask, incumbent value)``."""
    def value(mask):
        return risk_value(gains[:, mask].sum(axis=1), E, alpha, weight)

    best_taken, best_val = taken, value(taken)
    w = cvar_weights(gains[:, taken].sum(axis=1) / E, alpha)
    best = (math.inf, None, None)
    for it in range(steps):
        inc_w = weighted_increments(inc, gains, E, risk_sample_weights(w, E, weight))
        lag = lagrangian_bound(prob, inc_w)
        if lag.value < best[0]:
            best = (lag.value, inc_w, lag)
        exact = class_count_plan(prob, inc_w)
        cand = (inc.k <= exact[inc.p, inc.s]) if exact is not None else greedy(prob, inc_w)
        v = value(cand)
        if v > best_val:
            best_taken, best_val = cand, v
        if relative_gap(best_val, best[0]) <= rel_gap:
            break
        ystar = inc.forced | (np.nan_to_num(lag.reduced, nan=0.0) > 0)
        w_fw = cvar_weights(gains[:, ystar].sum(axis=1) / E, alpha)
        w = w + 2.0 / (it + 2.0) * (w_fw - w)
    return best[0], best[1], best[2], best_taken, best_val


def solve_cvar(sc, prob: SampledProblem, expected: SolveResult, cache: dict
               ) -> tuple[SolveResult, RiskCertificate]:
    """Maximize the risk objective (``models/stochastic.md``) from the expected plan: the dual
    bound and incumbent of :func:`cvar_dual`, reduced-cost fixing against that bound (exact:
    a team whose reduced cost exceeds ``bound - incumbent`` is decided in every plan at least
    as good), and HiGHS on the CVaR model of the undecided teams unless the incumbent is
    already within ``demand.uncertainty.cvar_rel_gap`` of the bound (status ``optimal`` means
    that gap was reached).

    The result's objective is the plan's expected covered calls/year over the optimization
    samples and its bound the SAA bound on expected coverage (``expected_saa``); the risk
    objective's value, bound and gap are in the :class:`RiskCertificate`."""
    u = sc.demand.uncertainty
    opt = sc.solver
    t0 = time.perf_counter()
    inc = cache["increments"] if "increments" in cache else make_increments(prob)
    if "sample_gains" not in cache:
        cache["sample_gains"] = sample_increment_gains(
            prob.samples.rates, prob.service_time_hours, prob.weeks_per_year * prob.slot_hours,
            inc, prob.kmax)
    gains = cache["sample_gains"]
    E = prob.eligible_by_sample(holdout=False).sum(axis=(1, 2))
    alpha, lam = u.cvar_alpha, u.cvar_weight

    def value(mask):
        return risk_value(gains[:, mask].sum(axis=1), E, alpha, lam)

    start = inc.k <= np.asarray(expected.teams)[inc.p, inc.s]
    tol = u.cvar_rel_gap
    dual, inc_w, lag_w, taken, inc_val = cvar_dual(prob, inc, gains, E, alpha, lam, start,
                                                   rel_gap=tol)
    one, zero = fix_by_reduced_cost(inc_w, lag_w, inc_val)
    eps = TIE_BREAK_REL * max(inc_val, 1e-6) / max(prob.team_budget_usd_per_year, 1.0)
    report = SolverReport(bound_source="expected_saa", n_increments=inc.n,
                          n_fixed_one=int(one.sum()), n_fixed_zero=int(zero.sum()),
                          greedy_objective=expected.report.greedy_objective,
                          lp_bound=expected.report.lp_bound, tie_break_per_usd=eps,
                          time_limit_s=opt.time_limit_s, mip_rel_gap=opt.mip_rel_gap)
    chosen, rbound, status = taken, dual, "optimal"
    build_s = time.perf_counter() - t0
    translate_s = solve_s = 0.0
    termination = "risk bound (weighted Lagrangian dual) certifies the incumbent"
    if not (~(one | zero)).any():
        termination = "all teams decided by reduced-cost fixing against the risk bound"
    elif relative_gap(inc_val, dual) > tol:
        built = build_cvar_model(prob, inc, gains, E, alpha, lam, eps, one, zero)
        report.n_variables, report.n_integer = built.n_variables, built.n_integer
        build_s = time.perf_counter() - t0
        run = solve_model(built.model, built.variables, time_limit_s=opt.time_limit_s,
                          mip_rel_gap=tol, threads=opt.threads,
                          highs_options=dict(opt.highs_options), started_at=t0,
                          start_values=built.start_values(taken) if opt.warm_start else None)
        translate_s, solve_s = run.translate_seconds, run.solve_seconds
        termination = (run.solver_termination if run.termination != "error"
                       else f"solver error: {run.error}")
        report.message = ("CVaR model of the undecided teams, MIP start from the best"
                          " incumbent" if run.start_used else run.start_note)
        if run.values is not None and run.termination != "error":
            mask = one.copy()
            mask[built.read_teams(run.values)] = True
            teams_try = np.zeros(prob.shape, dtype=np.int64)
            np.add.at(teams_try, (inc.p[mask], inc.s[mask]), 1)
            cand = inc.k <= teams_try[inc.p, inc.s]  # whole teams, levels in order
            if value(cand) >= inc_val - 1e-12:
                chosen = cand
        if run.finite_bound is not None:
            rbound = min(rbound, run.finite_bound + eps * prob.team_budget_usd_per_year)
        status = plan_status(run.termination) if run.termination not in ("error",
                                                                          "infeasible") \
            else "feasible"
    teams = np.zeros(prob.shape, dtype=np.int64)
    np.add.at(teams, (inc.p[chosen], inc.s[chosen]), 1)
    val = value(chosen)
    rbound = max(rbound, val)
    rgap = relative_gap(val, rbound)
    if rgap <= tol:
        status = "optimal"
    report.termination = termination
    obj = float(prob.coverage(teams).sum())
    bound = max(float(expected.bound), obj)
    res = SolveResult(status, teams, obj, bound, relative_gap(obj, bound), build_s,
                      translate_s, solve_s, report)
    cert = RiskCertificate(alpha=alpha, weight=lam, value=val, bound=rbound, gap=rgap,
                           termination=termination)
    return res, cert


def run_stochastic(sc, data: SampledProblem, *, start=None, cache=None) -> SolveResult:
    """Registry entry (isolated coverage under demand uncertainty): the SAA plan (or the CVaR
    plan), the median plan at the same budget, both evaluated on the held-out samples."""
    cache = {} if cache is None else cache
    u = sc.demand.uncertainty
    saa = cache.setdefault("saa", {})
    res = _deterministic(sc, data, saa, start)
    if res.teams is None:
        return res
    expected = risk = None
    if u.objective == "cvar":
        expected = res
        res, risk = solve_cvar(sc, data, expected, saa)
    if "median_rates" not in cache:
        cache["median_rates"] = data.samples.median()
    median = _deterministic(sc, data.at_rates(cache["median_rates"]),
                            cache.setdefault("median", {}))
    if median.teams is not None:
        res.uncertainty = summarize(sc, data, res, median, expected, risk)
    return res


# ----------------------------------------------------------------------------------------
# shared (MEXCLP): per-sample busy probabilities
# ----------------------------------------------------------------------------------------
def _busy_group(sc, prob) -> np.ndarray:
    S = prob.shape[1]
    if sc.coverage.busy_probability_by == "tour":
        return np.unique(prob.slot_tour, return_inverse=True)[1].ravel()
    return np.arange(S)


def solve_shared_saa(sc, prob: SampledProblem) -> SolveResult:
    """The shared (MEXCLP) model over demand samples (``models/stochastic.md``): the fixed
    point of :func:`bheard.optimize.fixed_point.solve_shared` with one busy probability per
    sample and slot; the gains at each step are the sample average
    (:func:`~bheard.model.stochastic.saa_shared_gains`), the plan comes from the same
    greedy, LP bound, LP rounding, local search and HiGHS. Objective and bound refer to the
    gains of the final busy probabilities (as in the deterministic model)."""
    st, opts = sc.coverage, sc.solver
    t0 = time.perf_counter()
    report = SolverReport(time_limit_s=opts.time_limit_s, mip_rel_gap=opts.mip_rel_gap)
    name = "MEXCLP (sample average)"
    nan = math.nan
    diagnosis = diagnose_infeasibility(prob) + diagnose_roles(prob)
    if diagnosis:
        report.termination = "infeasible (bheard diagnosis, before solving)"
        return SolveResult("infeasible", None, nan, nan, nan, time.perf_counter() - t0, 0.0,
                           0.0, report, diagnosis, coverage_model=name)
    reach = reach_or_identity(prob)
    rates = prob.samples.rates
    E = prob.eligible_by_sample(holdout=False)
    N, _, S = E.shape
    group = _busy_group(sc, prob)
    rho_max = st.max_busy_probability
    served = st.busy_workload == "served"
    fixed_q = st.busy_probability is not None
    q = np.full((N, S), st.busy_probability if fixed_q else st.initial_busy_probability)
    trace: list[dict] = []
    teams = None
    G = None
    for it in range(1, st.max_iterations + 1):
        G = saa_shared_gains(prob, E, q, reach)
        teams = greedy_shared(prob, G, reach)
        if fixed_q:
            break
        counts = in_range(reach, teams)
        q_plan = shared_busy_by_sample(prob, E, rates, teams, counts, q, rho_max, group, served,
                                       G.shape[-1])
        covered = float(covered_from_counts(G, counts).sum())
        trace.append(fixed_point_trace_row(it, "greedy", q.mean(axis=0), q_plan.mean(axis=0),
                                           covered)
                     | {"max_change": float(np.max(np.abs(q_plan - q)))})
        if float(np.max(np.abs(q_plan - q))) <= st.tolerance:
            break
        q = q + step_size(st.damping, len(trace)) * (q_plan - q)
    report.greedy_objective = float(covered_from_counts(G, in_range(reach, teams)).sum())
    report.n_increments = int((G > 0).sum())
    # the final gains: LP bound, LP-rounded + local-search plan; HiGHS when the gap is above
    # mip_rel_gap (fixed_point.solve_shared's last round)
    t1 = time.perf_counter()
    h_teams, h_val, lp_bound = best_heuristic_plan(prob, G, reach)
    solve_s = time.perf_counter() - t1
    g_val = report.greedy_objective
    if h_teams is None or h_val < g_val:
        h_teams, h_val = teams, g_val
    teams, best_v = h_teams, h_val
    report.lp_bound = lp_bound
    bound, report.bound_source = lp_bound, "highs_lp"
    report.termination = "LP bound certifies the heuristic plan"
    report.message = "LP-rounded + local-search plan"
    status = "feasible"
    translate_s = 0.0
    if not math.isfinite(lp_bound) or relative_gap(best_v, lp_bound) > opts.mip_rel_gap:
        out = solve_shared_mip(prob, G, reach, teams, None,
                               time_limit_s=max(opts.time_limit_s - (time.perf_counter() - t0),
                                                0.5),
                               mip_rel_gap=opts.mip_rel_gap, threads=opts.threads,
                               highs_options=opts.highs_options, warm_start=opts.warm_start)
        translate_s = out.translate_seconds
        solve_s += out.solve_seconds
        report.termination, report.n_variables, report.n_integer = (
            out.termination, out.n_variables, out.n_integer)
        report.message = "MIP start from the heuristic plan" if out.warm else ""
        if out.teams is not None:
            v = float(covered_from_counts(G, in_range(reach, out.teams)).sum())
            if v >= best_v - 1e-9 * max(abs(best_v), 1.0):
                teams, best_v = out.teams, v
        status = out.status if out.status not in ("infeasible", "error") else "feasible"
        if math.isfinite(out.bound) and (not math.isfinite(bound) or out.bound < bound):
            bound, report.bound_source = out.bound, "highs_mip"
    counts = in_range(reach, teams)
    covered = covered_from_counts(G, counts)
    obj = float(covered.sum())
    # levels cut by LEVEL_TOL: their largest possible contribution goes into the bound
    cap = max_in_range(prob, reach)
    L = G.shape[-1]
    tail = float((E * q[:, None, :] ** L * (cap > L)[None]).sum(axis=(1, 2)).mean())
    bound = max(bound + tail, obj) if math.isfinite(bound) else nan
    report.mip_bound = bound if report.bound_source == "highs_mip" else nan
    gap = relative_gap(obj, bound) if math.isfinite(bound) else math.inf
    converged = True
    q_plan = q
    if not fixed_q:
        q_plan = shared_busy_by_sample(prob, E, rates, teams, counts, q, rho_max, group, served,
                                       L)
        change = float(np.max(np.abs(q_plan - q)))
        converged = change <= st.tolerance
        trace.append(fixed_point_trace_row(len(trace) + 1, "final", q.mean(axis=0),
                                           q_plan.mean(axis=0), obj) | {"max_change": change})
    if status in ("feasible", "time_limit_feasible") and gap <= opts.mip_rel_gap:
        status = "optimal"
    own = covered_from_counts(G, teams)
    fp = FixedPointReport(
        busy_probability=[float(v) for v in q.mean(axis=0)],
        busy_probability_from_plan=[float(v) for v in q_plan.mean(axis=0)],
        iterations=len(trace), converged=bool(converged),
        final_change=(trace[-1]["max_change"] if trace else 0.0), tolerance=st.tolerance,
        damping=st.damping, levels=int(L), trace=trace)
    return SolveResult(status, teams, obj, bound, gap,
                       time.perf_counter() - t0 - translate_s - solve_s, translate_s, solve_s,
                       report, coverage_model=name, covered=covered, own_covered=own,
                       teams_in_range=counts, fixed_point=fp)


def run_stochastic_shared(sc, data: SampledProblem, *, start=None, cache=None) -> SolveResult:
    """Registry entry (shared coverage under demand uncertainty): the SAA plan of
    :func:`solve_shared_saa`, the median plan (the deterministic shared driver at the median
    demand), both evaluated on the held-out samples at their own busy probabilities."""
    cache = {} if cache is None else cache
    res = solve_shared_saa(sc, data)
    if res.teams is None:
        return res
    if "median_rates" not in cache:
        cache["median_rates"] = data.samples.median()
    median = solve_scenario_problem(sc, data.at_rates(cache["median_rates"]))
    if median.teams is not None:
        res.uncertainty = summarize(sc, data, res, median)
    return res


__all__ = ["run_stochastic", "run_stochastic_shared", "solve_cvar", "solve_shared_saa",
           "summarize", "distribution", "Evaluator"]
