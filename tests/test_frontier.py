"""Budget frontier: grid parsing, brute-force optimality per budget, marginal column, outputs."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bheard.errors import InputError
from bheard.frontier import first_team_budgets, frontier, parse_budgets
from bheard.problem import problem_from_scenario
from bheard.scenario import load_scenario
from helpers import tiny_dict


def small_dict():
    """2 precincts x 2 slots (Mon/Tue day tour), up to 3 teams: 4^4 = 256 plans to enumerate."""
    d = tiny_dict(precincts=[25, 28], limits={"max_teams_per_slot": 3})
    d["shifts"] = {"tours": [{"name": "day", "start": "09:00", "hours": 8}],
                   "days": ["Mon", "Tue"]}
    d["teams"] = {"service_time_hours": 1.75, "cost_per_team_shift_usd": 2000}
    return d


def brute_force_best(prob, budget):
    """Max coverage (calls/year) over every integer plan within budget and bounds, each plan
    at its own carried-over load (models/dispatch.md)."""
    P, S = prob.shape
    best = -1.0
    for combo in itertools.product(range(prob.kmax + 1), repeat=P * S):
        teams = np.array(combo).reshape(P, S)
        if (teams > prob.max_teams).any() or (teams < prob.min_teams).any():
            continue
        if prob.annual_cost(teams) > budget * (1 + 1e-12):
            continue
        own = dataclasses.replace(prob, carry_share=prob.carry_share_of(teams))
        best = max(best, float(own.coverage(teams).sum()))
    return best


def test_parse_budgets_range_and_list():
    """50e6:1.1e9:25 is numpy.linspace(50e6, 1.1e9, 25): step (1.1e9 - 50e6) / 24 = 43.75e6."""
    b = parse_budgets("50e6:1.1e9:25")
    assert len(b) == 25 and b[0] == 50e6 and b[-1] == 1.1e9
    assert b[1] - b[0] == pytest.approx(43.75e6)
    assert list(parse_budgets("3e6, 1e6,2_000_000")) == [1e6, 2e6, 3e6]  # sorted, unique


@pytest.mark.parametrize("spec", ["1e6:x", "5e6:1e6:3", "1e6:2e6:1", "-1e6,2e6", "", "a,b",
                                  "1e6:2e6:2:4"])
def test_parse_budgets_rejects_bad_syntax_naming_the_option(spec):
    """Bad grids raise InputError whose message names --budgets."""
    with pytest.raises(InputError) as ei:
        parse_budgets(spec)
    assert "--budgets" in ei.value.format()


def test_frontier_points_match_brute_force():
    """Each point's coverage equals the enumerated optimum (256 plans) within the 1e-4 gap."""
    sc = load_scenario(small_dict())
    prob = problem_from_scenario(sc)
    budgets = [0.0, 104_000, 208_000, 312_000, 520_000, 1_300_000]  # 0..12 team-slots x $104k
    fr = frontier(sc, budgets)
    assert list(fr.table["budget_usd"]) == budgets
    for r in fr.table.itertuples(index=False):
        pb = dataclasses.replace(prob, team_budget_usd_per_year=r.budget_usd)
        best = brute_force_best(pb, r.budget_usd)
        assert r.covered_calls == pytest.approx(best, rel=1.0001e-4, abs=1e-9)
        assert r.bound >= best - 1e-6 * max(best, 1)  # a valid upper bound
        assert r.annual_cost_usd <= r.budget_usd + 1e-6
    # budget 0 staffs nothing; 12 team-slots ($1.248M) fit at $1.3M: everything staffed
    assert fr.table["team_shifts_per_week"].iloc[0] == 0
    assert fr.table["team_shifts_per_week"].iloc[-1] == 12


def test_marginal_calls_per_million_is_difference_quotient():
    """marginal[i] = (covered[i] - covered[i-1]) / ((budget[i] - budget[i-1]) / 1e6); first empty."""
    fr = frontier(small_dict(), "104000:520000:5")
    t = fr.table
    assert np.isnan(t["marginal_calls_per_million_usd"].iloc[0])
    for i in range(1, len(t)):
        expected = ((t["covered_calls"].iloc[i] - t["covered_calls"].iloc[i - 1])
                    / ((t["budget_usd"].iloc[i] - t["budget_usd"].iloc[i - 1]) / 1e6))
        assert t["marginal_calls_per_million_usd"].iloc[i] == pytest.approx(expected)
    # concave-ish: more money never covers fewer calls
    assert (np.diff(t["covered_calls"]) >= -1e-6).all()
    assert t["coverage_share"].iloc[-1] == pytest.approx(
        t["covered_calls"].iloc[-1] / fr.eligible_calls)


