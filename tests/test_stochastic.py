"""Plans under demand uncertainty (models/stochastic.md): the sample average approximation and
the CVaR model against brute force, the stochastic plan against the median plan, held-out
evaluation by hand, demand samples (seeds, spreads, the forecast's predictive distribution),
bad sample files, and the plan's outputs."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from dataclasses import fields

import numpy as np
import pytest
from typer.testing import CliRunner

import bheard
from bheard.cli import app
from bheard.errors import InputError
from bheard.model.isolated import make_increments
from bheard.model.hypercube import busy_group, frozen_gains, plan_busy, preferences
from bheard.model.stochastic import (class_count_plan, cvar_lower, cvar_weights, risk_value,
                                     sample_increment_gains)
from bheard.optimize.carryover import solve_with_carryover
from bheard.optimize.fixed_point import solve_scenario_problem
from bheard.optimize.incremental import solve_problem
from bheard.optimize.registry import formulation_for
from bheard.optimize.stochastic import (Evaluator, distribution, run_stochastic,
                                        sample_busy_model, solve_cvar, solve_shared_saa)
from bheard.problem import ProblemData
from bheard.problem.slots import problem_from_scenario
from bheard.problem.samples import DemandSamples, SampledProblem, demand_samples, streams
from bheard.queueing import erlang_b
from bheard.scenario import SolverOptions, load_scenario

from helpers import SCENARIOS, make_shared, tiny_dict

EXACT = SolverOptions(mip_rel_gap=0.0, time_limit_s=30)
RUNNER = CliRunner()


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def random_problem(rng, P, S, K, budget_frac, caps=False, mins=False, classes=4):
    lam = rng.uniform(0.05, 2.0, size=(P, S))
    cost = rng.choice([1500.0, 2000.0, 2100.0, 2600.0][:classes], size=S)
    W = 52.0
    full = W * cost.sum() * P * K
    return ProblemData(
        precinct=np.arange(1, P + 1), borough=np.array(["Bronx", "Queens", "Bronx"][:P],
                                                       dtype=object),
        slot_day=np.array(["Mon"] * S, dtype=object),
        slot_tour=np.array([f"t{s}" for s in range(S)], dtype=object),
        slot_hours=rng.choice([4.0, 8.0], size=S), slot_cost_usd=cost,
        calls_per_hour=lam, service_time_hours=float(rng.uniform(0.5, 2.5)), weeks_per_year=W,
        team_budget_usd_per_year=float(budget_frac * full),
        max_teams=np.full((P, S), K, dtype=np.int64),
        min_teams=((rng.random((P, S)) < 0.3).astype(np.int64) if mins
                   else np.zeros((P, S), dtype=np.int64)),
        slot_cap=(rng.integers(1, P * K + 1, size=S).astype(float) if caps
                  else np.full(S, np.inf)))


def with_samples(prob: ProblemData, rng, N: int, M: int = 7, cv: float = 0.5) -> SampledProblem:
    """``prob`` with N optimization and M held-out samples: independent lognormal factors per
    precinct-slot around its rates (mean 1, CV ``cv``)."""
    s2 = math.log1p(cv * cv)

    def draw(n):
        z = rng.standard_normal((n,) + prob.shape)
        return prob.calls_per_hour[None] * np.exp(math.sqrt(s2) * z - s2 / 2)

    rates = draw(N)
    values = {f.name: getattr(prob, f.name) for f in fields(ProblemData)}
    values["calls_per_hour"] = rates.mean(axis=0)
    return SampledProblem(**values, samples=DemandSamples(rates, draw(M), "test", 0))


def sample_tables(prob, rates, K):
    """(N, P, S, K+1) covered calls/year per sample with k teams, from scalar Erlang B (an
    implementation independent of the vectorised tables the model uses)."""
    N, P, S = rates.shape
    out = np.zeros((N, P, S, K + 1))
    for n, p, s, k in itertools.product(range(N), range(P), range(S), range(K + 1)):
        lam = rates[n, p, s]
        out[n, p, s, k] = (prob.weeks_per_year * prob.slot_hours[s] * lam
                           * (1.0 - erlang_b(k, lam * prob.service_time_hours)))
    return out


def feasible_plans(prob):
    P, S = prob.shape
    K = prob.kmax
    cost = prob.team_cost_per_year()
    for flat in itertools.product(range(K + 1), repeat=P * S):
        x = np.array(flat).reshape(P, S)
        if np.any(x < prob.min_teams) or np.any(x > prob.max_teams):
            continue
        if (x * cost[None, :]).sum() > prob.team_budget_usd_per_year * (1 + 1e-12):
            continue
        if np.any(x.sum(axis=0) > prob.slot_cap):
            continue
        yield x


def per_sample_cov(tables, x):
    """(N,) covered calls/year of plan x in each sample."""
    return np.take_along_axis(tables, np.broadcast_to(x[None, :, :, None],
                                                      tables.shape[:3] + (1,)),
                              axis=-1)[..., 0].sum(axis=(1, 2))


def own_share(prob, x):
    """``prob`` at plan ``x``'s own carried-over share (how the model reports a plan)."""
    return dataclasses.replace(prob, carry_share=prob.carry_share_of(x))


def cvar_by_definition(x, alpha):
    """max_t t - (1/(alpha N)) sum (t - x)^+ over t; the maximum sits at one of the x values."""
    x = np.asarray(x, dtype=float)
    return max(t - np.maximum(t - x, 0.0).sum() / (alpha * x.size) for t in x)


