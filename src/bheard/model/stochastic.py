"""Stochastic formulations over demand samples (``models/stochastic.md``).

Expected coverage (sample average approximation) needs no model of its own in the isolated
case: :class:`bheard.problem.samples.SampledProblem` averages the per-sample coverage tables
and :mod:`bheard.model.isolated` builds on them unchanged; in the shared case the local
busy-probability model of :mod:`bheard.model.hypercube` runs on the samples side by side
(:class:`bheard.model.hypercube.LocalBusyModel` with one block per sample). This module holds
what the sample average does not give:

- an exact incumbent of the isolated model by class counts (:func:`class_count_plan`);
- per-sample gains of each candidate team (:func:`sample_increment_gains`), and the
  risk-aware (CVaR) model built on the isolated model (:func:`build_cvar_model`);
- CVaR of a sample of values (:func:`cvar_lower`) and the risk objective
  (:func:`risk_value`).

No solver is imported here.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression

from bheard.model.base import best_class_totals
from bheard.model.isolated import BuiltIsolated, Increments, build_isolated_model
from bheard.problem.samples import CHUNK, by_sample

# ----------------------------------------------------------------------------------------
# an exact incumbent for the isolated model without binding slot caps
# ----------------------------------------------------------------------------------------
#: class-count enumeration is used up to this many distinct team costs (3 classes: a grid of
#: (teams of class 1) x (teams of class 2), the third class filling the budget)
MAX_ENUMERATED_CLASSES = 3
#: ... and up to this many grid points (affordable counts of the first T - 1 classes)
MAX_ENUMERATED_POINTS = 4_000_000


def class_count_plan(prob, inc: Increments, tie_break_per_usd: float = 0.0
                     ) -> np.ndarray | None:
    """The optimal (P, S) plan of the isolated model when no slot cap can bind and the free
    teams have at most :data:`MAX_ENUMERATED_CLASSES` distinct costs; None otherwise.

    Exact: with ``n_t`` teams of cost class ``t``, the best plan takes the ``n_t`` largest
    gains of that class (each precinct-slot's coverage is concave, so the largest gains of a
    class are prefixes of levels, ties broken by level); the optimum is the best affordable
    ``(n_1, ..., n_T)``, the last class filling what the budget leaves (gains are >= 0); None
    as well when that grid exceeds :data:`MAX_ENUMERATED_POINTS`. The enumeration is its own
    certificate (``bound_source`` ``class_count`` in :mod:`bheard.optimize.stochastic`); it
    also gives the candidate plans of the CVaR dual. Ties go to the cheaper plan
    (``tie_break_per_usd``).
    """
    S = prob.shape[1]
    free = np.flatnonzero(~inc.forced)
    budget = prob.team_budget_usd_per_year - float(inc.cost[inc.forced].sum())
    if budget < 0:
        return None
    caps = prob.slot_cap - np.bincount(inc.s[inc.forced], minlength=S)
    if (np.isfinite(caps) & (np.bincount(inc.s[free], minlength=S) > caps)).any():
        return None
    vals, cls = np.unique(np.round(inc.cost[free], 6), return_inverse=True)
    T = len(vals)
    if T > MAX_ENUMERATED_CLASSES or (vals <= 0).any():
        return None
    orders, pref = [], []
    for t in range(T):
        idx = free[cls.ravel() == t]
        o = idx[np.lexsort((inc.k[idx], -inc.gain[idx]))]
        orders.append(o)
        pref.append(np.concatenate([[0.0], np.cumsum(inc.gain[o]
                                                     - tie_break_per_usd * inc.cost[o])]))
    n = [0] * T
    # counts of the first T - 1 classes: at most what exists and what the budget buys
    top = [min(len(orders[t]), int(budget * (1 + 1e-12) // vals[t])) for t in range(T - 1)]
    if math.prod(x + 1 for x in top) > MAX_ENUMERATED_POINTS:
        return None
    if T:
        _, n = best_class_totals([(0, pref[t][:top[t] + 1]) for t in range(T - 1)]
                                 + [(0, pref[-1])], vals, budget)
    taken = inc.forced.copy()
    for t in range(T):
        taken[orders[t][:n[t]]] = True
    teams = np.zeros(prob.shape, dtype=np.int64)
    np.add.at(teams, (inc.p[taken], inc.s[taken]), 1)
    return teams


# ----------------------------------------------------------------------------------------
# CVaR
# ----------------------------------------------------------------------------------------
def cvar_lower(x: np.ndarray, alpha: float) -> float:
    """Lower-tail CVaR of equally likely values ``x``: the mean of the worst ``alpha`` share,
    the boundary value counted fractionally. Equals ``max_t t - (1/(alpha N)) sum (t - x)^+``
    (Rockafellar & Uryasev 2000)."""
    x = np.sort(np.asarray(x, dtype=float).ravel())
    N = x.size
    if N == 0:
        return math.nan
    k = alpha * N
    full = min(int(math.floor(k + 1e-12)), N)
    frac = k - full if full < N else 0.0
    tail = float(x[:full].sum()) + (frac * float(x[full]) if frac > 1e-12 else 0.0)
    return tail / k


def risk_value(covered: np.ndarray, eligible: np.ndarray, alpha: float, weight: float) -> float:
    """The risk objective over samples, in share units: ``(1 - weight) mean(C) / mean(E) +
    weight CVaR_alpha(C / E)`` for per-sample covered ``C`` and eligible ``E`` (calls/year)."""
    covered = np.asarray(covered, dtype=float)
    eligible = np.maximum(np.asarray(eligible, dtype=float), 1e-300)
    exp_share = float(covered.mean() / eligible.mean())
    return (1.0 - weight) * exp_share + weight * cvar_lower(covered / eligible, alpha)


def sample_increment_gains(prob, inc: Increments, kmax: int) -> np.ndarray:
    """(N, n) gain of each candidate team ``(p, s, k)`` in each optimization sample of a
    :class:`~bheard.problem.samples.SampledProblem`, calls/year: the increment of that
    sample's coverage table (:meth:`~bheard.problem.slots.ProblemData.coverage_table` of its
    problem, at ``prob``'s carried-over share), made non-increasing in ``k`` against rounding
    as :func:`bheard.model.isolated.make_increments` does for the mean."""
    rates = prob.samples.rates
    N = rates.shape[0]
    out = np.empty((N, inc.n))
    for a in range(0, N, CHUNK):
        n = min(CHUNK, N - a)
        table = by_sample(prob.stacked(rates[a:a + n]).coverage_table(kmax), n)
        g = np.minimum.accumulate(np.maximum(np.diff(table, axis=-1), 0.0), axis=-1)
        out[a:a + n] = g[:, inc.p, inc.s, inc.k - 1]
    return out


def cvar_weights(x: np.ndarray, alpha: float) -> np.ndarray:
    """(N,) weights ``w`` with ``sum_n w_n x_n = cvar_lower(x, alpha)``: ``1 / (alpha N)`` on the
    worst ``floor(alpha N)`` values, the rest of the mass on the next one. They lie in
    ``W = {0 <= w_n <= 1 / (alpha N), sum w = 1}``, over which ``CVaR_alpha(x) = min_w w.x``."""
    x = np.asarray(x, dtype=float)
    N = x.size
    cap = 1.0 / (alpha * N)
    order = np.argsort(x, kind="stable")
    w = np.zeros(N)
    left = 1.0
    for j in order:
        take = min(cap, left)
        w[j] = take
        left -= take
        if left <= 1e-15:
            break
    return w


def risk_sample_weights(w: np.ndarray, eligible: np.ndarray, weight: float) -> np.ndarray:
    """(N,) weights ``v`` of the per-sample shares in the risk objective for CVaR weights
    ``w``: ``v_n = (1 - weight) E_n / (N mean E) + weight w_n``; then ``risk(y) <= sum_n v_n
    share_n(y)`` for every plan, with equality where ``w`` are the plan's own CVaR weights."""
    E = np.asarray(eligible, dtype=float)
    return (1.0 - weight) * E / (E.size * E.mean()) + weight * np.asarray(w)


