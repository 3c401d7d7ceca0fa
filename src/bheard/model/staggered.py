"""Staggered hourly starts and hours of operation (formulation: ``models/staggered_tours.md``).

Teams start at any listed hour of each day and work ``L`` hours; coverage in each hour of the
week counts every team on duty then, including shifts that started the day before (and Sunday
shifts that run into Monday). Isolated coverage: a precinct is served by its own teams only.

For precinct ``p``, start option ``o = (day, start hour)`` and hour of week ``h``:

.. math::
    \\max \\sum_{p,h,k} g_{phk} u_{phk} - \\varepsilon \\sum_{p,o} W c_o w_{po}
    \\;\\text{s.t.}\\; \\sum_k u_{phk} \\le \\sum_{o \\ni h} w_{po},\\;
    \\sum_{o \\ni h} w_{po} \\le K,\\; \\sum_{p, o \\ni h} w_{po} \\le M,\\;
    \\sum_{p,o} W c_o w_{po} \\le B

with ``g_{phk} = W \\lambda_{ph} (B(k-1, a_{ph}) - B(k, a_{ph}))`` (calls/year, one hour a
week), ``u in [0, 1]`` continuous and ``w`` integer. Gains fall with ``k``, so for any integer
``w`` the LP fills ``u`` in order and the objective is the exact Erlang-loss coverage.

Problem data: :class:`bheard.problem.StaggeredData`. This module: :func:`greedy_staggered`,
:func:`build_staggered_model`, and the plan columns (:func:`plan_columns`,
:func:`assignments_frame`, :func:`hourly_frame`). Driver: :mod:`bheard.optimize.lp_rounding`.
"""


from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression

from bheard.constants import DAYS, HOURS_PER_WEEK
from bheard.model.base import BuiltModel, runs
from bheard.problem.hourly import StaggeredData
from bheard.scenario.hours import clock_hour

# ----------------------------------------------------------------------------------------
# greedy incumbent
# ----------------------------------------------------------------------------------------
def greedy_staggered(data: StaggeredData, start: np.ndarray | None = None) -> np.ndarray:
    """A feasible (P, O) plan: from ``start`` (a feasible plan; default none), repeatedly add
    the team (precinct, start) with the largest marginal covered calls per dollar that fits the
    budget, the on-duty limit K and the hourly cap, until none adds coverage. Marginal gains
    are exact (sum of the next Erlang-B gain over the shift's hours)."""
    P, O = len(data.precinct), data.n_options
    w = np.zeros((P, O), dtype=np.int64) if start is None else np.array(start, dtype=np.int64)
    if P == 0 or O == 0:
        return w
    K = data.max_on_duty
    cov = data.cover()
    covf = cov.astype(float)
    g = np.concatenate([data.gains(), np.zeros((P, HOURS_PER_WEEK, 1))], axis=-1)  # level K+1 = 0
    n = data.on_duty(w)
    city = n.sum(axis=0)
    cost = data.option_cost_per_year()
    left = data.team_budget_usd_per_year - data.annual_cost(w)

    def marg(pr):
        cur = g[pr[:, None], np.arange(HOURS_PER_WEEK)[None, :], np.minimum(n[pr], K)]
        return cur @ covf.T  # (len(pr), O)

    def full(pr):
        return (n[pr] >= K).astype(np.int64) @ cov.T.astype(np.int64) > 0

    M = marg(np.arange(P))
    F = full(np.arange(P))
    city_full = (city >= data.hourly_cap).astype(np.int64) @ cov.T.astype(np.int64) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while True:
            ok = (~F) & ~city_full[None, :] & (cost[None, :] <= left * (1 + 1e-12)) & (M > 0)
            if not ok.any():
                break
            ratio = np.where(ok, M / np.where(cost > 0, cost, 1e-300)[None, :], -np.inf)
            p, o = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            w[p, o] += 1
            left -= cost[o]
            n[p] += cov[o]
            city += cov[o]
            M[p] = marg(np.array([p]))[0]
            F[p] = full(np.array([p]))[0]
            if math.isfinite(data.hourly_cap):
                city_full = (city >= data.hourly_cap).astype(np.int64) @ cov.T.astype(np.int64) > 0
    return w


