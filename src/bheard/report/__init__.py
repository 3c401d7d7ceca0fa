"""One self-contained HTML report of a saved plan (opens offline: no scripts, no CDN).

``write_report(out_dir)`` reads ``plan.csv`` + ``summary.json`` written by
:meth:`bheard.Plan.save` (and ``frontier.csv`` / ``first_team_budget.csv`` when present, from
``out_dir`` or ``frontier_dir``) and writes ``out_dir/report.html`` atomically. Maps and charts
are matplotlib/geopandas PNGs embedded as base64 ``data:`` URIs.

Sections: key figures and solver status/gap; precinct map coloured by coverage share with
team-shifts; coverage by hour of week; coverage by borough and tour; cost and headcount; the
budget frontier (when present); any extra breakdowns the summary carries (e.g. a cost or
workforce model); every assumption with its source.
"""

from __future__ import annotations

import base64
import html
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.io import atomic_write_text
from bheard.plan import Plan
from bheard.report import charts

def write_report(out_dir: str | Path, *, frontier_dir: str | Path | None = None,
                 output: str | Path | None = None) -> Path:
    """Write ``report.html`` for the plan saved in ``out_dir``; return its path.

    ``frontier_dir``: folder with ``frontier.csv`` (default: ``out_dir`` if it has one).
    ``output``: the HTML file to write (default ``out_dir/report.html``).
    Raises :class:`bheard.errors.InputError` when ``out_dir`` holds no saved plan.
    """
    out = Path(out_dir)
    if (out / "buildout.json").is_file() and not (out / "summary.json").is_file():
        from bheard.report.buildout import write_buildout_report  # a buildout folder

        return write_buildout_report(out, output=output)
    text = render_report(out, frontier_dir=frontier_dir)
    path = Path(output) if output is not None else out / "report.html"
    atomic_write_text(path, text)
    return path


def _load(out: Path):
    plan = Plan.load(out)
    return plan, plan.summary()


