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
from bheard.model.base import Preferences, covered_from_counts, in_range
from bheard.model.equity import Floors, floors_from_scenario, meets_floors
from bheard.model.isolated import diagnose_infeasibility
from bheard.model.hypercube import (
    BusyState,
    LocalBusyModel,
    busy_group,
    preferences,
)
from bheard.model.shared import (
    build_shared_model,
    diagnose_roles,
    greedy_shared,
    improve_plan,
    isolated_gains,
    max_in_range,
    reach_or_identity,
    round_lp,
    shared_lp_arrays,
    shared_start_values,
)
from bheard.optimize.slot_lp import slot_count_plan, slot_counts_apply
from bheard.problem.slots import ProblemData
from bheard.results import EquityCost, FixedPointReport, SolveResult, SolverReport
from bheard.scenario.schema import CoverageSettings, SolverOptions
from bheard.solver import plan_status, relative_gap, solve_arrays, solve_model

#: at most this many LP solves in the fixed point (local-search iterations come first)
MAX_LP_ROUNDS = 4
#: local-search fixed-point iterations between two LP rounds
ROUND_ITERATIONS = 5
#: time limit of one LP relaxation, seconds (the LPs here take well under a second citywide)
LP_TIME_LIMIT_S = 60.0
#: precinct-slots from which the LP bound is computed slot by slot (measured: the whole LP
#: takes 7.6 s at 300x42 against 0.5 s by slot; citywide, 78 x 21, stays on the whole LP)
SLOT_LP_MIN_CELLS = 5000
#: the fixed point's cheap phase stops after this share of solver.time_limit_s, the LP rounds
#: after this share (the rest is left for the last LP bound and plan: a time limit returns
#: a plan with its gap, the fixed point reported as not converged)
PHASE1_SHARE = 0.4
LP_ROUNDS_SHARE = 0.7
#: a MIP is started only with at least this much of the time limit left, seconds, when an LP
#: bound already gives a finite gap (building a large MIP alone takes longer: 22 s at 2000x168)
MIP_MIN_S = 1.0
#: slot counts (:func:`bheard.optimize.slot_lp.slot_count_plan`) get at most this share of the
#: time left, the rest stays for HiGHS (measured citywide: 105 slot LPs, 0.17 s)
SLOT_COUNT_SHARE = 0.25
#: seconds to build a shared MIP and hand it to HiGHS, per column (measured: 22 s for the
#: 6.9 million columns of 2000x168); a MIP is not started without that much time left
MIP_BUILD_S_PER_COLUMN = 3e-6


def slot_priced(prob: ProblemData, reach, floors: Floors | None) -> bool:
    """Whether the LP bound is computed slot by slot (:mod:`bheard.optimize.slot_lp`): large
    problems (at least ``SLOT_LP_MIN_CELLS`` precinct-slots) with preference lists and no
    equity floors or role caps (those couple the slots beyond the budget)."""
    P, S = prob.shape
    roles = prob.role_cap is not None and bool(np.isfinite(prob.role_cap).any())
    return (P * S >= SLOT_LP_MIN_CELLS and S > 1 and isinstance(reach, Preferences)
            and not (floors is not None and floors.active) and not roles)


