"""The ``bheard`` command line: a thin layer over the Python API.

Each command lives in a module of this package (``solve``, ``evaluate``, ``workflows``,
``buildout``, ``demand``, ``geography``, ``data``) and is registered below, explicitly. Command modules
import the heavy parts of bheard (Pyomo, HiGHS, SciPy, matplotlib) inside the command
functions, on purpose, so ``bheard --version`` and ``--help`` start fast.

Exit codes: 0 solved (optimal, or feasible with its gap shown); 1 infeasible or solver
failure (with the diagnosis); 2 bad input (file, field, value and what was expected).
"""

from __future__ import annotations

import sys

import typer

from bheard import __version__
from bheard.cli import buildout, data, demand, evaluate, geography, solve, workflows
from bheard.cli.common import err_console, fail_input, out_console
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
                                       help="Print the version and exit.")):
    pass


# ---- the commands, registered explicitly -------------------------------------------------
app.command("solve")(solve.solve)
app.command("validate")(solve.validate)
app.command("simulate")(evaluate.simulate)
app.command("calibrate")(evaluate.calibrate)
app.command("frontier")(workflows.frontier_cmd)
app.command("batch")(workflows.batch_cmd)
app.command("report")(workflows.report_cmd)
app.command("buildout")(buildout.buildout)
app.command("ingest")(demand.ingest_cmd)
app.command("forecast")(demand.forecast_cmd)
app.command("reach")(geography.reach)
data_app.command("build")(data.data_build)
data_app.command("synth")(demand.synth_cmd)
data_app.command("travel-times")(geography.travel_times)


def main() -> None:
    """Console-script entry point; user errors anywhere become exit code 2."""
    try:
        app()
    except InputError as exc:  # raised inside a command outside its own try
        try:
            fail_input(exc)
        except typer.Exit as e:
            sys.exit(e.exit_code)


__all__ = ["app", "data_app", "main", "out_console", "err_console", "fail_input"]
