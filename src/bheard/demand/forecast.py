"""Forecast eligible mental-health calls/hour per (precinct, hour of week) from call records.

The model (written out in ``models/forecast.md``) is a negative-binomial log-linear count model
for the calls ``y[p, w, h]`` in precinct ``p``, week ``w``, hour of week ``h`` (0 = Monday
00:00-01:00):

    E y[p,w,h] = A_p * H[p,h] * T(day(w,h))
    H[p,h]     = C_h * B[b(p),h] * R[p,h]            (city x borough x precinct profile)
    log T(d)   = c + beta * years(d) + s_month(d)     (trend x month-of-year seasonality)
    Var y      = mu + alpha * mu^2                    (over-dispersion)

``A_p`` and the city profile ``C_h`` are maximum-likelihood estimates; the borough and precinct
deviations ``B`` and ``R`` have gamma(k, k) priors (mean 1) whose strengths ``k`` are estimated
by the method of moments, so a sparse precinct's profile is shrunk to its borough's and a
borough's to the city's (empirical Bayes, Poisson-gamma). The fit is an exact block-coordinate
ascent of the penalised Poisson likelihood on sufficient statistics (precinct x hour-of-week
and day totals), so a 78 x 168 x 156-week history fits in well under a second
(:func:`fit_count_model`). ``alpha`` is a moment estimate on the cell residuals. The eligible
share per precinct is a beta-binomial shrinkage estimate (EMS: EDPM / EDP*; NYPD: the rule
share, S-audit-eligible).

Predictions (:meth:`CountModel.predict`) give the mean over the target weeks of the
*rate* (calls/hour) and its quantiles from a gamma distribution whose variance adds the
over-dispersion of a W-week mean (``alpha / W``) and the parameter uncertainty of the fit
(level, profile, trend/season). Poisson noise around the rate is not included: it is what the
queueing model of the optimizer handles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from bheard.demand.ingest import EMS, NYPD, IngestResult, load_history
from bheard.demand.rules import EligibilityRules
from bheard.errors import InputError

from bheard.constants import HOURS_PER_WEEK  # noqa: E402
_EPS = 1e-12


# ----------------------------------------------------------------------------- arrays


@dataclass
class CountArrays:
    """Dense weekly counts: ``mh[p, w, h]`` and ``eligible[p, w, h]`` in calls per hour-cell."""

    precincts: np.ndarray  # (P,) int
    boroughs: np.ndarray  # (P,) str
    week_starts: pd.DatetimeIndex  # (W,) Mondays
    mh: np.ndarray  # (P, W, 168) float
    eligible: np.ndarray  # (P, W, 168) float
    source: str

    def weeks_slice(self, start: int, stop: int) -> "CountArrays":
        return CountArrays(
            self.precincts,
            self.boroughs,
            self.week_starts[start:stop],
            self.mh[:, start:stop],
            self.eligible[:, start:stop],
            self.source,
        )


def _precinct_table(precincts) -> pd.DataFrame:
    if isinstance(precincts, pd.DataFrame):
        table = precincts
    else:
        from bheard.data import precincts as _load

        try:
            table = _load()
        except FileNotFoundError as exc:
            raise InputError.single(exc.filename, "(file)", exc.filename, "the shipped precinct table data/precincts.csv") from None
    table = table[["precinct", "borough"]].copy()
    table["precinct"] = table["precinct"].astype(int)
    return table.sort_values("precinct").reset_index(drop=True)


def to_arrays(result: IngestResult, precincts: pd.DataFrame | None = None, source: str | None = None) -> CountArrays:
    """Dense (precinct, week, hour-of-week) arrays for every precinct of the table."""
    table = _precinct_table(precincts)
    counts = result.counts
    sources = sorted(counts["source"].unique()) if len(counts) else [EMS]
    if source is None:
        if len(sources) > 1:
            raise InputError.single(
                None,
                "history",
                sources,
                "records from one dataset only: EMS and NYPD exports record the same calls, so mixing them counts calls twice",
            )
        source = sources[0]
    counts = counts[counts["source"] == source]
    weeks = result.week_starts
    if len(weeks) == 0:
        raise InputError.single(None, "history", "0 full weeks", "at least one full Monday-Sunday week of call records")
    p_index = {p: i for i, p in enumerate(table["precinct"])}
    pi = counts["precinct"].map(p_index)
    if pi.isna().any():
        bad = sorted(counts.loc[pi.isna(), "precinct"].unique())[:10]
        raise InputError.single(None, "precinct", bad, "precincts of the precinct table")
    w_index = pd.Series(np.arange(len(weeks)), index=weeks)
    wi = w_index.reindex(pd.to_datetime(counts["week_start"]).to_numpy()).to_numpy()
    if np.isnan(wi).any():
        raise InputError.single(None, "week_start", "a week outside the covered weeks", "counts inside the covered weeks")
    wi = wi.astype(int)
    shape = (len(table), len(weeks), HOURS_PER_WEEK)
    mh = np.zeros(shape)
    el = np.zeros(shape)
    idx = (pi.to_numpy(int), wi, counts["hour_of_week"].to_numpy(int))
    np.add.at(mh, idx, counts["mh_calls"].to_numpy(float))
    elig = counts["eligible_calls"].to_numpy(float)
    if np.isnan(elig).any():
        raise InputError.single(None, "eligible_calls", "missing", "eligible call counts in the counts file")
    np.add.at(el, idx, elig)
    return CountArrays(table["precinct"].to_numpy(int), table["borough"].to_numpy(str), weeks, mh, el, source)


# ----------------------------------------------------------------------------- model


@dataclass
class CountModel:
    """A fitted count model (see module docstring and ``models/forecast.md``)."""

    precincts: np.ndarray
    boroughs: np.ndarray
    level: np.ndarray  # A_p, MH calls/hour at T = 1 and mean profile 1
    profile: np.ndarray  # H[p, h], mean 1 over h
    coef: np.ndarray  # [c, beta, s_2..s_12] (log scale) as used
    coef_cov: np.ndarray  # covariance of coef (quasi-Poisson scaled)
    use_trend: bool
    use_season: bool
    t0: pd.Timestamp  # origin of the trend's time axis (years)
    t_norm: float  # log of the mean of T over the history (so mean T = 1 there)
    alpha: float  # NB over-dispersion of a cell: Var = mu + alpha mu^2
    phi: float  # quasi-Poisson scale of the daily totals
    k_borough: float  # gamma prior strength, borough profile deviations (calls)
    k_precinct: float  # gamma prior strength, precinct profile deviations (calls)
    eligible_share: np.ndarray  # (P,) shrunk share of MH calls that are eligible
    var_log_level: np.ndarray  # (P,) parameter variance of log A_p
    var_log_profile: np.ndarray  # (P,168) parameter variance of log H
    history_weeks: int
    history_start: pd.Timestamp
    history_end: pd.Timestamp  # day after the last history day
    source: str
    iterations: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        beta = self.coef[1] if self.use_trend else 0.0
        return (
            f"NB count model on {self.history_weeks} weeks ({self.history_start.date()} to "
            f"{(self.history_end - pd.Timedelta(days=1)).date()}, {self.source.upper()}): "
            f"trend {100 * (np.exp(beta) - 1):+.1f} %/yr, alpha {self.alpha:.3f}, "
            f"k_borough {self.k_borough:.3g}, k_precinct {self.k_precinct:.3g}, "
            f"eligible share {np.average(self.eligible_share, weights=self.level + _EPS):.3f}"
        )

    # -- time factor
    def _design(self, days: pd.DatetimeIndex) -> np.ndarray:
        return _design(days, self.t0, self.use_trend, self.use_season)

    def time_factor(self, days: pd.DatetimeIndex) -> np.ndarray:
        """T(d) for each day (mean 1 over the history)."""
        return np.exp(self._design(days) @ self.coef - self.t_norm)

    def predict(
        self, target_start: str | dt.date, weeks: int, quantiles: Sequence[float] = (0.1, 0.5, 0.9)
    ) -> pd.DataFrame:
        """Calls/hour per (precinct, hour of week), mean over ``weeks`` weeks from ``target_start``.

        Columns: ``precinct, hour_of_week, mh_calls_per_hour`` (mean MH rate),
        ``eligible_calls_per_hour`` (mean eligible rate) and ``q<NN>`` for each quantile of the
        eligible rate (gamma approximation, see module docstring).
        """
        start = pd.Timestamp(target_start)
        days = pd.date_range(start, periods=7 * weeks, freq="D")
        T = self.time_factor(days)
        dow = days.day_of_week.to_numpy()
        t_by_dow = np.array([T[dow == d].mean() for d in range(7)])
        t_h = np.repeat(t_by_dow, 24)
        mu = self.level[:, None] * self.profile * t_h[None, :]
        eligible = mu * self.eligible_share[:, None]
        # parameter variance of the log time factor averaged over the target days
        X = self._design(days)
        xbar = np.stack([X[dow == d].mean(axis=0) for d in range(7)])  # (7, k)
        xb = xbar[:, 1:]  # the intercept is confounded with the levels; its variance is in var_log_level
        v_time = np.einsum("ij,jk,ik->i", xb, self.coef_cov[1:, 1:], xb)
        v = (
            self.alpha / weeks
            + self.var_log_level[:, None]
            + self.var_log_profile
            + np.repeat(v_time, 24)[None, :]
        )
        frame = pd.DataFrame(
            {
                "precinct": np.repeat(self.precincts, HOURS_PER_WEEK),
                "hour_of_week": np.tile(np.arange(HOURS_PER_WEEK), len(self.precincts)),
                "mh_calls_per_hour": mu.ravel(),
                "eligible_calls_per_hour": eligible.ravel(),
            }
        )
        m = eligible.ravel()
        shape = 1.0 / np.maximum(v.ravel(), 1e-9)
        for q in quantiles:
            frame[qcol(q)] = np.where(m > 0, stats.gamma.ppf(q, shape, scale=np.maximum(m, _EPS) / shape), 0.0)
        return frame


    def sample_eligible(self, target_start: str | dt.date, weeks: int, n: int,
                        rng: np.random.Generator, rows: np.ndarray | None = None) -> np.ndarray:
        """``n`` draws of the eligible rate (calls/hour) per (precinct, hour of week), mean over
        the ``weeks`` target weeks: an (n, P, 168) array (``rows``: precinct row indices of the
        model to keep, default all). ``models/stochastic.md``.

        The predictive distribution of :meth:`predict`, sampled with its correlations: each
        draw multiplies the mean eligible rate by mean-1 factors for

        - the trend and season (one draw of the time coefficients from their covariance,
          shared by every precinct: a citywide shock),
        - the precinct level (one lognormal factor per precinct, variance ``var_log_level``),
        - the hour-of-week profile and the over-dispersion of a ``weeks``-week mean (one
          lognormal factor per precinct and hour, log-variance ``var_log_profile +
          log(1 + alpha / weeks)``).

        Their variances add up (to first order) to the relative variance of :meth:`predict`'s
        gamma quantiles. Poisson noise of the counts is left to the queueing model, as in
        :meth:`predict`.
        """
        start = pd.Timestamp(target_start)
        days = pd.date_range(start, periods=7 * int(weeks), freq="D")
        rows = np.arange(len(self.precincts)) if rows is None else np.asarray(rows)
        T = self.time_factor(days)
        dow = days.day_of_week.to_numpy()
        t_by_dow = np.array([T[dow == d].mean() for d in range(7)])
        mean = (self.level[rows, None] * self.profile[rows] * np.repeat(t_by_dow, 24)[None, :]
                * self.eligible_share[rows, None])  # (P, 168)
        X = self._design(days)
        xbar = np.stack([X[dow == d].mean(axis=0) for d in range(7)])[:, 1:]  # (7, k-1)
        cov = self.coef_cov[1:, 1:]
        P = len(rows)
        out = np.empty((int(n), P, HOURS_PER_WEEK))
        # time: delta ~ N(0, cov), log factor per weekday xbar @ delta (minus half its variance)
        v_time = np.einsum("ij,jk,ik->i", xbar, cov, xbar)
        w, V = np.linalg.eigh(0.5 * (cov + cov.T))
        root = V * np.sqrt(np.clip(w, 0.0, None))[None, :]
        delta = rng.standard_normal((int(n), len(w))) @ root.T  # (n, k-1)
        log_t = delta @ xbar.T - 0.5 * v_time[None, :]  # (n, 7)
        sd_level = np.sqrt(self.var_log_level[rows])
        sd_cell = np.sqrt(self.var_log_profile[rows] + np.log1p(self.alpha / int(weeks)))
        for i in range(int(n)):
            z_l = rng.standard_normal(P) * sd_level - 0.5 * sd_level ** 2
            z_h = rng.standard_normal((P, HOURS_PER_WEEK)) * sd_cell - 0.5 * sd_cell ** 2
            out[i] = mean * np.exp(z_l[:, None] + z_h + np.repeat(log_t[i], 24)[None, :])
        return out


def _week_days(week_starts: pd.DatetimeIndex) -> pd.DatetimeIndex:
    offs = np.tile(np.arange(7), len(week_starts))
    return pd.DatetimeIndex(np.repeat(week_starts.to_numpy(), 7)) + pd.to_timedelta(offs, unit="D")


def qcol(q: float) -> str:
    """Column name of a quantile: 0.1 -> ``q10``, 0.975 -> ``q97.5``."""
    return f"q{100 * q:02.0f}" if abs(100 * q - round(100 * q)) < 1e-9 else f"q{100 * q:g}"


def _design(days: pd.DatetimeIndex, t0: pd.Timestamp, trend: bool, season: bool) -> np.ndarray:
    cols = [np.ones(len(days))]
    if trend:
        cols.append(((days - t0).days.to_numpy() + 0.5) / 365.25)
    else:
        cols.append(np.zeros(len(days)))
    months = days.month.to_numpy()
    for m in range(2, 13):
        cols.append((months == m).astype(float) if season else np.zeros(len(days)))
    return np.column_stack(cols)


def _poisson_irls(y: np.ndarray, X: np.ndarray, offset: np.ndarray, active: np.ndarray, iters: int = 50):
    """Poisson log-link GLM with offset by IRLS on the ``active`` columns; returns (coef, cov, phi)."""
    Xa = X[:, active]
    beta = np.zeros(Xa.shape[1])
    beta[0] = np.log(max(y.sum(), _EPS) / max(np.exp(offset).sum(), _EPS))
    for _ in range(iters):
        eta = offset + Xa @ beta
        mu = np.exp(eta)
        grad = Xa.T @ (y - mu)
        info = Xa.T @ (Xa * mu[:, None])
        step = np.linalg.solve(info + 1e-10 * np.eye(len(beta)), grad)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    mu = np.exp(offset + Xa @ beta)
    dof = max(len(y) - len(beta), 1)
    phi = max(float(np.sum((y - mu) ** 2 / np.maximum(mu, _EPS)) / dof), 1.0)
    cov_a = phi * np.linalg.inv(Xa.T @ (Xa * mu[:, None]) + 1e-10 * np.eye(len(beta)))
    coef = np.zeros(X.shape[1])
    coef[active] = beta
    cov = np.zeros((X.shape[1], X.shape[1]))
    cov[np.ix_(active, active)] = cov_a
    return coef, cov, phi


def _gamma_strength(y: np.ndarray, e: np.ndarray) -> float:
    """Method-of-moments gamma(k, k) prior strength for multipliers u with y ~ Poisson(e u)."""
    tau2 = float(np.sum((y - e) ** 2 - y) / max(np.sum(e**2), _EPS))
    return 1.0 / tau2 if tau2 > 1e-8 else 1e8


def fit_count_model(
    arrays: CountArrays,
    *,
    trend: bool | None = None,
    season: bool | None = None,
    max_iter: int = 200,
    tol: float = 1e-9,
) -> CountModel:
    """Fit the NB count model to MH counts (see module docstring, ``models/forecast.md``).

    ``trend`` defaults to on with >= 26 weeks of history, ``season`` (month of year) with >= 52.
    """
    y = arrays.mh
    P, W, H = y.shape
    notes: list[str] = []
    trend = W >= 26 if trend is None else trend
    season = W >= 52 if season is None else season
    if not trend:
        notes.append("no trend term (fewer than 26 weeks of history)")
    if not season:
        notes.append("no month-of-year seasonality (fewer than 52 weeks of history)")

    Y_ph = y.sum(axis=1)  # (P,168)
    Y_p = Y_ph.sum(axis=1)
    Y_day = y.sum(axis=0).reshape(W, 7, 24).sum(axis=2).ravel()  # (W*7,) day totals, in date order
    days = _week_days(arrays.week_starts)  # the 7 days of every covered week (gaps allowed)
    t0 = days[0] + (days[-1] - days[0]) / 2
    X = _design(days, t0, trend, season)
    active = np.array([True, trend] + [season] * 11)

    boroughs = arrays.boroughs
    b_names, b_idx = np.unique(boroughs, return_inverse=True)
    nb = len(b_names)
    Y_bh = np.zeros((nb, H))
    np.add.at(Y_bh, b_idx, Y_ph)
    Y_h = Y_ph.sum(axis=0)

    C = np.ones(H)
    B = np.ones((nb, H))
    R = np.ones((P, H))
    T = np.ones(W * 7)
    coef = np.zeros(X.shape[1])
    cov = np.zeros((X.shape[1], X.shape[1]))
    phi = 1.0
    k_b = k_r = 1e8
    prev = -np.inf
    it = 0
    for it in range(1, max_iter + 1):
        S_d = T.reshape(W, 7).sum(axis=0)  # (7,) sum of T over the history per weekday
        S_h = np.repeat(S_d, 24)
        Hp = C[None, :] * B[b_idx] * R
        A = Y_p / np.maximum((Hp * S_h).sum(axis=1), _EPS)
        base = A[:, None] * S_h[None, :]  # exposure per (p,h) at profile 1
        C = Y_h / np.maximum((base * B[b_idx] * R).sum(axis=0), _EPS)
        C *= H / max(C.sum(), _EPS)
        E_b = np.zeros((nb, H))
        np.add.at(E_b, b_idx, base * C[None, :] * R)
        if it % 5 == 1:
            k_b = _gamma_strength(Y_bh, E_b * (Y_bh.sum() / max(E_b.sum(), _EPS)))
        B = (Y_bh + k_b) / (E_b + k_b)
        E_p = base * C[None, :] * B[b_idx]
        if it % 5 == 1:
            k_r = _gamma_strength(Y_ph, E_p)
        R = (Y_ph + k_r) / (E_p + k_r)
        # time factor: Poisson GLM of day totals with offset log(daily mass per weekday)
        Hp = C[None, :] * B[b_idx] * R
        M_d = (A[:, None] * Hp).reshape(P, 7, 24).sum(axis=(0, 2))  # (7,)
        offset = np.log(np.maximum(np.tile(M_d, W), _EPS))
        coef, cov, phi = _poisson_irls(Y_day, X, offset, active)
        T = np.exp(X @ coef)
        # penalised log-likelihood (up to constants) for convergence
        mu_ph = A[:, None] * Hp * np.repeat(T.reshape(W, 7).sum(axis=0), 24)[None, :]
        ll = float(np.sum(Y_ph * np.log(np.maximum(mu_ph, _EPS)) - mu_ph))
        if abs(ll - prev) <= tol * (1 + abs(ll)):
            break
        prev = ll

    # normalise: profile mean 1 per precinct, T mean 1 over history; A absorbs scale
    Hp = C[None, :] * B[b_idx] * R
    hmean = Hp.mean(axis=1, keepdims=True)
    Hp = Hp / np.maximum(hmean, _EPS)
    t_norm = float(np.log(np.mean(np.exp(X @ coef))))
    Tn = np.exp(X @ coef - t_norm)
    S_h = np.repeat(Tn.reshape(W, 7).sum(axis=0), 24)
    A = Y_p / np.maximum((Hp * S_h).sum(axis=1), _EPS)

    # over-dispersion on cells (p, w, h)
    mu = A[:, None, None] * Hp[:, None, :] * np.repeat(Tn.reshape(W, 7), 24, axis=1)[None, :, :]
    alpha = max(0.0, float(np.sum((y - mu) ** 2 - y) / max(np.sum(mu**2), _EPS)))
    del mu

    # parameter variance (quasi-Poisson scaled by phi_cell = 1 + alpha * mean mu)
    var_log_level = np.where(Y_p > 0, phi / np.maximum(Y_p, _EPS), 1.0)
    Y_bh_p = Y_bh[b_idx]
    var_log_profile = phi * (1.0 / (Y_ph + k_r) + 1.0 / (Y_bh_p + k_b) + 1.0 / np.maximum(Y_h, 1.0)[None, :])

    share = _eligible_share(arrays, b_idx)
    zero = np.where(Y_p == 0)[0]
    if len(zero):
        notes.append(f"no calls at all in the history for precincts {arrays.precincts[zero].tolist()}: forecast 0")
    return CountModel(
        precincts=arrays.precincts,
        boroughs=boroughs,
        level=A,
        profile=Hp,
        coef=coef,
        coef_cov=cov,
        use_trend=trend,
        use_season=season,
        t0=t0,
        t_norm=t_norm,
        alpha=alpha,
        phi=phi,
        k_borough=k_b,
        k_precinct=k_r,
        eligible_share=share,
        var_log_level=var_log_level,
        var_log_profile=var_log_profile,
        history_weeks=W,
        history_start=pd.Timestamp(days[0]),
        history_end=pd.Timestamp(days[-1]) + pd.Timedelta(days=1),
        source=arrays.source,
        iterations=it,
        notes=notes,
    )


def _eligible_share(arrays: CountArrays, b_idx: np.ndarray) -> np.ndarray:
    """Beta-binomial shrinkage of each precinct's eligible share toward the citywide share."""
    m = arrays.mh.sum(axis=(1, 2))
    e = arrays.eligible.sum(axis=(1, 2))
    total = m.sum()
    if total <= 0:
        return np.zeros_like(m)
    p = e.sum() / total
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(m > 0, e / np.maximum(m, _EPS), p)
    ok = m > 0
    if ok.sum() < 2 or p <= 0 or p >= 1:
        return np.full_like(m, p)
    w = m[ok] / m[ok].sum()
    var_obs = float(np.sum(w * (raw[ok] - p) ** 2))
    var_binom = float(np.sum(w * p * (1 - p) / m[ok]))
    tau2 = var_obs - var_binom
    if tau2 <= 1e-10:
        return np.full_like(m, p)
    k = max(p * (1 - p) / tau2 - 1.0, 0.0)  # beta prior a + b
    return (e + k * p) / (m + k)


