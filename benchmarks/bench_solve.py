"""Benchmark: bheard's solve pipeline vs plain HiGHS on the same isolated-coverage model.

Usage::

    python benchmarks/bench_solve.py                 # citywide + 300x42x8 + 2000x168x4
    python benchmarks/bench_solve.py --quick         # citywide + 300x42x8 only
    python benchmarks/bench_solve.py --ref-limit 120 # reference time limit, seconds

For each instance it prints bheard's build / translate / solve seconds, status and certified
gap, and beside it the REFERENCE measured in the same run: the same model (one continuous y per
team level, one integer x per precinct-slot, link rows and the budget row) written directly
with highspy and solved by HiGHS with default options (mip_rel_gap 1e-4). The reference runs
in a child process with a wall-clock guard and a memory cap, because HiGHS has been seen to
overrun its own time limit on the largest instance (PERFORMANCE_NOTES.md).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def synthetic_problem(P: int, S: int, K: int, seed: int = 0):
    """A synthetic isolated-coverage instance with P zones, S slots and K team levels.

    Zone rates: lognormal around 0.3 calls/hour (sd 0.6 in log space) times a slot profile in
    [0.5, 1.5]; service time 1.75 h; slot lengths 168/S hours each when S >= 42 (so S slots
    tile the week), tour costs $2,000-$2,600 per 8 h scaled by length; budget = 30% of the
    cost of staffing every zone-slot at K.
    """
    from bheard.problem import ProblemData

    rng = np.random.default_rng(seed)
    base = rng.lognormal(np.log(0.3), 0.6, size=P)
    profile = rng.uniform(0.5, 1.5, size=S)
    hours = np.full(S, 168.0 / S)
    cost = rng.choice([2000.0, 2200.0, 2600.0], size=S) * hours / 8.0
    W = 52.0
    return ProblemData(
        precinct=np.arange(P), borough=np.array(["synthetic"] * P, dtype=object),
        slot_day=np.array([f"d{s // max(S // 7, 1)}" for s in range(S)], dtype=object),
        slot_tour=np.array([f"t{s}" for s in range(S)], dtype=object),
        slot_hours=hours, slot_cost_usd=cost, calls_per_hour=np.outer(base, profile),
        service_time_hours=1.75, weeks_per_year=W,
        team_budget_usd_per_year=0.30 * W * cost.sum() * P * K,
        max_teams=np.full((P, S), K, dtype=np.int64), min_teams=np.zeros((P, S), dtype=np.int64),
        slot_cap=np.full(S, np.inf))


# ------------------------------------------------------------------------------------------
# reference: the same model straight into highspy, HiGHS defaults
# ------------------------------------------------------------------------------------------
def _reference_child(P, S, K, seed, time_limit, mem_gb, conn):
    resource.setrlimit(resource.RLIMIT_AS, (int(mem_gb * 2**30), int(mem_gb * 2**30)))
    try:
        import highspy

        from bheard.model.isolated import make_increments

        prob = synthetic_problem(P, S, K, seed)
        t0 = time.perf_counter()
        inc = make_increments(prob)
        n, G = inc.n, P * S
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", 1e-4)
        inf = highspy.kHighsInf
        # columns: y_0..y_{n-1} (continuous), then x_0..x_{G-1} (integer)
        h.addVars(n + G, np.zeros(n + G), np.concatenate([np.ones(n), np.full(G, float(K))]))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), inc.gain)
        h.changeColsIntegrality(G, np.arange(n, n + G, dtype=np.int32),
                                np.full(G, highspy.HighsVarType.kInteger, dtype=np.uint8))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        # link rows: x_g - sum y = 0 ; budget row
        grp = (inc.p * S + inc.s).astype(np.int64)
        order = np.argsort(grp, kind="stable")
        counts = np.bincount(grp, minlength=G)
        starts = np.concatenate([[0], np.cumsum(counts + 1)[:-1]]).astype(np.int32)
        idx = np.empty(n + G, dtype=np.int32)
        val = np.empty(n + G)
        pos = starts.copy()
        idx[pos] = n + np.arange(G)
        val[pos] = 1.0
        fill = np.repeat(starts + 1, counts) + (np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts))
        idx[fill] = order
        val[fill] = -1.0
        h.addRows(G, np.zeros(G), np.zeros(G), n + G, starts, idx, val)
        h.addRow(-inf, prob.team_budget_usd_per_year, n, np.arange(n, dtype=np.int32), inc.cost)
        build = time.perf_counter() - t0
        t1 = time.perf_counter()
        h.run()
        solve = time.perf_counter() - t1
        info = h.getInfo()
        status = h.modelStatusToString(h.getModelStatus())
        obj = info.objective_function_value if info.primal_solution_status == 2 else float("nan")
        conn.send({"build": build, "solve": solve, "status": status, "objective": obj,
                   "gap": info.mip_gap if info.primal_solution_status == 2 else float("inf"),
                   "bound": info.mip_dual_bound})
    except MemoryError:
        conn.send({"status": f"out of memory (cap {mem_gb} GiB)"})
    except Exception as exc:  # report, don't crash the benchmark
        conn.send({"status": f"error: {type(exc).__name__}: {exc}"})


def reference(P, S, K, seed, time_limit, mem_gb=8.0):
    ctx = mp.get_context("spawn")
    a, b = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_reference_child, args=(P, S, K, seed, time_limit, mem_gb, b))
    t0 = time.perf_counter()
    proc.start()
    guard = time_limit * 1.5 + 60
    out = None
    if a.poll(guard):
        out = a.recv()
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    wall = time.perf_counter() - t0
    if out is None:
        out = {"status": f"killed after {guard:.0f} s (HiGHS overran its time limit)"}
    out["wall"] = wall
    return out


# ------------------------------------------------------------------------------------------
def ours(P, S, K, seed):
    from bheard.optimize.incremental import solve_problem
    from bheard.scenario import SolverOptions as SolveOptions

    prob = synthetic_problem(P, S, K, seed)
    t0 = time.perf_counter()
    res = solve_problem(prob, SolveOptions(time_limit_s=60, mip_rel_gap=1e-4))
    wall = time.perf_counter() - t0
    return res, wall


def citywide():
    import bheard

    t0 = time.perf_counter()
    plan = bheard.solve(REPO / "scenarios" / "dcs_citywide.yaml")
    return plan, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the 2000x168 instance")
    ap.add_argument("--ref-limit", type=float, default=120.0, help="reference time limit, s")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    rows = []
    plan, wall = citywide()
    ref = reference(78, 21, 4, args.seed, args.ref_limit)  # same size as citywide (K = 4)
    rows.append(("citywide 78x21 K=4 (scenario)", plan.build_seconds, plan.translate_seconds,
                 plan.solve_seconds, wall, plan.status, plan.gap, ref))
    sizes = [(300, 42, 8)] + ([] if args.quick else [(2000, 168, 4)])
    for P, S, K in sizes:
        res, wall = ours(P, S, K, args.seed)
        ref = reference(P, S, K, args.seed, args.ref_limit)
        rows.append((f"synthetic {P}x{S} K={K}", res.build_seconds, res.translate_seconds,
                     res.solve_seconds, wall, res.status, res.gap, ref))

    print(f"{'instance':32} {'build':>7} {'transl':>7} {'solve':>7} {'total':>7} {'status':>10} "
          f"{'gap':>8} | {'ref total':>9} {'ref status':>22} {'ref gap':>8} | {'speed-up':>8}")
    for name, b, t, s, wall, status, gap, ref in rows:
        # the reference's own build + solve seconds (child start-up and imports excluded);
        # when HiGHS overran and the child was killed, the wall time is all we have
        ref_wall = (ref["build"] + ref["solve"]) if "solve" in ref else ref.get("wall", float("nan"))
        ref_gap = ref.get("gap", float("nan"))
        ratio = ref_wall / wall if wall > 0 else float("nan")
        ref_ok = ref.get("status") == "Optimal" and ref.get("gap", 1.0) <= 1e-4
        print(f"{name:32} {b:7.2f} {t:7.2f} {s:7.2f} {wall:7.2f} {status:>10} {gap:8.1e} | "
              f"{ref_wall:9.2f} {str(ref.get('status'))[:22]:>22} {ref_gap:8.1e} | "
              f"{ratio:7.1f}x{'' if ref_ok else ' (ref not optimal: lower bound on ratio)'}")
    print("\nref = same model written with highspy, HiGHS defaults, mip_rel_gap 1e-4, "
          f"time limit {args.ref_limit:.0f} s, run in this process's machine in the same run.")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())
