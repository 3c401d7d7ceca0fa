"""Simulate a plan call by call (``models/simulation.md``): the engine is
:mod:`bheard.simulate.engine`; this module builds its setup from a :class:`~bheard.plan.Plan`.

A Plan carries its teams, their column index (start hour of week, shift length) and the
resolved scenario, so a saved plan folder simulates exactly what was solved, staggered starts
included, with the scenario's dispatch rule (``simulation.dispatch``, default
``coverage.mode``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.data import precincts as precinct_table
from bheard.dispatch import dispatch_model
from bheard.errors import InputError
from bheard.limits import max_sim_calls
from bheard.geography import read_travel_times, tour_speed_factor, travel_time_matrix
from bheard.optimize import formulation_for, solve
from bheard.plan import Plan, PlanIndex
from bheard.problem.slots import scaled_hourly_rates, select_precincts, slot_rates_to_hourly
from bheard.scenario import Scenario, load_scenario
from bheard.simulate.engine import (
    OUTCOMES,
    SimResult,
    SimSetup,
    explain_difference,
    predicted_vs_simulated,
    simulate_arrays,
)

DISPATCH_MODES = ("isolated", "pooled", "shared")


def column_travel_minutes(scenario: Scenario, index: PlanIndex) -> np.ndarray:
    """(C, P, P) travel minutes from base j to call precinct i (``[c, j, i]``) for each plan
    column, from :mod:`bheard.geography` (the OD file's rows for the column's tour, or the
    formula with the column's speed factor)."""
    g = scenario.geography
    sel = select_precincts(precinct_table(), tuple(int(p) for p in index.precinct))
    cache: dict = {}
    out = []
    for lab, start, hours in zip(index.label, index.start_hour_of_week, index.hours):
        key = (str(lab), float(start) % 24.0, float(hours))
        if key not in cache:
            if g.travel_times is not None:
                cache[key] = read_travel_times(g.travel_times, sel["precinct"].to_numpy(),
                                               [key[0]])[key[0]]
            else:
                cache[key] = travel_time_matrix(sel, g, tour_speed_factor(g, *key))
        out.append(cache[key])
    P = len(index.precinct)
    return np.stack(out) if out else np.zeros((0, P, P))


def plan_teams_for(plan: Plan, index: PlanIndex) -> np.ndarray:
    """(P, C) teams of ``plan`` in the order of ``index`` (matched by precinct, day, tour)."""
    key = plan.assignments.set_index(["precinct", "day", "tour"])["teams"]
    idx = pd.MultiIndex.from_tuples([(int(p), d, t) for p in index.precinct
                                     for d, t in zip(index.day, index.label)])
    vals = key.reindex(idx)
    if vals.isna().any():
        missing = vals.index[vals.isna()][:5].tolist()
        raise InputError.single(plan.scenario, "plan", missing,
                                "a plan for this scenario (every precinct, day, tour)")
    return vals.to_numpy(dtype=np.int64).reshape(index.shape)


def setup_from_plan(plan: Plan, scenario: Scenario | None = None, *,
                    dispatch: str | None = None, **overrides) -> SimSetup:
    """A :class:`SimSetup` for a feasible plan: its teams and columns, demand by hour of week
    from its scenario (``scenario`` replaces the plan's own when given), the scenario's
    simulation settings; ``overrides`` set SimSetup fields (e.g. ``availability=0.9``)."""
    sc = scenario if scenario is not None else plan.resolved_scenario
    if sc is None:
        raise InputError.single(plan.scenario, "scenario.yaml", "(missing)",
                                "a plan saved with its scenario (bheard solve --out), or"
                                " --scenario naming the scenario it was solved for")
    if not plan.feasible or plan.teams is None:
        raise InputError.single(plan.scenario, "plan", plan.status, "a feasible plan")
    if scenario is None or scenario is plan.resolved_scenario:
        index, teams = plan.index, plan.teams
    else:
        f = formulation_for(sc)
        index = f.index(f.problem(sc))
        teams = plan_teams_for(plan, index)
    sim = sc.simulation
    # a demand table has slot rates only; a plan made over demand samples is simulated at the
    # samples' mean slot rates, the demand its expected coverage refers to (models/stochastic.md)
    hourly = scaled_hourly_rates(sc) if getattr(plan, "uncertainty", None) is None else None
    if hourly is None:
        rates = (plan.assignments.set_index(["precinct", "day", "tour"])["calls_per_hour"]
                 .reindex(pd.MultiIndex.from_tuples(
                     [(int(p), d, t) for p in index.precinct
                      for d, t in zip(index.day, index.label)]))
                 .to_numpy(dtype=float).reshape(index.shape))
        hourly = slot_rates_to_hourly(np.nan_to_num(rates), index.start_hour_of_week,
                                      index.hours)
    dm = dispatch_model(sc)
    mode = dispatch or sim.dispatch or sc.coverage.mode
    if mode not in DISPATCH_MODES:
        raise InputError.single(sc.source, "dispatch", mode, " or ".join(DISPATCH_MODES))
    weeks = sim.weeks or max(int(round(sc.weeks_per_year)), 1)
    a = plan.assignments
    by_p = a.groupby("precinct", sort=False)[["expected_covered_calls", "eligible_calls"]].sum()
    by_p = by_p.reindex([int(p) for p in index.precinct])
    with np.errstate(invalid="ignore", divide="ignore"):
        pred_p = (by_p["expected_covered_calls"] / by_p["eligible_calls"]).to_numpy(float)
    hours = np.asarray(index.hours, dtype=float)
    args = dict(
        precinct=np.asarray(index.precinct), hourly_calls_per_hour=hourly,
        teams=np.asarray(teams, dtype=np.int64), slot_start_how=index.start_hour_of_week,
        slot_hours=index.hours, slot_tour=np.asarray(index.label, dtype=object),
        slot_day=np.asarray(index.day, dtype=object),
        service_time_hours=dm.service_time_hours, weeks=weeks, dispatch=mode,
        max_wait_min=dm.max_wait_min, hospital_share=dm.hospital_share,
        hospital_extra_hours=dm.hospital_extra_hours, availability=dm.availability,
        travel_min=column_travel_minutes(sc, index),
        response_standard_min=dm.response_standard_min if mode == "shared" else math.inf,
        handover=dm.handover, overtime_premium=dm.overtime_premium,
        team_cost_usd_per_hour=np.asarray(index.cost_per_team_shift_usd, float) / np.maximum(
            hours, 1e-9),
        weeks_per_year=float(sc.weeks_per_year),
        predicted_covered_calls_per_year=float(plan.objective),
        predicted_eligible_calls_per_year=float(plan.eligible_calls),
        predicted_share_by_precinct=pred_p)
    args.update(overrides)
    try:
        return SimSetup(**args)
    except (TypeError, ValueError) as exc:
        raise InputError.single(sc.source, "simulation", str(exc),
                                "consistent simulation settings") from None


#: most replications one simulation runs (as ``simulation.replications``)
MAX_REPLICATIONS = 10_000


def check_size(setup: SimSetup, source: str) -> None:
    """Refuse a simulation whose replications would each generate more calls than
    :func:`bheard.limits.max_sim_calls` (memory and time grow with the calls)."""
    calls = float(np.asarray(setup.hourly_calls_per_hour, dtype=float).sum()) * setup.weeks
    limit = max_sim_calls()
    if not calls <= limit:
        raise InputError.single(source, "(simulation size)",
                                f"about {calls:,.0f} calls per replication",
                                f"at most {limit:,.0f} (BHEARD_MAX_SIM_CALLS): fewer"
                                " simulation.weeks or a smaller demand.scale")


def simulate(scenario_or_plan, replications: int | None = None, seed: int | None = None, *,
             scenario=None, dispatch: str | None = None, base_dir=None,
             **overrides) -> SimResult:
    """Simulate a plan and return a :class:`SimResult`.

    ``scenario_or_plan``: a scenario (path, dict or Scenario: solved first), a
    :class:`~bheard.plan.Plan`, or a saved plan folder. A plan is simulated against the
    scenario it carries; ``scenario=`` replaces it (the plan must then cover that scenario's
    precincts and columns). ``replications``/``seed`` default to the scenario's
    ``simulation`` section. ``dispatch`` overrides ``simulation.dispatch``; ``overrides`` set
    :class:`SimSetup` fields (e.g. ``availability=0.9``, ``max_wait_min=10``).
    """
    if replications is not None and (isinstance(replications, bool)
                                     or not isinstance(replications, (int, np.integer))
                                     or not 1 <= replications <= MAX_REPLICATIONS):
        raise InputError.single("replications", "replications", replications,
                                f"an integer from 1 to {MAX_REPLICATIONS:,}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or not 0 <= seed < 2**63):
        raise InputError.single("seed", "seed", seed, "an integer >= 0")
    if dispatch is not None and dispatch not in DISPATCH_MODES:
        raise InputError.single("dispatch", "dispatch", dispatch, " or ".join(DISPATCH_MODES))
    sc = load_scenario(scenario, base_dir=base_dir) if scenario is not None else None
    target = scenario_or_plan
    if isinstance(target, (str, Path)) and Path(target).is_dir():
        target = Plan.load(target)
    if isinstance(target, Plan):
        plan = target
        use = sc if sc is not None else plan.resolved_scenario
        setup = setup_from_plan(plan, sc, dispatch=dispatch, **overrides)
        check_size(setup, use.source)
        sim = use.simulation
        result = simulate_arrays(setup, replications or sim.replications,
                                 sim.seed if seed is None else seed, plan.scenario)
        result.optimizer_model = plan.coverage_model
        return result
    if not isinstance(target, Scenario):
        target = load_scenario(target, base_dir=base_dir)
    plan = solve(target)
    if not plan.feasible:
        raise InputError.single(target.source, "scenario", plan.status,
                                "a feasible scenario (diagnosis: " + "; ".join(plan.diagnosis)
                                + ")")
    return simulate(plan, replications, seed, dispatch=dispatch, **overrides)


__all__ = ["SimSetup", "SimResult", "simulate", "simulate_arrays", "setup_from_plan",
           "plan_teams_for", "column_travel_minutes", "predicted_vs_simulated",
           "explain_difference", "OUTCOMES", "DISPATCH_MODES"]
