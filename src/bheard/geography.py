"""Response geography: travel times between precincts and the response sets they imply.

Travel time (minutes) from a team based in precinct ``j`` to a call in precinct ``i`` during a
tour (full derivation and sources: ``models/shared_coverage.md``, section "Geography"):

.. math::
    T_{ji} = d_0 + 60\\,\\frac{\\delta\\,D_{ji}}{v_{ji}\\,f_t} + \\beta\\,[b_j \\ne b_i]
    \\qquad (j \\ne i), \\qquad
    T_{ii} = d_0 + 60\\,\\frac{\\delta\\,c\\sqrt{A_i}}{v_{b_i} f_t}

with ``D`` the great-circle distance between precinct centroids (km), ``delta`` the road
detour factor, ``v`` the borough speed (km/h; the mean of the two boroughs' speeds between
boroughs), ``f_t`` the tour's speed factor (faster overnight), ``beta`` the crossing-borough
penalty (minutes), ``d_0`` the dispatch delay (minutes), ``A_i`` the precinct area (km2) and
``c = 0.3826`` the mean distance from the centre of a unit square to a uniform random point
(the square-root law, Larson & Odoni, *Urban Operations Research*, 3.7). A user-supplied
origin-destination CSV (``geography.travel_times``) replaces the formula.

A team based in ``j`` can serve ``i`` in a tour when ``T_{ji} <= response_standard_min``; a
precinct's own teams always serve it (they are positioned inside it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bheard.errors import InputError, Problem

#: mean distance from the centre of a square of area 1 to a uniform random point in it
#: (= (sqrt(2) + asinh(1)) / 6 = 0.38259...); Larson & Odoni, Urban OR, 3.7 (square-root law)
SQUARE_CENTRE_MEAN_DISTANCE = (np.sqrt(2.0) + np.arcsinh(1.0)) / 6.0

EARTH_RADIUS_KM = 6371.0088


def centroid_distance_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(P, P) great-circle (haversine) distances between points given in degrees, km."""
    lon = np.radians(np.asarray(lon, dtype=float))
    lat = np.radians(np.asarray(lat, dtype=float))
    dlat = lat[None, :] - lat[:, None]
    dlon = lon[None, :] - lon[:, None]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def tour_speed_factor(settings, tour_name: str, start_hour: float, hours: float) -> float:
    """Speed multiplier for a tour: ``speed_factor_by_tour`` if named, else the night factor
    when the tour's midpoint falls between 00:00 and 07:00, else 1."""
    if tour_name in settings.speed_factor_by_tour:
        return float(settings.speed_factor_by_tour[tour_name])
    mid = (start_hour + hours / 2.0) % 24.0
    return float(settings.night_speed_factor) if mid < 7.0 else 1.0


def travel_time_matrix(table: pd.DataFrame, settings, speed_factor: float = 1.0) -> np.ndarray:
    """(P, P) travel minutes ``T[j, i]`` from a team based in row j to a call in row i.

    ``table`` needs columns precinct, borough, centroid_lon, centroid_lat, area_km2 (the shipped
    precinct table or a selection of it); ``settings`` is a
    :class:`bheard.scenario.GeographySettings`; ``speed_factor`` multiplies every speed.
    """
    boro = table["borough"].to_numpy(dtype=object)
    speeds = np.array([settings.speeds_kmh[b] for b in boro], dtype=float) * speed_factor
    dist = centroid_distance_km(table["centroid_lon"].to_numpy(), table["centroid_lat"].to_numpy())
    pair_speed = 0.5 * (speeds[:, None] + speeds[None, :])
    minutes = 60.0 * settings.detour_factor * dist / pair_speed
    minutes += settings.cross_borough_penalty_min * (boro[:, None] != boro[None, :])
    within_km = settings.within_precinct_factor * np.sqrt(table["area_km2"].to_numpy(dtype=float))
    np.fill_diagonal(minutes, 60.0 * settings.detour_factor * within_km / speeds)
    return minutes + settings.dispatch_delay_min


