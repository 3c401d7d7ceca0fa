"""The HTML report page of a saved buildout (``bheard buildout --out DIR --report`` or
``bheard report DIR`` on a buildout folder): self-contained, charts as embedded PNGs.

Sections: status and certificate; key dates (when each tour opens, when every precinct has a
team); coverage over time (share of eligible calls and team-shifts per week by tour); hiring
(trained headcount by role, hires, training capacity); spend against each budget; the order in
which precincts and tours open; fiscal-year and period tables; milestones and notes.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.buildout import Buildout
from bheard.io import atomic_write_text
from bheard.report import _CSS, _PAGE, _df_table, _fmt, _kv_table, figure_html
from bheard.report.charts import _plt, _png

_TOUR_COLOURS = ["#2171b5", "#6baed6", "#08306b", "#9ecae1", "#4292c6"]
_ROLE_COLOURS = {"emt": "#d94801", "paramedic": "#fd8d3c", "social_worker": "#238b45",
                 "peer": "#6a51a3"}


def coverage_over_time_chart(periods: pd.DataFrame, steady_share: float | None = None) -> bytes:
    """Top: expected coverage share of eligible calls per period (and the steady state);
    bottom: team-shifts per week by tour, stacked."""
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 5.6), sharex=True,
                                  gridspec_kw={"height_ratios": [1.2, 1]})
    x = np.arange(len(periods))
    ax.plot(x, 100 * periods["coverage_share"], marker="o", color="#2171b5",
            label="ramp: expected coverage")
    if steady_share is not None:
        ax.axhline(100 * steady_share, color="#e6550d", linestyle="--",
                   label="steady state at the last year's budget")
    ax.set_ylabel("coverage (% of\neligible calls)")
    ax.set_ylim(0, max(100 * float(periods["coverage_share"].max()) * 1.15, 5))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("Coverage over time")
    tours = [c[len("team_shifts_per_week_"):] for c in periods.columns
             if c.startswith("team_shifts_per_week_")]
    bottom = np.zeros(len(periods))
    for k, t in enumerate(tours):
        v = periods[f"team_shifts_per_week_{t}"].to_numpy(dtype=float)
        ax2.bar(x, v, bottom=bottom, color=_TOUR_COLOURS[k % len(_TOUR_COLOURS)], label=t)
        bottom += v
    ax2.set_ylabel("team-shifts/week")
    ax2.legend(loc="upper left", fontsize=8, ncol=len(tours))
    ax2.grid(axis="y", alpha=0.3)
    ax2.set_xticks(x, periods["period"].astype(str), rotation=45, ha="right", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def hiring_chart(workforce: pd.DataFrame) -> bytes:
    """Per role: trained headcount (line), FTE on teams (dotted) and hires per period (bars),
    with the training capacity (dashed)."""
    plt = _plt()
    roles = list(dict.fromkeys(workforce["role"].tolist()))
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 5.6), sharex=True)
    periods = list(dict.fromkeys(workforce["period"].tolist()))
    x = np.arange(len(periods))
    width = 0.8 / max(len(roles), 1)
    for k, r in enumerate(roles):
        w = workforce[workforce["role"] == r].set_index("period").loc[periods]
        col = _ROLE_COLOURS.get(r, None)
        ax.plot(x, w["headcount_fte"], marker="o", color=col, label=f"{r}: trained")
        ax.plot(x, w["on_teams_fte"], linestyle=":", color=col)
        ax2.bar(x - 0.4 + (k + 0.5) * width, w["hires_fte"], width=width, color=col, label=r)
        capacity = pd.to_numeric(w["hiring_capacity_fte"], errors="coerce").to_numpy()
        if np.isfinite(capacity).any():
            ax2.scatter(x - 0.4 + (k + 0.5) * width, capacity, marker="_", s=160,
                        color=col, linewidths=1.5)
    ax.set_ylabel("FTE (line: trained;\ndotted: on teams)")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("Hiring: headcount by role and hires per period")
    ax2.set_ylabel("hires (FTE trained in\nthe period; dash:\ncapacity)")
    ax2.legend(loc="upper right", fontsize=8, ncol=len(roles))
    ax2.grid(axis="y", alpha=0.3)
    ax2.set_xticks(x, periods, rotation=45, ha="right", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def spend_chart(periods: pd.DataFrame, fiscal: pd.DataFrame) -> bytes:
    """Spend per period (teams, trained staff not yet on teams, training) against each
    period's share of its fiscal year's budget."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3.6))
    x = np.arange(len(periods))
    bottom = np.zeros(len(periods))
    for col, colour, label in (("teams_usd", "#2171b5", "teams"),
                               ("bench_usd", "#fd8d3c", "trained staff not yet on teams"),
                               ("training_usd", "#74c476", "training")):
        v = periods[col].to_numpy(dtype=float) / 1e6
        if v.any():
            ax.bar(x, v, bottom=bottom, color=colour, label=label)
            bottom += v
    per_fy = periods.groupby("fiscal_year", sort=False).size()
    budget = fiscal.set_index("fiscal_year")["budget_usd"]
    share = np.array([budget[f] / per_fy[f] for f in periods["fiscal_year"]]) / 1e6
    ax.step(x, share, where="mid", color="#c0392b", linestyle="--",
            label="budget / periods in the year")
    ax.set_ylabel("USD million per period")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_xticks(x, periods["period"].astype(str), rotation=45, ha="right", fontsize=8)
    ax.set_title("Spend against budget")
    fig.tight_layout()
    return _png(fig)


