"""The shared model at scale: lock-step greedy, incremental local search, the LP bound by slot.

Each piece is checked against a plain reference computed here: the greedy against a
one-team-at-a-time greedy that recomputes every marginal from scratch, the local search by
checking that no single move of its neighbourhood improves its result, and the slot-priced
bound against HiGHS's value of the whole LP (strong duality) and, price by price, against it
from above (weak duality).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bheard.model.base import covered_from_counts, in_range, preferences
from bheard.model.shared import greedy_shared, improve_plan
from bheard.optimize import fixed_point
from bheard.optimize.fixed_point import solve_lp_relaxation, solve_shared
from bheard.optimize.slot_lp import slot_priced_lp
from bheard.scenario import SolverOptions
from helpers import make_shared as make
from helpers import shared_settings as SharedSettings


def _instance(seed: int, P: int = 12, S: int = 5, K: int = 3, roles: bool = False,
              caps: bool = False):
    """Random shared instance: precincts in a square, reach within a travel radius, costs
    that differ by slot, random gains G (P, S, L) falling with the level."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.2, 3.0, (P, S))
    pts = rng.uniform(0, 10, (P, 2))
    travel = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2) * 2.0
    reach = (travel.T <= 7.0) | np.eye(P, dtype=bool)
    cost = rng.uniform(800.0, 1400.0, S)
    budget = float(cost.mean() * P * S * K * 0.3)
    prob = make(lam, reach, budget, max_teams=K, tau=1.0, cost=cost,
                caps=np.where(rng.random(S) < 0.5, np.floor(P * K * 0.2), np.inf) if caps else None)
    prob = dataclasses.replace(prob, travel_min=np.broadcast_to(travel, (S, P, P)).copy())
    if roles:
        prob = dataclasses.replace(prob, role_fte_per_team=rng.uniform(0.5, 1.5, (2, S)),
                                   role_cap=np.array([P * S * K * 0.15, np.inf]),
                                   role_names=("emt", "sw"))
    pref = preferences(prob.reach, prob.travel_min, 1.0)
    L = int(in_range(pref, prob.max_teams).max())
    G = np.sort(rng.uniform(0.0, 50.0, (P, S, L)), axis=-1)[..., ::-1] * lam[..., None]
    G[np.arange(L)[None, None, :] >= in_range(pref, prob.max_teams)[..., None]] = 0.0
    return prob, pref, G


def _value(G, pref, teams):
    return float(covered_from_counts(G, in_range(pref, teams)).sum())


def _reference_greedy(prob, G, pref):
    """One team at a time: every marginal ratio recomputed from scratch; the best affordable
    team is added; a slot whose best team does not fit the budget, its cap or a role cap is
    closed (ties: lowest slot, then lowest location)."""
    P, S = prob.shape
    t = prob.min_teams.astype(np.int64).copy()
    cost = prob.team_cost_per_year()
    fte = prob.role_fte_per_team
    closed = np.zeros(S, dtype=bool)
    while True:
        base = _value(G, pref, t)
        best = None
        for s in range(S):
            if closed[s]:
                continue
            for j in range(P):
                if t[j, s] >= prob.max_teams[j, s]:
                    continue
                t[j, s] += 1
                m = _value(G, pref, t) - base
                t[j, s] -= 1
                r = m / cost[s]
                if m > 1e-12 and (best is None or r > best[0] + 1e-15 * abs(r)):
                    best = (r, s, j)
        if best is None:
            return t
        _, s, j = best
        spent = float((t.sum(axis=0) * cost).sum())
        ok = (t[:, s].sum() < prob.slot_cap[s]
              and cost[s] <= prob.team_budget_usd_per_year - spent + 1e-9)
        if ok and fte is not None:
            ok = bool((fte @ t.sum(axis=0) + fte[:, s] <= prob.role_cap + 1e-9).all())
        if ok:
            t[j, s] += 1
        else:
            closed[s] = True


@pytest.mark.parametrize("seed,roles,caps", [(0, False, False), (1, False, True),
                                             (2, True, False), (3, True, True), (4, False, False)])
def test_lock_step_greedy_equals_the_one_team_at_a_time_greedy(seed, roles, caps):
    prob, pref, G = _instance(seed, roles=roles, caps=caps)
    got = greedy_shared(prob, G, pref)
    ref = _reference_greedy(prob, G, pref)
    assert _value(G, pref, got) == pytest.approx(_value(G, pref, ref), rel=1e-9)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("seed,roles,caps", [(5, False, False), (6, True, True)])
