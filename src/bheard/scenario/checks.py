"""Checks of a schema-valid scenario against the shipped data and across sections.

Each check returns :class:`bheard.errors.Problem` entries (empty = fine); :func:`problems`
runs them all. They read the scenario duck-typed (no import of the schema), so the schema can
call them from :meth:`Scenario.with_overrides` without an import cycle.
"""

from __future__ import annotations

from pathlib import Path

from bheard.constants import ROLES
from bheard.data import precincts as precinct_table
from bheard.errors import Problem
from bheard.scenario.hours import slot_open, slot_times, start_options


def problems(s) -> list[Problem]:
    """Every problem of a scenario that the schema alone cannot see."""
    return (precinct_problems(s) + file_problems(s) + shift_problems(s) + cost_problems(s)
            + uncertainty_problems(s) + buildout_problems(s))


def cost_problems(s) -> list[Problem]:
    """A bottom-up ``costs`` section must price every crew role that has people on the team."""
    costs = getattr(s, "costs", None)
    salary = getattr(costs, "salary_usd", None)
    if not isinstance(salary, dict):
        return []
    crew = s.teams.crew.model_dump()
    missing = [r for r, n in crew.items() if isinstance(n, (int, float)) and n > 0
               and r not in salary]
    if not missing:
        return []
    return [Problem("costs.salary_usd", dict(salary),
                    f"a salary (USD/year) for every crew role with people on the team;"
                    f" missing {missing} (teams.crew: "
                    + ", ".join(f"{r} {n}" for r, n in crew.items() if n) + ")")]


def precinct_problems(s) -> list[Problem]:
    """Every named precinct must exist (one of the 78) and appear once."""
    known = set(precinct_table()["precinct"].astype(int))
    out: list[Problem] = []
    if isinstance(s.precincts, tuple):
        for i, p in enumerate(s.precincts):
            if p not in known:
                out.append(Problem(f"precincts[{i}]", p, "an NYPD precinct number (one of the 78)"))
        if len(set(s.precincts)) != len(s.precincts):
            out.append(Problem("precincts", list(s.precincts), "no repeated precinct"))
    for p in s.limits.min_teams:
        if p not in known:
            out.append(Problem(f"limits.min_teams.{p}", p, "an NYPD precinct number"))
    if s.demand.prior is not None:
        for p in s.demand.prior.uplift:
            if p not in known:
                out.append(Problem(f"demand.prior.uplift.{p}", p, "an NYPD precinct number"))
    return out


def file_problems(s) -> list[Problem]:
    """Files the scenario names must exist and be regular files (a folder for call records),
    not devices or pipes, and tables must be of reasonable size (:mod:`bheard.limits`)."""
    from bheard.limits import max_table_bytes

    out: list[Problem] = []
    cap = max_table_bytes()
    for field, path, folder_ok in (
            ("demand.table", s.demand.table, False),
            ("demand.forecast.history", s.demand.forecast.history if s.demand.forecast else None,
             True),
            ("demand.uncertainty.file",
             s.demand.uncertainty.file if s.demand.uncertainty is not None else None, False),
            ("geography.travel_times", s.geography.travel_times, False)):
        if path is None:
            continue
        p = Path(path)
        if not p.exists():
            out.append(Problem(field, str(path), "an existing file (relative paths resolve"
                               " against the scenario file's folder)"))
        elif not (p.is_file() or (folder_ok and p.is_dir())):
            out.append(Problem(field, str(path), "a regular file" + (" or a folder of call"
                               " records" if folder_ok else "")))
        elif p.is_file() and not folder_ok and p.stat().st_size > cap:
            out.append(Problem(field, str(path), f"a table of at most {cap:,} bytes"
                               " (BHEARD_MAX_TABLE_BYTES)"))
    return out


def _plain(v):
    return {k: list(w) for k, w in v.items()} if isinstance(v, dict) else list(v)


