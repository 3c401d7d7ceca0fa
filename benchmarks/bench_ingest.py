"""Benchmark: ingest of a 1,000,000-row EMS Incident Dispatch export.

Target (issue 3): 1M rows in under 30 s and under 1 GiB peak memory (2-core machine).

The file is SYNTHETIC (``bheard.demand.synth``) with the real export's 31 columns and about
the real mix of 9 other calls per mental-health call. Each measurement runs in a fresh
subprocess and reports wall time and peak resident memory (``VmHWM`` of /proc/self/status). The reference,
measured in the same run on the same file, is a plain ``pandas.read_csv(path, dtype=str)``
of the whole file (what a planner would write first).

Usage: python benchmarks/bench_ingest.py [--rows 1000000] [--gzip] [--keep PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
mode, path = sys.argv[1], sys.argv[2]
import pandas as pd
from bheard.demand import ingest

def hwm_mib():
    # peak resident set of this process (VmHWM; unlike ru_maxrss it is not inherited over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

base = hwm_mib()
t = time.perf_counter()
if mode == "read_csv":
    df = pd.read_csv(path, dtype=str)
    rows = len(df)
    del df
else:
    res = ingest(path)
    rows = res.report.totals()["rows"]
secs = time.perf_counter() - t
print(json.dumps({"rows": int(rows), "seconds": secs, "peak_mib": hwm_mib(), "import_mib": base}))
"""


def run(mode: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="approximate rows in the file")
    ap.add_argument("--gzip", action="store_true", help="write and read a .csv.gz file")
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated file at this path")
    args = ap.parse_args()

    from bheard.demand.synth import SynthConfig, synthesize

    other = 9.0  # real export: ~1.6M rows/yr for ~175k MH calls (S-mh-calls-2024 in docs/sources.md: ~174,000 MH calls;
    # S-ems-dispatch: ~1.6M EMS dispatch rows a year, about 9 per MH call)
    years = args.rows / (175_000 * (1 + other)) * 1.075  # the first months of 2022 are below the annual mean
    tmpdir = tempfile.TemporaryDirectory()
    path = args.keep or Path(tmpdir.name) / ("ems_bench.csv.gz" if args.gzip else "ems_bench.csv")
    t = time.perf_counter()
    res = synthesize(path, config=SynthConfig(start=SynthConfig().start, years=years, seed=1, other_calls_per_mh_call=other))
    gen = time.perf_counter() - t
    size_mib = path.stat().st_size / 2**20
    print(f"SYNTHETIC benchmark file: {res.rows:,} rows ({res.mh_calls:,} MH), {size_mib:.0f} MiB, generated in {gen:.1f} s")

    ref = run("read_csv", path)
    ing = run("ingest", path)
    per_m = ing["seconds"] / ing["rows"] * 1e6
    print(f"{'':<28}{'seconds':>9}{'rows/s':>12}{'s per 1M':>10}{'peak MiB':>10}")
    for name, r in (("pandas.read_csv (reference)", ref), ("bheard ingest", ing)):
        print(f"{name:<28}{r['seconds']:>9.2f}{r['rows'] / r['seconds']:>12,.0f}{r['seconds'] / r['rows'] * 1e6:>10.2f}{r['peak_mib']:>10.0f}")
    print(f"ratios ingest / read_csv: time x{ing['seconds'] / ref['seconds']:.2f}, peak memory x{ing['peak_mib'] / ref['peak_mib']:.2f}")
    print(f"interpreter + imports alone: {ing['import_mib']:.0f} MiB")
    ok_t = per_m < 30
    ok_m = ing["peak_mib"] < 1024
    print(f"target 1M rows < 30 s: {'PASS' if ok_t else 'FAIL'} ({per_m:.1f} s per 1M rows); "
          f"peak < 1 GiB: {'PASS' if ok_m else 'FAIL'} ({ing['peak_mib']:.0f} MiB)")
    tmpdir.cleanup()


if __name__ == "__main__":
    main()
