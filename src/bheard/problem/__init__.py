"""Problem data: a scenario's geography, demand, costs and limits as plain numpy arrays.

:class:`ProblemData` indexes (precinct, day x tour slot); :class:`StaggeredData` indexes
(precinct, hour of week) with staggered start options. Formulations (:mod:`bheard.model`)
build their models from these arrays.
"""

from bheard.problem.hourly import StaggeredData, staggered_from_scenario
from bheard.problem.slots import (
    ProblemData,
    demand_rates,
    hourly_rates,
    problem_from_scenario,
    scaled_hourly_rates,
    select_precincts,
    slot_rates_to_hourly,
)

__all__ = ["ProblemData", "StaggeredData", "problem_from_scenario", "staggered_from_scenario",
           "select_precincts", "demand_rates", "hourly_rates", "scaled_hourly_rates",
           "slot_rates_to_hourly"]
