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

Public API: :func:`operating_hours`, :func:`scenario_problems` (validation),
:func:`staggered_from_scenario` -> :class:`StaggeredData`, :func:`greedy_staggered`,
:func:`build_staggered_model`, :func:`solve_staggered` -> :class:`StaggeredResult`,
:func:`solve_scenario_staggered` (scenario -> :class:`bheard.plan.Plan`), :func:`hourly_table`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bheard.model.problem import runs
from bheard.queueing import erlang_b_table

HOURS_PER_WEEK = 168
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: relative size of the tie-break: eps * budget = TIE_BREAK_REL * (greedy coverage)
TIE_BREAK_REL = 1e-7


# ----------------------------------------------------------------------------------------
# hours of operation and start options
# ----------------------------------------------------------------------------------------
def _hour(hhmm: str) -> int:
    return int(hhmm.split(":")[0])


def operating_hours(shifts) -> np.ndarray:
    """(168,) bool: hours of the week inside ``shifts.hours_of_operation`` (all True if unset).

    A window ``[open, close]`` belongs to the day it opens on; ``close <= open`` runs past
    midnight into the next day (Sunday's into Monday); ``open == close`` is 24 hours. A single
    window applies to every day of ``shifts.days``; a per-day mapping to the listed days only.
    """
    hoo = shifts.hours_of_operation
    if hoo is None:
        return np.ones(HOURS_PER_WEEK, dtype=bool)
    windows = hoo if isinstance(hoo, dict) else {d: hoo for d in shifts.days}
    mask = np.zeros(HOURS_PER_WEEK, dtype=bool)
    for day, (open_, close) in windows.items():
        o, c = _hour(open_), _hour(close)
        length = (c - o) % 24 or 24
        start = DAYS.index(day) * 24 + o
        mask[(start + np.arange(length)) % HOURS_PER_WEEK] = True
    return mask


def interval_mask(start_how: float, hours: float) -> np.ndarray:
    """(168,) bool: hours of the week touched by ``[start_how, start_how + hours)`` (wrapping)."""
    first = math.floor(start_how)
    last = math.ceil(start_how + hours)
    mask = np.zeros(HOURS_PER_WEEK, dtype=bool)
    mask[np.arange(first, last) % HOURS_PER_WEEK] = True
    return mask