def uncertainty_scenario(**u):
    """A scenario object carrying demand.uncertainty settings (and exact solver options) for
    drivers called on hand-made problems."""
    d = tiny_dict(solver={"time_limit_s": 30, "mip_rel_gap": 1e-9})
    d["demand"]["uncertainty"] = {"cv": 0.3, **u}
    return load_scenario(d)


# ----------------------------------------------------------------------------------------
# the sample average approximation against brute force
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(30))
def test_saa_mip_equals_brute_force(seed):
    """30 random tiny instances (2-3 precincts, 2 slots, K <= 3, 3-6 demand samples, tight
    budgets, some slot caps and minimums): the stochastic MIP (the isolated driver on the
    sample-averaged tables) equals the best expected coverage over every feasible plan,
    computed sample by sample with scalar Erlang B."""
    rng = np.random.default_rng(1000 + seed)
    P, K = int(rng.integers(2, 4)), int(rng.integers(1, 4))
    base = random_problem(rng, P, 2, K, float(rng.uniform(0.05, 0.7)), caps=seed % 3 == 0,
                          mins=seed % 4 == 0)
    prob = with_samples(base, rng, int(rng.integers(3, 7)))
    tables = sample_tables(prob, prob.samples.rates, K)
    vals = [per_sample_cov(tables, x).mean() for x in feasible_plans(prob)]
    res = solve_problem(prob, EXACT)
    if not vals:
        assert res.status == "infeasible" and res.diagnosis
        return
    best = max(vals)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-7)
    assert per_sample_cov(tables, res.teams).mean() == pytest.approx(best, rel=1e-7)
    assert res.bound >= best * (1 - 1e-9)
    # the class-count enumeration, where it applies, is exact too
    inc = make_increments(prob)
    exact = class_count_plan(prob, inc)
    if exact is not None:
        assert per_sample_cov(tables, exact).mean() == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_class_count_enumeration_is_exact_without_caps(seed):
    """No slot caps, 1-3 team costs: the class-count plan equals brute force (one demand
    table; the enumeration needs no samples)."""
    rng = np.random.default_rng(2000 + seed)
    P, K = int(rng.integers(2, 4)), int(rng.integers(1, 4))
    prob = random_problem(rng, P, 2, K, float(rng.uniform(0.05, 0.9)), mins=seed % 3 == 0,
                          classes=int(rng.integers(1, 4)))
    cov = prob.coverage_table(K)
    plans = list(feasible_plans(prob))
    exact = class_count_plan(prob, make_increments(prob))
    if not plans:
        return
    assert exact is not None
    best = max(np.take_along_axis(cov, x[..., None], axis=-1).sum() for x in plans)
    got = np.take_along_axis(cov, exact[..., None], axis=-1).sum()
    assert got == pytest.approx(best, rel=1e-9)
    assert prob.annual_cost(exact) <= prob.team_budget_usd_per_year * (1 + 1e-9)


def test_pipeline_from_a_sample_file_equals_brute_force(tmp_path):
    """The whole pipeline (scenario, sample file, seeded split, registry, driver): 2 precincts x
    2 tours on one day, 8 samples in a CSV; the plan's expected coverage over the samples it
    was optimized on equals brute force over every feasible plan of the mean over those
    samples of the deterministic model's coverage (relieving teams start free: the
    carried-over share settles at 0 for every plan)."""
    rng = np.random.default_rng(7)
    rows = ["sample,precinct,day,tour,calls_per_hour"]
    for n in range(8):
        for p in (25, 28):
            for t in ("day", "evening"):
                rows.append(f"{n},{p},Mon,{t},{rng.uniform(0.2, 2.5):.4f}")
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    d = tiny_dict(precincts=[25, 28], budget={"annual_usd": 400_000},
                  limits={"max_teams_per_slot": 2},
                  solver={"time_limit_s": 30, "mip_rel_gap": 1e-9})
    d["shifts"]["days"] = ["Mon"]
    d["dispatch"] = {"handover": "free"}
    # the carried-over share settles exactly (at 0), not only within the default tolerance
    d["coverage"] = {"tolerance": 1e-9}
    d["demand"]["uncertainty"] = {"file": str(tmp_path / "s.csv"), "seed": 3}
    sc = load_scenario(d)
    prob = formulation_for(sc).problem(sc)
    assert prob.samples.n + prob.samples.m == 8 and prob.samples.n == 4
    plan = bheard.solve(sc)
    dets = [problem_from_scenario(sc, rates=r) for r in prob.samples.rates]
    best = max(np.mean([own_share(p, x).coverage(x).sum() for p in dets])
               for x in feasible_plans(prob))
    assert plan.status == "optimal" and 0 < plan.team_shifts_per_week < 8  # budget binds
    assert plan.objective == pytest.approx(best, rel=1e-7)
    assert plan.uncertainty.plan.samples == 4  # evaluated on the 4 held-out samples


@pytest.mark.parametrize("seed", range(20))
def test_stochastic_plan_never_below_median_plan_on_same_samples(seed):
    """The SAA plan's expected coverage over the optimization samples is never below that of
    the plan optimized for their per-cell median (both solved exactly)."""
    rng = np.random.default_rng(3000 + seed)
    P, K = int(rng.integers(2, 4)), int(rng.integers(1, 4))
    base = random_problem(rng, P, 2, K, float(rng.uniform(0.05, 0.6)), caps=seed % 2 == 0)
    prob = with_samples(base, rng, int(rng.integers(3, 9)), cv=float(rng.uniform(0.2, 0.8)))
    saa = solve_problem(prob, EXACT)
    med = solve_problem(prob.at_rates(prob.samples.median()), EXACT)
    if saa.teams is None:
        return
    e_saa = float(prob.coverage(saa.teams).sum())
    e_med = float(prob.coverage(med.teams).sum())
    assert e_saa >= e_med - 1e-9 * e_saa


