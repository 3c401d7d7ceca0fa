"""The ``bheard`` command line: a thin layer over the Python API.

Each command lives in a module of this package (``solve``, ``evaluate``, ``workflows``,
``buildout``, ``demand``, ``geography``, ``data``) and is registered below, explicitly. Command modules
import the heavy parts of bheard (Pyomo, HiGHS, SciPy, matplotlib) inside the command
functions, on purpose, so ``bheard --version`` and ``--help`` start fast.

Exit codes: 0 solved (optimal, or feasible with its gap shown); 1 infeasible or solver
failure (with the diagnosis); 2 bad input (file, field, value and what was expected); 3 an
output could not be written (not writable, disk full, locked by another run); 130 Ctrl-C.
Every command is wrapped by :func:`bheard.cli.common.guarded`.
"""

from __future__ import annotations

import sys

import typer

from bheard import __version__
from bheard.cli import buildout, compare, data, demand, evaluate, geography, solve, workflows
from pathlib import Path
from typing import List, Optional

from bheard.cli.common import PipeSafeStdout, err_console, fail_input, guarded, out_console
from bheard.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Staffing optimizer for NYC mental-health crisis teams (B-HEARD / DCS).")
data_app = typer.Typer(no_args_is_help=True, help="Shipped data: build it, make synthetic records.")
app.add_typer(data_app, name="data")


def _version(value: bool):
    if value:
        out_console.print(f"bheard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit."),
          allow_path: Optional[List[Path]] = typer.Option(
              None, "--allow-path", help="A folder scenario files may also read (extends:,"
              " data files) besides their own folder and the shipped scenarios/ and data/;"
              " repeatable (also BHEARD_ALLOW_PATHS).")):
    from bheard.limits import add_allow_path

    for p in allow_path or []:
        add_allow_path(p)


# ---- the commands, registered explicitly -------------------------------------------------
app.command("solve")(guarded(solve.solve))
app.command("validate")(guarded(solve.validate))
app.command("simulate")(guarded(evaluate.simulate))
app.command("calibrate")(guarded(evaluate.calibrate))
app.command("frontier")(guarded(workflows.frontier_cmd))
app.command("batch")(guarded(workflows.batch_cmd))
app.command("report")(guarded(workflows.report_cmd))
app.command("compare")(guarded(compare.compare_cmd))
app.command("buildout")(guarded(buildout.buildout))
app.command("ingest")(guarded(demand.ingest_cmd))
app.command("forecast")(guarded(demand.forecast_cmd))
app.command("reach")(guarded(geography.reach))
data_app.command("build")(guarded(data.data_build))
data_app.command("synth")(guarded(demand.synth_cmd))
data_app.command("travel-times")(guarded(geography.travel_times))


def main() -> None:
    """Console-script entry point; user errors anywhere become exit code 2. Standard output
    survives a closed pipe (:class:`~bheard.cli.common.PipeSafeStdout`): ``bheard solve ... |
    head`` exits with the command's own code."""
    if sys.stdout is not None and not isinstance(sys.stdout, PipeSafeStdout):
        sys.stdout = PipeSafeStdout(sys.stdout)
    try:
        _run()
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


def _run() -> None:
    try:
        app()
    except InputError as exc:  # raised outside a command (e.g. while parsing options)
        try:
            fail_input(exc)
        except typer.Exit as e:
            sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "data_app", "main", "out_console", "err_console", "fail_input"]
