"""The solver door: the only module that talks to HiGHS (through Pyomo's contrib interface).

Every MIP and LP solve of bheard goes through :func:`solve_model`: time limit (counted from the
caller's start), threads, HiGHS options, the MIP start and the termination map live here.
``raise_exception_on_nonoptimal_result=False`` and ``load_solutions=False``: a time limit
returns the incumbent with its bound, never an exception.

The MIP start is the one place that uses Pyomo internals: Pyomo 6.10's contrib HiGHS interface
has no warm-start option, so :func:`_set_mip_start` reads the persistent instance's highspy
model and its variable map (pinned: ``pyomo>=6.10.1,<6.11``). If that fails the solve goes on
without a start and the reason is logged and returned in ``SolverRun.start_note``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import sys
import time
from typing import Sequence

import highspy
import numpy as np
# Pyomo (its model layer, solver interfaces and pyomo.common, which pulls in scipy.stats) loads
# on the first Pyomo solve (solve_model): an LP handed over as arrays (solve_arrays) never pays
# that import (1.5-2.5 s measured on this machine)

from bheard.solver.status import SolverRun

log = logging.getLogger("bheard.solver")

#: the model is not edited between set_instance and solve: skip Pyomo's change detection
_NO_UPDATES = dict(check_for_new_or_removed_constraints=False,
                   check_for_new_or_removed_vars=False, check_for_new_or_removed_params=False,
                   check_for_new_objective=False, update_constraints=False, update_vars=False,
                   update_parameters=False, update_named_expressions=False,
                   update_objective=False)

#: HiGHS (via Pyomo) termination -> bheard's solver-neutral termination (bheard.solver.status)
@functools.lru_cache(maxsize=1)
def _termination_map() -> dict:
    from pyomo.contrib.solver.common.results import TerminationCondition

    return {
        TerminationCondition.convergenceCriteriaSatisfied: "optimal",
        TerminationCondition.maxTimeLimit: "time_limit",
        TerminationCondition.provenInfeasible: "infeasible",
        TerminationCondition.infeasibleOrUnbounded: "infeasible",
        TerminationCondition.unbounded: "unbounded",
        TerminationCondition.iterationLimit: "stopped",
        TerminationCondition.objectiveLimit: "stopped",
        TerminationCondition.interrupted: "stopped",
        TerminationCondition.minStepLength: "stopped",
    }

#: shortest time a solve is given when earlier steps used up the limit, seconds
MIN_TIME_LIMIT_S = 0.05


#: HiGHS options bheard sets itself (solver section) or that read or write files: refused in
#: ``solver.highs_options`` (a scenario must not choose files to write)
RESERVED_OPTIONS = ("time_limit", "threads", "mip_rel_gap", "output_flag", "log_to_console")

_checker = None


def _option_checker():
    """One silent HiGHS instance to try option values on (its banner goes to /dev/null)."""
    global _checker
    if _checker is None:
        import os
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
                h.setOptionValue("output_flag", False)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _checker = h
    return _checker


def check_options(options: dict) -> list[tuple[str, object, str]]:
    """``(name, value, expected)`` for every entry of ``solver.highs_options`` HiGHS would not
    accept (unknown name, wrong type, out of range) or bheard reserves (:data:`RESERVED_OPTIONS`,
    and options naming files); empty when all are fine. Each value is tried on a scratch HiGHS
    instance, so the rules are HiGHS's own."""
    bad = []
    h = _option_checker()
    for name, value in options.items():
        if name in RESERVED_OPTIONS:
            bad.append((name, value, "not set here: bheard sets it from the solver section"
                        " (time_limit_s, threads, mip_rel_gap)"))
            continue
        if "file" in name or name.startswith(("write_", "read_")):
            bad.append((name, value, "no HiGHS options that read or write files"))
            continue
        try:
            status = h.setOptionValue(name, value)
        except Exception:  # noqa: BLE001 - a value highspy cannot convert
            status = highspy.HighsStatus.kError
        if status == highspy.HighsStatus.kError:
            bad.append((name, value, "a HiGHS option name with a value of its type and range"
                        " (HiGHS documentation: Options)"))
    return bad