def shift_problems(sc) -> list[Problem]:
    """``shifts.staggered`` / ``shifts.hours_of_operation`` against the rest of the scenario."""
    out: list[Problem] = []
    sh = sc.shifts
    hoo = sh.hours_of_operation
    if isinstance(hoo, dict) and not hoo:
        out.append(Problem("shifts.hours_of_operation", {}, "at least one day's window"))
    st = sh.staggered
    if st is None:
        if hoo is not None and not out:
            _, how, hours = slot_times(sh)
            if not slot_open(sh, how, hours).any():
                out.append(Problem("shifts.hours_of_operation", _plain(hoo),
                                   "a window that holds at least one (day, tour) of"
                                   " shifts.tours"))
        return out
    if sc.demand.table is not None:
        out.append(Problem("demand.table", str(sc.demand.table),
                           "prior or forecast demand with shifts.staggered: a demand table is"
                           " per (day, tour), the staggered model needs calls/hour by hour of"
                           " week"))
    if sc.coverage.mode != "isolated":
        out.append(Problem("coverage.mode", sc.coverage.mode,
                           "isolated with shifts.staggered (staggered starts use isolated"
                           " coverage only)"))
    if sc.equity.active:
        out.append(Problem("equity", "set", "no equity floors with shifts.staggered (not"
                           " implemented)"))
    if sc.workforce.max_headcount:
        out.append(Problem("workforce.max_headcount", dict(sc.workforce.max_headcount),
                           "no role caps with shifts.staggered (not implemented)"))
    if sc.limits.min_teams or sc.limits.min_teams_every_precinct:
        out.append(Problem("limits.min_teams" if sc.limits.min_teams
                           else "limits.min_teams_every_precinct",
                           dict(sc.limits.min_teams) or sc.limits.min_teams_every_precinct,
                           "no minimum staffing with shifts.staggered (not implemented)"))
    if isinstance(sc.limits.max_teams_per_tour, dict):
        out.append(Problem("limits.max_teams_per_tour", dict(sc.limits.max_teams_per_tour),
                           "one number with shifts.staggered (the citywide cap on teams on"
                           " duty in any hour)"))
    labels = [f"{h:02d}:00" for h in st.start_hours]
    c = st.cost_per_team_shift_usd
    if isinstance(c, dict):
        missing = [k for k in labels if k not in c]
        extra = [k for k in c if k not in labels]
        if missing or extra:
            out.append(Problem("shifts.staggered.cost_per_team_shift_usd", dict(c),
                               f"a cost for each start {labels}"
                               + (f"; missing {missing}" if missing else "")
                               + (f"; unknown starts {extra}" if extra else "")))
    elif c is None and isinstance(sc.teams.cost_per_team_shift_usd, dict):
        out.append(Problem("shifts.staggered.cost_per_team_shift_usd", "(missing)",
                           "a cost per team-shift (one value or per start) when"
                           " teams.cost_per_team_shift_usd is given per tour"))
    if not out and start_options(sh)[0].size == 0:
        out.append(Problem("shifts.staggered.starts", list(labels) if st.starts != "every_hour"
                           else "every_hour",
                           f"at least one start whose {st.hours}-hour shift lies inside"
                           " shifts.hours_of_operation on a day of shifts.days"))
    return out


def uncertainty_problems(sc) -> list[Problem]:
    """``demand.uncertainty`` against the rest of the scenario: the combinations the stochastic
    formulations implement (``models/stochastic.md``)."""
    u = sc.demand.uncertainty
    if u is None:
        return []
    out: list[Problem] = []
    if sc.shifts.staggered is not None:
        out.append(Problem("demand.uncertainty", "set", "no demand uncertainty with"
                           " shifts.staggered (not implemented: fixed tours only)"))
    shared = sc.coverage.mode == "shared"
    constrained = sc.equity.active or bool(sc.workforce.max_headcount)
    if u.objective == "cvar" and (shared or constrained):
        out.append(Problem("demand.uncertainty.objective", "cvar",
                           "expected with coverage.mode: shared, equity floors or"
                           " workforce.max_headcount (the CVaR objective is implemented for the"
                           " isolated model without them)"))
    if shared and constrained:
        out.append(Problem("demand.uncertainty", "set", "no equity floors or"
                           " workforce.max_headcount with coverage.mode: shared and demand"
                           " uncertainty (not implemented)"))
    return out


#: periods per fiscal year for each ``buildout.period``, and the label letter of a period
PERIODS_PER_YEAR = {"quarter": 4, "month": 12, "half": 2, "year": 1}
PERIOD_LETTER = {"quarter": "Q", "month": "M", "half": "H", "year": ""}


def period_labels(first_fiscal_year: int, fiscal_years: int, period: str) -> list[str]:
    """Labels of the horizon's periods: ``FY27Q1 .. FY29Q4`` (quarters), ``FY27M01 ..``
    (months, July = M01), ``FY27H1 ..`` (halves) or ``FY27 ..`` (years)."""
    n, letter = PERIODS_PER_YEAR[period], PERIOD_LETTER[period]
    out = []
    for f in range(first_fiscal_year, first_fiscal_year + fiscal_years):
        fy = f"FY{f % 100:02d}"
        if n == 1:
            out.append(fy)
        else:
            out += [f"{fy}{letter}{k:02d}" if letter == "M" else f"{fy}{letter}{k}"
                    for k in range(1, n + 1)]
    return out


