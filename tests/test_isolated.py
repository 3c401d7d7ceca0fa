"""The isolated-coverage MIP against brute force, hand-computed cases and invariants."""

import itertools

import numpy as np
import pytest

from bheard.model.isolated import (build_isolated_model, canonical_plan, count_ranges,
                                   diagnose_infeasibility, exchange_groups, fix_by_exchange,
                                   fix_by_reduced_cost, greedy, lagrangian_bound,
                                   make_increments)
from bheard.problem import ProblemData
from bheard.queueing import erlang_b
from bheard.constants import TIE_BREAK_REL
from bheard.optimize.incremental import solve_problem
from bheard.scenario import SolverOptions as SolveOptions


def make_problem(rng, P, S, K, budget_frac, caps=False, mins=False,
                 costs=(1500.0, 2000.0, 2100.0, 2600.0)):
    lam = rng.uniform(0.05, 2.0, size=(P, S))
    if rng.random() < 0.3:
        lam[rng.integers(P), rng.integers(S)] = 0.0  # a precinct-slot with no demand
    cost = rng.choice(costs, size=S)
    W = 52.0
    full = W * cost.sum() * P * K
    prob = ProblemData(
        precinct=np.arange(1, P + 1), borough=np.array(["X"] * P, dtype=object),
        slot_day=np.array(["Mon"] * S, dtype=object),
        slot_tour=np.array([f"t{s}" for s in range(S)], dtype=object),
        slot_hours=rng.choice([4.0, 8.0], size=S), slot_cost_usd=cost,
        calls_per_hour=lam, service_time_hours=float(rng.uniform(0.5, 2.5)), weeks_per_year=W,
        team_budget_usd_per_year=float(budget_frac * full),
        max_teams=np.full((P, S), K, dtype=np.int64),
        min_teams=(rng.integers(0, 2, size=(P, S)) * (rng.random((P, S)) < 0.3)).astype(np.int64)
        if mins else np.zeros((P, S), dtype=np.int64),
        slot_cap=(rng.integers(1, P * K + 1, size=S).astype(float) if caps else np.full(S, np.inf)),
    )
    return prob


def all_plans(prob):
    """Every integer plan within bounds, budget and caps, as an (N, P, S) array, with its
    coverage (calls/year), vectorised so instances of up to ~10^6 plans stay quick."""
    P, S = prob.shape
    K = prob.kmax
    lo, hi = prob.min_teams.ravel(), prob.max_teams.ravel()
    grids = np.meshgrid(*[np.arange(a, b + 1) for a, b in zip(lo, hi)], indexing="ij")
    x = np.stack([g.ravel() for g in grids], axis=1).reshape(-1, P, S)
    cost = prob.team_cost_per_year()
    ok = (x * cost).sum(axis=(1, 2)) <= prob.team_budget_usd_per_year * (1 + 1e-12)
    ok &= np.all(x.sum(axis=1) <= prob.slot_cap, axis=1)
    x = x[ok]
    cov = prob.coverage_table(K)
    value = np.take_along_axis(cov[None], x[..., None], axis=-1)[..., 0].sum(axis=(1, 2))
    return x, value


def brute_force(prob):
    """Max coverage over every integer plan within bounds, budget and caps (or None)."""
    P, S = prob.shape
    K = prob.kmax
    cov = prob.coverage_table(K)
    cost = prob.team_cost_per_year()
    best = None
    for flat in itertools.product(range(K + 1), repeat=P * S):
        x = np.array(flat).reshape(P, S)
        if np.any(x < prob.min_teams) or np.any(x > prob.max_teams):
            continue
        if (x * cost[None, :]).sum() > prob.team_budget_usd_per_year * (1 + 1e-12):
            continue
        if np.any(x.sum(axis=0) > prob.slot_cap):
            continue
        val = np.take_along_axis(cov, x[..., None], axis=-1).sum()
        best = val if best is None else max(best, val)
    return best


EXACT = SolveOptions(mip_rel_gap=0.0, time_limit_s=30)


