"""Time of the week for a scenario's shifts: slots, hours of operation, staggered start options.

Hour of week ``h = day * 24 + hour`` with Monday 00:00-01:00 = 0. A window of
``shifts.hours_of_operation`` belongs to the day it opens on; ``close <= open`` runs past
midnight into the next day (Sunday's into Monday); ``open == close`` is 24 hours.
These functions read the scenario's ``shifts`` section only (duck-typed), so every later stage
(checks, problem data, simulation) uses the same clock.
"""

from __future__ import annotations

import math

import numpy as np

from bheard.constants import DAY_INDEX, DAYS, HOURS_PER_WEEK


def clock_hour(hhmm: str) -> int:
    """Whole hour of a "HH:MM" clock time."""
    return int(hhmm.split(":")[0])


def slots(shifts) -> list[tuple[str, str]]:
    """The (day, tour) slots of the week, in day order then tour order."""
    out = []
    for d in DAYS:
        for t in shifts.tours:
            days = t.days if t.days is not None else shifts.days
            if d in days:
                out.append((d, t.name))
    return out


def slot_times(shifts) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """Slots, their start (hours of week, may be fractional) and their length (hours)."""
    tours = {t.name: t for t in shifts.tours}
    sl = slots(shifts)
    start = np.array([DAY_INDEX[d] * 24 + tours[t].start_hour for d, t in sl], dtype=float)
    hours = np.array([tours[t].hours for _, t in sl], dtype=float)
    return sl, start, hours


def operating_hours(shifts) -> np.ndarray:
    """(168,) bool: hours of the week inside ``shifts.hours_of_operation`` (all True if unset).

    A single window applies to every day of ``shifts.days``; a per-day mapping to the listed
    days only.
    """
    hoo = shifts.hours_of_operation
    if hoo is None:
        return np.ones(HOURS_PER_WEEK, dtype=bool)
    windows = hoo if isinstance(hoo, dict) else {d: hoo for d in shifts.days}
    mask = np.zeros(HOURS_PER_WEEK, dtype=bool)
    for day, (open_, close) in windows.items():
        o, c = clock_hour(open_), clock_hour(close)
        length = (c - o) % 24 or 24
        start = DAY_INDEX[day] * 24 + o
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
    """Allowed staggered start options ``(day index, start hour)`` (day order, then hour
    order): every listed start on every day of ``shifts.days`` whose whole shift is inside
    the hours of operation."""
    st = shifts.staggered
    open_h = operating_hours(shifts)
    days, hrs = [], []
    for d in DAYS:
        if d not in shifts.days:
            continue
        for h in st.start_hours:
            how = DAY_INDEX[d] * 24 + h
            if open_h[interval_mask(how, st.hours)].all():
                days.append(DAY_INDEX[d])
                hrs.append(h)
    return np.array(days, dtype=np.int64), np.array(hrs, dtype=np.int64)