def render_buildout_report(out_dir: str | Path) -> str:
    """The HTML text of the report of the buildout saved in ``out_dir``."""
    out = Path(out_dir)
    b = Buildout.load(out)
    esc = html.escape
    parts: list[str] = []

    figure = figure_html

    badge = {"optimal": "ok", "time_limit_feasible": "warn", "feasible": "warn"}.get(b.status,
                                                                                    "bad")
    parts.append(f"<h1>Buildout: {esc(b.scenario)}</h1>")
    parts.append(f'<p class="meta">status <span class="badge {badge}" id="status">'
                 f"{esc(b.status)}</span> &middot; {len(b.period_labels)} periods"
                 f" ({esc(b.period_labels[0]) if b.period_labels else ''} to"
                 f" {esc(b.period_labels[-1]) if b.period_labels else ''}) &middot; coverage"
                 f" model: {esc(b.coverage_model)} &middot; report written"
                 f" {esc(time.strftime('%Y-%m-%d %H:%M'))} from <code>{esc(str(out))}</code></p>")
    if not b.feasible:
        parts.append('<h2 id="diagnosis">No feasible ramp</h2><ul>' + "".join(
            f"<li>{esc(d)}</li>" for d in b.diagnosis) + "</ul>")
    sv = b.solver
    rows = [("status", b.status),
            ("expected covered calls over the horizon (objective)", _fmt(b.objective, ",.1f")),
            ("proven upper bound", _fmt(b.bound, ",.1f")),
            ("relative gap (bound - objective) / objective", _fmt(b.gap, ".2e")),
            ("bound from", f"{sv.bound_source}: {sv.bound_meaning}"),
            ("how", sv.message), ("termination", sv.termination),
            ("greedy ramp, calls", _fmt(b.greedy_objective, ",.1f")),
            ("LP relaxation bound, calls", _fmt(sv.lp_bound, ",.1f")),
            ("largest difference, any period, between the valuation optimized and the"
             " period's teams at their own state", _fmt(b.own_state_max_rel_diff, ".2%")),
            ("requested gap / time limit",
             f"{_fmt(sv.mip_rel_gap, 'g')} / {_fmt(sv.time_limit_s, 'g')} s"),
            ("build / translate / solve / total seconds", " / ".join(
                f"{v:.2f}" for v in (b.build_seconds, b.translate_seconds, b.solve_seconds,
                                     b.total_seconds)))]
    parts.append('<h2 id="solver">Solver status and gap</h2>' + _kv_table(rows, "solver-table"))
    if b.feasible:
        ev = [(k.replace("_", " "), v if v is not None else "not within the horizon")
              for k, v in b.events.items()]
        parts.append('<h2 id="events">Key dates</h2>' + _kv_table(ev, "events-table"))
        ss = b.steady_state or {}
        share = ss.get("coverage_share")
        parts.append('<h2 id="coverage">Coverage over time</h2>')
        parts.append(figure("chart-coverage-over-time", "coverage over time",
                            lambda: coverage_over_time_chart(b.periods, share),
                            "Expected share of eligible calls covered in each period, under"
                            f" the scenario's coverage model ({esc(b.coverage_model)}); dashed:"
                            " the steady-state optimum at the last fiscal year's budget."))
        parts.append('<h2 id="hiring">Hiring</h2>')
        parts.append(figure("chart-hiring", "hiring by role",
                            lambda: hiring_chart(b.workforce),
                            "Trained staff (FTE) by role each period and the FTE the teams"
                            " need; hires are staff trained during the period, on teams from"
                            " the next one."))
        parts.append('<h2 id="spend">Spend against budget</h2>')
        parts.append(figure("chart-spend", "spend against budget",
                            lambda: spend_chart(b.periods, b.fiscal_years)))
        parts.append(_df_table(b.fiscal_years, "fiscal-years-table"))
        parts.append('<h2 id="openings">Order of opening</h2><p class="note">First period in'
                     " which each precinct has a team on each tour (\"start\": already at the"
                     " start; empty: not within the horizon).</p>")
        op = b.openings
        parts.append(_df_table(op[op["opens"].fillna("").astype(str) != ""], "openings-table"))
        parts.append('<h2 id="periods">By period</h2>' + _df_table(
            b.periods.drop(columns=["start_date"], errors="ignore"), "periods-table"))
        parts.append('<h2 id="workforce">Workforce by period and role</h2>'
                     + _df_table(b.workforce, "workforce-table"))
    if b.milestones:
        parts.append('<h2 id="milestones">Floors and milestones</h2>'
                     + _df_table(pd.DataFrame(b.milestones), "milestones-table"))
    if b.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in b.notes)
                     + "</ul>")
    return _PAGE.format(title=esc(f"bheard buildout: {b.scenario}"), css=_CSS,
                        body="\n".join(parts))


def write_buildout_report(out_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write ``report.html`` for the buildout saved in ``out_dir``; return its path."""
    out = Path(out_dir)
    path = Path(output) if output is not None else out / "report.html"
    atomic_write_text(path, render_buildout_report(out))
    return path


__all__ = [
    "coverage_over_time_chart",
    "hiring_chart",
    "render_buildout_report",
    "spend_chart",
    "write_buildout_report",
]