def render_report(out_dir: str | Path, *, frontier_dir: str | Path | None = None) -> str:
    """The report's HTML text (see :func:`write_report`)."""
    out = Path(out_dir)
    plan, summary = _load(out)
    fdir = Path(frontier_dir) if frontier_dir is not None else out
    frontier = pd.read_csv(fdir / "frontier.csv") if (fdir / "frontier.csv").exists() else None
    first_team = (pd.read_csv(fdir / "first_team_budget.csv")
                  if (fdir / "first_team_budget.csv").exists() else None)

    parts: list[str] = []
    esc = html.escape
    figure = figure_html

    # ---- header and key figures --------------------------------------------------------
    status = plan.status
    ok = plan.feasible
    badge = {"optimal": "ok", "time_limit_feasible": "warn", "feasible": "warn"}.get(status, "bad")
    parts.append(f"<h1>Staffing plan: {esc(plan.scenario)}</h1>")
    parts.append(f'<p class="meta">status <span class="badge {badge}" id="status">{esc(status)}'
                 f"</span> &middot; demand: {esc(plan.demand_source)} &middot; report written "
                 f"{esc(time.strftime('%Y-%m-%d %H:%M'))} from <code>{esc(str(out))}</code></p>")
    if not ok:
        parts.append("<h2>No feasible plan</h2><ul>" + "".join(
            f"<li>{esc(d)}</li>" for d in plan.diagnosis) + "</ul>")
    else:
        kpis = [
            ("expected covered calls/year", f"{plan.objective:,.0f}"),
            ("eligible calls/year", f"{plan.eligible_calls:,.0f}"),
            ("coverage share", f"{plan.coverage_share:.1%}"),
            ("annual cost", f"${plan.annual_cost / 1e6:,.2f}M of ${plan.budget / 1e6:,.2f}M"),
            ("team-shifts/week", f"{plan.team_shifts_per_week:,}"),
            ("optimality gap", f"{plan.gap:.2e}"),
        ]
        parts.append('<div class="kpis">' + "".join(
            f'<div class="kpi"><div class="v">{v}</div><div class="k">{esc(k)}</div></div>'
            for k, v in kpis) + "</div>")

    # ---- solver ------------------------------------------------------------------------
    sv = summary.get("solver", {})
    solver_rows = [
        ("status", status),
        ("expected covered calls/year (objective)", _fmt(plan.objective, ",.1f")),
        ("proven upper bound, calls/year", _fmt(plan.bound, ",.1f")),
        ("relative gap (bound - objective) / objective", _fmt(plan.gap, ".2e")),
        ("bound from", f"{sv.get('bound_source', '')}: {plan.solver.bound_meaning}"),
        ("termination", sv.get("termination", "")),
        ("requested gap / time limit", f"{_fmt(sv.get('mip_rel_gap'), 'g')} / "
                                       f"{_fmt(sv.get('time_limit_s'), 'g')} s"),
        ("candidate teams (increments)", _fmt(sv.get("n_increments"), ",")),
        ("decided by reduced-cost fixing (1 / 0)",
         f"{_fmt(sv.get('n_fixed_one'), ',')} / {_fmt(sv.get('n_fixed_zero'), ',')}"),
        ("variables / integers given to HiGHS",
         f"{_fmt(sv.get('n_variables'), ',')} / {_fmt(sv.get('n_integer'), ',')}"),
        ("greedy incumbent, calls/year", _fmt(sv.get("greedy_objective"), ",.1f")),
        ("LP relaxation bound, calls/year", _fmt(sv.get("lp_bound"), ",.1f")),
        ("build / translate / solve seconds",
         f"{plan.build_seconds:.2f} / {plan.translate_seconds:.2f} / {plan.solve_seconds:.2f}"),
    ]
    parts.append('<h2 id="solver">Solver status and gap</h2>'
                 + _kv_table(solver_rows, table_id="solver-table"))

    if ok:
        a = plan.assignments
        by_p = plan.by_precinct()
        model = plan.coverage_model
        coverage_model = ("isolated Erlang-loss model: own teams only" if not model
                          or model.startswith("isolated") else
                          f"shared coverage, {model}: teams of any precinct within the response "
                          "standard")
        # ---- map -------------------------------------------------------------------------
        parts.append('<h2>Map: coverage share and teams by precinct</h2>')
        parts.append(figure("map", "precinct map coloured by coverage share",
                            lambda: charts.precinct_map(by_p, title=f"{plan.scenario}"),
                            "Colour: expected share of the precinct's eligible calls answered "
                            f"by a crisis team ({coverage_model}). Circles and numbers: "
                            "team-shifts per week. Grey: precincts outside the scenario."))
        # ---- hour of week ----------------------------------------------------------------
        parts.append("<h2>Coverage by hour of week</h2>")
        if plan.tours:
            prof = charts.hour_of_week_profile(a, plan.tours)
            parts.append(figure("chart-hour-of-week", "coverage by hour of week",
                                lambda: charts.hour_of_week_chart(prof),
                                "Citywide calls/hour; each (day, tour) slot's mean rate spread "
                                "over the hours the tour spans. Gaps: hours no tour works."))
        else:
            parts.append('<p class="note">This plan was saved without its tours (an older '
                         "bheard); showing coverage by day and tour instead.</p>")
            parts.append(_df_table(plan._group(["day", "tour"]), "day-tour-table"))
        # ---- borough and tour --------------------------------------------------------------
        parts.append("<h2>Coverage by borough and tour</h2>")
        bb, bt = plan.by_borough(), plan.by_tour()
        parts.append(figure("chart-borough-tour", "coverage by borough and tour",
                            lambda: charts.group_coverage_chart(bb, bt)))
        parts.append('<div class="two">' + _df_table(bb, "borough-table")
                     + _df_table(bt, "tour-table") + "</div>")
        # ---- cost and headcount ------------------------------------------------------------
        parts.append("<h2>Cost and headcount</h2>")
        parts.append(figure("chart-cost", "annual cost by borough and tour",
                            lambda: charts.cost_chart(a)))
        hc, note = headcount_table(plan)
        parts.append(_df_table(hc, "headcount-table"))
        parts.append(f'<p class="note">{note}</p>')

    # ---- simulation check ------------------------------------------------------------------
    sim_path = out / "simulation.json"
    if ok and sim_path.exists():
        sim = json.loads(sim_path.read_text(encoding="utf-8"))
        pvs = sim.get("predicted_vs_simulated") or {}
        parts.append('<h2 id="simulation">Predicted vs simulated coverage</h2>')
        ci = pvs.get("ci95") or [None, None]
        rows = [
            ("optimizer's prediction (Erlang loss model), share of eligible calls in operating hours",
             _fmt(pvs.get("predicted"), ".1%")),
            ("simulated share (mean of replications)", _fmt(pvs.get("simulated"), ".1%")),
            ("95% confidence interval", f"{_fmt(ci[0], '.1%')} to {_fmt(ci[1], '.1%')}"),
            ("difference, percentage points", _fmt(pvs.get("difference_pp"), "+.1f")),
            ("replications x weeks / dispatch",
             f"{sim.get('replications')} x {sim.get('weeks')} / {sim.get('dispatch')}"),
        ]
        parts.append(_kv_table(rows, table_id="simulation-table"))
        parts.append("<p>Why the two differ (model assumptions; models/simulation.md):</p><ul>"
                     + "".join(f"<li>{esc(x)}</li>" for x in pvs.get("explanation", []))
                     + "</ul>")

    # ---- frontier --------------------------------------------------------------------------
    if frontier is not None and len(frontier):
        parts.append('<h2 id="frontier">Budget frontier</h2>')
        parts.append(figure("chart-frontier", "budget frontier",
                            lambda: charts.frontier_chart(frontier, plan.budget or None)))
        ft = frontier.copy()
        parts.append(_df_table(ft, "frontier-table"))
        if first_team is not None and len(first_team):
            n_by = (first_team.dropna(subset=["first_budget_usd"])
                    .groupby("first_budget_usd").size().rename("precincts_first_staffed")
                    .reset_index())
            n_none = int(first_team["first_budget_usd"].isna().sum())
            parts.append("<h3>Budget at which precincts first get a team</h3>"
                         '<p class="note">Read off the frontier\'s plans, so only as fine as '
                         "its budget grid: a precinct first staffed at a grid budget would be "
                         "first staffed somewhere between the previous grid point and this one. "
                         f"Never staffed on the grid: {n_none} precincts.</p>")
            parts.append(_df_table(n_by, "first-team-table"))

    # ---- the plan's typed summaries (fixed point, shared coverage, equity, costs) ----------
    for key, value in plan.details.items():
        if key in ("coverage_model",) or not isinstance(value, (dict, list)) or not value:
            continue
        if key == "workforce":
            value = {k: v for k, v in value.items() if k != "headcount" and v}
            if not value:
                continue
        parts.append(f'<h2 class="extra">{esc(key.replace("_", " ").capitalize())}</h2>')
        parts.append(_any_table(value, f"extra-{key}"))

    # ---- assumptions -----------------------------------------------------------------------
    parts.append('<h2 id="assumptions">Assumptions and sources</h2>')
    rows = [{"name": x.get("name"), "value": _short(x.get("value")), "unit": x.get("unit", ""),
             "source": x.get("source", "")} for x in plan.assumptions]
    parts.append(_df_table(pd.DataFrame(rows), "assumptions-table"))

    body = "\n".join(parts)
    return _PAGE.format(title=esc(f"bheard plan: {plan.scenario}"), css=_CSS, body=body)


