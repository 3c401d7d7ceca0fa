r"""Local busy probabilities of a plan: an approximate hypercube model (Larson 1975; Jarvis 1985;
several teams per location as in Budge, Ingolfsson & Erkut 2009).

A plan puts ``x[j, s]`` teams at precinct ``j`` in slot ``s``. A call in precinct ``i`` goes to
the nearest free team among those within the response standard (``reach[s, i, j]``, preference
by trip time ``travel_min[s, j, i]``), else (after waiting up to ``max_wait_min``) gets the
traditional response. Each team at ``j`` is unavailable (on a call or on a break) with
probability ``q[j, s]``: its *local* busy probability. With the locations in range ordered by
trip time, the chance that the first l locations are all busy is the geometric mean of two
approximations that bracket the exact hypercube:

- locations independent, the teams of one location busy together:
  ``prod_{m <= l} beta(x_{j_m}, q_{j_m})``, with ``beta(n, q)`` Erlang's loss of the
  symmetric n-server system at occupancy q (optimistic: neighbours share calls, so they are
  busy together more often than independence says);
- Larson's correction over the slot's whole fleet: ``A_N[k] prod_u q_u`` over the first k
  teams, with ``A_N`` the dependence factors of a symmetric N-team loss system
  (:func:`bheard.queueing.busy_set_factors`; pessimistic for teams far apart).

A call of ``i`` goes to the l-th location with probability ``P(first l-1 busy) - P(first l
busy)`` and is lost with ``P(all busy)`` times the chance that no busy team frees up within the
wait. The work each location receives (lagged calls/hour x hours of the trip and the service)
plus the breaks ``1 - alpha`` gives new occupancies; the equations are iterated to their fixed
point (:func:`plan_busy`). With one location (an isolated precinct, or a pooled zone) both
approximations are Erlang's loss formula. Against the exact hypercube (a CTMC over team states,
``tests/test_shared.py``) the covered share of a precinct is off by at most 1.7 points on small
instances.

For the MIP the estimate is frozen per demand precinct-slot: the equivalent load ``a[i, s]``
(:func:`equivalent_load`) makes an Erlang pool of the teams in range lose what the hypercube
says at the current plan, and the n-th team in range adds ``E (B(n-1, a) - B(n, a))`` covered
calls (:func:`frozen_gains`). Write-up and references: ``models/shared_coverage.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bheard.model.base import Preferences, covered_from_counts, preferences

from bheard.queueing import (busy_set_factors_at_loads, erlang_b, erlang_b_table,
                             load_for_occupancy)

#: occupancy grid of the all-busy tables of :func:`all_busy_at` (interpolated in between)
RHO_GRID = np.linspace(0.0, 0.9995, 4001)


@dataclass
class BusyState:
    """The plan's own local busy probabilities and what they imply (fixed point of
    :func:`plan_busy`).

    ``q`` (P, S): occupancy (busy or on a break) of a team at each location; for a location
    without teams, the occupancy a first team there would have. ``lost`` (P, S): share of each
    precinct's calls that get no team; ``covered`` (P, S): covered calls/year;
    ``teams_in_range`` (P, S); ``iterations`` and final ``change`` of the inner fixed point.
    """

    q: np.ndarray
    lost: np.ndarray
    covered: np.ndarray
    teams_in_range: np.ndarray
    iterations: int
    change: float


def all_busy_at(n: np.ndarray, q: np.ndarray) -> np.ndarray:
    """P(all n teams at one location busy) when each is busy with probability q: the
    symmetric loss system of n servers at occupancy q (Erlang B at the load giving that
    occupancy); interpolated on a uniform occupancy grid of :data:`RHO_GRID` points (1 at
    ``n = 0`` or ``q = 1``)."""
    n = np.asarray(n, dtype=np.int64)
    q = np.asarray(q, dtype=float)
    tab = _busy_table(int(n.max()) if n.size else 0)
    m = tab.shape[1] - 1
    x = np.clip(q, 0.0, 1.0) * m
    i0 = np.minimum(x.astype(np.int64), m - 1)
    f = x - i0
    return tab[n, i0] * (1.0 - f) + tab[n, i0 + 1] * f


_ALL_BUSY: dict = {}


def _busy_table(kmax: int) -> np.ndarray:
    """(kmax + 1, G) :func:`all_busy_at` on the uniform grid (cached, grown as needed)."""
    tab = _ALL_BUSY.get("table")
    if tab is not None and tab.shape[0] > kmax:
        return tab
    kmax = max(kmax, 8, 0 if tab is None else tab.shape[0] - 1)
    grid = np.linspace(0.0, 1.0, len(RHO_GRID))
    rows = [np.ones(grid.size)]
    inner = grid[:-1]
    for k in range(1, kmax + 1):
        a = np.atleast_1d(load_for_occupancy(np.full(inner.size, k), inner))
        rows.append(np.append(np.asarray(erlang_b(k, a), dtype=float), 1.0))
    tab = _ALL_BUSY["table"] = np.vstack(rows)
    return tab

#: cells (slots x precincts x preference levels) walked at a time by plan_busy (pieces that
#: stay in cache: the 2000x168 walk took 8x the 1000x84 one for 4x the cells)
WALK_CELLS = 1 << 18

#: occupancy grid of the fleet dependence tables (:func:`fleet_dependence`)
FLEET_GRID = np.linspace(0.0, 0.999, 1001)
_FLEET: dict = {}


def fleet_dependence(N: int, rho: float, kmax: int) -> np.ndarray:
    """(kmax + 1,) Larson's dependence factors ``A[k]`` of a symmetric fleet of ``N`` teams at
    occupancy ``rho`` (:func:`bheard.queueing.busy_set_factors`), tabulated per ``N`` on
    :data:`FLEET_GRID` (the rows a call needs, cached) and interpolated."""
    return fleet_dependences(np.array([N]), np.array([rho], dtype=float), kmax)[0]


def fleet_dependences(N: np.ndarray, rho: np.ndarray, kmax: int) -> np.ndarray:
    """(len(N), kmax + 1) :func:`fleet_dependence` of several fleets (e.g. every slot's) at
    once: the grid rows missing from the cache get their loads in one bisection."""
    N = np.asarray(N, dtype=np.int64)
    x = np.clip(np.asarray(rho, dtype=float), 0.0, FLEET_GRID[-1]) / FLEET_GRID[-1] * (
        len(FLEET_GRID) - 1)
    i0 = np.minimum(x.astype(np.int64), len(FLEET_GRID) - 2)
    f = x - i0
    # the table is filled lazily, two grid rows at a time (each row depends on its own
    # occupancy only, so the values are those of the whole table; a plan visits few rows).
    # The fleet's load comes from Erlang B in closed form (bheard.queueing.erlang_b_closed:
    # the recursion costs a step per team at every bisection step; they agree to 1e-10)
    need = sorted({(int(n), int(i)) for n, r in zip(N.tolist(), i0.tolist()) for i in (r, r + 1)
                   if i not in _FLEET.setdefault((int(n), kmax), {})})
    if need:
        nn = np.array([n for n, _ in need], dtype=np.int64)
        rr = FLEET_GRID[[i for _, i in need]]
        a = np.atleast_1d(load_for_occupancy(np.maximum(nn, 1), np.clip(rr, 1e-9, 1 - 1e-9),
                                             closed_form=True))
        for n in np.unique(nn).tolist():
            k = np.flatnonzero(nn == n)
            rows = _factor_grid(n, rr[k], kmax, loads=a[k])
            for j, row in zip(k.tolist(), rows):
                _FLEET[(n, kmax)][need[j][1]] = row
    out = np.empty((len(N), kmax + 1))
    for s, (n, i, w) in enumerate(zip(N.tolist(), i0.tolist(), f.tolist())):
        rows = _FLEET[(n, kmax)]
        out[s] = (1 - w) * rows[i] + w * rows[i + 1]
    return out


def _factor_grid(N: int, rhos: np.ndarray, kmax: int, loads: np.ndarray | None = None
                 ) -> np.ndarray:
    """(R, kmax + 1) :func:`bheard.queueing.busy_set_factors` for every occupancy in ``rhos``
    (vectorised); 0 beyond ``k > N``. ``loads``: the fleet's offered loads at those
    occupancies when already known."""
    R = len(rhos)
    if N < 1:
        A = np.zeros((R, kmax + 1))
        A[:, 0] = 1.0
        return A
    r = np.clip(np.asarray(rhos, float), 1e-9, 1.0 - 1e-9)
    a = (np.atleast_1d(load_for_occupancy(np.full(R, N), r, closed_form=True))
         if loads is None else np.asarray(loads, dtype=float))
    A = busy_set_factors_at_loads(N, a, kmax)
    bad = ~np.isfinite(A) | (np.asarray(rhos)[:, None] <= 1e-6)
    A[bad] = 1.0
    A[:, min(kmax, N) + 1:] = 0.0
    return A


def _walk(pref: Preferences, x: np.ndarray, q: np.ndarray, wait_h: float,
          factors: np.ndarray | None = None):
    """Per (s, i, l): P(call of i goes to the l-th location), P(lost) per (s, i), the teams at
    each preferred location, P(every location ahead of the l-th busy) and the calls that
    waited. ``factors`` (S, K + 1): Larson's symmetric dependence factors of each slot's whole
    fleet (:func:`bheard.queueing.busy_set_factors`); None = locations independent."""
    S, P, L = pref.loc.shape
    xs = np.concatenate([x.T, np.zeros((S, 1))], axis=1)  # (S, P + 1), padding has 0 teams
    qs = np.concatenate([q.T, np.ones((S, 1))], axis=1)
    srows = np.arange(S)[:, None, None]
    n = xs[srows, pref.loc]  # (S, P, L) teams at each preferred location
    ql = np.clip(qs[srows, pref.loc], 1e-12, 1.0)
    k = np.concatenate([np.zeros((S, P, 1)), np.cumsum(n, axis=2)], axis=2).astype(np.int64)
    logb = np.log(np.clip(all_busy_at(n, ql), 1e-300, 1.0))
    zero = np.zeros((S, P, 1))
    log_first = np.concatenate([zero, np.cumsum(logb, axis=2)], axis=2)
    if factors is not None:
        # Larson's correction over the slot's whole fleet: A[k] times the product of the
        # individual busy probabilities of the first k teams
        indep = np.concatenate([zero, np.cumsum(n * np.log(ql), axis=2)], axis=2)
        kk = np.minimum(k, factors.shape[1] - 1)
        with np.errstate(divide="ignore"):
            log_f = np.log(factors)  # (S, K + 1), small; A = 0 beyond the fleet: -inf
        log_larson = np.take_along_axis(np.broadcast_to(log_f[:, None, :],
                                                        (S, P, factors.shape[1])), kk, axis=2)
        # the two approximations bracket the exact hypercube (locations independent is
        # optimistic, one symmetric fleet overstates how busy far-apart teams are together):
        # their geometric mean (models/shared_coverage.md, tests/test_shared.py), in logs:
        # sqrt(first * min(larson, 1)) with one exp
        log_first = 0.5 * (log_first + np.minimum(log_larson + indep, 0.0))
    busy_first = np.exp(log_first)
    busy_first = np.minimum.accumulate(np.minimum(busy_first, 1.0), axis=2)
    to_loc = busy_first[:, :, :-1] - busy_first[:, :, 1:]
    lost = busy_first[:, :, -1]
    before = busy_first[:, :, :-1]  # P(every location ahead of the l-th is busy)
    if wait_h > 0:
        nt = k[:, :, -1].astype(float)
        bbar = np.where(nt > 0, (to_loc * pref.busy_h).sum(axis=2) / np.maximum(
            to_loc.sum(axis=2), 1e-300), 1.0)
        bbar = np.where(bbar > 0, bbar, 1.0)
        freed = lost * (1.0 - np.exp(-nt * wait_h / bbar))
        lost = lost - freed
        # waiting calls go to the teams in range in proportion to their numbers
        waited = freed[..., None] * n / np.maximum(nt[..., None], 1e-300)
        return to_loc + waited, lost, n, before, waited
    return to_loc, lost, n, before, np.zeros_like(to_loc)


def _pooler(group: np.ndarray, ng: int):
    """A function summing (P, S) values over the slots of each group into (P, ng): the
    values themselves when every slot is its own group, else sums over runs of the slots
    sorted by group (no matrix product: a BLAS call per step is slow on a busy machine)."""
    S = len(group)
    if ng == S and np.array_equal(group, np.arange(S)):
        return lambda v: v
    order = np.argsort(group, kind="stable")
    present = np.bincount(group, minlength=ng) > 0
    if not present.all():
        onehot = np.zeros((S, ng))
        onehot[np.arange(S), group] = 1.0
        return lambda v: v @ onehot
    starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0])
    return lambda v: np.add.reduceat(v[:, order], starts, axis=1)


def _occupancy_root(xi: np.ndarray, Ah: np.ndarray, eh: np.ndarray, team_h: np.ndarray,
                    base: float, group: np.ndarray, pool) -> np.ndarray:
    """(P, ng) the occupancy ``q`` in [0, 1] solving ``q = base + pool(Ah (1 - B(x, q)) + eh)
    / team_h`` (the right side falls as ``q`` rises, so the root is unique; 1 when the right
    side stays above 1). ``B`` (:func:`all_busy_at`) is linear in ``q`` between the points of
    its uniform grid, so a bisection over the grid cells (12 steps for 4,000 cells) finds the
    root's cell and one linear solve inside it gives the root exactly (a bisection on ``q``
    itself needs 40 steps to come within 1e-12 of it)."""
    tab = _busy_table(int(xi.max()) if xi.size else 0)
    m = tab.shape[1] - 1

    def rhs(k):  # right side at q = k / m, k (P, ng) grid indices
        with np.errstate(divide="ignore", invalid="ignore"):
            return base + pool(Ah * (1.0 - tab[xi, k[:, group]]) + eh) / team_h

    shape = team_h.shape
    lo = np.zeros(shape, dtype=np.int64)
    hi = np.full(shape, m + 1, dtype=np.int64)  # low(m + 1) is false by convention
    start = 0.0 < rhs(lo)  # low(0): q = 0 lies below the right side
    while True:
        open_ = hi - lo > 1
        if not open_.any():
            break
        mid = np.where(open_, (lo + hi) // 2, lo)
        low = (mid / m < rhs(mid)) & open_
        lo = np.where(low, mid, lo)
        hi = np.where(open_ & ~low, mid, hi)
    k = lo
    # the root lies in [k / m, (k + 1) / m], where the right side is linear
    k1 = np.minimum(k + 1, m)
    r0, r1 = rhs(k), rhs(k1)
    d = np.where(k1 > k, r1 - r0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (r0 - d * k) / (1.0 - d * m)
    q = np.clip(np.where(np.isfinite(q), q, k / m), k / m, k1 / m)
    q = np.where(k >= m, 1.0, q)
    return np.where(start, np.clip(q, base, 1.0), 0.0 if base <= 0 else base)


#: preference-list widths of the walk's precinct groups (a group walks its own width)
WALK_WIDTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)


@dataclass(eq=False)
class _WalkPiece:
    """Some slots and some precincts of a walk, with their preference lists cut to the
    longest list among those precincts, and the rates, validity and intake of those cells."""

    slots: slice
    pref: Preferences
    rate: np.ndarray
    valid: np.ndarray
    lam_in: np.ndarray
    idx: np.ndarray
    n_locations: int

    def loc_sum(self, vals: np.ndarray) -> np.ndarray:
        """(P, slots) sum of (slots, precincts, width) values over the precincts each location
        serves."""
        Sc, P = self.pref.loc.shape[0], self.n_locations
        out = np.bincount(self.idx, weights=vals.ravel(), minlength=Sc * (P + 1))
        return out.reshape(Sc, P + 1)[:, :P].T


def _walk_pieces(pref: Preferences, rate: np.ndarray, valid: np.ndarray,
                 lam_in: np.ndarray) -> list[_WalkPiece]:
    """Split a walk into pieces that are exact and cheap: precincts grouped by the length of
    their preference lists (the lists are padded to the longest in the city; a location past a
    precinct's own list has no teams and changes nothing in the walk, so cutting it is exact:
    at 2,000 x 168 the lists are 14 long for 4.9 locations on average), and the slots walked
    a chunk at a time so that a piece's arrays stay in cache (about ``WALK_CELLS`` cells)."""
    S, P, L = pref.loc.shape
    width = np.asarray(pref.size).max(axis=0) if S else np.zeros(P, dtype=np.int64)
    steps = np.array([w for w in WALK_WIDTHS if w < L] + [L])
    bucket = steps[np.minimum(np.searchsorted(steps, np.maximum(width, 1)), len(steps) - 1)]
    out = []
    for Lb in np.unique(bucket).tolist():
        I = np.flatnonzero(bucket == Lb)
        chunk = max(1, WALK_CELLS // max(I.size * Lb, 1))
        for a0 in range(0, S, chunk):
            sl = slice(a0, min(S, a0 + chunk))
            loc = np.ascontiguousarray(pref.loc[sl][:, I, :Lb])
            sub = Preferences(loc=loc, busy_h=np.ascontiguousarray(pref.busy_h[sl][:, I, :Lb]),
                              size=np.ascontiguousarray(pref.size[sl][:, I]))
            Sc = loc.shape[0]
            idx = (np.arange(Sc)[:, None, None] * (P + 1) + loc).ravel()
            out.append(_WalkPiece(sl, sub, np.ascontiguousarray(rate[sl][:, I, :Lb]),
                                  np.ascontiguousarray(valid[sl][:, I, :Lb]),
                                  np.ascontiguousarray(lam_in[sl][:, I]), idx, P))
    return out


#: iterates the plan's busy-probability fixed point mixes (Anderson acceleration; 0 = plain
#: damped steps). Measured: 23 damped steps to 1e-6 at 1000x84 and 2000x168 (below)
ANDERSON_DEPTH = 5


class _Anderson:
    """Anderson acceleration (Walker and Ni 2011, type II) of a fixed-point iteration
    ``q <- G(q)`` (here the damped Jacobi step of :func:`plan_busy`): the next iterate mixes the
    last ``depth`` steps so that the linearised residual is smallest. Only where the iteration
    goes changes, not where it stops (the caller still stops on its own residual, and the
    fixed point is the same); a step whose residual grows restarts the history with a plain
    step, and iterates are clipped to ``[lo, hi]``."""

    def __init__(self, depth: int, lo: float, hi: float):
        self.depth, self.lo, self.hi = depth, lo, hi
        self.x: list = []
        self.f: list = []
        self.last = np.inf

    def step(self, q: np.ndarray, g: np.ndarray, change: float) -> np.ndarray:
        if self.depth <= 0:
            return g
        r = (g - q).ravel()
        if change > 2.0 * self.last:  # diverging: restart from the plain step
            self.x, self.f = [], []
        self.last = change
        self.x.append(q.ravel().copy())
        self.f.append(r)
        if len(self.x) > self.depth + 1:
            self.x.pop(0)
            self.f.pop(0)
        if len(self.x) < 2:
            return g
        dF = np.diff(np.array(self.f), axis=0).T  # (n, m)
        dX = np.diff(np.array(self.x), axis=0).T
        gamma = np.linalg.lstsq(dF, r, rcond=None)[0]
        nxt = q.ravel() + r - (dX + dF) @ gamma
        if not np.all(np.isfinite(nxt)):
            self.x, self.f = [], []
            return g
        return np.clip(nxt, self.lo, self.hi).reshape(q.shape)


def plan_busy(prob, pref: Preferences, teams: np.ndarray, group: np.ndarray | None = None,
              q0: np.ndarray | None = None, damping: float = 0.7, tol: float = 1e-6,
              max_iter: int = 300, rho_max: float = 0.999) -> BusyState:
    """The plan's own local busy probabilities (approximate hypercube fixed point).

    ``prob``: :class:`bheard.problem.ProblemData` (calls, lagged workload rates, carried-over
    share, availability, wait, handover); ``group`` (S,) pools each location's workload over
    slots (e.g. the days of a tour); default each slot alone. Returns a :class:`BusyState`.
    """
    x = np.asarray(teams, dtype=float)
    P, S = x.shape
    group = np.arange(S) if group is None else np.asarray(group)
    ng = int(group.max()) + 1 if S else 0
    lam_carry = prob.carried_over_rates()  # (P, S) calls/hour
    lam_in = prob.workload_rates() - lam_carry
    h = np.asarray(prob.slot_hours, dtype=float)
    alpha = float(prob.availability)
    wait_h = float(prob.max_wait_min) / 60.0
    srows = np.arange(S)[:, None, None]
    # calls in service at a tour change stay on the posts that continue ("post" handover);
    # the overrun of a post that ends is overtime and burdens nobody
    cont = prob.carry_share_of(x)
    cont_s = np.concatenate([cont.T, np.zeros((S, 1))], axis=1)  # (S, P + 1)
    rate = lam_in.T[:, :, None] + lam_carry.T[:, :, None] * cont_s[srows, pref.loc]
    pool = _pooler(group, ng)  # (P, S) -> (P, ng): sum over the slots of each group
    team_h = pool(x * h[None, :])  # (P, ng) team-hours of each location and group
    hg = np.bincount(group, weights=h, minlength=ng)
    valid = pref.loc < P
    q = np.full((P, S), min(0.5, rho_max)) if q0 is None else np.array(q0, dtype=float)
    it, change = 0, np.inf
    xi = x.astype(np.int64)
    N = x.sum(axis=0).astype(np.int64)
    kmax = int(min(N.max(), max_in_range_pref(prob, pref).max())) if N.size else 0

    def fleet_factors(q_):
        rho = np.where(N > 0, (x * q_).sum(axis=0) / np.maximum(N, 1), 0.0)
        return fleet_dependences(N, rho, kmax)

    pieces = _walk_pieces(pref, rate, valid, lam_in.T[:, :, None])

    def walk_loads(q_, F_):
        """(P, S) work offered to each location when all ahead are busy, the waiting calls'
        work and a first team's share of the calls lost around it (see below), Erlangs."""
        A_, ex_, fi_ = np.zeros((P, S)), np.zeros((P, S)), np.zeros((P, S))
        for pc in pieces:
            sl = pc.slots
            _, lost_, _, before_, waited_ = _walk(pc.pref, x[:, sl], q_[:, sl], wait_h, F_[sl])
            A_[:, sl] += pc.loc_sum(pc.rate * before_ * pc.pref.busy_h)
            ex_[:, sl] += pc.loc_sum(pc.rate * waited_ * pc.pref.busy_h)
            fi_[:, sl] += pc.loc_sum(np.where(pc.valid, pc.lam_in * lost_[:, :, None]
                                              * pc.pref.busy_h
                                              / np.maximum(pc.pref.size[:, :, None], 1), 0.0))
        return A_, ex_, fi_

    accel = _Anderson(ANDERSON_DEPTH, 0.0, rho_max)
    for it in range(1, max_iter + 1):
        F = fleet_factors(q)
        # work offered to a location's teams when everyone ahead of them is busy, Erlangs:
        # it carries A (1 - beta(x, q)), decreasing in its own q (teams busy together)
        A, extra, first = walk_loads(q, F)  # (P, S)
        Ah, eh = A * h[None, :], extra * h[None, :]
        # each location's occupancy solves q = (1 - alpha) + work(q) / team hours (monotone):
        # bisection, everything else held at the current iterate (nonlinear Jacobi)
        q_team = _occupancy_root(xi, Ah, eh, team_h, 1.0 - alpha, group, pool)
        # a location without teams: the occupancy a first team there would have if it took a
        # share of the calls its neighbourhood now loses (one server with breaks:
        # q = (1 - alpha + a) / (1 + a))
        a_v = pool(first * h[None, :]) / np.maximum(hg[None, :], 1e-300)
        q_virtual = (1.0 - alpha + a_v) / (1.0 + a_v)
        q_new = np.clip(np.where(team_h > 0, q_team, q_virtual), 0.0, rho_max)[:, group]
        change = float(np.max(np.abs(q_new - q))) if q.size else 0.0
        if change < tol:
            q = q + damping * (q_new - q)
            break
        q = accel.step(q, q + damping * (q_new - q), change)
    _, lost, n, _, _ = _walk(pref, x, q, wait_h, fleet_factors(q))
    lost = lost.T  # (P, S)
    covered = prob.eligible_calls_per_year() * (1.0 - lost)
    return BusyState(q=q, lost=lost, covered=covered, teams_in_range=n.sum(axis=2).T,
                     iterations=it, change=change)


def dispatch_shares(prob, pref: Preferences, teams: np.ndarray, state: BusyState
                    ) -> np.ndarray:
    """(S, P, L) the share of precinct i's calls in slot s that go to its l-th preferred
    location, at the plan's own busy probabilities ``state.q`` (lost calls excluded)."""
    x = np.asarray(teams, dtype=float)
    N = x.sum(axis=0).astype(np.int64)
    kmax = int(min(N.max(), max_in_range_pref(prob, pref).max())) if N.size else 0
    rho = np.where(N > 0, (x * state.q).sum(axis=0) / np.maximum(N, 1), 0.0)
    F = fleet_dependences(N, rho, kmax)
    to_loc, _, _, _, _ = _walk(pref, x, state.q, float(prob.max_wait_min) / 60.0, F)
    return to_loc


def equivalent_load(state: BusyState) -> np.ndarray:
    """(P, S) Erlangs ``a`` such that an Erlang pool of the precinct's ``n`` teams in range
    loses what the hypercube says: ``B(n, a) = lost`` (for ``n = 0``: the load at which a
    first team, busy ``q`` of the time at the precinct's own location, loses ``q``:
    ``a = q / (1 - q)``). With these loads the MIP's gains (:func:`frozen_gains`) reproduce
    the plan's own coverage exactly at its own team counts."""
    n = state.teams_in_range.astype(np.int64)
    lost = np.clip(state.lost, 0.0, 1.0 - 1e-12)
    q_own = np.clip(state.q, 0.0, 1.0 - 1e-9)
    a0 = q_own / (1.0 - q_own)
    lo = np.zeros(lost.shape)
    hi = np.maximum(a0, 1.0)
    target = np.where(n > 0, lost, 0.0)
    while True:
        low = (erlang_b(np.maximum(n, 0), hi) < target) & (n > 0)
        if not low.any():
            break
        hi = np.where(low, hi * 2.0, hi)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        low = erlang_b(n, mid) < target
        lo = np.where(low, mid, lo)
        hi = np.where(low, hi, mid)
    return np.where(n > 0, 0.5 * (lo + hi), a0)


def frozen_gains(prob, pref: Preferences, load: np.ndarray) -> np.ndarray:
    """(P, S, L) gain of the n-th team in range at the frozen equivalent loads, calls/year:
    ``E (B(n-1, a) - B(n, a))`` (Erlang's loss, convex in n, so the gains fall with n and
    the MIP's level variables need no integrality). Levels beyond the teams that can be in
    range are zero."""
    cap = max_in_range_pref(prob, pref)
    L = max(int(cap.max()) if cap.size else 1, 1)
    B = erlang_b_table(load, L)  # (P, S, L + 1)
    G = prob.eligible_calls_per_year()[..., None] * np.maximum(B[..., :-1] - B[..., 1:], 0.0)
    G = np.minimum.accumulate(G, axis=2)
    G[np.arange(L)[None, None, :] >= cap[..., None]] = 0.0
    return G


def max_in_range_pref(prob, pref: Preferences) -> np.ndarray:
    """(P, S) most teams that can be in range of each precinct-slot."""
    S = pref.loc.shape[0]
    mt = np.concatenate([prob.max_teams.T, np.zeros((S, 1), dtype=np.int64)], axis=1)
    return mt[np.arange(S)[:, None, None], pref.loc].sum(axis=2).T


def busy_group(prob, by: str) -> np.ndarray:
    """(S,) the slots whose workload pools into one busy probability per location:
    ``"tour"`` (a tour's slots over the days) or ``"slot"`` (each slot alone)."""
    S = prob.shape[1]
    if by == "tour":
        return np.unique(prob.slot_tour, return_inverse=True)[1].ravel()
    return np.arange(S)


@dataclass
class SampledBusyState(BusyState):
    """A :class:`BusyState` averaged over the blocks of a :class:`LocalBusyModel` (``q``,
    ``lost`` and ``covered`` the means over blocks, (P, S)), with the state of every block
    side by side in ``stack`` ((P, n S) arrays)."""

    stack: BusyState | None = None


@dataclass(eq=False)
class LocalBusyModel:
    """The local busy-probability model of one problem, or of several demand samples of it at
    once (``models/shared_coverage.md``, ``models/stochastic.md``), as the fixed-point driver
    (:func:`bheard.optimize.fixed_point.solve_shared`) uses it.

    ``prob``: the problem whose slots are ``blocks`` copies of the plan's ``S`` slots (slot
    ``m S + s`` = slot ``s`` under sample ``m``; one block = the problem itself, see
    :meth:`bheard.problem.samples.SampledProblem.stacked`); ``pref`` its preference lists and
    ``group`` its busy-probability groups (distinct per block). Loads are (P, blocks S); the
    gains of the MIP are the mean over blocks of each block's frozen gains (calls/year, the
    expected gains over the samples); a plan's own state comes from :func:`plan_busy` of the
    plan repeated in every block.
    """

    prob: object
    pref: Preferences
    group: np.ndarray
    blocks: int = 1
    _last: list = None

    def __post_init__(self):
        self._last = []

    @property
    def S(self) -> int:
        return self.prob.shape[1] // self.blocks

    def _mean(self, a: np.ndarray) -> np.ndarray:
        if self.blocks == 1:
            return a
        P = a.shape[0]
        return a.reshape((P, self.blocks, self.S) + a.shape[2:]).mean(axis=1)

    def tile(self, teams: np.ndarray) -> np.ndarray:
        t = np.asarray(teams)
        return t if self.blocks == 1 else np.tile(t, (1, self.blocks))

    def initial_loads(self, q0: float) -> np.ndarray:
        """(P, blocks S) equivalent loads where every team is busy ``q0`` of the time:
        ``q0 / (1 - q0)`` Erlangs per team (one team in range then loses ``q0``)."""
        return np.full(self.prob.shape, q0 / (1.0 - q0))

    def gains(self, load: np.ndarray) -> np.ndarray:
        """(P, S, L) the MIP's gains at the frozen loads: the mean over blocks of
        :func:`frozen_gains` (each block's falls with the level, so does the mean)."""
        stack = frozen_gains(self.prob, self.pref, load)
        G = self._mean(stack)
        self._last = ([(G, stack)] + self._last)[:2]
        return G

    def own(self, teams: np.ndarray, q0: np.ndarray | None = None) -> SampledBusyState:
        """The plan's own busy probabilities in every block (:func:`plan_busy`), and their
        means; ``q0`` (P, blocks S) a warm start."""
        st = plan_busy(self.prob, self.pref, self.tile(teams), self.group, q0=q0)
        if self.blocks == 1:
            return SampledBusyState(st.q, st.lost, st.covered, st.teams_in_range,
                                    st.iterations, st.change, stack=st)
        return SampledBusyState(self._mean(st.q), self._mean(st.lost), self._mean(st.covered),
                                st.teams_in_range[:, :self.S], st.iterations, st.change,
                                stack=st)

    def target(self, state: SampledBusyState) -> np.ndarray:
        """(P, blocks S) the loads that reproduce the plan's own coverage in every block
        (:func:`equivalent_load`)."""
        return equivalent_load(state.stack)

    def change(self, G: np.ndarray, state: SampledBusyState) -> tuple[float, float]:
        """How far the frozen estimate behind ``G`` is from the plan's own busy
        probabilities, block by block: the calls-weighted mean over every block and
        precinct-slot of the absolute difference of covered calls (share of the calls), and
        the largest difference of one precinct-slot's covered share in one block."""
        stack = next((s for g, s in self._last if g is G), None)
        if stack is None:
            raise ValueError("LocalBusyModel.change: G is not one of the last gains built")
        frozen = covered_from_counts(stack, state.stack.teams_in_range)
        eligible = self.prob.eligible_calls_per_year()
        diff = np.abs(frozen - state.stack.covered)
        total = float(eligible.sum())
        mean = float(diff.sum() / total) if total > 0 else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(eligible > 0, diff / np.maximum(eligible, 1e-300), 0.0)
        return mean, (float(share.max()) if share.size else 0.0)

    def covered_by_block(self, teams: np.ndarray) -> np.ndarray:
        """(blocks, P, S) a plan's covered calls/year in each block at its own busy
        probabilities there."""
        st = plan_busy(self.prob, self.pref, self.tile(teams), self.group)
        P = st.covered.shape[0]
        return np.moveaxis(st.covered.reshape(P, self.blocks, self.S), 1, 0)


def tile_preferences(pref: Preferences, n: int) -> Preferences:
    """``pref`` repeated for ``n`` blocks of slots (slot ``m S + s`` = slot ``s``)."""
    if n == 1:
        return pref
    return Preferences(loc=np.tile(pref.loc, (n, 1, 1)), busy_h=np.tile(pref.busy_h, (n, 1, 1)),
                       size=np.tile(pref.size, (n, 1)))


def block_groups(group: np.ndarray, n: int) -> np.ndarray:
    """(n S,) busy-probability groups of ``n`` blocks, distinct per block."""
    ng = int(group.max()) + 1 if group.size else 0
    return (np.asarray(group)[None, :] + ng * np.arange(n)[:, None]).ravel()


__all__ = ["LocalBusyModel", "SampledBusyState", "busy_group", "tile_preferences",
           "block_groups", "Preferences", "preferences", "BusyState", "plan_busy", "all_busy_at",
           "dispatch_shares", "fleet_dependence", "fleet_dependences",
           "equivalent_load", "frozen_gains", "max_in_range_pref"]
