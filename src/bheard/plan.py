"""Plan: the result of a solve, with what it needs to be checked, reported and reproduced.

A :class:`Plan` carries the teams array with its column index (:class:`PlanIndex`), the
per-(precinct, column) table (``assignments``), the solver report, typed summaries (workforce,
shared coverage, fixed point, equity, staggered starts) and the resolved scenario it was solved
for. :meth:`Plan.save` writes ``plan.csv``, ``summary.json`` and ``scenario.yaml`` (plus
``hourly.csv`` for staggered plans); :meth:`Plan.load` reads them back, so ``bheard simulate
OUT_DIR`` and ``bheard report OUT_DIR`` work on exactly what was solved.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
from bheard.constants import DAYS, FEASIBLE_STATUSES, STATUSES
from bheard.costs import fte_by_role
from bheard.data import precincts as precinct_table
from bheard.errors import InputError
from bheard.io import csv_bytes, json_bytes, read_unit, write_unit
from bheard.problem.slots import select_precincts
from bheard.results import (EquityCost, FixedPointReport, LimitEffect, LimitReport,
                            SharedCoverage, SolverReport, UncertaintySummary)
from bheard.scenario import Scenario, load_scenario, scenario_yaml
from bheard.scenario.loader import safe_load_bytes

ASSIGNMENT_COLUMNS = [
    "precinct", "borough", "day", "tour", "teams", "calls_per_hour", "eligible_calls",
    "expected_covered_calls", "coverage_share", "annual_cost_usd",
]
#: the manifest kind of a plan folder, its files, and the outputs derived from a plan (removed
#: when a new plan is saved over it, so they never describe another plan)
PLAN_KIND = "bheard-plan"
PLAN_FILES = ("plan.csv", "summary.json", "scenario.yaml", "hourly.csv")
PLAN_WHAT = ("a plan folder written by `bheard solve --out` (plan.csv, summary.json and"
             " manifest.json)")
DERIVED_FILES = ("simulation.json", "simulation_replications.csv",
                 "simulation_by_precinct.csv", "simulation_by_hour.csv", "report.html",
                 "map.png")
#: extra columns of shared-coverage plans
SHARED_COLUMNS = ["teams_in_range", "own_covered_calls", "neighbour_covered_calls",
                  "team_busy_probability"]


@dataclass
class PlanIndex:
    """What the rows and columns of :attr:`Plan.teams` are.

    Rows: precincts (``precinct``, ``borough``: (P,)). Columns: weekly shift columns, one per
    (day, tour) slot or, for staggered starts, per (day, start label): ``day``, ``label`` (tour
    name or "HH:00"), ``start_hour_of_week`` (hours, Monday 00:00 = 0), ``hours`` (shift
    length, hours) and ``cost_per_team_shift_usd`` (USD), each (C,).
    """

    precinct: np.ndarray
    borough: np.ndarray
    day: np.ndarray
    label: np.ndarray
    start_hour_of_week: np.ndarray
    hours: np.ndarray
    cost_per_team_shift_usd: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.precinct), len(self.day)

    def columns_records(self) -> list[dict]:
        return [{"day": str(d), "label": str(lab), "start_hour_of_week": float(s),
                 "hours": float(h), "cost_per_team_shift_usd": float(c)}
                for d, lab, s, h, c in zip(self.day, self.label, self.start_hour_of_week,
                                           self.hours, self.cost_per_team_shift_usd)]

    @classmethod
    def from_records(cls, precinct, borough, records: list[dict]) -> "PlanIndex":
        return cls(precinct=np.asarray(precinct, dtype=np.int64),
                   borough=np.asarray(borough, dtype=object),
                   day=np.array([r["day"] for r in records], dtype=object),
                   label=np.array([r["label"] for r in records], dtype=object),
                   start_hour_of_week=np.array([r["start_hour_of_week"] for r in records],
                                               dtype=float),
                   hours=np.array([r["hours"] for r in records], dtype=float),
                   cost_per_team_shift_usd=np.array([r["cost_per_team_shift_usd"]
                                                     for r in records], dtype=float))


@dataclass
class Workforce:
    """Headcount and cost composition of a plan (``bheard.costs``, models/workforce_cost.md).

    ``headcount``: :func:`bheard.costs.headcount_by_tour` (one row per tour and a total, FTE by
    role); ``cost_breakdown_usd_per_year``: labour by role, supervision, training, vehicles and
    overhead, None when team-shifts are priced top-down.
    """

    headcount: pd.DataFrame
    cost_breakdown_usd_per_year: dict | None = None

    @property
    def fte_by_role(self) -> dict[str, float]:
        return fte_by_role(self.headcount) if len(self.headcount) else {}


@dataclass
class ShareDistribution:
    """Precinct coverage shares (precincts with demand): min, median, max and Gini."""

    min: float
    median: float
    max: float
    gini: float


@dataclass
class BudgetSplit:
    """A whole budget and the crisis-team share of it (USD/year)."""

    annual_usd: float
    crisis_team_share: float
    team_budget_usd: float


@dataclass
class StaggeredSummary:
    """Staggered-start plans: the start options and per-hour coverage.

    ``hourly``: one row per (precinct, hour of week) with teams on duty, calls/hour, eligible
    and expected covered calls/year, and whether the hour is inside the hours of operation.
    """

    starts: list[str]
    shift_hours: int
    start_options_per_week: int
    max_teams_on_duty_per_precinct_hour: int
    hourly_cap: float | None
    eligible_calls_in_hours_of_operation: float
    eligible_calls_outside_hours_of_operation: float
    max_teams_on_duty_citywide: int = 0
    rows: str = ("one per (precinct, day, start); eligible/covered calls are those of the hours"
                 " from that start to the next listed start")
    hourly: pd.DataFrame | None = field(default=None, repr=False)


@dataclass
class PlanAnswer:
    """What a budget office reads first (:attr:`Plan.answer`): calls/year, USD/year, USD per
    covered call, mean teams on duty per tour (citywide), precinct numbers."""

    coverage_share: float
    covered_calls_per_year: float
    eligible_calls_per_year: float
    team_cost_usd_per_year: float
    program_fixed_usd_per_year: float
    total_cost_usd_per_year: float
    team_budget_usd_per_year: float
    unspent_usd_per_year: float
    cost_per_covered_call_usd: float  # team cost / covered calls
    total_cost_per_covered_call_usd: float  # with the program's fixed cost
    teams_on_duty: dict[str, float]
    precincts: int
    precincts_with_team: list[int]
    precincts_without_team: list[int]


@dataclass
class Plan:
    """A staffing plan.

    ``objective`` is expected covered eligible calls/year; ``bound`` an upper bound on it
    proven for the scenario (what it certifies: ``solver.bound_meaning``);
    ``gap = (bound - objective) / objective``. ``assignments`` has one row per (precinct, day,
    tour) with the columns in :data:`ASSIGNMENT_COLUMNS` (plus :data:`SHARED_COLUMNS` in shared
    mode). ``teams`` (P, C) and ``index`` give the same plan as an array. ``budget`` is the
    team budget (USD/year: the scenario's budget minus the program's fixed cost);
    ``annual_cost`` what the plan's team-shifts cost (USD/year); ``program_fixed_usd_per_year``
    the fixed program cost outside the teams (``costs.program_staff``, a separate line);
    ``total_cost_usd_per_year`` the two together.
    """

    scenario: str
    status: str
    objective: float
    bound: float
    gap: float
    annual_cost: float  # USD/year
    budget: float  # USD/year, the team budget
    eligible_calls: float  # calls/year in the scenario's precincts and hours
    build_seconds: float
    translate_seconds: float
    solve_seconds: float
    assignments: pd.DataFrame
    solver: SolverReport = field(default_factory=SolverReport)
    diagnosis: list[str] = field(default_factory=list)
    assumptions: list[dict] = field(default_factory=list)
    demand_source: str = ""
    #: the plan's columns as tours: ``{name, start_hour, hours, days}`` (hours)
    tours: list[dict] = field(default_factory=list)
    teams: np.ndarray | None = field(default=None, repr=False)
    index: PlanIndex | None = field(default=None, repr=False)
    resolved_scenario: Scenario | None = field(default=None, repr=False)
    coverage_model: str = "isolated (loss with breaks at the lagged load)"
    workforce: Workforce | None = field(default=None, repr=False)
    precinct_shares: ShareDistribution | None = None
    budget_split: BudgetSplit | None = None
    fixed_point: FixedPointReport | None = field(default=None, repr=False)
    shared: SharedCoverage | None = None
    equity_cost: EquityCost | None = None
    staggered: StaggeredSummary | None = field(default=None, repr=False)
    program_fixed_usd_per_year: float = 0.0  # USD/year, outside the teams (bheard.costs)
    #: demand uncertainty: the plan and the median plan on held-out demand samples
    #: (``demand.uncertainty``, models/stochastic.md); None for a point-demand plan
    uncertainty: UncertaintySummary | None = field(default=None, repr=False)
    #: which limit binds and what relaxing it would buy (bheard.explain_limits; the CLI's
    #: `solve` fills it before saving), None when not computed
    limits: LimitReport | None = field(default=None, repr=False)

    # ---- derived -------------------------------------------------------------------
    @property
    def feasible(self) -> bool:
        return self.status in FEASIBLE_STATUSES

    @property
    def total_cost_usd_per_year(self) -> float:
        """Team-shifts plus the program's fixed cost, USD/year."""
        return self.annual_cost + self.program_fixed_usd_per_year

    @property
    def coverage_share(self) -> float:
        """Share of eligible calls expected to be covered (0..1)."""
        return self.objective / self.eligible_calls if self.eligible_calls > 0 else float("nan")

    @property
    def team_shifts_per_week(self) -> int:
        return int(self.assignments["teams"].sum()) if len(self.assignments) else 0

    @property
    def headcount(self) -> pd.DataFrame:
        """FTE by tour and crew role (:func:`bheard.costs.headcount_by_tour`)."""
        return self.workforce.headcount if self.workforce is not None else pd.DataFrame()

    def by_borough(self) -> pd.DataFrame:
        """Teams, calls and coverage by borough, with its precincts and how many have a team."""
        g = self._group(["borough"])
        if len(g):
            bp = self._group(["precinct", "borough"])
            g["precincts"] = g["borough"].map(bp.groupby("borough").size()).astype(int)
            g["precincts_with_team"] = g["borough"].map(
                bp[bp["team_shifts_per_week"] > 0].groupby("borough").size()).fillna(0).astype(int)
        else:
            g["precincts"] = g["precincts_with_team"] = []
        return g

    def by_tour(self) -> pd.DataFrame:
        """Teams, calls and coverage by tour, in the plan's tour order, with the tour's start
        and the mean citywide teams on duty during it (:meth:`teams_on_duty_by_tour`)."""
        g = self._group(["tour"])
        tod = self.teams_on_duty_by_tour()
        if len(g):
            order = {t: i for i, t in enumerate(self.tour_names)}
            g = g.sort_values("tour", key=lambda c: c.map(order).fillna(len(order)),
                              kind="stable").reset_index(drop=True)
            t = tod.set_index("tour")
            g.insert(1, "start", g["tour"].map(t["start"]).fillna(""))
            g.insert(2, "teams_on_duty_mean", g["tour"].map(t["teams_on_duty_mean"]).astype(float))
        else:
            g.insert(1, "start", [])
            g.insert(2, "teams_on_duty_mean", [])
        return g

    def by_precinct(self) -> pd.DataFrame:
        """One row per precinct: team-shifts/week, eligible and covered calls/year, coverage
        share, cost (USD/year), then the mean teams on duty in each tour
        (``teams_on_duty_<tour>``: the precinct's team-shifts in that tour / the days the
        tour runs) and ``has_team`` (any team at any time)."""
        g = self._group(["precinct", "borough"])
        a = self.assignments
        for tour in self.tour_names:
            col = f"teams_on_duty_{tour}"
            if a.empty:
                g[col] = []
                continue
            m = a["tour"] == tour
            days = max(a.loc[m, "day"].nunique(), 1)
            per = a[m].groupby("precinct")["teams"].sum() / days
            g[col] = g["precinct"].map(per).fillna(0.0).to_numpy(dtype=float)
        g["has_team"] = g["team_shifts_per_week"] > 0
        return g

    @property
    def tour_names(self) -> list[str]:
        """The plan's tours (or staggered start labels) in the order they were planned."""
        if self.tours:
            return [str(t["name"]) for t in self.tours]
        return list(dict.fromkeys(self.assignments["tour"].astype(str))) if len(
            self.assignments) else []

    def teams_on_duty_by_tour(self) -> pd.DataFrame:
        """"When": citywide teams on duty in each tour. ``teams_on_duty_mean`` is the tour's
        team-shifts/week divided by the days it runs (teams on duty during the tour on an
        average day); ``_min``/``_max`` over its days; ``start``/``hours`` from the tour."""
        cols = ["tour", "start", "hours", "days_per_week", "team_shifts_per_week",
                "teams_on_duty_mean", "teams_on_duty_min", "teams_on_duty_max"]
        a = self.assignments
        if a.empty:
            return pd.DataFrame(columns=cols)
        info = {str(t["name"]): t for t in self.tours}
        rows = []
        for tour in self.tour_names:
            per_day = a[a["tour"] == tour].groupby("day")["teams"].sum()
            t = info.get(tour, {})
            start = t.get("start_hour")
            rows.append({
                "tour": tour,
                "start": "" if start is None else f"{int(start) % 24:02d}:{int(round((float(start) % 1) * 60)):02d}",
                "hours": float(t.get("hours", float("nan"))),
                "days_per_week": int(len(per_day)),
                "team_shifts_per_week": int(per_day.sum()),
                "teams_on_duty_mean": float(per_day.mean()) if len(per_day) else 0.0,
                "teams_on_duty_min": int(per_day.min()) if len(per_day) else 0,
                "teams_on_duty_max": int(per_day.max()) if len(per_day) else 0})
        return pd.DataFrame(rows, columns=cols)

    def summary_table(self) -> pd.DataFrame:
        """The headline as a (metric, value, unit) table: what ``--format csv`` prints by default
        and the spreadsheet's summary sheet."""
        a = self.answer
        rows = [("scenario", self.scenario, ""), ("status", self.status, ""),
                ("coverage_share", a.coverage_share, "share of eligible calls"),
                ("covered_calls", a.covered_calls_per_year, "calls/year"),
                ("eligible_calls", a.eligible_calls_per_year, "calls/year"),
                ("team_cost", a.team_cost_usd_per_year, "USD/year"),
                ("team_budget", a.team_budget_usd_per_year, "USD/year"),
                ("unspent_team_budget", a.unspent_usd_per_year, "USD/year"),
                ("program_fixed_cost", a.program_fixed_usd_per_year, "USD/year"),
                ("total_cost", a.total_cost_usd_per_year, "USD/year"),
                ("cost_per_covered_call", a.cost_per_covered_call_usd, "USD per covered call"),
                ("total_cost_per_covered_call", a.total_cost_per_covered_call_usd,
                 "USD per covered call"),
                ("team_shifts_per_week", self.team_shifts_per_week, "team-shifts/week")]
        rows += [(f"teams_on_duty_{t}", v, "teams (mean over the tour's days)")
                 for t, v in a.teams_on_duty.items()]
        rows += [("precincts", a.precincts, "precincts"),
                 ("precincts_with_team", len(a.precincts_with_team), "precincts"),
                 ("precincts_without_team", len(a.precincts_without_team), "precincts"),
                 ("objective", self.objective, "calls/year"), ("bound", self.bound, "calls/year"),
                 ("gap", self.gap, "relative")]
        return pd.DataFrame(rows, columns=["metric", "value", "unit"])

    @property
    def answer(self) -> "PlanAnswer":
        """The plan's headline figures, for the first screen of the CLI and the report:
        coverage, cost, cost per covered call, teams on duty per tour, precincts with and
        without a team (formatting only: every figure is a field of the plan or a sum of its
        assignments)."""
        bp = self.by_precinct()
        tod = self.teams_on_duty_by_tour()
        covered = float(self.objective) if self.feasible else 0.0
        per = (lambda usd: usd / covered if covered > 0 else float("nan"))
        return PlanAnswer(
            coverage_share=self.coverage_share if self.feasible else float("nan"),
            covered_calls_per_year=covered,
            eligible_calls_per_year=float(self.eligible_calls),
            team_cost_usd_per_year=float(self.annual_cost),
            program_fixed_usd_per_year=float(self.program_fixed_usd_per_year),
            total_cost_usd_per_year=float(self.total_cost_usd_per_year),
            team_budget_usd_per_year=float(self.budget),
            unspent_usd_per_year=float(self.budget - self.annual_cost),
            cost_per_covered_call_usd=per(float(self.annual_cost)),
            total_cost_per_covered_call_usd=per(float(self.total_cost_usd_per_year)),
            teams_on_duty={r.tour: float(r.teams_on_duty_mean) for r in tod.itertuples()},
            precincts=int(len(bp)),
            precincts_with_team=[int(p) for p in bp.loc[bp["has_team"], "precinct"]],
            precincts_without_team=[int(p) for p in bp.loc[~bp["has_team"], "precinct"]])

    def _group(self, keys: list[str]) -> pd.DataFrame:
        a = self.assignments
        cols = keys + ["team_shifts_per_week", "eligible_calls", "expected_covered_calls",
                       "coverage_share", "annual_cost_usd"]
        if a.empty:
            return pd.DataFrame(columns=cols)
        g = a.groupby(keys, sort=True).agg(
            team_shifts_per_week=("teams", "sum"), eligible_calls=("eligible_calls", "sum"),
            expected_covered_calls=("expected_covered_calls", "sum"),
            annual_cost_usd=("annual_cost_usd", "sum")).reset_index()
        g["coverage_share"] = np.where(g["eligible_calls"] > 0,
                                       g["expected_covered_calls"] / g["eligible_calls"].where(
                                           g["eligible_calls"] > 0, 1.0), np.nan)
        return g[cols]

    @property
    def details(self) -> dict:
        """The typed summaries as one JSON-ready dict (what ``summary.json`` holds)."""
        out: dict = {"coverage_model": self.coverage_model}
        if self.workforce is not None:
            out["workforce"] = {
                "fte_by_role": self.workforce.fte_by_role,
                "headcount": _records(self.workforce.headcount),
                "cost_breakdown_usd_per_year": self.workforce.cost_breakdown_usd_per_year}
        for name in ("precinct_shares", "budget_split", "fixed_point", "shared", "equity_cost",
                     "uncertainty"):
            v = getattr(self, name)
            if v is not None:
                out[name] = asdict(v)
        if self.limits is not None:
            out["limits"] = _finite(asdict(self.limits))
        if self.staggered is not None:
            out["staggered"] = {f.name: getattr(self.staggered, f.name)
                                for f in fields(self.staggered) if f.name != "hourly"}
        return out

    def summary(self) -> dict:
        """Totals, status, solver report and typed summaries as a JSON-ready dict."""
        def num(x):
            return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x

        return {
            "scenario": self.scenario,
            "status": self.status,
            "objective_covered_calls_per_year": num(self.objective),
            "bound_covered_calls_per_year": num(self.bound),
            "gap": num(self.gap),
            "eligible_calls_per_year": num(self.eligible_calls),
            "coverage_share": num(self.coverage_share),
            "annual_cost_usd": num(self.annual_cost),
            "program_fixed_usd_per_year": num(self.program_fixed_usd_per_year),
            "total_cost_usd_per_year": num(self.total_cost_usd_per_year),
            "budget_usd": num(self.budget),
            "team_shifts_per_week": self.team_shifts_per_week,
            "build_seconds": self.build_seconds,
            "translate_seconds": self.translate_seconds,
            "solve_seconds": self.solve_seconds,
            "demand_source": self.demand_source,
            "diagnosis": self.diagnosis,
            "solver": {k: num(v) for k, v in asdict(self.solver).items()},
            "bound_meaning": self.solver.bound_meaning,
            "by_borough": _records(self.by_borough()),
            "by_tour": _records(self.by_tour()),
            "assumptions": self.assumptions,
            "tours": self.tours,
            "columns": self.index.columns_records() if self.index is not None else [],
            "details": self.details,
        }

    # ---- save / load -----------------------------------------------------------------
    def save(self, out_dir: str | Path) -> Path:
        """Write ``plan.csv``, ``summary.json`` and ``scenario.yaml`` (plus ``hourly.csv`` for
        staggered plans) into ``out_dir`` as one unit (:func:`bheard.io.write_unit`: a
        temporary folder, then renamed into place with ``manifest.json`` last), and remove the
        outputs derived from the plan it replaces (its simulation and report); return the
        folder. Other files in ``out_dir`` are left alone. A write failure raises
        :class:`bheard.errors.OutputError` and leaves the old plan as it was."""
        files = {"plan.csv": csv_bytes(self.assignments)}
        if self.staggered is not None and self.staggered.hourly is not None:
            files["hourly.csv"] = csv_bytes(self.staggered.hourly)
        if self.resolved_scenario is not None:
            files["scenario.yaml"] = ("# the resolved scenario this plan was solved for (bheard)\n"
                                      + scenario_yaml(self.resolved_scenario)).encode("utf-8")
        files["summary.json"] = json_bytes(self.summary())
        stale = tuple(n for n in PLAN_FILES if n not in files) + DERIVED_FILES
        return write_unit(out_dir, files, kind=PLAN_KIND, remove=stale)

    @classmethod
    def load(cls, out_dir: str | Path) -> "Plan":
        """Read a plan written by :meth:`save` (its scenario too, when ``scenario.yaml`` is
        there), after checking it: the manifest's checksums (files of one run, unchanged),
        the files' schema, and the plan against its scenario (integer teams >= 0 and within
        ``limits.max_teams_per_slot``, the scenario's precincts and columns, each row once).
        Raises :class:`InputError` naming the file, row and field for a folder that is not an
        intact saved plan."""
        out = Path(out_dir)
        if not out.is_dir():
            raise InputError.single(out, "(folder)", str(out),
                                    PLAN_WHAT)
        files = read_unit(out, PLAN_KIND, PLAN_WHAT)
        missing = [n for n in ("plan.csv", "summary.json") if n not in files]
        if missing:
            raise InputError.single(out, "manifest.json", sorted(files),
                                    f"a plan folder with plan.csv and summary.json (missing"
                                    f" {', '.join(missing)})")
        try:
            s = json.loads(files["summary.json"].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError.single(out / "summary.json", "(file)", type(exc).__name__,
                                    "JSON written by bheard") from None
        try:
            a = pd.read_csv(io.BytesIO(files["plan.csv"]), dtype={"day": str, "tour": str,
                                                                   "borough": str})
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputError.single(out / "plan.csv", "(file)", type(exc).__name__,
                                    "a CSV written by bheard") from None
        sc = None
        if "scenario.yaml" in files:
            sc = _saved_scenario(out, files["scenario.yaml"])
        check_summary(out / "summary.json", s)
        check_assignments(out / "plan.csv", a, s, sc)
        hourly = None
        if "hourly.csv" in files:
            try:
                hourly = pd.read_csv(io.BytesIO(files["hourly.csv"]))
            except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
                raise InputError.single(out / "hourly.csv", "(file)", type(exc).__name__,
                                        "a CSV written by bheard") from None
        try:
            return cls._from_saved(out, s, a, sc, hourly)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError.single(out / "summary.json", "(file)", f"{type(exc).__name__}:"
                                    f" {str(exc)[:80]}", "a summary.json written by bheard"
                                    ) from None

    @classmethod
    def _from_saved(cls, out: Path, s: dict, a: pd.DataFrame, sc: Scenario | None,
                    hourly: pd.DataFrame | None) -> "Plan":
        nan = float("nan")
        solver = SolverReport(**{k: (nan if v is None else v) for k, v in s["solver"].items()})
        d = s.get("details", {}) or {}
        teams = index = None
        cols = s.get("columns") or []
        if cols and len(a):
            precincts = list(dict.fromkeys(a["precinct"].astype(int).tolist()))
            boroughs = a.drop_duplicates("precinct")["borough"].tolist()
            index = PlanIndex.from_records(precincts, boroughs, cols)
            pos = {(r["day"], r["label"]): j for j, r in enumerate(cols)}
            pi = {p: i for i, p in enumerate(precincts)}
            teams = np.zeros(index.shape, dtype=np.int64)
            rows_p = a["precinct"].astype(int).map(pi).to_numpy()
            rows_c = np.array([pos[(str(dd), str(t))] for dd, t in zip(a["day"], a["tour"])])
            teams[rows_p, rows_c] = a["teams"].to_numpy(dtype=np.int64)
        wf = None
        if "workforce" in d:
            wf = Workforce(headcount=pd.DataFrame(d["workforce"]["headcount"]),
                           cost_breakdown_usd_per_year=d["workforce"].get(
                               "cost_breakdown_usd_per_year"))
        st = None
        if "staggered" in d:
            st = StaggeredSummary(**d["staggered"], hourly=hourly)

        def typed(kind, name):
            return kind(**d[name]) if d.get(name) is not None else None

        limits = None
        if isinstance(d.get("limits"), dict):
            lim = {k: (nan if v is None else v) for k, v in d["limits"].items()}
            lim["effects"] = [LimitEffect(**{k: (nan if v is None else v) for k, v in e.items()})
                              for e in lim.get("effects") or []]
            limits = LimitReport(**lim)

        return cls(scenario=s["scenario"], status=s["status"],
                   objective=_num(s["objective_covered_calls_per_year"]),
                   bound=_num(s["bound_covered_calls_per_year"]), gap=_num(s["gap"]),
                   annual_cost=_num(s["annual_cost_usd"], 0.0), budget=_num(s["budget_usd"], 0.0),
                   eligible_calls=_num(s["eligible_calls_per_year"], 0.0),
                   build_seconds=s["build_seconds"], translate_seconds=s["translate_seconds"],
                   solve_seconds=s["solve_seconds"], assignments=a, solver=solver,
                   diagnosis=s["diagnosis"], assumptions=s["assumptions"],
                   demand_source=s["demand_source"], tours=s.get("tours", []), teams=teams,
                   index=index, resolved_scenario=sc,
                   coverage_model=d.get("coverage_model", "isolated (loss with breaks at the lagged load)"), workforce=wf,
                   precinct_shares=typed(ShareDistribution, "precinct_shares"),
                   budget_split=typed(BudgetSplit, "budget_split"),
                   fixed_point=typed(FixedPointReport, "fixed_point"),
                   shared=typed(SharedCoverage, "shared"),
                   equity_cost=typed(EquityCost, "equity_cost"), staggered=st,
                   uncertainty=(UncertaintySummary.from_dict(d["uncertainty"])
                                if d.get("uncertainty") is not None else None),
                   program_fixed_usd_per_year=_num(s.get("program_fixed_usd_per_year"), 0.0),
                   limits=limits)

    def __repr__(self) -> str:
        if not self.feasible:
            return f"Plan({self.scenario!r}, status={self.status!r}, diagnosis={self.diagnosis})"
        return (f"Plan({self.scenario!r}, status={self.status!r}, "
                f"covered={self.objective:,.1f} calls/yr ({self.coverage_share:.1%}), "
                f"bound={self.bound:,.1f}, gap={self.gap:.2e}, "
                f"cost=${self.annual_cost:,.0f}/yr of ${self.budget:,.0f}, "
                f"team-shifts/week={self.team_shifts_per_week})")


def _saved_scenario(out: Path, raw: bytes) -> Scenario:
    """The scenario.yaml of a plan folder: read with the safe YAML loader; the resolved
    scenario bheard writes has absolute paths and no ``extends:``."""
    path = out / "scenario.yaml"
    data = safe_load_bytes(raw, path)
    if not isinstance(data, dict):
        raise InputError.single(path, "(top level)", type(data).__name__,
                                "the resolved scenario bheard writes")
    if "extends" in data:
        raise InputError.single(path, "extends", data["extends"],
                                "no extends: in a plan's resolved scenario")
    try:
        sc = load_scenario(data, base_dir=out)
    except InputError as exc:
        raise InputError(path, exc.problems) from None
    return sc.model_copy(update={"source": str(path)})


def _bad(path: Path, field: str, value, expected: str) -> InputError:
    return InputError.single(path, field, value, expected)


def check_summary(path: Path, s) -> None:
    """summary.json: the fields :meth:`Plan.load` reads, with their types; numbers finite or
    null."""
    if not isinstance(s, dict):
        raise _bad(path, "(top level)", type(s).__name__, "a JSON object written by bheard")
    need = {"scenario": str, "status": str, "solver": dict, "diagnosis": list,
            "assumptions": list, "demand_source": str}
    for k, t in need.items():
        if not isinstance(s.get(k), t):
            raise _bad(path, k, s.get(k, "(missing)"), f"a {t.__name__} (as bheard writes it)")
    if s["status"] not in STATUSES:
        raise _bad(path, "status", s["status"], f"one of {list(STATUSES)}")
    for k in ("objective_covered_calls_per_year", "bound_covered_calls_per_year", "gap",
              "annual_cost_usd", "budget_usd", "eligible_calls_per_year", "build_seconds",
              "translate_seconds", "solve_seconds"):
        v = s.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                              or not math.isfinite(v)):
            raise _bad(path, k, v, "a finite number or null")
    for k in ("build_seconds", "translate_seconds", "solve_seconds"):
        if s.get(k) is None:
            raise _bad(path, k, "(missing)", "a number of seconds")
    cols = s.get("columns") or []
    if not isinstance(cols, list) or not all(
            isinstance(c, dict) and isinstance(c.get("day"), str) and isinstance(c.get("label"), str)
            for c in cols):
        raise _bad(path, "columns", "(malformed)", "a list of {day, label, ...} records")
    for k in ("diagnosis",):
        if not all(isinstance(x, str) for x in s[k]):
            raise _bad(path, k, "(malformed)", "a list of strings")
    d = s.get("details") or {}
    if not isinstance(d, dict):
        raise _bad(path, "details", type(d).__name__, "an object")
    wf = d.get("workforce")
    if wf is not None:
        hc = wf.get("headcount") if isinstance(wf, dict) else None
        ok = isinstance(hc, list) and all(
            isinstance(r, dict) and isinstance(r.get("tour"), str)
            and all(k == "tour" or v is None or (isinstance(v, (int, float))
                                                 and not isinstance(v, bool) and math.isfinite(v))
                    for k, v in r.items()) for r in hc)
        if not ok or (hc and not any(r["tour"] == "total" for r in hc)):
            raise _bad(path, "details.workforce.headcount", "(malformed)",
                       "records {tour, role: FTE} with a 'total' row, as bheard writes them")


