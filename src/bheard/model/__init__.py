"""Formulations: each builds its Pyomo model in bulk from problem arrays (no solver here).

- :mod:`bheard.model.isolated`: Erlang-loss coverage per precinct-slot, increments, greedy,
  Lagrangian bound, reduced-cost fixing (``models/isolated_coverage.md``);
- :mod:`bheard.model.shared`: MEXCLP / AMEXCLP cross-precinct coverage
  (``models/shared_coverage.md``), with :mod:`bheard.model.equity` floors;
- :mod:`bheard.model.staggered`: staggered start hours (``models/staggered_tours.md``);
- :mod:`bheard.model.base`: the built-model interface and array helpers.
"""
