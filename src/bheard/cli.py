"""``bheard`` command line: a thin layer over the Python API.

Exit codes: 0 solved (optimal, or feasible with its gap shown); 1 infeasible or solver
failure (with the diagnosis); 2 bad input (file, field, value and what was expected).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

import bheard
from bheard.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Staffing optimizer for NYC mental-health crisis teams (B-HEARD / DCS).")
data_app = typer.Typer(no_args_is_help=True, help="Shipped data: build it, make synthetic records.")
app.add_typer(data_app, name="data")

out_console = Console()
err_console = Console(stderr=True)


def fail_input(exc: InputError) -> None:
    """Print a user error and exit 2 (no traceback)."""
    err_console.print(f"[bold red]error:[/] {exc.format()}", highlight=False, markup=True,
                      soft_wrap=True)
    raise typer.Exit(2)


def _version(value: bool):
    if value:
        out_console.print(f"bheard {bheard.__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    pass


def _fmt(x: float, spec: str = ",.1f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def print_plan(plan, console: Console = out_console) -> None:
    """Readable summary of a plan: status line, totals, by borough and by tour."""
    status_style = {"optimal": "green", "time_limit_feasible": "yellow"}.get(plan.status, "red")
    console.print(f"[bold]{plan.scenario}[/]: status [{status_style}]{plan.status}[/]")
    if not plan.feasible:
        for d in plan.diagnosis:
            console.print(f"  [red]conflict:[/] {d}")
        return
    console.print(
        f"  covered {_fmt(plan.objective)} of {_fmt(plan.eligible_calls)} eligible calls/year "
        f"({plan.coverage_share:.1%}); bound {_fmt(plan.bound)}; gap {plan.gap:.2e} "
        f"({plan.solver.bound_source})")
    console.print(
        f"  cost ${_fmt(plan.annual_cost, ',.0f')}/year of ${_fmt(plan.budget, ',.0f')} budget; "
        f"{plan.team_shifts_per_week} team-shifts/week")
    console.print(
        f"  build {plan.build_seconds:.2f} s, translate {plan.translate_seconds:.2f} s, "
        f"solve {plan.solve_seconds:.2f} s; demand: {plan.demand_source}", style="dim")
    for title, df, key in (("By borough", plan.by_borough(), "borough"),
                           ("By tour", plan.by_tour(), "tour")):
        t = Table(title=title, title_justify="left")
        for col in (key, "team-shifts/wk", "eligible calls/yr", "covered calls/yr", "coverage",
                    "cost USD/yr"):
            t.add_column(col, justify="left" if col == key else "right")
        for r in df.itertuples(index=False):
            t.add_row(str(getattr(r, key)), f"{r.team_shifts_per_week:,}",
                      f"{r.eligible_calls:,.0f}", f"{r.expected_covered_calls:,.0f}",
                      _fmt(r.coverage_share * 100, ".1f") + "%", f"{r.annual_cost_usd:,.0f}")
        console.print(t)


@app.command()
def solve(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for plan.csv and summary.json."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Override budget.annual_usd (USD/year)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Override solver.time_limit_s (seconds)."),
    simulate: int = typer.Option(0, "--simulate", min=0, help="Check the plan by simulation with N replications (0 = no check)."),
    report: bool = typer.Option(False, "--report", help="Also write OUT/report.html (needs --out)."),
):
    """Solve a scenario and print the plan's summary."""
    try:
        if budget is not None and not budget >= 0:
            raise InputError.single("--budget", "--budget", budget, "a number >= 0 (USD/year)")
        if time_limit is not None and not time_limit > 0:
            raise InputError.single("--time-limit", "--time-limit", time_limit, "a number > 0 (seconds)")
        if report and out is None:
            raise InputError.single("--report", "--report", True, "--out DIR as well (the report is written there)")
        sc = bheard.load_scenario(scenario)
        plan = bheard.solve(sc, budget_usd=budget, time_limit_s=time_limit)
    except InputError as exc:
        fail_input(exc)
    print_plan(plan)
    sim = None
    if simulate and plan.feasible:
        if budget is not None or time_limit is not None:
            sc = sc.with_overrides(**{k: v for k, v in (("budget.annual_usd", budget),
                                                         ("solver.time_limit_s", time_limit)) if v is not None})
        sim = bheard.simulate(plan, replications=simulate, scenario=sc)
        print_simulation_check(sim)
    if out is not None:
        plan.save(out)
        out_console.print(f"wrote {out / 'plan.csv'} and {out / 'summary.json'}")
        if sim is not None:
            sim.save(out)
            out_console.print(f"wrote {out / 'simulation.json'}")
        if report:
            from bheard.report import write_report

            out_console.print(f"wrote {write_report(out)}")
    if not plan.feasible:
        raise typer.Exit(1)


def print_simulation_check(sim, console: Console = out_console) -> None:
    """The optimizer's prediction beside the simulated share, and why they differ."""
    from bheard.simulate import predicted_vs_simulated

    c = predicted_vs_simulated(sim)
    lo, hi = c["ci95"]
    pred = "n/a" if c["predicted"] is None else f"{c['predicted']:.1%}"
    diff = "" if c["difference_pp"] is None else f" ({c['difference_pp']:+.1f} pp)"
    console.print(f"  simulation check ({sim.replications} replications, {sim.dispatch}): "
                  f"predicted {pred}, simulated {c['simulated']:.1%} [{lo:.1%}, {hi:.1%}]{diff}")
    for line in c["explanation"]:
        console.print(f"    - {line}", style="dim")


@app.command()
def validate(scenario: Path = typer.Argument(..., help="Scenario YAML file.")):
    """Check a scenario file without solving it."""
    try:
        sc = bheard.load_scenario(scenario)
        from bheard.model.problem import problem_from_scenario

        prob = problem_from_scenario(sc)
    except InputError as exc:
        fail_input(exc)
    P, S = prob.shape
    out_console.print(f"[green]ok[/]: {sc.name}: {P} precincts x {S} slots, demand "
                      f"{sc.demand.source}, {prob.eligible_calls_per_year().sum():,.0f} eligible "
                      f"calls/year, budget ${sc.budget.annual_usd:,.0f}/year")


@data_app.command("build")
def data_build(
    source: Optional[Path] = typer.Option(None, help="Folder with the raw public files (default ../shared/data)."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default: the shipped data/)."),
):
    """Rebuild the shipped data files from the raw public data."""
    from bheard.data.__main__ import main as build_main

    argv = ["build"] + (["--source", str(source)] if source else []) + (["--out", str(out)] if out else [])
    code = build_main(argv)
    raise typer.Exit(code)


def _register_plugins() -> None:
    """Commands that live with their modules; each module has ``register(app, data_app)``."""
    import importlib

    for name in PLUGIN_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a feature module not present in this checkout
            if exc.name != name:
                raise
            continue
        mod.register(app, data_app)


#: modules that add commands: demand (ingest, forecast, data synth), evaluation (simulate,
#: calibrate), planner workflows (frontier, batch, report), geography (travel times)
PLUGIN_MODULES = ("bheard.demand.cli", "bheard.evaluate_cli", "bheard.workflows_cli",
                  "bheard.geography_cli")


_register_plugins()


def main() -> None:
    """Console-script entry point; user errors anywhere become exit code 2."""
    try:
        app()
    except InputError as exc:  # raised inside a plugin command
        err_console.print(f"[bold red]error:[/] {exc.format()}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
