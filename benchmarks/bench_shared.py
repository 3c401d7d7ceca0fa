"""Shared-coverage model: bheard's pipeline vs HiGHS alone on the same model, same run.

At the busy probability the fixed point converges to for ``scenarios/dcs_citywide_shared.yaml``
(78 precincts x 21 slots), compare

* reference: HiGHS on ``build_shared_model`` with the greedy plan as MIP start, run to
  ``--limit`` seconds (the route PERFORMANCE_NOTES measured at 43 s -> 0.6 s with a warm start
  on a synthetic 300 x 42);
* bheard: LP bound + LP-rounded plan + local search (``best_heuristic_plan``), HiGHS only if
  the gap is above 1e-4;

and the whole ``bheard.solve`` (fixed point included). Prints times, gaps and ratios.

    python benchmarks/bench_shared.py [--limit 30]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import bheard
from bheard.model import shared as sh
from bheard.model.base import covered_from_counts, in_range
from bheard.optimize import fixed_point as fp
from bheard.problem import problem_from_scenario

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=30.0, help="HiGHS time limit, s")
    args = ap.parse_args()
    path = REPO / "scenarios" / "dcs_citywide_shared.yaml"

    t0 = time.perf_counter()
    plan = bheard.solve(path)
    t_full = time.perf_counter() - t0
    q = np.array(plan.fixed_point.busy_probability)
    print(f"bheard.solve (fixed point, {plan.fixed_point.iterations} iterations):"
          f" {t_full:.2f} s, covered {plan.objective:,.1f}, gap {plan.gap:.1e}")

    prob = problem_from_scenario(bheard.load_scenario(path))
    reach = sh.reach_or_identity(prob)
    G = sh.shared_gains(prob, q, reach=reach)

    t0 = time.perf_counter()
    teams, val, bound = fp.best_heuristic_plan(prob, G, reach)
    t_ours = time.perf_counter() - t0
    print(f"bheard at fixed q: {t_ours:.2f} s, covered {val:,.1f}, LP bound {bound:,.1f},"
          f" gap {(bound - val) / val:.1e}")

    t0 = time.perf_counter()
    start = sh.greedy_shared(prob, G, reach)
    out = fp.solve_shared_mip(prob, G, reach, start, None, time_limit_s=args.limit,
                              mip_rel_gap=1e-4)
    t_ref = time.perf_counter() - t0
    ref_val = float(covered_from_counts(G, in_range(reach, out.teams)).sum())
    print(f"HiGHS + greedy start: {t_ref:.2f} s ({out.status}), covered {ref_val:,.1f},"
          f" bound {out.bound:,.1f}, gap {(out.bound - ref_val) / ref_val:.1e}")
    print(f"ratio HiGHS-alone / bheard-at-fixed-q time: {t_ref / t_ours:.1f}x;"
          f" covered ratio {val / ref_val:.5f}")


if __name__ == "__main__":
    main()
