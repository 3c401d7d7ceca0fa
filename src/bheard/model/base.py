"""What every formulation shares: the built-model interface and array helpers.

A formulation module (:mod:`bheard.model.isolated`, :mod:`~bheard.model.shared`,
:mod:`~bheard.model.staggered`) builds a Pyomo model in bulk from problem arrays and returns a
:class:`BuiltModel`. The solver door (:mod:`bheard.solver`) solves ``built.model``; the
driver (:mod:`bheard.optimize`) hands it ``built.start_values(plan)`` as MIP start and turns
the solution back into teams with ``built.read_teams(values)``. No solver is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def runs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) index of each run of equal values in a sorted ``key``."""
    key = np.asarray(key)
    if key.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    brk = np.flatnonzero(np.diff(key)) + 1
    return (np.concatenate([[0], brk]).astype(np.int64),
            np.concatenate([brk, [key.size]]).astype(np.int64))


@dataclass(eq=False)
class BuiltModel:
    """A Pyomo model built from arrays, with the maps back to them.

    ``variables``: the model's decision variables in a fixed order (the order of
    :meth:`start_values` and of the values :meth:`read_teams` receives). Subclasses say how a
    plan becomes variable values and back.
    """

    model: object  # pyomo ConcreteModel
    n_integer: int
    tie_break_per_usd: float  # eps, calls/year per USD/year
    variables: list = field(default_factory=list, repr=False)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    def start_values(self, plan) -> np.ndarray:  # pragma: no cover - interface
        """Values of :attr:`variables` for a feasible plan (the MIP start)."""
        raise NotImplementedError

    def read_teams(self, values: np.ndarray):  # pragma: no cover - interface
        """The plan (teams array, or a selection mask) from values of :attr:`variables`."""
        raise NotImplementedError


def in_range(reach: np.ndarray, teams: np.ndarray) -> np.ndarray:
    """(P, S) teams in range of each precinct-slot: ``sum_j reach[s,i,j] x[j,s]``."""
    return np.einsum("sij,js->is", reach.astype(np.int64), np.asarray(teams, dtype=np.int64))


def covered_from_counts(G: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(P, S) expected covered calls/year with ``counts`` teams in range (sum of first gains
    ``G[..., :count]``; ``G`` is (P, S, L) calls/year per level)."""
    cum = np.concatenate([np.zeros(G.shape[:2] + (1,)), np.cumsum(G, axis=-1)], axis=-1)
    idx = np.minimum(np.asarray(counts, dtype=np.int64), G.shape[-1])
    return np.take_along_axis(cum, idx[..., None], axis=-1)[..., 0]
