"""Column names -> what a reader sees: a header with its unit and a number kind.

One table of labels for every output that shows bheard's tables to people (the CLI's text
tables, the HTML report, the spreadsheet), so a column reads the same everywhere. CSV files
keep the column names themselves (stable for programs). Kinds: ``calls`` (calls/year, no
decimals), ``usd`` (USD, no decimals), ``share`` (a 0..1 share shown as a percentage),
``teams`` (teams, one decimal), ``int``, ``rate`` (calls/hour), ``gap``, ``s`` (seconds),
``text``, ``bool``.
"""

from __future__ import annotations

import math

#: column name -> (header with unit, kind)
LABELS: dict[str, tuple[str, str]] = {
    "precinct": ("precinct", "text"),
    "borough": ("borough", "text"),
    "tour": ("tour", "text"),
    "day": ("day", "text"),
    "start": ("starts", "text"),
    "hours": ("hours", "teams"),
    "days_per_week": ("days/week", "int"),
    "scenario": ("scenario", "text"),
    "status": ("status", "text"),
    "teams": ("teams", "int"),
    "team_shifts_per_week": ("team-shifts/week", "int"),
    "teams_on_duty_mean": ("teams on duty (mean)", "teams"),
    "teams_on_duty_min": ("teams on duty (min)", "int"),
    "teams_on_duty_max": ("teams on duty (max)", "int"),
    "calls_per_hour": ("calls/hour", "rate"),
    "eligible_calls": ("eligible calls/year", "calls"),
    "expected_covered_calls": ("covered calls/year", "calls"),
    "covered_calls": ("covered calls/year", "calls"),
    "coverage_share": ("coverage (%)", "share"),
    "annual_cost_usd": ("team cost (USD/year)", "usd"),
    "budget_usd": ("budget (USD/year)", "usd"),
    "bound": ("proven bound (calls/year)", "calls"),
    "gap": ("gap (relative)", "gap"),
    "marginal_calls_per_million_usd": ("extra calls/year per extra $1M", "calls"),
    "seconds": ("seconds", "s"),
    "precincts": ("precincts", "int"),
    "precincts_with_team": ("precincts with a team", "int"),
    "has_team": ("has a team", "bool"),
    "first_budget_usd": ("first staffed at budget (USD/year)", "usd"),
    "cost_per_covered_call_usd": ("team cost per covered call (USD)", "usd"),
    "fte": ("FTE", "teams"),
    "calls_per_replication": ("calls/replication", "calls"),
    "served": ("served", "calls"),
    "lost_busy": ("lost: teams busy", "calls"),
    "lost_no_team": ("lost: no team", "calls"),
    "lost_off_hours": ("lost: off hours", "calls"),
    "served_share": ("served (%)", "share"),
    "expected_share": ("expected (%)", "share"),
    "share_p10": ("P10 (%)", "share"),
    "share_p50": ("P50 (%)", "share"),
    "share_p90": ("P90 (%)", "share"),
    "p_meet_target": ("P(share >= target)", "share"),
}

_PREFIXES = (("teams_on_duty_", "teams on duty, {} (mean)", "teams"),)


#: units of the (metric, value, unit) summary tables -> kind
UNIT_KINDS = {"USD/year": "usd", "USD per covered call": "usd", "calls/year": "calls",
              "share of eligible calls": "share", "team-shifts/week": "int",
              "precincts": "int", "relative": "gap", "": "text"}


def unit_kind(unit: str) -> str:
    """The kind of a value given its unit text (summary tables)."""
    unit = "" if unit is None else str(unit)
    if unit in UNIT_KINDS:
        return UNIT_KINDS[unit]
    return "teams" if unit.startswith("teams") else "auto"


def label(column: str) -> tuple[str, str]:
    """(header with unit, kind) of a column; unknown columns keep their name with spaces.
    A comparison column ``<metric> [<name>]`` reads as the metric's header with the plan's
    name; ``<metric> [<name> - <base>]`` is a difference (kind ``diff:<kind>``)."""
    column = str(column)
    if column.endswith("]") and " [" in column:
        metric, what = column[:-1].split(" [", 1)
        head, k = label(metric)
        return f"{head} [{what}]", (f"diff:{k}" if " - " in what else k)
    if column in LABELS:
        return LABELS[column]
    for prefix, text, kind in _PREFIXES:
        if column.startswith(prefix):
            return text.format(column[len(prefix):]), kind
    for suffix, kind in (("_usd", "usd"), ("_share", "share"), ("_calls", "calls")):
        if column.endswith(suffix):
            return column.replace("_", " "), kind
    return column.replace("_", " "), "auto"


def header(column: str) -> str:
    return label(column)[0]


def kind(column: str) -> str:
    return label(column)[1]


def fmt(x, unit: str = "") -> str:
    """THE number format of bheard's readable outputs (CLI and report): ``calls``/``usd``/``int``
    with thousands separators and no decimals (``usd`` with a $), ``musd`` in $ millions,
    ``share`` a percentage with one decimal, ``teams`` one decimal, ``rate`` three decimals,
    ``gap`` scientific, ``s`` seconds with two decimals; "n/a" for missing numbers."""
    if unit.startswith("diff:"):  # a difference between two plans: signed, shares in pp
        k = unit[5:]
        try:
            v = float(x)
        except (TypeError, ValueError):
            return ""
        if not math.isfinite(v):
            return ""
        if k == "share":
            return f"{100 * v:+.1f} pp"
        body = fmt(abs(v), k)
        return ("-" if v < 0 else "+") + body
    if isinstance(x, bool) or unit == "bool":
        return "yes" if bool(x) else "no"
    if unit == "text":
        return "" if x is None else str(x)
    try:
        if x is None or not math.isfinite(float(x)):
            return "n/a"
    except (TypeError, ValueError):
        return str(x)
    x = float(x)
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit == "gap":
        return f"{x:.2e}"
    if unit == "s":
        return f"{x:.2f} s"
    if unit == "usd":
        return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"
    if unit == "musd":
        return f"${x / 1e6:,.1f}M"
    if unit in ("calls", "int"):
        return f"{x:,.0f}"
    if unit == "teams":
        return f"{x:,.1f}"
    if unit == "rate":
        return f"{x:,.3f}"
    if unit == "auto":
        if x == int(x) and abs(x) < 1e15:
            return f"{x:,.0f}"
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"
    return f"{x:,.1f}"


def cell(value, column: str) -> str:
    """A table cell: ``value`` formatted by its column's kind."""
    return fmt(value, kind(column))


__all__ = ["UNIT_KINDS", "unit_kind", "LABELS", "label", "header", "kind", "fmt", "cell"]