def test_stochastic_plan_not_below_median_plan_citywide():
    """Citywide isolated (78 precincts x 21 slots, 100 samples of a precinct CV 0.3 around the
    prior, the calibrated dispatch model with carry-over): at the carried-over share the SAA
    plan was solved at, the shipped driver's plan covers at least as much as the median plan
    in expectation over the optimization samples (class-count enumeration: exact)."""
    sc = load_scenario(SCENARIOS / "dcs_citywide_isolated.yaml").with_overrides(
        **{"demand.uncertainty": {"cv": 0.3}})
    f = formulation_for(sc)
    prob = f.problem(sc)
    res = f.run(sc, prob)
    assert res.report.bound_source == "class_count" and res.status == "optimal"
    from bheard.optimize.stochastic import _at_own_carryover, _deterministic

    med = _at_own_carryover(sc, prob.at_rates(prob.samples.median()),
                            lambda p, c, st: _deterministic(sc, p, c, st), {})
    at = dataclasses.replace(prob, carry_share=res.carry_share)
    assert float(at.coverage(res.teams).sum()) >= float(at.coverage(med.teams).sum())
    assert res.uncertainty.median_plan.team_shifts_per_week == int(med.teams.sum())


def test_identical_samples_give_the_deterministic_plan():
    """All samples equal to one table: the SAA is the deterministic problem (same objective)."""
    rng = np.random.default_rng(5)
    base = random_problem(rng, 3, 2, 3, 0.4)
    rates = np.broadcast_to(base.calls_per_hour, (5,) + base.shape).copy()
    values = {f.name: getattr(base, f.name) for f in fields(ProblemData)}
    prob = SampledProblem(**values, samples=DemandSamples(rates, rates[:2], "same", 0))
    assert np.allclose(prob.coverage_table(3), base.coverage_table(3), rtol=1e-12)
    a, b = solve_problem(prob, EXACT), solve_problem(base, EXACT)
    assert a.objective == pytest.approx(b.objective, rel=1e-12)


# ----------------------------------------------------------------------------------------
# CVaR
# ----------------------------------------------------------------------------------------
def test_cvar_lower_equals_its_linear_program_definition():
    """cvar_lower = max_t t - (1/(alpha N)) sum (t - x)^+ (Rockafellar & Uryasev, S-cvar), and
    the weights of cvar_weights lie in the capped simplex and reproduce it."""
    rng = np.random.default_rng(11)
    for _ in range(50):
        x = rng.normal(size=int(rng.integers(1, 30)))
        alpha = float(rng.uniform(0.02, 0.99))
        assert cvar_lower(x, alpha) == pytest.approx(cvar_by_definition(x, alpha), abs=1e-12)
        w = cvar_weights(x, alpha)
        assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
        assert (w <= 1 / (alpha * x.size) + 1e-12).all()
        assert w @ x == pytest.approx(cvar_lower(x, alpha), abs=1e-12)
    # by hand: the worst 10% of 20 values is the mean of the two smallest
    x = np.arange(1.0, 21.0)
    assert cvar_lower(x, 0.1) == pytest.approx(1.5)
    assert cvar_lower(x, 0.125) == pytest.approx((1 + 2 + 0.5 * 3) / 2.5)


@pytest.mark.parametrize("seed", range(12))
def test_cvar_model_equals_brute_force(seed):
    """12 random tiny instances with 5-10 samples: the CVaR solve (dual bound, reduced-cost
    fixing, HiGHS) reaches the best risk objective over every feasible plan, for pure CVaR
    and a 50/50 mix with the expected share."""
    rng = np.random.default_rng(4000 + seed)
    P, K = int(rng.integers(2, 4)), int(rng.integers(1, 3))
    base = random_problem(rng, P, 2, K, float(rng.uniform(0.1, 0.6)), caps=seed % 3 == 0)
    prob = with_samples(base, rng, int(rng.integers(5, 11)), cv=0.6)
    tables = sample_tables(prob, prob.samples.rates, K)
    E = prob.eligible_by_sample(holdout=False).sum(axis=(1, 2))
    expected = solve_problem(prob, EXACT)
    if expected.teams is None:
        return
    for alpha, weight in ((0.2, 1.0), (0.3, 0.5)):
        sc = uncertainty_scenario(objective="cvar", cvar_alpha=alpha, cvar_weight=weight,
                                  cvar_rel_gap=1e-9)
        best = max((1 - weight) * per_sample_cov(tables, x).mean() / E.mean()
                   + weight * cvar_by_definition(per_sample_cov(tables, x) / E, alpha)
                   for x in feasible_plans(prob))
        res, cert = solve_cvar(sc, prob, expected, {})
        got = risk_value(per_sample_cov(tables, res.teams), E, alpha, weight)
        assert got == pytest.approx(best, rel=1e-7)
        assert cert.value == pytest.approx(best, rel=1e-7)
        assert cert.bound >= best * (1 - 1e-9)
        assert prob.annual_cost(res.teams) <= prob.team_budget_usd_per_year * (1 + 1e-9)


