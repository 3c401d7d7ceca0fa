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
    CountValues,
    Ramp,
    aggregate_applies,
    best_greedy,
    build_buildout_model,
    check_ramp,
    column_lp,
    count_caps,
    count_values,
    count_values_from,
    diagnose,
    improve_counts,
    ramp_from_counts,
    ramp_from_teams,
    ramp_value,
    round_counts,
)
from bheard.model.hypercube import (
    busy_group,
    equivalent_load,
    frozen_gains,
    plan_busy,
    preferences,
)
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
        load = equivalent_load(_own_state(sc, prob, steady.teams, pref))
    G = frozen_gains(prob, pref, load)
    return CoverageGains(G, reach, "local busy probabilities (approximate hypercube) at the"
                                   " steady state's plan, frozen per precinct-slot")


#: coverage.mode -> gains of that coverage model for the buildout (see module docstring)
GAINS: dict[str, Callable[..., CoverageGains]] = {
    "isolated": isolated_buildout_gains,
    "shared": shared_buildout_gains,
}


def isolated_own_coverage(sc, prob: ProblemData, teams: np.ndarray) -> np.ndarray:
    """(P, S) covered calls/year of a slot plan at its OWN carried-over load (the isolated
    model as the steady-state solve reports a plan)."""
    teams = np.asarray(teams, dtype=np.int64)
    return dataclasses.replace(prob, carry_share=prob.carry_share_of(teams)).coverage(teams)


def _own_state(sc, prob: ProblemData, teams: np.ndarray, pref=None):
    """A slot plan's own local busy probabilities (:func:`plan_busy`, the scenario's
    busy-probability groups)."""
    if pref is None:
        pref = preferences(reach_or_identity(prob), prob.travel_min, prob.service_time_hours)
    return plan_busy(prob, pref, np.asarray(teams, dtype=np.int64),
                     busy_group(prob, sc.coverage.busy_probability_by))


def shared_own_coverage(sc, prob: ProblemData, teams: np.ndarray) -> np.ndarray:
    """(P, S) covered calls/year of a slot plan at its OWN local busy probabilities (the
    approximate hypercube of the plan, as the steady-state solve reports a plan)."""
    return _own_state(sc, prob, teams).covered


