"""What every formulation shares: the built-model interface and array helpers.

A formulation module (:mod:`bheard.model.isolated`, :mod:`~bheard.model.shared`,
:mod:`~bheard.model.staggered`) builds a Pyomo model in bulk from problem arrays and returns a
:class:`BuiltModel`. The solver door (:mod:`bheard.solver`) solves ``built.model``; the
driver (:mod:`bheard.optimize`) hands it ``built.start_values(plan)`` as MIP start and turns
the solution back into teams with ``built.read_teams(values)``. No solver is imported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def runs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) index of each run of equal values in a sorted ``key``."""
    key = np.asarray(key)
    if key.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    brk = np.flatnonzero(np.diff(key)) + 1
    return (np.concatenate([[0], brk]).astype(np.int64),
            np.concatenate([brk, [key.size]]).astype(np.int64))


@dataclass(eq=False)
class BuiltModel:
    """A Pyomo model built from arrays, with the maps back to them.

    ``variables``: the model's decision variables in a fixed order (the order of
    :meth:`start_values` and of the values :meth:`read_teams` receives). Subclasses say how a
    plan becomes variable values and back.
    """

    model: object  # pyomo ConcreteModel
    n_integer: int
    tie_break_per_usd: float  # eps, calls/year per USD/year
    variables: list = field(default_factory=list, repr=False)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    def start_values(self, plan) -> np.ndarray:  # pragma: no cover - interface
        """Values of :attr:`variables` for a feasible plan (the MIP start)."""
        raise NotImplementedError

    def read_teams(self, values: np.ndarray):  # pragma: no cover - interface
        """The plan (teams array, or a selection mask) from values of :attr:`variables`."""
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class CscMatrix:
    """A sparse (m, n) matrix in compressed sparse column form, the layout HiGHS reads:
    column ``j``'s entries are ``data[indptr[j]:indptr[j + 1]]`` in rows
    ``indices[indptr[j]:indptr[j + 1]]`` (ascending, no duplicates). Plain numpy: the
    commands that build LPs from arrays do not import scipy.sparse (about 0.14 s of a
    command's start-up, measured 2026-11-30)."""

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.data.size)

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape)
        cols = np.repeat(np.arange(self.shape[1]), np.diff(self.indptr))
        out[self.indices, cols] = self.data
        return out


def csc_from_triplets(rows, cols, vals, shape: tuple[int, int]) -> CscMatrix:
    """:class:`CscMatrix` of the entries ``A[rows[e], cols[e]] += vals[e]`` (duplicates are
    summed, as scipy.sparse's ``(data, (row, col))`` constructor does)."""
    r = np.asarray(rows, dtype=np.int64).ravel()
    c = np.asarray(cols, dtype=np.int64).ravel()
    v = np.asarray(vals, dtype=float).ravel()
    m, n = int(shape[0]), int(shape[1])
    if r.size and (r.min() < 0 or r.max() >= m or c.min() < 0 or c.max() >= n):
        raise ValueError(f"an entry lies outside a {m} x {n} matrix")
    order = np.lexsort((r, c))
    r, c, v = r[order], c[order], v[order]
    if r.size:
        new = np.ones(r.size, dtype=bool)
        new[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        if not new.all():
            starts = np.flatnonzero(new)
            v = np.add.reduceat(v, starts)
            r, c = r[starts], c[starts]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(c, minlength=n), out=indptr[1:])
    return CscMatrix((m, n), indptr, r, v)


@dataclass(eq=False)
class ArrayModel:
    """A linear model as arrays: ``max/min c x`` s.t. ``row_lo <= A x <= row_hi``,
    ``col_lo <= x <= col_hi`` (``+-inf`` = unbounded), ``integer`` marks integer columns (None
    = an LP). For LPs whose value is a certificate: handed to the solver door in one call
    (:func:`bheard.solver.highs.solve_arrays`), no modelling layer in between."""

    c: np.ndarray
    A: CscMatrix  # (m, n)
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    maximize: bool = True
    integer: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape


