"""Slot counts (bheard.optimize.slot_lp.slot_count_plan): the shared model's bound and plan
through the number of teams per slot, the budget's integrality gap closed by enumerating
teams per cost class (models/shared_coverage.md, "Slot counts").

Checked against full enumeration of every plan on small instances, against HiGHS's MIP
optimum and LP relaxation on larger ones (the bound lies between them), and the pieces of
the bound (concave majorant, extrapolation beyond the window) against the slot LP at every
count."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from bheard.model.base import covered_from_counts, in_range, preferences
from bheard.model.hypercube import frozen_gains
from bheard.model.shared import slot_lp_groups, slot_lp_vectors
from bheard.optimize.fixed_point import solve_lp_relaxation, solve_shared, solve_shared_mip
from bheard.optimize.slot_lp import (concave_majorant, extended_bound, slot_count_plan,
                                     slot_counts_apply)
from bheard.optimize.registry import formulation_for
from bheard.optimize.stochastic import sample_busy_model
from bheard.scenario import SolverOptions, load_scenario
from bheard.solver import LpFamily
from helpers import make_shared as make
from helpers import shared_settings as SharedSettings
from test_stochastic import _dispatch_dict, _one_sample


def _gains(prob, q=0.35):
    """Gains at a fixed busy probability ``q`` (equivalent load q / (1 - q) everywhere)."""
    pref = preferences(prob.reach, prob.travel_min, prob.service_time_hours)
    return pref, frozen_gains(prob, pref, np.full(prob.shape, q / (1 - q)))


def _value(G, reach, teams):
    return float(covered_from_counts(G, in_range(reach, teams)).sum())


def _brute(prob, G):
    """Best covered calls/year over every plan within the budget and the team limits (all
    plans at once: counts in range by einsum, coverage from the cumulative gains)."""
    P, S = prob.shape
    cost = prob.team_cost_per_year()
    K = int(prob.max_teams.max())
    plans = np.array(list(itertools.product(range(K + 1), repeat=P * S))).reshape(-1, P, S)
    ok = ((plans <= prob.max_teams) & (plans >= prob.min_teams)).all(axis=(1, 2))
    ok &= (plans.sum(axis=1) * cost).sum(axis=1) <= prob.team_budget_usd_per_year * (1 + 1e-12)
    ok &= (plans.sum(axis=1) <= prob.slot_cap).all(axis=1)
    plans = plans[ok]
    counts = np.einsum("sij,cjs->cis", prob.reach.astype(np.int64), plans)
    cum = np.concatenate([np.zeros(G.shape[:2] + (1,)), np.cumsum(G, axis=-1)], axis=-1)
    idx = np.minimum(counts, G.shape[-1])
    vals = np.take_along_axis(cum[None], idx[..., None], axis=-1)[..., 0].sum(axis=(1, 2))
    return float(vals.max())


def _random(seed, P, S, costs, K=2, budget_teams=(3, 6), caps=None):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(1, 20, (P, S))
    r = rng.random((P, P)) < 0.5
    reach = r | r.T | np.eye(P, dtype=bool)
    budget = rng.uniform(*budget_teams) * float(np.mean(costs))
    return make(lam, reach, budget=budget, cost=costs, max_teams=K, caps=caps)


# ---------------------------------------------------------------------------- pieces
def test_concave_majorant_by_hand():
    """(0, 1, 1.5, 3): the hull is the line from (0, 0) to (3, 3); concave values stay."""
    assert concave_majorant(np.array([0.0, 1.0, 1.5, 3.0])).tolist() == pytest.approx(
        [0, 1, 2, 3])
    v = np.array([0.0, 4.0, 6.0, 7.0, 7.5])
    assert concave_majorant(v).tolist() == pytest.approx(v.tolist())


@pytest.mark.parametrize("seed", range(4))
def test_extended_bound_is_above_the_slot_lp_at_every_count(seed):
    """The slot LP's value V(n) with at most n teams, solved at every count of the slot: it
    is concave and nondecreasing, and the bound extended from any window of two or more
    counts lies above it everywhere (equal on the window)."""
    prob = _random(seed, P=10, S=1, costs=[1000.0], K=3, budget_teams=(50, 60))
    pref, G = _gains(prob)
    (group,) = slot_lp_groups(prob, G, pref)
    fam = LpFamily(group.base)
    hi = int(prob.max_teams.sum())
    V = []
    for n in range(hi + 1):
        c, cl, ch, rl, rh = slot_lp_vectors(prob, G, group, 0, 0.0)
        rh[-1] = n
        V.append(fam.solve(c, cl, ch, rl, rh, time_limit_s=10).objective)
    V = np.array(V)
    tol = 1e-8 * V.max()  # HiGHS's LP tolerances
    assert (np.diff(V) >= -tol).all() and (np.diff(V, 2) <= tol).all()
    for a, b in [(0, 1), (3, 5), (hi - 1, hi), (7, 12), (hi // 2, hi // 2 + 1)]:
        ext = extended_bound({n: V[n] for n in range(a, b + 1)}, 0, hi)
        assert (ext >= V - tol).all()
        assert ext[a:b + 1] == pytest.approx(V[a:b + 1], abs=tol)


# ---------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape,costs", [((4, 2), [1000.0, 1300.0]),
                                         ((3, 3), [1000.0, 1170.0, 1420.0])])
def test_slot_count_plan_equals_brute_force(seed, shape, costs):
    """With the budget the only link between slots, the slot-count plan is the best of every
    plan (full enumeration), its bound is at least that and, when it reports a zero gap,
    equal; from any starting counts (the windows widen to where the bound's counts are)."""
    P, S = shape
    prob = _random(seed, P, S, costs)
    assert slot_counts_apply(prob)
    pref, G = _gains(prob)
    best = _brute(prob, G)
    for centre in (np.zeros(S), np.full(S, 2 * P)):
        res = slot_count_plan(prob, G, pref, centre, rel_gap=0.0)
        assert res.status == "optimal"
        cost = (res.teams.sum(axis=0) * prob.team_cost_per_year()).sum()
        assert cost <= prob.team_budget_usd_per_year * (1 + 1e-12)
        assert (res.teams <= prob.max_teams).all() and (res.teams >= prob.min_teams).all()
        assert _value(G, pref, res.teams) == pytest.approx(res.value, rel=1e-12)
        assert res.bound >= best - 1e-9
        assert res.value == pytest.approx(best, rel=1e-9)
        assert res.bound == pytest.approx(best, rel=1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_first_round_bound_is_valid_from_far_windows(seed, monkeypatch):
    """One round of narrow windows far from the optimum (counts 0-1 per slot): the counts
    outside them are bounded by extension alone, and that bound is still at least the
    brute-force optimum; a time limit of zero returns no bound and no crash."""
    import bheard.optimize.slot_lp as sl

    prob = _random(seed, 4, 2, [1000.0, 1300.0], budget_teams=(4, 6))
    pref, G = _gains(prob)
    best = _brute(prob, G)
    monkeypatch.setattr(sl, "COUNT_ROUNDS", 1)
    monkeypatch.setattr(sl, "COUNT_WINDOW", 1)
    res = slot_count_plan(prob, G, pref, np.zeros(2), rel_gap=0.0)
    assert res.status == "optimal" and res.rounds == 1
    assert res.bound >= best * (1 - 1e-9)
    assert res.value <= best * (1 + 1e-9)
    out = slot_count_plan(prob, G, pref, np.zeros(2), time_limit_s=0.0)
    assert out.status == "time_limit" and out.teams is None


@pytest.mark.parametrize("seed", range(3))
def test_slot_cap_and_minimum_staffing_are_kept(seed):
    """A slot cap of 2 teams and one precinct that must have a team in slot 0: brute force
    with the same limits."""
    prob = _random(seed, 4, 2, [1000.0, 1300.0], caps=[2, np.inf], budget_teams=(4, 6))
    mn = np.zeros((4, 2), dtype=np.int64)
    mn[1, 0] = 1
    prob = dataclasses.replace(prob, min_teams=mn)
    pref, G = _gains(prob)
    res = slot_count_plan(prob, G, pref, np.ones(2), rel_gap=0.0)
    assert res.teams[:, 0].sum() <= 2 and res.teams[1, 0] >= 1
    assert res.value == pytest.approx(_brute(prob, G), rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_bound_lies_between_highs_mip_optimum_and_lp(seed):
    """Larger instances (16 precincts, 4 slots, up to 3 teams, two team costs): HiGHS's MIP
    optimum (gap 1e-9) <= the slot-count bound < HiGHS's LP relaxation (by 0.1-3% here: a
    fractional team), and the slot-count plan reaches the MIP optimum."""
    rng = np.random.default_rng(100 + seed)
    P, S = 16, 4
    pts = rng.uniform(0, 10, (P, 2))
    travel = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    reach = (travel <= 3.5) | np.eye(P, dtype=bool)
    lam = rng.uniform(0.5, 8.0, (P, S))
    prob = make(lam, reach, budget=rng.uniform(9.3, 14.7) * 1000.0,
                cost=[1000.0, 1130.0, 1130.0, 1000.0], max_teams=3)
    pref, G = _gains(prob)
    _, lp, X = solve_lp_relaxation(prob, G, pref, None)
    res = slot_count_plan(prob, G, pref, X.sum(axis=0), rel_gap=0.0)
    mip = solve_shared_mip(prob, G, pref, res.teams, None, time_limit_s=60, mip_rel_gap=1e-9)
    assert mip.status == "optimal"
    opt = _value(G, pref, mip.teams)
    assert opt <= res.bound * (1 + 1e-9)
    assert res.bound <= lp * (1 + 1e-9)
    assert lp > res.bound * (1 + 1e-4)  # these budgets leave the LP a fraction of a team
    assert res.value == pytest.approx(opt, rel=1e-7)


def test_solve_shared_uses_the_slot_count_bound_when_the_lp_leaves_a_gap():
    """A budget that buys 2.5 teams of the cheaper kind: the LP relaxation spends the half
    team, the slot-count bound does not; the driver certifies the brute-force optimum with
    it (bound source ``slot_count``) without a MIP."""
    rng = np.random.default_rng(7)
    lam = rng.uniform(1, 20, (4, 2))
    reach = np.eye(4, dtype=bool) | np.eye(4, k=1, dtype=bool) | np.eye(4, k=-1, dtype=bool)
    prob = make(lam, reach, budget=2500.0, cost=[1000.0, 1300.0])
    pref, G = _gains(prob)
    res = solve_shared(prob, SolverOptions(time_limit_s=30, mip_rel_gap=1e-6),
                       SharedSettings(busy_probability=0.35))
    _, lp, _ = solve_lp_relaxation(prob, G, pref, None)
    best = _brute(prob, G)
    assert res.report.bound_source == "slot_count"
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert res.bound == pytest.approx(best, rel=1e-7) and lp > best * (1 + 1e-4)


# ---------------------------------------------------------------------------- early LP round
def test_early_lp_round_that_does_not_converge_falls_back_to_the_cheap_phase():
    """``cheap_iterations=1`` (the shared SAA's schedule): on an instance whose fixed point
    needs about 20 cheap iterations, the early LP round does not converge, the rest of the
    cheap phase runs and the solve ends where the default schedule ends: same status, plan
    and objective."""
    d = _dispatch_dict("shared", budget={"annual_usd": 2_500_000},
                       solver={"time_limit_s": 20, "mip_rel_gap": 1e-4})
    d["demand"]["uncertainty"] = {"cv": 0.4, "samples": 3, "evaluation_samples": 3}
    sc = load_scenario(d)
    prob = formulation_for(sc).problem(sc)
    one = _one_sample(prob, prob.samples.rates[1])
    runs = []
    for cheap in (None, 1):
        busy = sample_busy_model(one, sc.coverage, one.samples.rates)
        runs.append(solve_shared(one, sc.solver, sc.coverage, None, busy=busy,
                                 cheap_iterations=cheap))
    ref, early = runs
    assert [r["phase"] for r in early.fixed_point.trace[:3]] == ["local search", "lp",
                                                                  "local search"]
    assert len(ref.fixed_point.trace) > 10
    assert early.status == ref.status == "optimal"
    assert np.array_equal(early.teams, ref.teams)
    assert early.objective == pytest.approx(ref.objective, rel=1e-9)


def test_lp_family_time_limit_is_per_solve_not_the_instance_clock():
    """HiGHS compares time_limit with its instance's run clock, which adds up over every
    run() (ERGO-Code/HiGHS#1331): before the fix, a family whose solves together took longer
    than one solve's limit reported every later solve as stopped by the time limit (at
    2000x168 this cut the slot LPs' price search after one sweep). Each solve here takes about
    0.05 s and the limit is 0.6 s: 40 solves (about 2 s together) must all be optimal, with
    the objective of a fresh HiGHS solve of the same LP."""
    from bheard.model.base import ArrayModel, csc_from_triplets
    from bheard.solver import solve_arrays
    from bheard.solver.highs import LpFamily

    rng = np.random.default_rng(0)
    n, m = 1500, 200
    rows = rng.integers(0, m, n * 4)
    cols = np.repeat(np.arange(n), 4)
    A = csc_from_triplets(rows, cols, rng.uniform(0.1, 1.0, n * 4), (m, n))
    lp = ArrayModel(c=rng.uniform(0, 1, n), A=A, row_lo=np.full(m, -np.inf),
                    row_hi=np.ones(m), col_lo=np.zeros(n), col_hi=np.ones(n), maximize=True)
    fam = LpFamily(lp)
    costs = rng.uniform(0.0, 1.0, (40, n))
    terms = [fam.solve(c, lp.col_lo, lp.col_hi, lp.row_lo, lp.row_hi,
                       time_limit_s=0.6) for c in costs]
    if fam._h.getRunTime() <= 0.6:
        pytest.skip("this machine solved the 40 LPs faster than one limit: nothing to show")
    assert [t.termination for t in terms] == ["optimal"] * len(terms)
    for k in (0, 39):
        fresh = solve_arrays(ArrayModel(c=costs[k], A=A, row_lo=lp.row_lo, row_hi=lp.row_hi,
                                        col_lo=lp.col_lo, col_hi=lp.col_hi, maximize=True),
                             time_limit_s=60.0)
        assert terms[k].objective == pytest.approx(fresh.objective, rel=1e-9)
