"""Benchmark: bheard's solves against plain HiGHS on exactly the same instances, over seeds.

Usage::

    python benchmarks/bench_solve.py                  # every row (~45 min; the references)
    python benchmarks/bench_solve.py --quick          # start-up, citywide, 78x21, one 300x42
    python benchmarks/bench_solve.py --rows citywide-cmd,78x21 --seeds 5
    python benchmarks/bench_solve.py --before ../old-checkout   # also time an older tree

Every run happens in a child process of its own, so each row has its peak resident memory
(``ru_maxrss`` of the child, from ``os.wait4``) and no run warms another's caches. Rows:

``start-up``
    ``python -c pass``, ``python -c "import highspy"``, ``python -c "import pyomo.environ"``
    (what a solve that needs a MIP adds), ``bheard --version``, ``bheard --help``: process
    start-up, reported apart from the solves.
``citywide-cmd``
    ``bheard solve scenarios/dcs_citywide_isolated.yaml`` (the isolated citywide model; the
    default ``dcs_citywide.yaml`` is the shared model, benchmarked in ``bench_shared.py``)
    as a command against a plain-HiGHS command on the same model: the benchmark writes the
    scenario's full model (one continuous y per team level, one integer x per precinct-slot,
    link rows, budget row, caps and minimums) to an MPS file, and a standalone script reads
    it with highspy and solves it at the scenario's ``mip_rel_gap`` within ``--ref-limit``
    seconds (default ``CITYWIDE_LIMIT``; a plain run that stops at the limit makes the ratio
    a lower bound). The model is the scenario's problem arrays as built (every carried-over
    call on the post); bheard's driver solves that model and then re-solves it at the plan's
    own carried-over share (``bheard.optimize.carryover``, usually 2-4 exact solves), so
    bheard does at least the reference's work. Runs alternate (bheard, plain, bheard, ...)
    after one warm-up each; the ratio is taken pair by pair. ``--before DIR`` adds an older
    checkout's ``bheard solve`` (from ``DIR/src``) on that checkout's own
    ``scenarios/dcs_citywide_isolated.yaml`` (``dcs_citywide.yaml`` if it has none), paired
    with this checkout solving the same file.
``citywide``
    In process: ``bheard.solve`` on the scenario (scenario load, problem arrays, solve, plan)
    against HiGHS on the same model built with highspy from the same arrays (build + solve).
    Imports are excluded on both sides (the start-up row measures them).
``PxSxK`` (78x21x4, 300x42x8, 2000x168x4, 5000x168x4)
    Synthetic isolated instances (:func:`synthetic_problem`), one row per size over several
    seeds: ``solve_problem`` (arrays in, certified plan out) against HiGHS on the same model
    built with highspy, ``mip_rel_gap`` 1e-4 on both sides. In-process rows import the whole
    stack first (Pyomo and highspy included) on both sides. The reference gets the row's
    time limit (``SIZES``, or ``--ref-limit``); a reference that stops without proving the gap
    makes the ratio a lower bound (marked ``>=``).
``shared``
    The cross-precinct model through the public API: ``bheard.solve`` on the default
    ``scenarios/dcs_citywide.yaml``. Its plain-HiGHS reference is in
    ``benchmarks/bench_shared.py``; here it gets time, status, gap and memory only.

Times are wall seconds of the solve inside the child (min / median / max over seeds or
repeats); the machine is shared, so quote medians and ratios. The last block is a Markdown
table for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: the isolated citywide model (precincts served by their own teams only): the model the
#: plain-HiGHS reference below builds. The default ``dcs_citywide.yaml`` is the shared
#: cross-precinct model; its benchmark, against plain HiGHS on its own final MIP, is
#: ``benchmarks/bench_shared.py``.
CITYWIDE = REPO / "scenarios" / "dcs_citywide_isolated.yaml"
SHARED = REPO / "scenarios" / "dcs_citywide.yaml"

#: synthetic rows: name -> (precincts, slots, team levels, default seeds, reference limit s).
#: The limits let plain HiGHS finish where it can (78x21: up to ~40 s on a busy machine;
#: 300x42: 110-125 s); at 2,000x168 and beyond it finds no proven plan in minutes, so those
#: ratios are lower bounds whatever the limit.
SIZES = {"78x21x4": (78, 21, 4, 10, 300.0), "300x42x8": (300, 42, 8, 3, 300.0),
         "2000x168x4": (2000, 168, 4, 3, 120.0), "5000x168x4": (5000, 168, 4, 3, 120.0)}
#: reference limit of the citywide rows, s: with the bottom-up tour costs (three costs) plain
#: HiGHS ran over 15 minutes on the citywide model without proving 1e-4, so a bound it is
CITYWIDE_LIMIT = 60.0
ALL_ROWS = ["start-up", "citywide-cmd", "citywide", *SIZES, "shared"]
QUICK_ROWS = ["start-up", "citywide-cmd", "citywide", "78x21x4", "300x42x8"]

#: the standalone plain-HiGHS command: read an MPS file, solve it, print what it proved
PLAIN_HIGHS = """import sys
import highspy
h = highspy.Highs()
h.setOptionValue("output_flag", False)
h.readModel(sys.argv[1])
h.setOptionValue("mip_rel_gap", float(sys.argv[2]))
h.setOptionValue("time_limit", float(sys.argv[3]))
h.run()
info = h.getInfo()
print(h.modelStatusToString(h.getModelStatus()), info.objective_function_value, info.mip_gap)
"""


def synthetic_problem(P: int, S: int, K: int, seed: int = 0):
    """A synthetic isolated-coverage instance with P zones, S slots and K team levels.

    Zone rates: lognormal around 0.3 calls/hour (sd 0.6 in log space) times a slot profile in
    [0.5, 1.5]; service time 1.75 h; slot lengths 168/S hours each (so S slots tile the
    week), tour costs $2,000-$2,600 per 8 h scaled by length; budget = 30% of the cost of
    staffing every zone-slot at K.
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


