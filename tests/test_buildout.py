"""Buildout (multi-period hiring ramp, models/buildout.md): brute force against the MIP,
invariants of solved ramps, the diagnosis of infeasible ramps, outputs, CLI and API."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest
from helpers import SCENARIOS, tiny_dict
from scipy.optimize import linprog
from typer.testing import CliRunner

import bheard
from bheard.buildout import Buildout
from bheard.cli import app
from bheard.errors import InputError
from bheard.model.buildout import (
    aggregate_applies,
    check_ramp,
    diagnose,
    max_headcount_path,
    ramp_value,
    spend,
    staff_needed,
)
from bheard.optimize.buildout import (
    count_relaxation,
    count_relaxation_values,
    place_counts,
    solve_buildout,
)
from bheard.problem.buildout import BuildoutData, FloorRule
from bheard.scenario import SolverOptions

EXACT = SolverOptions(time_limit_s=60, mip_rel_gap=1e-9)


# ----------------------------------------------------------------------------------------
# random tiny instances and an independent brute force
# ----------------------------------------------------------------------------------------
def random_data(seed: int, P: int, C: int, T: int = 3, K: int = 2, R: int = 2,
                shared: bool = False, per_period: str = "") -> BuildoutData:
    """A random buildout problem: concave gains, caps, pipelines, attrition, bench pay,
    training cost, budgets per period or per fiscal year, floors, ramp limits.
    ``per_period``: "growth" scales every gain by 1.03^t (demand growth), "vary" by a random
    factor per (period, precinct, column): per-period gains (T, P, C, L)."""
    rng = np.random.default_rng(seed)
    max_teams = rng.integers(1, K + 1, (P, C))
    reach = None
    if shared:
        reach = rng.random((C, P, P)) < 0.5
        reach[:, np.arange(P), np.arange(P)] = True
        L = P * K
        cap_in = np.einsum("cij,jc->ic", reach.astype(int), max_teams)
    else:
        L = K
        cap_in = max_teams
    G = -np.sort(-rng.uniform(0, 100, (P, C, L)), axis=-1)
    G[np.arange(L)[None, None, :] >= cap_in[..., None]] = 0.0
    if per_period == "growth":
        G = G[None] * 1.03 ** np.arange(T)[:, None, None, None]
    elif per_period == "vary":
        G = G[None] * rng.uniform(0.7, 1.3, (T, P, C, 1))
    start = (rng.random((P, C)) < 0.3).astype(np.int64) * np.minimum(max_teams, 1)
    fte = rng.uniform(0.3, 1.5, (R, C))
    cost_week = rng.uniform(1000, 3000, C)
    hire_cap = np.where(rng.random((R, T)) < 0.25, np.inf, rng.uniform(0.3, 2.5, (R, T)))
    period_fy = np.array([0, 0, 1])[:T] if T == 3 else np.zeros(T, dtype=int)
    F = int(period_fy.max()) + 1
    full_cost = float(cost_week @ max_teams.sum(axis=0)) * 13.0  # every team, one period
    rule = "period" if rng.random() < 0.5 else "fiscal_year"
    # a period may spend u x full_cost: u < 1 makes the budget bind
    budget = rng.uniform(0.3, 1.0, F) * full_cost * (
        4.0 if rule == "period" else np.bincount(period_fy))
    floors = ()
    if rng.random() < 0.5:
        j, c = int(rng.integers(P)), int(rng.integers(C))
        teams = np.zeros((P, C), dtype=np.int64)
        teams[j, c] = int(max_teams[j, c])
        floors = (FloorRule("buildout.milestones[0] (test)", T - 1, teams),)
    ramp = np.where(rng.random((C, 1)) < 0.3, 1.0, np.inf) * np.ones((C, T))
    return BuildoutData(
        precinct=np.arange(1, P + 1), borough=np.array(["Manhattan"] * P, dtype=object),
        column_tour=np.array([f"t{c}" for c in range(C)], dtype=object),
        column_day=np.array([""] * C, dtype=object),
        column_slots=tuple(np.array([c]) for c in range(C)),
        slot_day=np.array(["Mon"] * C, dtype=object),
        slot_tour=np.array([f"t{c}" for c in range(C)], dtype=object),
        column_cost_usd_per_week=cost_week, column_fte=fte, max_teams=max_teams,
        column_cap=np.where(rng.random(C) < 0.3, rng.integers(1, P * K + 1, C), np.inf),
        column_cap_label=np.array(["limits.max_teams_per_tour"] * C, dtype=object),
        gains=G, reach=reach, eligible_calls_per_year=G.sum(axis=-1).reshape(-1, P, C)[0] * 1.5,
        coverage_model="test", period_label=np.array([f"P{t}" for t in range(T)], dtype=object),
        period_start=np.array([""] * T, dtype=object), period_fy=period_fy,
        period_weeks=13.0, weeks_per_year=52.0,
        period_weight=0.25 * (1.0 + rng.uniform(0, 0.1)) ** -np.arange(T),
        fiscal_year=np.array([f"FY{27 + f}" for f in range(F)], dtype=object),
        budget_usd=budget, role_names=tuple(f"r{r}" for r in range(R)), hire_cap=hire_cap,
        survival=rng.uniform(0.85, 1.0, R),
        start_headcount=fte @ start.sum(axis=0) * rng.uniform(1.0, 1.3, R),
        role_cap=np.where(rng.random(R) < 0.3, rng.uniform(1.0, 4.0, R), np.inf),
        bench_usd_per_fte_year=rng.uniform(0, 40000, R),
        train_usd_per_hire=np.where(rng.random(R) < 0.5, 0.0, rng.uniform(0, 3000, R)),
        start_teams=start, allow_reductions=bool(rng.random() < 0.4), floors=floors,
        ramp_cap=ramp, budget_per=rule)


def hiring_feasible(d: BuildoutData, totals: np.ndarray) -> bool:
    """Is there a hiring plan (continuous hires and headcount) that staffs team totals
    (T, C) within the pipelines, role caps and budgets? An LP (scipy), written from the
    model's definition, independent of bheard's minimal-headcount argument."""
    T = d.shape[0]
    R = len(d.role_names)
    need = d.column_fte @ totals.T  # (R, T)
    nS, nh = R * T, R * (T - 1)

    def s(r, t):
        return r * T + t

    def h(r, t):
        return nS + r * (T - 1) + t

    A_eq, b_eq, A_ub, b_ub = [], [], [], []
    for r in range(R):
        row = np.zeros(nS + nh)
        row[s(r, 0)] = 1.0
        A_eq.append(row), b_eq.append(d.start_headcount[r])
        for t in range(1, T):
            row = np.zeros(nS + nh)
            row[s(r, t)], row[s(r, t - 1)], row[h(r, t - 1)] = 1.0, -d.survival[r], -1.0
            A_eq.append(row), b_eq.append(0.0)
    y = d.period_weeks / d.weeks_per_year
    team = totals @ (d.column_cost_usd_per_week * d.period_weeks)
    groups, limits, _ = d.budget_rows()
    for g, lim in zip(groups, limits):
        row = np.zeros(nS + nh)
        const = 0.0
        for t in g:
            const += team[t] - y * float(d.bench_usd_per_fte_year @ need[:, t])
            for r in range(R):
                row[s(r, t)] += y * d.bench_usd_per_fte_year[r]
                if t < T - 1:
                    row[h(r, t)] += d.train_usd_per_hire[r]
        A_ub.append(row), b_ub.append(lim - const)
    bounds = []
    for r in range(R):
        for t in range(T):  # max_headcount, or what attrition leaves of a larger start
            ub = max(d.role_cap[r], d.start_headcount[r] * d.survival[r] ** t)
            bounds.append((need[r, t], ub if math.isfinite(ub) else None))
    for r in range(R):
        for t in range(T - 1):
            bounds.append((0.0, d.hire_cap[r, t] if math.isfinite(d.hire_cap[r, t]) else None))
    if any(ub is not None and lo > ub + 1e-9 for lo, ub in bounds):
        return False
    res = linprog(np.zeros(nS + nh), A_ub=np.array(A_ub), b_ub=np.array(b_ub),
                  A_eq=np.array(A_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
    return res.status == 0


def brute_force(d: BuildoutData, totals: np.ndarray | None = None) -> float | None:
    """The best ramp value by enumerating every team vector of every period (None if no ramp
    is feasible). Coverage counted directly from the gains and teams in range. ``totals``
    (T, C): only ramps with these teams per period and column."""
    T, P, C = d.shape
    vecs = np.array(list(itertools.product(*[range(int(m) + 1) for m in d.max_teams.ravel()])),
                    dtype=np.int64).reshape(-1, P, C)
    reach = d.reach if d.reach is not None else np.broadcast_to(np.eye(P, dtype=bool), (C, P, P))
    counts = np.einsum("cij,vjc->vic", reach.astype(np.int64), vecs)
    floor = np.zeros((T, P, C), dtype=np.int64)
    for rule in d.floors:
        floor[rule.first:] = np.maximum(floor[rule.first:], rule.teams)
    vals, okv = [], []
    for t in range(T):
        G = d.gains[t]
        cum = np.concatenate([np.zeros((P, C, 1)), np.cumsum(G, axis=-1)], axis=-1)
        k = np.minimum(counts, G.shape[-1])
        v = np.take_along_axis(cum[None], k[..., None], axis=-1)[..., 0].sum(axis=(1, 2))
        vals.append(d.period_weight[t] * v)
        tot = vecs.sum(axis=1)
        okv.append((vecs >= floor[t][None]).all(axis=(1, 2))
                   & (tot <= d.column_cap[None]).all(axis=1))
    tot = vecs.sum(axis=1)  # (V, C)
    n = len(vecs)
    idx = np.array(np.meshgrid(*[np.arange(n)] * T, indexing="ij")).reshape(T, -1)
    ok = np.ones(idx.shape[1], dtype=bool)
    total_val = np.zeros(idx.shape[1])
    prev_tot = np.broadcast_to(d.start_teams.sum(axis=0), (idx.shape[1], C))
    prev_vec = np.broadcast_to(d.start_teams, (idx.shape[1], P, C))
    for t in range(T):
        ok &= okv[t][idx[t]]
        if totals is not None:
            ok &= (tot[idx[t]] == totals[t][None]).all(axis=1)
        total_val += vals[t][idx[t]]
        ok &= ((tot[idx[t]] - prev_tot) <= d.ramp_cap[:, t][None] + 1e-9).all(axis=1)
        if not d.allow_reductions:
            ok &= (vecs[idx[t]] >= prev_vec).all(axis=(1, 2))
        prev_tot, prev_vec = tot[idx[t]], vecs[idx[t]]
    cand = np.flatnonzero(ok)
    cand = cand[np.argsort(-total_val[cand], kind="stable")]
    seen: dict = {}
    for k in cand:
        totals = np.stack([tot[idx[t, k]] for t in range(T)])
        key = totals.tobytes()
        if key not in seen:
            seen[key] = hiring_feasible(d, totals)
        if seen[key]:
            return float(total_val[k])
    return None


CASES = [(seed, P, C, shared, "") for seed in range(6)
         for P, C, shared in ((2, 2, False), (3, 1, False), (3, 1, True), (2, 1, True))] + [
    (seed, 2, 2, False, kind) for seed in range(3) for kind in ("growth", "vary")]


@pytest.mark.parametrize("seed,P,C,shared,per_period", CASES)
def test_brute_force_equals_mip(seed, P, C, shared, per_period):
    """On tiny random instances (2-3 precincts, 1-2 tours, 3 periods) the MIP's ramp is worth
    exactly what enumerating every ramp finds (hiring and budgets checked by an independent
    LP); infeasible instances are reported infeasible. Both formulations where they apply;
    per-period gains (demand growth, or gains that change order) too."""
    d = random_data(seed, P, C, shared=shared, per_period=per_period)
    best = brute_force(d)
    kinds = ["full"] + (["aggregate"] if aggregate_applies(d) else [])
    for kind in kinds:
        res = solve_buildout(d, EXACT, kind=kind)
        if best is None:
            assert res.status == "infeasible", (kind, res.objective)
            assert res.diagnosis
            continue
        assert res.status == "optimal", (kind, res.status, res.diagnosis)
        assert res.objective == pytest.approx(best, rel=1e-6, abs=1e-6), kind
        assert check_ramp(d, res.ramp, tol=1e-6) == []


def test_brute_force_cases_are_not_trivial():
    """The random cases exercise what they should: some infeasible, some where the budget or
    the pipelines bind, both budget rules, both reduction rules, shared reach."""
    ds = [random_data(seed, P, C, shared=sh, per_period=pp) for seed, P, C, sh, pp in CASES]
    best = [brute_force(d) for d in ds[:12]]
    assert any(b is None for b in best) and sum(b is not None for b in best) >= 6
    assert {d.budget_per for d in ds} == {"period", "fiscal_year"}
    assert {d.allow_reductions for d in ds} == {True, False}
    assert any(np.isfinite(d.hire_cap).any() for d in ds)
    vary = [d for d, c in zip(ds, CASES) if c[4] == "vary"]
    assert any(not aggregate_applies(d) for d in vary)  # the full formulation is needed there
    assert any(aggregate_applies(d) for d, c in zip(ds, CASES) if c[4] == "growth")


def _best_placement(d: BuildoutData, t: int, c: int, m: int) -> float:
    """Most covered calls/year of column c in period t with at most m teams (floors and
    precinct caps kept), by enumerating every team vector of the column."""
    P = d.shape[1]
    floor = d.floor_path()[t, :, c]
    reach = (d.reach[c] if d.reach is not None else np.eye(P, dtype=bool)).astype(np.int64)
    G = d.gains[t, :, c, :]
    cum = np.concatenate([np.zeros((P, 1)), np.cumsum(G, axis=-1)], axis=-1)
    best = -math.inf
    for x in itertools.product(*[range(int(floor[j]), int(max(d.max_teams[j, c], floor[j])) + 1)
                                 for j in range(P)]):
        if sum(x) > m:
            continue
        k = np.minimum(reach @ np.array(x), G.shape[-1])
        best = max(best, float(cum[np.arange(P), k].sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_count_relaxation_values_bound_every_placement(seed):
    """The count relaxation's value of m teams in a (period, column) (its column LP) is at
    least the best placement of at most m teams found by enumeration, equals it with the
    floor's teams alone, and is concave and non-decreasing in m (``models/buildout.md``)."""
    for P, C, shared in ((3, 1, True), (2, 2, True), (3, 1, False)):
        d = random_data(seed, P, C, shared=shared)
        cv = count_relaxation_values(d)
        T = d.shape[0]
        for t in range(T):
            for c in range(C):
                v = cv.value[t, c, :cv.hi[t, c] - cv.lo[t, c] + 1] / d.period_weight[t]
                inc = np.diff(v)
                assert (inc >= -1e-7).all() and (np.diff(inc) <= 1e-7).all()
                for k, phi in enumerate(v):
                    exact = _best_placement(d, t, c, int(cv.lo[t, c]) + k)
                    assert phi >= exact - 1e-6 * max(1.0, exact), (t, c, k)
                    if k == 0:
                        assert phi == pytest.approx(exact, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_count_relaxation_bound_is_valid_and_its_placement_is_optimal(seed):
    """On tiny instances with shared reach: the count relaxation's bound is at least the best
    ramp found by enumeration, and the ramp placed at the relaxation's counts is worth
    exactly the best ramp with those counts (enumeration restricted to them)."""
    for P, C in ((3, 1), (2, 2)):
        d = random_data(seed, P, C, shared=True)
        best = brute_force(d)
        if best is None:
            continue
        relax = count_relaxation(d, EXACT, None, seconds=60.0)
        assert relax is not None and relax.counts is not None
        assert relax.bound >= best - 1e-6 * max(1.0, best)
        ramp = place_counts(d, EXACT, relax.counts, seconds=60.0)
        assert ramp is not None and check_ramp(d, ramp, tol=1e-6) == []
        assert (ramp.teams.sum(axis=1) == relax.counts).all()
        at_counts = brute_force(d, totals=relax.counts)
        assert at_counts is not None
        assert ramp_value(d, ramp.teams) == pytest.approx(at_counts, rel=1e-9, abs=1e-9)


def test_aggregated_model_at_fixed_counts_is_worth_those_counts():
    """The aggregated formulation with every team count fixed (count_bounds, as the tail MIP
    fixes the early periods) is worth exactly the ramp those counts allocate: the levels still
    count increments from the floor (before, narrowed bounds moved the level rows' origin and
    a fixed period was worth its floor only)."""
    from bheard.model.buildout import build_buildout_model, ramp_from_counts
    from bheard.solver import solve_model

    for seed in range(6):
        d = random_data(seed, 2, 2, shared=False)
        if not aggregate_applies(d):
            continue
        res = solve_buildout(d, EXACT, kind="aggregate")
        if res.ramp is None:
            continue
        M = res.ramp.teams.sum(axis=1)
        built = build_buildout_model(d, 0.0, kind="aggregate", count_bounds=(M, M))
        run = solve_model(built.model, built.variables, time_limit_s=30, mip_rel_gap=1e-9)
        assert run.objective == pytest.approx(ramp_value(d, ramp_from_counts(d, M).teams),
                                              rel=1e-9, abs=1e-9)
        assert run.objective == pytest.approx(res.objective, rel=1e-9, abs=1e-9)


def test_count_relaxation_gives_up_at_its_deadline_and_the_solve_goes_on():
    """The column LPs stop at their deadline (None: no count relaxation), and a solve whose
    count relaxation has no time still returns a ramp with a finite certified gap (the full
    MIP's)."""
    d = random_data(3, 12, 2, T=4, K=2, shared=True)
    assert count_relaxation_values(d, deadline=0.0) is None
    assert count_relaxation_values(d) is not None
    import bheard.optimize.buildout as ob

    saved = ob.VALUES_SHARE
    try:
        ob.VALUES_SHARE = 0.0
        res = solve_buildout(d, EXACT)
    finally:
        ob.VALUES_SHARE = saved
    assert res.ramp is not None and res.status == "optimal"
    assert res.report.bound_source != "count_relaxation"


def test_count_relaxation_certifies_a_larger_shared_ramp():
    """Beyond brute force (12 precincts, 2 tours, 4 periods, shared reach): bheard's ramp is
    worth what plain HiGHS proves optimal on the full formulation (to 1e-9), and the count
    relaxation's bound is never below that optimum."""
    d = random_data(3, 12, 2, T=4, K=2, shared=True)
    plain = solve_buildout(d, EXACT, kind="full", heuristics=False, warm_start=False)
    assert plain.status == "optimal"
    ours = solve_buildout(d, EXACT)
    relax = count_relaxation(d, EXACT, None, seconds=60.0)
    assert relax.bound >= plain.objective - 1e-6 * plain.objective
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(plain.objective, rel=2e-9)


def test_diagnosis_is_complete_without_training_cost():
    """With no training cost and teams costing at least their crew's bench pay, the checks of
    :func:`diagnose` decide feasibility exactly: they pass iff enumeration finds a ramp."""
    n = 0
    for seed in range(40):
        d = random_data(100 + seed, 2, 1)
        d = dataclasses.replace(d, train_usd_per_hire=np.zeros(2),
                                bench_usd_per_fte_year=np.zeros(2))
        best = brute_force(d)
        assert (best is None) == bool(diagnose(d)), seed
        n += best is None
    assert 0 < n < 40


# ----------------------------------------------------------------------------------------
# scenarios
# ----------------------------------------------------------------------------------------
def tiny_buildout(**buildout) -> dict:
    """The tiny scenario (3 East Harlem precincts, 2 tours) with a one-year quarterly ramp."""
    d = tiny_dict()
    d["buildout"] = {"first_fiscal_year": 2027, "fiscal_years": 1,
                     "pipelines": {"emt": {"cohort_size": 4, "attrition_per_year": 0.1},
                                   "social_worker": {"cohort_size": 1,
                                                     "attrition_per_year": 0.1}},
                     **buildout}
    return d


@pytest.fixture(scope="module")
def tiny_ramp():
    return bheard.buildout(tiny_buildout(budget_usd_by_fiscal_year={"FY27": 4_000_000}))


def test_headcount_never_exceeds_what_training_allows(tiny_ramp):
    """Trained headcount of each role is at most the starting headcount plus every cohort the
    pipeline could have trained (less attrition), and hires never exceed a period's cohorts."""
    b = tiny_ramp
    assert b.status == "optimal"
    w = b.workforce
    for role, cohort in (("emt", 4), ("social_worker", 1)):
        r = w[w["role"] == role]
        cap = cohort * 13 / 5  # back-to-back 5-week cohorts in a 13-week quarter (S-team-size)
        sigma = 0.9 ** 0.25
        most = [r["headcount_fte"].iloc[0]]
        for t in range(1, len(r)):
            most.append(sigma * most[-1] + cap)
        assert (r["headcount_fte"].to_numpy() <= np.array(most) + 1e-6).all()
        assert (r["hires_fte"].to_numpy() <= cap + 1e-6).all()
        assert (r["on_teams_fte"] <= r["headcount_fte"] + 1e-6).all()
    # the pipelines bind: without them the ramp covers more
    free = bheard.buildout(tiny_buildout(budget_usd_by_fiscal_year={"FY27": 4_000_000},
                                         pipelines={}))
    assert free.objective > b.objective * 1.01


@pytest.mark.parametrize("rule", ["period", "fiscal_year"])
def test_no_period_spends_more_than_its_budget(rule):
    """Per-period rule: each quarter spends at most a quarter of its fiscal year's budget;
    per-year rule: each fiscal year's quarters together at most its budget. The budget binds
    (the ramp would spend more without it)."""
    b = bheard.buildout(tiny_buildout(fiscal_years=2, budget_per=rule, pipelines={},
                                      budget_usd_by_fiscal_year={"FY27": 2e6, "FY28": 3e6}))
    assert b.status == "optimal"
    p, f = b.periods, b.fiscal_years
    assert (f["spend_usd"] <= f["budget_usd"] * (1 + 1e-9)).all()
    share = p["fiscal_year"].map(f.set_index("fiscal_year")["budget_usd"]) / 4
    if rule == "period":
        assert (p["spend_usd"] <= share * (1 + 1e-9)).all()
        assert (p["spend_usd"] > 0.95 * share).sum() >= 4  # binds in most quarters
    else:
        assert (f["left_usd"] < 0.05 * f["budget_usd"]).any()
        assert (p["spend_usd"] > share * 1.01).any()  # money moved between quarters
    assert f["spend_usd"].sum() == pytest.approx(p["spend_usd"].sum())


def test_existing_coverage_never_drops_without_reductions(tmp_path):
    """Starting from a saved plan, reductions off: every precinct-slot keeps at least its
    teams in every period, and each precinct's covered calls never fall from one period to the
    next, though FY28's budget is lower than FY27's. Allowed to reduce (and with trained staff
    free to keep), the same ramp grows in FY27 and shrinks back in FY28."""
    plan = bheard.solve(tiny_dict(budget={"annual_usd": 3e6}))
    plan.save(tmp_path / "start")
    common = {"fiscal_years": 2, "pipelines": {}, "teams_by": "day_and_tour",
              "starting_deployment": {"plan": str(tmp_path / "start")},
              "budget_usd_by_fiscal_year": {"FY27": 5e6, "FY28": 3.0e6},
              "bench_cost_usd_per_fte_year": {"emt": 0.0, "social_worker": 0.0}}
    b = bheard.buildout(tiny_buildout(**common))
    assert b.status == "optimal"
    a = b.assignments
    start = plan.assignments.set_index(["precinct", "day", "tour"])["teams"]
    assert start.sum() > 0
    for (p, day, tour), n in start.items():
        got = a[(a["precinct"] == p) & (a["day"] == day) & (a["tour"] == tour)]["teams"]
        assert len(got) == 8 and (got >= n).all()
    cov = a.groupby(["precinct", "period"], sort=False)["covered_calls_per_year"].sum()
    for p in a["precinct"].unique():
        assert (np.diff(cov.loc[p].to_numpy()) >= -1e-9).all()
    r = bheard.buildout(tiny_buildout(**common, allow_reductions=True))
    assert r.status == "optimal"
    shifts = r.periods["team_shifts_per_week"].to_numpy()
    assert shifts.max() > shifts[-1] and shifts.max() > start.sum()
    assert r.objective > b.objective


@pytest.mark.parametrize("mode", ["isolated", "shared"])
def test_unlimited_hiring_final_period_equals_steady_state(mode):
    """With no hiring limit (staff on hand from the start, no pipeline limits) and the
    scenario's budget every year, the final period is the optimum of the gains frozen at the
    steady-state plan's own state (isolated: its carried-over load; shared: its local busy
    probabilities). The steady plan is feasible there and its frozen value is exactly its own
    coverage (plan.objective), so the final period covers at least that; and at most the
    fixed point's tolerance more (coverage.tolerance of the eligible calls: the steady plan
    was optimal at the estimate one step before its own). Day-and-tour columns, as the
    steady-state model has."""
    sc = tiny_buildout(pipelines={}, teams_by="day_and_tour",
                       starting_headcount={"emt": 40, "social_worker": 20},
                       bench_cost_usd_per_fte_year={"emt": 0, "social_worker": 0})
    if mode == "shared":
        sc["coverage"] = {"mode": "shared", "response_standard_min": 15}
    sc["solver"] = {"time_limit_s": 60, "mip_rel_gap": 1e-7}
    plan = bheard.solve({k: v for k, v in sc.items() if k != "buildout"})
    b = bheard.buildout(sc)
    assert b.status == "optimal" and plan.status == "optimal"
    final = float(b.periods["covered_calls_per_year"].iloc[-1])
    slack = plan.resolved_scenario.coverage.tolerance * plan.eligible_calls
    assert plan.objective * (1 - 1e-6) <= final <= plan.objective + slack
    assert b.steady_state["objective_covered_calls_per_year"] == pytest.approx(plan.objective,
                                                                               rel=1e-9)
    if mode == "isolated":  # the same from no staff at all: hiring catches up after a quarter
        del sc["buildout"]["starting_headcount"]
        b = bheard.buildout(sc)
        assert b.status == "optimal"
        assert b.periods["covered_calls_per_year"].iloc[0] == 0.0
        again = float(b.periods["covered_calls_per_year"].iloc[-1])
        assert again == pytest.approx(final, rel=1e-6)


@pytest.mark.parametrize("mode", ["isolated", "shared"])
def test_own_state_check_is_exact_at_the_steady_plan(mode):
    """The gains a ramp is optimized with are frozen at the steady-state plan's own state, so
    for that plan the frozen value, its value at its own state (OWN_COVERAGE, the check
    `bheard buildout` reports per period) and the steady-state solve's objective are one
    number (the first two to 1e-9); a plan with fewer teams is valued differently at its own state (its
    teams are less busy), so the check is not an identity."""
    from bheard.buildout import starting_slots
    from bheard.model.buildout import covered_calls
    from bheard.optimize import formulation_for, resolve
    from bheard.optimize.buildout import GAINS, OWN_COVERAGE
    from bheard.problem.buildout import buildout_from_scenario, to_columns, to_slots

    d = tiny_buildout(teams_by="day_and_tour")
    if mode == "shared":
        d["coverage"] = {"mode": "shared", "response_standard_min": 15}
    sc = resolve(d)
    form = formulation_for(sc)
    prob = form.problem(sc)
    steady = form.run(sc, prob)
    data = buildout_from_scenario(sc, prob, GAINS[mode](sc, prob, steady),
                                  starting_slots(sc, prob))
    cols = list(data.column_slots)
    X = to_columns(np.asarray(steady.teams, dtype=np.int64), cols)
    S = prob.shape[1]
    assert np.array_equal(to_slots(X, cols, S), steady.teams)
    frozen = float(covered_calls(data, np.broadcast_to(X, data.shape))[0].sum())
    own = float(OWN_COVERAGE[mode](sc, prob, to_slots(X, cols, S)).sum())
    assert own == pytest.approx(frozen, rel=1e-9)
    # the steady solve's own state came from a warm-started busy-probability iteration,
    # which stops at its tolerance (models/shared_coverage.md): equal to 1e-6
    assert own == pytest.approx(steady.objective, rel=1e-6)
    differ = []
    for j, c in np.argwhere(X > 0):  # one team fewer somewhere
        fewer = X.copy()
        fewer[j, c] -= 1
        f_frozen = float(covered_calls(data, np.broadcast_to(fewer, data.shape))[0].sum())
        f_own = float(OWN_COVERAGE[mode](sc, prob, to_slots(fewer, cols, S)).sum())
        assert f_own < steady.objective
        differ.append(abs(f_own - f_frozen) > 1e-9)
    assert any(differ)


def test_infeasible_milestone_names_the_binding_pipeline_and_period():
    """A milestone the social-worker pipeline cannot reach in time: no solve, a diagnosis
    naming the pipeline and the first period it fails."""
    milestone = [{"by": "FY27Q3", "min_teams_every_precinct": 2, "name": "two teams everywhere"}]
    sc = tiny_buildout(budget_usd_by_fiscal_year={"FY27": 4e7}, milestones=milestone,
                       pipelines={"emt": {"cohort_size": 10}, "social_worker": {"cohort_size": 1}})
    b = bheard.buildout(sc)
    assert b.status == "infeasible" and not b.feasible
    assert len(b.diagnosis) == 1
    msg = b.diagnosis[0]
    assert "binding pipeline social_worker, period FY27Q3" in msg
    assert "buildout.milestones[0] (two teams everywhere by FY27Q3)" in msg
    # 12 day-long teams need 12 x 7 x 8 h x 52 / (2,088 h x 0.82) = 20.4 FTE social workers
    # (S-paid-hours, A-relief); one 5-week cohort of 1 trains 2.6 a quarter (S-team-size)
    assert "need 20.4 FTE social_worker" in msg and "at most 5.2" in msg
    # both pipelines short in the same period: both named
    both = bheard.buildout(tiny_buildout(budget_usd_by_fiscal_year={"FY27": 4e7},
                                         milestones=milestone))
    assert [d.split(",")[0] for d in both.diagnosis] == ["binding pipeline emt",
                                                         "binding pipeline social_worker"]
    # a year later, with two social workers per cohort, the pipelines get there
    ok = bheard.buildout(tiny_buildout(budget_usd_by_fiscal_year={"FY27": 4e7, "FY28": 4e7},
                                       fiscal_years=2, milestones=[{
                                           "by": "FY28Q4", "min_teams_every_precinct": 2}],
                                       pipelines={"emt": {"cohort_size": 10},
                                                  "social_worker": {"cohort_size": 2}}))
    assert ok.status == "optimal"
    assert (ok.assignments[ok.assignments["period"] == "FY28Q4"]["teams"] >= 2).all()


def test_infeasible_first_period_without_staff_names_the_start():
    """Teams to keep from the start but no trained peer at the start: the first quarter is
    infeasible, and the diagnosis says nobody hired now is trained before the next one."""
    d = tiny_buildout(starting_headcount={"social_worker": 0.0},
                      budget_usd_by_fiscal_year={"FY27": 5e6})
    d["buildout"]["starting_deployment"] = {"scenario": str(SCENARIOS / "examples"
                                                                / "tiny.yaml")}
    b = bheard.buildout(d)
    assert b.status == "infeasible"
    assert "binding pipeline social_worker, period FY27Q1" in b.diagnosis[0]
    assert "starting headcount" in b.diagnosis[0]


def test_budget_too_small_for_milestone_names_the_budget():
    b = bheard.buildout(tiny_buildout(pipelines={}, budget_usd_by_fiscal_year={"FY27": 1e5},
                                      milestones=[{"by": "FY27", "min_teams_every_precinct": 1}]))
    assert b.status == "infeasible"
    assert "budget of FY27Q4" in b.diagnosis[0] and "buildout.milestones[0]" in b.diagnosis[0]


def test_save_load_roundtrip(tiny_ramp, tmp_path):
    b = tiny_ramp
    b.save(tmp_path / "bo")
    again = Buildout.load(tmp_path / "bo")
    assert again.status == b.status and again.objective == pytest.approx(b.objective)
    assert np.array_equal(again.teams, b.teams)
    assert again.events == b.events
    assert list(again.periods.columns) == list(b.periods.columns)
    assert again.resolved_scenario is not None and again.resolved_scenario.buildout is not None
    s = json.loads((tmp_path / "bo" / "buildout.json").read_text())
    assert s["bound_covered_calls"] >= s["objective_covered_calls"]
    with pytest.raises(InputError):
        Buildout.load(tmp_path)


def test_saved_buildout_is_one_unit(tiny_ramp, tmp_path):
    """A buildout folder is written as one unit (bheard.io.write_unit): a folder whose write
    was interrupted (no manifest), or one of whose files changed since, is refused with an
    InputError naming the folder or file; saving over an older buildout removes that one's
    report.html, so the folder never mixes two runs."""
    out = tmp_path / "bo"
    tiny_ramp.save(out)
    (out / "report.html").write_text("<html>old report</html>")
    assert json.loads((out / "manifest.json").read_text())["kind"] == "bheard-buildout"
    tiny_ramp.save(out)  # a new run over the old one
    assert not (out / "report.html").exists()
    assert Buildout.load(out).objective == pytest.approx(tiny_ramp.objective)
    periods = (out / "periods.csv").read_text()
    (out / "periods.csv").write_text(periods.replace(",", ";", 1))
    with pytest.raises(InputError) as err:
        Buildout.load(out)
    assert "periods.csv" in str(err.value)
    tiny_ramp.save(out)
    (out / "manifest.json").unlink()  # as a kill between the renames leaves it
    with pytest.raises(InputError) as err:
        Buildout.load(out)
    assert "manifest.json" in str(err.value)


def test_result_tables_agree(tiny_ramp):
    """The period table, the assignments and the workforce table tell the same story."""
    b = tiny_ramp
    a = b.assignments
    per = a.groupby("period", sort=False)["covered_calls_per_year"].sum().to_numpy()
    assert np.allclose(per, b.periods["covered_calls_per_year"])
    assert b.objective == pytest.approx(float((b.periods["covered_calls_per_year"] * 0.25).sum()))
    assert b.fiscal_years["spend_usd"].sum() == pytest.approx(b.periods["spend_usd"].sum())
    first = b.openings[b.openings["opens"].astype(str).str.startswith("FY")]
    for r in first.itertuples():
        got = a[(a["precinct"] == r.precinct) & (a["tour"] == r.tour) & (a["teams"] > 0)]
        assert got["period"].iloc[0] == r.opens


def test_time_limit_returns_the_best_ramp_with_its_gap():
    """A time limit too short to prove anything still returns a feasible ramp and its gap."""
    d = random_data(7, 12, 3, T=8, K=3, R=2)
    d = dataclasses.replace(d, hire_cap=np.full_like(d.hire_cap, np.inf), floors=(),
                            budget_usd=d.budget_usd * 0.5, allow_reductions=False,
                            start_teams=np.zeros_like(d.start_teams), start_headcount=np.zeros(2),
                            ramp_cap=np.full_like(d.ramp_cap, np.inf))
    res = solve_buildout(d, SolverOptions(time_limit_s=0.05, mip_rel_gap=1e-9), kind="full")
    assert res.status in ("time_limit_feasible", "optimal", "feasible")
    assert res.ramp is not None and check_ramp(d, res.ramp, tol=1e-6) == []
    assert res.objective > 0 and (math.isinf(res.gap) or res.gap >= 0)


# ----------------------------------------------------------------------------------------
# input errors, CLI, report
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("over,field", [
    ({"budget_usd_by_fiscal_year": {"FY28": 1e6}}, "buildout.budget_usd_by_fiscal_year"),
    ({"milestones": [{"by": "FY31", "min_teams_every_precinct": 1}]}, "buildout.milestones[0].by"),
    ({"pipelines": {"peer": {"cohort_size": 3}}}, "buildout.pipelines"),
    ({"tours": {"overnight": {"max_added_teams_per_period": 1}}}, "buildout.tours"),
    ({"starting_deployment": {"plan": "/nonexistent/plan"}},
     "buildout.starting_deployment.plan"),
    ({"pipelines": {"emt": {"cohort_size": 2, "cohorts_at_once": [1, 2]}}},
     "buildout.pipelines.emt.cohorts_at_once"),
    ({"period": "fortnight"}, "buildout.period"),
    ({"cohort": 3}, "buildout.cohort"),
    ({"budget_usd_by_fiscal_year": {"FY27": float("inf")}}, "buildout.budget_usd_by_fiscal_year"),
    ({"milestones": [{"by": "FY27Q2", "min_teams": {25: 1}, "tours": ["night"]}]},
     "buildout.milestones[0].tours"),
    ({"milestones": [{"by": "FY27", "min_teams": {999: 1}}]},
     "buildout.milestones[0].min_teams.999"),
])
def test_bad_buildout_sections_are_input_errors(over, field):
    with pytest.raises(InputError) as e:
        bheard.load_scenario(tiny_buildout(**over))
    assert field in str(e.value)


def test_buildout_needs_a_section():
    with pytest.raises(InputError) as e:
        bheard.buildout(tiny_dict())
    assert "buildout" in str(e.value)


def _write(tmp_path, d) -> str:
    import yaml

    p = tmp_path / "bo.yaml"
    p.write_text(yaml.safe_dump(d))
    return str(p)


def test_cli_buildout_writes_tables_and_report(tmp_path):
    path = _write(tmp_path, tiny_buildout(budget_usd_by_fiscal_year={"FY27": 4e6}))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["buildout", path, "--out", str(out), "--report"])
    assert r.exit_code == 0, r.output
    assert "buildout status optimal" in r.output and "By fiscal year" in r.output
    for name in ("buildout.json", "periods.csv", "teams.csv", "teams_by_borough_tour.csv",
                 "workforce.csv", "fiscal_years.csv", "openings.csv", "scenario.yaml",
                 "report.html"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text()
    for fid in ("chart-coverage-over-time", "chart-hiring", "chart-spend", "openings-table"):
        assert f'id="{fid}"' in html
    assert "could not draw" not in html
    # bheard report on the folder renders the same page
    (out / "report.html").unlink()
    r = CliRunner().invoke(app, ["report", str(out)])
    assert r.exit_code == 0 and (out / "report.html").is_file()


def test_cli_infeasible_ramp_exits_1_with_the_diagnosis(tmp_path):
    path = _write(tmp_path, tiny_buildout(budget_usd_by_fiscal_year={"FY27": 4e7},
                                          milestones=[{"by": "FY27Q3",
                                                       "min_teams_every_precinct": 2}],
                                          pipelines={"emt": {"cohort_size": 10},
                                                     "social_worker": {"cohort_size": 1}}))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["buildout", path, "--out", str(out), "--report"])
    assert r.exit_code == 1
    assert "binding pipeline social_worker" in r.output.replace("\n", " ")
    again = Buildout.load(out)  # an infeasible buildout saves and loads, with its diagnosis
    assert again.status == "infeasible" and again.diagnosis and again.teams is None
    assert "binding pipeline social_worker" in (out / "report.html").read_text()


