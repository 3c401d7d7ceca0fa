"""Isolated-coverage staffing model: each precinct is served only by its own teams.

Formulation (full text and proofs: ``models/isolated_coverage.md``). For precinct ``p``, slot
``s`` and team level ``k = 1..K_ps`` the incremental gain of the k-th team is

.. math:: g_{psk} = \\mathrm{cov}(p,s,k) - \\mathrm{cov}(p,s,k-1),\\quad
          \\mathrm{cov}(p,s,k) = W h_s \\lambda_{ps} (1 - B(k, \\lambda_{ps}\\tau))

(calls/year), non-increasing in ``k`` because Erlang B is convex decreasing in ``k``. With
``y_{psk} in [0,1]`` and one integer ``x_{ps} = \\sum_k y_{psk}``:

.. math::
    \\max \\sum_{psk} (g_{psk} - \\varepsilon c_s) y_{psk}
    \\;\\text{s.t.}\\; \\sum_{psk} c_s y_{psk} \\le B,\\;
    \\sum_{pk} y_{psk} \\le M_s,\\; x_{ps} = \\sum_k y_{psk},\\; x_{ps} \\in \\{m_{ps}..K_{ps}\\}

with ``c_s = W x cost per team-shift`` (USD/year). Because gains fall with ``k`` and the cost
of every level of one (p, s) is the same, an optimal solution fills ``y_{ps1}, y_{ps2}, ...`` in
order, so the model is exact with continuous ``y``.

This module holds the array side: increments, a greedy incumbent, the Lagrangian (LP) bound,
reduced-cost and exchange (count) fixing, and the Pyomo builder (:func:`build_isolated_model`).
The driver that runs them in order is :mod:`bheard.optimize.incremental`. Pyomo is imported
inside the builder only: a solve that the Lagrangian bound certifies never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bheard.constants import TIE_BREAK_REL  # noqa: F401  (re-exported for the driver)
from bheard.model.base import BuiltModel, runs
from bheard.problem.slots import ProblemData
#: up to this many distinct team costs, the MIP gets one integer count per cost class
MAX_COST_CLASSES = 24


@dataclass(frozen=True, eq=False)
class Increments:
    """One entry per candidate team (p, s, k) with positive gain, as flat arrays.

    ``forced`` marks levels k <= min_teams (always staffed). Non-forced increments are sorted
    by (p, s, k) so each precinct-slot's levels are contiguous and in order.
    """

    p: np.ndarray  # precinct index
    s: np.ndarray  # slot index
    k: np.ndarray  # team level 1..K
    gain: np.ndarray  # calls/year
    cost: np.ndarray  # USD/year (W x cost per team-shift)
    forced: np.ndarray  # bool

    @property
    def n(self) -> int:
        return len(self.p)


def make_increments(prob: ProblemData) -> Increments:
    """All (p, s, k) team levels up to ``max_teams`` with positive gain, plus forced levels.

    Levels above the minimum whose gain is zero (no demand) are left out: such a team covers
    nothing and only costs, so no optimal plan uses it. Gains are made monotone with
    ``minimum.accumulate`` against rounding (the change is at machine-precision level).
    """
    P, S = prob.shape
    K = prob.kmax
    table = prob.coverage_table(K)
    gains = np.diff(table, axis=-1)  # (P, S, K): gain of level k = 1..K
    gains = np.minimum.accumulate(np.maximum(gains, 0.0), axis=-1)
    levels = np.arange(1, K + 1)[None, None, :]
    within = levels <= prob.max_teams[..., None]
    forced = levels <= prob.min_teams[..., None]
    scale = max(float(gains.max()) if gains.size else 0.0, 1.0)
    useful = gains > 1e-12 * scale
    keep = within & (forced | useful)
    pi, si, ki = np.nonzero(keep)  # C order: sorted by p, s, k
    cost_year = prob.team_cost_per_year()
    return Increments(p=pi, s=si, k=ki + 1, gain=gains[pi, si, ki], cost=cost_year[si],
                      forced=forced[pi, si, ki])


def diagnose_infeasibility(prob: ProblemData) -> list[str]:
    """Name the constraints in conflict, or return [] when the model is feasible.

    The model's constraints are bounds ``m <= x <= K``, slot caps and the budget, all
    monotone in ``x``; so it is feasible exactly when ``x = m`` (the minimum staffing) meets
    each of them. Checking that is a complete test, and each failure names its two sides.
    """
    out: list[str] = []
    bad = np.argwhere(prob.min_teams > prob.max_teams)
    if len(bad):
        p, s = bad[0]
        out.append(
            f"{prob.min_teams_label} requires {prob.min_teams[p, s]} teams in precinct "
            f"{prob.precinct[p]} ({prob.slot_day[s]} {prob.slot_tour[s]}) but "
            f"{prob.max_teams_label} allows {prob.max_teams[p, s]}"
            + (f" ({len(bad)} precinct-slots affected)" if len(bad) > 1 else ""))
    per_slot = prob.min_teams.sum(axis=0)
    over = np.flatnonzero(per_slot > prob.slot_cap)
    for s in over[:3]:
        out.append(
            f"{prob.min_teams_label} requires {per_slot[s]} teams citywide on "
            f"{prob.slot_day[s]} {prob.slot_tour[s]} but {prob.slot_cap_label[s]} allows "
            f"{int(prob.slot_cap[s])}")
    if len(over) > 3:
        out.append(f"... and {len(over) - 3} more slots over their citywide cap")
    min_cost = prob.annual_cost(prob.min_teams)
    if min_cost > prob.team_budget_usd_per_year * (1 + 1e-12):
        out.append(
            f"{prob.min_teams_label} costs ${min_cost:,.0f}/year for its "
            f"{int(prob.min_teams.sum())} minimum team-slots but budget.annual_usd leaves "
            f"${prob.team_budget_usd_per_year:,.0f}/year for teams (after the program's fixed"
            f" cost, costs.program_staff)")
    return out


# ----------------------------------------------------------------------------------------
# greedy incumbent
# ----------------------------------------------------------------------------------------
def greedy(prob: ProblemData, inc: Increments) -> np.ndarray:
    """A feasible plan: forced levels, then increments by gain per dollar until budget/caps bind.

    Returns a bool array over increments (taken or not). Within one precinct-slot the levels
    are taken in order (same cost, non-increasing gain; equal ratios keep the (p, s, k)
    order). Vectorised:
    one sorted prefix by cumulative cost, then a short fill of whatever still fits.
    """
    taken = inc.forced.copy()
    budget_left = prob.team_budget_usd_per_year - float(inc.cost[inc.forced].sum())
    cap_left = prob.slot_cap - np.bincount(inc.s[inc.forced], minlength=prob.shape[1])
    free = np.flatnonzero(~inc.forced)
    if free.size == 0:
        return taken
    with np.errstate(divide="ignore"):
        ratio = np.where(inc.cost[free] > 0, inc.gain[free] / np.maximum(inc.cost[free], 1e-300),
                         np.inf)
    # stable: equal ratios keep the (p, s, k) order, so levels of one precinct-slot stay in order
    order = free[np.argsort(-ratio, kind="stable")]
    cand = order
    if np.isfinite(cap_left).any():
        # rank of each candidate among its slot, in greedy order (for the slot caps)
        s_sorted = inc.s[order]
        by_slot = np.argsort(s_sorted, kind="stable")
        counts = np.bincount(s_sorted, minlength=prob.shape[1])
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.empty(order.size, dtype=np.int64)
        rank[by_slot] = np.arange(order.size) - np.repeat(starts, counts)
        cand = order[rank < cap_left[s_sorted]]
    cum = np.cumsum(inc.cost[cand])
    n_prefix = int(np.searchsorted(cum, budget_left * (1 + 1e-12), side="right"))
    chosen = cand[:n_prefix]
    taken[chosen] = True
    budget_left -= float(inc.cost[chosen].sum())
    cap_left = cap_left - np.bincount(inc.s[chosen], minlength=prob.shape[1])
    # fill: later candidates that still fit (cheaper tours), respecting caps and level order
    rest = order[~taken[order]]
    rest = rest[inc.cost[rest] <= budget_left * (1 + 1e-12)]
    blocked = np.zeros(prob.shape, dtype=bool)  # (p, s) with a level skipped
    while rest.size:
        i = rest[0]
        p, s = inc.p[i], inc.s[i]
        if inc.cost[i] <= budget_left * (1 + 1e-12) and cap_left[s] >= 1 and not blocked[p, s]:
            taken[i] = True
            budget_left -= float(inc.cost[i])
            cap_left[s] -= 1
        else:
            blocked[p, s] = True
        rest = rest[1:]
        rest = rest[(inc.cost[rest] <= budget_left * (1 + 1e-12)) & (cap_left[inc.s[rest]] >= 1)]
    return taken


# ----------------------------------------------------------------------------------------
# Lagrangian (LP) bound and reduced-cost fixing
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class LagrangianBound:
    """Upper bound on coverage from relaxing budget (mu) and slot caps (nu_s).

    ``value`` (calls/year) bounds every feasible plan; ``reduced`` holds each non-forced
    increment's reduced cost ``g - mu c - nu_s`` (calls/year).
    """

    value: float
    mu: float  # calls/year per USD/year
    nu: np.ndarray  # (S,) calls/year per team
    reduced: np.ndarray  # over increments (nan for forced)


def lagrangian_bound(prob: ProblemData, inc: Increments, iterations: int = 200) -> LagrangianBound:
    """Minimise the Lagrangian dual over mu >= 0 (with the best nu_s for each mu).

    For multipliers ``mu >= 0`` (budget) and ``nu_s >= 0`` (slot caps) every feasible plan has

    .. math:: \\mathrm{cov} \\le G_f + \\mu B' + \\sum_s \\nu_s M'_s +
              \\sum_{i\\,\\mathrm{free}} \\max(0, g_i - \\mu c_i - \\nu_{s(i)})

    (``G_f`` forced gains, ``B'`` and ``M'_s`` budget and caps left after forced levels). For
    fixed ``mu`` the best ``nu_s`` is the ``(M'_s+1)``-th largest ``g_i - mu c_s`` of slot s
    (clipped at 0); costs are equal within a slot, so that is the ``(M'_s+1)``-th largest gain.
    The dual is convex in ``mu``; bisection on its subgradient finds the minimum, which equals
    the LP relaxation's optimum (LP duality).
    """
    S = prob.shape[1]
    forced = inc.forced
    gf = float(inc.gain[forced].sum())
    budget = prob.team_budget_usd_per_year - float(inc.cost[forced].sum())
    caps = prob.slot_cap - np.bincount(inc.s[forced], minlength=S)
    fi = np.flatnonzero(~forced)
    g, c, s = inc.gain[fi], inc.cost[fi], inc.s[fi]
    slot_cost = prob.team_cost_per_year()
    # threshold gain per capped slot: the (M'+1)-th largest free gain in the slot
    thresh = np.full(S, -np.inf)
    capped = np.isfinite(caps)
    if capped.any() and fi.size:
        order = np.lexsort((-g, s))
        g_sorted, s_sorted = g[order], s[order]
        counts = np.bincount(s_sorted, minlength=S)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        m = np.where(capped, caps, 0).astype(np.int64)
        has = capped & (counts > m)
        thresh[has] = g_sorted[starts[has] + m[has]]

    def nu_of(mu: float) -> np.ndarray:
        return np.maximum(0.0, thresh - mu * slot_cost)

    cap_sum = np.where(capped, caps, 0.0)

    def dual(mu: float) -> tuple[float, float]:
        """The dual at mu over every free level: value and subgradient in mu."""
        nu = nu_of(mu)
        r = g - mu * c - nu[s]
        pos = r > 0
        val = gf + mu * budget + float((nu * cap_sum).sum()) + float(r[pos].sum())
        return val, budget - float(c[pos].sum())

    lo, hi = 0.0, 0.0
    if fi.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(c > 0, g / c, 0.0)
        hi = float(ratios.max()) * (1 + 1e-9) + 1e-300
    best_val, sub0 = dual(0.0)
    best_mu = 0.0
    if sub0 < 0 and hi > 0:  # budget binds at mu = 0: search (lo, hi]
        # Each r_i(mu) is non-increasing in mu. A level positive at hi is positive on the whole
        # interval, and one non-positive at lo stays so: both leave the active arrays (the
        # first into the sums pos_g, pos_c, pos_n), so each step costs only the undecided.
        ga, ca, sa = g, c, s
        pos_g = pos_c = 0.0
        pos_n = np.zeros(S)
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            nu = nu_of(mid)
            r = ga - mid * ca - nu[sa]
            pos = r > 0
            val = (gf + mid * budget + float((nu * cap_sum).sum())
                   + pos_g - mid * pos_c - float((pos_n * nu).sum()) + float(r[pos].sum()))
            sub = budget - pos_c - float(ca[pos].sum())
            if val < best_val:
                best_val, best_mu = val, mid
            if sub < 0:  # mu* >= mid: levels not positive at mid never are
                lo = mid
                ga, ca, sa = ga[pos], ca[pos], sa[pos]
            else:  # mu* <= mid: levels positive at mid always are
                hi = mid
                pos_g += float(ga[pos].sum())
                pos_c += float(ca[pos].sum())
                pos_n += np.bincount(sa[pos], minlength=S)
                ga, ca, sa = ga[~pos], ca[~pos], sa[~pos]
        # the reported value: full passes (no running sums) at the best points
        best_val, best_mu = min((dual(mu)[0], mu) for mu in {lo, hi, best_mu})
    nu = nu_of(best_mu)
    reduced = np.full(inc.n, np.nan)
    reduced[fi] = g - best_mu * c - nu[s]
    return LagrangianBound(value=best_val, mu=best_mu, nu=nu, reduced=reduced)


def fix_by_reduced_cost(inc: Increments, bound: LagrangianBound, incumbent_value: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Increments whose value is decided in every plan better than the incumbent.

    With ``Delta = UB - LB``: a free increment with reduced cost ``r > Delta`` is 1 in every
    plan of value >= LB (setting it to 0 would cap the plan at ``UB - r < LB``); one with
    ``r < -Delta`` is 0 likewise. Returns boolean masks ``(fixed_one, fixed_zero)``; forced
    levels are in ``fixed_one``. A small tolerance keeps borderline increments free.
    """
    delta = max(bound.value - incumbent_value, 0.0)
    tol = delta + 1e-9 * max(1.0, abs(bound.value))
    r = bound.reduced
    free = ~inc.forced
    one = inc.forced | (free & (r > tol))
    zero = free & (r < -tol)
    return one, zero


# ----------------------------------------------------------------------------------------
# exchange groups: canonical incumbent and count fixing
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ExchangeGroups:
    """The free increments in groups within which a plan can swap one team for another.

    A group is either one slot whose citywide cap can bind (more free levels than cap left),
    or, over the slots whose cap cannot bind, all free levels of one cost ``c_s``. Swapping the
    highest staffed level of one precinct-slot for the lowest unstaffed level of another in the
    same group keeps the cost and every constraint (``models/isolated_coverage.md``).

    ``order``: free increment indices sorted by (group, gain descending, index);
    ``start``/``end``: each group's run in ``order``; ``group`` and ``rank`` (0-based position
    in its group's gain order) per increment, -1 for forced levels.
    """

    order: np.ndarray
    start: np.ndarray
    end: np.ndarray
    group: np.ndarray
    rank: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.start)


def exchange_groups(prob: ProblemData, inc: Increments) -> ExchangeGroups:
    """Group the free increments for the exchange argument (see :class:`ExchangeGroups`)."""
    S = prob.shape[1]
    fi = np.flatnonzero(~inc.forced)
    caps_left = prob.slot_cap - np.bincount(inc.s[inc.forced], minlength=S)
    s = inc.s[fi]
    can_bind = np.isfinite(caps_left) & (np.bincount(s, minlength=S) > caps_left)
    costs, cost_class = np.unique(inc.cost[fi], return_inverse=True)  # exact equality
    key = np.where(can_bind[s], len(costs) + s, cost_class.ravel())
    sort = np.lexsort((-inc.gain[fi], key))  # stable: ties keep (p, s, k) order
    order = fi[sort]
    start, end = runs(key[sort])
    group = np.full(inc.n, -1, dtype=np.int64)
    rank = np.full(inc.n, -1, dtype=np.int64)
    gid = np.repeat(np.arange(len(start)), end - start)
    group[order] = gid
    rank[order] = np.arange(order.size) - start[gid]
    return ExchangeGroups(order=order, start=start, end=end, group=group, rank=rank)


def canonical_plan(inc: Increments, groups: ExchangeGroups, taken: np.ndarray) -> np.ndarray:
    """The plan with, in each exchange group, the same number of teams on the highest gains.

    Same cost, same count per group (so every constraint still holds), coverage at least as
    high; levels stay in order within each precinct-slot (gains fall with the level, ties keep
    the lower level first). Returns a new bool mask over increments.
    """
    taken = np.asarray(taken, dtype=bool)
    free = groups.group >= 0
    count = np.bincount(groups.group[free & taken], minlength=groups.n_groups)
    out = inc.forced.copy()
    out[free] = groups.rank[free] < count[groups.group[free]]
    return out


def count_ranges(groups: ExchangeGroups, bound: LagrangianBound, incumbent_value: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """For each exchange group, the range ``[lo, hi]`` of its team count in every plan of
    coverage at least ``incumbent_value`` (calls/year).

    Every feasible plan's coverage is the Lagrangian bound minus non-negative penalties, one
    per free level (``r`` when a level of positive reduced cost ``r`` is left out, ``-r`` when a
    level of negative ``r`` is taken). Within a group the reduced costs are the gains minus one
    constant, so the cheapest way to have ``v`` teams in the group costs the sum of the
    smallest positive ``r`` dropped (``v`` below the number of positive ``r``) or of the
    smallest ``-r`` added (above it). Counts whose cheapest penalty exceeds ``UB - LB`` are
    impossible.
    """
    delta = max(bound.value - incumbent_value, 0.0) + 1e-9 * max(1.0, abs(bound.value))
    r = bound.reduced[groups.order]
    n = groups.end - groups.start
    lo = np.empty(len(n), dtype=np.int64)
    hi = np.empty(len(n), dtype=np.int64)
    for g, (a, b) in enumerate(zip(groups.start.tolist(), groups.end.tolist())):
        rg = r[a:b]
        n_pos = int(np.count_nonzero(rg > 0))
        drop = np.cumsum(rg[:n_pos][::-1])  # dropping the d smallest positive r
        add = np.cumsum(-rg[n_pos:])  # adding the d largest non-positive r
        lo[g] = n_pos - int(np.searchsorted(drop, delta, side="right"))
        hi[g] = n_pos + int(np.searchsorted(add, delta, side="right"))
    return lo, hi


def fix_by_exchange(inc: Increments, groups: ExchangeGroups, bound: LagrangianBound,
                    incumbent_value: float) -> tuple[np.ndarray, np.ndarray]:
    """Increments decided in every plan of coverage >= ``incumbent_value`` that no same-cost
    swap improves (so in every optimal plan).

    Such a plan takes, in each group, a set of teams whose gains are all at least those left
    out (otherwise a swap within the group raises coverage at the same cost), and its count
    lies in :func:`count_ranges`' ``[lo, hi]``. So it takes every level whose gain is strictly
    above the ``lo``-th largest gain of its group and none strictly below the ``hi``-th.
    Returns boolean masks ``(fixed_one, fixed_zero)``; forced levels are in ``fixed_one``.
    """
    lo, hi = count_ranges(groups, bound, incumbent_value)
    one = inc.forced.copy()
    zero = np.zeros(inc.n, dtype=bool)
    g_sorted = inc.gain[groups.order]
    for g, (a, b) in enumerate(zip(groups.start.tolist(), groups.end.tolist())):
        idx, gg = groups.order[a:b], g_sorted[a:b]
        if lo[g] >= 1:
            one[idx[gg > gg[lo[g] - 1]]] = True
        if hi[g] == 0:
            zero[idx] = True
        elif hi[g] < b - a:
            zero[idx[gg < gg[hi[g] - 1]]] = True
    return one, zero


@dataclass(frozen=True, eq=False)
class CountOptimum:
    """The exact optimum over the team counts of the exchange groups.

    ``counts``: teams per group in the plan that maximises coverage minus the tie-break
    (``eps`` x cost), which takes the highest-gain levels of each group; ``coverage``: the
    maximum coverage of the free levels over the same counts (calls/year), an upper bound on
    every plan once the forced gains are added; ``states``: the largest number of partial
    count vectors kept (the work done).
    """

    counts: np.ndarray
    coverage: float
    states: int


def best_counts(prob: ProblemData, inc: Increments, groups: ExchangeGroups, lo: np.ndarray,
                hi: np.ndarray, tie_break_per_usd: float, max_states: int = 2_000_000
                ) -> CountOptimum | None:
    """Maximise over team counts ``n_g in [lo_g, hi_g]`` per exchange group, exactly.

    Every optimal plan takes, in each group, the ``n_g`` highest-gain levels with ``n_g`` in
    :func:`count_ranges` (``models/isolated_coverage.md``). So the best plan is the best count
    vector: ``max sum_g F_g(n_g)`` subject to the budget and, for a group that is one capped
    slot, ``n_g <= cap``, with ``F_g`` the prefix sums of the group's gains. A dynamic
    programme over the groups keeps the partial count vectors not dominated in (cost, value);
    dropping a dominated one is exact because the groups still to come see only the budget
    left. Done twice: for coverage (the bound) and for coverage minus ``eps`` x cost (the plan,
    cheaper among ties). Returns None when more than ``max_states`` partial vectors would be
    needed (the driver then hands the reduced MIP to HiGHS).
    """
    S = prob.shape[1]
    forced = inc.forced
    budget = prob.team_budget_usd_per_year - float(inc.cost[forced].sum())
    caps_left = prob.slot_cap - np.bincount(inc.s[forced], minlength=S)
    first = groups.order[groups.start]
    cost = inc.cost[first]  # one cost per group
    slot = inc.s[first]
    single_slot = np.array([inc.s[groups.order[a:b]].min() == inc.s[groups.order[a:b]].max()
                            for a, b in zip(groups.start.tolist(), groups.end.tolist())],
                           dtype=bool)
    top = hi.copy()
    capped = single_slot & np.isfinite(caps_left[slot])
    top[capped] = np.minimum(top[capped], caps_left[slot[capped]]).astype(np.int64)
    if (top < lo).any():
        return None
    gains = inc.gain[groups.order]
    limit = budget * (1 + 1e-12)

    def solve(eps: float):
        st_cost, st_val = np.zeros(1), np.zeros(1)
        trail = []  # per group: (parent state, count) of each state kept
        most = 1
        for g, (a, b) in enumerate(zip(groups.start.tolist(), groups.end.tolist())):
            v = np.arange(lo[g], top[g] + 1)
            prefix = np.concatenate([[0.0], np.cumsum(gains[a:b])])
            if st_cost.size * v.size > max_states:
                return None
            c = (st_cost[:, None] + cost[g] * v[None, :]).ravel()
            val = (st_val[:, None] + (prefix[v] - eps * cost[g] * v)[None, :]).ravel()
            ok = np.flatnonzero(c <= limit)
            if ok.size == 0:
                return None
            c, val = c[ok], val[ok]
            order = np.lexsort((-val, c))  # by cost, best value first
            c, val, ok = c[order], val[order], ok[order]
            keep = val > np.concatenate([[-np.inf], np.maximum.accumulate(val)[:-1]])
            st_cost, st_val, ok = c[keep], val[keep], ok[keep]
            trail.append((ok // v.size, lo[g] + ok % v.size))
            most = max(most, st_cost.size)
        best = int(np.argmax(st_val))
        counts = np.empty(groups.n_groups, dtype=np.int64)
        for g in range(groups.n_groups - 1, -1, -1):
            parent, count = trail[g]
            counts[g] = count[best]
            best = int(parent[best])
        return counts, float(st_val.max()), most

    by_cover = solve(0.0)
    by_penalty = solve(tie_break_per_usd) if by_cover is not None else None
    if by_penalty is None:
        return None
    return CountOptimum(counts=by_penalty[0], coverage=by_cover[1],
                        states=max(by_cover[2], by_penalty[2]))


def plan_from_counts(inc: Increments, groups: ExchangeGroups, counts: np.ndarray
                     ) -> np.ndarray:
    """Bool mask over increments: forced levels plus the ``counts[g]`` highest-gain levels of
    each exchange group."""
    out = inc.forced.copy()
    free = groups.group >= 0
    out[free] = groups.rank[free] < np.asarray(counts)[groups.group[free]]
    return out


# ----------------------------------------------------------------------------------------
# Pyomo model, built in bulk from arrays
# ----------------------------------------------------------------------------------------
@dataclass(eq=False)
class BuiltIsolated(BuiltModel):
    """The isolated model over the free increments, with the maps back to the arrays.

    Variables in order: ``y`` (one per free increment), ``x`` (one per precinct-slot with two
    or more free levels), ``n`` (one per cost class).
    """

    free: np.ndarray = None  # increment indices that are variables y[j], j = 0..n_free-1
    constant: float = 0.0  # objective contribution of fixed-one increments (penalised)
    classes: np.ndarray | None = None  # cost class of each free increment (for n_t)
    group_start: np.ndarray | None = None  # (G,) first y of each x group
    group_len: np.ndarray | None = None  # (G,) number of y in each x group

    def start_values(self, taken: np.ndarray) -> np.ndarray:
        """Values for a plan given as a bool mask over all increments."""
        yv = np.asarray(taken)[self.free].astype(float)
        cum = np.concatenate([[0.0], np.cumsum(yv)])
        xv = cum[self.group_start + self.group_len] - cum[self.group_start]
        n_classes = int(self.classes.max()) + 1 if self.classes is not None and self.classes.size else 0
        nv = np.bincount(self.classes, weights=yv, minlength=n_classes) if n_classes else np.zeros(0)
        return np.concatenate([yv, xv, nv])

    def read_teams(self, values: np.ndarray) -> np.ndarray:
        """Increment indices (among all increments) the solution takes, fixed ones excluded."""
        yv = np.asarray(values)[:self.free.size]
        return self.free[yv > 0.5]


def build_isolated_model(prob: ProblemData, inc: Increments, fixed_one: np.ndarray,
                         fixed_zero: np.ndarray, tie_break_per_usd: float,
                         relax: bool = False) -> BuiltIsolated:
    """Build the Pyomo model of :mod:`bheard.model.isolated` over the undecided increments.

    Variables ``y[j]`` (continuous in [0, 1]) for the free increments; per precinct-slot with
    two or more free levels one integer ``x[g]`` with ``x[g] = sum of its y``; a precinct-slot
    with a single free level makes that ``y`` binary instead (still one integer per (p, s)).
    Fixed-one increments enter as constants (budget and caps shrink by their cost and count).
    Every expression is a :class:`LinearExpression` made from numpy vectors; garbage
    collection is paused while building (docs/sources.md P-array-build).

    ``relax=True`` builds the LP relaxation instead: every ``y`` continuous, no ``x`` and no
    link rows (redundant in the LP, since gains fall with the level). Its optimum is a valid
    upper bound on the reduced MIP.
    """
    import pyomo.environ as pyo
    from pyomo.common.gc_manager import PauseGC
    from pyomo.core.expr.numeric_expr import LinearExpression

    S = prob.shape[1]
    free = np.flatnonzero(~(fixed_one | fixed_zero))  # sorted by (p, s, k)
    n = free.size
    eps = tie_break_per_usd
    const = float((inc.gain[fixed_one] - eps * inc.cost[fixed_one]).sum())
    budget_left = prob.team_budget_usd_per_year - float(inc.cost[fixed_one].sum())
    caps_left = prob.slot_cap - np.bincount(inc.s[fixed_one], minlength=S)

    # groups = precinct-slots with free levels; contiguous because `free` is (p, s, k)-sorted
    key = inc.p[free].astype(np.int64) * S + inc.s[free]
    g_start, g_end = runs(key)
    g_len = g_end - g_start
    multi = np.flatnonzero(g_len >= 2) if not relax else np.zeros(0, dtype=np.int64)
    single = g_start[g_len == 1] if not relax else np.zeros(0, dtype=np.int64)
    obj = (inc.gain[free] - eps * inc.cost[free]).tolist()
    cost = inc.cost[free].tolist()

    with PauseGC():
        m = pyo.ConcreteModel(name="bheard_isolated")
        m.y = pyo.Var(range(n), bounds=(0.0, 1.0), domain=pyo.Reals)
        for j in single.tolist():
            m.y[j].domain = pyo.Binary
        y = [m.y[j] for j in range(n)]
        m.x = pyo.Var(range(len(multi)), domain=pyo.NonNegativeIntegers,
                      bounds=lambda _m, g: (0, int(g_len[multi[g]])))
        starts, lens = g_start[multi].tolist(), g_len[multi].tolist()

        def link(_m, g):
            a, b = starts[g], starts[g] + lens[g]
            return LinearExpression(constant=0.0, linear_coefs=[1.0] + [-1.0] * (b - a),
                                    linear_vars=[_m.x[g]] + y[a:b]) == 0.0

        m.link = pyo.Constraint(range(len(multi)), rule=link)
        m.obj = pyo.Objective(expr=LinearExpression(constant=const, linear_coefs=obj,
                                                    linear_vars=y), sense=pyo.maximize)
        m.budget = pyo.Constraint(expr=LinearExpression(constant=0.0, linear_coefs=cost,
                                                        linear_vars=y) <= budget_left)
        # slot caps that can bind: only slots with more free levels than cap left
        s_free = inc.s[free]
        n_in_slot = np.bincount(s_free, minlength=S)
        cap_slots = np.flatnonzero(np.isfinite(caps_left) & (n_in_slot > caps_left))
        members = {s: np.flatnonzero(s_free == s).tolist() for s in cap_slots.tolist()}
        m.cap = pyo.Constraint(cap_slots.tolist(), rule=lambda _m, s: LinearExpression(
            constant=0.0, linear_coefs=[1.0] * len(members[s]),
            linear_vars=[y[j] for j in members[s]]) <= float(caps_left[s]))
        # one integer count per cost class: n_t = sum of the class's y (valid at every integer
        # point). With few classes the LP leaves one fractional team at the budget margin;
        # branching on n_t removes it, and once n_t is fixed the remaining LP (class rows and
        # slot-cap rows: a laminar family) is integral. Without these, HiGHS branched for
        # minutes among interchangeable precinct-slots (two cost classes, 42 integers).
        classes = np.zeros(0, dtype=np.int64)
        if not relax and n:
            cost_free = inc.cost[free]
            values, classes = np.unique(np.round(cost_free, 6), return_inverse=True)
            if len(values) > MAX_COST_CLASSES:
                classes = np.zeros(0, dtype=np.int64)
        n_classes = int(classes.max()) + 1 if classes.size else 0
        class_members = [np.flatnonzero(classes == t).tolist() for t in range(n_classes)]
        m.n = pyo.Var(range(n_classes), domain=pyo.NonNegativeIntegers,
                      bounds=lambda _m, t: (0, len(class_members[t])))
        m.count = pyo.Constraint(range(n_classes), rule=lambda _m, t: LinearExpression(
            constant=0.0, linear_coefs=[1.0] + [-1.0] * len(class_members[t]),
            linear_vars=[_m.n[t]] + [y[j] for j in class_members[t]]) == 0.0)
        variables = y + [m.x[g] for g in range(len(multi))] + [m.n[t] for t in range(n_classes)]
    return BuiltIsolated(model=m, n_integer=len(multi) + len(single) + n_classes,
                         tie_break_per_usd=eps, variables=variables, free=free, constant=const,
                         classes=classes, group_start=g_start[multi], group_len=g_len[multi])