# ----------------------------------------------------------------------------- public API


@dataclass
class ForecastResult:
    """A forecast: ``table`` (precinct, hour_of_week, mh/eligible calls/hour, q10/q50/q90,
    calls_per_hour) and the fitted model."""

    table: pd.DataFrame = field(repr=False)
    model: CountModel
    target_start: dt.date
    weeks: int
    quantile: float
    ingest: IngestResult | None = field(default=None, repr=False)

    @property
    def citywide_calls_per_hour(self) -> float:
        """Mean eligible calls/hour citywide over the week: the table has one rate per
        (precinct, hour of week), so the week's calls are their sum and the mean hour is that
        sum / 168 (not the sum itself)."""
        return float(self.table["calls_per_hour"].sum()) / HOURS_PER_WEEK

    def summary(self) -> str:
        per_hour = self.citywide_calls_per_hour
        return (
            f"forecast {self.target_start} + {self.weeks} week(s), quantile {self.quantile}: "
            f"{per_hour:,.2f} eligible calls/hour citywide ({per_hour * HOURS_PER_WEEK:,.0f}"
            f" calls/week) "
            f"in {self.table['precinct'].nunique()} precincts. {self.model.summary()}"
        )


def _check_args(target_start, weeks, quantile) -> tuple[dt.date, int, float]:
    try:
        start = pd.Timestamp(target_start).date() if not isinstance(target_start, dt.date) else target_start
        if isinstance(start, dt.datetime):
            start = start.date()
    except (ValueError, TypeError):
        raise InputError.single(None, "target_start", target_start, "a date like 2025-01-06") from None
    if isinstance(weeks, bool) or not isinstance(weeks, (int, np.integer)) or weeks < 1:
        raise InputError.single(None, "weeks", weeks, "an integer >= 1 (weeks to forecast)")
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0 < quantile < 1:
        raise InputError.single(None, "quantile", quantile, "a number strictly between 0 and 1")
    return start, int(weeks), float(quantile)


