"""The bheard CLI end to end, in a subprocess as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

from helpers import SCENARIOS

BHEARD = [str(Path(sys.executable).with_name("bheard"))]


def run(*args, cwd=None):
    return subprocess.run(BHEARD + list(args), capture_output=True, text=True, cwd=cwd, timeout=300)


def test_solve_shipped_scenario_writes_outputs(tmp_path):
    """`bheard solve scenarios/dcs_citywide.yaml --out DIR`: exit 0, summary printed, files."""
    r = run("solve", str(SCENARIOS / "dcs_citywide.yaml"), "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "status optimal" in r.stdout and "By borough" in r.stdout
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["status"] == "optimal" and s["annual_cost_usd"] <= 87_500_000
    assert (tmp_path / "out" / "plan.csv").read_text().count("\n") == 78 * 21 + 1


def test_budget_and_time_limit_flags(tmp_path):
    """--budget overrides the scenario's budget (USD/year)."""
    r = run("solve", str(SCENARIOS / "examples" / "tiny.yaml"), "--budget", "1000000",
            "--time-limit", "10", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["budget_usd"] == 1_000_000 and s["annual_cost_usd"] <= 1_000_000


def test_bad_scenario_exit_2_without_traceback(tmp_path):
    """A typo'd key: exit 2, message names file and field, no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text((SCENARIOS / "examples" / "tiny.yaml").read_text().replace(
        "service_time_hours", "service_time_hour") .replace("demand.csv", str(SCENARIOS / "examples" / "demand.csv")))
    r = run("solve", str(bad))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    assert "bad.yaml" in r.stderr and "teams.service_time_hour" in r.stderr
    r = run("validate", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run("solve", str(SCENARIOS / "examples" / "tiny.yaml"), "--budget", "-5")
    assert r.returncode == 2 and "--budget" in r.stderr


def test_infeasible_exit_1_with_diagnosis(tmp_path):
    """Minimum staffing the budget cannot pay for: exit 1 and the conflict is named."""
    f = tmp_path / "inf.yaml"
    f.write_text(f"extends: {SCENARIOS / 'dcs_every_precinct.yaml'}\nname: inf\n"
                 "budget: {annual_usd: 1000000}\n")
    r = run("solve", str(f))
    assert r.returncode == 1
    assert "budget.annual_usd" in r.stdout and "limits.min_teams_every_precinct" in r.stdout


def test_validate_and_version():
    """`bheard validate` reports the problem size; `bheard --version` prints the version."""
    r = run("validate", str(SCENARIOS / "baseline_2024.yaml"))
    assert r.returncode == 0 and "31 precincts x 14 slots" in r.stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip().startswith("bheard ")


def test_solve_with_simulation_check_and_report(tmp_path):
    """`solve --simulate 3 --report`: prints predicted vs simulated with reasons, writes
    simulation.json whose prediction equals the plan's coverage share, and report.html
    containing the comparison section."""
    out = tmp_path / "o"
    r = run("solve", str(SCENARIOS / "examples" / "tiny.yaml"), "--simulate", "3", "--report",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "simulation check (3 replications" in r.stdout and "Sampling (+/-)" in r.stdout
    sim = json.loads((out / "simulation.json").read_text())
    plan = json.loads((out / "summary.json").read_text())
    pvs = sim["predicted_vs_simulated"]
    assert abs(pvs["predicted"] - plan["coverage_share"]) < 1e-9
    assert pvs["ci95"][0] <= pvs["simulated"] <= pvs["ci95"][1]
    html = (out / "report.html").read_text()
    assert 'id="simulation-table"' in html and "Why the two differ" in html
    r = run("solve", str(SCENARIOS / "examples" / "tiny.yaml"), "--report")
    assert r.returncode == 2 and "--out" in r.stderr
