"""Budget frontier vs cold solves, measured in the same run.

Three references, each against the frontier measured the same way:

1. in process, caches cleared: N x ``bheard.solve(path, budget_usd=b)``, clearing bheard's
   in-process caches (the shipped precinct table) before each, so every solve loads the
   scenario, reads the data, builds ProblemData and the Erlang increments, then solves;
2. in process, warm caches: the same without clearing (what a Python loop would pay);
3. command line: N x ``bheard solve SCENARIO --budget b`` processes vs one
   ``bheard frontier SCENARIO --budgets ...`` process (what a planner would otherwise run).

Frontier: ``bheard.frontier(path, grid)`` builds scenario, ProblemData and increments once
and re-runs only the budget-dependent steps, each warm-started from the previous plan. Both
sides start after one untimed solve so Pyomo/HiGHS imports are warm in-process.

    python benchmarks/bench_frontier.py [SCENARIO] [--budgets 50e6:1.1e9:25] [--repeat 3] [--no-cli]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import bheard
from bheard.frontier import parse_budgets

REPO = Path(__file__).resolve().parents[1]


def clear_caches() -> None:
    """Forget bheard's in-process caches (so a solve re-reads its data files)."""
    from bheard import data

    data._read_precincts.cache_clear()


def cold_solves(scenario, grid, clear: bool):
    plans = []
    for b in grid:
        if clear:
            clear_caches()
        plans.append(bheard.solve(scenario, budget_usd=float(b)))
    return plans


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=str(REPO / "scenarios" / "dcs_citywide.yaml"))
    ap.add_argument("--budgets", default="50e6:1.1e9:25")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cli", action="store_true", help="skip the command-line comparison")
    args = ap.parse_args(argv)
    grid = parse_budgets(args.budgets)
    n = len(grid)
    bheard.solve(args.scenario)  # warm imports for both sides

    res = {"cleared": [], "warm": [], "frontier_cleared": [], "frontier_warm": []}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        cold = cold_solves(args.scenario, grid, clear=True)
        res["cleared"].append(time.perf_counter() - t0)
        clear_caches()
        t0 = time.perf_counter()
        fr = bheard.frontier(args.scenario, grid)
        res["frontier_cleared"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cold_solves(args.scenario, grid, clear=False)
        res["warm"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bheard.frontier(args.scenario, grid)
        res["frontier_warm"].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in res.items()}
    cov_cold = np.array([p.objective for p in cold])
    cov_front = fr.table["covered_calls"].to_numpy()
    worst = float(np.max(np.abs(cov_cold - cov_front) / np.maximum(cov_cold, 1.0)))
    print(f"scenario {Path(args.scenario).name}, {n} budgets ${grid[0]:,.0f}..${grid[-1]:,.0f}; "
          f"median of {args.repeat}; max relative coverage difference frontier vs cold "
          f"{worst:.1e} (mip_rel_gap 1e-4 per point)")
    for label, c, f in (("in process, caches cleared", med["cleared"], med["frontier_cleared"]),
                        ("in process, warm caches", med["warm"], med["frontier_warm"])):
        print(f"  {label:28s} {n} x bheard.solve {c:6.2f} s ({c / n:.3f} s/point) | "
              f"frontier {f:6.2f} s ({f / n:.3f} s/point) | ratio {c / f:.1f}x")
    print(f"  frontier build once (scenario + ProblemData + increments): {fr.build_seconds:.2f} s; "
          f"per-point solve steps: {fr.table['seconds'].sum():.2f} s")
    if not args.no_cli:
        exe = str(Path(sys.executable).parent / "bheard")
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            for b in grid:
                subprocess.run([exe, "solve", args.scenario, "--budget", f"{b:.0f}"],
                               check=True, capture_output=True)
            c = time.perf_counter() - t0
            t0 = time.perf_counter()
            subprocess.run([exe, "frontier", args.scenario, "--budgets", args.budgets, "--out",
                            tmp], check=True, capture_output=True)
            f = time.perf_counter() - t0
        print(f"  {'command line (processes)':28s} {n} x bheard solve {c:6.2f} s "
              f"({c / n:.3f} s/point) | bheard frontier {f:6.2f} s | ratio {c / f:.1f}x")


if __name__ == "__main__":
    main()
