"""Batch throughput (scenarios/minute): 1 vs 2 local workers, and a Dask LocalCluster 1 vs 2.

Writes 20 variants of the citywide scenario (10 budgets x 2 demand scales, each ``extends:``
scenarios/dcs_citywide.yaml) into a folder and runs ``bheard.batch`` on them into fresh output
folders (nothing cached), timing the whole call (pool / cluster start-up included).

    python benchmarks/bench_batch.py                      # all four runs
    python benchmarks/bench_batch.py --parent scenarios/dcs_citywide_shared.yaml  # heavier solves
    python benchmarks/bench_batch.py --write-scenarios out/batch20   # only write the files

With the isolated citywide scenario each solve takes ~0.1 s, less than starting a worker
process, so parallelism cannot pay; the shared-mode parent (~2-3 s per solve) measures it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import bheard

REPO = Path(__file__).resolve().parents[1]
BUDGETS = [50e6, 65e6, 87.5e6, 110e6, 150e6, 200e6, 300e6, 400e6, 600e6, 1.1e9]
SCALES = [1.0, 1.25]


def write_scenarios(folder: Path, parent: Path | None = None) -> list[Path]:
    """20 scenario files extending ``parent`` (default: the shipped citywide scenario)."""
    folder.mkdir(parents=True, exist_ok=True)
    parent = Path(parent or REPO / "scenarios" / "dcs_citywide.yaml").resolve()
    out = []
    for scale in SCALES:
        for b in BUDGETS:
            name = f"citywide_b{b / 1e6:g}M_d{scale:g}"
            f = folder / f"{name}.yaml"
            f.write_text(f"extends: {parent}\nname: {name}\n"
                         f"description: dcs_citywide at ${b:,.0f}/year, demand x{scale:g}\n"
                         f"budget: {{annual_usd: {b:.0f}}}\ndemand: {{scale: {scale}}}\n")
            out.append(f)
    return out


def run(files, out: Path, **kw) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    res = bheard.batch(files, out, **kw)
    dt = time.perf_counter() - t0
    assert res.ok and (res.summary["run"] == "solved").all(), res.summary
    return dt


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-scenarios", metavar="DIR", help="only write the 20 files to DIR")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--parent", type=Path, default=None,
                    help="scenario the 20 variants extend (default scenarios/dcs_citywide.yaml)")
    args = ap.parse_args(argv)
    if args.write_scenarios:
        files = write_scenarios(Path(args.write_scenarios), args.parent)
        print(f"wrote {len(files)} scenarios to {args.write_scenarios}")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    try:
        files = write_scenarios(tmp / "scenarios", args.parent)
        n = len(files)
        bheard.solve(files[0])  # warm imports in this process
        rows = []
        for w in (1, 2):
            dt = run(files, tmp / f"local{w}", workers=w)
            rows.append((f"local, {w} worker{'s' if w > 1 else ''}"
                         + (" (in process)" if w == 1 else " (spawned pool, start-up incl.)"), dt))
        if not args.no_dask:
            from distributed import LocalCluster

            for w in (1, 2):
                with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
                    dt = run(files, tmp / f"dask{w}", dask=cluster)
                rows.append((f"dask LocalCluster, {w} worker{'s' if w > 1 else ''} (running)", dt))
        print(f"{n} variants of {args.parent or 'dcs_citywide.yaml'}; wall time of bheard.batch "
              f"(a Dask cluster is started before timing, as a user's would be)")
        base = {}
        for label, dt in rows:
            kind = label.split(",")[0]
            base.setdefault(kind, dt)
            print(f"  {label:50s} {dt:6.1f} s  {60 * n / dt:6.1f} scenarios/min  "
                  f"speed-up {base[kind] / dt:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
