"""Plans under demand uncertainty: solve times against one deterministic solve, same run.

Citywide isolated (``scenarios/dcs_citywide_isolated.yaml``: 78 precincts x 21 slots, K = 4) with
``demand.uncertainty: {cv: 0.3}`` (a lognormal factor per precinct, A-demand-cv) and N
optimization samples. Measured in one process, each figure the median of ``--repeat`` runs:

* reference: ``bheard.solve`` of the deterministic scenario (the prior, one table);
* SAA solve: the isolated driver on the sample-averaged problem as ``bheard.solve`` runs it
  (class-count enumeration here: no slot cap binds), and the general MIP path
  (:func:`bheard.optimize.incremental.solve_problem`: greedy, Lagrangian bound, reduced-cost
  fixing, HiGHS) on the same problem, both to gap <= 1e-4, and that MIP path on one table
  (the samples' per-cell median) for comparison;
* the whole stochastic ``bheard.solve``: samples (N + 1,000 held out), SAA plan, median plan,
  evaluation of both on the held-out samples;
* for N = 100 also the CVaR objective and the shipped forecast-uncertainty scenario, each
  against its deterministic twin; with ``--shared`` the default's cross-precinct model (local
  busy probabilities) too (slow: the approximate hypercube on every draw).

Prints times, gaps and the ratio to the deterministic solve, and how time grows with N.

    python benchmarks/bench_stochastic.py [--samples 10,30,100,300,1000] [--repeat 3] [--shared]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import bheard
from bheard.optimize.incremental import solve_problem
from bheard.optimize.registry import formulation_for
from bheard.optimize.stochastic import _deterministic

REPO = Path(__file__).resolve().parents[1]
#: the isolated twin of the default: the exact SAA (the shared SAA runs the approximate
#: hypercube on every draw; --shared times it, minutes to an hour)
CITY = REPO / "scenarios" / "dcs_citywide_isolated.yaml"


def timed(fn, repeat: int):
    """(median seconds, last result) of ``repeat`` calls."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", default="10,30,100,300,1000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shared", action="store_true",
                    help="also time the shared (cross-precinct) SAA on the default (slow)")
    args = ap.parse_args()
    grid = [int(x) for x in args.samples.split(",")]
    base = bheard.load_scenario(CITY)
    bheard.solve(base)  # warm-up: imports, first HiGHS call
    t_det, det = timed(lambda: bheard.solve(base), args.repeat)
    print(f"reference: deterministic bheard.solve {t_det:.3f} s, gap {det.gap:.1e}"
          f" ({det.solver.bound_source}), {det.coverage_share:.2%}")
    print(f"{'N':>6} {'sample+avg s':>12} {'SAA solve s':>11} {'gap':>8} {'x det':>6}"
          f" {'MIP path s':>10} {'gap':>8} {'x det':>6} {'median MIP s':>12}"
          f" {'whole solve s':>13} {'x det':>6}")
    for n in grid:
        sc = base.with_overrides(**{"demand.uncertainty": {"cv": 0.3, "samples": n}})
        f = formulation_for(sc)
        t_prob, prob = timed(lambda: f.problem(sc), 1)
        t0 = time.perf_counter()
        prob.coverage_table(prob.kmax)
        t_avg = time.perf_counter() - t0
        t_saa, saa = timed(lambda: _deterministic(sc, prob, {}), args.repeat)
        t_mip, mip = timed(lambda: solve_problem(prob, sc.solver), args.repeat)
        # the same MIP path on ONE table (the samples' per-cell median): how hard the
        # isolated MIP is at this demand, samples or not
        med = prob.at_rates(prob.samples.median())
        t_med, _ = timed(lambda: solve_problem(med, sc.solver), args.repeat)
        t_all, plan = timed(lambda: bheard.solve(sc), args.repeat)
        assert saa.gap <= 1e-4 and mip.gap <= 1e-4 and plan.gap <= 1e-4
        print(f"{n:>6} {t_prob + t_avg:>12.3f} {t_saa:>11.3f} {saa.gap:>8.1e}"
              f" {t_saa / t_det:>6.1f} {t_mip:>10.3f} {mip.gap:>8.1e} {t_mip / t_det:>6.1f}"
              f" {t_med:>12.3f} {t_all:>13.3f} {t_all / t_det:>6.1f}")
        if n == 100:
            u = plan.uncertainty
            print(f"       N=100: held-out expected {u.plan.expected_share:.2%}"
                  f" [P10 {u.plan.share_p10:.2%}, P90 {u.plan.share_p90:.2%}], median plan"
                  f" {u.median_plan.expected_share:.2%}, VSS {u.value_of_stochastic_solution:+.0f}"
                  f" +- {u.value_of_stochastic_solution_se:.0f} calls/yr")
    sc = base.with_overrides(**{"demand.uncertainty": {"cv": 0.3, "objective": "cvar"}})
    t_cvar, p = timed(lambda: bheard.solve(sc), 1)
    print(f"CVaR (alpha 0.1, N=100), whole solve: {t_cvar:.2f} s ({t_cvar / t_det:.1f}x det),"
          f" risk gap {p.uncertainty.risk.gap:.1e}, {p.solver.termination}")
    fc = REPO / "scenarios" / "dcs_forecast_uncertain.yaml"
    fd = REPO / "scenarios" / "dcs_forecast_synthetic.yaml"
    bheard.solve(fd)  # warm-up: scipy.stats, the first ingest
    t_fd, _ = timed(lambda: bheard.solve(fd), args.repeat)
    t_fu, p = timed(lambda: bheard.solve(fc), args.repeat)
    print(f"forecast scenario: deterministic {t_fd:.2f} s, with 100 + 1,000 predictive samples"
          f" {t_fu:.2f} s ({t_fu / t_fd:.1f}x), gap {p.gap:.1e}")
    if not args.shared:
        return
    sh = bheard.load_scenario(REPO / "scenarios" / "dcs_citywide.yaml")
    bheard.solve(sh)
    t_sd, _ = timed(lambda: bheard.solve(sh), args.repeat)
    shu = sh.with_overrides(**{"demand.uncertainty": {"cv": 0.3}})
    t_su, p = timed(lambda: bheard.solve(shu), args.repeat)
    u = p.uncertainty
    print(f"shared (local busy probabilities) citywide: deterministic {t_sd:.2f} s, 100 + 1,000 samples"
          f" {t_su:.2f} s ({t_su / t_sd:.1f}x; the median plan is one deterministic solve),"
          f" gap {p.gap:.1e}, fixed point converged {p.fixed_point.converged}; held-out"
          f" {u.plan.expected_share:.2%} vs median plan {u.median_plan.expected_share:.2%}"
          f" (it promises {u.median_plan_planned_share:.2%})")


if __name__ == "__main__":
    main()
