"""Bottom-up team cost, headcount and role caps (bheard.costs)."""

from __future__ import annotations

import numpy as np
import pytest

import bheard
from bheard.costs import shift_cost_usd
from bheard.problem import problem_from_scenario
from bheard.costs import (cost_breakdown, fte_by_role, headcount_by_tour, role_fte_per_team_slot,
                          team_shift_cost)
from bheard.errors import InputError
from bheard.optimize.fixed_point import solve_shared
from helpers import shared_settings as SharedSettings
from bheard.scenario import CostSettings, Crew, Tour, WorkforceSettings, load_scenario
from bheard.scenario import SolverOptions as SolveOptions
from helpers import SCENARIOS, tiny_dict

DCS_CREW = Crew(emt=2, social_worker=1, peer=1)


def test_day_shift_cost_hand_computed():
    """Day tour, 2 EMT + SW + peer: 1.25 x ($100 + 8 h x (2 x 59,534 x 1.06 + 80,000 + 50,000)
    / 2,088 x 1.55 / 0.82) = $2,444.46 (S-emt-pay, S-mh-differential, S-paid-hours, S-hh-differential, S-fringe; A-shift-cost-bottom-up range
    $1,600-2,600 per shift)."""
    c = team_shift_cost(CostSettings(), WorkforceSettings(), DCS_CREW,
                        Tour(name="day", start="09:00", hours=8))
    hand = 1.25 * (100 + 8 * (2 * 59534 * 1.06 + 80000 + 50000) / 2088 * 1.55 / 0.82)
    assert c.total_usd == pytest.approx(hand, rel=1e-12)
    assert c.total_usd == pytest.approx(2444.46, abs=0.01)
    assert c.overhead_usd == pytest.approx(0.25 * (c.labour_usd + 100))
    assert c.labour_by_role_usd["social_worker"] == pytest.approx(8 * 80000 / 2088 * 1.55 / 0.82)


def test_evening_and_night_differentials_raise_labour_by_ten_percent():
    """Evening (17-01) and overnight (01-09) tours pay +10% on labour (A-sw-salary)."""
    day = team_shift_cost(CostSettings(), WorkforceSettings(), DCS_CREW,
                          Tour(name="day", start="09:00", hours=8))
    for start in ("17:00", "01:00"):
        c = team_shift_cost(CostSettings(), WorkforceSettings(), DCS_CREW,
                            Tour(name="x", start=start, hours=8))
        assert c.labour_usd == pytest.approx(1.10 * day.labour_usd)


def test_fte_per_daily_post_matches_relief_factor():
    """An 8-h post staffed 365 days needs 2,920 / (2,088 x 0.82) = 1.705 FTE per person
    (A-relief: about 1.7 FTE per post)."""
    names, fte = role_fte_per_team_slot(WorkforceSettings(), Crew(emt=0, social_worker=1),
                                        np.full(7, 8.0), 365 / 7)
    assert names == ("social_worker",)
    assert fte.sum() == pytest.approx(2920 / (2088 * 0.82))
    assert fte.sum() == pytest.approx(1.705, abs=1e-3)


def test_exactly_one_cost_source_is_required():
    """teams.cost_per_team_shift_usd and costs: one or the other, never both or neither."""
    d = tiny_dict()
    d["costs"] = {}
    with pytest.raises(InputError, match="exactly one"):
        load_scenario(d)
    d = tiny_dict()
    del d["teams"]["cost_per_team_shift_usd"]
    with pytest.raises(InputError, match="exactly one"):
        load_scenario(d)
    d["costs"] = {"salary_usd": {"surgeon": 1}}
    with pytest.raises(InputError, match="surgeon"):
        load_scenario(d)


