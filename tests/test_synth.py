"""Synthetic EMS records: schema, marking, determinism and calibration to published aggregates."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bheard.demand import ingest, synthesize
from bheard.demand.synth import EMS_COLUMNS, SynthConfig, generate_records, hour_of_week_profile, precinct_weights

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).parents[1] / "data" / "synthetic" / "ems_mh_synthetic_2024q1.csv.gz"
EXPORT_TIME = re.compile(r"^\d{2}/\d{2}/\d{4} (0[1-9]|1[0-2]):[0-5]\d:[0-5]\d (AM|PM)$")




@pytest.fixture(scope="module")
def year_2024(precinct_table) -> pd.DataFrame:
    cfg = SynthConfig(start=pd.Timestamp("2024-01-01").date(), years=1.0, seed=11)
    return generate_records(cfg, precinct_table)


def test_schema_and_marking(year_2024):
    """All 31 export columns in order, ids prefixed SYN, export timestamp format."""
    assert tuple(year_2024.columns) == EMS_COLUMNS and len(EMS_COLUMNS) == 31
    assert year_2024["CAD_INCIDENT_ID"].str.startswith("SYN").all()
    assert year_2024["CAD_INCIDENT_ID"].is_unique
    sample = year_2024["INCIDENT_DATETIME"].iloc[::997]
    assert sample.str.match(EXPORT_TIME).all()


def test_calibrated_volume_split_and_mix(year_2024, precinct_table):
    """2024: 175,000 MH calls +-2 % (S-mh-calls-2024, S-every-3-minutes), 80 % +-0.5 pt in 09:00-01:00 (S-time-of-day),
    EDPM 38.5 % +-0.5 pt (S-audit-eligible)."""
    r = year_2024
    n = len(r)
    assert n == pytest.approx(175_000 * 366 / 365.25, rel=0.02)
    hour = pd.to_datetime(r["INCIDENT_DATETIME"], format="%m/%d/%Y %I:%M:%S %p").dt.hour
    day_share = ((hour >= 9) | (hour < 1)).mean()
    assert day_share == pytest.approx(0.80, abs=0.005)
    assert (r["INITIAL_CALL_TYPE"] == "EDPM").mean() == pytest.approx(0.385, abs=0.005)


def test_high_need_uplift(year_2024, precinct_table):
    """Zone 7 (25/28/32) at 2.3x and the 75th at 1.35x the city per-capita rate (S-need-uplift),
    exactly in the rates and within sampling noise in the records."""
    w = precinct_weights(SynthConfig(), precinct_table)
    city = w["mh_calls_per_year"].sum() / w["pop_2020"].sum()
    z7 = w[w["precinct"].isin([25, 28, 32])]
    assert z7["mh_calls_per_year"].sum() / z7["pop_2020"].sum() / city == pytest.approx(2.3, rel=1e-6)
    p75 = w[w["precinct"] == 75].iloc[0]
    assert p75["mh_calls_per_year"] / p75["pop_2020"] / city == pytest.approx(1.35, rel=1e-6)
    counts = year_2024["POLICEPRECINCT"].astype(int).value_counts()
    pop = precinct_table.set_index("precinct")["pop_2020"]
    city_obs = counts.sum() / pop.sum()
    z7_obs = counts[[25, 28, 32]].sum() / pop[[25, 28, 32]].sum() / city_obs
    assert z7_obs == pytest.approx(2.3, rel=0.06)


def test_profile_day_share_exact():
    """Every borough's hour-of-week profile has mean 1 and exactly 80 % of mass in 09-01."""
    for b in ("Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island"):
        prof = hour_of_week_profile(b)
        day = np.array([not (1 <= (h % 24) <= 8) for h in range(168)])
        assert prof.mean() == pytest.approx(1.0) and prof[day].sum() / prof.sum() == pytest.approx(0.8)


def test_deterministic_by_seed(precinct_table):
    """Same seed, same rows; another seed, other rows."""
    cfg = SynthConfig(start=pd.Timestamp("2024-03-04").date(), years=14 / 365.25, seed=3)
    a = generate_records(cfg, precinct_table)
    b = generate_records(cfg, precinct_table)
    pd.testing.assert_frame_equal(a, b)
    c = generate_records(SynthConfig(start=cfg.start, years=cfg.years, seed=4), precinct_table)
    assert not a["INCIDENT_DATETIME"].equals(c["INCIDENT_DATETIME"])


def test_other_calls_are_not_mental_health(precinct_table, tmp_path):
    """With other_calls_per_mh_call=2, about 2/3 of rows are non-EDP and ingest drops them as such."""
    cfg = SynthConfig(start=pd.Timestamp("2024-03-04").date(), years=14 / 365.25, seed=5, other_calls_per_mh_call=2.0)
    res = synthesize(tmp_path / "x.csv", config=cfg, precincts=precinct_table)
    rep = ingest(res.path, precincts=precinct_table).report.files[0]
    assert rep.not_mental_health == res.rows - res.mh_calls
    assert rep.not_mental_health / rep.rows == pytest.approx(2 / 3, abs=0.02)
    assert rep.mental_health_rows == res.mh_calls


def test_shipped_sample(precinct_table):
    """The shipped sample is small (< 2 MB), marked synthetic, and ingests without any defect."""
    assert SAMPLE.exists() and SAMPLE.stat().st_size < 2_000_000
    note = SAMPLE.with_name(SAMPLE.name + ".SYNTHETIC.txt").read_text()
    assert "SYNTHETIC DATA - NOT REAL 911 RECORDS" in note
    res = ingest(SAMPLE, precincts=precinct_table)
    f = res.report.files[0]
    assert f.dropped == 0 and f.kept_mh_calls == f.rows
    assert (str(res.report.period_start), res.report.weeks) == ("2024-01-01", 13)


def test_cli_synth_writes_marked_file(tmp_path, precinct_table, monkeypatch):
    """`bheard data synth` writes the CSV, the sidecar and prints the SYNTHETIC banner."""
    from bheard.cli import app  # the real CLI, with the demand commands registered

    out = tmp_path / "s.csv.gz"
    res = CliRunner().invoke(app, ["data", "synth", "--years", "0.05", "--out", str(out), "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output
    assert out.exists() and (tmp_path / "s.csv.gz.SYNTHETIC.txt").exists()
    df = pd.read_csv(out, dtype=str)
    assert list(df.columns) == list(EMS_COLUMNS)
    bad = CliRunner().invoke(app, ["data", "synth", "--years", "0", "--out", str(out)])
    assert bad.exit_code == 2 and "--years" in bad.output and "Traceback" not in bad.output
