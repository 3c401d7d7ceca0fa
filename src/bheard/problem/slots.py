"""Slot problem data: the staffing problem over (precinct, day, tour) as numpy arrays.

Index conventions: ``p`` = precinct (0..P-1), ``s`` = shift slot (day, tour) (0..S-1),
``k`` = team level (the k-th team in a precinct-slot, 1..K). No Pyomo here: formulations
(:mod:`bheard.model`) build their models from these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bheard.constants import HOURS_PER_WEEK
from bheard.costs import role_fte_per_team_slot, shift_cost_usd, team_budget_usd
from bheard.data import precincts as precinct_table
from bheard.demand.prior import prior_hourly
from bheard.demand.slots import slot_mean_rates
from bheard.demand.table import read_demand_table
from bheard.dispatch import dispatch_model, slot_inflow_rates, slot_lagged_rates
from bheard.geography import response_sets, scenario_travel_times
from bheard.queueing import loss_with_breaks_at, loss_with_breaks_table
from bheard.scenario.hours import slot_open, slot_times


@dataclass(frozen=True, eq=False)
class ProblemData:
    """Arrays that define one staffing problem.

    Attributes (units in the names):
        precinct: (P,) NYPD precinct numbers.
        borough: (P,) borough names.
        slot_day, slot_tour: (S,) day name and tour name of each slot.
        slot_hours: (S,) tour length, hours.
        slot_cost_usd: (S,) cost of one team working one shift of the slot, USD.
        slot_start_how: (S,) slot start, hours of the week (Monday 00:00 = 0).
        calls_per_hour: (P, S) eligible calls/hour.
        service_time_hours: mean busy time per call, hours.
        weeks_per_year: weeks a year the weekly schedule runs.
        team_budget_usd_per_year: money for teams, USD/year (``budget.annual_usd`` times
            ``budget.crisis_team_share`` when given, minus the program's fixed cost:
            :func:`bheard.costs.team_budget_usd`).
        max_teams: (P, S) int upper bound on teams.
        min_teams: (P, S) int lower bound on teams.
        slot_cap: (S,) citywide max teams in each slot (``inf`` = no cap).
        slot_cap_label: (S,) text naming the limit behind each cap, for diagnoses.
    """

    precinct: np.ndarray
    borough: np.ndarray
    slot_day: np.ndarray
    slot_tour: np.ndarray
    slot_hours: np.ndarray
    slot_cost_usd: np.ndarray
    calls_per_hour: np.ndarray
    service_time_hours: float
    weeks_per_year: float
    team_budget_usd_per_year: float
    max_teams: np.ndarray
    min_teams: np.ndarray
    slot_cap: np.ndarray
    slot_cap_label: np.ndarray = field(default=None)
    min_teams_label: str = "limits.min_teams"
    max_teams_label: str = "limits.max_teams_per_slot"
    #: (S, P, P) bool, ``reach[s, i, j]``: a team based in j can serve precinct i in slot s
    #: (shared coverage; None = isolated). See :mod:`bheard.geography`.
    reach: np.ndarray | None = None
    #: role names and (R, S) FTE of each role per team staffed in a weekly slot, with (R,) caps
    #: (``inf`` = none); see :func:`bheard.costs.role_fte_per_team_slot`
    role_names: tuple = ()
    role_fte_per_team: np.ndarray | None = None
    role_cap: np.ndarray | None = None
    slot_start_how: np.ndarray | None = None
    #: the dispatch parameters (models/dispatch.md): share of on-duty time available, minutes
    #: a call may wait, (P, S) lagged calls/hour behind the workload (None = calls_per_hour),
    #: and (S, P, P) minutes from call receipt to arrival from base j to precinct i
    #: (``travel_min[s, j, i]``; None = no trip)
    availability: float = 1.0
    max_wait_min: float = 0.0
    work_calls_per_hour: np.ndarray | None = None
    travel_min: np.ndarray | None = None
    #: (P, S) the part of the lagged rates due to calls arriving within the slot (the rest is
    #: carried over from the previous slot and stays with the posts that continue:
    #: ``handover`` "post"; with "free" the relieving teams start free). None = all of it.
    inflow_calls_per_hour: np.ndarray | None = None
    handover: str = "post"
    #: (P, S) share of the calls carried over into each slot that stay on the precinct's own
    #: continuing posts (isolated model; None = all of them); see :meth:`carry_share_of`
    carry_share: np.ndarray | None = None
    #: (P, S) minutes of the trip inside each precinct (the diagonal of ``travel_min``), kept
    #: alone when ``travel_min`` is left out: demand samples side by side for the isolated
    #: model, which needs only the own trip (:meth:`own_busy_hours`)
    own_trip_min: np.ndarray | None = None

    def __post_init__(self):
        P, S = self.calls_per_hour.shape
        for name, shape in (("precinct", (P,)), ("slot_hours", (S,)), ("slot_cost_usd", (S,)),
                            ("max_teams", (P, S)), ("min_teams", (P, S)), ("slot_cap", (S,))):
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(f"ProblemData.{name} must have shape {shape}")
        if self.slot_start_how is None:
            object.__setattr__(self, "slot_start_how", np.zeros(S))
        if self.slot_cap_label is None:
            object.__setattr__(self, "slot_cap_label",
                               np.array(["limits.max_teams_per_tour"] * S, dtype=object))

    @property
    def shape(self) -> tuple[int, int]:
        return self.calls_per_hour.shape

    @property
    def kmax(self) -> int:
        return int(self.max_teams.max()) if self.max_teams.size else 0

    def own_busy_hours(self) -> np.ndarray:
        """(P, S) mean busy hours of a call taken by the precinct's own team: the trip inside
        the precinct plus the service time."""
        P, S = self.shape
        if self.travel_min is None:
            if self.own_trip_min is not None:
                return self.service_time_hours + np.asarray(self.own_trip_min) / 60.0
            return np.full((P, S), self.service_time_hours)
        own = np.diagonal(self.travel_min, axis1=1, axis2=2).T  # (P, S)
        return self.service_time_hours + own / 60.0

    def workload_rates(self) -> np.ndarray:
        """(P, S) calls/hour behind the workload: the lagged rates when known."""
        return self.calls_per_hour if self.work_calls_per_hour is None \
            else self.work_calls_per_hour

    def carried_over_rates(self) -> np.ndarray:
        """(P, S) lagged calls/hour carried over from before each slot (0 without lags)."""
        if self.work_calls_per_hour is None or self.inflow_calls_per_hour is None:
            return np.zeros(self.shape)
        return np.maximum(self.work_calls_per_hour - self.inflow_calls_per_hour, 0.0)

    def previous_slot(self) -> np.ndarray:
        """(S,) the slot whose tour ends when each slot's starts (-1 if none; the first such
        slot: with demand samples stacked along the slots, the first sample's, which holds the
        same teams, since a plan is tiled over the samples)."""
        start = np.asarray(self.slot_start_how, float)
        end = start + np.asarray(self.slot_hours, float)
        # hours of the week in micro-hours (the slots' times are whole or simple fractions of
        # hours), so a start meets an end by a lookup instead of a scan of every slot
        week = int(round(HOURS_PER_WEEK * 1e6))

        def key(t: np.ndarray) -> list[int]:
            return (np.round(np.mod(t, HOURS_PER_WEEK) * 1e6).astype(np.int64) % week).tolist()

        first: dict[int, int] = {}
        for i, e in enumerate(key(end)):
            first.setdefault(e, i)
        return np.array([first.get(k, -1) for k in key(start)], dtype=np.int64)

    def carry_share_of(self, teams: np.ndarray) -> np.ndarray:
        """(P, S) share of the calls in service at the start of each slot that burden a
        location's teams in the slot: with the "post" handover the posts that continue keep
        their calls, ``min(x_prev, x) / x_prev`` (0 where the previous slot had no team); the
        others finish in overtime. With the "free" handover every relieving team starts free
        (0)."""
        x = np.asarray(teams, dtype=float)
        if self.handover != "post":
            return np.zeros(x.shape)
        prev = self.previous_slot()
        xp = np.where(prev[None, :] >= 0, x[:, np.maximum(prev, 0)], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(xp > 0, np.minimum(xp, x) / np.maximum(xp, 1e-300), 0.0)

    def offered_load(self) -> np.ndarray:
        """(P, S) offered load in Erlangs on the precinct's own teams: (calls/hour arriving in
        the slot, lagged, + those carried over times :attr:`carry_share`) x mean busy hours
        (own trip + service)."""
        carry = self.carried_over_rates()
        share = 1.0 if self.carry_share is None else self.carry_share
        return (self.workload_rates() - carry + carry * share) * self.own_busy_hours()

    def eligible_calls_per_year(self) -> np.ndarray:
        """(P, S) eligible calls a year in each precinct-slot: W x hours x calls/hour."""
        return self.weeks_per_year * self.slot_hours[None, :] * self.calls_per_hour

    def team_cost_per_year(self) -> np.ndarray:
        """(S,) USD/year of one team in one weekly slot: W x cost per team-shift."""
        return self.weeks_per_year * self.slot_cost_usd

    def coverage_table(self, kmax: int | None = None) -> np.ndarray:
        """(P, S, K+1) expected covered eligible calls/year with k = 0..K teams.

        ``cov(p,s,k) = W h_s lam_ps (1 - L_k)`` with ``L_k`` the loss of an isolated precinct's
        k teams: Erlang's ``B(k, a)`` at availability 1, with breaks
        :func:`bheard.queueing.loss_with_breaks_table`, times the chance that no busy team
        frees up within ``max_wait_min`` (``exp(-k w / b)``, ``b`` the mean busy time).
        """
        kmax = self.kmax if kmax is None else kmax
        loss = loss_with_breaks_table(self.offered_load(), self.availability, kmax)
        if self.max_wait_min > 0:
            b = self.own_busy_hours()
            k = np.arange(kmax + 1)
            loss = loss * np.exp(-k[None, None, :] * (self.max_wait_min / 60.0) / b[..., None])
        return self.eligible_calls_per_year()[..., None] * (1.0 - loss)

    def coverage(self, teams: np.ndarray) -> np.ndarray:
        """(P, S) expected covered eligible calls/year for a (P, S) integer plan."""
        teams = np.asarray(teams, dtype=np.int64)
        # the coverage table's entry at each cell's own count (the same arithmetic, one level)
        loss = loss_with_breaks_at(self.offered_load(), self.availability, teams)
        if self.max_wait_min > 0:
            b = self.own_busy_hours()
            loss = loss * np.exp(-teams * (self.max_wait_min / 60.0) / b)
        return self.eligible_calls_per_year() * (1.0 - loss)

    def annual_cost(self, teams: np.ndarray) -> float:
        """USD/year of a (P, S) plan."""
        return float((np.asarray(teams) * self.team_cost_per_year()[None, :]).sum())

    def hourly_calls_per_hour(self) -> np.ndarray:
        """(P, 168) calls/hour by hour of week implied by the slot rates: each hour gets the
        time-weighted rate of the slots covering it (0 where no slot runs)."""
        return slot_rates_to_hourly(self.calls_per_hour, self.slot_start_how, self.slot_hours)


def problem_from_scenario(scenario, *, rates: np.ndarray | None = None) -> ProblemData:
    """Geography + demand + costs + limits of a :class:`bheard.scenario.Scenario` as arrays.

    ``rates``: (P, S) eligible calls/hour to use instead of reading the scenario's demand
    source (the demand samples of :mod:`bheard.problem.samples` bring their own)."""
    table = precinct_table()
    sel = select_precincts(table, scenario.precincts)
    slots, start_how, hours = slot_times(scenario.shifts)
    tours = {t.name: t for t in scenario.shifts.tours}
    slot_day = np.array([d for d, _ in slots], dtype=object)
    slot_tour = np.array([t for _, t in slots], dtype=object)
    cost = np.array([shift_cost_usd(scenario, t, tours[t].start_hour, tours[t].hours)
                     for _, t in slots], dtype=float)

    hourly = scaled_hourly_rates(scenario, table, sel) if rates is None else None
    if rates is not None:  # given slot rates (a demand sample's mean)
        rates = np.asarray(rates, dtype=float)
        hourly = slot_rates_to_hourly(rates, start_how, hours)
    elif hourly is None:  # a demand table: slot rates only
        rates = demand_rates(scenario, table, sel, slots, start_how, hours) * scenario.demand.scale
        hourly = slot_rates_to_hourly(rates, start_how, hours)
    else:
        rates = slot_mean_rates(hourly, start_how, hours)
    dm = dispatch_model(scenario)
    times = scenario_travel_times(scenario, sel)
    travel = (np.stack([times[t] for _, t in slots]) if slots
              else np.zeros((0, len(sel), len(sel))))
    work, inflow = slot_lags(hourly, start_how, hours, dm, travel)

    P, S = len(sel), len(slots)
    lim = scenario.limits
    max_teams = np.full((P, S), lim.max_teams_per_slot, dtype=np.int64)
    min_teams = np.full((P, S), lim.min_teams_every_precinct, dtype=np.int64)
    for p, n in lim.min_teams.items():
        idx = np.flatnonzero(sel["precinct"].to_numpy() == p)
        min_teams[idx, :] = np.maximum(min_teams[idx, :], n)
    if scenario.shifts.hours_of_operation is not None:
        # slots outside the hours of operation get no teams
        closed = ~slot_open(scenario.shifts, start_how, hours)
        max_teams[:, closed] = 0
        min_teams[:, closed] = 0
    caps = np.array([np.inf if scenario.tour_cap(t) is None else scenario.tour_cap(t)
                     for _, t in slots], dtype=float)
    cap_label = np.array([f"limits.max_teams_per_tour[{t}]" for _, t in slots], dtype=object)
    extra = {}
    if scenario.coverage.mode == "shared":
        reach = {t: response_sets(m, dm.response_standard_min) for t, m in times.items()}
        extra["reach"] = (np.stack([reach[t] for _, t in slots]) if slots
                          else np.zeros((0, len(sel), len(sel)), dtype=bool))
    if scenario.workforce.max_headcount:
        names, fte = role_fte_per_team_slot(scenario.workforce, scenario.teams.crew, hours,
                                            scenario.weeks_per_year)
        extra.update(role_names=names, role_fte_per_team=fte, role_cap=np.array(
            [scenario.workforce.max_headcount.get(r, np.inf) for r in names], dtype=float))
    return ProblemData(
        precinct=sel["precinct"].to_numpy(dtype=np.int64),
        borough=sel["borough"].to_numpy(dtype=object),
        slot_day=slot_day, slot_tour=slot_tour, slot_hours=hours, slot_cost_usd=cost,
        slot_start_how=start_how,
        calls_per_hour=rates, service_time_hours=scenario.teams.service_time_hours,
        weeks_per_year=scenario.weeks_per_year,
        team_budget_usd_per_year=team_budget_usd(scenario),
        max_teams=max_teams, min_teams=min_teams, slot_cap=caps, slot_cap_label=cap_label,
        min_teams_label=("limits.min_teams_every_precinct" if lim.min_teams_every_precinct
                         else "limits.min_teams"),
        availability=dm.availability, max_wait_min=dm.max_wait_min, work_calls_per_hour=work,
        inflow_calls_per_hour=inflow, handover=dm.handover, travel_min=travel,
        **extra,
    )


def slot_lags(hourly: np.ndarray, start_how: np.ndarray, hours: np.ndarray, dm,
              travel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, S) lagged calls/hour behind the workload of each slot and the part of them due to
    calls arriving in the slot (:func:`bheard.dispatch.slot_lagged_rates`,
    :func:`bheard.dispatch.slot_inflow_rates`) from (P, 168) hourly calls/hour, with the busy
    time's trip the median own-precinct trip of ``travel`` (S, P, P) minutes. Linear in
    ``hourly`` (the demand samples of :mod:`bheard.problem.samples` use it as a matrix)."""
    own_trip_h = (float(np.median(np.diagonal(travel, axis1=1, axis2=2))) / 60.0
                  if len(travel) else 0.0)
    return (slot_lagged_rates(hourly, start_how, hours, dm, own_trip_h),
            slot_inflow_rates(hourly, start_how, hours, dm, own_trip_h))


