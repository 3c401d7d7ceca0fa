"""Ingest of NYC 911 exports: schema detection, parsing, row accounting by reason, counts."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bheard.demand import EligibilityRules, detect_source, ingest, read_counts
from bheard.demand.ingest import parse_timestamps
from bheard.errors import InputError

DATA = Path(__file__).parent / "data"
EMS_FILE = DATA / "ems_defects.csv"
NYPD_FILE = DATA / "nypd_defects.csv"




def _ems(precinct_table, **kw):
    return ingest(EMS_FILE, start="2024-01-01", end="2024-01-15", precincts=precinct_table, **kw)


def test_detect_source_from_header():
    """EMS and NYPD exports are recognised by their real column names."""
    assert detect_source(EMS_FILE) == "ems"
    assert detect_source(NYPD_FILE) == "nypd"


def test_missing_columns_lists_missing_and_found():
    """A file missing required columns fails naming them and the columns it has."""
    with pytest.raises(InputError) as err:
        detect_source(DATA / "ems_missing_columns.csv")
    msg = str(err.value)
    assert "INITIAL_CALL_TYPE" in msg and "POLICEPRECINCT" in msg
    assert "BOROUGH" in msg  # a column found
    assert err.value.file.endswith("ems_missing_columns.csv")


def test_unrecognised_file_fails(tmp_path):
    """A CSV that is neither export names the expected columns."""
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="CAD_INCIDENT_ID"):
        ingest(f, precincts=[25])


def test_timestamp_formats():
    """Export format, ISO 8601 and 24-hour US format parse; garbage is NaT."""
    s = pd.Series(["01/31/2024 11:05:23 PM", "2024-01-31T23:05:23", "01/31/2024 23:05:23", "junk", ""])
    out = parse_timestamps(s)
    assert list(out[:3]) == [pd.Timestamp("2024-01-31 23:05:23")] * 3
    assert out[3:].isna().all()


def test_ems_defect_counts_match_hand_count(precinct_table):
    """tests/data/ems_defects.csv, counted by hand: 20 rows, 2 non-MH, 1 no type, 17 MH rows:
    2 duplicate ids, 2 bad times, 2 out of range, 2 bad precincts, 2 unknown precincts, 7 kept
    (4 EDPM)."""
    rep = _ems(precinct_table).report
    f = rep.files[0]
    assert (f.rows, f.not_mental_health, f.missing_call_type, f.mental_health_rows) == (20, 2, 1, 17)
    assert (f.duplicate_id, f.missing_time, f.out_of_range_date) == (2, 2, 2)
    assert (f.missing_precinct, f.unknown_precinct, f.partial_week) == (2, 2, 0)
    assert f.kept_mh_calls == 7 and f.kept_eligible_calls == 4
    assert f.rows == f.not_mental_health + f.missing_call_type + f.dropped + f.kept_mh_calls
    assert (rep.period_start.isoformat(), rep.weeks) == ("2024-01-01", 2)


def test_ems_weekly_counts_by_hand(precinct_table):
    """Kept calls land in the hand-computed (week, precinct, hour-of-week) cells."""
    counts = _ems(precinct_table).counts
    got = {
        (str(r.week_start.date()), r.precinct, r.hour_of_week): (r.mh_calls, r.eligible_calls)
        for r in counts.itertuples()
    }
    assert got == {
        ("2024-01-01", 25, 0): (1, 1.0),  # Mon 00:30 EDPM
        ("2024-01-01", 25, 23): (1, 0.0),  # Mon 23:05 EDP
        ("2024-01-01", 75, 33): (1, 0.0),  # Tue 09:15 EDPC (ISO time)
        ("2024-01-01", 28, 86): (1, 1.0),  # Thu 14:00, empty initial type, final EDPM
        ("2024-01-08", 25, 9): (1, 1.0),  # Mon 09:00, precinct "25.0"
        ("2024-01-08", 25, 37): (1, 0.0),  # Tue 13:00 (24-hour format)
        ("2024-01-08", 116, 167): (1, 1.0),  # Sun 23:59:59, lower-case edpm
    }


def test_partial_weeks_counted_without_explicit_range(precinct_table):
    """Without start/end the Dec 31 and Jan 20 calls are in range but in partial weeks."""
    rep = ingest(EMS_FILE, precincts=precinct_table).report
    f = rep.files[0]
    assert (f.out_of_range_date, f.partial_week, f.kept_mh_calls) == (0, 2, 7)
    assert (str(rep.period_start), str(rep.period_end)) == ("2024-01-01", "2024-01-15")


def test_nypd_defect_counts_and_share(precinct_table):
    """tests/data/nypd_defects.csv: 8 rows, 1 non-MH (10H1), 7 54E* rows: 1 duplicate, 1 no time,
    1 no precinct, 1 unknown precinct, 3 kept; eligible = 3 x 0.385."""
    res = ingest(NYPD_FILE, start="2024-01-01", end="2024-01-08", precincts=precinct_table)
    f = res.report.files[0]
    assert (f.rows, f.not_mental_health, f.mental_health_rows) == (8, 1, 7)
    assert (f.duplicate_id, f.missing_time, f.missing_precinct, f.unknown_precinct) == (1, 1, 1, 1)
    assert f.kept_mh_calls == 3
    assert f.kept_eligible_calls == pytest.approx(3 * 0.385)
    cells = sorted((r.precinct, r.hour_of_week) for r in res.counts.itertuples())
    assert cells == [(25, 0), (40, 37), (75, 62)]  # Mon 00, Tue 13, Wed 14
    share = ingest(NYPD_FILE, start="2024-01-01", end="2024-01-08", precincts=precinct_table,
                   rules=EligibilityRules(nypd_eligible_share=0.5)).report.files[0]
    assert share.kept_eligible_calls == pytest.approx(1.5)


def test_gzip_and_small_chunks_give_same_counts(precinct_table, tmp_path):
    """A gzipped copy read in 3-row chunks gives identical counts and report (duplicates across
    chunks are still caught)."""
    gz = tmp_path / "ems.csv.gz"
    with open(EMS_FILE, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    a = _ems(precinct_table)
    b = ingest(gz, start="2024-01-01", end="2024-01-15", precincts=precinct_table, chunk_rows=3)
    pd.testing.assert_frame_equal(a.counts, b.counts)
    assert b.report.files[0].duplicate_id == 2


def test_folder_and_lowercase_columns(precinct_table, tmp_path):
    """A folder of exports is read; API-style lower-case column names are accepted."""
    text = EMS_FILE.read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join([text[0].lower()] + text[1:]) + "\n")
    res = ingest(tmp_path, start="2024-01-01", end="2024-01-15", precincts=precinct_table)
    assert res.report.files[0].kept_mh_calls == 7


def test_counts_file_roundtrip(precinct_table, tmp_path):
    """save_counts then read_counts restores the counts and the covered weeks."""
    res = _ems(precinct_table)
    path = res.save_counts(tmp_path / "counts.csv")
    back = read_counts(path)
    pd.testing.assert_frame_equal(
        res.counts.reset_index(drop=True), back.counts.reset_index(drop=True), check_dtype=False
    )
    assert back.report.weeks == 2 and str(back.report.period_start) == "2024-01-01"


def test_report_json_and_cli(precinct_table, tmp_path, monkeypatch):
    """`bheard ingest` prints the table and writes ingest_report.json with the hand counts."""
    from bheard.cli import app  # the real CLI, with the demand commands registered

    report = tmp_path / "ingest_report.json"
    counts = tmp_path / "counts.csv"
    result = CliRunner().invoke(
        app,
        ["ingest", str(EMS_FILE), "--start", "2024-01-01", "--end", "2024-01-15", "--report", str(report), "--counts", str(counts)],
    )
    assert result.exit_code == 0, result.output
    assert "duplicate_id" in result.output and "unknown_precinct" in result.output
    data = json.loads(report.read_text())
    assert data["totals"]["duplicate_id"] == 2 and data["totals"]["kept_mh_calls"] == 7
    assert data["full_weeks"] == 2
    assert len(pd.read_csv(counts)) == 7


def test_cli_missing_columns_exits_2_with_the_columns(tmp_path):
    """`bheard ingest` on a file missing required columns: exit 2, the missing column named,
    no traceback (as a user runs it)."""
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("bheard"))
    r = subprocess.run([exe, "ingest", str(DATA / "ems_missing_columns.csv"), "--report",
                        str(tmp_path / "r.json")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "POLICEPRECINCT" in r.stderr and "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "r.json").exists()


def test_bad_range_and_missing_file(precinct_table, tmp_path):
    """end before start and a missing path are input errors."""
    with pytest.raises(InputError):
        ingest(EMS_FILE, start="2024-02-01", end="2024-01-01", precincts=precinct_table)
    with pytest.raises(InputError):
        ingest(tmp_path / "nope.csv", precincts=precinct_table)


def test_files_with_a_gap_keep_only_covered_weeks(precinct_table, tmp_path):
    """Q1 2024 (13 weeks, shipped sample) + 4 synthetic weeks from 2024-06-03: 17 covered weeks,
    the 896 days between are a gap (not zero demand), and a counts file keeps exactly them."""
    from bheard.demand import synthesize

    sample = Path(__file__).parents[1] / "data" / "synthetic" / "ems_mh_synthetic_2024q1.csv.gz"
    later = synthesize(tmp_path / "june.csv", years=28 / 365.25, start="2024-06-03", seed=1, precincts=precinct_table)
    res = ingest([sample, later.path], precincts=precinct_table)
    rep = res.report
    assert rep.weeks == 17 and len(rep.gap_weeks) == 9  # 2024-04-01 .. 2024-05-27
    assert str(rep.gap_weeks[0]) == "2024-04-01" and str(rep.gap_weeks[-1]) == "2024-05-27"
    assert rep.totals()["partial_week"] == 0
    back = read_counts(res.save_counts(tmp_path / "counts.csv"))
    assert back.report.covered_weeks == rep.covered_weeks
