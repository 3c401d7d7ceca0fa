"""Turn pydantic validation errors into :class:`bheard.errors.Problem` entries (field path,
bad value, what was expected), naming the allowed keys when a key is unknown."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from bheard.errors import Problem

#: union-member tags pydantic adds to error locations; not scenario fields
_TAGS = ("BoroughFilter", "literal['all']", "function-after", "function-before", "str", "int",
         "float", "dict", "tuple", "json-or-python")


def _first_model(ann: Any) -> Any:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        m = _first_model(arg)
        if m is not None:
            return m
    return None


def model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class reached by following ``loc`` from ``root``."""
    model: Any = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return None
        model = _first_model(fields[part].annotation)
    return model


def problems_from(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """One :class:`Problem` per failing field (the first message when union members repeat)."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        clean = [p for p in loc if not (isinstance(p, str) and ("[" in p or p in _TAGS))]
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in clean)
        field = field.replace(".[", "[")
        kind = err.get("type", "")
        msg = err.get("msg", "")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if kind == "extra_forbidden":
            parent = model_at(root, tuple(clean[:-1]))
            allowed = sorted(parent.model_fields) if parent is not None else []
            allowed = [a for a in allowed if a != "source"]
            expected = "no unknown keys" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
            problems.append(Problem(field, clean[-1] if clean else err.get("input"), expected))
            continue
        if kind == "missing":
            problems.append(Problem(field, "(missing)", "this required field"))
            continue
        problems.append(Problem(field, err.get("input"), msg[:1].lower() + msg[1:]))
    seen: dict[str, Problem] = {}
    for p in problems:
        seen.setdefault(p.field, p)
    return list(seen.values())
