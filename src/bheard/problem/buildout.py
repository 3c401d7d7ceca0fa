"""Buildout problem data: a multi-period hiring ramp over (period, precinct, column) as arrays.

Built from the steady-state problem (:class:`~bheard.problem.slots.ProblemData`), the coverage
gains the steady-state model uses, and the scenario's ``buildout:`` section
(``models/buildout.md``). Index conventions: ``t`` = period (0..T-1), ``p``/``i``/``j`` =
precinct, ``c`` = column, ``n`` = level (the n-th team in range), ``r`` = crew role, ``f`` =
fiscal year. A column is either a tour whose teams are the same every day of the week
(``teams_by: tour``: one team there works every (day, tour) slot of the tour) or one (day,
tour) slot (``teams_by: day_and_tour``). No Pyomo here: :mod:`bheard.model.buildout` builds the
model from these arrays.

Coverage enters through :class:`CoverageGains` only: per precinct, column and level the
(non-increasing) covered calls/year of the n-th team in range, and which precincts' teams are
in range (None = a precinct's own teams only). Any coverage model that can state its value
this way (the isolated Erlang-B increments, MEXCLP/AMEXCLP at fixed busy probabilities, ...)
plugs in unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass

import numpy as np

from bheard.costs import program_fixed_usd_per_year, role_fte_per_team_slot, team_budget_usd
from bheard.errors import InputError
from bheard.problem.slots import ProblemData
from bheard.scenario.checks import PERIODS_PER_YEAR, period_index, period_labels
from bheard.scenario.schema import CostSettings


@dataclass(frozen=True, eq=False)
class CoverageGains:
    """A coverage model as concave per-level gains (what the shared builder consumes).

    ``gains`` (P, S, L) or, per period, (T, P, S, L): covered eligible calls/year of the n-th
    team in range of precinct i in slot s, non-increasing in n; ``reach`` (S, P, P) bool,
    ``reach[s, i, j]``: a team based in j counts for i in slot s (None = own teams only).
    ``model`` names the coverage model in words.
    """

    gains: np.ndarray
    reach: np.ndarray | None
    model: str

    def __post_init__(self):
        g = np.asarray(self.gains, dtype=float)
        if g.ndim not in (3, 4):
            raise ValueError("CoverageGains.gains must be (P, S, L) or (T, P, S, L)")
        if (np.diff(g, axis=-1) > 1e-9 * max(1.0, float(np.abs(g).max(initial=0.0)))).any():
            raise ValueError("CoverageGains.gains must not increase with the level")
        object.__setattr__(self, "gains", g)


@dataclass(frozen=True)
class FloorRule:
    """A lower bound on teams from period ``first`` on: ``teams`` (P, C); ``label`` names the
    scenario field behind it (for diagnoses)."""

    label: str
    first: int
    teams: np.ndarray


@dataclass(frozen=True, eq=False)
class BuildoutData:
    """Arrays of one buildout problem (units in the names; see the module docstring).

    Columns: ``column_tour``/``column_day`` (C,) ("" = every day of the tour),
    ``column_slots`` the steady-state slot indices each column stands for,
    ``column_cost_usd_per_week`` (C,) USD a week of one team on the column,
    ``column_fte`` (R, C) FTE of each role per team on the column (same FTE/relief rule as the
    steady-state model, :func:`bheard.costs.role_fte_per_team_slot`).
    Coverage: ``gains`` (T, P, C, L) calls/year, ``reach`` (C, P, P) or None.
    Time: ``period_label`` (T,), ``period_fy`` (T,) index into ``fiscal_year`` (F,),
    ``period_weeks`` weeks per period, ``period_weight`` (T,) years x discount factor (the
    objective counts calls covered in each period), ``budget_usd`` (F,) money for teams per
    fiscal year.
    Workforce: ``role_names`` (R,), ``hire_cap`` (R, T) trained FTE who can join at the start
    of period t+1 from training during period t (inf = no limit), ``survival`` (R,) share of
    staff still there one period later, ``start_headcount`` (R,) trained FTE at the start,
    ``role_cap`` (R,) ``workforce.max_headcount`` (inf = none), ``bench_usd_per_fte_year``
    (R,) pay of a trained person not on a team, ``train_usd_per_hire`` (R,).
    Floors and limits: ``start_teams`` (P, C); ``allow_reductions``; ``floors`` milestones and
    the scenario's minimum staffing (final period); ``max_teams`` (P, C); ``column_cap`` (C,)
    citywide teams per column (inf = none); ``ramp_cap`` (C, T) teams added per period (inf).
    """

    precinct: np.ndarray
    borough: np.ndarray
    column_tour: np.ndarray
    column_day: np.ndarray
    column_slots: tuple
    slot_day: np.ndarray
    slot_tour: np.ndarray
    column_cost_usd_per_week: np.ndarray
    column_fte: np.ndarray
    max_teams: np.ndarray
    column_cap: np.ndarray
    column_cap_label: np.ndarray
    gains: np.ndarray
    reach: np.ndarray | None
    eligible_calls_per_year: np.ndarray
    coverage_model: str
    period_label: np.ndarray
    period_start: np.ndarray
    period_fy: np.ndarray
    period_weeks: float
    weeks_per_year: float
    period_weight: np.ndarray
    fiscal_year: np.ndarray
    budget_usd: np.ndarray
    role_names: tuple
    hire_cap: np.ndarray
    survival: np.ndarray
    start_headcount: np.ndarray
    role_cap: np.ndarray
    bench_usd_per_fte_year: np.ndarray
    train_usd_per_hire: np.ndarray
    start_teams: np.ndarray
    allow_reductions: bool
    floors: tuple = ()
    ramp_cap: np.ndarray | None = None
    ramp_label: np.ndarray | None = None
    hire_cap_label: tuple = ()
    notes: tuple = ()
    budget_per: str = "period"

    def __post_init__(self):
        P, C = self.max_teams.shape
        T = len(self.period_label)
        R = len(self.role_names)
        g = np.asarray(self.gains, dtype=float)
        if g.ndim == 3:
            g = np.broadcast_to(g, (T,) + g.shape)
        object.__setattr__(self, "gains", g)
        if self.ramp_cap is None:
            object.__setattr__(self, "ramp_cap", np.full((C, T), np.inf))
        if self.ramp_label is None:
            object.__setattr__(self, "ramp_label", np.array([""] * C, dtype=object))
        for name, shape in (("gains", (T, P, C)), ("start_teams", (P, C)),
                            ("column_fte", (R, C)), ("hire_cap", (R, T)), ("survival", (R,)),
                            ("start_headcount", (R,)), ("role_cap", (R,)),
                            ("column_cost_usd_per_week", (C,)), ("column_cap", (C,)),
                            ("eligible_calls_per_year", (P, C)), ("ramp_cap", (C, T)),
                            ("period_weight", (T,)), ("period_fy", (T,))):
            got = np.shape(getattr(self, name))[:len(shape)]
            if got != shape:
                raise ValueError(f"BuildoutData.{name} must have shape {shape}, got {got}")

    # ---- sizes and derived arrays ----------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """(T, P, C): periods, precincts, columns."""
        return len(self.period_label), self.max_teams.shape[0], self.max_teams.shape[1]

    @property
    def period_years(self) -> float:
        """Length of one period in years."""
        return self.period_weeks / self.weeks_per_year

    @property
    def column_label(self) -> np.ndarray:
        """(C,) "day" (a tour, every day) or "Mon day" (one slot)."""
        return np.array([t if not d else f"{d} {t}" for d, t in zip(self.column_day,
                                                                    self.column_tour)],
                        dtype=object)

    @property
    def column_shifts_per_week(self) -> np.ndarray:
        """(C,) team-shifts a week of one team on the column."""
        return np.array([len(s) for s in self.column_slots], dtype=np.int64)

    def budget_rows(self) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
        """The spending limits: (periods of each row, USD limit of each row, label). One row per
        period (``budget_per: period``: the period's share of its fiscal year's budget) or per
        fiscal year (``budget_per: fiscal_year``)."""
        if self.budget_per == "fiscal_year":
            groups = [np.flatnonzero(self.period_fy == f) for f in range(len(self.fiscal_year))]
            return (groups, np.asarray(self.budget_usd, dtype=float),
                    [f"{f} (buildout.budget_usd_by_fiscal_year)" for f in self.fiscal_year])
        groups = [np.array([t]) for t in range(len(self.period_label))]
        share = self.period_weeks / self.weeks_per_year
        limits = np.asarray(self.budget_usd, dtype=float)[self.period_fy] * share
        return groups, limits, [f"{lab} ({share:.3g} of the {self.fiscal_year[f]} budget,"
                                " buildout.budget_per: period)"
                                for lab, f in zip(self.period_label, self.period_fy)]

    def headcount_cap(self) -> np.ndarray:
        """(R, T) most trained FTE a period may have: ``workforce.max_headcount``, or what is
        left of a larger starting headcount after attrition (nobody is laid off)."""
        T = len(self.period_label)
        left = self.start_headcount[:, None] * self.survival[:, None] ** np.arange(T)[None]
        return np.maximum(self.role_cap[:, None], left)

    def team_cost_per_period(self) -> np.ndarray:
        """(C,) USD one team on the column costs in one period."""
        return self.column_cost_usd_per_week * self.period_weeks

    def floor_path(self) -> np.ndarray:
        """(T, P, C) fewest teams each period may have: the floors in force (milestones from
        their period on, the scenario's minimum staffing in the final period) and, unless
        reductions are allowed, never fewer than the period before (starting deployment
        first)."""
        T, P, C = self.shape
        out = np.zeros((T, P, C), dtype=np.int64)
        for rule in self.floors:
            out[rule.first:] = np.maximum(out[rule.first:], rule.teams[None])
        if not self.allow_reductions:
            out = np.maximum.accumulate(np.concatenate([self.start_teams[None], out]), axis=0)[1:]
        return out


# ----------------------------------------------------------------------------------------
# building it from a scenario
# ----------------------------------------------------------------------------------------
def columns_of(prob: ProblemData, teams_by: str) -> list[np.ndarray]:
    """Slot indices of each column: every open slot of a tour (``tour``), or each slot."""
    S = prob.shape[1]
    if teams_by == "day_and_tour":
        return [np.array([s]) for s in range(S)]
    open_ = (prob.max_teams > 0).any(axis=0)
    tours = list(dict.fromkeys(prob.slot_tour.tolist()))
    cols = [np.flatnonzero((prob.slot_tour == t) & open_) for t in tours]
    return [c for c in cols if c.size]


def aggregate_gains(gains: np.ndarray, cols: list[np.ndarray]) -> np.ndarray:
    """(..., P, C, L) gains of a column: the sum over its slots (the same teams every day).

    Each slot's gains fall with the level, so their sum does too."""
    return np.stack([gains[..., c, :].sum(axis=-2) for c in cols], axis=-2)


def aggregate_reach(reach: np.ndarray | None, cols: list[np.ndarray]) -> np.ndarray | None:
    """(C, P, P) reach of a column: a team counts for i only if it does on every slot."""
    if reach is None:
        return None
    return np.stack([reach[c].all(axis=0) for c in cols])


def to_columns(slot_teams: np.ndarray, cols: list[np.ndarray], how: str = "max") -> np.ndarray:
    """(..., P, C) from (..., P, S) slot values: max (or min, or sum) over each column's slots."""
    f = {"max": np.max, "min": np.min, "sum": np.sum}[how]
    return np.stack([f(slot_teams[..., c], axis=-1) for c in cols], axis=-1)


def to_slots(col_teams: np.ndarray, cols: list[np.ndarray], n_slots: int) -> np.ndarray:
    """(..., P, S) teams per slot of a (..., P, C) column plan (closed slots get 0)."""
    out = np.zeros(col_teams.shape[:-1] + (n_slots,), dtype=col_teams.dtype)
    for c, sl in enumerate(cols):
        out[..., sl] = col_teams[..., c:c + 1]
    return out


def bench_cost_per_fte_year(sc, role: str) -> float:
    """USD/year of a trained person of ``role`` not on a team: salary x (1 + mental-health
    differential) x (1 + fringe), read from the scenario's costs section or, with top-down
    team-shift prices, from the documented defaults of that section (``CostSettings``)."""
    c = sc.costs if sc.costs is not None else CostSettings()
    salary = c.salary_usd.get(role)
    if salary is None:
        return 0.0
    return float(salary * (1.0 + c.mental_health_differential.get(role, 0.0))
                 * (1.0 + c.fringe_rate))


def start_slots_from_plan(prob: ProblemData, precinct, day, label, start_hour, hours, teams,
                          where: str) -> tuple[np.ndarray, list[str]]:
    """(P, S) starting teams from a saved plan's arrays, matched by precinct number and
    (day, tour name); a tour must start at the same hour and last as long. Returns the teams
    and notes (e.g. precincts of the plan outside the scenario). Raises :class:`InputError`
    (naming ``where``) when the plan's tours do not match the scenario's."""
    P, S = prob.shape
    tour_hours = {}
    for s in range(S):
        tour_hours.setdefault(str(prob.slot_tour[s]), (float(prob.slot_start_how[s]) % 24.0,
                                                      float(prob.slot_hours[s])))
    pos_p = {int(p): i for i, p in enumerate(prob.precinct)}
    pos_s = {(str(d), str(t)): s for s, (d, t) in enumerate(zip(prob.slot_day, prob.slot_tour))}
    out = np.zeros((P, S), dtype=np.int64)
    teams = np.asarray(teams, dtype=np.int64)
    notes: list[str] = []
    outside = set()
    for c in range(teams.shape[1]):
        lab = str(label[c])
        if lab not in tour_hours:
            if teams[:, c].any():
                raise InputError.single(where, "tours", lab, "tour names of the scenario's"
                                        f" shifts.tours {sorted(tour_hours)} (the starting plan"
                                        " staffs a tour the scenario does not have)")
            continue
        h0, hl = tour_hours[lab]
        if abs(float(start_hour[c]) % 24.0 - h0) > 1e-9 or abs(float(hours[c]) - hl) > 1e-9:
            raise InputError.single(where, f"tours.{lab}", f"start {float(start_hour[c]):g} h,"
                                    f" {float(hours[c]):g} h long",
                                    f"the scenario's tour {lab}: start {h0:g} h, {hl:g} h long")
        s = pos_s.get((str(day[c]), lab))
        for i in np.flatnonzero(teams[:, c]):
            p = int(precinct[i])
            if p not in pos_p:
                outside.add(p)
                continue
            if s is None:
                raise InputError.single(where, f"{day[c]} {lab}", int(teams[i, c]),
                                        "slots the scenario has (the starting plan staffs a day"
                                        " the scenario's tour does not run)")
            out[pos_p[p], s] = teams[i, c]
    if outside:
        raise InputError.single(where, "precincts", sorted(outside), "precincts of the"
                                " scenario (the starting plan has teams in precincts the"
                                " buildout scenario leaves out)")
    return out, notes


def buildout_from_scenario(sc, prob: ProblemData, coverage: CoverageGains,
                           start_slots: np.ndarray | None = None) -> BuildoutData:
    """The buildout problem of scenario ``sc`` (with a ``buildout:`` section).

    ``prob``: its steady-state problem data; ``coverage``: the steady-state model's gains per
    slot; ``start_slots`` (P, S): today's teams per slot (None = no teams).
    """
    b = sc.buildout
    if b is None:
        raise InputError.single(sc.source, "buildout", None, "a buildout: section")
    P, S = prob.shape
    cols = columns_of(prob, b.teams_by)
    C = len(cols)
    notes: list[str] = []
    # ---- time ----------------------------------------------------------------------
    labels = period_labels(b.first_fiscal_year, b.fiscal_years, b.period)
    T = len(labels)
    per_year = PERIODS_PER_YEAR[b.period]
    W = float(sc.weeks_per_year)
    period_weeks = W / per_year
    years = np.arange(T) / per_year
    weight = (1.0 / per_year) * (1.0 + b.discount_rate_per_year) ** (-years)
    fys = np.array([f"FY{f % 100:02d}" for f in range(b.first_fiscal_year,
                                                      b.first_fiscal_year + b.fiscal_years)],
                   dtype=object)
    period_fy = np.repeat(np.arange(b.fiscal_years), per_year)
    months = 12 // per_year
    start = []
    for t in range(T):
        m = 6 + t * months  # months after 1 Jan of the year FY(first) starts in
        start.append(_dt.date(b.first_fiscal_year - 1 + m // 12, m % 12 + 1, 1).isoformat())
    # money for teams: each fiscal year's budget minus the program's fixed cost (as the
    # steady state, bheard.costs.team_budget_usd)
    if b.budget_usd_by_fiscal_year is None:
        budget = np.full(b.fiscal_years, team_budget_usd(sc))
    else:
        fixed = program_fixed_usd_per_year(sc.costs)
        budget = np.array([b.budget_usd_by_fiscal_year[f] - fixed for f in fys], dtype=float)
    # ---- columns -----------------------------------------------------------------------
    names, fte_slot = role_fte_per_team_slot(sc.workforce, sc.teams.crew, prob.slot_hours, W)
    fte = np.stack([fte_slot[:, c].sum(axis=1) for c in cols], axis=1) if C else \
        np.zeros((len(names), 0))
    cost_week = np.array([prob.slot_cost_usd[c].sum() for c in cols], dtype=float)
    max_teams = to_columns(prob.max_teams, cols, "min")
    caps = np.array([prob.slot_cap[c].min() for c in cols], dtype=float)
    cap_label = np.array([prob.slot_cap_label[c[int(np.argmin(prob.slot_cap[c]))]]
                          for c in cols], dtype=object)
    g = coverage.gains
    if g.ndim == 4 and g.shape[0] != T:
        raise ValueError(f"per-period gains need {T} periods, got {g.shape[0]}")
    gains = aggregate_gains(g, cols)
    reach = aggregate_reach(coverage.reach, cols)
    eligible = to_columns(prob.eligible_calls_per_year(), cols, "sum")
    # ---- start -------------------------------------------------------------------------
    start_cols = np.zeros((P, C), dtype=np.int64)
    if start_slots is not None:
        closed = np.ones(S, dtype=bool)
        for c in cols:
            closed[c] = False
        if start_slots[:, closed].any():
            raise InputError.single(sc.source, "buildout.starting_deployment",
                                    int(start_slots[:, closed].sum()),
                                    "teams only in slots the scenario runs (the starting plan"
                                    " staffs slots outside shifts.hours_of_operation)")
        start_cols = to_columns(np.asarray(start_slots, dtype=np.int64), cols, "max")
        if b.teams_by == "tour" and (to_columns(start_slots, cols, "min") != start_cols).any():
            notes.append("the starting plan's teams vary by day within a tour; each precinct"
                         " and tour starts from its most-staffed day (teams_by: tour)")
    # ---- workforce -----------------------------------------------------------------------
    R = len(names)
    hire_cap = np.full((R, T), np.inf)
    survival = np.ones(R)
    hire_label = []
    for k, r in enumerate(names):
        pipe = b.pipelines.get(r)
        if pipe is None:
            hire_label.append(f"{r} (no pipeline given: no hiring limit)")
            continue
        survival[k] = (1.0 - pipe.attrition_per_year) ** (1.0 / per_year)
        if pipe.cohort_size is not None:
            at_once = np.broadcast_to(np.asarray(pipe.cohorts_at_once, dtype=float), (T,))
            hire_cap[k] = pipe.cohort_size * at_once * period_weeks / pipe.training_weeks
            hire_label.append(f"buildout.pipelines.{r} (cohorts of {pipe.cohort_size:g},"
                              f" {_at_once(pipe.cohorts_at_once)} at once, {pipe.training_weeks:g}"
                              f"-week training: {hire_cap[k].max():,.1f} FTE a period at most)")
        else:
            hire_label.append(f"buildout.pipelines.{r} (no cohort size: no hiring limit)")
    need0 = fte @ start_cols.sum(axis=0) if C else np.zeros(R)
    start_hc = np.array([(b.starting_headcount or {}).get(r, need0[k])
                         for k, r in enumerate(names)], dtype=float)
    role_cap = np.array([sc.workforce.max_headcount.get(r, np.inf) for r in names], dtype=float)
    bench = np.array([(b.bench_cost_usd_per_fte_year or {}).get(r, bench_cost_per_fte_year(sc, r))
                      for r in names], dtype=float)
    train = np.array([b.training_cost_usd_per_hire.get(r, 0.0) for r in names], dtype=float)
    # ---- floors and ramp limits --------------------------------------------------------
    floors = []
    final_min = to_columns(prob.min_teams, cols, "max") if C else np.zeros((P, 0), np.int64)
    if final_min.any():
        floors.append(FloorRule(f"{prob.min_teams_label} (the target state: final period"
                                f" {labels[-1]})", T - 1, final_min))
    pos_p = {int(p): i for i, p in enumerate(prob.precinct)}
    for k, m in enumerate(b.milestones):
        teams = np.zeros((P, C), dtype=np.int64)
        in_tours = np.array([m.tours is None or str(t) in m.tours
                             for t in (prob.slot_tour[c[0]] for c in cols)], dtype=bool)
        teams[:, in_tours] = m.min_teams_every_precinct
        for p, n in m.min_teams.items():
            if p not in pos_p:
                raise InputError.single(sc.source, f"buildout.milestones[{k}].min_teams.{p}", p,
                                        "a precinct of the scenario's precincts")
            teams[pos_p[p], in_tours] = np.maximum(teams[pos_p[p], in_tours], n)
        what = m.name or ("every precinct" if m.min_teams_every_precinct else "named precincts")
        floors.append(FloorRule(f"buildout.milestones[{k}] ({what} by {m.by})",
                                period_index(m.by, labels), teams))
    ramp = np.full((C, T), np.inf)
    ramp_label = np.array([""] * C, dtype=object)
    col_tour = np.array([prob.slot_tour[c[0]] for c in cols], dtype=object)
    for tname, tr in b.tours.items():
        m = col_tour == tname
        ramp[m] = tr.max_added_teams_per_period
        ramp_label[m] = f"buildout.tours.{tname}.max_added_teams_per_period"
    return BuildoutData(
        precinct=prob.precinct, borough=prob.borough, column_tour=col_tour,
        column_day=np.array(["" if b.teams_by == "tour" else prob.slot_day[c[0]] for c in cols],
                            dtype=object),
        column_slots=tuple(cols), slot_day=prob.slot_day, slot_tour=prob.slot_tour,
        column_cost_usd_per_week=cost_week, column_fte=fte, max_teams=max_teams,
        column_cap=caps, column_cap_label=cap_label, gains=gains, reach=reach,
        eligible_calls_per_year=eligible, coverage_model=coverage.model,
        period_label=np.array(labels, dtype=object), period_start=np.array(start, dtype=object),
        period_fy=period_fy, period_weeks=period_weeks, weeks_per_year=W, period_weight=weight,
        fiscal_year=fys, budget_usd=budget, role_names=tuple(names), hire_cap=hire_cap,
        survival=survival, start_headcount=start_hc, role_cap=role_cap,
        bench_usd_per_fte_year=bench, train_usd_per_hire=train, start_teams=start_cols,
        allow_reductions=b.allow_reductions, floors=tuple(floors), ramp_cap=ramp,
        ramp_label=ramp_label, hire_cap_label=tuple(hire_label), notes=tuple(notes),
        budget_per=b.budget_per)


def _at_once(v) -> str:
    if isinstance(v, tuple):
        lo, hi = min(v), max(v)
        return f"{lo}" if lo == hi else f"{lo}-{hi}"
    return str(v)


def with_unlimited_hiring(data: BuildoutData) -> BuildoutData:
    """The same problem with no hiring limit in any pipeline (for comparisons)."""
    return dataclasses.replace(data, hire_cap=np.full_like(data.hire_cap, np.inf))


__all__ = [
    "BuildoutData",
    "CoverageGains",
    "FloorRule",
    "aggregate_gains",
    "aggregate_reach",
    "bench_cost_per_fte_year",
    "buildout_from_scenario",
    "columns_of",
    "start_slots_from_plan",
    "to_columns",
    "to_slots",
    "with_unlimited_hiring",
]
