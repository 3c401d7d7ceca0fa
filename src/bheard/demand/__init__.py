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

import importlib
import sys
import types

#: public name -> module; imported on first use (the forecast needs scipy.stats, about 1 s,
#: which a prior-demand solve never does)
_EXPORTS = {
    **dict.fromkeys(("BacktestResult", "CountModel", "ForecastResult", "backtest",
                     "fit_count_model", "forecast_calls", "forecast_hourly"),
                    "bheard.demand.forecast"),
    **dict.fromkeys(("FileReport", "IngestReport", "IngestResult", "detect_source", "ingest",
                     "read_counts"), "bheard.demand.ingest"),
    "EligibilityRules": "bheard.demand.rules",
    **dict.fromkeys(("SynthConfig", "SynthResult", "synthesize", "true_hourly_rates"),
                    "bheard.demand.synth"),
}


class _Package(types.ModuleType):
    """``bheard.demand.ingest`` is a function of the API and a module of the package: keep the
    attribute the function when the module is imported (it stays in ``sys.modules``)."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == f"{self.__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bheard.demand' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


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
