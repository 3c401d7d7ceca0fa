"""Forecast model: known-value fits, truth recovery on synthetic history, backtest, contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bheard.demand import backtest, fit_count_model, forecast_calls, forecast_hourly, ingest, synthesize, true_hourly_rates
from bheard.cli import app
from bheard.demand.forecast import CountArrays, poisson_deviance, to_arrays
from bheard.demand.synth import SynthConfig
from bheard.errors import InputError

DATA = Path(__file__).parent / "data"
SEED = 7
TARGET = "2024-12-30"  # first Monday after the 156 full history weeks




@pytest.fixture(scope="module")
def history(tmp_path_factory, precinct_table):
    """3 years of synthetic EMS records (seed 7) written as an export and ingested."""
    path = tmp_path_factory.mktemp("hist") / "ems_synth.csv"
    synthesize(path, years=3, start="2022-01-03", seed=SEED, precincts=precinct_table)
    return path, ingest(path, precincts=precinct_table)


@pytest.fixture(scope="module")
def fitted(history, precinct_table):
    return forecast_calls(history[1], TARGET, 4, precincts=precinct_table)


def test_poisson_deviance_known_value():
    """y = (0, 2), mu = (1, 1): mean of 2*1 and 2*(2 ln 2 - 1) = 1.3863."""
    assert poisson_deviance(np.array([0, 2]), np.array([1.0, 1.0])) == pytest.approx(1.386294, rel=1e-6)


def test_exact_multiplicative_data_is_recovered():
    """Noise-free y[p,w,h] = A_p H_h (no trend/season) is fitted exactly: MLE of a saturated
    multiplicative structure reproduces it."""
    rng = np.random.default_rng(0)
    A = np.array([0.5, 2.0, 1.2])
    Hh = rng.uniform(0.2, 1.8, 168)
    Hh *= 168 / Hh.sum()
    y = np.broadcast_to(A[:, None, None] * Hh[None, None, :], (3, 6, 168)).copy()
    arr = CountArrays(np.array([1, 5, 6]), np.array(["Manhattan"] * 3), pd.date_range("2024-01-01", periods=6, freq="7D"), y, 0.4 * y, "ems")
    model = fit_count_model(arr, trend=False, season=False)
    pred = model.predict("2024-03-04", 2, quantiles=(0.5,))
    np.testing.assert_allclose(pred["mh_calls_per_hour"].to_numpy(), (A[:, None] * Hh).ravel(), rtol=1e-6)
    np.testing.assert_allclose(pred["eligible_calls_per_hour"].to_numpy(), 0.4 * (A[:, None] * Hh).ravel(), rtol=1e-6)
    assert model.alpha == 0.0


def test_forecast_recovers_true_rates(fitted, precinct_table):
    """On 3 years of synthetic history the 4-week forecast of eligible calls/hour is within 6 % of
    the generator's truth citywide, 8 % cell-weighted (per precinct x hour of week) and 6 %
    precinct-weighted; growth within 2 points of 2.5 %/yr; eligible share within 0.005 of 0.385."""
    truth = true_hourly_rates(TARGET, 4, SynthConfig(seed=SEED), precinct_table)
    f = fitted.table
    assert list(f["precinct"]) == list(truth["precinct"])
    est, tru = f["eligible_calls_per_hour"].to_numpy(), truth["eligible_calls_per_hour"].to_numpy()
    assert abs(est.sum() / tru.sum() - 1) < 0.06
    assert np.abs(est - tru).sum() / tru.sum() < 0.08
    fp = f.groupby("precinct")["eligible_calls_per_hour"].sum()
    tp = truth.groupby("precinct")["eligible_calls_per_hour"].sum()
    assert (fp - tp).abs().sum() / tp.sum() < 0.06
    growth = np.exp(fitted.model.coef[1]) - 1
    assert abs(growth - 0.025) < 0.02
    share = np.average(fitted.model.eligible_share, weights=fitted.model.level)
    assert share == pytest.approx(0.385, abs=0.005)


def test_sparse_precinct_borrows_borough_profile(fitted, history):
    """Precinct 22 (Central Park, ~2.5 calls/yr) gets Manhattan's profile, not its few raw calls."""
    m = fitted.model
    i22 = int(np.where(m.precincts == 22)[0][0])
    i1 = int(np.where(m.precincts == 1)[0][0])
    assert np.corrcoef(m.profile[i22], m.profile[i1])[0, 1] > 0.99
    raw = to_arrays(history[1], pd.DataFrame({"precinct": m.precincts, "borough": m.boroughs})).mh
    assert (raw[i22].sum(axis=0) == 0).sum() > 140  # most of its 168 cells never saw a call


def test_intervals_are_ordered(fitted):
    """q10 <= q50 <= q90 and the mean lies inside [q10, q90] for every cell with calls."""
    t = fitted.table
    assert (t["q10"] <= t["q50"] + 1e-12).all() and (t["q50"] <= t["q90"] + 1e-12).all()
    busy = t["eligible_calls_per_hour"] > 0.01
    assert ((t.loc[busy, "q10"] <= t.loc[busy, "eligible_calls_per_hour"]) & (t.loc[busy, "eligible_calls_per_hour"] <= t.loc[busy, "q90"])).all()


