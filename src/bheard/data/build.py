"""Build the data files bheard ships in ``data/`` from the raw public sources.

Run it as ``python -m bheard.data build --source DIR [--out DIR]``: ``DIR`` holds the raw public
files listed below (without ``--source``, a ``shared/data`` folder beside the checkout is used
when there is one); ``--out`` defaults to :func:`bheard.data.data_dir`.

Inputs (in the source folder):

* ``nypd_precincts_2026.geojson``: NYPD precinct polygons (NYC Open Data ``y76i-bdw7``), 78
  precincts incl. the 116th, WGS84, coordinates rounded to 4 decimals (degrees).
* ``nyc_precinct_2020_census_pop.csv``: 2020 census (PL 94-171) counts aggregated to the 77
  precincts of 2021 by John Keefe (MIT); ``P1_001N`` is the total population (persons).

Outputs (in the out folder), each written atomically (temp file + ``os.replace``) and byte-for-byte
deterministic for a given set of library versions:

* ``precincts.csv``: one row per precinct: ``precinct``, ``borough``, ``centroid_lon``,
  ``centroid_lat`` (degrees, 5 decimals), ``area_km2`` (km2, 3 decimals), ``pop_2020`` (persons),
  ``pop_note``.
* ``precinct_boundaries.geojson``: simplified boundaries, WGS84, properties ``precinct`` and
  ``borough``.
* ``SOURCES.md``: provenance. Text under ``## Other shipped files`` already in the out folder's
  ``SOURCES.md`` (written by other build steps) is kept.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from bheard.errors import InputError, Problem

BOROUGHS = ("Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island")

PRECINCTS_GEOJSON = "nypd_precincts_2026.geojson"
CENSUS_CSV = "nyc_precinct_2020_census_pop.csv"

PRECINCTS_CSV = "precincts.csv"
BOUNDARIES_GEOJSON = "precinct_boundaries.geojson"
SOURCES_MD = "SOURCES.md"

OTHER_FILES_HEADING = "## Other shipped files"
OTHER_FILES_PLACEHOLDER = "(other build steps append here)"

#: Columns of ``precincts.csv``, in order.
COLUMNS = [
    "precinct", "borough", "centroid_lon", "centroid_lat", "area_km2", "pop_2020", "pop_note"
]

#: Number of NYPD precincts in the 2026 geometry (77 in 2021 plus the 116th).
N_PRECINCTS = 78

#: The 116th Precinct was carved out of the 105th (first seen in NYPD calls data 2024-12-18). The
#: 2020 census file predates it, so its ``P1_001N`` for the 105th (persons) covers both.
OLD_PRECINCT = 105
NEW_PRECINCT = 116

#: Equal-area projection used for areas (m2) and centroids: Lambert azimuthal equal-area centred
#: on New York City, GRS80 ellipsoid, metres. Areas in it are exact (no areal distortion).
EQUAL_AREA_CRS = "+proj=laea +lat_0=40.7 +lon_0=-73.95 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"

#: Douglas-Peucker tolerance for the shipped boundaries, metres (in the equal-area projection).
SIMPLIFY_TOLERANCE_M = 5.0
#: Grid the shipped boundary coordinates are snapped to, degrees (5 decimals, about 1.1 m).
COORD_DECIMALS = 5
#: Upper bound on the size of ``precinct_boundaries.geojson``, bytes.
MAX_BOUNDARIES_BYTES = 1_000_000


def default_source_dir() -> Path:
    """The ``shared/data`` folder beside the checkout: where the project's own development
    setup keeps the raw public files (a clone has none; pass ``--source``)."""
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def borough_of(precinct: int) -> str:
    """Borough of an NYPD precinct by the NYPD numbering convention.

    1-34 Manhattan, 40-52 Bronx, 60-94 Brooklyn, 100-116 Queens, 120-123 Staten Island.
    """
    p = int(precinct)
    if 1 <= p <= 34:
        return "Manhattan"
    if 40 <= p <= 52:
        return "Bronx"
    if 60 <= p <= 94:
        return "Brooklyn"
    if 100 <= p <= 116:
        return "Queens"
    if 120 <= p <= 123:
        return "Staten Island"
    raise ValueError(f"precinct {p} is outside the NYPD numbering ranges")


# ---------------------------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------------------------


def _polygonal(geom) -> MultiPolygon:
    """The polygonal part of ``geom`` as a MultiPolygon (drops points/lines left by repairs)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    nested = [p for g in parts for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    if not nested:
        return MultiPolygon()
    merged = shapely.union_all(nested) if len(nested) > 1 else nested[0]
    if isinstance(merged, Polygon):
        return MultiPolygon([merged])
    if isinstance(merged, MultiPolygon):
        return merged
    return _polygonal(merged)


def fix_geometry(geom) -> MultiPolygon:
    """Repair a precinct polygon: ``make_valid`` then keep the polygonal part.

    The raw file (rounded to 4 decimals) has self-intersecting rings and collapsed zero-area
    rings. GEOS's default "linework" repair raises on some of them (precincts 50, 63, 72: "Overlay
    input is mixed-dimension"), so the "structure" method is used: union of the shells minus the
    holes, collapsed parts dropped.
    """
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    out = _polygonal(fixed)
    if not out.is_valid:  # pragma: no cover - defensive; buffer(0) is the classic fallback
        out = _polygonal(shapely.buffer(out, 0))
    return out


class _Projector:
    """Forward/inverse transforms between WGS84 lon/lat (degrees) and :data:`EQUAL_AREA_CRS`."""

    def __init__(self) -> None:
        self.fwd = pyproj.Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)
        self.inv = pyproj.Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4326", always_xy=True)

    @staticmethod
    def _apply(transformer: pyproj.Transformer, geom):
        def f(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, f)

    def to_metres(self, geom):
        return self._apply(self.fwd, geom)

    def to_degrees(self, geom):
        return self._apply(self.inv, geom)

    def point_to_degrees(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self.inv.transform(x, y)
        return float(lon), float(lat)


@dataclass
class Precinct:
    precinct: int
    geom_m: MultiPolygon  # repaired, in the equal-area projection (metres)
    raw_valid: bool = True  # whether the raw polygon was valid before repair


def read_precinct_geometry(path: Path) -> list[Precinct]:
    """Read and repair the raw precinct polygons, sorted by precinct number."""
    if not path.is_file():
        raise InputError.single(path, "", None, f"the raw precinct GeoJSON ({PRECINCTS_GEOJSON})")
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    proj = _Projector()
    out: dict[int, Precinct] = {}
    problems: list[Problem] = []
    for i, feat in enumerate(doc.get("features", [])):
        where = f"features[{i}]"
        props = feat.get("properties") or {}
        try:
            number = int(props["precinct"])
        except (KeyError, TypeError, ValueError):
            problems.append(Problem(f"{where}.properties.precinct", props.get("precinct"), "an int"))
            continue
        if number in out:
            problems.append(Problem(f"{where}.properties.precinct", number, "a unique precinct"))
            continue
        # Repair after projecting: repairing in degrees and then projecting can leave rings that
        # touch at a point slightly crossing each other (invalid) in metres.
        try:
            raw_geom = shape(feat["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError):
            problems.append(Problem(f"{where}.geometry", number, "a GeoJSON (Multi)Polygon"))
            continue
        geom_m = fix_geometry(proj.to_metres(raw_geom))
        if geom_m.is_empty or not geom_m.is_valid:
            problems.append(Problem(f"{where}.geometry", number, "a repairable, non-empty polygon"))
            continue
        out[number] = Precinct(number, geom_m, bool(raw_geom.is_valid))
    if len(out) != N_PRECINCTS and not problems:
        problems.append(Problem("features", len(out), f"{N_PRECINCTS} precincts"))
    if NEW_PRECINCT not in out or OLD_PRECINCT not in out:
        need = f"precincts {OLD_PRECINCT} and {NEW_PRECINCT}"
        problems.append(Problem("features", sorted(out), need))
    if problems:
        raise InputError(path, problems)
    return [out[k] for k in sorted(out)]


# ---------------------------------------------------------------------------------------------
# table
# ---------------------------------------------------------------------------------------------


def read_census(path: Path) -> pd.Series:
    """2020 census total population (persons, ``P1_001N``) by precinct, from the Keefe CSV."""
    if not path.is_file():
        raise InputError.single(path, "", None, f"the census CSV ({CENSUS_CSV})")
    df = pd.read_csv(path, usecols=["precinct", "P1_001N"])
    if df["precinct"].duplicated().any() or df["P1_001N"].isna().any():
        raise InputError.single(path, "precinct/P1_001N", None, "one non-empty row per precinct")
    return df.set_index("precinct")["P1_001N"].astype("int64").sort_index()


def split_note(old_pop: int) -> str:
    return (
        f"estimate: old {OLD_PRECINCT}th population {old_pop} split by area "
        f"with the {NEW_PRECINCT}th"
    )


def build_table(
    precincts: list[Precinct], census: pd.Series, census_path: Path | str = CENSUS_CSV
) -> pd.DataFrame:
    """The ``precincts.csv`` table (numbers already rounded to their shipped precision)."""
    proj = _Projector()
    rows = []
    for p in precincts:
        c = p.geom_m.centroid  # area-weighted centroid in the equal-area plane
        lon, lat = proj.point_to_degrees(c.x, c.y)
        rows.append(
            {
                "precinct": p.precinct,
                "borough": borough_of(p.precinct),
                "centroid_lon": round(lon, 5),
                "centroid_lat": round(lat, 5),
                "area_km2": round(p.geom_m.area / 1e6, 3),
            }
        )
    df = pd.DataFrame(rows)

    geo = set(df["precinct"])
    expected_census = geo - {NEW_PRECINCT}
    if set(census.index) != expected_census:
        raise InputError.single(
            census_path,
            "precinct",
            sorted(set(census.index) ^ expected_census),
            f"census precincts = geometry precincts minus the {NEW_PRECINCT}th",
        )
    df["pop_2020"] = df["precinct"].map(census).astype("Int64")
    df["pop_note"] = ""

    # Stopgap: the 2020 count for the old 105th covers today's 105th + 116th. Split it in
    # proportion to the shipped (rounded) areas, so the split can be reproduced from the CSV.
    old_pop = int(census.loc[OLD_PRECINCT])
    area = df.set_index("precinct")["area_km2"]
    share = area.loc[OLD_PRECINCT] / (area.loc[OLD_PRECINCT] + area.loc[NEW_PRECINCT])
    pop_old = int(math.floor(old_pop * share + 0.5))
    pop_new = old_pop - pop_old
    note = split_note(old_pop)
    for number, pop in ((OLD_PRECINCT, pop_old), (NEW_PRECINCT, pop_new)):
        df.loc[df["precinct"] == number, ["pop_2020", "pop_note"]] = [pop, note]

    df["pop_2020"] = df["pop_2020"].astype("int64")
    df["precinct"] = df["precinct"].astype("int64")
    return df[COLUMNS].sort_values("precinct").reset_index(drop=True)


def table_to_csv(df: pd.DataFrame) -> bytes:
    """Serialise the table with fixed decimals (5 for degrees, 3 for km2) and ``\\n`` line ends."""
    out = df.copy()
    out["centroid_lon"] = out["centroid_lon"].map(lambda v: f"{v:.5f}")
    out["centroid_lat"] = out["centroid_lat"].map(lambda v: f"{v:.5f}")
    out["area_km2"] = out["area_km2"].map(lambda v: f"{v:.3f}")
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# boundaries
# ---------------------------------------------------------------------------------------------


def _snap_to_grid(geom) -> MultiPolygon:
    """Snap ``geom`` (degrees) to the 5-decimal grid, keeping it valid.

    ``set_precision`` normally does this in one step; GEOS can raise on awkward inputs
    ("unable to assign free hole to a shell"), so fall back to rounding then repairing. The result
    is returned with coordinates already rounded, and is valid as rounded.
    """
    grid = 10.0**-COORD_DECIMALS

    def rounded(g):
        return shapely.transform(g, lambda xy: np.round(xy, COORD_DECIMALS))

    g = geom
    for _ in range(5):
        try:
            g = _polygonal(shapely.set_precision(g, grid))
        except shapely.errors.GEOSException:
            g = fix_geometry(rounded(g))
        r = rounded(g)
        if not r.is_empty and r.is_valid:
            return _polygonal(r)
        g = r
    raise RuntimeError("could not snap a precinct boundary to the coordinate grid")


def simplify_boundary(
    p: Precinct, tolerance_m: float, proj: _Projector | None = None
) -> MultiPolygon:
    """Simplified WGS84 boundary: Douglas-Peucker (preserve_topology) in metres, transformed back
    to degrees, snapped to the 5-decimal grid (valid output), rings oriented per RFC 7946
    (exterior counter-clockwise)."""
    proj = proj or _Projector()
    simple_m = shapely.simplify(p.geom_m, tolerance_m, preserve_topology=True)
    geom = _snap_to_grid(proj.to_degrees(simple_m))
    if geom.is_empty:  # pragma: no cover - only for absurd tolerances
        geom = _snap_to_grid(proj.to_degrees(p.geom_m))
    return shapely.orient_polygons(geom, exterior_cw=False)


def _round_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [round(v, COORD_DECIMALS) for v in obj]
        return [_round_coords(o) for o in obj]
    return obj


def boundaries_to_geojson(precincts: list[Precinct], tolerance_m: float) -> bytes:
    """GeoJSON FeatureCollection (RFC 7946, WGS84), one feature per line for readable diffs."""
    proj = _Projector()
    lines = []
    for p in precincts:
        geom = simplify_boundary(p, tolerance_m, proj)
        gj = mapping(geom)
        feature = {
            "type": "Feature",
            "properties": {"precinct": int(p.precinct), "borough": borough_of(p.precinct)},
            "geometry": {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"])},
        }
        lines.append(json.dumps(feature, separators=(",", ":"), ensure_ascii=False))
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    return text.encode("utf-8")


def check_boundaries(data: bytes, expected: list[int]) -> None:
    """Re-read the serialised boundaries and check validity, non-emptiness and precincts."""
    doc = json.loads(data)
    got = [f["properties"]["precinct"] for f in doc["features"]]
    if got != expected:
        raise RuntimeError(f"boundaries: precincts {got} != {expected}")
    for f in doc["features"]:
        g = shape(f["geometry"])
        if g.is_empty or not g.is_valid:
            number = f["properties"]["precinct"]
            raise RuntimeError(f"boundaries: precinct {number} is empty or invalid")


# ---------------------------------------------------------------------------------------------
# SOURCES.md
# ---------------------------------------------------------------------------------------------


def _other_files_section(existing: str | None) -> str:
    """The ``## Other shipped files`` section of an existing SOURCES.md, or a fresh one."""
    if existing and OTHER_FILES_HEADING in existing:
        tail = existing[existing.index(OTHER_FILES_HEADING) :]
        return tail if tail.endswith("\n") else tail + "\n"
    return f"{OTHER_FILES_HEADING}\n\n{OTHER_FILES_PLACEHOLDER}\n"


def sources_md(
    df: pd.DataFrame,
    boundaries_bytes: int,
    tolerance_m: float,
    census_total: int,
    centroid_outside: list[int],
    n_invalid: int,
    existing: str | None,
) -> str:
    area = df.set_index("precinct")["area_km2"]
    pop = df.set_index("precinct")["pop_2020"]
    a_old, a_new = float(area.loc[OLD_PRECINCT]), float(area.loc[NEW_PRECINCT])
    old_pop = int(pop.loc[OLD_PRECINCT] + pop.loc[NEW_PRECINCT])
    share_old = a_old / (a_old + a_new)
    counts = df["borough"].value_counts()
    borough_counts = ", ".join(f"{b} {int(counts.get(b, 0))}" for b in BOROUGHS)
    outside = ", ".join(str(p) for p in centroid_outside) or "none"
    return f"""# Data files shipped in `data/`: where each came from

Every file in this folder is derived from public data by `python -m bheard.data build`
(code: `src/bheard/data/build.py`). The build reads the raw files from the folder given as
`--source DIR` (each file is listed below with its public address), is deterministic (same
inputs and library versions give the same bytes), and
writes each file atomically. Users never need the raw files; they are needed only to rebuild.

## Original datasets

- **NYPD police precinct boundaries.** NYC Open Data "Police Precincts", dataset `y76i-bdw7`,
  published by the NYC Department of City Planning under the NYC Open Data Terms of Use. We use
  the copy re-hosted in the GitHub repository `joshgreenman1973/nyc-nypd-officer-profiles`
  (`data/precincts.geojson`, HEAD 673bd68, file last changed 2026-07-06), which pulled the data
  through the Socrata API and rounded coordinates to 4 decimals (about 11 m). It has 78
  precincts, including the 116th Precinct (Queens), which was formed from part of the 105th and
  first appears in NYPD calls data on 2024-12-18. Raw file name: `{PRECINCTS_GEOJSON}`.
- **2020 census population by precinct.** 2020 Decennial Census redistricting data
  (PL 94-171), census blocks aggregated to the NYPD precincts as of 2021-11-24 (NYC Open Data
  `78dh-3ptz`) by John Keefe, repository `jkeefe/census-by-precincts`
  (`data/nyc/nyc_precinct_2020pop.csv`, HEAD db258ca), **MIT License, Copyright (c) 2020 John
  Keefe**. 77 precincts (no 116th), total population {census_total:,} persons. The official
  NYC 2020 count is 8,804,190; Keefe's process notes say 9 populated blocks that matched no
  precinct were assigned by hand, and we found no explanation of the small remaining gap. Raw
  file name: `{CENSUS_CSV}`. We use only `P1_001N` (total population).

## `{PRECINCTS_CSV}`

One row per NYPD precinct ({len(df)} rows, sorted by precinct). Columns:

| Column | Unit | How it was computed |
|---|---|---|
| `precinct` | - | precinct number from the boundary file |
| `borough` | - | NYPD numbering convention: 1-34 Manhattan, 40-52 Bronx, 60-94 Brooklyn, 100-116 Queens, 120-123 Staten Island ({borough_counts}) |
| `centroid_lon`, `centroid_lat` | degrees (WGS84), 5 decimals | area-weighted centroid of the repaired polygon, computed in the equal-area projection below and transformed back to WGS84. It can lie outside the precinct (here: {outside}) |
| `area_km2` | km2, 3 decimals | area of the repaired polygon in the equal-area projection below |
| `pop_2020` | persons | `P1_001N` of the census file, except the 105th and 116th (see below) |
| `pop_note` | - | empty, except for the two estimated rows |

Geometry processing: each raw polygon is projected to a Lambert azimuthal equal-area
projection centred on NYC (`{EQUAL_AREA_CRS}`), so areas have no projection distortion. The
raw polygons (rounded to 4 decimals) contain self-intersecting and collapsed rings ({n_invalid}
of {len(df)} are invalid as delivered), so each one is then repaired with shapely
`make_valid(method="structure")` (union of the shells minus the holes, collapsed parts dropped;
GEOS's default "linework" method raises on precincts 50, 63 and 72) and only its polygonal part
is kept. Areas and centroids are computed on these full-resolution repaired polygons. All areas
sum to {df["area_km2"].sum():.1f} km2. Because the source was rounded, neighbouring precincts
can have tiny slivers or overlaps; these are negligible for weights and distances.

**105th / 116th population: a labelled stopgap, not data.** The census file predates the 116th:
its 105th value ({old_pop:,} persons) covers the old 105th, which included what is now the 116th.
We split it in proportion to the current areas in `area_km2` ({a_old:.3f} km2 for the 105th,
{a_new:.3f} km2 for the 116th, i.e. {share_old:.1%} / {1 - share_old:.1%}), rounding the 105th
to a whole person and giving the remainder to the 116th: {int(pop.loc[OLD_PRECINCT]):,} and
{int(pop.loc[NEW_PRECINCT]):,} persons. Both rows say so in `pop_note`. Population density is not
uniform across the two, so replace this with block-level census data re-aggregated to the new
boundaries when possible. The city total is unchanged ({int(df["pop_2020"].sum()):,} persons).

**Central Park.** Precinct 22 (Central Park) has {int(pop.loc[22])} residents but many visitors;
allocating demand by resident population alone would give it almost nothing. Use call data or a
floor for it.

Other caveats:
- The census aggregation used the 2021 precinct boundaries; apart from the 105th / 116th split,
  any later boundary change is not reflected in `pop_2020`.
- `borough` is the NYPD (patrol) borough, not the legal one: the 114th (Queens) also covers
  Roosevelt Island (Manhattan, about 0.6 km2) and Rikers Island (Bronx, about 1.7 km2), which are
  in its `area_km2`.
- Precincts with islands or long coasts (e.g. the 45th with City Island and Hart Island, the
  100th on the Rockaway peninsula) are multi-part; their centroid is a poor "where calls come
  from" point.

## `{BOUNDARIES_GEOJSON}`

Simplified precinct boundaries for maps: a GeoJSON FeatureCollection (RFC 7946, WGS84 lon/lat,
exterior rings counter-clockwise), one feature per precinct ({len(df)}), sorted by precinct,
properties `precinct` (int) and `borough`. Made from the repaired polygons above: shapely
`simplify(tolerance={tolerance_m:g} m, preserve_topology=True)` in the equal-area projection,
transformed back to WGS84, snapped to a {10.0**-COORD_DECIMALS:g} degree grid (5 decimals,
about 1 m) with `set_precision` (which keeps geometries valid), and checked: every geometry is
valid and non-empty. Size: {boundaries_bytes:,} bytes. Each precinct is simplified on its
own, so shared edges between neighbours may no longer match exactly (gaps or overlaps of a few
metres); use it for drawing and rough point-in-polygon work, and the table above for numbers.

{_other_files_section(existing)}"""


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then rename)."""
    from bheard.io import atomic_write

    atomic_write(path, lambda fh: fh.write(data), mode="wb")


@dataclass
class BuildResult:
    precincts_csv: Path
    boundaries_geojson: Path
    sources_md: Path
    table: pd.DataFrame
    boundaries_bytes: int


def build(
    source: Path | str | None = None,
    out: Path | str | None = None,
    tolerance_m: float = SIMPLIFY_TOLERANCE_M,
) -> BuildResult:
    """Build ``precincts.csv``, ``precinct_boundaries.geojson`` and ``SOURCES.md`` into ``out``.

    ``source`` defaults to :func:`default_source_dir`; ``out`` to :func:`bheard.data.data_dir`.
    Everything is computed and checked before any file is written.
    """
    from bheard.data import data_dir

    source = Path(source) if source is not None else default_source_dir()
    out = Path(out) if out is not None else data_dir()
    if not source.is_dir():
        raise InputError.single(source, "--source", str(source), "a folder with the raw data files")

    census_path = source / CENSUS_CSV
    precincts = read_precinct_geometry(source / PRECINCTS_GEOJSON)
    census = read_census(census_path)
    table = build_table(precincts, census, census_path)
    csv_bytes = table_to_csv(table)

    geo_bytes = boundaries_to_geojson(precincts, tolerance_m)
    check_boundaries(geo_bytes, [p.precinct for p in precincts])
    if len(geo_bytes) > MAX_BOUNDARIES_BYTES:
        raise RuntimeError(
            f"{BOUNDARIES_GEOJSON} is {len(geo_bytes)} bytes (> {MAX_BOUNDARIES_BYTES}); "
            f"raise the simplification tolerance ({tolerance_m} m)"
        )
    if int(table["pop_2020"].sum()) != int(census.sum()):  # pragma: no cover - invariant
        raise RuntimeError("population total changed by the 105th/116th split")

    sources_path = out / SOURCES_MD
    existing = sources_path.read_text(encoding="utf-8") if sources_path.is_file() else None
    n_invalid = sum(not p.raw_valid for p in precincts)
    outside = [p.precinct for p in precincts if not p.geom_m.intersects(p.geom_m.centroid)]
    md = sources_md(
        table, len(geo_bytes), tolerance_m, int(census.sum()), outside, n_invalid, existing
    )

    write_atomic(out / PRECINCTS_CSV, csv_bytes)
    write_atomic(out / BOUNDARIES_GEOJSON, geo_bytes)
    write_atomic(sources_path, md.encode("utf-8"))
    return BuildResult(
        out / PRECINCTS_CSV, out / BOUNDARIES_GEOJSON, sources_path, table, len(geo_bytes)
    )


__all__ = [
    "build",
    "borough_of",
    "default_source_dir",
    "fix_geometry",
    "write_atomic",
    "BuildResult",
    "PRECINCTS_CSV",
    "BOUNDARIES_GEOJSON",
    "SOURCES_MD",
]
