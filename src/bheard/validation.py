"""Validation against the published record: one row per period (``bheard.record``).

For each period bheard solves the period's scenario with the calibrated dispatch parameters
(the optimizer places the period's fleet in its area), reports the optimizer's predicted share
of eligible calls covered in operating hours, simulates the same plan with the same parameters,
and compares both with the published figure. The audit row aggregates FY22-FY24 weighted by
each year's eligible calls. Where a period's fleet is not published, the row also gives the
fleet the model needs to reproduce the published share (``implied_teams_per_tour``). Response
times: the simulated mean (and the optimizer's, from the dispatch probabilities) against the
published averages. Two periods are fitted (``bheard.calibrate.FIT_PERIODS``); the others are
out of sample.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from bheard.record import (
    AUDIT_PERIODS,
    AUDIT_SHARE,
    Period,
    expected_response_min,
    period_scenario,
    periods,
)

#: the README's threshold for a residual to need an explanation, percentage points
RESIDUAL_LIMIT_PP = 5.0


@dataclass
class ValidationRow:
    """One period: published figure, bheard's prediction and simulation (shares 0..1)."""

    period: str
    label: str
    measure: str
    sources: str
    fit: bool
    teams_per_tour: int
    fleet_source: str
    eligible_per_year: float
    published: float
    predicted: float
    predicted_status: str
    simulated: float
    simulated_ci95: tuple
    response_published_min: float | None = None
    response_predicted_min: float | None = None
    response_simulated_min: float | None = None
    implied_teams_per_tour: float | None = None
    note: str = ""

    @property
    def residual_pp(self) -> float:
        """Simulated minus published, percentage points."""
        return 100.0 * (self.simulated - self.published)

    @property
    def predicted_residual_pp(self) -> float:
        return 100.0 * (self.predicted - self.published)

    def record(self) -> dict:
        d = asdict(self)
        d["residual_pp"] = self.residual_pp
        d["predicted_residual_pp"] = self.predicted_residual_pp
        return d


def _row(p: Period, params: dict, replications: int, seed: int) -> tuple[ValidationRow, object]:
    from bheard.optimize import solve
    from bheard.simulate import simulate

    plan = solve(period_scenario(p, params, replications=replications, seed=seed))
    if not plan.feasible:
        raise RuntimeError(f"period {p.name}: no plan ({plan.status})")
    r = simulate(plan, replications, seed)
    m, lo, hi = r.overall["served_share_operating_hours"]
    row = ValidationRow(
        p.name, p.label, p.measure, p.sources, p.fit, p.teams_per_tour, p.fleet_source,
        p.eligible_per_year, p.published_share, plan.coverage_share, plan.status, m, (lo, hi),
        response_published_min=p.response_min,
        response_predicted_min=expected_response_min(plan),
        response_simulated_min=r.overall["response_mean_min"][0])
    return row, plan


def implied_fleet(p: Period, params: dict, *, lo: int = 1, hi: int = 14) -> float:
    """Teams per tour at which the optimizer's predicted share equals the published one
    (linear interpolation between whole fleets); nan outside ``lo..hi``."""
    from bheard.optimize import solve

    shares = {}

    def share(f):
        if f not in shares:
            plan = solve(period_scenario(p, params, teams_per_tour=f))
            shares[f] = plan.coverage_share if plan.feasible else float("nan")
        return shares[f]

    a, b = lo, hi
    if not (share(a) <= p.published_share <= share(b)):
        return float("nan")
    while b - a > 1:  # bisection on whole fleets (coverage rises with the fleet)
        mid = (a + b) // 2
        if share(mid) < p.published_share:
            a = mid
        else:
            b = mid
    sa, sb = share(a), share(b)
    return float(a + (p.published_share - sa) / max(sb - sa, 1e-12))


