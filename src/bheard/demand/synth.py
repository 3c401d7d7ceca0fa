"""Synthetic FDNY EMS dispatch records for mental-health calls (clearly marked as synthetic).

No public per-precinct counts of mental-health 911 calls exist (docs/sources.md S-precinct-counts-gap), so this
module writes call records in the schema of NYC Open Data "EMS Incident Dispatch Data"
(``76xm-jjuj``, S-ems-dispatch: all 31 columns, same names, same timestamp format
``01/31/2024 11:05:23 PM``), drawn from known hourly rates calibrated to the published
aggregates:

- citywide volume: 175,000 mental-health (EDP*) calls in 2024 (S-mh-calls-2024, S-every-3-minutes), growing
  2.5 %/year (S-edp-trend, S-edp-2022, S-fdny-mh-growth: about +12 % from 2019 to 2024);
- 80 % of calls between 09:00 and 01:00, 20 % between 01:00 and 09:00 (S-time-of-day);
- spatial weights: 2020 population x a high-need uplift, solved so that Zone 7 (precincts
  25/28/32) has 2.3x and the 75th 1.35x the citywide per-capita rate (S-need-uplift);
- call types: EDPM (non-violent, B-HEARD-eligible) 38.5 % (S-audit-eligible), EDPC (violent/weapons)
  10 % (assumption), EDP the rest;
- a weekly rhythm (weekdays higher, weekend early mornings higher: assumption, no published
  profile, S-weekly-profile) with small borough differences, and a yearly rhythm peaking in
  August (S-weekly-profile: summer/autumn peak);
- over-dispersion: a citywide day shock (gamma, CV 10 %) and a precinct-week shock (gamma,
  CV 20 %), both with mean 1, so the expected rates (:func:`true_hourly_rates`) are exact.

Every output says it is synthetic: ``CAD_INCIDENT_ID`` starts with ``SYN``, a sidecar
``<file>.SYNTHETIC.txt`` explains the method, and the CLI prints a banner. The generator is
seeded and deterministic. The model is written up in ``models/forecast.md``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.errors import InputError, OutputError
from bheard.io import ensure_dir

#: The 31 columns of the EMS Incident Dispatch Data export, in export order (S-ems-dispatch).
EMS_COLUMNS: tuple[str, ...] = (
    "CAD_INCIDENT_ID",
    "INCIDENT_DATETIME",
    "INITIAL_CALL_TYPE",
    "INITIAL_SEVERITY_LEVEL_CODE",
    "FINAL_CALL_TYPE",
    "FINAL_SEVERITY_LEVEL_CODE",
    "FIRST_ASSIGNMENT_DATETIME",
    "VALID_DISPATCH_RSPNS_TIME_INDC",
    "DISPATCH_RESPONSE_SECONDS_QY",
    "FIRST_ACTIVATION_DATETIME",
    "FIRST_ON_SCENE_DATETIME",
    "VALID_INCIDENT_RSPNS_TIME_INDC",
    "INCIDENT_RESPONSE_SECONDS_QY",
    "INCIDENT_TRAVEL_TM_SECONDS_QY",
    "FIRST_TO_HOSP_DATETIME",
    "FIRST_HOSP_ARRIVAL_DATETIME",
    "INCIDENT_CLOSE_DATETIME",
    "HELD_INDICATOR",
    "INCIDENT_DISPOSITION_CODE",
    "BOROUGH",
    "INCIDENT_DISPATCH_AREA",
    "ZIPCODE",
    "POLICEPRECINCT",
    "CITYCOUNCILDISTRICT",
    "COMMUNITYDISTRICT",
    "COMMUNITYSCHOOLDISTRICT",
    "CONGRESSIONALDISTRICT",
    "REOPEN_INDICATOR",
    "SPECIAL_EVENT_INDICATOR",
    "STANDBY_INDICATOR",
    "TRANSFER_INDICATOR",
)

#: Borough names as the EMS export writes them.
EMS_BOROUGH_NAMES = {
    "Manhattan": "MANHATTAN",
    "Bronx": "BRONX",
    "Brooklyn": "BROOKLYN",
    "Queens": "QUEENS",
    "Staten Island": "RICHMOND / STATEN ISLAND",
}

SYNTHETIC_ID_PREFIX = "SYN"

# Hour-of-day shape (relative), before the 80/20 day/night rescaling (assumption; S-weekly-profile says
# calls peak 15:00-20:00 in NYPD data overall).
_NIGHT_HOURS = (1, 2, 3, 4, 5, 6, 7, 8)  # 01:00-09:00
_HOUR_SHAPE = {
    0: 2.1, 1: 1.6, 2: 1.3, 3: 1.1, 4: 0.9, 5: 0.8, 6: 0.85, 7: 1.0, 8: 1.4,
    9: 2.6, 10: 3.2, 11: 3.6, 12: 3.9, 13: 4.1, 14: 4.3, 15: 4.6, 16: 4.8, 17: 4.9,
    18: 4.8, 19: 4.6, 20: 4.3, 21: 3.9, 22: 3.4, 23: 2.8,
}  # fmt: skip
# Day-of-week multipliers Mon..Sun (assumption: no published profile, S-weekly-profile).
_DOW_SHAPE = (1.04, 1.05, 1.05, 1.04, 1.00, 0.93, 0.89)

_OTHER_CALL_TYPES = ("SICK", "DIFFBR", "INJURY", "UNC", "CARD", "DRUG", "MVAINJ", "ABDPN", "FALL")


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of the synthetic call generator (defaults calibrated to published aggregates, docs/sources.md)."""

    start: dt.date = dt.date(2022, 1, 3)
    years: float = 3.0
    seed: int = 0
    mh_calls_per_year: float = 175_000.0  # citywide, in reference_year (S-mh-calls-2024, S-every-3-minutes)
    reference_year: int = 2024
    growth_per_year: float = 0.025  # S-edp-trend, S-edp-2022, S-fdny-mh-growth
    day_share: float = 0.80  # share of calls 09:00-01:00 (S-time-of-day)
    eligible_share: float = 0.385  # EDPM share of MH calls (S-audit-eligible)
    violent_share: float = 0.10  # EDPC share (assumption)
    uplift: tuple[tuple[int, float], ...] = ((25, 2.3), (28, 2.3), (32, 2.3), (75, 1.35))
    seasonal_amplitude: float = 0.07  # +-7 % over the year, peak in August (assumption)
    day_shock_cv: float = 0.10  # citywide day-to-day variation (gamma, mean 1)
    week_shock_cv: float = 0.20  # precinct-week variation (gamma, mean 1)
    other_calls_per_mh_call: float = 0.0  # non-MH rows to add (the real export has ~9 per MH call)

    @property
    def end(self) -> dt.date:
        """First day after the generated period."""
        return self.start + dt.timedelta(days=int(round(365.25 * self.years)))


