"""Solvers behind one door: :func:`solve_model` (HiGHS, :mod:`bheard.solver.highs`) and the
solver-neutral result and status map (:mod:`bheard.solver.status`)."""

from bheard.solver.highs import solve_model
from bheard.solver.status import TERMINATIONS, SolverRun, plan_status, relative_gap

__all__ = ["solve_model", "SolverRun", "plan_status", "relative_gap", "TERMINATIONS"]
