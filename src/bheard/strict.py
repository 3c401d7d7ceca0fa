"""The base of every scenario section (:class:`Strict`): unknown keys are errors, values are
immutable, and every number is finite and in range, whatever the field.

One validator for all fields of all sections, present and future, so a new section or field
(its own ``ge=``/``le=`` bounds aside) never lets ``.inf``, ``.nan`` or ``1e308`` through.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from bheard.limits import MAX_MAGNITUDE


def out_of_range(v: Any, depth: int = 0) -> Any:
    """The first number in ``v`` (a value, or the values of a plain dict/list/tuple) that is not
    finite or whose magnitude exceeds :data:`bheard.limits.MAX_MAGNITUDE`; None if all are."""
    if isinstance(v, bool) or depth > 3:
        return None
    if isinstance(v, (int, float)):
        try:
            ok = math.isfinite(v) and abs(v) <= MAX_MAGNITUDE
        except OverflowError:  # an int too large for a float
            ok = False
        return None if ok else v
    if isinstance(v, dict):
        v = list(v.values()) + [k for k in v if isinstance(k, (int, float))]
    if isinstance(v, (list, tuple)):
        for x in v:
            bad = out_of_range(x, depth + 1)
            if bad is not None:
                return bad
    return None


class Strict(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are immutable, and every
    number of every field (new sections included) is finite and of magnitude at most
    :data:`bheard.limits.MAX_MAGNITUDE` (``.inf``/``.nan`` in YAML, ``inf`` from the command
    line or the API are refused with the field's name)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _finite_numbers(cls, v: Any) -> Any:
        bad = out_of_range(v)
        if bad is not None:
            shown = f"{bad!r}" if len(repr(bad)) < 40 else f"a number of {len(str(bad))} digits"
            raise ValueError(f"a finite number of magnitude at most {MAX_MAGNITUDE:g}; got"
                             f" {shown}")
        return v
