"""The shared model's LP bound, slot by slot: the budget row priced out (Lagrangian dual).

For a budget price ``lam >= 0`` (covered calls/year per USD/year), weak duality gives, for
every plan ``x`` that fits the budget ``B``,

.. math::
    \\sum G z \\le \\Phi(\\lambda) = \\lambda B + \\sum_s V_s(\\lambda),\\qquad
    V_s(\\lambda) = \\max_{x_s, z_s} \\sum G z - \\lambda c_s \\sum_j x_{js}

over slot ``s``'s own link rows, bounds and slot cap (an LP of P rows). ``Phi`` is convex
and piecewise linear in ``lam``; its minimum is the LP relaxation's value (strong duality of
the LP), so ``min Phi`` is the same certificate as the whole LP, and every ``Phi(lam)``
evaluated on the way is a valid upper bound. The slot LPs share their matrix when the slots
share preference lists, so one HiGHS instance solves them in turn from the previous basis
(:class:`bheard.solver.LpFamily`). Role caps and equity floors are not priced: the driver
uses the whole LP when they are present (dropping them would still give a valid bound, only
a weaker one). Write-up: ``models/shared_coverage.md``, "LP bound by slot".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from bheard.model.base import Preferences, in_range, scatter
from bheard.model.shared import slot_lp_groups, slot_lp_vectors
from bheard.problem.slots import ProblemData

#: at most this many price evaluations (each solves every slot's LP once)
MAX_SWEEPS = 14
#: stop when the price search has closed the bound to this share of the target gap
GAP_SHARE = 0.5


@dataclass
class SlotPricedLp:
    """Outcome of :func:`slot_priced_lp`: the bound (calls/year, valid whenever status is
    ``optimal``: every slot LP solved), the price it was found at, the per-slot LP teams at
    the best budget-feasible price (for LP rounding) and the sweeps' trace."""

    status: str
    bound: float
    price_per_usd: float
    teams: np.ndarray | None
    sweeps: list[dict] = field(default_factory=list)


def start_price(prob: ProblemData, G: np.ndarray, reach, plan: np.ndarray | None) -> float:
    """A first budget price, covered calls/year per USD/year: the plan's best next team's
    ratio (where a greedy stops: measured within 1.3e-5 of the LP bound at 1000x84 and
    2000x168), else its cheapest team's removal ratio, or the best first team's ratio when
    there is no plan."""
    cost = prob.team_cost_per_year()
    ok = cost > 0
    if not ok.any():
        return 0.0
    L = G.shape[-1]
    per_usd = np.where(ok, 1.0 / np.where(ok, cost, 1.0), 0.0)[None, :]
    counts = in_range(reach, plan) if plan is not None else np.zeros(prob.shape, dtype=int)
    nxt = np.where(counts < L, np.take_along_axis(G, np.minimum(counts, L - 1)[..., None],
                                                   -1)[..., 0], 0.0)
    add = scatter(reach, nxt) * per_usd
    if plan is None:
        top = float(add.max())
        return top if top > 0 else 0.0
    add[plan >= prob.max_teams] = 0.0
    prev = np.where((counts > 0) & (counts <= L), np.take_along_axis(
        G, np.clip(counts - 1, 0, L - 1)[..., None], -1)[..., 0], 0.0)
    rem = scatter(reach, prev) * per_usd
    rem = rem[(plan > prob.min_teams) & ok[None, :]]
    a = float(add.max())
    r = float(rem.min()) if rem.size else 0.0
    return a if a > 0 else max(r, 0.0)