def test_cli_bad_input_exits_2(tmp_path):
    path = _write(tmp_path, tiny_buildout(fiscal_years=0))
    r = CliRunner().invoke(app, ["buildout", path])
    assert r.exit_code == 2 and "buildout.fiscal_years" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(app, ["buildout", path, "--time-limit", "-1"])
    assert r.exit_code == 2


def test_spend_and_headcount_helpers_agree_with_the_model(tiny_ramp):
    """Bench FTE are never negative and the helpers reproduce the tables."""
    b = tiny_ramp
    assert (b.workforce["bench_fte"] >= 0).all()
    assert (b.periods["bench_usd"] >= 0).all()
    assert callable(spend) and callable(staff_needed) and callable(max_headcount_path)


@pytest.mark.slow
def test_shipped_buildout_scenario():
    """scenarios/dcs_buildout.yaml: from the 2024 pilot (126 team-shifts a week, S-teams-2024)
    to the DCS citywide plan in FY27-FY29 (cross-precinct coverage), within the scenario's 1e-3
    of optimal (certified by the count relaxation, models/buildout.md) or, on a slow machine,
    stopped by its 120 s limit with a certified gap of a few 1e-3; the pilot's teams are kept
    and the ramp ends within the steady-state optimum at the FY29 budget."""
    b = bheard.buildout(SCENARIOS / "dcs_buildout.yaml")
    # each quarter's teams at their own local busy probabilities: within 1% of the frozen
    # valuation the ramp was optimized with (0.18% at most when measured, README "Buildout")
    assert b.own_state_max_rel_diff <= 0.01
    assert (b.status == "optimal" and b.gap <= 1e-3) or (
        b.status == "time_limit_feasible" and b.gap <= 5e-3)
    p = b.periods
    assert p["team_shifts_per_week"].iloc[0] >= 126
    assert (np.diff(p["team_shifts_per_week"]) >= 0).all()
    assert (np.diff(p["covered_calls_per_year"]) >= -1e-6).all()
    ss = b.steady_state
    assert p["covered_calls_per_year"].iloc[-1] <= ss["bound_covered_calls_per_year"] + 1e-6
    f = b.fiscal_years
    assert list(f["fiscal_year"]) == ["FY27", "FY28", "FY29"]
    assert (f["spend_usd"] <= f["budget_usd"] * (1 + 1e-9)).all()


