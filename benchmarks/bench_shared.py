"""Benchmark: the shared (cross-precinct) model against plain HiGHS on its own final MIP.

Usage::

    python benchmarks/bench_shared.py                 # every row (~20 min on a busy machine)
    python benchmarks/bench_shared.py --quick         # citywide command, one 300x42 seed
    python benchmarks/bench_shared.py --rows 1000x84x4 --seeds 2

The goals are those of issues 10 and 15; every figure has a reference measured in the same run
and every run is a child process of its own (peak resident memory = ``ru_maxrss`` of the child).

``citywide-cmd``
    ``bheard solve scenarios/dcs_citywide.yaml --no-explain`` (the calibrated default, shared
    coverage with local busy probabilities) and the same command with its default explanation
    of the binding limits, as whole commands, against a plain-HiGHS command on the default's
    OWN FINAL MIP: a child solves the scenario as ``bheard.solve`` does, keeps the frozen gains
    of the driver's last LP or MIP (the estimate the plan is certified at), and writes the
    shared MIP at those gains (integer teams, continuous levels, link rows, budget, caps, the
    driver's cost tie-break) to MPS; ``PLAIN_HIGHS`` (a standalone highspy script, as in
    ``bench_solve.py``) reads it and solves it at the scenario's ``mip_rel_gap`` within
    ``--ref-limit`` seconds. Runs alternate after one warm-up each; ratios are pair by pair.
    Goals: the ``--no-explain`` command under 2 s, and no slower than the plain command.
``citywide-solve``
    The same comparison without Python's start-up (both sides in one child process, after a
    warm-up of each): ``bheard.solve(scenario)`` on the loaded default scenario (problem data,
    fixed point, LPs, MIP if any, the Plan with its tables) against plain HiGHS on the
    default's own final MIP (a fresh ``highspy.Highs``: ``readModel`` of the MPS above and
    ``run`` at the scenario's ``mip_rel_gap``), alternated ``--repeats`` times; ratios pair
    by pair. Goal: no slower than plain HiGHS on its own final MIP.
``PxSxK`` (300x42x8, 1000x84x4, 2000x168x4)
    Synthetic shared instances (:func:`synthetic_shared`): ``bench_solve.synthetic_problem``
    (same rates, costs, budget at 30% of full staffing) plus a geography: precincts uniform in
    a square of side sqrt(P) (one precinct per unit area), trips of 6 minutes plus 8 minutes
    per unit of distance, a team in range within 15 minutes (about 5 precincts in range, as a
    dense borough), the same in every slot; 1-hour service, 77.5% availability. bheard:
    :func:`bheard.optimize.fixed_point.solve_shared` (fixed point, LP bound, heuristics, HiGHS
    when the LP does not certify), time limit 60 s, ``mip_rel_gap`` 5e-4 at 300x42 (the
    citywide default) and 1e-3 above. Reference: plain HiGHS (the same script) on the final
    MIP written by the same child after bheard's solve (untimed), with the gap and
    ``--ref-limit``. Goals: 300x42 under 10 s; 1000x84 and 2000x168 at gap <= 1e-3 within
    60 s. bheard's peak memory is read inside the child before the MPS is written.

Times are wall seconds (min / median / max over seeds or repeats); the machine is shared, so
quote medians and ratios with the load average printed at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import bench_solve
from bench_solve import PLAIN_HIGHS, bheard_cmd, mmm, run_process, run_rows, synthetic_problem

CITYWIDE = REPO / "scenarios" / "dcs_citywide.yaml"
#: synthetic rows: name -> (precincts, slots, team levels, mip_rel_gap, goal s, default seeds)
SIZES = {"300x42x8": (300, 42, 8, 5e-4, 10.0, 2), "1000x84x4": (1000, 84, 4, 1e-3, 60.0, 1),
         "2000x168x4": (2000, 168, 4, 1e-3, 60.0, 1)}
ALL_ROWS = ["citywide-cmd", "citywide-solve", *SIZES]
QUICK_ROWS = ["citywide-cmd", "citywide-solve", "300x42x8"]
CITYWIDE_GOAL_S = 2.0
REF_LIMIT_S = 60.0


def synthetic_shared(P: int, S: int, K: int, seed: int = 0):
    """A synthetic shared-coverage instance (module docstring); reach and trips are the same
    in every slot, kept as broadcast views (no (S, P, P) array is formed)."""
    prob = synthetic_problem(P, S, K, seed)
    rng = np.random.default_rng(10_000 + seed)
    xy = rng.uniform(0.0, np.sqrt(P), size=(P, 2))
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    travel = 6.0 + 8.0 * dist  # travel[j, i], minutes from base j to precinct i
    reach = (travel <= 15.0).T  # reach[i, j]
    return dataclasses.replace(prob, reach=np.broadcast_to(reach, (S, P, P)),
                               travel_min=np.broadcast_to(travel, (S, P, P)),
                               availability=0.775, service_time_hours=1.0)


def _capture_final_gains():
    """Wrap the driver's LP and MIP calls to keep the gains (and sparse ranges) of the last
    one: the estimate the final plan is certified at."""
    from bheard.optimize import fixed_point as fp

    seen = {}
    lp, mip = fp.solve_lp_relaxation, fp.solve_shared_mip

    def lp_wrap(prob, G, reach, floors, **kw):
        seen.update(G=G, reach=reach, floors=floors)
        return lp(prob, G, reach, floors, **kw)

    def mip_wrap(prob, G, reach, start, floors, **kw):
        seen.update(G=G, reach=reach, floors=floors)
        return mip(prob, G, reach, start, floors, **kw)

    fp.solve_lp_relaxation, fp.solve_shared_mip = lp_wrap, mip_wrap
    return seen


def write_final_mps(prob, seen: dict, teams, gap: float, path: str) -> dict:
    """The shared MIP at the captured gains as MPS (the driver's model, tie-break included)."""
    import highspy

    from bheard.constants import TIE_BREAK_REL
    from bheard.model.base import covered_from_counts, in_range
    from bheard.model.shared import shared_lp_arrays
    from bheard.solver.highs import _highs_lp

    G, reach = seen["G"], seen["reach"]
    v = float(covered_from_counts(G, in_range(reach, teams)).sum())
    eps = TIE_BREAK_REL * max(v, 1.0) / max(prob.team_budget_usd_per_year, 1.0)
    lp, xi = shared_lp_arrays(prob, G, reach, seen["floors"], integer=True,
                              tie_break_per_usd=eps)
    model = _highs_lp(lp)  # the solver door's own translation of the arrays
    n, m = model.num_col_, model.num_row_
    model.integrality_ = [highspy.HighsVarType.kInteger if b else
                          highspy.HighsVarType.kContinuous for b in lp.integer]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(model)
    h.writeModel(path)
    return {"mps_columns": int(n), "mps_integers": len(xi), "mps_rows": int(m)}


def child(task: dict) -> dict:
    """One child process: solve (timed), report peak memory, then write the final MIP."""
    import bheard  # noqa: F401
    from bheard.optimize import fixed_point as fp

    seen = _capture_final_gains()
    out = {}
    if task["kind"] == "citywide-inproc":
        return citywide_inproc(task, seen)
    if task["kind"] == "citywide-mps":
        from bheard.optimize import resolve
        from bheard.problem import problem_from_scenario

        sc = resolve(task["path"])
        prob = problem_from_scenario(sc)
        res = fp.solve_scenario_problem(sc, prob)
    else:
        from bheard.scenario import SolverOptions
        from bheard.scenario.schema import CoverageSettings

        prob = synthetic_shared(task["P"], task["S"], task["K"], task["seed"])
        cov = CoverageSettings(mode="shared", response_standard_min=15)
        t0 = time.perf_counter()
        res = fp.solve_shared(prob, SolverOptions(time_limit_s=task["limit"],
                                                  mip_rel_gap=task["gap"]), cov)
        out["seconds"] = time.perf_counter() - t0
    out.update(status=res.status, gap=res.gap, objective=res.objective,
               bound_source=res.report.bound_source, termination=res.report.termination,
               iterations=res.fixed_point.iterations if res.fixed_point else 0,
               converged=bool(res.fixed_point.converged) if res.fixed_point else None,
               teams=int(np.asarray(res.teams).sum()) if res.teams is not None else 0,
               rss_solve_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if task.get("mps") and res.teams is not None:
        out.update(write_final_mps(prob, seen, res.teams, task["gap"], task["mps"]))
    return out


def citywide_inproc(task: dict, seen: dict) -> dict:
    """``citywide-solve`` in one child: warm-ups, then bheard.solve and plain HiGHS on the
    final MIP alternated (module docstring)."""
    import highspy

    import bheard
    from bheard.optimize import fixed_point as fp
    from bheard.optimize import resolve
    from bheard.problem import problem_from_scenario

    sc = resolve(task["path"])
    prob = problem_from_scenario(sc)
    res = fp.solve_scenario_problem(sc, prob)
    info = write_final_mps(prob, seen, res.teams, task["gap"], task["mps"])

    def plain_once() -> tuple[float, str]:
        t = time.perf_counter()
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.readModel(task["mps"])
        h.setOptionValue("mip_rel_gap", float(task["gap"]))
        h.setOptionValue("time_limit", float(task["limit"]))
        h.run()
        return time.perf_counter() - t, h.modelStatusToString(h.getModelStatus())

    def ours_once() -> tuple[float, str]:
        t = time.perf_counter()
        plan = bheard.solve(sc)
        return time.perf_counter() - t, plan.status

    plain_once(), ours_once()  # warm-ups
    ours, plain_, st_o, st_p = [], [], set(), set()
    for _ in range(task["repeats"]):
        a, sa = ours_once()
        b, sb = plain_once()
        ours.append(a)
        plain_.append(b)
        st_o.add(sa)
        st_p.add(sb)
    return {"ours": ours, "plain": plain_, "ours_status": sorted(st_o),
            "plain_status": sorted(st_p), **info}


def row_citywide_solve(args, tmp: Path) -> list[dict]:
    from bheard.scenario import load_scenario

    gap = load_scenario(CITYWIDE).solver.mip_rel_gap
    r = run_child({"kind": "citywide-inproc", "path": str(CITYWIDE), "gap": gap,
                   "mps": str(tmp / "citywide_inproc.mps"), "limit": args.ref_limit or 60.0,
                   "repeats": args.repeats}, 600)
    ratios = [b / a for a, b in zip(r["ours"], r["plain"])]
    med = float(np.median(ratios))
    return [{"row": "`bheard.solve(scenario)`, `dcs_citywide.yaml`, in process (no start-up)",
             "n": len(r["ours"]), "bheard": mmm(r["ours"]),
             "status": ", ".join(r["ours_status"]), "rss": r["rss_mib"],
             "ref": (f"plain HiGHS in process on the final MIP ({r['mps_integers']} integers, "
                     f"{r['mps_columns']} columns; readModel + run at gap {gap:g}): "
                     f"{mmm(r['plain'])} s ({', '.join(r['plain_status'])})"),
             "ratio": mmm(ratios),
             "goal": f"no slower than plain HiGHS on its own final MIP: {met(med >= 1.0)}"}]


def run_child(task: dict, timeout: float) -> dict:
    return bench_solve.run_child(task, timeout, script=__file__)


def plain(script: Path, mps: str, gap: float, limit: float) -> dict:
    r = run_process([sys.executable, str(script), mps, str(gap), str(limit)], limit * 1.5 + 60)
    lines = r["stdout"].strip().splitlines()  # highspy prints its banner first
    words = lines[-1].split() if lines else []
    r["status"] = words[0] if words else "(killed)"
    r["gap"] = float(words[-1]) if len(words) >= 3 else float("nan")
    return r


def met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def row_citywide_cmd(args, tmp: Path) -> list[dict]:
    from bheard.scenario import load_scenario

    gap = load_scenario(CITYWIDE).solver.mip_rel_gap
    mps = str(tmp / "citywide_final.mps")
    info = run_child({"kind": "citywide-mps", "path": str(CITYWIDE), "gap": gap, "mps": mps},
                     600)
    script = tmp / "plain_highs.py"
    script.write_text(PLAIN_HIGHS)
    limit = args.ref_limit
    rel = str(CITYWIDE.relative_to(REPO))
    cmds = {"no-explain": bheard_cmd() + ["solve", rel, "--no-explain"],
            "explain": bheard_cmd() + ["solve", rel],
            "plain": [sys.executable, str(script), mps, str(gap), str(limit)]}
    for cmd in cmds.values():  # one warm-up each
        run_process(cmd, limit * 1.5 + 60)
    runs = {k: [] for k in cmds}
    for _ in range(args.repeats):
        for k, cmd in cmds.items():
            runs[k].append(run_process(cmd, limit * 1.5 + 60))
    pl = runs["plain"]
    plain_status = sorted({((r["stdout"].strip().splitlines() or ["(killed)"])[-1].split()
                            or ["(killed)"])[0] for r in pl})
    ref = (f"plain HiGHS on the default's final MIP ({info.get('mps_integers')} integers, "
           f"{info.get('mps_columns')} columns; gap {gap:g}, limit {limit:g} s): "
           f"{mmm([r['wall'] for r in pl])} s (cpu {mmm([r['cpu'] for r in pl])}; "
           f"{', '.join(plain_status)}; peak {max(r['rss_mib'] for r in pl):.0f} MiB)")
    rows = []
    for k, label in (("no-explain", "`bheard solve scenarios/dcs_citywide.yaml --no-explain`"),
                     ("explain", "`bheard solve scenarios/dcs_citywide.yaml` (explanation)")):
        rs = runs[k]
        med = float(np.median([r["wall"] for r in rs]))
        ratios = [p["wall"] / b["wall"] for p, b in zip(pl, rs)]
        goal = ""
        if k == "no-explain":
            goal = (f"under {CITYWIDE_GOAL_S:g} s: {met(med < CITYWIDE_GOAL_S)} (median "
                    f"{med:.2f} s); no slower than plain HiGHS: "
                    f"{met(float(np.median(ratios)) >= 1.0)}")
        rows.append({"row": label, "n": len(rs), "bheard": mmm([r["wall"] for r in rs])
                     + f" (cpu {mmm([r['cpu'] for r in rs])})",
                     "status": "exit 0" if all(r["exit"] == 0 for r in rs) else "a run failed",
                     "rss": max(r["rss_mib"] for r in rs), "ref": ref,
                     "ratio": mmm(ratios) + " (cpu " + mmm([p["cpu"] / b["cpu"] for p, b in
                                                           zip(pl, rs)]) + ")",
                     "goal": goal})
        ref = "as above"
    return rows


def row_size(args, name: str, tmp: Path) -> list[dict]:
    P, S, K, gap, goal_s, n_default = SIZES[name]
    seeds = range(args.seeds or n_default)
    if args.quick:
        seeds = range(1)
    script = tmp / "plain_highs.py"
    script.write_text(PLAIN_HIGHS)
    ours, refs = [], []
    for seed in seeds:
        mps = str(tmp / f"{name}_{seed}.mps")
        o = run_child({"kind": "synthetic", "P": P, "S": S, "K": K, "seed": seed, "gap": gap,
                       "limit": 60.0, "mps": mps}, args.guard)
        ours.append(o)
        print(f"  seed {seed}: {json.dumps(o)}", flush=True)
        if args.ref_limit > 0 and Path(mps).exists():
            refs.append(plain(script, mps, gap, args.ref_limit))
            print(f"  seed {seed} plain: {refs[-1]['wall']:.1f} s {refs[-1]['status']} gap "
                  f"{refs[-1]['gap']:.2e}", flush=True)
    secs = [o.get("seconds") for o in ours]
    gaps = [o.get("gap") for o in ours]
    ok = all(s is not None and s < goal_s for s in secs) and all(
        g is not None and g <= gap for g in gaps)
    goal = (f"gap <= {gap:g} within {goal_s:g} s on every seed: {met(ok)}")
    if not all(o.get("converged") for o in ours):
        goal += (" for the gap at the final estimate; the fixed point did not converge on"
                 " every seed (status feasible): **not met** as a converged plan")
    ref = "not run" if not refs else (
        f"plain HiGHS on the final MIP (limit {args.ref_limit:g} s): "
        f"{mmm([r['wall'] for r in refs])} s ({', '.join(sorted({r['status'] for r in refs}))}"
        f"; gap {mmm([r['gap'] for r in refs])}; peak {max(r['rss_mib'] for r in refs):.0f} "
        "MiB)")
    ratio = "" if not refs else (
        ("" if all(r["status"] == "Optimal" for r in refs) else ">= ")
        + mmm([r["wall"] / o["seconds"] for r, o in zip(refs, ours) if o.get("seconds")]))
    return [{"row": f"synthetic shared {P}x{S}, K={K}, seeds {seeds.start}-{seeds.stop - 1}",
             "n": len(ours), "bheard": mmm(secs),
             "status": ", ".join(sorted({str(o.get("status")) for o in ours}))
             + ("; gap <= " + (f"{max(g for g in gaps):.1e}" if all(g is not None
                                                                    for g in gaps) else "n/a"))
             + "; fixed point " + ", ".join(f"{o.get('iterations', '?')} it" for o in ours),
             "rss": max(o.get("rss_solve_mib", o["rss_mib"]) for o in ours), "ref": ref,
             "ratio": ratio, "goal": goal}]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=f"rows {', '.join(QUICK_ROWS)}")
    ap.add_argument("--rows", default="", help=f"comma-separated subset of {', '.join(ALL_ROWS)}")
    ap.add_argument("--seeds", type=int, default=0, help="seeds per synthetic row (0: default)")
    ap.add_argument("--repeats", type=int, default=5, help="runs of each citywide command")
    ap.add_argument("--ref-limit", type=float, default=REF_LIMIT_S,
                    help="plain-HiGHS time limit, s (0: no reference for synthetic rows)")
    ap.add_argument("--guard", type=float, default=600.0,
                    help="kill a synthetic bheard child after this many seconds")
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    wanted = args.rows.split(",") if args.rows else QUICK_ROWS if args.quick else ALL_ROWS
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = run_rows(wanted, {
            "citywide-cmd": lambda: row_citywide_cmd(args, Path(tmp)),
            "citywide-solve": lambda: row_citywide_solve(args, Path(tmp)),
            **{name: (lambda name=name: row_size(args, name, Path(tmp))) for name in SIZES}},
            lambda r: f"ref / bheard {r['ratio']} | goal {r['goal']}")
    load1 = os.getloadavg()
    print(f"\nload average (1/5/15 min) at start {load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f},"
          f" at end {load1[0]:.1f}/{load1[1]:.1f}/{load1[2]:.1f} ({os.cpu_count()} cores);"
          f" {time.strftime('%Y-%m-%d')}")
    print("\n| row | n | bheard s (min / median / max) | status | peak MiB |"
          " reference, same run | ref / bheard | goal |")
    print("|---|---:|---|---|---:|---|---|---|")
    for r in out:
        print(f"| {r['row']} | {r['n']} | {r['bheard']} | {r['status']} | {r['rss']:.0f} | "
              f"{r['ref']} | {r['ratio']} | {r['goal']} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())
