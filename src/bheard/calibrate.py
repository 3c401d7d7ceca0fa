"""Calibrate the dispatch parameters to B-HEARD's published record (``models/simulation.md``).

Unknowns (no published figure; S-denver-star, S-fy24-throughput): the service time per call
beyond the trip ``teams.service_time_hours`` (tau, hours), the share of on-duty time a team
can take calls ``dispatch.availability`` (alpha) and the delay from a call's receipt to the team
rolling ``geography.dispatch_delay_min`` (d, minutes: triage, lower dispatch priority,
turnout; S-dispatch-process). They are fitted by simulation to TWO periods of the record
(:mod:`bheard.record`):

- ``first_month``: Zone 7 (precincts 25, 28, 32), 2 teams x 2 tours, 4 eligible calls a day,
  80% answered (S-first-month);
- ``fy24``: the 31 pilot precincts, 9 teams x 2 tours, 20,411 eligible calls, 73% answered
  (S-fy24-responses), mean response about 20 minutes (S-response-time).

Each period is the scenario :func:`bheard.record.period_scenario` builds: bheard's own plan for
that fleet and area (the optimizer places the teams), simulated with the same parameters the
optimizer uses. Method: d first from the FY24 response time (the trip is d + driving; driving
barely depends on tau and alpha), then (tau, alpha) on a grid with common random numbers: for
each alpha the tau hitting each target is interpolated and the fit is where the two curves
cross (exactly identified); repeated until d settles. The fit is written as a partial scenario
(:func:`write_calibration`) that the shipped scenarios ``extends:``. Every other period of the
record is out of sample (:mod:`bheard.validation`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.record import Period, params_dict, period, period_scenario

#: target of the response-time fit: FY24's ~20 minutes (S-response-time)
RESPONSE_TARGET_PERIOD = "fy24"
#: fitted periods (at most two, the issue's rule): the first month and FY24
FIT_PERIODS = ("first_month", "fy24")


@dataclass
class Calibration:
    """Fitted values, fit error and sensitivity (see module docstring)."""

    service_time_hours: float
    availability: float
    dispatch_delay_min: float
    exact: bool  # True when the two target curves cross inside the grid
    residuals_pp: dict  # period -> simulated minus published, percentage points (fresh seeds)
    simulated: dict  # period -> (mean served share, standard error)
    response_min: float  # simulated mean response of the response-time period, minutes
    grid: pd.DataFrame  # availability, service_time_hours, period, served_share
    curves: pd.DataFrame  # availability -> tau hitting each target
    sensitivity: pd.DataFrame  # case -> fitted tau, alpha
    rounds: list = field(default_factory=list)  # (d, tau, alpha, response) per round

    @property
    def effective_hours_per_call(self) -> float:
        return self.service_time_hours / self.availability

    def params(self) -> dict:
        """The fit as a partial scenario (teams, dispatch, geography)."""
        return params_dict(round(self.service_time_hours, 3), round(self.availability, 3),
                           round(self.dispatch_delay_min, 2))

    def summary(self) -> dict:
        return {
            "service_time_hours": self.service_time_hours,
            "availability": self.availability,
            "dispatch_delay_min": self.dispatch_delay_min,
            "effective_busy_hours_per_call": self.effective_hours_per_call,
            "exactly_identified": self.exact,
            "fit_periods": list(FIT_PERIODS),
            "simulated": {k: {"mean": v[0], "se": v[1]} for k, v in self.simulated.items()},
            "residuals_pp": self.residuals_pp,
            "response_min": self.response_min,
            "curves": self.curves.to_dict(orient="records"),
            "sensitivity": self.sensitivity.to_dict(orient="records"),
            "rounds": self.rounds,
        }


def _setups(params: dict, seed: int):
    """Plan and simulation setup of each fitted period at ``params`` (the optimizer places
    the period's fleet)."""
    from bheard.optimize import solve
    from bheard.simulate import setup_from_plan

    out = {}
    for name in FIT_PERIODS:
        sc = period_scenario(period(name), params, seed=seed)
        plan = solve(sc)
        if not plan.feasible:
            raise RuntimeError(f"calibration period {name} has no plan ({plan.status})")
        out[name] = (plan, setup_from_plan(plan))
    return out


def _served(setup, tau: float, alpha: float, replications: int, seed: int, weeks: int
            ) -> tuple[float, float, float]:
    """Simulated share served in operating hours (mean, standard error) and mean response."""
    import dataclasses

    from bheard.simulate import simulate_arrays

    hx = min(setup.hospital_extra_hours, 0.95 * tau / max(setup.hospital_share, 1e-9))
    s = dataclasses.replace(setup, service_time_hours=tau, availability=alpha, weeks=weeks,
                            hospital_extra_hours=hx)
    r = simulate_arrays(s, replications, seed)
    x = r.per_replication["served_share_operating_hours"].to_numpy()
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")
    return float(x.mean()), se, float(r.overall["response_mean_min"][0])


def _tau_for(grid_tau: np.ndarray, shares: np.ndarray, goal: float) -> float:
    """tau where the (decreasing in tau) served share crosses ``goal`` (linear
    interpolation); nan when the goal is outside the simulated range."""
    s = np.minimum.accumulate(shares)  # monotone decrease against simulation noise
    if not (s[-1] <= goal <= s[0]):
        return float("nan")
    return float(np.interp(goal, s[::-1], grid_tau[::-1]))


def _solve(grid: pd.DataFrame, goals: dict[str, float]):
    """Fit (tau, alpha) on the simulated grid for given target shares; returns
    (tau, alpha, exact, curves)."""
    a_name, b_name = FIT_PERIODS
    alphas = np.sort(grid["availability"].unique())
    rows = []
    for a in alphas:
        g = grid[grid["availability"] == a]
        row = {"availability": float(a)}
        for name in FIT_PERIODS:
            gt = g[g["period"] == name].sort_values("service_time_hours")
            row[f"tau_{name}"] = _tau_for(gt["service_time_hours"].to_numpy(),
                                          gt["served_share"].to_numpy(), goals[name])
        rows.append(row)
    curves = pd.DataFrame(rows)
    d = (curves[f"tau_{a_name}"] - curves[f"tau_{b_name}"]).to_numpy()
    al = curves["availability"].to_numpy()
    ok = np.isfinite(d)
    for i in range(len(al) - 1, 0, -1):
        if ok[i] and ok[i - 1] and d[i] * d[i - 1] <= 0 and d[i] != d[i - 1]:
            w = d[i] / (d[i] - d[i - 1])
            alpha = al[i] + w * (al[i - 1] - al[i])
            tau = float(np.interp(alpha, al[[i - 1, i]],
                                  curves[f"tau_{b_name}"].to_numpy()[[i - 1, i]]))
            return tau, float(alpha), True, curves
    # no crossing: weighted least squares, each published share weighted by its sampling
    # variance (a one-month figure of 125 routed calls is far less certain than FY24's
    # 20,411), over the grid refined by linear interpolation in tau
    w = {n: 1.0 / max(period(n).sampling_se, 1e-3) ** 2 for n in FIT_PERIODS}
    best = (np.inf, float("nan"), float("nan"))
    for a in alphas:
        g = grid[grid["availability"] == a]
        fine = np.linspace(g["service_time_hours"].min(), g["service_time_hours"].max(), 201)
        err = np.zeros(fine.size)
        for name in FIT_PERIODS:
            gt = g[g["period"] == name].sort_values("service_time_hours")
            share = np.interp(fine, gt["service_time_hours"], gt["served_share"])
            err += w[name] * (share - goals[name]) ** 2
        k = int(np.argmin(err))
        if err[k] < best[0]:
            best = (float(err[k]), float(fine[k]), float(a))
    return best[1], best[2], False, curves


def calibrate(*, taus=None, alphas=None, replications: dict | None = None, seed: int = 0,
              weeks: int = 52, d0: float = 8.0, rounds: int = 3, check_replications: int = 10,
              response_target_min: float | None = None) -> Calibration:
    """Fit tau, alpha and d to the record (see the module docstring).

    ``taus`` (hours) and ``alphas`` are the grid; ``replications`` per period (default: first
    month 20, FY24 3 replications of ``weeks`` weeks). ``d0``: the starting pre-travel delay,
    minutes. The fit error is measured by a fresh simulation (seed + 1).
    """
    # tau >= 1 h: half an hour on scene plus the hospital share (0.5) of one-hour transports
    # at least (A-service-time)
    taus = np.arange(1.0, 3.01, 0.25) if taus is None else np.asarray(taus, dtype=float)
    alphas = np.round(np.arange(0.65, 0.951, 0.025), 3) if alphas is None else np.asarray(alphas)
    reps = {"first_month": 20, "fy24": 3}
    reps.update(replications or {})
    target_p = period(RESPONSE_TARGET_PERIOD)
    r_goal = target_p.response_min if response_target_min is None else response_target_min
    goals = {n: period(n).published_share for n in FIT_PERIODS}
    d = float(d0)
    tau, alpha = 2.0, 0.8
    history = []
    grid = curves = None
    exact = False
    for _ in range(rounds):
        params = params_dict(tau, alpha, d)
        setups = _setups(params, seed)
        # the pre-travel delay: every trip is d + driving, so shift d by the response error
        _, _, resp = _served(setups[RESPONSE_TARGET_PERIOD][1], tau, alpha,
                             reps[RESPONSE_TARGET_PERIOD], seed, weeks)
        d = max(d + (r_goal - resp), 0.0)
        setups = _setups(params_dict(tau, alpha, d), seed)
        rows = []
        for a in alphas:
            for t in taus:
                for name in FIT_PERIODS:
                    m, _, _ = _served(setups[name][1], float(t), float(a), reps[name], seed,
                                      weeks)
                    rows.append({"availability": float(a), "service_time_hours": float(t),
                                 "period": name, "served_share": m})
        grid = pd.DataFrame(rows)
        tau, alpha, exact, curves = _solve(grid, goals)
        history.append({"dispatch_delay_min": d, "service_time_hours": tau,
                        "availability": alpha, "response_min_before": resp})
        if abs(r_goal - resp) < 0.5 and len(history) > 1:
            break
    final = _setups(params_dict(tau, alpha, d), seed + 1)
    simulated, resid = {}, {}
    response = float("nan")
    for name in FIT_PERIODS:
        m, se, rm = _served(final[name][1], tau, alpha, check_replications, seed + 1, weeks)
        simulated[name] = (m, se)
        resid[name] = 100.0 * (m - goals[name])
        if name == RESPONSE_TARGET_PERIOD:
            response = rm
    # sensitivity: move one published figure within its published range, refit on the grid
    cases = [("fitted", goals),
             ("first month answered 82% (H1 FY22, S-h1-fy22)", {**goals, "first_month": 0.82}),
             ("first month answered 78% (80% - 2 pp)", {**goals, "first_month": 0.78}),
             ("FY24 answered 70% (73% - 3 pp)", {**goals, "fy24": 0.70}),
             ("FY24 answered 76% (73% + 3 pp)", {**goals, "fy24": 0.76})]
    sens = []
    for label, g in cases:
        st, sa, ex, _ = _solve(grid, g)
        sens.append({"case": label, "service_time_hours": st, "availability": sa,
                     "effective_busy_hours_per_call": st / sa, "exact": ex})
    return Calibration(tau, alpha, d, exact, resid, simulated, response, grid, curves,
                       pd.DataFrame(sens), history)


CALIBRATION_HEADER = """\
# The dispatch parameters fitted to the published record by `bheard calibrate`
# (models/dispatch.md, models/simulation.md). A partial scenario: the shipped scenarios
# `extends:` it, so a recalibration flows into every one of them (only the merged scenario is
# validated). Regenerate with:  bheard calibrate --write scenarios/calibration/dispatch.yaml
# Fitted by simulation to two periods: the 2021 first month (80% answered, S-first-month) and
# FY24 (73% answered, S-fy24-responses; mean response about 20 min, S-response-time).
"""


def write_calibration(c: Calibration, path: str | Path) -> Path:
    """Write the fit as the partial scenario the shipped scenarios extend (atomically)."""
    import yaml

    from bheard.io import atomic_write_text

    p = c.params()
    body = (
        f"# fitted {pd.Timestamp.now():%Y-%m-%d}; effective busy time tau/alpha ="
        f" {c.effective_hours_per_call:.2f} h per call plus the trip; residuals (pp):"
        f" {', '.join(f'{k} {v:+.2f}' for k, v in c.residuals_pp.items())}; FY24 mean response"
        f" {c.response_min:.1f} min\n"
        + yaml.safe_dump(p, sort_keys=False))
    body = body.replace(
        f"service_time_hours: {p['teams']['service_time_hours']}",
        f"service_time_hours: {p['teams']['service_time_hours']}   # A-service-time (calibrated)")
    body = body.replace(
        f"availability: {p['dispatch']['availability']}",
        f"availability: {p['dispatch']['availability']}   # A-availability (calibrated)")
    body = body.replace(
        f"dispatch_delay_min: {p['geography']['dispatch_delay_min']}",
        f"dispatch_delay_min: {p['geography']['dispatch_delay_min']}   # A-pre-travel-delay"
        " (calibrated)")
    return atomic_write_text(Path(path), CALIBRATION_HEADER + body)


__all__ = ["Calibration", "calibrate", "write_calibration", "FIT_PERIODS", "Period"]
