"""Demand for B-HEARD teams: ingest NYC 911 exports, forecast eligible calls/hour, synthesize
realistic (clearly synthetic) call records.

Public API:

- :func:`ingest` -> :class:`IngestResult` (weekly counts per (precinct, hour of week) and an
  :class:`IngestReport` counting every row by reason);
- :func:`forecast_hourly` (the contract used by scenarios) and :func:`forecast_calls` ->
  :class:`ForecastResult`; :func:`fit_count_model` -> :class:`CountModel`;
- :func:`backtest` -> :class:`BacktestResult`;
- :func:`synthesize` -> :class:`SynthResult`, :func:`true_hourly_rates` (the generator's truth).

Classification rules: :class:`EligibilityRules`. Model write-up: ``models/forecast.md``.
"""

from bheard.demand.forecast import (
    BacktestResult,
    CountModel,
    ForecastResult,
    backtest,
    fit_count_model,
    forecast_calls,
    forecast_hourly,
)
from bheard.demand.ingest import FileReport, IngestReport, IngestResult, detect_source, ingest, read_counts
from bheard.demand.rules import EligibilityRules
from bheard.demand.synth import SynthConfig, SynthResult, synthesize, true_hourly_rates

__all__ = [
    "BacktestResult",
    "CountModel",
    "EligibilityRules",
    "FileReport",
    "ForecastResult",
    "IngestReport",
    "IngestResult",
    "SynthConfig",
    "SynthResult",
    "backtest",
    "detect_source",
    "fit_count_model",
    "forecast_calls",
    "forecast_hourly",
    "ingest",
    "read_counts",
    "synthesize",
    "true_hourly_rates",
]
