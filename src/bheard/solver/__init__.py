"""Solvers behind one door: :func:`solve_model` (a Pyomo model) and :func:`solve_arrays` (an
LP or MIP given as arrays), both HiGHS (:mod:`bheard.solver.highs`), and the
solver-neutral result and status map (:mod:`bheard.solver.status`)."""

from bheard.solver.highs import solve_arrays, solve_model
from bheard.solver.status import TERMINATIONS, SolverRun, plan_status, relative_gap

__all__ = ["solve_model", "solve_arrays", "SolverRun", "plan_status", "relative_gap", "TERMINATIONS"]
