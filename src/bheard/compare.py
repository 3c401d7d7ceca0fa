"""Compare plans side by side: citywide, by borough, by tour and by precinct, with differences.

:func:`compare` takes scenario files (solved first, as :func:`bheard.solve` would) or saved
plan folders (:meth:`bheard.Plan.load`) and lines their :class:`~bheard.plan.Plan` views up:
``Plan.summary_table`` (citywide), ``by_borough``, ``by_tour`` and ``by_precinct``. The first
plan is the base: every other plan gets a difference column ``<metric> [<name> - <base>]``
(calls/year, USD/year, shares as a 0..1 difference, teams). Rows absent from a plan (a
precinct outside its scenario, a tour it does not have) are empty, not zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.errors import InputError

#: metrics compared per group (columns of the Plan views)
GROUP_METRICS = ["eligible_calls", "expected_covered_calls", "coverage_share",
                 "team_shifts_per_week", "annual_cost_usd"]
TOUR_METRICS = ["teams_on_duty_mean"] + GROUP_METRICS
BOROUGH_METRICS = ["precincts_with_team"] + GROUP_METRICS
#: citywide metrics (rows of Plan.summary_table) that get a difference
CITYWIDE_SKIP_DIFF = {"scenario", "status"}
VIEWS = ("citywide", "borough", "tour", "precinct")


@dataclass
class Comparison:
    """Plans side by side. ``names``: one label per plan (scenario names, made unique);
    ``sources``: what each came from; ``citywide``: (metric, unit, one column per plan,
    differences); ``borough`` / ``tour`` / ``precinct``: key columns, then per metric one
    column per plan ``<metric> [<name>]`` and differences ``<metric> [<name> - <base>]``."""

    names: list[str]
    sources: list[str]
    citywide: pd.DataFrame
    borough: pd.DataFrame
    tour: pd.DataFrame
    precinct: pd.DataFrame
    plans: list = field(default_factory=list, repr=False)

    def table(self, view: str) -> pd.DataFrame:
        if view not in VIEWS:
            raise InputError.single("--by", "--by", view, " | ".join(VIEWS))
        return getattr(self, view)

    def save(self, out_dir: str | Path) -> Path:
        """Write compare_<view>.csv for each view and compare.html (atomically)."""
        from bheard.io import atomic_write_csv, atomic_write_text, ensure_dir
        from bheard.report.compare_page import render_comparison

        out = ensure_dir(out_dir)
        for view in VIEWS:
            atomic_write_csv(out / f"compare_{view}.csv", self.table(view))
        atomic_write_text(out / "compare.html", render_comparison(self))
        return out

    def __repr__(self) -> str:
        return f"Comparison({self.names}, {len(self.precinct)} precincts)"


def _load(item, i: int):
    from bheard.optimize import solve
    from bheard.plan import Plan

    if isinstance(item, Plan):
        return item, f"plan {i + 1}"
    p = Path(item)
    if p.is_dir():
        return Plan.load(p), str(p)
    if p.is_file():
        return solve(p), str(p)
    raise InputError.single(str(item), "(plan)", str(item),
                            "a scenario file or a plan folder written by `bheard solve --out`")


def _unique(names: list[str]) -> list[str]:
    out, seen = [], {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def side_by_side(frames: list[pd.DataFrame], keys: list[str], metrics: list[str],
                 names: list[str]) -> pd.DataFrame:
    """Outer-join the plans' tables on ``keys``: per metric a column per plan, then the
    differences against the first plan."""
    merged = None
    for df, name in zip(frames, names):
        have = [m for m in metrics if m in df.columns]
        part = df[keys + have].rename(columns={m: f"{m} [{name}]" for m in have})
        merged = part if merged is None else merged.merge(part, on=keys, how="outer")
    cols = list(keys)
    base = names[0]
    for m in metrics:
        per = [f"{m} [{n}]" for n in names]
        for c in per:
            if c not in merged.columns:
                merged[c] = np.nan
        cols += per
        for n in names[1:]:
            d = f"{m} [{n} - {base}]"
            merged[d] = (pd.to_numeric(merged[f"{m} [{n}]"], errors="coerce")
                         - pd.to_numeric(merged[f"{m} [{base}]"], errors="coerce"))
            cols.append(d)
    return merged[cols].reset_index(drop=True)


def compare(items, *, names: list[str] | None = None) -> Comparison:
    """Compare two or more plans (scenario files, plan folders or :class:`Plan` objects)."""
    items = list(items) if not isinstance(items, (str, Path)) else [items]
    if len(items) < 2:
        raise InputError.single("PLANS", "(plans)", len(items),
                                "two or more scenario files or plan folders")
    loaded = [_load(x, i) for i, x in enumerate(items)]
    plans = [p for p, _ in loaded]
    bad = [src for (p, src) in loaded if not p.feasible]
    if bad:
        raise InputError.single(bad[0], "status", [p.status for p in plans if not p.feasible][0],
                                "a feasible plan to compare")
    labels = _unique(names or [p.scenario for p in plans])
    base = labels[0]
    city = None
    for p, n in zip(plans, labels):
        t = p.summary_table().rename(columns={"value": n})
        city = t if city is None else city.merge(t, on=["metric", "unit"], how="outer",
                                                 sort=False)
    order = list(dict.fromkeys(m for p in plans for m in p.summary_table()["metric"]))
    city = (city.set_index("metric").loc[order].reset_index()[["metric", "unit"] + labels])
    for n in labels[1:]:
        diff = []
        for r in city.itertuples(index=False):
            va, vb = r[city.columns.get_loc(base)], r[city.columns.get_loc(n)]
            if r.metric in CITYWIDE_SKIP_DIFF or not all(_is_num(v) for v in (va, vb)):
                diff.append(np.nan)
            else:
                diff.append(float(vb) - float(va))
        city[f"{n} - {base}"] = diff
    borough = side_by_side([p.by_borough() for p in plans], ["borough"], BOROUGH_METRICS,
                           labels)
    tour = side_by_side([p.by_tour() for p in plans], ["tour"], TOUR_METRICS, labels)
    precinct = side_by_side([p.by_precinct() for p in plans], ["precinct", "borough"],
                            GROUP_METRICS, labels).sort_values("precinct", kind="stable"
                                                               ).reset_index(drop=True)
    return Comparison(names=labels, sources=[s for _, s in loaded], citywide=city,
                      borough=borough, tour=tour, precinct=precinct, plans=plans)


def _is_num(v) -> bool:
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            and math.isfinite(float(v)))


__all__ = ["compare", "Comparison", "side_by_side", "VIEWS"]