@dataclass
class SynthResult:
    """What :func:`synthesize` wrote."""

    path: Path | None
    sidecar_path: Path | None
    rows: int
    mh_calls: int
    eligible_calls: int
    start: dt.date
    end: dt.date
    config: SynthConfig
    records: pd.DataFrame | None = field(default=None, repr=False)

    def summary(self) -> str:
        return (
            f"SYNTHETIC data (not real 911 records): {self.rows:,} rows, {self.mh_calls:,} "
            f"mental-health calls ({self.eligible_calls:,} EDPM), {self.start} to {self.end}"
            + (f", written to {self.path}" if self.path else "")
        )


# ----------------------------------------------------------------------------- rates (truth)


def _precinct_table(precincts: pd.DataFrame | None) -> pd.DataFrame:
    if precincts is None:
        from bheard.data import precincts as _load

        precincts = _load()
    table = precincts[["precinct", "borough", "pop_2020"]].copy()
    table["precinct"] = table["precinct"].astype(int)
    table["pop_2020"] = pd.to_numeric(table["pop_2020"], errors="coerce").fillna(0.0)
    return table.sort_values("precinct").reset_index(drop=True)


def precinct_weights(config: SynthConfig, precincts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Annual MH calls per precinct in ``config.reference_year`` (calls/year).

    Population x uplift, the uplifts solved so that each uplifted precinct's per-capita rate is
    exactly ``uplift`` x the citywide per-capita rate (S-need-uplift), scaled to
    ``config.mh_calls_per_year``.
    """
    table = _precinct_table(precincts)
    pop = table["pop_2020"].to_numpy(float)
    target = dict(config.uplift)
    u = np.array([target.get(p, 1.0) for p in table["precinct"]])
    is_up = np.array([p in target for p in table["precinct"]])
    want = u.copy()
    for _ in range(50):  # fixed point: u_i * sum(pop) / sum(pop * u) == want_i
        scale = (pop * u).sum() / pop.sum()
        u = np.where(is_up, want * scale, 1.0)
    w = pop * u
    table["uplift"] = u
    table["mh_calls_per_year"] = config.mh_calls_per_year * w / w.sum()
    return table


def hour_of_week_profile(borough: str, config: SynthConfig | None = None) -> np.ndarray:
    """Relative rate by hour of week (168 values, mean 1) for a borough.

    Hour-of-day shape x day-of-week multipliers, early weekend mornings (Sat/Sun 01-05) x1.25,
    Manhattan weekday 09-17 x1.10, Bronx evenings 18-24 x1.06; then rescaled so that exactly
    ``day_share`` of the weekly volume falls in 09:00-01:00 (S-time-of-day).
    """
    config = config or SynthConfig()
    prof = np.empty(168)
    for d in range(7):
        for h in range(24):
            v = _HOUR_SHAPE[h] * _DOW_SHAPE[d]
            if d in (5, 6) and 1 <= h <= 4:
                v *= 1.25
            if borough == "Manhattan" and d < 5 and 9 <= h < 17:
                v *= 1.10
            if borough == "Bronx" and h >= 18:
                v *= 1.06
            prof[d * 24 + h] = v
    night = np.array([(i % 24) in _NIGHT_HOURS for i in range(168)])
    prof[night] *= (1 - config.day_share) / prof[night].sum()
    prof[~night] *= config.day_share / prof[~night].sum()
    return prof * 168.0


def month_factor(months: np.ndarray, config: SynthConfig) -> np.ndarray:
    """Yearly rhythm: 1 + A cos(2 pi (month - 8) / 12), mean 1 over the 12 months."""
    return 1.0 + config.seasonal_amplitude * np.cos(2 * np.pi * (np.asarray(months) - 8) / 12.0)


def _day_factor(days: pd.DatetimeIndex, config: SynthConfig) -> np.ndarray:
    ref = pd.Timestamp(dt.date(config.reference_year, 7, 2))
    years = (days - ref).days.to_numpy() / 365.25
    return (1 + config.growth_per_year) ** years * month_factor(days.month.to_numpy(), config)


def _rate_array(config: SynthConfig, table: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """Expected MH calls/hour, shape (precinct, day, hour of day)."""
    base = table["mh_calls_per_year"].to_numpy() / (365.25 * 24)  # calls/hour
    prof = np.stack([hour_of_week_profile(b, config) for b in table["borough"]])  # (P,168)
    dow = days.day_of_week.to_numpy()
    hours = dow[:, None] * 24 + np.arange(24)[None, :]  # (D,24)
    return base[:, None, None] * prof[:, hours] * _day_factor(days, config)[None, :, None]


def true_hourly_rates(
    target_start: str | dt.date,
    weeks: int,
    config: SynthConfig | None = None,
    precincts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The generator's exact expected rates over a target period (the truth to recover).

    Columns ``precinct, hour_of_week, mh_calls_per_hour, eligible_calls_per_hour``: the mean
    over the ``weeks`` target weeks of the expected calls/hour, one row per (precinct, hour of
    week 0..167), same layout as :func:`bheard.demand.forecast.forecast_hourly`.
    """
    config = config or SynthConfig()
    table = precinct_weights(config, precincts)
    start = pd.Timestamp(target_start)
    days = pd.date_range(start, periods=7 * weeks, freq="D")
    lam = _rate_array(config, table, days)  # (P, D, 24)
    out = np.zeros((len(table), 168))
    dow = days.day_of_week.to_numpy()
    for d in range(7):
        out[:, d * 24 : (d + 1) * 24] = lam[:, dow == d, :].mean(axis=1)
    frame = pd.DataFrame(
        {
            "precinct": np.repeat(table["precinct"].to_numpy(), 168),
            "hour_of_week": np.tile(np.arange(168), len(table)),
            "mh_calls_per_hour": out.ravel(),
        }
    )
    frame["eligible_calls_per_hour"] = frame["mh_calls_per_hour"] * config.eligible_share
    return frame


# ----------------------------------------------------------------------------- records


def _format_times(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Seconds since 1970 -> '01/31/2024 11:05:23 PM' strings (object array), '' where invalid."""
    seconds = np.asarray(seconds, dtype=np.int64)
    day = seconds // 86400
    sod = seconds - day * 86400
    d0, d1 = int(day.min()), int(day.max())
    dates = pd.date_range(pd.Timestamp(d0 * 86400, unit="s"), periods=d1 - d0 + 1, freq="D")
    date_lut = np.array([d.strftime("%m/%d/%Y ") for d in dates], dtype=object)
    tod_lut = np.array(
        [
            f"{(s // 3600) % 12 or 12:02d}:{(s // 60) % 60:02d}:{s % 60:02d} {'AM' if s < 43200 else 'PM'}"
            for s in range(86400)
        ],
        dtype=object,
    )
    out = date_lut[day - d0] + tod_lut[sod]
    if valid is not None:
        out[~valid] = ""
    return out


def generate_records(
    config: SynthConfig | None = None, precincts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Synthetic EMS dispatch rows (all 31 export columns, strings), sorted by time."""
    config = config or SynthConfig()
    if config.years <= 0:
        raise InputError.single(None, "years", config.years, "a positive number of years")
    rng = np.random.default_rng(config.seed)
    table = precinct_weights(config, precincts)
    days = pd.date_range(pd.Timestamp(config.start), pd.Timestamp(config.end), freq="D", inclusive="left")
    lam = _rate_array(config, table, days)  # (P, D, 24) calls/hour
    n_p, n_d, _ = lam.shape

    def gamma_shock(cv: float, size) -> np.ndarray:
        if cv <= 0:
            return np.ones(size)
        k = 1.0 / cv**2
        return rng.gamma(k, 1.0 / k, size=size)

    day_shock = gamma_shock(config.day_shock_cv, n_d)
    week_idx = np.arange(n_d) // 7
    week_shock = gamma_shock(config.week_shock_cv, (n_p, week_idx[-1] + 1))[:, week_idx]
    mean = lam * day_shock[None, :, None] * week_shock[:, :, None]
    counts = rng.poisson(mean).ravel()
    n_mh = int(counts.sum())
    n_other = 0
    other_counts = None
    if config.other_calls_per_mh_call > 0:
        other_counts = rng.poisson(lam.ravel() * config.other_calls_per_mh_call)
        n_other = int(other_counts.sum())

    cell = np.repeat(np.arange(counts.size), counts)
    if other_counts is not None:
        cell = np.concatenate([cell, np.repeat(np.arange(other_counts.size), other_counts)])
    n = cell.size
    p_idx, rem = np.divmod(cell, n_d * 24)
    d_idx, hour = np.divmod(rem, 24)
    day0 = int(pd.Timestamp(config.start).value // 10**9)
    t = day0 + d_idx * 86400 + hour * 3600 + rng.integers(0, 3600, size=n)

    is_mh = np.zeros(n, bool)
    is_mh[:n_mh] = True
    u = rng.random(n)
    call_type = np.where(
        u < config.eligible_share, "EDPM", np.where(u < config.eligible_share + config.violent_share, "EDPC", "EDP")
    ).astype(object)
    if n_other:
        call_type[~is_mh] = np.array(_OTHER_CALL_TYPES, dtype=object)[rng.integers(0, len(_OTHER_CALL_TYPES), n_other)]

    order = np.argsort(t, kind="stable")
    t, p_idx, call_type, is_mh = t[order], p_idx[order], call_type[order], is_mh[order]

    severity = np.full(n, "5", dtype=object)
    severity[call_type == "EDPC"] = "3"
    severity[call_type == "EDP"] = "4"
    severity[call_type == "EDPM"] = "7"
    final_type = call_type.copy()
    reclass = is_mh & (rng.random(n) < 0.08)
    final_type[reclass] = "EDP"
    final_sev = severity.copy()
    final_sev[reclass] = "4"

    dispatch_s = np.round(rng.lognormal(np.log(np.where(call_type == "EDPM", 240, 70)), 0.8)).astype(np.int64)
    t_assign = t + dispatch_s
    t_activate = t_assign + rng.integers(10, 90, n)
    travel_s = np.round(rng.lognormal(np.log(420), 0.5, n)).astype(np.int64)
    t_scene = t_activate + travel_s
    transported = rng.random(n) < 0.5  # ~50 % taken to hospital (S-hospital-transport)
    t_to_hosp = t_scene + rng.integers(900, 2400, n)
    t_hosp = t_to_hosp + rng.integers(300, 1500, n)
    t_close = np.where(transported, t_hosp + rng.integers(600, 2400, n), t_scene + rng.integers(1200, 4800, n))
    disposition = np.where(
        transported, "82", np.array(["93", "96", "90", "92"], dtype=object)[rng.integers(0, 4, n)]
    ).astype(object)

    borough = table["borough"].map(EMS_BOROUGH_NAMES).to_numpy(dtype=object)[p_idx]
    # like the real ids (yyDDD + a sequence number within the day), prefixed SYN: unique across
    # files covering different days
    day_num = t // 86400
    uniq, first_idx, inverse = np.unique(day_num, return_index=True, return_inverse=True)
    seq = np.arange(n) - first_idx[inverse] + 1
    day_dates = pd.to_datetime(uniq, unit="D")
    yyddd = np.array([f"{d.year % 100:02d}{d.day_of_year:03d}" for d in day_dates], dtype=object)[inverse]
    ids = (SYNTHETIC_ID_PREFIX + yyddd + np.char.zfill(seq.astype(str), 5).astype(object)).astype(object)
    empty = np.full(n, "", dtype=object)
    cols = {
        "CAD_INCIDENT_ID": ids,
        "INCIDENT_DATETIME": _format_times(t),
        "INITIAL_CALL_TYPE": call_type,
        "INITIAL_SEVERITY_LEVEL_CODE": severity,
        "FINAL_CALL_TYPE": final_type,
        "FINAL_SEVERITY_LEVEL_CODE": final_sev,
        "FIRST_ASSIGNMENT_DATETIME": _format_times(t_assign),
        "VALID_DISPATCH_RSPNS_TIME_INDC": np.full(n, "Y", dtype=object),
        "DISPATCH_RESPONSE_SECONDS_QY": dispatch_s.astype(str).astype(object),
        "FIRST_ACTIVATION_DATETIME": _format_times(t_activate),
        "FIRST_ON_SCENE_DATETIME": _format_times(t_scene),
        "VALID_INCIDENT_RSPNS_TIME_INDC": np.full(n, "Y", dtype=object),
        "INCIDENT_RESPONSE_SECONDS_QY": (t_scene - t).astype(str).astype(object),
        "INCIDENT_TRAVEL_TM_SECONDS_QY": travel_s.astype(str).astype(object),
        "FIRST_TO_HOSP_DATETIME": _format_times(t_to_hosp, transported),
        "FIRST_HOSP_ARRIVAL_DATETIME": _format_times(t_hosp, transported),
        "INCIDENT_CLOSE_DATETIME": _format_times(t_close),
        "HELD_INDICATOR": np.full(n, "N", dtype=object),
        "INCIDENT_DISPOSITION_CODE": disposition,
        "BOROUGH": borough,
        "INCIDENT_DISPATCH_AREA": empty,
        "ZIPCODE": empty,
        "POLICEPRECINCT": table["precinct"].astype(str).to_numpy(dtype=object)[p_idx],
        "CITYCOUNCILDISTRICT": empty,
        "COMMUNITYDISTRICT": empty,
        "COMMUNITYSCHOOLDISTRICT": empty,
        "CONGRESSIONALDISTRICT": empty,
        "REOPEN_INDICATOR": np.full(n, "N", dtype=object),
        "SPECIAL_EVENT_INDICATOR": np.full(n, "N", dtype=object),
        "STANDBY_INDICATOR": np.full(n, "N", dtype=object),
        "TRANSFER_INDICATOR": np.full(n, "N", dtype=object),
    }
    return pd.DataFrame(cols, columns=list(EMS_COLUMNS))


def sidecar_text(config: SynthConfig, rows: int, mh: int, eligible: int) -> str:
    """The note written next to every synthetic file."""
    cfg = {k: (str(v) if isinstance(v, dt.date) else v) for k, v in asdict(config).items()}
    return (
        "SYNTHETIC DATA - NOT REAL 911 RECORDS\n"
        "=====================================\n"
        "Generated by bheard.demand.synth (bheard data synth). Every CAD_INCIDENT_ID starts with\n"
        f"'{SYNTHETIC_ID_PREFIX}'. The rows follow the schema of NYC Open Data 'EMS Incident Dispatch Data'\n"
        "(76xm-jjuj): the 31 columns, names and timestamp format of the export. Call volumes are\n"
        "drawn from known hourly rates calibrated to published aggregates (docs/sources.md of the bheard\n"
        "repository: S-audit-eligible, S-mh-calls-2024, S-time-of-day, S-need-uplift; bheard/demand/synth.py): 175,000 MH calls in 2024, +2.5 %/yr, 80 % of calls\n"
        "09:00-01:00, population x high-need uplift (Zone 7 2.3x, 75th 1.35x), EDPM 38.5 %.\n"
        "Response times, severities, dispositions are illustrative; ZIPCODE, dispatch area and\n"
        "district columns are left empty. Do not use these rows as evidence about NYC.\n\n"
        f"rows: {rows}\nmental-health calls: {mh}\nEDPM (eligible) calls: {eligible}\n"
        f"config: {json.dumps(cfg, sort_keys=True)}\n"
    )


def _atomic_write_bytes(path: Path, data_writer) -> None:
    ensure_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError.from_os(path, exc) from None
    os.close(fd)
    try:
        data_writer(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError.from_os(path, exc) from None
        raise


def sidecar_path_for(path: Path) -> Path:
    """``calls.csv.gz`` -> ``calls.csv.gz.SYNTHETIC.txt``."""
    return path.with_name(path.name + ".SYNTHETIC.txt")


def synthesize(
    out: str | Path | None = None,
    years: float = 3.0,
    start: str | dt.date = dt.date(2022, 1, 3),
    seed: int = 0,
    precincts: pd.DataFrame | None = None,
    *,
    config: SynthConfig | None = None,
    keep_records: bool = False,
) -> SynthResult:
    """Generate synthetic EMS dispatch records and write them to ``out`` (CSV; ``.gz`` => gzip).

    ``years`` of data from ``start`` (a date), seeded by ``seed``. A sidecar
    ``<out>.SYNTHETIC.txt`` is written next to the file. With ``out=None`` nothing is written
    (use ``keep_records=True`` to get the rows in ``SynthResult.records``).
    """
    if config is None:
        try:
            start_date = pd.Timestamp(start).date()
        except (ValueError, TypeError):
            raise InputError.single(None, "start", start, "a date like 2022-01-03") from None
        if not np.isfinite(years) or years <= 0 or years > 30:
            raise InputError.single(None, "years", years, "a number of years in (0, 30]")
        config = SynthConfig(start=start_date, years=float(years), seed=int(seed))
    records = generate_records(config, precincts)
    is_mh = records["INITIAL_CALL_TYPE"].str.startswith("EDP")
    mh = int(is_mh.sum())
    eligible = int((records["INITIAL_CALL_TYPE"] == "EDPM").sum())
    path = sidecar = None
    if out is not None:
        path = Path(out)
        if path.is_dir():
            raise InputError.single(path, "out", str(path), "a file path (e.g. calls.csv.gz), not a folder")
        gz = path.suffix == ".gz"

        def write(tmp: Path) -> None:
            if gz:
                # mtime=0: the same seed gives a byte-identical file
                with open(tmp, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=6, mtime=0) as zfh:
                    with io.TextIOWrapper(zfh, encoding="utf-8", newline="") as fh:
                        records.to_csv(fh, index=False)
            else:
                records.to_csv(tmp, index=False)

        _atomic_write_bytes(path, write)
        sidecar = sidecar_path_for(path)
        text = sidecar_text(config, len(records), mh, eligible)
        _atomic_write_bytes(sidecar, lambda tmp: tmp.write_text(text))
    return SynthResult(
        path=path,
        sidecar_path=sidecar,
        rows=len(records),
        mh_calls=mh,
        eligible_calls=eligible,
        start=config.start,
        end=config.end,
        config=config,
        records=records if keep_records else None,
    )