def termination_of(tc) -> str:
    """bheard's termination name for a Pyomo contrib TerminationCondition."""
    return _termination_map().get(tc, "error")


def _set_mip_start(solver, variables: Sequence, values: np.ndarray) -> tuple[bool, str]:
    """Give HiGHS a MIP start on the persistent instance (Pyomo internals, fenced here)."""
    try:
        h = solver._solver_model
        col_of = solver._pyomo_var_to_solver_var_map
        cols = np.zeros(h.getNumCol())
        for var, value in zip(variables, np.asarray(values, dtype=float).tolist()):
            cols[col_of[id(var)]] = value
        sol = highspy.HighsSolution()
        sol.col_value = cols.tolist()
        h.setSolution(sol)
        return True, ""
    except Exception as exc:  # noqa: BLE001 - the fence: any failure means "no start"
        note = f"MIP start not set ({type(exc).__name__}: {exc}); solving without it"
        log.warning(note)
        return False, note


def solve_model(model, variables: Sequence, *, time_limit_s: float,
                mip_rel_gap: float | None = None, threads: int | None = None,
                highs_options: dict | None = None, start_values: np.ndarray | None = None,
                started_at: float | None = None, load_values: bool = True) -> SolverRun:
    """Solve a Pyomo model (MIP or LP) with HiGHS and return a :class:`SolverRun`.

    ``variables``: the model variables whose values to return, in order. ``start_values``: a
    MIP start for those variables (others start at 0). The time limit counts from
    ``started_at`` (default: now), so earlier steps of the same solve use up the limit; the
    solve always gets at least :data:`MIN_TIME_LIMIT_S`. ``mip_rel_gap=None`` leaves HiGHS's
    default (for LPs). ``load_values=False`` skips reading the solution back (a caller that
    only needs the bound, e.g. an LP certificate, saves the time of loading every variable).
    """
    t0 = time.perf_counter() if started_at is None else started_at
    t1 = time.perf_counter()
    from pyomo.contrib.solver.common.factory import SolverFactory

    solver = SolverFactory("highs")
    try:
        solver.set_instance(model)
    except Exception as exc:  # noqa: BLE001 - reported as a solver error
        return SolverRun("error", "set_instance failed", None, None, None,
                         time.perf_counter() - t1, 0.0, error=f"{type(exc).__name__}: {exc}")
    used, note = False, ""
    if start_values is not None:
        used, note = _set_mip_start(solver, variables, start_values)
    t2 = time.perf_counter()
    kw = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False,
              time_limit=max(time_limit_s - (t2 - t0), MIN_TIME_LIMIT_S), threads=threads,
              solver_options={"output_flag": False, **(highs_options or {})},
              auto_updates=_NO_UPDATES)
    if mip_rel_gap is not None:
        kw["rel_gap"] = mip_rel_gap
    try:
        res = solver.solve(model, **kw)
    except Exception as exc:  # noqa: BLE001 - callers keep their certified incumbent
        return SolverRun("error", type(exc).__name__, None, None, None, t2 - t1,
                         time.perf_counter() - t2, used, note, f"{type(exc).__name__}: {exc}")
    solve_s = time.perf_counter() - t2
    tc = res.termination_condition
    values = None
    if load_values and res.incumbent_objective is not None:
        try:
            res.solution_loader.load_vars()
            values = np.array([v.value if v.value is not None else 0.0 for v in variables],
                              dtype=float)
        except Exception as exc:  # noqa: BLE001 - no loadable solution
            log.info("no solution loaded: %s", exc)
            values = None
    bound = res.objective_bound
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    obj = float(res.incumbent_objective) if res.incumbent_objective is not None else None
    return SolverRun(termination_of(tc), tc.name, obj, bound, values, t2 - t1, solve_s, used,
                     note)