def _requested(precincts, model: CountModel) -> np.ndarray:
    if precincts is None or isinstance(precincts, pd.DataFrame):
        return model.precincts
    req = np.array(sorted({int(p) for p in precincts}), dtype=int)
    unknown = sorted(set(req.tolist()) - set(model.precincts.tolist()))
    if unknown:
        raise InputError.single(None, "precincts", unknown, "NYPD precincts of the precinct table")
    return req


def forecast_calls(
    history: str | Path | Sequence[str | Path] | IngestResult,
    target_start: str | dt.date,
    weeks: int,
    quantile: float = 0.5,
    rules: EligibilityRules | None = None,
    precincts: pd.DataFrame | Iterable[int] | None = None,
) -> ForecastResult:
    """Ingest (if needed), fit and predict; see :func:`forecast_hourly` for the arguments."""
    start, weeks, quantile = _check_args(target_start, weeks, quantile)
    table = precincts if isinstance(precincts, pd.DataFrame) else None
    if isinstance(history, IngestResult):
        ingested = history
    else:
        ingested = load_history(history, rules=rules, precincts=table)
    arrays = to_arrays(ingested, table)
    if arrays.source == NYPD and rules is not None:
        arrays.eligible = arrays.mh * rules.nypd_eligible_share
    model = fit_count_model(arrays)
    pred = model.predict(start, weeks, quantiles=(0.1, 0.5, 0.9))
    pred["calls_per_hour"] = model.predict(start, weeks, quantiles=(quantile,))[qcol(quantile)].to_numpy()
    keep = _requested(precincts, model)
    pred = pred[pred["precinct"].isin(keep)].reset_index(drop=True)
    return ForecastResult(pred, model, start, weeks, quantile, ingested)


