"""bheard: staffing optimizer for NYC mental-health crisis teams (B-HEARD / DCS).

Public API::

    import bheard
    scenario = bheard.load_scenario("scenarios/dcs_citywide.yaml")
    plan = bheard.solve(scenario)          # -> bheard.Plan
    plan.save("out/")                      # plan.csv, summary.json, scenario.yaml (atomic)

The flow, one direction: scenario -> problem data -> formulation -> solver -> Plan ->
simulate / report / frontier / batch (module map: README.md). Names are imported on first
use (PEP 562), so ``import bheard`` and ``bheard --version`` stay fast: the solver stack
(Pyomo, HiGHS, SciPy) loads only when something is solved.
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.2.0"

#: public name -> module that defines it
_EXPORTS = {
    "load_scenario": "bheard.scenario",
    "Scenario": "bheard.scenario",
    "SolverOptions": "bheard.scenario",
    "solve": "bheard.optimize",
    "Plan": "bheard.plan",
    "SolverReport": "bheard.results",
    "InputError": "bheard.errors",
    "ScenarioError": "bheard.errors",
    "InfeasibleError": "bheard.errors",
    "frontier": "bheard.frontier",
    "Frontier": "bheard.frontier",
    "batch": "bheard.batch",
    "BatchResult": "bheard.batch",
    "simulate": "bheard.simulate",
    "SimResult": "bheard.simulate",
    "calibrate": "bheard.calibrate",
    "Calibration": "bheard.calibrate",
    "explain_limits": "bheard.optimize.explain",
    "compare": "bheard.compare",
    "Comparison": "bheard.compare",
    "BatchError": "bheard.errors",
    "buildout": "bheard.buildout",
    "Buildout": "bheard.buildout",
}
#: kept for code written against bheard 0.1: the solver settings are the scenario's own class
_ALIASES = {"SolveOptions": ("bheard.scenario", "SolverOptions")}

__all__ = ["__version__", *_EXPORTS, *_ALIASES]


class _Package(types.ModuleType):
    """``bheard.simulate``, ``bheard.frontier``, ``bheard.batch``, ``bheard.calibrate`` and
    ``bheard.buildout`` are
    both functions of the public API and modules of the package. Importing such a module
    (``from bheard.simulate import SimSetup``) would make Python set the package attribute to
    the module; this keeps the attribute the function (the module stays in ``sys.modules``)."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and name in _EXPORTS \
                and _EXPORTS[name] == f"{self.__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _ALIASES:
        mod, attr = _ALIASES[name]
        value = getattr(importlib.import_module(mod), attr)
    else:
        raise AttributeError(f"module 'bheard' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
