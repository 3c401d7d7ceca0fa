"""Demand samples as problem data (``models/stochastic.md``).

A scenario with ``demand.uncertainty`` becomes a :class:`SampledProblem`: the slot problem of
:mod:`bheard.problem.slots` whose demand is a set of samples ``lambda[n, p, s]`` (eligible
calls/hour) instead of one table. Two independent sets are drawn: the optimization samples
(stream ``(seed, 0)``) and the held-out samples every plan is evaluated on (stream
``(seed, 1)``; for a file of samples, a seeded split of the file).

Every sample is a demand table of the ONE dispatch model (``models/dispatch.md``): its problem
(:meth:`SampledProblem.at_rates`) has the sample's calls, its own lagged workload and
within-slot inflow (the lag maps of :func:`bheard.problem.slots.slot_lags`), and everything
else (trips, availability, waiting, handover) from the scenario. The sample average
approximation (SAA) of the isolated model then needs nothing else from the formulations:
:meth:`SampledProblem.coverage_table` is the AVERAGE over the optimization samples of the
per-sample tables of :meth:`ProblemData.coverage_table`, so the increments, greedy,
Lagrangian bound and reduced-cost fixing of :mod:`bheard.model.isolated` see the expected
coverage and stay exact (each sample's table is concave in the number of teams, and so is
their average). ``calls_per_hour`` is the sample mean, so eligible calls are expected eligible
calls. Many samples are evaluated at once as one problem whose slots are the samples' slots
side by side (:meth:`SampledProblem.stacked`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from bheard.data import precincts as precinct_table
from bheard.demand.slots import slot_mean_rates
from bheard.demand.uncertainty import (growth_factors, multipliers, read_sample_file,
                                       split_samples)
from bheard.constants import HOURS_PER_WEEK
from bheard.dispatch import dispatch_model
from bheard.problem.slots import (ProblemData, demand_rates, problem_from_scenario,
                                  select_precincts, slot_lags, slot_rates_to_hourly)
from bheard.scenario.hours import slot_times

#: samples per chunk when a computation walks over samples (the stacked problem of a chunk
#: repeats the (S, P, P) trip times: about 30 MB citywide)
CHUNK = 24


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


def tile_slots(a: np.ndarray, n: int) -> np.ndarray:
    """A per-slot array repeated for ``n`` samples along its slot axis (the last for (P, S)
    and (S,), the first for (S, ...) arrays is handled by the caller): slot ``m S + s`` of the
    result is slot ``s`` under sample ``m``."""
    return np.tile(np.asarray(a), (1,) * (np.ndim(a) - 1) + (n,))


def by_sample(a: np.ndarray, n: int) -> np.ndarray:
    """(P, n S, ...) stacked-slot values -> (n, P, S, ...) per sample (inverse of the stacking
    of :meth:`SampledProblem.stacked`)."""
    P, NS = a.shape[:2]
    return np.moveaxis(a.reshape((P, n, NS // n) + a.shape[2:]), 1, 0)


@dataclass(frozen=True, eq=False)
class SampledProblem(ProblemData):
    """A :class:`ProblemData` whose demand is :class:`DemandSamples` (module docstring).

    ``calls_per_hour`` is the mean of the optimization samples; :meth:`coverage_table` the
    average of their coverage tables (expected covered calls/year). ``lag_work`` and
    ``lag_inflow`` (S, S): the linear maps from a sample's slot rates to its lagged workload
    rates and the part of them arriving within the slot (``rates @ lag_work``; the same
    :func:`bheard.problem.slots.slot_lags` the deterministic problem uses, applied to the
    hourly rates flat within each slot); None = no lag (workload = calls).
    """

    samples: DemandSamples | None = None
    lag_work: np.ndarray | None = None
    lag_inflow: np.ndarray | None = None

    def lagged(self, rates: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(work, inflow) calls/hour of (..., P, S) slot rates (None, None without lags)."""
        if self.lag_work is None:
            return None, None
        r = np.asarray(rates, dtype=float)
        return r @ self.lag_work, r @ self.lag_inflow

    def at_rates(self, rates: np.ndarray) -> ProblemData:
        """The same problem with one (P, S) demand table (a plain :class:`ProblemData`): calls,
        lagged workload and within-slot inflow all from ``rates``; the carried-over share
        (``carry_share``) kept."""
        values = {f.name: getattr(self, f.name) for f in fields(ProblemData)}
        values["calls_per_hour"] = np.asarray(rates, dtype=float)
        values["work_calls_per_hour"], values["inflow_calls_per_hour"] = self.lagged(rates)
        return ProblemData(**values)

    def at_sample(self, n: int, holdout: bool = False) -> ProblemData:
        """The problem at one sample's demand."""
        src = self.samples.holdout if holdout else self.samples.rates
        return self.at_rates(src[n])

    def stacked(self, rates: np.ndarray, carry_share: np.ndarray | None = None,
                travel: bool = True) -> ProblemData:
        """The problems of ``rates`` (n, P, S) side by side as one :class:`ProblemData` with
        ``n S`` slots (slot ``m S + s`` = slot ``s`` under sample ``m``): every per-slot array
        repeated, the demand of each block its sample's. Slots never interact in the coverage
        models except through the carried-over share (a function of the plan, the same in
        every block) and the busy-probability groups (offset per block by the caller), so a
        coverage function of this problem is that function of each sample's problem, computed
        in one vectorised call. ``carry_share`` (P, S) is repeated too (default: the
        problem's); the (n S, P, P) trip times are not repeated: the isolated model needs only
        each precinct's own trip (``own_trip_min``, (P, n S)), and with ``travel=False`` that is
        left out too (the hypercube model takes trips from its preference lists)."""
        r = np.asarray(rates, dtype=float)
        n = r.shape[0]
        flat = np.moveaxis(r, 0, 1).reshape(r.shape[1], -1)  # (P, n S)
        work, inflow = self.lagged(r)
        stack = (lambda a: None if a is None else np.moveaxis(a, 0, 1).reshape(a.shape[1], -1))
        share = self.carry_share if carry_share is None else carry_share
        t = tile_slots
        values = {f.name: getattr(self, f.name) for f in fields(ProblemData)}
        values.update(
            slot_day=t(self.slot_day, n), slot_tour=t(self.slot_tour, n),
            slot_hours=t(self.slot_hours, n), slot_cost_usd=t(self.slot_cost_usd, n),
            slot_start_how=t(self.slot_start_how, n), calls_per_hour=flat,
            max_teams=t(self.max_teams, n), min_teams=t(self.min_teams, n),
            slot_cap=t(self.slot_cap, n), slot_cap_label=t(self.slot_cap_label, n),
            reach=None, role_names=(), role_fte_per_team=None, role_cap=None,
            work_calls_per_hour=stack(work), inflow_calls_per_hour=stack(inflow),
            travel_min=None,
            own_trip_min=(t(np.diagonal(self.travel_min, axis1=1, axis2=2).T, n) if travel
                          and self.travel_min is not None else None),
            carry_share=None if share is None else t(share, n))
        return ProblemData(**values)

    def coverage_table(self, kmax: int | None = None) -> np.ndarray:
        """(P, S, K+1) AVERAGE over the optimization samples of each sample's coverage table
        (:meth:`ProblemData.coverage_table` of its problem: loss with breaks at its offered
        load, trips and lagged load included, and the waiting factor), at this problem's
        carried-over share. Each sample's table is concave in k, so is the average."""
        kmax = self.kmax if kmax is None else kmax
        if self.samples is None:
            return super().coverage_table(kmax)
        rates = self.samples.rates
        N = rates.shape[0]
        acc = np.zeros(self.shape + (kmax + 1,))
        for a in range(0, N, CHUNK):
            blk = self.stacked(rates[a:a + CHUNK]).coverage_table(kmax)
            acc += by_sample(blk, min(CHUNK, N - a)).sum(axis=0)
        return acc / max(N, 1)

    def coverage(self, teams: np.ndarray) -> np.ndarray:
        """(P, S) AVERAGE over the optimization samples of each sample's covered calls/year
        of the plan (the entry of :meth:`coverage_table` at the plan's counts: each sample's
        :meth:`ProblemData.coverage`, one level per cell), at this problem's carried-over
        share."""
        if self.samples is None:
            return super().coverage(teams)
        teams = np.asarray(teams, dtype=np.int64)
        rates = self.samples.rates
        N = rates.shape[0]
        acc = np.zeros(self.shape)
        for a in range(0, N, CHUNK):
            n = min(CHUNK, N - a)
            blk = self.stacked(rates[a:a + CHUNK]).coverage(tile_slots(teams, n))
            acc += by_sample(blk, n).sum(axis=0)
        return acc / max(N, 1)

    def eligible_by_sample(self, holdout: bool = True) -> np.ndarray:
        """(M, P, S) eligible calls/year in each sample."""
        src = self.samples.holdout if holdout else self.samples.rates
        return (self.weeks_per_year * self.slot_hours)[None, None, :] * src

    def coverage_by_sample(self, teams: np.ndarray, holdout: bool = True) -> np.ndarray:
        """(M, P, S) covered calls/year of a plan in each held-out (or optimization) sample
        under the isolated model, at the plan's own carried-over share
        (:meth:`ProblemData.carry_share_of`, as the deterministic driver reports a plan):
        each sample's :meth:`ProblemData.coverage` of the plan."""
        src = self.samples.holdout if holdout else self.samples.rates
        teams = np.asarray(teams, dtype=np.int64)
        own = self.carry_share_of(teams)
        out = np.empty(src.shape)
        for a in range(0, src.shape[0], CHUNK):
            n = min(CHUNK, src.shape[0] - a)
            blk = self.stacked(src[a:a + n], carry_share=own).coverage(tile_slots(teams, n))
            out[a:a + n] = by_sample(blk, n)
        return out


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
    # the lagged rates are linear in the hourly rates: their maps from slot rates, once
    S = base.shape[1]
    basis = slot_rates_to_hourly(np.eye(S), base.slot_start_how, base.slot_hours)
    work, inflow = (slot_lags(basis, base.slot_start_how, base.slot_hours, dispatch_model(sc),
                              base.travel_min) if S else (None, None))
    return SampledProblem(**values, samples=samples, lag_work=work, lag_inflow=inflow)
