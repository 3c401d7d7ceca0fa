"""The default demand PRIOR: eligible calls/hour by precinct and hour of week.

Not a forecast: a transparent stand-in built only from published aggregates, used until a
forecast from 911 records is configured (``demand.forecast``). Figures (IDs of ``docs/sources.md``):

- citywide mental-health 911 calls a year: 175,000 (S-mh-calls-2024, S-every-3-minutes);
- eligible share: 0.385 (S-audit-eligible, Comptroller audit);
- 80% of calls arrive 09:00-01:00 (16 h), 20% arrive 01:00-09:00 (8 h) (S-time-of-day); flat within
  each window and over the days of the week (no published day-of-week profile, S-weekly-profile);
- spread over precincts by 2020 population times a need uplift (Zone 7 = 25/28/32 at 2.3x and
  the 75th at 1.35x the city per-capita rate, S-need-uplift).

Yearly calls are spread over 365 days x 24 h; the model counts ``weeks_per_year`` weeks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bheard.demand.slots import HOURS_PER_WEEK

HOURS_PER_YEAR = 365 * 24
_DAY_WINDOW_HOURS = 16  # 09:00-01:00
_NIGHT_WINDOW_HOURS = 8  # 01:00-09:00


def hour_of_day_profile(daytime_share: float) -> np.ndarray:
    """Share of a day's calls arriving in each clock hour 0..23 (sums to 1).

    Hours 01..08 (01:00-09:00) share ``1 - daytime_share``; the other 16 share ``daytime_share``.
    """
    prof = np.full(24, daytime_share / _DAY_WINDOW_HOURS)
    prof[1:9] = (1.0 - daytime_share) / _NIGHT_WINDOW_HOURS
    return prof


def precinct_weights(table: pd.DataFrame, uplift: dict[int, float]) -> pd.Series:
    """Demand share of each precinct: population x uplift, normalised over ALL 78 precincts.

    Normalising citywide keeps a precinct's rate the same whether or not the scenario selects
    the whole city.
    """
    w = table.set_index("precinct")["pop_2020"].astype(float)
    w = w * pd.Series(uplift, dtype=float).reindex(w.index).fillna(1.0)
    return w / w.sum()


def prior_hourly(prior, table: pd.DataFrame) -> pd.DataFrame:
    """Eligible calls/hour per (precinct, hour_of_week) for every precinct in ``table``.

    ``prior`` is a :class:`bheard.scenario.PriorDemand`. Returns columns ``precinct``,
    ``hour_of_week``, ``calls_per_hour``.
    """
    eligible_per_hour = prior.annual_mental_health_calls * prior.eligible_share / HOURS_PER_YEAR
    share = precinct_weights(table, prior.uplift)
    # calls/hour in clock hour c = daily calls * share of day in c = 24 * mean rate * prof[c]
    hod = 24.0 * hour_of_day_profile(prior.daytime_share)
    how = np.tile(hod, 7)  # flat over days
    rates = np.outer(share.to_numpy() * eligible_per_hour, how)
    return pd.DataFrame({
        "precinct": np.repeat(share.index.to_numpy(), HOURS_PER_WEEK),
        "hour_of_week": np.tile(np.arange(HOURS_PER_WEEK), len(share)),
        "calls_per_hour": rates.ravel(),
    })
