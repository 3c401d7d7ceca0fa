"""``bheard compare A B [C...]``: plans side by side (scenario files are solved first, plan
folders are read), citywide, by borough, by tour and by precinct, with differences against
the first. Exit codes: 0 compared; 1 a plan is infeasible; 2 bad input; 3 outputs not
written."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from bheard.cli.common import Output, check, format_option

VIEWS = ("citywide", "borough", "tour", "precinct")


def compare_cmd(
    plans: List[Path] = typer.Argument(..., help="Two or more scenario files or plan folders"
                                       " (from `bheard solve --out`); the first is the base."),
    by: Optional[str] = typer.Option(None, "--by", help="Show one table: citywide | borough |"
                                     " tour | precinct (default: citywide, borough and tour)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for compare_<view>.csv"
                                       " (all four) and compare.html."),
    output_format: str = format_option(),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Also write one Excel workbook"
                                        " with the four tables."),
):
    """Compare plans side by side, with differences against the first."""
    from bheard.compare import compare

    check(by is None or by in VIEWS, "--by", by, " | ".join(VIEWS))
    output = Output(output_format)
    cmp = compare(plans)
    views = [by] if by else (["citywide"] if output.mode == "csv" else
                             ["citywide", "borough", "tour"])
    for v in views:
        output.table(f"{v} ({' vs '.join(cmp.names)}; differences against {cmp.names[0]})",
                     cmp.table(v), many=len(views) > 1,
                     unit_column="unit" if v == "citywide" else None)
    if out is not None:
        cmp.save(out)
        output.line(f"wrote {out}/compare_citywide.csv, compare_borough.csv, compare_tour.csv,"
                    f" compare_precinct.csv and compare.html")
    if xlsx is not None:
        from bheard.spreadsheet import compare_sheets, write_workbook

        output.line(f"wrote {write_workbook(xlsx, compare_sheets(cmp))}")
