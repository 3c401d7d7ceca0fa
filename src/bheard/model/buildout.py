"""Buildout model: a multi-period hiring ramp (formulation and proofs: ``models/buildout.md``).

Periods ``t``, precincts ``i, j``, columns ``c`` (a tour with the same teams every day, or one
(day, tour) slot), levels ``n``, roles ``r``, fiscal years ``f``. Integer teams ``x_{jct}``,
continuous level variables ``z_{icnt} in [0, 1]``, integer team counts ``m_{ct}``, continuous
trained headcount ``S_{rt}`` (FTE) and hires ``h_{rt}`` (FTE graduating during period t, on
teams from period t+1):

.. math::
    \\max \\sum_t w_t \\sum_{icn} G_{ticn} z_{icnt} - \\varepsilon \\sum_f \\mathrm{spend}_f
    \\quad\\text{s.t.}\\quad
    \\sum_n z_{icnt} \\le \\sum_{j \\in N_c(i)} x_{jct},\\;
    m_{ct} = \\sum_j x_{jct} \\le M_c,\\;
    m_{ct} - m_{c,t-1} \\le A_{ct},\\;
    x_{jct} \\ge x_{jc,t-1}\\ (\\text{no reductions}),\\;
    x_{jct} \\ge F_{jct},

    S_{r0} = S^0_r,\\; S_{rt} = \\sigma_r S_{r,t-1} + h_{r,t-1},\\; 0 \\le h_{rt} \\le
    \\bar h_{rt},\\; \\sum_c a_{rc} m_{ct} \\le S_{rt} \\le H_r,\\;
    \\sum_{t \\in f} \\Big[\\sum_c k_c m_{ct} + y \\sum_r b_r (S_{rt} - \\sum_c a_{rc} m_{ct})
    + \\sum_r e_r h_{rt}\\Big] \\le B_f

with ``G`` the steady-state coverage model's gains (non-increasing in n, so continuous ``z``
fill in order: exact), ``w_t`` the period's length in years (times a discount), ``a_{rc}``
FTE per team (same FTE/relief rule as the steady state), ``k_c`` a team's cost per period,
``y`` the period in years, ``b_r`` the pay of a trained person not on a team, ``e_r`` training
cost per hire. This module holds the array side (evaluation, minimal paths, diagnosis, greedy
ramp) and the Pyomo builder; the driver is :mod:`bheard.optimize.buildout`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression

from bheard.model.base import ArrayModel, BuiltModel, covered_from_counts, csc_from_triplets, runs
from bheard.problem.buildout import BuildoutData

#: relative tolerance of feasibility checks on continuous quantities (FTE, USD)
TOL = 1e-7


@dataclass
class Ramp:
    """A ramp as arrays: ``teams`` (T, P, C) int, ``hires`` (R, T) FTE (graduating in period
    t, on teams from t+1), ``headcount`` (R, T) trained FTE in period t."""

    teams: np.ndarray
    hires: np.ndarray
    headcount: np.ndarray


# ----------------------------------------------------------------------------------------
# evaluation
# ----------------------------------------------------------------------------------------
def in_range_cols(data: BuildoutData, teams: np.ndarray) -> np.ndarray:
    """(..., P, C) teams in range of each precinct-column (own teams when reach is None)."""
    teams = np.asarray(teams, dtype=np.int64)
    if data.reach is None:
        return teams.copy()
    return np.einsum("cij,...jc->...ic", data.reach.astype(np.int64), teams)


def covered_calls(data: BuildoutData, teams: np.ndarray) -> np.ndarray:
    """(T, P, C) expected covered eligible calls/year of a (T, P, C) ramp."""
    counts = in_range_cols(data, teams)
    return np.stack([covered_from_counts(data.gains[t], counts[t])
                     for t in range(data.shape[0])])


def ramp_value(data: BuildoutData, teams: np.ndarray) -> float:
    """The objective: covered calls summed over the horizon (calls; discounted if set)."""
    return float(data.period_weight @ covered_calls(data, teams).sum(axis=(1, 2)))


def staff_needed(data: BuildoutData, teams: np.ndarray) -> np.ndarray:
    """(R, T) FTE the ramp's teams need (``column_fte`` x teams per column)."""
    return data.column_fte @ np.asarray(teams).sum(axis=1).T


@dataclass
class Spend:
    """Spend per period, USD: teams, bench (trained staff not on a team), training."""

    teams_usd: np.ndarray  # (T,)
    bench_usd: np.ndarray  # (T,)
    training_usd: np.ndarray  # (T,)

    @property
    def total_usd(self) -> np.ndarray:
        return self.teams_usd + self.bench_usd + self.training_usd


def spend(data: BuildoutData, ramp: Ramp) -> Spend:
    """What a ramp spends per period (USD); a ramp over the first periods only gives those."""
    X = np.asarray(ramp.teams)
    team = X.sum(axis=1) @ data.team_cost_per_period()
    bench_fte = np.asarray(ramp.headcount) - data.column_fte @ X.sum(axis=1).T
    bench = data.period_years * (data.bench_usd_per_fte_year @ np.maximum(bench_fte, 0.0))
    train = data.train_usd_per_hire @ np.asarray(ramp.hires)
    return Spend(team, bench, train)


def spend_by_fiscal_year(data: BuildoutData, ramp: Ramp) -> np.ndarray:
    """(F,) USD spent in each fiscal year (of the periods the ramp covers)."""
    total = spend(data, ramp).total_usd
    return np.bincount(data.period_fy[:len(total)], weights=total,
                       minlength=len(data.fiscal_year))


def max_headcount_path(data: BuildoutData) -> np.ndarray:
    """(R, T) most trained FTE each period can have: hiring at every pipeline's capacity
    (``M_0 = S^0``, ``M_t = sigma M_{t-1} + cap_{t-1}``), capped by ``role_cap``."""
    R, T = data.hire_cap.shape
    M = np.zeros((R, T))
    M[:, 0] = data.start_headcount
    cap = data.headcount_cap()
    for t in range(1, T):
        M[:, t] = np.minimum(data.survival * M[:, t - 1] + data.hire_cap[:, t - 1],
                             np.maximum(cap[:, t], data.survival * M[:, t - 1]))
    return M