def scenario_problem(path):
    from bheard.optimize import resolve
    from bheard.problem import problem_from_scenario

    sc = resolve(path)
    return sc, problem_from_scenario(sc)


# ------------------------------------------------------------------------------------------
# the reference: the full model straight into highspy
# ------------------------------------------------------------------------------------------
def highs_model(prob, gap: float, time_limit: float | None):
    """The isolated model of ``prob`` as a highspy model, HiGHS defaults otherwise.

    Columns: y (continuous in [0, 1], one per team level with positive gain, forced levels at
    1) then x (integer in [min, max], one per precinct-slot); rows: x - sum y = 0 per
    precinct-slot, the budget, and one cap row per slot with a finite citywide cap.
    """
    import highspy

    from bheard.model.isolated import make_increments

    inc = make_increments(prob)
    P, S = prob.shape
    n, G = inc.n, P * S
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(gap))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    inf = highspy.kHighsInf
    lower = np.concatenate([inc.forced.astype(float), prob.min_teams.ravel().astype(float)])
    upper = np.concatenate([np.ones(n), prob.max_teams.ravel().astype(float)])
    h.addVars(n + G, lower, upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), inc.gain)
    h.changeColsIntegrality(G, np.arange(n, n + G, dtype=np.int32),
                            np.full(G, highspy.HighsVarType.kInteger, dtype=np.uint8))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    grp = (inc.p * S + inc.s).astype(np.int64)  # increments are sorted by (p, s, k)
    counts = np.bincount(grp, minlength=G)
    starts = np.concatenate([[0], np.cumsum(counts + 1)[:-1]]).astype(np.int32)
    idx = np.empty(n + G, dtype=np.int32)
    val = np.empty(n + G)
    idx[starts] = n + np.arange(G)
    val[starts] = 1.0
    fill = np.repeat(starts + 1, counts) + (np.arange(n) - np.repeat(np.cumsum(counts) - counts,
                                                                     counts))
    idx[fill] = np.arange(n)
    val[fill] = -1.0
    h.addRows(G, np.zeros(G), np.zeros(G), n + G, starts, idx, val)
    h.addRow(-inf, prob.team_budget_usd_per_year, n, np.arange(n, dtype=np.int32), inc.cost)
    for s in np.flatnonzero(np.isfinite(prob.slot_cap)):
        members = np.flatnonzero(inc.s == s).astype(np.int32)
        h.addRow(-inf, float(prob.slot_cap[s]), len(members), members, np.ones(len(members)))
    return h