def test_sample_gains_sum_to_the_average_table():
    """The per-sample gains of the candidate teams average to the SAA increments."""
    rng = np.random.default_rng(9)
    prob = with_samples(random_problem(rng, 3, 2, 3, 0.5), rng, 6)
    inc = make_increments(prob)
    g = sample_increment_gains(prob, inc, prob.kmax)
    assert np.allclose(g.mean(axis=0), inc.gain, rtol=1e-9)
    assert (g >= 0).all()


# ----------------------------------------------------------------------------------------
# held-out evaluation by hand
# ----------------------------------------------------------------------------------------
def test_distribution_hand_computed():
    """One precinct, one 8-hour slot, W = 52, tau = 1 h, one team, held-out rates 0.5 and 1.5
    calls/hour: covered = 416 lam (1 - B(1, lam)) with B(1, a) = a / (1 + a), i.e. 138.67 and
    249.6 calls/year of 208 and 624 eligible; quantiles interpolate linearly."""
    prob = ProblemData(
        precinct=np.array([25]), borough=np.array(["Manhattan"], dtype=object),
        slot_day=np.array(["Mon"], dtype=object), slot_tour=np.array(["day"], dtype=object),
        slot_hours=np.array([8.0]), slot_cost_usd=np.array([1000.0]),
        calls_per_hour=np.array([[1.0]]), service_time_hours=1.0, weeks_per_year=52.0,
        team_budget_usd_per_year=1e6, max_teams=np.array([[2]]), min_teams=np.array([[0]]),
        slot_cap=np.array([np.inf]))
    hold = np.array([[[0.5]], [[1.5]]])
    values = {f.name: getattr(prob, f.name) for f in fields(ProblemData)}
    sp = SampledProblem(**values, samples=DemandSamples(hold, hold, "hand", 0))
    teams = np.array([[1]])
    cov = sp.coverage_by_sample(teams)
    c = np.array([416 * 0.5 / 1.5, 416 * 1.5 / 2.5])  # 416 lam / (1 + lam)
    assert cov.ravel() == pytest.approx(c)
    E = sp.eligible_by_sample()
    assert E.ravel() == pytest.approx([208.0, 624.0])
    d = distribution("stochastic", sp, teams, cov, E, alpha=0.5, target=0.5)
    share = c / np.array([208.0, 624.0])  # 2/3 and 0.4
    assert d.expected_covered_calls == pytest.approx(c.mean())
    assert d.expected_share == pytest.approx(c.sum() / 832.0)
    assert d.share_p10 == pytest.approx(share[1] + 0.1 * (share[0] - share[1]))
    assert d.share_p90 == pytest.approx(share[1] + 0.9 * (share[0] - share[1]))
    assert d.covered_p50 == pytest.approx(c.mean())
    assert d.cvar_share == pytest.approx(0.4)  # the worst half: the busier sample
    assert d.p_meet_target == pytest.approx(0.5)
    assert d.expected_covered_calls_se == pytest.approx(np.std(c, ddof=1) / math.sqrt(2))
    assert d.by_borough[0].name == "Manhattan" and d.by_tour[0].name == "day"
    assert d.by_tour[0].expected_share == pytest.approx(d.expected_share)


# ----------------------------------------------------------------------------------------
# demand samples
# ----------------------------------------------------------------------------------------
def _citywide(u):
    return load_scenario(SCENARIOS / "dcs_citywide.yaml").with_overrides(
        **{"demand.uncertainty": u})


def test_samples_are_seeded_and_held_out_samples_are_another_stream():
    """Same seed: identical samples; another seed: different; the held-out samples are not the
    optimization samples (stream (seed, 1) vs (seed, 0))."""
    a = demand_samples(_citywide({"cv": 0.3, "samples": 20, "evaluation_samples": 20}))
    b = demand_samples(_citywide({"cv": 0.3, "samples": 20, "evaluation_samples": 20}))
    c = demand_samples(_citywide({"cv": 0.3, "samples": 20, "evaluation_samples": 20,
                                  "seed": 1}))
    assert np.array_equal(a.rates, b.rates) and np.array_equal(a.holdout, b.holdout)
    assert not np.allclose(a.rates, c.rates)
    assert not np.allclose(a.rates, a.holdout)
    r0, r1 = streams(0)
    assert r0.random() != r1.random()


def test_stated_spread_has_the_stated_mean_and_cv():
    """Lognormal factors: mean 1 and the stated CV per level (precinct CV 0.3: a precinct's
    weekly calls vary by 30%; slots of a precinct move together); growth scenarios stratified
    (each of +0/+6/+12% on a third of the samples)."""
    sc = _citywide({"cv": {"precinct": 0.3}, "samples": 3000, "evaluation_samples": 2})
    s = demand_samples(sc)
    point = formulation_for(load_scenario(SCENARIOS / "dcs_citywide.yaml")).problem(
        load_scenario(SCENARIOS / "dcs_citywide.yaml")).calls_per_hour
    ratio = s.rates / point[None]
    per_precinct = ratio[:, :, 0]
    assert np.allclose(ratio, per_precinct[:, :, None])  # all slots of a precinct together
    se = 0.3 / math.sqrt(3000)
    assert abs(per_precinct.mean() - 1.0) < 4 * se / math.sqrt(78) + 1e-3
    assert per_precinct.std(axis=0).mean() == pytest.approx(0.3, rel=0.05)
    g = demand_samples(_citywide({"growth": [0.0, 0.06, 0.12], "samples": 30,
                                  "evaluation_samples": 3}))
    factors = np.round(g.rates[:, 0, 0] / point[0, 0] - 1.0, 10)
    assert sorted(np.unique(factors).tolist()) == [0.0, 0.06, 0.12]
    assert np.bincount(np.searchsorted([0.0, 0.06, 0.12], factors)).tolist() == [10, 10, 10]