def test_local_search_result_has_no_improving_move(seed, roles, caps):
    """From a deliberately poor plan (half the greedy's teams), the local search ends where no
    single addition, cross-slot move or within-slot relocation keeps the plan feasible and
    improves it (checked by trying every such move)."""
    prob, pref, G = _instance(seed, roles=roles, caps=caps)
    start = greedy_shared(prob, G, pref) // 2
    t = improve_plan(prob, G, pref, start)
    P, S = prob.shape
    cost = prob.team_cost_per_year()
    v = _value(G, pref, t)
    assert v >= _value(G, pref, start)
    tol = 1e-9 * max(1.0, float(G[..., 0].sum())) * 1e-3 + 1e-9

    def feasible(x):
        n = x.sum(axis=0)
        ok = (x >= prob.min_teams).all() and (x <= prob.max_teams).all()
        ok &= bool((n <= prob.slot_cap).all())
        ok &= float((n * cost).sum()) <= prob.team_budget_usd_per_year * (1 + 1e-12) + 1e-9
        if prob.role_fte_per_team is not None:
            ok &= bool((prob.role_fte_per_team @ n <= prob.role_cap + 1e-9).all())
        return bool(ok)

    assert feasible(t)
    cells = [(j, s) for j in range(P) for s in range(S)]
    for (j, s) in cells:  # additions
        x = t.copy()
        x[j, s] += 1
        assert not (feasible(x) and _value(G, pref, x) > v + tol)
    for (j, s) in cells:  # moves of one team anywhere
        if t[j, s] <= prob.min_teams[j, s]:
            continue
        for (k, s2) in cells:
            if (k, s2) == (j, s):
                continue
            x = t.copy()
            x[j, s] -= 1
            x[k, s2] += 1
            assert not (feasible(x) and _value(G, pref, x) > v + tol + 1e-6 * v), (j, s, k, s2)


@pytest.mark.parametrize("seed,caps", [(10, False), (11, True), (12, False)])
def test_slot_priced_bound_is_the_lp_value_and_valid_at_every_price(seed, caps):
    """Strong duality: minimised over the budget price, the slot LPs give HiGHS's value of
    the whole LP relaxation; weak duality: every price evaluated gives a bound above it."""
    prob, pref, G = _instance(seed, P=14, S=6, K=3, caps=caps)
    status, lp, _ = solve_lp_relaxation(dataclasses.replace(prob), G, pref, None)
    assert status == "optimal"
    res = slot_priced_lp(prob, G, pref, plan=greedy_shared(prob, G, pref), rel_gap=1e-10)
    assert res.status == "optimal"
    assert res.bound == pytest.approx(lp, rel=1e-6)
    for sw in res.sweeps:
        assert sw["bound"] >= lp * (1 - 1e-7)
    assert res.bound >= _value(G, pref, greedy_shared(prob, G, pref)) * (1 - 1e-7)


def test_driver_with_the_slot_bound_matches_the_whole_lp(monkeypatch):
    """The same solve with the LP bound by slot (threshold lowered to this size) and with
    the whole LP: both certified to the gap, the same plan value within that gap."""
    rng = np.random.default_rng(7)
    P, S = 10, 4
    lam = rng.uniform(0.3, 2.0, (P, S))
    pts = rng.uniform(0, 10, (P, 2))
    travel = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2) * 2.0
    reach = (travel.T <= 8.0) | np.eye(P, dtype=bool)
    prob = make(lam, reach, 12_000.0, max_teams=3, tau=1.2, cost=[1000.0, 1100.0, 900.0, 1200.0])
    prob = dataclasses.replace(prob, travel_min=np.broadcast_to(travel, (S, P, P)).copy(),
                               slot_hours=np.full(S, 8.0))
    opts = SolverOptions(time_limit_s=60, mip_rel_gap=1e-4)
    whole = solve_shared(prob, opts, SharedSettings())
    monkeypatch.setattr(fixed_point, "SLOT_LP_MIN_CELLS", 1)
    by_slot = solve_shared(prob, opts, SharedSettings())
    assert by_slot.report.bound_source in ("slot_lp", "highs_mip")
    assert whole.report.bound_source in ("highs_lp", "highs_mip")
    for r in (whole, by_slot):
        assert r.gap <= 1e-4 + 1e-12
    assert by_slot.objective == pytest.approx(whole.objective, rel=3e-4)
