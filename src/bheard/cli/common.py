"""What every command shares: the two consoles, the user-error exit, one number formatter.

User-supplied text is printed with ``markup=False`` (or escaped), so a bracket in a scenario
name is never read as rich markup.
"""

from __future__ import annotations

import functools
import math

import typer
from rich.console import Console
from rich.markup import escape

from bheard.errors import InputError, OutputError

#: exit codes (README "Exit codes"): 0 solved, 1 infeasible or solver failure, 2 bad input,
#: 3 an output could not be written (nothing half-written), 130 interrupted (Ctrl-C)
EXIT_INPUT = 2
EXIT_OUTPUT = 3
EXIT_INTERRUPTED = 130

#: standard output (results) and standard error (errors, warnings)
out_console = Console()
err_console = Console(stderr=True)


def fail_input(exc: InputError) -> None:
    """Print a user error (file, field, value, expected) and exit 2 with no traceback (3 for an
    output that could not be written, :class:`bheard.errors.OutputError`)."""
    err_console.print(f"[bold red]error:[/] {escape(exc.format())}", highlight=False,
                      soft_wrap=True)
    raise typer.Exit(EXIT_OUTPUT if isinstance(exc, OutputError) else EXIT_INPUT)


def guarded(command):
    """Wrap a command so that an :class:`InputError` raised anywhere in it (also outside its
    own ``try``, e.g. while writing outputs) is printed as one message with its exit code, and
    Ctrl-C exits 130 without a traceback. Other exceptions are bugs and keep their traceback."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            fail_input(exc)
        except KeyboardInterrupt:
            err_console.print("interrupted", highlight=False, markup=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
    return run


def fmt(x, unit: str = "") -> str:
    """THE number format of every command: ``calls`` and ``usd`` with thousands separators and
    no decimals, ``share`` as a percentage with one decimal, ``gap`` in scientific notation,
    ``s`` seconds with two decimals, ``int`` with separators; "n/a" for missing values."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit == "gap":
        return f"{x:.2e}"
    if unit == "s":
        return f"{x:.2f} s"
    if unit == "usd":
        return f"${x:,.0f}"
    if unit == "musd":
        return f"${x / 1e6:,.1f}M"
    if unit in ("calls", "int"):
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def check(condition: bool, field: str, value, expected: str) -> None:
    """Raise :class:`InputError` for a bad command-line value unless ``condition``."""
    if not condition:
        raise InputError.single(field, field, value, expected)
