"""What every command shares: the two consoles, the user-error exit, one number formatter.

User-supplied text is printed with ``markup=False`` (or escaped), so a bracket in a scenario
name is never read as rich markup.
"""

from __future__ import annotations

import functools
import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from bheard.errors import InputError, OutputError

#: exit codes (README "Exit codes"): 0 solved, 1 infeasible or solver failure, 2 bad input,
#: 3 an output could not be written (nothing half-written), 130 interrupted (Ctrl-C)
EXIT_INPUT = 2
EXIT_OUTPUT = 3
EXIT_INTERRUPTED = 130

class PipeSafeStdout:
    """Standard output that survives a reader closing the pipe (``bheard solve ... | head``):
    on the first broken pipe it points file descriptor 1 at /dev/null and drops the rest, so
    the command finishes its work (writes its files) and exits with its OWN code instead of
    click's 1 ("infeasible" in bheard). :func:`bheard.cli.main` installs it as ``sys.stdout``."""

    def __init__(self, stream):
        self._stream = stream
        self.broken = False

    def write(self, text):
        if not self.broken:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._break()
        return len(text)

    def flush(self):
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._break()

    def _break(self):
        self.broken = True
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(fd, self._stream.fileno())
            finally:
                os.close(fd)
        except (OSError, ValueError):
            pass

    def isatty(self):
        return False if self.broken else self._stream.isatty()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _width() -> int | None:
    """No wrapping when the output is not a terminal (piped or redirected): rich would wrap
    at 80 columns, cutting numbers in two; text lines and tables keep their natural width."""
    try:
        return None if sys.stdout.isatty() else 100_000
    except (AttributeError, ValueError):
        return None


#: standard output (results) and standard error (errors, warnings)
out_console = Console(width=_width())
err_console = Console(stderr=True)

#: --format values: auto = rich on a terminal, plain text when piped; csv = the table(s) only
FORMATS = ("auto", "rich", "plain", "csv")
FORMAT_HELP = ("auto (boxes on a terminal, plain text when piped) | rich | plain | csv (the"
               " table as CSV, raw numbers, for a spreadsheet or a script)")


def format_option():
    return typer.Option("auto", "--format", help=FORMAT_HELP)


class Output:
    """A command's printed answer in one of :data:`FORMATS`: ``line()`` for sentences and
    ``table()`` for DataFrames, whose headers and number formats come from
    :mod:`bheard.labels`. ``plain`` pads columns with spaces and never wraps; ``csv`` prints
    only tables (raw values, the DataFrame's column names), a ``# title`` line before each
    when there are several."""

    def __init__(self, fmt_name: str = "auto", console: Console | None = None):
        if fmt_name not in FORMATS:
            raise InputError.single("--format", "--format", fmt_name, " | ".join(FORMATS))
        self.console = console or out_console
        if fmt_name == "auto":
            fmt_name = "rich" if self.console.is_terminal else "plain"
        self.mode = fmt_name
        self._tables = 0

    def _write(self, text: str) -> None:
        self.console.file.write(text)
        self.console.file.flush()

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.mode == "csv":
            return
        if self.mode == "rich":
            self.console.print(text, style=style, markup=False, highlight=False,
                               soft_wrap=True)
        else:
            self._write(text + "\n")

    def table(self, title: str, df, columns: list[str] | None = None, *,
              many: bool = False, unit_column: str | None = None) -> None:
        """``unit_column``: a column whose text gives each ROW's unit (summary tables with a
        value column per plan); its cells are then formatted by that unit."""
        from bheard.labels import cell, fmt as fmt_value, header, kind, unit_kind

        columns = list(columns or df.columns)
        if self.mode == "csv":
            if many:
                self._write(("\n" if self._tables else "") + f"# {title}\n")
            self._write(df[columns].to_csv(index=False))
            self._tables += 1
            return
        heads = [str(c) if unit_column is not None and c not in ("metric", unit_column)
                 else header(c) for c in columns]
        rows = []
        for r in df[columns].itertuples(index=False):
            rec = dict(zip(columns, r))
            if unit_column is not None:
                k = unit_kind(rec.get(unit_column))
                rows.append([str(v) if c in ("metric", unit_column) or isinstance(v, str)
                             else fmt_value(v, ("diff:" + k) if " - " in str(c) else k)
                             for c, v in rec.items()])
            else:
                rows.append([cell(v, c) for v, c in zip(r, columns)])
        left = [kind(c) in ("text", "bool") or c in ("metric", unit_column) for c in columns]
        if self.mode == "rich":
            from rich.table import Table

            t = Table(title=title, title_justify="left")
            for h, lft in zip(heads, left):
                t.add_column(escape(h), justify="left" if lft else "right")
            for r in rows:
                t.add_row(*[escape(x) for x in r])
            self.console.print(t)
            return
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]

        def fmt_row(vals):
            return "  ".join((v.ljust(w) if lft else v.rjust(w))
                             for v, w, lft in zip(vals, widths, left)).rstrip()

        self._write(f"\n{title}\n{fmt_row(heads)}\n" + "".join(fmt_row(r) + "\n" for r in rows))


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


# THE number format of every command (shared with the report and the spreadsheet)
from bheard.labels import fmt  # noqa: E402


class progress:
    """A progress bar on standard error for long commands (frontier, batch, simulate,
    calibrate), shown only when standard error is a terminal; ``advance(done, total)`` is
    the callback the API functions take."""

    def __init__(self, label: str, total: int | None = None):
        self.label, self.total, self._p, self._task = label, total, None, None

    def __enter__(self):
        if err_console.is_terminal:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._p = Progress(TextColumn(escape(self.label)), BarColumn(),
                               MofNCompleteColumn(), TimeElapsedColumn(),
                               TimeRemainingColumn(), console=err_console, transient=True)
            self._p.start()
            self._task = self._p.add_task(self.label, total=self.total)
        return self

    def advance(self, done: int, total: int | None = None) -> None:
        if self._p is not None:
            self._p.update(self._task, completed=done, total=total or self.total)

    def __exit__(self, *exc):
        if self._p is not None:
            self._p.stop()
        return False


class status:
    """A spinner with a message on standard error while a long step runs (a simulation with
    many replications, a calibration); only when standard error is a terminal."""

    def __init__(self, message: str):
        self.message, self._s = message, None

    def __enter__(self):
        if err_console.is_terminal:
            self._s = err_console.status(escape(self.message))
            self._s.__enter__()
        return self

    def __exit__(self, *exc):
        if self._s is not None:
            self._s.__exit__(*exc)
        return False


def check(condition: bool, field: str, value, expected: str) -> None:
    """Raise :class:`InputError` for a bad command-line value unless ``condition``."""
    if not condition:
        raise InputError.single(field, field, value, expected)


def check_outputs(out=None, xlsx=None) -> None:
    """Before a long run: the output folder (``--out``) and workbook (``--xlsx``) can be
    written (:func:`bheard.io.check_writable`; an :class:`OutputError` otherwise, exit 3)."""
    from bheard.io import check_writable

    if out is not None:
        check_writable(out)
    if xlsx is not None:
        check_writable(xlsx, folder=False)