def slot_open(shifts, start_how: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """(S,) bool: fixed-tour slots lying wholly inside the hours of operation."""
    open_h = operating_hours(shifts)
    return np.array([bool(open_h[interval_mask(s, h)].all()) for s, h in zip(start_how, hours)],
                    dtype=bool)


def start_options(shifts) -> tuple[np.ndarray, np.ndarray]:
    """Allowed start options ``(day index, start hour)`` (arrays, day order then hour order):
    every listed start on every day of ``shifts.days`` whose whole shift is inside the hours of
    operation."""
    st = shifts.staggered
    open_h = operating_hours(shifts)
    days, hrs = [], []
    for d in DAYS:
        if d not in shifts.days:
            continue
        for h in st.start_hours:
            how = DAYS.index(d) * 24 + h
            if open_h[interval_mask(how, st.hours)].all():
                days.append(DAYS.index(d))
                hrs.append(h)
    return np.array(days, dtype=np.int64), np.array(hrs, dtype=np.int64)


def start_costs_usd(sc, start_hours: np.ndarray) -> np.ndarray:
    """USD per team-shift of each start hour: ``shifts.staggered.cost_per_team_shift_usd``
    (one value or per start label), else a single ``teams.cost_per_team_shift_usd``, else the
    bottom-up ``costs`` section applied to an ``L``-hour shift starting then."""
    st = sc.shifts.staggered
    c = st.cost_per_team_shift_usd
    if c is None:
        c = sc.teams.cost_per_team_shift_usd
    if isinstance(c, dict):
        return np.array([float(c[f"{h:02d}:00"]) for h in start_hours], dtype=float)
    if c is not None:
        return np.full(len(start_hours), float(c))
    from bheard.costs import team_shift_cost
    from bheard.scenario import Tour

    out = []
    for h in start_hours.tolist():
        tour = Tour(name=f"{h:02d}:00", start=f"{h:02d}:00", hours=st.hours)
        out.append(team_shift_cost(sc.costs, sc.workforce, sc.teams.crew, tour).total_usd)
    return np.array(out, dtype=float)


def scenario_problems(sc) -> list:
    """Checks of ``shifts.staggered`` / ``shifts.hours_of_operation`` against the rest of the
    scenario, as :class:`bheard.errors.Problem` entries (empty = fine)."""
    from bheard.errors import Problem

    out = []
    sh = sc.shifts
    hoo = sh.hours_of_operation
    if isinstance(hoo, dict) and not hoo:
        out.append(Problem("shifts.hours_of_operation", {}, "at least one day's window"))
    st = sh.staggered
    if st is None:
        if hoo is not None and not out:
            from bheard.model.problem import DAY_INDEX

            slots = sc.slots()
            tours = {t.name: t for t in sh.tours}
            how = np.array([DAY_INDEX[d] * 24 + tours[t].start_hour for d, t in slots])
            hours = np.array([tours[t].hours for _, t in slots])
            if not slot_open(sh, how, hours).any():
                out.append(Problem("shifts.hours_of_operation", _plain(hoo),
                                   "a window that holds at least one (day, tour) of"
                                   " shifts.tours"))
        return out
    if sc.demand.table is not None:
        out.append(Problem("demand.table", str(sc.demand.table),
                           "prior or forecast demand with shifts.staggered: a demand table is"
                           " per (day, tour), the staggered model needs calls/hour by hour of"
                           " week"))
    if sc.coverage.mode != "isolated":
        out.append(Problem("coverage.mode", sc.coverage.mode,
                           "isolated with shifts.staggered (staggered starts use isolated"
                           " coverage only)"))
    if sc.equity.active:
        out.append(Problem("equity", "set", "no equity floors with shifts.staggered (not"
                           " implemented)"))
    if sc.workforce.max_headcount:
        out.append(Problem("workforce.max_headcount", dict(sc.workforce.max_headcount),
                           "no role caps with shifts.staggered (not implemented)"))
    if sc.limits.min_teams or sc.limits.min_teams_every_precinct:
        out.append(Problem("limits.min_teams" if sc.limits.min_teams
                           else "limits.min_teams_every_precinct",
                           dict(sc.limits.min_teams) or sc.limits.min_teams_every_precinct,
                           "no minimum staffing with shifts.staggered (not implemented)"))
    if isinstance(sc.limits.max_teams_per_tour, dict):
        out.append(Problem("limits.max_teams_per_tour", dict(sc.limits.max_teams_per_tour),
                           "one number with shifts.staggered (the citywide cap on teams on"
                           " duty in any hour)"))
    labels = [f"{h:02d}:00" for h in st.start_hours]
    c = st.cost_per_team_shift_usd
    if isinstance(c, dict):
        missing = [k for k in labels if k not in c]
        extra = [k for k in c if k not in labels]
        if missing or extra:
            out.append(Problem("shifts.staggered.cost_per_team_shift_usd", dict(c),
                               f"a cost for each start {labels}"
                               + (f"; missing {missing}" if missing else "")
                               + (f"; unknown starts {extra}" if extra else "")))
    elif c is None and isinstance(sc.teams.cost_per_team_shift_usd, dict):
        out.append(Problem("shifts.staggered.cost_per_team_shift_usd", "(missing)",
                           "a cost per team-shift (one value or per start) when"
                           " teams.cost_per_team_shift_usd is given per tour"))
    if not out and start_options(sh)[0].size == 0:
        out.append(Problem("shifts.staggered.starts", list(labels) if st.starts != "every_hour"
                           else "every_hour",
                           f"at least one start whose {st.hours}-hour shift lies inside"
                           " shifts.hours_of_operation on a day of shifts.days"))
    return out


def _plain(v):
    return {k: list(w) for k, w in v.items()} if isinstance(v, dict) else list(v)


# ----------------------------------------------------------------------------------------
# problem data
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class StaggeredData:
    """Arrays of one staggered-start staffing problem (``o`` = start option, ``h`` = hour of
    week, Monday 00:00-01:00 = 0).

    Attributes:
        precinct, borough: (P,) precinct numbers and boroughs.
        calls_per_hour: (P, 168) eligible calls/hour.
        open_hours: (168,) bool, inside the hours of operation.
        start_day: (O,) day index 0..6; start_hour: (O,) hour of day 0..23.
        shift_hours: shift length L, hours.
        start_cost_usd: (O,) USD per team-shift.
        service_time_hours: mean busy time per call, hours.
        weeks_per_year: W; budget_usd_per_year: B (USD/year).
        max_on_duty: K, max teams on duty in one precinct in one hour.
        hourly_cap: M, citywide max teams on duty in one hour (``inf`` = none).
        start_labels: the listed start labels ("07:00", ...) for the plan's rows.
    """

    precinct: np.ndarray
    borough: np.ndarray
    calls_per_hour: np.ndarray
    open_hours: np.ndarray
    start_day: np.ndarray
    start_hour: np.ndarray
    shift_hours: int
    start_cost_usd: np.ndarray
    service_time_hours: float
    weeks_per_year: float
    budget_usd_per_year: float
    max_on_duty: int
    hourly_cap: float = math.inf
    start_labels: tuple = ()

    @property
    def n_options(self) -> int:
        return len(self.start_day)

    @property
    def start_how(self) -> np.ndarray:
        """(O,) start hour of week."""
        return self.start_day * 24 + self.start_hour

    def cover(self) -> np.ndarray:
        """(O, 168) bool: option o's shift is on duty in hour h (wraps Sunday -> Monday)."""
        O = self.n_options
        hrs = (self.start_how[:, None] + np.arange(self.shift_hours)[None, :]) % HOURS_PER_WEEK
        c = np.zeros((O, HOURS_PER_WEEK), dtype=bool)
        c[np.repeat(np.arange(O), self.shift_hours), hrs.ravel()] = True
        return c

    def option_cost_per_year(self) -> np.ndarray:
        """(O,) USD/year of one team on one weekly start option: W x cost per team-shift."""
        return self.weeks_per_year * self.start_cost_usd

    def eligible_calls_per_year(self) -> np.ndarray:
        """(P, 168) eligible calls/year in each hour of week: W x 1 h x calls/hour."""
        return self.weeks_per_year * self.calls_per_hour

    def coverage_table(self, kmax: int | None = None) -> np.ndarray:
        """(P, 168, K+1) covered calls/year with k = 0..K teams on duty (Erlang loss)."""
        kmax = self.max_on_duty if kmax is None else kmax
        b = erlang_b_table(self.calls_per_hour * self.service_time_hours, kmax)
        return self.eligible_calls_per_year()[..., None] * (1.0 - b)

    def gains(self) -> np.ndarray:
        """(P, 168, K) gain of the k-th team on duty, calls/year, non-increasing in k."""
        g = np.diff(self.coverage_table(), axis=-1)
        return np.minimum.accumulate(np.maximum(g, 0.0), axis=-1)

    def on_duty(self, w: np.ndarray) -> np.ndarray:
        """(P, 168) teams on duty for a (P, O) plan of teams per start."""
        return np.asarray(w, dtype=np.int64) @ self.cover().astype(np.int64)

    def coverage(self, w: np.ndarray) -> np.ndarray:
        """(P, 168) expected covered calls/year of a (P, O) plan (teams above K add nothing)."""
        n = np.minimum(self.on_duty(w), self.max_on_duty)
        return np.take_along_axis(self.coverage_table(), n[..., None], axis=-1)[..., 0]

    def annual_cost(self, w: np.ndarray) -> float:
        """USD/year of a (P, O) plan."""
        return float((np.asarray(w) * self.option_cost_per_year()[None, :]).sum())

    def feasible(self, w: np.ndarray) -> bool:
        """Budget, per-precinct on-duty limit and citywide hourly cap all hold."""
        n = self.on_duty(w)
        return (self.annual_cost(w) <= self.budget_usd_per_year * (1 + 1e-12)
                and bool((n <= self.max_on_duty).all())
                and bool((n.sum(axis=0) <= self.hourly_cap).all())
                and bool((np.asarray(w) >= 0).all()))


def hourly_rates(sc, table: pd.DataFrame, sel: pd.DataFrame) -> np.ndarray:
    """(P, 168) eligible calls/hour of the scenario's prior or forecast (times demand.scale)."""
    from bheard.model import problem

    return problem.hourly_rates(sc, table, sel) * sc.demand.scale


def staggered_from_scenario(sc) -> StaggeredData:
    """A scenario with ``shifts.staggered`` -> :class:`StaggeredData`."""
    from bheard.data import precincts as precinct_table
    from bheard.model.problem import select_precincts

    table = precinct_table()
    sel = select_precincts(table, sc.precincts)
    day, hour = start_options(sc.shifts)
    cap = sc.limits.max_teams_per_tour
    return StaggeredData(
        precinct=sel["precinct"].to_numpy(dtype=np.int64),
        borough=sel["borough"].to_numpy(dtype=object),
        calls_per_hour=hourly_rates(sc, table, sel),
        open_hours=operating_hours(sc.shifts),
        start_day=day, start_hour=hour, shift_hours=int(sc.shifts.staggered.hours),
        start_cost_usd=start_costs_usd(sc, hour),
        service_time_hours=sc.teams.service_time_hours, weeks_per_year=sc.weeks_per_year,
        budget_usd_per_year=sc.budget.team_budget_usd,
        max_on_duty=int(sc.limits.max_teams_per_slot),
        hourly_cap=math.inf if cap is None else float(cap),
        start_labels=tuple(f"{h:02d}:00" for h in sc.shifts.staggered.start_hours))


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
    left = data.budget_usd_per_year - data.annual_cost(w)

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
class BuiltStaggered:
    """The Pyomo model and the maps from its variables back to arrays."""

    model: object
    w_index: np.ndarray  # (nw, 2) (p, o) of each w variable
    u_index: np.ndarray  # (nu, 3) (p, h, k-1) of each u variable
    n_integer: int
    tie_break_per_usd: float


def build_staggered_model(data: StaggeredData, tie_break_per_usd: float,
                          relax: bool = False) -> BuiltStaggered:
    """Build the model of this module in bulk (one LinearExpression per row).

    ``w[p, o]`` integer in [0, K] for every start option of a precinct whose shift meets some
    demand; ``u[p, h, k]`` in [0, 1] for every positive gain in an hour some such option
    covers. Rows: link per (p, h), on-duty limit per (p, h) with two or more covering options,
    citywide hourly cap per h (if finite and can bind), budget. ``relax`` makes ``w``
    continuous (the LP relaxation bound).
    """
    import pyomo.environ as pyo
    from pyomo.common.gc_manager import PauseGC
    from pyomo.core.expr.numeric_expr import LinearExpression

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
            <= data.budget_usd_per_year)
        m.obj = pyo.Objective(expr=LinearExpression(
            constant=0.0, linear_coefs=ug.tolist() + (-eps * w_cost).tolist(),
            linear_vars=u + w), sense=pyo.maximize)
    return BuiltStaggered(model=m, w_index=wi, u_index=ui, n_integer=0 if relax else nw,
                          tie_break_per_usd=eps)