def highs_summary(h) -> dict:
    info = h.getInfo()
    has = info.primal_solution_status == 2
    return {"status": h.modelStatusToString(h.getModelStatus()),
            "objective": info.objective_function_value if has else None,
            "gap": info.mip_gap if has else None, "bound": info.mip_dual_bound}


# ------------------------------------------------------------------------------------------
# child tasks (one process each)
# ------------------------------------------------------------------------------------------
def child(task: dict) -> dict:
    t_start = time.perf_counter()
    kind = task["kind"]
    if kind in ("ref", "ref-scenario"):
        import highspy  # noqa: F401

        import bheard.problem  # noqa: F401
    else:  # the solver door too: a solve that needs a MIP would import Pyomo on first use
        import bheard.optimize  # noqa: F401
        import bheard.optimize.incremental  # noqa: F401
        import bheard.solver.highs  # noqa: F401
        import pyomo.environ  # noqa: F401
    out = {"import_s": time.perf_counter() - t_start}
    if kind == "bheard":
        from bheard.optimize.incremental import solve_problem
        from bheard.scenario import SolverOptions

        prob = synthetic_problem(task["P"], task["S"], task["K"], task["seed"])
        t0 = time.perf_counter()
        res = solve_problem(prob, SolverOptions(time_limit_s=task["limit"],
                                                mip_rel_gap=task["gap"]))
        out.update(seconds=time.perf_counter() - t0, status=res.status, gap=res.gap,
                   objective=res.objective, n_integer=res.report.n_integer,
                   bound_source=res.report.bound_source)
    elif kind == "bheard-scenario":
        import bheard

        t0 = time.perf_counter()
        plan = bheard.solve(task["path"])
        out.update(seconds=time.perf_counter() - t0, status=plan.status, gap=plan.gap,
                   objective=plan.objective, n_integer=plan.solver.n_integer,
                   bound_source=plan.solver.bound_source)
    elif kind in ("ref", "ref-scenario"):
        if kind == "ref":
            prob = synthetic_problem(task["P"], task["S"], task["K"], task["seed"])
        else:
            _, prob = scenario_problem(task["path"])
        t0 = time.perf_counter()
        h = highs_model(prob, task["gap"], task["limit"])
        if task.get("mps"):
            h.writeModel(task["mps"])
            return {"written": task["mps"]}
        t1 = time.perf_counter()
        h.run()
        out.update(seconds=time.perf_counter() - t0, build_s=t1 - t0, **highs_summary(h))
    return out


def run_process(cmd: list[str], timeout: float, mem_gb: float | None = None,
                env: dict | None = None) -> dict:
    """Run a command; wall seconds, CPU seconds, peak RSS (MiB), exit code and stdout."""
    pre = None
    if mem_gb:
        import resource

        cap = int(mem_gb * 2**30)

        def pre():  # noqa: E306 - runs in the child before exec
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=REPO,
                                env=env, preexec_fn=pre)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        _, status, ru = os.wait4(proc.pid, 0)
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        text = out.read().decode(errors="replace")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mib": ru.ru_maxrss / 1024,
            "exit": proc.returncode, "stdout": text}


def run_child(task: dict, timeout: float, mem_gb: float | None = None,
              script: str = __file__) -> dict:
    """Run ``task`` in a child process of ``script --child`` (its last JSON line, with the
    child's peak memory and wall time; a killed or failed child says so)."""
    r = run_process([sys.executable, script, "--child", json.dumps(task)], timeout, mem_gb)
    lines = [ln for ln in r["stdout"].splitlines() if ln.startswith("{")]
    res = json.loads(lines[-1]) if lines else {
        "status": "killed at the guard" if r["exit"] and r["exit"] < 0
        else f"failed (exit {r['exit']})"}
    res.update(rss_mib=r["rss_mib"], wall=r["wall"])
    return res


# ------------------------------------------------------------------------------------------
# rows
# ------------------------------------------------------------------------------------------
def mmm(xs) -> str:
    xs = [x for x in xs if x is not None and np.isfinite(x)]
    if not xs:
        return "n/a"
    f = (lambda v: f"{v:.3g}") if max(xs) < 10 else (lambda v: f"{v:.1f}")
    return f"{f(min(xs))} / {f(statistics.median(xs))} / {f(max(xs))}"


