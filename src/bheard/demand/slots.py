"""Aggregate hourly demand (calls/hour by precinct and hour of week) to shift slots.

Hour of week ``h = day * 24 + hour`` with Monday = 0; hour 0 is Monday 00:00-01:00. A slot
(day, tour) covers ``[day*24 + start, day*24 + start + hours)`` hours of the week, wrapping
from Sunday night into Monday morning. Its rate is the time-average of the hourly rates over
that interval (exact for the piecewise-constant hourly profile, fractional starts included).
"""

from __future__ import annotations

import numpy as np

from bheard.constants import HOURS_PER_WEEK  # noqa: E402


def slot_mean_rates(hourly: np.ndarray, start_how: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Mean calls/hour in each slot.

    ``hourly``: (P, 168) calls/hour per precinct and hour of week. ``start_how``: (S,) slot
    start in hours of the week (may be fractional). ``hours``: (S,) slot length in hours.
    Returns (P, S) calls/hour.
    """
    hourly = np.asarray(hourly, dtype=float)
    if hourly.shape[-1] != HOURS_PER_WEEK:
        raise ValueError("hourly demand must have 168 hours of week")
    # cumulative calls from the start of the week, over three weeks to allow wrapping
    tiled = np.concatenate([hourly] * 3, axis=-1)
    cum = np.concatenate([np.zeros(hourly.shape[:-1] + (1,)), np.cumsum(tiled, axis=-1)], axis=-1)
    grid = np.arange(cum.shape[-1], dtype=float)

    def at(t: np.ndarray) -> np.ndarray:
        # linear interpolation of the cumulative count = integral of a step function
        return np.stack([np.interp(t, grid, row) for row in cum.reshape(-1, cum.shape[-1])]
                        ).reshape(hourly.shape[:-1] + t.shape)

    start = np.mod(np.asarray(start_how, dtype=float), HOURS_PER_WEEK)
    end = start + np.asarray(hours, dtype=float)
    return (at(end) - at(start)) / np.asarray(hours, dtype=float)