def weighted_increments(inc: Increments, sample_gains: np.ndarray, eligible: np.ndarray,
                        v: np.ndarray) -> Increments:
    """The increments with gain ``sum_n v_n g_n / E_n`` (share units): the isolated model of
    a weighted expected share. Non-increasing in the level like every sample's gains, so the
    greedy, Lagrangian bound and reduced-cost fixing of :mod:`bheard.model.isolated` apply."""
    g = (np.asarray(v) / np.maximum(np.asarray(eligible, dtype=float), 1e-300)) @ sample_gains
    return dataclasses.replace(inc, gain=np.maximum(g, 0.0))


@dataclass(eq=False)
class BuiltCvar(BuiltIsolated):
    """The isolated model with the CVaR objective: variables ``y``, ``x``, ``n`` of
    :class:`BuiltIsolated`, then ``t`` (the share threshold) and ``u`` (one per sample)."""

    sample_gains: np.ndarray = None  # (N, n_inc)
    sample_eligible: np.ndarray = None  # (N,)
    alpha: float = 0.1

    def start_values(self, taken: np.ndarray) -> np.ndarray:
        base = super().start_values(taken)
        share = (self.sample_gains[:, np.asarray(taken)].sum(axis=1)
                 / np.maximum(self.sample_eligible, 1e-300))
        N = share.size
        t = float(np.sort(share)[max(min(int(math.ceil(self.alpha * N - 1e-12)), N), 1) - 1])
        u = np.maximum(t - share, 0.0)
        return np.concatenate([base, [t], u])


