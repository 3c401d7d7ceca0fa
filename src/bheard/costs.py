"""Bottom-up team cost, the program's fixed cost, and headcount (formulas and sources:
``models/workforce_cost.md``).

Cost of one team working one tour of ``h`` hours (USD), tour shift differential ``d_t``:

.. math::
    c_t = (1 + o)\\Big[\\underbrace{\\sum_r n_r h \\frac{S_r (1 + m_r)(1 + d_t)}{H}
          \\cdot\\frac{1 + f}{\\pi}}_{\\text{crew}}
        + \\underbrace{\\sum_k s_k h \\frac{S_k (1 + d_t)}{H}\\cdot\\frac{1 + f}{\\pi}}_{
          \\text{supervision}}
        + \\underbrace{\\sum_r n_r \\frac{h}{H \\pi}\\, a\\, \\frac{w H}{52}
          \\frac{S_r}{H}(1 + f)}_{\\text{training}} + v\\Big]

with ``n_r`` persons of role r per team, ``S_r`` salary (USD/year), ``m_r`` the mental-health
differential, ``H`` paid hours per FTE (2,088), ``f`` the fringe rate, ``pi`` the productive
share of paid hours (relief: someone is paid while the post-holder is on leave or in
training), ``s_k`` supervisors of title k on duty per team on duty, ``a`` the annual
attrition, ``w`` weeks of training per hire, ``v`` vehicle and fuel per shift, ``o`` the
agency's indirect cost rate.

Program-level cost is FIXED (USD/year, independent of the number of team-shifts):
``F = (1 + o)[sum_p FTE_p S_p (1 + f) + other]``; the money left for teams is the budget
minus ``F`` (:func:`team_budget_usd`).

Headcount: a team staffed in a weekly slot of ``h`` hours for ``W`` weeks needs
``n_r h W / (H pi)`` FTE of role r. Cost and headcount are linear in the number of teams, so
budgets and role caps are linear constraints of the optimisation.

This module reads scenario settings duck-typed (no import of :mod:`bheard.scenario`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bheard.constants import ROLES

#: the cost components of one team-shift, in the order they are reported
SHIFT_COMPONENTS = ("crew_base_pay", "mental_health_differential", "shift_differential",
                    "relief", "fringe", "supervision", "training", "vehicle", "overhead")


@dataclass(frozen=True)
class ShiftCost:
    """Cost of one team-shift, USD: crew labour by role (pay with its differentials, relief and
    fringe), supervision, training, vehicle and the agency's overhead on all of them.

    ``components_usd`` itemizes the same total by :data:`SHIFT_COMPONENTS`.
    """

    labour_by_role_usd: dict[str, float]
    vehicle_usd: float
    overhead_usd: float
    supervision_usd: float = 0.0
    training_usd: float = 0.0
    components_usd: dict[str, float] = field(default_factory=dict)

    @property
    def labour_usd(self) -> float:
        return float(sum(self.labour_by_role_usd.values()))

    @property
    def total_usd(self) -> float:
        return (self.labour_usd + self.supervision_usd + self.training_usd + self.vehicle_usd
                + self.overhead_usd)


def tour_differential(costs, start_hour: float, hours: float) -> float:
    """Shift differential of a tour by its midpoint: night 00-07, evening 17-24, else 0."""
    mid = (start_hour + hours / 2.0) % 24.0
    if mid < 7.0:
        return float(costs.night_differential)
    if mid >= 17.0:
        return float(costs.evening_differential)
    return 0.0


def crew_sizes(crew) -> dict[str, int]:
    """Persons per team by role (``ROLES`` order), from a :class:`bheard.scenario.Crew`."""
    return {r: int(getattr(crew, r)) for r in ROLES}


@dataclass(frozen=True)
class ShiftTime:
    """When a shift starts (hours after midnight) and how long it lasts (hours)."""

    start_hour: float
    hours: float


def _supervision(costs) -> tuple[dict[str, float], dict[str, float]]:
    """(supervisors per team, salary USD/year) by title; empty for settings without them."""
    return (dict(getattr(costs, "supervisors_per_team", {}) or {}),
            dict(getattr(costs, "supervisor_salary_usd", {}) or {}))


def team_shift_cost(costs, workforce, crew, shift) -> ShiftCost:
    """Bottom-up cost of one team working one shift (anything with ``start_hour`` and
    ``hours``: a :class:`bheard.scenario.Tour` or a :class:`ShiftTime`), itemized."""
    h = float(shift.hours)
    H = float(workforce.paid_hours_per_fte)
    pi = float(workforce.productive_share)
    f = float(costs.fringe_rate)
    diff = tour_differential(costs, shift.start_hour, h)
    attrition = float(getattr(costs, "annual_attrition", 0.0))
    weeks = float(getattr(costs, "training_weeks_per_hire", 0.0))
    comp = dict.fromkeys(SHIFT_COMPONENTS, 0.0)
    labour: dict[str, float] = {}
    training = 0.0
    for role, n in crew_sizes(crew).items():
        if n == 0:
            continue
        if role not in costs.salary_usd:
            raise ValueError(f"costs.salary_usd has no salary for role {role!r} in the crew")
        salary = float(costs.salary_usd[role])
        m = float(costs.mental_health_differential.get(role, 0.0))
        base = n * h * salary / H
        on_post = base * (1.0 + m) * (1.0 + diff)
        comp["crew_base_pay"] += base
        comp["mental_health_differential"] += base * m
        comp["shift_differential"] += base * (1.0 + m) * diff
        comp["relief"] += on_post * (1.0 / pi - 1.0)
        comp["fringe"] += on_post / pi * f
        labour[role] = on_post * (1.0 + f) / pi
        # hires a year per team-shift a year = FTE (n h / (H pi)) x attrition; each is paid
        # ``weeks`` x H/52 hours of training at base pay, with fringe
        training += n * h / (H * pi) * attrition * weeks * (H / 52.0) * salary / H * (1.0 + f)
    per_team, sup_salary = _supervision(costs)
    supervision = sum(k * h * sup_salary[t] * (1.0 + diff) / H * (1.0 + f) / pi
                      for t, k in per_team.items())
    vehicle = float(costs.vehicle_usd_per_shift)
    direct = sum(labour.values()) + supervision + training + vehicle
    overhead = direct * float(costs.overhead_rate)
    comp.update(supervision=supervision, training=training, vehicle=vehicle, overhead=overhead)
    return ShiftCost(labour, vehicle, overhead, supervision, training,
                     {k: float(v) for k, v in comp.items()})


def program_cost_lines(costs) -> dict[str, float]:
    """The program's fixed cost, USD/year, one line per ``program_staff`` position (FTE x
    salary x (1 + fringe)) plus ``program_other``, each with the agency overhead; empty when
    there is no ``costs`` section or no program line."""
    if costs is None:
        return {}
    f, o = float(costs.fringe_rate), float(costs.overhead_rate)
    out = {name: float(p.fte * p.salary_usd * (1.0 + f) * (1.0 + o))
           for name, p in (getattr(costs, "program_staff", {}) or {}).items()}
    other = float(getattr(costs, "program_other_usd_per_year", 0.0) or 0.0)
    if other:
        out["program_other"] = other * (1.0 + o)
    return out


def program_fixed_usd_per_year(costs) -> float:
    """Total fixed program cost, USD/year (0 without a ``costs`` section)."""
    return float(sum(program_cost_lines(costs).values()))


def team_budget_usd(scenario) -> float:
    """USD/year left for teams: ``budget.annual_usd`` x ``crisis_team_share`` (if given) minus
    the program's fixed cost. It may be negative (a budget below the fixed cost): the models
    then report the scenario infeasible with a diagnosis, as for any budget too small."""
    return float(scenario.budget.team_budget_usd) - program_fixed_usd_per_year(scenario.costs)


@dataclass(frozen=True)
class AnnualCost:
    """Annual cost of a fleet: team-shift components and fixed program lines, USD/year."""

    team_shifts_per_year: float
    components_usd: dict[str, float]
    program_lines_usd: dict[str, float]

    @property
    def team_shift_cost_usd(self) -> float:
        return float(sum(self.components_usd.values()))

    @property
    def program_fixed_usd(self) -> float:
        return float(sum(self.program_lines_usd.values()))

    @property
    def total_usd(self) -> float:
        return self.team_shift_cost_usd + self.program_fixed_usd

    @property
    def usd_per_team_shift(self) -> float:
        """Everything (program lines included) divided by the team-shifts, USD."""
        return self.total_usd / self.team_shifts_per_year if self.team_shifts_per_year else 0.0


def annual_cost(costs, workforce, crew, teams_by_shift, days_per_year: float = 365.0
                ) -> AnnualCost:
    """Annual cost of running ``teams`` teams on each shift every day (``teams_by_shift``:
    pairs of (shift, teams), a shift being anything with ``start_hour`` and ``hours``)."""
    comp = dict.fromkeys(SHIFT_COMPONENTS, 0.0)
    n_shifts = 0.0
    for shift, teams in teams_by_shift:
        c = team_shift_cost(costs, workforce, crew, shift)
        k = float(teams) * days_per_year
        n_shifts += k
        for name, v in c.components_usd.items():
            comp[name] += k * v
    return AnnualCost(n_shifts, comp, program_cost_lines(costs))


def shift_cost_usd(scenario, label: str, start_hour: float, hours: float, *,
                   staggered: bool = False) -> float:
    """USD per team-shift of one column of the plan: a tour (``label`` = tour name) or, with
    ``staggered``, a staggered start (``label`` = "HH:00").

    Top-down values come first: ``shifts.staggered.cost_per_team_shift_usd`` (staggered
    starts), then ``teams.cost_per_team_shift_usd`` (one value, or one per tour name);
    otherwise the bottom-up ``costs`` section priced for a shift starting at ``start_hour``.
    """
    st = scenario.shifts.staggered
    c = st.cost_per_team_shift_usd if (staggered and st is not None) else None
    if c is None:
        c = scenario.teams.cost_per_team_shift_usd
    if isinstance(c, dict):
        return float(c[label])
    if c is not None:
        return float(c)
    return team_shift_cost(scenario.costs, scenario.workforce, scenario.teams.crew,
                           ShiftTime(float(start_hour), float(hours))).total_usd


def role_fte_per_team_slot(workforce, crew, slot_hours: np.ndarray, weeks_per_year: float
                           ) -> tuple[tuple[str, ...], np.ndarray]:
    """Roles in the crew and (R, S) FTE of each per team staffed in each weekly slot.

    ``FTE = persons per team x slot hours x weeks/year / (paid hours per FTE x productive
    share)``: the productive share is the relief (someone is paid while the post-holder is on
    leave or in training), the same factor the bottom-up cost uses.
    """
    sizes = {r: n for r, n in crew_sizes(crew).items() if n > 0}
    names = tuple(sizes)
    per_person = (np.asarray(slot_hours, dtype=float) * weeks_per_year
                  / (workforce.paid_hours_per_fte * workforce.productive_share))
    return names, np.array([sizes[r] * per_person for r in names]).reshape(len(names), -1)


def headcount_by_tour(workforce, crew, weeks_per_year: float, slot_hours: np.ndarray,
                      slot_tour: np.ndarray, teams: np.ndarray) -> pd.DataFrame:
    """THE headcount of a plan: one row per tour (in order of first appearance) and a total.

    Columns: ``tour``, ``team_shifts_per_week``, ``team_hours_per_year`` (hours), one
    ``<role>_fte`` per crew role and ``total_fte`` (FTE, :func:`role_fte_per_team_slot`).
    Plan, CLI and report all read this table; nothing recomputes it.
    """
    teams = np.asarray(teams)
    names, fte = role_fte_per_team_slot(workforce, crew, slot_hours, weeks_per_year)
    per_slot = teams.sum(axis=0) if teams.size else np.zeros(len(slot_hours))
    tours = list(dict.fromkeys(np.asarray(slot_tour).tolist()))
    rows = []
    for t in tours:
        m = np.asarray(slot_tour) == t
        row = {"tour": t, "team_shifts_per_week": int(per_slot[m].sum()),
               "team_hours_per_year": float((per_slot[m] * np.asarray(slot_hours)[m]).sum()
                                            * weeks_per_year)}
        for k, r in enumerate(names):
            row[f"{r}_fte"] = float(fte[k][m] @ per_slot[m])
        rows.append(row)
    df = pd.DataFrame(rows, columns=["tour", "team_shifts_per_week", "team_hours_per_year"]
                      + [f"{r}_fte" for r in names])
    total = {c: df[c].sum() for c in df.columns if c != "tour"}
    total["tour"] = "total"
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["team_shifts_per_week"] = df["team_shifts_per_week"].astype(int)
    df["total_fte"] = df[[f"{r}_fte" for r in names]].sum(axis=1) if names else 0.0
    return df


def fte_by_role(headcount: pd.DataFrame) -> dict[str, float]:
    """Role -> FTE from the total row of :func:`headcount_by_tour`."""
    total = headcount[headcount["tour"] == "total"].iloc[0]
    return {c[:-4]: float(total[c]) for c in headcount.columns
            if c.endswith("_fte") and c != "total_fte"}


def cost_breakdown(scenario, slot_labels, slot_start_hour: np.ndarray, slot_hours: np.ndarray,
                   teams: np.ndarray) -> dict[str, float] | None:
    """USD/year of a plan's team-shifts split into labour by role, supervision, training,
    vehicles and overhead (bottom-up costs); ``total_usd`` is their sum, the plan's
    ``annual_cost``. The program's fixed cost is not in it (:func:`program_cost_lines`).

    None when the scenario prices team-shifts top-down (no breakdown exists).
    """
    if scenario.costs is None:
        return None
    per_slot = np.asarray(teams).sum(axis=0) * scenario.weeks_per_year
    out: dict[str, float] = {}
    for s in range(len(slot_labels)):
        c = team_shift_cost(scenario.costs, scenario.workforce, scenario.teams.crew,
                            ShiftTime(float(slot_start_hour[s]) % 24.0, float(slot_hours[s])))
        for r, v in c.labour_by_role_usd.items():
            out[f"labour_{r}_usd"] = out.get(f"labour_{r}_usd", 0.0) + per_slot[s] * v
        out["supervision_usd"] = out.get("supervision_usd", 0.0) + per_slot[s] * c.supervision_usd
        out["training_usd"] = out.get("training_usd", 0.0) + per_slot[s] * c.training_usd
        out["vehicles_usd"] = out.get("vehicles_usd", 0.0) + per_slot[s] * c.vehicle_usd
        out["overhead_usd"] = out.get("overhead_usd", 0.0) + per_slot[s] * c.overhead_usd
    out["total_usd"] = float(sum(out.values()))
    return {k: float(v) for k, v in out.items()}
