"""Bottom-up team cost, headcount and role caps (bheard.costs)."""

from __future__ import annotations

import numpy as np
import pytest

import bheard
from bheard.costs import shift_cost_usd
from bheard.problem import problem_from_scenario
from bheard.costs import (SHIFT_COMPONENTS, annual_cost, cost_breakdown, fte_by_role,
                          headcount_by_tour, program_fixed_usd_per_year, role_fte_per_team_slot,
                          team_shift_cost)
from bheard.errors import InputError
from bheard.optimize.fixed_point import solve_shared
from helpers import shared_settings as SharedSettings
from bheard.scenario import CostSettings, Crew, Tour, WorkforceSettings, load_scenario
from bheard.scenario import SolverOptions as SolveOptions
from helpers import SCENARIOS, tiny_dict

DCS_CREW = Crew(emt=2, social_worker=1, peer=1)


def _hand_shift(salaries_mh, h=8.0, d=0.0, f=0.70, pi=0.82, H=2088.0, o=0.15, v=100.0,
                sup=((0.25, 87000.0), (0.25, 100000.0)), a=0.16, w=5.0, base=None):
    """The cost formula of models/workforce_cost.md written out by hand (USD per shift)."""
    crew = sum(h * s * (1 + d) / H for s in salaries_mh) * (1 + f) / pi
    supervision = sum(k * h * s * (1 + d) / H for k, s in sup) * (1 + f) / pi
    training = sum(h / (H * pi) * a * w * (H / 52) * s / H * (1 + f) for s in base)
    return (1 + o) * (crew + supervision + training + v)


def test_day_shift_cost_hand_computed():
    """Day tour, 2 EMT + SW + peer, every component by hand: crew 8 h x (2 x 59,534 x 1.06 +
    80,000 + 50,000) / 2,088 x 1.70 / 0.82; supervision 0.25 x (87,000 + 100,000) on the same
    terms; training 8 / (2,088 x 0.82) x 0.16 x 5 weeks x 2,088/52 h at base pay x 1.70;
    + $100; x 1.15 (S-emt-pay, S-mh-differential, S-paid-hours, S-fringe, A-relief,
    A-supervision, S-team-size, S-ems-attrition, A-vehicle-per-shift, A-overhead) = $2,917.46."""
    c = team_shift_cost(CostSettings(), WorkforceSettings(), DCS_CREW,
                        Tour(name="day", start="09:00", hours=8))
    emt = 59534 * 1.06
    hand = _hand_shift([emt, emt, 80000, 50000], base=[59534, 59534, 80000, 50000])
    assert c.total_usd == pytest.approx(hand, rel=1e-12)
    assert c.total_usd == pytest.approx(2917.46, abs=0.01)
    assert c.overhead_usd == pytest.approx(
        0.15 * (c.labour_usd + c.supervision_usd + c.training_usd + 100))
    assert c.labour_by_role_usd["social_worker"] == pytest.approx(8 * 80000 / 2088 * 1.70 / 0.82)
    assert c.supervision_usd == pytest.approx(8 * 0.25 * 187000 / 2088 * 1.70 / 0.82)


def test_components_itemize_the_same_total():
    """crew base pay + MH differential + shift differential + relief + fringe + supervision +
    training + vehicle + overhead = the total, for every tour; fringe = 0.70 x pay on post /
    0.82, relief = pay on post x (1/0.82 - 1) (S-fringe, A-relief)."""
    for start in ("09:00", "17:00", "01:00"):
        c = team_shift_cost(CostSettings(), WorkforceSettings(), DCS_CREW,
                            Tour(name="x", start=start, hours=8))
        comp = c.components_usd
        assert set(comp) == set(SHIFT_COMPONENTS)
        assert sum(comp.values()) == pytest.approx(c.total_usd, rel=1e-12)
        on_post = (comp["crew_base_pay"] + comp["mental_health_differential"]
                   + comp["shift_differential"])
        assert comp["fringe"] == pytest.approx(0.70 * on_post / 0.82)
        assert comp["relief"] == pytest.approx(on_post * (1 / 0.82 - 1))
        assert comp["mental_health_differential"] == pytest.approx(
            0.06 * 8 * 2 * 59534 / 2088)


