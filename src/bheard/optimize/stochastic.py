"""Drivers for plans under demand uncertainty (``models/stochastic.md``).

Every sample is a demand table of the one dispatch model (``models/dispatch.md``,
:meth:`bheard.problem.samples.SampledProblem.at_rates`), so a plan's coverage in a sample is
exactly what the deterministic model says of that plan at that demand.

- :func:`run_stochastic` (isolated coverage): the sample average approximation is the
  isolated driver (greedy, Lagrangian bound, reduced-cost fixing, exact class counts or
  HiGHS) run on a :class:`~bheard.problem.samples.SampledProblem`, whose coverage table is the
  sample average, inside the carried-over-load fixed point of the deterministic driver
  (:func:`bheard.optimize.carryover.carryover_fixed_point`: the plan is solved and reported at
  its own carried-over share); with role caps or equity floors, the constrained driver
  (:mod:`bheard.optimize.fixed_point`) on the same averaged gains. With ``objective: cvar``
  the expected plan is the start of the CVaR model (:func:`solve_cvar`).
- :func:`run_stochastic_shared` (shared coverage): the deterministic shared driver
  (:func:`bheard.optimize.fixed_point.solve_shared`) with a local busy-probability model of
  one block per sample (:class:`bheard.model.hypercube.LocalBusyModel`): the MIP's gains are
  the average of each sample's frozen local gains, the fixed point runs on the plan's own
  workload in every sample, and the status is ``optimal`` only when it converged (sample by
  sample) and the gap was met.

Both then solve the reference plan, optimized for the per-cell MEDIAN of the optimization
samples at the same budget with the same driver, and evaluate both plans on the held-out
samples with the same model (:func:`evaluate`): a :class:`~bheard.results.UncertaintySummary`
on the result.
"""

from __future__ import annotations

import math
import time

import numpy as np

from bheard.constants import TIE_BREAK_REL
from bheard.model.hypercube import (LocalBusyModel, block_groups, busy_group, preferences,
                                    tile_preferences)
from bheard.model.isolated import (diagnose_infeasibility, fix_by_reduced_cost, greedy,
                                   lagrangian_bound, make_increments)
from bheard.model.shared import reach_or_identity
from bheard.model.stochastic import (build_cvar_model, class_count_plan, cvar_lower,
                                     cvar_weights, risk_sample_weights, risk_value,
                                     sample_increment_gains, weighted_increments)
from bheard.optimize.carryover import carryover_fixed_point
from bheard.optimize.fixed_point import solve_scenario_problem, solve_shared
from bheard.optimize.incremental import solve_problem
from bheard.problem.samples import CHUNK, SampledProblem
from bheard.results import (CoverageDistribution, GroupDistribution, RiskCertificate,
                            SolveResult, SolverReport, UncertaintySummary)
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


def sample_busy_model(prob: SampledProblem, settings, rates: np.ndarray) -> LocalBusyModel:
    """The local busy-probability model of the demand samples ``rates`` (n, P, S) side by
    side (:meth:`~bheard.problem.samples.SampledProblem.stacked`): the deterministic model of
    each sample in one block."""
    n = rates.shape[0]
    pref = preferences(reach_or_identity(prob), prob.travel_min, prob.service_time_hours)
    return LocalBusyModel(prob.stacked(rates, travel=False), tile_preferences(pref, n),
                          block_groups(busy_group(prob, settings.busy_probability_by), n),
                          blocks=n)


class Evaluator:
    """Per-sample coverage of plans on the held-out samples of a problem, under the
    scenario's coverage model, exactly as the deterministic model reports a plan at each
    sample's demand: isolated, :meth:`~bheard.problem.slots.ProblemData.coverage` at the
    plan's own carried-over share; shared, the plan's own local busy probabilities in that
    sample (:func:`bheard.model.hypercube.plan_busy`)."""

    def __init__(self, sc, prob: SampledProblem, holdout: bool = True):
        self.sc, self.prob, self.holdout = sc, prob, holdout
        self.rates = prob.samples.holdout if holdout else prob.samples.rates
        self.eligible = prob.eligible_by_sample(holdout=holdout)
        self.shared = sc.coverage.mode == "shared"

    def covered(self, teams: np.ndarray) -> np.ndarray:
        """(M, P, S) covered calls/year of ``teams`` in each held-out sample."""
        if not self.shared:
            return self.prob.coverage_by_sample(teams, holdout=self.holdout)
        out = np.empty(self.rates.shape)
        M = self.rates.shape[0]
        step = 4 * CHUNK
        for a in range(0, M, step):
            n = min(step, M - a)
            model = sample_busy_model(self.prob, self.sc.coverage, self.rates[a:a + n])
            out[a:a + n] = model.covered_by_block(teams)
        return out


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
    if "increments" not in cache:
        cache["increments"] = make_increments(prob)
    inc = cache["increments"]
    if "sample_gains" not in cache:
        cache["sample_gains"] = sample_increment_gains(prob, inc, prob.kmax)
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
    # the SAA bound on expected coverage at the share solved with (the Lagrangian = LP bound)
    bound = max(float(lagrangian_bound(prob, inc).value), obj)
    res = SolveResult(status, teams, obj, bound, relative_gap(obj, bound), build_s,
                      translate_s, solve_s, report)
    cert = RiskCertificate(alpha=alpha, weight=lam, value=val, bound=rbound, gap=rgap,
                           termination=termination)
    return res, cert