def bheard_cmd() -> list[str]:
    exe = shutil.which("bheard")
    return [exe] if exe else [sys.executable, "-m", "bheard.cli"]


def row_startup(args) -> list[dict]:
    cmds = {"python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import highspy'": [sys.executable, "-c", "import highspy"],
            "python -c 'import pyomo.environ'": [sys.executable, "-c", "import pyomo.environ"],
            "bheard --version": bheard_cmd() + ["--version"],
            "bheard --help": bheard_cmd() + ["--help"]}
    rows = []
    for name, cmd in cmds.items():
        run_process(cmd, 60)  # warm-up
        runs = [run_process(cmd, 60) for _ in range(args.repeats)]
        rows.append({"row": f"start-up: `{name}`", "n": len(runs),
                     "bheard": mmm([r["wall"] for r in runs]),
                     "cpu": mmm([r["cpu"] for r in runs]),
                     "rss": max(r["rss_mib"] for r in runs), "status": "",
                     "ref": "", "ratio": "", "note": "whole process"})
    return rows


def row_citywide_cmd(args, tmp: Path) -> list[dict]:
    from bheard.scenario import load_scenario

    gap = load_scenario(CITYWIDE).solver.mip_rel_gap
    mps = tmp / "citywide.mps"
    run_child({"kind": "ref-scenario", "path": str(CITYWIDE), "gap": gap, "limit": None,
               "mps": str(mps)}, 600)
    script = tmp / "plain_highs.py"
    script.write_text(PLAIN_HIGHS)
    limit = args.ref_limit or CITYWIDE_LIMIT
    guard = limit * 1.5 + 60
    cmds = {"bheard": bheard_cmd() + ["solve", str(CITYWIDE.relative_to(REPO))],
            "plain": [sys.executable, str(script), str(mps), str(gap), str(limit)]}
    envs = {"bheard": None, "plain": None}
    if args.before:
        # the older tree reads its own copy of the scenario (the schema may have changed);
        # this checkout solves that same file too, so the pair compares one instance
        old = Path(args.before).resolve()
        old_scenario = old / "scenarios" / "dcs_citywide_isolated.yaml"
        if not old_scenario.exists():  # a tree from before the shared default
            old_scenario = old / "scenarios" / "dcs_citywide.yaml"
        old_scenario = str(old_scenario)
        cmds["before"] = [sys.executable, "-c", "import sys; sys.argv = ['bheard', 'solve', "
                          f"{old_scenario!r}]; from bheard.cli import main; main()"]
        envs["before"] = {**os.environ, "PYTHONPATH": str(old / "src")}
        cmds["now-on-old"] = bheard_cmd() + ["solve", old_scenario]
        envs["now-on-old"] = None
    for k in cmds:  # one warm-up each
        run_process(cmds[k], guard, env=envs[k])
    runs = {k: [] for k in cmds}
    for _ in range(args.repeats):
        for k in cmds:
            runs[k].append(run_process(cmds[k], guard, env=envs[k]))
    ok = all(r["exit"] == 0 for rs in runs.values() for r in rs)
    # highspy prints its banner on stdout first: the script's answer is the last line
    plain_out = (runs["plain"][-1]["stdout"].strip().splitlines() or ["(killed)"])[-1].split()
    proven = all((r["stdout"].strip().splitlines() or [""])[-1].startswith("Optimal")
                 for r in runs["plain"])
    rows = [{"row": f"citywide `bheard solve scenarios/{CITYWIDE.name}` (command)",
             "n": args.repeats, "bheard": mmm([r["wall"] for r in runs["bheard"]]),
             "cpu": mmm([r["cpu"] for r in runs["bheard"]]),
             "rss": max(r["rss_mib"] for r in runs["bheard"]),
             "status": "exit 0" if ok else "a run failed",
             "ref": f"{mmm([r['wall'] for r in runs['plain']])} (cpu "
                    f"{mmm([r['cpu'] for r in runs['plain']])}; "
                    f"{' '.join(plain_out[-3:-2] + plain_out[-1:])})",
             "ratio": ("" if proven else ">= ")
             + mmm([p["wall"] / b["wall"] for p, b in zip(runs["plain"], runs["bheard"])])
             + " (cpu " + mmm([p["cpu"] / b["cpu"] for p, b in zip(runs["plain"],
                                                                    runs["bheard"])]) + ")",
             "note": f"plain = `python plain_highs.py citywide.mps {gap:g} {limit:g}` (model "
                     f"as MPS, time limit {limit:g} s, peak "
                     f"{max(r['rss_mib'] for r in runs['plain']):.0f} MiB)"}]
    if args.before:
        rows.append({"row": "older checkout's `bheard solve` on its own "
                            f"`{Path(old_scenario).name}`",
                     "n": args.repeats, "bheard": mmm([r["wall"] for r in runs["before"]]),
                     "cpu": mmm([r["cpu"] for r in runs["before"]]),
                     "rss": max(r["rss_mib"] for r in runs["before"]), "status": "",
                     "ref": "this checkout on the same file: "
                            + mmm([r["wall"] for r in runs["now-on-old"]]) + " (cpu "
                            + mmm([r["cpu"] for r in runs["now-on-old"]]) + ")",
                     "ratio": mmm([o["wall"] / b["wall"] for o, b in zip(runs["before"],
                                                                         runs["now-on-old"])])
                     + " (cpu " + mmm([o["cpu"] / b["cpu"] for o, b in
                                       zip(runs["before"], runs["now-on-old"])]) + ")",
                     "note": "ratio = older / this, same scenario file"})
    return rows