def test_evening_and_night_differentials_raise_labour_by_ten_percent():
    """Evening (17-01) and overnight (01-09) tours pay +10% on crew and supervisor labour
    (S-hh-differential, A-differentials); training and vehicles do not change."""
    day = team_shift_cost(CostSettings(), WorkforceSettings(), DCS_CREW,
                          Tour(name="day", start="09:00", hours=8))
    for start in ("17:00", "01:00"):
        c = team_shift_cost(CostSettings(), WorkforceSettings(), DCS_CREW,
                            Tour(name="x", start=start, hours=8))
        assert c.labour_usd == pytest.approx(1.10 * day.labour_usd)
        assert c.supervision_usd == pytest.approx(1.10 * day.supervision_usd)
        assert c.training_usd == pytest.approx(day.training_usd)


def _baseline_fleet_cost(costs=None, workforce=None):
    """Annual cost of today's fleet, 9 teams on each of baseline_2024.yaml's 2 tours, 365 days
    (S-teams-2024, S-tours-hours), from the scenario's own cost model."""
    sc = load_scenario(SCENARIOS / "baseline_2024.yaml")
    return annual_cost(costs or sc.costs, workforce or sc.workforce, sc.teams.crew,
                       [(t, 9) for t in sc.shifts.tours])


def test_annual_cost_of_todays_fleet_itemized_by_hand():
    """9 teams x 2 tours x 365 days = 6,570 team-shifts; the annual cost is 3,285 day shifts
    and 3,285 evening shifts at the hand formula plus the program lines of baseline_2024.yaml,
    each FTE x salary x 1.70 x 1.15 (A-program-staff): $5.67M."""
    a = _baseline_fleet_cost()
    assert a.team_shifts_per_year == 6570
    emt = 59534 * 1.06
    per_day = _hand_shift([emt, emt, 80000], base=[59534, 59534, 80000])
    per_eve = _hand_shift([emt, emt, 80000], d=0.10, base=[59534, 59534, 80000])
    assert a.team_shift_cost_usd == pytest.approx(3285 * (per_day + per_eve), rel=1e-12)
    staff = 5 * 110000 + 10 * 105000 + 5 * 105000 + 3.4 * 55000
    assert a.program_fixed_usd == pytest.approx((staff * 1.70 + 1e6) * 1.15, rel=1e-12)
    assert a.total_usd == pytest.approx(sum(a.components_usd.values()) + a.program_fixed_usd)


PUBLISHED_BHEARD_USD = 35e6  # S-bheard-budget: ~$35M a year, today's B-HEARD (Low confidence)


def _sensitivity_band():
    """Today's fleet at the low and high ends of every documented range at once (S-fringe
    0.54-0.72, A-relief 0.85-0.76, A-supervision 1 per 6-1 per 3, S-ems-attrition 0.05-0.30,
    A-vehicle-per-shift $60-200, A-overhead 0.10-0.25, A-sw-salary $65-95k, S-union-fringe EMT
    $68,700 at the top, A-program-staff x0.5-x1.5, other $0.5-2M)."""
    sc = load_scenario(SCENARIOS / "baseline_2024.yaml")
    c = sc.costs

    def scaled(k):
        return {n: p.model_copy(update={"fte": p.fte * k}) for n, p in c.program_staff.items()}

    lo = c.model_copy(update=dict(
        fringe_rate=0.54, overhead_rate=0.10, annual_attrition=0.05, vehicle_usd_per_shift=60,
        supervisors_per_team={"ems_officer": 1 / 6, "clinical_supervisor": 1 / 6},
        salary_usd={**c.salary_usd, "social_worker": 65000.0}, program_staff=scaled(0.5),
        program_other_usd_per_year=0.5e6))
    hi = c.model_copy(update=dict(
        fringe_rate=0.72, overhead_rate=0.25, annual_attrition=0.30, vehicle_usd_per_shift=200,
        supervisors_per_team={"ems_officer": 1 / 3, "clinical_supervisor": 1 / 3},
        salary_usd={**c.salary_usd, "emt": 68700.0, "social_worker": 95000.0},
        program_staff=scaled(1.5), program_other_usd_per_year=2e6))
    return (_baseline_fleet_cost(lo, WorkforceSettings(productive_share=0.85)).total_usd,
            _baseline_fleet_cost(hi, WorkforceSettings(productive_share=0.76)).total_usd)


def test_annual_cost_of_todays_fleet_against_published_budget():
    """Today's 18 team-shifts a day (S-teams-2024) priced by the anchored model against the
    published ~$35M a year (S-bheard-budget, S-cost-per-team-shift): the model gives $22.5M, a
    residual of -36% (models/workforce_cost.md; budgets above spending, S-bheard-underspend).
    The published figure lies inside the model's sensitivity band, at its top."""
    total = _baseline_fleet_cost().total_usd
    residual = total / PUBLISHED_BHEARD_USD - 1.0
    assert -0.40 < residual < -0.30
    lo, hi = _sensitivity_band()
    assert lo < total < hi
    assert lo < PUBLISHED_BHEARD_USD < hi * 1.05
    # the old model (fringe 0.55, flat 25% overhead, no supervision, training or program
    # lines) gave $13.1M: the anchored one is closer to the record
    assert abs(residual) < abs(13.1e6 / PUBLISHED_BHEARD_USD - 1.0)


