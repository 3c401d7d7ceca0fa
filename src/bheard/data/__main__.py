"""``python -m bheard.data build [--source DIR] [--out DIR]``: rebuild the shipped data files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bheard.errors import InputError


def main(argv: list[str] | None = None) -> int:
    from bheard.data import data_dir
    from bheard.data import build as build_mod

    parser = argparse.ArgumentParser(prog="python -m bheard.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser(
        "build",
        help="derive precincts.csv, precinct_boundaries.geojson and SOURCES.md from the raw data",
    )
    p_build.add_argument(
        "--source",
        type=Path,
        default=None,
        help=f"folder with the raw public files (default: {build_mod.default_source_dir()})",
    )
    p_build.add_argument(
        "--out", type=Path, default=None, help=f"output folder (default: {data_dir()})"
    )
    p_build.add_argument(
        "--tolerance-m",
        type=float,
        default=build_mod.SIMPLIFY_TOLERANCE_M,
        help="boundary simplification tolerance, metres (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    if args.command == "build":
        try:
            res = build_mod.build(args.source, args.out, tolerance_m=args.tolerance_m)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        t = res.table
        csv_size = res.precincts_csv.stat().st_size
        print(
            f"wrote {res.precincts_csv} ({csv_size:,} bytes, {len(t)} precincts, "
            f"{t['area_km2'].sum():.1f} km2, {int(t['pop_2020'].sum()):,} persons)"
        )
        print(f"wrote {res.boundaries_geojson} ({res.boundaries_bytes:,} bytes)")
        print(f"wrote {res.sources_md} ({res.sources_md.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
