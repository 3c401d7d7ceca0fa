"""`bheard compare` and `--xlsx` (issue 12): the outputs are opened and read back; workbook
values equal the CSVs; differences equal the plans' own figures."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO

import numpy as np
import pandas as pd
import pytest

import bheard
from helpers import SCENARIOS, run_cli, tiny_dict

openpyxl = pytest.importorskip("openpyxl")
BHEARD = [sys.executable, "-m", "bheard.cli"]
TINY = SCENARIOS / "examples" / "tiny.yaml"


def run(*args, cwd=None):
    """The command in process (``helpers.run_cli``)."""
    return run_cli(*args)


def sheet_frame(ws, header_row: int) -> tuple[list[str], list[list]]:
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[header_row - 1]), [list(r) for r in rows[header_row:]]


def assert_same(values, frame_col):
    """Workbook cells (None = empty) against a CSV column (NaN = empty)."""
    for v, w in zip(values, frame_col):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            assert w is None or (isinstance(w, float) and np.isnan(w)) or w == ""
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            assert float(v) == pytest.approx(float(w), rel=1e-12, abs=1e-9)
        else:
            assert str(v) == str(w)


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    a = bheard.solve(tiny_dict(), budget_usd=2e6)
    a.save(d / "a")
    b_yaml = d / "b.yaml"
    b_yaml.write_text(TINY.read_text().replace("name: tiny", "name: tiny_rich").replace(
        "table: demand.csv", f"table: {SCENARIOS / 'examples' / 'demand.csv'}").replace(
        "annual_usd: 5000000", "annual_usd: 4000000"))
    return d, d / "a", b_yaml


def test_compare_plan_folder_with_scenario_file(two_plans):
    """A plan folder and a scenario file side by side: each plan's column is its own figure,
    the difference column is B - A, citywide, by borough, tour and precinct; CSVs and an HTML
    page are written."""
    d, a_dir, b_yaml = two_plans
    out = d / "cmp"
    r = run("compare", a_dir, b_yaml, "--out", out, "--xlsx", d / "cmp.xlsx")
    assert r.returncode == 0, r.stderr
    a, b = bheard.Plan.load(a_dir), bheard.solve(b_yaml)
    city = pd.read_csv(out / "compare_citywide.csv").set_index("metric")
    assert float(city.loc["coverage_share", "tiny"]) == pytest.approx(a.coverage_share)
    assert float(city.loc["coverage_share", "tiny_rich"]) == pytest.approx(b.coverage_share)
    assert float(city.loc["covered_calls", "tiny_rich - tiny"]) == pytest.approx(
        b.objective - a.objective)
    assert float(city.loc["cost_per_covered_call", "tiny_rich - tiny"]) == pytest.approx(
        b.annual_cost / b.objective - a.annual_cost / a.objective)
    prec = pd.read_csv(out / "compare_precinct.csv").set_index("precinct")
    bpa, bpb = a.by_precinct().set_index("precinct"), b.by_precinct().set_index("precinct")
    for p in (25, 28, 32):
        assert prec.loc[p, "team_shifts_per_week [tiny_rich - tiny]"] == (
            bpb.loc[p, "team_shifts_per_week"] - bpa.loc[p, "team_shifts_per_week"])
        assert prec.loc[p, "coverage_share [tiny]"] == pytest.approx(bpa.loc[p, "coverage_share"])
    tour = pd.read_csv(out / "compare_tour.csv").set_index("tour")
    assert tour.loc["day", "teams_on_duty_mean [tiny_rich]"] == pytest.approx(
        b.teams_on_duty_by_tour().set_index("tour").loc["day", "teams_on_duty_mean"])
    html = (out / "compare.html").read_text()
    assert "Comparison: tiny vs tiny_rich" in html and 'id="compare-precinct"' in html
    assert "pp" in html  # share differences in percentage points
    # the printed table: citywide first, differences signed
    assert r.stdout.index("citywide") < r.stdout.index("borough")
    assert f"{100 * (b.coverage_share - a.coverage_share):+.1f} pp" in r.stdout


def test_compare_workbook_equals_the_csvs(two_plans):
    """openpyxl reads the compare workbook back: one sheet per view, each cell equal to the
    CSV's value, headers with units, number formats set."""
    d, a_dir, b_yaml = two_plans
    wb = openpyxl.load_workbook(d / "cmp.xlsx")
    assert wb.sheetnames == ["citywide", "borough", "tour", "precinct"]
    for view in wb.sheetnames:
        csv = pd.read_csv(d / "cmp" / f"compare_{view}.csv")
        heads, rows = sheet_frame(wb[view], 3)
        assert len(rows) == len(csv)
        for j, col in enumerate(csv.columns):
            assert_same([r[j] for r in rows], csv[col].tolist())
    heads, rows = sheet_frame(wb["precinct"], 3)
    j = heads.index("coverage (%) [tiny]")
    assert wb["precinct"].cell(row=4, column=j + 1).number_format == "0.0%"
    j = heads.index("team cost (USD/year) [tiny_rich]")
    assert wb["precinct"].cell(row=4, column=j + 1).number_format == "$#,##0"