def forecast_hourly(
    history: str | Path | Sequence[str | Path] | IngestResult,
    target_start: str | dt.date,
    weeks: int,
    quantile: float = 0.5,
    rules: EligibilityRules | None = None,
    precincts: pd.DataFrame | Iterable[int] | None = None,
) -> pd.DataFrame:
    """Eligible mental-health calls/hour per (precinct, hour of week) for a target period.

    ``history``: an FDNY EMS or NYPD export CSV (``.csv`` or ``.csv.gz``), a folder of them,
    or a counts file written by ``bheard ingest --counts`` (columns ``source, week_start,
    precinct, hour_of_week, mh_calls, eligible_calls``). ``target_start``: first day of the
    target period (a date or ``YYYY-MM-DD``); ``weeks``: its length (>= 1). ``quantile``: which
    quantile of the period-mean rate to return as ``calls_per_hour`` (0.5 = median).
    ``rules``: classification rules (default :class:`EligibilityRules`). ``precincts``: the
    precincts to return (ints) or a precinct table (default all 78 of
    :func:`bheard.data.precincts`).

    Returns columns ``precinct`` (int), ``hour_of_week`` (int 0..167, 0 = Monday 00:00),
    ``calls_per_hour`` (float, eligible calls/hour at ``quantile``), ``q10, q50, q90``
    (eligible calls/hour), one row per (precinct, hour_of_week). Errors: :class:`InputError`.
    """
    res = forecast_calls(history, target_start, weeks, quantile, rules, precincts)
    out = res.table[["precinct", "hour_of_week", "calls_per_hour", "q10", "q50", "q90"]].copy()
    out["precinct"] = out["precinct"].astype(int)
    out["hour_of_week"] = out["hour_of_week"].astype(int)
    return out