# --------------------------------------------------------------------------------------------
# array models: an LP (or MIP) handed to HiGHS in one call, without Pyomo
# --------------------------------------------------------------------------------------------
_MODEL_STATUS = {
    "kOptimal": "optimal", "kInfeasible": "infeasible", "kUnboundedOrInfeasible": "infeasible",
    "kUnbounded": "unbounded", "kTimeLimit": "time_limit", "kIterationLimit": "stopped",
    "kObjectiveBound": "stopped", "kObjectiveTarget": "stopped", "kInterrupt": "stopped",
    "kSolutionLimit": "stopped",
}


@contextlib.contextmanager
def _stdout_fd_silenced():
    """File descriptor 1 pointed at the null device while the block runs (what Pyomo's
    ``capture_output(capture_fd=True)`` does, without importing Pyomo)."""
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 (a detached process): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _new_highs():
    """A silent highspy instance (its constructor prints a banner on the process's stdout, so
    the file descriptor is silenced while it runs)."""
    with _stdout_fd_silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def solve_arrays(lp, *, time_limit_s: float, mip_rel_gap: float | None = None,
                 threads: int | None = None, highs_options: dict | None = None,
                 start_values: np.ndarray | None = None,
                 started_at: float | None = None) -> SolverRun:
    """Solve a model given as arrays with HiGHS in one call (no Pyomo translation).

    ``lp`` has ``c`` (n,) objective, ``A`` (m, n) scipy sparse matrix, ``row_lo``/``row_hi``
    (m,), ``col_lo``/``col_hi`` (n,), ``maximize`` (bool) and ``integer`` ((n,) bool or None);
    infinite bounds are ``+-inf`` (bheard.model.base.ArrayModel). Used for the LP relaxations
    whose value is a certificate (an LP bound needs no modelling layer); the same
    :class:`SolverRun` comes back as from :func:`solve_model`.
    """
    t0 = time.perf_counter() if started_at is None else started_at
    t1 = time.perf_counter()
    try:
        model = _highs_lp(lp)
        integer = getattr(lp, "integer", None)
        if integer is not None and np.any(integer):
            model.integrality_ = [highspy.HighsVarType.kInteger if b else
                                  highspy.HighsVarType.kContinuous for b in integer]
        h = _new_highs()
        for k, v in (highs_options or {}).items():
            h.setOptionValue(k, v)
        if threads is not None:
            h.setOptionValue("threads", int(threads))
        if mip_rel_gap is not None:
            h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        h.passModel(model)
        used = False
        if start_values is not None:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(start_values, dtype=float).tolist()
            h.setSolution(sol)
            used = True
    except Exception as exc:  # noqa: BLE001 - reported as a solver error
        return SolverRun("error", "passModel failed", None, None, None,
                         time.perf_counter() - t1, 0.0, error=f"{type(exc).__name__}: {exc}")
    t2 = time.perf_counter()
    h.setOptionValue("time_limit", max(time_limit_s - (t2 - t0), MIN_TIME_LIMIT_S))
    try:
        h.run()
    except Exception as exc:  # noqa: BLE001
        return SolverRun("error", type(exc).__name__, None, None, None, t2 - t1,
                         time.perf_counter() - t2, used, "", f"{type(exc).__name__}: {exc}")
    solve_s = time.perf_counter() - t2
    status = h.getModelStatus()
    name = h.modelStatusToString(status)
    key = str(status).split(".")[-1]
    term = _MODEL_STATUS.get(key, "error")
    info = h.getInfo()
    values = obj = bound = None
    if info.primal_solution_status == 2 or term == "optimal":  # kSolutionStatusFeasible
        values = np.asarray(h.getSolution().col_value, dtype=float)
        obj = float(info.objective_function_value)
    mip = integer is not None and np.any(integer)
    if mip:
        b = info.mip_dual_bound
        bound = float(b) if b is not None and math.isfinite(b) else None
    elif term == "optimal":
        bound = obj
    return SolverRun(term, name, obj, bound, values, t2 - t1, solve_s, used, "")


