"""The one dispatch parameter set: how a call gets a team and how long it keeps it busy.

The optimizer's coverage models (:mod:`bheard.model`) and the simulator
(:mod:`bheard.simulate`) both read a scenario's dispatch parameters through
:func:`dispatch_model`, so they cannot disagree (``models/dispatch.md``):

- busy time per call = the trip (``geography.dispatch_delay_min`` + driving time, from
  :mod:`bheard.geography`) + the service time (mean ``teams.service_time_hours``: on scene,
  transport, return, paperwork; shaped by ``dispatch.hospital_share`` and
  ``dispatch.hospital_extra_hours``);
- ``dispatch.availability``: share of each tour a team can take calls (one unavailable block);
- which teams may take a call: the precinct's own (``coverage.mode: isolated``), or every team
  whose trip is within ``coverage.response_standard_min`` (``shared``; ``null`` = any team of
  the area), nearest free team first;
- ``dispatch.max_wait_min``: how long a call may wait for a team to free up;
- ``dispatch.handover``: a team busy at the end of its tour keeps its post busy (and is paid
  overtime) or the relieving team starts free.

Demand carried over a tour boundary is modelled by lagged rates (:func:`slot_lagged_rates`):
teams starting a tour inherit the calls still in service from the previous hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bheard.constants import HOURS_PER_WEEK
from bheard.queueing import busy_time_survival, lagged_rates

#: grid step of the lagged-rate computation, hours (5 minutes)
LAG_STEP_H = 1.0 / 12.0
#: horizon of the busy-time survival function, hours (busy times beyond it are negligible)
LAG_HORIZON_H = 48.0


@dataclass(frozen=True)
class DispatchModel:
    """A scenario's dispatch parameters as numbers (units in the names)."""

    rule: str  # "isolated" | "shared"
    service_time_hours: float
    availability: float
    max_wait_min: float
    hospital_share: float
    hospital_extra_hours: float
    response_standard_min: float  # inf = any team of the scenario's area
    handover: str
    overtime_premium: float

    def survival(self, trip_hours: float = 0.0) -> np.ndarray:
        """P(busy time > u) on the :data:`LAG_STEP_H` grid (see
        :func:`bheard.queueing.busy_time_survival`)."""
        return busy_time_survival(LAG_STEP_H, LAG_HORIZON_H, self.service_time_hours,
                                  self.hospital_share, self.hospital_extra_hours, trip_hours)


def dispatch_model(scenario) -> DispatchModel:
    """The dispatch parameters of a :class:`bheard.scenario.Scenario`."""
    d = scenario.dispatch
    r = scenario.coverage.response_standard_min
    return DispatchModel(
        rule=scenario.coverage.mode, service_time_hours=scenario.teams.service_time_hours,
        availability=d.availability, max_wait_min=d.max_wait_min,
        hospital_share=d.hospital_share, hospital_extra_hours=d.hospital_extra_hours,
        response_standard_min=math.inf if r is None else float(r), handover=d.handover,
        overtime_premium=d.overtime_premium)


def slot_lagged_rates(hourly: np.ndarray, start_how: np.ndarray, hours: np.ndarray,
                      model: DispatchModel, trip_hours: float = 0.0) -> np.ndarray:
    """(P, S) lagged calls/hour averaged over each slot: the rate whose load (times the mean
    busy time) equals the calls actually in service during the slot, including those carried
    over from before it (:func:`bheard.queueing.lagged_rates`). ``hourly``: (P, 168)."""
    lag = lagged_rates(hourly, model.survival(trip_hours), LAG_STEP_H)  # (P, G)
    G = lag.shape[-1]
    per = G // HOURS_PER_WEEK
    cum = np.concatenate([np.zeros(lag.shape[:-1] + (1,)), np.cumsum(np.concatenate(
        [lag, lag], axis=-1), axis=-1)], axis=-1) / per
    out = np.empty(lag.shape[:-1] + (len(start_how),))
    for s, (a, h) in enumerate(zip(np.asarray(start_how, float), np.asarray(hours, float))):
        lo = (a % HOURS_PER_WEEK) * per
        hi = lo + h * per
        out[..., s] = _interp_rows(cum, lo, hi) / h
    return out


def slot_inflow_rates(hourly: np.ndarray, start_how: np.ndarray, hours: np.ndarray,
                      model: DispatchModel, trip_hours: float = 0.0) -> np.ndarray:
    """(P, S) the part of :func:`slot_lagged_rates` due to calls arriving during the slot
    itself (the rest was carried over from before the slot started):
    ``(1/h) sum_{t in slot} lambda(t) dt F(end - t)``, with ``F`` the distribution of the
    residual busy time (calls arriving late in the slot have not built up their load yet)."""
    sv = model.survival(trip_hours)
    cdf = np.cumsum(sv) / max(sv.sum(), 1e-300)  # F at the grid points, F(inf) = 1
    per = int(round(1.0 / LAG_STEP_H))
    grid = np.repeat(np.asarray(hourly, dtype=float), per, axis=-1)  # (P, G)
    G = grid.shape[-1]
    out = np.empty(grid.shape[:-1] + (len(start_how),))
    for s, (a, h) in enumerate(zip(np.asarray(start_how, float), np.asarray(hours, float))):
        n = max(int(round(h * per)), 1)
        idx = (int(round((a % HOURS_PER_WEEK) * per)) + np.arange(n)) % G
        left = n - np.arange(n)  # grid steps from each arrival to the slot's end
        w = cdf[np.minimum(left - 1, cdf.size - 1)]
        out[..., s] = (grid[..., idx] * w).sum(axis=-1) / n
    return out


def _interp_rows(cum: np.ndarray, lo: float, hi: float) -> np.ndarray:
    x = np.arange(cum.shape[-1])
    i0, i1 = int(math.floor(lo)), int(math.floor(hi))
    f0, f1 = lo - i0, hi - i1
    c0 = cum[..., i0] + f0 * (cum[..., min(i0 + 1, x[-1])] - cum[..., i0])
    c1 = cum[..., i1] + f1 * (cum[..., min(i1 + 1, x[-1])] - cum[..., i1])
    return c1 - c0


__all__ = ["DispatchModel", "dispatch_model", "slot_lagged_rates", "slot_inflow_rates",
           "LAG_STEP_H"]
