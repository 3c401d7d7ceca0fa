"""Shared-coverage staffing model (MEXCLP / AMEXCLP) with the busy-probability fixed point.

Formulation, exactness argument and sources: ``models/shared_coverage.md``. A team based in
precinct ``j`` in slot ``s`` can serve precinct ``i`` when ``reach[s, i, j]`` (travel time
within the response standard, :mod:`bheard.geography`). With integer ``x_{js}`` teams and
continuous ``z_{isn} in [0, 1]``:

.. math::
    \\max \\sum_{isn} G_{isn} z_{isn} - \\varepsilon \\sum_{js} c_s x_{js}
    \\quad\\text{s.t.}\\quad \\sum_n z_{isn} \\le \\sum_{j \\in N_s(i)} x_{js},\\;
    \\sum_{js} c_s x_{js} \\le B,\\; \\sum_j x_{js} \\le M_s,\\;
    \\sum_{js} a_{rs} x_{js} \\le H_r,\\; m_{js} \\le x_{js} \\le K_{js}

with ``G_{isn} = W h_s \\lambda_{is} (1 - q_s) q_s^{n-1}`` (MEXCLP, Daskin 1983), times
Larson's ``Q(N_s, q_s, n-1)`` for AMEXCLP (Batta, Dolan & Krishnamurthy 1989). ``G`` falls with
``n``, so an LP optimum fills ``z_{is1}, z_{is2}, ...`` in order and ``z`` needs no integrality.
Equity floors (``bheard.equity``) are linear lower bounds on ``sum_{sn} G_{isn} z_{isn}``.

The same machinery solves the isolated model when extra constraints (role caps, equity floors)
are present: ``reach`` = identity and ``G`` = the Erlang-B increments of
:mod:`bheard.model.isolated`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from bheard.model.problem import ProblemData, runs

#: levels are kept while (1 - q) q^(n-1) >= this share of the first level's weight
LEVEL_TOL = 1e-9
TIE_BREAK_REL = 1e-7
#: at most this many LP/MIP solves in the fixed point (greedy iterations come first)
MAX_LP_ROUNDS = 6


# ----------------------------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------------------------
def mexclp_weights(q: float, levels: int) -> np.ndarray:
    """``(1 - q) q^(n-1)`` for n = 1..levels: chance the n-th team in range is the first free.

    Their partial sums are ``1 - q^n``, the MEXCLP coverage with n teams in range.
    """
    n = np.arange(levels)
    return (1.0 - q) * q ** n


def larson_q(N: int, rho: float, k) -> np.ndarray:
    """Larson's correction factor ``Q(N, rho, k)`` (Larson & Odoni, Urban OR 5.5.3).

    .. math:: Q(N,\\rho,k) = \\frac{P_0}{1-\\rho}\\sum_{j=k}^{N-1}
              \\frac{(N-k-1)!\\,(N-j)}{(j-k)!}\\,\\frac{N^j \\rho^{j-k}}{N!}

    with ``P_0`` the M/M/N probability of an empty system at load ``N rho``. Computed in logs
    (stable for N in the thousands). ``k`` may be an array of ints in 0..N-1; returns 0 for
    ``k >= N``.
    """
    k = np.atleast_1d(np.asarray(k, dtype=np.int64))
    out = np.zeros(k.shape, dtype=float)
    if N < 1 or not (0 < rho < 1):
        if N >= 1 and rho == 0:
            out[k < N] = 1.0
        return out
    a = N * rho
    i = np.arange(N)
    log_terms = np.concatenate([i * math.log(a) - _lgamma(i + 1),
                                [N * math.log(a) - math.lgamma(N + 1) - math.log(1 - rho)]])
    log_p0 = -_logsumexp(log_terms)
    for idx, kk in enumerate(k.tolist()):
        if kk >= N or kk < 0:
            continue
        j = np.arange(kk, N)
        lt = (math.lgamma(N - kk) + np.log(N - j) - _lgamma(j - kk + 1) + j * math.log(N)
              + (j - kk) * math.log(rho) - math.lgamma(N + 1))
        out[idx] = math.exp(_logsumexp(lt) + log_p0 - math.log(1 - rho))
    return out


def amexclp_weights(N: int, q: float, levels: int) -> np.ndarray:
    """``Q(N, q, n-1) (1 - q) q^(n-1)`` for n = 1..levels (0 beyond N teams)."""
    return larson_q(N, q, np.arange(levels)) * mexclp_weights(q, levels)


def _lgamma(x: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(np.asarray(x, dtype=float))


def _logsumexp(v: np.ndarray) -> float:
    m = float(np.max(v))
    return m + math.log(float(np.exp(np.asarray(v) - m).sum()))


# ----------------------------------------------------------------------------------------
# gains, coverage, workload
# ----------------------------------------------------------------------------------------
def reach_or_identity(prob: ProblemData) -> np.ndarray:
    """(S, P, P) bool reach; identity (own teams only) when the problem has none."""
    if prob.reach is not None:
        return prob.reach
    P, S = prob.shape
    return np.broadcast_to(np.eye(P, dtype=bool), (S, P, P))


def max_in_range(prob: ProblemData, reach: np.ndarray) -> np.ndarray:
    """(P, S) most teams that can be in range of each precinct-slot (all at their max)."""
    return np.einsum("sij,js->is", reach.astype(np.int64), prob.max_teams)


def shared_gains(prob: ProblemData, q: np.ndarray, amexclp: bool = False,
                 n_system: np.ndarray | None = None, reach: np.ndarray | None = None,
                 full_levels: bool = False) -> np.ndarray:
    """(P, S, L) gain of the n-th team in range, calls/year: ``E_is w_s(n)``.

    ``q`` (S,) busy probabilities; AMEXCLP needs ``n_system`` (S,) teams on duty per slot (the
    N of Larson's Q). L covers every level whose weight is at least ``LEVEL_TOL`` of the first
    and that can be reached; gains above the reachable count are zero.
    """
    reach = reach_or_identity(prob) if reach is None else reach
    q = np.asarray(q, dtype=float)
    cap = max_in_range(prob, reach)
    qmax = float(q.max()) if q.size else 0.5
    L_tol = int(math.ceil(math.log(LEVEL_TOL) / math.log(qmax))) if 0 < qmax < 1 else 1
    L = max(1, min(int(cap.max()) if cap.size else 1, L_tol if not full_levels else 10**9))
    S = len(q)
    W = np.zeros((S, L))
    for s in range(S):
        if amexclp:
            N = int(n_system[s]) if n_system is not None else L
            W[s] = amexclp_weights(max(N, 1), q[s], L)
        else:
            W[s] = mexclp_weights(q[s], L)
    G = prob.eligible_calls_per_year()[..., None] * W[None, :, :]
    G[np.arange(L)[None, None, :] >= cap[..., None]] = 0.0
    return G


def isolated_gains(prob: ProblemData) -> np.ndarray:
    """(P, S, K) Erlang-B increments (the isolated model's gains), calls/year."""
    table = prob.coverage_table(max(prob.kmax, 1))
    g = np.diff(table, axis=-1)
    g = np.minimum.accumulate(np.maximum(g, 0.0), axis=-1)
    g[np.arange(g.shape[-1])[None, None, :] >= prob.max_teams[..., None]] = 0.0
    return g


def in_range(reach: np.ndarray, teams: np.ndarray) -> np.ndarray:
    """(P, S) teams in range of each precinct-slot: ``sum_j reach[s,i,j] x[j,s]``."""
    return np.einsum("sij,js->is", reach.astype(np.int64), np.asarray(teams, dtype=np.int64))


def covered_from_counts(G: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(P, S) expected covered calls/year with ``counts`` teams in range (sum of first gains)."""
    cum = np.concatenate([np.zeros(G.shape[:2] + (1,)), np.cumsum(G, axis=-1)], axis=-1)
    idx = np.minimum(np.asarray(counts, dtype=np.int64), G.shape[-1])
    return np.take_along_axis(cum, idx[..., None], axis=-1)[..., 0]


def busy_from_plan(prob: ProblemData, teams: np.ndarray, reach: np.ndarray,
                   rho_max: float, group: np.ndarray | None = None,
                   served_gains: np.ndarray | None = None) -> np.ndarray:
    """(S,) busy probability implied by a plan: ``min(rho_max, busy hours / team hours)``.

    Busy hours per slot are ``tau`` x the calls the teams take: with ``served_gains`` (the
    gains ``G`` the plan was made with) the calls it is expected to cover (``served``
    workload); without, every call of a precinct with at least one team in range
    (``in_range``). ``group`` (S,) ints pools slots (e.g. all slots of a tour: busy hours over
    team hours of the group); default: each slot alone. A group with no team gets ``rho_max``.
    """
    S = prob.shape[1]
    group = np.arange(S) if group is None else np.asarray(group)
    counts = in_range(reach, teams)
    if served_gains is not None:
        work = covered_from_counts(served_gains, counts).sum(axis=0) / prob.weeks_per_year \
            * prob.service_time_hours  # busy team-hours per week in each slot
    else:
        work = (prob.calls_per_hour * (counts > 0)).sum(axis=0) * prob.service_time_hours \
            * prob.slot_hours
    team_h = np.asarray(teams).sum(axis=0) * prob.slot_hours
    ng = int(group.max()) + 1 if S else 0
    w, th = np.bincount(group, work, ng), np.bincount(group, team_h, ng)
    with np.errstate(divide="ignore", invalid="ignore"):
        qg = np.where(th > 0, w / np.maximum(th, 1e-300), rho_max)
    return np.clip(qg[group], 1e-6, rho_max)


# ----------------------------------------------------------------------------------------
# greedy incumbent (with equity-floor repair)
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Floors:
    """Equity floors as arrays: (P,) min covered calls/year per precinct, borough groups."""

    precinct_min: np.ndarray | None = None  # (P,) calls/year
    borough_index: np.ndarray | None = None  # (P,) int group of each precinct
    borough_min: np.ndarray | None = None  # (Bn,) calls/year
    borough_names: tuple = ()
    labels: dict = field(default_factory=dict)  # kind -> scenario field text
    max_ratio: float | None = None  # best / worst precinct share (precincts with demand)
    eligible: np.ndarray | None = None  # (P,) eligible calls/year (needed for max_ratio)

    @property
    def active(self) -> bool:
        return (self.precinct_min is not None or self.borough_min is not None
                or self.max_ratio is not None)


def _deficits(floors: Floors, cov_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dp = np.zeros_like(cov_p) if floors.precinct_min is None else np.maximum(
        floors.precinct_min - cov_p, 0.0)
    if floors.borough_min is None:
        return dp, np.zeros(0)
    cov_b = np.bincount(floors.borough_index, weights=cov_p, minlength=len(floors.borough_min))
    return dp, np.maximum(floors.borough_min - cov_b, 0.0)


def greedy_shared(prob: ProblemData, G: np.ndarray, reach: np.ndarray,
                  floors: Floors | None = None) -> np.ndarray:
    """A feasible (P, S) plan (when one is found): minimum staffing, then teams that cut the
    equity deficits most per dollar, then teams by marginal covered calls per dollar until the
    budget, slot caps, role caps or ``max_teams`` stop it.

    The marginal gain of a team at (j, s) is ``sum_i reach[s,i,j] G[i, s, count_is]``.
    """
    P, S = prob.shape
    L = G.shape[-1]
    teams = prob.min_teams.astype(np.int64).copy()
    cost = prob.team_cost_per_year()
    budget = prob.budget_usd_per_year - float((teams.sum(axis=0) * cost).sum())
    cap_left = prob.slot_cap - teams.sum(axis=0)
    fte = prob.role_fte_per_team if prob.role_fte_per_team is not None else np.zeros((0, S))
    role_left = (prob.role_cap - fte @ teams.sum(axis=0)) if len(fte) else np.zeros(0)
    R = reach.astype(float)
    counts = in_range(reach, teams)

    def next_gain(s):
        c = counts[:, s]
        return np.where(c < L, G[np.arange(P), s, np.minimum(c, L - 1)], 0.0)

    def fits(j, s):
        return (teams[j, s] < prob.max_teams[j, s] and cap_left[s] >= 1
                and cost[s] <= budget * (1 + 1e-12) + 1e-9
                and (not len(fte) or bool((fte[:, s] <= role_left + 1e-9).all())))

    def add(j, s):
        nonlocal budget
        teams[j, s] += 1
        budget -= cost[s]
        cap_left[s] -= 1
        if len(fte):
            role_left[:] -= fte[:, s]
        counts[:, s] += reach[s, :, j]

    # phase A: repair equity floors (largest deficit reduction per dollar)
    if floors is not None and floors.active:
        for _ in range(int(prob.max_teams.sum())):
            cov_p = covered_from_counts(G, counts).sum(axis=1)
            dp, db = _deficits(floors, cov_p)
            if dp.sum() + db.sum() <= 1e-9:
                break
            ng = np.stack([next_gain(s) for s in range(S)], axis=1)  # (P, S)
            w = np.minimum(ng, dp[:, None]) if floors.precinct_min is not None else 0.0
            if floors.borough_min is not None:
                wb = np.where(db[floors.borough_index][:, None] > 0, ng, 0.0)
                w = w + wb
            score = np.einsum("sij,is->js", R, np.broadcast_to(w, (P, S)))
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
    # phase B: marginal covered calls per dollar
    marg = np.stack([R[s].T @ next_gain(s) for s in range(S)], axis=1)  # (P, S)
    dead = np.zeros((P, S), dtype=bool)
    while True:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(cost[None, :] > 0, marg / np.maximum(cost[None, :], 1e-300),
                             np.where(marg > 0, np.inf, 0.0))
        ratio[dead | (marg <= 1e-12)] = -1.0
        flat = int(np.argmax(ratio))
        j, s = divmod(flat, S)
        if ratio[j, s] < 0:
            break
        if not fits(j, s):
            dead[j, s] = True
            continue
        add(j, s)
        marg[:, s] = R[s].T @ next_gain(s)
    return teams


def improve_plan(prob: ProblemData, G: np.ndarray, reach: np.ndarray, teams: np.ndarray,
                 floors: Floors | None = None, max_moves: int = 5000) -> np.ndarray:
    """Local search from a feasible plan: move one team within its slot, or from one slot to
    another (slots are independent, so that delta is exact), or add one where money is left;
    take the best improving move until none improves. Keeps budget, slot caps, role caps and
    bounds; with equity floors a move that breaks one is undone and banned until the next
    accepted move.
    """
    P, S = prob.shape
    L = G.shape[-1]
    t = np.asarray(teams, dtype=np.int64).copy()
    cost = prob.team_cost_per_year()
    fte = prob.role_fte_per_team if prob.role_fte_per_team is not None else np.zeros((0, S))
    Rf = reach.astype(float)
    rows = np.arange(P)
    guard = floors is not None and floors.active
    banned: set = set()
    for _ in range(max_moves):
        c = in_range(reach, t)
        gnext = np.where(c < L, np.take_along_axis(G, np.minimum(c, L - 1)[..., None], -1)[..., 0],
                         0.0)
        prev = np.clip(c - 1, 0, L - 1)
        gprev = np.where((c > 0) & (c <= L),
                         np.take_along_axis(G, prev[..., None], -1)[..., 0], 0.0)
        gain = np.einsum("sij,is->js", Rf, gnext)
        loss = np.einsum("sij,is->js", Rf, gprev)
        cap_ok = t.sum(axis=0) < prob.slot_cap
        gain[(t >= prob.max_teams) | ~cap_ok[None, :]] = -np.inf
        loss[t <= prob.min_teams] = np.inf
        left = prob.budget_usd_per_year - float((t.sum(axis=0) * cost).sum())
        role_left = (prob.role_cap - fte @ t.sum(axis=0)) if len(fte) else np.zeros(0)
        gbest, gj = gain.max(axis=0), gain.argmax(axis=0)
        lbest, lj = loss.min(axis=0), loss.argmin(axis=0)
        # add where money is left
        addable = cost <= left * (1 + 1e-12) + 1e-9
        if len(fte):
            addable &= (fte <= role_left[:, None] + 1e-9).all(axis=0)
        ga = np.where(addable, gbest, -np.inf)
        for s2 in range(S):
            if ("a", s2, int(gj[s2])) in banned:
                ga[s2] = -np.inf
        if ga.max() > 1e-9:
            s2 = int(ga.argmax())
            t[gj[s2], s2] += 1
            if guard and not meets_floors(G, reach, t, floors):
                t[gj[s2], s2] -= 1
                banned.add(("a", s2, int(gj[s2])))
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
        # within-slot relocation: exact check of the cheapest removals
        for s in range(S):
            for j in np.argsort(loss[:, s])[:3].tolist():
                if not np.isfinite(loss[j, s]):
                    break
                c2 = c[:, s] - reach[s, :, j]
                g2 = np.where(c2 < L, G[rows, s, np.minimum(c2, L - 1)], 0.0)
                add = Rf[s].T @ g2
                add[(t[:, s] >= prob.max_teams[:, s])] = -np.inf
                add[j] = -np.inf
                k2 = int(np.argmax(add))
                d = float(add[k2] - loss[j, s])
                if d > best[0] and ("r", s, j, k2) not in banned:
                    best = (d, ("r", s, j, k2))
        if best[0] <= 1e-9 * max(1.0, float(G[..., 0].sum())) * 1e-3:
            break
        mv = best[1]
        before = t.copy()
        if mv[0] == "x":
            mv = ("x", mv[1], mv[2], int(lj[mv[1]]), int(gj[mv[2]]))
            t[mv[3], mv[1]] -= 1
            t[mv[4], mv[2]] += 1
        else:
            _, s, j, k2 = mv
            t[j, s] -= 1
            t[k2, s] += 1
        if guard and not meets_floors(G, reach, t, floors):
            t = before
            banned.add(mv)
        else:
            banned.clear()
    if floors is not None and floors.active and not meets_floors(G, reach, t, floors):
        return np.asarray(teams, dtype=np.int64)
    return t


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


def solve_lp_relaxation(prob: ProblemData, G: np.ndarray, reach: np.ndarray,
                        floors: Floors | None):
    """LP relaxation at gains ``G``: (status, bound in calls/year, (P, S) fractional teams)."""
    from pyomo.contrib.solver.common.factory import SolverFactory
    from pyomo.contrib.solver.common.results import TerminationCondition

    built = build_shared_model(prob, G, reach, 0.0, floors, relax=True)
    res = SolverFactory("highs").solve(built.model, load_solutions=False,
                                       raise_exception_on_nonoptimal_result=False,
                                       solver_options={"output_flag": False})
    tc = res.termination_condition
    if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        return "infeasible", float("nan"), None
    if tc != TerminationCondition.convergenceCriteriaSatisfied:
        return tc.name, float("nan"), None
    res.solution_loader.load_vars()
    xi = built.x_index
    X = np.zeros(prob.shape)
    X[xi[:, 0], xi[:, 1]] = [built.model.x[k].value or 0.0 for k in range(len(xi))]
    return "optimal", float(res.incumbent_objective), X


def round_lp(prob: ProblemData, G: np.ndarray, reach: np.ndarray, X: np.ndarray,
             floors: Floors | None) -> np.ndarray:
    """Plan from an LP solution: round its teams down, then greedy (floors first, then gains)."""
    import dataclasses

    base = np.maximum(prob.min_teams, np.floor(X + 1e-7).astype(np.int64))
    base = np.minimum(base, prob.max_teams)
    return greedy_shared(dataclasses.replace(prob, min_teams=base), G, reach, floors)


# ----------------------------------------------------------------------------------------
# Pyomo model
# ----------------------------------------------------------------------------------------
@dataclass(eq=False)
class BuiltShared:
    """The Pyomo model and the maps from its variables back to arrays."""

    model: object
    x_index: np.ndarray  # (nx, 2) (j, s) of each x variable
    z_index: np.ndarray  # (nz, 3) (i, s, n) of each z variable
    n_integer: int
    tie_break_per_usd: float


def build_shared_model(prob: ProblemData, G: np.ndarray, reach: np.ndarray, tie_break_per_usd:
                       float, floors: Floors | None = None, *, objective: str = "coverage",
                       relax: bool = False, use_budget: bool = True) -> BuiltShared:
    """Build the MEXCLP model of this module from arrays (one LinearExpression per row).

    ``objective="min_cost"`` with ``use_budget=False`` gives the cheapest plan meeting the
    floors (used by the infeasibility diagnosis); ``relax`` makes ``x`` continuous.
    """
    import pyomo.environ as pyo
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
            js = np.flatnonzero(reach[s, i] & (xpos[:, s] >= 0))
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
                <= prob.budget_usd_per_year)
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
    return BuiltShared(model=m, x_index=xi, z_index=zi,
                       n_integer=0 if relax else nx + (nz if ratio else 0),
                       tie_break_per_usd=eps)


def _set_start(solver, built: BuiltShared, teams: np.ndarray, G: np.ndarray,
               reach: np.ndarray) -> bool:
    """MIP start: x from the plan, z filled in order up to the teams in range."""
    from bheard.solve import set_mip_start

    m = built.model
    xi, zi = built.x_index, built.z_index
    xv = teams[xi[:, 0], xi[:, 1]].astype(float)
    counts = in_range(reach, teams)
    zv = (zi[:, 2] < counts[zi[:, 0], zi[:, 1]]).astype(float)
    return set_mip_start(solver, [(m.x[k], xv[k]) for k in range(len(xi))]
                         + [(m.z[k], zv[k]) for k in range(len(zi))])


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
    """Solve the model at fixed gains ``G`` with HiGHS (Pyomo contrib interface)."""
    from pyomo.contrib.solver.common.results import TerminationCondition

    from bheard.solve import plan_status, run_highs

    t0 = time.perf_counter()
    start_value = float(covered_from_counts(G, in_range(reach, start)).sum())
    eps = TIE_BREAK_REL * max(start_value, 1.0) / max(prob.budget_usd_per_year, 1.0)
    built = build_shared_model(prob, G, reach, eps, floors)
    build_s = time.perf_counter() - t0
    nvar = len(built.x_index) + len(built.z_index)
    run = run_highs(built.model, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap,
                    threads=threads, highs_options=highs_options, started_at=t0,
                    start=(lambda solver: _set_start(solver, built, start, G, reach))
                    if warm_start else None)
    warm, translate_s, solve_s, res = run.warm, run.translate_seconds, run.solve_seconds, run.results
    if res is None:
        return MipOutcome("error", None, float("nan"), f"solver error: {run.error}", warm, nvar,
                          built.n_integer, build_s, translate_s, solve_s)
    tc = res.termination_condition
    if tc in (TerminationCondition.provenInfeasible,
              TerminationCondition.infeasibleOrUnbounded):
        return MipOutcome("infeasible", None, float("nan"), tc.name, warm, nvar,
                          built.n_integer, build_s, translate_s, solve_s)
    teams = None
    if res.incumbent_objective is not None:
        try:
            res.solution_loader.load_vars()
            xi = built.x_index
            xv = np.array([built.model.x[k].value or 0.0 for k in range(len(xi))])
            teams = np.zeros(prob.shape, dtype=np.int64)
            teams[xi[:, 0], xi[:, 1]] = np.rint(xv).astype(np.int64)
        except Exception:
            teams = None
    bound = float("nan")
    if res.objective_bound is not None and math.isfinite(res.objective_bound):
        # penalised bound -> coverage bound: coverage <= bound + eps * cost <= bound + eps * B
        bound = float(res.objective_bound) + eps * prob.budget_usd_per_year
    status = plan_status(tc)
    if teams is None:
        status = "error" if status == "optimal" else status
    return MipOutcome(status, teams, bound, tc.name, warm, nvar, built.n_integer, build_s,
                      translate_s, solve_s)


# ----------------------------------------------------------------------------------------
# the fixed point plan -> q -> plan, and the solve driver
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SharedSettings:
    """Array-level settings of a shared solve (mirrors ``scenario.coverage``).

    ``mode="isolated"`` solves the isolated model (Erlang-B gains, own teams only) through this
    machinery, for the constraints the isolated path lacks (role caps, equity floors).
    """

    mode: str = "shared"
    busy_probability: float | None = None
    amexclp: bool = False
    max_busy_probability: float = 0.95
    damping: float = 0.5
    max_iterations: int = 25
    tolerance: float = 0.02
    initial_busy_probability: float = 0.5
    busy_probability_by: str = "tour"  # "tour" pools a tour's slots; "slot" keeps them apart
    busy_workload: str = "served"  # "served": covered calls; "in_range": calls with a team in range


def meets_floors(G: np.ndarray, reach: np.ndarray, teams: np.ndarray, floors: Floors | None,
                 rel_tol: float = 1e-7) -> bool:
    """Whether a plan meets the equity floors (coverage measured with gains ``G``)."""
    if floors is None or not floors.active:
        return True
    cov_p = covered_from_counts(G, in_range(reach, teams)).sum(axis=1)
    dp, db = _deficits(floors, cov_p)
    scale = max(float(cov_p.sum()), 1.0) * rel_tol
    ok = bool(dp.max(initial=0.0) <= scale and db.max(initial=0.0) <= scale)
    if ok and floors.max_ratio is not None:
        E = floors.eligible
        share = cov_p[E > 0] / E[E > 0]
        if share.size:
            ok = bool(share.max() <= floors.max_ratio * share.min() * (1 + 1e-9) + 1e-12)
    return ok


def _gains_for(prob, st: SharedSettings, q, n_system, reach, floors=None):
    if st.mode == "isolated":
        return isolated_gains(prob)
    full = floors is not None and floors.max_ratio is not None
    return shared_gains(prob, q, st.amexclp, n_system, reach, full_levels=full)


def step_size(damping: float, k: int) -> float:
    """Step of the k-th fixed-point update (k = 1, 2, ...): 1 first (jump to the plan's own
    workload), then ``damping / (k - 1)`` (method of successive averages): the steps sum to
    infinity but shrink, so q settles even where q(plan) jumps between two plans."""
    return 1.0 if k <= 1 else damping / (k - 1)


def fixed_point_trace_row(it: int, phase: str, q: np.ndarray, q_plan: np.ndarray,
                          covered: float) -> dict:
    return {"iteration": it, "phase": phase, "q_mean": float(np.mean(q)),
            "q_min": float(np.min(q)), "q_max": float(np.max(q)),
            "max_change": float(np.max(np.abs(q_plan - q))) if len(q) else 0.0,
            "covered_calls": float(covered)}


def solve_shared(prob: ProblemData, opts, settings: SharedSettings,
                 floors: Floors | None = None):
    """Solve the shared (or constrained isolated) model into a :class:`bheard.solve.SolveResult`.

    Fixed point (``models/shared_coverage.md``): with ``q`` per slot, build gains, plan
    (greedy while ``q`` moves, then HiGHS), compute ``q(plan)``; update
    ``q <- q + damping (q(plan) - q)`` until ``max |q(plan) - q| <= tolerance``. The objective
    and bound refer to the gains of the final ``q``; the trace is in ``details``.
    """
    from bheard.model.isolated import diagnose_infeasibility
    from bheard.plan import SolverReport
    from bheard.solve import SolveResult, relative_gap

    t0 = time.perf_counter()
    report = SolverReport(time_limit_s=opts.time_limit_s, mip_rel_gap=opts.mip_rel_gap)
    details: dict = {"coverage_model": "MEXCLP" if settings.mode == "shared" and not
                     settings.amexclp else ("AMEXCLP" if settings.mode == "shared" else
                                            "isolated (Erlang loss) with extra constraints")}
    nan = float("nan")
    diagnosis = diagnose_infeasibility(prob) + diagnose_roles(prob)
    if diagnosis:
        report.termination = "infeasible (bheard diagnosis, before solving)"
        return SolveResult("infeasible", None, nan, nan, nan, time.perf_counter() - t0, 0.0, 0.0,
                           report, diagnosis, details=details)
    reach = reach_or_identity(prob)
    S = prob.shape[1]
    rho_max = settings.max_busy_probability
    served = settings.busy_workload == "served"
    group = (np.unique(prob.slot_tour, return_inverse=True)[1].ravel()
             if settings.busy_probability_by == "tour" else np.arange(S))
    fixed_q = settings.mode == "isolated" or settings.busy_probability is not None
    q = np.full(S, settings.busy_probability if settings.busy_probability is not None
                else settings.initial_busy_probability)
    n_system = None
    trace: list[dict] = []
    teams = None
    G = None
    # phase 1: greedy fixed point (cheap)
    for it in range(1, settings.max_iterations + 1):
        G = _gains_for(prob, settings, q, n_system, reach, floors)
        teams = greedy_shared(prob, G, reach, floors)
        if fixed_q and not settings.amexclp:
            break
        q_plan = q if fixed_q else busy_from_plan(prob, teams, reach, rho_max, group,
                                                  G if served else None)
        covered = float(covered_from_counts(G, in_range(reach, teams)).sum())
        trace.append(fixed_point_trace_row(it, "greedy", q, q_plan, covered))
        n_new = np.maximum(teams.sum(axis=0), 1)
        n_same = n_system is not None and bool((n_new == n_system).all())
        n_system = n_new
        if float(np.max(np.abs(q_plan - q))) <= settings.tolerance and (
                not settings.amexclp or n_same):
            break
        q = q + step_size(settings.damping, len(trace)) * (q_plan - q)
    report.greedy_objective = float(covered_from_counts(G, in_range(reach, teams)).sum())
    report.n_increments = int((G > 0).sum())
    # phase 2: LP bound + LP-rounded plan + local search at the current q; HiGHS only when the
    # certified gap is above mip_rel_gap; then re-check the fixed point with the final plan
    build_s = translate_s = solve_s = 0.0
    rounds = 0
    status, bound, converged = "feasible", nan, fixed_q
    while True:
        rounds += 1
        t_lp = time.perf_counter()
        lp_status, lp_bound, X = solve_lp_relaxation(prob, G, reach, floors)
        report.lagrangian_bound = lp_bound
        report.n_variables = int((prob.max_teams > 0).sum() + (G > 0).sum())
        report.n_integer = int((prob.max_teams > 0).sum())
        solve_s += time.perf_counter() - t_lp
        if lp_status == "infeasible":
            from bheard.equity import diagnose_floors

            report.termination = "LP relaxation infeasible"
            diag = diagnose_floors(prob, G, reach, floors) or [
                "the LP relaxation is infeasible but no single constraint group explains it;"
                " the combination of budget.annual_usd, limits.* and workforce.max_headcount"
                " with the equity floors conflicts"]
            return SolveResult("infeasible", None, nan, nan, nan, time.perf_counter() - t0, 0.0,
                               solve_s, report, diag, details=details)
        cands = [teams] if meets_floors(G, reach, teams, floors) else []
        if X is not None:
            r = round_lp(prob, G, reach, X, floors)
            if meets_floors(G, reach, r, floors):
                cands.append(r)
        cands = [improve_plan(prob, G, reach, c, floors) for c in cands]
        vals = [float(covered_from_counts(G, in_range(reach, c)).sum()) for c in cands]
        best_v = max(vals) if vals else -np.inf
        if vals:
            teams = cands[int(np.argmax(vals))]
        bound = lp_bound
        report.bound_source = "lp"
        status = "feasible"
        report.termination = "LP bound certifies the heuristic plan"
        report.message = "LP-rounded + local-search plan"
        final = fixed_q
        if not fixed_q:
            q_plan = busy_from_plan(prob, teams, reach, rho_max, group, G if served else None)
            n_new = np.maximum(teams.sum(axis=0), 1)
            trace.append(fixed_point_trace_row(len(trace) + 1, "lp", q, q_plan, best_v))
            ok_n = not settings.amexclp or (n_system is not None
                                             and bool((n_new == n_system).all()))
            converged = float(np.max(np.abs(q_plan - q))) <= settings.tolerance and ok_n
            final = converged or rounds >= MAX_LP_ROUNDS or (
                len(trace) >= settings.max_iterations + MAX_LP_ROUNDS)
        if not final:
            q = q + step_size(settings.damping, len(trace)) * (q_plan - q)
            n_system = n_new
            G = _gains_for(prob, settings, q, n_system, reach, floors)
            teams = greedy_shared(prob, G, reach, floors)
            continue
        # final round: HiGHS only if the LP bound does not certify the plan yet
        teams_before = teams
        if not vals or relative_gap(best_v, bound) > opts.mip_rel_gap:
            start = teams if vals else greedy_shared(prob, G, reach, floors)
            out = solve_shared_mip(prob, G, reach, start, floors,
                                   time_limit_s=max(opts.time_limit_s
                                                    - (time.perf_counter() - t0), 0.5),
                                   mip_rel_gap=opts.mip_rel_gap, threads=opts.threads,
                                   highs_options=opts.highs_options,
                                   warm_start=opts.warm_start and bool(vals))
            build_s += out.build_seconds
            translate_s += out.translate_seconds
            solve_s += out.solve_seconds
            report.termination, report.n_variables, report.n_integer = (
                out.termination, out.n_variables, out.n_integer)
            report.message = "MIP start from the heuristic plan" if out.warm else ""
            if out.status == "infeasible":
                from bheard.equity import diagnose_floors

                diag = diagnose_floors(prob, G, reach, floors) or [
                    "HiGHS proved the model infeasible with whole teams; the equity floors, "
                    "budget.annual_usd and the limits conflict once teams are integers"]
                return SolveResult("infeasible", None, nan, nan, nan, build_s, translate_s,
                                   solve_s, report, diag, details=details)
            if out.teams is not None and meets_floors(G, reach, out.teams, floors):
                v_mip = float(covered_from_counts(G, in_range(reach, out.teams)).sum())
                if v_mip >= best_v - 1e-9 * max(abs(best_v), 1.0):
                    teams, best_v = out.teams, v_mip
            if not np.isfinite(best_v):
                return SolveResult("error", None, nan, nan, nan, build_s, translate_s, solve_s,
                                   report, [f"no plan meeting the equity floors was found"
                                            f" ({out.termination})"], details=details)
            status = out.status
            if math.isfinite(out.bound) and out.bound < bound:
                bound, report.bound_source = out.bound, "highs"
        if not fixed_q and teams is not teams_before:
            q_plan = busy_from_plan(prob, teams, reach, rho_max, group, G if served else None)
            trace.append(fixed_point_trace_row(len(trace) + 1, "mip", q, q_plan, best_v))
            converged = converged and float(np.max(np.abs(q_plan - q))) <= settings.tolerance
        break
    counts = in_range(reach, teams)
    covered = covered_from_counts(G, counts)
    obj = float(covered.sum())
    # levels cut by LEVEL_TOL: add their largest possible contribution to the bound
    cap = max_in_range(prob, reach)
    L = G.shape[-1]
    tail = 0.0
    if settings.mode == "shared":
        tail = float((prob.eligible_calls_per_year() * (np.asarray(q)[None, :] ** L)
                      * (cap > L)).sum())
    bound = max(bound + tail, obj) if math.isfinite(bound) else nan
    report.highs_bound = bound if report.bound_source == "highs" else nan
    gap = relative_gap(obj, bound) if math.isfinite(bound) else float("inf")
    if status in ("time_limit_feasible", "feasible") and gap <= opts.mip_rel_gap:
        status = "optimal"
    own = covered_from_counts(G, teams)
    details.update({
        "busy_probability_by_slot": [float(v) for v in q],
        "busy_probability_from_plan": [float(v) for v in (
            q if fixed_q else busy_from_plan(prob, teams, reach, rho_max, group,
                                             G if served else None))],
        "fixed_point": {"iterations": len(trace), "converged": bool(converged),
                        "final_change": (trace[-1]["max_change"] if trace else 0.0),
                        "tolerance": settings.tolerance, "damping": settings.damping,
                        "trace": trace},
        "levels": int(L),
        "own_covered": own,
        "covered": covered,
        "teams_in_range": counts,
        "_gains": G,
    })
    return SolveResult(status, teams, obj, bound, gap, build_s + (time.perf_counter() - t0
                       - build_s - translate_s - solve_s), translate_s, solve_s, report,
                       details=details)


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
# scenario-level glue
# ----------------------------------------------------------------------------------------
def settings_from_scenario(sc) -> SharedSettings:
    c = sc.coverage
    return SharedSettings(mode=c.mode, busy_probability=c.busy_probability, amexclp=c.amexclp,
                          max_busy_probability=c.max_busy_probability, damping=c.damping,
                          max_iterations=c.max_iterations, tolerance=c.tolerance,
                          busy_probability_by=c.busy_probability_by,
                          busy_workload=c.busy_workload)


def solve_scenario_shared(sc, prob: ProblemData, opts):
    """Solve a scenario's problem with :func:`solve_shared` (shared mode, or isolated mode with
    role caps / equity floors). With floors, also solves without them at the same gains and
    reports what the floors cost in covered calls/year."""
    from bheard.equity import floors_from_scenario

    settings = settings_from_scenario(sc)
    floors = floors_from_scenario(sc, prob)
    res = solve_shared(prob, opts, settings, floors)
    if floors is not None and res.teams is not None:
        G, reach = res.details["_gains"], reach_or_identity(prob)
        free_teams, free_obj, free_bound = best_heuristic_plan(prob, G, reach)
        lost = max(free_obj - res.objective, 0.0)
        res.details["equity_cost"] = {
            "covered_without_floors": free_obj,
            "bound_without_floors": free_bound,
            "covered_with_floors": res.objective,
            "coverage_lost_to_floors": lost,
            "coverage_lost_to_floors_at_most": max(free_bound - res.objective, 0.0),
            "floors_bind": bool(lost > 1e-6 * max(free_obj, 1.0)),
            "note": "without floors: LP-rounded + local-search plan and LP bound, at the same"
                    " busy probabilities (the final q of the fixed point)",
        }
    return res


def plan_details(sc, prob: ProblemData, res, assignments):
    """Extra plan columns and JSON-ready details for shared / costed / constrained plans."""
    from bheard.costs import cost_breakdown, headcount
    from bheard.equity import share_distribution

    d = res.details or {}
    details: dict = {}
    a = assignments
    if res.teams is not None:
        if "covered" in d:
            a = a.copy()
            cov = d["covered"]
            elig = prob.eligible_calls_per_year()
            a["expected_covered_calls"] = cov.ravel()
            with np.errstate(invalid="ignore", divide="ignore"):
                a["coverage_share"] = np.where(elig > 0, cov / np.where(elig > 0, elig, 1.0),
                                               np.nan).ravel()
            if sc.coverage.mode == "shared":
                a["teams_in_range"] = d["teams_in_range"].ravel()
                a["own_covered_calls"] = d["own_covered"].ravel()
                a["neighbour_covered_calls"] = (cov - d["own_covered"]).ravel()
        details["headcount_fte"] = headcount(sc, prob.slot_hours, res.teams)
        bd = cost_breakdown(sc, list(prob.slot_tour), res.teams)
        if bd is not None:
            details["cost_breakdown_usd_per_year"] = bd
        cov_p = a.groupby("precinct", sort=False)["expected_covered_calls"].sum().to_numpy()
        el_p = a.groupby("precinct", sort=False)["eligible_calls"].sum().to_numpy()
        details["precinct_share_distribution"] = share_distribution(cov_p, el_p)
    if sc.budget.crisis_team_share is not None:
        details["budget"] = {"annual_usd": sc.budget.annual_usd,
                             "crisis_team_share": sc.budget.crisis_team_share,
                             "team_budget_usd": sc.budget.team_budget_usd}
    if sc.coverage.mode == "shared":
        details["response_standard_min"] = sc.coverage.response_standard_min
        if prob.reach is not None:
            details["mean_precincts_in_range"] = float(prob.reach.sum(axis=2).mean())
        if res.teams is not None:
            own = float(d["own_covered"].sum())
            details["covered_by_own_teams"] = own
            details["covered_by_neighbours"] = float(d["covered"].sum()) - own
    for k, v in d.items():
        if not k.startswith("_") and k not in ("covered", "own_covered", "teams_in_range"):
            details[k] = v
    return a, details
