"""Planner's desk (issue 12): the answer first, where, when, which limit binds, the frontier's
per-budget plans. Hand-computed small cases and invariants; calls/year, USD/year."""

from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO

import numpy as np
import pandas as pd
import pytest

import bheard
from bheard.optimize.explain import explain_limits
from helpers import SCENARIOS, run_cli, tiny_dict

BHEARD = [sys.executable, "-m", "bheard.cli"]
TINY = SCENARIOS / "examples" / "tiny.yaml"


def run(*args, cwd=None):
    """The command in process (``helpers.run_cli``)."""
    return run_cli(*args)


@pytest.fixture(scope="module")
def plan():
    return bheard.solve(tiny_dict(), budget_usd=3e6)


def test_teams_on_duty_by_tour_by_hand(plan):
    """Teams on duty in a tour = that tour's team-shifts of each day, summed over precincts:
    mean/min/max over the 7 days (hand count from the assignments)."""
    a = plan.assignments
    t = plan.teams_on_duty_by_tour().set_index("tour")
    for tour in ("day", "evening"):
        per_day = [int(a[(a["tour"] == tour) & (a["day"] == d)]["teams"].sum())
                   for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]
        assert t.loc[tour, "teams_on_duty_mean"] == pytest.approx(sum(per_day) / 7)
        assert t.loc[tour, "teams_on_duty_min"] == min(per_day)
        assert t.loc[tour, "teams_on_duty_max"] == max(per_day)
        assert t.loc[tour, "team_shifts_per_week"] == sum(per_day)
    assert list(t["start"]) == ["09:00", "17:00"] and list(t["hours"]) == [8.0, 8.0]
    assert plan.answer.teams_on_duty == pytest.approx(t["teams_on_duty_mean"].to_dict())


def test_by_precinct_columns_by_hand(plan):
    """Per precinct: calls and coverage sum its slots; teams on duty per tour = its
    team-shifts in the tour / 7; has_team; cost sums its slots."""
    bp = plan.by_precinct().set_index("precinct")
    a = plan.assignments
    for p, g in a.groupby("precinct"):
        row = bp.loc[p]
        assert row["eligible_calls"] == pytest.approx(g["eligible_calls"].sum())
        assert row["expected_covered_calls"] == pytest.approx(g["expected_covered_calls"].sum())
        assert row["coverage_share"] == pytest.approx(g["expected_covered_calls"].sum()
                                                      / g["eligible_calls"].sum())
        for tour in ("day", "evening"):
            assert row[f"teams_on_duty_{tour}"] == pytest.approx(
                g[g["tour"] == tour]["teams"].sum() / 7)
        assert row["has_team"] == (g["teams"].sum() > 0)
        assert row["annual_cost_usd"] == pytest.approx(g["annual_cost_usd"].sum())
    assert bp["annual_cost_usd"].sum() == pytest.approx(plan.annual_cost)


def test_answer_figures(plan):
    """Cost per covered call = team cost / covered calls; with the program's fixed cost for the
    total; precincts with and without a team partition the scenario's precincts."""
    a = plan.answer
    assert a.cost_per_covered_call_usd == pytest.approx(plan.annual_cost / plan.objective)
    assert a.total_cost_per_covered_call_usd == pytest.approx(
        plan.total_cost_usd_per_year / plan.objective)
    assert sorted(a.precincts_with_team + a.precincts_without_team) == [25, 28, 32]
    assert a.unspent_usd_per_year == pytest.approx(plan.budget - plan.annual_cost)
    s = plan.summary_table().set_index("metric")["value"]
    assert s["cost_per_covered_call"] == pytest.approx(a.cost_per_covered_call_usd)
    assert s["precincts_without_team"] == len(a.precincts_without_team)


