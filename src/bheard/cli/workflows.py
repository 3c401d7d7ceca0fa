"""Planner workflow commands: ``bheard frontier``, ``bheard batch``, ``bheard report``.

Thin wrappers over :func:`bheard.frontier.frontier`, :func:`bheard.batch.batch` and
:func:`bheard.report.write_report`. Exit codes: 0 ok; 1 some scenario failed / infeasible;
2 bad input.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from bheard.cli.common import (Output, err_console, fail_input, format_option, out_console,
                               progress)
from bheard.constants import FEASIBLE_STATUSES
from bheard.errors import InputError
from bheard.io import safe_filename


def frontier_cmd(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    budgets: str = typer.Option(..., "--budgets", help="START:STOP:N (N budgets in USD/year, "
                                "both ends included, e.g. 50e6:1.1e9:25) or a comma list."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for frontier.csv, "
                                       "frontier.png, first_team_budget.csv and the plan at "
                                       "each budget (frontier_precincts.csv, "
                                       "frontier_boroughs.csv; default out/<scenario "
                                       "name>-frontier)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit",
                                               help="Solver time limit per budget (seconds)."),
    output_format: str = format_option(),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Also write one Excel workbook "
                                        "(frontier, first-team budgets, plan by borough at "
                                        "each budget)."),
):
    """Coverage vs budget: re-solve one scenario at many budgets (model data built once);
    says where coverage stops rising and which limit binds there."""
    from bheard.frontier import frontier

    output = Output(output_format)
    try:
        if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
            raise InputError.single("--time-limit", "--time-limit", time_limit,
                                    "a number > 0 (seconds)")
        with progress("frontier") as bar:
            fr = frontier(scenario, budgets, time_limit_s=time_limit, on_point=bar.advance)
    except InputError as exc:
        fail_input(exc)
    dest = out if out is not None else Path("out") / f"{safe_filename(fr.scenario)}-frontier"
    fr.save(dest)
    output.table(f"{fr.scenario}: budget frontier", fr.table, FRONTIER_SHOWN)
    for line in fr.limit_note:
        output.line(line)
    output.line(f"wrote {dest / 'frontier.csv'}, {dest / 'frontier.png'},"
                f" {dest / 'first_team_budget.csv'} and the plan at each budget"
                f" ({fr.total_seconds:.1f} s)")
    if xlsx is not None:
        from bheard.spreadsheet import frontier_sheets, write_workbook

        output.line(f"wrote {write_workbook(xlsx, frontier_sheets(fr))}")
    if not (fr.table["status"].isin(list(FEASIBLE_STATUSES))).any():
        raise typer.Exit(1)


#: frontier columns shown by the command (all of them go to frontier.csv)
FRONTIER_SHOWN = ["budget_usd", "covered_calls", "coverage_share", "annual_cost_usd",
                  "team_shifts_per_week", "marginal_calls_per_million_usd", "status"]


def batch_cmd(
    scenarios: List[str] = typer.Argument(..., help="Scenario files, folders or glob "
                                          "patterns (quote globs)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (batch_summary.csv and "
                             "one folder per plan)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Local worker "
                                          "processes (default: CPU count; 1 = in process)."),
    dask: Optional[str] = typer.Option(None, "--dask", help="Run on an existing Dask "
                                       "scheduler, e.g. tcp://HOST:8786."),
    force: bool = typer.Option(False, "--force", help="Re-solve scenarios whose output "
                               "already exists."),
    progress: bool = typer.Option(True, "--progress/--no-progress",
                                  help="Show a progress bar."),
):
    """Solve many scenarios; skip ones already solved (same content hash); resumable."""
    from bheard.batch import batch

    try:
        if workers is not None and workers < 1:
            raise InputError.single("--workers", "--workers", workers, "an integer >= 1")
        res = batch(scenarios, out, workers=workers, dask=dask, progress=progress,
                    force=force, raise_if_all_failed=False,
                    on_result=None if progress else (lambda r: out_console.print(
                        f"{r['run']:6s} {r['scenario']} {r['status']}", highlight=False, markup=False)))
    except InputError as exc:
        fail_input(exc)
    s = res.summary
    counts = s["run"].value_counts().to_dict()
    out_console.print(
        f"{len(s)} scenarios: {counts.get('solved', 0)} solved, {counts.get('cached', 0)} "
        f"already done, {counts.get('failed', 0)} failed; {res.seconds:.1f} s on "
        f"{res.workers}; wrote {out / 'batch_summary.csv'}", markup=False, highlight=False)
    if res.n_failed:
        bad = s[(s["run"] == "failed") | ~s["status"].isin(
            list(FEASIBLE_STATUSES))]
        for r in bad.itertuples(index=False):
            first = str(r.error or "").strip().splitlines()
            err_console.print(f"[red]{escape(str(r.status))}[/]: {escape(str(r.file))}: "
                              f"{escape(first[0]) if first else ''}", highlight=False)
        raise typer.Exit(1)

def report_cmd(
    out_dir: Path = typer.Argument(..., help="Folder written by `bheard solve --out`."),
    frontier_dir: Optional[Path] = typer.Option(None, "--frontier", help="Folder with "
                                                "frontier.csv (default: OUT_DIR if it has "
                                                "one)."),
    output: Optional[Path] = typer.Option(None, "--output", help="HTML file to write "
                                          "(default OUT_DIR/report.html)."),
):
    """Write one self-contained HTML report (map, charts, frontier, assumptions)."""
    from bheard.report import write_report

    try:
        if frontier_dir is not None and not (frontier_dir / "frontier.csv").exists():
            raise InputError.single("--frontier", "--frontier", str(frontier_dir),
                                    "a folder with frontier.csv (from `bheard frontier`)")
        path = write_report(out_dir, frontier_dir=frontier_dir, output=output)
    except InputError as exc:
        fail_input(exc)
    out_console.print(f"wrote {path}", markup=False, highlight=False)