def slot_priced_lp(prob: ProblemData, G: np.ndarray, pref: Preferences, *,
                   plan: np.ndarray | None = None, plan_value: float = float("nan"),
                   rel_gap: float = 1e-4, time_limit_s: float = 60.0,
                   threads: int | None = None, price_from: np.ndarray | None = None
                   ) -> SlotPricedLp:
    """Minimise ``Phi`` over the budget price (module docstring) until the bound is within
    ``GAP_SHARE * rel_gap`` of ``plan_value`` or the price is bracketed to its optimum.
    ``price_from``: the plan whose best next team gives the first price (default ``plan``;
    a greedy plan's stopping ratio is the better start).

    The search keeps a bracket ``[lo, hi]`` with spend(lo) >= B >= spend(hi) (spend: USD/year
    of the slot LPs' teams) and steps to where the two supporting lines of ``Phi`` cross
    (a one-dimensional cutting plane, safeguarded by bisection); ``Phi`` at that crossing
    bounds ``min Phi`` from below, so the search also knows when more price steps cannot
    lower the bound any further.
    """
    from bheard.solver import LpFamily

    t0 = time.perf_counter()
    P, S = prob.shape
    cost = prob.team_cost_per_year()
    B = float(prob.team_budget_usd_per_year)
    groups = slot_lp_groups(prob, G, pref)
    fams = [LpFamily(g.base, threads=threads) for g in groups]
    out = SlotPricedLp("optimal", float("inf"), float("nan"), None)
    best_feasible = (float("inf"), None)  # (Phi, teams) at a price whose LP fits the budget

    def sweep(lam: float):
        total, spend = (lam * B if math.isfinite(B) else 0.0), 0.0
        X = np.zeros((P, S))
        for g, fam in zip(groups, fams):
            for s in g.slots.tolist():
                left = time_limit_s - (time.perf_counter() - t0)
                run = fam.solve(*slot_lp_vectors(prob, G, g, s, lam), time_limit_s=left)
                if run.termination != "optimal":
                    return None, run.solver_termination
                total += run.objective
                X[:, s] = run.values[:P]
                spend += cost[s] * float(X[:, s].sum())
        return (total, spend, X), ""

    def record(lam, res):
        nonlocal best_feasible
        total, spend, X = res
        out.sweeps.append({"price_per_usd": lam, "bound": total, "spend_usd": spend})
        if total < out.bound:
            out.bound, out.price_per_usd = total, lam
        if (not math.isfinite(B) or spend <= B * (1 + 1e-9)) and total < best_feasible[0]:
            best_feasible = (total, X)

    def done() -> bool:
        if math.isfinite(plan_value) and out.bound < math.inf:
            return (out.bound - plan_value) <= GAP_SHARE * rel_gap * max(abs(out.bound), 1.0)
        return False

    def evaluate(lam):
        if len(out.sweeps) >= MAX_SWEEPS or time.perf_counter() - t0 > time_limit_s:
            return None
        res, why = sweep(lam)
        if res is None:
            out.status = f"slot LP not solved ({why})" if not out.sweeps else out.status
            return None
        record(lam, res)
        return res

    if not math.isfinite(B):
        res = evaluate(0.0)
        out.teams = None if res is None else res[2]
        if res is None:
            out.bound = float("nan")
        return out
    lam = max(start_price(prob, G, pref, plan if price_from is None else price_from), 0.0)
    res = evaluate(lam)
    lo = hi = None  # (lam, Phi, spend): spend >= B at lo, spend <= B at hi
    while res is not None and not done():
        total, spend, _ = res
        if spend >= B:
            lo = (lam, total, spend)
        if spend <= B:
            hi = (lam, total, spend)
        if lo is not None and hi is not None and lo[0] >= hi[0]:
            break  # one price spends exactly B: it minimises Phi
        if hi is None:
            lam = lam * 2.0 if lam > 0 else 1e-12
        elif lo is None:
            if lam <= 1e-15:
                break
            lam = lam / 2.0 if lam > 1e-12 else 0.0
        else:
            # supporting lines Phi(a) + (B - spend_a)(l - a) cross at l*
            (a, fa, sa), (b, fb, sb) = lo, hi
            da, db = B - sa, B - sb  # slopes: da <= 0 <= db
            cross = a if db - da <= 0 else (fb - fa + da * a - db * b) / (da - db)
            floor_ = fa + da * (cross - a)
            if out.bound - floor_ <= GAP_SHARE * rel_gap * max(abs(out.bound), 1.0) or \
                    b - a <= 1e-12 * max(b, 1e-300):
                break
            lam = min(max(cross, a + 0.1 * (b - a)), b - 0.1 * (b - a))
        res = evaluate(lam)
    if not out.sweeps:  # no price evaluated in full: no bound
        out.status = out.status if out.status != "optimal" else "time_limit"
    if out.status != "optimal":
        out.bound = float("nan")
    out.teams = best_feasible[1]
    return out