def read_travel_times(path: str | Path, precincts: np.ndarray, tours: list[str]
                      ) -> dict[str, np.ndarray]:
    """Travel minutes from an origin-destination CSV, one (P, P) matrix ``T[j, i]`` per tour.

    Columns: ``origin``, ``destination`` (precinct numbers), ``minutes``, and optionally
    ``tour`` (rows without a tour, or a file without the column, apply to every tour; a row
    for a tour takes precedence over the row without a tour for the same pair, whatever
    their order in the file). Every
    ordered pair of distinct precincts in the scenario must be given; a missing diagonal
    (within-precinct time) is an error too, so the file is the whole truth.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # unreadable file: a user error
        raise InputError.single(path, "(file)", type(exc).__name__, "a readable CSV") from None
    need = {"origin", "destination", "minutes"}
    if not need <= set(df.columns):
        raise InputError.single(path, "(columns)", [str(c)[:20] for c in df.columns][:8],
                                "columns origin, destination, minutes[, tour]")
    df = df.reset_index(drop=True)
    mins = pd.to_numeric(df["minutes"], errors="coerce")
    bad = df.index[~(np.isfinite(mins) & (mins >= 0))]
    if len(bad):
        r = int(bad[0])
        raise InputError.single(path, f"row {r + 2}: minutes", df.loc[r, "minutes"],
                                "a finite number of minutes >= 0")
    for col in ("origin", "destination"):
        v = pd.to_numeric(df[col], errors="coerce")
        bad = df.index[~(np.isfinite(v) & (v % 1 == 0))]
        if len(bad):
            r = int(bad[0])
            raise InputError.single(path, f"row {r + 2}: {col}", df.loc[r, col],
                                    "a precinct number (an integer)")
        df[col] = v.astype(np.int64)
    keys = ["origin", "destination"] + (["tour"] if "tour" in df.columns else [])
    dup = df.duplicated(keys, keep="first")
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError.single(path, f"row {r + 2}", ", ".join(str(df.loc[r, k]) for k in keys),
                                "each (origin, destination" + (", tour" if len(keys) > 2
                                                               else "") + ") once")
    pos = {int(p): k for k, p in enumerate(precincts)}
    P = len(precincts)
    out: dict[str, np.ndarray] = {}
    has_tour = "tour" in df.columns
    for tour in tours:
        m = np.full((P, P), np.nan)
        # the rows for every tour first, then this tour's own rows over them
        parts = [df] if not has_tour else [df[df["tour"].isna()],
                                           df[df["tour"].notna()
                                              & (df["tour"].astype(str) == tour)]]
        for rows in parts:
            o = rows["origin"].map(lambda v: pos.get(int(v), -1)).to_numpy()
            d = rows["destination"].map(lambda v: pos.get(int(v), -1)).to_numpy()
            ok = (o >= 0) & (d >= 0)
            m[o[ok], d[ok]] = mins[rows.index].to_numpy()[ok]
        missing = np.argwhere(np.isnan(m))
        if len(missing):
            j, i = missing[0]
            raise InputError(path, [Problem(
                "(rows)", f"no row for origin {precincts[j]} -> destination {precincts[i]}"
                + (f" (tour {tour})" if has_tour else "")
                + (f"; {len(missing)} pairs missing" if len(missing) > 1 else ""),
                "a row for every ordered pair of the scenario's precincts (incl. i -> i)")])
        out[tour] = m
    return out


def response_sets(travel_min: np.ndarray, standard_min: float) -> np.ndarray:
    """(P, P) bool ``reach[i, j]``: a team based in j can serve a call in i within the standard.

    ``travel_min[j, i]`` is from j to i. The diagonal is always True (own teams serve their
    precinct).
    """
    reach = np.asarray(travel_min).T <= standard_min + 1e-9
    np.fill_diagonal(reach, True)
    return reach


def scenario_travel_times(scenario, sel: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per tour name, (P, P) travel minutes for the scenario's precinct selection ``sel``."""
    g = scenario.geography
    tours = list(scenario.shifts.tours)
    if g.travel_times is not None:
        return read_travel_times(g.travel_times, sel["precinct"].to_numpy(),
                                 [t.name for t in tours])
    return {t.name: travel_time_matrix(sel, g, tour_speed_factor(g, t.name, t.start_hour, t.hours))
            for t in tours}


def slot_reach(scenario, sel: pd.DataFrame, slot_tours) -> np.ndarray:
    """(S, P, P) bool: ``reach[s, i, j]`` for each slot, from the slot's tour travel times."""
    times = scenario_travel_times(scenario, sel)
    std = scenario.coverage.response_standard_min
    std = float("inf") if std is None else std
    by_tour = {t: response_sets(m, std) for t, m in times.items()}
    return np.stack([by_tour[t] for t in slot_tours]) if len(slot_tours) else np.zeros(
        (0, len(sel), len(sel)), dtype=bool)


def travel_times_frame(table: pd.DataFrame, settings, tours) -> pd.DataFrame:
    """Long table (origin, destination, tour, minutes) of the formula's travel times."""
    P = len(table)
    frames = []
    prec = table["precinct"].to_numpy()
    for t in tours:
        m = travel_time_matrix(table, settings,
                               tour_speed_factor(settings, t.name, t.start_hour, t.hours))
        frames.append(pd.DataFrame({"origin": np.repeat(prec, P), "destination": np.tile(prec, P),
                                    "tour": t.name, "minutes": np.round(m.ravel(), 3)}))
    return pd.concat(frames, ignore_index=True)
