"""``bheard ingest``, ``bheard forecast`` and ``bheard data synth``: parse arguments, call
:mod:`bheard.demand`, print. The demand modules are imported inside the commands on purpose:
the forecast needs scipy.stats (about 1 s to import), which ``bheard --help`` should not pay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from bheard.cli.common import out_console as console
from bheard.errors import InputError
from bheard.io import atomic_write_text


def _date(value: Optional[str], name: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError.single(None, name, value, "a date YYYY-MM-DD") from None


def ingest_table(result) -> Table:
    """A rich table of the row accounting (an :class:`~bheard.demand.ingest.IngestResult`):
    one column per file plus the total."""
    from bheard.demand.ingest import DROP_REASONS

    rep = result.report
    table = Table(title="ingest: rows by reason", show_lines=False)
    table.add_column("count")
    for f in rep.files:
        table.add_column(escape(f"{Path(f.path).name} ({f.source})"), justify="right")
    if len(rep.files) > 1:
        table.add_column("total", justify="right")
    totals = rep.totals()
    keys = ["rows", "not_mental_health", "missing_call_type", "mental_health_rows", *DROP_REASONS, "kept_mh_calls", "kept_eligible_calls"]
    for k in keys:
        vals = [getattr(f, k) for f in rep.files]
        if len(rep.files) > 1:
            vals.append(totals[k])
        label = f"  dropped: {k}" if k in DROP_REASONS else k
        table.add_row(label, *[f"{v:,.1f}" if isinstance(v, float) else f"{v:,}" for v in vals])
    return table


def _synthetic_banner(paths: list[Path]) -> None:
    for p in paths:
        side = p.with_name(p.name + ".SYNTHETIC.txt")
        if side.exists():
            console.print(f"[bold yellow]NOTE: {escape(p.name)} is SYNTHETIC data ({escape(side.name)}), not real 911 records.[/]")


def ingest_cmd(
    files: List[Path] = typer.Argument(..., help="EMS or NYPD export CSVs (.csv/.csv.gz) or folders of them"),
    report: Optional[Path] = typer.Option(None, "--report", help="also write the JSON report here (default: printed only)"),
    counts: Optional[Path] = typer.Option(None, "--counts", help="also write weekly counts (CSV) for `bheard forecast`"),
    start: Optional[str] = typer.Option(None, help="first accepted date YYYY-MM-DD (default 2005-01-01)"),
    end: Optional[str] = typer.Option(None, help="first date not accepted YYYY-MM-DD (default tomorrow)"),
) -> None:
    """Read 911 call exports and report every row kept or dropped, by reason."""
    from bheard.demand.ingest import ingest

    _synthetic_banner(files)
    result = ingest(files, start=_date(start, "--start"), end=_date(end, "--end"))
    console.print(ingest_table(result))
    console.print(result.summary(), markup=False, highlight=False)
    if report is not None:
        result.save_report(report)
        console.print(f"report written to {report}", markup=False, highlight=False)
    if counts is not None:
        result.save_counts(counts)
        console.print(f"weekly counts written to {counts}", markup=False, highlight=False)

def forecast_cmd(
    history: Path = typer.Argument(..., help="export CSV(.gz), folder of exports, or counts file from `bheard ingest --counts`"),
    out: Path = typer.Option(..., "--out", help="forecast CSV to write"),
    target_start: Optional[str] = typer.Option(None, help="first target day YYYY-MM-DD (default: day after the history)"),
    weeks: int = typer.Option(4, help="target weeks"),
    quantile: float = typer.Option(0.5, help="quantile of the rate written as calls_per_hour"),
    backtest: bool = typer.Option(False, "--backtest", help="also run a rolling-origin backtest"),
    origins: Optional[int] = typer.Option(None, help="backtest origins (default: as many as the history allows, at most 4)"),
    horizon: int = typer.Option(4, help="backtest horizon (weeks)"),
) -> None:
    """Forecast eligible calls/hour per (precinct, hour of week); optionally backtest.

    The backtest needs 8 training weeks plus origins x horizon weeks of history (8 + 4 x 4 =
    24 weeks for the default 4 origins); with less, it runs as many origins as fit, and a
    history too short for one origin is refused before anything is written."""
    from bheard.demand.forecast import backtest as run_backtest
    from bheard.demand.forecast import backtest_origins_that_fit, backtest_weeks_needed
    from bheard.demand.forecast import forecast_calls as run_forecast
    from bheard.demand.ingest import load_history

    if horizon < 1 or (origins is not None and origins < 1):
        raise InputError.single(None, "--origins/--horizon", f"{origins}/{horizon}",
                                "integers >= 1")
    _synthetic_banner([history])
    ingested = load_history(history)
    if ingested.report.period_end is None:
        raise InputError.single(history, "history", "0 full weeks", "at least one full week of call records")
    if backtest:  # check before writing anything: the backtest must fit the history
        W = len(ingested.report.covered_weeks)
        fit = backtest_origins_that_fit(W, horizon, most=origins or 4)
        if fit < (origins or 1):
            n = origins or 1
            raise InputError.single(history, "history", f"{W} full weeks",
                                    f"at least {backtest_weeks_needed(n, horizon)} full weeks for"
                                    f" --backtest with {n} origin(s) x {horizon} weeks (8"
                                    f" training weeks + origins x horizon); fewer --origins or a"
                                    f" shorter --horizon")
        if origins is None and fit < 4:
            console.print(f"[yellow]note:[/] backtest with {fit} origin(s) x {horizon} weeks:"
                          f" {W} full weeks of history (4 origins need"
                          f" {backtest_weeks_needed(4, horizon)})")
        origins = fit
    start = _date(target_start, "--target-start") or ingested.report.period_end
    res = run_forecast(ingested, start, weeks, quantile)
    atomic_write_text(out, res.table.to_csv(index=False, float_format="%.6g"))
    console.print(res.summary(), markup=False, highlight=False)
    for note in res.model.notes:
        console.print(f"[yellow]note:[/] {escape(str(note))}")
    console.print(f"forecast written to {out} ({len(res.table):,} rows)", markup=False, highlight=False)
    if backtest:
        bt = run_backtest(ingested, origins=origins, horizon_weeks=horizon)
        table = Table(title=f"backtest: {len(bt.origins)} origins x {bt.horizon_weeks} weeks ({bt.target} calls/hour per cell)")
        for c in ("method", "MAE", "Poisson deviance", "deviance / model"):
            table.add_column(c, justify="right" if c != "method" else "left")
        for _, r in bt.scores.iterrows():
            table.add_row(r["method"], f"{r['mae']:.4f}", f"{r['poisson_deviance']:.4f}", f"{r['deviance_vs_model']:.2f}")
        console.print(table)
        for note in bt.notes:
            console.print(f"[yellow]note:[/] {escape(str(note))}")
        bt_path = out.with_name(out.stem + ".backtest.json")
        payload = {
            "origins": [str(o) for o in bt.origins],
            "horizon_weeks": bt.horizon_weeks,
            "target": bt.target,
            "scores": bt.scores.to_dict(orient="records"),
            "by_origin": json.loads(bt.by_origin.to_json(orient="records", date_format="iso")),
            "notes": bt.notes,
        }
        atomic_write_text(bt_path, json.dumps(payload, indent=2) + "\n")
        console.print(f"backtest written to {bt_path}", markup=False, highlight=False)

def synth_cmd(
    out: Path = typer.Option(..., "--out", help="CSV to write (.csv.gz = gzipped)"),
    years: float = typer.Option(3.0, help="years of records"),
    start: str = typer.Option("2022-01-03", help="first day YYYY-MM-DD"),
    seed: int = typer.Option(0, help="random seed"),
    other_calls_per_mh_call: float = typer.Option(0.0, help="non-MH rows per MH row (the real export has about 9)"),
) -> None:
    """Write SYNTHETIC EMS dispatch records (the real export's schema) calibrated to published totals."""
    from bheard.demand.synth import SynthConfig, synthesize

    start_date = _date(start, "--start")
    if not 0 < years <= 30:
        raise InputError.single(None, "--years", years, "a number of years in (0, 30]")
    if other_calls_per_mh_call < 0:
        raise InputError.single(None, "--other-calls-per-mh-call", other_calls_per_mh_call, "a number >= 0")
    cfg = SynthConfig(start=start_date, years=years, seed=seed, other_calls_per_mh_call=other_calls_per_mh_call)
    res = synthesize(out, config=cfg)
    console.print("[bold yellow]SYNTHETIC DATA - NOT REAL 911 RECORDS[/] (CAD_INCIDENT_ID starts with 'SYN')")
    console.print(res.summary(), markup=False, highlight=False)
    console.print(f"sidecar note: {res.sidecar_path}", markup=False, highlight=False)


__all__ = ["ingest_cmd", "forecast_cmd", "synth_cmd", "ingest_table"]
