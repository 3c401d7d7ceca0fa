"""Benchmark: one year of citywide eligible demand (dcs_citywide, ~67,000 calls) x 10
replications with bheard.simulate, against a plain heapq event-queue implementation of the same
isolated loss system (one replication) measured in the same run.

Run: /work/main/.venv/bin/python benchmarks/bench_simulate.py
"""

from __future__ import annotations

import heapq
import time
from pathlib import Path

import numpy as np

import bheard
from bheard.simulate import setup_from_plan, simulate_arrays
from bheard.simulate.engine import _arrivals

REPO = Path(__file__).resolve().parents[1]


def heapq_reference(setup, seed: int = 0) -> float:
    """Textbook DES: a heap of arrival and departure events; a precinct serves a call when its
    busy teams < teams on duty in the current slot. Returns the served share."""
    rng = np.random.default_rng(seed)
    t_arr, p_arr, svc = _arrivals(setup, rng)
    starts, hours = setup.slot_start_how, setup.slot_hours
    teams = setup.teams

    def on_duty(p, t):
        k = 0
        for s in range(len(starts)):
            if (t - starts[s]) % 168 < hours[s]:
                k += teams[p, s]
        return k

    events = [(float(t), 1, int(p), float(d)) for t, p, d in zip(t_arr, p_arr, svc)]
    heapq.heapify(events)
    busy = [0] * teams.shape[0]
    served = 0
    while events:
        t, kind, p, d = heapq.heappop(events)
        if kind == 0:  # departure
            busy[p] -= 1
        elif busy[p] < on_duty(p, t):
            busy[p] += 1
            served += 1
            heapq.heappush(events, (t + d, 0, p, 0.0))
    return served / len(t_arr)


def main() -> None:
    sc = bheard.load_scenario(REPO / "scenarios" / "dcs_citywide.yaml")
    plan = bheard.solve(sc)
    setup = setup_from_plan(plan)
    simulate_arrays(setup, 1, 99)  # warm-up (imports, candidate lists)
    t0 = time.perf_counter()
    r = simulate_arrays(setup, 10, 0, sc.name)
    fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref_share = heapq_reference(setup, 0)
    ref = time.perf_counter() - t0
    calls = r.overall["calls_per_replication"][0]
    print(f"scenario {sc.name}: {calls:,.0f} eligible calls/replication, "
          f"{plan.team_shifts_per_week} team-shifts/week, isolated dispatch")
    print(f"bheard.simulate: 10 replications in {fast:.2f} s ({fast / 10:.3f} s/replication, "
          f"{fast / (10 * calls) * 1e6:.2f} us/call); target < 30 s")
    print(f"heapq reference: 1 replication in {ref:.2f} s")
    print(f"ratio per replication (reference / bheard): {ref / (fast / 10):.1f}x")
    print(f"served share: bheard {r.served_share:.4f} (10 reps), reference {ref_share:.4f} "
          f"(1 rep; it ignores tour-handover overtime), Erlang model {plan.coverage_share:.4f}")


if __name__ == "__main__":
    main()