def summarise(name, ours, refs, ref_limit, note="") -> dict:
    proven = [r.get("status") == "Optimal" for r in refs]
    ratios = []
    for o, r in zip(ours, refs):
        ref_s = r.get("seconds", r["wall"])  # killed at the guard: its wall time
        ratios.append(ref_s / o["seconds"] if o.get("seconds") else None)
    ref_status = sorted({str(r.get("status")) for r in refs})
    mark = "" if all(proven) else ">= "
    return {"row": name, "n": len(ours), "bheard": mmm([o.get("seconds") for o in ours]),
            "cpu": "", "rss": max(o["rss_mib"] for o in ours),
            "status": ", ".join(sorted({o.get("status", "?") for o in ours}))
            + f"; gap <= {max((o.get('gap') or 0) for o in ours):.1e}",
            "ref": f"{mmm([r.get('seconds', r['wall']) for r in refs])} "
                   f"({', '.join(ref_status)}; limit {ref_limit:g} s; peak "
                   f"{max(r['rss_mib'] for r in refs):.0f} MiB)",
            "ratio": mark + mmm(ratios), "note": note}


def row_citywide(args) -> list[dict]:
    from bheard.scenario import load_scenario

    gap = load_scenario(CITYWIDE).solver.mip_rel_gap
    limit = args.ref_limit or CITYWIDE_LIMIT
    ours, refs = [], []
    for _ in range(args.repeats):
        ours.append(run_child({"kind": "bheard-scenario", "path": str(CITYWIDE)}, 600))
        refs.append(run_child({"kind": "ref-scenario", "path": str(CITYWIDE), "gap": gap,
                               "limit": limit}, limit * 1.5 + 60, args.mem_gb))
    return [summarise(f"citywide `{CITYWIDE.name}` 78x21, K=4 (in process)", ours, refs,
                      limit, "bheard: scenario load + arrays + solve + plan; "
                      "ref: highspy build + solve from the same arrays")]


