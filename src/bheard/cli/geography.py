"""CLI for the response geography: ``bheard data travel-times`` and ``bheard reach``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bheard.cli.common import fail_input, out_console
from bheard.errors import InputError


def travel_times(
    scenario: Optional[Path] = typer.Option(
        None, "--scenario", "-s", help="Scenario whose tours and geography settings to use"
        " (default: dcs_citywide's three tours and the documented defaults)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="CSV to write: origin,destination,tour,minutes"
                                       " (default: standard output)."),
):
    """Write the formula's travel times (minutes) between all precincts, per tour.

    The file can be edited and passed back as ``geography.travel_times``.
    """
    from bheard.data import precincts
    from bheard.geography import travel_times_frame
    from bheard.io import atomic_write_csv
    from bheard.problem import select_precincts
    from bheard.scenario import GeographySettings, Tour, load_scenario

    try:
        if scenario is not None:
            sc = load_scenario(scenario)
            table = select_precincts(precincts(), sc.precincts)
            settings, tours = sc.geography, list(sc.shifts.tours)
        else:
            table = precincts()
            settings = GeographySettings()
            tours = [Tour(name="day", start="09:00", hours=8),
                     Tour(name="evening", start="17:00", hours=8),
                     Tour(name="overnight", start="01:00", hours=8)]
    except InputError as exc:
        fail_input(exc)
    df = travel_times_frame(table, settings, tours)
    if out is None:  # never into the current folder unasked: the CSV goes to standard output
        import sys

        df.to_csv(sys.stdout, index=False)
        return
    atomic_write_csv(out, df)
    out_console.print(f"wrote {len(df):,} rows ({len(table)} precincts x {len(tours)} tours)"
                      f" to {out}", markup=False, highlight=False)

def reach(scenario: Path = typer.Argument(..., help="Scenario YAML file."),
          tour: Optional[str] = typer.Option(None, help="Tour (default: the first).")):
    """Print, per precinct, the precincts whose teams reach it within the standard."""
    from bheard.data import precincts
    from bheard.geography import response_sets, scenario_travel_times
    from bheard.problem import select_precincts
    from bheard.scenario import load_scenario

    try:
        sc = load_scenario(scenario)
        table = select_precincts(precincts(), sc.precincts)
        names = [t.name for t in sc.shifts.tours]
        name = tour or names[0]
        if name not in names:
            raise InputError.single(scenario, "--tour", name, f"one of {names}")
        times = scenario_travel_times(sc, table)[name]
    except InputError as exc:
        fail_input(exc)
    std = sc.coverage.response_standard_min
    r = response_sets(times, float("inf") if std is None else std)
    prec = table["precinct"].to_numpy()
    for i, p in enumerate(prec):
        others = [f"{prec[j]} ({times[j, i]:.1f} min)" for j in range(len(prec))
                  if r[i, j] and j != i]
        out_console.print(f"{p} (own {times[i, i]:.1f} min): " + (", ".join(others) or "-"),
                          highlight=False)