def solve_lp_relaxation(prob: ProblemData, G: np.ndarray, reach: np.ndarray,
                        floors: Floors | None, *, threads: int | None = None,
                        time_limit_s: float = LP_TIME_LIMIT_S, plan: np.ndarray | None = None,
                        plan_value: float = float("nan"), rel_gap: float = 1e-4,
                        greedy: np.ndarray | None = None):
    """LP relaxation at gains ``G``: (status, bound in calls/year, (P, S) fractional teams).

    Built from arrays and handed to HiGHS in one call (its optimal value is the certificate);
    with an equity ratio cap (binary levels, order rows) through the Pyomo model; for large
    problems without floors or role caps, slot by slot with the budget priced out
    (:func:`bheard.optimize.slot_lp.slot_priced_lp`: the same LP value, or a valid bound
    above it within ``rel_gap`` of ``plan_value``; ``greedy``: the greedy plan at ``G``, whose
    stopping ratio starts the price search, computed here when not given)."""
    if slot_priced(prob, reach, floors):
        from bheard.optimize.slot_lp import slot_priced_lp

        if greedy is None:  # its stopping ratio starts the price
            greedy = greedy_shared(prob, G, reach, floors)
        plan_value = max(float(covered_from_counts(G, in_range(reach, greedy)).sum()),
                         plan_value if math.isfinite(plan_value) else -math.inf)
        res = slot_priced_lp(prob, G, reach, plan=plan, plan_value=plan_value,
                             rel_gap=rel_gap, time_limit_s=time_limit_s, threads=threads,
                             price_from=greedy, round_value=lambda X: covered_from_counts(
                                 G, in_range(reach, round_lp(prob, G, reach, X, floors))).sum())
        if res.status != "optimal":
            return res.status, float("nan"), None
        return "optimal", float(res.bound), res.teams
    if floors is not None and floors.max_ratio is not None:
        built = build_shared_model(prob, G, reach, 0.0, floors, relax=True)
        run = solve_model(built.model, built.variables, time_limit_s=time_limit_s,
                          threads=threads)
        read = built.read_teams
    else:
        lp, xi = shared_lp_arrays(prob, G, reach, floors)
        run = solve_arrays(lp, time_limit_s=time_limit_s, threads=threads)

        def read(values):
            X = np.zeros(prob.shape)
            X[xi[:, 0], xi[:, 1]] = np.asarray(values)[:len(xi)]
            return X
    if run.termination == "infeasible":
        return "infeasible", float("nan"), None
    if run.termination != "optimal" or run.values is None:
        return run.solver_termination, float("nan"), None
    return "optimal", float(run.objective), read(run.values)


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
    if floors is not None and floors.max_ratio is not None:
        # the equity ratio cap needs binary levels in order: the Pyomo model
        built = build_shared_model(prob, G, reach, eps, floors)
        build_s = time.perf_counter() - t0
        nvar, n_int, read = built.n_variables, built.n_integer, built.read_teams
        run = solve_model(built.model, built.variables, time_limit_s=time_limit_s,
                          mip_rel_gap=mip_rel_gap, threads=threads,
                          highs_options=highs_options, started_at=t0,
                          start_values=built.start_values(start) if warm_start else None)
    else:
        # the same model as arrays, handed to HiGHS in one call (no modelling layer)
        lp, xi = shared_lp_arrays(prob, G, reach, floors, integer=True, tie_break_per_usd=eps)
        build_s = time.perf_counter() - t0
        nvar, n_int = lp.shape[1], len(xi)

        def read(values):
            X = np.zeros(prob.shape)
            X[xi[:, 0], xi[:, 1]] = np.asarray(values)[:len(xi)]
            return X
        run = solve_arrays(lp, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap,
                           threads=threads, highs_options=highs_options, started_at=t0,
                           start_values=shared_start_values(reach, xi, np.argwhere(G > 0),
                                                            start) if warm_start else None)
    translate_s, solve_s = run.translate_seconds, run.solve_seconds
    if run.termination == "error":
        return MipOutcome("error", None, float("nan"), f"solver error: {run.error}",
                          run.start_used, nvar, n_int, build_s, translate_s, solve_s)
    if run.termination == "infeasible":
        return MipOutcome("infeasible", None, float("nan"), run.solver_termination,
                          run.start_used, nvar, n_int, build_s, translate_s, solve_s)
    teams = None
    if run.values is not None:
        teams = np.rint(read(run.values)).astype(np.int64)
    bound = float("nan")
    if run.finite_bound is not None:
        # penalised bound -> coverage bound: coverage <= bound + eps * cost <= bound + eps * B
        bound = run.finite_bound + eps * prob.team_budget_usd_per_year
    status = plan_status(run.termination, has_plan=teams is not None)
    return MipOutcome(status, teams, bound, run.solver_termination, run.start_used, nvar,
                      n_int, build_s, translate_s, solve_s)


def team_busy(state: BusyState, teams: np.ndarray) -> np.ndarray:
    """(S,) mean busy probability of the plan's teams in each slot (team-weighted)."""
    x = np.asarray(teams, dtype=float)
    n = x.sum(axis=0)
    return np.where(n > 0, (state.q * x).sum(axis=0) / np.maximum(n, 1e-300), np.nan)