@pytest.mark.parametrize("seed", range(60))
def test_mip_matches_brute_force(seed):
    """60 random tiny instances (2-3 precincts, 2 slots, K<=3, tight budgets, some caps and
    minimums): the count enumeration, the reduced MIP and the full MIP all equal brute-force
    enumeration within 1e-6 relative."""
    rng = np.random.default_rng(seed)
    P = int(rng.integers(2, 4))
    K = int(rng.integers(1, 4))
    prob = make_problem(rng, P, 2, K, budget_frac=float(rng.uniform(0.05, 0.7)),
                        caps=seed % 3 == 0, mins=seed % 4 == 0)
    expected = brute_force(prob)
    for reduce, states in ((True, None), (True, 0), (False, None)):
        kw = {} if states is None else {"max_count_states": states}  # 0: HiGHS, not counts
        res = solve_problem(prob, SolveOptions(mip_rel_gap=0.0, time_limit_s=30, reduce=reduce),
                            **kw)
        if expected is None:
            assert res.status == "infeasible" and res.diagnosis
            continue
        assert res.status == "optimal"
        assert res.objective == pytest.approx(expected, rel=1e-6, abs=1e-9)
        assert res.bound >= expected * (1 - 1e-9) - 1e-9  # a valid upper bound
        assert prob.annual_cost(res.teams) <= prob.team_budget_usd_per_year * (1 + 1e-9)
        assert np.all(res.teams.sum(axis=0) <= prob.slot_cap)
        assert np.all(res.teams >= prob.min_teams)


def random_small(seed):
    """A random instance small enough to enumerate (<= ~200k plans), with equal-cost slots
    (so exchange groups span several slots), binding caps and minimums on some seeds, and two
    identical precincts (exact ties between plans) on every fifth."""
    rng = np.random.default_rng(1000 + seed)
    S = int(rng.integers(2, 4))
    P = int(rng.integers(2, 4 if S == 3 else 5))
    K = int(rng.integers(1, 3 if P * S > 6 else 4))
    costs = (2000.0, 2600.0) if seed % 2 else (1800.0, 2000.0, 2400.0)
    prob = make_problem(rng, P, S, K, budget_frac=float(rng.uniform(0.1, 0.7)),
                        caps=seed % 3 == 0, mins=seed % 4 == 1, costs=costs)
    if seed % 5 == 2:  # two identical precincts: exact ties, so several optimal plans
        lam = prob.calls_per_hour.copy()
        lam[1] = lam[0]
        prob = ProblemData(**{**prob.__dict__, "calls_per_hour": lam,
                              "min_teams": np.zeros(prob.shape, dtype=np.int64)})
    return prob


@pytest.mark.parametrize("seed", range(40))
def test_mip_matches_brute_force_wider(seed):
    """40 more enumerable instances (2-4 precincts, 2-3 slots, equal-cost slots, caps,
    minimums): the count enumeration and HiGHS on the reduced MIP both equal the brute-force
    optimum within 1e-9 relative."""
    prob = random_small(seed)
    expected = brute_force(prob)
    for kw in ({}, {"max_count_states": 0}):  # count enumeration, then HiGHS on the MIP
        res = solve_problem(prob, EXACT, **kw)
        if expected is None:
            assert res.status == "infeasible"
            return
        assert res.status == "optimal"
        assert res.objective == pytest.approx(expected, rel=1e-9)
        assert res.bound >= expected * (1 - 1e-9)


@pytest.mark.parametrize("seed", range(100))
def test_fixing_never_removes_an_optimal_plan(seed):
    """Brute force over every feasible plan of 100 random enumerable instances: every
    coverage-optimal plan takes every level fixed to 1 and none fixed to 0 by reduced-cost
    fixing and by exchange (count) fixing; every plan at least as good as the incumbent has
    its team count per exchange group inside count_ranges; the canonical incumbent is
    feasible, costs no more, and covers at least as much as the greedy plan."""
    prob = random_small(seed) if seed < 60 else make_problem(
        np.random.default_rng(seed), int(2 + seed % 3), 2, 3,
        budget_frac=0.05 + 0.6 * (seed % 7) / 7, caps=seed % 2 == 0, mins=seed % 5 == 0)
    if diagnose_infeasibility(prob):
        return
    inc = make_increments(prob)
    plans, value = all_plans(prob)
    # each plan as a mask over increments (levels k <= x_ps)
    taken_all = inc.k[None, :] <= plans[:, inc.p, inc.s]
    best = value.max()
    optimal = taken_all[value >= best - 1e-12 * max(best, 1.0)]

    g0 = greedy(prob, inc)
    groups = exchange_groups(prob, inc)
    taken = canonical_plan(inc, groups, g0)
    assert inc.gain[taken].sum() >= inc.gain[g0].sum() - 1e-9
    assert inc.cost[taken].sum() <= inc.cost[g0].sum() + 1e-6
    x = np.zeros(prob.shape, dtype=np.int64)
    np.add.at(x, (inc.p[taken], inc.s[taken]), 1)
    assert (x >= prob.min_teams).all() and (x <= prob.max_teams).all()
    assert (x.sum(axis=0) <= prob.slot_cap).all()
    assert np.array_equal(inc.k <= x[inc.p, inc.s], taken)  # levels in order

    lb = float(inc.gain[taken].sum())
    lag = lagrangian_bound(prob, inc)
    assert lag.value >= best * (1 - 1e-12)
    lo, hi = count_ranges(groups, lag, lb)
    good = taken_all[inc.gain @ taken_all.T.astype(float) >= lb - 1e-9 * max(lb, 1.0)]
    free = groups.group >= 0
    for z in good:
        counts = np.bincount(groups.group[free & z], minlength=groups.n_groups)
        assert (counts >= lo).all() and (counts <= hi).all()
    for one, zero in (fix_by_reduced_cost(inc, lag, lb), fix_by_exchange(inc, groups, lag, lb)):
        assert taken[one].all() and not taken[zero].any()  # the incumbent survives
        for z in optimal:
            assert z[one].all() and not z[zero].any()


