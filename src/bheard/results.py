"""Result types shared by the drivers (:mod:`bheard.optimize`) and the :class:`~bheard.plan.Plan`.

A driver returns one :class:`SolveResult`; the plan keeps its :class:`SolverReport` and the
typed summaries below. Units are in the field names or comments (calls/year, USD/year,
seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bheard.constants import BOUND_SOURCES


@dataclass
class SolverReport:
    """How the answer was obtained and what its bound certifies.

    ``bound_source`` is one of :data:`bheard.constants.BOUND_SOURCES`. ``lp_bound`` is the LP
    relaxation bound (calls/year) whichever way it was computed; ``mip_bound`` HiGHS's MIP
    bound lifted to the full model (calls/year), when HiGHS ran a MIP.
    """

    termination: str = ""  # solver termination (bheard.solver.status.TERMINATIONS) or a step
    bound_source: str = ""
    n_increments: int = 0  # candidate (precinct, slot, level) teams
    n_fixed_one: int = 0  # decided by reduced-cost fixing (incl. minimum staffing)
    n_fixed_zero: int = 0
    n_variables: int = 0  # variables handed to HiGHS
    n_integer: int = 0
    greedy_objective: float = math.nan  # calls/year
    lp_bound: float = math.nan  # calls/year
    mip_bound: float = math.nan  # calls/year
    tie_break_per_usd: float = 0.0  # calls/year per USD/year
    time_limit_s: float = math.nan
    mip_rel_gap: float = math.nan
    message: str = ""

    def __post_init__(self):
        if self.bound_source and self.bound_source not in BOUND_SOURCES:
            raise ValueError(f"unknown bound_source {self.bound_source!r}")

    @property
    def bound_meaning(self) -> str:
        """What the bound certifies, in words."""
        return BOUND_SOURCES.get(self.bound_source, "")


@dataclass
class FixedPointReport:
    """The local busy-probability fixed point of a shared-coverage solve
    (models/shared_coverage.md).

    ``busy_probability`` (S,): team-weighted mean busy probability behind the estimate the
    final MIP was built with; ``busy_probability_from_plan`` (S,): the same for the plan's
    own busy probabilities (approximate hypercube). ``final_change``: the largest difference,
    over precinct-slots, between the covered share the estimate gives the plan and the share
    at its own busy probabilities; ``converged`` is ``final_change <= tolerance``.
    ``objective_at_estimate``: the plan's covered calls/year under the MIP's estimate (what
    the bound is compared with); the plan's objective is at its own busy probabilities.
    """

    busy_probability: list[float]
    busy_probability_from_plan: list[float]
    iterations: int
    converged: bool
    final_change: float
    tolerance: float
    damping: float
    levels: int
    trace: list[dict] = field(default_factory=list)
    objective_at_estimate: float = math.nan  # calls/year
    initial_busy_probability: float = math.nan
    bound_certifies: str = ("no plan covers more than the bound under the final estimate of"
                            " the local busy probabilities (frozen per precinct-slot);"
                            " the objective is the plan's coverage at its own busy"
                            " probabilities")


@dataclass
class SharedCoverage:
    """Cross-precinct coverage of a plan: who covers whom (calls/year)."""

    response_standard_min: float | None  # None = any team of the area
    mean_precincts_in_range: float
    covered_by_own_teams: float
    covered_by_neighbours: float


@dataclass
class EquityCost:
    """What the equity floors cost in covered calls/year (same busy probabilities)."""

    covered_without_floors: float
    bound_without_floors: float
    covered_with_floors: float
    coverage_lost_to_floors: float
    coverage_lost_to_floors_at_most: float
    floors_bind: bool
    note: str = ("without floors: LP-rounded + local-search plan and LP bound, at the same"
                 " busy probabilities (the final q of the fixed point)")


@dataclass
class SolveResult:
    """What a driver returns: the plan as an array, its value, its certificate, its timings.

    ``teams``: (P, C) int teams per precinct and plan column (a slot, or a staggered start
    option), None when there is no plan. ``covered``: (P, C') expected covered calls/year per
    precinct and slot under the formulation's coverage model (None = the Erlang table of the
    problem data gives it). ``own_covered`` / ``teams_in_range``: shared coverage only.
    """

    status: str
    teams: np.ndarray | None
    objective: float  # calls/year
    bound: float  # calls/year
    gap: float
    build_seconds: float
    translate_seconds: float
    solve_seconds: float
    report: SolverReport
    diagnosis: list[str] = field(default_factory=list)
    coverage_model: str = "isolated Erlang loss"
    covered: np.ndarray | None = None
    own_covered: np.ndarray | None = None
    teams_in_range: np.ndarray | None = None
    fixed_point: FixedPointReport | None = None
    equity_cost: EquityCost | None = None
    #: (P, S) busy probability of a team at each location (local model; None otherwise)
    local_busy: np.ndarray | None = None
    #: the share of carried-over calls the plan was evaluated at (isolated and staggered
    #: models, :mod:`bheard.optimize.carryover`; None = all of them)
    carry_share: np.ndarray | None = None
