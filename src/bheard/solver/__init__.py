"""Solvers behind one door: :func:`solve_model` (HiGHS, :mod:`bheard.solver.highs`) and the
solver-neutral result and status map (:mod:`bheard.solver.status`).

``solve_model`` is imported on first use (PEP 562): importing :mod:`bheard.solver.status`
(the status map, :func:`relative_gap`) does not load Pyomo or HiGHS, so a solve that needs no
solver (the isolated model certified by its Lagrangian bound) starts fast.
"""

from bheard.solver.status import TERMINATIONS, SolverRun, plan_status, relative_gap

__all__ = ["solve_model", "SolverRun", "plan_status", "relative_gap", "TERMINATIONS"]


def __getattr__(name: str):
    if name == "solve_model":
        from bheard.solver.highs import solve_model

        globals()["solve_model"] = solve_model
        return solve_model
    raise AttributeError(f"module 'bheard.solver' has no attribute {name!r}")
