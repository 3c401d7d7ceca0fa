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
            out.line(f"  optimizer's prediction ({r.optimizer_model}, same dispatch"
                     f" parameters): {_pct(r.predicted_share)} (simulated - predicted ="
                     f" {100 * (m - r.predicted_share):+.1f} pp; models/simulation.md)")
        out.line(f"  served, of all eligible calls: {_ci(o['served_share'])}")
        out.line(f"  lost: all teams busy {_ci(o['lost_busy_share'])}; no team on duty for the"
                 f" precinct {_ci(o['lost_no_team_share'])}; outside operating hours"
                 f" {_ci(o['lost_off_hours_share'])}")
        rm, rp = o["response_median_min"][0], o["response_p90_min"][0]
        out.line(f"  team utilization {_ci(o['utilization'])}; response time mean "
                 f"{o['response_mean_min'][0]:.1f} min, median {rm:.1f} min, p90 {rp:.1f} min")
        out.line(f"  overtime (calls finishing after the tour): "
                 f"{o['overtime_hours_per_year'][0]:,.0f} team-hours/year"
                 f" ({_pct(o['overtime_share_of_duty_hours'][0])} of duty hours), about"
                 f" ${o['overtime_cost_usd_per_year'][0]:,.0f}/year at time and a half")
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
    write: Optional[Path] = typer.Option(
        None, "--write", help="Write the fit as the partial scenario the shipped scenarios"
        " extend (scenarios/calibration/dispatch.yaml)."),
    check: Optional[Path] = typer.Option(
        None, "--check", help="Do not fit: run the validation table with the parameters of"
        " this calibration file."),
    table: bool = typer.Option(False, "--table", help="After fitting, run the validation"
                               " table (every period of the record) with the fitted values."),
    replications: int = typer.Option(10, "--replications", "-n",
                                     help="Replications per period in the validation table."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    quick: bool = typer.Option(False, "--quick", help="Coarser grid (about 4x faster)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Write calibration.json / validation.md here."),
):
    """Fit the dispatch parameters (service time, availability, pre-travel delay) to the
    published record and check every period of it (models/simulation.md)."""
    import numpy as np
    import yaml

    from bheard.calibrate import FIT_PERIODS, calibrate as run, write_calibration
    from bheard.validation import to_markdown, validation_table

    if seed < 0:
        fail_input(InputError.single("--seed", "--seed", seed, "an integer >= 0"))
    if replications < 1:
        fail_input(InputError.single("--replications", "--replications", replications,
                                     "an integer >= 1"))
    summary: dict = {}
    if check is not None:
        if not check.is_file():
            fail_input(InputError.single(check, "(file)", str(check), "a calibration file"))
        try:
            params = yaml.safe_load(check.read_text(encoding="utf-8")) or {}
            if not isinstance(params, dict):
                raise ValueError("not a mapping")
        except (yaml.YAMLError, ValueError) as exc:
            fail_input(InputError.single(check, "(file)", str(exc)[:60],
                                         "a partial scenario (YAML mapping)"))
    else:
        kw = {}
        if quick:
            kw = dict(taus=np.arange(0.75, 3.01, 0.5), alphas=np.round(np.arange(0.5, 1.001,
                                                                                 0.1), 3),
                      replications={"first_month": 8, "fy24": 2}, rounds=2)
        with status("calibrating: simulating the fitted periods over a grid of service times,"
                    " availabilities and pre-travel delays..."):
            c = run(seed=seed, **kw)
        params = c.params()
        summary = c.summary()
        console.print(f"[bold]calibration[/] ({'exactly identified' if c.exact else 'least squares, no exact crossing'};"
                      f" fitted periods {', '.join(FIT_PERIODS)})")
        console.print(f"  service time per call beyond the trip = {c.service_time_hours:.2f} h")
        console.print(f"  availability (share of on-duty time available) = {c.availability:.3f}")
        console.print(f"  pre-travel delay (call receipt -> team rolling) = {c.dispatch_delay_min:.1f} min")
        t = Table(title="Fit (fresh seed)", title_justify="left")
        for col in ("period", "simulated", "residual"):
            t.add_column(col)
        for name, (m, se) in c.simulated.items():
            t.add_row(name, f"{_pct(m)} ± {100 * se:.1f}", f"{c.residuals_pp[name]:+.2f} pp")
        console.print(t)
        console.print(f"  FY24 mean response {c.response_min:.1f} min (published about 20)")
        t = Table(title="Sensitivity (refit with one published figure moved)",
                  title_justify="left")
        for col in ("case", "tau h", "alpha", "tau/alpha h"):
            t.add_column(col)
        for row in c.sensitivity.itertuples(index=False):
            t.add_row(row.case, f"{row.service_time_hours:.2f}", f"{row.availability:.3f}",
                      f"{row.effective_busy_hours_per_call:.2f}")
        console.print(t)
        if write is not None:
            write_calibration(c, write)
            console.print(f"wrote {write}")
    text = None
    if check is not None or table:
        with status("simulating every published period for the validation table..."):
            rows = validation_table(params, replications=replications, seed=seed)
        text = to_markdown(rows)
        console.print(text, markup=False, highlight=False)
        summary["validation"] = [r.record() for r in rows]
    if out is not None:
        from bheard.io import atomic_write_json, atomic_write_text

        atomic_write_json(Path(out) / "calibration.json", summary)
        if text is not None:
            atomic_write_text(Path(out) / "validation.md", text)
        console.print(f"wrote {Path(out) / 'calibration.json'}", markup=False, highlight=False)