def test_citywide_answer_first_screen():
    """The first screen of `bheard solve` leads with coverage, cost, cost per covered call,
    teams on duty per tour and precincts with/without a team; the binding limit follows;
    tables next; solver details last (the defect: status, bound and gap first)."""
    r = run("solve", SCENARIOS / "dcs_citywide.yaml")
    assert r.returncode == 0, r.stderr
    lines = [x.strip() for x in r.stdout.splitlines()]
    order = ["Coverage", "Cost", "Per covered call", "Teams on duty", "Precincts",
             "What limits it", "By borough", "By tour", "Solver:"]
    pos = [next(i for i, x in enumerate(lines) if x.startswith(k)) for k in order]
    assert pos == sorted(pos)
    plan = bheard.solve(SCENARIOS / "dcs_citywide.yaml")
    a = plan.answer
    text = r.stdout
    assert f"${a.cost_per_covered_call_usd:,.0f} of team cost" in text
    assert f"{len(a.precincts_with_team)} of 78 have a team" in text
    assert ", ".join(str(p) for p in a.precincts_without_team) in text
    tod = plan.teams_on_duty_by_tour()
    for r_ in tod.itertuples():
        assert f"{r_.tour} {r_.teams_on_duty_mean:.1f}" in text
    assert "The budget binds" in text and "more calls/year" in text


def test_limit_report_when_money_is_left_unspent():
    """At a budget far above what the caps allow (tiny: 3 precincts x 14 slots x 4 teams), the
    money is not all spent; the report says the budget does not bind and that the per-slot
    cap does, and what raising it buys equals an independent re-solve at k = 5."""
    plan = bheard.solve(tiny_dict(), budget_usd=1e9)
    rep = explain_limits(plan)
    assert not rep.budget_binds and rep.unspent_usd > 1e8
    eff = {e.limit: e for e in rep.effects}
    assert eff["budget.annual_usd"].extra_covered_calls == pytest.approx(0.0, abs=1e-6)
    cap = eff["limits.max_teams_per_slot"]
    assert cap.binds
    k5 = bheard.solve(tiny_dict(limits={"max_teams_per_slot": 5}), budget_usd=1e9)
    assert cap.extra_covered_calls == pytest.approx(k5.objective - plan.objective)
    assert cap.extra_cost_usd == pytest.approx(k5.annual_cost - plan.annual_cost)
    text = " ".join(rep.sentences())
    assert "does not bind" in text and "limits.max_teams_per_slot" in text


def test_limit_report_when_the_budget_binds():
    """A small budget is spent to within one team-shift-year; what $1M more buys equals an
    independent re-solve."""
    plan = bheard.solve(tiny_dict(), budget_usd=2e6)
    rep = explain_limits(plan)
    assert rep.budget_binds and rep.unspent_usd < rep.cheapest_team_shift_year_usd
    assert rep.cheapest_team_shift_year_usd == pytest.approx(2000 * 52)
    more = bheard.solve(tiny_dict(), budget_usd=3e6)
    b = [e for e in rep.effects if e.limit == "budget.annual_usd"][0]
    assert b.extra_covered_calls == pytest.approx(more.objective - plan.objective)
    assert "The budget binds" in rep.sentences()[0]


def test_limit_report_names_the_tour_cap():
    """A citywide per-tour cap of 2 teams stops the plan with money left: the report names
    limits.max_teams_per_tour and what one more team per tour buys (independent re-solve)."""
    d = tiny_dict(limits={"max_teams_per_slot": 4, "max_teams_per_tour": 2})
    plan = bheard.solve(d, budget_usd=1e8)
    rep = explain_limits(plan)
    eff = {e.limit: e for e in rep.effects}
    assert not rep.budget_binds and eff["limits.max_teams_per_tour"].binds
    d3 = tiny_dict(limits={"max_teams_per_slot": 4, "max_teams_per_tour": 3})
    assert eff["limits.max_teams_per_tour"].extra_covered_calls == pytest.approx(
        bheard.solve(d3, budget_usd=1e8).objective - plan.objective)


def test_limits_saved_and_loaded(tmp_path):
    plan = bheard.solve(tiny_dict(), budget_usd=1e9)
    plan.limits = explain_limits(plan)
    plan.save(tmp_path / "p")
    back = bheard.Plan.load(tmp_path / "p")
    assert back.limits.sentences() == plan.limits.sentences()


