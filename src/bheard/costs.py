"""Bottom-up team cost and headcount (formulas and sources: ``models/workforce_cost.md``).

Cost of one team working one tour of ``h`` hours (USD):

.. math::
    c_t = (1 + o)\\Big[v + \\sum_r n_r\\, h\\, \\frac{S_r (1 + m_r)(1 + d_t)}{H}
          \\cdot \\frac{1 + f}{\\pi}\\Big]

with ``n_r`` persons of role r per team, ``S_r`` salary (USD/year), ``m_r`` the mental-health
differential, ``d_t`` the tour's shift differential, ``H`` paid hours per FTE (2,088), ``f`` the
fringe rate, ``pi`` the productive share of paid hours (relief: someone must be paid while the
post-holder is on leave or in training), ``v`` vehicle and fuel per shift, ``o`` overhead.

Headcount: a team staffed in a weekly slot of ``h`` hours for ``W`` weeks needs
``n_r h W / (H pi)`` FTE of role r. Both are linear in the number of teams, so role caps are
linear constraints of the optimisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bheard.constants import ROLES


@dataclass(frozen=True)
class ShiftCost:
    """Cost of one team-shift, USD, split into labour by role, vehicle and overhead."""

    labour_by_role_usd: dict[str, float]
    vehicle_usd: float
    overhead_usd: float

    @property
    def labour_usd(self) -> float:
        return float(sum(self.labour_by_role_usd.values()))

    @property
    def total_usd(self) -> float:
        return self.labour_usd + self.vehicle_usd + self.overhead_usd


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


def team_shift_cost(costs, workforce, crew, shift) -> ShiftCost:
    """Bottom-up cost of one team working one shift (anything with ``start_hour`` and
    ``hours``: a :class:`bheard.scenario.Tour` or a :class:`ShiftTime`)."""
    diff = tour_differential(costs, shift.start_hour, shift.hours)
    loaded = (1.0 + costs.fringe_rate) / workforce.productive_share
    labour = {}
    for role, n in crew_sizes(crew).items():
        if n == 0:
            continue
        if role not in costs.salary_usd:
            raise ValueError(f"costs.salary_usd has no salary for role {role!r} in the crew")
        hourly = (costs.salary_usd[role] * (1.0 + costs.mental_health_differential.get(role, 0.0))
                  * (1.0 + diff) / workforce.paid_hours_per_fte)
        labour[role] = n * shift.hours * hourly * loaded
    direct = sum(labour.values()) + costs.vehicle_usd_per_shift
    return ShiftCost(labour, float(costs.vehicle_usd_per_shift), direct * costs.overhead_rate)


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
    """USD/year of a plan split into labour by role, vehicles and overhead (bottom-up costs).

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
        out["vehicles_usd"] = out.get("vehicles_usd", 0.0) + per_slot[s] * c.vehicle_usd
        out["overhead_usd"] = out.get("overhead_usd", 0.0) + per_slot[s] * c.overhead_usd
    out["total_usd"] = float(sum(out.values()))
    return {k: float(v) for k, v in out.items()}
