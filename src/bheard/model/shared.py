"""Shared-coverage staffing model: the MIP at frozen local busy probabilities, its heuristics.

Formulation, exactness argument and sources: ``models/shared_coverage.md``. A team based in
precinct ``j`` in slot ``s`` can serve precinct ``i`` when ``j`` is in ``i``'s range (trip
within the response standard, :mod:`bheard.geography`; ``reach`` is a dense (S, P, P) array or
:class:`~bheard.model.base.Preferences`). With integer ``x_{js}`` teams and continuous
``z_{isn} in [0, 1]``:

.. math::
    \\max \\sum_{isn} G_{isn} z_{isn} - \\varepsilon \\sum_{js} c_s x_{js}
    \\quad\\text{s.t.}\\quad \\sum_n z_{isn} \\le \\sum_{j \\in N_s(i)} x_{js},\\;
    \\sum_{js} c_s x_{js} \\le B,\\; \\sum_j x_{js} \\le M_s,\\;
    \\sum_{js} a_{rs} x_{js} \\le H_r,\\; m_{js} \\le x_{js} \\le K_{js}

with ``G_{isn}`` the covered calls the n-th team in range adds at the frozen local busy
probabilities (:func:`bheard.model.hypercube.frozen_gains`: Erlang increments at each
precinct-slot's equivalent load). ``G`` falls with ``n``, so an LP optimum fills ``z_{is1},
z_{is2}, ...`` in order and ``z`` needs no integrality. Equity floors
(:mod:`bheard.model.equity`) are linear lower bounds on ``sum_{sn} G_{isn} z_{isn}``.

The same machinery solves the isolated model when extra constraints (role caps, equity floors)
are present: ``reach`` = identity and ``G`` = the isolated increments of
:mod:`bheard.model.isolated`. This module holds the gains of the isolated case, heuristics,
the Pyomo builder and the LP as arrays; the fixed-point driver is
:mod:`bheard.optimize.fixed_point`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from bheard.model.base import (
    ArrayModel,
    BuiltModel,
    Preferences,
    covered_from_counts,
    csc_from_triplets,
    in_range,
    locations,
    members,
    runs,
    scatter,
    slot_in_range,
    slot_scatter,
)
from bheard.model.equity import Floors, deficits, meets_floors
from bheard.problem.slots import ProblemData

def reach_or_identity(prob: ProblemData) -> np.ndarray:
    """(S, P, P) bool reach; identity (own teams only) when the problem has none."""
    if prob.reach is not None:
        return prob.reach
    P, S = prob.shape
    return np.broadcast_to(np.eye(P, dtype=bool), (S, P, P))


def max_in_range(prob: ProblemData, reach) -> np.ndarray:
    """(P, S) most teams that can be in range of each precinct-slot (all at their max)."""
    return in_range(reach, prob.max_teams)


def isolated_gains(prob: ProblemData) -> np.ndarray:
    """(P, S, K) Erlang-B increments (the isolated model's gains), calls/year."""
    table = prob.coverage_table(max(prob.kmax, 1))
    g = np.diff(table, axis=-1)
    g = np.minimum.accumulate(np.maximum(g, 0.0), axis=-1)
    g[np.arange(g.shape[-1])[None, None, :] >= prob.max_teams[..., None]] = 0.0
    return g


# ----------------------------------------------------------------------------------------
# greedy incumbent (with equity-floor repair), local search, LP rounding
# ----------------------------------------------------------------------------------------
def greedy_shared(prob: ProblemData, G: np.ndarray, reach, floors: Floors | None = None
                  ) -> np.ndarray:
    """A feasible (P, S) plan (when one is found): minimum staffing, then teams that cut the
    equity deficits most per dollar, then teams by marginal covered calls per dollar until the
    budget, slot caps, role caps or ``max_teams`` stop it.

    The marginal gain of a team at (j, s) is ``sum_i reach[s,i,j] G[i, s, count_is]``. Slots
    are independent apart from the budget and role caps, so the gain phase keeps a heap of
    each slot's best team and recomputes only the slot that changed (``reach``: dense
    (S, P, P) or :class:`~bheard.model.base.Preferences`).
    """
    P, S = prob.shape
    L = G.shape[-1]
    teams = prob.min_teams.astype(np.int64).copy()
    cost = prob.team_cost_per_year()
    budget = prob.team_budget_usd_per_year - float((teams.sum(axis=0) * cost).sum())
    cap_left = prob.slot_cap - teams.sum(axis=0)
    fte = prob.role_fte_per_team if prob.role_fte_per_team is not None else np.zeros((0, S))
    role_left = (prob.role_cap - fte @ teams.sum(axis=0)) if len(fte) else np.zeros(0)
    counts = in_range(reach, teams)
    rows = np.arange(P)[:, None]
    cols = np.arange(S)[None, :]

    def next_gain():
        c = counts
        return np.where(c < L, G[rows, cols, np.minimum(c, L - 1)], 0.0)

    def fits(j, s):
        return (teams[j, s] < prob.max_teams[j, s] and cap_left[s] >= 1
                and cost[s] <= budget * (1 + 1e-12) + 1e-9
                and (not len(fte) or bool((fte[:, s] <= role_left + 1e-9).all())))

    inv = _AllSlotInverse(reach) if isinstance(reach, Preferences) else None

    def add(j, s):
        nonlocal budget
        teams[j, s] += 1
        budget -= cost[s]
        cap_left[s] -= 1
        if len(fte):
            role_left[:] -= fte[:, s]
        if inv is not None:
            counts[inv.members_many(np.array([s]), np.array([j]))[0], s] += 1
        else:
            counts[:, s] += members(reach, s, j)

    # phase A: repair equity floors (largest deficit reduction per dollar)
    if floors is not None and floors.active:
        for _ in range(int(prob.max_teams.sum())):
            cov_p = covered_from_counts(G, counts).sum(axis=1)
            dp, db = deficits(floors, cov_p)
            if dp.sum() + db.sum() <= 1e-9:
                break
            ng = next_gain()  # (P, S)
            w = np.minimum(ng, dp[:, None]) if floors.precinct_min is not None else 0.0
            if floors.borough_min is not None:
                wb = np.where(db[floors.borough_index][:, None] > 0, ng, 0.0)
                w = w + wb
            score = scatter(reach, np.broadcast_to(w, (P, S)))
            score = np.where(cost[None, :] > 0, score / np.maximum(cost[None, :], 1e-300), score)
            order = np.argsort(-score, axis=None)
            done = False
            for flat in order[:64]:
                j, s = divmod(int(flat), S)
                if score[j, s] <= 0:
                    break
                if fits(j, s):
                    add(j, s)
                    done = True
                    break
            if not done:
                break
    # phase B: marginal covered calls per dollar (all slots in lock-step, below)
    return _greedy_by_ratio(prob, G, reach, teams, counts, budget, cap_left, fte, role_left)


#: relative width of a ratio band of the lock-step greedy (any width gives the same plan)
BAND_WIDTH = 0.05


def _greedy_by_ratio(prob: ProblemData, G: np.ndarray, reach, teams: np.ndarray,
                     counts: np.ndarray, budget: float, cap_left: np.ndarray, fte: np.ndarray,
                     role_left: np.ndarray) -> np.ndarray:
    """Phase B of :func:`greedy_shared`: add the team with the most covered calls per dollar
    until the budget, slot caps, role caps or ``max_teams`` stop it (a slot whose next team no
    longer fits the budget or a role cap is closed, as its later teams would not fit either).

    Slots interact only through the budget and the role caps, and within a slot the best
    ratio never rises (a team only lowers the next gains of the precincts it reaches), so the
    sequential greedy is the merge, by ratio, of each slot's own greedy sequence. Those are
    generated for all slots at once, one team per slot per round, band by band of ratio
    (every team of a band has a higher ratio than every later one), and each band is merged
    in ratio order (ties: lower slot, then earlier team) with the budget. The result is the
    one-team-at-a-time greedy's (the same sums in the same order), at O(S) teams per step.
    """
    P, S = prob.shape
    L = G.shape[-1]
    pref = reach if isinstance(reach, Preferences) else _dense_to_preferences(reach)
    inv = _AllSlotInverse(pref)
    cost = prob.team_cost_per_year()
    cost_pos = cost > 0
    teams = teams.copy()
    gen = teams.T.copy()  # (S, P) generated teams (= accepted while the slot is open)
    cnt = np.ascontiguousarray(counts.T)  # (S, P) teams in range, generated
    maxT = np.ascontiguousarray(prob.max_teams.T)
    slot_ix = np.arange(S)
    Gt = np.ascontiguousarray(np.transpose(G, (1, 0, 2)))  # (S, P, L)

    def next_gain(s_, i_):
        c_ = cnt[s_, i_]
        return np.where(c_ < L, Gt[s_, i_, np.minimum(c_, L - 1)], 0.0)

    ng = np.where(cnt < L, np.take_along_axis(Gt, np.minimum(cnt, L - 1)[..., None], -1)[..., 0],
                  0.0)
    M = np.empty((S, P))
    for s in range(S):
        M[s] = slot_scatter(pref, s, ng[s])

    def ratio_of(s_, j_):
        m_ = M[s_, j_]
        r_ = np.where(cost_pos[s_], m_ / np.where(cost_pos[s_], cost[s_], 1.0),
                      np.where(m_ > 0, np.inf, 0.0))
        r_[(gen[s_, j_] >= maxT[s_, j_]) | (m_ <= 1e-12)] = -1.0
        return r_

    R = np.empty((S, P))
    for s in range(S):
        R[s] = ratio_of(np.full(P, s), np.arange(P))
    alive = np.ones(S, dtype=bool)  # not closed by the budget or a role cap
    gcap = cap_left.astype(float).copy()  # slot cap left for generation

    def closed_budget():
        return cost > budget * (1 + 1e-12) + 1e-9

    while True:
        live = alive & (gcap >= 1) & ~closed_budget()
        best_j = np.argmax(R, axis=1)
        best_r = R[slot_ix, best_j]
        best_r[~live] = -1.0
        top = float(best_r.max())
        if top < 0:
            break
        tau = top * (1.0 - BAND_WIDTH) if math.isfinite(top) else top
        items_r, items_s, items_j = [], [], []
        while True:
            act = np.flatnonzero(best_r >= tau)
            if not act.size:
                break
            ja = best_j[act]
            items_r.append(best_r[act]); items_s.append(act); items_j.append(ja)
            gen[act, ja] += 1
            gcap[act] -= 1
            ii, pi = inv.members_many(act, ja)
            si = act[pi]
            cnt[si, ii] += 1
            ng[si, ii] = next_gain(si, ii)
            near = pref.loc[si, ii, :]
            keys = (si[:, None] * (P + 1) + near)[near < P]
            keys = np.unique(np.concatenate([keys, act * (P + 1) + ja]))
            sn, jn = keys // (P + 1), keys % (P + 1)
            i2, p2 = inv.members_many(sn, jn)
            M[sn, jn] = np.bincount(p2, weights=ng[sn[p2], i2], minlength=keys.size)
            R[sn, jn] = ratio_of(sn, jn)
            best_j[act] = np.argmax(R[act], axis=1)
            best_r[act] = R[act, best_j[act]]
            best_r[act[gcap[act] < 1]] = -1.0
        # merge the band with the budget, slot caps and role caps
        r_all = np.concatenate(items_r)
        s_all = np.concatenate(items_s)
        j_all = np.concatenate(items_j)
        order = np.lexsort((np.arange(r_all.size), s_all, -r_all))
        s_o, j_o = s_all[order], j_all[order]
        spent = np.cumsum(cost[s_o])
        # the walk below closes no slot iff every team fits the money left before it, its
        # slot cap and the role caps
        fits_all = (bool(alive[s_o].all())
                    and bool((np.bincount(s_o, minlength=S) <= cap_left).all())
                    and bool((cost[s_o] <= (budget - spent + cost[s_o]) * (1 + 1e-12)
                              + 1e-9).all()))
        if fits_all and len(fte):
            fits_all = bool((np.cumsum(fte[:, s_o], axis=1)
                             <= role_left[:, None] + 1e-9).all())
        if fits_all:  # nothing in the band closes a slot: take it whole (same decisions)
            np.add.at(teams, (j_o, s_o), 1)
            budget -= float(spent[-1])
            cap_left -= np.bincount(s_o, minlength=S)
            if len(fte):
                role_left -= fte[:, s_o].sum(axis=1)
            continue
        for s, j in zip(s_o.tolist(), j_o.tolist()):
            if not alive[s]:
                continue
            if cap_left[s] < 1 or cost[s] > budget * (1 + 1e-12) + 1e-9:
                alive[s] = False
                continue
            if len(fte) and not bool((fte[:, s] <= role_left + 1e-9).all()):
                alive[s] = False
                continue
            teams[j, s] += 1
            budget -= cost[s]
            cap_left[s] -= 1
            if len(fte):
                role_left -= fte[:, s]
    return teams


def _dense_to_preferences(reach: np.ndarray) -> Preferences:
    """Preference lists (in index order) of a dense (S, P, P) reach array."""
    from bheard.model.base import preferences
    return preferences(np.asarray(reach, dtype=bool), None, 0.0)


class _AllSlotInverse:
    """For preference lists: the precincts a team at ``j`` can serve in slot ``s`` (ascending),
    for many (s, j) pairs at once (one table when every slot has the same lists)."""

    def __init__(self, pref: Preferences):
        loc = pref.loc
        S, P, L = loc.shape
        self.P = P
        self.same = S == 1 or loc.strides[0] == 0
        if self.same:
            flat = np.asarray(loc[0]).ravel()
            order = np.argsort(flat, kind="stable")
            self.i_sorted = order // L
            self.starts = np.searchsorted(flat[order], np.arange(P + 2))
        else:
            key = (np.arange(S)[:, None, None] * (P + 1) + loc).ravel()
            order = np.argsort(key, kind="stable")
            self.i_sorted = (order // L) % P
            self.starts = np.searchsorted(key[order], np.arange(S * (P + 1) + 1))

    def members_many(self, s: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(precincts, pair index): every precinct served by each (s[k], j[k]) pair."""
        k = j if self.same else s * (self.P + 1) + j
        lo, hi = self.starts[k], self.starts[k + 1]
        n = hi - lo
        pos = np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        return self.i_sorted[pos], np.repeat(np.arange(len(k)), n)


def improve_plan(prob: ProblemData, G: np.ndarray, reach, teams: np.ndarray,
                 floors: Floors | None = None, max_moves: int = 5000) -> np.ndarray:
    """Local search from a feasible plan: move one team within its slot, or from one slot to
    another (slots are independent, so that delta is exact), or add one where money is left;
    take the best improving move until none improves. Keeps budget, slot caps, role caps and
    bounds; with equity floors a move that breaks one is undone and banned until the next
    accepted move.

    A move changes at most two slots, and a slot's gains, losses and best relocation depend
    on that slot alone: they are kept per slot and recomputed only for the slots a move
    touched (the same moves as recomputing everything, at O(P) instead of O(P S) a move).
    """
    P, S = prob.shape
    L = G.shape[-1]
    t = np.asarray(teams, dtype=np.int64).copy()
    cost = prob.team_cost_per_year()
    fte = prob.role_fte_per_team if prob.role_fte_per_team is not None else np.zeros((0, S))
    rows = np.arange(P)
    guard = floors is not None and floors.active
    banned: set = set()
    c = in_range(reach, t)
    gain = np.empty((P, S))
    loss = np.empty((P, S))
    gbest, gj = np.empty(S), np.zeros(S, dtype=np.int64)
    lbest, lj = np.empty(S), np.zeros(S, dtype=np.int64)
    slot_n = t.sum(axis=0)
    reloc: dict[int, list] = {}  # slot -> its best relocations [(delta, j, k2)], until touched

    def refresh(s: int) -> None:
        cs = slot_in_range(reach, s, t[:, s])
        c[:, s] = cs
        gnext = np.where(cs < L, G[rows, s, np.minimum(cs, L - 1)], 0.0)
        gprev = np.where((cs > 0) & (cs <= L), G[rows, s, np.clip(cs - 1, 0, L - 1)], 0.0)
        g = slot_scatter(reach, s, gnext)
        lo = slot_scatter(reach, s, gprev)
        g[(t[:, s] >= prob.max_teams[:, s]) | (slot_n[s] >= prob.slot_cap[s])] = -np.inf
        lo[t[:, s] <= prob.min_teams[:, s]] = np.inf
        gain[:, s], loss[:, s] = g, lo
        gj[s], lj[s] = int(np.argmax(g)), int(np.argmin(lo))
        gbest[s], lbest[s] = g[gj[s]], lo[lj[s]]
        reloc.pop(s, None)

    def relocations(s: int) -> list:
        """The slot's three cheapest removals, each with its best new location (exact)."""
        got = reloc.get(s)
        if got is None:
            got = []
            for j in np.argsort(loss[:, s])[:3].tolist():
                if not np.isfinite(loss[j, s]):
                    break
                c2 = c[:, s] - members(reach, s, j)
                g2 = np.where(c2 < L, G[rows, s, np.minimum(c2, L - 1)], 0.0)
                add = slot_scatter(reach, s, g2)
                add[(t[:, s] >= prob.max_teams[:, s])] = -np.inf
                add[j] = -np.inf
                k2 = int(np.argmax(add))
                got.append((float(add[k2] - loss[j, s]), j, k2))
            reloc[s] = got
        return got

    def change(s: int, j: int, d: int) -> None:
        t[j, s] += d
        slot_n[s] += d

    for s in range(S):
        refresh(s)
    threshold = 1e-9 * max(1.0, float(G[..., 0].sum())) * 1e-3
    for _ in range(max_moves):
        left = prob.team_budget_usd_per_year - float((slot_n * cost).sum())
        role_left = (prob.role_cap - fte @ slot_n) if len(fte) else np.zeros(0)
        # add where money is left
        addable = cost <= left * (1 + 1e-12) + 1e-9
        if len(fte):
            addable &= (fte <= role_left[:, None] + 1e-9).all(axis=0)
        ga = np.where(addable, gbest, -np.inf)
        for mv in banned:
            if mv[0] == "a" and gj[mv[1]] == mv[2]:
                ga[mv[1]] = -np.inf
        if ga.max() > 1e-9:
            s2 = int(ga.argmax())
            j2 = int(gj[s2])
            change(s2, j2, +1)
            if guard and not meets_floors(G, reach, t, floors):
                change(s2, j2, -1)
                banned.add(("a", s2, j2))
            refresh(s2)
            continue
        # cross-slot move: remove in s (row), add in s2 (column); exact delta
        D = gbest[None, :] - lbest[:, None]
        ok = cost[None, :] - cost[:, None] <= left * (1 + 1e-12) + 1e-9
        if len(fte):
            ok &= ((fte[:, None, :] - fte[:, :, None]) <= role_left[:, None, None] + 1e-9).all(0)
        np.fill_diagonal(ok, False)
        D[~ok] = -np.inf
        for mv in banned:
            if mv[0] == "x" and mv[3] == lj[mv[1]] and mv[4] == gj[mv[2]]:
                D[mv[1], mv[2]] = -np.inf
        k = np.unravel_index(int(np.argmax(D)), D.shape)
        best = (float(D[k]), ("x", int(k[0]), int(k[1])))
        # within-slot relocation: only when no cross-slot move improves
        for s in (range(S) if best[0] <= threshold else ()):
            for d, j, k2 in relocations(s):
                if d > best[0] and ("r", s, j, k2) not in banned:
                    best = (d, ("r", s, j, k2))
        if best[0] <= threshold:
            break
        mv = best[1]
        if mv[0] == "x":
            mv = ("x", mv[1], mv[2], int(lj[mv[1]]), int(gj[mv[2]]))
            steps = [(mv[1], mv[3], -1), (mv[2], mv[4], +1)]
        else:
            _, s, j, k2 = mv
            steps = [(s, j, -1), (s, k2, +1)]
        for s, j, d in steps:
            change(s, j, d)
        if guard and not meets_floors(G, reach, t, floors):
            for s, j, d in steps:
                change(s, j, -d)
            banned.add(mv)
        else:
            banned.clear()
        for s in {st[0] for st in steps}:
            refresh(s)
    if floors is not None and floors.active and not meets_floors(G, reach, t, floors):
        return np.asarray(teams, dtype=np.int64)
    return t


def round_lp(prob: ProblemData, G: np.ndarray, reach: np.ndarray, X: np.ndarray,
             floors: Floors | None) -> np.ndarray:
    """Plan from an LP solution: round its teams down, then greedy (floors first, then gains)."""
    base = np.maximum(prob.min_teams, np.floor(X + 1e-7).astype(np.int64))
    base = np.minimum(base, prob.max_teams)
    return greedy_shared(dataclasses.replace(prob, min_teams=base), G, reach, floors)


# ----------------------------------------------------------------------------------------
# Pyomo model
# ----------------------------------------------------------------------------------------
@dataclass(eq=False)
class BuiltShared(BuiltModel):
    """The MEXCLP model and the maps from its variables back to arrays.

    Variables in order: ``x`` (teams per (j, s) with ``max_teams > 0``), then ``z`` (levels).
    """

    x_index: np.ndarray = None  # (nx, 2) (j, s) of each x variable
    z_index: np.ndarray = None  # (nz, 3) (i, s, n) of each z variable
    reach: np.ndarray = None  # (S, P, P) bool
    shape: tuple = ()

    def start_values(self, teams: np.ndarray) -> np.ndarray:
        """x from the plan, z filled in order up to the teams in range."""
        return shared_start_values(self.reach, self.x_index, self.z_index, teams)

    def read_teams(self, values: np.ndarray) -> np.ndarray:
        """(P, S) teams (rounded to whole teams) from the x values (continuous for an LP)."""
        xi = self.x_index
        X = np.zeros(self.shape)
        X[xi[:, 0], xi[:, 1]] = np.asarray(values)[:len(xi)]
        return X


def build_shared_model(prob: ProblemData, G: np.ndarray, reach: np.ndarray, tie_break_per_usd:
                       float, floors: Floors | None = None, *, objective: str = "coverage",
                       relax: bool = False, use_budget: bool = True) -> BuiltShared:
    """Build the MEXCLP model of this module from arrays (one LinearExpression per row).

    ``objective="min_cost"`` with ``use_budget=False`` gives the cheapest plan meeting the
    floors (used by the infeasibility diagnosis); ``relax`` makes ``x`` continuous.
    """
    import pyomo.environ as pyo  # the model layer loads only when a MIP is built
    from pyomo.common.gc_manager import PauseGC
    from pyomo.core.expr.numeric_expr import LinearExpression

    P, S = prob.shape
    eps = tie_break_per_usd
    cost = prob.team_cost_per_year()
    xi = np.argwhere(prob.max_teams > 0)  # (j, s), C order
    nx = len(xi)
    xpos = -np.ones((P, S), dtype=np.int64)
    xpos[xi[:, 0], xi[:, 1]] = np.arange(nx)
    ratio = floors is not None and floors.max_ratio is not None
    if ratio:
        # exact counts: a z for every reachable level of every precinct-slot with demand
        cap_in = max_in_range(prob, reach)
        lvl = np.arange(G.shape[-1])[None, None, :]
        zi = np.argwhere((G > 0) | ((lvl < cap_in[..., None])
                                    & (prob.calls_per_hour[..., None] > 0)))
    else:
        zi = np.argwhere(G > 0)  # (i, s, n) sorted
    nz = len(zi)
    zg = G[zi[:, 0], zi[:, 1], zi[:, 2]]
    x_cost = cost[xi[:, 1]]

    with PauseGC():
        m = pyo.ConcreteModel(name="bheard_shared")
        dom = pyo.Reals if relax else pyo.Integers
        lo = prob.min_teams[xi[:, 0], xi[:, 1]].tolist()
        hi = prob.max_teams[xi[:, 0], xi[:, 1]].tolist()
        m.x = pyo.Var(range(nx), domain=dom, bounds=lambda _m, k: (lo[k], hi[k]))
        m.z = pyo.Var(range(nz), domain=pyo.Binary if (ratio and not relax) else pyo.Reals,
                      bounds=(0.0, 1.0))
        x = [m.x[k] for k in range(nx)]
        z = [m.z[k] for k in range(nz)]
        # link rows: one per (i, s) with z variables
        starts, ends = runs(zi[:, 0] * S + zi[:, 1])
        rows = []
        for a, b in zip(starts.tolist(), ends.tolist()):
            i, s = int(zi[a, 0]), int(zi[a, 1])
            js = locations(reach, s, i)
            js = js[xpos[js, s] >= 0]
            xv = [x[k] for k in xpos[js, s].tolist()]
            rows.append((z[a:b], xv))
        def _link(_m, r):
            e = LinearExpression(
                constant=0.0, linear_coefs=[1.0] * len(rows[r][0]) + [-1.0] * len(rows[r][1]),
                linear_vars=rows[r][0] + rows[r][1])
            return (e == 0.0) if ratio else (e <= 0.0)

        m.link = pyo.Constraint(range(len(rows)), rule=_link)
        if ratio:
            # levels in order (z_{n+1} <= z_n), so sum_n G z is the plan's true coverage
            same = np.flatnonzero((zi[1:, 0] == zi[:-1, 0]) & (zi[1:, 1] == zi[:-1, 1]))
            m.order = pyo.Constraint(same.tolist(), rule=lambda _m, k: LinearExpression(
                constant=0.0, linear_coefs=[1.0, -1.0], linear_vars=[z[k + 1], z[k]]) <= 0.0)
            E = floors.eligible
            has = np.flatnonzero(E > 0)
            m.worst = pyo.Var(domain=pyo.NonNegativeReals, bounds=(0.0, 1.0))
            pm = {int(i): np.flatnonzero(zi[:, 0] == i) for i in has.tolist()}
            m.ratio_lo = pyo.Constraint(list(pm), rule=lambda _m, i: LinearExpression(
                constant=0.0, linear_coefs=zg[pm[i]].tolist() + [-float(E[i])],
                linear_vars=[z[k] for k in pm[i].tolist()] + [_m.worst]) >= 0.0)
            r_ = float(floors.max_ratio)
            m.ratio_hi = pyo.Constraint(list(pm), rule=lambda _m, i: LinearExpression(
                constant=0.0, linear_coefs=zg[pm[i]].tolist() + [-r_ * float(E[i])],
                linear_vars=[z[k] for k in pm[i].tolist()] + [_m.worst]) <= 0.0)
        if objective == "coverage":
            m.obj = pyo.Objective(expr=LinearExpression(
                constant=0.0, linear_coefs=zg.tolist() + (-eps * x_cost).tolist(),
                linear_vars=z + x), sense=pyo.maximize)
        else:
            m.obj = pyo.Objective(expr=LinearExpression(constant=0.0, linear_coefs=x_cost.tolist(),
                                                        linear_vars=x), sense=pyo.minimize)
        if use_budget:
            m.budget = pyo.Constraint(expr=LinearExpression(
                constant=0.0, linear_coefs=x_cost.tolist(), linear_vars=x)
                <= prob.team_budget_usd_per_year)
        capped = [s for s in range(S) if math.isfinite(prob.slot_cap[s])
                  and prob.max_teams[:, s].sum() > prob.slot_cap[s]]
        slot_vars = {s: [x[k] for k in xpos[:, s][xpos[:, s] >= 0].tolist()] for s in capped}
        m.cap = pyo.Constraint(capped, rule=lambda _m, s: LinearExpression(
            constant=0.0, linear_coefs=[1.0] * len(slot_vars[s]), linear_vars=slot_vars[s])
            <= float(prob.slot_cap[s]))
        if prob.role_fte_per_team is not None and prob.role_cap is not None:
            rr = [r for r in range(len(prob.role_cap)) if math.isfinite(prob.role_cap[r])]
            m.role = pyo.Constraint(rr, rule=lambda _m, r: LinearExpression(
                constant=0.0, linear_coefs=prob.role_fte_per_team[r, xi[:, 1]].tolist(),
                linear_vars=x) <= float(prob.role_cap[r]))
        if floors is not None and floors.active:
            zp = zi[:, 0]
            if floors.precinct_min is not None:
                need = np.flatnonzero(floors.precinct_min > 0)
                mem = {int(i): np.flatnonzero(zp == i) for i in need.tolist()}
                m.floor_precinct = pyo.Constraint(list(mem), rule=lambda _m, i: LinearExpression(
                    constant=0.0, linear_coefs=zg[mem[i]].tolist(),
                    linear_vars=[z[k] for k in mem[i].tolist()]) >= float(floors.precinct_min[i]))
            if floors.borough_min is not None:
                zb = floors.borough_index[zp]
                bneed = np.flatnonzero(floors.borough_min > 0)
                bmem = {int(b): np.flatnonzero(zb == b) for b in bneed.tolist()}
                m.floor_borough = pyo.Constraint(list(bmem), rule=lambda _m, b: LinearExpression(
                    constant=0.0, linear_coefs=zg[bmem[b]].tolist(),
                    linear_vars=[z[k] for k in bmem[b].tolist()]) >= float(floors.borough_min[b]))
        variables = x + z
    return BuiltShared(model=m, n_integer=0 if relax else nx + (nz if ratio else 0),
                       tie_break_per_usd=eps, variables=variables, x_index=xi, z_index=zi,
                       reach=reach, shape=(P, S))




def shared_lp_arrays(prob: ProblemData, G: np.ndarray, reach: np.ndarray,
                     floors: Floors | None = None, *, objective: str = "coverage",
                     use_budget: bool = True, integer: bool = False,
                     tie_break_per_usd: float = 0.0) -> tuple[ArrayModel, np.ndarray]:
    """The LP relaxation of :func:`build_shared_model` as arrays (no equity ratio cap):
    columns ``x`` (teams per (j, s) with ``max_teams > 0``) then ``z`` (levels with ``G > 0``).
    ``integer``: the MIP itself (``x`` integer; ``z`` needs no integrality, module
    docstring), with the tie-break ``- tie_break_per_usd * cost`` on ``x`` in the coverage
    objective, as :func:`build_shared_model`. Returns the model and the (nx, 2) (j, s) index
    of the x columns."""
    P, S = prob.shape
    cost = prob.team_cost_per_year()
    xi = np.argwhere(prob.max_teams > 0)
    nx = len(xi)
    xpos = -np.ones((P, S), dtype=np.int64)
    xpos[xi[:, 0], xi[:, 1]] = np.arange(nx)
    zi = np.argwhere(G > 0)
    nz = len(zi)
    zg = G[zi[:, 0], zi[:, 1], zi[:, 2]]
    # link rows, one per (i, s) with levels: sum_n z_isn - sum_{j in range} x_js <= 0
    cell = zi[:, 0] * S + zi[:, 1]
    cells, row_of_z = np.unique(cell, return_inverse=True)
    ci, cs = cells // S, cells % S
    if isinstance(reach, Preferences):
        loc = reach.loc[cs, ci, :]  # (cells, L)
        xp = np.concatenate([xpos, -np.ones((1, S), dtype=np.int64)], axis=0)
        ok = xp[loc, cs[:, None]] >= 0
        r_idx, l_idx = np.nonzero(ok)
        j_idx = loc[r_idx, l_idx]
    else:
        r_idx, j_idx = np.nonzero(reach[cs, ci, :] & (xpos[:, cs].T >= 0))
    rows = [row_of_z, r_idx]
    cols = [nx + np.arange(nz), xpos[j_idx, cs[r_idx]]]
    vals = [np.ones(nz), -np.ones(r_idx.size)]
    lo = [np.full(len(cells), -np.inf)]
    hi = [np.zeros(len(cells))]
    m = len(cells)
    if use_budget:
        rows.append(np.full(nx, m)); cols.append(np.arange(nx)); vals.append(cost[xi[:, 1]])
        lo.append([-np.inf]); hi.append([prob.team_budget_usd_per_year]); m += 1
    for s in range(S):
        if math.isfinite(prob.slot_cap[s]) and prob.max_teams[:, s].sum() > prob.slot_cap[s]:
            k = xpos[:, s][xpos[:, s] >= 0]
            rows.append(np.full(k.size, m)); cols.append(k); vals.append(np.ones(k.size))
            lo.append([-np.inf]); hi.append([float(prob.slot_cap[s])]); m += 1
    if prob.role_fte_per_team is not None and prob.role_cap is not None:
        for r in range(len(prob.role_cap)):
            if math.isfinite(prob.role_cap[r]):
                rows.append(np.full(nx, m)); cols.append(np.arange(nx))
                vals.append(prob.role_fte_per_team[r, xi[:, 1]])
                lo.append([-np.inf]); hi.append([float(prob.role_cap[r])]); m += 1
    if floors is not None and floors.active:
        if floors.precinct_min is not None:
            for i in np.flatnonzero(floors.precinct_min > 0).tolist():
                k = np.flatnonzero(zi[:, 0] == i)
                rows.append(np.full(k.size, m)); cols.append(nx + k); vals.append(zg[k])
                lo.append([float(floors.precinct_min[i])]); hi.append([np.inf]); m += 1
        if floors.borough_min is not None:
            zb = floors.borough_index[zi[:, 0]]
            for b in np.flatnonzero(floors.borough_min > 0).tolist():
                k = np.flatnonzero(zb == b)
                rows.append(np.full(k.size, m)); cols.append(nx + k); vals.append(zg[k])
                lo.append([float(floors.borough_min[b])]); hi.append([np.inf]); m += 1
    A = csc_from_triplets(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                          (m, nx + nz))
    if objective == "coverage":
        c = np.concatenate([-tie_break_per_usd * cost[xi[:, 1]], zg])
    else:
        c = np.concatenate([cost[xi[:, 1]], np.zeros(nz)])
    col_lo = np.concatenate([prob.min_teams[xi[:, 0], xi[:, 1]].astype(float), np.zeros(nz)])
    col_hi = np.concatenate([prob.max_teams[xi[:, 0], xi[:, 1]].astype(float), np.ones(nz)])
    model = ArrayModel(c=c, A=A, row_lo=np.concatenate([np.asarray(v, float) for v in lo]),
                       row_hi=np.concatenate([np.asarray(v, float) for v in hi]),
                       col_lo=col_lo, col_hi=col_hi, maximize=objective == "coverage",
                       integer=(np.arange(nx + nz) < nx) if integer else None)
    return model, xi


def shared_start_values(reach, xi: np.ndarray, zi: np.ndarray, teams: np.ndarray) -> np.ndarray:
    """MIP start for the columns of :func:`shared_lp_arrays` / :func:`build_shared_model`:
    ``x`` from the plan, ``z`` (levels ``zi`` (nz, 3) (i, s, n)) filled in order up to the
    teams in range."""
    xv = np.asarray(teams)[xi[:, 0], xi[:, 1]].astype(float)
    counts = in_range(reach, teams)
    zv = (zi[:, 2] < counts[zi[:, 0], zi[:, 1]]).astype(float)
    return np.concatenate([xv, zv])


def diagnose_roles(prob: ProblemData) -> list[str]:
    """Role caps that the minimum staffing already exceeds."""
    if prob.role_fte_per_team is None or prob.role_cap is None:
        return []
    need = prob.role_fte_per_team @ prob.min_teams.sum(axis=0)
    out = []
    for r, name in enumerate(prob.role_names):
        if need[r] > prob.role_cap[r] * (1 + 1e-12):
            out.append(f"{prob.min_teams_label} needs {need[r]:,.1f} FTE {name} but"
                       f" workforce.max_headcount.{name} allows {prob.role_cap[r]:,.1f}")
    return out


# ----------------------------------------------------------------------------------------
# the LP relaxation priced by slot (budget dualized): one LP per slot, as arrays
# ----------------------------------------------------------------------------------------
@dataclass(eq=False)
class SlotLpGroup:
    """Slots whose LPs share one constraint matrix (the same preference lists).

    Columns: ``x_j`` for every location ``j`` (teams in the slot), then ``z`` levels
    ``z_index`` (cell, level) for every level that is positive in some slot of the group.
    Rows: one link row per cell with levels (``sum_n z_in - sum_{j in range} x_j <= 0``),
    then the slot cap (``sum_j x_j <= cap_s``)."""

    base: ArrayModel
    slots: np.ndarray
    z_index: np.ndarray  # (nz, 2) (i, n)


def slot_lp_groups(prob: ProblemData, G: np.ndarray, pref: Preferences) -> list[SlotLpGroup]:
    """The LP of :func:`shared_lp_arrays` split by slot once the budget row is priced out
    (``models/shared_coverage.md``, "LP bound by slot"); slots with identical preference
    lists share a matrix."""
    P, S = prob.shape
    loc = pref.loc
    if S == 1 or loc.strides[0] == 0:
        keys = {0: np.arange(S)}
    else:
        by: dict = {}
        for s in range(S):
            by.setdefault(loc[s].tobytes(), []).append(s)
        keys = {v[0]: np.asarray(v) for v in by.values()}
    npos = (G > 0).sum(axis=-1)  # (P, S) positive levels (a prefix: G falls with the level)
    out = []
    for s0, slots in keys.items():
        lmax = npos[:, slots].max(axis=1)  # (P,)
        cells = np.flatnonzero(lmax > 0)
        zi = np.column_stack([np.repeat(cells, lmax[cells]),
                              np.concatenate([np.arange(k) for k in lmax[cells]])
                              if cells.size else np.zeros(0, dtype=np.int64)]).astype(np.int64)
        nz = len(zi)
        row_of_cell = -np.ones(P, dtype=np.int64)
        row_of_cell[cells] = np.arange(cells.size)
        lo_ = np.asarray(loc[s0])[cells]  # (cells, L) locations in range
        r_idx, l_idx = np.nonzero(lo_ < P)
        rows = [row_of_cell[zi[:, 0]], r_idx, np.full(P, cells.size)]
        cols = [P + np.arange(nz), lo_[r_idx, l_idx], np.arange(P)]
        vals = [np.ones(nz), -np.ones(r_idx.size), np.ones(P)]
        m = cells.size + 1
        A = csc_from_triplets(np.concatenate(rows), np.concatenate(cols),
                              np.concatenate(vals), (m, P + nz))
        base = ArrayModel(c=np.zeros(P + nz), A=A, row_lo=np.full(m, -np.inf),
                          row_hi=np.zeros(m), col_lo=np.zeros(P + nz),
                          col_hi=np.ones(P + nz), maximize=True)
        out.append(SlotLpGroup(base=base, slots=np.asarray(slots), z_index=zi))
    return out


def slot_lp_vectors(prob: ProblemData, G: np.ndarray, group: SlotLpGroup, s: int,
                    price_per_usd: float) -> tuple[np.ndarray, ...]:
    """(c, col_lo, col_hi, row_lo, row_hi) of slot ``s``'s LP at the budget price
    ``price_per_usd`` (covered calls/year per USD/year): ``max sum G z - price * cost_s *
    sum_j x_j`` over the slot's link rows and cap."""
    P = prob.shape[0]
    zi = group.z_index
    g = G[zi[:, 0], s, zi[:, 1]]
    cost = prob.team_cost_per_year()[s]
    c = np.concatenate([np.full(P, -price_per_usd * cost), g])
    col_lo = np.concatenate([prob.min_teams[:, s].astype(float), np.zeros(len(zi))])
    col_hi = np.concatenate([prob.max_teams[:, s].astype(float), (g > 0).astype(float)])
    m = group.base.A.shape[0]
    row_hi = np.zeros(m)
    row_hi[-1] = float(prob.slot_cap[s])
    return c, col_lo, col_hi, np.full(m, -np.inf), row_hi