def fixed_point_trace_row(it: int, phase: str, state: BusyState, teams: np.ndarray,
                          change: tuple[float, float], covered_frozen: float) -> dict:
    """One row of ``FixedPointReport.trace``: iteration, phase, the plan's own busy
    probabilities (team-weighted mean; min and max over locations with teams), the largest
    change of a precinct-slot's covered share, and the plan's covered calls/year at its own
    busy probabilities and at the estimate the MIP used."""
    x = np.asarray(teams) > 0
    q = state.q[x] if x.any() else state.q.ravel()
    return {"iteration": it, "phase": phase,
            "q_mean": float(np.nanmean(team_busy(state, teams))) if x.any() else float("nan"),
            "q_min": float(np.min(q)) if q.size else float("nan"),
            "q_max": float(np.max(q)) if q.size else float("nan"),
            "mean_change": float(change[0]), "max_change": float(change[1]),
            "covered_calls": float(state.covered.sum()),
            "covered_calls_at_estimate": float(covered_frozen)}


def coverage_model_name(settings: CoverageSettings) -> str:
    """The coverage model a shared-driver solve uses, in words."""
    if settings.mode == "isolated":
        return "isolated (loss with breaks at the lagged load) with extra constraints"
    return "local busy probabilities (approximate hypercube)"


