"""bheard: staffing optimizer for NYC mental-health crisis teams (B-HEARD / DCS).

Public API::

    import bheard
    scenario = bheard.load_scenario("scenarios/dcs_citywide.yaml")
    plan = bheard.solve(scenario)          # -> bheard.Plan
    plan.save("out/")                      # plan.csv + summary.json, written atomically
"""

__version__ = "0.1.0"

from bheard.errors import InfeasibleError, InputError, ScenarioError  # noqa: E402
from bheard.plan import Plan, SolverReport  # noqa: E402
from bheard.scenario import Scenario, load_scenario  # noqa: E402
from bheard.solve import SolveOptions, solve, solve_problem  # noqa: E402
from bheard.frontier import Frontier, frontier  # noqa: E402
from bheard.batch import BatchResult, batch  # noqa: E402
from bheard.simulate import SimResult, simulate  # noqa: E402
from bheard.calibrate import Calibration, calibrate  # noqa: E402

__all__ = [
    "__version__", "load_scenario", "solve", "solve_problem", "Plan", "SolverReport",
    "Scenario", "SolveOptions", "InputError", "ScenarioError", "InfeasibleError",
    "frontier", "Frontier", "batch", "BatchResult",
    "simulate", "SimResult", "calibrate", "Calibration",
]
