"""Predicted against simulated coverage for every shipped scenario: the optimizer's coverage
model and the simulator read the same dispatch parameters (models/dispatch.md), so the plan's
predicted share and the simulation of that plan agree within 1 percentage point citywide and
within 3 points mean absolute error per precinct (README, "Calibration and validation")."""

from __future__ import annotations

import numpy as np
import pytest

import bheard
from bheard.simulate import simulate
from helpers import SCENARIOS

#: precincts with fewer simulated calls than this are left out of the per-precinct error (their
#: simulated share is mostly sampling noise: 400 calls give a standard error of 2.5 points)
MIN_CALLS = 400

FAST = ["examples/tiny.yaml", "baseline_2024.yaml", "dcs_citywide.yaml",
        "dcs_citywide_isolated.yaml"]
SLOW = ["dcs_citywide_shared.yaml", "dcs_every_precinct.yaml", "dcs_forecast_synthetic.yaml",
        "dcs_staggered.yaml"]


def _check(name: str, replications: int, weeks: int):
    plan = bheard.solve(SCENARIOS / name)
    assert plan.feasible
    r = simulate(plan, replications, 0, weeks=weeks)
    diff = r.served_share_operating - plan.coverage_share
    bp = r.by_precinct
    ok = (bp["calls"] - bp["lost_off_hours"]) >= MIN_CALLS
    mae = float(np.nanmean(np.abs(bp["served_share_operating_hours"] - bp["predicted_share"])[ok]))
    return plan, r, diff, mae


@pytest.mark.parametrize("name", FAST)
def test_shipped_scenario_prediction_matches_its_simulation(name):
    """Citywide within 1 pp, per precinct within 3 pp mean absolute error (reduced size: 4
    replications of 26 weeks)."""
    plan, r, diff, mae = _check(name, 4, 26)
    assert abs(diff) < 0.01, (plan.coverage_share, r.served_share_operating)
    assert mae < 0.03


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_shipped_scenario_prediction_matches_its_simulation_slow(name):
    """As above for the slower scenarios (a staggered plan, 2,800 team-shifts a week, a
    forecast, the bottom-up-cost variant)."""
    plan, r, diff, mae = _check(name, 3, 26)
    assert abs(diff) < 0.01, (plan.coverage_share, r.served_share_operating)
    assert mae < 0.03


def test_overtime_is_reported_and_costed():
    """A busy team finishing its call after the tour is paid overtime: the simulation reports
    the hours (a few percent of duty hours for the citywide default) and costs them at 1.5 x
    the straight-time cost of a team-hour (S-overtime): cost / hours = 1.5 x cost per team-shift
    / 8 h when every tour costs the same."""
    sc = bheard.load_scenario(SCENARIOS / "examples" / "tiny.yaml").with_overrides(**{
        "teams.cost_per_team_shift_usd": 2000.0})
    plan = bheard.solve(sc)
    r = simulate(plan, 2, 0, weeks=26)
    hours = r.overall["overtime_hours_per_year"][0]
    cost = r.overall["overtime_cost_usd_per_year"][0]
    assert hours > 0
    assert cost / hours == pytest.approx(1.5 * 2000.0 / 8.0, rel=1e-9)
    share = r.overall["overtime_share_of_duty_hours"][0]
    assert 0.0 < share < 0.15