def test_compare_needs_two_feasible_plans(tmp_path):
    r = run("compare", TINY)
    assert r.returncode == 2 and "two or more" in r.stderr
    r = run("compare", TINY, tmp_path / "nothing")
    assert r.returncode == 2 and "nothing" in r.stderr


def test_solve_xlsx_equals_the_csv_views(tmp_path):
    """`bheard solve --xlsx`: summary, limits, by precinct, by tour, by borough, assumptions;
    the by-precinct sheet equals `--format csv --by precinct`, the summary sheet the summary
    CSV; units in headers; USD, share and calls number formats."""
    x = tmp_path / "plan.xlsx"
    r = run("solve", TINY, "--xlsx", x)
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(x)
    assert wb.sheetnames == ["summary", "limits", "by precinct", "by tour", "by borough",
                             "assumptions"]
    for by, sheet in (("precinct", "by precinct"), ("summary", "summary"),
                      ("tour", "by tour"), ("borough", "by borough")):
        csv = pd.read_csv(StringIO(run("solve", TINY, "--format", "csv", "--by", by,
                                       "--no-explain").stdout))
        heads, rows = sheet_frame(wb[sheet], 3)
        table = pd.DataFrame(rows, columns=heads)
        for col in csv.columns:
            from bheard.labels import header

            head = col if sheet == "summary" else header(col)
            assert head in table.columns, (sheet, col, heads)
            want = csv[col].tolist()
            got = table[head].tolist()
            if sheet == "summary" and col == "value":
                got = [str(v) if isinstance(v, str) else v for v in got]
                for g, w in zip(got, want):
                    try:
                        assert float(g) == pytest.approx(float(w))
                    except (TypeError, ValueError):
                        assert str(g) == str(w)
                continue
            assert_same(got, want)
    heads, rows = sheet_frame(wb["by precinct"], 3)
    assert "team cost (USD/year)" in heads and "eligible calls/year" in heads
    ws = wb["by precinct"]
    fmts = {h: ws.cell(row=4, column=j + 1).number_format for j, h in enumerate(heads)}
    assert fmts["team cost (USD/year)"] == "$#,##0"
    assert fmts["coverage (%)"] == "0.0%"
    assert fmts["eligible calls/year"] == "#,##0"
    s_heads, s_rows = sheet_frame(wb["summary"], 3)
    cov = [r for r in s_rows if r[0] == "coverage_share"][0]
    assert wb["summary"].cell(row=3 + 1 + s_rows.index(cov), column=2).number_format == "0.0%"


def test_frontier_xlsx_equals_frontier_csv(tmp_path):
    x = tmp_path / "f.xlsx"
    r = run("frontier", TINY, "--budgets", "1e6,3e6,1e9", "--out", tmp_path / "fr",
            "--xlsx", x)
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(x)
    assert wb.sheetnames[:2] == ["frontier", "first team budget"]
    csv = pd.read_csv(tmp_path / "fr" / "frontier.csv")
    heads, rows = sheet_frame(wb["frontier"], 3)
    for j, col in enumerate(csv.columns):
        assert_same([r[j] for r in rows], csv[col].tolist())
    assert "budget (USD/year)" in heads
    assert "limits.max_teams_per_slot" in r.stdout  # where coverage stops rising, and why
