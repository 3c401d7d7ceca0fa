"""Tests of the shipped data files (data/) and of their build step (python -m bheard.data build).

Tests of the shipped files need only the repository. Tests that compare against, or rebuild
from, the raw public files in ``<repo>/../shared/data`` are skipped when that folder is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

import bheard.data as bdata
from bheard.data import build as bbuild

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
HAVE_SHARED = (SHARED / bbuild.PRECINCTS_GEOJSON).is_file() and (SHARED / bbuild.CENSUS_CSV).is_file()
needs_shared = pytest.mark.skipif(not HAVE_SHARED, reason="raw data ../shared/data not available")

CENSUS_TOTAL_PERSONS = 8_804_081  # sum of P1_001N in the census file (shared/data/SOURCES.md)
OLD_105TH_PERSONS = 199_218  # P1_001N of the pre-2024 105th, which included today's 116th
EXPECTED_TOTAL_AREA_KM2 = 781.5  # shared/data/SOURCES.md (equirectangular approximation)
BOROUGH_COUNTS = {"Brooklyn": 23, "Manhattan": 22, "Queens": 17, "Bronx": 12, "Staten Island": 4}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return bdata.precincts()


# --------------------------------------------------------------------------- shipped precincts.csv


def test_precincts_columns_and_types(table):
    assert list(table.columns) == bbuild.COLUMNS
    assert pd.api.types.is_integer_dtype(table["precinct"])
    assert pd.api.types.is_integer_dtype(table["pop_2020"])
    for col in ("centroid_lon", "centroid_lat", "area_km2"):
        assert pd.api.types.is_float_dtype(table[col]), col
    assert table["precinct"].is_monotonic_increasing and table["precinct"].is_unique


def test_78_precincts_including_116_and_22(table):
    assert len(table) == 78
    assert {1, 22, 105, 116, 123} <= set(table["precinct"])
    row22 = table.set_index("precinct").loc[22]
    assert row22["borough"] == "Manhattan"
    assert row22["pop_2020"] == 129  # Central Park: residents only, see SOURCES.md


def test_borough_counts_and_numbering(table):
    assert table["borough"].value_counts().to_dict() == BOROUGH_COUNTS
    for p, b in zip(table["precinct"], table["borough"]):
        assert bbuild.borough_of(p) == b
    assert bbuild.borough_of(34) == "Manhattan" and bbuild.borough_of(40) == "Bronx"
    assert bbuild.borough_of(94) == "Brooklyn" and bbuild.borough_of(116) == "Queens"
    assert bbuild.borough_of(120) == "Staten Island"
    with pytest.raises(ValueError):
        bbuild.borough_of(35)


def test_population_total_and_105_116_split(table):
    pop = table.set_index("precinct")["pop_2020"]
    assert int(pop.sum()) == CENSUS_TOTAL_PERSONS  # the split adds or loses no one
    assert int(pop.loc[105] + pop.loc[116]) == OLD_105TH_PERSONS
    area = table.set_index("precinct")["area_km2"]
    share = area.loc[105] / (area.loc[105] + area.loc[116])
    assert 0.50 < share < 0.60  # about 55 / 45
    assert abs(pop.loc[105] - OLD_105TH_PERSONS * share) <= 0.5
    assert (pop > 0).all()


def test_pop_note_only_on_estimated_rows(table):
    notes = table.set_index("precinct")["pop_note"]
    assert set(notes[notes != ""].index) == {105, 116}
    for p in (105, 116):
        assert "estimate" in notes.loc[p] and "199218" in notes.loc[p] and "116th" in notes.loc[p]


def test_areas_and_centroids_plausible(table):
    total = table["area_km2"].sum()
    assert abs(total - EXPECTED_TOTAL_AREA_KM2) / EXPECTED_TOTAL_AREA_KM2 < 0.02
    assert (table["area_km2"] > 0.5).all() and (table["area_km2"] < 60).all()
    # NYC bounding box, degrees
    assert table["centroid_lon"].between(-74.26, -73.70).all()
    assert table["centroid_lat"].between(40.49, 40.92).all()
    # shipped precision: 5 decimals for degrees, 3 for km2
    text = (bdata.data_dir() / bbuild.PRECINCTS_CSV).read_text(encoding="utf-8")
    first = text.splitlines()[1].split(",")
    assert len(first[2].split(".")[1]) == 5 and len(first[4].split(".")[1]) == 3


@needs_shared
def test_matches_raw_census_and_attribute_crosscheck(table):
    census = pd.read_csv(SHARED / bbuild.CENSUS_CSV, usecols=["precinct", "P1_001N"])
    assert int(census["P1_001N"].sum()) == CENSUS_TOTAL_PERSONS
    assert int(census.set_index("precinct").loc[105, "P1_001N"]) == OLD_105TH_PERSONS
    merged = table.merge(census, on="precinct", how="left")
    plain = merged[~merged["precinct"].isin([105, 116])]
    assert (plain["pop_2020"] == plain["P1_001N"]).all()

    attrs_path = SHARED / "nypd_precinct_attributes.csv"
    if not attrs_path.is_file():
        pytest.skip("nypd_precinct_attributes.csv not available")
    attrs = pd.read_csv(attrs_path)
    m = table.merge(attrs, on="precinct", suffixes=("", "_ref"))
    assert len(m) == 78
    rel = (m["area_km2"] / m["area_km2_ref"] - 1).abs()
    assert rel.max() < 0.03, m.loc[rel.idxmax(), ["precinct", "area_km2", "area_km2_ref"]]
    assert (m["borough"] == m["borough_ref"]).all()
    # centroids within about 100 m (0.001 degrees)
    assert (m["centroid_lon"] - m["centroid_lon_ref"]).abs().max() < 1e-3
    assert (m["centroid_lat"] - m["centroid_lat_ref"]).abs().max() < 1e-3


# ------------------------------------------------------------------ shipped boundaries / sources


def test_boundaries_file_size_and_features(table):
    path = bdata.boundaries_path()
    assert path.stat().st_size <= 1_000_000
    doc = json.loads(path.read_text(encoding="utf-8"))
    feats = doc["features"]
    assert len(feats) == 78
    assert [f["properties"]["precinct"] for f in feats] == table["precinct"].tolist()
    for f in feats:
        assert isinstance(f["properties"]["precinct"], int)
        assert f["properties"]["borough"] == bbuild.borough_of(f["properties"]["precinct"])
        g = shape(f["geometry"])
        assert g.geom_type in ("Polygon", "MultiPolygon")
        assert g.is_valid and not g.is_empty, f["properties"]["precinct"]
        coords = shapely.get_coordinates(g)
        assert (abs(coords - coords.round(5)) < 1e-9).all()  # at most 5 decimals


def test_boundaries_agree_with_table(table):
    gdf = bdata.boundaries()
    assert len(gdf) == 78 and gdf.geometry.is_valid.all()
    areas = gdf.set_index("precinct").to_crs(bbuild.EQUAL_AREA_CRS).area / 1e6  # km2
    ref = table.set_index("precinct")["area_km2"]
    rel = (areas.reindex(ref.index) / ref - 1).abs()
    assert rel.max() < 0.02  # simplification changes areas only a little


def test_sources_md():
    text = (bdata.data_dir() / bbuild.SOURCES_MD).read_text(encoding="utf-8")
    for needle in ("y76i-bdw7", "PL 94-171", "John Keefe", "MIT", "116th", "stopgap", "Central Park",
                   "129", "tolerance", "precincts.csv", "precinct_boundaries.geojson"):
        assert needle in text, needle
    size = bdata.boundaries_path().stat().st_size
    assert f"{size:,} bytes" in text  # the stated size is the shipped file's size
    assert bbuild.OTHER_FILES_HEADING in text
    # the other-files section is last
    assert text.rindex("\n## ") == text.index(bbuild.OTHER_FILES_HEADING) - 1


# ------------------------------------------------------------------------------------ the build


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "x.txt"
    bbuild.write_atomic(target, b"one")
    bbuild.write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_build_missing_source_is_input_error(tmp_path):
    from bheard.errors import InputError

    with pytest.raises(InputError):
        bbuild.build(source=tmp_path / "nope", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


@needs_shared
def test_build_reproduces_shipped_files_and_is_deterministic(tmp_path):
    out = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "BHEARD_DATA_DIR"}
    cmd = [sys.executable, "-m", "bheard.data", "build", "--source", str(SHARED), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=REPO)
    shipped = bdata.data_dir()
    assert (out / bbuild.PRECINCTS_CSV).read_bytes() == (shipped / bbuild.PRECINCTS_CSV).read_bytes()
    # boundaries: identical up to GEOS-version differences in simplification (a fresh machine
    # may get another shapely/GEOS wheel): same precincts, shapes within 25 m (Hausdorff)
    import json

    from shapely.geometry import shape

    def geoms(path):
        feats = json.loads(path.read_text())["features"]
        return {f["properties"]["precinct"]: shape(f["geometry"]) for f in feats}

    rebuilt, ship = geoms(out / bbuild.BOUNDARIES_GEOJSON), geoms(shipped / bbuild.BOUNDARIES_GEOJSON)
    assert rebuilt.keys() == ship.keys()
    assert max(rebuilt[p].hausdorff_distance(ship[p]) for p in ship) < 25 / 111_000  # degrees

    first = {p.name: p.read_bytes() for p in out.iterdir()}
    # Another build step appended to SOURCES.md: a rebuild keeps that text and is otherwise stable.
    extra = "\n### `other.csv`\n\nmade by another step\n"
    with open(out / bbuild.SOURCES_MD, "a", encoding="utf-8") as fh:
        fh.write(extra)
    bbuild.build(source=SHARED, out=out)
    second = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(second) == sorted(first)  # no temp files left behind
    assert second[bbuild.PRECINCTS_CSV] == first[bbuild.PRECINCTS_CSV]
    assert second[bbuild.BOUNDARIES_GEOJSON] == first[bbuild.BOUNDARIES_GEOJSON]
    assert second[bbuild.SOURCES_MD] == first[bbuild.SOURCES_MD] + extra.encode("utf-8")


@needs_shared
def test_fix_geometry_handles_the_raw_defects():
    doc = json.loads((SHARED / bbuild.PRECINCTS_GEOJSON).read_text(encoding="utf-8"))
    raw = {f["properties"]["precinct"]: shape(f["geometry"]) for f in doc["features"]}
    assert sum(not g.is_valid for g in raw.values()) > 0  # the raw file does need repair
    for p in (50, 63, 72):  # GEOS's default make_valid raises on these
        fixed = bbuild.fix_geometry(raw[p])
        assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
        assert abs(fixed.area - raw[p].area) / raw[p].area < 0.01
