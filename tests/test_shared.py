"""Shared-coverage model (MEXCLP / AMEXCLP, fixed point): bheard.model.shared."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bheard.model.base import covered_from_counts, in_range
from bheard.model.shared import (
    amexclp_weights,
    busy_from_plan,
    larson_q,
    mexclp_weights,
    shared_gains,
)
from bheard.optimize.fixed_point import solve_shared
from bheard.queueing import erlang_c
from bheard.scenario import SolverOptions as SolveOptions
from helpers import SCENARIOS
from helpers import make_shared as make
from helpers import shared_settings as SharedSettings


OPTS = SolveOptions(time_limit_s=30, mip_rel_gap=1e-9)


# ---------------------------------------------------------------------------- weights
def test_mexclp_coverage_half_busy():
    """MEXCLP coverage 1 - q^n at q = 0.5: 0.5, 0.75, 0.875, 0.9375 for 1..4 teams (issue)."""
    assert np.cumsum(mexclp_weights(0.5, 4)) == pytest.approx([0.5, 0.75, 0.875, 0.9375])


def test_larson_correction_factors():
    """Q(3, 0.5, k) = 1, 0.73684, 0.63158 for k = 0, 1, 2 (Larson & Odoni, Urban OR 5.5.3)."""
    assert larson_q(3, 0.5, [0, 1, 2]) == pytest.approx([1.0, 0.73684, 0.63158], abs=1e-5)
    assert larson_q(3, 0.5, [3]) == [0.0]


@pytest.mark.parametrize("N,r", [(3, 0.5), (1, 0.3), (12, 0.8), (200, 0.95)])
def test_amexclp_weights_sum_to_one_minus_erlang_c(N, r):
    """sum_k Q(N,r,k-1)(1-r) r^(k-1) = 1 - ErlangC(N, N r): 0.763158 at N=3, r=0.5 (issue);
    other cases against bheard.queueing.erlang_c."""
    total = amexclp_weights(N, r, N).sum()
    assert total == pytest.approx(1.0 - float(erlang_c(N, N * r)), rel=1e-9)
    if (N, r) == (3, 0.5):
        assert total == pytest.approx(0.763158, abs=1e-6)


def test_gains_are_eligible_calls_times_weights_and_stop_at_reachable_teams():
    """G[i,s,n] = E_is (1-q) q^(n-1), zero beyond the teams that can be in range (2 x 1)."""
    prob = make([[8.0], [4.0]], np.eye(2), 1e9, max_teams=2)
    G = shared_gains(prob, np.array([0.5]))
    assert G[0, 0, :2] == pytest.approx([4.0, 2.0])
    assert G[1, 0, :2] == pytest.approx([2.0, 1.0])
    assert (G[:, :, 2:] == 0).all()


# ---------------------------------------------------------------------------- small optima
def test_precinct_without_own_teams_is_covered_by_a_staffed_neighbour():
    """Precinct 2 may have no team (max 0) but precinct 1's team reaches it: at q = 0.5 it
    covers 0.5 x 30 = 15 calls, all from the neighbour (issue acceptance)."""
    reach = np.array([[True, False], [True, True]])  # reach[i, j]: 1 serves 2
    prob = make([[10.0], [30.0]], reach, 1000.0, max_teams=[[1], [0]])
    res = solve_shared(prob, OPTS, SharedSettings(busy_probability=0.5))
    assert res.status == "optimal"
    assert res.teams.ravel().tolist() == [1, 0]
    assert res.objective == pytest.approx(20.0)
    cov, own = res.covered, res.own_covered
    assert cov.ravel() == pytest.approx([5.0, 15.0])
    assert own.ravel() == pytest.approx([5.0, 0.0])


def test_budget_binds_team_goes_to_the_hub():
    """Line A-B-C, B reaches all three, A and C only B and themselves; one team (budget) at
    q = 0.5 covers 0.5 (10 + 20 + 15) = 22.5 at B, against 0.5 x 30 at A or 0.5 x 35 at C."""
    reach = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=bool)
    prob = make([[10.0], [20.0], [15.0]], reach, 1500.0)
    res = solve_shared(prob, OPTS, SharedSettings(busy_probability=0.5))
    assert res.teams.ravel().tolist() == [0, 1, 0]
    assert res.objective == pytest.approx(22.5)
    assert res.bound == pytest.approx(22.5, rel=1e-7)


def test_slot_cap_binds():
    """Two slots, cap of 1 team in slot 0: plenty of budget, so slot 0 gets exactly 1 team
    (at the hub: 0.5 x 45 = 22.5) and slot 1 fills to max; hand count."""
    reach = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=bool)
    lam = np.array([[10.0, 10.0], [20.0, 20.0], [15.0, 15.0]])
    prob = make(lam, reach, 1e9, max_teams=1, caps=[1, np.inf])
    res = solve_shared(prob, OPTS, SharedSettings(busy_probability=0.5))
    assert res.teams[:, 0].tolist() == [0, 1, 0]
    assert res.teams[:, 1].tolist() == [1, 1, 1]
    # slot 1: A and C have 2 teams in range (0.75), B has 3 (0.875)
    assert res.objective == pytest.approx(22.5 + 0.75 * 10 + 0.875 * 20 + 0.75 * 15)


def _brute(prob, q):
    P, S = prob.shape
    cost = prob.team_cost_per_year()
    G = shared_gains(prob, q)
    best = -1.0
    for combo in itertools.product(*[range(int(m) + 1) for m in prob.max_teams.ravel()]):
        t = np.array(combo).reshape(P, S)
        if (t.sum(axis=0) * cost).sum() > prob.team_budget_usd_per_year + 1e-9:
            continue
        best = max(best, float(covered_from_counts(G, in_range(prob.reach, t)).sum()))
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mip_matches_brute_force(seed):
    """Optimum at fixed q equals full enumeration of all 3^8 plans (4 precincts, 2 slots)."""
    rng = np.random.default_rng(seed)
    P, S = 4, 2
    lam = rng.uniform(1, 20, (P, S))
    r = rng.random((P, P)) < 0.5
    reach = r | r.T | np.eye(P, dtype=bool)
    prob = make(lam, reach, budget=rng.uniform(3, 6) * 1000, cost=[1000.0, 1300.0])
    res = solve_shared(prob, OPTS, SharedSettings(busy_probability=0.35))
    assert res.objective == pytest.approx(_brute(prob, np.full(S, 0.35)), rel=1e-9)
    assert res.bound >= res.objective - 1e-9


def test_fixed_point_is_consistent_with_the_plans_own_workload():
    """in_range workload: the reported q is within tolerance of q(plan) = calls in range x
    tau / teams, computed here by hand for the returned plan."""
    rng = np.random.default_rng(5)
    P = 6
    lam = rng.uniform(0.5, 3.0, (P, 1))
    r = rng.random((P, P)) < 0.4
    reach = r | r.T | np.eye(P, dtype=bool)
    prob = make(lam, reach, 4000.0, max_teams=3, tau=0.8)
    res = solve_shared(prob, OPTS, SharedSettings(tolerance=0.01, busy_workload="in_range"))
    fp = res.fixed_point
    assert fp.converged and fp.iterations >= 2
    t = res.teams
    covered_any = (in_range(reach[None], t) > 0)[:, 0]
    q_hand = min(0.95, lam[covered_any, 0].sum() * 0.8 / t.sum())
    q_used = res.fixed_point.busy_probability[0]
    assert abs(q_hand - q_used) <= 0.01 + 1e-12
    assert res.fixed_point.busy_probability_from_plan[0] == pytest.approx(q_hand)
    assert busy_from_plan(prob, t, reach[None], 0.95)[0] == pytest.approx(q_hand)


def test_served_workload_fixed_point_matches_hand_formula():
    """served workload (default): q(plan) = expected covered calls x tau / (W x team-hours),
    recomputed by hand from the returned plan's coverage; within the 0.01 tolerance of q."""
    rng = np.random.default_rng(7)
    P = 6
    lam = rng.uniform(0.5, 3.0, (P, 1))
    r = rng.random((P, P)) < 0.4
    reach = r | r.T | np.eye(P, dtype=bool)
    prob = make(lam, reach, 4000.0, max_teams=3, tau=0.8)
    res = solve_shared(prob, OPTS, SharedSettings(tolerance=0.01))
    assert res.fixed_point.converged
    q_used = res.fixed_point.busy_probability[0]
    covered = res.covered.sum()  # calls/year with W = 1 week of 1 hour
    q_hand = covered * 0.8 / res.teams.sum()
    assert res.fixed_point.busy_probability_from_plan[0] == pytest.approx(q_hand)
    assert abs(q_hand - q_used) <= 0.01 + 1e-12


