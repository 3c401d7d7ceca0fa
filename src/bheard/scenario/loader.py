"""Load scenarios: YAML files, ``extends:`` inheritance, relative paths, dicts.

Inheritance: ``extends: parent.yaml`` (path relative to the child file) loads the parent first
and overrides it field by field (nested mappings merge key by key; lists and scalars are
replaced). Relative paths inside a file (``demand.table``, ``demand.forecast.history``,
``geography.travel_times``) resolve against the folder of the file that states them; for a
dict they resolve against ``base_dir`` (default: the working directory).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import yaml
from yaml.nodes import MappingNode, ScalarNode

from bheard import limits
from bheard.errors import InputError
from bheard.scenario.schema import Scenario

#: scenario fields that hold file paths (resolved against the stating file's folder)
PATH_FIELDS = (("demand", "table"), ("demand", "forecast", "history"),
               ("demand", "uncertainty", "file"), ("geography", "travel_times"),
               ("buildout", "starting_deployment", "plan"),
               ("buildout", "starting_deployment", "scenario"))

#: the repository's shipped scenarios and data: always readable (``extends:`` of a shipped
#: scenario, the shipped synthetic call records)
_REPO = Path(__file__).resolve().parents[3]

_PATH_EXPECTED = ("a path inside the scenario's folder, the shipped scenarios/ or data/ folders,"
                  " or an allowed folder (bheard --allow-path DIR, or BHEARD_ALLOW_PATHS)")


def trusted_roots(top_folder: Path | None) -> list[Path]:
    """Folders a scenario file may name (``extends:``, data files): the top-level scenario
    file's folder tree, the shipped ``scenarios/`` and ``data/`` and the allow-list."""
    from bheard.data import data_dir

    roots = [] if top_folder is None else [top_folder.resolve()]
    roots += [(_REPO / "scenarios").resolve(), data_dir().resolve()]
    return roots + limits.allow_paths()


def check_inside(path: Path, roots: list[Path], file: Path, field: str, shown: str) -> None:
    """Refuse ``path`` (symlinks resolved) unless it lies in one of ``roots``."""
    rp = Path(os.path.realpath(path))
    if not any(rp == r or r in rp.parents for r in roots):
        raise InputError.single(file, field, shown, _PATH_EXPECTED)


def resolve_paths(data: dict, base: Path, roots: list[Path] | None = None,
                  file: Path | None = None) -> None:
    """Make the relative file paths of one file's data absolute against ``base`` (in place);
    with ``roots``, refuse paths outside them (:func:`check_inside`)."""
    for path in PATH_FIELDS:
        node: Any = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(path[-1]), str):
            shown = node[path[-1]]
            p = Path(shown).expanduser()
            p = p if p.is_absolute() else (base / p)
            if roots is not None:
                check_inside(p, roots, file or base, ".".join(path), shown)
            node[path[-1]] = str(p)


def merge(parent: Any, child: Any) -> Any:
    """Child overrides parent field by field: mappings merge recursively, anything else replaces."""
    if isinstance(parent, dict) and isinstance(child, dict):
        out = dict(parent)
        for k, v in child.items():
            out[k] = merge(parent[k], v) if k in parent else v
        return out
    return child


# ---- safe YAML ---------------------------------------------------------------------------
class _Refused(Exception):
    """A limit of the safe loader (where, what was found, what was expected)."""

    def __init__(self, where: str, value: Any, expected: str):
        super().__init__(where)
        self.where, self.value, self.expected = where, value, expected


