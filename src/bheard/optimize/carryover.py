"""Isolated coverage with calls carried over tour changes: a short fixed point around the exact
isolated driver (:mod:`bheard.optimize.incremental`).

With the "post" handover (``dispatch.handover``, ``models/dispatch.md``) a call still in service
when a tour ends keeps its post busy only if the post continues into the next tour; a post that
ends is relieved by overtime and burdens nobody. The load a slot's teams carry therefore depends
on how many teams the previous slot had at the same precinct
(:meth:`bheard.problem.slots.ProblemData.carry_share_of`), which couples neighbouring slots.
This driver fixes that share, solves the (separable, exactly solved) isolated model, recomputes
the share from the plan, and repeats until the plan's own share is the one it was solved with.
The plan is then optimal for its own carried-over load; otherwise its status says why not and
its coverage is evaluated at its own share.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from bheard.model.isolated import make_increments
from bheard.optimize.incremental import solve_problem
from bheard.problem.slots import ProblemData
from bheard.results import SolveResult

#: exact solves at most (the share usually settles in 2-4)
MAX_CARRY_ITERATIONS = 8
#: default tolerance: the share has settled when the plan's coverage at its own share and at
#: the share it was solved with differ by at most this share of the eligible calls (callers
#: pass the scenario's coverage.tolerance)
CARRY_TOLERANCE = 0.01


def carryover_fixed_point(data, solve, *, start_teams=None,
                          time_limit_s: float | None = None,
                          tolerance: float = CARRY_TOLERANCE) -> SolveResult:
    """Solve ``data`` (slot or hourly problem data with ``carry_share`` and
    ``carry_share_of``) at the plan's own carried-over share: ``solve(data_with_share,
    start_teams, time_left_s)`` is the exact driver at a fixed share (see module docstring).

    The share is updated by successive averages (plans can alternate between two shares);
    the fixed point has converged when the plan's coverage at its own share and at the share
    it was solved with differ by at most ``tolerance`` of the eligible calls (the scenario's
    ``coverage.tolerance``, the calls-weighted measure of the shared fixed point). The
    objective is the coverage at the plan's own share; the bound and gap certify the model at
    the share used; the status is ``optimal`` only if the driver's was and the share settled.
    The result carries the plan's own share (``SolveResult.carry_share``).
    """
    t0 = time.perf_counter()
    share = None  # first solve: every carried-over call stays (the full lagged load)
    res = None
    converged = False
    total = float(np.sum(data.eligible_calls_per_year()))
    k = 0
    diff = 0.0
    prev = prev_share = None
    prev_diff = np.inf
    for k in range(1, MAX_CARRY_ITERATIONS + 1):
        left = None if time_limit_s is None else max(time_limit_s - (time.perf_counter() - t0),
                                                     0.5)
        res = solve(dataclasses.replace(data, carry_share=share), start_teams, left)
        if res.teams is None:
            return res
        if prev is not None and not np.isfinite(res.gap) and np.isfinite(prev.gap):
            # out of time: keep the last certified solve
            res, share, diff = prev, prev_share, prev_diff
            converged = diff <= tolerance
            break
        used = dataclasses.replace(data, carry_share=share)
        new = data.carry_share_of(res.teams)
        own = dataclasses.replace(data, carry_share=new)
        diff = float(np.abs(own.coverage(res.teams) - used.coverage(res.teams)).sum()) / max(
            total, 1e-300)
        if diff <= tolerance or (share is not None and np.allclose(new, share)):
            converged = True
            break
        if time_limit_s is not None and time.perf_counter() - t0 >= time_limit_s:
            break
        prev, prev_share, prev_diff = res, share, diff
        base = np.ones(new.shape) if share is None else share
        share = base + (new - base) / k  # successive averages: 1, 1/2, 1/3, ...
        start_teams = res.teams
    new = data.carry_share_of(res.teams)
    final = dataclasses.replace(data, carry_share=new)
    covered = final.coverage(res.teams)
    if np.shape(covered) == np.shape(res.teams):
        res.covered = covered
    res.carry_share = new
    res.objective = float(covered.sum())
    # the bound and the gap certify the model at the share solved with (the objective differs
    # from that model's value by at most the tolerance); a bound below the plan's own coverage
    # is raised to it
    if np.isfinite(res.bound):
        res.bound = max(res.bound, res.objective)
    if time_limit_s is not None:  # the limit asked for, not the time left for the last solve
        res.report.time_limit_s = time_limit_s
    if not converged:
        if res.status == "optimal":
            res.status = "feasible"
        res.report.message = ((res.report.message + "; ") if res.report.message else "") + (
            f"the share of calls carried over tour changes did not settle after {k} solves"
            f" (coverage at the plan's own share and at the share it was solved with differ"
            f" by {diff:.4f} of the calls > {tolerance}); coverage is evaluated at the"
            " plan's own share, optimality is not proven for it")
    return res


def solve_with_carryover(prob: ProblemData, options, *, start_teams=None,
                         cache: dict | None = None,
                         tolerance: float = CARRY_TOLERANCE) -> SolveResult:
    """The isolated slot model at the plan's own carried-over share (see module docstring).

    ``cache`` (a frontier's) keeps the increments of each share tried, keyed by its bytes.
    """
    def solve(p, start, left):
        opts = options if left is None or options is None else options.model_copy(
            update={"time_limit_s": max(left, 1.0)})
        inc = None
        if cache is not None:
            key = ("increments", None if p.carry_share is None else p.carry_share.tobytes())
            inc = cache.get(key)
            if inc is None:
                inc = cache[key] = make_increments(p)
        return solve_problem(p, opts, increments=inc, start_teams=start)

    return carryover_fixed_point(prob, solve, start_teams=start_teams,
                                 time_limit_s=None if options is None else options.time_limit_s,
                                 tolerance=tolerance)


__all__ = ["solve_with_carryover", "carryover_fixed_point", "MAX_CARRY_ITERATIONS",
           "CARRY_TOLERANCE"]