def minimal_headcount(data: BuildoutData, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The smallest headcount path meeting ``need`` (R, T) FTE, and its hires.

    Backward: ``Q_t = max(need_t, (Q_{t+1} - cap_t) / sigma)`` (what must be trained at t to
    reach Q_{t+1} with at most cap_t hires); forward: ``S_t = max(sigma S_{t-1}, Q_t)``. Every
    feasible path is at least this one in every period (by induction), so it is feasible iff
    any is (``S_t <= sigma S_{t-1} + cap_{t-1}`` and ``S_0 = S^0 >= Q_0``). Returns
    (S, h) even when infeasible (check with :func:`check_ramp`).
    """
    R, T = need.shape
    sig = data.survival
    Q = np.zeros((R, T))
    Q[:, T - 1] = need[:, T - 1]
    for t in range(T - 2, -1, -1):
        with np.errstate(invalid="ignore"):
            back = np.where(np.isfinite(data.hire_cap[:, t]),
                            (Q[:, t + 1] - data.hire_cap[:, t]) / sig, -np.inf)
        Q[:, t] = np.maximum(need[:, t], back)
    S = np.zeros((R, T))
    h = np.zeros((R, T))
    S[:, 0] = data.start_headcount
    for t in range(1, T):
        S[:, t] = np.maximum(sig * S[:, t - 1], Q[:, t])
        h[:, t - 1] = S[:, t] - sig * S[:, t - 1]
    return S, h


def ramp_from_teams(data: BuildoutData, teams: np.ndarray) -> Ramp:
    """A ramp from teams alone, with the smallest headcount that staffs them."""
    S, h = minimal_headcount(data, staff_needed(data, teams))
    return Ramp(np.asarray(teams, dtype=np.int64), h, S)


def check_ramp(data: BuildoutData, ramp: Ramp, tol: float = TOL) -> list[str]:
    """Every constraint of the model a ramp breaks ([] = feasible), one line each."""
    T = data.shape[0]
    X = np.asarray(ramp.teams)
    S, h = np.asarray(ramp.headcount, dtype=float), np.asarray(ramp.hires, dtype=float)
    out: list[str] = []
    floor = data.floor_path()
    if (X < floor).any():
        out.append("teams below the floor (milestones / starting deployment)")
    if (X > data.max_teams[None]).any():
        out.append("teams above max_teams")
    n = X.sum(axis=1)  # (T, C)
    if (n > data.column_cap[None] + tol).any():
        out.append("citywide teams above a column cap")
    prev = np.concatenate([data.start_teams.sum(axis=0)[None], n[:-1]])
    if (n - prev > data.ramp_cap.T + tol).any():
        out.append("teams added above a tour's ramp limit")
    if not data.allow_reductions and (
            np.diff(np.concatenate([data.start_teams[None], X]), axis=0) < 0).any():
        out.append("a precinct-column loses teams (reductions are off)")
    scale = 1.0 + np.abs(S).max(initial=0.0)
    if (np.abs(S[:, 0] - data.start_headcount) > tol * scale).any():
        out.append("headcount in the first period differs from the starting headcount")
    for t in range(1, T):
        if (np.abs(S[:, t] - data.survival * S[:, t - 1] - h[:, t - 1]) > tol * scale).any():
            out.append(f"headcount does not carry over into period {data.period_label[t]}")
            break
    if (h < -tol * scale).any() or (h > data.hire_cap + tol * scale).any():
        out.append("hires outside [0, training capacity]")
    if (np.abs(h[:, -1]) > tol * scale).any():
        out.append("hires in the last period (they would join after the horizon)")
    if (staff_needed(data, X) > S + tol * scale).any():
        out.append("teams need more staff than the headcount")
    if (S > data.headcount_cap() * (1 + tol) + tol).any():
        out.append("headcount above workforce.max_headcount")
    groups, limits, names = data.budget_rows()
    total = spend(data, ramp).total_usd
    for g, lim, name in zip(groups, limits, names):
        over = float(total[g].sum()) - lim
        if over > tol * max(lim, 1.0):
            out.append(f"{name} spends ${over:,.0f} over its budget")
            break
    return out


# ----------------------------------------------------------------------------------------
# diagnosis (complete when no training cost is charged and teams cost at least their crew's
# bench pay; otherwise checks of necessary conditions)
# ----------------------------------------------------------------------------------------
def minimal_column_totals(data: BuildoutData, floor: np.ndarray) -> np.ndarray:
    """(T, C) fewest teams per column each period, opening early where a tour's ramp limit
    would not reach a later floor in time: ``N_t = max(F_t, N_{t+1} - A_{t+1})``."""
    F = floor.sum(axis=1).astype(float)
    T = F.shape[0]
    N = F.copy()
    for t in range(T - 2, -1, -1):
        N[t] = np.maximum(F[t], N[t + 1] - data.ramp_cap[:, t + 1])
    return np.ceil(N - 1e-9)


def _rules_at(data: BuildoutData, t: int) -> str:
    names = [r.label for r in data.floors if r.first <= t and r.teams.any()]
    if not data.allow_reductions and data.start_teams.any():
        names.append("the starting deployment (buildout.allow_reductions: false)")
    return ", ".join(names) or "no floor"


def diagnose(data: BuildoutData) -> list[str]:
    """Name the constraints in conflict, or [] when the checks find none.

    In order: floors against ``max_teams``; column totals (with early opening) against caps
    and ramp limits; each pipeline's staff need against the most it can have trained by then
    (names the binding pipeline and the first period it fails); role caps; each fiscal year's
    budget against the cheapest spend of the smallest ramp meeting the floors. The floors are
    monotone, so the smallest ramp (floors, column totals opened early, the smallest headcount
    path) is feasible iff any ramp is, when no training cost is charged and every team costs
    at least its crew's bench pay.
    """
    T = data.shape[0]
    labels = data.period_label
    floor = data.floor_path()
    out: list[str] = []
    bad = np.argwhere(floor > data.max_teams[None])
    if len(bad):
        t, p, c = bad[0]
        out.append(f"{_rules_at(data, t)} require {floor[t, p, c]} teams in precinct "
                   f"{data.precinct[p]} on {data.column_label[c]} in {labels[t]} but "
                   f"limits.max_teams_per_slot (and shifts.hours_of_operation) allow "
                   f"{data.max_teams[p, c]}" + (f" ({len(bad)} cases)" if len(bad) > 1 else ""))
        return out
    N = minimal_column_totals(data, floor)
    room = np.minimum(data.column_cap, data.max_teams.sum(axis=0))
    over = np.argwhere(N > room[None] + 1e-9)
    if len(over):
        t, c = over[0]
        why = (f"{data.ramp_label[c]} ({data.ramp_cap[c, t + 1] if t + 1 < T else 0:g} a period)"
               " forces them to open early" if N[t, c] > floor[t, :, c].sum() else "")
        out.append(f"{_rules_at(data, t)} need {int(N[t, c])} teams on {data.column_label[c]}"
                   f" citywide in {labels[t]} but {data.column_cap_label[c]} and"
                   f" max_teams_per_slot allow {room[c]:g}" + (f"; {why}" if why else ""))
        return out
    start_n = data.start_teams.sum(axis=0).astype(float)
    reach_n = start_n[None] + np.cumsum(data.ramp_cap.T, axis=0)  # (T, C)
    late = np.argwhere(floor.sum(axis=1) > reach_n + 1e-9)
    if len(late):
        t, c = late[0]
        out.append(f"binding: {data.ramp_label[c]} in {labels[t]}: {_rules_at(data, t)} need"
                   f" {int(floor[t, :, c].sum())} teams on {data.column_label[c]} by"
                   f" {labels[t]} but from {int(start_n[c])} at the start, adding at most"
                   f" {data.ramp_cap[c, 0]:g} a period, at most {reach_n[t, c]:g} can be open")
        return out
    need = data.column_fte @ N.T  # (R, T)
    M = max_headcount_path(data)
    short = need > M * (1 + 1e-9) + 1e-9  # (R, T)
    if short.any():
        t = int(np.flatnonzero(short.any(axis=0))[0])  # the first period any pipeline fails
        for r in np.flatnonzero(short[:, t]):
            name = data.role_names[r]
            lim = ("the starting headcount (nobody hired during the horizon is trained before"
                   f" {labels[1] if T > 1 else labels[0]})" if t == 0 else
                   data.hire_cap_label[r] if r < len(data.hire_cap_label) else "the pipeline")
            capped = math.isfinite(data.role_cap[r]) and M[r, t] >= data.role_cap[r] - 1e-9
            out.append(f"binding pipeline {name}, period {labels[t]}: {_rules_at(data, t)} need"
                       f" {need[r, t]:,.1f} FTE {name} on teams but at most {M[r, t]:,.1f} can"
                       f" be trained by then (starting headcount {data.start_headcount[r]:,.1f};"
                       f" {lim}" + ("; workforce.max_headcount" if capped else "")
                       + f"; attrition {1 - data.survival[r] ** (1 / data.period_years):.0%}"
                       " a year)")
        return out
    S, h = minimal_headcount(data, need)
    cost = N @ data.team_cost_per_period() + data.period_years * (
        data.bench_usd_per_fte_year @ np.maximum(S - need, 0.0)) + data.train_usd_per_hire @ h
    bench_t = data.period_years * (data.bench_usd_per_fte_year @ np.maximum(S - need, 0.0))
    groups, limits, names = data.budget_rows()
    for g, lim, name in zip(groups, limits, names):
        c = float(cost[g].sum())
        if c > lim * (1 + 1e-9) + 1e-6:
            bench = float(bench_t[g].sum())
            out.append(f"budget of {name}: ${lim:,.0f} but the smallest ramp meeting"
                       f" {_rules_at(data, int(g[-1]))} costs ${c:,.0f} then"
                       + (f" (${bench:,.0f} of it pay for staff trained ahead of their teams)"
                          if bench > 0.5 else ""))
            break
    return out


# ----------------------------------------------------------------------------------------
# greedy ramp (the MIP start)
# ----------------------------------------------------------------------------------------
def greedy_ramp(data: BuildoutData, prehire: bool = False) -> Ramp | None:
    """A feasible ramp, or None: period by period from the floor (and last period's teams
    unless reductions are allowed), add the team with the most covered calls per dollar that
    the period's share of its fiscal-year budget, the trained staff, the caps and the ramp
    limits allow. Hires: just what the teams and the later floors need (``prehire``: every
    pipeline at capacity, up to the staff of all teams at ``max_teams``)."""
    T, P, C = data.shape
    R = len(data.role_names)
    floor = data.floor_path()
    N = minimal_column_totals(data, floor)
    need_floor = data.column_fte @ N.T
    Q, _ = minimal_headcount(data, need_floor)  # smallest headcount keeping floors in reach
    ceiling = data.column_fte @ data.max_teams.sum(axis=0).astype(float)
    cost = data.team_cost_per_period()
    a = data.column_fte  # (R, C)
    y = data.period_years
    hc_cap = data.headcount_cap()
    X = np.zeros((T, P, C), dtype=np.int64)
    S = np.zeros((R, T))
    H = np.zeros((R, T))
    groups, limits, _ = data.budget_rows()
    row_of = np.zeros(T, dtype=np.int64)
    for k, g in enumerate(groups):
        row_of[g] = k
    per_row = np.array([len(g) for g in groups], dtype=float)
    spent = np.zeros(len(groups))
    prev = data.start_teams.astype(np.int64)
    reach = data.reach
    for t in range(T):
        f = int(row_of[t])
        left_in_row = int((row_of[t:] == f).sum())
        x = np.maximum(floor[t], prev if not data.allow_reductions else 0)
        if t == 0:
            s_lo = s_hi = data.start_headcount.copy()
        else:
            s_lo = data.survival * S[:, t - 1]
            s_hi = np.minimum(s_lo + data.hire_cap[:, t - 1], np.maximum(hc_cap[:, t], s_lo))
        base = np.maximum(s_lo, Q[:, t])
        if prehire:
            base = np.maximum(base, np.minimum(s_hi, ceiling))
        U = a @ x.sum(axis=0)
        if (U > s_hi * (1 + 1e-9) + 1e-9).any() or (base > s_hi * (1 + 1e-9) + 1e-9).any():
            return None
        n_prev = prev.sum(axis=0)
        allowance = (limits[f] - spent[f]) / left_in_row
        if not data.allow_reductions:
            # teams stay: each later budget row pays for this period's teams in every period
            later = np.unique(row_of[t:])
            allowance = min(allowance, float((limits[later] / per_row[later]).min()))
        train = data.train_usd_per_hire @ np.maximum(base - s_lo, 0.0) if t else 0.0
        money = allowance - float(x.sum(axis=0) @ cost) - y * float(
            data.bench_usd_per_fte_year @ np.maximum(base - U, 0.0)) - train
        counts = in_range_cols(data, x)
        G = data.gains[t]
        L = G.shape[-1]

        def marginal(c, counts=counts, G=G, L=L):
            nxt = np.where(counts[:, c] < L, G[np.arange(P), c, np.minimum(counts[:, c], L - 1)],
                           0.0)
            return nxt if reach is None else reach[c].T.astype(float) @ nxt

        marg = np.stack([marginal(c) for c in range(C)], axis=1) if C else np.zeros((P, 0))
        dead = np.zeros((P, C), dtype=bool)
        staff_room = np.maximum(s_hi, base) - U
        # teams stay: each later period must still afford its floor with this period's teams
        later_f = floor[t + 1:] if not data.allow_reductions else floor[:0]
        lim_later = (limits / per_row)[row_of[t + 1:]][:len(later_f)]
        slack = lim_later - (np.maximum(x[None], later_f) * cost[None, None, :]).sum(axis=(1, 2))
        while C:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(cost[None, :] > 0, marg / np.maximum(cost[None, :], 1e-300),
                                 np.where(marg > 0, np.inf, 0.0))
            ratio[dead | (marg <= 1e-12)] = -1.0
            j, c = divmod(int(np.argmax(ratio)), C)
            if ratio[j, c] < 0:
                break
            n_c = x[:, c].sum()
            extra = cost[c] * (x[j, c] + 1 > later_f[:, j, c])
            ok = (x[j, c] < data.max_teams[j, c] and n_c + 1 <= data.column_cap[c] + 1e-9
                  and n_c + 1 - n_prev[c] <= data.ramp_cap[c, t] + 1e-9
                  and cost[c] <= money + 1e-6 and (a[:, c] <= staff_room + 1e-9).all()
                  and bool((extra <= slack + 1e-6).all()))
            if not ok:
                dead[j, c] = True
                continue
            x[j, c] += 1
            slack -= extra
            money -= cost[c]
            staff_room -= a[:, c]
            if reach is None:
                counts[j, c] += 1
            else:
                counts[:, c] += reach[c, :, j]
            marg[:, c] = marginal(c)
        U = a @ x.sum(axis=0)
        S[:, t] = np.maximum(base, U) if t else data.start_headcount
        if t:
            H[:, t - 1] = S[:, t] - s_lo
        X[t] = x
        spent = np.bincount(row_of[:t + 1], weights=spend(
            data, Ramp(X[:t + 1], H[:, :t + 1], S[:, :t + 1])).total_usd, minlength=len(groups))
        prev = x
    ramp = Ramp(X, H, S)
    return ramp if not check_ramp(data, ramp) else None


def best_greedy(data: BuildoutData) -> Ramp | None:
    """The better of the just-in-time and the hire-at-capacity greedy ramps (None if neither
    is feasible)."""
    cands = [r for r in (greedy_ramp(data), greedy_ramp(data, prehire=True)) if r is not None]
    if not cands:
        return None
    return max(cands, key=lambda r: ramp_value(data, r.teams))


# ----------------------------------------------------------------------------------------
# the aggregated (sorted-increment) formulation of the isolated model
# ----------------------------------------------------------------------------------------
def aggregate_applies(data: BuildoutData) -> bool:
    """Whether the aggregated formulation is exact for this problem: isolated coverage
    (own teams only) and either reductions allowed, or a floor that never changes over the
    horizon (the starting deployment) with every period's gains in the same order
    (``models/buildout.md``, "Aggregated formulation")."""
    if data.reach is not None:
        return False
    if data.allow_reductions:
        return True
    floor = data.floor_path()
    if (floor != floor[:1]).any():
        return False
    g0 = data.gains[0]
    for t in range(1, data.shape[0]):
        gt = data.gains[t]
        if ((g0 > 0) != (gt > 0)).any():
            return False
        pos = g0 > 0
        if pos.any():
            ratio = gt[pos] / g0[pos]
            if np.ptp(ratio) > 1e-9 * max(1.0, float(ratio.max())):
                return False  # not one scale factor: the order of the increments may change
    return True


def sorted_increments(data: BuildoutData, t: int, c: int, floor_t: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Team increments of column c in period t above the floor, best first: precinct j,
    level k (the k-th team), gain G[t, j, c, k-1] (calls/year); positive gains only.

    Sorted by gain (then precinct, then level), so each precinct's levels stay in order (its
    gains do not increase with the level)."""
    G = data.gains[t, :, c, :]
    L = G.shape[-1]
    lvl = np.arange(1, L + 1)[None, :]
    ok = (lvl > floor_t[:, None]) & (lvl <= data.max_teams[:, c][:, None]) & (G > 0)
    j, n = np.nonzero(ok)
    g = G[j, n]
    order = np.lexsort((n, j, -g))
    return j[order], n[order] + 1, g[order]


def allocate(data: BuildoutData, counts: np.ndarray) -> np.ndarray:
    """(T, P, C) teams from (T, C) team counts: the floor plus the best increments
    (:func:`sorted_increments`) up to each count; nested over time when the lists are."""
    T, _, C = data.shape
    floor = data.floor_path()
    X = floor.copy()
    for t in range(T):
        for c in range(C):
            extra = round(float(counts[t, c])) - int(floor[t, :, c].sum())
            if extra <= 0:
                continue
            j, _, _ = sorted_increments(data, t, c, floor[t, :, c])
            np.add.at(X[t, :, c], j[:extra], 1)
    return X


@dataclass(frozen=True, eq=False)
class CountValues:
    """Value of team counts in the aggregated formulation: ``value[t, c, k]`` = weighted
    covered calls of column c in period t with the floor plus its k best increments (k = 0
    .. K_tc, padded with the last value); ``lo``/``hi`` (T, C) the counts allowed."""

    value: np.ndarray  # (T, C, K+1)
    lo: np.ndarray  # (T, C) teams of the floor
    hi: np.ndarray  # (T, C) most teams (floor + increments, caps)

    def total(self, M: np.ndarray):
        """Weighted covered calls of team counts ``M`` (T, C) (a float), or of each of a batch
        (K, T, C) (a (K,) array)."""
        M = np.asarray(M)
        B = M if M.ndim == 3 else M[None]
        k = np.clip(B - self.lo[None], 0, self.value.shape[-1] - 1)
        v = np.take_along_axis(self.value[None], k[..., None], axis=-1)[..., 0].sum(axis=(1, 2))
        return v if M.ndim == 3 else float(v[0])


def count_values(data: BuildoutData) -> CountValues:
    """Prefix sums of :func:`sorted_increments` per (t, c), weighted by the period."""
    T, _, C = data.shape
    floor = data.floor_path()
    base = covered_calls(data, floor)  # (T, P, C)
    lists = [[sorted_increments(data, t, c, floor[t, :, c])[2] for c in range(C)]
             for t in range(T)]
    K = max((len(g) for row in lists for g in row), default=0)
    val = np.zeros((T, C, K + 1))
    lo = floor.sum(axis=1)
    hi = np.zeros((T, C), dtype=np.int64)
    for t in range(T):
        for c in range(C):
            g = lists[t][c]
            cum = np.concatenate([[0.0], np.cumsum(g)])
            val[t, c, :len(cum)] = cum
            val[t, c, len(cum):] = cum[-1]
            hi[t, c] = lo[t, c] + min(len(g), max(int(min(data.column_cap[c], 1e9))
                                                  - int(lo[t, c]), 0))
        val[t] = (val[t] + base[t].sum(axis=0)[:, None]) * data.period_weight[t]
    return CountValues(val, lo.astype(np.int64), hi)


def counts_feasible(data: BuildoutData, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a batch of team counts ``M`` (K, T, C): which are feasible (K,) bool, and their
    smallest headcount paths (K, R, T). Checks bounds via the caller; here: ramp limits,
    no reductions, staff (smallest headcount path within the pipelines and role caps) and
    budgets (spend of that path). Exact when no training cost is charged."""
    K, T, C = M.shape
    sig = data.survival[None, :]
    cap = data.hire_cap  # (R, T)
    need = np.einsum("rc,ktc->krt", data.column_fte, M)
    ok = np.ones(K, dtype=bool)
    start_n = data.start_teams.sum(axis=0)
    prev = np.concatenate([np.broadcast_to(start_n, (K, 1, C)), M[:, :-1]], axis=1)
    ok &= ((M - prev) <= data.ramp_cap.T[None] + 1e-9).all(axis=(1, 2))
    if not data.allow_reductions:
        ok &= (M >= prev).all(axis=(1, 2))
    Q = np.zeros_like(need)
    Q[:, :, -1] = need[:, :, -1]
    for t in range(T - 2, -1, -1):
        with np.errstate(invalid="ignore"):
            back = np.where(np.isfinite(cap[:, t])[None], (Q[:, :, t + 1] - cap[None, :, t]) / sig,
                            -np.inf)
        Q[:, :, t] = np.maximum(need[:, :, t], back)
    S = np.zeros_like(need)
    S[:, :, 0] = data.start_headcount[None]
    ok &= (Q[:, :, 0] <= S[:, :, 0] * (1 + 1e-9) + 1e-9).all(axis=1)
    for t in range(1, T):
        S[:, :, t] = np.maximum(sig * S[:, :, t - 1], Q[:, :, t])
        ok &= (S[:, :, t] - sig * S[:, :, t - 1] <= cap[None, :, t - 1] * (1 + 1e-9) + 1e-9
               ).all(axis=1)
    ok &= (S <= data.headcount_cap()[None] * (1 + 1e-9) + 1e-9).all(axis=(1, 2))
    h = np.zeros_like(S)
    h[:, :, :-1] = S[:, :, 1:] - sig[..., None] * S[:, :, :-1]
    spend_t = (M @ data.team_cost_per_period()) + data.period_years * np.einsum(
        "r,krt->kt", data.bench_usd_per_fte_year, np.maximum(S - need, 0.0)) + np.einsum(
        "r,krt->kt", data.train_usd_per_hire, h)
    groups, limits, _ = data.budget_rows()
    for g, lim in zip(groups, limits):
        ok &= spend_t[:, g].sum(axis=1) <= lim * (1 + 1e-9) + 1e-6
    return ok, S


def count_caps(data: BuildoutData) -> np.ndarray:
    """(T, C) most teams column c can have in period t in any feasible ramp: the column's
    precinct caps and ``column_cap``, the staff its teams alone need within the most the
    pipelines can have trained by then (:func:`max_headcount_path`), and the team cost alone
    within each budget row (bench pay and training cost are >= 0)."""
    T, _, C = data.shape
    hi = np.minimum(data.max_teams.sum(axis=0).astype(float),
                    np.where(np.isfinite(data.column_cap), data.column_cap, np.inf))
    hi = np.broadcast_to(hi, (T, C)).copy()
    Mx = max_headcount_path(data)  # (R, T)
    fte = data.column_fte  # (R, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        staff = np.where((fte[:, None, :] > 0) & np.isfinite(Mx[:, :, None]),
                         Mx[:, :, None] / fte[:, None, :], np.inf).min(axis=0)  # (T, C)
    hi = np.minimum(hi, np.floor(staff + 1e-9))
    cost = data.team_cost_per_period()
    groups, limits, _ = data.budget_rows()
    for g, lim in zip(groups, limits):
        with np.errstate(divide="ignore"):
            per = np.where(cost > 0, np.floor(lim / np.where(cost > 0, cost, 1.0) + 1e-9),
                           np.inf)
        hi[g] = np.minimum(hi[g], per[None, :])
    return np.maximum(hi, data.floor_path().sum(axis=1)).astype(np.int64)


def column_lp(data: BuildoutData, t: int, c: int) -> ArrayModel:
    """The LP relaxation of placing teams in column ``c`` of period ``t`` alone:

    .. math::
        \\Phi_{tc}(m) = \\max \\sum_{in} G_{ticn} z_{in} \\quad\\text{s.t.}\\quad
        \\sum_n z_{in} \\le \\sum_{j \\in N_c(i)} x_j,\\;
        \\sum_j x_j \\le m,\\; F_{tjc} \\le x_j \\le \\bar x_{jc},\\; 0 \\le z \\le 1

    (covered calls/year). The count row is the LAST row; its upper bound ``m`` is set per solve
    (``row_hi[-1]``). ``Phi_tc(m)`` bounds the coverage of every placement of at most ``m``
    teams in the column from above, and is concave and non-decreasing in ``m`` (the value
    function of an LP in a right-hand side): the count relaxation's value per count
    (``models/buildout.md``, "Count relaxation")."""
    _, P, _ = data.shape
    G = data.gains[t, :, c, :]
    zi = np.argwhere(G > 0)
    nz = len(zi)
    reach = np.eye(P, dtype=bool) if data.reach is None else data.reach[c].astype(bool)
    ii, jj = np.nonzero(reach)
    rows = np.concatenate([zi[:, 0], ii, np.full(P, P)])
    cols = np.concatenate([P + np.arange(nz), jj, np.arange(P)])
    vals = np.concatenate([np.ones(nz), -np.ones(len(ii)), np.ones(P)])
    A = csc_from_triplets(rows, cols, vals, (P + 1, P + nz))
    floor = data.floor_path()[t, :, c].astype(float)
    return ArrayModel(
        c=np.concatenate([np.zeros(P), G[zi[:, 0], zi[:, 1]]]), A=A,
        row_lo=np.full(P + 1, -np.inf), row_hi=np.concatenate([np.zeros(P), [floor.sum()]]),
        col_lo=np.concatenate([floor, np.zeros(nz)]),
        col_hi=np.concatenate([np.maximum(data.max_teams[:, c].astype(float), floor),
                               np.ones(nz)]),
        maximize=True)


def count_values_from(data: BuildoutData, values: dict, hi: np.ndarray) -> CountValues:
    """:class:`CountValues` (weighted by the period) from per-(t, c) values ``values[(t, c)]``
    (covered calls/year with the floor's teams plus k = 0, 1, ... more; concave) and the most
    teams ``hi`` (T, C)."""
    T, _, C = data.shape
    lo = data.floor_path().sum(axis=1).astype(np.int64)
    K = max(len(v) for v in values.values()) - 1
    val = np.zeros((T, C, K + 1))
    for (t, c), v in values.items():
        val[t, c, :len(v)] = v
        val[t, c, len(v):] = v[-1]
        val[t, c] *= data.period_weight[t]
    return CountValues(val, lo, np.minimum(hi, lo + K).astype(np.int64))


def improve_counts(data: BuildoutData, cv: CountValues, M: np.ndarray,
                   max_rounds: int = 500, pairs: int = 48, seconds: float = 5.0) -> np.ndarray:
    """Local search on feasible team counts (T, C) of the aggregated formulation.

    Moves: "one more team in column c from period t on" (add), "one team fewer in column c
    up to period t" (remove; without reductions these keep every column's counts
    non-decreasing), and pairs of one remove and one add among the ``pairs`` best of each.
    Each round takes the best improving feasible move (feasibility in batches with
    :func:`counts_feasible`); stops when none improves, after ``max_rounds`` or ``seconds``.
    """
    import time as _time

    t_end = _time.perf_counter() + seconds
    T, C = M.shape
    M = M.astype(np.int64).copy()
    keep = not data.allow_reductions

    value = cv.total

    def moves(M):
        adds, rems = [], []
        for c in range(C):
            for t in range(T):
                A = M.copy()
                if keep:
                    A[t:, c] = np.maximum(A[t:, c], M[t, c] + 1)
                else:
                    A[t, c] += 1
                adds.append(A - M)
                B = M.copy()
                if keep:
                    B[:t + 1, c] = np.minimum(B[:t + 1, c], M[t, c] - 1)
                else:
                    B[t, c] -= 1
                rems.append(B - M)
        return np.array(adds), np.array(rems)

    def inside(B):
        return ((B >= cv.lo[None]) & (B <= cv.hi[None])).all(axis=(1, 2))

    cur = float(value(M[None])[0])
    for _ in range(max_rounds):
        if _time.perf_counter() > t_end:
            break
        D_add, D_rem = moves(M)
        D_add, D_rem = D_add[inside(M[None] + D_add)], D_rem[inside(M[None] + D_rem)]
        va = value(M[None] + D_add) - cur if len(D_add) else np.zeros(0)
        vr = value(M[None] + D_rem) - cur if len(D_rem) else np.zeros(0)
        cands = [D_add[va > 0]]
        if len(D_add) and len(D_rem):
            ia = np.argsort(-va)[:pairs]
            ir = np.argsort(-vr)[:pairs]
            cands.append((D_add[ia][:, None] + D_rem[ir][None, :]).reshape(-1, T, C))
        D = np.concatenate(cands) if cands else np.zeros((0, T, C), dtype=np.int64)
        B = M[None] + D
        B = B[inside(B)]
        if not len(B):
            break
        v = value(B)
        better = v > cur + 1e-9 * max(1.0, abs(cur))
        if not better.any():
            break
        B, v = B[better], v[better]
        order = np.argsort(-v)
        moved = False
        for lo_ in range(0, len(order), 256):
            chunk = order[lo_:lo_ + 256]
            ok, _ = counts_feasible(data, B[chunk])
            if ok.any():
                k = chunk[int(np.flatnonzero(ok)[0])]
                M, cur = B[k], float(v[k])
                moved = True
                break
        if not moved:
            break
    return M


def ramp_from_counts(data: BuildoutData, M: np.ndarray) -> Ramp | None:
    """The ramp of feasible team counts: :func:`allocate` and the smallest headcount path."""
    ok, _ = counts_feasible(data, M[None])
    if not ok[0]:
        return None
    ramp = ramp_from_teams(data, allocate(data, M))
    return ramp if not check_ramp(data, ramp) else None


def round_counts(data: BuildoutData, cv: CountValues, M_frac: np.ndarray) -> np.ndarray | None:
    """Feasible integer counts from fractional ones (an LP solution): round down (keeps
    monotone paths monotone), then the local search of :func:`improve_counts` fills what
    money and staff allow. None if rounding down is not feasible."""
    M = np.clip(np.floor(np.asarray(M_frac) + 1e-6).astype(np.int64), cv.lo, cv.hi)
    if not data.allow_reductions:
        M = np.maximum.accumulate(np.maximum(M, data.start_teams.sum(axis=0)[None]), axis=0)
        M = np.minimum(M, cv.hi)
    ok, _ = counts_feasible(data, M[None])
    if not ok[0]:
        return None
    return improve_counts(data, cv, M)


# ----------------------------------------------------------------------------------------
# Pyomo model, built in bulk from arrays
# ----------------------------------------------------------------------------------------
@dataclass(eq=False)
class BuiltBuildout(BuiltModel):
    """The buildout MIP and the maps from its variables back to arrays.

    ``kind`` "full": variables ``x`` (one per (t, j, c) with ``max_teams > 0``), ``z``
    (levels), ``m`` (teams per (t, c), if ``has_counts``), ``h`` (hires (r, t), t < T-1),
    ``S`` (headcount (r, t)). ``kind`` "aggregate": ``m``, ``u`` (sorted increments per
    (t, c)), ``h``, ``S``.
    """

    kind: str = "full"
    x_index: np.ndarray = None  # (nx, 3) (t, j, c)
    z_index: np.ndarray = None  # (nz, 4) (t, i, c, n)
    u_lists: list = None  # per (t, c): precinct of each sorted increment
    u_sizes: list = None  # per (t, c): number of increments (u variables)
    shape: tuple = ()
    n_roles: int = 0
    data: BuildoutData = None
    has_counts: bool = True

    def _counts(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X).sum(axis=1).ravel().astype(float)

    def start_values(self, ramp: Ramp) -> np.ndarray:
        X = np.asarray(ramp.teams)
        C = self.shape[2]
        hv = np.asarray(ramp.hires, dtype=float)[:, :-1].ravel()
        sv = np.asarray(ramp.headcount, dtype=float).ravel()
        if self.kind == "aggregate":
            floor = self.data.floor_path()
            extra = X.sum(axis=1) - floor.sum(axis=1)  # (T, C)
            uv = np.concatenate([(np.arange(n) < extra[k // C, k % C]).astype(float)
                                 for k, n in enumerate(self.u_sizes)]) if self.u_sizes \
                else np.zeros(0)
            return np.concatenate([self._counts(X), uv, hv, sv])
        xi, zi = self.x_index, self.z_index
        xv = X[xi[:, 0], xi[:, 1], xi[:, 2]].astype(float)
        counts = in_range_cols(self.data, X)
        zv = (zi[:, 3] < counts[zi[:, 0], zi[:, 1], zi[:, 2]]).astype(float)
        mv = self._counts(X) if self.has_counts else np.zeros(0)
        return np.concatenate([xv, zv, mv, hv, sv])

    def start_counts(self, M: np.ndarray) -> np.ndarray:
        """Start values from team counts (T, C) alone (models with counts whose placements
        are not variables: the count relaxation), with their smallest headcount path."""
        M = np.asarray(M, dtype=np.int64)
        S, h = minimal_headcount(self.data, self.data.column_fte @ M.T)
        teams = np.zeros(self.shape, dtype=np.int64)
        teams[:, 0, :] = M  # only the counts are read from it
        return self.start_values(Ramp(teams, h, S))

    def read_counts(self, values: np.ndarray) -> np.ndarray:
        """(T, C) team counts of a solution (models with counts)."""
        T, _, C = self.shape
        v = np.asarray(values)
        if self.kind == "aggregate":
            return np.rint(v[:T * C]).reshape(T, C).astype(np.int64)
        k = len(self.x_index) + len(self.z_index)
        return np.rint(v[k:k + T * C]).reshape(T, C).astype(np.int64)

    def read_teams(self, values: np.ndarray) -> Ramp:
        T, P, C = self.shape
        R = self.n_roles
        v = np.asarray(values)
        if self.kind == "aggregate":
            counts = np.rint(v[:T * C]).reshape(T, C)
            X = allocate(self.data, counts)
            k = T * C + sum(self.u_sizes)
        else:
            xi = self.x_index
            Xf = np.zeros((T, P, C))
            Xf[xi[:, 0], xi[:, 1], xi[:, 2]] = v[:len(xi)]
            X = np.rint(Xf).astype(np.int64)
            k = len(xi) + len(self.z_index) + (T * C if self.has_counts else 0)
        H = np.zeros((R, T))
        H[:, :-1] = v[k:k + R * (T - 1)].reshape(R, T - 1)
        S = v[k + R * (T - 1):k + R * (T - 1) + R * T].reshape(R, T)
        return Ramp(np.asarray(X, dtype=np.int64), H, S)


def _narrow(lo: list, hi: list, count_bounds: tuple | None) -> tuple[list, list]:
    """Bounds of the team-count variables: ``lo``/``hi`` per (t, c), narrowed by
    ``count_bounds`` (lo, hi) (T, C) when given. The floor stays what the level rows count
    increments from."""
    if count_bounds is None:
        return list(lo), list(hi)
    return (np.maximum(lo, np.ravel(count_bounds[0])).tolist(),
            np.minimum(hi, np.ravel(count_bounds[1])).tolist())


def _lin(coefs, variables):
    return LinearExpression(constant=0.0, linear_coefs=list(coefs), linear_vars=list(variables))


def build_buildout_model(data: BuildoutData, tie_break_per_usd: float, *, kind: str = "full",
                         count_vars: bool = True, relax: bool = False,
                         strengthen: bool = True,
                         count_bounds: tuple | None = None,
                         values: CountValues | None = None) -> BuiltBuildout:
    """Build the model of this module from arrays (one LinearExpression per row).

    ``kind="full"``: teams per precinct (``x``) and coverage levels (``z``), any coverage
    model. ``count_vars``: integer team counts ``m_{ct}`` on which the coupling rows (budget,
    staff, caps, ramp limits) are written; without them those rows sum the ``x`` directly
    (the plain formulation the benchmark compares against). ``kind="aggregate"``: integer
    counts ``m_{ct}`` and sorted increments ``u`` only (exact when
    :func:`aggregate_applies`). ``relax``: continuous teams. ``strengthen``: add valid pure-integer rows on the team counts (staff at most the most the
    pipelines can train by then, team cost at most each budget row); off for the plain
    reference of the benchmark. ``count_bounds``: (lo, hi) (T, C) arrays narrowing the team
    counts (a neighbourhood search in the aggregated formulation; fixed counts in the full one
    with ``count_vars``). ``values``: with ``kind="aggregate"``, the count relaxation: each
    (t, c)'s value per count from these concave :class:`CountValues` (e.g. the column LPs'
    values, :func:`column_lp`) instead of the sorted increments; its teams are read with
    :meth:`BuiltBuildout.read_counts`.
    """
    T, P, C = data.shape
    R = len(data.role_names)
    eps = tie_break_per_usd
    floor = data.floor_path()
    y = data.period_years
    cost = data.team_cost_per_period()
    bench = data.bench_usd_per_fte_year
    k_team = cost - y * (bench @ data.column_fte)  # (C,) spend of one team net of bench pay
    cap_tc = [min(float(data.column_cap[c]), float(data.max_teams[:, c].sum()))
              for t in range(T) for c in range(C)]
    lo_tc = [float(floor[t, :, c].sum()) for t in range(T) for c in range(C)]
    xi = np.zeros((0, 3), dtype=np.int64)
    zi = np.zeros((0, 4), dtype=np.int64)
    u_lists = u_sizes = None
    with PauseGC():
        m = pyo.ConcreteModel(name="bheard_buildout")
        dom = pyo.Reals if relax else pyo.Integers
        obj_c: list[float] = []
        obj_v: list = []
        if kind == "aggregate":
            if values is None:
                lists = [sorted_increments(data, t, c, floor[t, :, c])
                         for t in range(T) for c in range(C)]
                u_lists = [lst[0] for lst in lists]
                incs = [lst[2] * data.period_weight[k // C] for k, lst in enumerate(lists)]
            else:  # the count relaxation: increments of the (weighted) count values
                incs = [np.diff(values.value[t, c, :values.hi[t, c] - values.lo[t, c] + 1])
                        for t in range(T) for c in range(C)]
                u_lists = None
            u_sizes = [len(g) for g in incs]
            lo_m, hi_m = _narrow(lo_tc, [min(cap_tc[k], lo_tc[k] + len(incs[k]))
                                         for k in range(T * C)], count_bounds)
            m.m = pyo.Var(range(T * C), domain=dom, bounds=lambda _m, k: (lo_m[k], hi_m[k]))
            mv = [m.m[k] for k in range(T * C)]
            off = np.concatenate([[0], np.cumsum([len(g) for g in incs])]).tolist()
            m.u = pyo.Var(range(off[-1]), domain=pyo.Reals, bounds=(0.0, 1.0))
            u = [m.u[q] for q in range(off[-1])]
            # sum_q u_ctq = m_ct - (teams of the floor)
            m.level = pyo.Constraint(range(T * C), rule=lambda _m, k: _lin(
                [1.0] * (off[k + 1] - off[k]) + [-1.0], u[off[k]:off[k + 1]] + [mv[k]])
                == -lo_tc[k])
            for g in incs:
                obj_c += g.tolist()
            obj_v += u
            # no reductions: counts never fall (the lists are the same every period, so the
            # allocations are nested)
            mono = [k for k in range(C, T * C)] if not data.allow_reductions else []
            m.keep = pyo.Constraint(mono, rule=lambda _m, k: _lin(
                [1.0, -1.0], [mv[k], mv[k - C]]) >= 0.0)
            cov_vars = mv + u

            def team_terms(k):
                return [mv[k]], [1.0]
            n_int = 0 if relax else T * C
        else:
            open_jc = np.argwhere(data.max_teams > 0)  # (j, c)
            xi = np.array([(t, j, c) for t in range(T) for j, c in open_jc.tolist()],
                          dtype=np.int64).reshape(-1, 3)
            nx = len(xi)
            xpos = -np.ones((T, P, C), dtype=np.int64)
            xpos[xi[:, 0], xi[:, 1], xi[:, 2]] = np.arange(nx)
            zi = np.argwhere(data.gains > 0)  # (t, i, c, n), C order
            nz = len(zi)
            zw = data.gains[zi[:, 0], zi[:, 1], zi[:, 2], zi[:, 3]] * data.period_weight[zi[:, 0]]
            lo = floor[xi[:, 0], xi[:, 1], xi[:, 2]].tolist()
            hi = data.max_teams[xi[:, 1], xi[:, 2]].tolist()
            m.x = pyo.Var(range(nx), domain=dom, bounds=lambda _m, k: (lo[k], hi[k]))
            m.z = pyo.Var(range(nz), domain=pyo.Reals, bounds=(0.0, 1.0))
            x = [m.x[k] for k in range(nx)]
            z = [m.z[k] for k in range(nz)]
            members = [[x[k] for k in xpos[t, :, c][xpos[t, :, c] >= 0].tolist()]
                       for t in range(T) for c in range(C)]
            if count_vars:
                lo_m, hi_m = _narrow(lo_tc, cap_tc, count_bounds)
                m.m = pyo.Var(range(T * C), domain=dom,
                              bounds=lambda _m, k: (lo_m[k], hi_m[k]))
                mv = [m.m[k] for k in range(T * C)]
                m.count = pyo.Constraint(range(T * C), rule=lambda _m, k: _lin(
                    [1.0] + [-1.0] * len(members[k]), [mv[k]] + members[k]) == 0.0)

                def team_terms(k):  # (variables, coefs) of the teams of count k = t*C + c
                    return [mv[k]], [1.0]
            else:
                mv = []
                caps = [k for k in range(T * C) if math.isfinite(data.column_cap[k % C])
                        and data.max_teams[:, k % C].sum() > data.column_cap[k % C]]
                m.cap = pyo.Constraint(caps, rule=lambda _m, k: _lin(
                    [1.0] * len(members[k]), members[k]) <= cap_tc[k])

                def team_terms(k):
                    return members[k], [1.0] * len(members[k])
            # no reductions: x_jct - x_jc,t-1 >= 0
            mono = []
            if not data.allow_reductions:
                both = (xpos[1:] >= 0) & (xpos[:-1] >= 0)
                mono = list(zip(xpos[1:][both].tolist(), xpos[:-1][both].tolist()))
            m.keep = pyo.Constraint(range(len(mono)), rule=lambda _m, q: _lin(
                [1.0, -1.0], [x[mono[q][0]], x[mono[q][1]]]) >= 0.0)
            # link: sum_n z_icnt - sum_{j in N_c(i)} x_jct <= 0
            starts, ends = runs(((zi[:, 0] * P + zi[:, 1]) * C + zi[:, 2]) if nz else zi[:, 0])
            links = []
            for a, b in zip(starts.tolist(), ends.tolist()):
                t, i, c = (int(v) for v in zi[a, :3])
                js = np.array([i]) if data.reach is None else np.flatnonzero(data.reach[c, i])
                ks = xpos[t, js, c]
                links.append((a, b, ks[ks >= 0].tolist()))
            m.link = pyo.Constraint(range(len(links)), rule=lambda _m, q: _lin(
                [1.0] * (links[q][1] - links[q][0]) + [-1.0] * len(links[q][2]),
                z[links[q][0]:links[q][1]] + [x[k] for k in links[q][2]]) <= 0.0)
            obj_c += zw.tolist()
            obj_v += z
            cov_vars = x + z + mv
            n_int = 0 if relax else nx + len(mv)
        # hires h_{rt} for t < T-1 (a hire of the last period would join after the horizon)
        T1 = T - 1
        hcap = [(0.0, float(data.hire_cap[r, t]) if math.isfinite(data.hire_cap[r, t]) else None)
                for r in range(R) for t in range(T1)]
        m.h = pyo.Var(range(R * T1), domain=pyo.NonNegativeReals, bounds=lambda _m, k: hcap[k])
        rc = data.headcount_cap()
        s0 = data.start_headcount
        m.S = pyo.Var(range(R * T), domain=pyo.NonNegativeReals, bounds=lambda _m, k: (
            (float(s0[k // T]), float(s0[k // T])) if k % T == 0 else
            (0.0, float(rc[k // T, k % T]) if math.isfinite(rc[k // T, k % T]) else None)))
        h = [m.h[k] for k in range(R * T1)]
        S = [m.S[k] for k in range(R * T)]
        # headcount carried over: S_t - sigma S_{t-1} - h_{t-1} = 0
        carry = [(r, t) for r in range(R) for t in range(1, T)]
        m.carry = pyo.Constraint(range(len(carry)), rule=lambda _m, q: _lin(
            [1.0, -float(data.survival[carry[q][0]]), -1.0],
            [S[carry[q][0] * T + carry[q][1]], S[carry[q][0] * T + carry[q][1] - 1],
             h[carry[q][0] * T1 + carry[q][1] - 1]]) == 0.0)

        # staff: sum_c a_rc m_ct - S_rt <= 0
        def staff_row(_m, q):
            r, t = divmod(q, T)
            coefs, vars_ = [], []
            for c in range(C):
                vv, cc = team_terms(t * C + c)
                vars_ += vv
                coefs += [float(data.column_fte[r, c]) * w for w in cc]
            return _lin(coefs + [-1.0], vars_ + [S[r * T + t]]) <= 0.0

        m.staff = pyo.Constraint(range(R * T), rule=staff_row)
        # ramp limits: m_ct - m_c,t-1 <= A_ct (the starting deployment before period 0)
        start_n = data.start_teams.sum(axis=0)
        ramp_rows = [(t, c) for t in range(T) for c in range(C)
                     if math.isfinite(data.ramp_cap[c, t])]

        def ramp_row(_m, q):
            t, c = ramp_rows[q]
            vv, cc = team_terms(t * C + c)
            if t == 0:
                return _lin(cc, vv) <= float(start_n[c] + data.ramp_cap[c, 0])
            v0, c0 = team_terms((t - 1) * C + c)
            return _lin(cc + [-w for w in c0], vv + v0) <= float(data.ramp_cap[c, t])

        m.ramp = pyo.Constraint(range(len(ramp_rows)), rule=ramp_row)
        # valid pure-integer rows on the team counts (redundant in the LP; they let HiGHS cut
        # off fractional team counts): staff never above the most the pipelines can have
        # trained, and teams never cost more than a budget row (bench pay is >= 0)
        if strengthen:
            Mx = max_headcount_path(data)
            srows = [(r, t) for r in range(R) for t in range(T) if math.isfinite(Mx[r, t])]

            def staff_cap_row(_m, q):
                r, t = srows[q]
                coefs, vars_ = [], []
                for c in range(C):
                    vv, cc = team_terms(t * C + c)
                    vars_ += vv
                    coefs += [float(data.column_fte[r, c]) * w for w in cc]
                return _lin(coefs, vars_) <= float(Mx[r, t])

            m.staff_cap = pyo.Constraint(range(len(srows)), rule=staff_cap_row)
            kg, kl, _ = data.budget_rows()
            kg = [g.tolist() for g in kg]

            def team_budget_row(_m, f):
                coefs, vars_ = [], []
                for t in kg[f]:
                    for c in range(C):
                        vv, cc = team_terms(t * C + c)
                        vars_ += vv
                        coefs += [float(cost[c]) * 1e-6 * w for w in cc]
                return _lin(coefs, vars_) <= float(kl[f]) * 1e-6

            m.team_budget = pyo.Constraint(range(len(kg)), rule=team_budget_row)

        # budget rows (per period or per fiscal year), in million USD for a better-scaled LP
        def spend_terms(t):
            coefs, vars_ = [], []
            for c in range(C):
                vv, cc = team_terms(t * C + c)
                vars_ += vv
                coefs += [float(k_team[c]) * w for w in cc]
            for r in range(R):
                if bench[r]:
                    vars_.append(S[r * T + t])
                    coefs.append(float(y * bench[r]))
                if data.train_usd_per_hire[r] and t < T1:
                    vars_.append(h[r * T1 + t])
                    coefs.append(float(data.train_usd_per_hire[r]))
            return coefs, vars_

        per_t = [spend_terms(t) for t in range(T)]
        groups, limits, _ = data.budget_rows()
        rows_b = [g.tolist() for g in groups]
        m.budget = pyo.Constraint(range(len(rows_b)), rule=lambda _m, f: _lin(
            [cf * 1e-6 for t in rows_b[f] for cf in per_t[t][0]],
            [v for t in rows_b[f] for v in per_t[t][1]]) <= float(limits[f]) * 1e-6)
        all_c = [cf for t in range(T) for cf in per_t[t][0]]
        all_v = [v for t in range(T) for v in per_t[t][1]]
        # the aggregated model leaves the floor's teams out of u: their value is a constant
        const = 0.0
        if kind == "aggregate":
            const = (ramp_value(data, floor) if values is None
                     else float(values.value[:, :, 0].sum()))
        m.obj = pyo.Objective(expr=LinearExpression(
            constant=const, linear_coefs=obj_c + [-eps * cf for cf in all_c],
            linear_vars=obj_v + all_v), sense=pyo.maximize)
        variables = cov_vars + h + S
    return BuiltBuildout(model=m, n_integer=n_int, tie_break_per_usd=eps, variables=variables,
                         kind=kind, x_index=xi, z_index=zi, u_lists=u_lists,
                         u_sizes=u_sizes, shape=(T, P, C),
                         n_roles=R, data=data, has_counts=kind == "aggregate" or count_vars)


__all__ = [
    "TOL",
    "BuiltBuildout",
    "CountValues",
    "Ramp",
    "Spend",
    "aggregate_applies",
    "allocate",
    "best_greedy",
    "build_buildout_model",
    "check_ramp",
    "column_lp",
    "count_caps",
    "count_values",
    "count_values_from",
    "counts_feasible",
    "covered_calls",
    "diagnose",
    "greedy_ramp",
    "improve_counts",
    "in_range_cols",
    "max_headcount_path",
    "minimal_column_totals",
    "minimal_headcount",
    "ramp_from_counts",
    "ramp_from_teams",
    "ramp_value",
    "round_counts",
    "sorted_increments",
    "spend",
    "spend_by_fiscal_year",
    "staff_needed",
]
