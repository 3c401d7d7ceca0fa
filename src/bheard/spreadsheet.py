"""One Excel workbook per answer (``--xlsx`` on ``solve``, ``compare``, ``frontier``,
``buildout``).

Sheets are DataFrames with the same columns as the CSV files bheard writes (``plan.csv``'s
views, ``frontier.csv``, the comparison tables). In the workbook each header is the column's
label with its unit (:mod:`bheard.labels`) and each number column gets an Excel number format
for its kind (USD ``$#,##0``, calls ``#,##0``, shares ``0.0%``...): the cells hold the raw
values, so the workbook and the CSVs agree number for number. Written with openpyxl, through
a temporary file renamed into place (:func:`bheard.io.atomic_write`).

A workflow that adds its own tables (e.g. a build-out plan) passes its sheets to
:func:`write_workbook` as :class:`Sheet` objects: ``write_workbook(path, [Sheet("plan",
df), ...])``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.labels import label, unit_kind

#: Excel number format per column kind (bheard.labels)
NUMBER_FORMATS = {
    "calls": "#,##0", "int": "#,##0", "usd": "$#,##0", "share": "0.0%", "teams": "#,##0.0",
    "rate": "0.000", "gap": "0.00E+00", "s": "0.00", "auto": "General",
}


@dataclass
class Sheet:
    """One worksheet: ``name`` (at most 31 characters), the table, a note written in row 1
    (units, what the rows are; default the name). Headers are in row 3, data from row 4."""

    name: str
    table: pd.DataFrame
    note: str = ""
    #: columns whose kind overrides the label table (column -> kind)
    kinds: dict = field(default_factory=dict)
    #: a column whose text is each row's unit (summary tables): numbers are formatted by it
    unit_column: str | None = None


def write_workbook(path: str | Path, sheets: list[Sheet]) -> Path:
    """Write the sheets as one .xlsx workbook (atomically); return its path."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from bheard.io import atomic_write

    wb = Workbook()
    wb.remove(wb.active)
    for sh in sheets:
        ws = wb.create_sheet(_sheet_name(sh.name, wb.sheetnames))
        # row 1: what the sheet is; row 3: headers (with units); data from row 4
        ws.cell(row=1, column=1, value=sh.note or sh.name).font = Font(italic=True)
        row0 = 3
        cols = list(sh.table.columns)
        for j, c in enumerate(cols, start=1):
            head = (str(c) if sh.unit_column and c not in ("metric", sh.unit_column)
                    else label(c)[0])
            ws.cell(row=row0, column=j, value=head).font = Font(bold=True)
            ws.column_dimensions[get_column_letter(j)].width = max(10, min(len(head) + 2, 40))
        for i, rec in enumerate(sh.table.itertuples(index=False), start=row0 + 1):
            row_kind = (unit_kind(rec[cols.index(sh.unit_column)])
                        if sh.unit_column in cols else None)
            for j, (c, v) in enumerate(zip(cols, rec), start=1):
                cell = ws.cell(row=i, column=j, value=_value(v))
                kind = row_kind or sh.kinds.get(c) or label(c)[1]
                if kind.startswith("diff:"):
                    kind = kind[5:]
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.number_format = NUMBER_FORMATS.get(kind, "General")
        ws.freeze_panes = ws.cell(row=row0 + 1, column=1)
    path = Path(path)

    def write(fh):
        wb.save(fh)

    atomic_write(path, write, mode="wb")
    return path


def _sheet_name(name: str, taken: list[str]) -> str:
    bad = set('[]:*?/\\\\')
    base = "".join("_" if ch in bad else ch for ch in str(name))[:31] or "sheet"
    out, k = base, 2
    while out in taken:
        out = f"{base[:28]}~{k}"
        k += 1
    return out


def _value(v):
    """A cell value: numpy scalars to Python, non-finite numbers to empty cells."""
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if math.isfinite(v) else None
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (dict, list, tuple)):
        return str(v)
    return v if isinstance(v, (int, str)) else str(v)