def test_first_team_budget_reads_plans_in_budget_order():
    """Hand-made plans: precinct 0 staffed from the 2nd budget, precinct 1 never, 2 from the 1st."""
    plans = [np.array([[0], [0], [1]]), None, np.array([[2], [0], [0]]),
             np.array([[1], [0], [1]])]
    df = first_team_budgets(np.array([1, 5, 7]), np.array(["M", "M", "M"]),
                            np.array([10.0, 15.0, 20.0, 30.0]), plans)
    assert df["first_budget_usd"].iloc[0] == 20.0
    assert np.isnan(df["first_budget_usd"].iloc[1])
    assert df["first_budget_usd"].iloc[2] == 10.0


def test_frontier_infeasible_budget_reported_not_raised():
    """A minimum of 1 team in precinct 25 (2 slots x $104k) cannot fit in $100k: infeasible row."""
    d = small_dict()
    d["limits"] = {"max_teams_per_slot": 3, "min_teams": {25: 1}}
    fr = frontier(d, [100_000, 416_000])
    assert list(fr.table["status"])[0] == "infeasible"
    assert np.isnan(fr.table["covered_calls"].iloc[0])
    assert fr.table["status"].iloc[1] == "optimal"
    ft = fr.first_team.set_index("precinct")["first_budget_usd"]
    assert ft[25] == 416_000  # the first feasible budget staffs the forced precinct


def test_save_writes_three_files(tmp_path):
    """frontier.csv has the documented columns; frontier.png is a PNG; first_team one row per precinct."""
    fr = frontier(small_dict(), "104000:416000:4")
    fr.save(tmp_path)
    t = pd.read_csv(tmp_path / "frontier.csv")
    for col in ("budget_usd", "covered_calls", "coverage_share", "bound", "gap", "status",
                "team_shifts_per_week", "marginal_calls_per_million_usd"):
        assert col in t.columns
    assert len(t) == 4
    assert (tmp_path / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ft = pd.read_csv(tmp_path / "first_team_budget.csv")
    assert sorted(ft["precinct"]) == [25, 28]
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


def test_reusing_increments_gives_the_same_plan():
    """solve_problem(increments=precomputed, start_teams=smaller plan) = a cold solve_problem."""
    from bheard.model.isolated import make_increments
    from bheard.optimize.incremental import solve_problem
    from bheard.scenario import SolverOptions as SolveOptions

    prob = problem_from_scenario(load_scenario(small_dict()))
    inc = make_increments(prob)
    small = solve_problem(dataclasses.replace(prob, team_budget_usd_per_year=208_000))
    for b in (312_000, 520_000):
        pb = dataclasses.replace(prob, team_budget_usd_per_year=b)
        cold = solve_problem(pb, SolveOptions())
        warm = solve_problem(pb, SolveOptions(), increments=inc, start_teams=small.teams)
        assert warm.objective == pytest.approx(cold.objective, rel=1e-4)
    # a start plan that breaks the budget is ignored (greedy incumbent used instead)
    big = np.full(prob.shape, 3)
    res = solve_problem(dataclasses.replace(prob, team_budget_usd_per_year=104_000),
                        increments=inc, start_teams=big)
    assert res.teams.sum() == 1


def test_cli_frontier_and_bad_budgets(tmp_path):
    """`bheard frontier` writes the three files; a bad --budgets exits 2 naming the option."""
    import yaml

    from bheard.cli import app

    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(small_dict()))
    runner = CliRunner()
    r = runner.invoke(app, ["frontier", str(f), "--budgets", "104000,208000", "--out",
                            str(tmp_path / "fr")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "fr" / "frontier.csv").exists()
    r = runner.invoke(app, ["frontier", str(f), "--budgets", "1:2"])
    assert r.exit_code == 2
    assert "--budgets" in r.output


def test_shared_mode_frontier_uses_the_shared_model():
    """A shared-mode scenario's frontier equals full shared solves at each budget (not the
    isolated model): coverage per point matches bheard.solve, and exceeds the isolated one."""
    import bheard

    d = small_dict()
    d["coverage"] = {"mode": "shared", "response_standard_min": 20}
    budgets = [2e5, 4e5, 8e5]
    fr = frontier(d, budgets)
    for b, got in zip(budgets, fr.table["covered_calls"]):
        assert got == pytest.approx(bheard.solve(d, budget_usd=b).objective, rel=1e-9)
    iso = frontier(small_dict(), budgets)
    assert (fr.table["covered_calls"].to_numpy() >= iso.table["covered_calls"].to_numpy() - 1e-6).all()
    assert fr.first_team["first_budget_usd"].notna().any()