def lp_rounded_plan(data: StaggeredData, tie_break_per_usd: float, time_limit_s: float = 30.0
                    ) -> tuple[np.ndarray | None, float]:
    """Solve the LP relaxation (``w`` continuous) with HiGHS; round its ``w`` down (every row
    has non-negative coefficients, so the rounded plan stays feasible) and fill it with
    :func:`greedy_staggered`. Returns ``(plan, LP bound on coverage in calls/year)``, or
    ``(None, inf)`` if the LP did not solve."""
    from pyomo.contrib.solver.common.factory import SolverFactory
    from pyomo.contrib.solver.common.results import TerminationCondition

    built = build_staggered_model(data, tie_break_per_usd, relax=True)
    if len(built.w_index) == 0:
        return None, math.inf
    try:
        res = SolverFactory("highs").solve(
            built.model, load_solutions=False, raise_exception_on_nonoptimal_result=False,
            time_limit=time_limit_s, solver_options={"output_flag": False})
        if res.termination_condition != TerminationCondition.convergenceCriteriaSatisfied:
            return None, math.inf
        res.solution_loader.load_vars()
    except Exception:
        return None, math.inf
    wi = built.w_index
    wv = np.array([built.model.w[j].value or 0.0 for j in range(len(wi))])
    w = np.zeros((len(data.precinct), data.n_options), dtype=np.int64)
    w[wi[:, 0], wi[:, 1]] = np.floor(wv + 1e-9).astype(np.int64)
    bound = float(res.incumbent_objective) + tie_break_per_usd * data.budget_usd_per_year
    if not data.feasible(w):  # rounding noise: start from nothing
        w = np.zeros_like(w)
    return greedy_staggered(data, w), bound


