"""Plan: the result of a solve, with what it needs to be checked, reported and reproduced.

A :class:`Plan` carries the teams array with its column index (:class:`PlanIndex`), the
per-(precinct, column) table (``assignments``), the solver report, typed summaries (workforce,
shared coverage, fixed point, equity, staggered starts) and the resolved scenario it was solved
for. :meth:`Plan.save` writes ``plan.csv``, ``summary.json`` and ``scenario.yaml`` (plus
``hourly.csv`` for staggered plans); :meth:`Plan.load` reads them back, so ``bheard simulate
OUT_DIR`` and ``bheard report OUT_DIR`` work on exactly what was solved.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from bheard.constants import FEASIBLE_STATUSES, STATUSES
from bheard.costs import fte_by_role
from bheard.errors import InputError
from bheard.io import atomic_write_csv, atomic_write_json, atomic_write_text
from bheard.results import EquityCost, FixedPointReport, SharedCoverage, SolverReport
from bheard.scenario import Scenario, load_scenario, scenario_yaml

ASSIGNMENT_COLUMNS = [
    "precinct", "borough", "day", "tour", "teams", "calls_per_hour", "eligible_calls",
    "expected_covered_calls", "coverage_share", "annual_cost_usd",
]
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
    role); ``cost_breakdown_usd_per_year``: labour by role, vehicles and overhead, None when
    team-shifts are priced top-down.
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
class Plan:
    """A staffing plan.

    ``objective`` is expected covered eligible calls/year; ``bound`` an upper bound on it
    proven for the scenario (what it certifies: ``solver.bound_meaning``);
    ``gap = (bound - objective) / objective``. ``assignments`` has one row per (precinct, day,
    tour) with the columns in :data:`ASSIGNMENT_COLUMNS` (plus :data:`SHARED_COLUMNS` in shared
    mode). ``teams`` (P, C) and ``index`` give the same plan as an array. ``budget`` is the
    team budget (USD/year); ``annual_cost`` what the plan spends (USD/year).
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
    coverage_model: str = "isolated Erlang loss"
    workforce: Workforce | None = field(default=None, repr=False)
    precinct_shares: ShareDistribution | None = None
    budget_split: BudgetSplit | None = None
    fixed_point: FixedPointReport | None = field(default=None, repr=False)
    shared: SharedCoverage | None = None
    equity_cost: EquityCost | None = None
    staggered: StaggeredSummary | None = field(default=None, repr=False)

    # ---- derived -------------------------------------------------------------------
    @property
    def feasible(self) -> bool:
        return self.status in FEASIBLE_STATUSES

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
        """Teams, calls and coverage by borough."""
        return self._group(["borough"])

    def by_tour(self) -> pd.DataFrame:
        """Teams, calls and coverage by tour."""
        return self._group(["tour"])

    def by_precinct(self) -> pd.DataFrame:
        return self._group(["precinct", "borough"])

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
        for name in ("precinct_shares", "budget_split", "fixed_point", "shared", "equity_cost"):
            v = getattr(self, name)
            if v is not None:
                out[name] = asdict(v)
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
        """Write ``plan.csv``, ``summary.json`` and ``scenario.yaml`` (each atomically) into
        ``out_dir`` (plus ``hourly.csv`` for staggered plans); return the folder."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_csv(out / "plan.csv", self.assignments)
        if self.staggered is not None and self.staggered.hourly is not None:
            atomic_write_csv(out / "hourly.csv", self.staggered.hourly)
        if self.resolved_scenario is not None:
            atomic_write_text(out / "scenario.yaml",
                              "# the resolved scenario this plan was solved for (bheard)\n"
                              + scenario_yaml(self.resolved_scenario))
        atomic_write_json(out / "summary.json", self.summary())
        return out

    @classmethod
    def load(cls, out_dir: str | Path) -> "Plan":
        """Read a plan written by :meth:`save` (its scenario too, when ``scenario.yaml`` is
        there). Raises :class:`InputError` for a folder that is not a saved plan."""
        out = Path(out_dir)
        missing = [n for n in ("plan.csv", "summary.json") if not (out / n).is_file()]
        if missing:
            raise InputError.single(out, "(folder)", str(out),
                                    "a plan folder written by `bheard solve --out` (plan.csv and"
                                    f" summary.json; missing {', '.join(missing)})")
        try:
            s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            a = pd.read_csv(out / "plan.csv")
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise InputError.single(out, "(files)", str(exc)[:80],
                                    "plan.csv and summary.json written by bheard") from None
        try:
            return cls._from_saved(out, s, a)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError.single(out / "summary.json", "(file)", f"{type(exc).__name__}:"
                                    f" {str(exc)[:80]}", "a summary.json written by bheard"
                                    ) from None

    @classmethod
    def _from_saved(cls, out: Path, s: dict, a: pd.DataFrame) -> "Plan":
        nan = float("nan")
        solver = SolverReport(**{k: (nan if v is None else v) for k, v in s["solver"].items()})
        d = s.get("details", {}) or {}
        sc = None
        if (out / "scenario.yaml").is_file():
            data = yaml.safe_load((out / "scenario.yaml").read_text(encoding="utf-8"))
            sc = load_scenario(data, base_dir=out)
            sc = sc.model_copy(update={"source": str(out / "scenario.yaml")})
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
            hourly = pd.read_csv(out / "hourly.csv") if (out / "hourly.csv").is_file() else None
            st = StaggeredSummary(**d["staggered"], hourly=hourly)

        def typed(kind, name):
            return kind(**d[name]) if d.get(name) is not None else None

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
                   coverage_model=d.get("coverage_model", "isolated Erlang loss"), workforce=wf,
                   precinct_shares=typed(ShareDistribution, "precinct_shares"),
                   budget_split=typed(BudgetSplit, "budget_split"),
                   fixed_point=typed(FixedPointReport, "fixed_point"),
                   shared=typed(SharedCoverage, "shared"),
                   equity_cost=typed(EquityCost, "equity_cost"), staggered=st)

    def __repr__(self) -> str:
        if not self.feasible:
            return f"Plan({self.scenario!r}, status={self.status!r}, diagnosis={self.diagnosis})"
        return (f"Plan({self.scenario!r}, status={self.status!r}, "
                f"covered={self.objective:,.1f} calls/yr ({self.coverage_share:.1%}), "
                f"bound={self.bound:,.1f}, gap={self.gap:.2e}, "
                f"cost=${self.annual_cost:,.0f}/yr of ${self.budget:,.0f}, "
                f"team-shifts/week={self.team_shifts_per_week})")


def _num(x, default=float("nan")) -> float:
    return default if x is None else float(x)


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records"))


__all__ = ["Plan", "PlanIndex", "Workforce", "ShareDistribution", "BudgetSplit",
           "StaggeredSummary", "SolverReport", "ASSIGNMENT_COLUMNS", "SHARED_COLUMNS",
           "STATUSES"]