def _at(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key repeated in one mapping (``merge`` keys ``<<``
    may still be overridden, as YAML intends)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: the base class reports it
                    continue
                if first is not None:
                    raise _Refused(_at(key_node.start_mark), key,
                                   f"each key once in a mapping (first at {_at(first)})")
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _check_events(text: str) -> None:
    """Nesting depth from the event stream (no recursion), before anything is composed."""
    depth = 0
    for ev in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > limits.MAX_YAML_DEPTH:
                raise _Refused(_at(ev.start_mark), f"nesting deeper than {limits.MAX_YAML_DEPTH}",
                               f"at most {limits.MAX_YAML_DEPTH} levels of nested lists and"
                               " mappings")
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _expanded_size(root) -> int:
    """Nodes of the document with every alias expanded (memoised walk of the node graph)."""
    size: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        if isinstance(node, ScalarNode):
            size[id(node)] = 1
            continue
        kids = ([x for kv in node.value for x in kv] if isinstance(node, MappingNode)
                else list(node.value))
        if done:
            size[id(node)] = 1 + sum(size.get(id(k), 1) for k in kids)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)
        if len(size) > 10 * limits.MAX_YAML_NODES:
            break
    return size.get(id(root), 10 * limits.MAX_YAML_NODES)


def safe_load_yaml(path: Path) -> Any:
    """Parse one YAML file within the limits of :mod:`bheard.limits` (file size, nesting depth,
    nodes after alias expansion), refusing duplicate keys; raise :class:`InputError`."""
    cap = limits.max_scenario_bytes()
    try:
        if not path.is_file():
            raise InputError.single(path, "(file)", str(path), "a scenario YAML file (a regular"
                                    " file)")
        size = path.stat().st_size
        if size > cap:
            raise InputError.single(path, "(file)", f"{size:,} bytes",
                                    f"a scenario file of at most {cap:,} bytes"
                                    " (BHEARD_MAX_SCENARIO_BYTES)")
        with open(path, "rb") as fh:
            raw = fh.read(cap + 1)
    except OSError as exc:
        raise InputError.single(path, "(file)", exc.strerror or type(exc).__name__,
                                "a readable scenario file") from None
    if len(raw) > cap:
        raise InputError.single(path, "(file)", f"more than {cap:,} bytes",
                                f"a scenario file of at most {cap:,} bytes")
    return safe_load_bytes(raw, path)


