"""Equity floors on coverage as arrays, and the coverage distribution across precincts.

Floors (scenario ``equity:``) are annual coverage shares: precinct ``i`` must have
``sum_{s,n} G_{isn} z_{isn} >= f E_i`` (``E_i`` eligible calls/year), a borough likewise over
its precincts. In the model of :mod:`bheard.model.shared` they are linear in ``z``; the
isolated model reaches them through the same machinery with Erlang-B increments as ``G``.
Gains fall with ``n``, so filling ``z`` in order maximises every precinct's coverage at once:
floors keep the continuous ``z`` exact (``models/shared_coverage.md``). The diagnosis of
unreachable floors solves LPs and lives with the driver (:mod:`bheard.optimize.fixed_point`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bheard.model.base import covered_from_counts, in_range
from bheard.problem.slots import ProblemData


@dataclass(frozen=True)
class Floors:
    """Equity floors as arrays: (P,) min covered calls/year per precinct, borough groups."""

    precinct_min: np.ndarray | None = None  # (P,) calls/year
    borough_index: np.ndarray | None = None  # (P,) int group of each precinct
    borough_min: np.ndarray | None = None  # (Bn,) calls/year
    borough_names: tuple = ()
    labels: dict = field(default_factory=dict)  # kind -> scenario field text
    max_ratio: float | None = None  # best / worst precinct share (precincts with demand)
    eligible: np.ndarray | None = None  # (P,) eligible calls/year (needed for max_ratio)

    @property
    def active(self) -> bool:
        return (self.precinct_min is not None or self.borough_min is not None
                or self.max_ratio is not None)


def deficits(floors: Floors, cov_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dp = np.zeros_like(cov_p) if floors.precinct_min is None else np.maximum(
        floors.precinct_min - cov_p, 0.0)
    if floors.borough_min is None:
        return dp, np.zeros(0)
    cov_b = np.bincount(floors.borough_index, weights=cov_p, minlength=len(floors.borough_min))
    return dp, np.maximum(floors.borough_min - cov_b, 0.0)


def meets_floors(G: np.ndarray, reach: np.ndarray, teams: np.ndarray, floors: Floors | None,
                 rel_tol: float = 1e-7) -> bool:
    """Whether a plan meets the equity floors (coverage measured with gains ``G``)."""
    if floors is None or not floors.active:
        return True
    cov_p = covered_from_counts(G, in_range(reach, teams)).sum(axis=1)
    dp, db = deficits(floors, cov_p)
    scale = max(float(cov_p.sum()), 1.0) * rel_tol
    ok = bool(dp.max(initial=0.0) <= scale and db.max(initial=0.0) <= scale)
    if ok and floors.max_ratio is not None:
        E = floors.eligible
        share = cov_p[E > 0] / E[E > 0]
        if share.size:
            ok = bool(share.max() <= floors.max_ratio * share.min() * (1 + 1e-9) + 1e-12)
    return ok



def floors_from_scenario(scenario, prob: ProblemData) -> Floors | None:
    """:class:`Floors` (calls/year) from ``scenario.equity``; None when no floor is set."""
    eq = scenario.equity
    if not eq.active:
        return None
    E = prob.eligible_calls_per_year().sum(axis=1)
    labels = {}
    pmin = bmin = bidx = None
    names: tuple = ()
    if eq.min_precinct_share is not None:
        pmin = eq.min_precinct_share * E
        labels["precinct"] = f"equity.min_precinct_share = {eq.min_precinct_share:g}"
    if eq.min_borough_share is not None:
        names = tuple(sorted(set(prob.borough.tolist())))
        bidx = np.array([names.index(b) for b in prob.borough], dtype=np.int64)
        bmin = eq.min_borough_share * np.bincount(bidx, weights=E, minlength=len(names))
        labels["borough"] = f"equity.min_borough_share = {eq.min_borough_share:g}"
    if eq.max_ratio is not None:
        labels["ratio"] = f"equity.max_ratio = {eq.max_ratio:g}"
    return Floors(precinct_min=pmin, borough_index=bidx, borough_min=bmin, borough_names=names,
                  labels=labels, max_ratio=eq.max_ratio, eligible=E)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal; mean absolute difference / 2 mean)."""
    v = np.sort(np.asarray(values, dtype=float))
    n = v.size
    if n == 0 or v.sum() <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def share_distribution(covered: np.ndarray, eligible: np.ndarray) -> dict:
    """Min, median, max and Gini of precinct coverage shares (precincts with demand)."""
    ok = eligible > 0
    if not ok.any():
        return {"min": math.nan, "median": math.nan, "max": math.nan, "gini": math.nan}
    share = covered[ok] / eligible[ok]
    return {"min": float(share.min()), "median": float(np.median(share)),
            "max": float(share.max()), "gini": gini(share)}
