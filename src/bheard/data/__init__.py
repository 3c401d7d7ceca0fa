"""Access to the data files bheard ships in the repository's ``data/`` folder.

The files are derived from public NYC data by ``python -m bheard.data build`` (see
:mod:`bheard.data.build` and ``data/SOURCES.md``) and committed, so users never need the raw
sources. Set ``BHEARD_DATA_DIR`` to read them from another folder.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

BOROUGHS = ("Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island")


def data_dir() -> Path:
    """The folder holding the shipped data files (``<repo>/data`` unless ``BHEARD_DATA_DIR``)."""
    env = os.environ.get("BHEARD_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "data"


@lru_cache(maxsize=4)
def _read_precincts(path: str) -> pd.DataFrame:
    df = pd.read_csv(path)
    if "pop_note" in df:  # read_csv turns the empty notes into NaN; the contract is "" (str)
        df["pop_note"] = df["pop_note"].fillna("").astype(str)
    return df.sort_values("precinct").reset_index(drop=True)


def precincts() -> pd.DataFrame:
    """One row per NYPD precinct (78, incl. the 116th).

    Columns: ``precinct`` (int), ``borough`` (str), ``centroid_lon``, ``centroid_lat`` (degrees,
    WGS84), ``area_km2`` (km2), ``pop_2020`` (persons, 2020 census; 105th/116th split by area),
    ``pop_note`` (str, empty unless the population was estimated).
    """
    return _read_precincts(str(data_dir() / "precincts.csv")).copy()


def boundaries_path() -> Path:
    """Path of the simplified precinct boundaries (GeoJSON, WGS84, property ``precinct``)."""
    return data_dir() / "precinct_boundaries.geojson"


def boundaries():
    """Simplified precinct boundaries as a GeoDataFrame (for maps), one row per precinct."""
    import geopandas as gpd

    return gpd.read_file(boundaries_path())