def test_cli_by_precinct_table_and_csv():
    """`--by precinct` prints one row per precinct; with --format csv the values are
    Plan.by_precinct's."""
    r = run("solve", TINY, "--by", "precinct", "--no-explain")
    assert r.returncode == 0, r.stderr
    assert "By precinct" in r.stdout
    assert len([x for x in r.stdout.splitlines() if re.match(r"^(25|28|32)\s", x)]) == 3
    r = run("solve", TINY, "--by", "precinct", "--format", "csv", "--no-explain")
    t = pd.read_csv(StringIO(r.stdout))
    bp = bheard.solve(TINY).by_precinct()
    assert list(t["precinct"]) == list(bp["precinct"])
    for c in ("eligible_calls", "coverage_share", "teams_on_duty_day", "annual_cost_usd"):
        assert t[c].to_numpy() == pytest.approx(bp[c].to_numpy())


def test_frontier_keeps_each_budgets_plan():
    """Frontier.plans holds each budget's (P, C) teams; the per-budget precinct and borough
    tables add up to the frontier's covered calls and team-shifts at that budget."""
    fr = bheard.frontier(tiny_dict(), "1e6,3e6,1e9")
    for b, teams, row in zip(fr.table["budget_usd"], fr.plans, fr.table.itertuples()):
        assert teams.shape == (3, 14) and int(teams.sum()) == row.team_shifts_per_week
        pr = fr.precincts[fr.precincts["budget_usd"] == b]
        br = fr.boroughs[fr.boroughs["budget_usd"] == b]
        assert pr["expected_covered_calls"].sum() == pytest.approx(row.covered_calls)
        assert br["team_shifts_per_week"].sum() == row.team_shifts_per_week
        assert pr.set_index("precinct")["team_shifts_per_week"].to_dict() == dict(
            zip([25, 28, 32], teams.sum(axis=1).tolist()))
    assert fr.limit_note and "limits.max_teams_per_slot" in " ".join(fr.limit_note)
    assert "$1,000,000,000" in fr.limit_note[0]


def test_report_leads_with_the_answer_and_formats_tables(tmp_path):
    """The report's first section is the answer (coverage, cost, cost per covered call, teams
    on duty, precincts); solver details come after the frontier, in the appendix; tables show
    readable headers (no snake_case) and one format per column (shares as %, no 0.5134 or
    2.939e-04); the map marks only staffed precincts and has a legend and borough outlines."""
    from bheard.report import write_report

    plan = bheard.solve(tiny_dict(), budget_usd=3e6)
    plan.limits = explain_limits(plan)
    plan.save(tmp_path / "p")
    bheard.frontier(tiny_dict(), "1e6,3e6,6e6").save(tmp_path / "p")
    html = write_report(tmp_path / "p").read_text()
    assert (tmp_path / "p" / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    i_answer, i_where = html.index('id="answer"'), html.index('id="where"')
    i_frontier, i_solver = html.index('id="frontier"'), html.index('id="solver"')
    assert i_answer < i_where < i_frontier < i_solver
    a = plan.answer
    head = html[i_answer:i_where]
    for text in (f"{100 * a.coverage_share:.1f}%", f"${a.cost_per_covered_call_usd:,.0f}",
                 f"{len(a.precincts_with_team)} of 3", "What limits it", "day ", "evening "):
        assert text in head, text
    for tid in ("precinct-table", "borough-table", "tour-table", "when-table",
                "frontier-table"):
        table = html.split(f'id="{tid}"')[1].split("</table>")[0]
        heads = re.findall(r"<th[^>]*>([^<]*)</th>", table)
        assert heads and not any("_" in h for h in heads), (tid, heads)
        cells = re.findall(r'<td class="num">([^<]*)</td>', table)
        assert not any(re.fullmatch(r"-?0\.\d{3,}", c) or "e-0" in c or "e+0" in c
                       for c in cells), (tid, cells)
    shares = re.findall(r'<td class="num">([^<]*)</td>',
                        html.split('id="borough-table"')[1].split("</table>")[0])
    assert f"{100 * plan.by_borough()['coverage_share'].iloc[0]:.1f}%" in shares
    svg = html.split('<svg id="map"')[1].split("</svg>")[0]
    bp = plan.by_precinct().set_index("precinct")
    for p, row in bp.iterrows():
        circle = re.search(rf'<circle id="map-c{p}"[^>]*>', svg)[0]
        assert ('visibility="hidden"' in circle) == (not row["has_team"])
        assert re.search(rf'<path id="map-p{p}"[^>]*><title>precinct {p} ', svg)
    assert "coverage of eligible calls" in svg and "no team" in svg
    assert svg.count("<title>Manhattan</title>") == 1  # borough outline
