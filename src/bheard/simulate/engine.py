"""Discrete-event simulation of a staffing plan: what share of eligible calls gets a team?

The optimizer's coverage is a model; this module replays a plan call by call with the same
dispatch parameters (``models/simulation.md``, ``models/dispatch.md``):

- eligible calls arrive as a Poisson process per (precinct, hour of week) at the scenario's
  rates (calls/hour), uniformly inside each hour;
- teams work tour instances (week, day, tour) at their base precinct; a tour that runs past
  Sunday midnight wraps into Monday (the week before the first simulated week is on duty at
  00:00 Monday, so the start has no empty-system artefact);
- a call goes to the nearest free on-duty team that may serve it (``isolated``: its own
  precinct's teams; ``pooled``: every team of the area; ``shared``: teams whose travel time is
  within the response standard), else it may wait up to ``max_wait_min`` for the first team to
  free up, else it gets the traditional response (not served);
- busy time per call = the trip (pre-travel delay + driving, from the travel matrix) + the
  service time (mean ``service_time_hours``; a mix of on-site calls and hospital transports,
  gamma(2) components); a team busy at the end of its tour finishes the call in overtime
  (reported and costed) and starts no new one; with the "post" handover the relieving team
  takes over the post when that call ends (the post stays busy), with "free" at once;
- availability ``alpha`` < 1: each team-tour has one unavailable block of ``(1 - alpha) x
  tour hours`` starting at a uniformly random time of the tour; a team busy when its block is
  due takes it as soon as it is free.

Lost calls are split as in the Comptroller audit (S-audit-served, S-audit-overnight): ``off_hours`` (no tour of
the scenario running, e.g. 01:00-09:00 today), ``no_team`` (a tour runs but no team may serve
the call's precinct), ``busy`` (teams on duty that could serve it were all busy or on break).

This module is the engine (arrays in, :class:`SimResult` out: :func:`simulate_arrays`);
:mod:`bheard.simulate` builds its :class:`SimSetup` from a Plan or a scenario.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.constants import HOURS_PER_WEEK
from bheard.io import atomic_write_csv, atomic_write_json, ensure_dir


#: outcome codes of a call
SERVED, LOST_BUSY, LOST_NO_TEAM, LOST_OFF_HOURS = 0, 1, 2, 3
OUTCOMES = ("served", "lost_busy", "lost_no_team", "lost_off_hours")



@dataclass(frozen=True, eq=False)
class SimSetup:
    """Everything one simulation needs, as arrays (units in the names).

    ``hourly_calls_per_hour``: (P, 168) eligible calls/hour by precinct and hour of week
    (Monday 00:00 = hour 0). ``teams``: (P, S) teams on duty per precinct and weekly slot.
    ``slot_start_how``: (S,) slot start, hours of the week; ``slot_hours``: (S,) tour length.
    ``travel_min``: optional (S, P, P) or (P, P) minutes from call receipt to arrival (pre-travel
    delay + drive) from base j to call precinct i at ``[.., j, i]``; without it every trip takes
    ``local_travel_min``. A call keeps its team busy for the trip plus the service time (mean
    ``service_time_hours``). ``dispatch``: "isolated" (own precinct's teams) | "pooled" (every
    team of the area) | "shared" (teams with travel <= ``response_standard_min``); always the
    nearest free team first. ``handover``: "post" (a team busy at the end of its tour keeps its
    post busy until the call ends: the relieving team starts then; the overrun is paid overtime)
    or "free" (the relieving team starts free; the overrun is still overtime).
    ``team_cost_usd_per_hour``: (S,) straight-time USD per team-hour of each slot, to cost the
    overtime at ``overtime_premium`` x that rate.
    """

    precinct: np.ndarray
    hourly_calls_per_hour: np.ndarray
    teams: np.ndarray
    slot_start_how: np.ndarray
    slot_hours: np.ndarray
    slot_tour: np.ndarray
    service_time_hours: float
    weeks: int = 52
    dispatch: str = "isolated"
    max_wait_min: float = 0.0
    local_travel_min: float = 0.0
    hospital_share: float = 0.5
    hospital_extra_hours: float = 1.0
    availability: float = 1.0
    travel_min: np.ndarray | None = None
    response_standard_min: float = math.inf
    slot_day: np.ndarray | None = None
    handover: str = "post"
    team_cost_usd_per_hour: np.ndarray | None = None
    overtime_premium: float = 1.5
    weeks_per_year: float = 52.0
    #: the optimizer's expected covered calls/year and eligible calls/year of the same plan
    predicted_covered_calls_per_year: float | None = None
    predicted_eligible_calls_per_year: float | None = None
    #: (P,) the optimizer's expected covered share of each precinct's eligible calls in
    #: operating hours (optional, for the per-precinct comparison)
    predicted_share_by_precinct: np.ndarray | None = None

    def __post_init__(self):
        P, S = np.shape(self.teams)
        if np.shape(self.hourly_calls_per_hour) != (P, HOURS_PER_WEEK):
            raise ValueError("hourly_calls_per_hour must be (P, 168)")
        if np.shape(self.slot_start_how) != (S,) or np.shape(self.slot_hours) != (S,):
            raise ValueError("slot_start_how and slot_hours must be (S,)")
        if self.dispatch not in ("isolated", "pooled", "shared"):
            raise ValueError(f"unknown dispatch {self.dispatch!r}")
        if self.handover not in ("post", "free"):
            raise ValueError(f"unknown handover {self.handover!r}")
        if self.dispatch == "shared" and self.travel_min is None:
            raise ValueError("shared dispatch needs travel_min")
        if not 0 < self.availability <= 1:
            raise ValueError("availability must be in (0, 1]")
        base = self.service_time_hours - self.hospital_share * self.hospital_extra_hours
        if not base > 0:
            raise ValueError(
                f"service_time_hours {self.service_time_hours} must exceed hospital_share x"
                f" hospital_extra_hours = {self.hospital_share * self.hospital_extra_hours}")


# --------------------------------------------------------------------------------------
# one replication
# --------------------------------------------------------------------------------------
def _travel(setup: SimSetup) -> np.ndarray | None:
    """(S, P, P) travel minutes ``[s, j, i]`` or None."""
    if setup.travel_min is None:
        return None
    tm = np.asarray(setup.travel_min, dtype=float)
    P, S = np.shape(setup.teams)
    return np.broadcast_to(tm, (S, P, P)) if tm.ndim == 2 else tm


def _candidates(setup: SimSetup):
    """Per slot s and call precinct p: (template team ids, travel minutes), nearest first.

    Template team j is one team (post) of one weekly slot; its instance in week w has id
    ``(w + 1) * N + j`` (week -1 covers the wrap of Sunday's late tours into Monday 00:00).
    Also returns the template's predecessor (the team of the same base and post number whose
    tour ends when this one starts; -1 if none) and the week offset of that predecessor.
    """
    teams = np.asarray(setup.teams, dtype=np.int64)
    P, S = teams.shape
    t_slot, t_base, t_post = [], [], []
    for s in range(S):
        for b in range(P):
            n = int(teams[b, s])
            t_slot += [s] * n
            t_base += [b] * n
            t_post += list(range(n))
    t_slot = np.array(t_slot, dtype=np.int64)
    t_base = np.array(t_base, dtype=np.int64)
    t_post = np.array(t_post, dtype=np.int64)
    tm = _travel(setup)
    cand = []
    for s in range(S):
        js = np.flatnonzero(t_slot == s)
        row = []
        for p in range(P):
            if setup.dispatch == "isolated":
                sel = js[t_base[js] == p]
            elif setup.dispatch == "pooled":
                sel = js
            else:
                trav = tm[s, t_base[js], p]
                ok = (trav <= setup.response_standard_min + 1e-9) | (t_base[js] == p)
                sel = js[ok]
            tr = (tm[s, t_base[sel], p] if tm is not None
                  else np.full(sel.size, setup.local_travel_min))
            order = np.argsort(tr, kind="stable")
            row.append((sel[order].tolist(), tr[order].tolist()))
        cand.append(row)
    # predecessor of each template team: same base and post, slot ending at this slot's start
    starts = np.asarray(setup.slot_start_how, dtype=float)
    ends = starts + np.asarray(setup.slot_hours, dtype=float)
    pred = -np.ones(t_slot.size, dtype=np.int64)
    pred_week = np.zeros(t_slot.size, dtype=np.int64)
    if setup.handover == "post" and t_slot.size:
        index = {(int(s), int(b), int(k)): n for n, (s, b, k) in
                 enumerate(zip(t_slot.tolist(), t_base.tolist(), t_post.tolist()))}
        for s in range(S):
            # the instance of s in week w relieves the instance of s2 in week w + d (d = 0 or
            # -1: s2's tour ends when s's starts, e.g. Sunday 17-01 before Monday 01-09)
            d = (starts[s] - ends) / HOURS_PER_WEEK
            prev = np.flatnonzero(np.abs(d - np.round(d)) < 1e-9)
            if not prev.size:
                continue
            s2 = int(prev[0])
            wk = int(np.round(d[s2]))
            for n in np.flatnonzero(t_slot == s).tolist():
                m = index.get((s2, int(t_base[n]), int(t_post[n])))
                if m is not None:
                    pred[n], pred_week[n] = m, wk
    return cand, t_slot, t_base, pred, pred_week


def _minute_slots(setup: SimSetup) -> list[tuple[int, ...]]:
    """For each minute of the week, the slots whose tour may cover (part of) that minute."""
    S = len(setup.slot_hours)
    out: list[list[int]] = [[] for _ in range(HOURS_PER_WEEK * 60)]
    for s in range(S):
        a = float(setup.slot_start_how[s]) % HOURS_PER_WEEK
        lo = int(math.floor(a * 60))
        hi = int(math.ceil((a + float(setup.slot_hours[s])) * 60))
        for m in range(lo, hi):
            out[m % (HOURS_PER_WEEK * 60)].append(s)
    return [tuple(sorted(set(x))) for x in out]


def service_hours(setup: SimSetup, rng: np.random.Generator, n: int) -> np.ndarray:
    """Service time per call, hours, excluding the trip: gamma(2) on-site part, plus a gamma(2)
    hospital part for a share ``hospital_share``; mean ``service_time_hours``."""
    hs, extra = setup.hospital_share, setup.hospital_extra_hours
    base_mean = setup.service_time_hours - hs * extra
    service = rng.gamma(2.0, base_mean / 2.0, n)
    if hs > 0 and extra > 0:
        hosp = rng.random(n) < hs
        service = service + np.where(hosp, rng.gamma(2.0, extra / 2.0, n), 0.0)
    return service


def _arrivals(setup: SimSetup, rng: np.random.Generator):
    """Poisson arrivals: (time hours, precinct index, service hours), sorted by time."""
    W = setup.weeks
    rates = np.asarray(setup.hourly_calls_per_hour, dtype=float)
    counts = rng.poisson(np.tile(rates, (1, W)))  # (P, 168 W), each cell one hour
    n = int(counts.sum())
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    p_idx = cell // (HOURS_PER_WEEK * W)
    hour = cell % (HOURS_PER_WEEK * W)
    t = hour + rng.random(n)
    order = np.argsort(t, kind="stable")
    t, p_idx = t[order], p_idx[order]
    return t, p_idx, service_hours(setup, rng, n)


@dataclass
class _Rep:
    time: np.ndarray
    precinct: np.ndarray
    outcome: np.ndarray
    response_min: np.ndarray
    slot: np.ndarray  # slot active at arrival (-1 = none)
    busy_hours: float
    on_duty_hours: float
    overtime_hours: float = 0.0
    overtime_cost_usd: float = 0.0


def _run_once(setup: SimSetup, rng: np.random.Generator, cand, t_slot, pred, pred_week,
              minute_slots) -> _Rep:
    t_arr, p_arr, svc = _arrivals(setup, rng)
    W = setup.weeks
    N = int(t_slot.size)
    starts = [float(x) for x in setup.slot_start_how]
    hours = [float(x) for x in setup.slot_hours]
    n_inst = (W + 1) * N
    free_at = [-math.inf] * n_inst
    fresh = [True] * n_inst  # instance not looked at yet (inherits its predecessor's post)
    pred_l = pred.tolist()
    pw_l = pred_week.tolist()
    has_pred = bool((pred >= 0).any())
    alpha = setup.availability
    breaks = alpha < 1.0
    if breaks:
        blen_slot = [(1.0 - alpha) * h for h in hours]
        u = rng.random(n_inst)
        h_t = np.asarray(hours)[t_slot] if N else np.zeros(0)
        # block start offset inside the tour, uniform on [0, h - block]
        off = (u.reshape(W + 1, N) * (alpha * h_t)[None, :]).ravel() if N else u
        st_t = np.asarray(starts)[t_slot] if N else np.zeros(0)
        inst_start = (np.arange(W + 1)[:, None] - 1) * HOURS_PER_WEEK + st_t[None, :]
        bstart = (inst_start.ravel() + off).tolist()
        taken = [False] * n_inst
    max_wait = setup.max_wait_min / 60.0
    n = t_arr.size
    outcome = np.empty(n, dtype=np.int8)
    resp = np.full(n, np.nan)
    slot_at = np.full(n, -1, dtype=np.int64)
    busy = 0.0
    t_list = t_arr.tolist()
    p_list = p_arr.tolist()
    s_list = svc.tolist()
    floor = math.floor
    for c in range(n):
        t = t_list[c]
        p = p_list[c]
        m = int((t % HOURS_PER_WEEK) * 60.0)
        any_slot = False
        any_team = False
        best_i = -1
        best_e = 0.0
        best_tr = 0.0
        best_free = False
        for s in minute_slots[m]:
            st = starts[s]
            off = (t - st) % HOURS_PER_WEEK
            h = hours[s]
            if off >= h:
                continue
            if not any_slot:
                any_slot = True
                slot_at[c] = s
            js, trs = cand[s][p]
            if not js:
                continue
            any_team = True
            w = int(floor((t - st) / HOURS_PER_WEEK))
            base = (w + 1) * N
            tend = t - off + h
            for k in range(len(js)):
                i = base + js[k]
                if fresh[i]:
                    fresh[i] = False
                    if has_pred and pred_l[js[k]] >= 0:
                        ip = (w + 1 + pw_l[js[k]]) * N + pred_l[js[k]]
                        if ip >= 0 and free_at[ip] > free_at[i]:
                            free_at[i] = free_at[ip]  # the post is still busy
                fa = free_at[i]
                if breaks and not taken[i]:
                    bs = bstart[i]
                    e0 = fa if fa > t else t
                    if e0 >= bs:  # the break is due before this team could start the call
                        bs = bs if bs > fa else fa
                        taken[i] = True
                        if bs < tend:
                            fa = bs + blen_slot[s]
                            free_at[i] = fa
                e = fa if fa > t else t
                if e >= tend:
                    continue
                if e == t:
                    tr = trs[k]
                    if not best_free or tr < best_tr:
                        best_i, best_e, best_tr, best_free = i, e, tr, True
                    break  # candidates are sorted by travel: the first free one is nearest
                if not best_free and e - t <= max_wait:
                    if best_i < 0 or e + trs[k] / 60.0 < best_e + best_tr / 60.0:
                        best_i, best_e, best_tr = i, e, trs[k]
        if best_i >= 0:
            dur = s_list[c] + best_tr / 60.0
            free_at[best_i] = best_e + dur
            busy += dur
            outcome[c] = SERVED
            resp[c] = (best_e - t) * 60.0 + best_tr
        elif not any_slot:
            outcome[c] = LOST_OFF_HOURS
        elif not any_team:
            outcome[c] = LOST_NO_TEAM
        else:
            outcome[c] = LOST_BUSY
    on_duty = float(W * (np.asarray(setup.teams).sum(axis=0) * np.asarray(hours)).sum()) \
        if len(hours) else 0.0
    ot_h = ot_usd = 0.0
    if N:
        fa = np.asarray(free_at, dtype=float).reshape(W + 1, N)
        tend = ((np.arange(W + 1)[:, None] - 1) * HOURS_PER_WEEK
                + (np.asarray(starts) + np.asarray(hours))[t_slot][None, :])
        over = np.where(np.isfinite(fa), np.maximum(fa - tend, 0.0), 0.0)[1:]  # weeks 0..W-1
        ot_h = float(over.sum())
        if setup.team_cost_usd_per_hour is not None:
            rate = np.asarray(setup.team_cost_usd_per_hour, dtype=float)[t_slot]
            ot_usd = float((over * rate[None, :]).sum() * setup.overtime_premium)
    return _Rep(t_arr, p_arr, outcome, resp, slot_at, busy, on_duty, ot_h, ot_usd)


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------
def _ci(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% confidence interval (Student t) over replications."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(x.mean())
    if x.size < 2:
        return m, float("nan"), float("nan")
    # deferred on purpose: scipy.stats takes about 1 s to import, only needed here
    from scipy.stats import t as student_t

    h = float(student_t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - h, m + h


@dataclass
class SimResult:
    """Simulation results over replications (shares 0..1, times in minutes).

    ``per_replication``: one row per replication (calls, outcome counts, shares, utilization,
    response median/p90). ``overall``: metric -> (mean, 95% CI low, high). ``by_precinct``,
    ``by_tour``, ``by_hour``: calls and outcomes per group as the mean per replication (calls
    per replication of ``weeks`` weeks, not summed over replications), served share pooled.
    ``predicted_share``: the optimizer's predicted coverage of the same plan (if known).
    """

    scenario: str
    dispatch: str
    replications: int
    seed: int
    weeks: int
    per_replication: pd.DataFrame
    overall: dict
    by_precinct: pd.DataFrame
    by_tour: pd.DataFrame
    by_hour: pd.DataFrame
    predicted_share: float | None = None
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0
    #: the optimizer's coverage model behind ``predicted_share`` ("isolated", "MEXCLP", ...)
    optimizer_model: str = "isolated"

    @property
    def served_share(self) -> float:
        """Mean share of ALL eligible calls served (incl. calls outside operating hours)."""
        return self.overall["served_share"][0]

    @property
    def served_share_operating(self) -> float:
        """Mean share of eligible calls served among those arriving while a tour runs."""
        return self.overall["served_share_operating_hours"][0]

    def summary(self) -> dict:
        def num(x):
            return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x

        return {
            "scenario": self.scenario, "dispatch": self.dispatch,
            "replications": self.replications, "seed": self.seed, "weeks": self.weeks,
            "predicted_share_operating_hours": num(self.predicted_share),
            "overall": {k: {"mean": num(v[0]), "ci95_low": num(v[1]), "ci95_high": num(v[2])}
                        for k, v in self.overall.items()},
            "settings": self.settings, "seconds": self.seconds,
            "predicted_vs_simulated": {k: (list(v) if isinstance(v, tuple) else v) for k, v in
                                       predicted_vs_simulated(self).items()},
            "by_tour": _records(self.by_tour),
        }

    def save(self, out_dir: str | Path) -> Path:
        """Write ``simulation.json`` and ``simulation_by_precinct.csv`` etc. atomically."""
        out = ensure_dir(out_dir)
        atomic_write_json(out / "simulation.json", self.summary())
        atomic_write_csv(out / "simulation_replications.csv", self.per_replication)
        atomic_write_csv(out / "simulation_by_precinct.csv", self.by_precinct)
        atomic_write_csv(out / "simulation_by_hour.csv", self.by_hour)
        return out

    def __repr__(self) -> str:
        m, lo, hi = self.overall["served_share_operating_hours"]
        pred = "" if self.predicted_share is None else f", predicted {self.predicted_share:.1%}"
        return (f"SimResult({self.scenario!r}, {self.dispatch}, {self.replications} reps x "
                f"{self.weeks} wk: served {m:.1%} [{lo:.1%}, {hi:.1%}] of eligible calls in "
                f"operating hours{pred})")


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records"))


def _group_table(keys: np.ndarray, labels, outcome: np.ndarray, name: str,
                 replications: int = 1) -> pd.DataFrame:
    """Calls and outcomes per group as the MEAN PER REPLICATION (calls per simulated period,
    not summed over replications), with the served share pooled over replications."""
    n_groups = len(labels)
    tot = np.bincount(keys, minlength=n_groups)
    cols = {name: list(labels), "calls": tot / replications}
    for code, oname in enumerate(OUTCOMES):
        cols[oname] = np.bincount(keys[outcome == code], minlength=n_groups) / replications
    df = pd.DataFrame(cols)
    with np.errstate(invalid="ignore", divide="ignore"):
        df["served_share"] = np.where(tot > 0, df["served"] / np.maximum(tot, 1), np.nan)
    return df


def simulate_arrays(setup: SimSetup, replications: int = 10, seed: int = 0,
                    scenario_name: str = "") -> SimResult:
    """Run ``replications`` independent replications of ``setup`` (deterministic per seed)."""
    t0 = time.perf_counter()
    if replications < 1:
        raise ValueError("replications must be >= 1")
    cand, t_slot, _, pred, pred_week = _candidates(setup)
    minute_slots = _minute_slots(setup)
    streams = np.random.SeedSequence(seed).spawn(replications)
    rows = []
    reps = []
    per_year = setup.weeks_per_year / setup.weeks
    for r, ss in enumerate(streams):
        rep = _run_once(setup, np.random.default_rng(ss), cand, t_slot, pred, pred_week,
                        minute_slots)
        reps.append(rep)
        n = rep.outcome.size
        cnt = np.bincount(rep.outcome, minlength=4)
        operating = n - cnt[LOST_OFF_HOURS]
        served_resp = rep.response_min[rep.outcome == SERVED]
        rows.append({
            "replication": r, "calls": n, "served": int(cnt[0]), "lost_busy": int(cnt[1]),
            "lost_no_team": int(cnt[2]), "lost_off_hours": int(cnt[3]),
            "served_share": cnt[0] / n if n else np.nan,
            "served_share_operating_hours": cnt[0] / operating if operating else np.nan,
            "lost_busy_share": cnt[1] / n if n else np.nan,
            "lost_no_team_share": cnt[2] / n if n else np.nan,
            "lost_off_hours_share": cnt[3] / n if n else np.nan,
            "utilization": rep.busy_hours / rep.on_duty_hours if rep.on_duty_hours else np.nan,
            "response_median_min": float(np.median(served_resp)) if served_resp.size else np.nan,
            "response_p90_min": float(np.quantile(served_resp, 0.9)) if served_resp.size else np.nan,
            "response_mean_min": float(served_resp.mean()) if served_resp.size else np.nan,
            "overtime_hours_per_year": rep.overtime_hours * per_year,
            "overtime_share_of_duty_hours": (rep.overtime_hours / rep.on_duty_hours
                                             if rep.on_duty_hours else np.nan),
            "overtime_cost_usd_per_year": rep.overtime_cost_usd * per_year,
        })
    per = pd.DataFrame(rows)
    metrics = ["served_share", "served_share_operating_hours", "lost_busy_share",
               "lost_no_team_share", "lost_off_hours_share", "utilization",
               "response_median_min", "response_p90_min", "response_mean_min",
               "overtime_hours_per_year", "overtime_share_of_duty_hours",
               "overtime_cost_usd_per_year"]
    overall = {m: _ci(per[m].to_numpy()) for m in metrics}
    overall["calls_per_replication"] = _ci(per["calls"].to_numpy())

    outcome = np.concatenate([r.outcome for r in reps]).astype(np.int64)
    prec = np.concatenate([r.precinct for r in reps])
    slot = np.concatenate([r.slot for r in reps])
    hour = np.concatenate([np.floor(r.time % 24).astype(np.int64) for r in reps])
    by_precinct = _group_table(prec, np.asarray(setup.precinct).tolist(), outcome, "precinct",
                               replications)
    op = by_precinct["calls"] - by_precinct["lost_off_hours"]
    by_precinct["served_share_operating_hours"] = np.where(
        op > 0, by_precinct["served"] / np.maximum(op, 1), np.nan)
    if setup.predicted_share_by_precinct is not None:
        by_precinct["predicted_share"] = np.asarray(setup.predicted_share_by_precinct, float)
    tours = list(dict.fromkeys(np.asarray(setup.slot_tour).tolist()))
    tour_of_slot = np.array([tours.index(t) for t in np.asarray(setup.slot_tour).tolist()]
                            + [len(tours)], dtype=np.int64)
    by_tour = _group_table(tour_of_slot[slot], tours + ["(no tour)"], outcome, "tour",
                           replications)
    by_tour = by_tour[by_tour["calls"] > 0].reset_index(drop=True)
    by_hour = _group_table(hour, list(range(24)), outcome, "hour", replications)
    pred = None
    if setup.predicted_covered_calls_per_year is not None and setup.predicted_eligible_calls_per_year:
        pred = setup.predicted_covered_calls_per_year / setup.predicted_eligible_calls_per_year
    settings = {k: getattr(setup, k) for k in (
        "service_time_hours", "weeks", "dispatch", "max_wait_min", "local_travel_min",
        "hospital_share", "hospital_extra_hours", "availability", "response_standard_min",
        "handover", "overtime_premium")}
    settings = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in settings.items()}
    return SimResult(scenario_name, setup.dispatch, replications, seed, setup.weeks, per,
                     overall, by_precinct, by_tour, by_hour, pred, settings,
                     time.perf_counter() - t0)


def predicted_vs_simulated(result: SimResult) -> dict:
    """The optimizer's prediction beside the simulated share, with the difference (pp) and
    what may explain it (:func:`explain_difference`)."""
    m, lo, hi = result.overall["served_share_operating_hours"]
    p = result.predicted_share
    return {"predicted": p, "simulated": m, "ci95": (lo, hi),
            "difference_pp": None if p is None else 100.0 * (m - p),
            "explanation": explain_difference(result)}


def explain_difference(result: SimResult) -> list[str]:
    """Why the simulated share may differ from the optimizer's prediction of the same plan.

    Both read the same dispatch parameters (models/dispatch.md): busy time = trip + service
    time, availability, the response standard, waiting, the tour handover. What remains are
    the approximations of the optimizer's coverage model that the simulation does not make,
    given this run's settings, and sampling.
    """
    st = result.settings
    model = result.optimizer_model or "isolated"
    isolated = model.startswith("isolated")
    out = [
        "Sampling (+/-): the simulated share has a 95% interval from "
        f"{result.replications} replications.",
        "Time (+/-): the optimizer averages each slot (lagged load, the calls carried over a "
        "tour change kept by the posts that continue); the simulation follows calls minute by "
        "minute.",
    ]
    if isolated:
        out.append("Breaks (+/-): the optimizer treats one unavailable block per tour as load "
                   "the team carries; the simulation places it at a random time of the tour.")
    else:
        out.append(f"Dependence (+/-): the {model} model approximates how often neighbouring "
                   "teams are busy together (models/shared_coverage.md); within about a point "
                   "citywide and 3 points per precinct on the shipped scenarios.")
    dispatch = st.get("dispatch", "isolated")
    if dispatch != "isolated" and isolated:
        out.append(f"Dispatch (+): this run sends teams across precincts ({dispatch}); the "
                   "isolated optimizer counts only a precinct's own teams.")
    elif dispatch == "isolated" and not isolated:
        out.append("Dispatch (-): this run uses own-precinct teams only; the optimizer counts "
                   "neighbours' teams within the response standard.")
    elif dispatch == "pooled" and not isolated:
        out.append("Dispatch (+): this run lets the nearest free team of the whole area take "
                   "a call (pooled); the optimizer counts only teams within the response "
                   "standard.")
    if (st.get("max_wait_min") or 0) > 0:
        out.append(f"Waiting (+/-): calls wait up to {st['max_wait_min']:.0f} min; the "
                   "optimizer approximates the chance that a busy team in range frees up in "
                   "time.")
    return out


__all__ = ["SimSetup", "SimResult", "simulate_arrays", "predicted_vs_simulated",
           "explain_difference", "OUTCOMES"]
