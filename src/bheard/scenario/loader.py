"""Load scenarios: YAML files, ``extends:`` inheritance, relative paths, dicts.

Inheritance: ``extends: parent.yaml`` (path relative to the child file) loads the parent first
and overrides it field by field (nested mappings merge key by key; lists and scalars are
replaced). Relative paths inside a file (``demand.table``, ``demand.forecast.history``,
``geography.travel_times``) resolve against the folder of the file that states them; for a
dict they resolve against ``base_dir`` (default: the working directory).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import yaml

from bheard.errors import InputError
from bheard.scenario.schema import Scenario

#: scenario fields that hold file paths (resolved against the stating file's folder)
PATH_FIELDS = (("demand", "table"), ("demand", "forecast", "history"),
               ("geography", "travel_times"), ("buildout", "starting_deployment", "plan"),
               ("buildout", "starting_deployment", "scenario"))


def resolve_paths(data: dict, base: Path) -> None:
    """Make the relative file paths of one file's data absolute against ``base`` (in place)."""
    for path in PATH_FIELDS:
        node: Any = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(path[-1]), str):
            p = Path(node[path[-1]]).expanduser()
            node[path[-1]] = str(p if p.is_absolute() else (base / p))


def merge(parent: Any, child: Any) -> Any:
    """Child overrides parent field by field: mappings merge recursively, anything else replaces."""
    if isinstance(parent, dict) and isinstance(child, dict):
        out = dict(parent)
        for k, v in child.items():
            out[k] = merge(parent[k], v) if k in parent else v
        return out
    return child


def read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """The merged data of a scenario file and the files it ``extends:`` (paths resolved)."""
    if path in chain:
        cycle = " -> ".join(str(p) for p in chain + (path,))
        raise InputError.single(chain[-1], "extends", str(path), f"no cycle ({cycle})")
    if not path.exists():
        where = chain[-1] if chain else None
        raise InputError.single(where or path, "extends" if chain else "(file)", str(path),
                                "an existing scenario file")
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError.single(path, where, problem, "valid YAML") from None
    except UnicodeDecodeError:
        raise InputError.single(path, "(file)", "undecodable bytes", "a UTF-8 text file") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError.single(path, "(top level)", type(data).__name__,
                                "a mapping of scenario fields (name: ..., shifts: ...)")
    resolve_paths(data, path.parent)
    parent_ref = data.pop("extends", None)
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str):
        raise InputError.single(path, "extends", parent_ref, "a path to a parent scenario file")
    parent_path = (path.parent / parent_ref).resolve()
    parent = read_yaml(parent_path, chain + (path,))
    return merge(parent, data)


def to_plain(obj: Any) -> Any:
    """Mappings and sequences as plain dicts and lists (for validation and YAML output)."""
    if isinstance(obj, Mapping):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    return obj


def load_scenario(src: str | Path | Mapping[str, Any] | Scenario,
                  base_dir: str | Path | None = None) -> Scenario:
    """Load and validate a scenario from a YAML file path or a dict.

    Raises :class:`bheard.errors.InputError` naming the file, field, bad value and what was
    expected. A dict's relative paths resolve against ``base_dir`` (default: working
    directory); a dict may use ``extends:`` too (resolved against ``base_dir``).
    """
    if isinstance(src, Scenario):
        return src
    if isinstance(src, Mapping):
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        data = to_plain(src)
        resolve_paths(data, base)
        parent_ref = data.pop("extends", None)
        if parent_ref is not None:
            data = merge(read_yaml((base / parent_ref).resolve()), data)
        return Scenario.validate_dict(data, "<dict>")
    if not isinstance(src, (str, Path)):
        raise InputError.single(None, "scenario", type(src).__name__,
                                "a scenario file path, a dict or a Scenario")
    path = Path(src)
    if path.is_dir():
        raise InputError.single(path, "(file)", str(path), "a scenario YAML file, not a folder")
    data = read_yaml(path.resolve())
    return Scenario.validate_dict(data, str(src))


def scenario_yaml(scenario: Scenario) -> str:
    """The resolved scenario as YAML text (no ``extends:``, absolute paths): loading it back
    gives the same Scenario. Written beside every saved plan (``scenario.yaml``)."""
    data = scenario.model_dump(mode="json", exclude={"source"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