def test_forecast_predictive_samples_match_the_forecast():
    """Forecast source (the shipped synthetic records): draws of the forecast's predictive
    distribution are centred on the forecast (their mean rate per busy precinct-slot within 3%
    of its median, a right-skewed rate's mean sits just above), their per-cell 10-90% range
    contains the forecast's median, and the spread is real."""
    sc = load_scenario(SCENARIOS / "dcs_forecast_uncertain.yaml").with_overrides(
        **{"demand.uncertainty.samples": 400, "demand.uncertainty.evaluation_samples": 2})
    s = demand_samples(sc)
    assert "forecast predictive" in s.source
    point = formulation_for(load_scenario(SCENARIOS / "dcs_forecast_synthetic.yaml"))
    base = load_scenario(SCENARIOS / "dcs_forecast_synthetic.yaml")
    med = point.problem(base).calls_per_hour  # the forecast's median (quantile 0.5)
    mean = s.rates.mean(axis=0)
    busy = med > np.quantile(med, 0.5)
    # the median sits just below the mean of a right-skewed rate; both within a few percent
    assert np.median(mean[busy] / med[busy]) == pytest.approx(1.0, abs=0.03)
    lo, hi = np.quantile(s.rates, [0.1, 0.9], axis=0)
    assert ((lo <= med) & (med <= hi)).mean() > 0.95
    assert np.median((hi - lo)[busy] / med[busy]) > 0.05  # a real spread


# ----------------------------------------------------------------------------------------
# shared coverage (MEXCLP) over samples
# ----------------------------------------------------------------------------------------
def _shared_sampled(rng, P=3, S=2, N=4, budget=3000.0):
    lam = rng.uniform(0.2, 2.0, size=(P, S))
    reach = rng.random((P, P)) < 0.5
    np.fill_diagonal(reach, True)
    base = make_shared(lam, reach, budget, cost=1000.0, max_teams=2)
    rates = lam[None] * rng.lognormal(-0.08, 0.4, size=(N, P, S))
    values = {f.name: getattr(base, f.name) for f in fields(ProblemData)}
    values["calls_per_hour"] = rates.mean(axis=0)
    return SampledProblem(**values, samples=DemandSamples(rates, rates, "t", 0))


@pytest.mark.parametrize("seed", range(8))
def test_shared_saa_with_fixed_busy_probability_equals_brute_force(seed):
    """Shared coverage with every team busy 0.35 of the time (no fixed point): the SAA solve
    equals brute force of the expected coverage mean_n sum_i E_n,i (1 - B(c_i, a)), c_i the
    teams in range and a = 0.35 / 0.65 the load at which one team loses 0.35 (the frozen
    local model at that estimate), over every feasible plan."""
    rng = np.random.default_rng(5000 + seed)
    prob = _shared_sampled(rng)
    d = tiny_dict(solver={"time_limit_s": 30, "mip_rel_gap": 1e-9})
    d["coverage"] = {"mode": "shared", "busy_probability": 0.35}
    d["demand"]["uncertainty"] = {"cv": 0.3}
    sc = load_scenario(d)
    res = solve_shared_saa(sc, prob)
    E = prob.eligible_by_sample(holdout=False)
    a = 0.35 / 0.65
    best = -1.0
    for x in feasible_plans(prob):
        counts = np.einsum("sij,js->is", prob.reach.astype(int), x)
        lost = np.vectorize(lambda c: erlang_b(int(c), a))(counts)
        best = max(best, float((E * (1 - lost[None])).sum(axis=(1, 2)).mean()))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-6)


def test_shared_saa_gains_average_each_samples_frozen_gains():
    """The MIP's gains over samples are the mean of each sample's frozen local gains
    (:func:`frozen_gains` of the sample's own problem at its own loads)."""
    rng = np.random.default_rng(4)
    prob = _shared_sampled(rng, N=5)
    d = tiny_dict()
    d["coverage"] = {"mode": "shared"}
    st = load_scenario(d).coverage
    model = sample_busy_model(prob, st, prob.samples.rates)
    load = rng.uniform(0.1, 2.0, size=model.prob.shape)
    G = model.gains(load)
    pref = preferences(prob.reach, prob.travel_min, prob.service_time_hours)
    S = prob.shape[1]
    by_hand = np.mean([frozen_gains(prob.at_sample(n), pref, load[:, n * S:(n + 1) * S])
                       for n in range(5)], axis=0)
    assert np.allclose(G, by_hand, rtol=1e-12)


def _dispatch_dict(mode, **over):
    """The tiny example with the dispatch model switched on: availability 0.8, calls wait up
    to 5 minutes, a pre-travel delay (trips in the busy time), lagged load across tours."""
    d = tiny_dict(**over)
    d["dispatch"] = {"availability": 0.8, "max_wait_min": 5.0}
    d["geography"] = {"dispatch_delay_min": 4.0}
    if mode == "shared":
        d["coverage"] = {"mode": "shared", "response_standard_min": 15}
    return d


