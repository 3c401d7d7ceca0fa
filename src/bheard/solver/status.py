"""The one map from a solver's termination to bheard's vocabulary, and the run result type.

Solver backends (:mod:`bheard.solver.highs`) translate their own termination codes into one of
:data:`TERMINATIONS`; :func:`plan_status` turns that into a plan status
(:data:`bheard.constants.STATUSES`). Nothing else in bheard looks at solver-specific codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: solver-neutral termination of one run, and what it means
TERMINATIONS: dict[str, str] = {
    "optimal": "stopped because the requested gap was reached (an LP: solved to optimality)",
    "time_limit": "stopped by the time limit",
    "infeasible": "proved infeasible (or infeasible or unbounded)",
    "unbounded": "proved unbounded",
    "stopped": "stopped for another reason (iteration or objective limit, interrupted)",
    "error": "the solver failed or reported an unknown state",
}


def plan_status(termination: str, has_plan: bool = True) -> str:
    """Plan status for a run's termination: ``optimal`` (gap reached),
    ``time_limit_feasible`` (time limit with a plan), ``feasible`` (stopped otherwise with a
    plan), ``infeasible``, or ``error`` (no plan)."""
    if termination == "infeasible":
        return "infeasible"
    if not has_plan:
        return "error"
    return {"optimal": "optimal", "time_limit": "time_limit_feasible"}.get(termination,
                                                                          "feasible")


def relative_gap(objective: float, bound: float) -> float:
    """``(bound - objective) / |objective|`` (0 when both are 0; inf when either is not finite)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return float("inf")
    diff = max(bound - objective, 0.0)
    if diff == 0.0:
        return 0.0
    return diff / max(abs(objective), 1e-12)


@dataclass
class SolverRun:
    """One solve of a model: how it ended, what it found, what it proved, how long it took.

    ``objective`` and ``bound`` are in the model's own objective units (``None`` when the
    solver has none); ``values`` are the variables' values in the order they were given (None
    when no solution could be loaded). ``start_used`` says whether the MIP start was accepted
    by the interface; ``start_note`` why not, if it was not.
    """

    termination: str  # one of TERMINATIONS
    solver_termination: str  # the solver's own name for it
    objective: float | None
    bound: float | None
    values: np.ndarray | None
    translate_seconds: float
    solve_seconds: float
    start_used: bool = False
    start_note: str = ""
    error: str = ""

    @property
    def has_solution(self) -> bool:
        return self.values is not None

    @property
    def finite_bound(self) -> float | None:
        return (self.bound if self.bound is not None and math.isfinite(self.bound) else None)