def test_amexclp_option_uses_larson_weights():
    """AMEXCLP at q = 0.5 with 3 teams on duty: first team in range covers Q(3,.5,0) x 0.5."""
    prob = make([[10.0], [10.0], [10.0]], np.ones((3, 3), dtype=bool), 3000.0, max_teams=1)
    res = solve_shared(prob, OPTS, SharedSettings(busy_probability=0.5, amexclp=True))
    assert res.teams.sum() == 3
    # every precinct has 3 teams in range: coverage 1 - ErlangC(3, 1.5) = 0.763158 of 30
    assert res.objective == pytest.approx(30 * 0.763158, abs=1e-4)


def test_citywide_shared_scenario_solves_with_fixed_point_converged():
    """Acceptance: dcs_citywide_shared solves, fixed point converged, neighbours' share in the
    plan (own + neighbour = covered), within the 5e-4 gap it asks for."""
    import bheard

    plan = bheard.solve(bheard.load_scenario(
        SCENARIOS / "dcs_citywide_shared.yaml"))
    assert plan.status == "optimal" and plan.gap <= 5e-4
    assert plan.fixed_point.converged
    a = plan.assignments
    assert np.allclose(a["own_covered_calls"] + a["neighbour_covered_calls"],
                       a["expected_covered_calls"])
    assert a["neighbour_covered_calls"].sum() > 0
    assert plan.annual_cost <= plan.budget + 1e-6
    assert plan.shared.covered_by_neighbours == pytest.approx(
        a["neighbour_covered_calls"].sum())