def test_exchange_fixing_keeps_tied_optimal_plans():
    """Hand-made ties: three identical precincts in a $3,000 slot (gain 19/20 = 0.95 calls each,
    lam = 19/h, tau = 1 h, 1 h, W = 1) and two in a $2,000 slot (gain 1/2), budget $10,000.
    Three teams at $3,000 cover 2.85; two at $3,000 and two at $2,000 cover 2.9, by three
    equally good plans (any two of the three identical precincts). The count range of the
    $3,000 group is [2, 3] (penalty 0.2 per dropped team, UB - LB = 3.1 - 2.85 = 0.25), so no
    $3,000 team may be fixed: fixing the tied teams would cut the optimal plans."""
    prob = ProblemData(
        precinct=np.array([1, 2, 3]), borough=np.array(["M"] * 3, dtype=object),
        slot_day=np.array(["Mon", "Mon"], dtype=object),
        slot_tour=np.array(["x", "y"], dtype=object), slot_hours=np.array([1.0, 1.0]),
        slot_cost_usd=np.array([3000.0, 2000.0]),
        calls_per_hour=np.array([[19.0, 1.0], [19.0, 1.0], [19.0, 0.0]]),
        service_time_hours=1.0, weeks_per_year=1.0, team_budget_usd_per_year=10000.0,
        max_teams=np.ones((3, 2), int), min_teams=np.zeros((3, 2), int),
        slot_cap=np.array([np.inf, np.inf]))
    inc = make_increments(prob)
    groups = exchange_groups(prob, inc)
    taken = canonical_plan(inc, groups, greedy(prob, inc))
    lb = float(inc.gain[taken].sum())
    lag = lagrangian_bound(prob, inc)
    assert lb == pytest.approx(2.85) and lag.value == pytest.approx(3.1)
    lo, hi = count_ranges(groups, lag, lb)
    dear = groups.group[np.flatnonzero(inc.cost == 3000.0)[0]]
    assert (lo[dear], hi[dear]) == (2, 3)
    one, zero = fix_by_exchange(inc, groups, lag, lb)
    plans, value = all_plans(prob)
    optimal = plans[value >= value.max() - 1e-12]
    assert len(optimal) == 3 and value.max() == pytest.approx(2.9)
    for x in optimal:
        z = inc.k <= x[inc.p, inc.s]
        assert z[one].all() and not z[zero].any()
    assert solve_problem(prob, EXACT).objective == pytest.approx(2.9)


