"""``bheard solve`` and ``bheard validate``: solve a scenario and print the plan, or check a
scenario without solving it. Exit codes: 0 solved (optimal, or feasible with its gap shown);
1 infeasible or solver failure (with the diagnosis); 2 bad input.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import bheard
from bheard.cli.common import Output, check, check_outputs, fail_input, fmt, format_option, out_console
from bheard.errors import InputError


#: --by views of a plan (the Plan methods behind them)
BY_VIEWS = ("summary", "borough", "tour", "precinct")
PRECINCT_COLUMNS_HEAD = ["precinct", "borough", "eligible_calls", "expected_covered_calls",
                         "coverage_share"]
BOROUGH_COLUMNS = ["borough", "precincts", "precincts_with_team", "team_shifts_per_week",
                   "eligible_calls", "expected_covered_calls", "coverage_share",
                   "annual_cost_usd"]
TOUR_COLUMNS = ["tour", "start", "teams_on_duty_mean", "team_shifts_per_week",
                "eligible_calls", "expected_covered_calls", "coverage_share", "annual_cost_usd"]


def precinct_columns(plan) -> list[str]:
    """Columns of the per-precinct view: calls, coverage, teams on duty per tour, cost."""
    return (PRECINCT_COLUMNS_HEAD + [f"teams_on_duty_{t}" for t in plan.tour_names]
            + ["team_shifts_per_week", "annual_cost_usd"])


def headline(plan) -> list[tuple[str, str]]:
    """The answer first, as (label, sentence) pairs: coverage, cost, cost per covered call,
    teams on duty per tour, precincts with and without a team, which limit binds."""
    a = plan.answer
    lines = [("Coverage", f"{fmt(a.coverage_share, 'share')} of eligible calls:"
                          f" {fmt(a.covered_calls_per_year, 'calls')} of"
                          f" {fmt(a.eligible_calls_per_year, 'calls')} calls/year")]
    cost = (f"{fmt(a.team_cost_usd_per_year, 'musd')}/year for"
            f" {fmt(plan.team_shifts_per_week, 'int')} team-shifts/week (team budget"
            f" {fmt(a.team_budget_usd_per_year, 'musd')})")
    if a.program_fixed_usd_per_year:
        cost += (f" + {fmt(a.program_fixed_usd_per_year, 'musd')} program fixed cost ="
                 f" {fmt(a.total_cost_usd_per_year, 'musd')}/year")
    lines.append(("Cost", cost))
    per = f"{fmt(a.cost_per_covered_call_usd, 'usd')} of team cost"
    if a.program_fixed_usd_per_year:
        per += f", {fmt(a.total_cost_per_covered_call_usd, 'usd')} with the program's fixed cost"
    lines.append(("Per covered call", per))
    tod = plan.teams_on_duty_by_tour()
    lines.append(("Teams on duty", "; ".join(
        f"{r.tour} {fmt(r.teams_on_duty_mean, 'teams')}"
        + (f" ({r.start}, {r.hours:g} h)" if r.start else "") for r in tod.itertuples())
        + " (citywide, mean over the days each tour runs)"))
    n_with, n_without = len(a.precincts_with_team), len(a.precincts_without_team)
    where = f"{n_with} of {a.precincts} have a team"
    if n_without:
        where += (f"; {n_without} have none: "
                  + ", ".join(str(p) for p in a.precincts_without_team))
    lines.append(("Precincts", where))
    if plan.limits is not None:
        for i, sentence in enumerate(plan.limits.sentences()):
            lines.append(("What limits it" if i == 0 else "", sentence))
    if plan.workforce is not None and plan.workforce.fte_by_role:
        lines.append(("Headcount (FTE)", ", ".join(
            f"{r.replace('_', ' ')} {v:,.1f}" for r, v in plan.workforce.fte_by_role.items())))
    return lines


def print_plan(plan, output=None, by: str | None = None) -> None:
    """A plan's answer, first screen first: the headline (coverage, cost, cost per covered
    call, teams on duty per tour, precincts with and without a team, the binding limit), then
    the tables (by borough and tour, or the one ``by`` names), then the solver details."""
    from bheard.cli.common import Output

    out = output if output is not None else Output("auto")
    if out.mode == "csv":
        if by in (None, "summary"):
            out.table("summary", plan.summary_table())
        elif plan.feasible:
            view = {"borough": (plan.by_borough, BOROUGH_COLUMNS),
                    "tour": (plan.by_tour, TOUR_COLUMNS),
                    "precinct": (plan.by_precinct, precinct_columns(plan))}[by]
            out.table(by, view[0](), view[1])
        return
    gap = "" if plan.gap != plan.gap else f", gap {fmt(plan.gap, 'gap')}"
    out.line(f"{plan.scenario}: status {plan.status}{gap}", style="bold")
    if not plan.feasible:
        for d in plan.diagnosis:
            out.line(f"  conflict: {d}", style="red")
        return
    lines = headline(plan)
    fp = plan.fixed_point
    if fp is not None and fp.trace:
        q = fp.trace[-1].get("q_mean")
        lines.append(("Busy teams", (f"{q:.0%} of the time on average; " if q is not None else "")
                      + f"local busy probabilities {'converged' if fp.converged else 'NOT converged'}"
                      f" in {fp.iterations} iterations (the estimate and the plan's own differ by"
                      f" {fp.final_change:.2%} of the calls; tolerance {fp.tolerance:.2%})"))
    width = max(len(k) for k, _ in lines)
    for k, v in lines:
        out.line(f"  {k.ljust(width)}  {v}")
    if plan.status != "optimal" and plan.solver.message:
        out.line(f"  Why not optimal: {plan.solver.message}", style="yellow")
    if by in (None, "borough"):
        out.table("By borough", plan.by_borough(), BOROUGH_COLUMNS)
    if by in (None, "tour"):
        out.table("By tour", plan.by_tour(), TOUR_COLUMNS)
    if by == "precinct":
        out.table("By precinct", plan.by_precinct(), precinct_columns(plan))
    out.line()
    out.line(
        f"Solver: objective {fmt(plan.objective, 'calls')} calls/year, proven bound"
        f" {fmt(plan.bound, 'calls')} ({plan.solver.bound_source}), gap {fmt(plan.gap, 'gap')};"
        f" coverage model {plan.coverage_model}; demand {plan.demand_source}; build"
        f" {fmt(plan.build_seconds, 's')}, translate {fmt(plan.translate_seconds, 's')}, solve"
        f" {fmt(plan.solve_seconds, 's')}", style="dim")


def print_uncertainty(plan, output=None) -> None:
    """Demand uncertainty (``demand.uncertainty``): the plan and the median plan on the
    held-out samples, the value of the stochastic solution, per borough and tour bands."""
    import pandas as pd

    from bheard.cli.common import Output

    u = plan.uncertainty
    if u is None:
        return
    out = output if output is not None else Output("auto")
    d, m = u.plan, u.median_plan

    def band(x):
        return (f"{fmt(x.expected_share, 'share')} expected [P10 {fmt(x.share_p10, 'share')},"
                f" P50 {fmt(x.share_p50, 'share')}, P90 {fmt(x.share_p90, 'share')}]"
                + ("" if x.p_meet_target is None else
                   f"; P(share >= {fmt(x.target_share, 'share')}) {fmt(x.p_meet_target, 'share')}"))

    out.line(f"  demand uncertainty: {u.source}; optimized over {u.optimization_samples}"
             f" samples ({u.objective}), evaluated on {u.evaluation_samples} held-out"
             f" samples (seed {u.seed})")
    out.line(f"    this plan:   {band(d)}; {fmt(d.expected_covered_calls, 'calls')} calls/year")
    out.line(f"    median plan: {band(m)}; {fmt(m.expected_covered_calls, 'calls')}"
             f" calls/year (it promises {fmt(u.median_plan_planned_share, 'share')} at the"
             f" median demand)")
    out.line(f"    value of the stochastic solution: {round(u.value_of_stochastic_solution) + 0.0:+,.0f}"
             f" calls/year (standard error {u.value_of_stochastic_solution_se:,.0f})")
    if u.expected_plan is not None and u.risk is not None:
        e = u.expected_plan
        out.line(f"    risk objective (CVaR of the worst {fmt(u.risk.alpha, 'share')} of"
                 f" samples): {fmt(u.risk.value, 'share')}, bound"
                 f" {fmt(u.risk.bound, 'share')}, gap {fmt(u.risk.gap, 'gap')}; held-out"
                 f" CVaR {fmt(d.cvar_share, 'share')} vs {fmt(e.cvar_share, 'share')} for"
                 f" the expected plan, price {fmt(u.price_of_risk_calls, 'calls')}"
                 " calls/year of expected coverage")
    for title, key, rows in (("By borough, held-out samples", "borough", d.by_borough),
                             ("By tour, held-out samples", "tour", d.by_tour)):
        df = pd.DataFrame([{key: r.name, "expected_covered_calls": r.expected_covered_calls,
                            "expected_share": r.expected_share, "share_p10": r.share_p10,
                            "share_p50": r.share_p50, "share_p90": r.share_p90,
                            **({"p_meet_target": r.p_meet_target}
                               if d.target_share is not None else {})} for r in rows])
        out.table(title, df, many=True)


def print_simulation_check(sim, output=None) -> None:
    """The optimizer's prediction beside the simulated share, and why they differ."""
    from bheard.cli.common import Output
    from bheard.simulate import predicted_vs_simulated

    out = output if output is not None else Output("auto")
    c = predicted_vs_simulated(sim)
    lo, hi = c["ci95"]
    diff = "" if c["difference_pp"] is None else f" ({c['difference_pp']:+.1f} pp)"
    out.line(f"  simulation check ({sim.replications} replications, {sim.dispatch}): "
             f"predicted {fmt(c['predicted'], 'share')}, simulated "
             f"{fmt(c['simulated'], 'share')} [{fmt(lo, 'share')}, {fmt(hi, 'share')}]{diff}")
    for line in c["explanation"]:
        out.line(f"    - {line}", style="dim")


