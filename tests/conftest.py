"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.fixture
def tiny():
    return tiny_dict()


@pytest.fixture(scope="session")
def precinct_table():
    """The shipped precinct table (data/precincts.csv): 78 precincts."""
    from bheard.data import precincts

    return precincts()
