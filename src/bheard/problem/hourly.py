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
from bheard.dispatch import dispatch_model, slot_inflow_rates, slot_lagged_rates
from bheard.geography import travel_time_matrix
from bheard.queueing import loss_with_breaks_table
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
    #: the dispatch parameters (models/dispatch.md): share of on-duty time available, minutes
    #: a call may wait, (P, 168) lagged calls/hour behind the load (None = calls_per_hour) and
    #: (P, 168) hours of the trip inside the precinct (None = no trip)
    availability: float = 1.0
    max_wait_min: float = 0.0
    work_calls_per_hour: np.ndarray | None = None
    own_trip_hours: np.ndarray | None = None
    #: (P, 168) the part of the lagged rates due to calls arriving within the hour; the rest is
    #: carried over and stays with the posts that continue (``carry_share``, None = all)
    inflow_calls_per_hour: np.ndarray | None = None
    carry_share: np.ndarray | None = None
    handover: str = "post"

    def carry_share_of(self, w: np.ndarray) -> np.ndarray:
        """(P, 168) share of the calls in service at the start of each hour that stay on a
        post on duty in that hour: teams on duty through the hour keep theirs, a shift that
        ends is relieved by one that starts at the same precinct ("post" handover) or its
        calls finish in overtime (models/dispatch.md)."""
        w = np.asarray(w, dtype=float)
        n = w @ self.cover().astype(float)  # (P, 168) on duty in each hour
        start = np.zeros((self.n_options, HOURS_PER_WEEK))
        start[np.arange(self.n_options), self.start_how % HOURS_PER_WEEK] = 1.0
        end = np.roll(start, self.shift_hours, axis=1)  # a shift ends L hours after its start
        b, e = w @ start, w @ end
        prev = np.roll(n, 1, axis=1)
        keep = prev - e + (np.minimum(e, b) if self.handover == "post" else 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(prev > 0, np.clip(keep / np.maximum(prev, 1e-300), 0.0, 1.0), 0.0)

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
        """(P, 168, K+1) covered calls/year with k = 0..K teams on duty: the loss of k teams
        with breaks (:func:`bheard.queueing.loss_with_breaks_table`) at the lagged load, times
        the chance no busy team frees up within the wait (as the slot model,
        :meth:`bheard.problem.slots.ProblemData.coverage_table`)."""
        kmax = self.max_on_duty if kmax is None else kmax
        busy = self.service_time_hours + (0.0 if self.own_trip_hours is None
                                          else self.own_trip_hours)
        work = self.calls_per_hour if self.work_calls_per_hour is None \
            else self.work_calls_per_hour
        if self.inflow_calls_per_hour is not None and self.carry_share is not None:
            carry = np.maximum(work - self.inflow_calls_per_hour, 0.0)
            work = work - carry + carry * self.carry_share
        loss = loss_with_breaks_table(work * busy, self.availability, kmax)
        if self.max_wait_min > 0:
            k = np.arange(kmax + 1)
            b = np.broadcast_to(busy, self.calls_per_hour.shape)
            loss = loss * np.exp(-k[None, None, :] * (self.max_wait_min / 60.0) / b[..., None])
        return self.eligible_calls_per_year()[..., None] * (1.0 - loss)

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
    hourly = hourly_rates(sc, table, sel) * sc.demand.scale
    dm = dispatch_model(sc)
    g = sc.geography
    # the trip inside a precinct, by hour of day (faster overnight: geography.night_speed_factor)
    own = {f: np.diagonal(travel_time_matrix(sel, g, f)) / 60.0
           for f in {1.0, float(g.night_speed_factor)}}
    how = np.arange(HOURS_PER_WEEK)
    night = ((how % 24) + 0.5) < 7.0
    trip = np.stack([own[float(g.night_speed_factor)] if n else own[1.0] for n in night], axis=1)
    work = slot_lagged_rates(hourly, how.astype(float), np.ones(HOURS_PER_WEEK), dm,
                             float(np.median(trip)))
    inflow = slot_inflow_rates(hourly, how.astype(float), np.ones(HOURS_PER_WEEK), dm,
                               float(np.median(trip)))
    return StaggeredData(
        precinct=sel["precinct"].to_numpy(dtype=np.int64),
        borough=sel["borough"].to_numpy(dtype=object),
        calls_per_hour=hourly,
        open_hours=operating_hours(sc.shifts),
        start_day=day, start_hour=hour, shift_hours=int(st.hours),
        start_cost_usd=np.array([shift_cost_usd(sc, f"{h:02d}:00", float(h), float(st.hours),
                                                staggered=True)
                                 for h in hour.tolist()], dtype=float),
        service_time_hours=sc.teams.service_time_hours, weeks_per_year=sc.weeks_per_year,
        team_budget_usd_per_year=team_budget_usd(sc),
        max_on_duty=int(sc.limits.max_teams_per_slot),
        hourly_cap=math.inf if cap is None else float(cap),
        start_labels=tuple(f"{h:02d}:00" for h in st.start_hours),
        availability=dm.availability, max_wait_min=dm.max_wait_min, work_calls_per_hour=work,
        own_trip_hours=trip, inflow_calls_per_hour=inflow, handover=dm.handover)