def solve(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for plan.csv, summary.json and scenario.yaml."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Override budget.annual_usd (USD/year)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Override solver.time_limit_s (seconds)."),
    simulate: int = typer.Option(0, "--simulate", min=0, help="Check the plan by simulation with N replications (0 = no check)."),
    report: bool = typer.Option(False, "--report", help="Also write OUT/report.html and OUT/map.png (needs --out)."),
    by: Optional[str] = typer.Option(None, "--by", help="Show one table: summary | borough | tour | precinct (calls, coverage, teams on duty per tour and cost for every precinct)."),
    output_format: str = format_option(),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Also write one Excel workbook (summary, by precinct, by tour, by borough, assumptions)."),
    explain: bool = typer.Option(True, "--explain/--no-explain", help="Say which limit binds and what relaxing it would buy (a few re-solves)."),
):
    """Solve a scenario and print the answer: coverage, cost, cost per covered call, teams on
    duty per tour, precincts with and without a team, and which limit binds."""
    check(by is None or by in BY_VIEWS, "--by", by, " | ".join(BY_VIEWS))
    output = Output(output_format)
    try:
        check(budget is None or (math.isfinite(budget) and budget >= 0), "--budget", budget,
              "a finite number >= 0 (USD/year)")
        check(time_limit is None or (math.isfinite(time_limit) and time_limit > 0),
              "--time-limit", time_limit, "a finite number > 0 (seconds)")
        check(not report or out is not None, "--report", True,
              "--out DIR as well (the report is written there)")
        check_outputs(out, xlsx)  # found before the solve, not after it
        plan = bheard.solve(scenario, budget_usd=budget, time_limit_s=time_limit)
    except InputError as exc:
        fail_input(exc)
    if explain and plan.feasible:
        from bheard.optimize.explain import explain_limits

        plan.limits = explain_limits(plan)
    print_plan(plan, output, by=by)
    if by in (None, "summary"):
        print_uncertainty(plan, output)
    sim = None
    if simulate and plan.feasible:
        from bheard.cli.common import status

        with status(f"simulating {simulate} replications..."):
            sim = bheard.simulate(plan, replications=simulate)
        print_simulation_check(sim, output)
    if out is not None:
        plan.save(out)
        output.line(f"wrote {out / 'plan.csv'}, {out / 'summary.json'} and "
                    f"{out / 'scenario.yaml'}")
        if sim is not None:
            sim.save(out)
            output.line(f"wrote {out / 'simulation.json'}")
        if report:
            from bheard.report import write_report

            output.line(f"wrote {write_report(out)} and {out / 'map.png'}")
    if xlsx is not None and plan.feasible:
        from bheard.spreadsheet import plan_sheets, write_workbook

        output.line(f"wrote {write_workbook(xlsx, plan_sheets(plan))}")
    if not plan.feasible:
        raise typer.Exit(1)


def validate(scenario: Path = typer.Argument(..., help="Scenario YAML file.")):
    """Check a scenario file without solving it."""
    from bheard.optimize import preflight

    try:
        sc = bheard.load_scenario(scenario)
        f = preflight(sc)
        data = f.problem(sc)
    except InputError as exc:
        fail_input(exc)
    P, C = f.index(data).shape
    cols = "slots" if f.name != "staggered" else "start columns"
    out_console.print(f"[green]ok[/]: {escape(sc.name)}: {P} precincts x {C} {cols}, demand "
                      f"{sc.demand.source}, {fmt(float(data.eligible_calls_per_year().sum()), 'calls')}"
                      f" eligible calls/year, budget {fmt(sc.budget.annual_usd, 'usd')}/year"
                      f" ({f.name} model)", highlight=False)
