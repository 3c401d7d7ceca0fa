"""Demand samples as problem data (``models/stochastic.md``).

A scenario with ``demand.uncertainty`` becomes a :class:`SampledProblem`: the slot problem of
:mod:`bheard.problem.slots` whose demand is a set of samples ``lambda[n, p, s]`` (eligible
calls/hour) instead of one table. Two independent sets are drawn: the optimization samples
(stream ``(seed, 0)``) and the held-out samples every plan is evaluated on (stream
``(seed, 1)``; for a file of samples, a seeded split of the file).

The sample average approximation (SAA) needs nothing else from the formulations:
:meth:`SampledProblem.coverage_table` is the AVERAGE over the optimization samples of the
per-sample Erlang-loss tables, so the increments, greedy, Lagrangian bound and reduced-cost
fixing of :mod:`bheard.model.isolated` see the expected coverage and stay exact (each
sample's table is concave in the number of teams, and so is their average). ``calls_per_hour``
is the sample mean, so eligible calls are expected eligible calls.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from bheard.data import precincts as precinct_table
from bheard.demand.slots import slot_mean_rates
from bheard.demand.uncertainty import (growth_factors, multipliers, read_sample_file,
                                       split_samples)
from bheard.constants import HOURS_PER_WEEK
from bheard.problem.slots import (ProblemData, demand_rates, problem_from_scenario,
                                  select_precincts)
from bheard.queueing import erlang_b_table
from bheard.scenario.hours import slot_times

#: samples per chunk when a computation walks over samples (bounds memory to a few MB per
#: 1,000 precinct-slots)
CHUNK = 128


@dataclass(frozen=True, eq=False)
class DemandSamples:
    """Demand scenarios: eligible calls/hour per (sample, precinct, slot).

    ``rates``: (N, P, S) the samples plans are optimized over; ``holdout``: (M, P, S) held-out
    samples, drawn independently (another seed stream, or the other part of a file), that
    plans are evaluated on. ``source``: where they come from, in words.
    """

    rates: np.ndarray
    holdout: np.ndarray
    source: str
    seed: int

    @property
    def n(self) -> int:
        return int(self.rates.shape[0])

    @property
    def m(self) -> int:
        return int(self.holdout.shape[0])

    def median(self) -> np.ndarray:
        """(P, S) per-cell median of the optimization samples (the "median demand")."""
        return np.median(self.rates, axis=0)


def coverage_tables(rates: np.ndarray, service_time_hours: float, weight: np.ndarray,
                    kmax: int) -> np.ndarray:
    """(P, S, K+1) AVERAGE over samples of the Erlang-loss coverage tables, calls/year:
    ``mean_n  weight_s lam_nps (1 - B(k, lam_nps tau))`` with ``weight_s = W h_s``."""
    N = rates.shape[0]
    acc = np.zeros(rates.shape[1:] + (kmax + 1,))
    for a in range(0, N, CHUNK):
        r = rates[a:a + CHUNK]
        b = erlang_b_table(r * service_time_hours, kmax)
        acc += ((weight[None, None, :] * r)[..., None] * (1.0 - b)).sum(axis=0)
    return acc / max(N, 1)


def coverage_by_sample(rates: np.ndarray, service_time_hours: float, weight: np.ndarray,
                       teams: np.ndarray) -> np.ndarray:
    """(M, P, S) covered calls/year of a (P, S) plan in each sample (isolated Erlang loss)."""
    teams = np.asarray(teams, dtype=np.int64)
    kmax = int(teams.max()) if teams.size else 0
    out = np.empty(rates.shape)
    for a in range(0, rates.shape[0], CHUNK):
        r = rates[a:a + CHUNK]
        b = erlang_b_table(r * service_time_hours, kmax)
        blk = np.take_along_axis(b, np.broadcast_to(teams[None, :, :, None],
                                                    r.shape + (1,)), axis=-1)[..., 0]
        out[a:a + CHUNK] = weight[None, None, :] * r * (1.0 - blk)
    return out


@dataclass(frozen=True, eq=False)
class SampledProblem(ProblemData):
    """A :class:`ProblemData` whose demand is :class:`DemandSamples` (module docstring).

    ``calls_per_hour`` is the mean of the optimization samples; :meth:`coverage_table` the
    average of their coverage tables (expected covered calls/year).
    """

    samples: DemandSamples | None = None

    def coverage_table(self, kmax: int | None = None) -> np.ndarray:
        kmax = self.kmax if kmax is None else kmax
        if self.samples is None:
            return super().coverage_table(kmax)
        return coverage_tables(self.samples.rates, self.service_time_hours,
                               self.weeks_per_year * self.slot_hours, kmax)

    def at_rates(self, rates: np.ndarray) -> ProblemData:
        """The same problem with one (P, S) demand table (a plain :class:`ProblemData`)."""
        values = {f.name: getattr(self, f.name) for f in fields(ProblemData)}
        values["calls_per_hour"] = np.asarray(rates, dtype=float)
        return ProblemData(**values)

    def at_sample(self, n: int, holdout: bool = False) -> ProblemData:
        """The problem at one sample's demand."""
        src = self.samples.holdout if holdout else self.samples.rates
        return self.at_rates(src[n])

    def eligible_by_sample(self, holdout: bool = True) -> np.ndarray:
        """(M, P, S) eligible calls/year in each sample."""
        src = self.samples.holdout if holdout else self.samples.rates
        return (self.weeks_per_year * self.slot_hours)[None, None, :] * src

    def coverage_by_sample(self, teams: np.ndarray, holdout: bool = True) -> np.ndarray:
        """(M, P, S) covered calls/year of a plan in each held-out (or optimization) sample."""
        src = self.samples.holdout if holdout else self.samples.rates
        return coverage_by_sample(src, self.service_time_hours,
                                  self.weeks_per_year * self.slot_hours, teams)


def streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The optimization and held-out random streams of a seed: ``(seed, 0)`` and ``(seed, 1)``."""
    return (np.random.default_rng(np.random.SeedSequence([int(seed), 0])),
            np.random.default_rng(np.random.SeedSequence([int(seed), 1])))


def demand_samples(sc) -> DemandSamples:
    """The demand samples of a scenario with ``demand.uncertainty`` (module docstring)."""
    u = sc.demand.uncertainty
    table = precinct_table()
    sel = select_precincts(table, sc.precincts)
    slots, start_how, hours = slot_times(sc.shifts)
    precincts = sel["precinct"].to_numpy(dtype=np.int64)
    boroughs = sel["borough"].to_numpy(dtype=object)
    b_index = np.unique(boroughs, return_inverse=True)[1].ravel()
    source = u.resolved_source(sc.demand.forecast is not None)
    rng_opt, rng_eval = streams(u.seed)
    scale = sc.demand.scale
    if source == "file":
        rates = read_sample_file(u.file, slots, precincts) * scale
        opt, hold = split_samples(rates, u.holdout_share, rng_eval)
        return DemandSamples(opt, hold, f"file {u.file.name} ({rates.shape[0]} samples:"
                             f" {opt.shape[0]} optimized over, {hold.shape[0]} held out)",
                             u.seed)
    if source == "forecast":
        # deferred: the forecast imports scipy.stats
        from bheard.demand.forecast import forecast_calls

        f = sc.demand.forecast
        res = forecast_calls(f.history, f.target_start, f.weeks, quantile=f.quantile,
                             rules=f.rules, precincts=precincts.tolist())
        model = res.model
        pos = {int(p): i for i, p in enumerate(model.precincts)}
        rows = np.array([pos[int(p)] for p in precincts], dtype=np.int64)
        to_slots = slot_mean_rates(np.eye(HOURS_PER_WEEK), start_how, hours)  # (168, S)

        def draw(rng, n):
            out = np.empty((n, len(precincts), len(slots)))
            for a in range(0, n, CHUNK):
                k = min(CHUNK, n - a)
                out[a:a + k] = model.sample_eligible(f.target_start, f.weeks, k, rng, rows) \
                    @ to_slots
            return out * scale
        what = (f"forecast predictive distribution (negative binomial, {model.history_weeks}"
                f" weeks of history, target {f.target_start} + {f.weeks} weeks)")
    else:
        point = demand_rates(sc, table, sel, slots, start_how, hours) * scale

        def draw(rng, n):
            return np.broadcast_to(point, (n,) + point.shape).copy()
        what = f"point demand ({sc.demand.source})"

    levels = u.cv_levels

    def sample(rng, n):
        r = draw(rng, n)
        if levels:
            r *= multipliers(rng, n, r.shape[1:], b_index, levels)
        if u.growth is not None:
            r *= growth_factors(rng, n, u.growth)[:, None, None]
        return r

    parts = [what]
    if levels:
        parts.append("x lognormal factors (CV " + ", ".join(f"{k} {v:g}" for k, v in
                                                            levels.items()) + ")")
    if u.growth is not None:
        parts.append("x citywide growth " + "/".join(f"{100 * g:+g}%" for g in u.growth))
    return DemandSamples(sample(rng_opt, u.samples), sample(rng_eval, u.evaluation_samples),
                         " ".join(parts), u.seed)


def sampled_problem_from_scenario(sc) -> SampledProblem:
    """A scenario with ``demand.uncertainty`` -> :class:`SampledProblem` (the slot problem at
    the mean of the optimization samples, carrying the samples)."""
    samples = demand_samples(sc)
    base = problem_from_scenario(sc, rates=samples.rates.mean(axis=0))
    values = {f.name: getattr(base, f.name) for f in fields(ProblemData)}
    return SampledProblem(**values, samples=samples)
