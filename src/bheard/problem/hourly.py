"""Hourly problem data for staggered starts: demand by (precinct, hour of week) and the
start options teams may use (``models/staggered_tours.md``).

``o`` = start option (day, start hour), ``h`` = hour of week (Monday 00:00-01:00 = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bheard.constants import HOURS_PER_WEEK
from bheard.costs import shift_cost_usd, team_budget_usd
from bheard.data import precincts as precinct_table
from bheard.problem.slots import hourly_rates, select_precincts
from bheard.queueing import erlang_b_table
from bheard.scenario.hours import operating_hours, start_options


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
        weeks_per_year: W; team_budget_usd_per_year: B (USD/year).
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
    team_budget_usd_per_year: float
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
        return (self.annual_cost(w) <= self.team_budget_usd_per_year * (1 + 1e-12)
                and bool((n <= self.max_on_duty).all())
                and bool((n.sum(axis=0) <= self.hourly_cap).all())
                and bool((np.asarray(w) >= 0).all()))


def staggered_from_scenario(sc) -> StaggeredData:
    """A scenario with ``shifts.staggered`` -> :class:`StaggeredData`."""
    table = precinct_table()
    sel = select_precincts(table, sc.precincts)
    day, hour = start_options(sc.shifts)
    cap = sc.limits.max_teams_per_tour
    st = sc.shifts.staggered
    return StaggeredData(
        precinct=sel["precinct"].to_numpy(dtype=np.int64),
        borough=sel["borough"].to_numpy(dtype=object),
        calls_per_hour=hourly_rates(sc, table, sel) * sc.demand.scale,
        open_hours=operating_hours(sc.shifts),
        start_day=day, start_hour=hour, shift_hours=int(st.hours),
        start_cost_usd=np.array([shift_cost_usd(sc, f"{h:02d}:00", float(h), float(st.hours),
                                                staggered=True)
                                 for h in hour.tolist()], dtype=float),
        service_time_hours=sc.teams.service_time_hours, weeks_per_year=sc.weeks_per_year,
        team_budget_usd_per_year=team_budget_usd(sc),
        max_on_duty=int(sc.limits.max_teams_per_slot),
        hourly_cap=math.inf if cap is None else float(cap),
        start_labels=tuple(f"{h:02d}:00" for h in st.start_hours))
