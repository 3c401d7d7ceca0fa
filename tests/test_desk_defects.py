"""Regression tests for the defects listed in issue 12 ("Planner's desk"); each fails on the
code before its fix. Figures: calls/year, calls/hour, USD/year."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bheard
from bheard.cli import app
from helpers import REPO, SCENARIOS, tiny_dict

BHEARD = [sys.executable, "-m", "bheard.cli"]
TINY = SCENARIOS / "examples" / "tiny.yaml"
SAMPLE = REPO / "data" / "synthetic" / "ems_mh_synthetic_2024q1.csv.gz"


def run(*args, cwd=None, **kw):
    return subprocess.run(BHEARD + [str(a) for a in args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, **kw)


# ---- forecast ----------------------------------------------------------------------------
def test_forecast_summary_gives_calls_per_hour_not_per_week(precinct_table):
    """The summary's citywide rate is the mean hour: the table has one rate per (precinct,
    hour of week), so calls/week = their sum and calls/hour = sum / 168 (the defect printed
    the sum as calls/hour, 168x too high)."""
    from bheard.demand import forecast_calls

    res = forecast_calls(SAMPLE, "2024-04-01", 1, precincts=precinct_table)
    week = float(res.table["calls_per_hour"].sum())
    assert res.citywide_calls_per_hour == pytest.approx(week / 168)
    text = res.summary()
    assert f"{week / 168:,.2f} eligible calls/hour citywide" in text
    assert f"({week:,.0f} calls/week)" in text
    # about 7 eligible calls an hour citywide (175k MH calls/yr x 0.385 / 8766 h)
    assert 5 < res.citywide_calls_per_hour < 10


def test_forecast_backtest_fits_the_shipped_13_weeks(tmp_path):
    """`bheard forecast SAMPLE --backtest` on the only shipped history (13 full weeks) runs
    the one origin that fits (8 training + 4 scored weeks) and exits 0; asking for more origins
    than fit is refused BEFORE anything is written (the defect failed after writing)."""
    out = tmp_path / "f.csv"
    r = run("forecast", SAMPLE, "--out", out, "--backtest")
    assert r.returncode == 0, r.stderr
    assert "1 origin(s)" in r.stdout and out.exists()
    bt = json.loads((tmp_path / "f.backtest.json").read_text())
    assert len(bt["origins"]) == 1
    out2 = tmp_path / "g.csv"
    r = run("forecast", SAMPLE, "--out", out2, "--backtest", "--origins", "3")
    assert r.returncode == 2
    assert "20 full weeks" in r.stderr and "13 full weeks" in r.stderr
    assert not out2.exists() and not (tmp_path / "g.backtest.json").exists()


# ---- simulate ----------------------------------------------------------------------------
def test_simulation_tables_are_per_replication():
    """By-tour/precinct/hour tables give calls per replication: their total equals the mean
    calls of the replications (the defect summed the replications: 4x here)."""
    plan = bheard.solve(tiny_dict())
    r = bheard.simulate(plan, replications=4, seed=3)
    mean_calls = float(r.per_replication["calls"].mean())
    for table in (r.by_tour, r.by_precinct, r.by_hour):
        assert float(table["calls"].sum()) == pytest.approx(mean_calls)
        served = float(table["served"].sum())
        assert served == pytest.approx(float(r.per_replication["served"].mean()))
    one = bheard.simulate(plan, replications=1, seed=3)
    assert float(one.by_tour["calls"].sum()) == float(one.per_replication["calls"].iloc[0])


def test_cli_simulate_by_tour_matches_calls_per_replication(tmp_path):
    """The CLI's "By tour" table sums to the printed eligible calls/replication."""
    plan = bheard.solve(tiny_dict())
    plan.save(tmp_path / "p")
    res = CliRunner().invoke(app, ["simulate", str(tmp_path / "p"), "-n", "3",
                                   "--out", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    per_rep = float(re.search(r"eligible calls/replication: ([\d,]+)", res.output)[1]
                    .replace(",", ""))
    by_precinct = pd.read_csv(tmp_path / "p" / "simulation_by_precinct.csv")
    assert float(by_precinct["calls"].sum()) == pytest.approx(per_rep, abs=0.5)


def test_simulated_response_time_varies_under_pooled_dispatch():
    """Under pooled dispatch teams come from other precincts, so response times spread:
    p90 > median (the defect: median = p90 = 14.0 min)."""
    plan = bheard.solve(SCENARIOS / "dcs_citywide.yaml")
    r = bheard.simulate(plan, replications=1, seed=0, dispatch="pooled")
    med, p90 = r.overall["response_median_min"][0], r.overall["response_p90_min"][0]
    assert p90 > med + 0.5


# ---- batch -------------------------------------------------------------------------------
def _copy_tiny(folder: Path, name: str, budget: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCENARIOS / "examples" / "demand.csv", folder / "demand.csv")
    text = TINY.read_text().replace("name: tiny", f"name: {name}").replace(
        "annual_usd: 5000000", f"annual_usd: {budget:.0f}")
    (folder / f"{name}.yaml").write_text(text)
    return folder / f"{name}.yaml"


def test_unguarded_script_runs_a_parallel_batch(tmp_path):
    """A script with no `if __name__ == "__main__":` guard (as the README's snippet is, saved
    as a file) solves, then runs a 2-worker batch: the workers do not re-run the script, so
    both scenarios are solved (the defect: every one "failed ... BrokenProcessPool")."""
    a = _copy_tiny(tmp_path / "sc", "tiny_a", 4e6)
    b = _copy_tiny(tmp_path / "sc", "tiny_b", 6e6)
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        import bheard
        plan = bheard.solve({str(a)!r})
        print("solved once", plan.status)
        res = bheard.batch([{str(a)!r}, {str(b)!r}], {str(tmp_path / 'out')!r}, workers=2)
        print(res.summary[["scenario", "run", "status"]].to_csv(index=False))
    """))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("solved once") == 1  # the workers never ran the script
    s = pd.read_csv(tmp_path / "out" / "batch_summary.csv")
    assert sorted(s["run"]) == ["solved", "solved"] and set(s["status"]) == {"optimal"}


def test_batch_where_every_scenario_fails_raises(tmp_path):
    """A batch in which nothing could run raises BatchError (so a script exits non-zero),
    after writing its summary; the CLI still reports it with exit 1."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.yaml").write_text("name: a\nprecincts: [25]\nbudget: {annual_usd: -1}\n")
    (bad / "b.yaml").write_text("name: b\nnot_a_field: 1\n")
    with pytest.raises(bheard.BatchError) as info:
        bheard.batch([bad], tmp_path / "out", workers=1)
    assert "all 2 scenarios" in str(info.value)
    assert len(info.value.result.summary) == 2
    assert (tmp_path / "out" / "batch_summary.csv").exists()
    res = CliRunner().invoke(app, ["batch", str(bad), "--out", str(tmp_path / "out2"),
                                   "--workers", "1", "--no-progress"])
    assert res.exit_code == 1


def test_unreachable_dask_is_one_message_without_connecting(tmp_path, monkeypatch):
    """`--dask tcp://HOST:PORT` with a host that does not resolve, or a port that refuses, is
    refused by a plain TCP probe (exit 2, one message naming the address), before Dask's
    client (which retried for 30 s and printed a long traceback) is created."""
    import socket

    import distributed

    made = []
    monkeypatch.setattr(distributed, "Client", lambda *a, **k: made.append(a))
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for address, why in (("tcp://no-such-host.invalid:9999", "does not resolve"),
                         (f"tcp://127.0.0.1:{port}", "refused")):
        res = CliRunner().invoke(app, ["batch", str(TINY), "--out", str(tmp_path / "o"),
                                       "--dask", address])
        assert res.exit_code == 2, res.output
        assert address in res.output and why in res.output.lower()
        assert "Traceback" not in res.output
    assert made == [] and not (tmp_path / "o").exists()


# ---- outputs in the current folder ---------------------------------------------------------
def test_ingest_and_travel_times_write_nothing_into_the_current_folder(tmp_path):
    """Without --report / --out, `bheard ingest` prints its table and `bheard data
    travel-times` prints its CSV: neither writes a file into the current folder."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    r = run("ingest", SAMPLE, cwd=cwd)
    assert r.returncode == 0, r.stderr
    r2 = run("data", "travel-times", cwd=cwd)
    assert r2.returncode == 0, r2.stderr
    assert list(cwd.iterdir()) == []
    from io import StringIO

    tt = pd.read_csv(StringIO(r2.stdout))
    assert list(tt.columns) == ["origin", "destination", "tour", "minutes"]
    assert len(tt) == 78 * 78 * 3


# ---- CLI manners -------------------------------------------------------------------------
def test_closed_pipe_keeps_the_commands_exit_code(tmp_path):
    """`bheard solve ... | head` exits with the solve's code (0), not click's 1 ("infeasible"),
    and still writes its files: the reader closes the pipe before anything is printed."""
    out = tmp_path / "o"
    p = subprocess.Popen(BHEARD + ["solve", str(TINY), "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    p.stdout.close()  # like `head` exiting at once
    err = p.stderr.read().decode()
    assert p.wait(timeout=300) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert (out / "summary.json").exists()
    # an infeasible scenario keeps its 1
    d = tiny_dict(budget={"annual_usd": 1000},
                  limits={"max_teams_per_slot": 4, "min_teams": {25: 1}})
    (tmp_path / "inf.yaml").write_text(json.dumps(d))
    p = subprocess.Popen(BHEARD + ["solve", str(tmp_path / "inf.yaml")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    p.stderr.read()
    assert p.wait(timeout=300) == 1


def test_piped_output_does_not_wrap_or_cut_numbers():
    """Piped, `bheard solve` prints plain text at natural width: long lines stay whole (rich
    wrapped at 80 columns, cutting numbers and words in two) and no box drawing."""
    r = run("solve", SCENARIOS / "dcs_citywide.yaml")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(x) for x in lines) > 100
    cov = [x for x in lines if x.strip().startswith("Coverage")][0]
    assert re.search(r"\d+\.\d% of eligible calls: [\d,]+ of [\d,]+ calls/year$", cov)
    assert not any(ch in r.stdout for ch in "┏━┃│└")
    # every borough row is one line: name then 7 numbers
    for borough in ("Bronx", "Staten Island"):
        row = [x for x in lines if x.startswith(borough)][0]
        assert len(re.findall(r"[\d$,.%]+", row[len(borough):])) == 7, row


def test_format_option_plain_csv_and_bad_value(tmp_path):
    """--format csv prints one parseable table (raw values); an unknown format is exit 2."""
    r = run("solve", TINY, "--format", "csv", "--by", "borough")
    assert r.returncode == 0, r.stderr
    from io import StringIO

    t = pd.read_csv(StringIO(r.stdout))
    plan = bheard.solve(TINY)
    b = plan.by_borough()
    assert t["coverage_share"].to_numpy() == pytest.approx(b["coverage_share"].to_numpy())
    assert r2_exit(["solve", str(TINY), "--format", "fancy"]) == 2


def r2_exit(args) -> int:
    return CliRunner().invoke(app, args).exit_code


def test_version_and_help_import_no_heavy_module():
    """`bheard --version` and `--help` load none of numpy, pandas, Pyomo, HiGHS, SciPy,
    matplotlib, geopandas, Dask or openpyxl (what made start-up take 3 s); not timed."""
    heavy = ("numpy", "pandas", "pyomo", "highspy", "scipy", "matplotlib", "geopandas",
             "shapely", "distributed", "dask", "openpyxl", "selenium")
    for flag in ("--version", "--help"):
        code = textwrap.dedent(f"""
            import sys
            sys.argv = ["bheard", "{flag}"]
            import bheard.cli
            try:
                bheard.cli.main()
            except SystemExit:
                pass
            print("LOADED", sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))
        """)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120)
        assert "LOADED []" in r.stdout, (flag, r.stdout[-500:], r.stderr[-500:])


def test_solve_and_frontier_format_numbers_alike(tmp_path):
    """One number format: covered calls and coverage of the same plan read the same in
    `solve` and in `frontier` (the defect: 6531 in one, 6,531 in the other)."""
    plan = bheard.solve(tiny_dict(), budget_usd=4e6)
    s = run("solve", TINY, "--budget", "4e6")
    f = run("frontier", TINY, "--budgets", "4e6,5e6", "--out", tmp_path / "fr")
    assert s.returncode == 0 and f.returncode == 0, s.stderr + f.stderr
    calls = f"{plan.objective:,.0f}"
    share = f"{100 * plan.coverage_share:.1f}%"
    assert "," in calls
    for out in (s.stdout, f.stdout):
        assert calls in out and share in out


# ---- unexplained unspent money ------------------------------------------------------------
def test_cli_says_why_money_is_left_at_1_1_billion():
    """`bheard solve dcs_citywide --budget 1.1e9` leaves money unspent; the answer says the
    budget does not bind, names the per-slot cap and what raising it would buy (the defect:
    it spent $852M and stopped without a word)."""
    r = run("solve", SCENARIOS / "dcs_citywide.yaml", "--budget", "1.1e9")
    assert r.returncode == 0, r.stderr
    limit = " ".join(x for x in r.stdout.splitlines() if "bind" in x or "unspent" in x)
    assert "the budget does not bind" in limit
    assert "limits.max_teams_per_slot = 4 binds" in limit and "raising it to 5" in limit


def test_baseline_unspent_budget_is_explained_by_the_tour_cap():
    """Today's pilot (at most 9 teams per tour, S-teams-2024) does not spend its team budget:
    the explanation names limits.max_teams_per_tour, and one more team per tour buys
    coverage (a re-solve)."""
    from bheard.optimize.explain import explain_limits

    plan = bheard.solve(SCENARIOS / "baseline_2024.yaml")
    rep = explain_limits(plan)
    assert not rep.budget_binds and rep.unspent_usd > 1e6
    eff = {e.limit: e for e in rep.effects}
    assert eff["limits.max_teams_per_tour"].binds
    assert eff["limits.max_teams_per_tour"].extra_covered_calls > 0
    assert eff["budget.annual_usd"].extra_covered_calls == pytest.approx(0.0, abs=0.5)