def period_index(label: str, labels: list[str]) -> int | None:
    """Index of a milestone's ``by`` label among the horizon's periods: a plain ``FY29`` is
    the fiscal year's last period; None if the label is not in the horizon."""
    if label in labels:
        return labels.index(label)
    matches = [i for i, lab in enumerate(labels) if lab.startswith(label) and len(label) == 4]
    return matches[-1] if matches else None


def buildout_problems(sc) -> list[Problem]:
    """``buildout`` against the rest of the scenario: crew roles, tours, horizon, files."""
    b = getattr(sc, "buildout", None)
    if b is None:
        return []
    out: list[Problem] = []
    if sc.shifts.staggered is not None:
        out.append(Problem("buildout", "set", "fixed tours (a buildout with shifts.staggered is"
                           " not implemented)"))
    if sc.equity.active:
        out.append(Problem("buildout", "set", "no equity floors (a buildout with equity floors"
                           " is not implemented; use buildout.milestones)"))
    crew = [r for r in ROLES if getattr(sc.teams.crew, r, 0) > 0]
    for field in ("pipelines", "starting_headcount", "bench_cost_usd_per_fte_year",
                  "training_cost_usd_per_hire"):
        extra = [r for r in (getattr(b, field) or {}) if r not in crew]
        if extra:
            out.append(Problem(f"buildout.{field}", extra, f"roles of teams.crew {crew}"))
    labels = period_labels(b.first_fiscal_year, b.fiscal_years, b.period)
    for r, pipe in b.pipelines.items():
        c = pipe.cohorts_at_once
        if isinstance(c, tuple) and len(c) != len(labels):
            out.append(Problem(f"buildout.pipelines.{r}.cohorts_at_once", list(c),
                               f"one number, or one per period ({len(labels)} periods"
                               f" {labels[0]}..{labels[-1]})"))
    fys = [f"FY{f % 100:02d}" for f in range(b.first_fiscal_year,
                                              b.first_fiscal_year + b.fiscal_years)]
    if b.budget_usd_by_fiscal_year is not None:
        missing = [f for f in fys if f not in b.budget_usd_by_fiscal_year]
        extra = [f for f in b.budget_usd_by_fiscal_year if f not in fys]
        if missing or extra:
            out.append(Problem("buildout.budget_usd_by_fiscal_year",
                               dict(b.budget_usd_by_fiscal_year),
                               f"a budget for each fiscal year of the horizon {fys}"
                               + (f"; missing {missing}" if missing else "")
                               + (f"; outside the horizon {extra}" if extra else "")))
    tours = [t.name for t in sc.shifts.tours]
    extra = [t for t in b.tours if t not in tours]
    if extra:
        out.append(Problem("buildout.tours", extra, f"tour names of shifts.tours {tours}"))
    known = set(precinct_table()["precinct"].astype(int))
    for k, m in enumerate(b.milestones):
        where = f"buildout.milestones[{k}]"
        if period_index(m.by, labels) is None:
            out.append(Problem(f"{where}.by", m.by, f"a period of the horizon ({labels[0]} .."
                               f" {labels[-1]}) or a fiscal year {fys}"))
        bad = [t for t in (m.tours or ()) if t not in tours]
        if bad:
            out.append(Problem(f"{where}.tours", bad, f"tour names of shifts.tours {tours}"))
        for p in m.min_teams:
            if p not in known:
                out.append(Problem(f"{where}.min_teams.{p}", p, "an NYPD precinct number"))
        if not m.min_teams_every_precinct and not any(m.min_teams.values()):
            out.append(Problem(where, m.model_dump(exclude_defaults=True),
                               "min_teams_every_precinct or min_teams (a milestone that asks for"
                               " teams)"))
    st = b.starting_deployment
    if st is not None:
        if st.plan is not None and not Path(st.plan).is_dir():
            out.append(Problem("buildout.starting_deployment.plan", str(st.plan),
                               "a plan folder written by `bheard solve --out` (relative paths"
                               " resolve against the scenario file's folder)"))
        if st.scenario is not None and not Path(st.scenario).is_file():
            out.append(Problem("buildout.starting_deployment.scenario", str(st.scenario),
                               "an existing scenario file (relative paths resolve against the"
                               " scenario file's folder)"))
    return out