def test_bottom_up_costs_feed_the_plan_and_the_breakdown_adds_up():
    """With costs: the plan's annual cost equals the breakdown's total (labour by role +
    vehicles + overhead) and the headcount follows the team-shifts."""
    d = tiny_dict()
    del d["teams"]["cost_per_team_shift_usd"]
    d["costs"] = {}
    d["solver"]["time_limit_s"] = 2  # the budget knapsack leaves an LP gap; the plan is all we need
    sc = load_scenario(d)
    assert shift_cost_usd(sc, "day", 9.0, 8.0) == pytest.approx(team_shift_cost(
        CostSettings(), WorkforceSettings(), Crew(), sc.shifts.tours[0]).total_usd)
    plan = bheard.solve(sc)
    bd = plan.workforce.cost_breakdown_usd_per_year
    assert bd["total_usd"] == pytest.approx(plan.annual_cost, rel=1e-9)
    assert set(bd) >= {"labour_emt_usd", "labour_social_worker_usd", "vehicles_usd",
                       "overhead_usd"}
    sw = plan.workforce.fte_by_role["social_worker"]
    assert sw == pytest.approx(plan.team_shifts_per_week * 8 * 52 / (2088 * 0.82))


def test_role_cap_binds_on_small_instance():
    """Two isolated precincts, money for both, but social workers for one team only: the team
    goes to the busier precinct (hand: 0.5 x 30 > 0.5 x 10)."""
    from helpers import make_shared as make

    prob = make([[10.0], [30.0]], np.eye(2, dtype=bool), 1e6, max_teams=1)
    import dataclasses

    prob = dataclasses.replace(prob, role_names=("social_worker",),
                               role_fte_per_team=np.array([[0.6]]), role_cap=np.array([1.0]))
    res = solve_shared(prob, SolveOptions(mip_rel_gap=1e-9), SharedSettings(busy_probability=0.5))
    assert res.teams.ravel().tolist() == [0, 1]
    assert res.objective == pytest.approx(15.0)


def test_headcount_cap_in_scenario_limits_the_plan():
    """tiny scenario with workforce.max_headcount.social_worker = 10 FTE: at most
    10 x 2,088 x 0.82 / (8 x 52) = 41.16 -> 41 team-shifts a week, and it binds (the plan
    without the cap uses more)."""
    free = bheard.solve(tiny_dict())
    capped = bheard.solve(tiny_dict(workforce={"max_headcount": {"social_worker": 10}}))
    assert free.team_shifts_per_week > 41
    assert capped.team_shifts_per_week == 41
    assert capped.workforce.fte_by_role["social_worker"] <= 10 + 1e-9
    assert capped.objective < free.objective
    assert capped.status == "optimal"


def test_isolated_with_nonbinding_cap_equals_isolated_path():
    """Routing the isolated model through the constrained machinery (a cap that cannot bind)
    gives the isolated path's optimum (same Erlang-B model)."""
    free = bheard.solve(tiny_dict())
    same = bheard.solve(tiny_dict(workforce={"max_headcount": {"social_worker": 1e6}}))
    assert same.objective == pytest.approx(free.objective, rel=2e-4)
    assert same.bound >= free.objective * (1 - 1e-9)


def test_whole_budget_with_crisis_team_share():
    """budget.annual_usd = $1.1B DCS (S-dcs-budget) x share 0.0795 = $87.45M for teams."""
    sc = load_scenario(SCENARIOS / "dcs_citywide.yaml").with_overrides(
        **{"budget.annual_usd": 1.1e9, "budget.crisis_team_share": 0.0795})
    assert problem_from_scenario(sc).team_budget_usd_per_year == pytest.approx(87.45e6)


def test_cost_breakdown_none_for_top_down_costs():
    """A top-down cost has no breakdown; headcount still comes from the crew."""
    sc = load_scenario(tiny_dict())
    teams = np.ones((3, 14), dtype=int)
    starts = np.array([9.0, 17.0] * 7)
    assert cost_breakdown(sc, ["day", "evening"] * 7, starts, np.full(14, 8.0), teams) is None
    hc = fte_by_role(headcount_by_tour(sc.workforce, sc.teams.crew, sc.weeks_per_year,
                                       np.full(14, 8.0), np.array(["day", "evening"] * 7), teams))
    assert hc["emt"] == pytest.approx(2 * 42 * 8 * 52 / (2088 * 0.82))
