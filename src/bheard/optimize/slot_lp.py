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

from bheard.model.base import (
    Preferences,
    best_class_totals,
    in_range,
    scatter,
    slot_in_range,
    slot_scatter,
)
from bheard.model.shared import slot_lp_groups, slot_lp_vectors
from bheard.problem.slots import ProblemData

#: at most this many price evaluations (each solves every slot's LP once)
MAX_SWEEPS = 14
#: stop when the price search has closed the bound to this share of the target gap
GAP_SHARE = 0.5
#: worker threads of a price sweep, each solving a contiguous run of slots with its own HiGHS
#: instance (highspy releases the GIL while it solves: measured 1.7x on this 2-core machine,
#: 2026-11-30). Fixed rather than the machine's core count, so that every machine splits the
#: slots alike and returns the same LP solutions; on one core the two take turns
SWEEP_WORKERS = 2


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
                   threads: int | None = None, price_from: np.ndarray | None = None,
                   round_value=None) -> SlotPricedLp:
    """Minimise ``Phi`` over the budget price (module docstring) until the bound is within
    ``GAP_SHARE * rel_gap`` of ``plan_value`` or the price is bracketed to its optimum.
    ``price_from``: the plan whose best next team gives the first price (default ``plan``;
    a greedy plan's stopping ratio is the better start). ``round_value``: a function giving
    the covered calls/year of a plan rounded from a budget-feasible sweep's (P, S) teams;
    when a sweep fits the budget and its bound is not yet within reach of ``plan_value``,
    the rounded plan's value raises ``plan_value`` (one rounding costs well under a second
    at 2000x168, a sweep 6-14 s; measured 2026-11-30: the first sweep's bound was within
    2e-5 of the final plan, but 1e-3 above the greedy plan it was compared with).

    The search keeps a bracket ``[lo, hi]`` with spend(lo) >= B >= spend(hi) (spend: USD/year
    of the slot LPs' teams) and steps to where the two supporting lines of ``Phi`` cross
    (a one-dimensional cutting plane, safeguarded by bisection); ``Phi`` at that crossing
    bounds ``min Phi`` from below, so the search also knows when more price steps cannot
    lower the bound any further.
    """
    from concurrent.futures import ThreadPoolExecutor

    from bheard.solver import LpFamily

    t0 = time.perf_counter()
    P, S = prob.shape
    cost = prob.team_cost_per_year()
    B = float(prob.team_budget_usd_per_year)
    groups = slot_lp_groups(prob, G, pref)
    # each group's slots in SWEEP_WORKERS contiguous runs, one HiGHS instance a run (each
    # starts from the previous slot's basis of its own run)
    runs = [(g, k, chunk) for g in groups
            for k, chunk in enumerate(np.array_split(g.slots, min(SWEEP_WORKERS,
                                                                   len(g.slots))))]
    fams = [LpFamily(g.base, threads=threads) for g, _, _ in runs]
    out = SlotPricedLp("optimal", float("inf"), float("nan"), None)
    best_feasible = (float("inf"), None)  # (Phi, teams) at a price whose LP fits the budget

    def sweep(lam: float):
        X = np.zeros((P, S))
        obj = np.zeros(S)

        def solve_run(r):
            (g, _, chunk), fam = runs[r], fams[r]
            for s in chunk.tolist():
                left = time_limit_s - (time.perf_counter() - t0)
                run = fam.solve(*slot_lp_vectors(prob, G, g, s, lam), time_limit_s=left)
                if run.termination != "optimal":
                    return run.solver_termination
                obj[s] = run.objective
                X[:, s] = run.values[:P]
            return ""

        with ThreadPoolExecutor(max_workers=SWEEP_WORKERS) as pool:
            why = [w for w in pool.map(solve_run, range(len(runs))) if w]
        if why:
            return None, why[0]
        total = (lam * B if math.isfinite(B) else 0.0) + float(obj.sum())
        spend = float((cost * X.sum(axis=0)).sum())
        return (total, spend, X), ""

    known = [plan_value]  # the best plan value known, covered calls/year

    def record(lam, res):
        nonlocal best_feasible
        total, spend, X = res
        out.sweeps.append({"price_per_usd": lam, "bound": total, "spend_usd": spend})
        if total < out.bound:
            out.bound, out.price_per_usd = total, lam
        if (not math.isfinite(B) or spend <= B * (1 + 1e-9)) and total < best_feasible[0]:
            best_feasible = (total, X)
            if round_value is not None and not done():
                v = float(round_value(X))
                known[0] = v if not math.isfinite(known[0]) else max(known[0], v)

    def done() -> bool:
        if math.isfinite(known[0]) and out.bound < math.inf:
            return (out.bound - known[0]) <= GAP_SHARE * rel_gap * max(abs(out.bound), 1.0)
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