def select_precincts(table: pd.DataFrame, spec) -> pd.DataFrame:
    """Rows of the precinct table chosen by a scenario's ``precincts`` field."""
    if spec == "all":
        return table.reset_index(drop=True)
    if isinstance(spec, tuple):
        return table.set_index("precinct").loc[list(spec)].reset_index()
    return table[table["borough"].isin(spec.boroughs)].reset_index(drop=True)


def demand_rates(scenario, table: pd.DataFrame, sel: pd.DataFrame, slots, start_how,
                 hours) -> np.ndarray:
    """(P, S) eligible calls/hour from the scenario's demand source."""
    d = scenario.demand
    if d.table is not None:
        return read_demand_table(d.table, slots, sel["precinct"].to_numpy())
    return slot_mean_rates(hourly_rates(scenario, table, sel), start_how, hours)


def hourly_rates(scenario, table: pd.DataFrame, sel: pd.DataFrame) -> np.ndarray:
    """(P, 168) eligible calls/hour by hour of week from the prior or the forecast (unscaled).

    A ``table`` demand source has slot rates only and is not handled here.
    """
    d = scenario.demand
    if d.prior is not None:
        hourly = prior_hourly(d.prior, table)
    elif d.forecast is not None:
        # deferred on purpose: the forecast imports scipy.stats (about 1 s), which prior and
        # table scenarios never need
        from bheard.demand.forecast import forecast_hourly

        f = d.forecast
        hourly = forecast_hourly(f.history, f.target_start, f.weeks, quantile=f.quantile,
                                 rules=f.rules, precincts=sel["precinct"].tolist())
    else:
        raise ValueError("hourly_rates needs a prior or forecast demand source")
    wide = (hourly.pivot(index="precinct", columns="hour_of_week", values="calls_per_hour")
            .reindex(index=sel["precinct"], columns=range(HOURS_PER_WEEK)))
    if wide.isna().any().any():
        missing = wide.index[wide.isna().any(axis=1)].tolist()
        raise ValueError(f"hourly demand has no rate for precincts {missing[:10]}")
    return wide.to_numpy(dtype=float)


