"""HTML report: hand-computed hour-of-week and headcount figures, self-containment, Chromium."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bheard
from bheard.report import headcount_table, write_report
from bheard.report.charts import hour_of_week_profile
from helpers import REPO, tiny_dict

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    """The tiny example plan saved to a folder, with a 3-point frontier beside it."""
    out = tmp_path_factory.mktemp("plan")
    d = tiny_dict()
    d["solver"] = {"time_limit_s": 60, "mip_rel_gap": 1e-2}
    plan = bheard.solve(d)
    plan.save(out)
    bheard.frontier(d, "1e6:5e6:3").save(out)
    return out


def test_hour_of_week_profile_spreads_tours_over_their_hours():
    """A 22:00 4-h Mon tour fills Mon 22-23 and Tue 00-01; a Sun 22:00 tour wraps to Mon 00-01."""
    a = pd.DataFrame({"day": ["Mon", "Sun"], "tour": ["late", "late"], "teams": [1, 2],
                      "calls_per_hour": [2.0, 3.0], "coverage_share": [0.5, 0.25]})
    tours = [{"name": "late", "start_hour": 22.0, "hours": 4.0}]
    prof = hour_of_week_profile(a, tours).set_index("hour_of_week")
    for h in (22, 23, 24, 25):  # Mon 22:00 .. Tue 02:00
        assert prof.loc[h, "eligible_calls_per_hour"] == 2.0
        assert prof.loc[h, "covered_calls_per_hour"] == 1.0  # 2 calls/h x 0.5
    for h in (166, 167, 0, 1):  # Sun 22:00 .. Mon 02:00 (wraps)
        assert prof.loc[h, "eligible_calls_per_hour"] == 3.0
        assert prof.loc[h, "teams_on_duty"] == 2
    assert np.isnan(prof.loc[12, "eligible_calls_per_hour"])  # no tour works Mon noon
    # a half-hour start splits the boundary hours
    half = hour_of_week_profile(a.iloc[:1], [{"name": "late", "start_hour": 22.5, "hours": 1.0}])
    half = half.set_index("hour_of_week")["eligible_calls_per_hour"]
    assert half[22] == 1.0 and half[23] == 1.0  # 0.5 h x 2 calls/h each


def test_headcount_fte_from_paid_hours_and_relief():
    """tiny plan: FTE per role = team-shifts/wk x 8 h x 52 wk x persons / (2,088 paid h x 0.82
    productive share) (docs/sources.md S-paid-hours, A-relief); the report's table is the
    plan's own headcount, and the plan's FTE by role is its total row."""
    d = tiny_dict()
    d["solver"] = {"time_limit_s": 60, "mip_rel_gap": 1e-2}
    plan = bheard.solve(d)
    df, note = headcount_table(plan)
    day = df.set_index("tour").loc["day"]
    n = int(plan.assignments.query("tour == 'day'")["teams"].sum())
    assert day["team_shifts_per_week"] == n
    assert day["emt_fte"] == pytest.approx(n * 8 * 52 * 2 / (2088 * 0.82))
    assert day["social_worker_fte"] == pytest.approx(n * 8 * 52 * 1 / (2088 * 0.82))
    total = df.set_index("tour").loc["total"]
    assert total["total_fte"] == pytest.approx(plan.team_shifts_per_week * 8 * 52 * 3
                                               / (2088 * 0.82))
    assert plan.workforce.fte_by_role["emt"] == pytest.approx(total["emt_fte"])
    assert "2,088" in note and "0.82" in note


def test_report_is_self_contained_with_map_charts_and_assumptions(plan_dir):
    """One HTML file: map + 5 charts as embedded PNGs, no network URL, every assumption listed."""
    path = write_report(plan_dir)
    text = path.read_text(encoding="utf-8")
    imgs = re.findall(r'<img id="([^"]+)"[^>]*src="data:image/png;base64,([^"]+)"', text)
    ids = [i for i, _ in imgs]
    assert ids == ["chart-hour-of-week", "chart-borough-tour", "chart-cost", "chart-frontier"]
    assert re.search(r'<svg id="map"[^>]*class="map"', text)  # the map: inline SVG, hover
    for _, b64 in imgs:
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing fetched from a network
    assert not re.search(r"<script[^>]*\bsrc=", text)  # scripts only inline (the slider)
    assert 'class="report-error"' not in text
    summary = json.loads((plan_dir / "summary.json").read_text())
    for a in summary["assumptions"]:
        assert a["name"] in text
    assert "S-paid-hours" in text and 'id="frontier-table"' in text
    assert 'id="status">optimal<' in text


def test_report_shows_the_plans_typed_breakdowns(tmp_path):
    """A bottom-up cost plan's cost breakdown (labour by role, vehicles, overhead) is shown as a
    table with the plan's own numbers; the report recomputes nothing."""
    d = tiny_dict()
    del d["teams"]["cost_per_team_shift_usd"]
    d["costs"] = {}
    d["solver"] = {"time_limit_s": 10, "mip_rel_gap": 1e-2}
    plan = bheard.solve(d)
    plan.save(tmp_path / "p")
    text = write_report(tmp_path / "p").read_text()
    bd = plan.workforce.cost_breakdown_usd_per_year
    assert "Workforce" in text and "labour_emt_usd" in text
    assert f"{bd['total_usd']:,.0f}" in text
    assert 'id="extra-workforce' in text


def test_cli_report_writes_file_and_rejects_missing_plan(tmp_path, plan_dir):
    """`bheard report DIR` exits 0 and writes report.html; a folder without a plan exits 2."""
    from bheard.cli import app

    runner = CliRunner()
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", str(plan_dir), "--output", str(out)])
    assert r.exit_code == 0, r.output
    assert out.exists() and out.stat().st_size > 10_000
    r = runner.invoke(app, ["report", str(tmp_path / "empty")])
    assert r.exit_code == 2
    assert "summary.json" in r.output


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (Debian package "
                    "`chromium`; .ci/run installs it)")
def test_report_renders_in_headless_chromium(tmp_path, plan_dir):
    """Chromium loads the file offline, its DOM has the map and charts, and a screenshot is kept."""
    html_path = write_report(plan_dir)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    url = html_path.resolve().as_uri()
    dom = subprocess.run([str(CHROMIUM), *flags, "--dump-dom", url], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<title>bheard plan: tiny</title>" in html
    assert re.search(r'<svg id="map"[^>]*class="map"', html)  # the map: inline SVG
    for img_id in ("chart-hour-of-week", "chart-borough-tour", "chart-cost",
                   "chart-frontier"):
        assert re.search(rf'<img id="{img_id}"[^>]*src="data:image/png;base64,', html), img_id
    assert 'class="report-error"' not in html and 'id="report-end"' in html
    assert "ERR_" not in dom.stderr  # no failed resource load (net::ERR_...)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report_tiny.png"
    r = subprocess.run([str(CHROMIUM), *flags, f"--screenshot={shot}", "--window-size=1400,2000",
                        url], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000  # a rendered page, not blank
