"""Demand given as a table: eligible calls/hour by (precinct, day, tour), from a CSV file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bheard.errors import InputError, Problem

TABLE_COLUMNS = ("precinct", "day", "tour", "calls_per_hour")


def read_demand_table(path: str | Path, slots: list[tuple[str, str]],
                      precincts: np.ndarray) -> np.ndarray:
    """Read ``precinct,day,tour,calls_per_hour`` and return a (P, S) array of calls/hour.

    Every (precinct, slot) of the scenario must appear exactly once; rows for precincts or
    slots outside the scenario are ignored (a table may serve several scenarios). Errors name
    the file, the row (1-based, header = row 1) and the column.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype={"day": str, "tour": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError.single(path, "(file)", str(exc).splitlines()[0][:120],
                                "a CSV file with columns " + ",".join(TABLE_COLUMNS)) from None
    missing = [c for c in TABLE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError.single(path, "columns", list(df.columns),
                                f"columns {list(TABLE_COLUMNS)} (missing {missing})")
    problems: list[Problem] = []
    prec = pd.to_numeric(df["precinct"], errors="coerce")
    rate = pd.to_numeric(df["calls_per_hour"], errors="coerce")
    for i in np.flatnonzero(prec.isna() | (prec % 1 != 0))[:5]:
        problems.append(Problem(f"row {i + 2}, precinct", df["precinct"].iloc[i], "an integer precinct number"))
    for i in np.flatnonzero(rate.isna() | (rate < 0) | ~np.isfinite(rate.fillna(0)))[:5]:
        problems.append(Problem(f"row {i + 2}, calls_per_hour", df["calls_per_hour"].iloc[i],
                                "a number >= 0 (eligible calls per hour)"))
    if problems:
        raise InputError(path, problems)
    df = df.assign(precinct=prec.astype(int), calls_per_hour=rate.astype(float),
                   day=df["day"].str.strip(), tour=df["tour"].str.strip())
    keys = ["precinct", "day", "tour"]
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError.single(path, f"row {i + 2}", df.loc[df.index[i], keys].tolist(),
                                "each (precinct, day, tour) once")
    slot_index = {s: j for j, s in enumerate(slots)}
    prec_index = {int(p): i for i, p in enumerate(precincts)}
    out = np.full((len(precincts), len(slots)), np.nan)
    pi = df["precinct"].map(prec_index)
    sj = pd.Series(list(zip(df["day"], df["tour"])), index=df.index).map(slot_index)
    keep = pi.notna() & sj.notna()
    out[pi[keep].astype(int).to_numpy(), sj[keep].astype(int).to_numpy()] = df.loc[keep, "calls_per_hour"]
    holes = np.argwhere(np.isnan(out))
    if len(holes):
        eg = [f"({precincts[i]}, {slots[j][0]}, {slots[j][1]})" for i, j in holes[:5]]
        raise InputError.single(path, "rows", f"{len(holes)} (precinct, day, tour) missing, e.g. "
                                + ", ".join(eg), "a row for every precinct and slot of the scenario")
    return out
