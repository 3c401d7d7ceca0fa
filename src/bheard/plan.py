"""Plan: the result of a solve, with its solver report, summaries and atomic save/load."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.io import atomic_write_csv, atomic_write_json

ASSIGNMENT_COLUMNS = [
    "precinct", "borough", "day", "tour", "teams", "calls_per_hour", "eligible_calls",
    "expected_covered_calls", "coverage_share", "annual_cost_usd",
]

#: status values a Plan can carry
STATUSES = ("optimal", "time_limit_feasible", "feasible", "infeasible", "error")


@dataclass
class SolverReport:
    """How the answer was obtained and certified."""

    termination: str = ""  # HiGHS/Pyomo termination condition, or a bheard step
    bound_source: str = ""  # "highs" (HiGHS bound on the reduced model) or "lagrangian"
    n_increments: int = 0  # candidate (precinct, slot, level) teams
    n_fixed_one: int = 0  # decided by reduced-cost fixing (incl. minimum staffing)
    n_fixed_zero: int = 0
    n_variables: int = 0  # Pyomo variables handed to HiGHS
    n_integer: int = 0
    greedy_objective: float = float("nan")  # calls/year
    lagrangian_bound: float = float("nan")  # calls/year (equals the LP relaxation bound)
    highs_bound: float = float("nan")  # calls/year, HiGHS bound lifted to the full model
    tie_break_per_usd: float = 0.0
    time_limit_s: float = float("nan")
    mip_rel_gap: float = float("nan")
    message: str = ""


@dataclass
class Plan:
    """A staffing plan.

    ``objective`` is expected covered eligible calls/year; ``bound`` an upper bound on it
    proven for the scenario; ``gap = (bound - objective) / objective``. ``assignments`` has one
    row per (precinct, day, tour) with the columns in :data:`ASSIGNMENT_COLUMNS`.
    """

    scenario: str
    status: str
    objective: float
    bound: float
    gap: float
    annual_cost: float  # USD/year
    budget: float  # USD/year
    eligible_calls: float  # calls/year in the scenario's precincts and slots
    build_seconds: float
    translate_seconds: float
    solve_seconds: float
    assignments: pd.DataFrame
    solver: SolverReport = field(default_factory=SolverReport)
    diagnosis: list[str] = field(default_factory=list)
    assumptions: list[dict] = field(default_factory=list)
    demand_source: str = ""
    #: the scenario's tours: ``{name, start_hour, hours, days}`` (hours; for hour-of-week views)
    tours: list[dict] = field(default_factory=list)
    #: shared-coverage / workforce / equity results (JSON-ready): fixed point, cost breakdown,
    #: headcount by role, coverage distribution; empty for the plain isolated model
    details: dict = field(default_factory=dict)

    # ---- derived -------------------------------------------------------------------
    @property
    def feasible(self) -> bool:
        return self.status in ("optimal", "time_limit_feasible", "feasible")

    @property
    def coverage_share(self) -> float:
        """Share of eligible calls expected to be covered (0..1)."""
        return self.objective / self.eligible_calls if self.eligible_calls > 0 else float("nan")

    @property
    def team_shifts_per_week(self) -> int:
        return int(self.assignments["teams"].sum()) if len(self.assignments) else 0

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
        if a.empty:
            return pd.DataFrame(columns=keys + ["team_shifts_per_week", "eligible_calls",
                                                "expected_covered_calls", "coverage_share",
                                                "annual_cost_usd"])
        g = a.groupby(keys, sort=True).agg(
            team_shifts_per_week=("teams", "sum"), eligible_calls=("eligible_calls", "sum"),
            expected_covered_calls=("expected_covered_calls", "sum"),
            annual_cost_usd=("annual_cost_usd", "sum")).reset_index()
        g["coverage_share"] = np.where(g["eligible_calls"] > 0,
                                       g["expected_covered_calls"] / g["eligible_calls"].where(
                                           g["eligible_calls"] > 0, 1.0), np.nan)
        return g[keys + ["team_shifts_per_week", "eligible_calls", "expected_covered_calls",
                         "coverage_share", "annual_cost_usd"]]

    def summary(self) -> dict:
        """Totals, status and solver report as a JSON-ready dict."""
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
            "by_borough": _records(self.by_borough()),
            "by_tour": _records(self.by_tour()),
            "assumptions": self.assumptions,
            "tours": self.tours,
            **({"details": self.details} if self.details else {}),
        }

    def save(self, out_dir: str | Path) -> Path:
        """Write ``plan.csv`` and ``summary.json`` into ``out_dir`` (atomically); return the dir."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_csv(out / "plan.csv", self.assignments)
        atomic_write_json(out / "summary.json", self.summary())
        return out

    @classmethod
    def load(cls, out_dir: str | Path) -> "Plan":
        """Read a plan written by :meth:`save`."""
        out = Path(out_dir)
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        a = pd.read_csv(out / "plan.csv")
        nan = float("nan")
        solver = SolverReport(**{k: (nan if v is None else v) for k, v in s["solver"].items()})
        return cls(scenario=s["scenario"], status=s["status"],
                   objective=s["objective_covered_calls_per_year"] or nan,
                   bound=s["bound_covered_calls_per_year"] or nan, gap=s["gap"] or 0.0,
                   annual_cost=s["annual_cost_usd"] or 0.0, budget=s["budget_usd"] or 0.0,
                   eligible_calls=s["eligible_calls_per_year"] or 0.0,
                   build_seconds=s["build_seconds"], translate_seconds=s["translate_seconds"],
                   solve_seconds=s["solve_seconds"], assignments=a, solver=solver,
                   diagnosis=s["diagnosis"], assumptions=s["assumptions"],
                   demand_source=s["demand_source"], tours=s.get("tours", []),
                   details=s.get("details", {}))

    def __repr__(self) -> str:
        if not self.feasible:
            return f"Plan({self.scenario!r}, status={self.status!r}, diagnosis={self.diagnosis})"
        return (f"Plan({self.scenario!r}, status={self.status!r}, "
                f"covered={self.objective:,.1f} calls/yr ({self.coverage_share:.1%}), "
                f"bound={self.bound:,.1f}, gap={self.gap:.2e}, "
                f"cost=${self.annual_cost:,.0f}/yr of ${self.budget:,.0f}, "
                f"team-shifts/week={self.team_shifts_per_week})")


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records"))
