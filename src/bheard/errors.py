"""User-facing errors.

Everything a user can get wrong (a scenario file, a CSV, a command-line value) raises
:class:`InputError`. It carries the file, the field path, the bad value and what was expected;
the CLI prints it as one readable message and exits with code 2. Any other exception is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Problem:
    """One thing wrong with an input: where (file, field path), what was found, what was expected."""

    field: str
    value: Any
    expected: str

    def format(self) -> str:
        val = repr(_plain(self.value))
        if len(val) > 80:
            val = val[:77] + "..."
        where = self.field or "(top level)"
        return f"{where}: got {val}; expected {self.expected}"


def _plain(value: Any) -> Any:
    """Numpy scalars and arrays (also inside lists and tuples) as plain Python values, so a
    message shows ``nan`` or ``[1, 25]``, not ``np.float64(nan)``."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    return value


class InputError(Exception):
    """Bad user input. ``problems`` lists every issue found (file, field, value, expected)."""

    def __init__(self, file: str | Path | None, problems: list[Problem] | Problem):
        self.file = str(file) if file is not None else None
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__(self.format())

    @classmethod
    def single(cls, file: str | Path | None, field: str, value: Any, expected: str) -> "InputError":
        return cls(file, [Problem(field, value, expected)])

    def format(self) -> str:
        head = f"invalid input in {self.file}" if self.file else "invalid input"
        lines = [head + ":"] + [f"  - {p.format()}" for p in self.problems]
        return "\n".join(lines)


class OutputError(InputError):
    """An output that could not be written (folder not writable, not a folder, disk full,
    locked by another run). Nothing was half-written: temporary files are removed and the old
    outputs are unchanged. A subclass of :class:`InputError` (an API caller catches one type);
    the CLI exits with code 3 for it (README "Exit codes")."""

    @classmethod
    def from_os(cls, path: str | Path, exc: OSError, what: str = "write") -> "OutputError":
        reason = exc.strerror or type(exc).__name__
        return cls.single(path, f"({what})", reason,
                          "a writable folder with free space (nothing was changed)")


#: Backwards-friendly alias: a bad scenario is an input error.
ScenarioError = InputError


class InfeasibleError(Exception):
    """A scenario whose constraints cannot all hold; ``diagnosis`` names the conflicting ones."""

    def __init__(self, diagnosis: list[str]):
        self.diagnosis = diagnosis
        super().__init__("infeasible: " + "; ".join(diagnosis))


class BatchError(RuntimeError):
    """Every scenario of a :func:`bheard.batch` failed to run (bad files, crashed workers):
    nothing was solved. ``result`` is the :class:`bheard.batch.BatchResult` (its summary,
    with each scenario's error, is written to ``batch_summary.csv`` before this is raised), so
    a script that calls ``bheard.batch`` does not exit 0 when the whole batch failed."""

    def __init__(self, message: str, result=None):
        self.result = result
        super().__init__(message)


__all__ = ["InputError", "OutputError", "ScenarioError", "Problem", "InfeasibleError",
           "BatchError", "field"]