@pytest.mark.xfail(strict=True, reason="not met: the itemized model explains 64% of the ~$35M"
                   " budget, an appropriation; no spending figure is published (S-bheard-budget,"
                   " S-bheard-underspend, S-bheard-budget-vs-fleet; models/workforce_cost.md)")
def test_annual_cost_of_todays_fleet_within_15_percent_of_published():
    """The target of issue 10: today's fleet within 15% of the ~$35M (S-bheard-budget). Fails
    today (residual -36%); strict, so it reports when a change meets it."""
    total = _baseline_fleet_cost().total_usd
    assert abs(total / PUBLISHED_BHEARD_USD - 1.0) <= 0.15


PUBLISHED_FY22_USD = 30e6  # S-bheard-budget: FY22 $30M (High)


def test_published_budgets_do_not_scale_with_the_fleet():
    """S-bheard-budget-vs-fleet: FY22's $30M paid for 2 teams on each of 2 tours (S-tours-hours,
    A-fleet-by-period), 1,460 team-shifts; today's ~$35M for 9 (S-teams-2024), 6,570. Read as
    running costs they imply (35 - 30)/5,110 = $978 per extra team-shift, less than the crew's
    pay alone, and $28.6M a year independent of the fleet. A model fixed + c x team-shifts within
    15% of both needs c <= $2,886 and a fixed part >= $21.3M; with the model's own per-team-shift
    cost the fixed part would have to be $21.7M-23.4M, about four times the program lines it
    itemizes (A-program-staff). Hand arithmetic, then the model's figures."""
    n22, n24 = 2 * 2 * 365, 9 * 2 * 365
    assert (n22, n24) == (1460, 6570)
    slope = (PUBLISHED_BHEARD_USD - PUBLISHED_FY22_USD) / (n24 - n22)
    assert slope == pytest.approx(5e6 / 5110) and 978 < slope < 979
    assert PUBLISHED_FY22_USD - slope * n22 == pytest.approx(28.571e6, rel=1e-4)
    c_max = (1.15 * PUBLISHED_BHEARD_USD - 0.85 * PUBLISHED_FY22_USD) / (n24 - n22)
    assert c_max == pytest.approx(14.75e6 / 5110) and 2886 < c_max < 2887
    assert 0.85 * PUBLISHED_FY22_USD - c_max * n22 == pytest.approx(21.2857e6, rel=1e-4)
    # the model: one day shift's crew labour (pay, differentials, relief, fringe) already
    # exceeds the implied marginal cost; the fixed part needed is ~4x the program lines
    sc = load_scenario(SCENARIOS / "baseline_2024.yaml")
    day = next(t for t in sc.shifts.tours if t.name == "day")
    crew_day = team_shift_cost(sc.costs, sc.workforce, sc.teams.crew, day).labour_usd
    emt_h, sw_h = 59534 * 1.06 / 2088, 80000 / 2088
    assert crew_day == pytest.approx((2 * emt_h + sw_h) * 8 * 1.70 / 0.82, rel=1e-12)
    assert crew_day > slope
    a = _baseline_fleet_cost()
    c = a.team_shift_cost_usd / a.team_shifts_per_year
    assert c == pytest.approx(2569.23, abs=0.01)
    lo = max(0.85 * PUBLISHED_FY22_USD - c * n22, 0.85 * PUBLISHED_BHEARD_USD - c * n24)
    hi = min(1.15 * PUBLISHED_FY22_USD - c * n22, 1.15 * PUBLISHED_BHEARD_USD - c * n24)
    assert lo == pytest.approx(21.749e6, rel=1e-4) and hi == pytest.approx(23.370e6, rel=1e-4)
    assert 3.8 < lo / a.program_fixed_usd < hi / a.program_fixed_usd < 4.2