@dataclass(frozen=True, eq=False)
class Preferences:
    """Which locations may take a call of each precinct, nearest first.

    ``loc[s, i, l]``: the l-th nearest base precinct within range of precinct ``i`` in slot
    ``s`` (``P`` = padding, a location that never has teams); ``busy_h[s, i, l]``: hours a call
    keeps a team from there busy (trip + mean service time); ``size[s, i]``: how many.
    """

    loc: np.ndarray
    busy_h: np.ndarray
    size: np.ndarray

    @property
    def levels(self) -> int:
        return self.loc.shape[-1]


def preferences(reach: np.ndarray, travel_min: np.ndarray | None, service_time_hours: float
                ) -> Preferences:
    """Preference lists from ``reach[s, i, j]`` and ``travel_min[s, j, i]`` (minutes).

    When both are the same in every slot as views (``np.broadcast_to``, stride 0 over the
    slots), the lists are built for one slot and broadcast likewise: the (S, P, P) arrays are
    never formed."""
    S, P, _ = reach.shape
    reach_a = np.asarray(reach)
    tt_a = None if travel_min is None else np.asarray(travel_min)
    if S > 1 and reach_a.strides[0] == 0 and (tt_a is None or tt_a.strides[0] == 0):
        one = preferences(reach_a[:1], None if tt_a is None else tt_a[:1], service_time_hours)
        return Preferences(loc=np.broadcast_to(one.loc, (S,) + one.loc.shape[1:]),
                           busy_h=np.broadcast_to(one.busy_h, (S,) + one.busy_h.shape[1:]),
                           size=np.broadcast_to(one.size, (S,) + one.size.shape[1:]))
    size = reach.sum(axis=2)
    L = max(int(size.max()) if size.size else 1, 1)
    tt = (np.zeros((S, P, P)) if travel_min is None
          else np.transpose(np.asarray(travel_min, dtype=float), (0, 2, 1)))  # [s, i, j]
    key = np.where(reach, tt, np.inf)
    order = np.argsort(key, axis=2, kind="stable")[:, :, :L]
    valid = np.take_along_axis(reach, order, axis=2)
    loc = np.where(valid, order, P)
    trip = np.take_along_axis(tt, order, axis=2)
    busy_h = np.where(valid, service_time_hours + trip / 60.0, 0.0)
    return Preferences(loc=loc.astype(np.int64), busy_h=busy_h, size=size.astype(np.int64))


def in_range(reach, teams: np.ndarray) -> np.ndarray:
    """(P, S) teams in range of each precinct-slot: ``sum_j reach[s,i,j] x[j,s]``; ``reach``
    is a dense (S, P, P) bool array or :class:`Preferences`."""
    if isinstance(reach, Preferences):
        x = np.asarray(teams)
        S = reach.loc.shape[0]
        xs = np.concatenate([x.T, np.zeros((S, 1), dtype=x.dtype)], axis=1)
        return xs[np.arange(S)[:, None, None], reach.loc].sum(axis=2).T
    return np.einsum("sij,js->is", reach.astype(np.int64), np.asarray(teams, dtype=np.int64))


def slot_in_range(reach, s: int, teams_s: np.ndarray) -> np.ndarray:
    """(P,) teams in range of each precinct in slot ``s`` (one column of :func:`in_range`)."""
    x = np.asarray(teams_s)
    if isinstance(reach, Preferences):
        return np.append(x, np.zeros(1, dtype=x.dtype))[reach.loc[s]].sum(axis=1)
    return np.asarray(reach[s], dtype=np.int64) @ x.astype(np.int64)


def scatter(reach, values: np.ndarray) -> np.ndarray:
    """(P, S) ``out[j, s] = sum_i reach[s, i, j] values[i, s]``: what a team at ``j`` in slot
    ``s`` sees of a per-precinct quantity (e.g. the next team's gain) over its range."""
    if isinstance(reach, Preferences):
        S, P, L = reach.loc.shape
        v = np.broadcast_to(np.asarray(values, dtype=float).T[:, :, None], (S, P, L))
        idx = (np.arange(S)[:, None, None] * (P + 1) + reach.loc).ravel()
        out = np.bincount(idx, weights=v.ravel(), minlength=S * (P + 1)).reshape(S, P + 1)
        return out[:, :P].T
    return np.einsum("sij,is->js", reach.astype(float), np.asarray(values, dtype=float))


