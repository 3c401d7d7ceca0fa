"""Scenarios: the schema (:mod:`.schema`), loading (:mod:`.loader`), checks against the
shipped data (:mod:`.checks`) and the clock of the week (:mod:`.hours`)."""

from bheard.scenario.loader import load_scenario, scenario_yaml
from bheard.scenario.schema import (
    Budget,
    CostSettings,
    CoverageSettings,
    Crew,
    Demand,
    DemandUncertainty,
    EquitySettings,
    ForecastDemand,
    GeographySettings,
    Limits,
    PriorDemand,
    ProgramPosition,
    Scenario,
    Shifts,
    SimulationSettings,
    SolverOptions,
    Staggered,
    Teams,
    Tour,
    WorkforceSettings,
)

__all__ = ["load_scenario", "scenario_yaml", "Scenario", "Budget", "CostSettings",
           "CoverageSettings", "Crew", "Demand", "DemandUncertainty", "EquitySettings", "ForecastDemand",
           "GeographySettings", "Limits", "PriorDemand", "ProgramPosition", "Shifts",
           "SimulationSettings", "SolverOptions", "Staggered", "Teams", "Tour", "WorkforceSettings"]