# ----------------------------------------------------------------------------------------
# slot counts: the budget's integrality gap, closed by enumerating teams per cost class
# ----------------------------------------------------------------------------------------
#: first windows of slot LPs: this many teams either side of the LP's team count per slot
COUNT_WINDOW = 2
#: at most this many rounds of widening the windows
COUNT_ROUNDS = 8
#: slot counts are enumerated up to this many distinct team costs (3: a grid of the totals
#: of two classes, the third filling what the budget leaves; as the isolated class counts)
MAX_COUNT_CLASSES = 3
#: ... and up to this many grid points
MAX_COUNT_POINTS = 4_000_000


@dataclass
class SlotCounts:
    """Outcome of :func:`slot_count_plan`: an upper bound (calls/year) on every plan at the
    gains ``G`` (valid when status is ``optimal``: every slot LP of a round solved; a later
    round cut short by the time limit leaves the last finished round's bound and plan), the
    best plan found and its covered calls/year at ``G``, the number of slot LPs solved and the
    final windows (per slot, the counts whose slot LP was solved)."""

    status: str
    bound: float
    teams: np.ndarray | None
    value: float
    n_lp: int = 0
    rounds: int = 0
    windows: list = field(default_factory=list)


def slot_counts_apply(prob: ProblemData, floors=None) -> bool:
    """Whether the slots are coupled by the budget alone (no equity floors, no role caps), the
    budget is finite, every team costs something and there are at most
    :data:`MAX_COUNT_CLASSES` distinct team costs."""
    cost = prob.team_cost_per_year()
    roles = prob.role_cap is not None and bool(np.isfinite(prob.role_cap).any())
    return (not roles and not (floors is not None and floors.active)
            and math.isfinite(prob.team_budget_usd_per_year) and bool((cost > 0).all())
            and len(np.unique(np.round(cost, 6))) <= MAX_COUNT_CLASSES)