#: coverage.mode -> a slot plan's coverage at its own state (its own carried-over load or
#: busy probabilities): what each period's teams would deliver by the steady-state model's
#: own account, the check of the gains frozen at the steady-state plan's state
OWN_COVERAGE: dict[str, Callable[..., np.ndarray]] = {
    "isolated": isolated_own_coverage,
    "shared": shared_own_coverage,
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
    count_bound = nan
    if kind == "full" and heuristics:
        # the count relaxation (models/buildout.md): its MIP's bound certifies the full
        # model, and its team counts, placed by the full MIP at fixed counts, are a ramp
        t_c = time.perf_counter()
        relax = count_relaxation(data, opts, best, seconds=max(
            opts.time_limit_s - (t_c - t0), 0.0))
        solve_s += time.perf_counter() - t_c
        if relax is not None:
            count_bound = relax.bound
            for name, ramp in relax.ramps:
                best = _better(data, best, ramp, steps, name)
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

    def without_mip(status: str, bound: float, source: str, termination: str,
                    note: str = "") -> BuildoutSolve:
        """The best heuristic ramp, certified by ``bound`` alone (no full MIP)."""
        report.termination, report.bound_source, report.lp_bound = termination, source, bound
        report.message = "; ".join([_KIND[kind]] + ([", ".join(steps)] if steps else [])
                                   + ([note] if note else []))
        return BuildoutSolve(status, best, b_val, max(bound, b_val), relative_gap(b_val, bound),
                             report, [], g_val,
                             time.perf_counter() - t0 - translate_s - solve_s, translate_s,
                             solve_s)

    if best is not None and math.isfinite(count_bound) and relative_gap(
            b_val, count_bound) <= opts.mip_rel_gap:
        return without_mip("optimal", count_bound, "count_relaxation",
                           "count relaxation bound certifies the heuristic ramp")
    if best is not None and math.isfinite(lp_bound) and relative_gap(
            b_val, lp_bound) <= opts.mip_rel_gap:
        return without_mip("optimal", lp_bound, "highs_lp",
                           "LP bound certifies the heuristic ramp")
    if (best is not None and math.isfinite(count_bound)
            and opts.time_limit_s - (time.perf_counter() - t0) < FULL_MIP_MIN_S):
        # no time left for the full MIP to improve on the count relaxation's certificate
        return without_mip("time_limit_feasible", count_bound, "count_relaxation",
                           "time limit reached before the full MIP",
                           f"no full MIP: less than {FULL_MIP_MIN_S:g} s of"
                           " solver.time_limit_s left; the ramp is certified by the count"
                           " relaxation's bound only")
    t1 = time.perf_counter()
    built = build_buildout_model(data, eps, kind=kind,
                                 count_vars=count_vars or (kind == "full" and heuristics),
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
    ramp = _read_ramp(data, built, run.values) if run.values is not None else None
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
    if math.isfinite(count_bound) and not count_bound >= bound:
        bound, report.bound_source = count_bound, "count_relaxation"
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

#: The count relaxation may use all of ``solver.time_limit_s`` that is left: its MIP stops at
#: its own gap, and only the time left after the placement goes to the full MIP. The count
#: MIP is the better bound engine (on the shipped ramp HiGHS on the full MIP reaches 1.3e-3
#: in 60 s, the count MIP 2.5e-4 in 30 s).
#: The column LPs' values may use at most this share of the count relaxation's time (0.3 s of
#: 60 on the shipped ramp; per-period gains on day-and-tour columns multiply the LPs)
VALUES_SHARE = 0.5
#: Time kept for the placement at fixed counts: this share of the count relaxation's time,
#: at least PLACE_MIN_S seconds (it took 1.3 s on the shipped ramp)
PLACE_SHARE = 0.1
PLACE_MIN_S = 3.0
#: the count MIP's gap as a share of ``solver.mip_rel_gap``: the rest is left for what
#: placing whole teams at those counts, nested over periods, loses (a tuning choice: on the
#: shipped ramp placing loses 2.5e-4 of the value, measured 2026-11-30; when the total gap is
#: not met the full MIP runs, so a worse case costs time, never correctness)
COUNT_GAP_SHARE = 0.5


@dataclass
class CountRelaxation:
    """What :func:`count_relaxation` found: its certified bound on the full model (calls over
    the horizon; nan if none), and ramps worth keeping (name, ramp)."""

    bound: float
    counts: np.ndarray | None
    ramps: list


def count_relaxation_values(data: BuildoutData, threads: int | None = None,
                            deadline: float | None = None) -> CountValues | None:
    """Each (period, column)'s upper value per team count: the column LP's value
    ``Phi_tc(m)`` (:func:`bheard.model.buildout.column_lp`) for every count from the floor's to
    :func:`~bheard.model.buildout.count_caps`, one HiGHS instance per distinct (gains, floor)
    column solving the counts in turn from the previous basis. None if an LP fails or the
    ``deadline`` (a ``time.perf_counter()`` value) passes first."""
    from bheard.solver import LpFamily

    T, _, C = data.shape
    hi = count_caps(data)
    floor = data.floor_path()
    groups: dict = {}
    for t in range(T):
        for c in range(C):
            key = (c, data.gains[t, :, c].tobytes(), floor[t, :, c].tobytes())
            groups.setdefault(key, []).append((t, c))
    values = {}
    for members in groups.values():
        t, c = members[0]
        lp = column_lp(data, t, c)
        fam = LpFamily(lp, threads=threads)
        lo = int(floor[t, :, c].sum())
        top = max(int(hi[tt, cc]) for tt, cc in members)
        row_hi = lp.row_hi.copy()
        vals: list[float] = []
        for m in range(lo, top + 1):
            if deadline is not None and time.perf_counter() > deadline:
                return None
            row_hi[-1] = m
            run = fam.solve(lp.c, lp.col_lo, lp.col_hi, lp.row_lo, row_hi,
                            time_limit_s=COLUMN_LP_LIMIT_S)
            if run.termination != "optimal" or run.objective is None:
                return None
            vals.append(max(float(run.objective), vals[-1] if vals else -math.inf))
            if len(vals) > 1 and vals[-1] - vals[-2] <= 1e-12 * max(1.0, abs(vals[-1])):
                break  # saturated: more teams add nothing (the value function is concave)
        v = np.asarray(vals)
        for tt, cc in members:
            values[(tt, cc)] = v
    return count_values_from(data, values, hi)


#: least time the full MIP is started with after the count relaxation, seconds (building
#: and translating it alone takes about 1 s on 78 x 3 x 12)
FULL_MIP_MIN_S = 5.0

#: time limit of one column LP, seconds
COLUMN_LP_LIMIT_S = 10.0


def count_relaxation(data: BuildoutData, opts, best: Ramp | None, *, seconds: float
                     ) -> CountRelaxation | None:
    """The count relaxation (``models/buildout.md``): the team counts per (period, column)
    with every coupling row (staff, hires, budgets, ramp limits, no reductions on counts),
    each (period, column) valued at its column LP's value ``Phi_tc`` (concave: sorted
    increments, as in the aggregated formulation). Every ramp's counts are feasible there
    and its coverage is at most ``Phi``, so the count MIP's bound bounds the full model.
    Steps: the values; heuristic counts (``best``'s counts, improved by local search, and
    the count LP rounded); the count MIP from the best of them to half the gap; the
    full MIP at the count MIP's counts (a placement problem per column, nested over periods),
    which gives a ramp. None when there is no time or an LP fails."""
    t0 = time.perf_counter()
    if seconds <= 0:
        return None
    cv = count_relaxation_values(data, opts.threads,
                                 deadline=t0 + VALUES_SHARE * seconds)
    if cv is None:
        return None
    T, _, C = data.shape
    starts = []
    if best is not None:
        starts.append(improve_counts(data, cv, np.asarray(best.teams).sum(axis=1)))
    lp = build_buildout_model(data, 0.0, kind="aggregate", relax=True, values=cv)
    run = solve_model(lp.model, lp.variables, threads=opts.threads,
                      time_limit_s=max(seconds - (time.perf_counter() - t0), LP_MIN_TIME_S))
    bound = float(run.objective) if run.termination == "optimal" else math.nan
    if run.termination == "optimal" and run.values is not None:
        M = round_counts(data, cv, np.asarray(run.values[:T * C]).reshape(T, C))
        if M is not None:
            starts.append(M)
    value = cv.total
    start = max(starts, key=value) if starts else None
    left = seconds - (time.perf_counter() - t0) - max(PLACE_SHARE * seconds, PLACE_MIN_S)
    counts = start
    if left > 0:
        mip = build_buildout_model(data, 0.0, kind="aggregate", values=cv)
        run = solve_model(mip.model, mip.variables, threads=opts.threads,
                          time_limit_s=left,
                          mip_rel_gap=COUNT_GAP_SHARE * opts.mip_rel_gap,
                          started_at=time.perf_counter(),
                          start_values=mip.start_counts(start) if start is not None else None)
        if run.finite_bound is not None and not run.finite_bound >= bound:
            bound = float(run.finite_bound)
        if run.values is not None:
            M = mip.read_counts(run.values)
            if counts is None or value(M) > value(counts):
                counts = M
    ramps = []
    left = seconds - (time.perf_counter() - t0)
    if counts is not None:
        ramp = place_counts(data, opts, counts, seconds=max(left, PLACE_MIN_S))
        if ramp is not None:
            ramps.append(("count relaxation's counts placed by the MIP", ramp))
    return CountRelaxation(bound, counts, ramps)


def place_counts(data: BuildoutData, opts, counts: np.ndarray, *, seconds: float
                 ) -> Ramp | None:
    """The best ramp with these team counts (T, C): the full MIP with the counts fixed (the
    coupling rows are then fixed too; what is left is where each column's teams go, nested
    over the periods), to a quarter of the gap within ``seconds``. None if none is found."""
    counts = np.asarray(counts, dtype=np.int64)
    built = build_buildout_model(data, 0.0, kind="full", count_vars=True,
                                 count_bounds=(counts, counts))
    run = solve_model(built.model, built.variables, threads=opts.threads,
                      time_limit_s=seconds, mip_rel_gap=opts.mip_rel_gap / 4)
    if run.values is None:
        return None
    return _read_ramp(data, built, run.values)


def _read_ramp(data: BuildoutData, built, values: np.ndarray) -> Ramp | None:
    """The ramp of a MIP solution: its own hires and headcount when they pass the checks
    (to 1e-6), else the same teams with the smallest headcount path; None if neither does."""
    ramp = built.read_teams(values)
    if check_ramp(data, ramp, tol=1e-6):
        ramp = ramp_from_teams(data, ramp.teams)  # same teams, smallest headcount path
    return None if check_ramp(data, ramp, tol=1e-6) else ramp


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
    "OWN_COVERAGE",
    "BuildoutSolve",
    "isolated_buildout_gains",
    "shared_buildout_gains",
    "solve_buildout",
    "tail_search",
]