# ----------------------------------------------------------------------------------------
# Pyomo model from arrays
# ----------------------------------------------------------------------------------------
@dataclass(eq=False)
class BuiltStaggered(BuiltModel):
    """The staggered model and the maps from its variables back to arrays.

    Variables in order: ``w`` (teams per (p, o)), then ``u`` (levels per (p, h, k)).
    """

    w_index: np.ndarray = None  # (nw, 2) (p, o) of each w variable
    u_index: np.ndarray = None  # (nu, 3) (p, h, k-1) of each u variable
    data: StaggeredData = None

    def start_values(self, w: np.ndarray) -> np.ndarray:
        """w from the plan, u filled in order up to the teams on duty."""
        wi, ui = self.w_index, self.u_index
        n = self.data.on_duty(w)
        wv = np.asarray(w)[wi[:, 0], wi[:, 1]].astype(float)
        uv = (ui[:, 2] < n[ui[:, 0], ui[:, 1]]).astype(float)
        return np.concatenate([wv, uv])

    def read_teams(self, values: np.ndarray) -> np.ndarray:
        """(P, O) teams per start option (float: round for a MIP, floor for an LP)."""
        wi = self.w_index
        w = np.zeros((len(self.data.precinct), self.data.n_options))
        w[wi[:, 0], wi[:, 1]] = np.asarray(values)[:len(wi)]
        return w


def build_staggered_model(data: StaggeredData, tie_break_per_usd: float,
                          relax: bool = False) -> BuiltStaggered:
    """Build the model of this module in bulk (one LinearExpression per row).

    ``w[p, o]`` integer in [0, K] for every start option of a precinct whose shift meets some
    demand; ``u[p, h, k]`` in [0, 1] for every positive gain in an hour some such option
    covers. Rows: link per (p, h), on-duty limit per (p, h) with two or more covering options,
    citywide hourly cap per h (if finite and can bind), budget. ``relax`` makes ``w``
    continuous (the LP relaxation bound).
    """
    P, O = len(data.precinct), data.n_options
    K = data.max_on_duty
    eps = tie_break_per_usd
    cov = data.cover()
    G = data.gains()  # (P, H, K)
    useful = cov.astype(np.int64) @ (data.calls_per_hour.T > 0).astype(np.int64) > 0  # (O, P)
    wi = np.argwhere(useful.T) if K > 0 else np.zeros((0, 2), dtype=np.int64)  # (p, o) sorted
    nw = len(wi)
    wpos = -np.ones((P, O), dtype=np.int64)
    wpos[wi[:, 0], wi[:, 1]] = np.arange(nw)
    has_w = wpos >= 0  # (P, O)
    covered_by = has_w.astype(np.int64) @ cov.astype(np.int64)  # (P, H) options with a w
    ui = np.argwhere((G > 0) & (covered_by[..., None] > 0))  # (p, h, k) sorted
    nu = len(ui)
    ug = G[ui[:, 0], ui[:, 1], ui[:, 2]]
    w_cost = data.option_cost_per_year()[wi[:, 1]]
    opts_of_hour = [np.flatnonzero(cov[:, h]) for h in range(HOURS_PER_WEEK)]

    with PauseGC():
        m = pyo.ConcreteModel(name="bheard_staggered")
        m.w = pyo.Var(range(nw), domain=pyo.Reals if relax else pyo.Integers, bounds=(0, K))
        m.u = pyo.Var(range(nu), domain=pyo.Reals, bounds=(0.0, 1.0))
        w = [m.w[j] for j in range(nw)]
        u = [m.u[j] for j in range(nu)]

        def w_on(p, h):
            idx = wpos[p, opts_of_hour[h]]
            return [w[j] for j in idx[idx >= 0].tolist()]

        starts, ends = runs(ui[:, 0] * HOURS_PER_WEEK + ui[:, 1])
        link_rows = []
        for a, b in zip(starts.tolist(), ends.tolist()):
            ws = w_on(int(ui[a, 0]), int(ui[a, 1]))
            link_rows.append((u[a:b], ws))
        m.link = pyo.Constraint(range(len(link_rows)), rule=lambda _m, r: LinearExpression(
            constant=0.0, linear_coefs=[1.0] * len(link_rows[r][0]) + [-1.0] * len(link_rows[r][1]),
            linear_vars=link_rows[r][0] + link_rows[r][1]) <= 0.0)
        duty = np.argwhere(covered_by >= 2)
        duty_rows = [w_on(int(p), int(h)) for p, h in duty.tolist()]
        m.duty = pyo.Constraint(range(len(duty_rows)), rule=lambda _m, r: LinearExpression(
            constant=0.0, linear_coefs=[1.0] * len(duty_rows[r]), linear_vars=duty_rows[r])
            <= float(K))
        cap_rows = []
        if math.isfinite(data.hourly_cap):
            for h in range(HOURS_PER_WEEK):
                vs = [w_on(p, h) for p in range(P)]
                vs = [v for lst in vs for v in lst]
                if len(vs) * K > data.hourly_cap:
                    cap_rows.append(vs)
        m.cap = pyo.Constraint(range(len(cap_rows)), rule=lambda _m, r: LinearExpression(
            constant=0.0, linear_coefs=[1.0] * len(cap_rows[r]), linear_vars=cap_rows[r])
            <= float(data.hourly_cap))
        m.budget = pyo.Constraint(expr=LinearExpression(
            constant=0.0, linear_coefs=w_cost.tolist(), linear_vars=w)
            <= data.team_budget_usd_per_year)
        m.obj = pyo.Objective(expr=LinearExpression(
            constant=0.0, linear_coefs=ug.tolist() + (-eps * w_cost).tolist(),
            linear_vars=u + w), sense=pyo.maximize)
        variables = w + u
    return BuiltStaggered(model=m, n_integer=0 if relax else nw, tie_break_per_usd=eps,
                          variables=variables, w_index=wi, u_index=ui, data=data)