@pytest.mark.parametrize("mode", ["isolated", "shared"])
def test_sample_problems_are_the_deterministic_problem_at_that_demand(mode):
    """Every sample's problem is the deterministic problem of the same scenario at that
    sample's demand (problem_from_scenario with its rates): calls, lagged workload and
    within-slot inflow; the SAA table is the mean of the deterministic tables."""
    d = _dispatch_dict(mode)
    d["demand"]["uncertainty"] = {"cv": 0.4, "samples": 6, "evaluation_samples": 5}
    sc = load_scenario(d)
    prob = formulation_for(sc).problem(sc)
    for n in (0, 3):
        a = prob.at_sample(n)
        b = problem_from_scenario(sc, rates=prob.samples.rates[n])
        assert np.allclose(a.calls_per_hour, b.calls_per_hour, rtol=1e-12)
        assert np.allclose(a.work_calls_per_hour, b.work_calls_per_hour, rtol=1e-9, atol=1e-12)
        assert np.allclose(a.inflow_calls_per_hour, b.inflow_calls_per_hour, rtol=1e-9,
                           atol=1e-12)
        assert (a.carried_over_rates() > 0).any()  # the lag matters here
    K = prob.kmax
    mean = np.mean([problem_from_scenario(sc, rates=r).coverage_table(K)
                    for r in prob.samples.rates], axis=0)
    assert np.allclose(prob.coverage_table(K), mean, rtol=1e-9)
    # a plan's coverage is the averaged table's entry at its counts (one level per cell)
    teams = np.random.default_rng(1).integers(0, K + 1, prob.shape)
    at = np.take_along_axis(prob.coverage_table(K), teams[..., None], axis=-1)[..., 0]
    assert np.allclose(prob.coverage(teams), at, rtol=1e-12)
    one = problem_from_scenario(sc, rates=prob.samples.rates[2])
    assert np.array_equal(one.coverage(teams), np.take_along_axis(
        one.coverage_table(K), teams[..., None], axis=-1)[..., 0])


def test_stacked_samples_keep_only_the_own_trip():
    """Demand samples side by side (SampledProblem.stacked) keep each precinct's own trip, not
    the (n S, P, P) trip array: the busy hours of the isolated model are the problem's own,
    repeated per sample, to the bit."""
    d = _dispatch_dict("isolated")
    d["demand"]["uncertainty"] = {"cv": 0.4, "samples": 6, "evaluation_samples": 5}
    sc = load_scenario(d)
    prob = formulation_for(sc).problem(sc)
    assert prob.travel_min is not None
    st = prob.stacked(prob.samples.rates[:4])
    assert st.travel_min is None and st.own_trip_min.shape == (prob.shape[0], 4 * prob.shape[1])
    assert np.array_equal(st.own_busy_hours(), np.tile(prob.own_busy_hours(), (1, 4)))
    assert prob.stacked(prob.samples.rates[:4], travel=False).own_trip_min is None


@pytest.mark.parametrize("mode", ["isolated", "shared"])
def test_per_sample_predicted_coverage_is_the_deterministic_models(mode):
    """A stochastic plan's predicted coverage in each held-out sample (what the summary is
    built from) equals the deterministic model's coverage of the same plan at that sample's
    demand: isolated, ProblemData.coverage at the plan's own carried-over share; shared, the
    plan's own local busy probabilities (plan_busy of the sample's problem)."""
    d = _dispatch_dict(mode, budget={"annual_usd": 2_500_000})
    d["demand"]["uncertainty"] = {"cv": 0.4, "samples": 6, "evaluation_samples": 7}
    sc = load_scenario(d)
    f = formulation_for(sc)
    prob = f.problem(sc)
    res = f.run(sc, prob)
    assert res.teams is not None and res.uncertainty is not None
    got = Evaluator(sc, prob).covered(res.teams)
    for n in range(7):
        det = problem_from_scenario(sc, rates=prob.samples.holdout[n])
        if mode == "isolated":
            want = dataclasses.replace(det, carry_share=det.carry_share_of(res.teams)
                                       ).coverage(res.teams)
        else:
            pref = preferences(det.reach, det.travel_min, det.service_time_hours)
            want = plan_busy(det, pref, res.teams,
                             busy_group(det, sc.coverage.busy_probability_by)).covered
        assert np.allclose(got[n], want, rtol=1e-5, atol=1e-6)
    E = prob.eligible_by_sample().sum(axis=(1, 2))
    assert res.uncertainty.plan.expected_share == pytest.approx(
        got.sum(axis=(1, 2)).mean() / E.mean(), rel=1e-12)


def _one_sample(prob, r):
    """``prob`` with the single optimization sample ``r`` (its calls, lagged load and
    inflow)."""
    at = prob.at_rates(r)
    return dataclasses.replace(
        prob, calls_per_hour=at.calls_per_hour, work_calls_per_hour=at.work_calls_per_hour,
        inflow_calls_per_hour=at.inflow_calls_per_hour,
        samples=DemandSamples(np.asarray(r)[None], prob.samples.holdout, "one", 0))