def concave_majorant(values: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
    """The least concave majorant of ``values`` at the points ``x`` (default 0, 1, ...,
    n-1; increasing): the upper hull, evaluated at every point; equal to ``values`` where
    they are already concave, above them elsewhere."""
    v = np.asarray(values, dtype=float)
    x = np.arange(v.size, dtype=float) if x is None else np.asarray(x, dtype=float)
    hull: list[int] = []
    for k in range(v.size):
        while len(hull) >= 2:
            i, j = hull[-2], hull[-1]
            if (v[j] - v[i]) * (x[k] - x[i]) <= (v[k] - v[i]) * (x[j] - x[i]):
                hull.pop()
            else:
                break
        hull.append(k)
    return np.interp(x, x[hull], v[hull])


def extended_bound(vals: dict[int, float], lo: int, hi: int) -> np.ndarray:
    """Upper bound on a concave, nondecreasing function ``V`` on ``lo..hi`` from its values
    ``vals`` on a window ``a..b`` (consecutive counts): ``V`` itself on the window; beyond it,
    concavity: ``V(n) <= V(b) + (n - b) (V(b) - V(b-1))`` for ``n > b`` and ``V(n) <= V(a) -
    (a - n) (V(a+1) - V(a))`` for ``n < a`` (slopes only fall); then the least concave
    majorant of the whole (:func:`concave_majorant`), so that classes merge exactly. The
    extensions are straight lines, so the majorant is that of the window and the two end
    points ``lo`` and ``hi``: the hull needs the window's points only."""
    a, b = min(vals), max(vals)
    win = np.array([vals[k] for k in range(a, b + 1)])
    xs, vs = list(range(a, b + 1)), win.tolist()
    if b < hi:
        up = max(win[-1] - win[-2], 0.0) if b > a else math.inf
        xs.append(hi)
        vs.append(win[-1] + (hi - b) * up)
    if a > lo:
        down = max(win[1] - win[0], 0.0) if b > a else 0.0
        xs.insert(0, lo)
        vs.insert(0, win[0] - (a - lo) * down)
    xs_a, vs_a = np.asarray(xs, dtype=float), np.asarray(vs, dtype=float)
    hull_v = concave_majorant(vs_a, xs_a)
    return np.interp(np.arange(lo, hi + 1, dtype=float), xs_a, hull_v)


def _class_bound_table(slots: list[int], ext: dict[int, np.ndarray], lo: np.ndarray
                       ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Best sum of the concave bounds ``ext[s]`` (on ``lo[s]..``) over ``slots`` for every
    total count: the merge of every slot's increments, largest first (exact for concave
    functions). Returns (smallest total, values by total, slot of each merged increment,
    merge order)."""
    base = float(sum(ext[s][0] for s in slots))
    inc = [np.diff(ext[s]) for s in slots]
    owner = np.concatenate([np.full(d.size, k) for k, d in enumerate(inc)]) if inc else \
        np.zeros(0, dtype=np.int64)
    d = np.concatenate(inc) if inc else np.zeros(0)
    order = np.argsort(-d, kind="stable")
    H = base + np.concatenate([[0.0], np.cumsum(d[order])])
    return int(sum(lo[s] for s in slots)), H, owner, order


def _class_plan_table(slots: list[int], low: dict[int, np.ndarray], a: np.ndarray):
    """Best sum of plan values ``low[s]`` (on ``a[s]..``, each the best plan with at most that
    many teams) over ``slots`` for every total count, by dynamic programming (the values need
    not be concave). Returns (smallest total, values by total, per-slot choices)."""
    tab = np.zeros(1)
    choice = []
    for s in slots:
        w = low[s]
        new = np.full(tab.size + w.size - 1, -np.inf)
        arg = np.zeros(new.size, dtype=np.int64)
        for k in range(w.size):
            cand = tab + w[k]
            seg = new[k:k + tab.size]
            better = cand > seg
            seg[better] = cand[better]
            arg[k:k + tab.size][better] = k
        choice.append(arg)
        tab = new
    return int(sum(a[s] for s in slots)), tab, choice


def _slot_value(G: np.ndarray, pref, s: int, col: np.ndarray) -> float:
    """Covered calls/year of slot ``s`` with the teams ``col`` (P,) at the gains ``G``."""
    c = slot_in_range(pref, s, col)
    L = G.shape[-1]
    cs = np.concatenate([np.zeros((G.shape[0], 1)), np.cumsum(G[:, s, :], axis=-1)], axis=-1)
    return float(cs[np.arange(G.shape[0]), np.minimum(c, L)].sum())


def _fill_slot(prob: ProblemData, G: np.ndarray, pref, s: int, col: np.ndarray, n: int
               ) -> np.ndarray:
    """Whole teams in slot ``s`` from ``col`` (rounded down), then the team adding the most
    covered calls until ``n`` teams (or no team adds any)."""
    P, L = G.shape[0], G.shape[-1]
    x = np.maximum(np.floor(np.asarray(col) + 1e-6).astype(np.int64), prob.min_teams[:, s])
    x = np.minimum(x, prob.max_teams[:, s])
    rows = np.arange(P)
    while int(x.sum()) < n:
        cs = slot_in_range(pref, s, x)
        nxt = np.where(cs < L, G[rows, s, np.minimum(cs, L - 1)], 0.0)
        g = slot_scatter(pref, s, nxt)
        g[x >= prob.max_teams[:, s]] = -np.inf
        j = int(np.argmax(g))
        if not g[j] > 0:
            break
        x[j] += 1
    return x


def slot_count_plan(prob: ProblemData, G: np.ndarray, pref: Preferences, centre: np.ndarray,
                    *, rel_gap: float = 1e-4, time_limit_s: float = 60.0,
                    threads: int | None = None) -> SlotCounts:
    """Bound and plan of the shared model at gains ``G`` through its team counts per slot
    (``models/shared_coverage.md``, "Slot counts"; only when :func:`slot_counts_apply`).

    With the slots coupled by the budget alone, every plan is a choice of counts ``n_s``
    (teams in slot ``s``) with ``sum_s c_s n_s <= B``, and of a plan of at most ``n_s`` teams
    in each slot. The slot LP with ``sum_j x_js <= n`` (the slot LP of
    :func:`slot_priced_lp` at price 0 and cap ``n``) has a value ``V_s(n)`` that is concave
    and nondecreasing in ``n`` (an LP's value in its right-hand side), so its values on a
    window of counts bound it everywhere (:func:`extended_bound`), and the best sum of these
    bounds over affordable counts is an upper bound on every plan: computed exactly per cost
    class (the merge of concave increments) and over the class totals (at most three costs:
    a grid). Unlike the LP relaxation of the whole model, it takes whole teams per slot, so a
    fraction of a team bought with the budget's remainder no longer counts.

    Where a slot LP's solution is integral (rounded down and refilled, its value reaches the
    LP's) it is the best plan of that slot with at most ``n`` teams; the best affordable
    combination of these plans (dynamic programming per class, a grid over class totals) is
    the incumbent. The windows start at ``centre`` (teams per slot, e.g. the LP's) +-
    :data:`COUNT_WINDOW` and widen wherever the bound's best counts fall outside them, until
    the incumbent is within ``rel_gap`` of the bound or the bound's counts are all inside.
    """
    from bheard.solver import LpFamily

    t0 = time.perf_counter()
    P, S = prob.shape
    cost = prob.team_cost_per_year()
    B = float(prob.team_budget_usd_per_year)
    lo = prob.min_teams.sum(axis=0).astype(np.int64)
    hi = prob.max_teams.sum(axis=0).astype(np.int64)
    capped = np.isfinite(prob.slot_cap)
    hi[capped] = np.minimum(hi[capped], np.floor(prob.slot_cap[capped] + 1e-9).astype(np.int64))
    out = SlotCounts("optimal", float("nan"), None, -math.inf)
    if (hi < lo).any():
        out.status = "infeasible"
        return out
    groups = slot_lp_groups(prob, G, pref)
    fam_of, group_of = {}, {}
    for g in groups:
        fam = LpFamily(g.base, threads=threads)
        for s in g.slots.tolist():
            fam_of[s], group_of[s] = fam, g
    centre = np.clip(np.rint(np.asarray(centre, dtype=float)).astype(np.int64), lo, hi)
    want = [set(range(max(lo[s], centre[s] - COUNT_WINDOW),
                      min(hi[s], centre[s] + COUNT_WINDOW) + 1)) for s in range(S)]
    up: list[dict[int, float]] = [{} for _ in range(S)]
    low: list[dict[int, float]] = [{} for _ in range(S)]
    cols: list[dict[int, np.ndarray]] = [{} for _ in range(S)]
    vals, cls = np.unique(np.round(cost, 6), return_inverse=True)
    members_of = [np.flatnonzero(cls == t).tolist() for t in range(vals.size)]
    unit = np.array([cost[m[0]] for m in members_of])
    if vals.size > 1:
        grid = math.prod(int(sum(hi[s] - lo[s] for s in m)) + 1 for m in members_of[:-1])
        if grid > MAX_COUNT_POINTS:
            out.status = "not_applicable"
            return out
    for rnd in range(1, COUNT_ROUNDS + 1):
        out.rounds = rnd
        for s in range(S):
            g = group_of[s]
            for n in sorted(want[s] - set(up[s])):
                left = time_limit_s - (time.perf_counter() - t0)
                if left <= 0:  # a finished round's bound and plan stand
                    out.status = "time_limit" if rnd == 1 else out.status
                    return out
                c, col_lo, col_hi, row_lo, row_hi = slot_lp_vectors(prob, G, g, s, 0.0)
                row_hi[-1] = float(n)
                run = fam_of[s].solve(c, col_lo, col_hi, row_lo, row_hi, time_limit_s=left)
                out.n_lp += 1
                if run.termination != "optimal":
                    if rnd == 1:
                        out.status = f"slot LP not solved ({run.solver_termination})"
                    return out
                x = _fill_slot(prob, G, pref, s, run.values[:P], n)
                v = _slot_value(G, pref, s, x)
                up[s][n] = max(float(run.objective), v)
                low[s][n], cols[s][n] = v, x
        # contiguous windows (widening may leave none; keep them consecutive)
        ext = {s: extended_bound(up[s], int(lo[s]), int(hi[s])) for s in range(S)}
        bound_tables, plan_tables, merge = [], [], []
        a = np.array([min(up[s]) for s in range(S)])
        for m in members_of:
            first, H, owner, order = _class_bound_table(m, ext, lo)
            bound_tables.append((first, H))
            merge.append((owner, order))
            lows = {s: np.maximum.accumulate(np.array([low[s][k] for k in
                                                       range(a[s], max(up[s]) + 1)]))
                    for s in m}
            pf, tab, choice = _class_plan_table(m, lows, a)
            plan_tables.append((pf, tab, choice))
        bound, totals = best_class_totals(bound_tables, unit, B)
        value, ptotals = best_class_totals([(pf, tab) for pf, tab, _ in plan_tables], unit, B)
        if not math.isfinite(bound):
            out.status = "infeasible"
            return out
        # the bound's counts per slot, and the incumbent's plan
        need = False
        for t, m in enumerate(members_of):
            owner, order = merge[t]
            k = totals[t] - bound_tables[t][0]
            taken = np.bincount(owner[order[:k]], minlength=len(m))
            for q, s in enumerate(m):
                n = int(lo[s] + taken[q])
                if n not in up[s]:
                    need = True
                    want[s] |= set(range(max(lo[s], min(n, min(up[s])) - 1),
                                         min(hi[s], max(n, max(up[s])) + 1) + 1))
        if math.isfinite(value):
            teams = np.zeros((P, S), dtype=np.int64)
            for t, m in enumerate(members_of):
                pf, tab, choice = plan_tables[t]
                idx = ptotals[t] - pf
                for q in range(len(m) - 1, -1, -1):
                    s = m[q]
                    k = int(choice[q][idx])
                    # the best plan with at most a[s] + k teams
                    seq = [low[s][n] for n in range(a[s], a[s] + k + 1)]
                    n_best = a[s] + int(np.argmax(seq))
                    teams[:, s] = cols[s][n_best]
                    idx -= k
            if value > out.value:
                out.teams, out.value = teams, value
        # every round's bound is valid (the extensions bound the counts not solved yet)
        out.bound = max(bound if not math.isfinite(out.bound) else min(out.bound, bound),
                        out.value)
        out.windows = [(int(min(up[s])), int(max(up[s]))) for s in range(S)]
        gap_ok = (out.bound - out.value) <= rel_gap * max(abs(out.bound), 1.0)
        if gap_ok or not need:
            break
    return out