def _highs_lp(lp):
    """A highspy LP (columnwise) from an ArrayModel-like ``lp`` (module docstring of
    :func:`solve_arrays`)."""
    A = lp.A  # bheard.model.base.CscMatrix: columnwise, indices sorted
    n, m = A.shape[1], A.shape[0]
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = n, m
    inf = highspy.kHighsInf
    model.col_cost_ = np.asarray(lp.c, dtype=float)
    model.col_lower_ = np.where(np.isfinite(lp.col_lo), lp.col_lo, -inf).astype(float)
    model.col_upper_ = np.where(np.isfinite(lp.col_hi), lp.col_hi, inf).astype(float)
    model.row_lower_ = np.where(np.isfinite(lp.row_lo), lp.row_lo, -inf).astype(float)
    model.row_upper_ = np.where(np.isfinite(lp.row_hi), lp.row_hi, inf).astype(float)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr.astype(np.int32)
    model.a_matrix_.index_ = A.indices.astype(np.int32)
    model.a_matrix_.value_ = A.data.astype(float)
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = n, m
    model.sense_ = highspy.ObjSense.kMaximize if lp.maximize else highspy.ObjSense.kMinimize
    return model


class LpFamily:
    """LPs that share one constraint matrix and differ in costs and bounds, solved one after
    another by one HiGHS instance: each solve starts from the previous optimal basis (HiGHS
    keeps it when only costs and bounds change), so a family of similar LPs costs a fraction
    of solving each from scratch. Every solve is a complete LP solve (its optimal value is
    exact to HiGHS's tolerances); only the starting basis is shared.
    """

    def __init__(self, base, *, threads: int | None = None):
        self._h = _new_highs()
        if threads is not None:
            self._h.setOptionValue("threads", int(threads))
        self._h.passModel(_highs_lp(base))
        self.n_cols, self.n_rows = base.A.shape[1], base.A.shape[0]
        self._cols = np.arange(self.n_cols, dtype=np.int32)
        self._rows = np.arange(self.n_rows, dtype=np.int32)

    def solve(self, c: np.ndarray, col_lo: np.ndarray, col_hi: np.ndarray,
              row_lo: np.ndarray, row_hi: np.ndarray, *, time_limit_s: float) -> SolverRun:
        """Solve the family's matrix with these costs and bounds (``+-inf`` = unbounded)."""
        h, inf = self._h, highspy.kHighsInf
        t1 = time.perf_counter()
        try:
            h.changeColsCost(self.n_cols, self._cols, np.asarray(c, dtype=float))
            h.changeColsBounds(self.n_cols, self._cols,
                               np.where(np.isfinite(col_lo), col_lo, -inf).astype(float),
                               np.where(np.isfinite(col_hi), col_hi, inf).astype(float))
            h.changeRowsBounds(self.n_rows, self._rows,
                               np.where(np.isfinite(row_lo), row_lo, -inf).astype(float),
                               np.where(np.isfinite(row_hi), row_hi, inf).astype(float))
            # HiGHS (1.x) compares time_limit with the run clock of the instance, which adds
            # up over every run() of the family (ERGO-Code/HiGHS#1331, #1477): the limit is
            # set past the clock's current reading
            h.setOptionValue("time_limit", h.getRunTime() + max(float(time_limit_s),
                                                                MIN_TIME_LIMIT_S))
            t2 = time.perf_counter()
            h.run()
        except Exception as exc:  # noqa: BLE001 - reported as a solver error
            return SolverRun("error", type(exc).__name__, None, None, None,
                             time.perf_counter() - t1, 0.0, error=f"{type(exc).__name__}: {exc}")
        solve_s = time.perf_counter() - t2
        status = h.getModelStatus()
        term = _MODEL_STATUS.get(str(status).split(".")[-1], "error")
        values = obj = None
        if term == "optimal":
            values = np.asarray(h.getSolution().col_value, dtype=float)
            obj = float(h.getInfo().objective_function_value)
        return SolverRun(term, h.modelStatusToString(status), obj, obj, values, t2 - t1, solve_s)
