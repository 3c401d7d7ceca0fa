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

from bheard.scenario import ROLES


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


def team_shift_cost(costs, workforce, crew, tour) -> ShiftCost:
    """Bottom-up cost of one team working one ``tour`` (a :class:`bheard.scenario.Tour`)."""
    diff = tour_differential(costs, tour.start_hour, tour.hours)
    loaded = (1.0 + costs.fringe_rate) / workforce.productive_share
    labour = {}
    for role, n in crew_sizes(crew).items():
        if n == 0:
            continue
        if role not in costs.salary_usd:
            raise ValueError(f"costs.salary_usd has no salary for role {role!r} in the crew")
        hourly = (costs.salary_usd[role] * (1.0 + costs.mental_health_differential.get(role, 0.0))
                  * (1.0 + diff) / workforce.paid_hours_per_fte)
        labour[role] = n * tour.hours * hourly * loaded
    direct = sum(labour.values()) + costs.vehicle_usd_per_shift
    return ShiftCost(labour, float(costs.vehicle_usd_per_shift), direct * costs.overhead_rate)


def role_fte_per_team_slot(workforce, crew, slot_hours: np.ndarray, weeks_per_year: float
                           ) -> tuple[tuple[str, ...], np.ndarray]:
    """Roles in the crew and (R, S) FTE of each per team staffed in each weekly slot."""
    sizes = {r: n for r, n in crew_sizes(crew).items() if n > 0}
    names = tuple(sizes)
    per_person = (np.asarray(slot_hours, dtype=float) * weeks_per_year
                  / (workforce.paid_hours_per_fte * workforce.productive_share))
    return names, np.array([sizes[r] * per_person for r in names]).reshape(len(names), -1)


def headcount(scenario, slot_hours: np.ndarray, teams: np.ndarray) -> dict[str, float]:
    """FTE per role for a (P, S) plan (hours per slot ``slot_hours``)."""
    names, fte = role_fte_per_team_slot(scenario.workforce, scenario.teams.crew, slot_hours,
                                        scenario.weeks_per_year)
    per_slot = np.asarray(teams).sum(axis=0)
    return {r: float(fte[k] @ per_slot) for k, r in enumerate(names)}


def cost_breakdown(scenario, slot_tours, teams: np.ndarray) -> dict[str, float] | None:
    """USD/year of a (P, S) plan split into labour by role, vehicles and overhead.

    None when the scenario uses a top-down cost (no breakdown exists).
    """
    if scenario.costs is None:
        return None
    tours = {t.name: t for t in scenario.shifts.tours}
    per_slot = np.asarray(teams).sum(axis=0) * scenario.weeks_per_year
    out: dict[str, float] = {}
    for s, tname in enumerate(slot_tours):
        c = team_shift_cost(scenario.costs, scenario.workforce, scenario.teams.crew, tours[tname])
        for r, v in c.labour_by_role_usd.items():
            out[f"labour_{r}_usd"] = out.get(f"labour_{r}_usd", 0.0) + per_slot[s] * v
        out["vehicles_usd"] = out.get("vehicles_usd", 0.0) + per_slot[s] * c.vehicle_usd
        out["overhead_usd"] = out.get("overhead_usd", 0.0) + per_slot[s] * c.overhead_usd
    out["total_usd"] = float(sum(out.values()))
    return {k: float(v) for k, v in out.items()}