# ----------------------------------------------------------------------------------------
# the workbooks of bheard's answers
# ----------------------------------------------------------------------------------------
def assumptions_table(plan) -> pd.DataFrame:
    rows = [{"name": a.get("name"), "value": _text(a.get("value")), "unit": a.get("unit", ""),
             "source": a.get("source", "")} for a in plan.assumptions]
    return pd.DataFrame(rows, columns=["name", "value", "unit", "source"])


def _text(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}: {w}" for k, w in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(w) for w in v)
    return "" if v is None else str(v)


def plan_sheets(plan) -> list[Sheet]:
    """Summary, by precinct, by tour, by borough, assumptions (and the binding limit)."""
    summary = plan.summary_table()
    sheets = [Sheet("summary", summary, f"{plan.scenario}: headline figures (units in the"
                    " unit column)", unit_column="unit"),
              Sheet("by precinct", plan.by_precinct(), "one row per precinct: calls/year,"
                    " coverage, mean teams on duty per tour, team-shifts/week, USD/year"),
              Sheet("by tour", plan.by_tour(), "teams on duty: citywide mean over the days the"
                    " tour runs"),
              Sheet("by borough", plan.by_borough()),
              Sheet("assumptions", assumptions_table(plan), "every assumption with its source"
                    " (docs/sources.md ids)")]
    if plan.limits is not None:
        sheets.insert(1, Sheet("limits", pd.DataFrame(
            {"finding": plan.limits.sentences()}), "which limit binds and what relaxing it"
            " would buy (re-solved)"))
    return sheets


def frontier_sheets(fr) -> list[Sheet]:
    """Frontier, first-team budgets, the plan by borough at each budget."""
    sheets = [Sheet("frontier", fr.table, f"{fr.scenario}: one row per budget (USD/year)"),
              Sheet("first team budget", fr.first_team)]
    if len(fr.boroughs):
        sheets.append(Sheet("by borough per budget", fr.boroughs))
    if fr.limit_note:
        sheets.append(Sheet("limits", pd.DataFrame({"finding": fr.limit_note})))
    return sheets


def buildout_sheets(b) -> list[Sheet]:
    """A buildout's tables (the same as its CSV files): periods, fiscal years, workforce,
    openings, teams by borough and tour, and every team (period x precinct x tour)."""
    sheets = [Sheet("periods", b.periods, f"{b.scenario}: one row per period ({b.status},"
                    f" gap {b.gap:.1e}); coverage and spend of each period"),
              Sheet("fiscal years", b.fiscal_years, "spend against each fiscal year's money for"
                    " teams (USD)"),
              Sheet("workforce", b.workforce, "trained headcount, FTE on teams, hires and"
                    " training capacity by role (FTE)"),
              Sheet("openings", b.openings, "when each precinct's tour first gets a team"),
              Sheet("by borough and tour", b.by_borough_tour),
              Sheet("teams", b.assignments, "teams per period, precinct and tour")]
    if b.diagnosis:
        sheets.insert(0, Sheet("diagnosis", pd.DataFrame({"conflict": b.diagnosis})))
    return [sh for sh in sheets if isinstance(sh.table, pd.DataFrame)]


def compare_sheets(cmp) -> list[Sheet]:
    """The comparison's four tables (the same as compare_<view>.csv)."""
    return [Sheet(v, cmp.table(v), f"{' vs '.join(cmp.names)}: differences are each plan minus"
                  f" {cmp.names[0]}", kinds=_compare_kinds(cmp.table(v)),
                  unit_column="unit" if v == "citywide" else None)
            for v in ("citywide", "borough", "tour", "precinct")]


def _compare_kinds(df: pd.DataFrame) -> dict:
    """``coverage_share [B - A]`` gets the kind of ``coverage_share``."""
    out = {}
    for c in df.columns:
        m = str(c).split(" [", 1)
        if len(m) == 2:
            out[c] = label(m[0])[1]
    return out


__all__ = ["Sheet", "buildout_sheets", "compare_sheets", "write_workbook", "plan_sheets", "frontier_sheets", "assumptions_table",
           "NUMBER_FORMATS"]