def solve_shared(prob: ProblemData, opts: SolverOptions, settings: CoverageSettings,
                 floors: Floors | None = None, busy: LocalBusyModel | None = None,
                 cheap_iterations: int | None = None) -> SolveResult:
    """Solve the shared (or constrained isolated) model into a :class:`SolveResult`.

    Local busy probabilities (``models/shared_coverage.md``): the MIP is exact at a frozen
    estimate, per precinct-slot, of the local busy probabilities
    (:func:`bheard.model.hypercube.frozen_gains`); a plan's own busy probabilities come from
    the approximate hypercube (:func:`bheard.model.hypercube.plan_busy`). The estimate is
    updated by successive averages toward the plan's own until the two give covered shares
    within ``coverage.tolerance`` (calls-weighted mean): first with the cheap planners (greedy,
    then local search from the last plan), then with the LP bound, an LP-rounded plan and
    local search; HiGHS runs only when the LP bound does not certify ``solver.mip_rel_gap``.

    The objective is the plan's coverage at its own busy probabilities; the bound and gap
    certify the MIP at the final estimate; the status is ``optimal`` only if the fixed point
    converged and the gap was met, otherwise ``feasible`` with the reason in
    ``report.message``.

    ``busy``: the local busy-probability model (default: that of ``prob`` itself); under
    demand uncertainty one block per demand sample (:mod:`bheard.optimize.stochastic`), so the
    gains are the sample average, the fixed point runs on every sample's own workload and its
    change is measured sample by sample.

    ``cheap_iterations``: first try an LP round after this many iterations of the cheap phase
    (default: the whole cheap phase, ``coverage.max_iterations``), at the gains of the updated
    estimate; if that round's plan does not converge, the rest of the cheap phase runs, then
    the usual LP rounds (the early round is not counted among them). Under demand
    uncertainty one iteration: each check of a plan's own busy probabilities runs the
    approximate hypercube on every sample (about N deterministic checks), while an LP round
    (the LP bound, slot counts and local search from the same plan, whose candidates include
    the next cheap iteration's plan) costs a fraction of one.
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
    isolated = settings.mode == "isolated"
    pref = preferences(reach, prob.travel_min, prob.service_time_hours)
    reach = pref  # the sparse form of the ranges, used by every step below
    if busy is None:
        busy = LocalBusyModel(prob, pref, busy_group(prob, settings.busy_probability_by))
    fixed = isolated or settings.busy_probability is not None
    q0 = (settings.busy_probability if settings.busy_probability is not None
          else settings.initial_busy_probability)
    trace: list[dict] = []
    q_state = None

    def gains(load):
        return isolated_gains(prob) if isolated else busy.gains(load)

    def frozen_value(G_, teams_):
        return float(covered_from_counts(G_, in_range(reach, teams_)).sum())

    def own(teams_):
        nonlocal q_state
        st_ = busy.own(teams_, q0=q_state)
        q_state = st_.stack.q
        return st_

    # the best plan checked at its own busy probabilities (covered calls/year there): when
    # the fixed point does not converge (the plans cycle), it is the plan returned
    best_own: dict = {"value": -math.inf}

    def check(phase, teams_, G_, v_frozen=None):
        """The plan's own busy probabilities, their distance from the estimate behind ``G_``,
        a trace row; keeps the best plan checked."""
        st_ = own(teams_)
        ch = busy.change(G_, st_)
        trace.append(fixed_point_trace_row(len(trace) + 1, phase, st_, teams_, ch,
                                           frozen_value(G_, teams_) if v_frozen is None
                                           else v_frozen))
        val = float(st_.covered.sum())
        if val > best_own["value"]:
            best_own.update(value=val, teams=np.array(teams_), state=st_, change=ch,
                            iteration=len(trace))
        return st_, ch

    last = {"teams": None, "k": 0}

    def update(load, st_, teams_):
        """Successive averages of the loads (steps 1, damping/1, damping/2, ...: they sum to
        infinity but shrink, so the estimate settles where plans alternate); a full step when
        the plan repeats itself (the fixed point of one plan is its own loads)."""
        same = last["teams"] is not None and np.array_equal(last["teams"], teams_)
        last["teams"] = np.array(teams_)
        last["k"] = 0 if same else last["k"] + 1
        k = last["k"]
        w = 1.0 if k <= 1 else settings.damping / (k - 1)
        return load + w * (busy.target(st_) - load)

    a = busy.initial_loads(q0)
    change = (0.0, 0.0)
    timed_out: dict = {}
    durations = {"cheap": 0.0}  # seconds of the last cheap iteration
    certified = None  # the last LP round that ended with a bound: its plan and state

    # phase 1: fixed point with the cheap planners (greedy, then local search from the last
    # plan: its constraints do not depend on the estimate, so it stays feasible)
    def iterate(teams_, a_, n_it):
        nonlocal change
        G_ = None
        for _ in range(n_it):
            t_it = time.perf_counter()
            G_ = gains(a_)
            first = teams_ is None
            start_ = greedy_shared(prob, G_, reach, floors) if first else teams_
            # the first plan is made at a guessed estimate and only shows where the workload
            # falls: local search on it (8-10 s at 2000x168) is left out
            teams_ = start_ if fixed or first else improve_plan(prob, G_, reach, start_,
                                                                floors)
            if fixed:
                break
            st_, change = check("local search", teams_, G_)
            if change[0] <= settings.tolerance:
                break
            # the estimate moves toward this plan's own loads, also when the time share
            # stops the phase: what follows (an LP round) then works at the updated estimate
            # instead of the one this plan was just measured against
            a_ = update(a_, st_, teams_)
            G_ = None
            # the next iteration is not started when, taking as long as this one, it would
            # end past the phase's share of the time limit
            now = time.perf_counter()
            durations["cheap"] = now - t_it
            if now - t0 + (now - t_it) > PHASE1_SHARE * opts.time_limit_s:
                timed_out["fixed point"] = True
                break
        return teams_, a_, (gains(a_) if G_ is None else G_)

    n_cheap = settings.max_iterations if cheap_iterations is None else min(
        cheap_iterations, settings.max_iterations)
    teams, a, G = iterate(None, a, n_cheap)
    # an early LP round after fewer cheap iterations than usual (not counted in the rounds)
    early = int(n_cheap < settings.max_iterations and not fixed
                and change[0] > settings.tolerance and not timed_out)
    report.greedy_objective = frozen_value(G, teams)
    # phase 2: the LP bound, an LP-rounded plan and local search at the current estimate;
    # re-check the fixed point; HiGHS only when the LP bound does not certify the gap
    build_s = translate_s = solve_s = 0.0
    status, bound, converged = "feasible", nan, fixed
    v = frozen_value(G, teams)
    st = None
    for rnd in range(1, MAX_LP_ROUNDS + 1 + early):
        report.n_increments = int((G > 0).sum())
        t_lp = t_round = time.perf_counter()
        greedy = greedy_shared(prob, G, reach, floors) if slot_priced(prob, reach,
                                                                     floors) else None
        lp_status, lp_bound, X = solve_lp_relaxation(
            prob, G, reach, floors, threads=opts.threads,
            time_limit_s=max(opts.time_limit_s - (t_lp - t0), 1.0), plan=teams,
            plan_value=frozen_value(G, teams), rel_gap=opts.mip_rel_gap, greedy=greedy)
        if lp_status != "optimal" and lp_status != "infeasible" and certified is not None:
            # a later round found no bound in the time left: the last certified round stands
            (teams, v, G, bound, st, change, converged, cands) = certified["state"]
            report.__dict__.update(certified["report"])
            timed_out["fixed point"] = True
            break
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
        # starts: the last plan, the LP-rounded plan and the greedy plan the slot bound's
        # search measured itself against; local search (the costly step at scale: 8-10 s a
        # call at 2000x168) runs from the best of them only
        cands = [teams] if meets_floors(G, reach, teams, floors) else []
        if X is not None:
            r = round_lp(prob, G, reach, X, floors)
            if meets_floors(G, reach, r, floors):
                cands.append(r)
        if greedy is not None:
            cands.append(greedy)
        if cands:
            vals = [frozen_value(G, c) for c in cands]
            best = improve_plan(prob, G, reach, cands[int(np.argmax(vals))], floors)
            cands.append(best)
            vals.append(frozen_value(G, best))
            teams, v = cands[int(np.argmax(vals))], max(vals)
        bound = lp_bound
        report.bound_source = "slot_lp" if slot_priced(prob, reach, floors) else "highs_lp"
        report.termination = "LP bound certifies the plan"
        report.message = "LP-rounded + local-search plan"
        if (math.isfinite(bound) and relative_gap(v, bound) > opts.mip_rel_gap
                and slot_counts_apply(prob, floors)):
            # the budget's integrality gap: whole teams per slot, counts enumerated by class
            t_sc = time.perf_counter()
            counts = slot_count_plan(
                prob, G, reach, (X if X is not None else teams).sum(axis=0),
                rel_gap=opts.mip_rel_gap, threads=opts.threads,
                time_limit_s=max(SLOT_COUNT_SHARE * (opts.time_limit_s - (t_sc - t0)), 1.0))
            solve_s += time.perf_counter() - t_sc
            if counts.teams is not None:
                v_sc = frozen_value(G, counts.teams)
                if v_sc > v + 1e-9 * max(abs(v), 1.0):
                    teams, v = counts.teams, v_sc
                    report.message = "slot-count plan"
            if counts.status == "optimal" and counts.bound < bound:
                bound, report.bound_source = counts.bound, "slot_count"
                report.termination = "slot-count bound certifies the plan"
                report.message += f" ({counts.n_lp} slot LPs by team count)"
        if fixed:
            break
        st, change = check("lp", teams, G, v)
        converged = change[0] <= settings.tolerance
        if math.isfinite(bound):
            certified = {"state": (teams, v, G, bound, st, change, converged, cands),
                         "report": dict(report.__dict__)}
        if converged or rnd == MAX_LP_ROUNDS + early:
            break
        now = time.perf_counter()
        # another round (a cheap iteration, then this round again) is not started when,
        # taking as long as the last ones, it would end past the time limit
        if (now - t0 > LP_ROUNDS_SHARE * opts.time_limit_s
                or now - t0 + (now - t_round) + durations["cheap"] > opts.time_limit_s):
            timed_out["fixed point"] = True
            break
        a = update(a, st, teams)
        # after an early round that did not converge, the rest of the cheap phase
        teams, a, G = iterate(teams, a, settings.max_iterations - n_cheap
                              if early and rnd == 1 else ROUND_ITERATIONS)
        v = frozen_value(G, teams)
    if not cands:
        teams = greedy_shared(prob, G, reach, floors)
        v = frozen_value(G, teams)
    n_cols = int((prob.max_teams > 0).sum() + (G > 0).sum())
    no_time = (opts.time_limit_s - (time.perf_counter() - t0)
               < MIP_MIN_S + MIP_BUILD_S_PER_COLUMN * n_cols) and meets_floors(
        G, reach, teams, floors)
    if no_time and (not math.isfinite(bound) or relative_gap(v, bound) > opts.mip_rel_gap):
        report.termination = "time limit reached before the MIP"
        report.message = ((report.message + "; ") if report.message else "") + (
            "solver.time_limit_s left no time to build and solve the MIP"
            f" ({n_cols:,} columns): the plan is certified by the LP bound's gap only"
            if math.isfinite(bound) else
            "solver.time_limit_s left no time for the LP bound or the MIP: no gap is proven")
    elif not meets_floors(G, reach, teams, floors) or relative_gap(v, bound) > opts.mip_rel_gap:
        out = solve_shared_mip(prob, G, reach, teams, floors,
                               time_limit_s=max(opts.time_limit_s
                                                - (time.perf_counter() - t0), 0.5),
                               mip_rel_gap=opts.mip_rel_gap, threads=opts.threads,
                               highs_options=opts.highs_options,
                               warm_start=opts.warm_start and meets_floors(G, reach, teams,
                                                                          floors))
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
            v_mip = frozen_value(G, out.teams)
            if v_mip >= v - 1e-9 * max(abs(v), 1.0) or not meets_floors(G, reach, teams,
                                                                         floors):
                teams, v = out.teams, v_mip
                if not fixed:
                    st, change = check("mip", teams, G, v)
                    converged = change[0] <= settings.tolerance
        if not meets_floors(G, reach, teams, floors):
            return SolveResult("error", None, nan, nan, nan, build_s, translate_s, solve_s,
                               report, [f"no plan meeting the equity floors was found"
                                        f" ({out.termination})"], coverage_model=model_name)
        status = out.status
        if math.isfinite(out.bound) and out.bound < bound:
            bound, report.bound_source = out.bound, "highs_mip"
    cycled = ""
    if (not fixed and not converged and st is not None and "teams" in best_own
            and best_own["value"] > float(st.covered.sum()) + 1e-9 * max(
                abs(best_own["value"]), 1.0)
            and meets_floors(G, reach, best_own["teams"], floors)):
        # the estimate and the plans did not settle: the best plan checked at its own busy
        # probabilities is returned (its gap is that of its value at the final estimate)
        teams, st, change = best_own["teams"], best_own["state"], best_own["change"]
        v = frozen_value(G, teams)
        cycled = (f"; the plan returned is the best of the {len(trace)} plans checked at"
                  f" their own busy probabilities (check {best_own['iteration']}, whose"
                  f" estimate it differs from by {change[0]:.4f} of the calls)")
    counts = in_range(reach, teams)
    if fixed:
        covered, local = covered_from_counts(G, counts), None
    else:
        covered, local = st.covered, st.q
    obj = float(covered.sum())
    obj_frozen = v
    bound = max(bound, obj_frozen) if math.isfinite(bound) else nan
    report.mip_bound = bound if report.bound_source == "highs_mip" else nan
    # the gap certifies the MIP at the final estimate (the plan's value there against the
    # bound); the objective is the plan's own coverage, within the tolerance of that value, and
    # the reported bound is raised to it when it is higher
    gap = relative_gap(obj_frozen, bound) if math.isfinite(bound) else float("inf")
    bound = max(bound, obj) if math.isfinite(bound) else nan
    if status in ("time_limit_feasible", "feasible") and gap <= opts.mip_rel_gap:
        status = "optimal"
    if not converged:
        met_gap = status == "optimal"
        status = "feasible" if met_gap else status
        msg = (f"the local busy-probability fixed point did not converge: at the final plan the"
               f" estimate the MIP used and the plan's own busy probabilities differ by"
               f" {change[0]:.4f} of the calls (> coverage.tolerance {settings.tolerance})"
               f"{' when the time limit stopped it' if timed_out else ''}"
               + ("; the plan is optimal for that estimate (the gap), not proven for its own"
                  " busy probabilities" if met_gap else ""))
        report.message = (report.message + "; " if report.message else "") + msg + cycled
    own_cov = covered_from_counts(G, np.asarray(teams))
    q_plan = team_busy(st, teams) if not fixed else np.full(S, q0)
    fp = FixedPointReport(
        busy_probability=[float(v) for v in np.nan_to_num(q_plan, nan=q0)],
        busy_probability_from_plan=[float(v) for v in np.nan_to_num(q_plan, nan=q0)],
        iterations=len(trace), converged=bool(converged), final_change=float(change[0]),
        tolerance=settings.tolerance, damping=settings.damping,
        levels=int(G.shape[-1]), trace=trace,
        objective_at_estimate=obj_frozen, initial_busy_probability=float(q0))
    result = SolveResult(status, teams, obj, bound, gap, build_s + (time.perf_counter() - t0
                         - build_s - translate_s - solve_s), translate_s, solve_s, report,
                         coverage_model=model_name, covered=covered, own_covered=own_cov,
                         teams_in_range=counts, fixed_point=None if isolated else fp,
                         local_busy=local)
    if floors is not None and floors.active:
        result.equity_cost = equity_cost(prob, G, reach, obj_frozen)
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
    mode with role caps / equity floors; the isolated model at the plan's own carried-over
    load, :mod:`bheard.optimize.carryover`)."""
    floors = floors_from_scenario(sc, prob)
    if sc.coverage.mode != "isolated":
        return solve_shared(prob, sc.solver, sc.coverage, floors)
    from bheard.optimize.carryover import carryover_fixed_point

    def solve(p, _start, left):
        opts = sc.solver if left is None else sc.solver.model_copy(
            update={"time_limit_s": max(left, 1.0)})
        return solve_shared(p, opts, sc.coverage, floors)

    return carryover_fixed_point(prob, solve, time_limit_s=sc.solver.time_limit_s,
                                 tolerance=sc.coverage.tolerance)



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


