"""The validation table against the published record (README, "Calibration and validation
against the published record"): one test per row. Each period is solved with the shipped
calibration (scenarios/calibration/dispatch.yaml) for the fleet and area of that period,
simulated with the same parameters, and compared with the published figure (ids of
docs/sources.md in each docstring). Fitted: the first month and FY24; the rest are out of
sample."""

from __future__ import annotations

import functools

import pytest
import yaml

from bheard.record import period
from bheard.validation import RESIDUAL_LIMIT_PP, implied_fleet, validation_table
from helpers import SCENARIOS

PARAMS = yaml.safe_load((SCENARIOS / "calibration" / "dispatch.yaml").read_text())


@functools.lru_cache(maxsize=None)
def row(name: str):
    (r,) = validation_table(PARAMS, replications=6, seed=0, implied=False, names=[name])
    return r


def _agrees(r):
    """The optimizer's prediction and the simulation of the same plan agree within 1.5 pp."""
    assert abs(r.simulated - r.predicted) < 0.015, (r.predicted, r.simulated)


def test_first_month_2021():
    """2021 first month (fit): 80% of routed calls answered with 2 teams per tour in Zone 7
    (S-first-month, S-tours-hours). The figure rests on about 125 routed calls (sampling error
    3.6 pp); the fit weighs FY24 far more, and the first month comes out within two sampling
    errors (measured +5.3 pp)."""
    r = row("first_month")
    _agrees(r)
    se = period("first_month").sampling_se
    assert abs(r.simulated - r.published) < 2 * se


def test_h1_fy22():
    """H1 FY22 (out of sample): 82% of routed calls answered (S-h1-fy22), 2 teams per tour
    assumed (A-fleet-by-period): within 5 pp (measured +3.3)."""
    r = row("h1_fy22")
    _agrees(r)
    assert abs(r.residual_pp) <= RESIDUAL_LIMIT_PP


def test_fy22():
    """FY22 (out of sample): 73% of routed calls answered (S-fy22). With the assumed 2 teams
    per tour (A-fleet-by-period) the model serves about 79% (+5.7 pp); the row says why: the
    published share needs fewer than 2 teams per tour (measured 1.8), i.e. the assumed fleet
    overstates the FY22 capacity."""
    r = row("fy22")
    _agrees(r)
    assert 0 < r.residual_pp < 8.0
    f = implied_fleet(period("fy22"), PARAMS)
    assert 1.0 < f < 2.0


@pytest.mark.slow
def test_h1_fy23():
    """H1 FY23 (out of sample): 53% of eligible calls reached (S-h1-fy23), 3 teams per tour
    assumed (A-fleet-by-period): within 5 pp (measured -1.5)."""
    r = row("h1_fy23")
    _agrees(r)
    assert abs(r.residual_pp) <= RESIDUAL_LIMIT_PP


@pytest.mark.slow
def test_fy23():
    """FY23 (out of sample): 7,200 responses = 55% of eligible calls (S-fy23-responses), 4
    teams per tour assumed: within 5 pp (measured -2.9)."""
    r = row("fy23")
    _agrees(r)
    assert abs(r.residual_pp) <= RESIDUAL_LIMIT_PP


def test_fy24():
    """FY24 (fit): 14,900 responses = 73% of eligible calls with 9 teams per tour in 31
    precincts (S-fy24-responses, S-teams-2024): reproduced within 1 pp."""
    r = row("fy24")
    _agrees(r)
    assert abs(r.residual_pp) < 1.0


@pytest.mark.slow
def test_audit_fy22_fy24():
    """Audit FY22-FY24 (out of sample): 24,071 of 37,113 eligible calls dispatched = 65%
    (S-audit-served). The FY22, FY23 and FY24 rows weighted by their eligible calls: within
    5 pp (measured +0.7)."""
    rows = validation_table(PARAMS, replications=6, seed=0, implied=False,
                            names=["fy22", "fy23", "fy24"])
    audit = rows[-1]
    assert audit.period == "audit_fy22_fy24"
    assert abs(audit.residual_pp) <= RESIDUAL_LIMIT_PP
    assert abs(audit.simulated - audit.predicted) < 0.015


def test_response_time_fy24():
    """Response time, FY24 (fit of the pre-travel delay): about 20 minutes (S-response-time):
    the simulated mean within 1 minute, the optimizer's (from its dispatch probabilities)
    within 1 minute of the simulation."""
    r = row("fy24")
    assert abs(r.response_simulated_min - 20.0) < 1.0
    assert abs(r.response_predicted_min - r.response_simulated_min) < 1.0


def test_response_time_h1_fy22():
    """Response time, H1 FY22 (out of sample): 13:41 published (S-h1-fy22). The model is
    slower by about 4 minutes (measured +4.3): in compact Zone 7 the calibrated 7-minute
    pre-travel delay plus the modelled driving overstate the early program's responses; within
    5 minutes."""
    r = row("h1_fy22")
    assert 0.0 < r.response_simulated_min - r.response_published_min < 5.0
    assert abs(r.response_predicted_min - r.response_simulated_min) < 1.0


def test_response_time_fy22():
    """Response time, FY22 (out of sample): 15:30 published (S-fy22): the model is slower by
    about 4 minutes (measured +3.6); within 5 minutes."""
    r = row("fy22")
    assert 0.0 < r.response_simulated_min - r.response_published_min < 5.0
    assert abs(r.response_predicted_min - r.response_simulated_min) < 1.0
