"""Equity floors, their diagnosis and the coverage distribution (bheard.equity)."""

from __future__ import annotations

import numpy as np
import pytest

import bheard
from bheard.model.equity import gini, share_distribution
from bheard.optimize.fixed_point import diagnose_floors
from bheard.model.equity import Floors
from bheard.model.base import preferences
from bheard.model.hypercube import frozen_gains
from bheard.optimize.fixed_point import solve_shared
from helpers import shared_settings as SharedSettings
from bheard.scenario import SolverOptions as SolveOptions
from helpers import tiny_dict
from helpers import make_shared as make

OPTS = SolveOptions(time_limit_s=30, mip_rel_gap=1e-9)
Q = SharedSettings(busy_probability=0.5)


def test_gini_known_values():
    """Gini: equal shares 0; one of n holds everything (n-1)/n = 2/3 for n = 3."""
    assert gini(np.array([0.4, 0.4, 0.4])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 1.0])) == pytest.approx(2 / 3)
    d = share_distribution(np.array([1.0, 2.0, 0.0]), np.array([2.0, 4.0, 0.0]))
    assert d["min"] == d["median"] == d["max"] == 0.5


def _floors(pmin=None, bidx=None, bmin=None, names=()):
    labels = {}
    if pmin is not None:
        labels["precinct"] = "equity.min_precinct_share = 0.4"
    if bmin is not None:
        labels["borough"] = "equity.min_borough_share = 0.4"
    return Floors(precinct_min=None if pmin is None else np.asarray(pmin, float),
                  borough_index=None if bidx is None else np.asarray(bidx),
                  borough_min=None if bmin is None else np.asarray(bmin, float),
                  borough_names=names, labels=labels)


def test_precinct_floor_binds_with_hand_checked_optimum():
    """E = (100, 30) calls, money for 2 teams, q = 0.5 (an equivalent load of 1 Erlang per
    precinct: one team covers 1 - B(1, 1) = 0.5, two 1 - B(2, 1) = 0.8), own teams only. Free:
    both teams in A, 80. Floor 40% (A >= 40, B >= 12): one team each, 50 + 15 = 65."""
    prob = make([[100.0], [30.0]], np.eye(2, dtype=bool), 2000.0)
    free = solve_shared(prob, OPTS, Q)
    assert free.teams.ravel().tolist() == [2, 0] and free.objective == pytest.approx(80.0)
    res = solve_shared(prob, OPTS, Q, _floors(pmin=[40.0, 12.0]))
    assert res.status == "optimal"
    assert res.teams.ravel().tolist() == [1, 1]
    assert res.objective == pytest.approx(65.0)


def test_borough_floor_binds_with_hand_checked_optimum():
    """Precincts A, B in borough 0 (E 100, 60), C alone in borough 1 (E 20); two teams, own
    teams only, q = 0.5. Free: A and B (50 + 30 = 80). Borough floor 30% (A+B >= 48, C >= 6):
    A and C, 50 + 10 = 60."""
    prob = make([[100.0], [60.0], [20.0]], np.eye(3, dtype=bool), 2000.0, max_teams=1)
    free = solve_shared(prob, OPTS, Q)
    assert free.objective == pytest.approx(80.0)
    fl = _floors(bidx=[0, 0, 1], bmin=[48.0, 6.0], names=("X", "Y"))
    res = solve_shared(prob, OPTS, Q, fl)
    assert res.teams.ravel().tolist() == [1, 0, 1]
    assert res.objective == pytest.approx(60.0)


def test_floor_above_budget_is_diagnosed_with_both_fields():
    """Floor 40% on E = (100, 30) with money for one team: the LP needs 40/50 + 12/15 = 1.6
    teams = $1,600 > $1,000 (whole teams: 2); the diagnosis names floor and budget."""
    prob = make([[100.0], [30.0]], np.eye(2, dtype=bool), 1000.0)
    res = solve_shared(prob, OPTS, Q, _floors(pmin=[40.0, 12.0]))
    assert res.status == "infeasible"
    text = " ".join(res.diagnosis)
    assert "equity.min_precinct_share" in text and "budget.annual_usd" in text
    assert "$1,600" in text


def test_floor_above_full_staffing_names_the_staffing_limit():
    """One team max per precinct at q = 0.5 covers 50%: a 60% floor is out of reach whatever
    the budget; the diagnosis names the precinct and limits.max_teams_per_slot."""
    prob = make([[100.0], [30.0]], np.eye(2, dtype=bool), 1e9, max_teams=1)
    G = frozen_gains(prob, preferences(prob.reach, None, 0.5), np.ones((2, 1)))  # q = 0.5
    fl = _floors(pmin=[60.0, 18.0])
    d = diagnose_floors(prob, G, prob.reach, fl)
    assert "precinct 1" in d[0] and "limits.max_teams_per_slot" in d[0]
    res = solve_shared(prob, OPTS, Q, fl)
    assert res.status == "infeasible" and "at most 50" in res.diagnosis[0]