@pytest.mark.parametrize("seed", range(30))
def test_lagrangian_bound_equals_highs_lp(seed):
    """The Lagrangian bound (bisection on the budget multiplier, best cap multipliers) equals
    the LP relaxation's optimum as HiGHS solves it through the solver door, on 30 random
    instances (3-40 precincts, 2-8 slots, K<=5, caps and minimums on some), within 1e-9
    relative (measured: within 3e-16)."""
    from bheard.solver import solve_model

    rng = np.random.default_rng(500 + seed)
    while True:  # redraw until feasible (minimums can exceed a small budget or a cap)
        P, S, K = int(rng.integers(3, 41)), int(rng.integers(2, 9)), int(rng.integers(1, 6))
        prob = make_problem(rng, P, S, K, budget_frac=float(rng.uniform(0.02, 0.9)),
                            caps=seed % 2 == 0, mins=seed % 3 == 0)
        if not diagnose_infeasibility(prob):
            break
    inc = make_increments(prob)
    lag = lagrangian_bound(prob, inc)
    built = build_isolated_model(prob, inc, inc.forced.copy(), np.zeros(inc.n, dtype=bool),
                                 0.0, relax=True)
    run = solve_model(built.model, built.variables, time_limit_s=60,
                      highs_options={"presolve": "off"})
    assert run.termination == "optimal"
    assert lag.value == pytest.approx(run.objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_count_enumeration_matches_highs_on_larger_instances(seed):
    """Instances too big to enumerate plans (20-60 precincts, 3-6 slots, K<=4, caps on some)
    whose greedy plan is not optimal: the exact count enumeration and HiGHS on the reduced MIP
    (gap 0) reach the same coverage within 1e-9, and the enumeration's bound is its own
    objective up to the tie-break (it is the optimum, not a relaxation)."""
    rng = np.random.default_rng(77 + seed)
    prob = make_problem(rng, int(rng.integers(20, 61)), int(rng.integers(3, 7)),
                        int(rng.integers(2, 5)), budget_frac=float(rng.uniform(0.1, 0.5)),
                        caps=seed % 2 == 1, costs=(2000.0, 2000.0, 2600.0))
    counts = solve_problem(prob, EXACT)
    mip = solve_problem(prob, EXACT, max_count_states=0)
    assert counts.status == mip.status == "optimal"
    assert counts.report.bound_source in ("count_enumeration", "decided", "lagrangian_lp")
    assert counts.objective == pytest.approx(mip.objective, rel=1e-9)
    assert counts.bound >= mip.objective * (1 - 1e-9)
    if counts.report.bound_source == "count_enumeration":
        assert counts.gap <= 2 * TIE_BREAK_REL


def test_single_precinct_hand_computed():
    """One precinct, one 8-h slot, lam=1 call/h, tau=1 h, W=1, budget for exactly 2 teams:
    coverage = 8 * (1 - B(2,1)) = 8 * 0.8 = 6.4 calls (B(2,1) = 0.2)."""
    prob = ProblemData(
        precinct=np.array([25]), borough=np.array(["Manhattan"], dtype=object),
        slot_day=np.array(["Mon"], dtype=object), slot_tour=np.array(["day"], dtype=object),
        slot_hours=np.array([8.0]), slot_cost_usd=np.array([1000.0]),
        calls_per_hour=np.array([[1.0]]), service_time_hours=1.0, weeks_per_year=1.0,
        team_budget_usd_per_year=2500.0, max_teams=np.array([[4]]), min_teams=np.array([[0]]),
        slot_cap=np.array([np.inf]))
    res = solve_problem(prob, EXACT)
    assert res.teams[0, 0] == 2
    assert res.objective == pytest.approx(6.4, abs=1e-9)
    assert res.objective == pytest.approx(8 * (1 - erlang_b(2, 1.0)), abs=1e-12)


def test_budget_chooses_higher_gain_per_dollar():
    """Two precincts, one team affordable: it goes where 1-B(1,a) * calls is larger.
    Precinct A: lam=1, tau=1 -> 8*(1-0.5)=4 calls; B: lam=3 -> 24*(1-0.75)=6 calls."""
    prob = ProblemData(
        precinct=np.array([1, 5]), borough=np.array(["M", "M"], dtype=object),
        slot_day=np.array(["Mon"], dtype=object), slot_tour=np.array(["day"], dtype=object),
        slot_hours=np.array([8.0]), slot_cost_usd=np.array([1000.0]),
        calls_per_hour=np.array([[1.0], [3.0]]), service_time_hours=1.0, weeks_per_year=1.0,
        team_budget_usd_per_year=1000.0, max_teams=np.array([[2], [2]]), min_teams=np.zeros((2, 1), int),
        slot_cap=np.array([np.inf]))
    res = solve_problem(prob, EXACT)
    assert res.teams[:, 0].tolist() == [0, 1]
    assert res.objective == pytest.approx(6.0, abs=1e-9)


def test_equal_coverage_prefers_cheaper_plan():
    """Identical precinct-slots in a cheap and a dear tour, budget for the dear one: the
    gains are equal, so the tie-break must pick the cheaper slot."""
    prob = ProblemData(
        precinct=np.array([1]), borough=np.array(["M"], dtype=object),
        slot_day=np.array(["Mon", "Mon"], dtype=object),
        slot_tour=np.array(["day", "evening"], dtype=object),
        slot_hours=np.array([8.0, 8.0]), slot_cost_usd=np.array([2100.0, 2000.0]),
        calls_per_hour=np.array([[0.5, 0.5]]), service_time_hours=1.0, weeks_per_year=1.0,
        team_budget_usd_per_year=2100.0, max_teams=np.array([[1, 1]]), min_teams=np.zeros((1, 2), int),
        slot_cap=np.array([np.inf, np.inf]))
    for reduce in (True, False):
        res = solve_problem(prob, SolveOptions(mip_rel_gap=0.0, reduce=reduce))
        assert res.teams.tolist() == [[0, 1]]


def test_objective_non_decreasing_in_budget():
    """Coverage never falls as the budget grows, and cost never exceeds the budget."""
    rng = np.random.default_rng(7)
    base = make_problem(rng, 6, 4, 3, budget_frac=0.0, caps=True)
    last = -1.0
    for frac in np.linspace(0.0, 1.0, 12):
        prob = ProblemData(**{**base.__dict__, "team_budget_usd_per_year":
                              float(frac * 52 * base.slot_cost_usd.sum() * 6 * 3)})
        res = solve_problem(prob, EXACT)
        assert res.status == "optimal"
        assert prob.annual_cost(res.teams) <= prob.team_budget_usd_per_year * (1 + 1e-9)
        assert res.objective >= last - 1e-6
        last = res.objective


def test_reduced_cost_fixing_is_exact_and_greedy_is_near_optimal():
    """On a 40x6 instance: greedy is feasible, LB <= optimum <= Lagrangian UB, and every
    increment fixed to 1 (0) is taken (not taken) in the optimal plan."""
    rng = np.random.default_rng(11)
    prob = make_problem(rng, 40, 6, 4, budget_frac=0.3)
    inc = make_increments(prob)
    taken = greedy(prob, inc)
    lb = inc.gain[taken].sum()
    lag = lagrangian_bound(prob, inc)
    one, zero = fix_by_reduced_cost(inc, lag, lb)
    res = solve_problem(prob, SolveOptions(mip_rel_gap=0.0, reduce=False))
    assert lb <= res.objective + 1e-6 <= lag.value + 1e-6
    x = res.teams
    taken_opt = inc.k <= x[inc.p, inc.s]
    assert np.all(taken_opt[one]) and not np.any(taken_opt[zero])


def test_infeasible_diagnosis_names_constraints():
    """Minimum staffing above the budget and above a slot cap: both conflicts are named."""
    prob = ProblemData(
        precinct=np.array([1, 5]), borough=np.array(["M", "M"], dtype=object),
        slot_day=np.array(["Mon"], dtype=object), slot_tour=np.array(["day"], dtype=object),
        slot_hours=np.array([8.0]), slot_cost_usd=np.array([1000.0]),
        calls_per_hour=np.array([[1.0], [1.0]]), service_time_hours=1.0, weeks_per_year=1.0,
        team_budget_usd_per_year=1500.0, max_teams=np.array([[2], [2]]), min_teams=np.array([[1], [1]]),
        slot_cap=np.array([1.0]), slot_cap_label=np.array(["limits.max_teams_per_tour[day]"], dtype=object))
    diag = diagnose_infeasibility(prob)
    text = " | ".join(diag)
    assert "limits.max_teams_per_tour[day]" in text and "budget.annual_usd" in text
    assert "limits.min_teams" in text
    res = solve_problem(prob)
    assert res.status == "infeasible" and res.diagnosis == diag


def test_time_limit_returns_incumbent_with_gap():
    """A tiny time limit on a 300x42 instance with fixing off still returns a feasible plan
    with a finite gap, not an exception."""
    rng = np.random.default_rng(3)
    prob = make_problem(rng, 300, 42, 4, budget_frac=0.2)
    res = solve_problem(prob, SolveOptions(time_limit_s=0.5, reduce=False, warm_start=True))
    assert res.status in ("optimal", "time_limit_feasible")
    assert res.teams is not None and np.isfinite(res.gap) and res.bound >= res.objective
    assert prob.annual_cost(res.teams) <= prob.team_budget_usd_per_year * (1 + 1e-9)