def figure_html(fig_id: str, alt: str, make, caption: str = "") -> str:
    """``<figure>`` with the PNG ``make()`` returns embedded as a data URI; if drawing fails,
    a visible error box instead (the rest of the report is kept)."""
    esc = html.escape
    try:
        png = make()
    except Exception as exc:  # noqa: BLE001 - keep the rest of the report; show what failed
        return (f'<div class="report-error" id="{fig_id}-error">could not draw {esc(alt)}: '
                f"{esc(type(exc).__name__)}: {esc(str(exc))}</div>")
    b64 = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (f'<figure><img id="{fig_id}" class="chart" alt="{esc(alt)}" '
            f'src="data:image/png;base64,{b64}">{cap}</figure>')


def headcount_table(plan) -> tuple[pd.DataFrame, str]:
    """The plan's headcount (:attr:`bheard.Plan.headcount`) with each tour's annual cost, and
    a note on how FTE are counted. Formats Plan fields; recomputes nothing."""
    hc = plan.headcount.copy()
    if len(hc):
        cost = plan.by_tour().set_index("tour")["annual_cost_usd"]
        hc["annual_cost_usd"] = [float(cost.sum()) if t == "total" else float(cost.get(t, 0.0))
                                 for t in hc["tour"]]
    sc = plan.resolved_scenario
    if sc is not None:
        wf = sc.workforce
        crew = ", ".join(f"{k} {v}" for k, v in sc.teams.crew.model_dump().items() if v)
        note = (f"FTE = team-shifts/week x shift hours x {sc.weeks_per_year:g} weeks/year x "
                f"persons per team ({crew}) / ({wf.paid_hours_per_fte:,.0f} paid hours per FTE"
                f" x {wf.productive_share:g} productive share) (models/workforce_cost.md). "
                "Cost is the plan's cost per team-shift x team-shifts x weeks.")
    else:
        note = "FTE by role as saved with the plan (models/workforce_cost.md)."
    return hc, note


