"""Calibration of the dispatch parameters to the published record (bheard.calibrate,
bheard.record) and the calibration file the shipped scenarios extend."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import bheard
from bheard.calibrate import FIT_PERIODS, Calibration, calibrate, write_calibration
from bheard.errors import InputError
from bheard.record import period, period_scenario, periods
from helpers import SCENARIOS

CALIBRATION = SCENARIOS / "calibration" / "dispatch.yaml"


def test_periods_map_published_figures():
    """First month: 16 MH calls/day x 25% routed x 365 = 1,460 eligible calls a year, 2 teams,
    80% (S-zone7-calls, S-first-month, S-tours-hours); FY24: 14,900 / 0.73 = 20,411, 9 teams,
    31 precincts, 73% (S-fy24-responses, S-teams-2024); exactly two periods are fitted; the
    first month's share rests on about 125 routed calls (sampling error 3.6 pp)."""
    fm, fy = period("first_month"), period("fy24")
    assert fm.eligible_per_year == pytest.approx(1460.0)
    assert (fm.teams_per_tour, fm.published_share, fm.precincts) == (2, 0.80, (25, 28, 32))
    assert fy.eligible_per_year == pytest.approx(20_410.96, abs=0.01)
    assert (fy.teams_per_tour, fy.published_share, len(fy.precincts)) == (9, 0.73, 31)
    assert [p.name for p in periods() if p.fit] == list(FIT_PERIODS)
    assert fm.sampling_se == pytest.approx(np.sqrt(0.8 * 0.2 / 125))


def test_period_scenario_has_the_published_volume_and_fleet():
    """The period scenario's eligible calls in operating hours equal the published volume
    (52 weeks = 364 days of it) and the fleet cap is the period's teams per tour."""
    from bheard.problem import problem_from_scenario

    params = yaml.safe_load(CALIBRATION.read_text())
    for name in ("first_month", "fy24"):
        p = period(name)
        sc = period_scenario(p, params)
        prob = problem_from_scenario(sc)
        assert prob.eligible_calls_per_year().sum() == pytest.approx(
            p.eligible_per_year * 364 / 365, rel=1e-9)
        assert sc.tour_cap("day") == p.teams_per_tour
        assert sc.teams.service_time_hours == params["teams"]["service_time_hours"]


def test_calibration_file_flows_into_every_shipped_scenario():
    """scenarios/calibration/dispatch.yaml is a partial scenario (not valid alone) and every
    shipped DCS and baseline scenario resolves to its values, so a recalibration flows
    everywhere."""
    params = yaml.safe_load(CALIBRATION.read_text())
    with pytest.raises(InputError):
        bheard.load_scenario(CALIBRATION)
    names = ["baseline_2024", "dcs_citywide", "dcs_citywide_isolated", "dcs_citywide_shared",
             "dcs_every_precinct", "dcs_forecast_synthetic", "dcs_staggered"]
    for n in names:
        sc = bheard.load_scenario(SCENARIOS / f"{n}.yaml")
        assert sc.teams.service_time_hours == params["teams"]["service_time_hours"], n
        assert sc.dispatch.availability == params["dispatch"]["availability"], n
        assert sc.geography.dispatch_delay_min == params["geography"]["dispatch_delay_min"], n


def test_write_calibration_is_a_parent_scenarios_extend(tmp_path):
    """A written calibration is read back as the parent of a scenario that extends it."""
    c = Calibration(1.4, 0.81, 6.5, True, {"first_month": 0.1, "fy24": -0.2},
                    {"first_month": (0.8, 0.003), "fy24": (0.73, 0.001)}, 20.1, None, None,
                    None)
    path = write_calibration(c, tmp_path / "dispatch.yaml")
    (tmp_path / "s.yaml").write_text(
        f"extends: {path.name}\n" + (SCENARIOS / "examples" / "tiny.yaml").read_text()
        .replace("demand.csv", str(SCENARIOS / "examples" / "demand.csv"))
        .replace("  service_time_hours: 1.75\n", ""))
    sc = bheard.load_scenario(tmp_path / "s.yaml")
    assert (sc.teams.service_time_hours, sc.dispatch.availability,
            sc.geography.dispatch_delay_min) == (1.4, 0.81, 6.5)


def test_moved_simulation_keys_name_their_new_home():
    """simulation.availability / max_wait_min / local_travel_min are read by the optimizer too
    now: a scenario still using them gets an InputError naming the new key."""
    from helpers import tiny_dict

    for key, new in (("availability", "dispatch.availability"),
                     ("max_wait_min", "dispatch.max_wait_min"),
                     ("local_travel_min", "geography")):
        with pytest.raises(InputError) as ei:
            bheard.load_scenario(tiny_dict(simulation={key: 0.5}))
        assert new in str(ei.value)


@pytest.mark.slow
def test_calibration_recovers_known_parameters():
    """Targets made by the simulator itself at tau = 1.5 h, alpha = 0.85 are fitted back
    within the grid resolution (identifiability, brute force)."""
    import dataclasses

    import importlib

    cal = importlib.import_module("bheard.calibrate")  # the module (bheard.calibrate is the function)

    truth = cal.params_dict(1.5, 0.85, 7.0)
    setups = cal._setups(truth, 0)
    goals = {n: cal._served(setups[n][1], 1.5, 0.85, 16 if n == "first_month" else 3, 0,
                            52)[0] for n in FIT_PERIODS}
    _, _, resp = cal._served(setups["fy24"][1], 1.5, 0.85, 3, 0, 52)
    import bheard.record as rec

    orig = rec.periods  # the record with the two fitted shares replaced by the simulated ones
    try:
        rec.periods = lambda: [dataclasses.replace(p, published_share=goals.get(
            p.name, p.published_share)) for p in orig()]
        c = calibrate(taus=np.arange(1.0, 2.01, 0.25), alphas=np.array([0.8, 0.85, 0.9]),
                      replications={"first_month": 16, "fy24": 3}, rounds=2,
                      check_replications=4, d0=7.0, response_target_min=resp)
    finally:
        rec.periods = orig
    assert c.service_time_hours == pytest.approx(1.5, abs=0.15)
    assert c.availability == pytest.approx(0.85, abs=0.03)
    assert c.dispatch_delay_min == pytest.approx(7.0, abs=0.5)