def _at_own_carryover(sc, prob, solve, cache: dict) -> SolveResult:
    """``solve(problem_at_a_share, cache_for_that_share, start)`` inside the deterministic
    isolated driver's carried-over-load fixed point
    (:func:`bheard.optimize.carryover.carryover_fixed_point`): the plan is solved at its own
    carried-over share (or its status says why not) and its objective is its coverage there.
    ``cache`` keeps each share's budget-independent work."""
    if _constrained(sc):  # the constrained driver runs its own carry-over fixed point
        return solve(prob, cache, None)

    def step(p, start, left):
        key = None if p.carry_share is None else p.carry_share.tobytes()
        return solve(p, cache.setdefault(key, {}), start)

    return carryover_fixed_point(prob, step, time_limit_s=sc.solver.time_limit_s,
                                 tolerance=sc.coverage.tolerance)


def run_stochastic(sc, data: SampledProblem, *, start=None, cache=None) -> SolveResult:
    """Registry entry (isolated coverage under demand uncertainty): the SAA plan (or the CVaR
    plan), the median plan at the same budget, both at their own carried-over load and
    evaluated on the held-out samples."""
    cache = {} if cache is None else cache
    u = sc.demand.uncertainty
    res = _at_own_carryover(sc, data, lambda p, c, st: _deterministic(sc, p, c, st),
                            cache.setdefault("saa", {}))
    if res.teams is None:
        return res
    expected = risk = None
    if u.objective == "cvar":
        expected = res
        # the CVaR model at the expected plan's own carried-over share, then the CVaR plan
        # re-solved at its own share by the same fixed point
        box = {}

        def cvar(p, c, st):
            r, box["risk"] = solve_cvar(sc, p, expected, c)
            return r

        res = _at_own_carryover(sc, data, cvar, cache.setdefault("cvar", {}))
        risk = box.get("risk")
    if "median_rates" not in cache:
        cache["median_rates"] = data.samples.median()
    median = _at_own_carryover(sc, data.at_rates(cache["median_rates"]),
                               lambda p, c, st: _deterministic(sc, p, c, st),
                               cache.setdefault("median", {}))
    if median.teams is not None:
        res.uncertainty = summarize(sc, data, res, median, expected, risk)
    return res


# ----------------------------------------------------------------------------------------
# shared: local busy probabilities, one block per sample
# ----------------------------------------------------------------------------------------
#: cheap iterations of the shared driver before its first LP round under demand uncertainty
#: with two or more samples (:func:`bheard.optimize.fixed_point.solve_shared`; measured
#: citywide, 100 samples: each check of a plan's own busy probabilities takes about 1.3 s, the
#: LP round from the first estimate about 0.4 s and reaches the plan a second cheap iteration
#: would have checked; one sample keeps the deterministic driver's own schedule)
SAA_CHEAP_ITERATIONS = 1


def solve_shared_saa(sc, prob: SampledProblem) -> SolveResult:
    """The shared model over demand samples (``models/stochastic.md``): the deterministic
    shared driver (:func:`bheard.optimize.fixed_point.solve_shared`: local search, LP bound,
    LP rounding and HiGHS at frozen gains; the busy-probability fixed point; honest status)
    whose local busy-probability model has one block per optimization sample
    (:func:`sample_busy_model`). Gains: the average over samples of each sample's frozen
    local gains; a plan's own state: its local busy probabilities in every sample; the
    objective: its expected coverage over the samples at those."""
    busy = sample_busy_model(prob, sc.coverage, prob.samples.rates)
    res = solve_shared(prob, sc.solver, sc.coverage, None, busy=busy,
                       cheap_iterations=SAA_CHEAP_ITERATIONS if prob.samples.n > 1 else None)
    res.coverage_model = (res.coverage_model or "") + f" over {prob.samples.n} demand samples"
    return res


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
           "summarize", "distribution", "Evaluator", "sample_busy_model"]