# ----------------------------------------------------------------------------------------
# plan output
# ----------------------------------------------------------------------------------------
def _row_of_hour(data: StaggeredData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the plan (day x listed start) and, per hour of week, the row it is reported
    under: the latest listed start at or before it (cyclically), so rows partition the week."""
    labels_h = np.array([clock_hour(s) for s in data.start_labels], dtype=np.int64)
    row_day = np.repeat(np.arange(7), len(labels_h))
    row_hour = np.tile(labels_h, 7)
    row_how = row_day * 24 + row_hour
    h = np.arange(HOURS_PER_WEEK)
    # index of the latest row start <= h, wrapping to the last row of Sunday
    idx = np.searchsorted(row_how, h, side="right") - 1
    idx = np.where(idx < 0, len(row_how) - 1, idx)
    return row_day, row_hour, idx


def hourly_frame(data: StaggeredData, w: np.ndarray) -> pd.DataFrame:
    """Per (precinct, hour of week): teams on duty, calls/hour, eligible and expected covered
    calls/year, and whether the hour is inside the hours of operation."""
    P = len(data.precinct)
    H = HOURS_PER_WEEK
    return pd.DataFrame({
        "precinct": np.repeat(data.precinct, H),
        "hour_of_week": np.tile(np.arange(H), P),
        "day": np.tile(np.repeat(np.array(DAYS, dtype=object), 24), P),
        "hour": np.tile(np.arange(H) % 24, P),
        "teams_on_duty": data.on_duty(w).ravel(),
        "calls_per_hour": data.calls_per_hour.ravel(),
        "eligible_calls": data.eligible_calls_per_year().ravel(),
        "expected_covered_calls": data.coverage(w).ravel(),
        "in_hours_of_operation": np.tile(data.open_hours, P),
    })


def assignments_frame(data: StaggeredData, w: np.ndarray) -> pd.DataFrame:
    """One row per (precinct, day, start label): teams starting then, and the calls of the
    hours from this start to the next listed start (so rows add up to the week exactly)."""
    P = len(data.precinct)
    row_day, row_hour, idx = _row_of_hour(data)
    R = len(row_day)
    teams = np.zeros((P, R), dtype=np.int64)
    opt_row = np.searchsorted(row_day * 24 + row_hour, data.start_how)
    teams[:, opt_row] = w
    elig_h, cov_h = data.eligible_calls_per_year(), data.coverage(w)
    elig = np.zeros((P, R))
    cov = np.zeros((P, R))
    np.add.at(elig.T, idx, elig_h.T)
    np.add.at(cov.T, idx, cov_h.T)
    hours_in_row = np.bincount(idx, minlength=R).astype(float)
    cost_row = np.zeros(R)
    cost_row[opt_row] = data.option_cost_per_year()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(elig > 0, cov / np.where(elig > 0, elig, 1.0), np.nan)
        rate = elig / (data.weeks_per_year * np.where(hours_in_row > 0, hours_in_row, 1.0))
    return pd.DataFrame({
        "precinct": np.repeat(data.precinct, R),
        "borough": np.repeat(data.borough, R),
        "day": np.tile(np.array(DAYS, dtype=object)[row_day], P),
        "tour": np.tile(np.array([f"{h:02d}:00" for h in row_hour], dtype=object), P),
        "teams": teams.ravel(),
        "calls_per_hour": rate.ravel(),
        "eligible_calls": elig.ravel(),
        "expected_covered_calls": cov.ravel(),
        "coverage_share": share.ravel(),
        "annual_cost_usd": (teams * cost_row[None, :]).ravel(),
    })




def plan_columns(data: StaggeredData, w: np.ndarray) -> np.ndarray:
    """(P, R) teams starting per (day, listed start) row from a (P, O) plan over options."""
    row_day, row_hour, _ = _row_of_hour(data)
    teams = np.zeros((len(data.precinct), len(row_day)), dtype=np.int64)
    opt_row = np.searchsorted(row_day * 24 + row_hour, data.start_how)
    teams[:, opt_row] = w
    return teams