def _set_start(solver, built: BuiltStaggered, data: StaggeredData, w: np.ndarray) -> bool:
    """MIP start: w from the plan, u filled in order up to the teams on duty."""
    from bheard.solve import set_mip_start

    m = built.model
    wi, ui = built.w_index, built.u_index
    n = data.on_duty(w)
    wv = w[wi[:, 0], wi[:, 1]].astype(float)
    uv = (ui[:, 2] < n[ui[:, 0], ui[:, 1]]).astype(float)
    return set_mip_start(solver, [(m.w[j], wv[j]) for j in range(len(wi))]
                         + [(m.u[j], uv[j]) for j in range(len(ui))])


@dataclass
class StaggeredResult:
    """Array-level result of :func:`solve_staggered`."""

    status: str  # optimal | time_limit_feasible | feasible | error
    teams: np.ndarray | None  # (P, O) teams starting at each option
    objective: float  # covered calls/year
    bound: float  # calls/year
    gap: float
    build_seconds: float
    translate_seconds: float
    solve_seconds: float
    report: object  # bheard.plan.SolverReport
    diagnosis: list = field(default_factory=list)


def solve_staggered(data: StaggeredData, options=None) -> StaggeredResult:
    """Greedy incumbent, then HiGHS (Pyomo contrib interface) on :func:`build_staggered_model`
    with the greedy plan as MIP start. The objective is recomputed from the plan; the bound is
    HiGHS's bound on the penalised objective plus ``eps x B``."""
    from bheard.plan import SolverReport
    from bheard.solve import SolveOptions, plan_status, relative_gap, run_highs

    opt = options or SolveOptions()
    report = SolverReport(time_limit_s=opt.time_limit_s, mip_rel_gap=opt.mip_rel_gap)
    t0 = time.perf_counter()
    w0 = greedy_staggered(data)
    lb = float(data.coverage(w0).sum())
    report.greedy_objective = lb
    eps = TIE_BREAK_REL * max(lb, 1.0) / max(data.budget_usd_per_year, 1.0)
    report.tie_break_per_usd = eps
    t_lp = time.perf_counter()
    w_lp, lp_bound = lp_rounded_plan(data, eps, time_limit_s=max(opt.time_limit_s / 2, 1.0))
    lp_s = time.perf_counter() - t_lp
    report.lagrangian_bound = lp_bound  # the LP relaxation bound (here from HiGHS's LP)
    if w_lp is not None and data.coverage(w_lp).sum() > lb:
        w0, lb = w_lp, float(data.coverage(w_lp).sum())
    if relative_gap(lb, lp_bound) <= opt.mip_rel_gap:
        # the incumbent is within the requested gap of the LP bound: certified, no MIP needed
        report.termination = "incumbent within mip_rel_gap of the LP relaxation bound"
        report.bound_source = "highs_lp"
        report.message = "greedy / LP-rounded plan"
        return StaggeredResult("optimal", w0, lb, max(lp_bound, lb), relative_gap(lb, lp_bound),
                               time.perf_counter() - t0 - lp_s, 0.0, lp_s, report)
    built = build_staggered_model(data, eps)
    report.n_variables = len(built.w_index) + len(built.u_index)
    report.n_integer = built.n_integer
    build_s = time.perf_counter() - t0

    def finish(status, w, bound, tr, sv):
        obj = float(data.coverage(w).sum())
        bound = max(bound, obj) if math.isfinite(bound) else bound
        gap = relative_gap(obj, bound)
        if status == "time_limit_feasible" and gap <= opt.mip_rel_gap:
            status = "optimal"
        return StaggeredResult(status, w, obj, bound, gap, build_s, tr, sv, report)

    if len(built.w_index) == 0:  # no start can meet any demand: the empty plan is optimal
        report.termination = "no start option meets demand"
        report.bound_source = "trivial"
        return finish("optimal", w0, lb, 0.0, 0.0)
    run = run_highs(built.model, time_limit_s=opt.time_limit_s, mip_rel_gap=opt.mip_rel_gap,
                    threads=opt.threads, highs_options=opt.highs_options, started_at=t0,
                    start=(lambda solver: _set_start(solver, built, data, w0))
                    if opt.warm_start else None)
    warm, translate_s, solve_s, res = run.warm, run.translate_seconds, run.solve_seconds, run.results
    if res is None:  # keep the greedy plan, no certificate
        report.termination = f"solver error: {run.error}"
        return finish("feasible", w0, float("inf"), translate_s, solve_s)
    tc = res.termination_condition
    report.termination = tc.name
    w = w0
    report.message = ("MIP start from the best of the greedy and LP-rounded plans" if warm
                      else "")
    pen0 = lb - eps * data.annual_cost(w0)
    if res.incumbent_objective is not None and res.incumbent_objective >= pen0 - 1e-9 * abs(pen0):
        try:
            res.solution_loader.load_vars()
            wi = built.w_index
            wv = np.array([built.model.w[j].value or 0.0 for j in range(len(wi))])
            cand = np.zeros_like(w0)
            cand[wi[:, 0], wi[:, 1]] = np.rint(wv).astype(np.int64)
            if data.feasible(cand) and data.coverage(cand).sum() >= lb * (1 - 1e-12):
                w = cand
        except Exception:
            pass
    bound = float("inf")
    if res.objective_bound is not None and math.isfinite(res.objective_bound):
        bound = float(res.objective_bound) + eps * data.budget_usd_per_year
        report.highs_bound = bound
        report.bound_source = "highs"
    if lp_bound < bound:
        bound, report.bound_source = lp_bound, "highs_lp"
    status = plan_status(tc)
    return finish(status, w, bound, translate_s, solve_s)