def test_buildout_xlsx_equals_its_csv_files(tmp_path):
    """`bheard buildout S --out D --xlsx F`: openpyxl reads the workbook back and every sheet
    holds the values of the CSV file of the same table (periods, fiscal years, workforce,
    openings), cell for cell."""
    import pandas as pd
    import yaml

    openpyxl = pytest.importorskip("openpyxl")
    from helpers import run_cli

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_buildout(budget_usd_by_fiscal_year={"FY27": 4_000_000})))
    r = run_cli("buildout", path, "--out", tmp_path / "bo", "--xlsx", tmp_path / "bo.xlsx")
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(tmp_path / "bo.xlsx")
    for sheet, csv in (("periods", "periods.csv"), ("fiscal years", "fiscal_years.csv"),
                       ("workforce", "workforce.csv"), ("openings", "openings.csv")):
        df = pd.read_csv(tmp_path / "bo" / csv)
        rows = [r for r in wb[sheet].iter_rows(min_row=4, values_only=True)]
        assert len(rows) == len(df), sheet
        for got, (_, want) in zip(rows, df.iterrows()):
            for g, w in zip(got, want.tolist()):
                if isinstance(w, float) and not isinstance(g, str):
                    assert (g is None and w != w) or g == pytest.approx(w, rel=1e-9, abs=1e-9)
                else:
                    assert str(g) == str(w) or (g is None and w != w), (sheet, g, w)
