"""Buildout: a multi-year hiring ramp from today's deployment to the steady-state plan.

:func:`buildout` reads top to bottom as its steps: resolve the scenario, build its
steady-state problem data (the registry's formulation), solve the steady state at the last
fiscal year's budget (the reference, and the busy probabilities of shared coverage), turn its
coverage model into per-level gains (:data:`bheard.optimize.buildout.GAINS`), read today's
deployment (a saved plan, or a scenario solved for its plan), build the buildout arrays
(:mod:`bheard.problem.buildout`) and run the driver (:mod:`bheard.optimize.buildout`).

The result is a :class:`Buildout`: per-period teams (array and table), hires and headcount by
role, spend against each fiscal year's budget, coverage, the order in which precincts and
tours open, and the solver's status, objective, bound and gap. :meth:`Buildout.save` writes
CSV and JSON as one unit with a manifest (:func:`bheard.io.write_unit`); :meth:`Buildout.load`
reads them back, verified. Formulation:
``models/buildout.md``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.errors import InputError
from bheard.io import csv_bytes, json_bytes, read_unit, write_unit
from bheard.results import SolverReport
from bheard.scenario import Scenario, load_scenario, scenario_yaml
from bheard.scenario.loader import safe_load_bytes

#: files :meth:`Buildout.save` writes (besides scenario.yaml and the manifest)
FILES = ("buildout.json", "periods.csv", "teams.csv", "teams_by_borough_tour.csv",
         "workforce.csv", "fiscal_years.csv", "openings.csv")
#: the manifest kind of a buildout folder (:func:`bheard.io.write_unit`)
BUILDOUT_KIND = "bheard-buildout"
BUILDOUT_WHAT = ("a buildout folder written by `bheard buildout --out` (buildout.json, the CSV"
                 " tables and manifest.json)")
#: outputs derived from a saved buildout, removed when another is saved over it
DERIVED_FILES = ("report.html",)


@dataclass
class Buildout:
    """A multi-period hiring ramp and what it certifies.

    ``objective``: expected covered eligible calls summed over the horizon (calls; discounted
    if ``buildout.discount_rate_per_year`` is set); ``bound`` an upper bound on it proven by
    HiGHS; ``gap = (bound - objective) / objective``. ``teams`` (T, P, C) teams per period,
    precinct and column (``precincts``, ``column_tour``, ``column_day``; "" = every day of
    the tour). Tables (DataFrames): ``periods`` (one row per period: teams, coverage, spend),
    ``assignments`` (period x precinct x column), ``by_borough_tour``, ``workforce`` (period x
    role: trained headcount, FTE on teams, bench, hires, training capacity), ``fiscal_years``
    (spend against budget), ``openings`` (when each precinct's tour first gets a team).
    ``events``: when each tour first opens, when every precinct has a team, ...;
    ``steady_state``: the steady-state optimum at the last fiscal year's budget.
    ``own_state_max_rel_diff``: the largest relative difference over the periods between the
    coverage the ramp was optimized with (gains frozen at the steady-state plan's state) and
    each period's teams valued at their own state (``periods`` column
    ``covered_calls_per_year_own_state``; :func:`add_own_state_check`).
    """

    scenario: str
    status: str
    objective: float
    bound: float
    gap: float
    solver: SolverReport = field(default_factory=SolverReport)
    diagnosis: list[str] = field(default_factory=list)
    coverage_model: str = ""
    periods: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    assignments: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    by_borough_tour: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    workforce: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    fiscal_years: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    openings: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    events: dict = field(default_factory=dict)
    milestones: list[dict] = field(default_factory=list)
    steady_state: dict | None = None
    own_state_max_rel_diff: float = math.nan
    notes: list[str] = field(default_factory=list)
    greedy_objective: float = math.nan
    build_seconds: float = 0.0
    translate_seconds: float = 0.0
    solve_seconds: float = 0.0
    total_seconds: float = 0.0
    teams: np.ndarray | None = field(default=None, repr=False)
    precincts: np.ndarray | None = field(default=None, repr=False)
    column_tour: np.ndarray | None = field(default=None, repr=False)
    column_day: np.ndarray | None = field(default=None, repr=False)
    period_labels: list[str] = field(default_factory=list, repr=False)
    resolved_scenario: Scenario | None = field(default=None, repr=False)

    @property
    def feasible(self) -> bool:
        return self.status in ("optimal", "time_limit_feasible", "feasible")

    def summary(self) -> dict:
        """Status, certificate, events, milestones and the solver report as a JSON-ready dict."""
        def num(x):
            return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x

        return {
            "scenario": self.scenario, "status": self.status,
            "objective_covered_calls": num(self.objective),
            "bound_covered_calls": num(self.bound), "gap": num(self.gap),
            "objective_meaning": "expected covered eligible calls summed over the horizon's"
                                 " periods (calls/year x years in each period; discounted if"
                                 " buildout.discount_rate_per_year > 0)",
            "coverage_model": self.coverage_model, "greedy_objective": num(self.greedy_objective),
            "diagnosis": self.diagnosis, "notes": self.notes, "events": self.events,
            "milestones": self.milestones, "steady_state": self.steady_state,
            "own_state_max_rel_diff": num(self.own_state_max_rel_diff),
            "own_state_meaning": "largest relative difference over the periods between the"
                                 " coverage the ramp was optimized with (gains frozen at the"
                                 " steady-state plan's state) and each period's teams at their"
                                 " own state (periods.csv covered_calls_per_year_own_state)",
            "solver": {k: num(v) for k, v in asdict(self.solver).items()},
            "bound_meaning": self.solver.bound_meaning,
            "build_seconds": self.build_seconds, "translate_seconds": self.translate_seconds,
            "solve_seconds": self.solve_seconds, "total_seconds": self.total_seconds,
            "period_labels": list(self.period_labels),
            "precincts": [] if self.precincts is None else [int(p) for p in self.precincts],
            "columns": [] if self.column_tour is None else [
                {"tour": str(t), "day": str(d)} for t, d in zip(self.column_tour, self.column_day)],
        }

    # ---- save / load -----------------------------------------------------------------
    def save(self, out_dir: str | Path) -> Path:
        """Write buildout.json, the CSV tables and scenario.yaml into ``out_dir`` as one unit
        (:func:`bheard.io.write_unit`: a temporary folder, then renamed into place with
        ``manifest.json`` last), and remove the report of the buildout it replaces, so the
        folder never holds files of two runs. A write failure raises
        :class:`bheard.errors.OutputError` and leaves the old buildout as it was."""
        files = {name: csv_bytes(df) for name, df in (
            ("periods.csv", self.periods), ("teams.csv", self.assignments),
            ("teams_by_borough_tour.csv", self.by_borough_tour),
            ("workforce.csv", self.workforce), ("fiscal_years.csv", self.fiscal_years),
            ("openings.csv", self.openings))}
        if self.resolved_scenario is not None:
            files["scenario.yaml"] = (
                "# the resolved scenario this buildout was solved for (bheard)\n"
                + scenario_yaml(self.resolved_scenario)).encode("utf-8")
        files["buildout.json"] = json_bytes(self.summary())
        stale = tuple(n for n in (*FILES, "scenario.yaml") if n not in files) + DERIVED_FILES
        return write_unit(out_dir, files, kind=BUILDOUT_KIND, remove=stale)

    @classmethod
    def load(cls, out_dir: str | Path) -> Buildout:
        """Read a buildout written by :meth:`save`, verified against its manifest (a folder
        whose write was interrupted, or whose files changed since, is refused);
        :class:`InputError` for anything else."""
        out = Path(out_dir)
        files = read_unit(out, BUILDOUT_KIND, BUILDOUT_WHAT)
        missing = [n for n in FILES if n not in files]
        if missing:
            raise InputError.single(out, "(folder)", str(out), f"{BUILDOUT_WHAT} (missing"
                                    f" {', '.join(missing)})")
        try:
            s = json.loads(files["buildout.json"].decode("utf-8"))
            tables = {n: _read_table(files[n]) for n in FILES[1:]}
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise InputError.single(out, "(files)", str(exc)[:80],
                                    "buildout.json and CSV tables written by bheard") from None
        try:
            return cls._from_saved(out, s, tables, files.get("scenario.yaml"))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError.single(out / "buildout.json", "(file)",
                                    f"{type(exc).__name__}: {str(exc)[:80]}",
                                    "a buildout.json written by bheard") from None

    @classmethod
    def _from_saved(cls, out: Path, s: dict, t: dict, scenario: bytes | None) -> Buildout:
        nan = float("nan")
        solver = SolverReport(**{k: (nan if v is None else v) for k, v in s["solver"].items()})
        sc = None
        if scenario is not None:
            data = safe_load_bytes(scenario, out / "scenario.yaml")
            sc = load_scenario(data, base_dir=out)
        labels = list(s["period_labels"])
        precincts = np.array(s["precincts"], dtype=np.int64)
        cols = s["columns"]
        tour = np.array([c["tour"] for c in cols], dtype=object)
        day = np.array([c["day"] for c in cols], dtype=object)
        teams = None
        a = t["teams.csv"]
        if len(a) and len(labels):
            a["day"] = a["day"].astype(object).where(a["day"].notna(), "").astype(str)
            teams = np.zeros((len(labels), len(precincts), len(cols)), dtype=np.int64)
            tp = {lab: i for i, lab in enumerate(labels)}
            pp = {int(p): i for i, p in enumerate(precincts)}
            cp = {(str(tt), str(d)): i for i, (tt, d) in enumerate(zip(tour, day))}
            ti = a["period"].map(tp).to_numpy()
            pi = a["precinct"].astype(int).map(pp).to_numpy()
            ci = np.array([cp[(str(tt), str(d))] for tt, d in zip(a["tour"], a["day"])])
            teams[ti, pi, ci] = a["teams"].to_numpy(dtype=np.int64)

        def f(x):
            return nan if x is None else float(x)

        return cls(scenario=s["scenario"], status=s["status"],
                   objective=f(s["objective_covered_calls"]), bound=f(s["bound_covered_calls"]),
                   gap=f(s["gap"]), solver=solver, diagnosis=s["diagnosis"],
                   coverage_model=s["coverage_model"], periods=t["periods.csv"], assignments=a,
                   by_borough_tour=t["teams_by_borough_tour.csv"],
                   workforce=t["workforce.csv"], fiscal_years=t["fiscal_years.csv"],
                   openings=t["openings.csv"], events=s["events"], milestones=s["milestones"],
                   steady_state=s["steady_state"], notes=s["notes"],
                   own_state_max_rel_diff=f(s.get("own_state_max_rel_diff")),
                   greedy_objective=f(s["greedy_objective"]), build_seconds=s["build_seconds"],
                   translate_seconds=s["translate_seconds"], solve_seconds=s["solve_seconds"],
                   total_seconds=s["total_seconds"], teams=teams, precincts=precincts,
                   column_tour=tour, column_day=day, period_labels=labels,
                   resolved_scenario=sc)

    def __repr__(self) -> str:
        if not self.feasible:
            return f"Buildout({self.scenario!r}, status={self.status!r}, diagnosis={self.diagnosis})"
        last = self.periods.iloc[-1] if len(self.periods) else None
        fin = f", final coverage {last['coverage_share']:.1%}" if last is not None else ""
        return (f"Buildout({self.scenario!r}, status={self.status!r}, {len(self.period_labels)}"
                f" periods, covered={self.objective:,.1f} calls over the horizon,"
                f" bound={self.bound:,.1f}, gap={self.gap:.2e}{fin})")


def _read_table(raw: bytes) -> pd.DataFrame:
    """A saved CSV table; an infeasible buildout saves empty ones."""
    try:
        return pd.read_csv(io.BytesIO(raw), keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


# ----------------------------------------------------------------------------------------
# the API
# ----------------------------------------------------------------------------------------
def buildout(scenario, *, time_limit_s: float | None = None, base_dir=None) -> Buildout:
    """Plan the hiring ramp of a scenario with a ``buildout:`` section.

    ``scenario``: path, dict or :class:`~bheard.scenario.Scenario`; ``time_limit_s`` overrides
    ``solver.time_limit_s`` (seconds). User errors raise :class:`InputError`; a ramp the
    pipelines, limits or budgets cannot deliver returns a Buildout with ``status ==
    "infeasible"`` and a ``diagnosis`` naming the binding pipeline (or limit, or fiscal year)
    and period.
    """
    from bheard.optimize import formulation_for, resolve
    from bheard.optimize.buildout import GAINS, solve_buildout
    from bheard.problem.buildout import buildout_from_scenario, to_columns

    t0 = time.perf_counter()
    sc = resolve(scenario, time_limit_s=time_limit_s, base_dir=base_dir)
    if sc.buildout is None:
        raise InputError.single(sc.source, "buildout", None, "a buildout: section (horizon,"
                                " pipelines, budgets; see models/buildout.md)")
    if sc.coverage.mode not in GAINS:
        raise InputError.single(sc.source, "coverage.mode", sc.coverage.mode,
                                f"a coverage model the buildout supports: {sorted(GAINS)}")
    formulation = formulation_for(sc)
    prob = formulation.problem(sc)
    b = sc.buildout
    from bheard.costs import program_fixed_usd_per_year, team_budget_usd

    final_budget = (float(b.budget_usd_by_fiscal_year[f"FY{(b.first_fiscal_year + b.fiscal_years - 1) % 100:02d}"])
                    - program_fixed_usd_per_year(sc.costs)
                    if b.budget_usd_by_fiscal_year else team_budget_usd(sc))
    steady = formulation.run(sc, dataclasses.replace(prob, team_budget_usd_per_year=final_budget))
    coverage = GAINS[sc.coverage.mode](sc, prob, steady)
    start = starting_slots(sc, prob)
    data = buildout_from_scenario(sc, prob, coverage, start)
    cands = ()
    if steady.teams is not None:  # the steady-state plan in every period, if it is feasible
        cols = to_columns(np.asarray(steady.teams, dtype=np.int64), list(data.column_slots))
        cands = (np.broadcast_to(cols, data.shape).copy(),)
    res = solve_buildout(data, sc.solver, candidates=cands)
    out = make_buildout(sc, data, res)
    if res.ramp is not None:
        add_own_state_check(out, sc, prob, data, res.ramp.teams)
    out.steady_state = _steady_summary(steady, prob, final_budget)
    out.total_seconds = time.perf_counter() - t0
    return out


def starting_slots(sc, prob) -> np.ndarray | None:
    """(P, S) teams of today's deployment (``buildout.starting_deployment``), or None."""
    from bheard.plan import Plan
    from bheard.problem.buildout import start_slots_from_plan

    st = sc.buildout.starting_deployment
    if st is None:
        return None
    if st.plan is not None:
        plan, where = Plan.load(st.plan), str(st.plan)
    else:
        from bheard.optimize import solve

        plan, where = solve(st.scenario), str(st.scenario)
        if not plan.feasible or plan.teams is None:
            raise InputError.single(sc.source, "buildout.starting_deployment.scenario", where,
                                    f"a scenario whose solve gives a plan (got {plan.status})")
    if plan.teams is None or plan.index is None:
        raise InputError.single(where, "(plan)", plan.status, "a plan with teams")
    idx = plan.index
    teams, _ = start_slots_from_plan(prob, idx.precinct, idx.day, idx.label,
                                     idx.start_hour_of_week, idx.hours, plan.teams, where)
    return teams


def _steady_summary(res, prob, budget: float) -> dict:
    eligible = float(prob.eligible_calls_per_year().sum())
    ok = res.teams is not None and math.isfinite(res.objective)
    return {"budget_usd": budget, "status": res.status,
            "objective_covered_calls_per_year": res.objective if ok else None,
            "bound_covered_calls_per_year": res.bound if ok and math.isfinite(res.bound)
            else None, "gap": res.gap if ok and math.isfinite(res.gap) else None,
            "eligible_calls_per_year": eligible,
            "coverage_share": res.objective / eligible if ok and eligible > 0 else None,
            "team_shifts_per_week": int(np.asarray(res.teams).sum()) if ok else 0,
            "coverage_model": res.coverage_model}


def add_own_state_check(b: Buildout, sc, prob, data, teams: np.ndarray) -> None:
    """Each period's teams valued by the steady-state model at their OWN state (their own
    local busy probabilities, or carried-over load: :data:`bheard.optimize.buildout.
    OWN_COVERAGE`), next to the value the ramp was optimized with (gains frozen at the
    steady-state plan's state): ``periods["covered_calls_per_year_own_state"]`` and
    ``own_state_max_rel_diff`` (largest relative difference over the periods). How far the
    frozen valuation is from the model's own account of each period's teams."""
    from bheard.optimize.buildout import OWN_COVERAGE
    from bheard.problem.buildout import to_slots

    S = prob.shape[1]
    cols = list(data.column_slots)
    own = np.array([float(OWN_COVERAGE[sc.coverage.mode](sc, prob, to_slots(
        np.asarray(teams[t]), cols, S)).sum()) for t in range(len(teams))])
    p = b.periods
    p.insert(p.columns.get_loc("covered_calls_per_year") + 1,
             "covered_calls_per_year_own_state", own)
    frozen = p["covered_calls_per_year"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(frozen > 0, np.abs(own - frozen) / frozen, np.where(own > 0, np.inf, 0.0))
    b.own_state_max_rel_diff = float(rel.max()) if len(rel) else math.nan


def make_buildout(sc, data, res) -> Buildout:
    """Write a driver's result (:class:`~bheard.optimize.buildout.BuildoutSolve`) into a
    :class:`Buildout` with its tables."""
    b = Buildout(scenario=sc.name, status=res.status, objective=res.objective, bound=res.bound,
                 gap=res.gap, solver=res.report, diagnosis=list(res.diagnosis),
                 coverage_model=data.coverage_model, notes=list(data.notes),
                 greedy_objective=res.greedy_objective, build_seconds=res.build_seconds,
                 translate_seconds=res.translate_seconds, solve_seconds=res.solve_seconds,
                 precincts=np.asarray(data.precinct), column_tour=np.asarray(data.column_tour),
                 column_day=np.asarray(data.column_day),
                 period_labels=[str(x) for x in data.period_label], resolved_scenario=sc)
    b.milestones = [{"rule": r.label, "from_period": str(data.period_label[r.first]),
                     "teams_required": int(r.teams.sum())} for r in data.floors]
    if res.ramp is None:
        return b
    tables = ramp_tables(data, res.ramp)
    b.teams = np.asarray(res.ramp.teams)
    b.periods, b.assignments, b.by_borough_tour = (tables["periods"], tables["assignments"],
                                                   tables["by_borough_tour"])
    b.workforce, b.fiscal_years, b.openings = (tables["workforce"], tables["fiscal_years"],
                                               tables["openings"])
    b.events = ramp_events(data, res.ramp.teams)
    return b


def ramp_tables(data, ramp) -> dict[str, pd.DataFrame]:
    """The quarter-by-quarter tables of a ramp (units in the column names)."""
    from bheard.model.buildout import covered_calls, spend, staff_needed

    T, P, C = data.shape
    X = np.asarray(ramp.teams)
    cov = covered_calls(data, X)  # (T, P, C) calls/year
    elig = np.broadcast_to(data.eligible_calls_per_year, (T, P, C))
    shifts = data.column_shifts_per_week
    sp = spend(data, ramp)
    labels = data.period_label
    fy = data.fiscal_year[data.period_fy]
    tours = list(dict.fromkeys(data.column_tour.tolist()))
    has_team = (X > 0)
    periods = pd.DataFrame({
        "period": labels, "fiscal_year": fy, "start_date": data.period_start,
        "team_shifts_per_week": (X * shifts[None, None, :]).sum(axis=(1, 2)),
        **{f"team_shifts_per_week_{t}": (X[:, :, data.column_tour == t]
                                         * shifts[data.column_tour == t]).sum(axis=(1, 2))
           for t in tours},
        "precincts_with_a_team": has_team.any(axis=2).sum(axis=1),
        **{f"precincts_with_{t}": has_team[:, :, data.column_tour == t].any(axis=2).sum(axis=1)
           for t in tours},
        "precincts_on_every_tour": np.stack([has_team[:, :, data.column_tour == t].any(axis=2)
                                             for t in tours]).all(axis=0).sum(axis=1),
        "covered_calls_per_year": cov.sum(axis=(1, 2)),
        "eligible_calls_per_year": elig.sum(axis=(1, 2)),
        "spend_usd": sp.total_usd, "teams_usd": sp.teams_usd, "bench_usd": sp.bench_usd,
        "training_usd": sp.training_usd,
    })
    periods.insert(periods.columns.get_loc("eligible_calls_per_year") + 1, "coverage_share",
                   periods["covered_calls_per_year"] / periods["eligible_calls_per_year"])
    tt, pp, cc = np.meshgrid(np.arange(T), np.arange(P), np.arange(C), indexing="ij")
    tt, pp, cc = tt.ravel(), pp.ravel(), cc.ravel()
    assignments = pd.DataFrame({
        "period": labels[tt], "fiscal_year": fy[tt], "precinct": data.precinct[pp],
        "borough": data.borough[pp], "tour": data.column_tour[cc], "day": data.column_day[cc],
        "teams": X.ravel(), "team_shifts_per_week": (X * shifts[None, None, :]).ravel(),
        "eligible_calls_per_year": elig.ravel(), "covered_calls_per_year": cov.ravel(),
        "cost_usd_per_period": (X * data.team_cost_per_period()[None, None, :]).ravel()})
    g = assignments.groupby(["period", "borough", "tour"], sort=False).agg(
        team_shifts_per_week=("team_shifts_per_week", "sum"),
        covered_calls_per_year=("covered_calls_per_year", "sum"),
        eligible_calls_per_year=("eligible_calls_per_year", "sum")).reset_index()
    g["coverage_share"] = g["covered_calls_per_year"] / g["eligible_calls_per_year"].where(
        g["eligible_calls_per_year"] > 0)
    need = staff_needed(data, X)
    rows = []
    for r, name in enumerate(data.role_names):
        for t in range(T):
            cap = data.hire_cap[r, t] if t < T - 1 else 0.0
            rows.append({"period": labels[t], "role": name,
                         "headcount_fte": float(ramp.headcount[r, t]),
                         "on_teams_fte": float(need[r, t]),
                         "bench_fte": float(max(ramp.headcount[r, t] - need[r, t], 0.0)),
                         "hires_fte": float(ramp.hires[r, t]),
                         "hiring_capacity_fte": float(cap) if math.isfinite(cap) else None})
    workforce = pd.DataFrame(rows)
    F = len(data.fiscal_year)
    by = lambda v: np.bincount(data.period_fy, weights=v, minlength=F)
    years = data.period_years * np.bincount(data.period_fy, minlength=F)
    fiscal = pd.DataFrame({
        "fiscal_year": data.fiscal_year, "budget_usd": data.budget_usd,
        "spend_usd": by(sp.total_usd), "teams_usd": by(sp.teams_usd),
        "bench_usd": by(sp.bench_usd), "training_usd": by(sp.training_usd)})
    fiscal["left_usd"] = fiscal["budget_usd"] - fiscal["spend_usd"]
    fiscal["covered_calls"] = by(cov.sum(axis=(1, 2)) * data.period_years)
    fiscal["eligible_calls"] = by(elig.sum(axis=(1, 2)) * data.period_years)
    fiscal["coverage_share"] = fiscal["covered_calls"] / fiscal["eligible_calls"]
    fiscal["years"] = years
    openings = opening_order(data, X)
    return {"periods": periods, "assignments": assignments, "by_borough_tour": g,
            "workforce": workforce, "fiscal_years": fiscal, "openings": openings}


def opening_order(data, X: np.ndarray) -> pd.DataFrame:
    """One row per (precinct, tour): teams at the start, the period its first team opens
    ("start" if it had one already, "" if never), teams in the final period; in order of
    opening."""
    tours = list(dict.fromkeys(data.column_tour.tolist()))
    rows = []
    for t in tours:
        m = data.column_tour == t
        start = data.start_teams[:, m].max(axis=1)
        on = (X[:, :, m] > 0).any(axis=2)  # (T, P)
        for p in range(len(data.precinct)):
            first = np.flatnonzero(on[:, p])
            opens = "start" if start[p] > 0 else (str(data.period_label[first[0]])
                                                  if first.size else "")
            rows.append({"precinct": int(data.precinct[p]), "borough": data.borough[p],
                         "tour": t, "start_teams": int(start[p]), "opens": opens,
                         "opens_index": -1 if start[p] > 0 else (int(first[0]) if first.size
                                                                 else len(data.period_label)),
                         "final_teams": int(X[-1, p, m].max())})
    df = pd.DataFrame(rows).sort_values(["opens_index", "tour", "precinct"], kind="stable")
    return df.drop(columns="opens_index").reset_index(drop=True)


def ramp_events(data, X: np.ndarray) -> dict:
    """When things happen (period labels; "start" = already at the start; None = never):
    each tour's first team, every precinct with a team on each tour, every precinct with a
    team on some tour, every precinct with a team on every tour."""
    labels = [str(x) for x in data.period_label]
    tours = list(dict.fromkeys(data.column_tour.tolist()))
    start_on = {t: (data.start_teams[:, data.column_tour == t] > 0).any(axis=1) for t in tours}

    def when(ok_t: np.ndarray, ok_start: bool):
        if ok_start:
            return "start"
        hit = np.flatnonzero(ok_t)
        return labels[hit[0]] if hit.size else None

    out = {}
    on = {t: (X[:, :, data.column_tour == t] > 0).any(axis=2) for t in tours}  # (T, P)
    for t in tours:
        out[f"first_team_on_{t}"] = when(on[t].any(axis=1), bool(start_on[t].any()))
        out[f"every_precinct_on_{t}"] = when(on[t].all(axis=1), bool(start_on[t].all()))
    any_ = np.stack([on[t] for t in tours]).any(axis=0)
    all_ = np.stack([on[t] for t in tours]).all(axis=0)
    s_any = np.stack([start_on[t] for t in tours]).any(axis=0)
    s_all = np.stack([start_on[t] for t in tours]).all(axis=0)
    out["every_precinct_has_a_team"] = when(any_.all(axis=1), bool(s_any.all()))
    out["every_precinct_on_every_tour"] = when(all_.all(axis=1), bool(s_all.all()))
    return out


__all__ = [
    "Buildout",
    "buildout",
    "make_buildout",
    "opening_order",
    "ramp_events",
    "ramp_tables",
    "starting_slots",
]
