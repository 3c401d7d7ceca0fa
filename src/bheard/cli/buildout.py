"""``bheard buildout``: plan the multi-year hiring ramp of a scenario (``models/buildout.md``).

Exit codes as ``solve``: 0 a ramp (optimal, or feasible with its gap shown); 1 infeasible
(the diagnosis names the binding pipeline, limit or budget and the period) or solver failure;
2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bheard.cli.common import check, check_outputs, fail_input, fmt, out_console
from bheard.errors import InputError


def print_buildout(b, console: Console = out_console) -> None:
    """Status, certificate, key dates, the quarter-by-quarter and fiscal-year tables."""
    style = {"optimal": "green", "time_limit_feasible": "yellow"}.get(b.status, "red")
    console.print(f"[bold]{escape(b.scenario)}[/]: buildout status [{style}]{b.status}[/]")
    if not b.feasible:
        for d in b.diagnosis:
            console.print(f"  [red]conflict:[/] {escape(d)}")
        return
    console.print(f"  covered {fmt(b.objective, 'calls')} eligible calls over"
                  f" {len(b.period_labels)} periods; bound {fmt(b.bound, 'calls')}; gap"
                  f" {fmt(b.gap, 'gap')}"
                  + (f" ({b.solver.bound_source})" if b.solver.bound_source else "")
                  + "; coverage model"
                  f" {escape(b.coverage_model)}", highlight=False)
    console.print(f"  {escape(b.solver.message)}; build {fmt(b.build_seconds, 's')}, translate"
                  f" {fmt(b.translate_seconds, 's')}, solve {fmt(b.solve_seconds, 's')}, total"
                  f" {fmt(b.total_seconds, 's')}", style="dim", highlight=False)
    ev = b.events
    parts = [f"{k.replace('_', ' ')}: {v if v is not None else 'not within the horizon'}"
             for k, v in ev.items()]
    console.print("  " + "; ".join(escape(p) for p in parts), highlight=False)
    if b.steady_state and b.steady_state.get("coverage_share") is not None:
        ss = b.steady_state
        console.print(f"  steady state at ${ss['budget_usd'] / 1e6:,.1f}M/year: "
                      f"{fmt(ss['coverage_share'], 'share')} of eligible calls"
                      f" ({fmt(ss['team_shifts_per_week'], 'int')} team-shifts/week); final"
                      f" period {fmt(float(b.periods['coverage_share'].iloc[-1]), 'share')}",
                      highlight=False)
    if b.own_state_max_rel_diff == b.own_state_max_rel_diff:  # not nan
        console.print(f"  check: each period's teams at their own state (busy probabilities or"
                      f" carried-over load) differ from the valuation the ramp was optimized"
                      f" with by at most {b.own_state_max_rel_diff:.2%} (periods.csv"
                      f" covered_calls_per_year_own_state)", highlight=False)
    for note in b.notes:
        console.print(f"  note: {escape(note)}", style="dim")
    p = b.periods
    roles = list(dict.fromkeys(b.workforce["role"].tolist())) if len(b.workforce) else []
    t = Table(title="By period", title_justify="left")
    cols = ["period", "team-shifts/wk", "precincts with a team", "coverage", "spend $M"] + [
        f"{r} FTE" for r in roles]
    for c in cols:
        t.add_column(c, justify="left" if c == "period" else "right")
    hc = b.workforce.pivot(index="period", columns="role", values="headcount_fte") if roles \
        else None
    for r in p.itertuples(index=False):
        t.add_row(str(r.period), fmt(r.team_shifts_per_week, "int"),
                  fmt(r.precincts_with_a_team, "int"), fmt(r.coverage_share, "share"),
                  fmt(r.spend_usd / 1e6), *[fmt(float(hc.loc[r.period, ro])) for ro in roles])
    console.print(t)
    f = b.fiscal_years
    t = Table(title="By fiscal year", title_justify="left")
    for c in ("fiscal year", "budget $M", "spend $M", "left $M", "covered calls", "coverage"):
        t.add_column(c, justify="left" if c == "fiscal year" else "right")
    for r in f.itertuples(index=False):
        t.add_row(str(r.fiscal_year), fmt(r.budget_usd / 1e6), fmt(r.spend_usd / 1e6),
                  fmt(r.left_usd / 1e6), fmt(r.covered_calls, "calls"),
                  fmt(r.coverage_share, "share"))
    console.print(t)


def buildout(
    scenario: Path = typer.Argument(..., help="Scenario YAML file with a buildout: section."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for buildout.json,"
                                       " the CSV tables and scenario.yaml."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit",
                                               help="Override solver.time_limit_s (seconds)."),
    report: bool = typer.Option(False, "--report", help="Also write OUT/report.html (needs"
                                " --out)."),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Also write one Excel workbook"
                                        " (periods, fiscal years, workforce, openings, teams)."),
):
    """Plan the hiring ramp from today's deployment to the steady state, period by period."""
    import bheard

    try:
        check(time_limit is None or time_limit > 0, "--time-limit", time_limit,
              "a number > 0 (seconds)")
        check(not report or out is not None, "--report", True,
              "--out DIR as well (the report is written there)")
        check_outputs(out, xlsx)  # found before the solve, not after it
        from bheard.cli.common import status

        with status("solving the ramp (steady state, greedy ramp, then HiGHS)..."):
            b = bheard.buildout(scenario, time_limit_s=time_limit)
    except InputError as exc:
        fail_input(exc)
    print_buildout(b)
    if out is not None:
        b.save(out)
        out_console.print(f"wrote {out}/buildout.json, periods.csv, teams.csv,"
                          " teams_by_borough_tour.csv, workforce.csv, fiscal_years.csv,"
                          " openings.csv and scenario.yaml", highlight=False)
        if report:
            from bheard.report.buildout import write_buildout_report

            out_console.print(f"wrote {write_buildout_report(out)}", highlight=False)
    if xlsx is not None and b.feasible:
        from bheard.spreadsheet import buildout_sheets, write_workbook

        out_console.print(f"wrote {write_workbook(xlsx, buildout_sheets(b))}", markup=False,
                          highlight=False)
    if not b.feasible:
        raise typer.Exit(1)