def scaled_hourly_rates(scenario, table: pd.DataFrame | None = None,
                        sel: pd.DataFrame | None = None) -> np.ndarray | None:
    """(P, 168) eligible calls/hour of a prior or forecast scenario, times ``demand.scale``
    (None for a table demand, which has slot rates only)."""
    if scenario.demand.table is not None:
        return None
    table = precinct_table() if table is None else table
    sel = select_precincts(table, scenario.precincts) if sel is None else sel
    return hourly_rates(scenario, table, sel) * scenario.demand.scale


def slot_rates_to_hourly(rates_ps: np.ndarray, start_how: np.ndarray, hours: np.ndarray
                         ) -> np.ndarray:
    """(P, 168) hourly rates from slot rates (calls/hour): each hour gets the slot-time-weighted
    rate of the slots covering it; hours no slot covers get 0 (demand there is unknown)."""
    P, S = rates_ps.shape
    cover = np.zeros((S, HOURS_PER_WEEK))
    grid = np.arange(HOURS_PER_WEEK + 1, dtype=float)
    for s in range(S):
        a = float(start_how[s]) % HOURS_PER_WEEK
        for shift in (-HOURS_PER_WEEK, 0, HOURS_PER_WEEK):
            lo, hi = a + shift, a + shift + float(hours[s])
            ov = np.clip(np.minimum(grid[1:], hi) - np.maximum(grid[:-1], lo), 0, None)
            cover[s] += ov
    return rates_ps @ cover