# ----------------------------------------------------------------------------------------
# plan output
# ----------------------------------------------------------------------------------------
def _row_of_hour(data: StaggeredData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the plan (day x listed start) and, per hour of week, the row it is reported
    under: the latest listed start at or before it (cyclically), so rows partition the week."""
    labels_h = np.array([_hour(s) for s in data.start_labels], dtype=np.int64)
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
    from bheard.plan import ASSIGNMENT_COLUMNS

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
    })[ASSIGNMENT_COLUMNS]


def hourly_table(plan) -> pd.DataFrame:
    """The per (precinct, hour of week) table stored in ``plan.details["hourly_coverage"]``."""
    return pd.DataFrame(plan.details["hourly_coverage"])


def solve_scenario_staggered(sc, *, extra_build_seconds: float = 0.0):
    """Solve a scenario with ``shifts.staggered`` into a :class:`bheard.plan.Plan`."""
    from bheard.assumptions import scenario_assumptions
    from bheard.plan import ASSIGNMENT_COLUMNS, Plan
    from bheard.solve import SolveOptions

    t0 = time.perf_counter()
    data = staggered_from_scenario(sc)
    prep = time.perf_counter() - t0 + extra_build_seconds
    res = solve_staggered(data, SolveOptions(**sc.solver.model_dump()))
    details: dict = {"staggered": {
        "starts": list(data.start_labels), "shift_hours": data.shift_hours,
        "start_options_per_week": data.n_options,
        "max_teams_on_duty_per_precinct_hour": data.max_on_duty,
        "hourly_cap": None if not math.isfinite(data.hourly_cap) else data.hourly_cap,
        "cost_per_team_shift_usd": {f"{DAYS[d]} {h:02d}:00": float(c) for d, h, c in
                                    zip(data.start_day, data.start_hour, data.start_cost_usd)},
        "rows": "one per (precinct, day, start); eligible/covered calls are those of the hours"
                " from that start to the next listed start",
        "coverage": "isolated (own precinct's teams only)",
    }}
    elig_h = data.eligible_calls_per_year()
    details["eligible_calls_in_hours_of_operation"] = float(elig_h[:, data.open_hours].sum())
    details["eligible_calls_outside_hours_of_operation"] = float(
        elig_h[:, ~data.open_hours].sum())
    if res.teams is not None:
        hf = hourly_frame(data, res.teams)
        details["hourly_coverage"] = {c: hf[c].tolist() for c in hf.columns}
        details["max_teams_on_duty_citywide"] = int(data.on_duty(res.teams).sum(axis=0).max())
        assignments = assignments_frame(data, res.teams)
        cost = data.annual_cost(res.teams)
    else:
        assignments = pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
        cost = 0.0
    return Plan(scenario=sc.name, status=res.status, objective=res.objective, bound=res.bound,
                gap=res.gap, annual_cost=cost, budget=data.budget_usd_per_year,
                eligible_calls=float(elig_h.sum()), build_seconds=res.build_seconds + prep,
                translate_seconds=res.translate_seconds, solve_seconds=res.solve_seconds,
                assignments=assignments, solver=res.report, diagnosis=res.diagnosis,
                assumptions=scenario_assumptions(sc), demand_source=sc.demand.source,
                tours=[{"name": lab, "start_hour": float(_hour(lab)), "hours": data.shift_hours,
                        "days": list(sc.shifts.days)} for lab in data.start_labels],
                details=details)
