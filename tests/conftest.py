"""Shared fixtures (helper functions live in ``helpers.py``)."""

from __future__ import annotations

import pytest

from helpers import tiny_dict


@pytest.fixture
def tiny():
    return tiny_dict()


@pytest.fixture(scope="session")
def precinct_table():
    """The shipped precinct table (data/precincts.csv): 78 precincts."""
    from bheard.data import precincts

    return precincts()
