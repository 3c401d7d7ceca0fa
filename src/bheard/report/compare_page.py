"""The HTML page of a comparison (:class:`bheard.compare.Comparison`): one self-contained
file, the citywide table first, then boroughs, tours and precincts, each plan side by side
with its differences against the first plan (shares in percentage points)."""

from __future__ import annotations

import html
import time

import numpy as np
import pandas as pd

from bheard.labels import fmt, header, kind, unit_kind



def column_header(column: str) -> str:
    """``coverage_share [B - A]`` -> ``coverage (%) [B - A]`` (:func:`bheard.labels.label`)."""
    return header(column)


def column_cell(value, column: str) -> str:
    return fmt(value, kind(column))


def signed(value, k: str) -> str:
    """A difference: shares in percentage points, others with a sign."""
    return fmt(value, "diff:" + k)


def _table(df: pd.DataFrame, table_id: str) -> str:
    head = "".join(f'<th data-col="{html.escape(str(c))}">{html.escape(column_header(c))}</th>'
                   for c in df.columns)
    body = "".join("<tr>" + "".join(
        f'<td class="{"txt" if isinstance(v, str) else "num"}">'
        f"{html.escape(column_cell(v, c) if not isinstance(v, str) else v)}</td>"
        for v, c in zip(row, df.columns)) + "</tr>" for row in df.itertuples(index=False))
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _citywide(cmp) -> str:
    """metric/unit/value per plan/differences; each row formatted by its unit."""
    t = cmp.citywide
    names = cmp.names
    diffs = [c for c in t.columns if " - " in str(c)]
    head = "<th>figure</th>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "".join(
        f"<th>{html.escape(d)}</th>" for d in diffs)
    rows = []
    for r in t.itertuples(index=False):
        rec = dict(zip(t.columns, r))
        unit = str(rec["unit"])
        k = unit_kind(unit)
        label = header(rec["metric"]) if not str(rec["metric"]).startswith("teams_on_duty_") \
            else f"teams on duty, {str(rec['metric'])[len('teams_on_duty_'):]} (mean)"
        label = {"team_cost": "team cost (USD/year)", "team_budget": "team budget (USD/year)",
                 "unspent_team_budget": "team budget left (USD/year)",
                 "program_fixed_cost": "program fixed cost (USD/year)",
                 "total_cost": "total cost (USD/year)",
                 "cost_per_covered_call": "team cost per covered call (USD)",
                 "total_cost_per_covered_call": "total cost per covered call (USD)",
                 "precincts_without_team": "precincts without a team",
                 "objective": "objective (calls/year)"}.get(str(rec["metric"]), label)
        cells = [f'<th>{html.escape(label)}</th>']
        for n in names:
            v = rec[n]
            cells.append(f'<td class="num">{html.escape(v if isinstance(v, str) else fmt(v, k))}'
                         "</td>")
        for d in diffs:
            cells.append(f'<td class="num">{html.escape(signed(rec[d], k))}</td>')
        rows.append(f'<tr data-metric="{html.escape(str(rec["metric"]))}">' + "".join(cells)
                    + "</tr>")
    return (f'<table id="compare-citywide"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def render_comparison(cmp) -> str:
    """The comparison page's HTML text."""
    from bheard.report import _CSS, _PAGE

    esc = html.escape
    parts = [f"<h1>Comparison: {esc(' vs '.join(cmp.names))}</h1>",
             f'<p class="meta">base: {esc(cmp.names[0])}; differences are each plan minus the'
             f" base (shares in percentage points) &middot; written"
             f" {esc(time.strftime('%Y-%m-%d %H:%M'))}</p>",
             "<ul>" + "".join(f"<li><b>{esc(n)}</b>: {esc(s)}</li>"
                              for n, s in zip(cmp.names, cmp.sources)) + "</ul>",
             "<h2>Citywide</h2>", _citywide(cmp),
             "<h2>By borough</h2>", _table(cmp.borough, "compare-borough"),
             "<h2>By tour</h2>", _table(cmp.tour, "compare-tour"),
             "<h2>By precinct</h2>", _table(cmp.precinct, "compare-precinct")]
    return _PAGE.format(title=esc("bheard comparison: " + " vs ".join(cmp.names)), css=_CSS,
                        body="\n".join(parts))


__all__ = ["render_comparison", "column_header", "column_cell", "signed"]
