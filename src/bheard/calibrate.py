"""Calibrate the unknown operating parameters to B-HEARD's published record.

Unknowns (no published figure, S-fy24-throughput, S-denver-star): the mean busy time per call
``service_time_hours`` (tau, hours) and the share of on-duty time a team can take calls
``availability`` (alpha; the rest is one unavailable block per tour, see
:mod:`bheard.simulate`). Both are fitted by simulation to two published outcomes
(``models/simulation.md`` gives the mapping):

- **pilot_2021** (S-bheard-launch, S-zone7-calls, S-tours-hours, S-first-month): Zone 7 (precincts 25, 28, 32), 2 teams x 2 tours
  (09-17, 17-01), about 16 MH calls a day in the 16 operating hours and about 25% of them
  routed to B-HEARD => 16 / 16 h x 0.25 = 0.25 eligible calls/hour; 80% of routed calls
  answered, the rest lost to busy teams.
- **fy24** (S-teams-2024, S-fy24-responses, S-fy24-throughput): 9 teams x 2 tours pooled over the pilot area (precinct
  lines dropped, S-teams-2024); 14,900 responses = 73% of eligible => 14,900 / 0.73 / (366 d x 16 h)
  = 3.49 eligible calls/hour; target 73% answered.

Both are simulated as one pooled zone (a team may take any call of the area), flat arrival
rate over the 16 operating hours, with the scenario's hospital-transport mix.

Method: the served share of each target is simulated on a (tau, alpha) grid with common random
numbers; for each alpha the tau hitting each target is interpolated; the fit is where the two
curves cross (exactly identified), else the grid point with the least squared error.
Sensitivity: the fit is redone with each published target moved within its published range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bheard.scenario import load_scenario
from bheard.simulate import SimSetup, simulate, simulate_arrays

OPERATING_HOURS_PER_DAY = 16.0  # 09:00-01:00 (S-tours-hours)


@dataclass(frozen=True)
class Target:
    """One published outcome: a pooled zone with ``teams_per_tour`` teams on two 8-h tours."""

    name: str
    teams_per_tour: int
    calls_per_hour: float  # eligible calls/hour in operating hours
    served_share: float  # published share of eligible (routed) calls answered
    facts_rows: str
    mapping: str


def pilot_2021(mh_calls_per_day: float = 16.0, routed_share: float = 0.25,
               answered_share: float = 0.80) -> Target:
    """2021 East Harlem pilot (S-bheard-launch, S-zone7-calls, S-tours-hours, S-first-month)."""
    lam = mh_calls_per_day / OPERATING_HOURS_PER_DAY * routed_share
    return Target("pilot_2021", 2, lam, answered_share, "1, 2, 12, 26",
                  f"{mh_calls_per_day:g} MH calls/day in 16 h (S-zone7-calls) x {routed_share:.0%} routed"
                  f" (S-first-month) = {lam:.3f} eligible calls/h; 2 teams x 2 tours (S-tours-hours);"
                  f" {answered_share:.0%} of routed answered (S-first-month)")


def fy24(responses: float = 14_900, answered_share: float = 0.73, teams_per_tour: int = 9,
         days: float = 366) -> Target:
    """FY24 (S-teams-2024, S-fy24-responses, S-fy24-throughput)."""
    lam = responses / answered_share / (days * OPERATING_HOURS_PER_DAY)
    return Target("fy24", teams_per_tour, lam, answered_share, "13, 32, 33",
                  f"{responses:,.0f} responses (S-fy24-responses) / {answered_share:.0%} answered (S-fy24-responses) /"
                  f" ({days:g} d x 16 h) = {lam:.3f} eligible calls/h; {teams_per_tour} teams x 2"
                  f" tours pooled over the pilot area (S-teams-2024)")


def default_targets() -> list[Target]:
    return [pilot_2021(), fy24()]


def zone_setup(target: Target, service_time_hours: float, availability: float, *,
               weeks: int = 52, hospital_share: float = 0.5,
               hospital_extra_hours: float = 1.0) -> SimSetup:
    """One pooled zone, 2 tours (09-17, 17-01) x 7 days, flat rate in operating hours."""
    hourly = np.zeros((1, 168))
    for d in range(7):
        for h in range(9, 25):  # 09:00 .. 01:00 (hour 24 = next day's 00:00-01:00)
            hourly[0, (d * 24 + h) % 168] = target.calls_per_hour
    starts = np.array([d * 24 + h for d in range(7) for h in (9.0, 17.0)])
    S = starts.size
    hx = min(hospital_extra_hours, 0.95 * service_time_hours / max(hospital_share, 1e-9))
    return SimSetup(
        precinct=np.array([0]), hourly_calls_per_hour=hourly,
        teams=np.full((1, S), target.teams_per_tour), slot_start_how=starts,
        slot_hours=np.full(S, 8.0), slot_tour=np.array(["day", "evening"] * 7, dtype=object),
        service_time_hours=service_time_hours, weeks=weeks, dispatch="pooled",
        hospital_share=hospital_share, hospital_extra_hours=hx, availability=availability)


def served_share(target: Target, service_time_hours: float, availability: float, *,
                 replications: int, seed: int, weeks: int = 52, **kw) -> tuple[float, float]:
    """Simulated share of eligible calls answered (mean, standard error) for one target."""
    r = simulate_arrays(zone_setup(target, service_time_hours, availability, weeks=weeks, **kw),
                        replications, seed)
    x = r.per_replication["served_share_operating_hours"].to_numpy()
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")
    return float(x.mean()), se


@dataclass
class Calibration:
    """Fitted values, fit error and sensitivity (see module docstring)."""

    service_time_hours: float
    availability: float
    exact: bool  # True when the two target curves cross inside the grid
    targets: list[Target]
    residuals_pp: dict  # target -> simulated minus published, percentage points (fresh seeds)
    simulated: dict  # target -> (mean served share, standard error)
    grid: pd.DataFrame  # alpha, tau, target, served_share
    curves: pd.DataFrame  # alpha -> tau hitting each target
    sensitivity: pd.DataFrame  # case -> fitted tau, alpha
    effective_hours_per_call: float = field(init=False)

    def __post_init__(self):
        self.effective_hours_per_call = self.service_time_hours / self.availability

    def summary(self) -> dict:
        return {
            "service_time_hours": self.service_time_hours, "availability": self.availability,
            "effective_busy_hours_per_call": self.effective_hours_per_call,
            "exactly_identified": self.exact,
            "targets": [{"name": t.name, "facts_rows": t.facts_rows, "published": t.served_share,
                         "calls_per_hour": t.calls_per_hour, "teams_per_tour": t.teams_per_tour,
                         "mapping": t.mapping,
                         "simulated": self.simulated[t.name][0],
                         "simulated_se": self.simulated[t.name][1],
                         "residual_pp": self.residuals_pp[t.name]} for t in self.targets],
            "curves": self.curves.to_dict(orient="records"),
            "sensitivity": self.sensitivity.to_dict(orient="records"),
        }


def _tau_for(grid_tau: np.ndarray, shares: np.ndarray, goal: float) -> float:
    """tau where the (decreasing in tau) served share crosses ``goal`` (linear interpolation);
    nan when the goal is outside the simulated range."""
    s = np.minimum.accumulate(shares)  # enforce monotone decrease against simulation noise
    if not (s[-1] <= goal <= s[0]):
        return float("nan")
    return float(np.interp(goal, s[::-1], grid_tau[::-1]))


def _solve(grid: pd.DataFrame, targets: list[Target], goals: dict[str, float],
           tau_scale: dict[str, float] | None = None):
    """Fit (tau, alpha) on the simulated grid for given target shares; returns
    (tau, alpha, exact, curves)."""
    tau_scale = tau_scale or {}
    alphas = np.sort(grid["availability"].unique())
    rows = []
    for a in alphas:
        g = grid[grid["availability"] == a]
        row = {"availability": float(a)}
        for t in targets:
            gt = g[g["target"] == t.name].sort_values("service_time_hours")
            tau = _tau_for(gt["service_time_hours"].to_numpy(), gt["served_share"].to_numpy(),
                           goals[t.name])
            row[f"tau_{t.name}"] = tau * tau_scale.get(t.name, 1.0)
        rows.append(row)
    curves = pd.DataFrame(rows)
    a_name, b_name = (f"tau_{targets[0].name}", f"tau_{targets[1].name}")
    d = (curves[a_name] - curves[b_name]).to_numpy()
    al = curves["availability"].to_numpy()
    ok = np.isfinite(d)
    for i in np.flatnonzero(ok & (np.abs(np.where(ok, d, 1.0)) < 1e-9)):  # crossing on a node
        return float(curves[b_name].iloc[i]), float(al[i]), True, curves
    # crossing: adjacent alphas with a sign change
    for i in range(len(al) - 1, 0, -1):
        if ok[i] and ok[i - 1] and d[i] * d[i - 1] <= 0 and d[i] != d[i - 1]:
            w = d[i] / (d[i] - d[i - 1])
            alpha = al[i] + w * (al[i - 1] - al[i])
            tau = float(np.interp(alpha, al[[i - 1, i]], curves[b_name].to_numpy()[[i - 1, i]]))
            return tau, float(alpha), True, curves
    # no crossing: least squared error over the grid (both targets weighted equally)
    g = grid.pivot_table(index=["availability", "service_time_hours"], columns="target",
                         values="served_share")
    err = sum((g[t.name] - goals[t.name]) ** 2 for t in targets)
    a_best, tau_best = err.idxmin()
    return float(tau_best), float(a_best), False, curves


def calibrate(targets: list[Target] | None = None, *,
              taus=None, alphas=None, replications: dict[str, int] | None = None,
              seed: int = 0, weeks: int = 52, hospital_share: float = 0.5,
              hospital_extra_hours: float = 1.0, check_replications: int = 20) -> Calibration:
    """Fit ``service_time_hours`` and ``availability`` to the published targets by simulation.

    ``taus`` (hours) and ``alphas`` are the grid; ``replications`` per target (default: enough
    for a standard error of about 0.3 pp: pilot 20, FY24 4). The fit error is measured by a
    fresh simulation (seed + 1) at the fitted values with ``check_replications``.
    """
    targets = targets or default_targets()
    if len(targets) != 2:
        raise ValueError("calibrate fits two parameters to exactly two targets")
    taus = np.arange(1.0, 6.01, 0.25) if taus is None else np.asarray(taus, dtype=float)
    alphas = np.round(np.arange(0.5, 1.001, 0.1), 3) if alphas is None else np.asarray(alphas)
    reps = {"pilot_2021": 20, "fy24": 4}
    reps.update(replications or {})
    kw = dict(weeks=weeks, hospital_share=hospital_share, hospital_extra_hours=hospital_extra_hours)
    rows = []
    for a in alphas:
        for tau in taus:
            for t in targets:
                m, _ = served_share(t, float(tau), float(a), replications=reps.get(t.name, 4),
                                    seed=seed, **kw)
                rows.append({"availability": float(a), "service_time_hours": float(tau),
                             "target": t.name, "served_share": m})
    grid = pd.DataFrame(rows)
    goals = {t.name: t.served_share for t in targets}
    tau, alpha, exact, curves = _solve(grid, targets, goals)

    simulated, resid = {}, {}
    for t in targets:
        m, se = served_share(t, tau, alpha, replications=check_replications, seed=seed + 1, **kw)
        simulated[t.name] = (m, se)
        resid[t.name] = 100.0 * (m - t.served_share)

    # sensitivity: move one published figure within its published range, refit
    cases = [("fitted", goals, {})]
    names = [t.name for t in targets]
    if "pilot_2021" in names:
        cases += [("pilot answered 82% (H1 FY22, S-h1-fy22)", {**goals, "pilot_2021": 0.82}, {}),
                  ("pilot answered 78% (80% - 2 pp)", {**goals, "pilot_2021": 0.78}, {}),
                  # 22% routed instead of 25% (S-h1-fy22): rate x 0.88; served share depends on
                  # the load lambda x tau, so the same share needs tau x 25/22 (exact at alpha=1)
                  ("pilot routed 22% (S-h1-fy22)", goals, {"pilot_2021": 0.25 / 0.22})]
    if "fy24" in names:
        cases += [("FY24 answered 70% (73% - 3 pp)", {**goals, "fy24": 0.70}, {}),
                  ("FY24 answered 76% (73% + 3 pp)", {**goals, "fy24": 0.76}, {}),
                  ("FY24 365 operating days", goals, {"fy24": 366 / 365})]
    sens = []
    for label, g, scale in cases:
        st, sa, ex, _ = _solve(grid, targets, g, scale)
        sens.append({"case": label, "service_time_hours": st, "availability": sa,
                     "effective_busy_hours_per_call": st / sa, "exact": ex})
    return Calibration(tau, alpha, exact, targets, resid, simulated, grid, curves,
                       pd.DataFrame(sens))


# --------------------------------------------------------------------------------------
# validation against the Comptroller audit
# --------------------------------------------------------------------------------------
AUDIT_SERVED_SHARE = 0.65  # S-audit-served: 24,071 of 37,113 eligible calls, FY22-FY24
FY24_SERVED_SHARE = 0.73  # S-fy24-responses


def validate_scenario(scenario, replications: int | None = None, seed: int | None = None):
    """Simulate a scenario's own plan (pooled dispatch unless the scenario says otherwise) and
    compare the served share in operating hours with the audit (S-audit-served) and FY24 (S-fy24-responses).

    Returns ``(SimResult, dict)``; the dict has the figures and their differences in pp.
    """
    sc = load_scenario(scenario)
    r = simulate(sc, replications, seed)
    m, lo, hi = r.overall["served_share_operating_hours"]
    eligible_operating = r.overall["calls_per_replication"][0] * (
        1 - r.overall["lost_off_hours_share"][0])
    return r, {
        "simulated_served_share_operating_hours": m, "ci95": (lo, hi),
        "audit_fy22_fy24": AUDIT_SERVED_SHARE, "difference_vs_audit_pp": 100 * (m - AUDIT_SERVED_SHARE),
        "fy24": FY24_SERVED_SHARE, "difference_vs_fy24_pp": 100 * (m - FY24_SERVED_SHARE),
        "eligible_calls_per_year_operating_hours": eligible_operating,
        "fy24_eligible_calls_per_year": 14_900 / 0.73,
        "dispatch": r.dispatch,
    }


__all__ = ["Target", "pilot_2021", "fy24", "default_targets", "calibrate", "Calibration",
           "served_share", "zone_setup", "validate_scenario", "AUDIT_SERVED_SHARE"]