def check_assignments(path: Path, a: pd.DataFrame, s: dict, sc: Scenario | None) -> None:
    """plan.csv against its summary and scenario: the columns bheard writes; integer precincts
    (of the scenario, or of the 78 when it has none) and teams (>= 0, at most
    ``limits.max_teams_per_slot``); known days and columns; each (precinct, day, tour) once;
    every precinct x column of a feasible plan; totals equal to summary.json's."""
    missing = [c for c in ASSIGNMENT_COLUMNS if c not in a.columns]
    if missing:
        raise _bad(path, "(columns)", [str(c)[:20] for c in a.columns][:12],
                   f"the columns {ASSIGNMENT_COLUMNS} (missing {missing})")
    if s["status"] in FEASIBLE_STATUSES and len(a) == 0:
        raise _bad(path, "(rows)", 0, f"one row per precinct and column of a {s['status']} plan")
    for col in ("precinct", "teams"):
        v = pd.to_numeric(a[col], errors="coerce")
        bad = ~(np.isfinite(v) & (v % 1 == 0) & (v >= 0))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _bad(path, f"row {i + 2}, {col}", a[col].iloc[i], "an integer >= 0")
    for col in ("calls_per_hour", "eligible_calls", "expected_covered_calls", "annual_cost_usd"):
        v = pd.to_numeric(a[col], errors="coerce")
        bad = ~(np.isfinite(v) & (v >= 0))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _bad(path, f"row {i + 2}, {col}", a[col].iloc[i], "a finite number >= 0")
    bad = ~a["day"].isin(DAYS)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _bad(path, f"row {i + 2}, day", a["day"].iloc[i], f"one of {list(DAYS)}")
    prec = a["precinct"].astype(np.int64)
    known = (set(int(p) for p in select_precincts(precinct_table(), sc.precincts)["precinct"])
             if sc is not None else set(precinct_table()["precinct"].astype(int)))
    bad = ~prec.isin(known)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _bad(path, f"row {i + 2}, precinct", int(prec.iloc[i]),
                   "a precinct of the plan's scenario" if sc is not None
                   else "an NYPD precinct number")
    cols = {(c["day"], c["label"]) for c in s.get("columns") or []}
    if cols:
        bad = ~pd.Series(list(zip(a["day"], a["tour"])), index=a.index).isin(cols)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _bad(path, f"row {i + 2}, day/tour", f"{a['day'].iloc[i]} {a['tour'].iloc[i]}",
                       "a (day, tour) column listed in summary.json")
    dup = pd.DataFrame({"p": prec, "d": a["day"], "t": a["tour"]}).duplicated(keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise _bad(path, f"row {i + 2}", f"{int(prec.iloc[i])}, {a['day'].iloc[i]},"
                   f" {a['tour'].iloc[i]}", "each (precinct, day, tour) once")
    teams = a["teams"].astype(np.int64)
    if sc is not None:
        k = int(sc.limits.max_teams_per_slot)
        if sc.shifts.staggered is None and (teams > k).any():
            i = int(np.flatnonzero((teams > k).to_numpy())[0])
            raise _bad(path, f"row {i + 2}, teams", int(teams.iloc[i]),
                       f"at most limits.max_teams_per_slot = {k} of the plan's scenario")
        if s.get("scenario") != sc.name:
            raise _bad(path.with_name("summary.json"), "scenario", s.get("scenario"),
                       f"the name of the plan's scenario.yaml ({sc.name!r})")
    if s["status"] in FEASIBLE_STATUSES and cols:
        n_p = len(set(prec.tolist()))
        if len(a) != n_p * len(cols) or (sc is not None and n_p != len(known)):
            raise _bad(path, "(rows)", len(a), f"one row per precinct and column: "
                       f"{len(known) if sc is not None else n_p} x {len(cols)}")
    tsw = s.get("team_shifts_per_week")
    if tsw is not None and tsw != int(teams.sum()):
        raise _bad(path, "teams", f"{int(teams.sum())} team-shifts/week",
                   f"the total of summary.json ({tsw}): files of one run")


def _finite(obj):
    """A JSON-ready copy with non-finite floats as None."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _num(x, default=float("nan")) -> float:
    return default if x is None else float(x)


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records"))


__all__ = ["Plan", "PlanIndex", "Workforce", "ShareDistribution", "BudgetSplit",
           "StaggeredSummary", "SolverReport", "ASSIGNMENT_COLUMNS", "SHARED_COLUMNS",
           "STATUSES"]