@pytest.mark.parametrize("mode", ["isolated", "shared"])
def test_one_sample_saa_equals_the_deterministic_solve(mode):
    """An SAA over one demand sample is the deterministic solve of that demand (the
    deterministic problem of the scenario at those rates, solved by the deterministic
    driver): same objective, same coverage of the plan; the two models agree."""
    d = _dispatch_dict(mode, budget={"annual_usd": 2_500_000},
                       solver={"time_limit_s": 20, "mip_rel_gap": 1e-4})
    d["demand"]["uncertainty"] = {"cv": 0.4, "samples": 3, "evaluation_samples": 3}
    sc = load_scenario(d)
    prob = formulation_for(sc).problem(sc)
    r = prob.samples.rates[1]
    one = _one_sample(prob, r)
    det = problem_from_scenario(sc, rates=r)
    if mode == "isolated":
        saa = run_stochastic(sc, one)
        ref = solve_with_carryover(det, sc.solver, tolerance=sc.coverage.tolerance)
    else:
        saa = solve_shared_saa(sc, one)
        ref = solve_scenario_problem(sc, det)
    assert saa.status == ref.status and saa.status in ("optimal", "time_limit_feasible")
    assert saa.objective == pytest.approx(ref.objective, rel=1e-6)
    # each bound certifies its own final frozen estimate (shared: within the fixed point's
    # tolerance of the plan's own busy probabilities), so the two bounds agree up to that
    # tolerance, not to the MIP gap (measured: 2e-4 on one machine, 5e-4 on another)
    for res in (saa, ref):
        assert res.bound >= res.objective * (1 - 1e-9)
    eligible = float(det.eligible_calls_per_year().sum())
    assert abs(saa.bound - ref.bound) <= sc.coverage.tolerance * eligible
    assert np.allclose(saa.covered, ref.covered, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_saa_with_the_dispatch_model_equals_brute_force(seed):
    """2 precincts x 2 tours, up to 2 teams, 5 samples, the full dispatch model (breaks,
    waiting, trips, lagged load; relieving teams start free, so the carried-over share settles
    at 0 for every plan): the stochastic plan's expected coverage equals the best over every
    feasible plan of the mean over samples of the deterministic model's coverage."""
    d = _dispatch_dict("isolated", precincts=[25, 28], limits={"max_teams_per_slot": 2},
                       budget={"annual_usd": [300_000, 450_000, 600_000, 800_000][seed]},
                       solver={"time_limit_s": 30, "mip_rel_gap": 1e-9})
    d["dispatch"]["handover"] = "free"
    d["coverage"] = {"tolerance": 1e-9}  # the share settles exactly (at 0)
    d["shifts"]["days"] = ["Mon"]
    d["demand"]["uncertainty"] = {"cv": 0.5, "samples": 5, "evaluation_samples": 3,
                                  "seed": seed}
    sc = load_scenario(d)
    prob = formulation_for(sc).problem(sc)
    plan = bheard.solve(sc)
    dets = [problem_from_scenario(sc, rates=r) for r in prob.samples.rates]

    def expected(x):
        return float(np.mean([own_share(p, x).coverage(x).sum() for p in dets]))

    best = max(expected(x) for x in feasible_plans(prob))
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best, rel=1e-7)
    assert expected(plan.teams) == pytest.approx(best, rel=1e-7)


