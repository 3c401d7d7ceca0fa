"""Buildout: bheard's pipeline vs plain HiGHS on the same model, same run.

Instance: ``scenarios/dcs_buildout.yaml``: 78 precincts x 3 tours x 12 quarters (FY27-FY29),
starting from the 2024 pilot, with its pipelines, attrition, overnight limit and per-quarter
budgets, with the scenario's coverage model (shared, the default; ``--coverage isolated`` for
the isolated model and its exact aggregated formulation). Seed 0 is the scenario as shipped; seeds 1..
multiply each pipeline's cohort size and each fiscal year's budget by a seeded factor in
[0.85, 1.15] (the data are otherwise the same, so every seed is a different instance of the
same size).

* bheard: :func:`bheard.optimize.buildout.solve_buildout` as ``bheard buildout`` runs it
  (diagnosis, greedy ramp; isolated: the aggregated exact formulation with LP rounding and a
  local search; shared: the count relaxation, its MIP's bound and its counts placed by the
  full MIP at fixed counts; HiGHS on the full MIP with the best ramp as start only when the
  bound does not yet certify it);
* reference: HiGHS with default options on the plain full formulation (a team integer per
  precinct, tour and quarter, the coverage levels, every coupling row written on those
  integers), no MIP start;

both to ``mip_rel_gap`` (default 1e-3), the reference with a ``--limit`` (default 120 s).
Times are build + translate + solve, in this process, after the problem data are built
(shared by both). Prints one row per seed and the ratio.

    python benchmarks/bench_buildout.py [--seeds 3] [--gap 1e-3] [--limit 120] [--coverage isolated]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def instance(seed: int, base):
    """The shipped data (seed 0) or a seeded variant of it."""
    if seed == 0:
        return base
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.85, 1.15, base.hire_cap.shape[0])
    b = rng.uniform(0.85, 1.15, base.budget_usd.shape)
    return dataclasses.replace(base, hire_cap=base.hire_cap * f[:, None],
                               budget_usd=base.budget_usd * b)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3, help="instances: the shipped one + seeds-1")
    ap.add_argument("--gap", type=float, default=1e-3, help="mip_rel_gap of both")
    ap.add_argument("--limit", type=float, default=120.0, help="time limit of both, s")
    ap.add_argument("--scenario", default=str(REPO / "scenarios" / "dcs_buildout.yaml"))
    ap.add_argument("--coverage", choices=("scenario", "isolated", "shared"), default="scenario",
                    help="coverage.mode of the instance (default: the scenario's, shared for the"
                         " shipped ramp; isolated has the exact aggregated formulation)")
    args = ap.parse_args()

    from bheard.buildout import starting_slots
    from bheard.optimize import formulation_for, resolve
    from bheard.optimize.buildout import GAINS, solve_buildout
    from bheard.problem.buildout import buildout_from_scenario
    from bheard.scenario import SolverOptions

    t0 = time.perf_counter()
    sc = resolve(args.scenario)
    if args.coverage != "scenario":
        sc = sc.with_overrides(**{"coverage.mode": args.coverage})
    form = formulation_for(sc)
    prob = form.problem(sc)
    steady = form.run(sc, prob)
    base = buildout_from_scenario(sc, prob, GAINS[sc.coverage.mode](sc, prob, steady),
                                  starting_slots(sc, prob))
    T, P, C = base.shape
    print(f"{sc.name}: {P} precincts x {C} tours x {T} quarters; problem data"
          f" {time.perf_counter() - t0:.1f} s (steady state + starting plan included)")
    opts = SolverOptions(time_limit_s=args.limit, mip_rel_gap=args.gap)
    print(f"{'seed':>4} | {'bheard s':>8} {'status':>20} {'gap':>8} {'covered':>10} |"
          f" {'HiGHS s':>8} {'status':>20} {'gap':>8} {'covered':>10} | {'ratio':>6}")
    ratios = []
    for seed in range(args.seeds):
        d = instance(seed, base)
        t1 = time.perf_counter()
        ours = solve_buildout(d, opts)
        t_ours = time.perf_counter() - t1
        t1 = time.perf_counter()
        ref = solve_buildout(d, opts, kind="full", heuristics=False, warm_start=False)
        t_ref = time.perf_counter() - t1
        ratio = t_ref / t_ours
        ratios.append(ratio)
        print(f"{seed:>4} | {t_ours:8.1f} {ours.status:>20} {ours.gap:8.1e} {ours.objective:10,.0f}"
              f" | {t_ref:8.1f} {ref.status:>20} {ref.gap:8.1e} {ref.objective:10,.0f} |"
              f" {ratio:5.1f}x", flush=True)
        print(f"     bheard: {ours.report.message}")
    print(f"ratio (plain HiGHS time / bheard time): min {min(ratios):.1f}x, median"
          f" {float(np.median(ratios)):.1f}x, max {max(ratios):.1f}x. A reference stopped by"
          " the limit makes its ratio a lower bound.")


if __name__ == "__main__":
    main()