def covered_from_counts(G: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(P, S) expected covered calls/year with ``counts`` teams in range (sum of first gains
    ``G[..., :count]``; ``G`` is (P, S, L) calls/year per level)."""
    cum = np.concatenate([np.zeros(G.shape[:2] + (1,)), np.cumsum(G, axis=-1)], axis=-1)
    idx = np.minimum(np.asarray(counts, dtype=np.int64), G.shape[-1])
    return np.take_along_axis(cum, idx[..., None], axis=-1)[..., 0]


def members(reach, s: int, j: int) -> np.ndarray:
    """(P,) bool: the precincts a team at ``j`` can serve in slot ``s``."""
    if isinstance(reach, Preferences):
        return (reach.loc[s] == j).any(axis=1)
    return np.asarray(reach[s, :, j], dtype=bool)


def slot_scatter(reach, s: int, values: np.ndarray) -> np.ndarray:
    """(P,) ``out[j] = sum_i reach[s, i, j] values[i]`` for one slot."""
    if isinstance(reach, Preferences):
        loc = reach.loc[s]
        P = loc.shape[0]
        v = np.broadcast_to(np.asarray(values, dtype=float)[:, None], loc.shape)
        return np.bincount(loc.ravel(), weights=v.ravel(), minlength=P + 1)[:P]
    return np.asarray(reach[s], dtype=float).T @ np.asarray(values, dtype=float)


def locations(reach, s: int, i: int) -> np.ndarray:
    """The base precincts whose teams can serve precinct ``i`` in slot ``s``."""
    if isinstance(reach, Preferences):
        loc = reach.loc[s, i]
        return loc[loc < reach.loc.shape[1]]
    return np.flatnonzero(reach[s, i])


def best_class_totals(tables: list[tuple[int, np.ndarray]], unit: np.ndarray, budget: float
                      ) -> tuple[float, list[int]]:
    """Best affordable combination of team counts by cost class: ``tables[t] = (first count,
    values)`` (the value of ``first + i`` teams of class ``t`` at ``values[i]``; made 'at
    most that many' by a running maximum, so a smaller count is taken when it is worth more),
    ``unit[t]`` USD/year a team of class ``t``, ``budget`` USD/year. A grid over the first
    T-1 classes; the last takes the most the budget leaves. Returns (value, counts) or
    (-inf, []) when nothing is affordable. Used by the isolated model's class counts
    (:func:`bheard.model.stochastic.class_count_plan`) and the shared model's slot counts
    (:func:`bheard.optimize.slot_lp.slot_count_plan`); both are tested against brute force."""
    T = len(tables)
    runmax, argrun = [], []
    for first, vals in tables:
        m = np.maximum.accumulate(vals)
        idx = np.arange(vals.size)
        best_idx = np.maximum.accumulate(np.where(vals >= m, idx, 0))
        runmax.append(m)
        argrun.append(best_idx)
    grids = np.meshgrid(*[tables[t][0] + np.arange(tables[t][1].size) for t in range(T - 1)],
                        indexing="ij") if T > 1 else []
    used = sum((unit[t] * g for t, g in enumerate(grids)), np.zeros(()))
    left = budget - used
    first, vals = tables[-1]
    last = np.floor(np.maximum(left, 0.0) * (1 + 1e-12) / unit[-1] + 1e-9).astype(np.int64)
    last = np.minimum(last, first + vals.size - 1)
    ok = (left >= -1e-9 * max(budget, 1.0)) & (last >= first)
    value = np.where(ok, runmax[-1][np.clip(last - first, 0, vals.size - 1)], -np.inf)
    value = value + sum((runmax[t][g - tables[t][0]] for t, g in enumerate(grids)),
                        np.zeros(()))
    if not np.isfinite(value).any():
        return -math.inf, []
    k = np.unravel_index(int(np.argmax(value)), np.shape(value))
    totals = [int(tables[t][0] + argrun[t][int(g[k]) - tables[t][0]])
              for t, g in enumerate(grids)]
    lt = int(np.asarray(last)[k]) if np.ndim(last) else int(last)
    totals.append(int(first + argrun[-1][lt - first]))
    return float(np.asarray(value)[k]), totals