# ----------------------------------------------------------------------------------------
# HTML helpers
# ----------------------------------------------------------------------------------------
def _fmt(x, spec: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    try:
        return format(x, spec)
    except (TypeError, ValueError):
        return str(x)


def _short(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}: {w}" for k, w in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_short(w) for w in v)
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1e5 and v == int(v) else f"{v:,.4g}"
    return str(v)


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e12):
            return f"{v:.3e}"
        if abs(v) < 1:
            return f"{v:.4f}"
        return f"{v:,.1f}" if abs(v) < 1e4 else f"{v:,.0f}"
    return html.escape(_short(v))


def _df_table(df: pd.DataFrame, table_id: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(
        f'<td class="{"num" if isinstance(v, (int, float, np.number)) else "txt"}">{_cell(v)}</td>'
        for v in row) + "</tr>" for row in df.itertuples(index=False))
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _kv_table(rows: list[tuple[str, str]], table_id: str) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in rows)
    return f'<table id="{table_id}" class="kv"><tbody>{body}</tbody></table>'


def _any_table(value, table_id: str) -> str:
    """A dict of scalars, a list of records or a dict of those, as table(s)."""
    if isinstance(value, list) and all(isinstance(x, dict) for x in value):
        return _df_table(pd.DataFrame(value), table_id)
    if isinstance(value, dict):
        scalars = [(k, v) for k, v in value.items() if not isinstance(v, (dict, list))]
        out = _kv_table([(str(k), _cell(v) if not isinstance(v, str) else v)
                         for k, v in scalars], table_id) if scalars else ""
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out += f"<h3>{html.escape(str(k).replace('_', ' '))}</h3>" + _any_table(
                    v, f"{table_id}-{k}")
        return out
    return f"<p>{html.escape(_short(value))}</p>"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0 auto;max-width:1200px;padding:16px 28px;color:#1b1b1b;line-height:1.4}
h1{font-size:1.6em;margin-bottom:4px}h2{border-bottom:2px solid #2171b5;padding-bottom:3px;
 margin-top:28px}h3{margin-top:18px}
.meta{color:#555}.note{color:#555;font-size:.9em}
.badge{padding:2px 8px;border-radius:10px;color:#fff;font-weight:600}
.badge.ok{background:#238b45}.badge.warn{background:#d58512}.badge.bad{background:#c0392b}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.kpi{border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:150px;background:#f6f8fa}
.kpi .v{font-size:1.35em;font-weight:700}.kpi .k{color:#555;font-size:.85em}
table{border-collapse:collapse;margin:8px 0;font-size:.85em}
th,td{border:1px solid #d0d7de;padding:3px 8px}th{background:#f0f3f6;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:330px;font-weight:500}
figure{margin:10px 0}figure img{max-width:100%;height:auto}
figcaption{color:#555;font-size:.85em}
.two{display:flex;gap:24px;flex-wrap:wrap}
.report-error{background:#fdecea;border:1px solid #c0392b;padding:8px;color:#c0392b}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bheard">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
{body}
<p class="note" id="report-end">Generated by bheard. Self-contained: images are embedded; the
file needs no network access.</p>
</body>
</html>
"""

__all__ = ["write_report", "render_report", "headcount_table", "PAID_HOURS_PER_FTE",
           "RELIEF_FACTOR"]