def validation_table(params: dict, *, replications: int = 10, seed: int = 0,
                     implied: bool = True, names=None) -> list[ValidationRow]:
    """One :class:`ValidationRow` per period (``names``: a subset), plus the audit row when
    its three fiscal years are included."""
    rows = []
    for p in periods():
        if names is not None and p.name not in names:
            continue
        row, _ = _row(p, params, replications, seed)
        if implied and not p.published_fleet:
            row.implied_teams_per_tour = implied_fleet(p, params)
        row.note = _note(row)
        rows.append(row)
    by = {r.period: r for r in rows}
    if all(n in by for n in AUDIT_PERIODS):
        w = np.array([by[n].eligible_per_year for n in AUDIT_PERIODS])
        pred = float(np.dot(w, [by[n].predicted for n in AUDIT_PERIODS]) / w.sum())
        sim = float(np.dot(w, [by[n].simulated for n in AUDIT_PERIODS]) / w.sum())
        audit = ValidationRow(
            "audit_fy22_fy24", "Audit FY22-FY24", "of eligible calls, dispatched",
            "S-audit-served, S-audit-eligible", False, 0, "the three fiscal-year rows",
            float(w.sum()), AUDIT_SHARE, pred, "(aggregate)", sim, (math.nan, math.nan))
        audit.note = _note(audit)
        rows.append(audit)
    return rows


def _note(row: ValidationRow) -> str:
    """Why a row's residual exceeds the limit, from what the row itself shows."""
    if abs(row.residual_pp) <= RESIDUAL_LIMIT_PP:
        return ""
    p = next((q for q in periods() if q.name == row.period), None)
    if p is not None and p.published_calls:
        z = row.residual_pp / (100.0 * p.sampling_se)
        return (f"the published {row.published:.0%} rests on about {p.published_calls:,.0f}"
                f" calls (sampling error {100 * p.sampling_se:.1f} pp): the residual is"
                f" {z:.1f} sampling errors; the fit weighs FY24's 20,411 calls far more")
    if row.implied_teams_per_tour is not None and math.isfinite(row.implied_teams_per_tour):
        return (f"fleet not published ({row.fleet_source}): with {row.teams_per_tour} teams per"
                f" tour the model serves {row.simulated:.0%}; the published {row.published:.0%}"
                f" needs {row.implied_teams_per_tour:.1f} teams per tour")
    if row.period == "audit_fy22_fy24":
        return "aggregates the fiscal-year rows above; their residuals carry over"
    return f"residual {row.residual_pp:+.1f} pp beyond {RESIDUAL_LIMIT_PP:g} pp"


def to_markdown(rows: list[ValidationRow]) -> str:
    """The README's validation table."""
    head = ("| period | published | fleet (teams/tour) | eligible calls/yr | optimizer |"
            " simulation | residual (sim - published) | note |\n"
            "|---|---|---|---:|---:|---:|---:|---|\n")
    out = []
    for r in rows:
        fit = " **(fit)**" if r.fit else ""
        fleet = (f"{r.teams_per_tour} ({r.fleet_source})" if r.teams_per_tour
                 else r.fleet_source)
        out.append(
            f"| {r.label}{fit} | {r.published:.0%} {r.measure} ({r.sources}) | {fleet} |"
            f" {r.eligible_per_year:,.0f} | {r.predicted:.1%} | {r.simulated:.1%} |"
            f" {r.residual_pp:+.1f} pp | {r.note} |")
    resp = [r for r in rows if r.response_published_min is not None]
    text = head + "\n".join(out) + "\n"
    if resp:
        text += ("\n| period | published mean response | optimizer | simulation | residual |\n"
                 "|---|---:|---:|---:|---:|\n")
        for r in resp:
            fit = " **(fit)**" if r.period == "fy24" else ""
            text += (f"| {r.label}{fit} | {r.response_published_min:.1f} min |"
                     f" {r.response_predicted_min:.1f} min | {r.response_simulated_min:.1f} min |"
                     f" {r.response_simulated_min - r.response_published_min:+.1f} min |\n")
    return text


__all__ = ["ValidationRow", "validation_table", "implied_fleet", "to_markdown",
           "RESIDUAL_LIMIT_PP"]