def test_backtest_beats_baselines(history, precinct_table):
    """Rolling origin (4 x 4 weeks): model deviance below seasonal-naive, last-4-weeks and flat."""
    bt = backtest(history[1], precincts=precinct_table)
    s = bt.scores.set_index("method")["poisson_deviance"]
    assert set(s.index) == {"model", "seasonal_naive_52w", "last_4_weeks_mean", "flat_mean"}
    assert s["model"] < s["seasonal_naive_52w"]
    assert s["model"] < s["last_4_weeks_mean"]
    assert s["model"] < s["flat_mean"]
    assert len(bt.origins) == 4 and len(bt.by_origin) == 16


def test_forecast_hourly_contract(history, precinct_table, tmp_path):
    """Columns, one row per (precinct, hour), ints, calls_per_hour == q50 at quantile 0.5; a
    counts file gives the same forecast as the export; a precinct subset is honoured."""
    path, ingested = history
    counts = ingested.save_counts(tmp_path / "counts.csv")
    out = forecast_hourly(counts, TARGET, 2, precincts=precinct_table)
    assert list(out.columns) == ["precinct", "hour_of_week", "calls_per_hour", "q10", "q50", "q90"]
    assert len(out) == 78 * 168 and out["hour_of_week"].between(0, 167).all()
    assert out["precinct"].dtype.kind == "i" and out["hour_of_week"].dtype.kind == "i"
    np.testing.assert_allclose(out["calls_per_hour"], out["q50"])
    again = forecast_hourly(ingested, TARGET, 2, precincts=precinct_table)
    np.testing.assert_allclose(out["calls_per_hour"], again["calls_per_hour"], rtol=1e-9)
    sub = forecast_hourly(ingested, TARGET, 2, quantile=0.9, precincts=[25, 75])
    assert sorted(sub["precinct"].unique()) == [25, 75] and len(sub) == 2 * 168
    q90 = out.set_index(["precinct", "hour_of_week"]).loc[sub.set_index(["precinct", "hour_of_week"]).index, "q90"]
    np.testing.assert_allclose(sub["calls_per_hour"].to_numpy(), q90.to_numpy(), rtol=1e-9)


def test_input_errors(history, precinct_table):
    """Bad weeks, quantile, date, unknown precinct and mixed sources are InputErrors."""
    ing = history[1]
    for kw in ({"weeks": 0}, {"quantile": 1.5}, {"target_start": "not a date"}):
        args = {"target_start": TARGET, "weeks": 4, "quantile": 0.5} | kw
        with pytest.raises(InputError):
            forecast_hourly(ing, args["target_start"], args["weeks"], args["quantile"], precincts=precinct_table)
    with pytest.raises(InputError, match="999"):
        forecast_hourly(ing, TARGET, 1, precincts=[25, 999])
    mixed = ingest([DATA / "ems_defects.csv", DATA / "nypd_defects.csv"], start="2024-01-01", end="2024-01-15", precincts=precinct_table)
    with pytest.raises(InputError, match="twice"):
        forecast_hourly(mixed, "2024-01-15", 1, precincts=precinct_table)


def test_short_history_has_no_season(precinct_table):
    """The shipped 13-week sample forecasts without trend/season and says so."""
    sample = Path(__file__).parents[1] / "data" / "synthetic" / "ems_mh_synthetic_2024q1.csv.gz"
    res = forecast_calls(sample, "2024-04-01", 1, precincts=precinct_table)
    assert not res.model.use_season and not res.model.use_trend
    assert any("seasonality" in n for n in res.model.notes)
    # citywide: 175k calls/yr / 8766 h = 20 calls/hour, x ~0.95 (winter) x 0.385 = 7.3 eligible/hour
    assert 6.5 < res.table["eligible_calls_per_hour"].sum() / 168 < 8.0


def test_cli_forecast_with_backtest(history, tmp_path, monkeypatch):
    """`bheard forecast COUNTS --out f.csv --backtest` writes the forecast and backtest files."""
    try:
        from bheard.data import precincts

        precincts()
    except FileNotFoundError:
        monkeypatch.setenv("BHEARD_DATA_DIR", str(DATA))
    counts = history[1].save_counts(tmp_path / "counts.csv")
    out = tmp_path / "f.csv"
    res = CliRunner().invoke(app, ["forecast", str(counts), "--out", str(out), "--weeks", "2", "--backtest", "--origins", "2"])
    assert res.exit_code == 0, res.output
    f = pd.read_csv(out)
    assert len(f) == 78 * 168 and {"calls_per_hour", "q10", "q90"} <= set(f.columns)
    bt = json.loads((tmp_path / "f.backtest.json").read_text())
    assert {r["method"] for r in bt["scores"]} >= {"model", "seasonal_naive_52w"}
    assert "seasonal_naive_52w" in res.output