# ----------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------
GOOD = [(n, p, d, t) for n in (1, 2, 3) for p in (25, 28, 32)
        for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun") for t in ("day", "evening")]


def _write(tmp_path, rows, header="sample,precinct,day,tour,calls_per_hour"):
    path = tmp_path / "samples.csv"
    path.write_text(header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return path


def _sample_scenario(path):
    d = tiny_dict()
    d["demand"]["uncertainty"] = {"file": str(path)}
    return d


BAD_FILES = {
    "missing precinct": ([r + (0.5,) for r in GOOD if not (r[0] == 2 and r[1] == 32)],
                         "precincts [32] missing"),
    "missing slot": ([r + (0.5,) for r in GOOD if not (r[2] == "Sun" and r[3] == "evening")],
                     "slots ['Sun evening'"),
    "negative rate": ([r + (-0.1 if i == 5 else 0.5,) for i, r in enumerate(GOOD)],
                      "calls_per_hour"),
    "not a number": ([r + ("abc" if i == 5 else 0.5,) for i, r in enumerate(GOOD)],
                     "calls_per_hour"),
    "infinite": ([r + ("inf" if i == 5 else 0.5,) for i, r in enumerate(GOOD)],
                 "calls_per_hour"),
    "one sample": ([r + (0.5,) for r in GOOD if r[0] == 1], "at least 2 samples"),
    "duplicate row": ([r + (0.5,) for r in GOOD] + [GOOD[3] + (0.7,)],
                      "each (sample, precinct, day, tour) once"),
    "fractional sample": ([(1.5,) + r[1:] + (0.5,) if i == 0 else r + (0.5,)
                           for i, r in enumerate(GOOD)], "an integer sample number"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_inconsistent_sample_files_are_refused(tmp_path, case):
    """Missing precincts or slots, negative or non-finite rates, one sample, a duplicate row, a
    fractional sample number: an InputError naming the file, the field and what was expected."""
    rows, expected = BAD_FILES[case]
    path = _write(tmp_path, rows)
    with pytest.raises(InputError) as exc:
        bheard.solve(_sample_scenario(path))
    text = exc.value.format()
    assert str(path) in text and expected in text


def test_sample_file_errors_exit_2(tmp_path):
    """The CLI prints the message and exits 2 with no traceback (missing columns, one sample)."""
    d = tmp_path / "s"
    d.mkdir()
    for rows, header, expected in (
            ([r[1:] + (0.5,) for r in GOOD], "precinct,day,tour,calls_per_hour", "missing"),
            ([r + (0.5,) for r in GOOD if r[0] == 1], None, "at least 2 samples")):
        path = _write(d, rows, header) if header else _write(d, rows)
        (d / "sc.yaml").write_text(
            "extends: " + str(SCENARIOS / "examples" / "tiny.yaml") + "\n"
            "demand:\n  uncertainty: {file: samples.csv}\n")
        r = RUNNER.invoke(app, ["solve", str(d / "sc.yaml")])
        assert r.exit_code == 2, r.output
        assert expected in r.output and "Traceback" not in r.output
        assert str(path) in r.output.replace("\n", "")


def test_sample_file_outside_the_allowed_folders_is_refused(tmp_path):
    """demand.uncertainty.file is a scenario path like demand.table: confined to the scenario's
    folder, the shipped folders and the allow-list; the file is not read."""
    (tmp_path / "outside").mkdir()
    secret = _write(tmp_path / "outside", [r + (0.5,) for r in GOOD])
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "s.yaml").write_text(
        "extends: " + str(SCENARIOS / "examples" / "tiny.yaml") + "\n"
        "demand:\n  uncertainty: {file: ../outside/samples.csv}\n")
    with pytest.raises(InputError) as exc:
        load_scenario(tmp_path / "sc" / "s.yaml")
    assert "demand.uncertainty.file" in exc.value.format()
    assert secret.exists()


@pytest.mark.parametrize("u, expected", [
    ({"source": "point"}, "needs cv and/or growth"),
    ({"source": "forecast"}, "needs demand.forecast"),
    ({"file": "x.csv", "cv": 0.2}, "do not apply to a file"),
    ({"cv": -0.1}, "between 0 and 5"),
    ({"growth": [-1.5]}, "each > -1"),
    ({"cv": 0.2, "samples": 1}, "samples"),
    ({"cv": 0.2, "evaluation_samples": 1}, "evaluation_samples"),
])
def test_bad_uncertainty_settings(u, expected):
    d = tiny_dict()
    d["demand"]["uncertainty"] = u
    with pytest.raises(InputError) as exc:
        load_scenario(d)
    assert expected in exc.value.format()


def test_unsupported_combinations_are_named():
    """Staggered starts and CVaR in shared mode are refused with the field named."""
    st = load_scenario(SCENARIOS / "dcs_staggered.yaml").model_dump(mode="python")
    st["demand"]["uncertainty"] = {"cv": 0.3}
    with pytest.raises(InputError, match="shifts.staggered"):
        load_scenario({k: v for k, v in st.items() if k != "source"})
    d = tiny_dict()
    d["coverage"] = {"mode": "shared"}
    d["demand"]["uncertainty"] = {"cv": 0.3, "objective": "cvar"}
    with pytest.raises(InputError) as exc:
        load_scenario(d)
    assert "demand.uncertainty.objective" in exc.value.format()


# ----------------------------------------------------------------------------------------
# outputs
# ----------------------------------------------------------------------------------------
def test_plan_outputs_carry_the_distribution(tmp_path):
    """CLI summary, summary.json, Plan.load and the report all carry the held-out evaluation
    (tiny example with its sample file); the frontier gets bands."""
    scen = SCENARIOS / "examples" / "tiny_samples.yaml"
    out = tmp_path / "p"
    r = RUNNER.invoke(app, ["solve", str(scen), "--out", str(out), "--report"])
    assert r.exit_code == 0, r.output
    assert "value of the stochastic solution" in r.output and "median plan" in r.output
    s = json.loads((out / "summary.json").read_text())
    u = s["details"]["uncertainty"]
    assert u["optimization_samples"] == 20 and u["evaluation_samples"] == 20
    assert u["plan"]["share_p10"] <= u["plan"]["share_p50"] <= u["plan"]["share_p90"]
    assert u["plan"]["target_share"] == 0.45 and 0 <= u["plan"]["p_meet_target"] <= 1
    back = bheard.Plan.load(out)
    assert back.uncertainty.plan.by_borough[0].share_p90 == u["plan"]["by_borough"][0]["share_p90"]
    html = (out / "report.html").read_text()
    assert 'id="uncertainty"' in html and "Value of the stochastic solution" in html
    fr = bheard.frontier(scen, "3e6,5e6")
    assert {"share_p10", "share_p90", "median_plan_expected_share"} <= set(fr.table.columns)
    assert (fr.table["share_p10"] <= fr.table["share_p90"]).all()


def test_cvar_plan_reports_its_price_and_certificate():
    """A CVaR solve: the risk certificate (value <= bound, gap within cvar_rel_gap), the
    expected plan beside it and the price in expected coverage (>= 0 in sample: the expected
    plan maximizes expected coverage)."""
    d = tiny_dict()
    d["demand"]["uncertainty"] = {"cv": 0.4, "objective": "cvar", "cvar_alpha": 0.2,
                                  "samples": 60, "evaluation_samples": 200}
    plan = bheard.solve(d)
    u = plan.uncertainty
    assert plan.status == "optimal" and plan.solver.bound_source == "expected_saa"
    assert u.risk.value <= u.risk.bound * (1 + 1e-12) and u.risk.gap <= 0.002
    assert u.expected_plan is not None and u.price_of_risk_calls is not None
    sc = load_scenario(d)
    prob = formulation_for(sc).problem(sc)
    assert plan.objective <= plan.bound * (1 + 1e-12)
    own = dataclasses.replace(prob, carry_share=prob.carry_share_of(plan.teams))
    assert float(own.coverage(plan.teams).sum()) == pytest.approx(plan.objective)