def test_program_fixed_cost_comes_out_of_the_team_budget():
    """baseline_2024.yaml: $35M budget - $5.67M program lines (A-program-staff) = the team
    budget of the problem; the plan reports the program line and the total separately."""
    sc = load_scenario(SCENARIOS / "baseline_2024.yaml")
    fixed = program_fixed_usd_per_year(sc.costs)
    assert fixed == pytest.approx(5.66996e6, rel=1e-6)
    assert problem_from_scenario(sc).team_budget_usd_per_year == pytest.approx(35e6 - fixed)
    d = tiny_dict()
    del d["teams"]["cost_per_team_shift_usd"]
    d["costs"] = {"program_staff": {"office": {"fte": 2, "salary_usd": 100000}},
                  "program_other_usd_per_year": 50000}
    d["solver"]["time_limit_s"] = 2
    plan = bheard.solve(d)
    f = (2 * 100000 * 1.70 + 50000) * 1.15
    assert plan.program_fixed_usd_per_year == pytest.approx(f)
    assert plan.budget == pytest.approx(5e6 - f)
    assert plan.annual_cost <= plan.budget * (1 + 1e-9)
    assert plan.total_cost_usd_per_year == pytest.approx(plan.annual_cost + f)
    assert plan.summary()["program_fixed_usd_per_year"] == pytest.approx(f)


def test_budget_below_program_cost_is_infeasible_with_a_diagnosis():
    """A budget smaller than the fixed program cost leaves a negative team budget: the plan is
    infeasible and the diagnosis names budget.annual_usd and the program cost."""
    d = tiny_dict(budget={"annual_usd": 100000})
    del d["teams"]["cost_per_team_shift_usd"]
    d["costs"] = {"program_staff": {"office": {"fte": 2, "salary_usd": 100000}}}
    d["limits"]["min_teams"] = {25: 1}
    plan = bheard.solve(d)
    assert plan.status == "infeasible"
    assert any("budget.annual_usd" in x and "program" in x for x in plan.diagnosis)


def test_shipped_scenarios_use_the_same_anchored_cost_model():
    """Every shipped scenario (examples/tiny.yaml, a hand example, apart) prices team-shifts
    with the bottom-up ``costs:`` section: no top-down numbers, and the same component
    settings; only the program lines differ between today's program and the DCS."""
    names = ["baseline_2024", "dcs_citywide", "dcs_citywide_shared", "dcs_every_precinct",
             "dcs_staggered", "dcs_forecast_synthetic", "dcs_forecast_uncertain"]
    shared = None
    for n in names:
        sc = load_scenario(SCENARIOS / f"{n}.yaml")
        assert sc.teams.cost_per_team_shift_usd is None, n
        assert sc.costs is not None, n
        st = sc.shifts.staggered
        assert st is None or st.cost_per_team_shift_usd is None, n
        model = sc.costs.model_dump(exclude={"program_staff", "program_other_usd_per_year"})
        assert model == CostSettings().model_dump(
            exclude={"program_staff", "program_other_usd_per_year"}), n
        assert program_fixed_usd_per_year(sc.costs) > 0, n
        if n.startswith("dcs"):
            shared = shared or program_fixed_usd_per_year(sc.costs)
            assert program_fixed_usd_per_year(sc.costs) == shared, n


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
    supervision + training + vehicles + overhead) and the headcount follows the team-shifts."""
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
    assert set(bd) >= {"labour_emt_usd", "labour_social_worker_usd", "supervision_usd",
                       "training_usd", "vehicles_usd", "overhead_usd"}
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
    """budget.annual_usd = $1.1B DCS (S-dcs-budget) x share 0.0795 = $87.45M for crisis teams,
    less dcs_citywide.yaml's program lines (A-program-staff: $12.28M) for team-shifts."""
    sc = load_scenario(SCENARIOS / "dcs_citywide.yaml").with_overrides(
        **{"budget.annual_usd": 1.1e9, "budget.crisis_team_share": 0.0795})
    fixed = program_fixed_usd_per_year(sc.costs)
    staff = 10 * 110000 + 20 * 105000 + 10 * 105000 + 10.2 * 55000
    assert fixed == pytest.approx((staff * 1.70 + 2.5e6) * 1.15)
    assert problem_from_scenario(sc).team_budget_usd_per_year == pytest.approx(87.45e6 - fixed)


def test_cost_breakdown_none_for_top_down_costs():
    """A top-down cost has no breakdown; headcount still comes from the crew."""
    sc = load_scenario(tiny_dict())
    teams = np.ones((3, 14), dtype=int)
    starts = np.array([9.0, 17.0] * 7)
    assert cost_breakdown(sc, ["day", "evening"] * 7, starts, np.full(14, 8.0), teams) is None
    hc = fte_by_role(headcount_by_tour(sc.workforce, sc.teams.crew, sc.weeks_per_year,
                                       np.full(14, 8.0), np.array(["day", "evening"] * 7), teams))
    assert hc["emt"] == pytest.approx(2 * 42 * 8 * 52 / (2088 * 0.82))