def test_scenario_floor_reports_distribution_and_price():
    """tiny scenario (isolated, Erlang loss) at $6M: the free plan's worst precinct (25th) has
    52.9%; a 56% floor binds, every precinct meets it, and the plan reports min/median/max/Gini
    and the covered calls the floor cost (measured 7.27 calls/year)."""
    d = dict(budget={"annual_usd": 6_000_000})
    free = bheard.solve(tiny_dict(**d))
    assert free.by_precinct()["coverage_share"].min() < 0.56
    plan = bheard.solve(tiny_dict(equity={"min_precinct_share": 0.56}, **d))
    assert plan.status == "optimal"
    got = plan.by_precinct()["coverage_share"]
    assert (got >= 0.56 - 1e-9).all()
    dist = plan.precinct_shares
    assert dist.min == pytest.approx(got.min())
    assert dist.gini == pytest.approx(gini(got.to_numpy()))
    ec = plan.equity_cost
    assert ec.floors_bind
    # the free plan is priced at the floors plan's carried-over load (models/dispatch.md); its
    # own differs by less than the fixed point's tolerance (coverage.tolerance, 1%)
    assert ec.covered_without_floors == pytest.approx(free.objective, rel=0.01)
    assert ec.coverage_lost_to_floors == pytest.approx(
        ec.covered_without_floors - ec.covered_with_floors)
    # priced at the carried-over load the plan was solved with; its own is within 1%
    assert ec.covered_with_floors == pytest.approx(plan.objective, rel=0.01)
    assert ec.coverage_lost_to_floors == pytest.approx(7.27, abs=0.5)


def test_scenario_infeasible_floor_gets_named_diagnosis():
    """tiny with a 90% floor and a $1M budget: status infeasible, diagnosis names
    equity.min_precinct_share and budget.annual_usd (not a solver dump)."""
    plan = bheard.solve(tiny_dict(equity={"min_precinct_share": 0.9},
                                  budget={"annual_usd": 1_000_000}))
    assert plan.status == "infeasible"
    text = " ".join(plan.diagnosis)
    assert "equity.min_precinct_share" in text
    assert "budget.annual_usd" in text or "limits.max_teams_per_slot" in text


def test_max_ratio_binds_and_can_leave_money_unspent():
    """E = (100, 30), money for 3 teams, own teams only, q = 0.5 (1 Erlang: one team covers
    0.5, two 0.8). Free: A, A, B = 80 + 15 = 95 (shares 0.8 / 0.5, ratio 1.6). Ratio cap 1.2:
    A+A+B and A+B+B both have ratio 1.6, A+A+B+B is over budget, so the optimum is A + B = 65
    (shares 0.5 / 0.5), one team unused."""
    prob = make([[100.0], [30.0]], np.eye(2, dtype=bool), 3000.0)
    free = solve_shared(prob, OPTS, Q)
    assert free.objective == pytest.approx(95.0)
    fl = Floors(labels={"ratio": "equity.max_ratio = 1.2"}, max_ratio=1.2,
                eligible=np.array([100.0, 30.0]))
    res = solve_shared(prob, OPTS, Q, fl)
    assert res.status == "optimal"
    assert res.teams.ravel().tolist() == [1, 1]
    assert res.objective == pytest.approx(65.0)


def test_max_ratio_in_scenario_is_met_by_the_plan():
    """tiny scenario at $6M with equity.max_ratio 1.05: best / worst precinct share <= 1.05
    in the returned plan (the free plan has 0.5722 / 0.5073 = 1.13)."""
    plan = bheard.solve(tiny_dict(equity={"max_ratio": 1.05}, budget={"annual_usd": 6_000_000}))
    assert plan.feasible
    s = plan.by_precinct()["coverage_share"]
    assert s.max() <= 1.05 * s.min() * (1 + 1e-6)
    assert plan.equity_cost.floors_bind


def test_cli_infeasible_floor_exits_1_with_named_conflict(tmp_path):
    """`bheard solve` on a scenario whose floor the budget cannot pay: exit code 1 and the
    diagnosis naming equity.min_precinct_share, no traceback."""
    import yaml
    from typer.testing import CliRunner

    from bheard.cli import app

    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(tiny_dict(equity={"min_precinct_share": 0.9},
                                          budget={"annual_usd": 1_000_000})))
    res = CliRunner().invoke(app, ["solve", str(f)])
    assert res.exit_code == 1
    assert "equity.min_precinct_share" in res.output
    assert "Traceback" not in res.output
