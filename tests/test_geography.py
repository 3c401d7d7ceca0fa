"""Travel times and response sets (bheard.geography)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bheard.errors import InputError
from bheard.geography import (
    SQUARE_CENTRE_MEAN_DISTANCE,
    centroid_distance_km,
    read_travel_times,
    response_sets,
    slot_reach,
    tour_speed_factor,
    travel_time_matrix,
)
from bheard.scenario import GeographySettings, Tour, load_scenario
from helpers import tiny_dict


def _table(**over):
    d = {"precinct": [1, 2, 3], "borough": ["Manhattan", "Manhattan", "Brooklyn"],
         "centroid_lon": [-74.0, -74.0, -74.0], "centroid_lat": [40.70, 40.71, 40.72],
         "area_km2": [4.0, 9.0, 1.0]}
    d.update(over)
    return pd.DataFrame(d)


def test_one_degree_of_latitude_is_111_km():
    """Haversine on the mean Earth radius 6371.0088 km: 1 degree = 111.195 km."""
    d = centroid_distance_km(np.array([0.0, 0.0]), np.array([40.0, 41.0]))
    assert d[0, 1] == pytest.approx(111.195, abs=1e-3)
    assert d[0, 0] == 0.0


def test_square_root_law_constant_matches_numeric_integral():
    """Mean distance centre -> uniform point of a unit square: (sqrt2 + asinh1)/6 = 0.38260
    (midpoint-rule integral on a 1000x1000 grid)."""
    g = (np.arange(1000) + 0.5) / 1000 - 0.5
    xx, yy = np.meshgrid(g, g)
    assert np.hypot(xx, yy).mean() == pytest.approx(SQUARE_CENTRE_MEAN_DISTANCE, abs=1e-6)
    assert SQUARE_CENTRE_MEAN_DISTANCE == pytest.approx(0.382598, abs=1e-6)


def test_travel_time_formula_hand_computed():
    """T = d0 + 60 delta D / v (+ bridge penalty), diagonal 60 delta c sqrt(A) / v; numbers
    by hand with delta 1.3, v 16 / 20 km/h, d0 1.1 min, penalty 5 min."""
    g = GeographySettings()
    t = travel_time_matrix(_table(), g)
    D = 0.01 * 111.195  # 0.01 degree of latitude, km
    assert t[0, 1] == pytest.approx(1.1 + 60 * 1.3 * D / 16.0, rel=1e-4)
    # Manhattan -> Brooklyn: mean speed (16 + 20)/2 = 18 km/h, plus 5 minutes
    assert t[0, 2] == pytest.approx(1.1 + 60 * 1.3 * 2 * D / 18.0 + 5.0, rel=1e-4)
    # within precinct 2 (9 km2): 0.3826 x 3 km x 1.3 at 16 km/h
    assert t[1, 1] == pytest.approx(1.1 + 60 * 1.3 * SQUARE_CENTRE_MEAN_DISTANCE * 3.0 / 16.0,
                                    rel=1e-6)
    assert np.allclose(t, t.T)  # symmetric when speeds are symmetric


def test_overnight_tour_is_faster():
    """Night factor 1.3 applies to 01:00-09:00 (midpoint 05:00), not to 09-17 or 17-01."""
    g = GeographySettings()
    assert tour_speed_factor(g, "overnight", 1.0, 8) == 1.3
    assert tour_speed_factor(g, "day", 9.0, 8) == 1.0
    assert tour_speed_factor(g, "evening", 17.0, 8) == 1.0
    base = travel_time_matrix(_table(), g)
    night = travel_time_matrix(_table(), g, 1.3)
    # the moving part scales by exactly 1/1.3
    pen = 5.0 * np.array([[0, 0, 1], [0, 0, 1], [1, 1, 0]])
    assert np.allclose(night - 1.1 - pen, (base - 1.1 - pen) / 1.3)


def test_response_sets_threshold_and_own_precinct():
    """reach[i, j] = T[j, i] <= standard; the diagonal is always reachable."""
    t = np.array([[20.0, 10.0], [16.0, 30.0]])  # T[j, i]
    r = response_sets(t, 15.0)
    assert r.tolist() == [[True, False], [True, True]]


def test_od_csv_overrides_and_missing_pair_is_an_input_error(tmp_path):
    """A complete OD table is read per tour; a missing pair names origin and destination."""
    f = tmp_path / "od.csv"
    rows = [(a, b, 3.0 if a == b else 12.0) for a in (25, 28) for b in (25, 28)]
    pd.DataFrame(rows, columns=["origin", "destination", "minutes"]).to_csv(f, index=False)
    out = read_travel_times(f, np.array([25, 28]), ["day", "evening"])
    assert out["day"].tolist() == [[3.0, 12.0], [12.0, 3.0]]
    pd.DataFrame(rows[:3], columns=["origin", "destination", "minutes"]).to_csv(f, index=False)
    with pytest.raises(InputError, match="origin 28 -> destination 28"):
        read_travel_times(f, np.array([25, 28]), ["day"])


def test_od_csv_a_tours_row_overrides_the_row_for_every_tour_in_any_order(tmp_path):
    """Rows without a tour apply to every tour; a row for one tour replaces that pair's
    default for that tour only, whether it comes before or after the default (before, the
    later row won, so the file's order decided)."""
    f = tmp_path / "od.csv"
    base = [(a, b, 3.0 if a == b else 12.0, None) for a in (25, 28) for b in (25, 28)]
    night = [(25, 28, 20.0, "overnight")]
    for rows in (base + night, night + base):
        pd.DataFrame(rows, columns=["origin", "destination", "minutes", "tour"]).to_csv(
            f, index=False)
        out = read_travel_times(f, np.array([25, 28]), ["day", "overnight"])
        assert out["day"].tolist() == [[3.0, 12.0], [12.0, 3.0]]
        assert out["overnight"].tolist() == [[3.0, 20.0], [12.0, 3.0]]


def test_scenario_with_od_table_sets_the_response_sets(tmp_path):
    """With a 10-minute standard only the pairs listed at <= 10 min are in range."""
    f = tmp_path / "od.csv"
    mins = {(25, 28): 8.0, (28, 25): 8.0, (25, 32): 25.0, (32, 25): 25.0, (28, 32): 9.0,
            (32, 28): 30.0}
    rows = [(a, b, 2.0 if a == b else mins[(a, b)]) for a in (25, 28, 32) for b in (25, 28, 32)]
    pd.DataFrame(rows, columns=["origin", "destination", "minutes"]).to_csv(f, index=False)
    sc = load_scenario(tiny_dict(coverage={"mode": "shared", "response_standard_min": 10},
                                 geography={"travel_times": str(f)}))
    from bheard.data import precincts

    sel = precincts().set_index("precinct").loc[[25, 28, 32]].reset_index()
    reach = slot_reach(sc, sel, ["day"])[0]
    # reach[i, j]: precinct 32 is served from 28 (9 min) but 28 is not served from 32 (30 min)
    assert reach.tolist() == [[True, True, False], [True, True, False], [False, True, True]]


def test_shipped_geography_is_plausible():
    """Shipped precincts: Harlem's 25th reaches its neighbour the 23rd within 15 min by day;
    no Staten Island precinct is in range of any Manhattan precinct."""
    from bheard.data import precincts

    tab = precincts()
    g = GeographySettings()
    t = travel_time_matrix(tab, g)
    idx = {p: k for k, p in enumerate(tab["precinct"])}
    assert t[idx[23], idx[25]] <= 15.0
    si = np.flatnonzero(tab["borough"] == "Staten Island")
    mn = np.flatnonzero(tab["borough"] == "Manhattan")
    assert (t[np.ix_(mn, si)] > 15.0).all()
    assert (np.diag(t) < 15.0).all()  # every precinct can serve itself


def test_unknown_tour_in_speed_factors_is_an_input_error():
    """geography.speed_factor_by_tour must name the scenario's tours."""
    with pytest.raises(InputError, match="speed_factor_by_tour"):
        load_scenario(tiny_dict(geography={"speed_factor_by_tour": {"night": 1.2}}))


def test_tour_model_start_hour():
    """Tour helper used for the speed rule: 17:30 -> 17.5 h."""
    assert Tour(name="x", start="17:30", hours=8).start_hour == 17.5


def test_cli_travel_times_round_trip(tmp_path):
    """`bheard data travel-times` writes the formula's minutes; fed back as
    geography.travel_times it gives the same response sets as the formula."""
    from typer.testing import CliRunner

    from bheard.cli import app
    from bheard.data import precincts

    out = tmp_path / "tt.csv"
    res = CliRunner().invoke(app, ["data", "travel-times", "-o", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert len(df) == 78 * 78 * 3
    sel = precincts().set_index("precinct").loc[[25, 28, 32]].reset_index()
    base = tiny_dict(coverage={"mode": "shared"})
    a = slot_reach(load_scenario(base), sel, ["day", "evening"])
    b = slot_reach(load_scenario({**base, "geography": {"travel_times": str(out)}}), sel,
                   ["day", "evening"])
    assert (a == b).all()
    bad = CliRunner().invoke(app, ["reach", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2
