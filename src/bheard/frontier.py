"""Budget frontier: coverage against budget, marginal calls per extra $1M, first-team budgets.

The expensive part of a solve is building the problem data (demand, geography) and, for the
isolated model, the Erlang-B increments (:func:`~bheard.model.isolated.make_increments`);
neither depends on the budget. :func:`frontier` builds both ONCE through the scenario's
formulation (:mod:`bheard.optimize.registry`) and re-runs only the budget-dependent driver per
budget, warm-started from the previous (smaller) budget's plan, which stays feasible when the
budget grows. Each point is solved to the scenario's ``solver.mip_rel_gap``
with its own certified bound, exactly as :func:`bheard.solve` would.

Outputs (:meth:`Frontier.save`): ``frontier.csv``, ``frontier.png``, ``first_team_budget.csv``.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.constants import FEASIBLE_STATUSES
from bheard.costs import team_budget_usd
from bheard.errors import InputError
from bheard.io import atomic_write, atomic_write_csv, ensure_dir
from bheard.limits import MAX_FRONTIER_POINTS, MAX_MAGNITUDE
from bheard.optimize import preflight, resolve

FRONTIER_COLUMNS = [
    "budget_usd", "covered_calls", "coverage_share", "bound", "gap", "status",
    "team_shifts_per_week", "annual_cost_usd", "marginal_calls_per_million_usd", "seconds",
]
#: extra columns under demand uncertainty (``demand.uncertainty``, models/stochastic.md): the
#: plan's coverage share on the held-out samples (expected, P10/P50/P90), the median plan's
#: expected share, and the value of the stochastic solution (calls/year)
BAND_COLUMNS = ["heldout_expected_share", "share_p10", "share_p50", "share_p90",
                "median_plan_expected_share", "value_of_stochastic_solution"]

_NUM = r"[+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"


def parse_budgets(spec: str | list | tuple | np.ndarray, field_name: str = "--budgets"
                  ) -> np.ndarray:
    """Budgets (USD/year) from ``"START:STOP:N"`` (N points, both ends included) or ``"a,b,c"``.

    A list/array of numbers is accepted as is. Returns a sorted array of unique budgets.
    Bad syntax or values raise :class:`InputError` naming ``field_name``.
    """
    expected = ("START:STOP:N (USD/year, N >= 2 points, both ends included, e.g. "
                "50e6:1.1e9:25) or a comma list of budgets >= 0 (e.g. 50e6,87.5e6,1e8)")
    if isinstance(spec, (list, tuple, np.ndarray)):
        try:
            values = np.asarray(spec, dtype=float)
        except (TypeError, ValueError):
            raise InputError.single(field_name, field_name, spec, expected) from None
    else:
        text = str(spec).strip().replace("_", "")
        m = re.fullmatch(rf"({_NUM}):({_NUM}):(\d+)", text)
        if m:
            start, stop, n = float(m.group(1)), float(m.group(2)), int(m.group(3)[:12])
            if n > MAX_FRONTIER_POINTS:
                raise InputError.single(field_name, field_name, spec,
                                        f"N <= {MAX_FRONTIER_POINTS:,} budgets in START:STOP:N")
            if n < 2 or not stop > start:
                raise InputError.single(field_name, field_name, spec,
                                        "START < STOP and N >= 2 in START:STOP:N")
            values = np.linspace(start, stop, n)
        elif text and all(re.fullmatch(_NUM, part.strip()) for part in text.split(",")):
            values = np.array([float(part) for part in text.split(",")])
        else:
            raise InputError.single(field_name, field_name, spec, expected)
    if values.size > MAX_FRONTIER_POINTS:
        raise InputError.single(field_name, field_name, f"{values.size:,} budgets",
                                f"at most {MAX_FRONTIER_POINTS:,} budgets")
    if values.size == 0 or values.ndim != 1 or not np.all(np.isfinite(values)) \
            or (values < 0).any() or (values > MAX_MAGNITUDE).any():
        raise InputError.single(field_name, field_name, spec, expected)
    return np.unique(values)


@dataclass
class Frontier:
    """A budget frontier.

    ``table``: one row per budget, columns :data:`FRONTIER_COLUMNS` (calls/year, USD/year,
    seconds); ``first_team``: one row per precinct of the scenario with the smallest budget OF
    THE GRID whose plan gives the precinct at least one team (empty when none does);
    ``plans``: the (P, C) team arrays per budget (None when infeasible), in the order of
    ``table``; ``precincts`` / ``boroughs``: the plan at each budget, one row per (budget,
    precinct) and (budget, borough) (:meth:`bheard.Plan.by_precinct` / ``by_borough`` of
    that budget's plan, with ``budget_usd`` first): what the report's budget slider shows;
    ``limit_note``: where coverage stops rising, which limit binds and what relaxing it
    would buy (:func:`bheard.optimize.explain.explain_limits` at the first budget that is not
    spent), empty when the budget binds everywhere.
    """

    scenario: str
    table: pd.DataFrame
    first_team: pd.DataFrame
    eligible_calls: float  # calls/year
    plans: list = field(default_factory=list, repr=False)
    build_seconds: float = 0.0  # problem data + increments, once
    total_seconds: float = 0.0
    precincts: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    boroughs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    limit_note: list = field(default_factory=list)

    def __repr__(self) -> str:
        t = self.table
        ok = t[t["covered_calls"].notna()]
        rng = (f"{ok['coverage_share'].min():.1%}..{ok['coverage_share'].max():.1%}"
               if len(ok) else "n/a")
        return (f"Frontier({self.scenario!r}, {len(t)} budgets "
                f"${t['budget_usd'].min():,.0f}..${t['budget_usd'].max():,.0f}, "
                f"coverage {rng}, {self.total_seconds:.2f} s)")

    def summary(self) -> dict:
        return {"scenario": self.scenario, "points": len(self.table),
                "eligible_calls_per_year": self.eligible_calls,
                "build_seconds": self.build_seconds, "total_seconds": self.total_seconds}

    def save(self, out_dir: str | Path) -> Path:
        """Write frontier.csv, frontier.png, first_team_budget.csv and the plan at each budget
        (frontier_precincts.csv, frontier_boroughs.csv), atomically; and
        frontier_limits.txt when coverage stops rising (:attr:`limit_note`)."""
        out = ensure_dir(out_dir)
        atomic_write_csv(out / "frontier.csv", self.table)
        atomic_write_csv(out / "first_team_budget.csv", self.first_team)
        atomic_write_csv(out / "frontier_precincts.csv", self.precincts)
        atomic_write_csv(out / "frontier_boroughs.csv", self.boroughs)
        if self.limit_note:
            atomic_write(out / "frontier_limits.txt",
                         lambda fh: fh.write("\n".join(self.limit_note) + "\n"), mode="w")
        png = frontier_png(self.table, title=f"{self.scenario}: coverage vs budget")
        atomic_write(out / "frontier.png", lambda fh: fh.write(png), mode="wb")
        return out


def frontier(scenario, budgets, *, base_dir=None, time_limit_s: float | None = None,
             warm_start: bool = True, on_point=None, explain: bool = True) -> Frontier:
    """Solve ``scenario`` at each budget (USD/year) and return the :class:`Frontier`.

    ``budgets``: anything :func:`parse_budgets` takes. ``time_limit_s`` overrides the
    scenario's per-point solver time limit. The scenario's formulation (from the registry)
    builds the problem data once; its driver runs at each budget with a shared ``cache`` (the
    isolated driver keeps its Erlang-B increments there) and, with ``warm_start``, the
    previous (smaller) budget's plan as a start, which stays feasible when the budget grows.
    ``on_point(i, n)`` is called after each budget (progress). ``explain``: at the first
    budget whose money is not all spent, find which limit binds (a few re-solves).
    """
    from bheard.optimize import make_plan
    from bheard.plan import Plan
    t0 = time.perf_counter()
    grid = parse_budgets(budgets)
    sc = resolve(scenario, time_limit_s=time_limit_s, base_dir=base_dir)
    formulation = preflight(sc)
    data = formulation.problem(sc)
    cache: dict = {}
    build_s = time.perf_counter() - t0

    rows, plans = [], []
    precinct_frames: list = []
    borough_frames: list = []
    limit_note: list[str] = []
    prev = None
    for b in grid:
        t1 = time.perf_counter()
        sc_b = sc.with_overrides(**{"budget.annual_usd": float(b)})
        data_b = dataclasses.replace(data, team_budget_usd_per_year=team_budget_usd(sc_b))
        res = formulation.run(sc_b, data_b, start=prev if warm_start else None, cache=cache)
        feasible = res.teams is not None and res.status in FEASIBLE_STATUSES
        if feasible:
            prev = res.teams
        cost = math.nan
        if feasible:
            cols = formulation.columns(sc_b, data_b, res)
            cost = float((cols.teams * (sc.weeks_per_year
                                        * cols.index.cost_per_team_shift_usd)[None, :]).sum())
        plans.append(np.asarray(res.teams).copy() if feasible else None)
        if feasible:
            view = Plan(scenario=sc.name, status=res.status, objective=res.objective,
                        bound=res.bound, gap=res.gap, annual_cost=cost,
                        budget=data_b.team_budget_usd_per_year,
                        eligible_calls=cols.eligible_calls, build_seconds=0.0,
                        translate_seconds=0.0, solve_seconds=0.0,
                        assignments=cols.assignments)
            for frames, table in ((precinct_frames, view.by_precinct()),
                                  (borough_frames, view.by_borough())):
                table.insert(0, "budget_usd", float(b))
                frames.append(table)
            shift_year = cols.index.cost_per_team_shift_usd * sc.weeks_per_year
            unspent = data_b.team_budget_usd_per_year - cost
            if (explain and not limit_note and shift_year.size
                    and unspent >= float(shift_year[shift_year > 0].min(initial=math.inf))):
                from bheard.optimize.explain import explain_limits

                report = explain_limits(make_plan(sc_b, formulation, data_b, res))
                if report is not None:
                    limit_note.append(f"From ${float(b):,.0f}/year the money is not all"
                                      f" spent (${unspent:,.0f}/year left):")
                    limit_note.extend(report.sentences())
        if on_point is not None:
            on_point(len(rows) + 1, len(grid))
        u = res.uncertainty if feasible else None
        band = {} if u is None else {
            "heldout_expected_share": u.plan.expected_share, "share_p10": u.plan.share_p10,
            "share_p50": u.plan.share_p50, "share_p90": u.plan.share_p90,
            "median_plan_expected_share": u.median_plan.expected_share,
            "value_of_stochastic_solution": u.value_of_stochastic_solution}
        rows.append({**band,
            "budget_usd": float(b),
            "covered_calls": res.objective if feasible else math.nan,
            "bound": res.bound if feasible else math.nan,
            "gap": res.gap if feasible else math.nan,
            "status": res.status,
            "team_shifts_per_week": int(np.asarray(res.teams).sum()) if feasible else 0,
            "annual_cost_usd": cost,
            "seconds": time.perf_counter() - t1,
        })
    index = formulation.index(data)
    eligible = float(data.eligible_calls_per_year().sum())
    table = frontier_table(rows, eligible)
    first = first_team_budgets(np.asarray(index.precinct), np.asarray(index.borough), grid, plans)
    return Frontier(scenario=sc.name, table=table, first_team=first, eligible_calls=eligible,
                    plans=plans, build_seconds=build_s, total_seconds=time.perf_counter() - t0,
                    precincts=(pd.concat(precinct_frames, ignore_index=True)
                               if precinct_frames else pd.DataFrame()),
                    boroughs=(pd.concat(borough_frames, ignore_index=True)
                              if borough_frames else pd.DataFrame()),
                    limit_note=limit_note)


def frontier_table(rows: list[dict], eligible_calls: float) -> pd.DataFrame:
    """Rows (sorted by budget) -> table with coverage share and marginal calls per extra $1M.

    ``marginal_calls_per_million_usd[i] = (covered[i] - covered[i-1]) /
    ((budget[i] - budget[i-1]) / 1e6)`` (calls/year per extra USD 1M/year of budget); empty for
    the first point and next to infeasible points.
    """
    t = pd.DataFrame(rows).sort_values("budget_usd").reset_index(drop=True)
    t["coverage_share"] = t["covered_calls"] / eligible_calls if eligible_calls > 0 else math.nan
    d_calls = t["covered_calls"].diff()
    d_budget = t["budget_usd"].diff() / 1e6
    t["marginal_calls_per_million_usd"] = d_calls / d_budget.where(d_budget > 0)
    return t[FRONTIER_COLUMNS + [c for c in BAND_COLUMNS if c in t.columns]]


def first_team_budgets(precinct: np.ndarray, borough: np.ndarray, budgets: np.ndarray,
                       plans: list) -> pd.DataFrame:
    """Per precinct, the smallest grid budget whose plan staffs it with >= 1 team (else empty).

    Read off the frontier's plans, so it is only as fine as the budget grid: the true first
    budget lies between the previous grid point and this one.
    """
    first = np.full(len(precinct), np.nan)
    for b, teams in sorted(zip(budgets, plans), key=lambda x: x[0]):
        if teams is None:
            continue
        has = (teams.sum(axis=1) > 0) & np.isnan(first)
        first[has] = b
    return pd.DataFrame({"precinct": precinct.astype(int), "borough": borough,
                         "first_budget_usd": first})


def frontier_png(table: pd.DataFrame, title: str = "coverage vs budget", dpi: int = 110
                 ) -> bytes:
    """PNG bytes: coverage share (left axis) and marginal calls per extra $1M (right axis)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=dpi)
    try:
        x = table["budget_usd"] / 1e6
        ax.plot(x, 100 * table["coverage_share"], marker="o", color="#1f77b4",
                label="coverage share of eligible calls")
        if "share_p10" in table.columns:
            ax.fill_between(x, 100 * table["share_p10"], 100 * table["share_p90"],
                            color="#1f77b4", alpha=0.18,
                            label="held-out P10-P90 (demand uncertainty)")
        ax.set_xlabel("budget (USD million / year)")
        ax.set_ylabel("expected coverage (% of eligible calls)", color="#1f77b4")
        ax.grid(alpha=0.3)
        ax2 = ax.twinx()
        # each marginal value describes the step from the previous budget: bar at its middle
        mid = (x + x.shift(1)) / 2
        ax2.bar(mid, table["marginal_calls_per_million_usd"],
                width=0.8 * float(np.median(np.diff(x))) if len(x) > 1 else 1.0,
                color="#ff7f0e", alpha=0.35, label="marginal calls / extra $1M")
        ax2.set_ylabel("extra covered calls/year per extra $1M", color="#ff7f0e")
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_title(title)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
