"""Test helpers shared by several test modules (imported as ``helpers``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bheard.problem import ProblemData
from bheard.scenario import CoverageSettings

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
def tiny_dict(**over) -> dict:
    """The issue's example scenario as a dict (demand from the shipped example table)."""
    d = {
        "name": "tiny",
        "shifts": {"tours": [{"name": "day", "start": "09:00", "hours": 8},
                             {"name": "evening", "start": "17:00", "hours": 8}],
                   "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]},
        "precincts": [25, 28, 32],
        "demand": {"table": str(SCENARIOS / "examples" / "demand.csv")},
        "teams": {"service_time_hours": 1.75,
                  "cost_per_team_shift_usd": {"day": 2000, "evening": 2100}},
        "budget": {"annual_usd": 5_000_000},
        "weeks_per_year": 52,
        "limits": {"max_teams_per_slot": 4},
        "solver": {"time_limit_s": 60, "mip_rel_gap": 1e-4},
    }
    for k, v in over.items():
        d[k] = v
    return d


def shared_settings(**kw) -> CoverageSettings:
    """Coverage settings of the shared (MEXCLP) model with the given overrides."""
    return CoverageSettings(mode=kw.pop("mode", "shared"), **kw)


def make_shared(lam, reach, budget, cost=1000.0, max_teams=2, min_teams=0, tau=0.5, caps=None):
    """Small shared problem: W = 1 week, 1-hour slots, so eligible calls/year = calls/hour."""
    lam = np.asarray(lam, dtype=float)
    P, S = lam.shape
    reach = np.asarray(reach, dtype=bool)
    if reach.ndim == 2:
        reach = np.broadcast_to(reach, (S, P, P)).copy()
    cost = np.broadcast_to(np.asarray(cost, dtype=float), (S,)).copy()
    mx = np.broadcast_to(np.asarray(max_teams), (P, S)).astype(np.int64).copy()
    mn = np.broadcast_to(np.asarray(min_teams), (P, S)).astype(np.int64).copy()
    return ProblemData(
        precinct=np.arange(1, P + 1), borough=np.array(["Manhattan"] * P, dtype=object),
        slot_day=np.array(["Mon"] * S, dtype=object),
        slot_tour=np.array([f"t{s}" for s in range(S)], dtype=object),
        slot_hours=np.ones(S), slot_cost_usd=cost, calls_per_hour=lam, service_time_hours=tau,
        weeks_per_year=1.0, team_budget_usd_per_year=budget, max_teams=mx, min_teams=mn,
        slot_cap=np.full(S, np.inf) if caps is None else np.asarray(caps, dtype=float),
        reach=reach)


def exact_hypercube(lam, teams, pref_loc, tau: float) -> np.ndarray:
    """Exact hypercube model (Larson 1974): the continuous-time Markov chain over which teams
    are busy. ``lam`` (P,) calls/hour per precinct; ``teams`` (P,) teams per location;
    ``pref_loc`` (P, L) locations a call of each precinct may go to, nearest first (``>= P`` =
    padding); exponential busy times with mean ``tau`` hours. A call goes to the first free
    team on its list (teams of one location in a fixed order), else is lost. Returns (P,)
    the share of each precinct's calls that get a team."""
    lam = np.asarray(lam, dtype=float)
    teams = np.asarray(teams, dtype=np.int64)
    P = len(lam)
    unit_loc = np.repeat(np.arange(P), teams)
    N = len(unit_loc)
    units_of = {j: np.flatnonzero(unit_loc == j).tolist() for j in range(P)}
    order = [[u for j in row if j < P for u in units_of[j]] for row in np.asarray(pref_loc)]
    n_states = 1 << N
    Q = np.zeros((n_states, n_states))
    for s in range(n_states):
        for i in range(P):
            for u in order[i]:
                if not s >> u & 1:
                    Q[s, s | (1 << u)] += lam[i]
                    break
        for u in range(N):
            if s >> u & 1:
                Q[s, s & ~(1 << u)] += 1.0 / tau
    np.fill_diagonal(Q, -Q.sum(axis=1))
    A = np.vstack([Q.T, np.ones(n_states)])
    b = np.zeros(n_states + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(A, b, rcond=None)[0]
    served = np.zeros(P)
    for i in range(P):
        mask = sum(1 << u for u in order[i])
        free = np.array([(s & mask) != mask for s in range(n_states)])
        served[i] = pi[free].sum() if order[i] else 0.0
    return served


def run_cli(*args):
    """A ``bheard`` command in process (CliRunner): exit code, standard output, and all output
    (``returncode``, ``stdout``, ``stderr`` as a subprocess result would name them); an
    exception other than the command's exit is raised."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from bheard.cli import app

    r = CliRunner().invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return SimpleNamespace(returncode=r.exit_code, stdout=r.stdout, stderr=r.output)