# ----------------------------------------------------------------------------- backtest


@dataclass
class BacktestResult:
    """Rolling-origin backtest. ``scores``: one row per method (MAE and mean Poisson deviance
    per (precinct, week, hour) cell, calls/hour); ``by_origin``: the same per origin."""

    scores: pd.DataFrame
    by_origin: pd.DataFrame
    origins: list[dt.date]
    horizon_weeks: int
    target: str
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = self.scores.set_index("method")
        lines = [
            f"rolling-origin backtest, {len(self.origins)} origins x {self.horizon_weeks} weeks, target {self.target} calls:"
        ]
        for m, r in s.iterrows():
            lines.append(f"  {m:<22} MAE {r['mae']:.4f}  deviance {r['poisson_deviance']:.4f}  (x{r['deviance_vs_model']:.2f})")
        return "\n".join(lines)


def poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Mean unit Poisson deviance 2 [y log(y/mu) - (y - mu)]."""
    y = np.asarray(y, float)
    mu = np.asarray(mu, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(np.mean(2.0 * (term - (y - mu))))


#: Predictions below this (calls/hour) are raised to it when scoring, so that a zero forecast
#: of an hour that had a call scores a large but finite deviance.
DEVIANCE_FLOOR = 0.01


#: full weeks of history the model is fitted on before the first backtest origin
BACKTEST_MIN_TRAIN_WEEKS = 8


def backtest_weeks_needed(origins: int, horizon_weeks: int) -> int:
    """Full weeks of history a backtest needs: ``origins x horizon_weeks`` scored weeks after
    :data:`BACKTEST_MIN_TRAIN_WEEKS` training weeks."""
    return int(origins) * int(horizon_weeks) + BACKTEST_MIN_TRAIN_WEEKS


def backtest_origins_that_fit(history_weeks: int, horizon_weeks: int, most: int = 4) -> int:
    """The most backtest origins (at most ``most``) a history of ``history_weeks`` full weeks
    allows with ``horizon_weeks``-week horizons; 0 when not even one fits."""
    room = int(history_weeks) - BACKTEST_MIN_TRAIN_WEEKS
    return max(0, min(int(most), room // max(int(horizon_weeks), 1)))


def backtest(
    history: str | Path | Sequence[str | Path] | IngestResult,
    *,
    origins: int = 4,
    horizon_weeks: int = 4,
    target: str = "mh",
    rules: EligibilityRules | None = None,
    precincts: pd.DataFrame | None = None,
) -> BacktestResult:
    """Rolling-origin backtest on the last ``origins x horizon_weeks`` weeks of the history.

    At each origin the model is fitted on all earlier weeks and predicts the next
    ``horizon_weeks`` weeks (mean rate). Baselines: ``seasonal_naive_52w`` (same precinct and
    hour of week, 52 weeks earlier), ``last_4_weeks_mean`` (same cell, mean of the 4 weeks
    before the origin) and ``flat_mean`` (the precinct's mean calls/hour over the training
    weeks, same for every hour). ``target``: ``"mh"`` (all MH calls) or ``"eligible"``.
    """
    if target not in ("mh", "eligible"):
        raise InputError.single(None, "target", target, "'mh' or 'eligible'")
    if isinstance(origins, bool) or int(origins) < 1 or int(horizon_weeks) < 1:
        raise InputError.single(None, "origins", origins, "origins >= 1 and horizon_weeks >= 1")
    ingested = history if isinstance(history, IngestResult) else load_history(history, rules=rules, precincts=precincts)
    arrays = to_arrays(ingested, precincts)
    W = len(arrays.week_starts)
    need = backtest_weeks_needed(origins, horizon_weeks)
    if W < need:
        raise InputError.single(None, "history", f"{W} weeks", f"at least {need} full weeks for {origins} origins x {horizon_weeks} weeks ({BACKTEST_MIN_TRAIN_WEEKS} training weeks before the first origin)")
    notes = []
    rows = []
    origin_dates = []
    for k in range(origins, 0, -1):
        o = W - k * horizon_weeks
        train = arrays.weeks_slice(0, o)
        model = fit_count_model(train)
        test_y = (arrays.mh if target == "mh" else arrays.eligible)[:, o : o + horizon_weeks]  # (P,h,168)
        hist_y = (arrays.mh if target == "mh" else arrays.eligible)[:, :o]
        preds = {}
        # model: mean rate for each test week
        mp = []
        for j in range(horizon_weeks):
            f = model.predict(arrays.week_starts[o + j].date(), 1, quantiles=())
            col = "mh_calls_per_hour" if target == "mh" else "eligible_calls_per_hour"
            mp.append(f[col].to_numpy().reshape(len(arrays.precincts), HOURS_PER_WEEK))
        preds["model"] = np.stack(mp, axis=1)
        # seasonal naive: same cell 52 weeks (364 days) earlier, if that week is a training week
        full = arrays.mh if target == "mh" else arrays.eligible
        w_pos = {w: i for i, w in enumerate(arrays.week_starts[:o])}
        lag_idx = [w_pos.get(arrays.week_starts[o + j] - pd.Timedelta(days=364)) for j in range(horizon_weeks)]
        if all(i is not None for i in lag_idx):
            preds["seasonal_naive_52w"] = full[:, lag_idx]
        elif "seasonal_naive_52w skipped" not in " ".join(notes):
            notes.append("seasonal_naive_52w skipped at some origins: the week 52 weeks earlier is not in the training data")
        preds["last_4_weeks_mean"] = np.repeat(hist_y[:, max(0, o - 4) : o].mean(axis=1, keepdims=True), horizon_weeks, axis=1)
        flat = hist_y.mean(axis=(1, 2))
        preds["flat_mean"] = np.broadcast_to(flat[:, None, None], test_y.shape)
        for name, pr in preds.items():
            pr = np.maximum(pr, DEVIANCE_FLOOR)
            rows.append(
                {
                    "origin": arrays.week_starts[o].date(),
                    "method": name,
                    "mae": float(np.mean(np.abs(test_y - pr))),
                    "poisson_deviance": poisson_deviance(test_y, pr),
                    "cells": int(test_y.size),
                }
            )
        origin_dates.append(arrays.week_starts[o].date())
    by_origin = pd.DataFrame(rows)
    scores = by_origin.groupby("method", sort=False)[["mae", "poisson_deviance"]].mean().reset_index()
    dev_model = float(scores.loc[scores["method"] == "model", "poisson_deviance"].iloc[0])
    scores["deviance_vs_model"] = scores["poisson_deviance"] / dev_model
    return BacktestResult(scores, by_origin, origin_dates, int(horizon_weeks), target, notes)

