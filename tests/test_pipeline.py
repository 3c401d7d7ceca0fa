"""The pipeline end to end through the CLI: a saved plan folder reproduces exactly what was
solved (simulation and report from the folder equal those made in the solving run), and every
derived figure has one source (headcount in the CLI, summary.json and the report agree)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from bheard.cli import app
from helpers import SCENARIOS

RUNNER = CliRunner()

#: every shipped scenario; the citywide 24/7 ones take a few seconds each
SHIPPED = ["examples/tiny.yaml", "baseline_2024.yaml", "dcs_citywide.yaml",
           "dcs_citywide_isolated.yaml", "dcs_citywide_shared.yaml", "dcs_every_precinct.yaml",
           "dcs_staggered.yaml", "dcs_forecast_synthetic.yaml", "dcs_forecast_uncertain.yaml",
           "dcs_buildout.yaml", "examples/tiny_samples.yaml"]


def run(*args: str):
    r = RUNNER.invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r


def _report_body(text: str, folder) -> str:
    """The report without what legitimately differs between two runs (time of day, folder,
    seconds the solver took)."""
    text = re.sub(r"report written [0-9: -]+ from <code>[^<]*</code>", "", text)
    text = re.sub(r"<td>[0-9.]+ / [0-9.]+ / [0-9.]+</td>", "<td>seconds</td>", text)
    return text.replace(str(folder), "<folder>")


def test_every_shipped_scenario_is_covered_here():
    """The list above is every scenario file shipped (a new one must be added to it);
    ``calibration/`` holds the calibrated dispatch parameters the scenarios extend, not a
    scenario."""
    shipped = sorted(p.relative_to(SCENARIOS).as_posix() for p in SCENARIOS.rglob("*.yaml")
                     if p.parent.name != "calibration")
    assert sorted(SHIPPED) == shipped


#: the default run checks one scenario per formulation; CI's slow run checks the rest
FAST = {"examples/tiny.yaml", "dcs_citywide_shared.yaml", "dcs_staggered.yaml",
        "examples/tiny_samples.yaml"}


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow)
                                  for n in SHIPPED])
def test_saved_folder_reproduces_the_solving_run(tmp_path, name):
    """`solve S --simulate N --report --out A` and `solve S --out B; simulate B; report B` give
    the same simulation (same seed: identical served share, calls and response times) and the
    same report, for every shipped scenario, staggered starts included. (``--no-explain``:
    the binding-limit explanation re-solves under time limits, which are not bit-reproducible
    for the staggered model; tests/test_desk_views.py checks it.)"""
    scen = SCENARIOS / name
    a, b = tmp_path / "a", tmp_path / "b"
    run("solve", scen, "--out", a, "--simulate", "2", "--report", "--no-explain")
    run("solve", scen, "--out", b, "--no-explain")
    run("simulate", b, "-n", "2", "--out", b)
    run("report", b)
    sa = json.loads((a / "simulation.json").read_text())
    sb = json.loads((b / "simulation.json").read_text())
    for key in ("served_share", "served_share_operating_hours", "calls_per_replication",
                "response_median_min", "utilization"):
        assert sa["overall"][key] == sb["overall"][key], key
    assert sa["dispatch"] == sb["dispatch"]
    assert sa["predicted_share_operating_hours"] == pytest.approx(
        sb["predicted_share_operating_hours"], rel=1e-12)
    pa = json.loads((a / "summary.json").read_text())
    pb = json.loads((b / "summary.json").read_text())
    for key in ("status", "objective_covered_calls_per_year", "annual_cost_usd",
                "team_shifts_per_week", "columns"):
        assert pa[key] == pb[key], key
    assert _report_body((a / "report.html").read_text(), a) == \
        _report_body((b / "report.html").read_text(), b)


def test_simulating_a_folder_uses_the_plans_own_dispatch(tmp_path):
    """A saved shared-coverage plan simulates with the scenario's own dispatch (shared, within
    the response standard), not isolated precincts, with no --scenario flag."""
    out = tmp_path / "p"
    run("solve", SCENARIOS / "dcs_citywide_shared.yaml", "--out", out)
    r = run("simulate", out, "-n", "1")
    assert "dispatch shared" in r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["details"]["coverage_model"].startswith("local busy probabilities")


def test_staggered_plan_simulates_with_its_start_hours(tmp_path):
    """A staggered plan's columns carry each start's hour of week and shift length, and the
    simulation of the folder uses them (teams on duty in a simulated hour = the plan's)."""
    import bheard

    plan = bheard.solve(SCENARIOS / "dcs_staggered.yaml")
    plan.save(tmp_path / "s")
    back = bheard.Plan.load(tmp_path / "s")
    assert back.index.hours.tolist() == [8.0] * back.index.shape[1]
    starts = sorted({float(h) % 24 for h in back.index.start_hour_of_week})
    assert starts == sorted(float(int(x[:2])) for x in plan.staggered.starts)
    from bheard.simulate import setup_from_plan

    setup = setup_from_plan(back)
    assert (setup.teams == plan.teams).all()
    assert setup.slot_start_how.tolist() == plan.index.start_hour_of_week.tolist()


def test_headcount_is_the_same_in_cli_summary_and_report(tmp_path):
    """One headcount function: the FTE by role the CLI prints, summary.json's and the report's
    total row are the same numbers (shared DCS plan, bottom-up costs, 4-person crew)."""
    out = tmp_path / "h"
    r = run("solve", SCENARIOS / "dcs_citywide_shared.yaml", "--out", out, "--report")
    line = r.output.split("Headcount (FTE)")[1].splitlines()[0].replace(",", ";")
    printed = dict((role.strip().replace(" ", "_"), float(v.replace(";", ""))) for role, v in
                   re.findall(r"([a-z][a-z ]*?) ([\d;]+\.\d)", line))
    s = json.loads((out / "summary.json").read_text())
    fte = s["details"]["workforce"]["fte_by_role"]
    assert set(printed) == set(fte) and len(fte) >= 3
    for role, v in fte.items():
        assert printed[role] == pytest.approx(v, abs=0.05)
    total = [row for row in s["details"]["workforce"]["headcount"] if row["tour"] == "total"][0]
    for role, v in fte.items():
        assert total[f"{role}_fte"] == pytest.approx(v, rel=1e-12)
    html = (out / "report.html").read_text()
    table = html.split('id="headcount-table"')[1].split("</table>")[0]
    total_row = [tr for tr in table.split("<tr>") if ">total</td>" in tr][0]
    for role, v in fte.items():
        assert f"{v:,.1f}" in total_row, (role, v)


def test_previous_slot_matches_a_scan_of_every_slot():
    """ProblemData.previous_slot (a lookup by hour of the week) against the scan it replaced
    (every slot whose end meets the start, modulo the week; the first one), on the default
    scenario's 21 slots, on its slots stacked four times (demand samples) and on random
    layouts with tours that cross midnight and the end of the week."""
    from types import SimpleNamespace

    import numpy as np

    import bheard
    from bheard.problem import ProblemData, problem_from_scenario

    def layout(starts, hours):  # previous_slot reads the slots' starts and lengths only
        return SimpleNamespace(slot_start_how=np.asarray(starts), slot_hours=np.asarray(hours))

    def scan(prob):
        start = np.asarray(prob.slot_start_how, float)
        end = start + np.asarray(prob.slot_hours, float)
        out = -np.ones(len(start), dtype=np.int64)
        for s in range(len(start)):
            d = (start[s] - end) / 168.0
            hit = np.flatnonzero(np.abs(d - np.round(d)) < 1e-9)
            if hit.size:
                out[s] = int(hit[0])
        return out

    prob = problem_from_scenario(bheard.load_scenario("scenarios/dcs_citywide.yaml"))
    assert np.array_equal(prob.previous_slot(), scan(prob))
    assert (prob.previous_slot() >= 0).all()  # 24/7: every tour relieves another
    stacked = layout(np.tile(prob.slot_start_how, 4), np.tile(prob.slot_hours, 4))
    assert np.array_equal(ProblemData.previous_slot(stacked), scan(stacked))
    rng = np.random.default_rng(3)
    for _ in range(20):
        S = int(rng.integers(1, 30))
        starts = rng.choice(np.arange(0.0, 168.0, 0.5), size=S)
        hours = rng.choice([4.0, 8.0, 8.5, 10.0, 12.0], size=S)
        p = layout(starts, hours)
        assert np.array_equal(ProblemData.previous_slot(p), scan(p))
