"""Solvers behind one door: :func:`solve_model` (a Pyomo model) and :func:`solve_arrays` (an
LP or MIP given as arrays), both HiGHS (:mod:`bheard.solver.highs`), and the solver-neutral
result and status map (:mod:`bheard.solver.status`).

``solve_model`` and ``solve_arrays`` are imported on first use (PEP 562): importing
:mod:`bheard.solver.status` (the status map, :func:`relative_gap`) does not load Pyomo or
HiGHS, so a solve that needs no solver (the isolated model certified by its Lagrangian bound)
starts fast.
"""

from bheard.solver.status import TERMINATIONS, SolverRun, plan_status, relative_gap

__all__ = ["solve_model", "solve_arrays", "LpFamily", "SolverRun", "plan_status", "relative_gap",
           "TERMINATIONS"]


def __getattr__(name: str):
    if name in ("solve_model", "solve_arrays", "LpFamily"):
        from bheard.solver import highs

        globals()[name] = getattr(highs, name)
        return globals()[name]
    raise AttributeError(f"module 'bheard.solver' has no attribute {name!r}")
