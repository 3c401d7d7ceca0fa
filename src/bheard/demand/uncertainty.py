"""Demand samples: random multipliers around a point demand, growth scenarios, and CSV files of
samples (``models/stochastic.md``). Pure numpy/pandas; the scenario side is
:mod:`bheard.problem.samples`.

Every function returns rates in eligible calls/hour with a leading sample axis: ``(n, P, C)``
for ``P`` precincts and ``C`` plan columns (shift slots).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bheard.errors import InputError, Problem
from bheard.limits import MAX_MAGNITUDE, max_table_bytes

SAMPLE_COLUMNS = ("sample", "precinct", "day", "tour", "calls_per_hour")


def lognormal_factors(rng: np.random.Generator, n: int, cv: float, size) -> np.ndarray:
    """``n`` x ``size`` independent lognormal factors with mean 1 and coefficient of variation
    ``cv``: ``exp(sigma Z - sigma^2 / 2)`` with ``sigma^2 = log(1 + cv^2)``."""
    sigma2 = float(np.log1p(cv * cv))
    z = rng.standard_normal((int(n),) + tuple(np.atleast_1d(size)))
    return np.exp(np.sqrt(sigma2) * z - 0.5 * sigma2)


def multipliers(rng: np.random.Generator, n: int, shape: tuple[int, int],
                borough_index: np.ndarray, cv_levels: dict[str, float]) -> np.ndarray:
    """(n, P, C) product of independent mean-1 lognormal factors, one per level with a CV:
    ``city`` (one per sample), ``borough`` (one per borough), ``precinct`` (one per precinct,
    all its columns), ``slot`` (one per precinct and column). Levels are drawn in that fixed
    order, so a seed gives the same samples whatever the dict order."""
    P, C = shape
    out = np.ones((int(n), P, C))
    b = np.asarray(borough_index, dtype=np.int64)
    for level in ("city", "borough", "precinct", "slot"):
        cv = float(cv_levels.get(level, 0.0))
        if cv <= 0:
            continue
        if level == "city":
            out *= lognormal_factors(rng, n, cv, 1)[:, :, None]
        elif level == "borough":
            nb = int(b.max()) + 1 if b.size else 0
            out *= lognormal_factors(rng, n, cv, nb)[:, b][:, :, None]
        elif level == "precinct":
            out *= lognormal_factors(rng, n, cv, P)[:, :, None]
        else:
            out *= lognormal_factors(rng, n, cv, (P, C))
    return out


def growth_factors(rng: np.random.Generator, n: int, growth) -> np.ndarray:
    """(n,) citywide factors ``1 + g``: the scenarios ``growth`` equally often (stratified:
    sample i gets scenario ``i mod G`` before a seeded shuffle), so every scenario has its
    share of the samples even for small ``n``."""
    g = np.asarray(growth, dtype=float)
    k = np.arange(int(n)) % len(g)
    return 1.0 + g[rng.permutation(k)]


def read_sample_file(path: str | Path, slots: list[tuple[str, str]],
                     precincts: np.ndarray) -> np.ndarray:
    """Read a CSV of demand samples ``sample,precinct,day,tour,calls_per_hour`` into an
    (N, P, S) array of eligible calls/hour.

    Every sample must give every (precinct, slot) of the scenario exactly once; rows for
    precincts or slots outside the scenario are ignored (a file may serve several scenarios).
    At least two samples (one sample is a point, not a distribution). Errors name the file,
    the row (1-based, header = row 1), the column and what was expected.
    """
    path = Path(path)
    what = "a CSV file with columns " + ",".join(SAMPLE_COLUMNS)
    try:
        if path.stat().st_size > max_table_bytes():
            raise InputError.single(path, "(file)", f"{path.stat().st_size:,} bytes",
                                    f"a table of at most {max_table_bytes():,} bytes"
                                    " (BHEARD_MAX_TABLE_BYTES)")
        df = pd.read_csv(path, dtype={"day": str, "tour": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError.single(path, "(file)", str(exc).splitlines()[0][:120] if str(exc)
                                else type(exc).__name__, what) from None
    missing = [c for c in SAMPLE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError.single(path, "columns", [str(c)[:20] for c in df.columns][:12],
                                f"columns {list(SAMPLE_COLUMNS)} (missing {missing})")
    problems: list[Problem] = []
    sample = pd.to_numeric(df["sample"], errors="coerce")
    prec = pd.to_numeric(df["precinct"], errors="coerce")
    rate = pd.to_numeric(df["calls_per_hour"], errors="coerce")
    for i in np.flatnonzero((sample.isna() | (sample % 1 != 0)).to_numpy())[:3]:
        problems.append(Problem(f"row {i + 2}, sample", df["sample"].iloc[i],
                                "an integer sample number"))
    for i in np.flatnonzero((prec.isna() | (prec % 1 != 0)).to_numpy())[:3]:
        problems.append(Problem(f"row {i + 2}, precinct", df["precinct"].iloc[i],
                                "an integer precinct number"))
    bad_rate = (rate.isna() | ~np.isfinite(rate.fillna(0.0)) | (rate < 0)
                | (rate.abs() > MAX_MAGNITUDE))
    for i in np.flatnonzero(bad_rate.to_numpy())[:3]:
        problems.append(Problem(f"row {i + 2}, calls_per_hour", df["calls_per_hour"].iloc[i],
                                f"a finite number >= 0 and <= {MAX_MAGNITUDE:g} (eligible"
                                " calls per hour)"))
    if problems:
        raise InputError(path, problems)
    df = df.assign(sample=sample.astype(np.int64), precinct=prec.astype(np.int64),
                   calls_per_hour=rate.astype(float), day=df["day"].astype(str).str.strip(),
                   tour=df["tour"].astype(str).str.strip())
    keys = ["sample", "precinct", "day", "tour"]
    dup = df.duplicated(keys, keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError.single(path, f"row {i + 2}", df.loc[df.index[i], keys].tolist(),
                                "each (sample, precinct, day, tour) once")
    ids = np.unique(df["sample"].to_numpy())
    if len(ids) < 2:
        raise InputError.single(path, "sample", f"{len(ids)} sample(s)" + (
            f" (sample {int(ids[0])})" if len(ids) == 1 else ""),
            "at least 2 samples (one sample is a point demand: use demand.table)")
    slot_index = {s: j for j, s in enumerate(slots)}
    prec_index = {int(p): i for i, p in enumerate(precincts)}
    sample_index = {int(s): n for n, s in enumerate(ids.tolist())}
    pi = df["precinct"].map(prec_index)
    sj = pd.Series(list(zip(df["day"], df["tour"])), index=df.index).map(slot_index)
    keep = (pi.notna() & sj.notna()).to_numpy()
    out = np.full((len(ids), len(precincts), len(slots)), np.nan)
    ni = df["sample"].map(sample_index).to_numpy()
    out[ni[keep], pi[keep].astype(int).to_numpy(), sj[keep].astype(int).to_numpy()] = \
        df.loc[keep, "calls_per_hour"].to_numpy()
    holes = np.argwhere(np.isnan(out))
    if len(holes):
        n, i, j = holes[0]
        miss_p = [int(precincts[k]) for k in range(len(precincts))
                  if np.isnan(out[n, k]).all()]
        miss_s = [f"{slots[k][0]} {slots[k][1]}" for k in range(len(slots))
                  if np.isnan(out[n, :, k]).all()]
        detail = (f"precincts {miss_p[:5]} missing" if miss_p else
                  f"slots {miss_s[:5]} missing" if miss_s else
                  f"({precincts[i]}, {slots[j][0]}, {slots[j][1]}) missing")
        raise InputError.single(path, f"sample {int(ids[n])}", detail,
                                "a row for every precinct and slot of the scenario in every"
                                f" sample ({len(holes)} (sample, precinct, day, tour) rows"
                                " missing in all)")
    return out


def split_samples(rates: np.ndarray, holdout_share: float, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of (N, P, C) samples into (optimization, held-out), each non-empty."""
    N = rates.shape[0]
    m = int(round(N * holdout_share))
    m = min(max(m, 1), N - 1)
    order = rng.permutation(N)
    return rates[np.sort(order[m:])], rates[np.sort(order[:m])]