def row_size(args, name) -> list[dict]:
    P, S, K, n_default, limit = SIZES[name]
    limit = args.ref_limit if args.ref_limit is not None else limit
    seeds = range(args.seeds if args.seeds else n_default)
    if args.quick and name == "300x42x8":
        seeds = range(1)
    ours, refs = [], []
    for seed in seeds:
        task = {"P": P, "S": S, "K": K, "seed": seed, "gap": 1e-4}
        ours.append(run_child({"kind": "bheard", "limit": 60.0, **task}, 600))
        if limit > 0:
            refs.append(run_child({"kind": "ref", "limit": limit, **task},
                                  limit * 1.5 + 60, args.mem_gb))
    ints = sorted({o.get("n_integer", 0) for o in ours})
    note = (f"seeds {seeds.start}-{seeds.stop - 1}; integers handed to HiGHS: "
            f"{ints[0]}-{ints[-1]}; bound: {', '.join(sorted({o.get('bound_source', '?') for o in ours}))}")
    if not refs:
        return [{**summarise(f"synthetic {P}x{S}, K={K}", ours, [{"wall": float('nan'),
                                                                  "rss_mib": 0}] * len(ours),
                             0, note), "ref": "not run (--ref-limit 0)", "ratio": ""}]
    return [summarise(f"synthetic {P}x{S}, K={K}", ours, refs, limit, note)]


def row_shared(args) -> list[dict]:
    ours = [run_child({"kind": "bheard-scenario", "path": str(SHARED)}, 1200)
            for _ in range(args.shared_repeats)]
    return [{"row": f"cross-precinct `{SHARED.name}` (in process)", "n": len(ours),
             "bheard": mmm([o.get("seconds") for o in ours]), "cpu": "",
             "rss": max(o["rss_mib"] for o in ours),
             "status": ", ".join(sorted({o.get("status", "?") for o in ours}))
             + f"; gap <= {max((o.get('gap') or 0) for o in ours):.1e}",
             "ref": "see benchmarks/bench_shared.py", "ratio": "",
             "note": "bheard.solve (fixed point + model)"}]


def run_rows(wanted: list[str], handlers: dict, tail) -> list[dict]:
    """Run the benchmark rows in ``wanted`` (``handlers``: row name -> function returning its
    result rows), printing each result as it comes (``tail(r)``: the end of its line)."""
    out = []
    for row in wanted:
        if row not in handlers:
            raise SystemExit(f"unknown row {row!r}; rows: {', '.join(handlers)}")
        t0 = time.perf_counter()
        new = handlers[row]()
        for r in new:
            print(f"[{time.perf_counter() - t0:6.1f} s] {r['row']}: bheard {r['bheard']} s"
                  f" | {r['status']} | peak {r['rss']:.0f} MiB | ref {r['ref']} | {tail(r)}",
                  flush=True)
        out.extend(new)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help=f"rows {', '.join(QUICK_ROWS)}; one 300x42 seed")
    ap.add_argument("--rows", default="", help=f"comma-separated subset of {', '.join(ALL_ROWS)}")
    ap.add_argument("--seeds", type=int, default=0, help="seeds per synthetic row (0: default)")
    ap.add_argument("--repeats", type=int, default=5, help="runs of each command / citywide")
    ap.add_argument("--shared-repeats", type=int, default=3)
    ap.add_argument("--ref-limit", type=float, default=None,
                    help="reference time limit, s, for every row (default: per row, see "
                         "SIZES and CITYWIDE_LIMIT; 0: no reference for synthetic rows)")
    ap.add_argument("--mem-gb", type=float, default=8.0, help="memory cap of reference runs")
    ap.add_argument("--before", default="", help="an older checkout to time as a command")
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    rows_wanted = (args.rows.split(",") if args.rows else QUICK_ROWS if args.quick else ALL_ROWS)
    with tempfile.TemporaryDirectory() as tmp:
        out = run_rows(rows_wanted, {
            "start-up": lambda: row_startup(args),
            "citywide-cmd": lambda: row_citywide_cmd(args, Path(tmp)),
            "citywide": lambda: row_citywide(args),
            **{name: (lambda name=name: row_size(args, name)) for name in SIZES},
            "shared": lambda: row_shared(args)},
            lambda r: f"ratio {r['ratio']} | {r['note']}")
    print("\n| row | n | bheard s (min / median / max) | status, worst gap | peak MiB |"
          " plain HiGHS, same instances | ref / bheard |")
    print("|---|---:|---|---|---:|---|---|")
    for r in out:
        extra = f" cpu {r['cpu']}" if r["cpu"] else ""
        print(f"| {r['row']} | {r['n']} | {r['bheard']}{extra} | {r['status']} | "
              f"{r['rss']:.0f} | {r['ref']} | {r['ratio']} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())
