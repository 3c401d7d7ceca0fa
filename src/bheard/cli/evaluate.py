"""Commands ``bheard simulate`` and ``bheard calibrate`` (thin layer over bheard.simulate and
bheard.calibrate: parse, call, print)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bheard.cli.common import Output, fail_input, fmt, format_option, status
from bheard.cli.common import out_console as console
from bheard.errors import InputError
DISPATCH_MODES = ("isolated", "pooled", "shared")


def _pct(x) -> str:
    return fmt(x, "share")


def _ci(v) -> str:
    m, lo, hi = v
    if not math.isfinite(lo):
        return _pct(m)
    return f"{_pct(m)} [{_pct(lo)}, {_pct(hi)}]"


def print_simulation(r, output=None) -> None:
    """Readable summary of a :class:`bheard.simulate.SimResult` (``--format`` aware)."""
    from bheard.cli.common import Output

    out = output if output is not None else Output("auto")
    o = r.overall
    if out.mode != "csv":
        out.line(f"{r.scenario}: simulated {r.replications} replications x {r.weeks} weeks,"
                 f" dispatch {r.dispatch}, seed {r.seed} ({r.seconds:.2f} s)", style="bold")
        out.line(f"  eligible calls/replication: {fmt(o['calls_per_replication'][0], 'calls')}")
        out.line(f"  served, of calls in operating hours: {_ci(o['served_share_operating_hours'])}"
                 " (95% CI over replications)")
        if r.predicted_share is not None:
            m = o["served_share_operating_hours"][0]
            out.line(f"  optimizer's Erlang-model prediction: {_pct(r.predicted_share)} "
                     f"(simulated - predicted = {100 * (m - r.predicted_share):+.1f} pp; see"
                     " models/simulation.md for why they differ)")
        out.line(f"  served, of all eligible calls: {_ci(o['served_share'])}")
        out.line(f"  lost: all teams busy {_ci(o['lost_busy_share'])}; no team on duty for the"
                 f" precinct {_ci(o['lost_no_team_share'])}; outside operating hours"
                 f" {_ci(o['lost_off_hours_share'])}")
        rm, rp = o["response_median_min"][0], o["response_p90_min"][0]
        out.line(f"  team utilization {_ci(o['utilization'])}; response time median "
                 f"{rm:.1f} min, p90 {rp:.1f} min")
    t = r.by_tour.rename(columns={"calls": "calls_per_replication"})
    cols = ["tour", "calls_per_replication", "served", "lost_busy", "lost_no_team",
            "lost_off_hours", "served_share"]
    out.table(f"By tour (calls per replication of {r.weeks} weeks: mean of"
              f" {r.replications})", t[[c for c in cols if c in t.columns]])


def simulate(
    scenario_or_plan: Path = typer.Argument(
        ..., help="Scenario YAML (solved first) or a plan folder (plan.csv + summary.json)."),
    replications: Optional[int] = typer.Option(
        None, "--replications", "-n", help="Replications (default: simulation.replications, 10)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (default 0)."),
    scenario: Optional[Path] = typer.Option(
        None, "--scenario", help="The plan's scenario (tours, settings) when a folder is given."),
    dispatch: Optional[str] = typer.Option(
        None, "--dispatch", help="isolated | pooled | shared (default: the scenario's)."),
    max_wait: Optional[float] = typer.Option(
        None, "--max-wait", help="Minutes a call may wait for a team (default 0)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for the results."),
    output_format: str = format_option(),
):
    """Simulate a plan call by call: share of eligible calls that get a team."""
    from bheard.simulate import simulate as run

    try:
        if replications is not None and replications < 1:
            raise InputError.single("--replications", "--replications", replications,
                                    "an integer >= 1")
        if seed is not None and seed < 0:
            raise InputError.single("--seed", "--seed", seed, "an integer >= 0")
        if dispatch is not None and dispatch not in DISPATCH_MODES:
            raise InputError.single("--dispatch", "--dispatch", dispatch,
                                    " or ".join(DISPATCH_MODES))
        if max_wait is not None and not (math.isfinite(max_wait) and max_wait >= 0):
            raise InputError.single("--max-wait", "--max-wait", max_wait,
                                    "a finite number of minutes >= 0")
        if not scenario_or_plan.exists():
            raise InputError.single(scenario_or_plan, "(file)", str(scenario_or_plan),
                                    "an existing scenario file or plan folder")
        kw = {} if max_wait is None else {"max_wait_min": max_wait}
        with status(f"simulating {replications or 'the scenario default of'} replications..."):
            r = run(scenario_or_plan, replications, seed, scenario=scenario, dispatch=dispatch,
                    **kw)
    except InputError as exc:
        fail_input(exc)
    output = Output(output_format)
    print_simulation(r, output)
    if out is not None:
        r.save(out)
        output.line(f"wrote {out / 'simulation.json'} and per-replication/precinct/hour CSVs")

def calibrate(
    validate: Optional[Path] = typer.Option(
        None, "--validate", help="Scenario to simulate with the fitted values against the"
        " audit's 65% (e.g. scenarios/baseline_2024.yaml)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    quick: bool = typer.Option(False, "--quick", help="Coarser grid (about 4x faster)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write calibration.json here."),
):
    """Fit mean busy time per call and team availability to the published record."""
    import numpy as np

    from bheard.calibrate import calibrate as run, validate_scenario

    if seed < 0:
        fail_input(InputError.single("--seed", "--seed", seed, "an integer >= 0"))
    kw = {}
    if quick:
        kw = dict(taus=np.arange(1.0, 6.01, 0.5), alphas=np.array([0.6, 0.7, 0.8, 0.9, 1.0]),
                  replications={"pilot_2021": 10, "fy24": 2})
    with status("calibrating: simulating the published records over a grid of busy times"
                " and availabilities..."):
        c = run(seed=seed, **kw)
    console.print(f"[bold]calibration[/] ({'exactly identified' if c.exact else 'least squares, no exact crossing'})")
    console.print(f"  service_time_hours (mean busy time per call) = {c.service_time_hours:.2f} h")
    console.print(f"  availability (share of on-duty time available) = {c.availability:.3f}")
    console.print(f"  effective busy hours per call (tau / alpha) = {c.effective_hours_per_call:.2f} h")
    t = Table(title="Fit (fresh seed)", title_justify="left")
    for col in ("target", "sources", "published", "simulated", "error"):
        t.add_column(col)
    for tg in c.targets:
        m, se = c.simulated[tg.name]
        t.add_row(tg.name, tg.facts_rows, _pct(tg.served_share), f"{_pct(m)} ± {100 * se:.1f}",
                  f"{c.residuals_pp[tg.name]:+.2f} pp")
    console.print(t)
    for tg in c.targets:
        console.print(f"  {tg.name}: {tg.mapping}", style="dim")
    t = Table(title="Sensitivity (refit with one published figure moved)", title_justify="left")
    for col in ("case", "tau h", "alpha", "tau/alpha h"):
        t.add_column(col)
    for row in c.sensitivity.itertuples(index=False):
        t.add_row(row.case, f"{row.service_time_hours:.2f}", f"{row.availability:.3f}",
                  f"{row.effective_busy_hours_per_call:.2f}")
    console.print(t)
    summary = c.summary()
    if validate is not None:
        try:
            from bheard.scenario import load_scenario

            sc = load_scenario(validate).with_overrides(**{
                "teams.service_time_hours": round(c.service_time_hours, 2),
                "simulation.availability": round(c.availability, 2)})
            r, v = validate_scenario(sc)
        except InputError as exc:
            fail_input(exc)
        console.print(
            f"[bold]{escape(sc.name)}[/] with the fitted values, dispatch {v['dispatch']}: served "
            f"{_pct(v['simulated_served_share_operating_hours'])} of eligible calls in operating"
            f" hours; audit FY22-24 65% (S-audit-served): {v['difference_vs_audit_pp']:+.1f} pp;"
            f" FY24 73% (S-fy24-responses): {v['difference_vs_fy24_pp']:+.1f} pp")
        console.print(
            f"  simulated eligible calls/year in operating hours {v['eligible_calls_per_year_operating_hours']:,.0f}"
            f" vs FY24's {v['fy24_eligible_calls_per_year']:,.0f} (14,900 / 0.73)", style="dim")
        summary["validation"] = v
    if out is not None:
        from bheard.io import atomic_write_json

        atomic_write_json(Path(out) / "calibration.json", summary)
        console.print(f"wrote {Path(out) / 'calibration.json'}", markup=False, highlight=False)


