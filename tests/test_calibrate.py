"""Tests of the calibration to the published record (bheard.calibrate)."""

from __future__ import annotations

import numpy as np
import pytest

from bheard.calibrate import Target, calibrate, fy24, pilot_2021, served_share, zone_setup
from bheard.queueing import erlang_b


def test_targets_map_published_figures():
    """Pilot: 16 MH calls/day in 16 h x 25% routed = 0.25 calls/h (S-zone7-calls, S-first-month);
    FY24: 14,900 / 0.73 / (366 x 16 h) = 3.4855 calls/h (S-fy24-responses)."""
    p, f = pilot_2021(), fy24()
    assert p.calls_per_hour == pytest.approx(0.25)
    assert (p.teams_per_tour, p.served_share) == (2, 0.80)
    assert f.calls_per_hour == pytest.approx(14_900 / 0.73 / 5856)
    assert f.calls_per_hour == pytest.approx(3.4855, abs=1e-4)
    assert (f.teams_per_tour, f.served_share) == (9, 0.73)


def test_zone_setup_has_sixteen_operating_hours():
    """The pooled zone has demand 09:00-01:00 only: 16 h x 7 d x rate per week."""
    s = zone_setup(fy24(), 2.0, 1.0)
    assert s.hourly_calls_per_hour.sum() == pytest.approx(16 * 7 * fy24().calls_per_hour)
    assert s.teams.sum() == 9 * 14 and s.dispatch == "pooled"


def test_zone_without_breaks_is_close_to_erlang_plus_handover():
    """alpha = 1, short busy time (0.5 h << 8 h tour): served share within 1 pp of
    1 - B(9, 3.49 x 0.5) - the tour handover effect vanishes when tau << tour length."""
    m, _ = served_share(fy24(), 0.6, 1.0, replications=3, seed=0, hospital_extra_hours=0.5)
    assert abs(m - (1 - erlang_b(9, fy24().calls_per_hour * 0.6))) < 0.01


def test_calibration_recovers_known_parameters():
    """Targets made by the simulator itself at tau = 2.5 h, alpha = 0.8 are fitted back to
    (2.5, 0.8) within the grid resolution (identifiability check, brute force)."""
    truth = {}
    for t in (pilot_2021(), fy24()):
        m, _ = served_share(t, 2.5, 0.8, replications=10 if t.name == "pilot_2021" else 2,
                            seed=0)
        truth[t.name] = m
    targets = [Target("pilot_2021", 2, 0.25, truth["pilot_2021"], "-", "synthetic"),
               Target("fy24", 9, fy24().calls_per_hour, truth["fy24"], "-", "synthetic")]
    c = calibrate(targets, taus=np.arange(1.5, 3.51, 0.5), alphas=np.array([0.7, 0.8, 0.9]),
                  replications={"pilot_2021": 10, "fy24": 2}, seed=0, check_replications=3)
    assert c.exact
    assert c.service_time_hours == pytest.approx(2.5, abs=0.05)
    assert c.availability == pytest.approx(0.8, abs=0.01)
    assert set(c.sensitivity["case"]) >= {"fitted", "pilot routed 22% (S-h1-fy22)"}


@pytest.mark.slow
def test_calibration_to_published_record():
    """Full fit to S-first-month (80%) and S-fy24-responses (73%): both reproduced within 1 pp by a fresh
    simulation; fitted values are those shipped in scenarios/baseline_2024.yaml (2.41 h, 0.77)."""
    c = calibrate()
    assert c.exact
    assert all(abs(r) < 1.0 for r in c.residuals_pp.values())
    assert c.service_time_hours == pytest.approx(2.41, abs=0.1)
    assert c.availability == pytest.approx(0.77, abs=0.02)