def safe_load_bytes(raw: bytes, path: str | Path) -> Any:
    """:func:`safe_load_yaml` for bytes already read (``path`` names them in messages)."""
    cap = limits.max_scenario_bytes()
    if len(raw) > cap:
        raise InputError.single(path, "(file)", f"{len(raw):,} bytes",
                                f"a scenario file of at most {cap:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError.single(path, "(file)", "undecodable bytes", "a UTF-8 text file") from None
    try:
        _check_events(text)
        loader = _SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            n = _expanded_size(node)
            if n > limits.MAX_YAML_NODES:
                raise _Refused("(aliases)", f"{n:,}+ values after expanding aliases",
                               f"at most {limits.MAX_YAML_NODES:,} values")
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except _Refused as exc:
        raise InputError.single(path, exc.where, exc.value, exc.expected) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise InputError.single(path, _at(mark), problem, "valid YAML") from None
    except (ValueError, OverflowError, RecursionError) as exc:  # e.g. an int of 5,000 digits
        raise InputError.single(path, "(file)", type(exc).__name__,
                                "valid YAML with numbers of ordinary size") from None


def read_yaml(path: Path, chain: tuple[Path, ...] = (), roots: list[Path] | None = None
              ) -> dict:
    """The merged data of a scenario file and the files it ``extends:`` (paths resolved).

    ``roots``: folders its ``extends:`` and data paths must lie in (default: this file's folder,
    the shipped folders and the allow-list; :func:`trusted_roots`).
    """
    if roots is None:
        roots = trusted_roots(path.parent)
    if path in chain:
        cycle = " -> ".join(str(p) for p in chain + (path,))
        raise InputError.single(chain[-1], "extends", str(path), f"no cycle ({cycle})")
    if len(chain) >= limits.MAX_EXTENDS_DEPTH:
        raise InputError.single(chain[-1], "extends", str(path),
                                f"a chain of at most {limits.MAX_EXTENDS_DEPTH} files")
    if not path.exists():
        where = chain[-1] if chain else None
        raise InputError.single(where or path, "extends" if chain else "(file)", str(path),
                                "an existing scenario file")
    data = safe_load_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError.single(path, "(top level)", type(data).__name__,
                                "a mapping of scenario fields (name: ..., shifts: ...)")
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise InputError.single(path, "(top level)", bad_keys[0], "field names (text)")
    resolve_paths(data, path.parent, roots, path)
    parent_ref = data.pop("extends", None)
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise InputError.single(path, "extends", parent_ref, "a path to a parent scenario file")
    parent_path = Path(os.path.realpath(path.parent / Path(parent_ref).expanduser()))
    check_inside(parent_path, roots, path, "extends", parent_ref)
    parent = read_yaml(parent_path, chain + (path,), roots)
    return merge(parent, data)


def to_plain(obj: Any) -> Any:
    """Mappings and sequences as plain dicts and lists (for validation and YAML output)."""
    if isinstance(obj, Mapping):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    return obj


def load_scenario(src: str | Path | Mapping[str, Any] | Scenario,
                  base_dir: str | Path | None = None, *,
                  allow_paths: list[str | Path] | None = None) -> Scenario:
    """Load and validate a scenario from a YAML file path or a dict.

    Raises :class:`bheard.errors.InputError` naming the file, field, bad value and what was
    expected. A dict's relative paths resolve against ``base_dir`` (default: working
    directory); a dict may use ``extends:`` too (resolved against ``base_dir``).

    A scenario FILE may name (``extends:``, data files) only paths inside its own folder tree,
    the shipped ``scenarios/`` and ``data/`` folders and the allow-list (``allow_paths``,
    ``BHEARD_ALLOW_PATHS``, ``bheard --allow-path``); a dict is the caller's own code and is
    not restricted, but the files it ``extends:`` are. YAML is read within the limits of
    :mod:`bheard.limits`.
    """
    extra = [Path(os.path.realpath(Path(p).expanduser())) for p in (allow_paths or [])]
    if isinstance(src, Scenario):
        return src
    if isinstance(src, Mapping):
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        try:
            data = to_plain(src)
        except RecursionError:
            raise InputError.single("<dict>", "(top level)", "nesting too deep or a cycle",
                                    "a plain mapping of scenario fields") from None
        bad_keys = [k for k in data if not isinstance(k, str)]
        if bad_keys:
            raise InputError.single("<dict>", "(top level)", bad_keys[0], "field names (text)")
        resolve_paths(data, base)
        parent_ref = data.pop("extends", None)
        if parent_ref is not None:
            if not isinstance(parent_ref, (str, Path)) or not str(parent_ref).strip():
                raise InputError.single("<dict>", "extends", parent_ref,
                                        "a path to a parent scenario file")
            parent = Path(os.path.realpath(base / Path(parent_ref).expanduser()))
            data = merge(read_yaml(parent, roots=trusted_roots(parent.parent) + extra), data)
        return Scenario.validate_dict(data, "<dict>")
    if not isinstance(src, (str, Path)):
        raise InputError.single(None, "scenario", type(src).__name__,
                                "a scenario file path, a dict or a Scenario")
    path = Path(src)
    if path.is_dir():
        raise InputError.single(path, "(file)", str(path), "a scenario YAML file, not a folder")
    top = Path(os.path.realpath(path))
    data = read_yaml(top, roots=trusted_roots(top.parent) + extra)
    return Scenario.validate_dict(data, str(src))


def scenario_yaml(scenario: Scenario) -> str:
    """The resolved scenario as YAML text (no ``extends:``, absolute paths): loading it back
    gives the same Scenario. Written beside every saved plan (``scenario.yaml``)."""
    data = scenario.model_dump(mode="json", exclude={"source"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
