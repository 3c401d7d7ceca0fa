"""``bheard solve`` and ``bheard validate``: solve a scenario and print the plan, or check a
scenario without solving it. Exit codes: 0 solved (optimal, or feasible with its gap shown);
1 infeasible or solver failure (with the diagnosis); 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import bheard
from bheard.cli.common import check, fail_input, fmt, out_console
from bheard.errors import InputError


def print_plan(plan, console: Console = out_console) -> None:
    """Readable summary of a plan: status line, totals, headcount, by borough and by tour."""
    status_style = {"optimal": "green", "time_limit_feasible": "yellow"}.get(plan.status, "red")
    console.print(f"[bold]{escape(plan.scenario)}[/]: status [{status_style}]{plan.status}[/]")
    if not plan.feasible:
        for d in plan.diagnosis:
            console.print(f"  [red]conflict:[/] {escape(d)}")
        return
    console.print(
        f"  covered {fmt(plan.objective, 'calls')} of {fmt(plan.eligible_calls, 'calls')} eligible"
        f" calls/year ({fmt(plan.coverage_share, 'share')}); bound {fmt(plan.bound, 'calls')};"
        f" gap {fmt(plan.gap, 'gap')} ({plan.solver.bound_source})", highlight=False)
    console.print(
        f"  cost {fmt(plan.annual_cost, 'usd')}/year of {fmt(plan.budget, 'usd')} budget; "
        f"{fmt(plan.team_shifts_per_week, 'int')} team-shifts/week; coverage model "
        f"{escape(plan.coverage_model)}", highlight=False)
    fp = plan.fixed_point
    if fp is not None and fp.trace:
        q = [r["q_mean"] for r in fp.trace[-1:]]
        console.print(
            f"  local busy probabilities: fixed point {'converged' if fp.converged else 'NOT converged'}"
            f" in {fp.iterations} iterations (estimate vs the plan's own: {fp.final_change:.2%}"
            f" of the calls, tolerance {fp.tolerance:.2%}); teams busy {q[0]:.0%} on average",
            highlight=False)
    if plan.status != "optimal" and plan.solver.message:
        console.print(f"  [yellow]why not optimal:[/] {escape(plan.solver.message)}")
    if plan.workforce is not None and plan.workforce.fte_by_role:
        roles = ", ".join(f"{r} {v:,.1f}" for r, v in plan.workforce.fte_by_role.items())
        console.print(f"  headcount (FTE): {roles}", highlight=False)
    console.print(
        f"  build {fmt(plan.build_seconds, 's')}, translate {fmt(plan.translate_seconds, 's')}, "
        f"solve {fmt(plan.solve_seconds, 's')}; demand: {plan.demand_source}", style="dim")
    for title, df, key in (("By borough", plan.by_borough(), "borough"),
                           ("By tour", plan.by_tour(), "tour")):
        t = Table(title=title, title_justify="left")
        for col in (key, "team-shifts/wk", "eligible calls/yr", "covered calls/yr", "coverage",
                    "cost USD/yr"):
            t.add_column(col, justify="left" if col == key else "right")
        for r in df.itertuples(index=False):
            t.add_row(escape(str(getattr(r, key))), fmt(r.team_shifts_per_week, "int"),
                      fmt(r.eligible_calls, "calls"), fmt(r.expected_covered_calls, "calls"),
                      fmt(r.coverage_share, "share"), fmt(r.annual_cost_usd, "calls"))
        console.print(t)


def print_simulation_check(sim, console: Console = out_console) -> None:
    """The optimizer's prediction beside the simulated share, and why they differ."""
    from bheard.simulate import predicted_vs_simulated

    c = predicted_vs_simulated(sim)
    lo, hi = c["ci95"]
    diff = "" if c["difference_pp"] is None else f" ({c['difference_pp']:+.1f} pp)"
    console.print(f"  simulation check ({sim.replications} replications, {sim.dispatch}): "
                  f"predicted {fmt(c['predicted'], 'share')}, simulated "
                  f"{fmt(c['simulated'], 'share')} [{fmt(lo, 'share')}, {fmt(hi, 'share')}]{diff}",
                  highlight=False)
    for line in c["explanation"]:
        console.print(f"    - {escape(line)}", style="dim")


def solve(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for plan.csv, summary.json and scenario.yaml."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Override budget.annual_usd (USD/year)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Override solver.time_limit_s (seconds)."),
    simulate: int = typer.Option(0, "--simulate", min=0, help="Check the plan by simulation with N replications (0 = no check)."),
    report: bool = typer.Option(False, "--report", help="Also write OUT/report.html (needs --out)."),
):
    """Solve a scenario and print the plan's summary."""
    try:
        check(budget is None or budget >= 0, "--budget", budget, "a number >= 0 (USD/year)")
        check(time_limit is None or time_limit > 0, "--time-limit", time_limit,
              "a number > 0 (seconds)")
        check(not report or out is not None, "--report", True,
              "--out DIR as well (the report is written there)")
        plan = bheard.solve(scenario, budget_usd=budget, time_limit_s=time_limit)
    except InputError as exc:
        fail_input(exc)
    print_plan(plan)
    sim = None
    if simulate and plan.feasible:
        sim = bheard.simulate(plan, replications=simulate)
        print_simulation_check(sim)
    if out is not None:
        plan.save(out)
        out_console.print(f"wrote {out / 'plan.csv'}, {out / 'summary.json'} and "
                          f"{out / 'scenario.yaml'}", highlight=False)
        if sim is not None:
            sim.save(out)
            out_console.print(f"wrote {out / 'simulation.json'}", highlight=False)
        if report:
            from bheard.report import write_report

            out_console.print(f"wrote {write_report(out)}", highlight=False)
    if not plan.feasible:
        raise typer.Exit(1)


def validate(scenario: Path = typer.Argument(..., help="Scenario YAML file.")):
    """Check a scenario file without solving it."""
    from bheard.optimize import formulation_for

    try:
        sc = bheard.load_scenario(scenario)
        f = formulation_for(sc)
        data = f.problem(sc)
    except InputError as exc:
        fail_input(exc)
    P, C = f.index(data).shape
    cols = "slots" if f.name != "staggered" else "start columns"
    out_console.print(f"[green]ok[/]: {escape(sc.name)}: {P} precincts x {C} {cols}, demand "
                      f"{sc.demand.source}, {fmt(float(data.eligible_calls_per_year().sum()), 'calls')}"
                      f" eligible calls/year, budget {fmt(sc.budget.annual_usd, 'usd')}/year"
                      f" ({f.name} model)", highlight=False)