def build_cvar_model(prob, inc: Increments, sample_gains: np.ndarray,
                     sample_eligible: np.ndarray, alpha: float, weight: float,
                     tie_break_per_usd: float, fixed_one: np.ndarray | None = None,
                     fixed_zero: np.ndarray | None = None) -> BuiltCvar:
    """The CVaR model (``models/stochastic.md``): the isolated model of
    :func:`~bheard.model.isolated.build_isolated_model` over the undecided candidate teams
    (its budget, slot caps, one integer per precinct-slot and per cost class), with its
    objective replaced by

    .. math:: \\max\\; (1-\\lambda)\\frac{\\bar g^\\top y + \\bar G_f}{\\bar E}
              + \\lambda\\Big(t - \\frac{1}{\\alpha N}\\sum_n u_n\\Big)
              - \\varepsilon c^\\top y
    .. math:: u_n \\ge t - \\frac{G_{f,n} + g_n^\\top y}{E_n},\\quad u_n \\ge 0

    (``g_n`` the gains in sample ``n``, ``G_{f,n}`` the coverage of the teams fixed to one,
    ``E_n`` the sample's eligible calls/year; shares in [0, 1]). Every sample's gains fall
    with the level, so with whole teams per precinct-slot the levels fill in order for every
    sample at once and the model is exact with continuous ``y``. ``fixed_one`` /
    ``fixed_zero``: teams decided beforehand (default: the forced levels / none).
    """
    one = inc.forced.copy() if fixed_one is None else fixed_one
    zero = np.zeros(inc.n, dtype=bool) if fixed_zero is None else fixed_zero
    built = build_isolated_model(prob, inc, one, zero, tie_break_per_usd)
    m = built.model
    free = built.free
    N = sample_gains.shape[0]
    E = np.maximum(np.asarray(sample_eligible, dtype=float), 1e-300)
    e_bar = float(E.mean())
    gf_n = sample_gains[:, one].sum(axis=1)  # (N,)
    y = built.variables[:free.size]
    lam = float(weight)
    obj_y = ((1.0 - lam) * inc.gain[free] / e_bar - tie_break_per_usd * inc.cost[free]).tolist()
    const = ((1.0 - lam) * float(inc.gain[one].sum()) / e_bar
             - tie_break_per_usd * float(inc.cost[one].sum()))
    rows = (sample_gains[:, free] / E[:, None]).tolist()  # (N, n_free)
    with PauseGC():
        m.del_component(m.obj)
        m.t = pyo.Var(bounds=(0.0, 1.0))
        m.u = pyo.Var(range(N), bounds=(0.0, None))
        u = [m.u[n] for n in range(N)]

        def tail(_m, n):
            return LinearExpression(constant=0.0, linear_coefs=[1.0, -1.0] + rows[n],
                                    linear_vars=[_m.u[n], _m.t] + y) >= -float(gf_n[n] / E[n])

        m.tail = pyo.Constraint(range(N), rule=tail)
        m.obj = pyo.Objective(expr=LinearExpression(
            constant=const, linear_coefs=obj_y + [lam] + [-lam / (alpha * N)] * N,
            linear_vars=y + [m.t] + u), sense=pyo.maximize)
    return BuiltCvar(model=m, n_integer=built.n_integer, tie_break_per_usd=tie_break_per_usd,
                     variables=built.variables + [m.t] + u, free=free, constant=const,
                     classes=built.classes, group_start=built.group_start,
                     group_len=built.group_len, sample_gains=sample_gains,
                     sample_eligible=E, alpha=alpha)
